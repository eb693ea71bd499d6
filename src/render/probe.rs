//! Tests only: the `probe` target, registered in [`super::TARGETS`] of test builds.
//!
//! It stands for a target added to kiln: this file and its line in `TARGETS` are all
//! it has. For every enabled app named `probe-*` (no other model has one, so no other
//! test sees its files) it writes, per environment, objects the checks of the output
//! flag: an ExternalName Service pointing at an IP (the `external-name-ip` lint
//! rule), an HTTPRoute to a port its Service lacks and a Flux Kustomization whose path
//! kiln does not write (two wiring points). Its test proves that every finding is
//! located at the app's key in the environment whose file it is, read from the
//! provenance the target set, with no edit to the layout, the lint rules or the wires.

use super::{Context, OutputTree, Target, yaml};
use crate::diagnostic::Diagnostics;
use crate::layout::{self, Provenance};
use serde_json::json;

/// The probe target.
pub(super) struct Probe;

impl Target for Probe {
    fn id(&self) -> &'static str {
        "probe"
    }

    fn description(&self) -> &'static str {
        "tests only: objects the checks of the output flag, for apps named probe-*"
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, _: &mut Diagnostics) {
        for env in &cx.project.environments {
            for (name, _) in env.model.enabled_apps() {
                let app = name.as_str();
                if !app.starts_with("probe-") {
                    continue;
                }
                let dir = layout::join(&layout::join(self.id(), env.name.as_str()), app);
                let from = Provenance::new(self.id())
                    .of_env(env.name.as_str())
                    .of_app(app);
                let objects = [
                    json!({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": app},
                        "spec": {"type": "ExternalName", "externalName": "192.0.2.10",
                            "ports": [{"port": 80}]}}),
                    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                        "metadata": {"name": app},
                        "spec": {"rules": [{"backendRefs": [{"name": app, "port": 81}]}]}}),
                    json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                        "metadata": {"name": app},
                        "spec": {"path": "./out/probe/nowhere", "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}),
                ];
                for object in objects {
                    let file = format!(
                        "{}.yaml",
                        object["kind"].as_str().unwrap_or_default().to_lowercase()
                    );
                    out.add(
                        layout::join(&dir, &file),
                        yaml::document(&env.sources, object),
                        &from,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Files, State};

    /// The probe's findings: lint and wiring, each located at `apps.probe-web` in the
    /// environment whose file it is (dev's line for dev's files, prod's for prod's),
    /// not at the start of the first environment's file.
    #[test]
    fn a_new_targets_findings_are_located_at_its_apps_model_lines() {
        let common = "abstract: true\nenvironment:\n  runsOn: lab\nregistries:\n  hub:\n    host: registry.example.com\nclusters:\n  lab:\n    ingress:\n      kind: traefik\napps:\n  probe-web:\n    image: {registry: hub, repository: team/web, tag: \"1.4.2\"}\n    port: 8080\n    health: {path: /healthz}\n    resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}\n";
        let files = Files::in_memory(
            std::path::Path::new("/probe"),
            [
                ("environments/common.yaml", common.to_owned()),
                (
                    "environments/dev.yaml",
                    "extends: common\napps:\n  probe-web:\n    replicas: 1\n".to_owned(),
                ),
                (
                    "environments/prod.yaml",
                    "extends: common\n# prod\napps:\n  probe-web:\n    replicas: 2\n".to_owned(),
                ),
            ]
            .map(|(p, t)| (p.to_owned(), t.into_bytes())),
        );
        let compiled = crate::pipeline::compile(&files, State::default());
        let probe: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("out/probe/"))
            .collect();
        let names: std::collections::BTreeSet<&str> = probe.iter().map(|d| d.name).collect();
        assert!(
            names.contains("external-name-ip") && names.contains("broken-wire"),
            "{:#?}",
            compiled.diagnostics
        );
        let wires: std::collections::BTreeSet<&str> = probe
            .iter()
            .filter(|d| d.name == "broken-wire")
            .filter_map(|d| d.message.split(':').next())
            .collect();
        assert!(
            wires.contains("route → service → port") && wires.contains("Flux Kustomization → path"),
            "{wires:?}"
        );
        // Every file it writes records where it comes from.
        let written: Vec<_> = compiled
            .tree
            .iter()
            .filter(|(p, _)| p.starts_with("probe/"))
            .collect();
        assert_eq!(written.len(), 6, "{written:#?}");
        for (path, file) in written {
            let p = &file.provenance;
            let env = p.env.as_deref().unwrap();
            assert_eq!(
                (p.target, p.app.as_deref(), p.envs.as_slice()),
                ("probe", Some("probe-web"), [env.to_owned()].as_slice()),
                "{path}"
            );
        }
        for env in &compiled.project.environments {
            let want = env.key_span("/apps/probe-web").unwrap();
            assert_eq!(
                want.file, env.file,
                "{}: the key is in its own file",
                env.name
            );
            let mine: Vec<_> = probe
                .iter()
                .filter(|d| d.message.contains(&format!("out/probe/{}/", env.name)))
                .collect();
            assert!(mine.len() >= 4, "{}: {mine:#?}", env.name);
            for d in mine {
                assert_eq!(d.span, Some(want), "{}: {}", env.name, d.message);
            }
        }
    }
}
