//! One fixture pair per lint rule: `tests/lint/<rule>/triggers.yaml` must make the
//! rule fire (its diagnostics are pinned in `expected`), `passes.yaml` must not. Both
//! extend `tests/lint/base.yaml`, which passes every rule, as environment `dev` (with
//! `<fixture>.prod.yaml` as a second environment `prod`, for rules across environments;
//! `sealed/` as the sealed values and `<fixture>.out/` as the committed output, for
//! rules about what a build changes). Rules that guard generated
//! output (kiln never writes such output itself) get files injected from `inject/`
//! (and `inject-passes/`) into the rendered tree before linting.
//! `UPDATE_GOLDEN=1 cargo test lint` rewrites `expected`.

use crate::support::{repo, snapshot, updating, write_env};
use kiln::diagnostic::render::{Format, all};
use kiln::inspect::lint::{LintContext, RULES, run};
use std::path::Path;

/// What an injected file comes from: what the files of its folder (or of the nearest
/// folder above holding any) come from, as for a file a template override adds there;
/// it belongs to `dev`.
fn provenance_near(tree: &kiln::render::OutputTree, path: &str) -> kiln::layout::Provenance {
    let mut dir = path;
    while let Some((up, _)) = dir.rsplit_once('/') {
        dir = up;
        let prefix = format!("{dir}/");
        if let Some((_, file)) = tree.iter().find(|(p, _)| p.starts_with(&prefix)) {
            return file.provenance.clone().owned_by(Some("dev"));
        }
    }
    kiln::layout::Provenance::default().of_env("dev")
}

fn lint(fixture: &Path, inject: &Path, rule: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    write_env(
        tmp.path(),
        "common.yaml",
        &std::fs::read_to_string(repo().join("tests/lint/base.yaml")).unwrap(),
    );
    write_env(
        tmp.path(),
        "dev.yaml",
        &std::fs::read_to_string(fixture).unwrap(),
    );
    // A rule about two environments gets a second one from `<fixture>.prod.yaml`.
    let prod = fixture.with_extension("prod.yaml");
    if prod.is_file() {
        write_env(
            tmp.path(),
            "prod.yaml",
            &std::fs::read_to_string(&prod).unwrap(),
        );
    }
    // Sealed values (`sealed/`) and a committed output to compare with
    // (`<fixture>.out/`), for rules that look at what a build changes.
    let dir = fixture.parent().unwrap();
    if dir.join("sealed").is_dir() {
        crate::support::copy_tree(&dir.join("sealed"), &tmp.path().join("environments/sealed"));
    }
    let committed = fixture.with_extension("out");
    if committed.is_dir() {
        crate::support::copy_tree(&committed, &tmp.path().join("out"));
    }
    let mut compiled = kiln::pipeline::compile(
        &kiln::model::Files::read(tmp.path()),
        kiln::output::state::read(&tmp.path().join("out")).unwrap(),
    );
    assert!(
        !compiled.has_input_errors(),
        "{}: {:#?}",
        fixture.display(),
        compiled.diagnostics
    );
    let mut found: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.name == rule)
        .cloned()
        .collect();
    if inject.is_dir() {
        for (path, bytes) in snapshot(inject) {
            let from = provenance_near(&compiled.tree, &path);
            compiled.tree.add(path, bytes, &from);
        }
        let mut diags = kiln::diagnostic::Diagnostics::default();
        run(
            &LintContext::new(&compiled.project, &compiled.tree),
            &mut diags,
        );
        found = diags
            .into_sorted(&compiled.project.sources)
            .into_iter()
            .filter(|d| d.name == rule)
            .collect();
    }
    all(&found, &compiled.project.sources, Format::Human, false)
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_its_counterpart() {
    let mut failures = Vec::new();
    for rule in RULES {
        let dir = repo().join("tests/lint").join(rule.name());
        let (triggers, passes) = (dir.join("triggers.yaml"), dir.join("passes.yaml"));
        if !triggers.is_file() || !passes.is_file() {
            failures.push(format!(
                "{}: needs tests/lint/{0}/triggers.yaml and passes.yaml",
                rule.name()
            ));
            continue;
        }
        let fired = lint(&triggers, &dir.join("inject"), rule.name());
        if fired.is_empty() {
            failures.push(format!(
                "{}: triggers.yaml does not trigger it",
                rule.name()
            ));
        }
        let expected = dir.join("expected");
        if updating() {
            std::fs::write(&expected, &fired).unwrap();
        } else if std::fs::read_to_string(&expected).ok().as_deref() != Some(fired.as_str()) {
            failures.push(format!(
                "{}: diagnostics differ from expected:\n{fired}",
                rule.name()
            ));
        }
        let quiet = lint(&passes, &dir.join("inject-passes"), rule.name());
        if !quiet.is_empty() {
            failures.push(format!(
                "{}: passes.yaml triggers it:\n{quiet}",
                rule.name()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
