//! Hostile projects (the security issue's findings 1, 2, 3, 8 and 10): everything
//! under a project is committed, so anyone proposing a pull request controls it.
//! Each case builds and checks a copy of the reference model with one hostile thing
//! in it, next to a canary folder outside the project, and asserts:
//!
//! - kiln exits 2 (the input is refused), within a few seconds (a FIFO or `/dev/zero`
//!   must not hang it);
//! - the canary is untouched (nothing outside the project read into the output,
//!   written, or deleted) and neither its path nor its content is printed;
//! - `out/` is what it was.
//!
//! The sealed-values and lock contents are also fuzzed (`fuzz/`).

use crate::support::{kiln, reference_project, snapshot};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What a case does to a built project to make it hostile.
type Setup<'a> = Box<dyn Fn(&Case) + 'a>;

const CANARY: &str = "CANARY-7f3a-token: ghp_notARealTokenButSecretToThisTest\n";

/// The reference project's `out/`, built once.
fn built() -> &'static BTreeMap<String, Vec<u8>> {
    static OUT: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    OUT.get_or_init(|| {
        let p = reference_project();
        let run = kiln(p.path(), &["build"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        snapshot(&p.path().join("out"))
    })
}

/// A built copy of the reference project, and a canary folder beside it.
struct Case {
    project: tempfile::TempDir,
    canary: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let project = reference_project();
        for (rel, bytes) in built() {
            let dest = project.path().join("out").join(rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(dest, bytes).unwrap();
        }
        let canary = tempfile::tempdir().unwrap();
        std::fs::write(canary.path().join("victim.txt"), CANARY).unwrap();
        std::fs::create_dir(canary.path().join("dir")).unwrap();
        std::fs::write(canary.path().join("dir/kustomization.yaml"), CANARY).unwrap();
        Case { project, canary }
    }

    fn root(&self) -> &Path {
        self.project.path()
    }

    fn victim(&self) -> PathBuf {
        self.canary.path().join("victim.txt")
    }

    /// Runs kiln, killing it (and failing) after 20 s.
    fn run(&self, args: &[&str]) -> (i32, String) {
        run_with(self.root(), args, None)
    }

    /// Asserts what every hostile case must hold after `args` ran.
    fn refused(&self, what: &str, args: &[&str]) -> String {
        let (code, output) = self.run(args);
        assert_eq!(
            code,
            2,
            "{what}: `kiln {}` exit {code}\n{output}",
            args.join(" ")
        );
        self.untouched(what, &output);
        output
    }

    fn untouched(&self, what: &str, output: &str) {
        assert!(
            !output.contains("CANARY") && !output.contains("ghp_"),
            "{what}: the canary's content was printed:\n{output}"
        );
        let canary = self.canary.path().to_string_lossy().into_owned();
        assert!(
            !output.contains(&canary),
            "{what}: the canary's path was printed:\n{output}"
        );
        let now = snapshot(self.canary.path());
        assert_eq!(
            now.len(),
            2,
            "{what}: the canary folder changed: {:?}",
            now.keys()
        );
        assert!(
            now.values().all(|v| v == CANARY.as_bytes()),
            "{what}: the canary changed"
        );
        let out = snapshot(&self.root().join("out"));
        if out != *built() {
            let changed: Vec<_> = built()
                .keys()
                .chain(out.keys())
                .filter(|k| built().get(*k) != out.get(*k))
                .collect();
            panic!("{what}: out/ changed: {changed:?}");
        }
    }
}

/// Runs kiln in `root` (as `user` when given), combined output, killed after 20 s.
fn run_with(root: &Path, args: &[&str], user: Option<&str>) -> (i32, String) {
    let exe = env!("CARGO_BIN_EXE_kiln");
    let mut cmd = match user {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                exe,
            ]);
            c
        }
        None => Command::new(exe),
    };
    let mut child = cmd
        .args(args)
        .arg("--root")
        .arg(root)
        .args(["--color", "never"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`kiln {}` hung for 20 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    let link = link.as_ref();
    if link.is_dir() && !link.is_symlink() {
        std::fs::remove_dir_all(link).unwrap();
    } else if link.exists() || link.is_symlink() {
        std::fs::remove_file(link).unwrap();
    }
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn mkfifo(path: &Path) {
    if path.exists() {
        std::fs::remove_file(path).unwrap();
    }
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// Finding 1: a lock line naming a file outside `out/` (absolute, or climbing out
/// with `..`), in `kiln.lock` or in the pending list, is refused before anything is
/// deleted.
#[test]
fn a_lock_naming_files_outside_out_deletes_nothing() {
    let case = Case::new();
    let out = case.root().join("out");
    let zeros = "0".repeat(64);
    let victim = case.victim();
    let climbing = format!(
        "../../{}",
        victim.strip_prefix("/").unwrap().to_string_lossy()
    );
    for lock in ["kiln.lock", ".kiln.lock.pending"] {
        for path in [victim.to_string_lossy().into_owned(), climbing.clone()] {
            let before = std::fs::read(out.join(lock)).unwrap_or_default();
            let mut text = before.clone();
            text.extend(format!("{zeros}  -  {path}\n").into_bytes());
            std::fs::write(out.join(lock), &text).unwrap();
            let what = format!("{lock} naming {path}");
            for args in [&["build"][..], &["build", "--force"], &["check"]] {
                let (code, output) = case.run(args);
                assert_eq!(code, 2, "{what}: {args:?}\n{output}");
                assert!(output.contains(lock) && output.contains("line"), "{output}");
                assert!(victim.exists(), "{what}: {args:?} deleted the victim");
            }
            if before.is_empty() {
                std::fs::remove_file(out.join(lock)).unwrap();
            } else {
                std::fs::write(out.join(lock), before).unwrap();
            }
            case.untouched(&what, "");
        }
    }
}

/// Finding 1, second half: a file the lock lists is deleted only while it holds
/// the bytes kiln recorded; an edited one is kept, and the build says so.
#[test]
fn a_build_deletes_only_the_bytes_it_wrote() {
    let case = Case::new();
    let out = case.root().join("out");
    let lock = std::fs::read_to_string(out.join("kiln.lock")).unwrap();
    let sha_of = |b: &[u8]| {
        use std::fmt::Write;
        let d = <sha2::Sha256 as sha2::Digest>::digest(b);
        d.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    std::fs::create_dir_all(out.join("old")).unwrap();
    std::fs::write(out.join("old/same.yaml"), "same\n").unwrap();
    std::fs::write(out.join("old/edited.yaml"), "edited by hand\n").unwrap();
    let extra = format!(
        "{}  -  old/same.yaml\n{}  -  old/edited.yaml\n",
        sha_of(b"same\n"),
        sha_of(b"what kiln wrote\n")
    );
    std::fs::write(out.join("kiln.lock"), format!("{lock}{extra}")).unwrap();
    let (code, output) = case.run(&["build"]);
    assert_eq!(code, 0, "{output}");
    assert!(
        !out.join("old/same.yaml").exists(),
        "an unchanged obsolete file stays"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("old/edited.yaml")).unwrap(),
        "edited by hand\n"
    );
    assert!(output.contains("kept out/old/edited.yaml"), "{output}");
    assert_eq!(
        std::fs::read_to_string(out.join("kiln.lock")).unwrap(),
        lock
    );
}

/// Finding 2: links under `environments/` and `templates/` are refused, never
/// followed, and the refusal names neither the target nor its content; loops and
/// devices do not hang kiln.
#[test]
fn links_in_the_model_are_refused_and_never_quoted() {
    let envs = |c: &Case| c.root().join("environments");
    let cases: Vec<(&str, Setup<'_>)> = vec![
        (
            "a model file linked to a secret",
            Box::new(|c| symlink(c.victim(), envs(c).join("ci.yaml"))),
        ),
        (
            "an environment replaced by a link",
            Box::new(|c| symlink(c.victim(), envs(c).join("dev.yaml"))),
        ),
        (
            "a folder linked outside",
            Box::new(|c| symlink(c.canary.path(), envs(c).join("more"))),
        ),
        ("a loop", Box::new(|c| symlink(".", envs(c).join("loop")))),
        (
            "a link to /dev/zero",
            Box::new(|c| symlink("/dev/zero", envs(c).join("zero.yaml"))),
        ),
        (
            "a link to /proc/self/environ",
            Box::new(|c| symlink("/proc/self/environ", envs(c).join("env.yaml"))),
        ),
        (
            "sealed values linked outside",
            Box::new(|c| symlink(c.canary.path(), envs(c).join("sealed"))),
        ),
        (
            "recorded tags linked outside",
            Box::new(|c| symlink(c.victim(), envs(c).join("state/image-tags.yaml"))),
        ),
        (
            "environments/ itself a link",
            Box::new(|c| symlink(c.canary.path(), envs(c))),
        ),
        (
            "a template override linked outside",
            Box::new(|c| {
                std::fs::create_dir_all(c.root().join("templates/hosts")).unwrap();
                symlink(c.victim(), c.root().join("templates/hosts/Caddyfile"));
            }),
        ),
        (
            "a FIFO as a model file",
            Box::new(|c| mkfifo(&envs(c).join("pipe.yaml"))),
        ),
        (
            "a FIFO as recorded tags",
            Box::new(|c| mkfifo(&envs(c).join("state/image-tags.yaml"))),
        ),
    ];
    for (what, make) in cases {
        let case = Case::new();
        make(&case);
        let human = case.refused(what, &["build"]);
        assert!(
            human.contains("symbolic link") || human.contains("FIFO"),
            "{what}: the refusal does not say why:\n{human}"
        );
        case.refused(what, &["build", "--format", "json"]);
        case.refused(what, &["check"]);
    }
}

/// Finding 8: `out/` is written without following links, and a FIFO in it does not
/// hang build or check.
#[test]
fn out_is_never_written_through_a_link() {
    let cases: Vec<(&str, Setup<'_>)> = vec![
        (
            "a folder of out/ linked outside",
            Box::new(|c| {
                let apps = c.root().join("out/kubernetes/apps");
                let first = std::fs::read_dir(&apps).unwrap().next().unwrap().unwrap();
                let overlays = first.path().join("overlays");
                let env = std::fs::read_dir(&overlays)
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap();
                symlink(c.canary.path().join("dir"), env.path());
            }),
        ),
        (
            "out/ itself a link",
            Box::new(|c| symlink(c.canary.path(), c.root().join("out"))),
        ),
        (
            "a generated file replaced by a link",
            Box::new(|c| symlink(c.victim(), c.root().join("out/kiln.lock"))),
        ),
        (
            "a generated file replaced by a FIFO",
            Box::new(|c| {
                let lock = std::fs::read_to_string(c.root().join("out/kiln.lock")).unwrap();
                let path = lock
                    .lines()
                    .find(|l| !l.starts_with('#'))
                    .unwrap()
                    .rsplit("  ")
                    .next()
                    .unwrap()
                    .to_owned();
                mkfifo(&c.root().join("out").join(path));
            }),
        ),
        (
            ".kiln linked outside",
            Box::new(|c| symlink(c.canary.path(), c.root().join(".kiln"))),
        ),
    ];
    for (what, make) in cases {
        let case = Case::new();
        let before = snapshot(&case.root().join("out"));
        make(&case);
        let (code, output) = case.run(&["build", "--force"]);
        assert_eq!(code, 2, "{what}: exit {code}\n{output}");
        let (code, output2) = case.run(&["check"]);
        assert_eq!(code, 2, "{what}: check exit {code}\n{output2}");
        for o in [&output, &output2] {
            assert!(!o.contains("CANARY"), "{what}: {o}");
        }
        let now = snapshot(case.canary.path());
        assert_eq!(
            now.len(),
            2,
            "{what}: the canary folder changed: {:?}",
            now.keys()
        );
        assert!(now.values().all(|v| v == CANARY.as_bytes()), "{what}");
        // What is still a real file in out/ is as it was.
        if case.root().join("out").is_symlink() {
            continue;
        }
        let after = snapshot(&case.root().join("out"));
        for (path, bytes) in &after {
            if bytes == b"<not a regular file>" {
                continue; // the case's own link or FIFO
            }
            assert_eq!(before.get(path), Some(bytes), "{what}: out/{path} changed");
        }
    }
}

/// Finding 3: a folder kiln cannot list (`environments/sealed/`, `environments/state/`)
/// is an error, never an empty folder: the SealedSecrets and recorded tags in `out/`
/// stay. (Run as an unprivileged user when the tests run as root, who can read
/// anything.)
#[test]
fn an_unreadable_folder_is_an_error_not_an_empty_one() {
    for dir in ["sealed", "state"] {
        let case = Case::new();
        let root = case.root();
        let uid = Command::new("id").arg("-u").output().unwrap().stdout;
        let as_root = String::from_utf8_lossy(&uid).trim() == "0";
        if as_root {
            // The unprivileged user must reach the project (not the canary).
            let status = Command::new("chmod")
                .args(["-R", "a+rwX"])
                .arg(root)
                .status()
                .unwrap();
            assert!(status.success());
        }
        let locked = root.join("environments").join(dir);
        std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
            .unwrap();
        let user = as_root.then_some("65534");
        for args in [&["build"][..], &["check"]] {
            let (code, output) = run_with(root, args, user);
            assert_eq!(code, 2, "unreadable {dir}/: {args:?} exit {code}\n{output}");
            assert!(
                output.contains(&format!("environments/{dir}")),
                "the error does not name the folder:\n{output}"
            );
        }
        std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        case.untouched(&format!("unreadable {dir}/"), "");
    }
}

/// Finding 10: builds of one project at once take turns (the project lock): every one
/// succeeds and `out/` is consistent after.
#[test]
fn builds_at_once_take_turns() {
    let case = Case::new();
    let root = case.root().to_path_buf();
    for round in 0..4 {
        // From an empty out/ each round, so every build has every file to write.
        if root.join("out").exists() {
            std::fs::remove_dir_all(root.join("out")).unwrap();
        }
        let runs: Vec<_> = (0..3)
            .map(|_| {
                let root = root.clone();
                std::thread::spawn(move || run_with(&root, &["build", "--no-cache"], None))
            })
            .collect();
        for r in runs {
            let (code, output) = r.join().unwrap();
            assert_eq!(code, 0, "round {round}: {output}");
        }
        let (code, output) = run_with(&root, &["check", "--no-cache"], None);
        assert_eq!(code, 0, "round {round}: {output}");
    }
}
