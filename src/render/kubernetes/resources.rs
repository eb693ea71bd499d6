//! The `kubernetes` target's resources for `kiln diff`: each environment's objects as
//! the cluster gets them, i.e. what `kubectl kustomize overlays/<env>` gives (the real
//! namespace and image tag instead of the base's placeholder), plus the environment's
//! Namespaces and tunnel policies. Built from the same functions `render` uses, never
//! by reading the Kustomize files back; a test checks that both agree.

use super::kustomize::PLACEHOLDER_TAG;
use super::{AppCx, Object, app_objects, image_tag, namespace_object, network};
use crate::diagnostic::Diagnostics;
use crate::model::{Cluster, Environment, Placement};
use crate::render::{Context, Resource};
use serde_json::Value;
use std::collections::BTreeMap;

const TARGET: &str = "kubernetes";

/// Every object environment `env` gets on its clusters.
pub(super) fn of_env(cx: &Context<'_>, env: &Environment) -> Vec<Resource> {
    let model = &env.model;
    // Warnings (an unknown image tag) are the build's to report, not the diff's.
    let mut ignored = Diagnostics::default();
    let mut out = Vec::new();
    let mut namespaces: BTreeMap<(String, String), Object> = BTreeMap::new();
    let mut tunnels: BTreeMap<String, (&Cluster, BTreeMap<String, Vec<network::TunnelTarget>>)> =
        BTreeMap::new();
    for (name, app) in model.enabled_apps() {
        let Some(Placement::Cluster(cluster_name, cluster)) = model.placement(app) else {
            continue;
        };
        let namespace = model.namespace(&env.name, name, app);
        let image_name = model.image_name(&app.image);
        let tag = image_tag(cx, env, name, app, &mut ignored);
        let acx = AppCx {
            env,
            model,
            name,
            app,
            cluster,
            namespace: namespace.clone(),
            group: model.group(name, app),
            image: format!("{image_name}:{PLACEHOLDER_TAG}"),
        };
        let real_image = format!("{image_name}:{tag}");
        for mut object in app_objects(&acx) {
            object.set_namespace(&namespace);
            retag(&mut object.0, &acx.image, &real_image);
            out.push(Resource::object(
                TARGET,
                Some(cluster_name.as_str()),
                object.0,
            ));
        }
        namespaces
            .entry((cluster_name.to_string(), namespace.clone()))
            .or_insert_with(|| namespace_object(&namespace, acx.group.as_str(), model));
        if app.routes.values().any(|r| r.tunnel) {
            tunnels
                .entry(cluster_name.to_string())
                .or_insert_with(|| (cluster, BTreeMap::new()))
                .1
                .entry(namespace.clone())
                .or_default()
                .push(network::TunnelTarget {
                    app: name.to_string(),
                    namespace,
                    port: app.port,
                });
        }
    }
    for ((cluster, _), object) in namespaces {
        out.push(Resource::object(TARGET, Some(&cluster), object.0));
    }
    for (cluster_name, (cluster, by_namespace)) in tunnels {
        for (namespace, targets) in by_namespace {
            if let Some(policy) = network::tunnel_policy(cluster, &namespace, &targets) {
                out.push(Resource::object(TARGET, Some(&cluster_name), policy.0));
            }
        }
    }
    out
}

