//! Scaling (`apps.<app>.autoscale`): `min` not above `max`; a CPU target needs the
//! CPU request it is a percentage of; `replicas`, when written, within `min..=max`; a
//! volume only one pod can write means at most one replica; and only a cluster
//! autoscales (on a host, a located error naming the field).

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, Placement};

/// Checks the `autoscale` of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let Some(scale) = &app.autoscale else {
            continue;
        };
        let at = |rest: &str| format!("/apps/{name}/autoscale{rest}");
        if let Some(Placement::Host(host, _)) = env.model.placement(app) {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("`{name}` runs on host `{host}`, which cannot autoscale it: a compose service is one container"),
                )
                .at(env.key_span(&at("")))
                .help("remove `autoscale` for this environment (`autoscale: null`), or run the app on a cluster"),
            );
            continue;
        }
        if app.kind == crate::model::WorkloadKind::DaemonSet {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "`{name}` is a DaemonSet, which runs one pod per node and cannot autoscale"
                    ),
                )
                .at(env.key_span(&at("")))
                .label(
                    env.key_span(&format!("/apps/{name}/kind")),
                    "one pod per node",
                )
                .help("remove `autoscale`, or make the app a `deployment` or `statefulset`"),
            );
            continue;
        }
        if scale.min > scale.max {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "`autoscale` of `{name}` has `min` {} above `max` {}",
                        scale.min, scale.max
                    ),
                )
                .at(env.span(&at("/min")))
                .label(env.span(&at("/max")), "the most replicas")
                .help("make `min` at most `max`"),
            );
        }
        let has_cpu_request = app
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .is_some_and(|r| r.cpu.is_some());
        if !has_cpu_request {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("`{name}` autoscales on CPU but has no `resources.requests.cpu`, which `cpuPercent` is a percentage of"),
                )
                .at(env.key_span(&at("/cpuPercent")))
                .help("set `resources: {requests: {cpu: 100m}}` (what one replica needs at rest)"),
            );
        }
        let replicas_at = format!("/apps/{name}/replicas");
        if let Some(span) = env.written_span(&replicas_at)
            && scale.min <= scale.max
            && !(scale.min..=scale.max).contains(&app.replicas)
        {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "`{name}` asks for {} replicas, outside its `autoscale` range {}..{}",
                        app.replicas, scale.min, scale.max
                    ),
                )
                .at(Some(span))
                .label(env.key_span(&at("")), "the autoscaler sets the count")
                .help("remove `replicas` (the autoscaler decides), or give it a value from `min` to `max`"),
            );
        }
        if scale.max > 1
            && let Some((vol_name, _)) = app
                .volumes
                .iter()
                .find(|(_, v)| v.access_mode().is_some_and(|m| m.single_writer()))
        {
            diags.push(
                Diagnostic::error(
                    checks::CONFLICT,
                    format!(
                        "`{name}` may autoscale to {} replicas, but its volume `{vol_name}` can be written by one pod at a time",
                        scale.max
                    ),
                )
                .at(env.span(&at("/max")))
                .label(env.key_span(&format!("/apps/{name}/volumes/{vol_name}")), "a ReadWriteOnce volume")
                .help("remove `autoscale`, or give the volume `accessMode: ReadWriteMany` on storage that offers it"),
            );
        }
    }
}
