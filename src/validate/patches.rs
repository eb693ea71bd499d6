//! Hand patches (see [`crate::model::Patches`]): each Kubernetes patch is one of
//! `jsonPatch` and `strategicMerge` with operations RFC 6902 can read, a patch has
//! somewhere to go (an object on a cluster, a compose service on a host), and a
//! compose fragment is in the forms whose merge kiln implements exactly. Whether a
//! patch applies to what kiln writes is known once it is rendered: the targets and
//! operations are checked by `render::kubernetes::features::patches`.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::placement::cluster_apps;
use crate::model::{Environment, Placement};
use serde_json::Value;

/// Checks the hand patches of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let on_cluster: Vec<&str> = cluster_apps(env).iter().map(|u| u.name.as_str()).collect();
    for (name, app) in env.model.enabled_apps() {
        let at = format!("/apps/{name}/patches");
        let locate = |rest: &str| {
            let p = format!("{at}{rest}");
            env.span(&p).or_else(|| env.key_span(&p))
        };
        let patches = &app.patches;
        if !patches.kubernetes.is_empty() && !on_cluster.contains(&name.as_str()) {
            let where_ = match env.model.placement(app) {
                Some(Placement::Host(h, _)) => format!("runs on host `{h}`"),
                _ => "has no placement".to_owned(),
            };
            diags.push(
                Diagnostic::error(
                    checks::PATCH,
                    format!(
                        "`{name}` has Kubernetes patches but no object on a cluster in environment `{}`: it {where_}",
                        env.name
                    ),
                )
                .at(locate("/kubernetes"))
                .help("a host app's compose service is patched with `patches.compose`; remove `patches.kubernetes` here"),
            );
        }
        for (i, patch) in patches.kubernetes.iter().enumerate() {
            let here = format!("/kubernetes/{i}");
            match (&patch.json_patch, &patch.strategic_merge) {
                (Some(_), Some(_)) | (None, None) => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "patch {} of `{name}` needs exactly one of `jsonPatch` and `strategicMerge`",
                            i + 1
                        ),
                    )
                    .at(locate(&here))
                    .help("write RFC 6902 operations under `jsonPatch`, or a fragment of the object under `strategicMerge`; two changes are two patches"),
                ),
                _ => {}
            }
            for (j, op) in patch.json_patch.iter().flatten().enumerate() {
                let missing = if op.op.needs_value() && op.value.is_none() {
                    Some("value")
                } else if op.op.needs_from() && op.from.is_none() {
                    Some("from")
                } else {
                    None
                };
                if let Some(field) = missing {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!(
                                "operation {} of patch {} of `{name}` needs `{field}`",
                                j + 1,
                                i + 1
                            ),
                        )
                        .at(locate(&format!("{here}/jsonPatch/{j}")))
                        .help("`add`, `replace` and `test` take a `value`, `move` and `copy` a `from` pointer"),
                    );
                }
            }
        }
        let Some(compose) = &patches.compose else {
            continue;
        };
        if !matches!(env.model.placement(app), Some(Placement::Host(..))) {
            diags.push(
                Diagnostic::error(
                    checks::PATCH,
                    format!(
                        "`{name}` has a compose patch but no compose service in environment `{}`: it does not run on a host",
                        env.name
                    ),
                )
                .at(locate("/compose"))
                .help("an app on a cluster is patched with `patches.kubernetes`; remove `patches.compose` here"),
            );
            continue;
        }
        for (key, value) in compose {
            if let Some(problem) = compose_form(key, value) {
                diags.push(
                    Diagnostic::error(
                        checks::PATCH,
                        format!("`patches.compose.{key}` of `{name}`: {problem}"),
                    )
                    .at(locate(&format!("/compose/{}", crate::pointer::escape(key))))
                    .help("kiln merges the fragment by compose's rules for the forms it writes: mappings for `environment` and `labels`, the long syntax (mappings with `target`) for `ports` and `volumes`"),
                );
            }
        }
    }
}

/// Why a compose attribute is in a form kiln does not merge exactly, if it is not.
fn compose_form(key: &str, value: &Value) -> Option<String> {
    match key {
        "environment" | "labels" if !value.is_object() => {
            Some("write it as a mapping (`KEY: value`), not a list".to_owned())
        }
        "ports" | "volumes" => {
            let items = value.as_array()?;
            items
                .iter()
                .any(|i| i.get("target").is_none())
                .then(|| "write each entry in the long syntax, a mapping with `target` (e.g. `{target: 53, published: \"53\", protocol: udp}`)".to_owned())
        }
        _ => None,
    }
}
