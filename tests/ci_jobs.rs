//! GitLab jobs run, not only parsed: gitlab-ci-local's shell executor runs every job
//! of every generated app pipeline that needs no service (the checks, deploys and
//! verifies; a build job's docker:dind service needs a container runtime), with
//! stand-ins on `PATH` for the tools the job calls and real git against a local
//! bare config repository:
//!
//! - a deploy job records the tag in the config repository (a commit with the
//!   message the runbook names, pushed to the branch Flux reads), then sets the
//!   image the build pushed and waits for the rollout;
//! - a verify job asks the environment's URL;
//! - a check with a dependency cache misses, then hits on the next pipeline, and
//!   misses again once its lockfile changes (the cache directory the package
//!   manager is told to use is the one GitLab saves).

use crate::support::{repo, snapshot};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where gitlab-ci-local is, and the `PATH` that runs it (its own node first), or
/// `None` when validators are skipped.
fn gitlab_ci_local() -> Option<(PathBuf, String)> {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return None;
    }
    let prefix = std::env::var_os("VALIDATORS_PREFIX")
        .map_or_else(|| PathBuf::from("/tmp/validators"), PathBuf::from);
    let bin = prefix.join("gcl/node_modules/.bin");
    assert!(
        bin.join("gitlab-ci-local").is_file(),
        "gitlab-ci-local is not installed (tools/validators/setup-validators.sh); set KILN_SKIP_VALIDATORS=1 to skip"
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Some((bin.join("gitlab-ci-local"), path))
}

/// The directory name gitlab-ci-local gives a job (its `safeDockerString`: every run
/// of characters other than word characters and `-` in unpadded URL-safe base64).
fn safe_job_name(name: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut run = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            if !run.is_empty() {
                out.push_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&run));
                run.clear();
            }
            out.push(c);
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        out.push_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&run));
    }
    out
}

/// Tools the jobs call, stood in for: each appends its name and arguments to
/// `$KILN_TEST_LOG`, and reports for each variable named in `$KILN_TEST_CACHE_VARS`
/// whether the directory it names holds the marker an earlier run left (then leaves
/// one). `kiln set-image APP TAG --env ENV --root DIR` also writes `DIR/recorded`,
/// so the job has a change to commit.
const STAND_INS: &[&str] = &[
    "kubectl", "curl", "bun", "bunx", "npm", "npx", "pip", "python", "kiln",
];

const STAND_IN: &str = r#"#!/bin/sh
name=$(basename "$0")
line=$name
for a in "$@"; do line="$line $a"; done
printf '%s\n' "$line" >> "$KILN_TEST_LOG"
for v in $KILN_TEST_CACHE_VARS; do
  eval "dir=\${$v:-}"
  if [ -z "$dir" ]; then echo "cache $v unset" >> "$KILN_TEST_LOG"; continue; fi
  if [ -f "$dir/kiln-test-marker" ]; then echo "cache $v hit" >> "$KILN_TEST_LOG"
  else echo "cache $v miss" >> "$KILN_TEST_LOG"; fi
  mkdir -p "$dir" && : > "$dir/kiln-test-marker"
done
if [ "$name" = kiln ] && [ "$1" = set-image ]; then
  tag=$3
  while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done
  printf '%s\n' "$tag" > "$root/recorded"
fi
if [ "$name" = kubectl ] && [ "$1" = set ] && [ "$3" = --local ]; then
  echo "kind: Job"
