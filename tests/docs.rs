//! Runbooks: their Mermaid diagrams parse with the real mermaid parser, and every
//! kubectl command in them names an object kiln generates.

use crate::support::{repo, snapshot};
use std::collections::BTreeSet;
use std::process::Command;

/// Every ```mermaid block of every runbook under `dir`.
fn diagrams(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, bytes) in snapshot(dir) {
        if !(path.starts_with("docs/") && path.ends_with(".md")) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut block: Option<String> = None;
        for line in text.lines() {
            match (&mut block, line.trim()) {
                (None, "```mermaid") => block = Some(String::new()),
                (Some(b), "```") => {
                    out.push((path.clone(), std::mem::take(b)));
                    block = None;
                }
                (Some(b), _) => {
                    b.push_str(line);
                    b.push('\n');
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn runbook_diagrams_parse_with_mermaid() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let checker = repo().join("tools/mermaid/check.mjs");
    assert!(
        repo().join("tools/mermaid/node_modules/mermaid").is_dir(),
        "the Mermaid parser is not installed: run tools/test.sh (or `npm ci` in tools/mermaid)"
    );
    let mut all = diagrams(&repo().join("out"));
    for entry in std::fs::read_dir(repo().join("tests/golden"))
        .unwrap()
        .flatten()
    {
        all.extend(diagrams(&entry.path().join("expected/out")));
    }
    assert!(all.len() >= 2, "the reference runbooks have diagrams");
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (path, text)) in all.iter().enumerate() {
        let file = tmp
            .path()
            .join(format!("{i}-{}.mmd", path.replace('/', "_")));
        std::fs::write(&file, text).unwrap();
        files.push(file);
    }
    let out = Command::new("node")
        .arg(&checker)
        .args(&files)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mermaid_check_catches_a_broken_diagram() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.mmd");
    std::fs::write(&file, "flowchart LR\n  a -->\n").unwrap();
    let out = Command::new("node")
        .arg(repo().join("tools/mermaid/check.mjs"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// `kubectl ... kind/name` in the runbooks names objects kiln writes.
#[test]
fn runbook_commands_name_generated_objects() {
    let out = snapshot(&repo().join("out"));
    let mut objects = BTreeSet::new();
    for (path, bytes) in &out {
        if !path.ends_with(".yaml") {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let kind = text
            .lines()
            .find_map(|l| l.strip_prefix("kind: "))
            .unwrap_or_default()
            .to_lowercase();
        if let Some(name) = text
            .lines()
            .skip_while(|l| *l != "metadata:")
            .find_map(|l| l.strip_prefix("  name: "))
        {
            objects.insert(format!("{kind}/{name}"));
        }
    }
    let mut checked = 0;
    for (path, bytes) in out.iter().filter(|(p, _)| p.starts_with("docs/")) {
        let text = String::from_utf8_lossy(bytes);
        for word in text.split(|c: char| c.is_whitespace() || c == '`') {
            let Some((kind, name)) = word.split_once('/') else {
                continue;
            };
            if !["deployment", "statefulset", "job", "cronjob"].contains(&kind) || name.is_empty() {
                continue;
            }
            let name = name.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            // `kubectl create job --from=cronjob/X X-manual` makes the manual run.
            let made_by_the_runbook = kind == "job"
                && name
                    .strip_suffix("-manual")
                    .is_some_and(|c| objects.contains(&format!("cronjob/{c}")));
            assert!(
                made_by_the_runbook || objects.contains(&format!("{kind}/{name}")),
                "{path} names {kind}/{name}, which kiln does not generate"
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} object references checked");
}
