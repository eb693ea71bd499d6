//! Where apps run and where their images come from: registries, clusters, hosts.

use super::Name;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A container registry.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Registry {
    /// Host (and port), e.g. `registry.example.com` or `harbor.lan:8080`.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?$"))]
    pub host: String,
    /// Pulling needs credentials.
    #[serde(default)]
    pub private: bool,
    /// The secret (type `docker-registry`) holding pull credentials; it is placed in
    /// every namespace that pulls from this registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secret: Option<Name>,
    /// Served over plain HTTP.
    #[serde(default)]
    pub insecure: bool,
    /// Reachable only from the local network (not from hosted CI runners).
    #[serde(default)]
    pub lan_only: bool,
}

/// CPU architecture of a cluster's nodes or a host.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// x86-64.
    #[default]
    Amd64,
    /// 64-bit ARM (Raspberry Pi 4 and later).
    Arm64,
}

impl Arch {
    /// The Docker platform string.
    pub fn platform(self) -> &'static str {
        match self {
            Arch::Amd64 => "linux/amd64",
            Arch::Arm64 => "linux/arm64",
        }
    }
}

/// A Kubernetes cluster.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// Node architecture.
    #[serde(default)]
    pub arch: Arch,
    /// How HTTP routes reach apps.
    pub ingress: Ingress,
    /// The StorageClass for volumes (database data, backups). The cluster default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<Name>,
    /// Which network policies the cluster enforces.
    #[serde(default)]
    pub network_policy: NetworkPolicyFlavour,
    /// A tunnel (e.g. cloudflared) running in the cluster that public routes go through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Tunnel>,
    /// The API server URL pipelines deploy to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https://\S+$"))]
    pub api_server: Option<String>,
}

/// How routes are served on a cluster.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
    /// Gateway API `HTTPRoute`s, or `Ingress` objects for Traefik.
    pub kind: IngressKind,
    /// The shared Gateway routes attach to (for `kind: gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayRef>,
    /// The IngressClass (for `kind: traefik`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<Name>,
}

/// The kind of route objects kiln writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IngressKind {
    /// Gateway API `HTTPRoute` attached to a shared Gateway.
    Gateway,
    /// `networking.k8s.io/v1` `Ingress` served by Traefik.
    Traefik,
}

/// A Gateway and the listener routes attach to.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    /// The Gateway's name.
    pub name: Name,
    /// The Gateway's namespace.
    pub namespace: Name,
    /// The listener (`sectionName`), e.g. `https` or `https-dev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<Name>,
}

/// Network policy support.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicyFlavour {
    /// No policies are written.
    #[default]
    None,
    /// `CiliumNetworkPolicy` objects.
    Cilium,
}

/// A tunnel agent in the cluster (e.g. cloudflared) that forwards public hostnames to
/// services.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tunnel {
    /// Which tunnel: `cloudflare`.
    #[serde(default)]
    pub provider: TunnelProvider,
    /// The tunnel's name as the provider knows it (for the runbook).
    pub name: String,
    /// The namespace the tunnel agent runs in.
    pub namespace: Name,
    /// Labels that select the tunnel agent's pods.
    pub selector: BTreeMap<String, String>,
}

/// Tunnel providers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TunnelProvider {
    /// Cloudflare Tunnel (cloudflared).
    #[default]
    Cloudflare,
}

/// A machine outside any cluster that runs apps with docker compose.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Host {
    /// IP address or DNS name the cluster and people reach it on.
    pub address: String,
    /// CPU architecture.
    #[serde(default)]
    pub arch: Arch,
}
