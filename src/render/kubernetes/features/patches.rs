//! Hand patches on a cluster (`patches.kubernetes`): JSON 6902 operations or
//! strategic-merge fragments of the objects kiln writes for the app, written into the
//! environment's Kustomize overlay as `patches:` with a target (what a user would
//! write by hand), after kiln's own patches.
//!
//! They are not part of the workload ([`apply`] adds nothing): they apply to every
//! object of the app once it is built. [`hand_patches`] applies each one in kiln to
//! the object it targets, so that a target kiln does not write, an operation whose
//! path is not there, a patched field of the wrong type, or a patched pod its
//! namespace's Pod Security level rejects is a located error before anything is
//! written, and the objects as applied (`resources`) are the patched
//! ones.

use super::{AppCx, Workload};
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::security::{admits, capability_level, strictness};
use crate::model::{App, Environment, Name, PodSecurityLevel};
use crate::render::kubernetes::Object;
use crate::render::kubernetes::kustomize::{HandPatch, strategic_merge};
use crate::suggest;
use serde_json::{Value, json};

/// Adds nothing to the workload: hand patches apply to the objects once they are
/// built (see [`hand_patches`]).
pub fn apply(_cx: &AppCx<'_>, _w: &mut Workload) {}

/// The hand patches of app `name` in `env` as the overlay writes them, each applied
/// in order to the object of `objects` it targets (so `objects` end as Kustomize gives
/// them). A patch that cannot apply is a located error in `diags` and left out.
pub fn hand_patches(
    env: &Environment,
    name: &Name,
    app: &App,
    objects: &mut [Object],
    diags: &mut Diagnostics,
) -> Vec<HandPatch> {
    let mut out = Vec::new();
    for (i, patch) in app.patches.kubernetes.iter().enumerate() {
        let n = i + 1;
        let at = format!("/apps/{name}/patches/kubernetes/{i}");
        let locate = |rest: &str| {
            env.span(&format!("{at}{rest}"))
                .or_else(|| env.key_span(&format!("{at}{rest}")))
                .or_else(|| env.span(&at))
        };
        let kind = patch
            .target
            .kind
            .clone()
            .unwrap_or_else(|| app.kind.kind().to_owned());
        let target = patch
            .target
            .name
            .clone()
            .unwrap_or_else(|| name.to_string());
        let Some(object) = objects
            .iter_mut()
            .find(|o| o.kind() == kind && o.name() == target)
        else {
            let written: Vec<String> = objects
                .iter()
                .map(|o| format!("{} {}", o.kind(), o.name()))
                .collect();
            let wanted = format!("{kind} {target}");
            let help = match suggest::closest(&wanted, written.iter().map(String::as_str)) {
                Some(s) => format!(
                    "did you mean `{s}`? kiln writes for `{name}` here: {}",
                    written.join(", ")
                ),
                None => format!("kiln writes for `{name}` here: {}", written.join(", ")),
            };
            diags.push(
                Diagnostic::error(
                    checks::PATCH,
                    format!(
                        "patch {n} of `{name}` targets {kind} `{target}`, which kiln does not write for `{name}` in environment `{}`",
                        env.name
                    ),
                )
                .at(locate("/target"))
                .help(help),
            );
            continue;
        };
        let mut patched = object.0.clone();
        let data = if let Some(ops) = patch.ops_data() {
            let parsed: Result<Vec<json_patch::PatchOperation>, _> =
                serde_json::from_value(ops.clone());
            let result = parsed.map_err(|e| (0, e.to_string())).and_then(|ops| {
                json_patch::patch(&mut patched, &ops)
                    .map_err(|e| (e.operation, format!("{} (`{}`)", e.kind, e.path.as_str())))
            });
            if let Err((op, why)) = result {
                diags.push(
                    Diagnostic::error(
                        checks::PATCH,
                        format!(
                            "operation {} of patch {n} of `{name}` cannot apply to {kind} `{target}` as kiln writes it: {why}",
                            op + 1
                        ),
                    )
                    .at(locate(&format!("/jsonPatch/{op}/path")))
                    .help("`replace`, `remove` and `test` need the path in the object, `add` its parent (`kiln build` then `out/` shows the object); add a missing key with `add`, append to a list with `/-`"),
                );
                continue;
            }
            ops
        } else if let Some(fragment) = &patch.strategic_merge {
            let fragment = Value::Object(fragment.clone());
            if let Err(why) = strategic_merge(&mut patched, &fragment) {
                diags.push(
                    Diagnostic::error(
                        checks::PATCH,
                        format!("patch {n} of `{name}` cannot apply to {kind} `{target}`: {why}"),
                    )
                    .at(locate("/strategicMerge")),
                );
                continue;
            }
            let mut file = json!({
                "apiVersion": object.api_version(),
                "kind": object.kind(),
                "metadata": {"name": object.name()},
            });
            strategic_merge(&mut file, &fragment).unwrap_or_default();
            file["metadata"]["name"] = Value::String(object.name().to_owned());
            file
        } else {
            // Neither: `validate::patches` reports it.
            continue;
        };
        if let Err(why) = type_check(&patched) {
            diags.push(
                Diagnostic::error(
                    checks::PATCH,
                    format!("patch {n} of `{name}` makes {kind} `{target}` invalid: {why}"),
                )
                .at(locate(if patch.json_patch.is_some() {
                    "/jsonPatch"
                } else {
                    "/strategicMerge"
                }))
                .help(
                    "give the field a value of its type (the Kubernetes API reference lists them)",
                ),
            );
            continue;
        }
        let level = env.model.app_pod_security(name, app);
        if let (Some(before), Some(after)) = (pod_spec(&object.0), pod_spec(&patched)) {
            let (needed, why) = needed_level(after);
            if !admits(level, needed) && strictness(needed) < strictness(needed_level(before).0) {
                diags.push(
                    Diagnostic::error(
                        checks::POD_SECURITY,
                        format!(
                            "patch {n} of `{name}` makes its {kind} `{target}` need Pod Security `{}` ({why}), which its namespace rejects: its level is `{}`",
                            needed.as_str(),
                            level.as_str()
                        ),
                    )
                    .at(locate(""))
                    .help(format!(
                        "set `groups: {{{}: {{podSecurity: {}}}}}` for this app's group, or patch without it",
                        env.model.group(name, app),
                        needed.as_str()
                    )),
                );
                continue;
            }
        }
        object.0 = patched;
        out.push(HandPatch {
            file: format!("hand-{n}-{}", object.file_name()),
            target: object.clone(),
            data,
        });
    }
    out
}

/// Whether a patched object still has the types of its kind's fields (for the kinds
/// kiln writes; others pass).
fn type_check(object: &Value) -> Result<(), String> {
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy, rbac};
    fn check<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
        serde_path_to_error::deserialize::<_, T>(object.clone())
            .map(|_| ())
            .map_err(|e| format!("{} at `{}`", e.inner(), e.path()))
    }
    match object["kind"].as_str().unwrap_or_default() {
        "Deployment" => check::<apps::v1::Deployment>(object),
        "StatefulSet" => check::<apps::v1::StatefulSet>(object),
        "DaemonSet" => check::<apps::v1::DaemonSet>(object),
        "Service" => check::<core::v1::Service>(object),
        "ConfigMap" => check::<core::v1::ConfigMap>(object),
        "PersistentVolumeClaim" => check::<core::v1::PersistentVolumeClaim>(object),
        "ServiceAccount" => check::<core::v1::ServiceAccount>(object),
        "Endpoints" => check::<core::v1::Endpoints>(object),
        "Job" => check::<batch::v1::Job>(object),
        "CronJob" => check::<batch::v1::CronJob>(object),
        "NetworkPolicy" => check::<networking::v1::NetworkPolicy>(object),
        "Ingress" => check::<networking::v1::Ingress>(object),
        "PodDisruptionBudget" => check::<policy::v1::PodDisruptionBudget>(object),
        "HorizontalPodAutoscaler" => check::<autoscaling::v2::HorizontalPodAutoscaler>(object),
        "Role" => check::<rbac::v1::Role>(object),
        "RoleBinding" => check::<rbac::v1::RoleBinding>(object),
        _ => Ok(()),
    }
}