/// Sets the real tag where the base carries the placeholder, as Kustomize's `images:`
/// does for containers and init containers.
fn retag(value: &mut Value, placeholder: &str, real: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "image" && v.as_str() == Some(placeholder) {
                    *v = Value::String(real.to_owned());
                } else {
                    retag(v, placeholder, real);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| retag(v, placeholder, real)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::kustomize::apply_ops;
    use crate::render::{Content, OutputTree, State, Templates, render_all, resources};
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn parse(tree: &OutputTree, path: &str) -> Value {
        let file = tree.get(path).unwrap_or_else(|| panic!("no {path}"));
        serde_saphyr::from_slice(&file.bytes).unwrap()
    }

    /// What `kubectl kustomize` makes of one overlay, for the subset of Kustomize the
    /// target writes: resources (files or directories), namespace, images, patches.
    fn kustomize(tree: &OutputTree, dir: &str, out: &mut Vec<Value>) {
        let k = parse(tree, &format!("{dir}/kustomization.yaml"));
        let mut objects = Vec::new();
        for r in k["resources"].as_array().unwrap() {
            let path = normalize(&format!("{dir}/{}", r.as_str().unwrap()));
            if tree.get(&format!("{path}/kustomization.yaml")).is_some() {
                kustomize(tree, &path, &mut objects);
            } else {
                objects.push(parse(tree, &path));
            }
        }
        for patch in k["patches"].as_array().into_iter().flatten() {
            let ops = parse(tree, &format!("{dir}/{}", patch["path"].as_str().unwrap()));
            let target = &patch["target"];
            let object = objects
                .iter_mut()
                .find(|o| o["kind"] == target["kind"] && o["metadata"]["name"] == target["name"])
                .expect("patch target exists");
            apply_ops(object, ops.as_array().unwrap()).unwrap();
        }
        for object in &mut objects {
            if let Some(ns) = k["namespace"].as_str() {
                object["metadata"]["namespace"] = Value::String(ns.to_owned());
            }
            for image in k["images"].as_array().into_iter().flatten() {
                let name = image["name"].as_str().unwrap();
                let tag = image["newTag"].as_str().unwrap();
                super::retag(
                    object,
                    &format!("{name}:{}", super::PLACEHOLDER_TAG),
                    &format!("{name}:{tag}"),
                );
            }
        }
        out.extend(objects);
    }

    fn normalize(path: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for p in path.split('/') {
            if p == ".." {
                parts.pop();
            } else {
                parts.push(p);
            }
        }
        parts.join("/")
    }

    /// `resources()` gives, per environment, exactly the objects the written overlays
    /// give once Kustomize has applied them, plus the namespaces and tunnel policies.
    #[test]
    fn resources_are_what_the_written_overlays_give() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (project, diags) = crate::model::load(root);
        assert!(!diags.has_errors(), "the reference model loads");
        let state = State::default();
        let templates = Templates::default();
        let cx = crate::render::Context {
            project: &project,
            state: &state,
            templates: &templates,
        };
        let (tree, _) = render_all(&cx);
        for env in &project.environments {
            let mut expected: BTreeMap<(String, String, String), Value> = BTreeMap::new();
            let mut add = |o: Value| {
                let id = (
                    o["kind"].as_str().unwrap().to_owned(),
                    o["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
                    o["metadata"]["name"].as_str().unwrap().to_owned(),
                );
                expected.insert(id, o);
            };
            for (path, file) in tree.iter() {
                if file.env.as_deref() != Some(env.name.as_str()) {
                    continue;
                }
                if path.starts_with("kubernetes/apps/") && path.ends_with("/kustomization.yaml") {
                    let mut objects = Vec::new();
                    kustomize(
                        &tree,
                        path.trim_end_matches("/kustomization.yaml"),
                        &mut objects,
                    );
                    objects.into_iter().for_each(&mut add);
                } else if path.starts_with("kubernetes/clusters/")
                    && !path.ends_with("/kustomization.yaml")
                {
                    add(parse(&tree, path));
                }
            }
            let got: BTreeMap<(String, String, String), Value> = resources(&cx, env, &tree)
                .into_iter()
                .filter(|r| r.target == "kubernetes")
                .map(|r| {
                    let Content::Data(v) = r.content else {
                        panic!("kubernetes resources are data")
                    };
                    ((r.kind, r.namespace.unwrap_or_default(), r.name), v)
                })
                .collect();
            assert!(!got.is_empty());
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{}",
                env.name
            );
            for (id, object) in &got {
                assert_eq!(object, &expected[id], "{} {id:?}", env.name);
            }
        }
    }
}
