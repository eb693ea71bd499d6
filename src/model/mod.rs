//! The environment model: typed data loaded from `environments/*.yaml`.
//!
//! Takes the files under `environments/`; gives back one resolved [`Model`] per
//! environment, in an [`Project`] that also holds the [`SourceMap`] and, per
//! environment, a [`SpanIndex`] from JSON pointers to source spans, so that checks on
//! typed data can still point at `file:line:col`.
//!
//! A file either is an environment (named after the file, `dev.yaml` is `dev`) or is
//! marked `abstract: true` and only shared. `extends: <file stem>` merges a base file
//! underneath, recursively, like a JSON merge patch: mappings merge key by key, `null`
//! removes a key, anything else replaces. Then `${name}` in any string is replaced by
//! the environment's variables (`env`, `domain`, and everything under `vars`).

mod app;
mod app_file;
mod ci;
mod ci_cache;
mod containers;
mod devices;
pub mod engines;
pub mod files;
pub mod graph;
mod health;
mod infra;
mod kinds;
mod literal_secrets;
pub mod load;
pub mod names;
pub mod patches;
pub mod placement;
mod ports;
mod scaling;
mod scheduling;
pub mod schema;
mod secret;
pub mod secret_placement;
pub mod security;
mod stack;
mod state;
pub mod tag_format;
pub mod tags;
mod volume;
pub use health::{HealthStartup, HealthTool};
pub use patches::Patches;

pub use app::{
    App, Backup, Database, DatabaseValue, DbPart, Deploy, EnvValue, Health, Image, Migrations,
    Persistence, PlainValue, Publish, ResourceList, Resources, Route, RouteOrigins, Security,
    TagAutomation,
};
pub use app_file::{AppFile, FileSource, SECRET_FILE_MODE, content_hash, file_key, text_files};
pub use ci::{
    Build, CiCredentials, CiProvider, CiVariable, RepositoryCi, Runner, SelfHosted, TestJob,
    TestStage,
};
pub use ci_cache::{CachePlan, CacheSpec, DependencyCache, PackageManager};
pub use containers::{Container, ContainerMount, PinnedImage, RESERVED_CONTAINER_NAMES};
pub use devices::{DRI, Devices, Gpu, GpuVendor, device_mapping};
pub use engines::{DbVersion, Engine, EngineName};
pub use files::Files;
pub use infra::{
    Arch, Caddy, CaddyTls, Cluster, DeployFrom, Flux, GatewayRef, Host, Ingress, IngressKind,
    NetworkPolicyFlavour, Registry, TlsMode, Tunnel, TunnelProvider,
};
pub use kinds::{Concurrency, Job, WorkloadKind, job_name};
pub use load::{SpanIndex, load, load_files};
pub use names::Name;
pub use ports::{
    AppPort, HostBinding, MAIN_PORT_NAME, Port, Protocol, ServiceSettings, ServiceType,
};
pub use scaling::Autoscale;
pub use scheduling::{Affinity, LabelValues, TaintEffect, Toleration, TolerationOperator};
pub use secret::{
    Alphabet, GenerateSource, Generator, KeySource, ManualSource, OnePasswordSource, Secret,
    SecretRef, SecretScope, SecretType, TemplatePart, TemplateSource, is_url_safe_byte,
};
pub use security::{CapabilitySet, Root};
pub use stack::{Stack, StackDatabase, StackService, Upstream};
pub use state::{RejectedTag, State};
pub use volume::{
    AccessMode, Claim, Nfs, Persistent, Scratch, Source, Volume, VolumeBackup, VolumeMount,
    archive_prefix, path_volume_name, pod_volume_name,
};

use crate::diagnostic::{FileId, SourceMap, Span};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything loaded from `environments/`: the sources and each environment's model.
#[derive(Debug, Default)]
pub struct Project {
    /// Every file read, for diagnostics.
    pub sources: SourceMap,
    /// The environments that loaded without errors, sorted by name.
    pub environments: Vec<Environment>,
}

impl Project {
    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name.as_str() == name)
    }
}

/// One environment: its name, its resolved model and where each value was written.
#[derive(Debug)]
pub struct Environment {
    /// The environment's name (its file's stem).
    pub name: Name,
    /// The file that defines it.
    pub file: FileId,
    /// Display paths of the files it is built from, base first.
    pub sources: Vec<String>,
    /// The resolved model.
    pub model: Model,
    /// JSON pointer → source span of every value of the merged document.
    pub index: SpanIndex,
}

