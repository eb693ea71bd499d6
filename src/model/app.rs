//! Applications: what runs, where, and how it is reached.

use super::{Arch, Build, DbVersion, EngineName, Name, SecretRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

/// One application: a container image with its port, configuration, routes, and
/// optionally a PostgreSQL database. The same app description works on a cluster
/// and on a host, so moving it is a change of `runsOn`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct App {
    /// What the app is, for people reading the runbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` leaves the app out of this environment.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Apps with the same group share a namespace (and the `app.kubernetes.io/part-of`
    /// label). Defaults to the app's own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Name>,
    /// The cluster or host this app runs on. Defaults to the environment's `runsOn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_on: Option<Name>,
    /// The container image. An app without one is a data service: only its
    /// `database` runs, for the apps that take its parts (`{database: APP, part:
    /// ...}`), and it may set nothing that configures a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Image")]
    pub image: Option<Image>,
    /// Replaces the image's entrypoint (Kubernetes `command`, compose `entrypoint`),
    /// e.g. `[/bin/prometheus]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub command: Option<Vec<String>>,
    /// Replaces the image's arguments (Kubernetes `args`, compose `command`), e.g.
    /// `[--config.file=/etc/prometheus/prometheus.yml, --storage.tsdb.retention.time=30d]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// The port the container listens on: the app's main HTTP port (named `http`),
    /// which its routes and health check use. Required, except for an app of
    /// `kind: jobs`, which runs only its scheduled jobs and listens on nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u16")]
    pub port: Option<u16>,
    /// Extra named ports, e.g. `dns: {port: 53, protocol: udp}`. Names as Kubernetes
    /// port names: at most 15 characters, lowercase letters, digits and `-`, at least
    /// one letter, not `http` (the main port). On a cluster each is a container port
    /// and a port of the app's Service; on a host only a port with `publish` is
    /// published (on `127.0.0.1` unless it says another address).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, super::Port>,
    /// The app's Service on a cluster: `type` (`ClusterIP` default, `NodePort`,
    /// `LoadBalancer` for things like DNS on UDP 53), fixed `nodePorts` by port name,
    /// `loadBalancerIP`. A host has no Service: there it is an error (publish the ports instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<super::ServiceSettings>,
    /// Run in the node's or host's network namespace (DHCP servers, some discovery
    /// protocols). On a cluster the pod gets `hostNetwork` (and the DNS policy
    /// `ClusterFirstWithHostNet`), which only Pod Security `privileged` admits; on a
    /// host the service gets `network_mode: host` and nothing is published: its ports
    /// are the host's, so `publish` is an error there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    /// What runs the app: `deployment` (the default), `statefulset` (each pod keeps
    /// its own `persistent` volumes), `daemonset` (one pod per node; clusters only,
    /// without `replicas`) or `jobs` (nothing runs all the time: only the app's
    /// `jobs`, each on its schedule, with the app's image, env, secrets, volumes and
    /// security; a standalone scheduled task such as a backup or a DNS updater).
    #[serde(default)]
    pub kind: super::WorkloadKind,
    /// How many copies run. With `autoscale`, the autoscaler sets the count instead,
    /// and `replicas` must lie between its `min` and `max`.
    #[serde(default = "one")]
    pub replicas: u32,
    /// Scale between `min` and `max` replicas on CPU use (a HorizontalPodAutoscaler;
    /// clusters only). An app with more than one replica (or `autoscale.min` above 1)
    /// on a cluster gets a PodDisruptionBudget of one unavailable pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<super::Autoscale>,
    /// CPU and memory requests and limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// How kiln checks that the app is healthy (an HTTP, TCP or command probe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Environment variables: a plain value, a secret key, or the origins of an app's routes.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Secrets whose every key becomes a variable of the same name (`envFrom`). Prefer
    /// explicit `env` entries: keys such as `database-url` are not variable names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<Name>,
    /// How the app is reached, by route name.
    #[serde(default)]
    pub routes: BTreeMap<Name, Route>,
    /// On a host: publish the port on this host address (e.g. `0.0.0.0` so a cluster
    /// on the LAN can reach it). When unset, an app whose routes the host's Caddy
    /// serves is published on `127.0.0.1` (Caddy reaches apps on published ports);
    /// other apps are not published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
    /// Named volumes and where they are mounted: persistent data, an existing claim,
    /// a host folder, an NFS export or scratch space.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<Name, super::Volume>,
    /// Containers that run beside the app's, by name (a log shipper, a proxy): in its
    /// pod on a cluster, as services sharing its network and volumes on a host.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sidecars: BTreeMap<Name, super::Container>,
    /// Containers that run to completion before the app starts, by name, in order of
    /// name (after kiln's own database wait).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub init_containers: BTreeMap<Name, super::Container>,
    /// Commands run in the app's image on a schedule, by name: a CronJob
    /// `<app>-<job>` on a cluster, a crontab entry running a compose service on a host.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub jobs: BTreeMap<Name, super::Job>,
    /// Files mounted into the container, by their absolute path there: inline
    /// `content`, a file beside the model (`from`) or a key of a secret (`secret`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, super::AppFile>,
    /// Node labels a node must have to run the app's pods (a pod's `nodeSelector`):
    /// `{kubernetes.io/arch: amd64}`. Clusters only: a host has no nodes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Node taints the app's pods tolerate (a pod's `tolerations`):
    /// `[{key: gpu, operator: Equal, value: "true", effect: NoSchedule}]`. Clusters only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<super::Toleration>,
    /// Node labels a node must have (`required`) or should have (`preferred`), and
    /// `spread: true` to spread replicas over nodes. Clusters only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<super::Affinity>,
    /// Devices the container uses: a `gpu` (`{vendor: nvidia | intel | amd, count}`),
    /// device files (`paths`, hosts only: `/dev/ttyUSB0`) and the host `groups` that
    /// may open them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<super::Devices>,
    /// How the container is locked down.
    #[serde(default)]
    pub security: Security,
    /// A PostgreSQL database that belongs to this app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<Database>,
    /// A schema migration that runs as a Job on every deploy, before the new version starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrations: Option<Migrations>,
    /// The identity a push-deploy pipeline uses on the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    /// How CI builds, tests and (for `image.automation: push`) deploys the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    /// Apps that must be ready before this one is deployed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Name>,
    /// Checks waived for this app, each with the reason why: kiln lint rules by name
    /// (`runs-as-root`), and checkov checks by id (`CKV_K8S_43`), which kiln writes onto
    /// the app's objects as `checkov.io/skip` annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub waive: BTreeMap<String, String>,
    /// Hand patches for what the model does not yet say: `kubernetes` (JSON 6902 or
    /// strategic-merge patches of the objects kiln writes, in the environment's
    /// Kustomize overlay) and `compose` (a fragment merged into the app's compose
    /// service). Each is listed in the runbook and warned about (`hand-patch`).
    #[serde(default, skip_serializing_if = "super::Patches::is_empty")]
    pub patches: super::Patches,
}

