//! Network policies: each app's pods accept connections only on their port, its
//! database only from the app's own pods and those of every app that takes a part of
//! it (`{database: APP, ...}`, from whatever namespace), and a cluster's tunnel agent
//! may reach the apps with public (tunnel) routes. Cilium matches namespaces by exact
//! name, so the namespace in a tunnel policy is the one kiln computed for the app,
//! never typed by hand.

use super::{AppCx, Object, labels};
use crate::crd::cilium::{
    CiliumNetworkPolicy, CiliumNetworkPolicySpec, EgressRule, NAMESPACE_LABEL, PortProtocol,
    PortRule, Protocol,
};
use crate::model::{Cluster, NetworkPolicyFlavour};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

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
    let egress = targets
        .iter()
        .map(|t| EgressRule {
            to_endpoints: vec![match_labels(BTreeMap::from([
                (NAMESPACE_LABEL.to_owned(), t.namespace.clone()),
                (labels::NAME.to_owned(), t.app.clone()),
            ]))],
            to_ports: vec![PortRule {
                ports: vec![PortProtocol {
                    port: t.port.to_string(),
                    protocol: Protocol::Tcp,
                }],
            }],
        })
        .collect();
    Some(Object::from(&CiliumNetworkPolicy {
        metadata: ObjectMeta {
            name: Some(policy_name(namespace)),
            namespace: Some(tunnel.namespace.to_string()),
            labels: Some(BTreeMap::from([(
                labels::MANAGED_BY.to_owned(),
                "kiln".to_owned(),
            )])),
            ..Default::default()
        },
        spec: CiliumNetworkPolicySpec {
            description: Some(format!(
                "Lets the {} tunnel reach the public apps in {namespace}.",
                tunnel.name
            )),
            egress,
            endpoint_selector: match_labels(tunnel.selector.clone()),
        },
    }))
}

/// A selector of exactly these labels.
fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    }
}

/// The NetworkPolicies of one app: its pods accept traffic on the app's ports only (from
/// anywhere: ingress controllers, the tunnel, other apps), its database only from the
/// app's own pods and its consumers'; an app that runs on a host has only Jobs on the cluster, which
/// accept nothing.
pub fn app_policies(cx: &AppCx<'_>, on_host: bool) -> Vec<Object> {
    let policy = |name: &str, selector: &str, ingress: Vec<NetworkPolicyIngressRule>| {
        Object::from(&NetworkPolicy {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(labels::standard(
                    cx.name.as_str(),
                    cx.group.as_str(),
                    "network",
                )),
                ..Default::default()
            },
            spec: Some(NetworkPolicySpec {
                ingress: Some(ingress),
                pod_selector: Some(pods_named(selector)),
                policy_types: Some(vec!["Ingress".to_owned()]),
                ..Default::default()
            }),
        })
    };
    let app = cx.name.as_str();
    if on_host {
        return vec![policy(app, app, Vec::new())];
    }
    let ports: Vec<NetworkPolicyPort> = cx
        .app
        .all_ports()
        .into_iter()
        .map(|p| NetworkPolicyPort {
            port: Some(IntOrString::Int(i32::from(p.port))),
            protocol: Some(p.protocol.kubernetes().to_owned()),
            end_port: None,
        })
        .collect();
    // A pod that listens on nothing (a jobs-only app's runs) admits nothing: a rule
    // without ports would admit every port.
    let ingress = if ports.is_empty() {
        Vec::new()
    } else {
        vec![NetworkPolicyIngressRule {
            from: None,
            ports: Some(ports),
        }]
    };
    let mut out = vec![policy(app, app, ingress)];
    out.extend(db_policy(cx));
    out
}

/// The NetworkPolicy of the app's database, if it has one: it admits the app's own
/// pods (none for a data service) and the apps that take a part of it.
pub fn db_policy(cx: &AppCx<'_>) -> Option<Object> {
    let database = cx.app.database.as_ref()?;
    let db = cx.db_service();
    let app = cx.name.as_str();
    let mut from = Vec::new();
    if !cx.app.is_data_service() {
        from.push(NetworkPolicyPeer {
            pod_selector: Some(pods_named(app)),
            ..Default::default()
        });
    }
    // The apps that take a part of it (`{database: APP, ...}`), from their own
    // namespace when it is another.
    for (name, consumer) in cx.model.db_consumers(cx.name) {
        let ns = cx.model.namespace(&cx.env.name, name, consumer);
        from.push(NetworkPolicyPeer {
            pod_selector: Some(pods_named(name.as_str())),
            namespace_selector: (ns != cx.namespace).then(|| {
                match_labels(BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_owned(),
                    ns,
                )]))
            }),
            ..Default::default()
        });
    }
    // No peer admits nothing (a rule with an empty `from` would admit every pod).
    let ingress = if from.is_empty() {
        Vec::new()
    } else {
        vec![NetworkPolicyIngressRule {
            from: Some(from),
            ports: Some(vec![NetworkPolicyPort {
                port: Some(IntOrString::Int(i32::from(database.engine().port()))),
                protocol: Some("TCP".to_owned()),
                end_port: None,
            }]),
        }]
    };
    Some(Object::from(&NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(db.clone()),
            labels: Some(labels::standard(app, cx.group.as_str(), "network")),
            ..Default::default()
        },
        spec: Some(NetworkPolicySpec {
            ingress: Some(ingress),
            pod_selector: Some(pods_named(&db)),
            policy_types: Some(vec!["Ingress".to_owned()]),
            ..Default::default()
        }),
    }))
}

/// A selector of the pods of the app `name` (`app.kubernetes.io/name`).
fn pods_named(name: &str) -> LabelSelector {
    match_labels(BTreeMap::from([(labels::NAME.to_owned(), name.to_owned())]))
}