fi
exit 0
"#;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn script(job: &Value) -> Vec<String> {
    job["script"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The config repository a deploy job clones: (URL, branch).
fn config_clone(job: &Value) -> Option<(String, String)> {
    script(job).iter().find_map(|line| {
        let words = shlex::split(line)?;
        if words.first()? != "git" || words.get(1)? != "clone" {
            return None;
        }
        let branch = words.iter().position(|w| w == "--branch")?;
        Some((words[branch + 2].clone(), words[branch + 1].clone()))
    })
}

/// The job's variables that point a tool's cache into the project (the ones GitLab's
/// `cache:` can save).
fn cache_vars(job: &Value) -> Vec<String> {
    if job.get("cache").is_none() {
        return Vec::new();
    }
    job["variables"]
        .as_object()
        .map(|vars| {
            vars.iter()
                .filter(|(_, v)| {
                    v.as_str()
                        .is_some_and(|v| v.starts_with("$CI_PROJECT_DIR/"))
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

struct Sandbox {
    dir: tempfile::TempDir,
    gcl: PathBuf,
    path: String,
    config: Option<(String, String)>,
}

impl Sandbox {
    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
    fn log(&self) -> PathBuf {
        self.dir.path().join("calls.log")
    }
    fn bare(&self) -> PathBuf {
        self.dir.path().join("config.git")
    }

    /// Runs one job; returns whether it passed, its output, and the calls it made.
    fn run(&self, name: &str, job: &Value, vars: &[(&str, &str)]) -> (bool, String, Vec<String>) {
        let _ = std::fs::remove_file(self.log());
        let project = self
            .repo()
            .join(".gitlab-ci-local/builds")
            .join(safe_job_name(name));
        let mut cmd = Command::new(&self.gcl);
        cmd.args(["--force-shell-executor", "--shell-isolation"])
            // gitlab-ci-local leaves CI_PROJECT_DIR at its container path in a forced
            // shell; the job's working directory is this one.
            .arg("--variable")
            .arg(format!("CI_PROJECT_DIR={}", project.display()));
        for (k, v) in vars {
            cmd.arg("--variable").arg(format!("{k}={v}"));
        }
        cmd.arg(name)
            .current_dir(self.repo())
            .env("PATH", &self.path)
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"))
            .env("KILN_TEST_LOG", self.log())
            .env("KILN_TEST_CACHE_VARS", cache_vars(job).join(" "));
        if let Some((url, _)) = &self.config {
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env(
                    "GIT_CONFIG_KEY_0",
                    format!("url.file://{}.insteadOf", self.bare().display()),
                )
                .env("GIT_CONFIG_VALUE_0", url);
        }
        let out = cmd.output().expect("gitlab-ci-local runs");
        let calls = std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // gitlab-ci-local exits 0 with a failed job in some versions: read its verdict.
        let passed = out.status.success() && text.contains(" PASS ") && !text.contains(" FAIL ");
        (passed, text, calls)
    }
}

fn sandbox(file: &Path, doc: &Value, gcl: &Path, path: &str) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(dir.path().join("home")).unwrap();
    for name in STAND_INS {
        let p = bin.join(name);
        std::fs::write(&p, STAND_IN).unwrap();
        let mut perms = std::fs::metadata(&p).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&p, perms).unwrap();
    }
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::copy(file, repo.join(".gitlab-ci.yml")).unwrap();
    // The lockfiles the caches are keyed by, as the app's repository has them.
    for job in doc.as_object().unwrap().values() {
        for f in job["cache"]["key"]["files"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let f = repo.join(f.as_str().unwrap());
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, "lock v1\n").unwrap();
        }
    }
    git(&repo, &["init", "-q", "-b", "kiln-test"]);
    git(&repo, &["config", "user.name", "CI User"]);
    git(&repo, &["config", "user.email", "ci@example.com"]);
    git(
        &repo,
        &[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.com/group/app.git",
        ],
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "app"]);
    let config = doc.as_object().unwrap().values().find_map(config_clone);
    if let Some((_, branch)) = &config {
        let bare = dir.path().join("config.git");
        git(dir.path(), &["init", "-q", "--bare", "config.git"]);
        let seed = dir.path().join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        git(&seed, &["init", "-q", "-b", branch]);
        std::fs::write(seed.join("README"), "config\n").unwrap();
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-qm", "seed"]);
        git(
            &seed,
            &[
                "push",
                "-q",
                bare.to_str().unwrap(),
                &format!("HEAD:{branch}"),
            ],
        );
    }
    Sandbox {
        dir,
        gcl: gcl.to_path_buf(),
        path: format!("{}:{path}", bin.display()),
        config,
    }
}

/// The generated `.gitlab-ci.yml` files of app repositories (with deploy jobs).
fn app_pipelines() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in [repo().join("out"), repo().join("tests/golden")] {
        for (rel, bytes) in snapshot(&root) {
            if rel.ends_with(".gitlab-ci.yml")
                && !rel.starts_with("bad-")
                && String::from_utf8_lossy(&bytes).contains("\n  environment:\n")
            {
                files.push(root.join(rel));
            }
        }
    }
    files
}

#[test]
fn gitlab_jobs_run_in_a_shell_with_stand_ins() {
    let Some((gcl, path)) = gitlab_ci_local() else {
        return;
    };
    let files = app_pipelines();
    assert!(files.len() >= 2, "{files:?}");
    let (mut deploys, mut verifies, mut cached) = (0, 0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        let sb = sandbox(file, &doc, &gcl, &path);
        let at = file.display();
        for (name, job) in doc.as_object().unwrap() {
            if job.get("script").is_none() || job.get("services").is_some() {
                continue; // a keyword, or a build job (docker:dind)
            }
            let env = job["environment"]["name"].as_str();
            let tag = format!("{}-abc1234-20261204", env.unwrap_or("x"));
            let vars = [
                ("TAG", tag.as_str()),
                ("CONFIG_REPO_TOKEN", "config-token"),
                ("KUBE_CA_CERT", "-----BEGIN CERTIFICATE-----"),
                ("KUBE_API_URL", "https://kube.example.com:6443"),
                ("KUBE_TOKEN", "kube-token"),
            ];
            let (ok, out, calls) = sb.run(name, job, &vars);
            assert!(ok, "{at}: {name} failed:\n{out}");
            if let Some((_, branch)) = config_clone(job) {
                // The tag is recorded in the config repository, on Flux's branch.
                let env = env.unwrap();
                let app = file
                    .parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap();
                let log = git(&sb.bare(), &["log", "-1", "--format=%s", &branch]);
                assert_eq!(
                    log.trim(),
                    format!("{app}: deploy {tag} to {env}"),
                    "{at}: {name}"
                );
                let recorded = git(&sb.bare(), &["show", &format!("{branch}:recorded")]);
                assert_eq!(recorded.trim(), tag, "{at}: {name}");
                assert!(
                    calls.contains(&format!(
                        "kiln set-image {app} {tag} --env {env} --root .kiln-config --quiet"
                    )),
                    "{at}: {name}: {calls:#?}"
                );
                // Then the image the build pushed, and the rollout waited for.
                let image = job["variables"]["IMAGE"].as_str().unwrap();
                let set = calls
                    .iter()
                    .position(|c| {
                        c.starts_with("kubectl set image deployment/")
                            && c.ends_with(&format!("={image}:{tag}"))
                    })
                    .unwrap_or_else(|| panic!("{at}: {name} sets no image: {calls:#?}"));
                let record = calls
                    .iter()
                    .position(|c| c.starts_with("kiln set-image"))
                    .unwrap();
                assert!(
                    record < set,
                    "{at}: {name}: the image is set before it is recorded"
                );
                assert!(
                    calls[set..]
                        .iter()
                        .any(|c| c.starts_with("kubectl rollout status deployment/")),
                    "{at}: {name}: {calls:#?}"
                );
                assert!(
                    calls.contains(
                        &"kubectl config set-credentials deploy --token=kube-token".to_owned()
                    ),
                    "{at}: {name}: {calls:#?}"
                );
                deploys += 1;
            } else if job["environment"]["action"] == "verify" {
                let curl = calls
                    .iter()
                    .find(|c| c.starts_with("curl "))
                    .unwrap_or_else(|| panic!("{at}: {name}: {calls:#?}"));
                let url = curl.rsplit(' ').next().unwrap();
                let deploy = format!("deploy:{}", env.unwrap());
                if let Some(base) = doc[&deploy]["environment"]["url"].as_str() {
                    assert!(url.starts_with(base), "{at}: {name} asks {url}, not {base}");
                }
                assert!(curl.contains(" --fail "), "{at}: {name}: {curl}");
                verifies += 1;
            }
            // A dependency cache: miss, hit on the next pipeline, miss once the
            // lockfile changes.
            let vars_of_cache = cache_vars(job);
            if !vars_of_cache.is_empty() {
                let state = |calls: &[String]| -> Vec<String> {
                    vars_of_cache
                        .iter()
                        .map(|v| {
                            calls
                                .iter()
                                .find(|c| c.starts_with(&format!("cache {v} ")))
                                .cloned()
                                .unwrap_or_else(|| format!("cache {v} never read"))
                        })
                        .collect()
                };
                let expect = |word: &str| -> Vec<String> {
                    vars_of_cache
                        .iter()
                        .map(|v| format!("cache {v} {word}"))
                        .collect()
                };
                assert_eq!(state(&calls), expect("miss"), "{at}: {name}");
                let (ok, out, calls) = sb.run(name, job, &vars);
                assert!(ok, "{at}: {name}:\n{out}");
                assert_eq!(state(&calls), expect("hit"), "{at}: {name}:\n{out}");
                let lock = job["cache"]["key"]["files"][0].as_str().unwrap();
                std::fs::write(sb.repo().join(lock), "lock v2\n").unwrap();
                git(&sb.repo(), &["commit", "-qam", "lockfile"]);
                let (ok, out, calls) = sb.run(name, job, &vars);
                assert!(ok, "{at}: {name}:\n{out}");
                assert_eq!(
                    state(&calls),
                    expect("miss"),
                    "{at}: {name} after {lock} changed:\n{out}"
                );
                std::fs::write(sb.repo().join(lock), "lock v1\n").unwrap();
                git(&sb.repo(), &["commit", "-qam", "lockfile back"]);
                cached += 1;
            }
        }
    }
    assert!(
        deploys >= 3 && verifies >= 2 && cached >= 3,
        "{deploys} deploys, {verifies} verifies, {cached} caches"
    );
}
