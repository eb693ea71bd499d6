//! An app's database: StatefulSet with a volume claim, headless Service, and the
//! backup CronJob with its volume. What differs between servers is its engine's
//! ([`crate::model::engines`]).

use super::{AppCx, Object, labels, pod};
use crate::model::engines::{self, PASSWORD_DIR, PASSWORD_FILE};
use crate::model::{Backup, Database};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, ExecAction, KeyToPath, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Probe,
    SecretVolumeSource, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The database objects of an app.
pub fn objects(cx: &AppCx<'_>, db: &Database) -> Vec<Object> {
    let mut out = vec![
        Object::from(&statefulset(cx, db)),
        Object::from(&headless_service(cx, db)),
    ];
    if let Some(backup) = &db.backup {
        out.push(Object::from(&backup_claim(cx, backup)));
        out.push(Object::from(&backup_cronjob(cx, db, backup)));
    }
    out
}

/// The database password as a read-only file (`<PASSWORD_DIR>/password`).
fn password_volume(db: &Database) -> (Volume, VolumeMount) {
    (
        Volume {
            name: "db-password".to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(db.password.secret.to_string()),
                default_mode: Some(0o440),
                items: Some(vec![KeyToPath {
                    key: db.password.key.clone(),
                    path: "password".to_owned(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        },
        VolumeMount {
            name: "db-password".to_owned(),
            mount_path: PASSWORD_DIR.to_owned(),
            read_only: Some(true),
            ..Default::default()
        },
    )
}

fn plain(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn health(db: &Database, db_name: &str) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(db.engine().health(db_name, db_name)),
        }),
        initial_delay_seconds: Some(10),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        ..Default::default()
    }
}

fn claim_spec(storage_class: Option<&str>, size: &str) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
        storage_class_name: storage_class.map(str::to_owned),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(size.to_owned()),
            )])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn scratch(name: &str, path: &str) -> (Volume, VolumeMount) {
    let (mut v, mut m) = pod::writable_paths(&[path.to_owned()]);
    let (mut v, mut m) = (v.remove(0), m.remove(0));
    v.name = name.to_owned();
    m.name = name.to_owned();
    (v, m)
}

fn statefulset(cx: &AppCx<'_>, db: &Database) -> StatefulSet {
    let name = cx.db_service();
    let engine = db.engine();
    let db_name = db.db_name(cx.name);
    let (scratch_vols, scratch_mounts): (Vec<_>, Vec<_>) = engine
        .scratch()
        .iter()
        .map(|(volume, path)| scratch(volume, path))
        .unzip();
    let (password_vol, password_mount) = password_volume(db);
    let mut mounts = vec![VolumeMount {
        name: "data".to_owned(),
        mount_path: db
            .mount_path
            .clone()
            .unwrap_or_else(|| engine.data_path(&db.version).to_owned()),
        ..Default::default()
    }];
    mounts.extend(scratch_mounts);
    mounts.push(password_mount);
    let mut volumes = scratch_vols;
    volumes.push(password_vol);
    let (uid, gid) = engine.uid_gid();
    let container = Container {
        name: engine.short().to_owned(),
        image: Some(engine.image(&db.version)),
        image_pull_policy: Some("Always".to_owned()),
        ports: Some(vec![ContainerPort {
            name: Some(engine.short().to_owned()),
            container_port: i32::from(engine.port()),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        args: engine.server_args(db.persistence.unwrap_or_default(), Some(PASSWORD_FILE)),
        env: Some(
            engine
                .server_env(&db_name, &db_name, Some(PASSWORD_FILE))
                .into_iter()
                .map(|(k, v)| plain(&k, v))
                .collect::<Vec<_>>(),
        )
        .filter(|e| !e.is_empty()),
        resources: pod::resources(db.resources.as_ref()),
        liveness_probe: Some(health(db, &db_name)),
        readiness_probe: Some(health(db, &db_name)),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    StatefulSet {
        metadata: cx.db_meta(&name, "database"),
        spec: StatefulSetSpec {
            service_name: Some(name.clone()),
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels::selector(&name)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(cx.db_meta(&name, "database")),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    security_context: Some(pod::pod_security(uid, gid)),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            volume_claim_templates: Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".to_owned()),
                    ..Default::default()
                },
                spec: Some(claim_spec(
                    cx.cluster.storage_class.as_ref().map(|s| s.as_str()),
                    &db.storage,
                )),
                ..Default::default()
            }]),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn headless_service(cx: &AppCx<'_>, db: &Database) -> Service {
    let name = cx.db_service();
    let engine = db.engine();
    Service {
        metadata: cx.db_meta(&name, "database"),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_owned()),
            selector: Some(labels::pods(&name, "database")),
            ports: Some(vec![ServicePort {
                name: Some(engine.short().to_owned()),
                port: i32::from(engine.port()),
                target_port: Some(IntOrString::String(engine.short().to_owned())),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The name of the backup CronJob of an app's database.
pub fn backup_name(cx: &AppCx<'_>) -> String {
    format!("{}-backup", cx.db_service())
}

fn backup_claim(cx: &AppCx<'_>, backup: &Backup) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: cx.db_meta(&backup_name(cx), "backup"),
        spec: Some(claim_spec(
            cx.cluster.storage_class.as_ref().map(|s| s.as_str()),
            &backup.storage,
        )),
        ..Default::default()
    }
}

fn backup_cronjob(cx: &AppCx<'_>, db: &Database, backup: &Backup) -> CronJob {
    let name = backup_name(cx);
    let db_name = db.db_name(cx.name);
    let engine = db.engine();
    let (tmp_vol, tmp_mount) = scratch("tmp", "/tmp");
    let (password_vol, password_mount) = password_volume(db);
    let (uid, gid) = engine.uid_gid();
    let container = Container {
        name: "backup".to_owned(),
        image: Some(engine.image(&db.version)),
        image_pull_policy: Some("Always".to_owned()),
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            engines::backup_job(
                engine,
                &cx.db_service(),
                &db_name,
                &db_name,
                backup.retention_days,
            ),
        ]),
        resources: Some(pod::helper_resources()),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "backups".to_owned(),
                mount_path: "/backups".to_owned(),
                ..Default::default()
            },
            tmp_mount,
            password_mount,
        ]),
        ..Default::default()
    };
    CronJob {
        metadata: cx.db_meta(&name, "backup"),
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
                        metadata: Some(cx.db_meta(&name, "backup")),
                        spec: Some(PodSpec {
                            automount_service_account_token: Some(false),
                            restart_policy: Some("OnFailure".to_owned()),
                            security_context: Some(pod::pod_security(uid, gid)),
                            containers: vec![container],
                            volumes: Some(vec![
                                Volume {
                                    name: "backups".to_owned(),
                                    persistent_volume_claim: Some(
                                        PersistentVolumeClaimVolumeSource {
                                            claim_name: name.clone(),
                                            read_only: None,
                                        },
                                    ),
                                    ..Default::default()
                                },
                                tmp_vol,
                                password_vol,
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
