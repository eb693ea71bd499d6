//! `jobs` (see [`crate::model::Job`]): a CronJob `<app>-<job>` per job, whose pod is
//! the app's built pod (volumes, security, pull secrets, the database wait) with the
//! job's command in the app's image. A job that mounts a `ReadWriteOnce` volume of the
//! app runs on the node of the app's pod (a required pod affinity), where the volume
//! is mounted.

use super::{AppCx, Workload};
use crate::model::{Job, job_name};
use crate::render::kubernetes::{Object, labels, pod, workload};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, PodAffinity, PodAffinityTerm, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// Nothing while the pod is built: the CronJobs copy the finished pod, so
/// [`workload::objects`] calls [`cron_jobs`] after every feature.
pub fn apply(_cx: &AppCx<'_>, _w: &mut Workload) {}

/// The CronJobs of the app's jobs, from its finished workload.
pub fn cron_jobs(cx: &AppCx<'_>, w: &Workload) -> Vec<Object> {
    cx.app
        .jobs
        .iter()
        .map(|(name, job)| Object::from(&cron_job(cx, w, name.as_str(), job)))
        .collect()
}

fn cron_job(cx: &AppCx<'_>, w: &Workload, job_key: &str, job: &Job) -> CronJob {
    let name = job_name(cx.name.as_str(), job_key);
    let app = &w.pod.containers[0];
    let mounts = workload::shared_mounts(w);
    let container = Container {
        name: job_key.to_owned(),
        image: app.image.clone(),
        image_pull_policy: app.image_pull_policy.clone(),
        command: Some(job.command.clone()),
        args: job.args.clone(),
        env: Some(env(cx, job)).filter(|e| !e.is_empty()),
        env_from: app.env_from.clone(),
        resources: match &job.resources {
            Some(r) => pod::resources(Some(r)),
            // The model's resources, not the app container's: a GPU stays the app's.
            None => pod::resources(cx.app.resources.as_ref()),
        },
        security_context: app.security_context.clone(),
        volume_mounts: mounts.clone(),
        ..Default::default()
    };
    let mut spec = w.pod.clone();
    spec.containers = vec![container];
    spec.restart_policy = Some("Never".to_owned());
    // Spreading is for the app's replicas, not for a run of a job.
    spec.topology_spread_constraints = None;
    if cx.app.kind != crate::model::WorkloadKind::Jobs
        && needs_app_node(cx, mounts.as_deref().unwrap_or_default())
    {
        spec.affinity = Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([
                            (labels::NAME.to_owned(), cx.name.to_string()),
                            (labels::COMPONENT.to_owned(), "app".to_owned()),
                        ])),
                        ..Default::default()
                    }),
                    topology_key: "kubernetes.io/hostname".to_owned(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..spec.affinity.unwrap_or_default()
        });
    }
    let history = i32::try_from(job.history).unwrap_or(i32::MAX);
    CronJob {
        metadata: cx.meta(&name, "job"),
        spec: CronJobSpec {
            schedule: job.schedule.clone(),
            time_zone: job.time_zone.clone(),
            concurrency_policy: Some(job.concurrency.policy().to_owned()),
            successful_jobs_history_limit: Some(history),
            failed_jobs_history_limit: Some(history),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template: PodTemplateSpec {
                        metadata: Some(cx.meta(&name, "job")),
                        spec: Some(spec),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The app's environment with the job's plain values added or replacing.
fn env(cx: &AppCx<'_>, job: &Job) -> Vec<EnvVar> {
    let mut vars: BTreeMap<String, EnvVar> = pod::env(cx)
        .into_iter()
        .map(|v| (v.name.clone(), v))
        .collect();
    for (name, value) in &job.env {
        vars.insert(
            name.clone(),
            EnvVar {
                name: name.clone(),
                value: Some(value.as_text()),
                value_from: None,
            },
        );
    }
    vars.into_values().collect()
}

/// Whether the job mounts a volume only one node can mount (`ReadWriteOnce`): it must
/// then run where the app's pod runs.
fn needs_app_node(cx: &AppCx<'_>, mounts: &[k8s_openapi::api::core::v1::VolumeMount]) -> bool {
    cx.app.volumes.iter().any(|(name, v)| {
        v.access_mode()
            .is_some_and(|m| m == crate::model::AccessMode::ReadWriteOnce)
            && mounts
                .iter()
                .any(|m| m.name == crate::model::pod_volume_name(name.as_str()))
    })
}
