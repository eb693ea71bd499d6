//! `kind`: a DaemonSet needs a cluster (a host is one machine: a located error naming
//! `kind`), runs one pod per node (so no `replicas`), and cannot share a volume only
//! one node mounts; a StatefulSet on a host is a compose service like any other.
//! Every other kind listens on a `port`. A jobs-only app (`kind: jobs`) has jobs and
//! nothing that serves or runs between them: no port, Service, route, health probe,
//! replicas, sidecars, migrations, pipeline deploy, and no app depends on it.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{App, Environment, Name, Placement, WorkloadKind};

/// Checks the `kind` of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    // A data service runs no container of its own (`validate::data_services`).
    for (name, app) in env
        .model
        .enabled_apps()
        .filter(|(_, a)| !a.is_data_service())
    {
        if app.kind == WorkloadKind::Jobs {
            jobs_only(env, name, app, diags);
            continue;
        }
        if app.port.is_none() {
            diags.push(
                Diagnostic::error(
                    checks::SCHEMA,
                    format!("missing field `port` (at /apps/{name}): a {} listens on a port", app.kind.as_str()),
                )
                .at(env.key_span(&format!("/apps/{name}")))
                .help("add `port: <the port the container listens on>` (its main HTTP port); an app that only runs scheduled jobs is `kind: jobs`"),
            );
        }
        if app.kind != WorkloadKind::DaemonSet {
            continue;
        }
        let at = |rest: &str| format!("/apps/{name}{rest}");
        let kind_at = env.span(&at("/kind"));
        if let Some(Placement::Host(host, _)) = env.model.placement(app) {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("`{name}` is a daemonset, which host `{host}` cannot run: a DaemonSet is one pod on every node of a cluster"),
                )
                .at(kind_at)
                .label(env.span(&at("/runsOn")), "runs on the host")
                .help("on a host, drop `kind` (the app is one compose service), or run the app on a cluster"),
            );
        }
        if app.replicas != 1 {
            diags.push(
                Diagnostic::error(
                    checks::CONFLICT,
                    format!(
                        "`{name}` is a daemonset, which runs one pod per node, but asks for {} replicas",
                        app.replicas
                    ),
                )
                .at(env.span(&at("/replicas")).or(kind_at))
                .label(kind_at, "one pod per node")
                .help("drop `replicas` (a DaemonSet has as many pods as the cluster has nodes), or use `kind: deployment`"),
            );
        }
        for (vol_name, vol) in &app.volumes {
            if vol.access_mode().is_some_and(|m| m.single_writer()) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("`{name}` is a daemonset, whose pods on every node would share volume `{vol_name}`, which one node or pod mounts at a time"),
                    )
                    .at(env.key_span(&at(&format!("/volumes/{vol_name}"))))
                    .label(kind_at, "one pod per node")
                    .help("give each node its own data with `hostPath`, or use storage that offers `accessMode: ReadWriteMany`"),
                );
            }
        }
    }
}

/// What a jobs-only app cannot have: all that serves, scales or deploys a pod that
/// runs between the jobs, each located at its field.
fn jobs_only(env: &Environment, name: &Name, app: &App, diags: &mut Diagnostics) {
    let at = |rest: &str| format!("/apps/{name}{rest}");
    let kind_at = env.span(&at("/kind"));
    if app.jobs.is_empty() {
        diags.push(
            Diagnostic::error(
                checks::SCHEMA,
                format!("`{name}` is `kind: jobs` but has no `jobs`: nothing of it would run"),
            )
            .at(kind_at)
            .help("add `jobs: {<name>: {schedule: \"0 3 * * *\", command: [...]}}`, or use another `kind`"),
        );
    }
    let fields: [(&str, bool, &str); 12] = [
        ("port", app.port.is_some(), "drop it"),
        ("ports", !app.ports.is_empty(), "drop them"),
        ("service", app.service.is_some(), "drop it"),
        (
            "hostNetwork",
            app.host_network,
            "drop it, or give the job its own app",
        ),
        (
            "routes",
            !app.routes.is_empty(),
            "drop them: route an app that serves",
        ),
        ("publish", app.publish.is_some(), "drop it"),
        (
            "health",
            app.health.is_some(),
            "drop it: a job's run ends with its exit status",
        ),
        (
            "replicas",
            app.replicas != 1,
            "drop it: each run is one pod (or container)",
        ),
        ("autoscale", app.autoscale.is_some(), "drop it"),
        (
            "sidecars",
            !app.sidecars.is_empty(),
            "drop them, or run them in the job's command",
        ),
        (
            "migrations",
            app.migrations.is_some(),
            "run the migration as a job of the app that uses the database",
        ),
        (
            "deploy",
            app.deploy.is_some(),
            "drop it: the jobs run the tag of the model (`kiln set-image`, or Flux image automation)",
        ),
    ];
    for (field, set, help) in fields {
        if set {
            diags.push(
                Diagnostic::error(
                    checks::CONFLICT,
                    format!(
                        "`{name}` is `kind: jobs`, which runs only its jobs, but sets `{field}`"
                    ),
                )
                .at(env.key_span(&at(&format!("/{field}"))))
                .label(kind_at, "only scheduled jobs")
                .help(help),
            );
        }
    }
    for (other, o) in env.model.enabled_apps() {
        if let Some(i) = o.depends_on.iter().position(|d| d == name) {
            diags.push(
                Diagnostic::error(
                    checks::CONFLICT,
                    format!("`{other}` depends on `{name}`, which only runs scheduled jobs: there is nothing to wait for"),
                )
                .at(env.span(&format!("/apps/{other}/dependsOn/{i}")))
                .label(kind_at, "only scheduled jobs")
                .help(format!("drop `{name}` from the `dependsOn` of `{other}`")),
            );
        }
    }
}
