//! A PostgreSQL database: StatefulSet with a volume claim, headless Service, and the
//! backup CronJob with its volume.

use super::{AppCx, Object, labels, pod};
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

/// The PostgreSQL port.
pub const PORT: u16 = 5432;
/// The uid and gid of the `postgres` user in the official Alpine images.
pub const POSTGRES_UID: u32 = 70;

/// Where the data volume is mounted. PostgreSQL 18 images keep their data in a
/// versioned directory under `/var/lib/postgresql` and must get the parent; older
/// images use `/var/lib/postgresql/data` itself.
pub fn data_mount_path(version: u32) -> &'static str {
    if version >= 18 {
        "/var/lib/postgresql"
    } else {
        "/var/lib/postgresql/data"
    }
}

/// The image for a major version.
pub fn image(version: u32) -> String {
    format!("postgres:{version}-alpine")
}

/// The database objects of an app.
pub fn objects(cx: &AppCx<'_>, db: &Database) -> Vec<Object> {
    let mut out = vec![
        Object::from(&statefulset(cx, db)),
        Object::from(&headless_service(cx)),
    ];
    if let Some(backup) = &db.backup {
        out.push(Object::from(&backup_claim(cx, backup)));
        out.push(Object::from(&backup_cronjob(cx, db, backup)));
    }
    out
}

/// Where the password file is mounted: a file, not an environment variable, so the
/// value never shows in `kubectl describe` or the process environment.
const PASSWORD_DIR: &str = "/run/secrets/db";

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

fn pg_isready(db_name: &str) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "pg_isready".to_owned(),
                "-U".to_owned(),
                db_name.to_owned(),
                "-d".to_owned(),
                db_name.to_owned(),
            ]),
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
    let db_name = db.db_name(cx.name);
    let (run_vol, run_mount) = scratch("run", "/var/run/postgresql");
    let (tmp_vol, tmp_mount) = scratch("tmp", "/tmp");
    let (password_vol, password_mount) = password_volume(db);
    let container = Container {
        name: "postgres".to_owned(),
        image: Some(image(db.version)),
        image_pull_policy: Some("Always".to_owned()),
        ports: Some(vec![ContainerPort {
            name: Some("postgres".to_owned()),
            container_port: i32::from(PORT),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        env: Some(vec![
            plain("POSTGRES_DB", &db_name),
            // The official image reads the password from this file on first start.
            plain("POSTGRES_PASSWORD_FILE", format!("{PASSWORD_DIR}/password")),
            plain("POSTGRES_USER", &db_name),
        ]),
        resources: pod::resources(db.resources.as_ref()),
        liveness_probe: Some(pg_isready(&db_name)),
        readiness_probe: Some(pg_isready(&db_name)),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "data".to_owned(),
                mount_path: db
                    .mount_path
                    .clone()
                    .unwrap_or_else(|| data_mount_path(db.version).to_owned()),
                ..Default::default()
            },
            run_mount,
            tmp_mount,
            password_mount,
        ]),
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
                    security_context: Some(pod::pod_security(POSTGRES_UID, POSTGRES_UID)),
                    containers: vec![container],
                    volumes: Some(vec![run_vol, tmp_vol, password_vol]),
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

fn headless_service(cx: &AppCx<'_>) -> Service {
    let name = cx.db_service();
    Service {
        metadata: cx.db_meta(&name, "database"),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_owned()),
            selector: Some(labels::pods(&name, "database")),
            ports: Some(vec![ServicePort {
                name: Some("postgres".to_owned()),
                port: i32::from(PORT),
                target_port: Some(IntOrString::String("postgres".to_owned())),
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

/// The `pg_dump` format of every dump kiln schedules or documents: PostgreSQL's
/// custom format, restored by [`PG_RESTORE`]. A truncated file fails that restore
/// (plain SQL cut at a line boundary would replay as a smaller database).
pub const DUMP_FORMAT: &str = "--format=custom";

/// The file extension of a dump in [`DUMP_FORMAT`].
pub const DUMP_EXT: &str = "dump";

/// The `pg_restore` command (without connection options) of every restore kiln
/// writes or documents: drops what the dump contains and recreates it, in one
/// transaction that any error rolls back, so a failed restore leaves the database
/// as it was.
pub const PG_RESTORE: &str = "pg_restore --clean --if-exists --single-transaction --exit-on-error";

/// The shell script the backup job runs: dump (to a partial file first, so a failed
/// run leaves nothing that looks whole), prune old dumps, report.
pub fn backup_script(host: &str, db_name: &str, retention_days: u32) -> String {
    format!(
        "set -eu\n\
         file=\"/backups/{db_name}_$(date +%Y%m%d_%H%M%S).{DUMP_EXT}\"\n\
         if ! pg_dump {DUMP_FORMAT} -h {host} -U {db_name} -d {db_name} -f \"$file.partial\"; then\n\
         \x20 rm -f \"$file.partial\"\n\
         \x20 exit 1\n\
         fi\n\
         mv \"$file.partial\" \"$file\"\n\
         find /backups -name '{db_name}_*.{DUMP_EXT}' -type f -mmin +{minutes} -delete\n\
         echo \"Backup completed: $file\"\n",
        minutes = u64::from(retention_days) * 24 * 60,
    )
}

fn backup_cronjob(cx: &AppCx<'_>, db: &Database, backup: &Backup) -> CronJob {
    let name = backup_name(cx);
    let db_name = db.db_name(cx.name);
    let (tmp_vol, tmp_mount) = scratch("tmp", "/tmp");
    let (password_vol, password_mount) = password_volume(db);
    let container = Container {
        name: "backup".to_owned(),
        image: Some(image(db.version)),
        image_pull_policy: Some("Always".to_owned()),
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "PGPASSWORD=\"$(cat {PASSWORD_DIR}/password)\"\nexport PGPASSWORD\n{}",
                backup_script(&cx.db_service(), &db_name, backup.retention_days)
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
                            security_context: Some(pod::pod_security(POSTGRES_UID, POSTGRES_UID)),
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
