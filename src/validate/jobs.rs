//! `jobs`: each job's command is a command, its name fits a CronJob's (`<app>-<job>`
//! at most 52 characters: the controller adds a suffix to each run), its variables
//! are variable names, and what the app's placement cannot do is said where it is
//! written: on a host, an `@every` schedule (cron has none) is an error and a
//! `timeZone` a warning (cron runs in the host's time); on a cluster, a job cannot
//! mount a `ReadWriteOncePod` volume the app's pod holds. The schedule itself is
//! checked with every cron schedule by [`super::kubernetes_rules`].

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{AccessMode, Environment, Placement, job_name};

/// The longest name of a CronJob (its Jobs get an 11-character suffix).
const CRON_JOB_NAME_MAX: usize = 52;

/// Checks the jobs of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let placement = env.model.placement(app);
        for (job, spec) in &app.jobs {
            let at = |rest: &str| format!("/apps/{name}/jobs/{job}{rest}");
            if spec.command.first().is_some_and(|c| c.trim().is_empty()) {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("job `{job}` of `{name}` runs an empty command"),
                    )
                    .at(env.span(&at("/command/0")))
                    .help("write the program first, e.g. `command: [/bin/sh, -c, \"...\"]`"),
                );
            }
            let full = job_name(name.as_str(), job.as_str());
            if full.len() > CRON_JOB_NAME_MAX {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!(
                            "job `{job}` of `{name}` would be CronJob `{full}`, {} characters; at most {CRON_JOB_NAME_MAX} fit",
                            full.len()
                        ),
                    )
                    .at(env.key_span(&at("")))
                    .help("shorten the job's (or the app's) name"),
                );
            }
            for var in spec.env.keys() {
                if !is_env_name(var) {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_NAME,
                            format!("`{var}` is not a valid environment variable name"),
                        )
                        .at(env.key_span(&at(&format!("/env/{var}"))))
                        .help("use letters, digits and `_`, not starting with a digit"),
                    );
                }
            }
            match placement {
                Some(Placement::Host(host, _)) => {
                    if spec.schedule.trim().starts_with("@every") {
                        diags.push(
                            Diagnostic::error(
                                checks::INVALID_VALUE,
                                format!("job `{job}` of `{name}` runs `{}`, which the cron of host `{host}` does not know", spec.schedule.trim()),
                            )
                            .at(env.span(&at("/schedule")))
                            .help("write five cron fields, e.g. `*/15 * * * *` for every 15 minutes"),
                        );
                    }
                    if spec.time_zone.is_some() {
                        diags.push(
                            Diagnostic::warning(
                                checks::HOST_JOB_TIME_ZONE,
                                format!("job `{job}` of `{name}` runs on host `{host}`, whose cron reads its schedule in the host's local time, not in its `timeZone`"),
                            )
                            .at(env.span(&at("/timeZone")))
                            .help("set the host's time zone to this one and drop `timeZone` for the host's environments"),
                        );
                    }
                }
                Some(Placement::Cluster(..)) => {
                    for (vol_name, vol) in &app.volumes {
                        if vol.access_mode() == Some(AccessMode::ReadWriteOncePod) {
                            diags.push(
                                Diagnostic::error(
                                    checks::CONFLICT,
                                    format!("job `{job}` of `{name}` mounts the app's volumes, but `{vol_name}` is ReadWriteOncePod, which the app's pod holds"),
                                )
                                .at(env.key_span(&at("")))
                                .label(env.key_span(&format!("/apps/{name}/volumes/{vol_name}")), "one pod only")
                                .help("use `accessMode: ReadWriteOnce`: the job then runs on the node of the app's pod"),
                            );
                        }
                    }
                }
                None => {}
            }
        }
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
