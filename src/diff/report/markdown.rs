//! The report as a merge-request comment (GitHub and GitLab flavours): counts first,
//! every group in a collapsed `<details>`, text changes as unified diffs, long lists
//! cut to stay under comment limits.

use super::{Kind, Presence, Report, groups, multiline, rules_line, short_commit};
use crate::diff::{ResourceDiff, Shown, Status};
use serde_json::Value;
use std::fmt::Write;

/// Rows of fields shown per resource before the rest is summarised.
const MD_MAX_FIELDS: usize = 40;
/// Past this many bytes, further resources are only counted: comment bodies are
/// limited (GitHub: 65,536 characters; GitLab: 1,000,000). One resource's details
/// stay under the rest of the limit ([`MD_MAX_FIELDS`] rows, a unified diff aside).
const MD_BUDGET: usize = 50_000;

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "&#124;")
        .replace('\n', "<br>")
}

fn code(text: &str) -> String {
    format!("<code>{}</code>", html(text))
}

fn md_value(v: Option<&Shown>) -> String {
    match v {
        None => "<i>absent</i>".to_owned(),
        Some(Shown::Secret) => "<i>secret</i>".to_owned(),
        Some(Shown::Value(Value::String(s))) => code(s),
        Some(Shown::Value(v)) => code(&serde_json::to_string(v).unwrap_or_default()),
    }
}

/// The report as a Markdown comment body (GitHub and GitLab flavours).
pub fn markdown(report: &Report) -> String {
    let (a, b) = report.sides();
    let total = report.total();
    let mut out = String::new();
    match &report.kind {
        Kind::Environments { a, b } => {
            let _ = writeln!(out, "### kiln diff `{a}` → `{b}`\n");
        }
        Kind::Revision { rev, commit } => {
            let _ = writeln!(
                out,
                "### kiln diff against `{rev}` (`{}`)\n",
                short_commit(commit)
            );
        }
    }
    if !report.has_differences() {
        let _ = writeln!(
            out,
            "No differences in the rendered output ({} resources identical).",
            total.identical
        );
        return out;
    }
    let _ = writeln!(out, "| | resources |\n|---|---:|");
    for status in report.order() {
        let _ = writeln!(
            out,
            "| {} | {} |",
            report.status_word(status),
            total.count(status)
        );
    }
    let _ = writeln!(out, "| identical | {} |", total.identical);
    if let Some(rules) = rules_line(&report.normalized) {
        let _ = writeln!(
            out,
            "\n<sub>Rewritten before comparing: {}.</sub>",
            html(&rules)
        );
    }
    let mut left_out = 0;
    for section in &report.sections {
        let c = &section.comparison;
        if c.is_empty() && section.presence == Presence::Both {
            if let Some(title) = report.section_title(section) {
                let _ = writeln!(out, "\n**{}**: no differences", html(&title));
            }
            continue;
        }
        let nested = report.section_title(section);
        if let Some(title) = &nested {
            let _ = writeln!(
                out,
                "\n<details>\n<summary><b>{}</b>: {}</summary>",
                html(title),
                report.counts(c)
            );
        }
        for (group, items) in groups(&c.resources) {
            let mut counts = Vec::new();
            for status in report.order() {
                let n = items.iter().filter(|r| r.status == status).count();
                if n > 0 {
                    counts.push(format!("{n} {}", report.status_word(status)));
                }
            }
            let _ = writeln!(
                out,
                "\n<details>\n<summary><b>{}</b>: {}</summary>\n",
                html(&group),
                counts.join(", ")
            );
            // Resources only on one side as a list, then each changed one collapsed;
            // past the budget, only counted.
            let mut skipped = 0;
            let mut listed = false;
            for r in items.iter().filter(|r| r.status != Status::Changed) {
                if out.len() > MD_BUDGET {
                    skipped += 1;
                    continue;
                }
                listed = true;
                let _ = writeln!(
                    out,
                    "- {} {} ({})",
                    if r.status == Status::OnlyB {
                        "➕"
                    } else {
                        "➖"
                    },
                    code(&r.id.title()),
                    report.status_word(r.status)
                );
            }
            if listed {
                out.push('\n');
            }
            for r in items.iter().filter(|r| r.status == Status::Changed) {
                if out.len() > MD_BUDGET {
                    skipped += 1;
                    continue;
                }
                md_resource(&mut out, r, (&a, &b));
            }
            if skipped > 0 {
                let _ = writeln!(
                    out,
                    "… and {skipped} more, left out to keep this comment short.\n"
                );
                left_out += skipped;
            }
            out.push_str("</details>\n");
        }
        if nested.is_some() {
            out.push_str("\n</details>\n");
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\n{left_out} resources are left out to keep this comment short; run `{}` for everything.",
            match &report.kind {
                Kind::Environments { a, b } => format!("kiln diff {a} {b}"),
                Kind::Revision { rev, .. } => format!("kiln diff --against {rev}"),
            }
        );
    }
    out
}

