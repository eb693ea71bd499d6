//! Workload features on a host: what each field of an app's model adds to its compose
//! service and project. A feature is one file here with an `apply` function and one
//! line in [`FEATURES`]; [`super::project`] builds the bare service (image, user,
//! environment, security, labels), runs every feature over it in order, and gathers
//! what they added into the project. The same feature on a cluster is a file in
//! `render/kubernetes/features/`, and its model checks are a file in `validate/`.

pub mod backups;
pub mod command;
pub mod containers;
pub mod devices;
pub mod files;
pub mod health;
pub mod jobs;
pub mod patches;
pub mod ports;
pub mod scaling;
pub mod scheduling;
pub mod security;
pub mod volumes;

use super::HostPlan;
use super::compose::{Service, Volume};
use super::scripts::{CronJob, OwnedDir, SecretFile, VolumeArchive};
use crate::model::{App, Environment, Name};
use std::collections::BTreeMap;

/// One app on a host, with what its features need to know.
pub struct HostAppCx<'a> {
    /// The host and what else runs on it.
    pub plan: &'a HostPlan<'a>,
    /// The environment.
    pub env: &'a Environment,
    /// The compose project's name.
    pub project: &'a str,
    /// The project's folder on the host (under `dataDir`).
    pub data: &'a str,
    /// The app's name.
    pub name: &'a Name,
    /// The app.
    pub app: &'a App,
}

impl HostAppCx<'_> {
    /// `uid:gid` the app runs as.
    pub fn owner(&self) -> String {
        let uid = self.app.security.uid();
        let gid = self.app.security.gid();
        format!("{uid}:{gid}")
    }
}

/// What a feature adds to: the app's service while it is being built, and the rest
/// of its compose project.
pub struct HostWorkload {
    /// The app's own service.
    pub service: Service,
    /// Other services of the app (by compose service name).
    pub services: BTreeMap<String, Service>,
    /// Top-level compose volumes, by name.
    pub volumes: BTreeMap<String, Volume>,
    /// Folders `deploy.sh` creates and gives to a user.
    pub owned_dirs: Vec<OwnedDir>,
    /// Health endpoints reachable from the host, which `deploy.sh` waits for.
    pub health_urls: Vec<String>,
    /// Secret environment files of the app's other services (the app's own is the
    /// project's).
    pub env_files: Vec<super::env_file::EnvFileSpec>,
    /// Crontab entries `deploy.sh` installs (the app's scheduled jobs).
    pub cron_jobs: Vec<CronJob>,
    /// The app's persistent volumes, which `backup.sh` archives and `restore.sh`
    /// restores.
    pub volume_archives: Vec<VolumeArchive>,
    /// Generated files of the project (config files), by path relative to its folder
    /// in `out/`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Secret files on the host that `deploy.sh` requires before starting.
    pub secret_files: Vec<SecretFile>,
}

impl HostWorkload {
    /// A workload of `service` with nothing added yet.
    pub fn new(service: Service) -> Self {
        HostWorkload {
            service,
            services: BTreeMap::new(),
            volumes: BTreeMap::new(),
            owned_dirs: Vec::new(),
            health_urls: Vec::new(),
            env_files: Vec::new(),
            cron_jobs: Vec::new(),
            volume_archives: Vec::new(),
            files: Vec::new(),
            secret_files: Vec::new(),
        }
    }

    /// Asks `deploy.sh` to create `dir` owned by `owner` (once).
    pub fn own_dir(&mut self, dir: String, owner: String) {
        if !self.owned_dirs.iter().any(|d| d.dir == dir) {
            self.owned_dirs.push(OwnedDir { dir, owner });
        }
    }
}

/// One feature: adds what the app's model says to its compose service and project.
pub type Feature = fn(&HostAppCx<'_>, &mut HostWorkload);

/// Every feature, in the order they are applied: a feature sees what the ones before
/// it added.
pub const FEATURES: &[(&str, Feature)] = &[
    ("command", command::apply),
    ("health", health::apply),
    ("security", security::apply),
    ("volumes", volumes::apply),
    ("scaling", scaling::apply),
    ("containers", containers::apply),
    ("jobs", jobs::apply),
    ("ports", ports::apply),
    ("backups", backups::apply),
    ("files", files::apply),
    ("scheduling", scheduling::apply),
    ("devices", devices::apply),
    ("patches", patches::apply),
];

/// Applies every feature to `workload`.
pub fn apply_all(cx: &HostAppCx<'_>, workload: &mut HostWorkload) {
    for (_, feature) in FEATURES {
        feature(cx, workload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every feature has a file on both targets: the names of the two registries are
    /// the same (a feature a target cannot do says so with a located error in
    /// `validate/`, and still has its file here, doing nothing).
    #[test]
    fn both_targets_register_the_same_features() {
        let hosts: Vec<_> = FEATURES.iter().map(|(n, _)| *n).collect();
        let cluster: Vec<_> = crate::render::kubernetes::features::FEATURES
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(hosts, cluster);
    }
}
