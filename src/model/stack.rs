//! Upstream compose stacks: software whose compose file comes from its vendor (the
//! seed's self-hosted Supabase) and is kept exactly as published. kiln does not write
//! that file; it writes the override beside it (backups) and the `.env` template the
//! upstream file interpolates, and routes the stack's entry point through the host's
//! Caddy.

use super::{Backup, EnvValue, Health, Name, Route};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn yes() -> bool {
    true
}

/// A compose stack maintained upstream, run on a host as its own compose project
/// (`<stack>-<env>`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Stack {
    /// What the stack is, for people reading the scripts and runbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` leaves the stack out of this environment.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The host it runs on. Defaults to the environment's `runsOn` (which must then
    /// be a host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_on: Option<Name>,
    /// Where the upstream compose file lives on the host.
    pub upstream: Upstream,
    /// The host port the upstream file publishes the stack's HTTP entry point on
    /// (Supabase: Kong, `KONG_HTTP_PORT`). Caddy proxies routes to `127.0.0.1:<port>`.
    pub port: u16,
    /// An HTTP endpoint on the entry point that `deploy.sh` waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// The variables the upstream file interpolates, written to its `.env` template:
    /// plain values, secret keys (never written; the template says where each comes
    /// from) or an app's route origins.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// How the stack's entry point is reached, by route name. Served by the host's
    /// Caddy.
    #[serde(default)]
    pub routes: BTreeMap<Name, Route>,
    /// Settings kiln adds to upstream services through the override, by service name:
    /// e.g. the Google OAuth variables Supabase's `auth` service leaves commented out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<Name, StackService>,
    /// The stack's PostgreSQL service, for scheduled and manual backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<StackDatabase>,
}

/// The upstream compose file on the host.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Upstream {
    /// The directory on the host holding the upstream files (the compose project
    /// directory: relative paths in the upstream file resolve from here).
    #[schemars(regex(pattern = r"^/[-_./A-Za-z0-9]*$"))]
    pub dir: String,
    /// The upstream compose file's name in `dir`.
    #[serde(default = "default_upstream_file")]
    #[schemars(regex(pattern = r"^[-_.A-Za-z0-9]+$"))]
    pub file: String,
    /// How to obtain the upstream files (shown by `deploy.sh` when they are missing),
    /// e.g. the repository, tag and folder to copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn default_upstream_file() -> String {
    "docker-compose.yml".to_owned()
}

/// The PostgreSQL service of an upstream stack.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackDatabase {
    /// The upstream service running PostgreSQL, e.g. `db`.
    pub service: Name,
    /// Its PostgreSQL major version; backups use `pg_dump` of this version.
    #[schemars(range(min = 12, max = 99))]
    pub version: u32,
    /// The database to dump.
    #[serde(default = "postgres")]
    #[schemars(regex(pattern = r"^[a-z_][a-z0-9_]{0,62}$"))]
    pub name: String,
    /// The user to dump as.
    #[serde(default = "postgres")]
    #[schemars(regex(pattern = r"^[a-z_][a-z0-9_]{0,62}$"))]
    pub user: String,
    /// The variable of `env` that holds the user's password, e.g. `POSTGRES_PASSWORD`.
    pub password_env: String,
    /// Scheduled dumps and how long they are kept (`storage` is not used on hosts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<Backup>,
}

fn postgres() -> String {
    "postgres".to_owned()
}

/// What the override adds to one upstream service.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackService {
    /// Environment variables added to the service. Secret keys are interpolated from
    /// the stack's `.env` (`${NAME}`, listed in its template); plain values are
    /// written as they are.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
}
