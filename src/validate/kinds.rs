//! `kind`: a DaemonSet needs a cluster (a host is one machine: a located error naming
//! `kind`), runs one pod per node (so no `replicas`), and cannot share a volume only
//! one node mounts; a StatefulSet on a host is a compose service like any other.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, Placement, WorkloadKind};

/// Checks the `kind` of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
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
