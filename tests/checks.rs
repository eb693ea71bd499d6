//! The check registry end to end: every check a corpus shows is registered with that
//! name and severity and `kiln explain` explains it; `kiln rules` lists the whole
//! registry; `docs/rules.md` is generated from it.

use crate::support::{kiln, reference_project, repo, updating};
use kiln::catalogue as checks;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Every file of expected diagnostics: the golden cases' and the bad-input corpus'
/// `expected/stderr`, and the lint fixtures' `expected`.
fn expectation_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["tests/golden", "tests/bad_inputs"] {
        for case in std::fs::read_dir(repo().join(dir)).unwrap().flatten() {
            let stderr = case.path().join("expected/stderr");
            if stderr.is_file() {
                files.push(stderr);
            }
        }
    }
    for rule in std::fs::read_dir(repo().join("tests/lint"))
        .unwrap()
        .flatten()
    {
        let expected = rule.path().join("expected");
        if expected.is_file() {
            files.push(expected);
        }
    }
    files.sort();
    files
}

/// Each diagnostic of a human rendering: its severity word, its name, and whether it
/// has a `help:` line.
fn diagnostics(text: &str) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = Vec::new();
    for line in text.lines() {
        let title = ["error[", "warning["]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (&p[..p.len() - 1], rest)));
        if let Some((severity, rest)) = title {
            let name = rest.split(']').next().unwrap_or_default();
            out.push((severity.to_owned(), name.to_owned(), false));
        } else if line.trim_start().starts_with("= help:")
            && let Some(last) = out.last_mut()
        {
            last.2 = true;
        }
    }
    out
}

#[test]
fn every_check_the_corpora_show_is_registered_explained_and_says_how_to_fix() {
    let files = expectation_files();
    assert!(
        files.len() > 150,
        "found only {} expectation files",
        files.len()
    );
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let rel = file.strip_prefix(repo()).unwrap().display().to_string();
        for (severity, name, helped) in diagnostics(&text) {
            if !helped {
                problems.push(format!("{rel}: {severity}[{name}] has no `help:` line"));
            }
            match checks::find(&name) {
                None => problems.push(format!("{rel}: `{name}` is not in the registry")),
                Some(c) => {
                    let want = checks::severity_word(c.kind.severity());
                    if severity != want {
                        problems.push(format!(
                            "{rel}: `{name}` is shown as {severity}, but {} is a {want}",
                            c.code
                        ));
                    }
                }
            }
            seen.insert(name, rel.clone());
        }
    }
    assert!(
        seen.len() > 40,
        "the corpora show only {} checks",
        seen.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    for name in seen.keys() {
        let Some(c) = checks::find(name) else {
            continue;
        };
        for query in [c.name, c.code] {
            let run = kiln(tmp.path(), &["explain", query]);
            if run.code != 0
                || !run.stdout.starts_with(&format!("{} {} (", c.code, c.name))
                || !run.stdout.contains("## How to fix")
            {
                problems.push(format!(
                    "`kiln explain {query}` exited {}:\n{}{}",
                    run.code, run.stdout, run.stderr
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn explain_refuses_an_unknown_check_with_exit_2_and_suggests_the_closest() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kiln(tmp.path(), &["explain", "unknwon-field"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `unknown-field` (E0006)?")
            && run
                .stderr
                .contains("`kiln rules` lists every code and name"),
        "{}",
        run.stderr
    );
    let run = kiln(tmp.path(), &["explain", "qqqq"]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    let run = kiln(tmp.path(), &["rules", "no-such-rule"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn rules_lists_the_whole_registry_and_explains_any_check() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kiln(tmp.path(), &["rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| checks::find(w).is_some())
        .collect();
    let all: Vec<&str> = checks::all().iter().map(|c| c.code).collect();
    assert_eq!(listed, all, "`kiln rules` lists every check once, in order");

    let lint = kiln(tmp.path(), &["rules", "--family", "lint"]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    let listed: Vec<&str> = lint
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| checks::find(w).is_some())
        .collect();
    let rules: Vec<&str> = kiln::inspect::lint::RULES
        .iter()
        .map(|r| r.code())
        .collect();
    assert_eq!(listed, rules);

    let unknown = kiln(tmp.path(), &["rules", "--family", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("families: files, model"),
        "{}",
        unknown.stderr
    );

    // `kiln rules NAME` explains a lint rule as before, and any other check too.
    for query in ["postgres-data-mount", "K010", "schema", "W0203"] {
        let run = kiln(tmp.path(), &["rules", query]);
        assert_eq!(run.code, 0, "{query}: {}", run.stderr);
        assert!(run.stdout.contains("## What it does"), "{query}");
    }
}

/// `docs/rules.md` is generated from the registry; `UPDATE_GOLDEN=1` rewrites it.
#[test]
fn rules_doc_is_the_current_catalogue() {
    let want = checks::docs_markdown();
    for c in checks::all() {
        assert!(want.contains(&format!("\n### {}\n", c.name)), "{}", c.name);
    }
    let path = repo().join("docs/rules.md");
    if updating() {
        std::fs::write(&path, &want).unwrap();
    } else {
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            want,
            "docs/rules.md is stale: run `UPDATE_GOLDEN=1 cargo test --test integration checks`"
        );
    }
}

/// Warnings have `W` codes of their own: a check that was an error elsewhere (the
/// `extends` error, the sealed-file error) no longer lends its `E` code to a warning.
#[test]
fn warnings_have_w_codes_of_their_own() {
    let project = reference_project();
    let root = project.path();
    std::fs::write(
        root.join("environments/leftover.yaml"),
        "abstract: true\nvars: {unused: x}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("environments/sealed/ghost.yaml"),
        "clusters: {}\n",
    )
    .unwrap();
    let run = kiln(root, &["build", "--format", "json"]);
    let found: Vec<(String, String, String)> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (s("code"), s("name"), s("severity"))
        })
        .collect();
    for want in [
        ("W0024", "unused-abstract", "warning"),
        ("W0207", "unused-sealed-value", "warning"),
    ] {
        let want = (want.0.to_owned(), want.1.to_owned(), want.2.to_owned());
        assert!(
            found.contains(&want),
            "{want:?} not in {found:?}\n{}",
            run.stderr
        );
    }
    for (code, name, severity) in &found {
        assert_eq!(
            code.starts_with('W'),
            severity == "warning" && !code.starts_with('K'),
            "{code} {name} {severity}"
        );
    }
}