/// A container image: registry, repository, and where the tag comes from.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    /// The registry (a name under `registries`).
    pub registry: Name,
    /// The repository path in the registry, e.g. `team/app`.
    #[schemars(regex(pattern = r"^[a-z0-9]+([._/-][a-z0-9]+)*$"))]
    pub repository: String,
    /// A pinned tag. When set it wins over any tag CI, Flux or `kiln set-image` wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    pub tag: Option<String>,
    /// Who moves the tag when it is not pinned.
    #[serde(default)]
    pub automation: TagAutomation,
    /// How CI tags the images it pushes, e.g. `main-{sha}-{timestamp}`. Placeholders:
    /// `{sha}` (7 hex digits), `{timestamp}` (UTC `YYYYMMDDhhmmss`), `{run}` (the CI run
    /// number). Flux's ImagePolicy pattern and sort order are derived from it, so the
    /// policy always matches what CI pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.{}-]+$"))]
    pub tag_format: Option<String>,
    /// The CPU architectures the image is built for. Empty means "for wherever the app
    /// runs"; when listed, running the app on a cluster or host of another
    /// architecture is an error, and CI builds exactly these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Arch>,
}

/// Who sets an image's tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TagAutomation {
    /// A pipeline deploys and records the tag with `kiln set-image` (kept in
    /// `environments/state/image-tags.yaml`).
    #[default]
    Push,
    /// Flux image automation picks the newest tag matching `tagFormat` and commits it
    /// to the overlay (or compose file); builds keep what it wrote.
    Flux,
}