impl Environment {
    /// The span of the value at a JSON pointer such as `/apps/web/port`, or of its
    /// nearest ancestor that was written down.
    pub fn span(&self, pointer: &str) -> Option<Span> {
        self.index.value(pointer)
    }

    /// The span of the key at a JSON pointer (the `web` in `apps: {web: ...}`).
    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        self.index.key(pointer)
    }

    /// Where the model writes the value at `pointer`; `None` when it is left to its
    /// default.
    pub fn written_span(&self, pointer: &str) -> Option<Span> {
        self.index.written(pointer)
    }
}

/// One environment, resolved: base files merged in, `${vars}` substituted, defaults
/// applied. This is also the shape of the JSON Schema in `schema/kiln.schema.json`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "kiln environment")]
pub struct Model {
    /// How this environment names things and where its apps run by default.
    #[serde(default)]
    pub environment: EnvironmentSettings,
    /// Values for `${name}` in any string of the model (besides `env` and `domain`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The git repository that holds this model and `out/` (Flux syncs from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// Container registries, by name.
    #[serde(default)]
    pub registries: BTreeMap<Name, Registry>,
    /// Kubernetes clusters, by name.
    #[serde(default)]
    pub clusters: BTreeMap<Name, Cluster>,
    /// Machines that run apps with docker compose, by name.
    #[serde(default)]
    pub hosts: BTreeMap<Name, Host>,
    /// Applications, by name.
    #[serde(default)]
    pub apps: BTreeMap<Name, App>,
    /// Compose stacks maintained upstream (e.g. self-hosted Supabase), run on hosts,
    /// by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stacks: BTreeMap<Name, Stack>,
    /// Secrets, by name. Only where values come from, never a value.
    #[serde(default)]
    pub secrets: BTreeMap<Name, Secret>,
    /// Settings of app groups (an app's `group`, default its own name), by group:
    /// `media: {podSecurity: baseline}` gives that group's namespaces a level of their
    /// own, while every other namespace keeps the environment's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<Name, Group>,
    /// The GitHub Actions the generated workflows use, pinned by commit, by
    /// `owner/repository` (e.g. `actions/checkout: {version: v6.2.0, commit: ...}`):
    /// replaces kiln's own pin of that action, e.g. for a newer release Renovate
    /// proposes. Only actions kiln's workflows use can be named.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub actions: BTreeMap<String, ActionPin>,
}

/// A GitHub Action pinned to the commit of one of its releases.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActionPin {
    /// The release, written beside the commit (`# v6.2.0`) for readers and Renovate.
    #[schemars(regex(pattern = r"^\S+$"))]
    pub version: String,
    /// The release's full commit hash (40 hexadecimal digits).
    #[schemars(regex(pattern = r"^[0-9a-f]{40}$"))]
    pub commit: String,
}

/// The git repository kiln's output is committed to.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Repository {
    /// Clone URL Flux uses, e.g. `ssh://git@github.com/me/homelab.git`.
    pub url: String,
    /// The branch Flux follows and image automation pushes to.
    #[serde(default = "default_branch")]
    pub branch: String,
    /// The project's directory inside the repository (`.` when the repository root
    /// holds `environments/` and `out/`).
    #[serde(default = "default_dir")]
    pub path: String,
    /// The secret holding Flux's credentials for the repository (a deploy key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Name>,
    /// This repository's own pipeline (`kiln check` on every push, `kiln diff` on merge
    /// requests) and the kiln image push-deploy jobs use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<RepositoryCi>,
}

fn default_branch() -> String {
    "main".to_owned()
}

fn default_dir() -> String {
    ".".to_owned()
}

/// Environment-wide settings.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentSettings {
    /// The environment's base domain, available as `${domain}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The cluster or host apps run on unless they say otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_on: Option<Name>,
    /// How namespaces are named: `{group}` (an app's group), `{app}` and `{env}`.
    #[serde(default = "default_namespace_pattern")]
    #[schemars(regex(pattern = r"^[-a-z0-9{}]+$"))]
    pub namespaces: String,
    /// The Pod Security Standard enforced on every namespace.
    #[serde(default)]
    pub pod_security: PodSecurityLevel,
    /// This environment serves real users: rules such as `database-without-backup`
    /// apply to it.
    #[serde(default)]
    pub production: bool,
}

