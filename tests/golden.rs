//! Golden cases. Each `tests/golden/<case>/` holds `environments/` (the input),
//! optionally `out-before/` (an `out/` to start from) and `args` (default `build`),
//! and `expected/`: `exit` (default 0), `stderr` (the rendered diagnostics), `stdout`
//! when the command prints there (`diff`), and, for a successful build, the complete
//! `out/` tree. `UPDATE_GOLDEN=1 cargo test golden` rewrites `expected/`; review it
//! with `git diff`.
//!
//! A case that fails (exit 2) must leave `out/` byte-for-byte as it was.

use crate::support::{self, compare_trees, copy_tree, kiln, repo, rewrite_tree, snapshot};
use std::path::Path;

const SENTINEL_LOCK: &str = "# kiln.lock\n";

fn run_case(case: &Path) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(&case.join("environments"), &root.join("environments"));
    if case.join("out-before").is_dir() {
        copy_tree(&case.join("out-before"), &root.join("out"));
    } else {
        // Something for a failing run to (not) damage.
        std::fs::create_dir_all(root.join("out")).unwrap();
        std::fs::write(root.join("out/kiln.lock"), SENTINEL_LOCK).unwrap();
        std::fs::write(root.join("out/hand-written.txt"), "kept\n").unwrap();
    }
    let before = snapshot(&root.join("out"));
    let args_text = std::fs::read_to_string(case.join("args")).unwrap_or_else(|_| "build".into());
    let args: Vec<&str> = args_text.split_whitespace().collect();
    let run = kiln(root, &args);
    let expected = case.join("expected");
    let stderr = run.stderr.replace(&root.display().to_string(), "<root>");
    let after = snapshot(&root.join("out"));
    let mut out_tree = after.clone();
    out_tree.remove("hand-written.txt");

    // Case names say what they expect: `bad-*` cases fail, the other `build` cases
    // succeed. This keeps an UPDATE_GOLDEN run from recording a broken case as its
    // expectation. (Other commands, such as `diff`, have exit codes of their own.)
    let bad = case
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("bad-"));
    let building = args.first().is_none_or(|a| *a == "build");
    if building && bad == (run.code == 0) {
        return Err(format!(
            "a {} case exited {}:\n{stderr}",
            if bad { "bad-input" } else { "successful" },
            run.code
        ));
    }
    if support::updating() {
        let _ = std::fs::remove_dir_all(&expected);
        std::fs::create_dir_all(&expected).unwrap();
        std::fs::write(expected.join("exit"), format!("{}\n", run.code)).unwrap();
        std::fs::write(expected.join("stderr"), &stderr).unwrap();
        if !run.stdout.is_empty() {
            std::fs::write(expected.join("stdout"), &run.stdout).unwrap();
        }
        if run.code == 0 {
            rewrite_tree(&expected.join("out"), &out_tree);
        }
        return Ok(());
    }
    let mut problems = String::new();
    let want_code: i32 = std::fs::read_to_string(expected.join("exit"))
        .map(|s| s.trim().parse().unwrap_or(0))
        .unwrap_or(0);
    if run.code != want_code {
        problems.push_str(&format!(
            "exit {} (expected {want_code})\nstderr:\n{stderr}\n",
            run.code
        ));
    }
    if let Ok(want) = std::fs::read_to_string(expected.join("stderr"))
        && want != stderr
    {
        problems.push_str(&format!(
            "stderr differs:\n{}",
            similar::TextDiff::from_lines(&want, &stderr)
                .unified_diff()
                .header("expected", "actual")
        ));
    }
    let want_stdout = std::fs::read_to_string(expected.join("stdout")).unwrap_or_default();
    if want_stdout != run.stdout {
        problems.push_str(&format!(
            "stdout differs:\n{}",
            similar::TextDiff::from_lines(&want_stdout, &run.stdout)
                .unified_diff()
                .header("expected", "actual")
        ));
    }
    if want_code == 0 {
        if let Some(report) = compare_trees(&snapshot(&expected.join("out")), &out_tree) {
            problems.push_str(&report);
        }
    } else if before != after {
        problems.push_str("a failing run changed out/\n");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[test]
fn golden_cases() {
    let dir = repo().join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(report) = run_case(case) {
            failures.push(format!(
                "=== {} ===\n{report}",
                case.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed (UPDATE_GOLDEN=1 rewrites expectations):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The repository's own model builds to exactly the committed `out/` in a fresh clone
/// (which has the committed `out/`, where automation-owned tags live).
#[test]
fn reference_environments_build_to_the_committed_out() {
    let project = support::reference_project();
    copy_tree(&repo().join("out"), &project.path().join("out"));
    let run = kiln(project.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let built = snapshot(&project.path().join("out"));
    let committed = snapshot(&repo().join("out"));
    if let Some(report) = compare_trees(&committed, &built) {
        panic!(
            "out/ is not what `kiln build` writes; run `cargo run -- build` and commit:\n{report}"
        );
    }
}

/// Every example under `examples/` (a complete project, as a user's repository holds
/// one) builds to exactly its committed `out/`; `UPDATE_GOLDEN=1` rewrites it.
#[test]
fn examples_build_to_their_committed_out() {
    let mut failures = Vec::new();
    let examples = support::examples();
    assert!(!examples.is_empty(), "examples/ holds complete models");
    for example in &examples {
        let project = tempfile::tempdir().unwrap();
        copy_tree(
            &example.join("environments"),
            &project.path().join("environments"),
        );
        if example.join("out").is_dir() {
            copy_tree(&example.join("out"), &project.path().join("out"));
        }
        let run = kiln(project.path(), &["build"]);
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        if run.code != 0 {
            failures.push(format!(
                "=== {name} ===\nkiln build exited {}:\n{}",
                run.code, run.stderr
            ));
            continue;
        }
        let built = snapshot(&project.path().join("out"));
        if support::updating() {
            let _ = std::fs::remove_dir_all(example.join("out"));
            copy_tree(&project.path().join("out"), &example.join("out"));
            continue;
        }
        if let Some(report) = compare_trees(&snapshot(&example.join("out")), &built) {
            failures.push(format!("=== {name} ===\n{report}"));
        }
    }
    assert!(
        failures.is_empty(),
        "examples do not build to their committed out/ (UPDATE_GOLDEN=1 rewrites it):\n{}",
        failures.join("\n")
    );
}

/// Two builds from scratch write identical bytes, and a second build over the first
/// writes nothing.
#[test]
fn builds_are_deterministic_and_idempotent() {
    let a = support::reference_project();
    let b = support::reference_project();
    assert_eq!(kiln(a.path(), &["build"]).code, 0);
    assert_eq!(kiln(b.path(), &["build"]).code, 0);
    assert_eq!(
        snapshot(&a.path().join("out")),
        snapshot(&b.path().join("out"))
    );
    let lock = a.path().join("out/kiln.lock");
    let mtime = std::fs::metadata(&lock).unwrap().modified().unwrap();
    let again = kiln(a.path(), &["build"]);
    assert!(
        again.stderr.contains(" 0 files written"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::metadata(&lock).unwrap().modified().unwrap(), mtime);
}

/// The Jellyfin example moved from its GPU host to a cluster (a change of `runsOn`)
/// fails only where a restricted cluster cannot follow (the NFS library in the pod),
/// located; with its group's Pod Security `baseline` (the example's own) it builds, and the Intel GPU is the device
/// plugin's resource with the host's render group as a supplementary group.
#[test]
fn jellyfin_moves_to_a_cluster_with_its_gpu() {
    let project = tempfile::tempdir().unwrap();
    let env = project.path().join("environments");
    copy_tree(&repo().join("examples/jellyfin/environments"), &env);
    let common = env.join("common.yaml");
    let text = std::fs::read_to_string(&common).unwrap();
    assert!(text.contains("\n  runsOn: media\n"));
    let moved = text.replace("\n  runsOn: media\n", "\n  runsOn: lab\n")
        + "clusters:\n  lab:\n    ingress: {kind: traefik}\n";
    // Without its group's level, the NFS mount is the one thing that cannot move.
    let restricted = moved.replace("groups:\n  jellyfin: {podSecurity: baseline}\n", "");
    assert_ne!(restricted, moved, "the example lowers its group");
    std::fs::write(&common, &restricted).unwrap();
    let run = kiln(project.path(), &["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.matches("error[").count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("volume `media` of `jellyfin` is an NFS export")
            && run.stderr.contains("environments/common.yaml:"),
        "{}",
        run.stderr
    );
    // With it (the example's own setting), it moves.
    std::fs::write(&common, &moved).unwrap();
    let run = kiln(project.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let deployment = std::fs::read_to_string(
        project
            .path()
            .join("out/kubernetes/apps/jellyfin/base/deployment-jellyfin.yaml"),
    )
    .unwrap();
    assert!(
        deployment.contains("gpu.intel.com/i915: \"1\""),
        "{deployment}"
    );
    assert!(
        deployment.contains("supplementalGroups:\n          - 993"),
        "{deployment}"
    );
    assert!(!deployment.contains("/dev/dri"), "{deployment}");
}
