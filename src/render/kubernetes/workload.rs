//! The app itself: Deployment, ClusterIP Service and the migration Job.

use super::{AppCx, Object, labels, pod};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HTTPGetAction, PodSpec, PodTemplateSpec, Probe, Service, ServicePort,
    ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The Deployment, Service and (when the app has migrations) the migration Job.
pub fn objects(cx: &AppCx<'_>) -> Vec<Object> {
    let mut out = vec![Object::from(&deployment(cx)), Object::from(&service(cx))];
    if cx.app.migrations.is_some() {
        out.push(Object::from(&migration_job(cx)));
    }
    out
}

fn probe(cx: &AppCx<'_>, liveness: bool) -> Option<Probe> {
    let health = cx.app.health.as_ref()?;
    let delay = if liveness {
        health.initial_delay_seconds.unwrap_or(10)
    } else {
        5
    };
    Some(Probe {
        http_get: Some(HTTPGetAction {
            path: Some(health.path.clone()),
            port: IntOrString::String("http".to_owned()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(i32::try_from(delay).unwrap_or(i32::MAX)),
        period_seconds: Some(10),
        timeout_seconds: Some(3),
        failure_threshold: Some(if liveness { 3 } else { 2 }),
        ..Default::default()
    })
}

/// The pod spec shared by the Deployment and the migration Job: security, pull
/// secrets, the database wait, writable paths.
fn pod_spec(cx: &AppCx<'_>, container: Container) -> PodSpec {
    let sec = &cx.app.security;
    let (mut volumes, mut mounts) = pod::writable_paths(&sec.writable_paths);
    let (model_volumes, model_mounts) = super::volumes::pod_volumes(cx);
    volumes.extend(model_volumes);
    mounts.extend(model_mounts);
    let mut container = container;
    if !mounts.is_empty() {
        container.volume_mounts = Some(mounts);
    }
    let init = cx.app.database.as_ref().map(|_| {
        vec![pod::wait_for_db(
            &cx.db_service(),
            super::database::PORT,
            true,
        )]
    });
    PodSpec {
        automount_service_account_token: Some(false),
        security_context: Some(pod::pod_security(
            sec.run_as_user,
            sec.run_as_group.unwrap_or(sec.run_as_user),
        )),
        image_pull_secrets: pod::pull_secrets(cx),
        init_containers: init,
        containers: vec![container],
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..Default::default()
    }
}

/// The app container's security context: restricted unless the model runs it as root.
fn app_security(cx: &AppCx<'_>) -> k8s_openapi::api::core::v1::SecurityContext {
    let mut sc = pod::container_security(cx.app.security.read_only_root_filesystem);
    sc.run_as_non_root = Some(cx.app.security.run_as_user != 0);
    sc
}

fn deployment(cx: &AppCx<'_>) -> Deployment {
    let container = Container {
        name: cx.name.to_string(),
        image: Some(cx.image.clone()),
        image_pull_policy: Some("Always".to_owned()),
        command: cx.app.command.clone(),
        args: cx.app.args.clone(),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: i32::from(cx.app.port),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        env: Some(pod::env(cx)).filter(|e| !e.is_empty()),
        env_from: pod::env_from(cx),
        resources: pod::resources(cx.app.resources.as_ref()),
        liveness_probe: probe(cx, true),
        readiness_probe: probe(cx, false),
        security_context: Some(app_security(cx)),
        ..Default::default()
    };
    Deployment {
        metadata: cx.meta(cx.name.as_str(), "app"),
        spec: DeploymentSpec {
            replicas: Some(i32::try_from(cx.app.replicas).unwrap_or(i32::MAX)),
            revision_history_limit: Some(5),
            strategy: super::volumes::needs_recreate(cx).then(|| DeploymentStrategy {
                type_: Some("Recreate".to_owned()),
                ..Default::default()
            }),
            selector: LabelSelector {
                match_labels: Some(labels::selector(cx.name.as_str())),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(cx.meta(cx.name.as_str(), "app")),
                spec: Some(pod_spec(cx, container)),
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

fn service(cx: &AppCx<'_>) -> Service {
    Service {
        metadata: cx.meta(cx.name.as_str(), "app"),
        spec: Some(ServiceSpec {
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
        }),
        ..Default::default()
    }
}

/// The name of an app's migration Job.
pub fn migration_job_name(app: &str) -> String {
    format!("{app}-migrate")
}

/// The migration Job: the app's image running `migrations.command` with the app's
/// environment, security and database wait. The app must have `migrations`.
pub fn migration_job(cx: &AppCx<'_>) -> Job {
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
        ..Default::default()
    };
    let mut spec = pod_spec(cx, container);
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
