//! Workload features on a cluster: what each field of an app's model adds to its
//! workload. A feature is one file here with an `apply` function and one line in
//! [`FEATURES`]; [`super::workload`] builds the bare workload (the app's container with
//! its image, environment and security), runs every feature over it in order, and
//! writes the objects. The same feature on a host is a file in
//! `render/hosts/features/`, and its model checks are a file in `validate/`.

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

use super::{AppCx, Object};
use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaim, PodSpec, ServiceSpec};

/// What a feature adds to: the app's pod and Service while they are being built, and
/// the app's other objects.
pub struct Workload {
    /// The pod spec; `containers[0]` is the app's container.
    pub pod: PodSpec,
    /// The app's Service.
    pub service: ServiceSpec,
    /// Replace pods instead of rolling them (a volume only one pod can write).
    pub recreate: bool,
    /// The Deployment's `replicas`; `None` leaves the count to an autoscaler.
    pub replicas: Option<i32>,
    /// The app's other objects (claims, config maps, jobs...), in the order written.
    pub objects: Vec<Object>,
    /// For a StatefulSet: the claims each pod gets its own copy of
    /// (`volumeClaimTemplates`, named after the pod volume its mounts name).
    pub volume_claim_templates: Vec<PersistentVolumeClaim>,
    /// For a StatefulSet: its claims are deleted with it (every persistent volume says
    /// `keep: false`); by default they are kept.
    pub delete_claims: bool,
}

impl Workload {
    /// The app's own container.
    pub fn container(&mut self) -> &mut Container {
        &mut self.pod.containers[0]
    }
}

/// One feature: adds what the app's model says to its workload.
pub type Feature = fn(&AppCx<'_>, &mut Workload);

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
pub fn apply_all(cx: &AppCx<'_>, workload: &mut Workload) {
    for (_, feature) in FEATURES {
        feature(cx, workload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_are_unique() {
        let mut names: Vec<_> = FEATURES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "{names:?}");
    }
}
