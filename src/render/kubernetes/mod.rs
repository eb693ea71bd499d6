//! The `kubernetes` target: every app that runs on a cluster, as Kustomize bases and
//! overlays, plus per-cluster namespaces and tunnel policies.
//!
//! Layout under `out/kubernetes/`:
//! - `apps/<app>/base/` and `apps/<app>/overlays/<env>/` (see [`kustomize`]);
//! - `clusters/<cluster>/namespaces/<namespace>/`: the Namespace with its Pod Security
//!   labels;
//! - `clusters/<cluster>/tunnel/`: network policies letting the tunnel agent reach
//!   public apps.

pub mod database;
pub mod kustomize;
pub mod labels;
pub mod network;
mod object;
pub mod pod;
pub mod rbac;
mod resources;
pub mod routes;
pub mod workload;

pub use object::Object;

use super::{Context, OutputTree, Target, yaml};
use crate::diagnostic::{Check, Diagnostic, Diagnostics};
use crate::model::{App, Cluster, Environment, Model, Name, Placement};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kustomize::{EnvObjects, ImageTag, PLACEHOLDER_TAG};
use std::collections::BTreeMap;

/// A warning: no tag is known for an app's image in an environment.
pub const IMAGE_TAG_UNKNOWN: Check = Check {
    code: "E0101",
    name: "image-tag-unknown",
};

/// The tag written when neither the model nor automation has given one.
pub const UNSET_TAG: &str = "unset";

/// The Kubernetes target.
pub struct Kubernetes;

/// One app in one environment, with everything its renderers need.
pub struct AppCx<'a> {
    /// The environment.
    pub env: &'a Environment,
    /// The environment's model.
    pub model: &'a Model,
    /// The app's name.
    pub name: &'a Name,
    /// The app.
    pub app: &'a App,
    /// The cluster it runs on.
    pub cluster: &'a Cluster,
    /// Its namespace.
    pub namespace: String,
    /// Its group.
    pub group: &'a Name,
    /// Its image with the placeholder tag.
    pub image: String,
}

impl AppCx<'_> {
    /// The name of the app's database StatefulSet and Service.
    pub fn db_service(&self) -> String {
        format!("{}-db", self.name)
    }
}

/// Every namespaced object of one app in one environment (without namespace).
pub fn app_objects(cx: &AppCx<'_>) -> Vec<Object> {
    let mut objects = workload::objects(cx);
    if let Some(db) = &cx.app.database {
        objects.extend(database::objects(cx, db));
    }
    objects.extend(rbac::objects(cx));
    objects.extend(routes::objects(cx));
    objects
}

fn namespace_object(name: &str, group: &str, model: &Model) -> Object {
    let level = model.environment.pod_security.as_str();
    let mut labels = BTreeMap::from([
        (labels::PART_OF.to_owned(), group.to_owned()),
        (labels::MANAGED_BY.to_owned(), "kiln".to_owned()),
    ]);
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}"),
            level.to_owned(),
        );
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}-version"),
            "latest".to_owned(),
        );
    }
    Object::from(&Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// The tag an app's image gets in an environment: pinned in the model, else what
/// automation wrote into the committed overlay, else [`UNSET_TAG`] with a warning.
pub fn image_tag(
    cx: &Context<'_>,
    env: &Environment,
    name: &Name,
    app: &App,
    diags: &mut Diagnostics,
) -> String {
    if let Some(tag) = &app.image.tag {
        return tag.clone();
    }
    if let Some(tag) = cx
        .state
        .image_tags
        .get(&(name.to_string(), env.name.to_string()))
    {
        return tag.clone();
    }
    diags.push(
        Diagnostic::warning(
            IMAGE_TAG_UNKNOWN,
            format!(
                "no tag is known for the image of `{name}` in `{}`",
                env.name
            ),
        )
        .at(env.span(&format!("/apps/{name}/image")))
        .help(format!(
            "pin `image.tag`, or record the deployed tag with `kiln set-image {name} TAG --env {}`",
            env.name
        )),
    );
    UNSET_TAG.to_owned()
}

/// The apps of one namespace that a cluster's tunnel must reach.
struct TunnelUnit<'a> {
    env: String,
    cluster: &'a Cluster,
    targets: Vec<network::TunnelTarget>,
    sources: Vec<String>,
}

