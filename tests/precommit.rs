//! kiln's `.pre-commit-hooks.yaml`, run by the real `pre-commit` (PyPI, installed into
//! the validators' venv by `tools/validators/setup-validators.sh`): in a fresh git
//! repository with the reference model, a commit with a stale `out/` is refused by
//! `kiln-check` and goes through once `kiln build` has run; `kiln-build` rebuilds
//! `out/` itself.
//!
//! What differs from another repository's use, and why:
//! - The hook repository is a local git repository made from this working tree (the
//!   files `git ls-files` lists, committed), named by path in `repo:`; pre-commit
//!   clones it as it would clone the URL. This machine reaches no git host.
//! - pre-commit really runs `cargo install --path .` for `language: rust`. For speed
//!   only, the test points cargo at a target directory kept between runs
//!   (`target/pre-commit-hook`), a release profile without optimisation, and the
//!   registry cache the test build already filled (`CARGO_NET_OFFLINE`).
//!
//! Missing pre-commit fails the test; `KILN_SKIP_VALIDATORS=1` skips it explicitly.

use crate::support::{self, repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pre_commit() -> PathBuf {
    let prefix = std::env::var_os("VALIDATORS_PREFIX").unwrap_or_else(|| "/tmp/validators".into());
    PathBuf::from(prefix).join("venv/bin/pre-commit")
}

/// Runs git with what the hook needs in its environment (`pre-commit install` puts a
/// hook in the repository, and `git commit` runs it with git's environment).
fn git_with(dir: &Path, args: &[&str], home: &Path) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=kiln test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("PRE_COMMIT_HOME", home)
        .env("CARGO_TARGET_DIR", repo().join("target/pre-commit-hook"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("NO_COLOR")
        .output()
        .expect("git runs")
}

fn ok(out: Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// A git repository holding this working tree's kiln sources, for pre-commit to clone.
fn hook_repository(dir: &Path, home: &Path) -> String {
    let git = |dir: &Path, args: &[&str]| git_with(dir, args, home);
    let listed = Command::new("git")
        .arg("-C")
        .arg(repo())
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git runs");
    assert!(listed.status.success());
    for rel in listed.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = String::from_utf8_lossy(rel).into_owned();
        let from = repo().join(&rel);
        if rel.starts_with("out/") || rel.starts_with("tests/golden/") || !from.is_file() {
            continue;
        }
        let to = dir.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    ok(git(dir, &["init", "-q"]), "git init");
    ok(git(dir, &["add", "-A"]), "git add");
    ok(git(dir, &["commit", "-q", "-m", "kiln"]), "git commit");
    ok(git(dir, &["rev-parse", "HEAD"]), "git rev-parse")
        .trim()
        .to_owned()
}

#[test]
fn pre_commit_hooks_refuse_a_stale_out_and_pass_after_build() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let pre_commit = pre_commit();
    assert!(
        pre_commit.is_file(),
        "{} is missing: run tools/validators/setup-validators.sh (or set KILN_SKIP_VALIDATORS=1)",
        pre_commit.display()
    );
    // pre-commit's cache: a fresh one, so the hook environment is really installed.
    let home = tempfile::tempdir().unwrap();
    let git = |dir: &Path, args: &[&str]| git_with(dir, args, home.path());
    let hooks = tempfile::tempdir().unwrap();
    let rev = hook_repository(hooks.path(), home.path());

    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    support::copy_tree(&repo().join("environments"), &root.join("environments"));
    std::fs::write(
        root.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: kiln-check\n",
            hooks.path().display()
        ),
    )
    .unwrap();
    ok(git(root, &["init", "-q"]), "git init");
    let install = Command::new(&pre_commit)
        .arg("install")
        .current_dir(root)
        .env("PRE_COMMIT_HOME", home.path())
        .output()
        .unwrap();
    ok(install, "pre-commit install");

    // No out/ at all: the model's files are missing.
    ok(git(root, &["add", "-A"]), "git add");
    let refused = git(root, &["commit", "-q", "-m", "model without output"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        !refused.status.success(),
        "the hook let a commit without out/ through:\n{text}"
    );
    assert!(text.contains("kiln check"), "{text}");
    assert!(text.contains("is missing"), "{text}");

    assert_eq!(support::kiln(root, &["build"]).code, 0);
    ok(git(root, &["add", "-A"]), "git add");
    let text = ok(
        git(root, &["commit", "-q", "-m", "model and output"]),
        "commit after build",
    );
    assert!(
        text.contains("kiln check") && text.contains("Passed"),
        "{text}"
    );

    // A model change without a build: stale output, refused, with what to do.
    let prod = root.join("environments/prod.yaml");
    let model = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(
        &prod,
        model.replace("retentionDays: 7", "retentionDays: 14"),
    )
    .unwrap();
    ok(git(root, &["add", "-A"]), "git add");
    let refused = git(root, &["commit", "-q", "-m", "keep backups longer"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        !refused.status.success(),
        "stale out/ was committed:\n{text}"
    );
    assert!(text.contains("is stale"), "{text}");
    assert!(text.contains("run `kiln build`"), "{text}");
    assert_eq!(support::kiln(root, &["build"]).code, 0);
    ok(git(root, &["add", "-A"]), "git add");
    ok(
        git(root, &["commit", "-q", "-m", "keep backups longer"]),
        "commit after build",
    );

    // kiln-build rebuilds out/ itself; pre-commit then stops the commit because the
    // hook changed files, and the next commit of the rebuilt files passes.
    std::fs::write(
        root.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: kiln-build\n      - id: kiln-check\n",
            hooks.path().display()
        ),
    )
    .unwrap();
    std::fs::write(
        &prod,
        model.replace("retentionDays: 7", "retentionDays: 30"),
    )
    .unwrap();
    ok(git(root, &["add", "-A"]), "git add");
    let stopped = git(root, &["commit", "-q", "-m", "a month of backups"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stopped.stdout),
        String::from_utf8_lossy(&stopped.stderr)
    );
    assert!(!stopped.status.success(), "{text}");
    assert!(text.contains("files were modified by this hook"), "{text}");
    assert_eq!(
        support::kiln(root, &["check"]).code,
        0,
        "kiln-build left out/ stale"
    );
    ok(git(root, &["add", "-A"]), "git add");
    ok(
        git(root, &["commit", "-q", "-m", "a month of backups"]),
        "commit of the rebuilt out/",
    );
}
