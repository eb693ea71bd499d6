//! The app itself: its Deployment, StatefulSet or DaemonSet (`kind`), ClusterIP
//! Service, migration Job and the CronJobs of its `jobs`, built from the bare workload
//! and every feature in [`features::FEATURES`].

use super::features::{self, Workload};
use super::{AppCx, Object, labels, pod};
use crate::model::WorkloadKind;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, Deployment, DeploymentSpec,
    DeploymentStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The workload of the app's `kind`, Service and (when the app has migrations) the
/// migration Job, then the objects the app's features add (see [`features`]) and the
/// CronJobs of its jobs.
pub fn objects(cx: &AppCx<'_>) -> Vec<Object> {
    let w = build(cx);
    let workload = match cx.app.kind {
        WorkloadKind::Deployment => Object::from(&deployment(cx, &w)),
        WorkloadKind::StatefulSet => Object::from(&stateful_set(cx, &w)),
        WorkloadKind::DaemonSet => Object::from(&daemon_set(cx, &w)),
        // Only the CronJobs (and what the features add, e.g. claims and config
        // maps): nothing runs between the runs, and nothing listens.
        WorkloadKind::Jobs => {
            let mut out = w.objects.clone();
            out.extend(features::jobs::cron_jobs(cx, &w));
            return out;
        }
    };
    let mut out = vec![
        workload,
        Object::from(&Service {
            metadata: cx.meta(cx.name.as_str(), "app"),
            spec: Some(w.service.clone()),
            ..Default::default()
        }),
    ];
    if cx.app.migrations.is_some() {
        out.push(Object::from(&migration_job(cx, &w)));
    }
    out.extend(w.objects.iter().cloned());
    out.extend(features::jobs::cron_jobs(cx, &w));
    out
}

/// The app's workload: the bare one with every feature applied.
pub fn build(cx: &AppCx<'_>) -> Workload {
    let mut w = bare(cx);
    features::apply_all(cx, &mut w);
    w
}

