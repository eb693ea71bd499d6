//! Network policy → namespace and port: every endpoint a CiliumNetworkPolicy lets
//! traffic reach is an app that listens, in that namespace, on one of the ports.

use super::{Points, Wire, objects_of};
use crate::crd::cilium::{CiliumNetworkPolicy, NAMESPACE_LABEL};
use crate::inspect::lint::LintContext;
use crate::render::kubernetes::labels;
use std::collections::{BTreeMap, BTreeSet};

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "network policy → namespace and port",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    // (namespace, app) → the port the app listens on, over every environment (the
    // first environment's wins, as a search in environment order would find it).
    let mut listening: BTreeMap<(String, String), i64> = BTreeMap::new();
    for env in &cx.project.environments {
        for u in crate::model::placement::cluster_apps(env) {
            if u.host.is_none() {
                listening
                    .entry((u.namespace.to_string(), u.name.to_string()))
                    .or_insert(i64::from(u.app.http_port()));
            }
        }
    }
    for o in objects_of(cx, "CiliumNetworkPolicy") {
        let Some(policy) = CiliumNetworkPolicy::of(&o.value) else {
            points.broken(
                cx,
                &o.path,
                "is not a CiliumNetworkPolicy kiln can read".to_owned(),
            );
            continue;
        };
        for rule in &policy.spec.egress {
            let ports: BTreeSet<i64> = rule.port_numbers().map(i64::from).collect();
            for ep in &rule.to_endpoints {
                let label = |key: &str| {
                    ep.match_labels
                        .as_ref()
                        .and_then(|l| l.get(key))
                        .cloned()
                        .unwrap_or_default()
                };
                let (ns, app) = (label(NAMESPACE_LABEL), label(labels::NAME));
                let target = listening.get(&(ns.clone(), app.clone())).copied();
                points.expect(cx, target.is_some_and(|p| ports.contains(&p)), &o.path, || {
                    format!("allows `{app}` in namespace `{ns}` on {ports:?}, but no such app listens there")
                });
            }
        }
    }
}
