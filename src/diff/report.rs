//! A [`Report`] (one or more [`Comparison`]s) printed three ways: for a person in a
//! terminal ([`human`]), as a merge-request comment ([`markdown`]: counts first, every
//! group in a collapsed `<details>`, long lists cut to stay under comment limits), and
//! as one JSON document ([`json()`]).

use super::normalize::Rule;
use super::{Change, Comparison, ResourceDiff, ResourceId, Shown, Status};
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

/// What was compared.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Two environments of the working tree's model.
    Environments {
        /// The first (A).
        a: String,
        /// The second (B).
        b: String,
    },
    /// The model at a git revision (A) and in the working tree (B).
    Revision {
        /// The revision as given.
        rev: String,
        /// Its commit id.
        commit: String,
    },
}

/// Whether a section's environment exists on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    /// On both.
    Both,
    /// Only at the revision: the change removes the environment.
    OnlyA,
    /// Only in the working tree: the change adds it.
    OnlyB,
}

/// One compared group: an environment (revision diffs), the files shared by every
/// environment, or the whole of a two-environment diff.
#[derive(Clone, Debug)]
pub struct Section {
    /// The environment; `None` for a two-environment diff's single section and for the
    /// shared files of a revision diff (see [`Section::shared`]).
    pub env: Option<String>,
    /// Files every environment shares (revision diffs).
    pub shared: bool,
    /// Whether the environment exists on both sides.
    pub presence: Presence,
    /// What differs.
    pub comparison: Comparison,
}

/// Everything `kiln diff` found.
#[derive(Clone, Debug)]
pub struct Report {
    /// What was compared.
    pub kind: Kind,
    /// The rewriting applied before comparing (two-environment diffs).
    pub normalized: Vec<Rule>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

impl Report {
    /// Whether anything differs.
    pub fn has_differences(&self) -> bool {
        self.sections
            .iter()
            .any(|s| !s.comparison.is_empty() || s.presence != Presence::Both)
    }

    /// The names of the two sides.
    pub fn sides(&self) -> (String, String) {
        match &self.kind {
            Kind::Environments { a, b } => (a.clone(), b.clone()),
            Kind::Revision { rev, .. } => (rev.clone(), "working tree".to_owned()),
        }
    }

    fn status_word(&self, status: Status) -> String {
        let (a, b) = self.sides();
        match (&self.kind, status) {
            (_, Status::Changed) => "changed".to_owned(),
            (Kind::Environments { .. }, Status::OnlyA) => format!("only in {a}"),
            (Kind::Environments { .. }, Status::OnlyB) => format!("only in {b}"),
            (Kind::Revision { .. }, Status::OnlyA) => "removed".to_owned(),
            (Kind::Revision { .. }, Status::OnlyB) => "added".to_owned(),
        }
    }

    /// `2 only in prod, 4 changed, 9 identical`; statuses with no resource are left out.
    fn counts(&self, c: &Comparison) -> String {
        let mut parts = Vec::new();
        for status in self.order() {
            let n = c.count(status);
            if n > 0 {
                parts.push(format!("{n} {}", self.status_word(status)));
            }
        }
        parts.push(format!("{} identical", c.identical));
        parts.join(", ")
    }

    /// The order statuses are listed in: what B adds first.
    fn order(&self) -> [Status; 3] {
        [Status::OnlyB, Status::OnlyA, Status::Changed]
    }

    fn total(&self) -> Comparison {
        let mut total = Comparison::default();
        for s in &self.sections {
            total
                .resources
                .extend(s.comparison.resources.iter().cloned());
            total.identical += s.comparison.identical;
        }
        total
    }

    fn headline(&self) -> String {
        match &self.kind {
            Kind::Environments { a, b } => format!("kiln diff {a} {b}"),
            Kind::Revision { rev, commit } => {
                format!("kiln diff --against {rev} ({})", short_commit(commit))
            }
        }
    }