/// Requests and limits.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    /// What the scheduler reserves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceList>,
    /// The most the container may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceList>,
}

/// CPU and memory quantities, in Kubernetes notation (`100m`, `256Mi`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceList {
    /// CPU, e.g. `250m` or `"1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?m?$"))]
    pub cpu: Option<String>,
    /// Memory, e.g. `256Mi` or `1Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"))]
    pub memory: Option<String>,
}

/// How kiln checks that the app is healthy: exactly one probe kind (`path` for HTTP,
/// `tcp` for a TCP connection to the app's port, `command` run in the container), used
/// for the liveness, readiness and startup probes on a cluster, the compose health
/// check on a host, and (HTTP) by deploy scripts and pipelines to verify a rollout.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Health {
    /// An HTTP probe: the path, e.g. `/api/health`, asked on the app's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[^\s]*$"))]
    pub path: Option<String>,
    /// HTTP probe, clusters: another path for the readiness probe, for an app whose
    /// "alive" and "ready to serve" differ (Prometheus: `/-/healthy` and `/-/ready`,
    /// not ready while it replays its write-ahead log). Default: `path`. A host's
    /// compose check and the rollout verification keep `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[^\s]*$"))]
    pub ready_path: Option<String>,
    /// A TCP probe: `true` checks that the app's port accepts a connection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tcp: bool,
    /// A command probe: the program and its arguments, run in the container (no
    /// shell); healthy when it exits 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// A startup probe for a slow starter: liveness waits until it passes once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<super::HealthStartup>,
    /// Shorthand for `startup`: seconds the app may take to start (checked every 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_seconds: Option<u32>,
    /// Seconds to wait after start before the first liveness check (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between checks (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    /// Seconds one check may take (default 3 on a cluster, 5 on a host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Failed checks in a row that make the app unhealthy (default 3 for liveness, 2
    /// for readiness on a cluster, 5 on a host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
    /// Hosts, HTTP probe: the tool the image has to ask the path (`wget`, e.g. busybox
    /// in Alpine images, or `curl`). Compose runs the check inside the container, so an
    /// HTTP probe on a host needs this or `hostCommand`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<super::HealthTool>,
    /// Hosts: the compose health check's command (program and arguments, no shell),
    /// instead of one derived from the probe. Needed for a TCP probe on a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_command: Option<Vec<String>>,
}

impl Health {
    /// The probe's kinds that are set, by field name (valid when exactly one).
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.path.is_some() {
            kinds.push("path");
        }
        if self.tcp {
            kinds.push("tcp");
        }
        if self.command.is_some() {
            kinds.push("command");
        }
        kinds
    }

    /// The startup probe's period and failure threshold, when the app has one.
    pub fn startup_probe(&self) -> Option<(u32, u32)> {
        if let Some(s) = &self.startup {
            return Some((s.period_seconds, s.failure_threshold));
        }
        self.startup_seconds
            .map(|secs| (10, secs.div_ceil(10).max(1)))
    }
}

/// The value of an environment variable.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    /// A plain value (strings, whole numbers and booleans are written as text).
    Plain(PlainValue),
    /// A key of a secret.
    Secret(SecretRef),
    /// The `https://` origins of every route of an app, comma-separated: for settings
    /// such as Better Auth's `ADDITIONAL_TRUSTED_ORIGINS`.
    RouteOrigins(RouteOrigins),
    /// A part of an app's database (its host, port, user, password, database name or
    /// URL), so that no connection setting is spelled by hand.
    Database(DatabaseValue),
}

/// A part of the database of an app: `{database: APP, part: host}`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseValue {
    /// The app whose `database` it is (the app itself, or another of its group).
    pub database: Name,
    /// Which part.
    pub part: DbPart,
}

