//! App health checks: exactly one probe kind (`path`, `tcp` or `command`), no empty
//! command, one way to say the startup probe; on a host, a probe compose can run in the
//! container without assuming a tool the image may lack (an HTTP probe names its
//! `tool` or gives `hostCommand`; a TCP probe gives `hostCommand`).

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, Placement};

/// Checks the health of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let Some(h) = &app.health else { continue };
        let at = |field: &str| format!("/apps/{name}/health{field}");
        let error = |field: &str, msg: String, help: &str| {
            Diagnostic::error(checks::INVALID_VALUE, msg)
                .at(env.key_span(&at(field)))
                .help(help.to_owned())
        };
        match h.kinds().as_slice() {
            [] => diags.push(error(
                "",
                format!("the health check of `{name}` says no probe"),
                "give it one of `path: /healthz` (HTTP), `tcp: true` (the app's port accepts a connection) or `command: [...]` (run in the container)",
            )),
            [_] => {}
            [first, second, ..] => diags.push(
                error(
                    &format!("/{second}"),
                    format!("the health check of `{name}` has two probes, `{first}` and `{second}`"),
                    "a health check is one probe: keep one of `path`, `tcp` and `command`",
                )
                .label(env.key_span(&at(&format!("/{first}"))), "the first probe"),
            ),
        }
        if h.ready_path.is_some() && h.path.is_none() {
            diags.push(error(
                "/readyPath",
                format!("`readyPath` of `{name}` needs an HTTP probe (`path`)"),
                "give the health check `path: /...` (liveness) beside `readyPath`, or drop `readyPath`: a TCP or command probe is also the readiness probe",
            ));
        }
        for (field, words) in [("command", &h.command), ("hostCommand", &h.host_command)] {
            if words
                .as_ref()
                .is_some_and(|w| w.first().is_none_or(|p| p.is_empty()))
            {
                diags.push(error(
                    &format!("/{field}"),
                    format!("`health.{field}` of `{name}` is empty"),
                    "write the program and its arguments, e.g. `[pg_isready, -q]`",
                ));
            }
        }
        if h.startup.is_some() && h.startup_seconds.is_some() {
            diags.push(
                Diagnostic::error(
                    checks::CONFLICT,
                    format!("the health check of `{name}` has both `startup` and `startupSeconds`"),
                )
                .at(env.key_span(&at("/startupSeconds")))
                .label(env.key_span(&at("/startup")), "the startup probe")
                .help("keep one: `startupSeconds: N` is `startup: {periodSeconds: 10, failureThreshold: N/10}`"),
            );
        }
        if h.tool.is_some() && h.host_command.is_some() {
            diags.push(
                Diagnostic::error(
                    checks::CONFLICT,
                    format!("the health check of `{name}` has both `tool` and `hostCommand`"),
                )
                .at(env.key_span(&at("/hostCommand")))
                .label(env.key_span(&at("/tool")), "the tool")
                .help("keep one: `hostCommand` is the whole check, `tool` derives it from `path`"),
            );
        }
        if h.tool.is_some() && h.path.is_none() {
            diags.push(error(
                "/tool",
                format!("`health.tool` of `{name}` is for an HTTP probe (`path`), which it has not"),
                "remove `tool`; a TCP probe on a host takes `hostCommand`, a command probe runs its own command",
            ));
        }
        if !matches!(env.model.placement(app), Some(Placement::Host(..)))
            || h.host_command.is_some()
        {
            continue;
        }
        if h.path.is_some() && h.tool.is_none() {
            diags.push(error(
                "/path",
                format!("the HTTP health check of `{name}` cannot run on its host: kiln does not know which HTTP tool the image has"),
                "add `tool: wget` or `tool: curl` (whichever the image has; busybox in Alpine images has wget), or `hostCommand: [...]`, the check compose runs in the container",
            ));
        } else if h.tcp && h.command.is_none() {
            diags.push(error(
                "/tcp",
                format!("the TCP health check of `{name}` cannot run on its host: compose has no portable TCP check"),
                "add `hostCommand: [...]`, a check the image can run (e.g. `[nc, -z, 127.0.0.1, \"8080\"]`), or use a `command` probe instead of `tcp`",
            ));
        }
    }
}