    fn section_title(&self, s: &Section) -> Option<String> {
        if s.shared {
            return Some("files shared by every environment".to_owned());
        }
        let env = s.env.as_ref()?;
        Some(match s.presence {
            Presence::Both => format!("environment {env}"),
            Presence::OnlyA => format!("environment {env} (removed)"),
            Presence::OnlyB => format!("environment {env} (new)"),
        })
    }
}

fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Resources grouped by target and place, in order.
fn groups(resources: &[ResourceDiff]) -> Vec<(String, Vec<&ResourceDiff>)> {
    let mut out: Vec<(String, Vec<&ResourceDiff>)> = Vec::new();
    for r in resources {
        let title = group_title(&r.id);
        match out.last_mut() {
            Some((t, items)) if *t == title => items.push(r),
            _ => out.push((title, vec![r])),
        }
    }
    out
}

fn group_title(id: &ResourceId) -> String {
    match &id.scope {
        Some(scope) => format!("{} · {scope}", id.target),
        None => id.target.clone(),
    }
}

/// Namespace rules listed by name before the rest are counted.
const NAMESPACE_RULES_SHOWN: usize = 3;

/// `dev, prod → ${env}; dev.example.com, example.com → ${domain}; shop-dev, shop-prod →
/// shop-${env}`, with namespaces beyond a few counted rather than listed.
fn rules_line(rules: &[Rule]) -> Option<String> {
    if rules.is_empty() {
        return None;
    }
    let mut by_placeholder: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in rules {
        match by_placeholder.iter_mut().find(|(p, _)| *p == r.placeholder) {
            Some((_, literals)) => literals.push(&r.literal),
            None => by_placeholder.push((&r.placeholder, vec![&r.literal])),
        }
    }
    // The environment and domain first, then namespaces by name.
    by_placeholder.sort_by_key(|(p, _)| (!matches!(*p, "${env}" | "${domain}"), *p));
    let namespaces = by_placeholder
        .iter()
        .filter(|(p, _)| !matches!(*p, "${env}" | "${domain}"))
        .count();
    let mut parts: Vec<String> = Vec::new();
    let mut shown_namespaces = 0;
    for (placeholder, literals) in &by_placeholder {
        let is_namespace = !matches!(*placeholder, "${env}" | "${domain}");
        if is_namespace
            && namespaces > NAMESPACE_RULES_SHOWN
            && shown_namespaces == NAMESPACE_RULES_SHOWN - 1
        {
            parts.push(format!(
                "{} more namespaces by the `environment.namespaces` pattern",
                namespaces - shown_namespaces
            ));
            break;
        }
        shown_namespaces += usize::from(is_namespace);
        let mut literals = literals.clone();
        literals.sort();
        parts.push(format!("{} → {placeholder}", literals.join(", ")));
    }
    Some(parts.join("; "))
}

// ---------------------------------------------------------------------------------
// human

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
    fn fg(&self, c: AnsiColor, text: &str) -> String {
        self.paint(Style::new().fg_color(Some(c.into())), text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }
}

fn marker(status: Status) -> (&'static str, AnsiColor) {
    match status {
        Status::OnlyA => ("-", AnsiColor::Red),
        Status::OnlyB => ("+", AnsiColor::Green),
        Status::Changed => ("~", AnsiColor::Yellow),
    }
}

/// Compact one-line form of a value.
fn compact(v: Option<&Shown>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(Shown::Secret) => "(secret)".to_owned(),
        Some(Shown::Value(v)) => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn multiline(v: Option<&Shown>) -> Option<&str> {
    match v {
        Some(Shown::Value(Value::String(s))) if s.contains('\n') => Some(s),
        _ => None,
    }
}

/// The report for a terminal; colours only when `color`.
pub fn human(report: &Report, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    let total = report.total();
    let _ = write!(out, "{}: ", p.bold(&report.headline()));
    if report.has_differences() {
        out.push_str(&report.counts(&total));
    } else {
        let _ = write!(out, "no differences ({} identical)", total.identical);
    }
    out.push('\n');
    if let Some(rules) = rules_line(&report.normalized) {
        let _ = writeln!(
            out,
            "{}",
            p.dim(&format!("rewritten before comparing: {rules}"))
        );
    }
    let (a, b) = report.sides();
    let width = a.len().max(b.len()) + 1;
    for section in &report.sections {
        let indent = if section.env.is_some() || section.shared {
            "  "
        } else {
            ""
        };
        if let Some(title) = report.section_title(section) {
            let c = &section.comparison;
            let counts = if c.is_empty() {
                "no differences".to_owned()
            } else {
                report.counts(c)
            };
            let _ = write!(out, "\n{}: {counts}\n", p.bold(&title));
        }
        for (group, items) in groups(&section.comparison.resources) {
            let _ = writeln!(out, "\n{indent}{}", p.bold(&group));
            for r in items {
                let (sign, colour) = marker(r.status);
                let _ = write!(out, "{indent}  {} {}", p.fg(colour, sign), r.id.title());
                if r.status != Status::Changed {
                    let _ = write!(
                        out,
                        "  {}",
                        p.dim(&format!("({})", report.status_word(r.status)))
                    );
                }
                out.push('\n');
                for change in &r.changes {
                    human_change(&mut out, &p, change, indent, (&a, &b), width);
                }
                if let Some(u) = &r.unified {
                    for line in u.lines() {
                        let styled = match line.chars().next() {
                            Some('+') if !line.starts_with("+++") => p.fg(AnsiColor::Green, line),
                            Some('-') if !line.starts_with("---") => p.fg(AnsiColor::Red, line),
                            Some('@') => p.fg(AnsiColor::Cyan, line),
                            _ => line.to_owned(),
                        };
                        let _ = writeln!(out, "{indent}      {styled}");
                    }
                }
            }
        }
    }
    out
}

fn human_change(
    out: &mut String,
    p: &Paint,
    c: &Change,
    indent: &str,
    (a, b): (&str, &str),
    width: usize,
) {
    let pad = format!("{indent}      ");
    if multiline(c.a.as_ref()).is_some() || multiline(c.b.as_ref()).is_some() {
        let _ = writeln!(out, "{pad}{}", p.fg(AnsiColor::Cyan, &c.path));
        let text = |v: Option<&Shown>| match v {
            Some(Shown::Value(Value::String(s))) => s.clone(),
            None => String::new(),
            other => format!("{}\n", compact(other)),
        };
        for line in text(c.a.as_ref()).lines() {
            let _ = writeln!(out, "{pad}  {}", p.fg(AnsiColor::Red, &format!("- {line}")));
        }
        for line in text(c.b.as_ref()).lines() {
            let _ = writeln!(
                out,
                "{pad}  {}",
                p.fg(AnsiColor::Green, &format!("+ {line}"))
            );
        }
        return;
    }
    if c.a == Some(Shown::Secret) && c.b == Some(Shown::Secret) {
        let _ = writeln!(
            out,
            "{pad}{}: {}",
            p.fg(AnsiColor::Cyan, &c.path),
            p.dim("secret value changed (not shown)")
        );
        return;
    }
    let (x, y) = (compact(c.a.as_ref()), compact(c.b.as_ref()));
    if c.path.len() + x.len() + y.len() <= 90 {
        let _ = writeln!(
            out,
            "{pad}{}: {} → {}",
            p.fg(AnsiColor::Cyan, &c.path),
            p.fg(AnsiColor::Red, &x),
            p.fg(AnsiColor::Green, &y)
        );
    } else {
        let _ = writeln!(out, "{pad}{}", p.fg(AnsiColor::Cyan, &c.path));
        let _ = writeln!(
            out,
            "{pad}  {:width$} {}",
            format!("{a}:"),
            p.fg(AnsiColor::Red, &x)
        );
        let _ = writeln!(
            out,
            "{pad}  {:width$} {}",
            format!("{b}:"),
            p.fg(AnsiColor::Green, &y)
        );
    }
}

// ---------------------------------------------------------------------------------
// markdown

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

// ---------------------------------------------------------------------------------
// json

// The JSON document's types. Fields are declared in alphabetical order, the order
// the document has always had (its keys were once a sorted map).

/// The whole document: `a`/`b` name the sides; a two-environment report has
/// `normalized` and `resources`, a revision report `commit` and `sections`.
#[derive(Serialize)]
struct JsonReport<'a> {
    a: String,
    b: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    differences: bool,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<&'a [Rule]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Vec<JsonResource<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sections: Option<Vec<JsonSection<'a>>>,
    summary: JsonSummary,
}

/// One section of a revision report.
#[derive(Serialize)]
struct JsonSection<'a> {
    environment: Option<&'a str>,
    presence: Presence,
    resources: Vec<JsonResource<'a>>,
    shared: bool,
    summary: JsonSummary,
}

