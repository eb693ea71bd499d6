//! An app's volumes on a cluster (see [`crate::model::Volume`]): a PersistentVolumeClaim
//! per `persistent` volume (for a StatefulSet, a `volumeClaimTemplate`: each pod gets
//! its own claim), and the pod's volumes and the container's mounts for all.

use super::{AppCx, Object, Workload};
use crate::model::{Persistent, Source, Volume as ModelVolume, WorkloadKind, pod_volume_name};
use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, HostPathVolumeSource, NFSVolumeSource, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// The annotation that keeps Flux from pruning a volume kept on delete.
pub const FLUX_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";

/// The name of the PersistentVolumeClaim of an app's persistent volume.
pub fn claim_name(app: &str, volume: &str) -> String {
    format!("{app}-{volume}")
}

/// Adds the app's volumes: the pod's volumes, the container's mounts, a claim per
/// `persistent` volume, and `Recreate` when only one pod can write a volume.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let (volumes, mounts) = pod_volumes(cx);
    if !mounts.is_empty() {
        w.container()
            .volume_mounts
            .get_or_insert_with(Vec::new)
            .extend(mounts);
    }
    if !volumes.is_empty() {
        w.pod.volumes.get_or_insert_with(Vec::new).extend(volumes);
    }
    w.recreate |= needs_recreate(cx);
    if cx.app.kind == WorkloadKind::StatefulSet {
        let persistent: Vec<_> = persistent(cx).collect();
        w.delete_claims = !persistent.is_empty() && persistent.iter().all(|(_, p)| !p.keep);
        w.volume_claim_templates
            .extend(
                persistent
                    .into_iter()
                    .map(|(name, p)| PersistentVolumeClaim {
                        metadata: ObjectMeta {
                            name: Some(pod_volume_name(name)),
                            ..Default::default()
                        },
                        spec: Some(claim_spec(cx, p)),
                        ..Default::default()
                    }),
            );
    } else {
        w.objects.extend(claims(cx));
    }
}

/// The app's `persistent` volumes, by name.
fn persistent<'a>(cx: &'a AppCx<'_>) -> impl Iterator<Item = (&'a str, &'a Persistent)> {
    cx.app
        .volumes
        .iter()
        .filter_map(|(name, vol)| match vol.source() {
            Some(Source::Persistent(p)) => Some((name.as_str(), p)),
            _ => None,
        })
}

/// The claim of a persistent volume: its access mode, size and storage class (the
/// volume's, else the cluster's).
fn claim_spec(cx: &AppCx<'_>, p: &Persistent) -> PersistentVolumeClaimSpec {
    let storage_class = p
        .storage_class
        .as_ref()
        .or(cx.cluster.storage_class.as_ref())
        .map(ToString::to_string);
    PersistentVolumeClaimSpec {
        access_modes: Some(vec![p.access_mode.as_str().to_owned()]),
        storage_class_name: storage_class,
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(p.size.clone()),
            )])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The PersistentVolumeClaims of the app's `persistent` volumes.
fn claims(cx: &AppCx<'_>) -> Vec<Object> {
    let mut out = Vec::new();
    for (name, p) in persistent(cx) {
        let mut meta = cx.meta(&claim_name(cx.name.as_str(), name), "data");
        if p.keep {
            meta.annotations = Some(BTreeMap::from([(
                FLUX_PRUNE.to_owned(),
                "disabled".to_owned(),
            )]));
        }
        out.push(Object::from(&PersistentVolumeClaim {
            metadata: meta,
            spec: Some(claim_spec(cx, p)),
            ..Default::default()
        }));
    }
    out
}

/// The pod volumes and container mounts of the app's volumes, in the model's order.
fn pod_volumes(cx: &AppCx<'_>) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for (name, vol) in &cx.app.volumes {
        // A StatefulSet's persistent volume is a claim template of this name, not a
        // pod volume.
        let template = cx.app.kind == WorkloadKind::StatefulSet
            && matches!(vol.source(), Some(Source::Persistent(_)));
        let volume = match pod_volume(cx, name.as_str(), vol) {
            Some(v) => v,
            None if template => Volume {
                name: pod_volume_name(name.as_str()),
                ..Default::default()
            },
            None => continue,
        };
        for m in vol.all_mounts() {
            mounts.push(VolumeMount {
                name: volume.name.clone(),
                mount_path: m.path,
                sub_path: m.sub_path,
                read_only: m.read_only.then_some(true),
                ..Default::default()
            });
        }
        if !template {
            volumes.push(volume);
        }
    }
    (volumes, mounts)
}

fn pod_volume(cx: &AppCx<'_>, name: &str, vol: &ModelVolume) -> Option<Volume> {
    let mut v = Volume {
        name: pod_volume_name(name),
        ..Default::default()
    };
    match vol.source()? {
        // A StatefulSet's pods each mount their claim of the template by this name.
        Source::Persistent(_) if cx.app.kind == WorkloadKind::StatefulSet => return None,
        Source::Persistent(_) => {
            v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(cx.name.as_str(), name),
                read_only: None,
            });
        }
        Source::Claim(c) => {
            v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: c.name.to_string(),
                read_only: None,
            });
        }
        Source::HostPath(path) => {
            v.host_path = Some(HostPathVolumeSource {
                path: path.to_owned(),
                type_: Some("Directory".to_owned()),
            });
        }
        Source::Nfs(nfs) => {
            v.nfs = Some(NFSVolumeSource {
                server: nfs.server.clone(),
                path: nfs.path.clone(),
                read_only: None,
            });
        }
        Source::Scratch(s) => {
            v.empty_dir = Some(EmptyDirVolumeSource {
                medium: s.memory.then(|| "Memory".to_owned()),
                size_limit: s.size_limit.clone().map(Quantity),
                ..Default::default()
            });
        }
    }
    Some(v)
}

/// Whether a volume of the app can be written by one pod at a time: the Deployment is
/// then replaced (`Recreate`), since a rolling update's new pod could not mount it.
fn needs_recreate(cx: &AppCx<'_>) -> bool {
    cx.app
        .volumes
        .values()
        .any(|v| v.access_mode().is_some_and(|m| m.single_writer()))
}
