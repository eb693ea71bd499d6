//! Network policies that let a cluster's tunnel agent reach the apps with public
//! (tunnel) routes. Cilium matches namespaces by exact name, so the namespace in the
//! policy is the one kiln computed for the app, never typed by hand.

use super::{Object, labels};
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