/// A part of a database's connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DbPart {
    /// The server's host name (its Service on a cluster, its compose service on a host).
    Host,
    /// The server's port.
    Port,
    /// The user the app connects as.
    User,
    /// The user's password (a secret: it comes from the database's `password`).
    Password,
    /// The database's name.
    Name,
    /// The connection URL in the engine's scheme (`postgresql://`, `mysql://`), with
    /// the password: a secret like it. The password must be URL-safe (the
    /// `url-unsafe-secret` rule).
    Url,
}

impl DbPart {
    /// The part as the model spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Port => "port",
            Self::User => "user",
            Self::Password => "password", // pragma: allowlist secret (a part's name)
            Self::Name => "name",
            Self::Url => "url",
        }
    }
}

/// A plain environment value.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PlainValue {
    /// Text.
    String(String),
    /// A whole number.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
}

impl PlainValue {
    /// The value as the text a process sees.
    pub fn as_text(&self) -> String {
        match self {
            PlainValue::String(s) => s.clone(),
            PlainValue::Int(i) => i.to_string(),
            PlainValue::Bool(b) => b.to_string(),
        }
    }
}

/// The origins of an app's routes.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteOrigins {
    /// The app whose routes are listed.
    pub route_origins: Name,
}

/// One way to reach an app over HTTP.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Route {
    /// The hostname, e.g. `app.${domain}`.
    #[schemars(regex(
        pattern = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    ))]
    pub host: String,
    /// The path prefix routed to the app.
    #[serde(default = "root_path")]
    #[schemars(regex(pattern = r"^/[^\s]*$"))]
    pub path: String,
    /// Reached from the internet through the cluster's tunnel (Cloudflare) rather than
    /// through its gateway or ingress.
    #[serde(default)]
    pub tunnel: bool,
    /// The cluster whose ingress serves this route, when it is not where the app runs:
    /// an app on a host can be routed by a cluster, which reaches it through a Service
    /// and EndpointSlice (an IP address) or an ExternalName Service (a DNS name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Name>,
}

/// A port an app on a host publishes.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Publish {
    /// The host address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
    #[serde(default = "loopback")]
    pub address: String,
    /// The host port; defaults to the app's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u16")]
    pub port: Option<u16>,
}

fn loopback() -> String {
    "127.0.0.1".to_owned()
}

fn root_path() -> String {
    "/".to_owned()
}

/// How the container runs.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Security {
    /// The user id the container runs as. 0 (root) breaks Pod Security "restricted":
    /// an image that must start as root says so with `root: {reason}`.
    #[serde(default = "default_uid")]
    pub run_as_user: u32,
    /// The group id; defaults to the user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<u32>,
    /// Mount the image's filesystem read-only.
    #[serde(default = "yes")]
    pub read_only_root_filesystem: bool,
    /// Paths that must stay writable; each gets an empty volume (a `scratch` volume
    /// with a `path`, named after it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writable_paths: Vec<String>,
    /// The image must start as root (s6-overlay images such as linuxserver.io's,
    /// Paperless-ngx), with the reason: the container runs as user 0 (compose sets no
    /// `user`), and the app's namespace must allow it (`environment.podSecurity:
    /// baseline` or lower), or the build fails, located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<super::Root>,
    /// Linux capabilities the container adds (every other one is dropped); the
    /// namespace's Pod Security level must admit them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<super::CapabilitySet>,
    /// The group that owns the pod's volumes (the pod's `fsGroup`; on a host a
    /// supplementary group of the container, compose `group_add`); defaults to the
    /// group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<u32>,
}

impl Security {
    /// Whether the container runs as root: `root` is set or `runAsUser` is 0.
    pub fn is_root(&self) -> bool {
        self.root.is_some() || self.run_as_user == 0
    }

    /// The user id the container runs as (0 when `root` is set).
    pub fn uid(&self) -> u32 {
        if self.root.is_some() {
            0
        } else {
            self.run_as_user
        }
    }

    /// The group id the container runs as.
    pub fn gid(&self) -> u32 {
        self.run_as_group.unwrap_or(self.uid())
    }

