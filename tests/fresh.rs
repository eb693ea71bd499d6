//! The freshness record (`.kiln/fresh`): a build or check with nothing changed answers
//! from it without compiling, says exactly what a full run says, and any change to
//! the model, to out/ or to the way it is asked for means a full run.

use crate::support::{
    Run, copy_tree, kiln, kiln_with, reference_project, repo, snapshot, write_env,
};
use std::path::Path;

const HIT: &str = "the freshness record matches";

fn timed(root: &Path, args: &[&str]) -> Run {
    kiln_with(root, args, &[("KILN_TIMINGS", "1".to_owned())], None)
}

/// The lines a user sees (without the timing lines).
fn said(run: &Run) -> String {
    run.stderr
        .lines()
        .filter(|l| !l.starts_with("kiln: "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reference project with its committed out/ (whose image tags keep the build
/// free of warnings), built twice: the second build found nothing to write and
/// recorded so.
fn fresh_project() -> tempfile::TempDir {
    let project = reference_project();
    let root = project.path();
    copy_tree(&repo().join("out"), &root.join("out"));
    assert_eq!(kiln(root, &["build"]).code, 0);
    let run = timed(root, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(root.join(".kiln/fresh").is_file(), "no record written");
    project
}

#[test]
fn nothing_changed_answers_from_the_record_with_the_same_words() {
    let project = fresh_project();
    let root = project.path();
    let before = snapshot(&root.join("out"));

    let fast = timed(root, &["build"]);
    assert!(fast.stderr.contains(HIT), "{}", fast.stderr);
    let full = timed(root, &["build", "--no-cache"]);
    assert!(!full.stderr.contains(HIT), "{}", full.stderr);
    assert_eq!((fast.code, said(&fast)), (full.code, said(&full)));
    assert_eq!(fast.stdout, full.stdout);

    let fast = timed(root, &["check"]);
    assert!(fast.stderr.contains(HIT), "{}", fast.stderr);
    let full = timed(root, &["check", "--no-cache"]);
    assert!(!full.stderr.contains(HIT), "{}", full.stderr);
    assert_eq!((fast.code, said(&fast)), (full.code, said(&full)));
    assert!(said(&fast).contains("kiln check: out/ is up to date"));
    assert!(said(&fast).contains("points verified"));

    for format in ["json", "markdown"] {
        let fast = timed(root, &["check", "--format", format]);
        let full = timed(root, &["check", "--no-cache", "--format", format]);
        assert!(fast.stderr.contains(HIT), "{}", fast.stderr);
        assert_eq!((fast.code, &fast.stdout), (full.code, &full.stdout));
    }
    assert_eq!(snapshot(&root.join("out")), before, "out/ changed");
    assert_eq!(
        std::fs::read_to_string(root.join(".kiln/.gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*")
    );
}

/// Every way the answer could change leads to a full run, which then sees it.
#[test]
fn any_change_to_the_model_or_out_means_a_full_run() {
    let project = fresh_project();
    let root = project.path();
    let out = root.join("out");
    let file = snapshot(&out)
        .into_keys()
        .find(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("deployment-"))
        })
        .expect("a deployment");
    let path = out.join(&file);
    let original = std::fs::read(&path).unwrap();

    // A hand edit that keeps the size: check reports it, build repairs it.
    let mut edited = original.clone();
    let at = edited.iter().rposition(|b| b.is_ascii_lowercase()).unwrap();
    edited[at] = if edited[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&path, &edited).unwrap();
    let run = timed(root, &["check"]);
    assert!(!run.stderr.contains(HIT), "{}", run.stderr);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("out/{file} was edited by hand"))
    );
    let run = timed(root, &["build"]);
    assert!(!run.stderr.contains(HIT));
    assert_eq!(std::fs::read(&path).unwrap(), original);

    // A file kiln does not know, added where it writes.
    timed(root, &["build"]);
    assert!(timed(root, &["build"]).stderr.contains(HIT));
    let stray = path.with_file_name("stray.yaml");
    std::fs::write(&stray, "x: 1\n").unwrap();
    assert!(!timed(root, &["build"]).stderr.contains(HIT));
    std::fs::remove_file(&stray).unwrap();

    // A deleted output file.
    timed(root, &["build"]);
    assert!(timed(root, &["check"]).stderr.contains(HIT));
    std::fs::remove_file(&path).unwrap();
    let run = timed(root, &["check"]);
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains(HIT));
    assert_eq!(kiln(root, &["build"]).code, 0);

    // A build that did not finish.
    timed(root, &["build"]);
    assert!(timed(root, &["check"]).stderr.contains(HIT));
    std::fs::write(out.join(".kiln.lock.pending"), "").unwrap();
    let run = timed(root, &["check"]);
    assert!(!run.stderr.contains(HIT));
    assert_eq!(run.code, 1);
    assert_eq!(kiln(root, &["build"]).code, 0);

    // A changed model: compiled, and the change written.
    timed(root, &["build"]);
    assert!(timed(root, &["build"]).stderr.contains(HIT));
    let common = root.join("environments/common.yaml");
    let text = std::fs::read_to_string(&common).unwrap();
    std::fs::write(&common, format!("{text}\n# a comment changes the bytes\n")).unwrap();
    let run = timed(root, &["build"]);
    assert!(!run.stderr.contains(HIT));
    assert_eq!(run.code, 0);

    // Only some environments: always compiled (the record is of whole builds).
    timed(root, &["build"]);
    assert!(
        !timed(root, &["build", "--env", "prod"])
            .stderr
            .contains(HIT)
    );
    assert!(
        !timed(root, &["check", "--env", "prod"])
            .stderr
            .contains(HIT)
    );

    // An unreadable or foreign record is ignored.
    timed(root, &["build"]);
    std::fs::write(root.join(".kiln/fresh"), "something else\n").unwrap();
    let run = timed(root, &["check"]);
    assert!(!run.stderr.contains(HIT));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A build with warnings writes no record: the next one must print them again.
#[test]
fn a_build_with_warnings_keeps_no_record() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    let lint = repo().join("tests/lint");
    write_env(
        root,
        "common.yaml",
        &std::fs::read_to_string(lint.join("base.yaml")).unwrap(),
    );
    write_env(
        root,
        "dev.yaml",
        &std::fs::read_to_string(lint.join("missing-probes/triggers.yaml")).unwrap(),
    );
    for _ in 0..3 {
        let run = timed(root, &["build"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(said(&run).contains("missing-probes"), "{}", run.stderr);
        assert!(!run.stderr.contains(HIT));
        assert!(!root.join(".kiln/fresh").exists());
    }
}
