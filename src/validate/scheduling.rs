//! Scheduling (`apps.<app>.nodeSelector`, `tolerations`, `affinity`; see
//! [`crate::model::Affinity`]): label keys and values Kubernetes accepts, tolerations
//! Kubernetes admits (`Exists` without a value, an empty key only with `Exists`,
//! `tolerationSeconds` only with `NoExecute`), and only on a cluster: a host has no
//! nodes, so each field there is a located error naming it.

use super::kubernetes_rules::{label_key, label_value};
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{App, Environment, Name, Placement, TaintEffect, TolerationOperator};
use crate::pointer::escape;

const KEY_HELP: &str = "a label key is `name` or `prefix/name`: a name of at most 63 letters, digits, `-`, `_`, `.` (starting and ending with a letter or digit), a prefix a DNS name (`kubernetes.io/arch`)";
const VALUE_HELP: &str = "a label value has at most 63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit (or is empty)";

/// Checks where every enabled app of `env` asks to be scheduled.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        if let Some(Placement::Host(host, _)) = env.model.placement(app) {
            on_host(env, name, app, host, diags);
            continue;
        }
        labels(
            env,
            &format!("/apps/{name}/nodeSelector"),
            app.node_selector.iter().map(|(k, v)| (k, vec![v.clone()])),
            diags,
        );
        if let Some(affinity) = &app.affinity {
            for (field, map) in [
                ("required", &affinity.required),
                ("preferred", &affinity.preferred),
            ] {
                let at = format!("/apps/{name}/affinity/{field}");
                labels(env, &at, map.iter().map(|(k, v)| (k, v.values())), diags);
                for (key, values) in map {
                    if values.values().is_empty() {
                        diags.push(
                            Diagnostic::error(
                                checks::INVALID_VALUE,
                                format!("`affinity.{field}` of `{name}` gives label `{key}` no value, which no node matches"),
                            )
                            .at(env.span(&format!("{at}/{}", escape(key))))
                            .help("give the value the node's label has (`disk: ssd`), or the values it may have (`disk: [ssd, nvme]`)"),
                        );
                    }
                }
            }
        }
        for (i, t) in app.tolerations.iter().enumerate() {
            let at = |rest: &str| format!("/apps/{name}/tolerations/{i}{rest}");
            let whole = || env.span(&at(""));
            if let Some(key) = &t.key
                && let Err(why) = label_key(key)
            {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("toleration key `{key}` of `{name}` is not a taint key: {why}"),
                    )
                    .at(env.span(&at("/key")))
                    .help(KEY_HELP),
                );
            }
            match (t.operator, &t.value, &t.key) {
                (TolerationOperator::Exists, Some(_), _) => diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("a toleration of `{name}` has `operator: Exists` and a `value`: `Exists` matches any value"),
                    )
                    .at(env.span(&at("/value")))
                    .help("remove `value`, or make the operator `Equal` (the default) to match only that value"),
                ),
                (TolerationOperator::Equal, _, None) => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("a toleration of `{name}` has no `key`: only `operator: Exists` may leave it out (and then tolerates every taint)"),
                    )
                    .at(whole())
                    .help("give the taint's `key` (`kubectl describe node` lists the node's taints), or write `operator: Exists` to tolerate every taint"),
                ),
                (TolerationOperator::Equal, Some(value), _) => {
                    if let Err(why) = label_value(value) {
                        diags.push(
                            Diagnostic::error(checks::INVALID_VALUE, format!("toleration value `{value}` of `{name}` is not a taint value: {why}"))
                                .at(env.span(&at("/value")))
                                .help(VALUE_HELP),
                        );
                    }
                }
                _ => {}
            }
            if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("a toleration of `{name}` has `tolerationSeconds` without `effect: NoExecute`: only an evicting taint has a time"),
                    )
                    .at(env.key_span(&at("/tolerationSeconds")))
                    .help("write `effect: NoExecute`, or remove `tolerationSeconds`"),
                );
            }
        }
    }
}