impl Default for EnvironmentSettings {
    fn default() -> Self {
        EnvironmentSettings {
            domain: None,
            runs_on: None,
            namespaces: default_namespace_pattern(),
            pod_security: PodSecurityLevel::default(),
            production: false,
        }
    }
}

fn default_namespace_pattern() -> String {
    "{group}-{env}".to_owned()
}

/// Settings of one group of apps (the apps sharing a `group`, and their namespaces).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Group {
    /// The Pod Security Standard enforced on the group's namespaces, instead of the
    /// environment's `podSecurity`: for the one group whose images need `baseline`
    /// (a root s6 image, an NFS volume), without lowering every other namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security: Option<PodSecurityLevel>,
}

/// Pod Security Standard levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// The strictest level; what kiln's workloads are written for.
    #[default]
    Restricted,
    /// Prevents known privilege escalations.
    Baseline,
    /// Unrestricted.
    Privileged,
}

impl PodSecurityLevel {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Restricted => "restricted",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Privileged => "privileged",
        }
    }
}

/// Where an app runs.
#[derive(Clone, Copy, Debug)]
pub enum Placement<'a> {
    /// On a Kubernetes cluster.
    Cluster(&'a Name, &'a Cluster),
    /// On a host, with docker compose.
    Host(&'a Name, &'a Host),
}

impl Model {
    /// The Pod Security level of `group`'s namespaces: the group's own
    /// (`groups.<group>.podSecurity`), else the environment's.
    pub fn pod_security_of(&self, group: &str) -> PodSecurityLevel {
        self.groups
            .get(group)
            .and_then(|g| g.pod_security)
            .unwrap_or(self.environment.pod_security)
    }

    /// The Pod Security level of the namespace app `name` runs in.
    pub fn app_pod_security(&self, name: &Name, app: &App) -> PodSecurityLevel {
        self.pod_security_of(self.group(name, app).as_str())
    }

    /// Where an app's level is set, to name in a help: `groups.<group>.podSecurity`
    /// when its group has one, else the environment's `podSecurity`.
    pub fn pod_security_field(&self, name: &Name, app: &App) -> String {
        let group = self.group(name, app);
        if self
            .groups
            .get(group)
            .is_some_and(|g| g.pod_security.is_some())
        {
            format!("`groups.{group}.podSecurity`")
        } else {
            format!(
                "`groups.{group}.podSecurity` (this app's group only) or the environment's `podSecurity`"
            )
        }
    }
    /// The apps that are enabled in this environment.
    pub fn enabled_apps(&self) -> impl Iterator<Item = (&Name, &App)> {
        self.apps.iter().filter(|(_, a)| a.enabled)
    }

    /// The stacks that are enabled in this environment.
    pub fn enabled_stacks(&self) -> impl Iterator<Item = (&Name, &Stack)> {
        self.stacks.iter().filter(|(_, s)| s.enabled)
    }

    /// The host a stack runs on, if its `runsOn` (or the environment's) names one.
    pub fn stack_host(&self, stack: &Stack) -> Option<(&Name, &Host)> {
        let target = stack
            .runs_on
            .as_ref()
            .or(self.environment.runs_on.as_ref())?;
        self.hosts.get_key_value(target)
    }

