//! App security (see [`crate::model::Security`]): `root` has a reason, added
//! capabilities are Linux capability names (uppercase, without `CAP_`, no repeats),
//! and on a cluster the level the app's pod needs (root, capabilities) is admitted by
//! its namespace's Pod Security level, `environment.podSecurity`, which kiln never
//! lowers by itself: a pod the namespace would reject is a located error.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::security::{CAPABILITIES, admits};
use crate::model::{Environment, Placement};
use crate::suggest;

/// Checks the security of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let level = env.model.app_pod_security(name, app);
        let at = |rest: &str| format!("/apps/{name}/security{rest}");
        let sec = &app.security;
        if sec
            .root
            .as_ref()
            .is_some_and(|r| r.reason.trim().is_empty())
        {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("`security.root` of `{name}` has an empty reason"),
                )
                .at(env.span(&at("/root/reason")).or_else(|| env.key_span(&at("/root"))))
                .help("say why the image must start as root: `root: {reason: \"s6-overlay starts as root, then drops to PUID\"}`"),
            );
        }
        for (i, cap) in sec.added_capabilities().iter().enumerate() {
            let cap_at = at(&format!("/capabilities/add/{i}"));
            if !CAPABILITIES.contains(&cap.as_str()) {
                let bare = cap.trim_start_matches("CAP_").to_ascii_uppercase();
                let hint = if CAPABILITIES.contains(&bare.as_str()) {
                    format!("write it `{bare}` (uppercase, without `CAP_`)")
                } else {
                    match suggest::closest(cap, CAPABILITIES.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? (capability names are uppercase, without `CAP_`)"),
                        None => "use a Linux capability name, uppercase without `CAP_` (capabilities(7)): `NET_ADMIN`, `CHOWN`...".to_owned(),
                    }
                };
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "`{cap}` in the capabilities of `{name}` is not a Linux capability"
                        ),
                    )
                    .at(env.span(&cap_at))
                    .help(hint),
                );
            } else if sec.added_capabilities()[..i].contains(cap) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("capability `{cap}` of `{name}` is added twice"),
                    )
                    .at(env.span(&cap_at))
                    .help("list each capability once"),
                );
            }
        }
        let Some(Placement::Cluster(cluster, _)) = env.model.placement(app) else {
            continue;
        };
        let (needed, field) = sec.needed_pod_security();
        if !admits(level, needed) {
            let what = match field {
                "root" => "starts as root (`security.root`)".to_owned(),
                "runAsUser" => "runs as root (`security.runAsUser: 0`)".to_owned(),
                _ => format!(
                    "adds capabilities beyond `{}`'s list (`security.capabilities.add`)",
                    level.as_str()
                ),
            };
            diags.push(
                Diagnostic::error(
                    checks::POD_SECURITY,
                    format!(
                        "`{name}` {what}, which its namespace on cluster `{cluster}` rejects: its Pod Security level is `{}`, the pod needs `{}`",
                        level.as_str(),
                        needed.as_str()
                    ),
                )
                .at(env.span(&at(&format!("/{field}"))).or_else(|| env.key_span(&at(&format!("/{field}")))))
                .help(format!(
                    "set `groups: {{{}: {{podSecurity: {}}}}}` (this app's group's namespaces only) or the environment's `podSecurity` (every namespace), or run the image without it",
                    env.model.group(name, app),
                    needed.as_str()
                )),
            );
        }
    }
}
