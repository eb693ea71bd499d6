//! The bad-input corpus (`tests/bad_inputs/`): invalid models kiln must refuse cleanly.
//!
//! `tests/bad_inputs/base/environments/` is a valid model (a cluster, a host with Caddy
//! and SSH deploys, a private registry, apps with secrets, routes, a database and a CI
//! build, an upstream stack). Each other directory `tests/bad_inputs/<case>/` holds
//! `environments/`: files laid over a copy of the base (usually a `dev.yaml` that breaks
//! one thing; a directory replaces a file of the same name), and `expected/`: `exit`
//! and `stderr` (the rendered diagnostics of `kiln build`). `UPDATE_GOLDEN=1 cargo test
//! bad_inputs` rewrites `expected/`; read the result in `git diff`.
//!
//! For every case, with `out/` seeded by a build of the base (so that "nothing lost"
//! means something) and a file kiln did not write:
//! - `kiln build`, `kiln build --format json` and `kiln check` exit 2 (invalid input:
//!   lint findings, which exit 1, are not what this corpus is about);
//! - no run panics (exit 101 or a "panicked at" message fails loudly);
//! - every diagnostic is located: each human diagnostic has its `--> file:line:col`,
//!   each JSON diagnostic its `file`, `line` and `column`, and a code registered with
//!   its name and severity (`kiln::diagnostic::checks`);
//! - `out/` is byte-for-byte what it was before.

use crate::support::{self, kiln, repo, snapshot};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A file in `out/` that kiln did not write: no run may remove it.
const HAND_WRITTEN: &str = "notes/hand-written.txt";

fn corpus() -> PathBuf {
    repo().join("tests/bad_inputs")
}

/// The `out/` a build of the base model writes, built once per test run.
fn seed() -> &'static BTreeMap<String, Vec<u8>> {
    static SEED: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    SEED.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        support::copy_tree(
            &corpus().join("base/environments"),
            &tmp.path().join("environments"),
        );
        let run = kiln(tmp.path(), &["build"]);
        assert_eq!(run.code, 0, "the base model must build:\n{}", run.stderr);
        let mut out = snapshot(&tmp.path().join("out"));
        assert!(out.len() > 20, "the base model builds too little");
        out.insert(HAND_WRITTEN.to_owned(), b"kept\n".to_vec());
        out
    })
}