    /// Where an app runs, if its `runsOn` (or the environment's) names a cluster or host.
    pub fn placement(&self, app: &App) -> Option<Placement<'_>> {
        let target = app.runs_on.as_ref().or(self.environment.runs_on.as_ref())?;
        if let Some((name, cluster)) = self.clusters.get_key_value(target) {
            return Some(Placement::Cluster(name, cluster));
        }
        self.hosts
            .get_key_value(target)
            .map(|(name, host)| Placement::Host(name, host))
    }

    /// The group of an app (its namespace and `part-of` label).
    pub fn group<'a>(&self, name: &'a Name, app: &'a App) -> &'a Name {
        app.group.as_ref().unwrap_or(name)
    }

    /// The namespace an app runs in, in environment `env`.
    pub fn namespace(&self, env: &Name, name: &Name, app: &App) -> String {
        self.environment
            .namespaces
            .replace("{group}", self.group(name, app).as_str())
            .replace("{app}", name.as_str())
            .replace("{env}", env.as_str())
    }

    /// `https://<host>` of every route of `app`, sorted and comma-separated (the value
    /// of a `routeOrigins` variable, on clusters and hosts alike).
    pub fn route_origins(&self, app: &Name) -> String {
        let mut origins: Vec<String> = self
            .apps
            .get(app)
            .map(|a| {
                a.routes
                    .values()
                    .map(|r| format!("https://{}", r.host))
                    .collect()
            })
            .unwrap_or_default();
        origins.sort();
        origins.dedup();
        origins.join(",")
    }

    /// What an environment variable's value is once the model is read: text, a key
    /// of a secret, or a URL around a secret password. Every target renders these
    /// three, whatever kind of value the model gives. `namespace` is the consumer's
    /// namespace on a cluster (a database in another namespace is named by its
    /// `<service>.<namespace>.svc`), `None` on a host.
    pub fn resolve_env(
        &self,
        env: &Name,
        namespace: Option<&str>,
        value: &EnvValue,
    ) -> ResolvedEnv {
        match value {
            EnvValue::Plain(p) => ResolvedEnv::Text(p.as_text()),
            EnvValue::Secret(r) => ResolvedEnv::Secret(r.clone()),
            EnvValue::RouteOrigins(o) => ResolvedEnv::Text(self.route_origins(&o.route_origins)),
            EnvValue::Database(d) => {
                // References are checked first: a missing database is an error there.
                let Some((owner, db)) = self
                    .apps
                    .get_key_value(&d.database)
                    .and_then(|(n, a)| Some(((n, a), a.database.as_ref()?)))
                else {
                    return ResolvedEnv::Text(String::new());
                };
                let engine = db.engine();
                let host = self.db_host_from(env, namespace, owner.0);
                let name = db.db_name(owner.0);
                let user = engine.user(&name);
                match d.part {
                    DbPart::Host => ResolvedEnv::Text(host),
                    DbPart::Port => ResolvedEnv::Text(engine.port().to_string()),
                    DbPart::User => ResolvedEnv::Text(user),
                    DbPart::Name => ResolvedEnv::Text(name),
                    DbPart::Password => ResolvedEnv::Secret(db.password.clone()),
                    DbPart::Url => ResolvedEnv::SecretUrl {
                        before: format!("{}://{user}:", engine.url_scheme()),
                        password: db.password.clone(),
                        after: format!("@{host}:{}/{}", engine.port(), engine.url_path(&name)),
                    },
                }
            }
        }
    }

    /// The host name of `owner`'s database as an app in `namespace` reaches it:
    /// `<owner>-db` in the same namespace (and on a host, `namespace` being `None`),
    /// `<owner>-db.<namespace>.svc` from another namespace.
    pub fn db_host_from(&self, env: &Name, namespace: Option<&str>, owner: &Name) -> String {
        let host = db_host(owner);
        match (namespace, self.apps.get(owner)) {
            (Some(ns), Some(app)) => {
                let theirs = self.namespace(env, owner, app);
                if theirs == ns {
                    host
                } else {
                    format!("{host}.{theirs}.svc")
                }
            }
            _ => host,
        }
    }

    /// The secret key an env value reads, if any: a secret's, or a database's
    /// password (its `password` and `url` parts).
    pub fn env_secret(&self, value: &EnvValue) -> Option<SecretRef> {
        match value {
            EnvValue::Secret(r) => Some(r.clone()),
            EnvValue::Database(d) if matches!(d.part, DbPart::Password | DbPart::Url) => self
                .apps
                .get(&d.database)
                .and_then(|a| a.database.as_ref())
                .map(|db| db.password.clone()),
            _ => None,
        }
    }

    /// The other apps whose databases `name` takes a part of, each once, with the
    /// database.
    pub fn consumed_databases(&self, name: &Name, app: &App) -> Vec<(&Name, &Database)> {
        let owners: std::collections::BTreeSet<&Name> = app
            .all_env()
            .filter_map(|(_, v)| match v {
                EnvValue::Database(d) if &d.database != name => Some(&d.database),
                _ => None,
            })
            .collect();
        owners
            .into_iter()
            .filter_map(|o| {
                let (n, a) = self.apps.get_key_value(o)?;
                Some((n, a.database.as_ref()?))
            })
            .collect()
    }

    /// The enabled apps, other than `owner`, whose variables (their own or their
    /// other containers') take a part of `owner`'s database.
    pub fn db_consumers(&self, owner: &Name) -> Vec<(&Name, &App)> {
        self.enabled_apps()
            .filter(|(name, app)| {
                *name != owner
                    && app
                        .all_env()
                        .any(|(_, v)| matches!(v, EnvValue::Database(d) if &d.database == owner))
            })
            .collect()
    }

    /// The full reference of a pinned image, e.g. `registry.example.com/tools/x:1.2`.
    pub fn pinned_image(&self, image: &PinnedImage) -> String {
        let name = match self.registries.get(&image.registry) {
            Some(r) => format!("{}/{}", r.host, image.repository),
            None => image.repository.clone(),
        };
        format!("{name}:{}", image.tag)
    }

    /// The full image reference without tag, e.g. `registry.example.com/team/app`.
    pub fn image_name(&self, image: &Image) -> String {
        match self.registries.get(&image.registry) {
            Some(r) => format!("{}/{}", r.host, image.repository),
            None => image.repository.clone(),
        }
    }
}

