//! The report as one JSON document.

use super::{Kind, Presence, Report};
use crate::diff::normalize::Rule;
use crate::diff::{Change, Comparison, ResourceDiff, Shown, Status};
use serde::Serialize;
use serde_json::Value;

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
    use super::super::Section;
    use super::super::tests::changed;
    use super::*;
    use serde_json::json;

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
}