/// Label keys and values under `at` (`key` → the values it may have).
fn labels<'a>(
    env: &Environment,
    at: &str,
    entries: impl Iterator<Item = (&'a String, Vec<String>)>,
    diags: &mut Diagnostics,
) {
    for (key, values) in entries {
        let pointer = format!("{at}/{}", escape(key));
        if let Err(why) = label_key(key) {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_NAME,
                    format!("`{key}` is not a node label key: {why}"),
                )
                .at(env.key_span(&pointer))
                .help(KEY_HELP),
            );
        }
        for value in values {
            if let Err(why) = label_value(&value) {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("`{value}` is not a node label value: {why}"),
                    )
                    .at(env.span(&pointer))
                    .help(VALUE_HELP),
                );
            }
        }
    }
}

/// A host has no nodes: every scheduling field the app writes is an error there.
fn on_host(env: &Environment, name: &Name, app: &App, host: &Name, diags: &mut Diagnostics) {
    let fields = [
        ("nodeSelector", !app.node_selector.is_empty()),
        ("tolerations", !app.tolerations.is_empty()),
        (
            "affinity",
            app.affinity.as_ref().is_some_and(|a| !a.is_empty()),
        ),
    ];
    for (field, written) in fields {
        if !written {
            continue;
        }
        diags.push(
            Diagnostic::error(
                checks::INVALID_VALUE,
                format!("`{name}` runs on host `{host}`, which has no nodes to choose: `{field}` picks a cluster's node"),
            )
            .at(env.key_span(&format!("/apps/{name}/{field}")))
            .help(format!("on a host, `runsOn` is the placement: remove `{field}` for this environment (`{field}: null`), or run the app on a cluster")),
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::diagnostic::Diagnostics;
    use crate::model::{Environment, files::Files, load_files};
    use std::path::Path;

    /// The messages `check` gives on a one-environment model with cluster `lab`
    /// (the default) and host `box`, whose `apps:` are `apps`.
    pub(crate) fn messages(apps: &str, check: fn(&Environment, &mut Diagnostics)) -> Vec<String> {
        let model = format!(
            "environment: {{runsOn: lab, domain: example.com}}\nregistries: {{hub: {{host: r.example.com}}}}\nclusters: {{lab: {{ingress: {{kind: traefik}}}}}}\nhosts: {{box: {{address: 10.0.0.5, dataDir: /data}}}}\napps:\n{apps}"
        );
        let files = Files::in_memory(
            Path::new("/p"),
            [("environments/dev.yaml".to_owned(), model.into_bytes())],
        );
        let (project, load) = load_files(&files);
        assert!(
            !load.has_errors(),
            "{:?}",
            load.into_sorted(&project.sources)
        );
        let mut diags = Diagnostics::default();
        for env in &project.environments {
            check(env, &mut diags);
        }
        diags.iter().map(|d| d.message.clone()).collect()
    }

    fn diags(apps: &str) -> Vec<String> {
        messages(apps, super::check)
    }

    const APP: &str = "  a:\n    image: {registry: hub, repository: a, tag: \"1\"}\n    port: 80\n";

    #[test]
    fn a_placement_on_a_host_names_the_field() {
        let got = diags(&format!(
            "{APP}    runsOn: box\n    nodeSelector: {{disk: ssd}}\n    affinity: {{spread: true}}\n"
        ));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("`nodeSelector`"), "{got:?}");
        assert!(got[1].contains("`affinity`"), "{got:?}");
    }

    #[test]
    fn tolerations_kubernetes_refuses_are_errors() {
        let got = diags(&format!(
            "{APP}    tolerations:\n      - {{key: gpu, operator: Exists, value: \"true\"}}\n      - {{value: x}}\n      - {{key: gpu, value: \"true\", effect: NoSchedule, tolerationSeconds: 30}}\n      - {{operator: Exists}}\n"
        ));
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0].contains("`operator: Exists` and a `value`"),
            "{got:?}"
        );
        assert!(got[1].contains("has no `key`"), "{got:?}");
        assert!(got[2].contains("`tolerationSeconds`"), "{got:?}");
    }

    #[test]
    fn node_labels_are_kubernetes_labels() {
        let got = diags(&format!(
            "{APP}    nodeSelector: {{\"Bad Key\": ok}}\n    affinity: {{required: {{disk: [\"no way\"]}}, preferred: {{zone: []}}}}\n"
        ));
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got.iter()
                .any(|m| m.contains("`Bad Key` is not a node label key")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|m| m.contains("`no way` is not a node label value")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|m| m.contains("gives label `zone` no value")),
            "{got:?}"
        );
    }
}
