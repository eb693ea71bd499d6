//! `kiln check`: check the model and compare `out/` with what a build would write.

use super::{Outcome, Printer, check_envs};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::diagnostic::{Diagnostic, checks};
use crate::model::Files;
use crate::output::{self, Finding, Scope, fresh};
use crate::pipeline::compile;
use crate::timings::phase;

/// Lines of unified diff shown for a hand-edited or stale file.
const DIFF_LINES: usize = 40;

pub(super) fn run(g: &GlobalArgs, args: &CheckArgs, out: &Printer) -> crate::Result<Outcome> {
    // Shared: checks run side by side, but never while a build writes out/.
    let _lock = super::lock_project(g, false, out)?;
    let out_dir = g.root.join("out");
    let files = phase("read model", || Files::read(&g.root));
    // The freshness record of the last clean build, when neither the model nor out/
    // changed since, is the answer a compile would give (see `output::fresh`).
    let (_, found) = fresh::consult(&g.root, &files, g.envs.is_empty(), !args.no_cache, &out_dir);
    if let Some(s) = found {
        out.summary(&format!(
            "kiln check: out/ is up to date ({} files)",
            s.files
        ));
        out.summary(&format!(
            "wiring: {}/{} points verified",
            s.wiring_verified, s.wiring_total
        ));
        return Ok(Outcome::Clean);
    }
    let state = phase("read state", || output::state::read(&out_dir))?;
    let compiled = compile(&files, state);
    if compiled.has_input_errors() {
        out.diagnostics(&compiled.diagnostics, &compiled.project.sources);
        return Ok(Outcome::Error);
    }
    check_envs(g, &compiled.project)?;
    let mut diagnostics = compiled.diagnostics.clone();
    let findings = if compiled.has_errors() {
        Vec::new()
    } else {
        output::check(
            &out_dir,
            &compiled.tree,
            &Scope {
                envs: g.envs.clone(),
            },
        )?
    };
    let lock_missing = !out_dir.join(output::lock::LOCK_FILE).is_file();
    diagnostics.extend(findings.iter().map(|f| explain(f, lock_missing)));
    out.diagnostics(&diagnostics, &compiled.project.sources);
    let wiring = compiled.wiring;
    let wiring_line = format!(
        "wiring: {}/{} points verified",
        wiring.verified, wiring.total
    );
    if compiled.has_errors() || !findings.is_empty() {
        let mut line = format!(
            "kiln check: {} file(s) differ from what `kiln build` would write",
            findings.len()
        );
        if !findings.is_empty() {
            line.push_str(&format!(" ({})", tally(&findings)));
        }
        if compiled.has_errors() {
            line.push_str("; lint errors found");
        }
        out.summary(&line);
        if let Some(next) = next_step(&findings, compiled.has_errors()) {
            out.summary(&format!("  next: {next}"));
        }
        if wiring.total > 0 {
            out.summary(&wiring_line);
        }
        return Ok(Outcome::Findings);
    }
    out.summary(&format!(
        "kiln check: out/ is up to date ({} files)",
        compiled.tree.len()
    ));
    out.summary(&wiring_line);
    Ok(Outcome::Clean)
}

fn kind(f: &Finding) -> &'static str {
    match f {
        Finding::Stale { .. } => "stale",
        Finding::HandEdited { .. } => "hand-edited",
        Finding::Missing { .. } => "missing",
        Finding::Obsolete { .. } => "obsolete",
        Finding::Foreign { .. } => "not kiln's",
        Finding::Unfinished { .. } => "unfinished",
    }
}

/// `2 stale, 1 hand-edited`.
fn tally(findings: &[Finding]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for f in findings {
        match counts.iter_mut().find(|(k, _)| *k == kind(f)) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind(f), 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one thing to do next, given everything found.
fn next_step(findings: &[Finding], lint_errors: bool) -> Option<String> {
    if lint_errors {
        return Some(
            "fix the lint errors above (or waive them with a reason), then run `kiln build`"
                .to_owned(),
        );
    }
    let edited = findings
        .iter()
        .filter(|f| matches!(f, Finding::HandEdited { .. }))
        .count();
    let foreign = findings
        .iter()
        .filter(|f| matches!(f, Finding::Foreign { .. }))
        .count();
    Some(match (edited, foreign) {
        (0, 0) => "run `kiln build` and commit out/".to_owned(),
        (0, _) => "move the files kiln did not write out of its way (or `kiln build --force`), then commit out/".to_owned(),
        (_, _) => "carry the hand edits over into environments/ (a build overwrites them), run `kiln build`, and commit out/".to_owned(),
    })
}

/// A finding as a diagnostic that says what to do.
fn explain(f: &Finding, lock_missing: bool) -> Diagnostic {
    let path = format!("out/{}", f.path());
    match f {
        Finding::Stale { actual, expected, .. } => {
            Diagnostic::error(checks::STALE_OUTPUT, format!("{path} is stale: the model changed since it was built"))
                .help("run `kiln build`; what changes:")
                .help(diff(actual, expected))
        }
        Finding::HandEdited { actual, expected, .. } => Diagnostic::error(
            checks::HAND_EDITED,
            format!("{path} was edited by hand; kiln would write something else"),
        )
        .help("change the model instead and run `kiln build` (which overwrites the edit); the edit against what kiln would write:")
        .help(diff(actual, expected)),
        Finding::Missing { deleted: true, .. } => Diagnostic::error(
            checks::MISSING_OUTPUT,
            format!("{path} is missing: kiln wrote it, and it was deleted since"),
        )
        .help("run `kiln build` to write it again; to stop generating it, change the model"),
        Finding::Missing { deleted: false, .. } => Diagnostic::error(
            checks::MISSING_OUTPUT,
            format!("{path} is missing: the model now generates it"),
        )
        .help("run `kiln build`"),
        Finding::Obsolete { .. } => Diagnostic::error(
            checks::STALE_OUTPUT,
            format!("{path} is no longer generated by the model"),
        )
        .help("run `kiln build`, which deletes it"),
        Finding::Unfinished { .. } => Diagnostic::error(
            checks::STALE_OUTPUT,
            format!("{path} shows that a build did not finish"),
        )
        .help("run `kiln build`, which completes it"),
        Finding::Foreign { actual, expected, .. } => {
            let d = Diagnostic::error(
                checks::UNEXPECTED_OUTPUT,
                format!("{path} was not written by kiln, but kiln writes a file there"),
            );
            let d = if lock_missing {
                d.help("out/kiln.lock is missing, so kiln cannot tell which files it wrote; if this is kiln's output, `kiln build --force` rewrites it and the lock")
            } else {
                d.help("move the file away, or run `kiln build --force` to replace it")
            };
            d.help("the file against what kiln would write:")
                .help(diff(actual, expected))
        }
    }
}

fn diff(actual: &[u8], expected: &[u8]) -> String {
    let a = String::from_utf8_lossy(actual);
    let b = String::from_utf8_lossy(expected);
    let text = similar::TextDiff::from_lines(a.as_ref(), b.as_ref())
        .unified_diff()
        .context_radius(2)
        .header("on disk", "kiln build")
        .to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    let more = lines.len().saturating_sub(DIFF_LINES);
    lines.truncate(DIFF_LINES);
    let mut out = lines.join("\n");
    if more > 0 {
        out.push_str(&format!("\n... {more} more lines"));
    }
    out
}
