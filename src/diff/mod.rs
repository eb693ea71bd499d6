//! `kiln diff`: what differs between two sets of resolved resources ([`Resource`]s,
//! see [`crate::render::Target::resources`]), resource by resource, then field by
//! field.
//!
//! Two environments of one model (`kiln diff dev prod`) are compared after
//! [`normalize`]: resources are matched by target, place, kind, namespace and name with
//! the environment's part rewritten, and values that differ only by it are equal. One
//! environment at two revisions (`kiln diff --against main`) is compared as is.
//! The result is a [`report::Report`]; [`report`] prints it for people, Markdown or
//! JSON, one file per renderer.

mod fields;
pub mod normalize;
pub mod report;

pub use normalize::Normalizer;

use crate::render::{Content, Resource};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How one resource differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Only the A side has it (the first environment, or the revision).
    OnlyA,
    /// Only the B side has it (the second environment, or the working tree).
    OnlyB,
    /// Both have it, with different content.
    Changed,
}

/// A value as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    /// The value.
    Value(Value),
    /// A secret value, never shown.
    Secret,
}

/// One changed field (structured resources) or one changed stretch of lines (text).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// `spec.template.spec.containers[web].image`, or `lines 3-4` in text.
    pub path: String,
    /// The A side's value; `None` when the field is absent there.
    pub a: Option<Shown>,
    /// The B side's value; `None` when the field is absent there.
    pub b: Option<Shown>,
}

/// How a resource is named in a report (after rewriting, for two environments).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ResourceId {
    /// The target that produced it.
    pub target: String,
    /// The cluster or host it lives on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Kubernetes kind, or `file`.
    pub kind: String,
    /// Namespace of a namespaced object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name or file path.
    pub name: String,
}

impl ResourceId {
    /// The id of `r`, rewritten with `norm`.
    pub fn of(r: &Resource, norm: &Normalizer) -> ResourceId {
        let text = |s: &str| norm.text(s).into_owned();
        ResourceId {
            target: r.target.to_owned(),
            scope: r.scope.as_deref().map(text),
            kind: r.kind.clone(),
            namespace: r.namespace.as_deref().map(text),
            name: text(&r.name),
        }
    }

    /// `Deployment shop-${env}/web`, or the file's path.
    pub fn title(&self) -> String {
        match &self.namespace {
            _ if self.kind == "file" => self.name.clone(),
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// One resource that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDiff {
    /// Which resource.
    pub id: ResourceId,
    /// How it differs.
    pub status: Status,
    /// The changed fields (empty unless [`Status::Changed`]).
    pub changes: Vec<Change>,
    /// A unified diff of the whole resource, when asked for.
    pub unified: Option<String>,
}

/// The comparison of two sets of resources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// The resources that differ, sorted.
    pub resources: Vec<ResourceDiff>,
    /// How many resources are the same on both sides.
    pub identical: usize,
}

impl Comparison {
    /// How many resources have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.resources.iter().filter(|r| r.status == status).count()
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// Options of a comparison.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// The rewriting applied before matching and comparing.
    pub norm: &'a Normalizer,
    /// Add a unified diff of each changed resource, labelled with these names.
    pub unified: Option<(&'a str, &'a str)>,
}

/// Compares two sets of resources.
pub fn compare(a: &[Resource], b: &[Resource], opts: &Options<'_>) -> Comparison {
    let norm = opts.norm;
    let mut sides: BTreeMap<ResourceId, (Vec<&Resource>, Vec<&Resource>)> = BTreeMap::new();
    for r in a {
        sides.entry(ResourceId::of(r, norm)).or_default().0.push(r);
    }
    for r in b {
        sides.entry(ResourceId::of(r, norm)).or_default().1.push(r);
    }
    let mut out = Comparison::default();
    for (id, (xs, ys)) in sides {
        // Two resources with one name on one side (which a valid model does not make)
        // are paired in order.
        for i in 0..xs.len().max(ys.len()) {
            let (status, changes, unified) = match (xs.get(i), ys.get(i)) {
                (Some(x), Some(y)) => {
                    let changes = content_changes(&x.content, &y.content, norm);
                    if changes.is_empty() {
                        out.identical += 1;
                        continue;
                    }
                    let unified = opts
                        .unified
                        .map(|labels| unified(&x.content, &y.content, norm, labels));
                    (Status::Changed, changes, unified)
                }
                (Some(_), None) => (Status::OnlyA, Vec::new(), None),
                (None, Some(_)) => (Status::OnlyB, Vec::new(), None),
                (None, None) => continue,
            };
            out.resources.push(ResourceDiff {
                id: id.clone(),
                status,
                changes,
                unified,
            });
        }
    }
    out
}

fn content_changes(a: &Content, b: &Content, norm: &Normalizer) -> Vec<Change> {
    match (a, b) {
        (Content::Data(x), Content::Data(y)) => fields::changes(x, y, norm),
        _ => text_changes(&as_text(a), &as_text(b), norm),
    }
}

fn as_text(c: &Content) -> String {
    match c {
        Content::Text(t) => t.clone(),
        Content::Data(v) => crate::yaml::write::to_string(v),
    }
}

/// Changed stretches of lines, compared after rewriting.
fn text_changes(a: &str, b: &str, norm: &Normalizer) -> Vec<Change> {
    let (x, y) = (norm.text(a), norm.text(b));
    let diff = similar::TextDiff::from_lines(x.as_ref(), y.as_ref());
    let mut out = Vec::new();
    for group in diff.grouped_ops(0) {
        let (mut old, mut new) = (String::new(), String::new());
        let mut first = None;
        let mut last = 0;
        for op in &group {
            for change in diff.iter_changes(op) {
                match change.tag() {
                    similar::ChangeTag::Delete => old.push_str(change.value()),
                    similar::ChangeTag::Insert => new.push_str(change.value()),
                    similar::ChangeTag::Equal => continue,
                }
                let line = change.old_index().or(change.new_index()).unwrap_or(0) + 1;
                first.get_or_insert(line);
                last = line;
            }
        }
        let Some(first) = first else { continue };
        let shown = |s: String| (!s.is_empty()).then_some(Shown::Value(Value::String(s)));
        out.push(Change {
            path: if first == last {
                format!("line {first}")
            } else {
                format!("lines {first}-{last}")
            },
            a: shown(old),
            b: shown(new),
        });
    }
    out
}

fn unified(a: &Content, b: &Content, norm: &Normalizer, (la, lb): (&str, &str)) -> String {
    let (x, y) = match (a, b) {
        (Content::Data(x), Content::Data(y)) => {
            let (x, y) = fields::redacted(x, y, norm);
            (
                crate::yaml::write::to_string(&x),
                crate::yaml::write::to_string(&y),
            )
        }
        _ => (
            norm.text(&as_text(a)).into_owned(),
            norm.text(&as_text(b)).into_owned(),
        ),
    };
    similar::TextDiff::from_lines(&x, &y)
        .unified_diff()
        .context_radius(3)
        .header(la, lb)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, ns: &str, name: &str, spec: Value) -> Resource {
        Resource::object(
            "kubernetes",
            Some("c"),
            json!({"apiVersion": "v1", "kind": kind,
                "metadata": {"name": name, "namespace": ns}, "spec": spec}),
        )
    }

