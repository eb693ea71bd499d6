//! `backup` of a persistent volume on a cluster (see [`crate::model::VolumeBackup`]):
//! a CronJob `<app>-<volume>-backup` that mounts the volume's claim read-only and
//! writes a dated `.tar.gz` into a claim of its own (same name), deleting archives
//! older than `retentionDays`, as the database backup does. A ReadWriteOnce claim is
//! mounted by one node at a time: the job's pod is placed on the node of the app's
//! pod (pod affinity on the app's selector). `validate::backups` reports a backup on
//! any other kind of volume.

use super::{AppCx, Object, Workload};
use crate::model::{Persistent, Source, VolumeBackup, archive_prefix};
use crate::render::kubernetes::{features::volumes::claim_name, labels, pod};
use crate::render::templates::shell_quote;
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodAffinity, PodAffinityTerm, PodSpec, PodTemplateSpec,
    Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

/// The image that archives volumes (busybox: `tar`, `gzip`, `find`, `crond`), pinned.
pub const IMAGE: &str = "busybox:1.37.0";

/// Where the job mounts the volume it archives.
pub const SOURCE_DIR: &str = "/data";
/// Where the job mounts the claim archives go to.
pub const BACKUP_DIR: &str = "/backups";

/// The name of the backup CronJob of an app's volume, and of the claim its archives
/// are written to.
pub fn backup_name(app: &str, volume: &str) -> String {
    format!("{app}-{volume}-backup")
}

/// The shell script that archives the folder `src` into a dated `.tar.gz` in `dest`
/// and deletes archives older than `retention_days`: what the backup CronJob on a
/// cluster and the backup service on a host run (busybox or GNU `tar`, `find`,
/// `date`). It writes a partial file first, so an interrupted run leaves no archive
/// that looks whole.
pub fn archive_script(src: &str, dest: &str, prefix: &str, retention_days: u32) -> String {
    let (src, dest, file) = (
        shell_quote(src),
        shell_quote(dest),
        shell_quote(&format!("{prefix}_")),
    );
    let pattern = shell_quote(&format!("{prefix}_*.tar.gz"));
    format!(
        "set -eu\n\
         file={dest}/{file}\"$(date -u +%Y%m%dT%H%M%SZ).tar.gz\"\n\
         tar -czf \"$file.partial\" -C {src} .\n\
         mv \"$file.partial\" \"$file\"\n\
         find {dest} -name {pattern} -type f -mmin +{minutes} -delete\n\
         echo \"Backup completed: $file\"\n",
        minutes = u64::from(retention_days) * 24 * 60,
    )
}

/// The persistent volumes of the app that have a `backup`, by name.
pub fn backed_up(app: &crate::model::App) -> Vec<(&str, &Persistent, &VolumeBackup)> {
    app.volumes
        .iter()
        .filter_map(|(name, v)| match (v.source(), &v.backup) {
            (Some(Source::Persistent(p)), Some(b)) => Some((name.as_str(), p, b)),
            _ => None,
        })
        .collect()
}

/// Adds a backup claim and CronJob per backed-up persistent volume.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    for (volume, persistent, backup) in backed_up(cx.app) {
        w.objects
            .push(Object::from(&backup_claim(cx, volume, persistent, backup)));
        w.objects.push(Object::from(&cronjob(cx, volume, backup)));
    }
}

