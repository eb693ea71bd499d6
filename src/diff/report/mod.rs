//! A [`Report`] (one or more [`Comparison`]s) printed three ways, one file each: for a
//! person in a terminal ([`human()`], `human.rs`), as a merge-request comment
//! ([`markdown()`], `markdown.rs`: counts first, every group in a collapsed
//! `<details>`, long lists cut to stay under comment limits, text as unified diffs),
//! and as one JSON document ([`json()`], `json.rs`). What they share (the report's
//! words, groups, the rewriting line) is here.

mod human;
mod json;
mod markdown;

pub use human::human;
pub use json::json;
pub use markdown::markdown;

use super::normalize::Rule;
use super::{Comparison, ResourceDiff, ResourceId, Shown, Status};
use serde::Serialize;
use serde_json::Value;

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

/// The text of a value that spans lines (shown as lines, not as one JSON string).
fn multiline(v: Option<&Shown>) -> Option<&str> {
    match v {
        Some(Shown::Value(Value::String(s))) if s.contains('\n') => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Change;
    use serde_json::json;

    /// A changed Deployment `app<i>`: `spec.replicas` 1 → 2.
    pub(super) fn changed(i: usize) -> ResourceDiff {
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

    /// A two-environment report (dev → prod) of `resources`, 7 identical.
    pub(super) fn report(resources: Vec<ResourceDiff>) -> Report {
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