/// How many resources have each status.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    changed: usize,
    identical: usize,
    only_a: usize,
    only_b: usize,
}

impl JsonSummary {
    fn of(c: &Comparison) -> Self {
        JsonSummary {
            changed: c.count(Status::Changed),
            identical: c.identical,
            only_a: c.count(Status::OnlyA),
            only_b: c.count(Status::OnlyB),
        }
    }
}

/// One resource: its id's fields, its status, and its changes when it changed.
#[derive(Serialize)]
struct JsonResource<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<Vec<JsonChange<'a>>>,
    kind: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    status: Status,
    target: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unified: Option<&'a str>,
}

impl<'a> JsonResource<'a> {
    fn of(r: &'a ResourceDiff) -> Self {
        JsonResource {
            changes: (r.status == Status::Changed)
                .then(|| r.changes.iter().map(JsonChange::of).collect()),
            kind: &r.id.kind,
            name: &r.id.name,
            namespace: r.id.namespace.as_deref(),
            scope: r.id.scope.as_deref(),
            status: r.status,
            target: &r.id.target,
            unified: r.unified.as_deref(),
        }
    }

    fn all(c: &'a Comparison) -> Vec<Self> {
        c.resources.iter().map(JsonResource::of).collect()
    }
}

/// One changed field: a side's value when the field exists there, `"(secret)"` with
/// `"secret": true` for secret values.
#[derive(Serialize)]
struct JsonChange<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<JsonSide<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<JsonSide<'a>>,
    path: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    secret: bool,
}

