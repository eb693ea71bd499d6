//! The `kubernetes` target's resources for `kiln diff`: each environment's objects as
//! the cluster gets them, i.e. what `kubectl kustomize` gives for the environment's
//! overlays (the namespace, the real image tag instead of the base's placeholder, the
//! deployed-tag annotation of host apps), plus the environment's Namespaces and tunnel
//! policies. Built from the same functions `render` uses, never by reading the
//! Kustomize files back; a test checks both against the real `kubectl kustomize`.

use super::kustomize::PLACEHOLDER_TAG;
use super::{
    AppCx, DEPLOYED_TAG_ANNOTATION, Object, app_objects, cluster_apps, external, namespace_object,
    network,
};
use crate::diagnostic::Diagnostics;
use crate::model::{Cluster, Environment};
use crate::render::{Context, Resource, images};
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
    for unit in cluster_apps(env) {
        let (name, app, cluster) = (unit.name, unit.app, unit.cluster);
        let namespace = unit.namespace.clone();
        let image_name = app
            .image
            .as_ref()
            .map(|i| model.image_name(i))
            .unwrap_or_default();
        let tag = images::tag(cx, env, name, app, &mut ignored);
        let acx = AppCx {
            env,
            model,
            name,
            app,
            cluster,
            namespace: namespace.clone(),
            group: model.group(name, app),
            image: format!("{image_name}:{PLACEHOLDER_TAG}"),
            routes: unit.routes(),
            service_port: if unit.host.is_some() {
                external::host_port_of(app)
            } else {
                app.http_port()
            },
        };
        let real_image = format!("{image_name}:{tag}");
        let annotate = unit.host.is_some() && unit.has_job();
        let mut objects: Vec<Object> = app_objects(&acx, &unit).all().collect();
        // As the overlay's hand patches leave them (a patch that cannot apply is the
        // build's error to report).
        super::features::patches::hand_patches(env, name, app, &mut objects, &mut ignored);
        for mut object in objects {
            object.set_namespace(&namespace);
            if unit.host.is_none() {
                retag(&mut object.0, &acx.image, &real_image);
            }
            if annotate {
                common_annotation(&mut object.0, DEPLOYED_TAG_ANNOTATION, &tag);
            }
            out.push(Resource::object(
                TARGET,
                Some(unit.cluster_name.as_str()),
                object.0,
            ));
        }
        namespaces
            .entry((unit.cluster_name.to_string(), namespace.clone()))
            .or_insert_with(|| namespace_object(&namespace, acx.group.as_str(), model));
        if unit.host.is_none() && app.routes.values().any(|r| r.tunnel) {
            tunnels
                .entry(unit.cluster_name.to_string())
                .or_insert_with(|| (cluster, BTreeMap::new()))
                .1
                .entry(namespace.clone())
                .or_default()
                .push(network::TunnelTarget {
                    app: name.to_string(),
                    namespace,
                    port: app.http_port(),
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

/// Adds an annotation where Kustomize's `commonAnnotations` puts it: the object's
/// metadata, and the pod (and job) templates of workloads.
fn common_annotation(object: &mut Value, key: &str, value: &str) {
    let mut places = vec!["/metadata".to_owned()];
    match object["kind"].as_str() {
        Some(
            "Deployment"
            | "ReplicaSet"
            | "DaemonSet"
            | "StatefulSet"
            | "Job"
            | "ReplicationController",
        ) => places.push("/spec/template/metadata".to_owned()),
        Some("CronJob") => {
            places.push("/spec/jobTemplate/metadata".to_owned());
            places.push("/spec/jobTemplate/spec/template/metadata".to_owned());
        }
        _ => {}
    }
    for place in places {
        let Some(parent) = ensure(object, &place) else {
            continue;
        };
        let annotations = parent
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(map) = annotations.as_object_mut() {
            map.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    }
}

/// The object at `pointer`, creating empty maps on the way.
fn ensure<'v>(
    value: &'v mut Value,
    pointer: &str,
) -> Option<&'v mut serde_json::Map<String, Value>> {
    let mut current = value;
    for key in pointer.split('/').filter(|k| !k.is_empty()) {
        current = current
            .as_object_mut()?
            .entry(key)
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    current.as_object_mut()
}

#[cfg(test)]
mod tests {
    use crate::render::{Content, OutputTree, State, Templates, render_all, resources};
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::path::Path;

    type Objects = BTreeMap<(String, String, String), Value>;

    fn add(objects: &mut Objects, o: Value) {
        let id = (
            o["kind"].as_str().unwrap().to_owned(),
            o["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
            o["metadata"]["name"].as_str().unwrap().to_owned(),
        );
        assert!(objects.insert(id.clone(), o).is_none(), "{id:?} twice");
    }

    fn write(tree: &OutputTree, dir: &Path) {
        for (path, file) in tree.iter() {
            let dest = dir.join(path);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(dest, &file.bytes).unwrap();
        }
    }

    /// What the real `kubectl kustomize` makes of one overlay.
    fn kustomize(dir: &Path) -> Vec<Value> {
        let out = std::process::Command::new("kubectl")
            .arg("kustomize")
            .arg(dir)
            .output()
            .expect("kubectl is installed (tools/validators/setup-validators.sh checks it)");
        assert!(
            out.status.success(),
            "kubectl kustomize {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        serde_saphyr::from_str_multiple(&text).unwrap()
    }

    /// For every environment of the reference model, of every golden case that builds
    /// (among them hand patches, JSON 6902 and strategic-merge) and of every example,
    /// `resources()` gives exactly the objects `kubectl kustomize` builds from the
    /// overlays the target wrote (a base of what the environments share, patched by
    /// name), plus the environment's namespaces and tunnel policies.
    #[test]
    fn resources_are_what_kubectl_kustomize_builds_from_the_written_overlays() {
        if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
            return;
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut roots = vec![repo.to_path_buf()];
        for dir in ["tests/golden", "examples"] {
            let mut cases: Vec<_> = std::fs::read_dir(repo.join(dir))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.join("environments").is_dir()
                        && !p.file_name().unwrap().to_string_lossy().starts_with("bad-")
                })
                .collect();
            cases.sort();
            roots.extend(cases);
        }
        let compared: usize = roots.iter().map(|r| check_against_kubectl(r)).sum();
        assert!(compared > 100, "only {compared} objects compared");
    }

    /// The number of objects compared.
    fn check_against_kubectl(root: &Path) -> usize {
        let mut compared = 0;
        let (project, diags) = crate::model::load(root);
        assert!(!diags.has_errors(), "{} loads", root.display());
        let state = State::default();
        let templates = Templates::default();
        let cx = crate::render::Context {
            project: &project,
            state: &state,
            templates: &templates,
            sealed: &Default::default(),
        };
        let (tree, _) = render_all(&cx);
        let dir = tempfile::tempdir().unwrap();
        write(&tree, dir.path());
        for env in &project.environments {
            let mut expected = Objects::new();
            for (path, file) in tree.iter() {
                if file.env() != Some(env.name.as_str()) {
                    continue;
                }
                if path.starts_with("kubernetes/apps/") && path.ends_with("/kustomization.yaml") {
                    let overlay = dir
                        .path()
                        .join(path.trim_end_matches("/kustomization.yaml"));
                    for o in kustomize(&overlay) {
                        add(&mut expected, o);
                    }
                } else if path.starts_with("kubernetes/clusters/")
                    && !path.ends_with("/kustomization.yaml")
                {
                    add(
                        &mut expected,
                        serde_saphyr::from_slice(&file.bytes).unwrap(),
                    );
                }
            }
            let mut got = Objects::new();
            for r in resources(&cx, env, &tree)
                .into_iter()
                .filter(|r| r.target == "kubernetes")
            {
                let Content::Data(v) = r.content else {
                    panic!("kubernetes resources are data")
                };
                add(&mut got, v);
            }
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{} {}",
                root.display(),
                env.name
            );
            for (id, object) in &got {
                assert_eq!(
                    object,
                    &expected[id],
                    "{} {} {id:?}",
                    root.display(),
                    env.name
                );
            }
            compared += got.len();
        }
        compared
    }
}
