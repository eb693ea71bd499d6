use crate::crd::flux::Kustomization;
use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::render::kubernetes::cluster_apps;
use crate::render::{OutputFile, OutputTree};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An object no Flux Kustomization applies, or that two apply.
pub(crate) struct OrphanObject;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K009",
    name: "orphan-object",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "An object on a Flux cluster that no Flux Kustomization applies, or that two apply.",
    fix: "make exactly one Flux Kustomization's path reach the file (a template override or a hand-written file usually broke it)",
    doc: r#"## What it does
On clusters reconciled by Flux, follows every Flux Kustomization's `path` through the
generated `kustomization.yaml` files and checks that every Kubernetes object kiln writes
for the cluster is applied by exactly one of them.

## Why is this bad?
An object no Kustomization reaches is applied once by hand and then forgotten: Flux
neither keeps it in sync nor prunes it, and a rebuilt cluster lacks it (the seed's tech
debt: "Backend Service/Endpoints not managed by Flux"). An object two Kustomizations
apply flaps between them and is pruned by whichever stops applying it first.

## Example
A Service and Endpoints written to a folder no Flux Kustomization points at:
```text
out/kubernetes/apps/backend/base/service-backend.yaml   (no Kustomization path reaches it)
```
kiln wires every folder it writes into a Flux Kustomization; this rule catches a target
or a template override that does not.

## How to fix
Find which template override or hand-written file put the object outside the folders
kiln wires into Flux Kustomizations, and move it back (or delete the override to use
kiln's default). Every object must be reached by exactly one Kustomization `path`.
"#,
};

impl Rule for OrphanObject {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        let Some(env) = cx.project.environments.first() else {
            return;
        };
        let tree = cx.output;
        // The folders that belong to clusters Flux reconciles: only their files must be
        // reached. (Clusters without Flux are applied by other means.)
        let mut managed: BTreeSet<String> = BTreeSet::new();
        for env in &cx.project.environments {
            for (name, cluster) in &env.model.clusters {
                if cluster.flux.is_some() {
                    for root in ["flux", "secrets"] {
                        managed.insert(format!("{root}/{name}/"));
                    }
                    managed.insert(format!("kubernetes/clusters/{name}/"));
                }
            }
            for unit in cluster_apps(env) {
                if unit.cluster.flux.is_some() {
                    managed.insert(format!(
                        "kubernetes/apps/{}/overlays/{}/",
                        unit.name, env.name
                    ));
                    managed.insert(format!("kubernetes/apps/{}/base/", unit.name));
                }
            }
        }
        let mut reached: BTreeMap<String, usize> = BTreeMap::new();
        let mut applied: BTreeMap<(String, String, String, String), Vec<String>> = BTreeMap::new();
        for (path, file) in tree.iter() {
            let Some(cluster) = path.strip_prefix("flux/").and_then(|p| p.split('/').next()) else {
                continue;
            };
            if let Some(kustomization) = file.data().and_then(|doc| Kustomization::of(&doc)) {
                let name = kustomization.name().to_owned();
                let Some(dir) = kustomization.spec.out_dir() else {
                    continue;
                };
                for (file, namespace) in resolve(tree, dir, None, 0) {
                    *reached.entry(file.clone()).or_default() += 1;
                    if let Some(object) = tree.get(&file).and_then(OutputFile::data) {
                        let ns = namespace
                            .clone()
                            .or_else(|| object["metadata"]["namespace"].as_str().map(str::to_owned))
                            .unwrap_or_default();
                        let id = (
                            cluster.to_owned(),
                            object["kind"].as_str().unwrap_or_default().to_owned(),
                            ns,
                            object["metadata"]["name"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        );
                        applied.entry(id).or_default().push(name.clone());
                    }
                }
            }
        }
        for (path, file) in tree.iter() {
            let in_scope = ["kubernetes/", "flux/", "secrets/"]
                .iter()
                .any(|p| path.starts_with(p));
            if !in_scope
                || !path.ends_with(".yaml")
                || path.ends_with("/kustomization.yaml")
                || path.contains("/patches/")
                || !dirs(path).any(|d| managed.contains(d))
                || reached.contains_key(path)
                || file.data().is_none_or(|d| d.get("kind").is_none())
            {
                continue;
            }
            let d = sink
                .diagnostic(format!("out/{path} is applied by no Flux Kustomization"))
                .at(env.span(""))
                .help("every folder kiln writes for a Flux-managed cluster must be listed by a Flux Kustomization's path");
            sink.report(env, Subject::None, d);
        }
        for ((cluster, kind, ns, name), by) in &applied {
            let mut by = by.clone();
            by.sort();
            by.dedup();
            if by.len() > 1 {
                let d = sink
                    .diagnostic(format!(
                        "{kind} {ns}/{name} on cluster {cluster} is applied by {} Flux Kustomizations: {}",
                        by.len(),
                        by.join(", ")
                    ))
                    .at(env.span(""));
                sink.report(env, Subject::None, d);
            }
        }
    }
}

/// The folders `path` is in, each with its trailing `/`: `a/b/c` → `a/`, `a/b/`.
fn dirs(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(|(i, _)| &path[..=i])
}

/// The object files a kustomization directory applies, with the namespace its
/// kustomization (or an enclosing one) sets.
fn resolve(
    tree: &OutputTree,
    dir: &str,
    namespace: Option<String>,
    depth: usize,
) -> Vec<(String, Option<String>)> {
    let Some(file) = tree.get(&format!("{dir}/kustomization.yaml")) else {
        return Vec::new();
    };
    let Some(k) = file.data() else {
        return Vec::new();
    };
    let namespace = namespace.or_else(|| k["namespace"].as_str().map(str::to_owned));
    let mut out = Vec::new();
    for resource in k["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let path = normalize(&format!("{dir}/{resource}"));
        if tree.get(&format!("{path}/kustomization.yaml")).is_some() {
            if depth < 16 {
                out.extend(resolve(tree, &path, namespace.clone(), depth + 1));
            }
        } else {
            out.push((path, namespace.clone()));
        }
    }
    out
}

/// Resolves `.` and `..` in a `/`-separated relative path.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize() {
        assert_eq!(
            normalize("kubernetes/apps/a/overlays/prod/../../base"),
            "kubernetes/apps/a/base"
        );
        assert_eq!(normalize("./x/./y"), "x/y");
    }

    #[test]
    fn a_path_is_in_each_of_its_folders() {
        assert_eq!(
            dirs("kubernetes/apps/a/base/x.yaml").collect::<Vec<_>>(),
            [
                "kubernetes/",
                "kubernetes/apps/",
                "kubernetes/apps/a/",
                "kubernetes/apps/a/base/"
            ]
        );
        assert_eq!(dirs("kiln.lock").count(), 0);
    }
}