impl Route {
    /// Whether the Caddy of `host` serves this route of something running on `host`:
    /// it has no `via`, or its `via` names the host.
    pub fn served_by_host(&self, host: &Name) -> bool {
        self.via.as_ref().is_none_or(|v| v == host)
    }
}

impl App {
    /// On host `host`: the address and host port the app's port is published on.
    /// An app whose routes the host's Caddy serves is published on loopback unless
    /// `publish` says otherwise.
    pub fn host_publish(&self, host: &Name) -> Option<(String, u16)> {
        match &self.publish {
            Some(p) => Some((p.address.clone(), p.port.unwrap_or(self.http_port()))),
            None if self.routes.values().any(|r| r.served_by_host(host)) => {
                Some(("127.0.0.1".to_owned(), self.http_port()))
            }
            None => None,
        }
    }

    /// How its image's tag is chosen (`push` for a data service, which has no image).
    pub fn automation(&self) -> TagAutomation {
        self.image
            .as_ref()
            .map_or(TagAutomation::Push, |i| i.automation)
    }

    /// Whether Flux image automation picks its image's tag (`automation: flux`, no
    /// pinned tag).
    pub fn flux_picks_tag(&self) -> bool {
        self.image
            .as_ref()
            .is_some_and(|i| i.automation == TagAutomation::Flux && i.tag.is_none())
    }

    /// The tag its image is pinned to in the model.
    pub fn pinned_tag(&self) -> Option<&str> {
        self.image.as_ref().and_then(|i| i.tag.as_deref())
    }

    /// Whether something of its own runs all the time (a Deployment, StatefulSet or
    /// DaemonSet; a compose service): not for a jobs-only app or a data service.
    pub fn has_workload(&self) -> bool {
        self.kind != WorkloadKind::Jobs && !self.is_data_service()
    }

    /// Whether it is a data service: no image, only its `database` runs.
    pub fn is_data_service(&self) -> bool {
        self.image.is_none()
    }

    /// Every variable of the app: its own, then its init containers' and sidecars',
    /// each with the JSON pointer (below the app) of its value.
    pub fn all_env(&self) -> impl Iterator<Item = (String, &EnvValue)> {
        let own = self.env.iter().map(|(k, v)| (format!("/env/{k}"), v));
        let containers = self
            .init_containers
            .iter()
            .map(|(n, c)| ("initContainers", n, c))
            .chain(self.sidecars.iter().map(|(n, c)| ("sidecars", n, c)));
        own.chain(containers.flat_map(|(field, n, c)| {
            c.env
                .iter()
                .map(move |(k, v)| (format!("/{field}/{n}/env/{k}"), v))
        }))
    }
}

/// The host name of the database of `app`: its Service on a cluster, its compose
/// service on a host.
pub fn db_host(app: &Name) -> String {
    format!("{app}-db")
}

/// An environment variable's value as targets render it ([`Model::resolve_env`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ResolvedEnv {
    /// Text, written as it is.
    Text(String),
    /// A key of a secret.
    Secret(SecretRef),
    /// `before` + the secret password + `after` (a connection URL).
    SecretUrl {
        /// The text before the password, e.g. `mysql://app:`.
        before: String,
        /// The password.
        password: SecretRef,
        /// The text after it, e.g. `@app-db:3306/app`.
        after: String,
    },
}

impl Database {
    /// What kiln knows of the database's server.
    pub fn engine(&self) -> &'static dyn Engine {
        self.engine.engine()
    }

    /// The database and user name.
    pub fn db_name(&self, app: &Name) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| app.as_str().replace('-', "_"))
    }
}