/// The workload before any feature: the app's container (image, port, environment,
/// resources, security), its pod (security, pull secrets, the database wait, writable
/// paths) and a ClusterIP Service on its port.
fn bare(cx: &AppCx<'_>) -> Workload {
    let sec = &cx.app.security;
    let (volumes, mounts) = pod::writable_paths(&sec.writable_paths);
    let container = Container {
        name: cx.name.to_string(),
        image: Some(cx.image.clone()),
        image_pull_policy: Some("Always".to_owned()),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: i32::from(cx.app.http_port()),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        env: Some(pod::env(cx)).filter(|e| !e.is_empty()),
        env_from: pod::env_from(cx),
        resources: pod::resources(cx.app.resources.as_ref()),
        security_context: Some(app_security(cx)),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Default::default()
    };
    let mut waits: Vec<_> = cx
        .app
        .database
        .iter()
        .map(|db| pod::wait_for_db(&cx.db_service(), db.engine().port(), true))
        .collect();
    // The databases of other apps it takes a part of, by the host its variables use.
    for (owner, db) in cx.model.consumed_databases(cx.name, cx.app) {
        let host = cx
            .model
            .db_host_from(&cx.env.name, Some(&cx.namespace), owner);
        let mut wait = pod::wait_for_db(&host, db.engine().port(), true);
        wait.name = format!("wait-for-{owner}-db");
        waits.push(wait);
    }
    let init = (!waits.is_empty()).then_some(waits);
    let pod = PodSpec {
        automount_service_account_token: Some(false),
        security_context: Some(pod::pod_security(sec.uid(), sec.gid())),
        image_pull_secrets: pod::pull_secrets(cx),
        init_containers: init,
        containers: vec![container],
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..Default::default()
    };
    let service = ServiceSpec {
        type_: Some("ClusterIP".to_owned()),
        selector: Some(labels::app_pods(cx.name.as_str())),
        ports: Some(vec![ServicePort {
            name: Some("http".to_owned()),
            port: i32::from(cx.app.http_port()),
            target_port: Some(IntOrString::String("http".to_owned())),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    Workload {
        pod,
        service,
        recreate: false,
        replicas: Some(i32::try_from(cx.app.replicas).unwrap_or(i32::MAX)),
        objects: Vec::new(),
        volume_claim_templates: Vec::new(),
        delete_claims: false,
    }
}

/// The app container's security context: restricted unless the model runs it as root.
fn app_security(cx: &AppCx<'_>) -> k8s_openapi::api::core::v1::SecurityContext {
    let mut sc = pod::container_security(cx.app.security.read_only_root_filesystem);
    let sec = &cx.app.security;
    sc.run_as_non_root = Some(!sec.is_root());
    if sec.root.is_some() {
        sc.run_as_user = Some(0);
    }
    if let Some(caps) = sc.capabilities.as_mut() {
        caps.add = Some(sec.added_capabilities().to_vec()).filter(|c| !c.is_empty());
    }
    sc
}

fn deployment(cx: &AppCx<'_>, w: &Workload) -> Deployment {
    Deployment {
        metadata: cx.meta(cx.name.as_str(), "app"),
        spec: DeploymentSpec {
            replicas: w.replicas,
            revision_history_limit: Some(5),
            strategy: w.recreate.then(|| DeploymentStrategy {
                type_: Some("Recreate".to_owned()),
                ..Default::default()
            }),
            selector: selector(cx),
            template: template(cx, w),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn selector(cx: &AppCx<'_>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(cx.name.as_str())),
        ..Default::default()
    }
}

fn template(cx: &AppCx<'_>, w: &Workload) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(cx.meta(cx.name.as_str(), "app")),
        spec: Some(w.pod.clone()),
    }
}

/// A StatefulSet: named after its Service (`serviceName`), rolled one pod at a time,
/// each pod with its own claims of the `volumeClaimTemplates`, kept when the
/// StatefulSet is deleted or scaled down unless every persistent volume says
/// `keep: false`.
fn stateful_set(cx: &AppCx<'_>, w: &Workload) -> StatefulSet {
    StatefulSet {
        metadata: cx.meta(cx.name.as_str(), "app"),
        spec: StatefulSetSpec {
            replicas: w.replicas,
            revision_history_limit: Some(5),
            service_name: Some(cx.name.to_string()),
            selector: selector(cx),
            template: template(cx, w),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_owned()),
                ..Default::default()
            }),
            volume_claim_templates: (!w.volume_claim_templates.is_empty())
                .then(|| w.volume_claim_templates.clone()),
            persistent_volume_claim_retention_policy: w.delete_claims.then(|| {
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Delete".to_owned()),
                    when_scaled: Some("Retain".to_owned()),
                }
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A DaemonSet: one pod per node, rolled node by node.
fn daemon_set(cx: &AppCx<'_>, w: &Workload) -> DaemonSet {
    DaemonSet {
        metadata: cx.meta(cx.name.as_str(), "app"),
        spec: DaemonSetSpec {
            revision_history_limit: Some(5),
            selector: selector(cx),
            template: template(cx, w),
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The mounts of the app's container that a pod other than the app's can have: the
/// claim templates of a StatefulSet belong to its own pods, so other pods (the
/// migration Job, jobs) do not mount them.
pub fn shared_mounts(w: &Workload) -> Option<Vec<k8s_openapi::api::core::v1::VolumeMount>> {
    let mounts = w.pod.containers[0].volume_mounts.as_ref()?;
    let own: Vec<&str> = w
        .volume_claim_templates
        .iter()
        .filter_map(|t| t.metadata.name.as_deref())
        .collect();
    let shared: Vec<_> = mounts
        .iter()
        .filter(|m| !own.contains(&m.name.as_str()))
        .cloned()
        .collect();
    (!shared.is_empty()).then_some(shared)
}

/// The name of an app's migration Job.
pub fn migration_job_name(app: &str) -> String {
    format!("{app}-migrate")
}

/// The migration Job: the app's image running `migrations.command` in the app's pod
/// (environment, security, volumes, database wait). The app must have `migrations`.
pub fn migration_job(cx: &AppCx<'_>, w: &Workload) -> Job {
    let Some(migrations) = &cx.app.migrations else {
        unreachable!("checked by objects()")
    };
    let name = migration_job_name(cx.name.as_str());
    let container = Container {
        name: "migrate".to_owned(),
        image: Some(cx.image.clone()),
        image_pull_policy: Some("Always".to_owned()),
        command: Some(migrations.command.clone()),
        env: Some(pod::env(cx)).filter(|e| !e.is_empty()),
        resources: pod::resources(cx.app.resources.as_ref()),
        security_context: Some(app_security(cx)),
        volume_mounts: shared_mounts(w),
        ..Default::default()
    };
    let mut spec = w.pod.clone();
    spec.containers = vec![container];
    spec.restart_policy = Some("Never".to_owned());
    // Spreading is for the app's replicas, not for a migration run.
    spec.topology_spread_constraints = None;
    Job {
        metadata: cx.job_meta(&name, "migration"),
        spec: Some(JobSpec {
            backoff_limit: Some(2),
            active_deadline_seconds: Some(600),
            template: PodTemplateSpec {
                metadata: Some(cx.meta(&name, "migration")),
                spec: Some(spec),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, VolumeMount};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    /// A StatefulSet's claim templates are its own pods': the migration Job and the
    /// jobs mount the rest of the app's volumes, not those.
    #[test]
    fn other_pods_do_not_mount_claim_templates() {
        let mount = |name: &str| VolumeMount {
            name: name.to_owned(),
            mount_path: format!("/{name}"),
            ..Default::default()
        };
        let w = Workload {
            pod: PodSpec {
                containers: vec![Container {
                    volume_mounts: Some(vec![mount("vol-data"), mount("tmp")]),
                    ..Default::default()
                }],
                ..Default::default()
            },
            service: ServiceSpec::default(),
            replicas: Some(1),
            recreate: false,
            objects: Vec::new(),
            volume_claim_templates: vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("vol-data".to_owned()),
                    ..Default::default()
                },
                ..Default::default()
            }],
            delete_claims: false,
        };
        let names: Vec<_> = shared_mounts(&w)
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["tmp"]);
    }
}
