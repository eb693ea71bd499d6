//! Where apps run and where their images come from: registries, clusters, hosts.

use super::{Name, SecretRef};
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
    /// Lint rules waived for this registry, by rule name, each with the reason why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub waive: BTreeMap<String, String>,
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
    /// Flux reconciles this cluster from the repository. Every object kiln writes for
    /// the cluster is then applied by exactly one Flux Kustomization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flux: Option<Flux>,
}

/// How Flux runs on a cluster.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Flux {
    /// How often Kustomizations reconcile, e.g. `10m`.
    #[serde(default = "default_interval")]
    #[schemars(regex(pattern = r"^[0-9]+(s|m|h)$"))]
    pub interval: String,
    /// How long a Kustomization may take to become ready, e.g. `5m`.
    #[serde(default = "default_timeout")]
    #[schemars(regex(pattern = r"^[0-9]+(s|m|h)$"))]
    pub timeout: String,
    /// How often image automation polls registries, e.g. `1m`.
    #[serde(default = "default_image_interval")]
    #[schemars(regex(pattern = r"^[0-9]+(s|m|h)$"))]
    pub image_interval: String,
    /// The Sealed Secrets controller Helm chart version Flux installs.
    #[serde(default = "default_sealed_secrets_version")]
    pub sealed_secrets_version: String,
}

fn default_interval() -> String {
    "10m".to_owned()
}

fn default_timeout() -> String {
    "5m".to_owned()
}

fn default_image_interval() -> String {
    "1m".to_owned()
}

fn default_sealed_secrets_version() -> String {
    "2.17.3".to_owned()
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
    #[schemars(regex(pattern = r"^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$"))]
    pub address: String,
    /// CPU architecture.
    #[serde(default)]
    pub arch: Arch,
    /// A cluster whose Flux deploys to this host: when image automation commits a new
    /// tag, a Job on that cluster connects over SSH and redeploys the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_from: Option<DeployFrom>,
    /// The directory on the host that holds every compose project's volumes, `.env`
    /// files and backups: `<dataDir>/<project>/...`. Put it on the data disk.
    #[serde(default = "default_data_dir")]
    #[schemars(regex(pattern = r"^/[-_./A-Za-z0-9]*$"))]
    pub data_dir: String,
    /// Caddy in front of the host's apps: it serves every route of an app on this host
    /// that has no `via` (or whose `via` names this host). Without it, such routes are
    /// an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caddy: Option<Caddy>,
}

fn default_data_dir() -> String {
    "/srv/kiln".to_owned()
}

/// Caddy, the reverse proxy and TLS terminator of a host. It runs as the compose
/// project `caddy` with host networking and reaches apps on their published ports.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Caddy {
    /// How certificates are obtained.
    pub tls: CaddyTls,
    /// The Caddy image. `cloudflare-dns` needs a build with the `caddy-dns/cloudflare`
    /// plugin.
    #[serde(default = "default_caddy_image")]
    pub image: String,
    /// The address Caddy listens on (`default_bind`), e.g. `127.0.0.1` on a developer's
    /// machine. All interfaces when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// The HTTP port (ACME challenges and redirects to HTTPS).
    #[serde(default = "default_http_port")]
    pub http_port: u16,
    /// The HTTPS port.
    #[serde(default = "default_https_port")]
    pub https_port: u16,
    /// Send security headers (HSTS unless TLS is `internal`, nosniff, frame and
    /// referrer policies) and drop the `Server` header.
    #[serde(default = "yes")]
    pub security_headers: bool,
    /// Compress responses with zstd or gzip.
    #[serde(default = "yes")]
    pub compression: bool,
}

fn yes() -> bool {
    true
}

fn default_caddy_image() -> String {
    "caddy:2.10-alpine".to_owned()
}

fn default_http_port() -> u16 {
    80
}

fn default_https_port() -> u16 {
    443
}

/// Where a host's Caddy gets its certificates.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaddyTls {
    /// `acme`: Let's Encrypt, automatic (HTTP challenge; DNS-only records).
    /// `cloudflare-origin`: behind Cloudflare's proxy with a Cloudflare Origin CA
    /// certificate (`certificate` and `key`; SSL mode "Full (strict)").
    /// `cloudflare-dns`: Let's Encrypt through Cloudflare's DNS challenge (`apiToken`;
    /// needs a Caddy image with the cloudflare DNS plugin).
    /// `internal`: Caddy's own CA, for development and `localhost` names.
    pub mode: TlsMode,
    /// The ACME account email (`acme`, `cloudflare-dns`): expiry warnings go there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Path on the host of the origin certificate (`cloudflare-origin`), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[-_./A-Za-z0-9]*$"))]
    pub certificate: Option<String>,
    /// Path on the host of the origin certificate's private key (`cloudflare-origin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[-_./A-Za-z0-9]*$"))]
    pub key: Option<String>,
    /// The Cloudflare API token with `Zone.DNS:Edit` (`cloudflare-dns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<SecretRef>,
}

/// TLS modes of a host's Caddy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Let's Encrypt with the HTTP challenge.
    Acme,
    /// A Cloudflare Origin CA certificate from files.
    CloudflareOrigin,
    /// Let's Encrypt with Cloudflare's DNS challenge (plugin build of Caddy).
    CloudflareDns,
    /// Caddy's internal CA.
    Internal,
}

impl TlsMode {
    /// The mode as written in the model.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Acme => "acme",
            TlsMode::CloudflareOrigin => "cloudflare-origin",
            TlsMode::CloudflareDns => "cloudflare-dns",
            TlsMode::Internal => "internal",
        }
    }
}

/// Deploying to a host from a cluster over SSH.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeployFrom {
    /// The cluster the deploy Job runs on.
    pub cluster: Name,
    /// The user the Job logs in as.
    #[schemars(regex(pattern = r"^[a-z_][a-z0-9_-]*$"))]
    pub user: String,
    /// The secret (type `ssh-key`) with the private key (`ssh-privatekey`) and the
    /// host's public key (`known_hosts`).
    pub ssh_key: Name,
    /// Where this repository is checked out on the host.
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub checkout: String,
}