/// Lays the case's `environments/` over a copy of the base, in a new project whose
/// `out/` is the seed.
fn project(case: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let envs = root.join("environments");
    support::copy_tree(&corpus().join("base/environments"), &envs);
    overlay(&case.join("environments"), &envs);
    for (rel, bytes) in seed() {
        let dest = root.join("out").join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
    tmp
}

/// Copies `from` over `to`; an entry of one kind (file, directory) replaces an entry
/// of the other kind.
fn overlay(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    std::fs::create_dir_all(to).unwrap();
    for entry in entries.flatten() {
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if dest.is_file() {
                std::fs::remove_file(&dest).unwrap();
            }
            overlay(&entry.path(), &dest);
        } else {
            if dest.is_dir() {
                std::fs::remove_dir_all(&dest).unwrap();
            }
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Problems with how a run ended: a panic, a wrong exit status, a changed `out/`.
fn check_run(
    what: &str,
    run: &support::Run,
    root: &Path,
    before: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if run.code == 101 || run.stderr.contains("panicked at") {
        problems.push(format!(
            "`{what}` PANICKED (exit {}):\n{}",
            run.code, run.stderr
        ));
    } else if run.code != 2 {
        problems.push(format!(
            "`{what}` exited {} instead of 2 (invalid input):\n{}{}",
            run.code, run.stdout, run.stderr
        ));
    }
    let after = snapshot(&root.join("out"));
    if let Some(report) = support::compare_trees(before, &after) {
        problems.push(format!("`{what}` changed out/:\n{report}"));
    }
    problems
}

/// Every human diagnostic has a `--> file:line:col` line right after its title.
fn unlocated_human(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut problems = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !(line.starts_with("error[") || line.starts_with("warning[")) {
            continue;
        }
        let located = lines
            .get(i + 1)
            .and_then(|next| next.trim_start().strip_prefix("--> "))
            .is_some_and(|loc| {
                let mut parts = loc.rsplitn(3, ':');
                let col = parts.next().unwrap_or("");
                let line = parts.next().unwrap_or("");
                let file = parts.next().unwrap_or("");
                !file.is_empty() && col.parse::<u32>().is_ok() && line.parse::<u32>().is_ok()
            });
        if !located {
            problems.push(format!("unlocated diagnostic: {line}"));
        }
    }
    problems
}

/// Every JSON diagnostic has a file, a line and a column.
fn unlocated_json(stdout: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut count = 0;
    for line in stdout.lines() {
        count += 1;
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            problems.push(format!("not a JSON diagnostic: {line}"));
            continue;
        };
        let code = value["code"].as_str().unwrap_or_default();
        match kiln::catalogue::find(code) {
            Some(c)
                if value["name"] == c.name
                    && value["severity"] == kiln::catalogue::severity_word(c.kind.severity()) => {}
            _ => problems.push(format!(
                "JSON diagnostic whose code, name and severity are not the registry's: {line}"
            )),
        }
        let located = value["file"].as_str().is_some_and(|f| !f.is_empty())
            && value["line"].as_u64().is_some_and(|l| l > 0)
            && value["column"].as_u64().is_some_and(|c| c > 0);
        if !located {
            problems.push(format!("unlocated JSON diagnostic: {line}"));
        }
    }
    if count == 0 {
        problems.push("`--format json` printed no diagnostic".to_owned());
    }
    problems
}

fn run_case(case: &Path) -> Result<(), String> {
    let tmp = project(case);
    let root = tmp.path();
    let before = snapshot(&root.join("out"));
    let mut problems = Vec::new();

    let build = kiln(root, &["build"]);
    let stderr = build.stderr.replace(&root.display().to_string(), "<root>");
    problems.extend(check_run("kiln build", &build, root, &before));
    problems.extend(unlocated_human(&build.stderr));

    let json = kiln(root, &["build", "--format", "json"]);
    problems.extend(check_run("kiln build --format json", &json, root, &before));
    problems.extend(unlocated_json(&json.stdout));

    let check = kiln(root, &["check"]);
    problems.extend(check_run("kiln check", &check, root, &before));

    let expected = case.join("expected");
    if support::updating() && problems.is_empty() {
        let _ = std::fs::remove_dir_all(&expected);
        std::fs::create_dir_all(&expected).unwrap();
        std::fs::write(expected.join("exit"), format!("{}\n", build.code)).unwrap();
        std::fs::write(expected.join("stderr"), &stderr).unwrap();
    } else {
        let want_code = std::fs::read_to_string(expected.join("exit")).unwrap_or_default();
        if want_code.trim() != "2" {
            problems.push(format!(
                "expected/exit says {:?}; every case exits 2",
                want_code.trim()
            ));
        }
        match std::fs::read_to_string(expected.join("stderr")) {
            Ok(want) if want == stderr => {}
            Ok(want) => problems.push(format!(
                "stderr differs:\n{}",
                similar::TextDiff::from_lines(&want, &stderr)
                    .unified_diff()
                    .header("expected", "actual")
            )),
            Err(_) => problems.push(format!(
                "no expected/stderr (UPDATE_GOLDEN=1 writes it); actual:\n{stderr}"
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "base"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_bad_input_exits_2_located_without_touching_out() {
    let cases = cases();
    assert!(
        cases.len() >= 60,
        "the corpus has {} cases; the bar is 60",
        cases.len()
    );
    seed();
    // Cases are independent processes: run them on every core.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    if let Err(report) = run_case(case) {
                        failures.lock().unwrap().push(format!(
                            "=== {} ===\n{report}",
                            case.file_name().unwrap().to_string_lossy()
                        ));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed (UPDATE_GOLDEN=1 rewrites expectations):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A billion-laughs document (nine levels of nine aliases, ~10⁹ strings when
/// expanded) is refused without being expanded. The bound is a correctness bound:
/// expanding it would take minutes and gigabytes, refusing it takes milliseconds.
#[test]
fn an_alias_bomb_is_refused_in_under_a_second() {
    let tmp = project(&corpus().join("yaml-billion-laughs"));
    let start = Instant::now();
    let run = kiln(tmp.path(), &["build"]);
    let took = start.elapsed();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("aliases are not supported"),
        "{}",
        run.stderr
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
}