fn md_resource(out: &mut String, r: &ResourceDiff, (a, b): (&str, &str)) {
    let n = r.changes.len();
    let _ = writeln!(
        out,
        "<details>\n<summary>✏️ {} — {n} {}</summary>\n",
        code(&r.id.title()),
        if n == 1 { "change" } else { "changes" }
    );
    let text = r
        .changes
        .iter()
        .any(|c| multiline(c.a.as_ref()).is_some() || multiline(c.b.as_ref()).is_some());
    if text {
        out.push_str("```diff\n");
        for c in &r.changes {
            let _ = writeln!(out, "@@ {} @@", c.path);
            for (sign, v) in [('-', &c.a), ('+', &c.b)] {
                if let Some(Shown::Value(Value::String(s))) = v {
                    for line in s.lines() {
                        let _ = writeln!(out, "{sign}{line}");
                    }
                }
            }
        }
        out.push_str("```\n\n");
    } else {
        let _ = writeln!(out, "| field | {} | {} |\n|---|---|---|", html(a), html(b));
        for c in r.changes.iter().take(MD_MAX_FIELDS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code(&c.path),
                md_value(c.a.as_ref()),
                md_value(c.b.as_ref())
            );
        }
        if n > MD_MAX_FIELDS {
            let _ = writeln!(out, "| … {} more | | |", n - MD_MAX_FIELDS);
        }
        out.push('\n');
    }
    if let Some(u) = &r.unified {
        let fence = if u.contains("```") { "~~~~" } else { "```" };
        let _ = writeln!(out, "{fence}diff\n{u}{fence}\n");
    }
    out.push_str("</details>\n\n");
}

#[cfg(test)]
mod tests {
    use super::super::tests::{changed, report};
    use super::*;
    use serde_json::json;

    #[test]
    fn markdown_of_a_large_change_stays_under_comment_limits_and_says_what_it_left_out() {
        let big = report((0..3000).map(changed).collect());
        let text = markdown(&big);
        assert!(text.len() < 60_000, "{} bytes", text.len());
        assert!(text.contains("| changed | 3000 |"), "counts come first");
        assert!(text.contains(
            "resources are left out to keep this comment short; run `kiln diff dev prod`"
        ));
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count(),
            "collapsed sections are balanced"
        );
        let small = markdown(&report(vec![changed(1)]));
        assert!(!small.contains("left out"));
        assert!(small.contains("| <code>spec.replicas</code> | <code>1</code> | <code>2</code> |"));
    }

    #[test]
    fn markdown_escapes_what_would_break_a_table_or_html() {
        let mut r = changed(1);
        r.changes[0].b = Some(Shown::Value(json!("a|b <script>")));
        let text = markdown(&report(vec![r]));
        assert!(
            text.contains("<code>a&#124;b &lt;script&gt;</code>"),
            "{text}"
        );
    }
}
