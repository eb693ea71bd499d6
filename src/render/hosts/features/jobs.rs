//! `jobs` (see [`crate::model::Job`]) on a host: a compose service `<app>-<job>` per
//! job, a copy of the app's service (image, user, volumes, environment, security)
//! running the job's command, in the `jobs` profile so `docker compose up` leaves it
//! alone; and a crontab entry that runs it (`docker compose run --rm`), which
//! `deploy.sh` writes into the deploying user's crontab. An app image need not have
//! a scheduler of its own, and no container gets the Docker socket.

use super::{HostAppCx, HostWorkload};
use crate::model::{Concurrency, Job, job_name};
use crate::render::hosts::compose::{Service, cpus, escape_dollars, memory};
use crate::render::hosts::scripts::CronJob;

/// The compose profile of job services.
pub const PROFILE: &str = "jobs";

/// Adds a crontab entry per job (the services come from [`services`], once the app's
/// service is complete).
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    for (name, job) in &cx.app.jobs {
        let service = job_name(cx.name.as_str(), name.as_str());
        w.cron_jobs.push(CronJob {
            schedule: cron_schedule(&job.schedule),
            lock: format!("{}/jobs/{service}.lock", cx.data),
            service,
            concurrency: match job.concurrency {
                Concurrency::Forbid => "forbid",
                Concurrency::Allow => "allow",
                Concurrency::Replace => "replace",
            },
        });
    }
}

/// The schedule as a host's cron reads it: Kubernetes' `?` (any) is cron's `*`.
pub fn cron_schedule(schedule: &str) -> String {
    schedule
        .split_whitespace()
        .map(|f| if f == "?" { "*" } else { f })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The job services of the app, by name, from its finished `app` service.
pub fn services(cx: &HostAppCx<'_>, app: &Service) -> Vec<(String, Service)> {
    cx.app
        .jobs
        .iter()
        .map(|(name, job)| (job_name(cx.name.as_str(), name.as_str()), service(app, job)))
        .collect()
}

fn service(app: &Service, job: &Job) -> Service {
    let literal = |words: &Vec<String>| words.iter().map(|w| escape_dollars(w)).collect();
    let mut s = app.clone();
    // The app's hand override is its own service's, not its jobs'.
    s.hand = None;
    s.profiles = vec![PROFILE.to_owned()];
    s.restart = "no";
    s.entrypoint = Some(literal(&job.command));
    s.command = job.args.as_ref().map(literal);
    s.ports = Vec::new();
    s.healthcheck = None;
    for (var, value) in &job.env {
        s.environment
            .insert(var.clone(), escape_dollars(&value.as_text()));
    }
    if let Some(l) = job.resources.as_ref().and_then(|r| r.limits.as_ref()) {
        s.cpus = l.cpu.as_deref().map(cpus);
        s.mem_limit = l.memory.as_deref().map(memory);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_is_a_star_for_the_hosts_cron() {
        assert_eq!(cron_schedule("0 3 ? * MON"), "0 3 * * MON");
        assert_eq!(cron_schedule("@daily"), "@daily");
    }
}