/// A side's value, or the word that stands for a secret one.
#[derive(Serialize)]
#[serde(untagged)]
enum JsonSide<'a> {
    Value(&'a Value),
    Secret(&'static str),
}

impl<'a> JsonChange<'a> {
    fn of(c: &'a Change) -> Self {
        let side = |v: &'a Option<Shown>| match v {
            None => None,
            Some(Shown::Secret) => Some(JsonSide::Secret("(secret)")),
            Some(Shown::Value(v)) => Some(JsonSide::Value(v)),
        };
        JsonChange {
            a: side(&c.a),
            b: side(&c.b),
            path: &c.path,
            secret: c.a == Some(Shown::Secret) || c.b == Some(Shown::Secret),
        }
    }
}

/// The report as one JSON document (pretty-printed, with a trailing newline).
///
/// `a` and `b` name the sides; each changed field has `path`, and `a`/`b` when the
/// field exists on that side; secret values read `"(secret)"` with `"secret": true`.
pub fn json(report: &Report) -> String {
    let (a, b) = report.sides();
    let mut doc = JsonReport {
        a,
        b,
        commit: None,
        differences: report.has_differences(),
        kind: "environments",
        normalized: None,
        resources: None,
        sections: None,
        summary: JsonSummary::of(&report.total()),
    };
    match &report.kind {
        Kind::Environments { .. } => {
            doc.normalized = Some(&report.normalized);
            doc.resources = Some(
                report
                    .sections
                    .first()
                    .map_or_else(Vec::new, |s| JsonResource::all(&s.comparison)),
            );
        }
        Kind::Revision { commit, .. } => {
            doc.kind = "revision";
            doc.commit = Some(commit);
            doc.sections = Some(
                report
                    .sections
                    .iter()
                    .map(|s| JsonSection {
                        environment: s.env.as_deref(),
                        presence: s.presence,
                        resources: JsonResource::all(&s.comparison),
                        shared: s.shared,
                        summary: JsonSummary::of(&s.comparison),
                    })
                    .collect(),
            );
        }
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changed(i: usize) -> ResourceDiff {
        ResourceDiff {
            id: ResourceId {
                target: "kubernetes".into(),
                scope: Some("lab".into()),
                kind: "Deployment".into(),
                namespace: Some("shop-${env}".into()),
                name: format!("app{i:04}"),
            },
            status: Status::Changed,
            changes: vec![Change {
                path: "spec.replicas".into(),
                a: Some(Shown::Value(json!(1))),
                b: Some(Shown::Value(json!(2))),
            }],
            unified: None,
        }
    }

    fn report(resources: Vec<ResourceDiff>) -> Report {
        Report {
            kind: Kind::Environments {
                a: "dev".into(),
                b: "prod".into(),
            },
            normalized: Vec::new(),
            sections: vec![Section {
                env: None,
                shared: false,
                presence: Presence::Both,
                comparison: Comparison {
                    resources,
                    identical: 7,
                },
            }],
        }
    }

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

    /// A revision report with every kind of section, presence and change, as JSON:
    /// pinned byte for byte (the two-environment form is pinned by tests/reference/).
    #[test]
    fn revision_json_is_pinned() {
        let mut secret = changed(2);
        secret.changes = vec![
            Change {
                path: "data.password".into(),
                a: Some(Shown::Secret),
                b: Some(Shown::Secret),
            },
            Change {
                path: "data.extra".into(),
                a: None,
                b: Some(Shown::Value(json!({"z": 1, "a": [true, null]}))),
            },
        ];
        secret.unified = Some("--- a\n+++ b\n".into());
        let mut added = changed(3);
        added.status = Status::OnlyB;
        added.changes.clear();
        added.id.scope = None;
        added.id.namespace = None;
        let section = |env: Option<&str>, shared, presence, resources| Section {
            env: env.map(str::to_owned),
            shared,
            presence,
            comparison: Comparison {
                resources,
                identical: 2,
            },
        };
        let r = Report {
            kind: Kind::Revision {
                rev: "main".into(),
                commit: "abc1234".into(),
            },
            normalized: Vec::new(),
            sections: vec![
                section(Some("dev"), false, Presence::Both, vec![changed(1), secret]),
                section(Some("new"), false, Presence::OnlyB, vec![added]),
                section(Some("old"), false, Presence::OnlyA, vec![]),
                section(None, true, Presence::Both, vec![]),
            ],
        };
        assert_eq!(json(&r), PINNED_REVISION_JSON);
    }

    const PINNED_REVISION_JSON: &str = r#"{
  "a": "main",
  "b": "working tree",
  "commit": "abc1234",
  "differences": true,
  "kind": "revision",
  "sections": [
    {
      "environment": "dev",
      "presence": "both",
      "resources": [
        {
          "changes": [
            {
              "a": 1,
              "b": 2,
              "path": "spec.replicas"
            }
          ],
          "kind": "Deployment",
          "name": "app0001",
          "namespace": "shop-${env}",
          "scope": "lab",
          "status": "changed",
          "target": "kubernetes"
        },
        {
          "changes": [
            {
              "a": "(secret)",
              "b": "(secret)",
              "path": "data.password",
              "secret": true
            },
            {
              "b": {
                "a": [
                  true,
                  null
                ],
                "z": 1
              },
              "path": "data.extra"
            }
          ],
          "kind": "Deployment",
          "name": "app0002",
          "namespace": "shop-${env}",
          "scope": "lab",
          "status": "changed",
          "target": "kubernetes",
          "unified": "--- a\n+++ b\n"
        }
      ],
      "shared": false,
      "summary": {
        "changed": 2,
        "identical": 2,
        "onlyA": 0,
        "onlyB": 0
      }
    },
    {
      "environment": "new",
      "presence": "onlyB",
      "resources": [
        {
          "kind": "Deployment",
          "name": "app0003",
          "status": "onlyB",
          "target": "kubernetes"
        }
      ],
      "shared": false,
      "summary": {
        "changed": 0,
        "identical": 2,
        "onlyA": 0,
        "onlyB": 1
      }
    },
    {
      "environment": "old",
      "presence": "onlyA",
      "resources": [],
      "shared": false,
      "summary": {
        "changed": 0,
        "identical": 2,
        "onlyA": 0,
        "onlyB": 0
      }
    },
    {
      "environment": null,
      "presence": "both",
      "resources": [],
      "shared": true,
      "summary": {
        "changed": 0,
        "identical": 2,
        "onlyA": 0,
        "onlyB": 0
      }
    }
  ],
  "summary": {
    "changed": 2,
    "identical": 8,
    "onlyA": 0,
    "onlyB": 1
  }
}
"#;

    #[test]
    fn many_namespace_rules_are_counted_not_listed() {
        let rule = |l: &str, p: &str| Rule {
            literal: l.into(),
            placeholder: p.into(),
        };
        let mut rules = vec![rule("dev", "${env}"), rule("prod", "${env}")];
        for i in 0..10 {
            rules.push(rule(&format!("t{i}-dev"), &format!("t{i}-${{env}}")));
        }
        let line = rules_line(&rules).unwrap();
        assert!(
            line.starts_with(
                "dev, prod → ${env}; t0-dev → t0-${env}; t1-dev → t1-${env}; 8 more namespaces"
            ),
            "{line}"
        );
    }
}