fn backup_claim(
    cx: &AppCx<'_>,
    volume: &str,
    persistent: &Persistent,
    backup: &VolumeBackup,
) -> PersistentVolumeClaim {
    let name = backup_name(cx.name.as_str(), volume);
    let mut meta = cx.meta(&name, "backup");
    // Archives outlive the app like the data they copy.
    meta.annotations = Some(BTreeMap::from([(
        super::volumes::FLUX_PRUNE.to_owned(),
        "disabled".to_owned(),
    )]));
    PersistentVolumeClaim {
        metadata: meta,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
            storage_class_name: cx.cluster.storage_class.as_ref().map(ToString::to_string),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(
                        backup
                            .storage
                            .clone()
                            .unwrap_or_else(|| persistent.size.clone()),
                    ),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn cronjob(cx: &AppCx<'_>, volume: &str, backup: &VolumeBackup) -> CronJob {
    let app = cx.name.as_str();
    let name = backup_name(app, volume);
    let uid = cx.app.security.run_as_user;
    let gid = cx.app.security.run_as_group.unwrap_or(uid);
    // The job's pod carries its own name, not the app's: the app's Service and
    // policies must not select it.
    let pod_meta = ObjectMeta {
        labels: Some(labels::standard(&name, cx.group.as_str(), "backup")),
        ..Default::default()
    };
    let container = Container {
        name: "backup".to_owned(),
        image: Some(IMAGE.to_owned()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            archive_script(
                SOURCE_DIR,
                BACKUP_DIR,
                &archive_prefix(app, volume),
                backup.retention_days,
            ),
        ]),
        resources: Some(pod::helper_resources()),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "data".to_owned(),
                mount_path: SOURCE_DIR.to_owned(),
                read_only: Some(true),
                ..Default::default()
            },
            VolumeMount {
                name: "backups".to_owned(),
                mount_path: BACKUP_DIR.to_owned(),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    let claim = |claim_name: String, read_only: bool| PersistentVolumeClaimVolumeSource {
        claim_name,
        read_only: read_only.then_some(true),
    };
    CronJob {
        metadata: cx.meta(&name, "backup"),
        spec: CronJobSpec {
            schedule: backup.schedule.clone(),
            concurrency_policy: Some("Forbid".to_owned()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template: PodTemplateSpec {
                        metadata: Some(pod_meta),
                        spec: Some(PodSpec {
                            automount_service_account_token: Some(false),
                            restart_policy: Some("OnFailure".to_owned()),
                            security_context: Some(pod::pod_security(uid, gid)),
                            // A ReadWriteOnce claim is mounted on one node: the app's.
                            affinity: Some(Affinity {
                                pod_affinity: Some(PodAffinity {
                                    required_during_scheduling_ignored_during_execution: Some(
                                        vec![PodAffinityTerm {
                                            label_selector: Some(LabelSelector {
                                                match_labels: Some(labels::selector(app)),
                                                ..Default::default()
                                            }),
                                            topology_key: "kubernetes.io/hostname".to_owned(),
                                            ..Default::default()
                                        }],
                                    ),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            containers: vec![container],
                            volumes: Some(vec![
                                Volume {
                                    name: "data".to_owned(),
                                    persistent_volume_claim: Some(claim(
                                        claim_name(app, volume),
                                        true,
                                    )),
                                    ..Default::default()
                                },
                                Volume {
                                    name: "backups".to_owned(),
                                    persistent_volume_claim: Some(claim(name.clone(), false)),
                                    ..Default::default()
                                },
                            ]),
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The shell script that replaces the contents of `dest` with the archive `$1` of
/// `src` (checked whole first, so a broken archive leaves the volume untouched).
pub fn restore_script(src: &str, dest: &str) -> String {
    let (src, dest) = (shell_quote(src), shell_quote(dest));
    format!(
        "set -eu\n\
         archive={src}/\"$1\"\n\
         tar -tzf \"$archive\" > /dev/null\n\
         find {dest} -mindepth 1 -delete\n\
         tar -xzf \"$archive\" -C {dest}\n\
         echo \"Restore completed: $archive\"\n"
    )
}

/// The name of the one-off pod that restores an archive into an app's volume.
pub fn restore_pod_name(app: &str, volume: &str) -> String {
    format!("{app}-{volume}-restore")
}

/// The `kubectl run --override-type=strategic --overrides` pod of a volume restore:
/// busybox as the app's user, the volume's claim writable at `/data` and the backup
/// claim read-only at `/backups`, running [`restore_script`] on the archive named by
/// the command's argument (the container is named after the pod, as `kubectl run`
/// names it, so the two merge). Meets Pod Security "restricted".
pub fn restore_overrides(app: &crate::model::App, name: &str, volume: &str) -> String {
    let uid = app.security.run_as_user;
    let gid = app.security.run_as_group.unwrap_or(uid);
    let mut security = pod::pod_security(uid, gid);
    if let Some(group) = app.security.fs_group {
        security.fs_group = Some(i64::from(group));
    }
    let pod = restore_pod_name(name, volume);
    let claim = |claim_name: String, read_only: bool| PersistentVolumeClaimVolumeSource {
        claim_name,
        read_only: read_only.then_some(true),
    };
    let spec = PodSpec {
        automount_service_account_token: Some(false),
        restart_policy: Some("Never".to_owned()),
        security_context: Some(security),
        containers: vec![Container {
            name: pod,
            image: Some(IMAGE.to_owned()),
            command: Some(vec![
                "sh".to_owned(),
                "-c".to_owned(),
                restore_script(BACKUP_DIR, SOURCE_DIR),
                "restore".to_owned(),
            ]),
            resources: Some(pod::helper_resources()),
            security_context: Some(pod::container_security(true)),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: "data".to_owned(),
                    mount_path: SOURCE_DIR.to_owned(),
                    ..Default::default()
                },
                VolumeMount {
                    name: "backups".to_owned(),
                    mount_path: BACKUP_DIR.to_owned(),
                    read_only: Some(true),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }],
        volumes: Some(vec![
            Volume {
                name: "data".to_owned(),
                persistent_volume_claim: Some(claim(claim_name(name, volume), false)),
                ..Default::default()
            },
            Volume {
                name: "backups".to_owned(),
                persistent_volume_claim: Some(claim(backup_name(name, volume), true)),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    serde_json::to_string_pretty(&serde_json::json!({"apiVersion": "v1", "spec": spec}))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The restore script, run by a real shell on a real archive, replaces the
    /// folder's contents; a broken archive leaves them untouched.
    #[test]
    fn the_restore_script_replaces_contents_and_refuses_a_broken_archive() {
        let tmp = tempfile::tempdir().unwrap();
        let (data, backups) = (tmp.path().join("data"), tmp.path().join("backups"));
        std::fs::create_dir_all(data.join("old")).unwrap();
        std::fs::write(data.join("old/file"), "old").unwrap();
        std::fs::create_dir_all(&backups).unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("kuma.db"), "new").unwrap();
        let run = |script: String, arg: &str| {
            std::process::Command::new("sh")
                .args(["-c", &script, "restore", arg])
                .status()
                .unwrap()
                .success()
        };
        let (b, d) = (backups.to_str().unwrap(), data.to_str().unwrap());
        assert!(run(
            archive_script(src.to_str().unwrap(), b, "app-data", 7),
            ""
        ));
        let archive = std::fs::read_dir(&backups)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name();
        std::fs::write(backups.join("broken.tar.gz"), "not gzip").unwrap();
        assert!(!run(restore_script(b, d), "broken.tar.gz"));
        assert_eq!(
            std::fs::read_to_string(data.join("old/file")).unwrap(),
            "old"
        );
        assert!(run(restore_script(b, d), archive.to_str().unwrap()));
        assert!(!data.join("old").exists());
        assert_eq!(
            std::fs::read_to_string(data.join("kuma.db")).unwrap(),
            "new"
        );
    }

    #[test]
    fn the_restore_pod_mounts_the_claims_as_the_app_user() {
        let app: crate::model::App = serde_json::from_value(serde_json::json!({
            "image": {"registry": "hub", "repository": "kuma", "tag": "2.0.2"},
            "port": 3001,
            "security": {"runAsUser": 1000, "fsGroup": 2000},
        }))
        .unwrap();
        let o: serde_json::Value =
            serde_json::from_str(&restore_overrides(&app, "kuma", "data")).unwrap();
        // `kubectl run --overrides` requires the apiVersion.
        assert_eq!(o["apiVersion"], "v1");
        let spec = &o["spec"];
        assert_eq!(spec["securityContext"]["runAsUser"], 1000);
        assert_eq!(spec["securityContext"]["fsGroup"], 2000);
        assert_eq!(spec["containers"][0]["name"], "kuma-data-restore");
        assert_eq!(
            spec["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "kuma-data"
        );
        assert_eq!(
            spec["volumes"][1]["persistentVolumeClaim"],
            serde_json::json!({"claimName": "kuma-data-backup", "readOnly": true})
        );
    }

    #[test]
    fn the_archive_script_quotes_paths_and_prunes_by_minutes() {
        let s = archive_script("/srv/my data", "/backups", "app-data", 7);
        assert!(s.contains("-C '/srv/my data' ."), "{s}");
        assert!(
            s.contains("-name 'app-data_*.tar.gz' -type f -mmin +10080 -delete"),
            "{s}"
        );
    }
}
