use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, locate};
use crate::layout;
use crate::render::{OutputFile, OutputTree};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An object on a cluster: (cluster, kind, namespace, name).
type ObjectId = (String, String, String, String);

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
        let tree = cx.output;
        // The clusters Flux reconciles: every object a file applied to one of them
        // holds (its provenance says which clusters) must be reached. Clusters
        // without Flux are applied by other means.
        let flux_clusters: BTreeSet<&str> = cx
            .project
            .environments
            .iter()
            .flat_map(|env| &env.model.clusters)
            .filter(|(_, cluster)| cluster.flux.is_some())
            .map(|(name, _)| name.as_str())
            .collect();
        let mut reached: BTreeMap<String, usize> = BTreeMap::new();
        // The Kustomizations applying each object, and one file that holds it.
        let mut applied: BTreeMap<ObjectId, (Vec<String>, String)> = BTreeMap::new();
        for (_, file) in tree.iter() {
            if file.provenance.clusters.is_empty() {
                continue;
            }
            let Some(doc) = file.data() else { continue };
            if doc["apiVersion"] != "kustomize.toolkit.fluxcd.io/v1"
                || doc["kind"] != "Kustomization"
            {
                continue;
            }
            let name = doc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let Some(dir) = doc["spec"]["path"]
                .as_str()
                .and_then(layout::from_repository)
            else {
                continue;
            };
            for (path, namespace) in resolve(tree, dir, None, 0) {
                *reached.entry(path.clone()).or_default() += 1;
                let Some(object) = tree.get(&path).and_then(OutputFile::data) else {
                    continue;
                };
                let ns = namespace
                    .clone()
                    .or_else(|| object["metadata"]["namespace"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                for cluster in &file.provenance.clusters {
                    let id = (
                        cluster.clone(),
                        object["kind"].as_str().unwrap_or_default().to_owned(),
                        ns.clone(),
                        object["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                    let entry = applied
                        .entry(id)
                        .or_insert_with(|| (Vec::new(), path.clone()));
                    entry.0.push(name.clone());
                }
            }
        }
        for (path, file) in tree.iter() {
            if !path.ends_with(".yaml")
                || layout::kustomization_dir(path).is_some()
                || layout::is_patch(path)
                || !file
                    .provenance
                    .clusters
                    .iter()
                    .any(|c| flux_clusters.contains(c.as_str()))
                || reached.contains_key(path)
                || file.data().is_none_or(|d| d.get("kind").is_none())
            {
                continue;
            }
            let (env, subject, span) = locate(cx, path);
            let Some(env) = env else { continue };
            let d = sink
                .diagnostic(format!("out/{path} is applied by no Flux Kustomization"))
                .at(span)
                .help("every folder kiln writes for a Flux-managed cluster must be listed by a Flux Kustomization's path");
            sink.report(env, subject, d);
        }
        for ((cluster, kind, ns, name), (by, path)) in &applied {
            let mut by = by.clone();
            by.sort();
            by.dedup();
            if by.len() > 1 {
                let (env, subject, span) = locate(cx, path);
                let Some(env) = env else { continue };
                let d = sink
                    .diagnostic(format!(
                        "{kind} {ns}/{name} on cluster {cluster} is applied by {} Flux Kustomizations: {}",
                        by.len(),
                        by.join(", ")
                    ))
                    .at(span);
                sink.report(env, subject, d);
            }
        }
    }
}

/// The object files a kustomization directory applies, with the namespace its
/// kustomization (or an enclosing one) sets.
fn resolve(
    tree: &OutputTree,
    dir: &str,
    namespace: Option<String>,
    depth: usize,
) -> Vec<(String, Option<String>)> {
    let Some(file) = tree.get(&layout::kustomization(dir)) else {
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
        let path = layout::resolve(dir, resource);
        if tree.get(&layout::kustomization(&path)).is_some() {
            if depth < 16 {
                out.extend(resolve(tree, &path, namespace.clone(), depth + 1));
            }
        } else {
            out.push((path, namespace.clone()));
        }
    }
    out
}
