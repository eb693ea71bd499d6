//! Network policies: each app's pods accept connections only on their port, its
//! database only from the app's own pods, and a cluster's tunnel agent may reach the
//! apps with public (tunnel) routes. Cilium matches namespaces by exact name, so the
//! namespace in a tunnel policy is the one kiln computed for the app, never typed by
//! hand.

use super::{AppCx, Object, labels};
use crate::model::{Cluster, NetworkPolicyFlavour};
use serde_json::json;

/// One app a tunnel must reach.
pub struct TunnelTarget {
    /// The app's name (its pods' `app.kubernetes.io/name`).
    pub app: String,
    /// The app's namespace.
    pub namespace: String,
    /// The container port.
    pub port: u16,
}

/// The name of the policy letting the tunnel reach a namespace.
pub fn policy_name(namespace: &str) -> String {
    format!("tunnel-to-{namespace}")
}

/// The egress policy for the tunnel agent towards every target in one namespace.
pub fn tunnel_policy(
    cluster: &Cluster,
    namespace: &str,
    targets: &[TunnelTarget],
) -> Option<Object> {
    let tunnel = cluster.tunnel.as_ref()?;
    if cluster.network_policy != NetworkPolicyFlavour::Cilium {
        return None;
    }
    let egress: Vec<_> = targets
        .iter()
        .map(|t| {
            json!({
                "toEndpoints": [{"matchLabels": {
                    "k8s:io.kubernetes.pod.namespace": t.namespace,
                    (labels::NAME): t.app,
                }}],
                "toPorts": [{"ports": [{"port": t.port.to_string(), "protocol": "TCP"}]}],
            })
        })
        .collect();
    Some(Object::from(&json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {
            "name": policy_name(namespace),
            "namespace": tunnel.namespace.as_str(),
            "labels": {(labels::MANAGED_BY): "kiln"},
        },
        "spec": {
            "description": format!("Lets the {} tunnel reach the public apps in {namespace}.", tunnel.name),
            "endpointSelector": {"matchLabels": tunnel.selector},
            "egress": egress,
        },
    })))
}

/// The NetworkPolicies of one app: its pods accept traffic on the app's port only (from
/// anywhere: ingress controllers, the tunnel, other apps), its database only from the
/// app's own pods; an app that runs on a host has only Jobs on the cluster, which
/// accept nothing.
pub fn app_policies(cx: &AppCx<'_>, on_host: bool) -> Vec<Object> {
    let policy = |name: &str, selector: &str, ingress: serde_json::Value| {
        Object::from(&json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": name,
                "labels": labels::standard(cx.name.as_str(), cx.group.as_str(), "network"),
            },
            "spec": {
                "podSelector": {"matchLabels": {(labels::NAME): selector}},
                "policyTypes": ["Ingress"],
                "ingress": ingress,
            },
        }))
    };
    let app = cx.name.as_str();
    if on_host {
        return vec![policy(app, app, json!([]))];
    }
    let mut out = vec![policy(
        app,
        app,
        json!([{"ports": [{"port": cx.app.port, "protocol": "TCP"}]}]),
    )];
    if cx.app.database.is_some() {
        let db = cx.db_service();
        out.push(policy(
            &db,
            &db,
            json!([{
                "from": [{"podSelector": {"matchLabels": {(labels::NAME): app}}}],
                "ports": [{"port": super::database::PORT, "protocol": "TCP"}],
            }]),
        ));
    }
    out
}
