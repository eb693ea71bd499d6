//! Every secret a pod reads → that key in its namespace: every secret a generated
//! pod reads (`secretKeyRef`, `envFrom.secretRef`, secret volumes,
//! `imagePullSecrets`) exists, with that key, in the pod's namespace.
//!
//! The model-level checks ([`crate::validate::secrets`]) already tie every reference
//! in the model to a placement; this one looks at what the renderers actually wrote,
//! so a renderer that names a secret or key the model does not define is caught too.
//!
//! Namespaces are resolved the way `kubectl kustomize` does for kiln's layouts: every
//! kustomization no other one includes is built (resources, `namespace:`, JSON 6902
//! and strategic-merge patches, the hand patches among them). A secret counts as
//! present when the output holds it (a Secret or SealedSecret) or when the model
//! places it and only its sealed values are missing (that is a warning of its own,
//! `secret-not-sealed`). Each read is one point, located through the provenance of
//! the kustomization that builds it.

use super::built::{build, roots};
use super::{Points, Wire};
use crate::crd::sealed_secret::SealedSecret;
use crate::inspect::lint::LintContext;
use crate::layout;
use crate::model::secret_placement::placements;
use crate::secrets::sealed_file::data_keys;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "pod → secret → key",
    check,
};

/// Namespace → secret → its keys.
type Available = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// One secret read by a generated object.
#[derive(Debug, PartialEq, Eq)]
struct Use {
    namespace: String,
    secret: String,
    /// The key, when one is named.
    key: Option<String>,
    /// What reads it, for the message: `Deployment invoicetron, env DATABASE_URL`.
    by: String,
}

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    let tree = cx.output;
    let roots = roots(tree);
    let mut available = Available::new();
    let mut uses: Vec<(&str, Use)> = Vec::new();
    // Each root is built on its own (in parallel); what they hold is gathered in order.
    let built: Vec<Result<Built, String>> = roots
        .par_iter()
        .map(|dir| {
            let mut objects = Vec::new();
            build(tree, dir, &mut objects, 0)?;
            let mut found = Built::default();
            for object in &objects {
                let namespace = object["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_owned();
                if let Some(secret) = secret_of(object, &namespace) {
                    found.secrets.push(secret);
                }
                found.uses.extend(secret_uses(object, &namespace));
            }
            Ok(found)
        })
        .collect();
    for (dir, built) in roots.iter().zip(built) {
        let found = match built {
            Ok(found) => found,
            Err(why) => {
                points.broken(
                    cx,
                    &layout::kustomization(dir),
                    format!("cannot be built to check the secrets its pods read: {why}"),
                );
                continue;
            }
        };
        for (namespace, name, keys) in found.secrets {
            available
                .entry(namespace)
                .or_default()
                .entry(name)
                .or_default()
                .extend(keys);
        }
        for u in found.uses {
            uses.push((dir, u));
        }
    }
    for env in &cx.project.environments {
        for p in placements(env) {
            let keys = available
                .entry(p.namespace.clone())
                .or_default()
                .entry(p.secret.to_string())
                .or_default();
            keys.extend(data_keys(env, &p.secret));
        }
    }
    for (dir, u) in uses {
        let keys = available.get(&u.namespace).and_then(|s| s.get(&u.secret));
        let problem = match (&u.key, keys) {
            (_, None) => format!(
                "{} reads secret `{}`, which namespace `{}` does not have",
                u.by, u.secret, u.namespace
            ),
            (Some(key), Some(keys)) if !keys.contains(key) => format!(
                "{} reads key `{key}` of secret `{}`, which has no such key in namespace `{}` (keys: {})",
                u.by,
                u.secret,
                u.namespace,
                keys.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => {
                points.ok();
                continue;
            }
        };
        points.broken(cx, &layout::kustomization(dir), problem);
    }
}

/// What the objects of one kustomization root hold and read.
#[derive(Default)]
struct Built {
    /// (namespace, name, keys) of every Secret and SealedSecret.
    secrets: Vec<(String, String, BTreeSet<String>)>,
    /// Every secret a pod reads.
    uses: Vec<Use>,
}

/// The namespace, name and keys of a Secret or SealedSecret.
fn secret_of(object: &Value, namespace: &str) -> Option<(String, String, BTreeSet<String>)> {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut keys = BTreeSet::new();
    if let Some(sealed) = SealedSecret::of(object) {
        keys.extend(sealed.keys().into_iter().map(str::to_owned));
    } else if object["kind"] == "Secret" {
        if object["type"] == "kubernetes.io/service-account-token" {
            keys.extend(["token", "ca.crt", "namespace"].map(str::to_owned));
        }
        for f in ["/data", "/stringData"] {
            if let Some(map) = object.pointer(f).and_then(Value::as_object) {
                keys.extend(map.keys().cloned());
            }
        }
    } else {
        return None;
    }
    Some((namespace.to_owned(), name, keys))
}

/// Every secret an object's pod template reads.
fn secret_uses(object: &Value, namespace: &str) -> Vec<Use> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let pod = match kind {
        "Pod" => object.get("spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    };
    let Some(pod) = pod.filter(|p| p.get("containers").is_some()) else {
        return Vec::new();
    };
    let mut uses = Vec::new();
    let mut add = |secret: &Value, key: Option<&Value>, by: String| {
        if let Some(secret) = secret.as_str() {
            uses.push(Use {
                namespace: namespace.to_owned(),
                secret: secret.to_owned(),
                key: key.and_then(Value::as_str).map(str::to_owned),
                by: format!("{kind} {name}, {by}"),
            });
        }
    };
    for list in ["initContainers", "containers"] {
        for c in pod
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cname = c["name"].as_str().unwrap_or_default();
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                if let Some(r) = e.pointer("/valueFrom/secretKeyRef")
                    && r["optional"] != true
                {
                    add(
                        &r["name"],
                        Some(&r["key"]),
                        format!(
                            "container {cname} env {}",
                            e["name"].as_str().unwrap_or_default()
                        ),
                    );
                }
            }
            for e in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = e.get("secretRef")
                    && r["optional"] != true
                {
                    add(&r["name"], None, format!("container {cname} envFrom"));
                }
            }
        }
    }
    for v in pod
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(s) = v.get("secret")
            && s["optional"] != true
        {
            let vname = v["name"].as_str().unwrap_or_default();
            let items: Vec<&Value> = s
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            if items.is_empty() {
                add(&s["secretName"], None, format!("volume {vname}"));
            }
            for i in items {
                add(&s["secretName"], Some(&i["key"]), format!("volume {vname}"));
            }
        }
    }
    for s in pod
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(&s["name"], None, "imagePullSecrets".to_owned());
    }
    uses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostics;
    use crate::layout::Provenance;
    use crate::model::Project;
    use crate::render::OutputTree;
    use serde_json::json;

    fn yaml(v: &Value) -> Vec<u8> {
        crate::yaml::write::to_string(v).into_bytes()
    }

    fn tree(key: &str, pull: &str) -> OutputTree {
        let mut t = OutputTree::default();
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {
                "imagePullSecrets": [{"name": pull}],
                "containers": [{"name": "web", "env": [
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "web", "key": "a"}}}]}]}}}});
        let patch = json!([{"op": "replace",
            "path": "/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/key", "value": key}]);
        t.add(
            "kubernetes/apps/web/base/deployment-web.yaml",
            yaml(&deploy),
            &Provenance::default(),
        );
        t.add(
            "kubernetes/apps/web/base/kustomization.yaml",
            yaml(&json!({"resources": ["deployment-web.yaml"]})),
            &Provenance::default(),
        );
        t.add(
            "kubernetes/apps/web/overlays/prod/patches/deployment-web.yaml",
            yaml(&patch),
            &Provenance::default().of_env("prod"),
        );
        t.add(
            "kubernetes/apps/web/overlays/prod/kustomization.yaml",
            yaml(&json!({
            "namespace": "web-prod", "resources": ["../../base"],
            "patches": [{"path": "patches/deployment-web.yaml",
                "target": {"version": "v1", "kind": "Deployment", "name": "web"}}]})),
            &Provenance::default().of_env("prod"),
        );
        let sealed = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "web", "namespace": "web-prod"},
            "spec": {"encryptedData": {"b": "AgB"}}});
        t.add(
            "secrets/lab/web-prod/sealedsecret-web.yaml",
            yaml(&sealed),
            &Provenance::default().of_env("prod"),
        );
        t.add(
            "secrets/lab/web-prod/kustomization.yaml",
            yaml(&json!({"resources": ["sealedsecret-web.yaml"]})),
            &Provenance::default().of_env("prod"),
        );
        t
    }

    fn run(t: &OutputTree) -> Vec<String> {
        let project = Project::default();
        let mut diags = Diagnostics::default();
        let cx = LintContext::new(&project, t);
        let report = super::super::run_one(&WIRE, &cx, &mut diags, Default::default());
        assert_eq!(
            report.total - report.verified,
            diags.iter().count(),
            "{diags:?}"
        );
        assert!(report.total >= 2, "{report:?}");
        diags.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn references_resolve_through_overlay_namespace_and_patches() {
        assert_eq!(run(&tree("b", "web")), Vec::<String>::new());
    }

    #[test]
    fn a_missing_key_or_secret_in_the_namespace_is_an_error() {
        let found = run(&tree("a", "registry"));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("reads key `a` of secret `web`"),
            "{found:?}"
        );
        assert!(found[0].contains("namespace `web-prod`"), "{found:?}");
        assert!(
            found[1].contains("imagePullSecrets reads secret `registry`"),
            "{found:?}"
        );
    }

    /// The check sees the references the kubernetes target really writes: in the
    /// repository's own model, every pod's secrets in both namespaces.
    #[test]
    fn finds_every_secret_the_reference_model_reads() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let compiled = crate::pipeline::compile(
            &crate::model::Files::read(root),
            crate::model::State::default(),
        );
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        let mut seen = BTreeSet::new();
        for dir in roots(&compiled.tree) {
            let mut objects = Vec::new();
            build(&compiled.tree, &dir, &mut objects, 0).unwrap();
            for o in &objects {
                let ns = o["metadata"]["namespace"].as_str().unwrap_or("default");
                for u in secret_uses(o, ns) {
                    seen.insert((u.namespace, u.secret, u.key.unwrap_or_default()));
                }
            }
        }
        for ns in ["invoicetron-dev", "invoicetron-prod"] {
            for (secret, key) in [
                ("invoicetron-app", "database-url"),
                ("invoicetron-app", "better-auth-secret"),
                ("invoicetron-db", "postgres-password"),
                ("gitlab-registry", ""),
            ] {
                assert!(
                    seen.contains(&(ns.to_owned(), secret.to_owned(), key.to_owned())),
                    "{ns} {secret} {key} not among {seen:?}"
                );
            }
        }
    }
}
