//! `kiln diff`: the reference environments' `dev`/`prod` diff pinned in every format,
//! and `--against` in real git repositories (an app added, an app removed, an
//! environment added, a broken model at the revision), which must leave the working
//! tree alone.

use crate::support::{self, kiln, reference_project, repo};
use std::path::Path;
use std::process::Command;

/// `kiln diff dev prod` on the repository's own environments, in every format, equals
/// `tests/reference/diff-dev-prod.*`. The model grows; `UPDATE_GOLDEN=1 cargo test
/// golden` rewrites these files (review them with `git diff`).
#[test]
fn golden_diff_of_the_reference_environments() {
    let project = reference_project();
    let dir = repo().join("tests/reference");
    let mut failures = Vec::new();
    for (file, args) in [
        ("diff-dev-prod.txt", &["diff", "dev", "prod"][..]),
        (
            "diff-dev-prod.unified.txt",
            &["diff", "dev", "prod", "--unified"],
        ),
        (
            "diff-dev-prod.md",
            &["diff", "dev", "prod", "--format", "markdown"],
        ),
        (
            "diff-dev-prod.json",
            &["diff", "dev", "prod", "--format", "json"],
        ),
    ] {
        let run = kiln(project.path(), args);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{args:?}: {}", run.stderr);
        let path = dir.join(file);
        if support::updating() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &run.stdout).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != run.stdout {
            failures.push(format!(
                "{file} differs:\n{}",
                similar::TextDiff::from_lines(&want, &run.stdout)
                    .unified_diff()
                    .header("expected", "actual")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "UPDATE_GOLDEN=1 cargo test golden rewrites them:\n{}",
        failures.join("\n")
    );
}

/// Whatever the model grows into, dev and prod differ in what the model makes
/// different, and never in what the normalisation takes out.
#[test]
fn reference_diff_shows_real_differences_and_no_namespace_or_domain_noise() {
    let project = reference_project();
    let run = kiln(project.path(), &["diff", "dev", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let resources = doc["resources"].as_array().unwrap();
    // prod's backups exist only in prod.
    assert!(
        resources
            .iter()
            .any(|r| r["kind"] == "CronJob" && r["status"] == "onlyB"),
        "{}",
        run.stdout
    );
    for r in resources {
        for c in r["changes"].as_array().into_iter().flatten() {
            let path = c["path"].as_str().unwrap();
            assert!(
                !path.ends_with("metadata.namespace") && !path.ends_with("].namespace"),
                "a namespace difference survived normalisation: {c}"
            );
        }
    }
}

#[test]
fn same_environment_has_no_differences_and_bad_arguments_exit_2() {
    let project = reference_project();
    let root = project.path();
    let run = kiln(root, &["diff", "prod", "prod"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("no differences"), "{}", run.stdout);

    let run = kiln(root, &["diff", "dev"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("two environments"), "{}", run.stderr);
    let run = kiln(root, &["diff", "dev", "prod", "--env", "dev"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--env does not apply"),
        "{}",
        run.stderr
    );
    let run = kiln(root, &["diff", "dev", "staging"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no environment `staging` (environments: dev, prod)"),
        "{}",
        run.stderr
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let project = reference_project();
    // The test harness pipes stdout, so `auto` (kiln's default) means no colour.
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["diff", "dev", "prod", "--root"])
        .arg(project.path())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!out.stdout.contains(&0x1b), "colour in piped output");
    let run = kiln(project.path(), &["diff", "dev", "prod"]);
    assert!(!run.stdout.contains('\x1b'));
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["diff", "dev", "prod", "--color", "always", "--root"])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(out.stdout.contains(&0x1b), "no colour with --color always");
}

// ------------------------------------------------------------------------------
// --against

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
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
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

const MAILER: &str = "  mailer:
    image:
      registry: gitlab
      repository: 0xwsh/mailer
      tag: \"1.2.0\"
    port: 8025
    routes:
      internal:
        host: mail.${domain}
";

/// A repository whose model lives in `sub/` (as with `--root`), with the reference
/// environments built and committed.
fn repository() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let root = dir.path().join("sub");
    support::copy_tree(&repo().join("environments"), &root.join("environments"));
    assert_eq!(kiln(&root, &["build"]).code, 0);
    commit(dir.path(), "the reference model");
    (dir, root)
}

#[test]
fn against_a_revision_shows_an_added_then_a_removed_app_per_environment() {
    let (dir, root) = repository();
    edit(
        &root.join("environments/common.yaml"),
        "\napps:\n",
        &format!("\napps:\n{MAILER}"),
    );
    assert_eq!(kiln(&root, &["build"]).code, 0);
    commit(dir.path(), "add the mailer");

    let status_before = git(dir.path(), &["status", "--porcelain"]);
    let head_before = git(dir.path(), &["rev-parse", "HEAD"]);
    let run = kiln(&root, &["diff", "--against", "HEAD~1"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for env in ["dev", "prod"] {
        assert!(
            run.stdout.contains(&format!("environment {env}: ")),
            "{}",
            run.stdout
        );
        for object in [
            format!("+ Deployment mailer-{env}/mailer  (added)"),
            format!("+ Service mailer-{env}/mailer  (added)"),
            format!("+ Namespace mailer-{env}  (added)"),
        ] {
            assert!(run.stdout.contains(&object), "no {object}:\n{}", run.stdout);
        }
    }
    // Resource lines: `+ Deployment ns/name`, `~ Service ns/name`, ...
    for line in run.stdout.lines() {
        let mut words = line.split_whitespace();
        let resource = matches!(words.next(), Some("+" | "-" | "~"))
            && words
                .next()
                .is_some_and(|kind| kind.starts_with(|c: char| c.is_ascii_uppercase()));
        assert!(
            !(resource && line.contains("invoicetron")),
            "unchanged app listed: {line}\n{}",
            run.stdout
        );
    }
    // Read from git: no checkout, nothing written.
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), status_before);
    assert_eq!(git(dir.path(), &["rev-parse", "HEAD"]), head_before);

    let run = kiln(&root, &["diff", "--against", "HEAD~1", "dev"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("environment dev: ")
            && run
                .stdout
                .contains("+ Deployment mailer-dev/mailer  (added)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("environment prod"), "{}", run.stdout);

    let run = kiln(&root, &["diff", "--against", "HEAD"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("no differences"), "{}", run.stdout);

    // Remove the app again, in the working tree first (uncommitted changes count).
    edit(&root.join("environments/common.yaml"), MAILER, "");
    let run = kiln(
        &root,
        &["diff", "--against", "HEAD", "prod", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["kind"], "revision");
    let sections = doc["sections"].as_array().unwrap();
    let envs: Vec<&serde_json::Value> = sections
        .iter()
        .filter(|s| s["shared"] == false)
        .map(|s| &s["environment"])
        .collect();
    assert_eq!(envs, ["prod"], "only prod was asked for");
    let prod = sections
        .iter()
        .find(|s| s["environment"] == "prod")
        .unwrap();
    // The app's objects are removed; other targets (docs, secrets) change with it.
    let objects: Vec<&serde_json::Value> = prod["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"] == "kubernetes")
        .collect();
    assert!(
        objects.iter().all(|r| r["status"] == "onlyA"),
        "{}",
        run.stdout
    );
    let removed: Vec<&str> = objects
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        removed,
        [
            "Deployment",
            "HTTPRoute",
            "Namespace",
            "NetworkPolicy",
            "Service"
        ]
    );
    assert!(prod["summary"]["onlyA"].as_u64().unwrap() >= 4);

    assert_eq!(kiln(&root, &["build"]).code, 0);
    commit(dir.path(), "remove the mailer");
    let run = kiln(
        &root,
        &["diff", "--against", "HEAD~1", "--format", "markdown"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("| removed | ") && !run.stdout.contains("| removed | 0 |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("<summary><b>environment dev</b>: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("➖ <code>Deployment mailer-dev/mailer</code>")
    );
}

#[test]
fn against_shows_changed_fields_and_new_environments() {
    let (dir, root) = repository();
    edit(
        &root.join("environments/prod.yaml"),
        "retentionDays: 7",
        "retentionDays: 14",
    );
    std::fs::write(
        root.join("environments/staging.yaml"),
        "extends: common
vars:
  onePasswordItem: Invoicetron Staging
  shopHost: shop.staging.example.com
  supabaseHost: supabase.staging.example.com
environment:
  domain: staging.example.com
apps:
  invoicetron:
    build: {branch: staging}
  frontend: {enabled: false}
  backend: {enabled: false}
stacks:
  supabase: {enabled: false}
",
    )
    .unwrap();
    let run = kiln(&root, &["diff", "--against", "HEAD", "--unified"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("environment staging (new): "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("~ CronJob invoicetron-prod/invoicetron-db-backup"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("-mmin +10080"), "{}", run.stdout);
    assert!(run.stdout.contains("-mmin +20160"), "{}", run.stdout);
    assert!(
        run.stdout.contains("environment dev: no differences"),
        "{}",
        run.stdout
    );
    drop(dir);
}

/// The image tags automation recorded are part of what each side deploys: Flux's in
/// `out/`, `kiln set-image`'s in `environments/state/`, read from git for the revision
/// and from disk for the working tree.
#[test]
fn against_compares_the_tags_automation_recorded_at_each_side() {
    let (dir, root) = repository();
    let overlay = root.join("out/kubernetes/apps/frontend/overlays/prod/kustomization.yaml");
    let flux_tag = |tag: &str| format!("newTag: {tag} # {{\"$imagepolicy\"");
    let text = std::fs::read_to_string(&overlay).unwrap();
    let current = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("newTag: "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .to_owned();
    edit(
        &overlay,
        &flux_tag(&current),
        &flux_tag("main-abc1234-20260101000000"),
    );
    assert_eq!(
        kiln(&root, &["check"]).code,
        0,
        "a Flux-written tag is kept, not an edit"
    );
    commit(dir.path(), "Flux deployed main-abc1234");
    edit(
        &overlay,
        &flux_tag("main-abc1234-20260101000000"),
        &flux_tag("main-def5678-20260102000000"),
    );
    let set = kiln(
        &root,
        &[
            "set-image",
            "invoicetron",
            "prod-0f0f0f0-20260103000000",
            "--env",
            "prod",
        ],
    );
    assert_eq!(set.code, 0, "{}", set.stderr);

    let run = kiln(&root, &["diff", "--against", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let section = |env: &str| {
        doc["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["environment"] == env)
            .unwrap_or_else(|| panic!("no section {env}"))
            .clone()
    };
    assert_eq!(
        section("dev")["resources"].as_array().unwrap().len(),
        0,
        "dev's tags did not move: {}",
        run.stdout
    );
    let prod = section("prod").to_string();
    for tag in [
        "frontend:main-abc1234-20260101000000",
        "frontend:main-def5678-20260102000000",
        "invoicetron:prod-0f0f0f0-20260103000000",
    ] {
        assert!(
            prod.contains(tag),
            "{tag} not in prod's changes: {}",
            run.stdout
        );
    }
}

#[test]
fn against_a_broken_or_unknown_revision_is_an_error() {
    let (dir, root) = repository();
    let run = kiln(&root, &["diff", "--against", "HEAD", "prdo"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "no environment `prdo` at HEAD or in the working tree; did you mean `prod`? (environments: dev, prod)"
        ),
        "{}",
        run.stderr
    );
    let run = kiln(&root, &["diff", "--against", "no-such-branch"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`no-such-branch` is not a commit"),
        "{}",
        run.stderr
    );

    edit(
        &root.join("environments/dev.yaml"),
        "extends: common",
        "extends: common\nbogus: 1",
    );
    commit(dir.path(), "a typo");
    edit(&root.join("environments/dev.yaml"), "\nbogus: 1", "");
    let run = kiln(&root, &["diff", "--against", "HEAD"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("--> HEAD:environments/dev.yaml:"),
        "the revision's file is named as git names it:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the model at HEAD has errors"),
        "{}",
        run.stderr
    );

    let elsewhere = tempfile::tempdir().unwrap();
    support::copy_tree(
        &repo().join("environments"),
        &elsewhere.path().join("environments"),
    );
    let run = kiln(elsewhere.path(), &["diff", "--against", "HEAD"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
}
