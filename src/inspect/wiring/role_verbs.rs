//! Deploy steps → Role verbs: the Role of an app's deploy job grants every verb the
//! job's steps need.

use super::{Points, Wire, name, objects_of};
use crate::inspect::lint::LintContext;
use std::collections::BTreeSet;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "deploy steps → Role verbs",
    check,
};

/// The strings of a list field of a Role rule.
fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect()
}

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    use crate::render::kubernetes::rbac::{rules, steps_for};
    for o in objects_of(cx, "Role") {
        let Some(app_name) = &o.provenance.app else {
            continue;
        };
        let Some(app) = cx.project.environments.iter().find_map(|e| {
            e.model
                .apps
                .get(app_name.as_str())
                .filter(|a| a.deploy.is_some())
        }) else {
            continue;
        };
        let steps = steps_for(app);
        let mut granted: BTreeSet<(String, String, String)> = BTreeSet::new();
        for r in o.value["rules"].as_array().into_iter().flatten() {
            let (groups, resources, verbs) = (
                strings(&r["apiGroups"]),
                strings(&r["resources"]),
                strings(&r["verbs"]),
            );
            for g in &groups {
                for res in &resources {
                    for v in &verbs {
                        granted.insert((g.clone(), res.clone(), v.clone()));
                    }
                }
            }
        }
        for rule in rules(&steps, app.kind) {
            for g in rule.api_groups.iter().flatten() {
                for res in rule.resources.iter().flatten() {
                    for v in &rule.verbs {
                        points.expect(cx, granted.contains(&(g.clone(), res.clone(), v.clone())), &o.path, || {
                            format!("the deploy job needs `{v}` on `{res}`, which Role `{}` does not grant", name(&o.value))
                        });
                    }
                }
            }
        }
    }
}
