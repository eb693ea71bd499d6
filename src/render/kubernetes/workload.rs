//! The app itself: its Deployment, ClusterIP Service and migration Job, built from
//! the bare workload and every feature in [`features::FEATURES`].

use super::features::{self, Workload};
use super::{AppCx, Object, labels, pod};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The Deployment, Service and (when the app has migrations) the migration Job, then
/// the objects the app's features add (see [`features`]).
pub fn objects(cx: &AppCx<'_>) -> Vec<Object> {
    let w = build(cx);
    let mut out = vec![
        Object::from(&deployment(cx, &w)),
        Object::from(&Service {
            metadata: cx.meta(cx.name.as_str(), "app"),
            spec: Some(w.service.clone()),
            ..Default::default()
        }),
    ];
    if cx.app.migrations.is_some() {
        out.push(Object::from(&migration_job(cx, &w)));
    }
    out.extend(w.objects);
    out
}

/// The app's workload: the bare one ([`bare`]) with every feature applied.
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
            container_port: i32::from(cx.app.port),
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
    let init = cx.app.database.as_ref().map(|_| {
        vec![pod::wait_for_db(
            &cx.db_service(),
            super::database::PORT,
            true,
        )]
    });
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
        selector: Some(labels::selector(cx.name.as_str())),
        ports: Some(vec![ServicePort {
            name: Some("http".to_owned()),
            port: i32::from(cx.app.port),
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
        objects: Vec::new(),
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
            replicas: Some(i32::try_from(cx.app.replicas).unwrap_or(i32::MAX)),
            revision_history_limit: Some(5),
            strategy: w.recreate.then(|| DeploymentStrategy {
                type_: Some("Recreate".to_owned()),
                ..Default::default()
            }),
            selector: LabelSelector {
                match_labels: Some(labels::selector(cx.name.as_str())),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(cx.meta(cx.name.as_str(), "app")),
                spec: Some(w.pod.clone()),
            },
            ..Default::default()
        },
        ..Default::default()
    }
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
    let app = &w.pod.containers[0];
    let container = Container {
        name: "migrate".to_owned(),
        image: Some(cx.image.clone()),
        image_pull_policy: Some("Always".to_owned()),
        command: Some(migrations.command.clone()),
        env: Some(pod::env(cx)).filter(|e| !e.is_empty()),
        resources: pod::resources(cx.app.resources.as_ref()),
        security_context: Some(app_security(cx)),
        volume_mounts: app.volume_mounts.clone(),
        ..Default::default()
    };
    let mut spec = w.pod.clone();
    spec.containers = vec![container];
    spec.restart_policy = Some("Never".to_owned());
    Job {
        metadata: cx.meta(&name, "migration"),
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