    #[test]
    fn resources_are_matched_across_environments_and_compared_field_by_field() {
        let norm = Normalizer::from_rules(vec![
            normalize::Rule {
                literal: "shop-dev".into(),
                placeholder: "shop-${env}".into(),
            },
            normalize::Rule {
                literal: "shop-prod".into(),
                placeholder: "shop-${env}".into(),
            },
        ]);
        let a = [
            object("Deployment", "shop-dev", "web", json!({"replicas": 1})),
            object("Service", "shop-dev", "web", json!({"port": 80})),
            object("Job", "shop-dev", "seed", json!({})),
        ];
        let b = [
            object("Deployment", "shop-prod", "web", json!({"replicas": 2})),
            object("Service", "shop-prod", "web", json!({"port": 80})),
            object("CronJob", "shop-prod", "backup", json!({})),
        ];
        let c = compare(
            &a,
            &b,
            &Options {
                norm: &norm,
                unified: Some(("dev", "prod")),
            },
        );
        assert_eq!(c.identical, 1);
        let got: Vec<(String, Status)> = c
            .resources
            .iter()
            .map(|r| (r.id.title(), r.status))
            .collect();
        assert_eq!(
            got,
            [
                ("CronJob shop-${env}/backup".to_owned(), Status::OnlyB),
                ("Deployment shop-${env}/web".to_owned(), Status::Changed),
                ("Job shop-${env}/seed".to_owned(), Status::OnlyA),
            ]
        );
        let deployment = &c.resources[1];
        assert_eq!(
            deployment.changes,
            [Change {
                path: "spec.replicas".into(),
                a: Some(Shown::Value(json!(1))),
                b: Some(Shown::Value(json!(2))),
            }]
        );
        let unified = deployment.unified.as_deref().unwrap();
        assert!(
            unified.contains("-  replicas: 1\n+  replicas: 2"),
            "{unified}"
        );
        assert!(unified.contains(" namespace: shop-${env}"), "{unified}");
    }

    #[test]
    fn text_resources_report_changed_lines() {
        let changes = text_changes("a\nb\nc\n", "a\nB\nc\nd\n", &Normalizer::none());
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["line 2", "line 4"]);
        assert_eq!(changes[1].a, None);
        assert_eq!(changes[1].b, Some(Shown::Value(json!("d\n"))));
    }
}