    /// The capabilities the container adds.
    pub fn added_capabilities(&self) -> &[String] {
        self.capabilities.as_ref().map_or(&[], |c| c.add.as_slice())
    }

    /// The lowest Pod Security level that admits the app's pod as far as its
    /// security goes (user and capabilities), with the model field that needs it.
    pub fn needed_pod_security(&self) -> (super::PodSecurityLevel, &'static str) {
        use super::security::{capability_level, strictness};
        let mut need = (super::PodSecurityLevel::Restricted, "");
        if self.is_root() {
            let field = if self.root.is_some() {
                "root"
            } else {
                "runAsUser"
            };
            need = (super::PodSecurityLevel::Baseline, field);
        }
        for cap in self.added_capabilities() {
            let level = capability_level(cap);
            if strictness(level) < strictness(need.0) {
                need = (level, "capabilities");
            }
        }
        need
    }
}

fn default_uid() -> u32 {
    10001
}

impl Default for Security {
    fn default() -> Self {
        Security {
            run_as_user: default_uid(),
            run_as_group: None,
            read_only_root_filesystem: true,
            writable_paths: Vec::new(),
            root: None,
            capabilities: None,
            fs_group: None,
        }
    }
}

/// A database owned by an app: its server (PostgreSQL unless `engine` says
/// otherwise), run by kiln beside the app with its data on a volume.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Database {
    /// The server: `postgres` (the default), `mysql`, `mariadb`, `redis` or `valkey`.
    #[serde(default, skip_serializing_if = "EngineName::is_default")]
    pub engine: EngineName,
    /// The server version: PostgreSQL's major as a number (`18`), a release series
    /// as a string for the others (`"8.4"`, `"11.4"`, `"7.4"`).
    pub version: DbVersion,
    /// How Redis or Valkey keeps its data across restarts: `aof` (the default: every
    /// write logged, fsync'd each second), `rdb` (snapshots only: minutes of writes
    /// can be lost) or `none` (a pure cache, empty after each restart). Not for the
    /// SQL engines, which always persist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    /// The volume size, e.g. `10Gi`.
    #[schemars(regex(pattern = r"^[0-9]+(Mi|Gi|Ti)$"))]
    pub storage: String,
    /// Database and user name; defaults to the app's name with `-` as `_`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z_][a-z0-9_]{0,62}$"))]
    pub name: Option<String>,
    /// The secret key holding the database password.
    pub password: SecretRef,
    /// Where the data volume is mounted, for images that keep data elsewhere than the
    /// official image of this version does (kiln picks the right path otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub mount_path: Option<String>,
    /// CPU and memory for the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Scheduled dumps and how long they are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<Backup>,
}

/// How a key-value server (Redis, Valkey) persists its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Persistence {
    /// An append-only file of every write (fsync'd each second) besides snapshots.
    #[default]
    Aof,
    /// Snapshots only (RDB), after a number of writes in a time.
    Rdb,
    /// Nothing: a pure cache, empty after each restart.
    None,
}

impl Persistence {
    /// The value as the model spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aof => "aof",
            Self::Rdb => "rdb",
            Self::None => "none",
        }
    }
}

/// Scheduled dumps of a database (its engine's dump program).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Backup {
    /// When, in cron syntax (five fields), e.g. `0 3 * * *`.
    #[schemars(regex(pattern = r"^\S+ \S+ \S+ \S+ \S+$"))]
    pub schedule: String,
    /// Days a dump is kept before it is deleted.
    #[schemars(range(min = 1))]
    pub retention_days: u32,
    /// The size of the volume dumps are written to, e.g. `2Gi` (on a cluster; on a
    /// host, dumps go to a directory under the host's `dataDir`).
    #[schemars(regex(pattern = r"^[0-9]+(Mi|Gi|Ti)$"))]
    pub storage: String,
}

/// A migration command run in the app's image before each deploy.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Migrations {
    /// The command and its arguments, e.g. `[bunx, prisma, migrate, deploy]`.
    #[schemars(length(min = 1))]
    pub command: Vec<String>,
}

/// The cluster identity of a push-deploy pipeline.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Deploy {
    /// The ServiceAccount the pipeline's token belongs to.
    pub service_account: Name,
}
