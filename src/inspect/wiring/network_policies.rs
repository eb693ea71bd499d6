//! Network policy → namespace and port: every endpoint a CiliumNetworkPolicy lets
//! traffic reach is an app that listens, in that namespace, on one of the ports.

use super::{Points, Wire, objects_of};
use crate::inspect::lint::LintContext;
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
                    .or_insert(i64::from(u.app.port));
            }
        }
    }
    for o in objects_of(cx, "CiliumNetworkPolicy") {
        for rule in o.value["spec"]["egress"].as_array().into_iter().flatten() {
            for ep in rule["toEndpoints"].as_array().into_iter().flatten() {
                let labels = &ep["matchLabels"];
                let ns = labels["k8s:io.kubernetes.pod.namespace"]
                    .as_str()
                    .unwrap_or_default();
                let app = labels["app.kubernetes.io/name"]
                    .as_str()
                    .unwrap_or_default();
                let ports: BTreeSet<i64> = rule["toPorts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|p| p["ports"].as_array().into_iter().flatten())
                    .filter_map(|p| p["port"].as_str().and_then(|s| s.parse().ok()))
                    .collect();
                let target = listening.get(&(ns.to_owned(), app.to_owned())).copied();
                points.expect(cx, target.is_some_and(|p| ports.contains(&p)), &o.path, || {
                    format!("allows `{app}` in namespace `{ns}` on {ports:?}, but no such app listens there")
                });
            }
        }
    }
}
