//! Cilium's `CiliumNetworkPolicy` (`cilium.io/v2`), which kiln writes for a cluster's
//! tunnel agent: egress to the pods of the apps it exposes.

use super::{Crd, Spec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::{Deserialize, Serialize};

/// A CiliumNetworkPolicy.
pub type CiliumNetworkPolicy = Crd<CiliumNetworkPolicySpec>;

/// The label Cilium gives every endpoint with its pod's namespace.
pub const NAMESPACE_LABEL: &str = "k8s:io.kubernetes.pod.namespace";

/// An L4 protocol.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// TCP.
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
    /// Any protocol.
    #[serde(rename = "ANY")]
    #[default]
    Any,
}

/// One port (`toPorts[].ports[]`).
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortProtocol {
    /// The port: a number or a named port, as text.
    pub port: String,
    /// `protocol`.
    pub protocol: Protocol,
}

impl PortProtocol {
    /// The port's number; `None` for a named port.
    pub fn number(&self) -> Option<u16> {
        self.port.parse().ok()
    }
}

/// One entry of `toPorts`.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortRule {
    /// `ports`.
    pub ports: Vec<PortProtocol>,
}

/// One entry of `egress`: the endpoints and ports it allows.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EgressRule {
    /// The endpoints it may reach.
    pub to_endpoints: Vec<LabelSelector>,
    /// On which ports.
    pub to_ports: Vec<PortRule>,
}

/// `spec` of a CiliumNetworkPolicy.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CiliumNetworkPolicySpec {
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What it allows the selected endpoints to reach.
    pub egress: Vec<EgressRule>,
    /// The endpoints it applies to.
    pub endpoint_selector: LabelSelector,
}

impl EgressRule {
    /// The numbers of the ports it allows.
    pub fn port_numbers(&self) -> impl Iterator<Item = u16> {
        self.to_ports
            .iter()
            .flat_map(|p| &p.ports)
            .filter_map(PortProtocol::number)
    }
}

impl Spec for CiliumNetworkPolicySpec {
    const API_VERSION: &'static str = "cilium.io/v2";
    const KIND: &'static str = "CiliumNetworkPolicy";
}