struct NamespaceUnit {
    env: String,
    object: Object,
    sources: Vec<String>,
}

impl Target for Kubernetes {
    fn id(&self) -> &'static str {
        "kubernetes"
    }

    fn description(&self) -> &'static str {
        "Kustomize bases and per-environment overlays for apps on clusters; namespaces and tunnel policies per cluster"
    }

    /// The environment's objects as applied (namespace, real image tag), not the
    /// Kustomize files.
    fn resources(
        &self,
        cx: &Context<'_>,
        env: &Environment,
        _files: &OutputTree,
    ) -> Vec<super::Resource> {
        resources::of_env(cx, env)
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics) {
        let mut apps: BTreeMap<String, Vec<EnvObjects>> = BTreeMap::new();
        let mut namespaces: BTreeMap<(String, String), NamespaceUnit> = BTreeMap::new();
        let mut tunnels: BTreeMap<String, BTreeMap<String, TunnelUnit<'_>>> = BTreeMap::new();
        for env in &cx.project.environments {
            let model = &env.model;
            for (name, app) in model.enabled_apps() {
                let Some(Placement::Cluster(cluster_name, cluster)) = model.placement(app) else {
                    continue;
                };
                let namespace = model.namespace(&env.name, name, app);
                let image_name = model.image_name(&app.image);
                let tag = image_tag(cx, env, name, app, diags);
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
                apps.entry(name.to_string()).or_default().push(EnvObjects {
                    env: env.name.to_string(),
                    namespace: namespace.clone(),
                    objects: app_objects(&acx),
                    images: BTreeMap::from([(image_name, ImageTag { tag, setter: None })]),
                    sources: env.sources.clone(),
                });
                namespaces
                    .entry((cluster_name.to_string(), namespace.clone()))
                    .or_insert_with(|| NamespaceUnit {
                        env: env.name.to_string(),
                        object: namespace_object(&namespace, acx.group.as_str(), model),
                        sources: env.sources.clone(),
                    });
                if app.routes.values().any(|r| r.tunnel) {
                    let entry = tunnels
                        .entry(cluster_name.to_string())
                        .or_default()
                        .entry(namespace.clone())
                        .or_insert_with(|| TunnelUnit {
                            env: env.name.to_string(),
                            cluster,
                            targets: Vec::new(),
                            sources: env.sources.clone(),
                        });
                    entry.targets.push(network::TunnelTarget {
                        app: name.to_string(),
                        namespace: namespace.clone(),
                        port: app.port,
                    });
                }
            }
        }
        for (app, envs) in &apps {
            kustomize::write_app(&format!("kubernetes/apps/{app}"), envs, out);
        }
        for ((cluster, namespace), unit) in &namespaces {
            let dir = format!("kubernetes/clusters/{cluster}/namespaces/{namespace}");
            let file = unit.object.file_name();
            out.add(
                format!("{dir}/{file}"),
                yaml::file(&unit.sources, &unit.object.0),
                Some(&unit.env),
            );
            out.add(
                format!("{dir}/kustomization.yaml"),
                yaml::file(&unit.sources, &kustomize::plain_kustomization(vec![file])),
                Some(&unit.env),
            );
        }
        for (cluster, by_namespace) in &tunnels {
            let dir = format!("kubernetes/clusters/{cluster}/tunnel");
            let mut files = Vec::new();
            let mut all_sources = Vec::new();
            for (namespace, unit) in by_namespace {
                let TunnelUnit {
                    env,
                    cluster,
                    targets,
                    sources,
                } = unit;
                if let Some(policy) = network::tunnel_policy(cluster, namespace, targets) {
                    let file = policy.file_name();
                    out.add(
                        format!("{dir}/{file}"),
                        yaml::file(sources, &policy.0),
                        Some(env),
                    );
                    files.push(file);
                    all_sources.extend(sources.iter().cloned());
                }
            }
            if !files.is_empty() {
                all_sources.sort();
                all_sources.dedup();
                out.add(
                    format!("{dir}/kustomization.yaml"),
                    yaml::file(&all_sources, &kustomize::plain_kustomization(files)),
                    None,
                );
            }
        }
    }
}
