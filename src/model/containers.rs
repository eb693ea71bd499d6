//! Sidecars and init containers of an app (see [`crate::model::App::sidecars`]): more
//! containers in the app's pod on a cluster, more compose services beside the app's
//! on a host.
//!
//! | | cluster | host |
//! |---|---|---|
//! | sidecar | a container of the app's pod | a service sharing the app's network (`network_mode: service:<app>`) and volumes |
//! | init container | an init container, after kiln's database wait | a service with `restart: "no"` the app waits for (`service_completed_successfully`) |

use super::{EnvValue, Name, Resources};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One more container of an app: its image, command, environment, the app's volumes
/// it mounts, and its resources. It runs as the app does (user, read-only root,
/// no capabilities).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Container {
    /// The image, pinned to a tag (no automation moves it).
    pub image: PinnedImage,
    /// Replaces the image's entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub command: Option<Vec<String>>,
    /// Replaces the image's arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Environment variables, as the app's `env` (a plain value, a secret key the app
    /// uses, or route origins).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, EnvValue>,
    /// The app's volumes this container mounts, by the app's volume name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<Name, ContainerMount>,
    /// CPU and memory requests and limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// A pinned image: a registry of `registries`, a repository and a tag.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PinnedImage {
    /// The registry (a name under `registries`).
    pub registry: Name,
    /// The repository path in the registry, e.g. `library/busybox`.
    #[schemars(regex(pattern = r"^[a-z0-9]+([._/-][a-z0-9]+)*$"))]
    pub repository: String,
    /// The tag, e.g. `1.37`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    pub tag: String,
}

/// Where a container mounts one of the app's volumes.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerMount {
    /// The path in the container, e.g. `/var/log/app`.
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub path: String,
    /// The folder of the volume mounted there instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^/\s]\S*$"))]
    pub sub_path: Option<String>,
    /// Mount it read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// The names an app's containers may not take: what kiln names the app's own
/// database, migration and database-wait containers and services (`<app>-db`...).
pub const RESERVED_CONTAINER_NAMES: &[&str] = &["db", "db-backup", "migrate", "wait-for-db"];
