//! What kind of workload runs an app, and its scheduled jobs.
//!
//! | kind | cluster | host |
//! |---|---|---|
//! | `deployment` (default) | a Deployment | a compose service |
//! | `statefulset` | a StatefulSet; `persistent` volumes are `volumeClaimTemplates` | a compose service |
//! | `daemonset` | a DaemonSet (one pod per node) | (a located error: a host is one node) |
//! | `jobs` | only the CronJobs of its `jobs` | only the job services and crontab entries |
//!
//! A job (`apps.<app>.jobs.<job>`) runs the app's image with its volumes and security
//! on a schedule: a CronJob `<app>-<job>` on a cluster; on a host, a compose service
//! `<app>-<job>` in the `jobs` profile that the host's crontab runs (`deploy.sh`
//! installs the entry).

use super::{PlainValue, Resources};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of workload that runs an app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// Interchangeable pods (a Deployment on a cluster).
    #[default]
    Deployment,
    /// Pods with a stable identity, each with its own persistent volumes (a
    /// StatefulSet on a cluster; a compose service on a host).
    StatefulSet,
    /// One pod on every node, e.g. a node exporter (clusters only).
    DaemonSet,
    /// Nothing that runs all the time: only the app's `jobs`, on their schedules (a
    /// standalone scheduled task: no port, Service, route or health probe).
    Jobs,
}

impl WorkloadKind {
    /// The model's name, e.g. `statefulset`, which is also kubectl's resource type
    /// (`kubectl rollout status statefulset/web`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::Jobs => "jobs",
        }
    }

    /// The Kubernetes kind, e.g. `StatefulSet`.
    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Jobs => "CronJob",
        }
    }

    /// The API resource (plural) RBAC rules name, e.g. `statefulsets`.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
            WorkloadKind::Jobs => "cronjobs",
        }
    }
}

fn history() -> u32 {
    3
}

/// A command run in the app's image on a schedule, with the app's volumes, security
/// and environment.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Job {
    /// When, in cron syntax (five fields, or a descriptor such as `@daily`), e.g.
    /// `0 3 * * *`.
    pub schedule: String,
    /// The command and its arguments (replaces the image's entrypoint), e.g.
    /// `[/bin/sh, -c, "wget -qO- http://localhost:9090/-/healthy"]`.
    #[schemars(length(min = 1))]
    pub command: Vec<String>,
    /// Replaces the image's arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// What happens when a run is due while the previous one still runs: `forbid`
    /// (the default) skips the new run, `allow` runs both, `replace` stops the old one.
    #[serde(default)]
    pub concurrency: Concurrency,
    /// How many finished runs (successful and failed each) are kept for their logs.
    #[serde(default = "history")]
    #[schemars(range(max = 100))]
    pub history: u32,
    /// The IANA time zone of the schedule, e.g. `Europe/Berlin` (default: the
    /// cluster's controller's, UTC on most; on a host, the host's local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"))]
    pub time_zone: Option<String>,
    /// Plain variables added to (or replacing) the app's environment for this job;
    /// the job has the app's `env` (and its secrets) either way.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, PlainValue>,
    /// CPU and memory for the job (default: the app's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// What to do when a run is due while the previous one still runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Concurrency {
    /// Skip the new run.
    #[default]
    Forbid,
    /// Run both.
    Allow,
    /// Stop the running one and start the new one.
    Replace,
}

impl Concurrency {
    /// The CronJob's `concurrencyPolicy`.
    pub fn policy(self) -> &'static str {
        match self {
            Concurrency::Forbid => "Forbid",
            Concurrency::Allow => "Allow",
            Concurrency::Replace => "Replace",
        }
    }
}

/// The name of the CronJob (cluster) or compose service (host) of an app's job.
pub fn job_name(app: &str, job: &str) -> String {
    format!("{app}-{job}")
}