/// The pod spec of an object that has one.
fn pod_spec(object: &Value) -> Option<&Value> {
    let spec = match object["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => &object["spec"]["template"]["spec"],
        "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    spec.is_object().then_some(spec)
}

/// The lowest Pod Security level that admits a pod spec, and the first reason it
/// needs more than `restricted`: the controls of the Pod Security Standards that a
/// patch can change (host namespaces, privileged containers, host ports, volume
/// types, privilege escalation, root, seccomp, capabilities).
fn needed_level(spec: &Value) -> (PodSecurityLevel, String) {
    use PodSecurityLevel::{Baseline, Privileged, Restricted};
    let mut level = (Restricted, String::new());
    let mut need = |l: PodSecurityLevel, why: String| {
        if strictness(l) < strictness(level.0) {
            level = (l, why);
        }
    };
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == true {
            need(Privileged, format!("`{field}: true`"));
        }
    }
    const RESTRICTED_VOLUMES: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        for key in volume.as_object().into_iter().flat_map(|v| v.keys()) {
            if key == "hostPath" {
                need(
                    Privileged,
                    format!("a `hostPath` volume `{}`", volume["name"]),
                );
            } else if key != "name" && !RESTRICTED_VOLUMES.contains(&key.as_str()) {
                need(Baseline, format!("a `{key}` volume"));
            }
        }
    }
    let pod = &spec["securityContext"];
    let seccomp = |s: &Value| s["seccompProfile"]["type"].as_str().map(str::to_owned);
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten());
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == true {
            need(Privileged, format!("container `{name}` is privileged"));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port["hostPort"].as_u64().is_some_and(|p| p != 0) {
                need(Privileged, format!("container `{name}` has a `hostPort`"));
            }
        }
        for cap in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            let cap = cap.as_str().unwrap_or_default();
            need(
                capability_level(cap),
                format!("container `{name}` adds `{cap}`"),
            );
        }
        if sc["allowPrivilegeEscalation"] != false {
            need(
                Baseline,
                format!("container `{name}` allows privilege escalation"),
            );
        }
        let non_root = if sc["runAsNonRoot"].is_boolean() {
            sc["runAsNonRoot"] == true
        } else {
            pod["runAsNonRoot"] == true
        };
        if !non_root || sc["runAsUser"] == 0 || (sc["runAsUser"].is_null() && pod["runAsUser"] == 0)
        {
            need(Baseline, format!("container `{name}` may run as root"));
        }
        let profile = seccomp(sc).or_else(|| seccomp(pod));
        if !matches!(profile.as_deref(), Some("RuntimeDefault" | "Localhost")) {
            need(
                if profile.as_deref() == Some("Unconfined") {
                    Privileged
                } else {
                    Baseline
                },
                format!("container `{name}` has no RuntimeDefault seccomp profile"),
            );
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            need(
                Baseline,
                format!("container `{name}` does not drop every capability"),
            );
        }
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(container: Value) -> Value {
        json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container]})
    }

    #[test]
    fn a_restricted_pod_needs_restricted_and_privileged_needs_privileged() {
        let ok = json!({"name": "a", "securityContext": {"allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}}});
        assert_eq!(
            needed_level(&pod(ok.clone())).0,
            PodSecurityLevel::Restricted
        );
        let mut privileged = ok.clone();
        privileged["securityContext"]["privileged"] = json!(true);
        let (level, why) = needed_level(&pod(privileged));
        assert_eq!(level, PodSecurityLevel::Privileged);
        assert!(why.contains("privileged"), "{why}");
        let mut root = ok;
        root["securityContext"]["runAsUser"] = json!(0);
        assert_eq!(needed_level(&pod(root)).0, PodSecurityLevel::Baseline);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_found_with_its_path() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"replicas": "two", "selector": {}, "template": {}}});
        let err = type_check(&d).unwrap_err();
        assert!(err.contains("spec.replicas"), "{err}");
    }
}
