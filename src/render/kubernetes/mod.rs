//! The `kubernetes` target: every app that has objects on a cluster, as Kustomize
//! bases and overlays, plus per-cluster namespaces and tunnel policies.
//!
//! Layout under `out/kubernetes/`:
//! - `apps/<app>/base/` and `apps/<app>/overlays/<env>/` (see [`kustomize`]);
//! - `clusters/<cluster>/namespaces/`: the Namespaces with their Pod Security labels;
//! - `clusters/<cluster>/tunnel/`: network policies letting the tunnel agent reach
//!   public apps.
//!
//! An app that runs on a cluster gets its workload there; an app that runs on a host
//! gets, on the cluster that routes to it or deploys it, a Service pointing at the
//! host and the deploy Job (see [`external`]).

pub mod database;
pub mod external;
pub mod features;
pub mod kustomize;
pub mod labels;
pub mod network;
mod object;
pub mod pod;
pub mod rbac;
mod resources;
pub mod routes;
pub mod workload;

pub use crate::model::placement::{ClusterApp, cluster_app, cluster_apps};
pub use object::Object;

use super::{Context, OutputTree, Target, images, yaml};
use crate::diagnostic::Diagnostics;
use crate::layout::{self, Provenance};
use crate::model::{App, Cluster, Environment, Model, Name, Route};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kustomize::{EnvObjects, ImageTag, PLACEHOLDER_TAG};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The Kubernetes target.
pub struct Kubernetes;

/// The target's id.
const ID: &str = "kubernetes";

/// The annotation that carries a host app's deployed tag on its cluster objects, so
/// the deploy Job changes (and Flux re-runs it) whenever image automation commits a
/// new tag.
pub const DEPLOYED_TAG_ANNOTATION: &str = "kiln.dev/deployed-tag";

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
    /// The cluster its objects are on.
    pub cluster: &'a Cluster,
    /// Its namespace.
    pub namespace: String,
    /// Its group.
    pub group: &'a Name,
    /// Its image with the placeholder tag.
    pub image: String,
    /// The routes this cluster serves for it.
    pub routes: Vec<(&'a Name, &'a Route)>,
    /// The port its Service listens on.
    pub service_port: u16,
}

/// The render context of one app in one environment, its image tagged `tag`.
pub fn app_cx<'a>(unit: &ClusterApp<'a>, tag: &str) -> AppCx<'a> {
    let model = &unit.env.model;
    AppCx {
        env: unit.env,
        model,
        name: unit.name,
        app: unit.app,
        cluster: unit.cluster,
        namespace: unit.namespace.clone(),
        group: model.group(unit.name, unit.app),
        image: unit
            .app
            .image
            .as_ref()
            .map(|i| format!("{}:{tag}", model.image_name(i)))
            .unwrap_or_default(),
        routes: unit.routes(),
        service_port: if unit.host.is_some() {
            external::host_port_of(unit.app)
        } else {
            unit.app.http_port()
        },
    }
}

impl AppCx<'_> {
    /// The name of the app's database StatefulSet and Service.
    pub fn db_service(&self) -> String {
        format!("{}-db", self.name)
    }

    /// The metadata of one of the app's objects: `name`, and the app's standard
    /// labels for `component`.
    pub fn meta(&self, name: &str, component: &str) -> ObjectMeta {
        self.meta_of(self.name.as_str(), name, component)
    }

    /// The metadata of a Job of the app: [`AppCx::meta`] plus Flux's per-object force
    /// annotation. A new image changes a Job's pod template, which a Job cannot change,
    /// so Flux recreates it (and only it, never the app's unit) instead of failing.
    pub fn job_meta(&self, name: &str, component: &str) -> ObjectMeta {
        let mut meta = self.meta(name, component);
        meta.annotations = Some(std::collections::BTreeMap::from([(
            crate::crd::flux::FORCE_ANNOTATION.to_owned(),
            "enabled".to_owned(),
        )]));
        meta
    }

    /// The metadata of one of the database's objects: `name`, labelled as the
    /// database ([`AppCx::db_service`]) in the app's group.
    pub fn db_meta(&self, name: &str, component: &str) -> ObjectMeta {
        self.meta_of(&self.db_service(), name, component)
    }

    fn meta_of(&self, labelled: &str, name: &str, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels::standard(labelled, self.group.as_str(), component)),
            ..Default::default()
        }
    }
}

/// One app's namespaced objects in one environment (without namespace).
pub struct AppObjects {
    /// Objects the environments may share through the app's Kustomize base.
    pub objects: Vec<Object>,
    /// Objects made from this environment's host (its address, the port the app is
    /// published on, the SSH login): they live in the environment's overlay only,
    /// whole, so the shared base never carries one environment's host.
    pub host_bound: Vec<Object>,
}

impl AppObjects {
    /// Every object, shared ones first.
    pub fn all(self) -> impl Iterator<Item = Object> {
        self.objects.into_iter().chain(self.host_bound)
    }
}

/// Every namespaced object of one app in one environment (without namespace).
pub fn app_objects(cx: &AppCx<'_>, unit: &ClusterApp<'_>) -> AppObjects {
    let mut objects = Vec::new();
    let mut host_bound = Vec::new();
    match unit.host {
        // A data service is only its database.
        None if cx.app.is_data_service() => {
            if let Some(db) = &cx.app.database {
                objects.extend(database::objects(cx, db));
            }
            objects.extend(network::db_policy(cx));
        }
        None => {
            objects.extend(workload::objects(cx));
            if let Some(db) = &cx.app.database {
                objects.extend(database::objects(cx, db));
            }
            objects.extend(rbac::objects(cx));
            objects.extend(network::app_policies(cx, false));
        }
        Some((host_name, host)) => {
            if !cx.routes.is_empty() {
                host_bound.extend(external::service(cx, host));
            }
            if let Some(from) = host.deploy_from.as_ref().filter(|_| unit.deploys(host)) {
                host_bound.push(external::deploy_job(cx, host_name.as_str(), host, from));
                objects.extend(network::app_policies(cx, true));
            }
        }
    }
    objects.extend(routes::objects(cx));
    for object in objects.iter_mut().chain(&mut host_bound) {
        skip_checks(object, cx.app);
    }
    AppObjects {
        objects,
        host_bound,
    }
}

/// Whether a waiver names a checkov check (`CKV_K8S_43`, `CKV2_K8S_6`) rather than a
/// kiln rule.
pub fn is_checkov_id(id: &str) -> bool {
    let rest = id.strip_prefix("CKV2_").or_else(|| id.strip_prefix("CKV_"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    })
}

/// The kinds of pod-bearing objects, which most checkov Kubernetes checks read.
const POD_KINDS: &[&str] = &[
    "CronJob",
    "DaemonSet",
    "Deployment",
    "Job",
    "Pod",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// Whether checkov check `id` reads objects of `kind`, so that its skip annotation
/// belongs there: from checkov's own registry (each check's `supported_entities`,
/// checkov 3.3): the checks of other kinds are listed, every other `CKV_K8S_` check
/// reads pod specs; a check kiln does not know (`CKV2_K8S_`, a newer number) is
/// written on every object, as before.
fn checkov_applies(id: &str, kind: &str) -> bool {
    const OTHER: &[(&[u32], &[&str])] = &[
        (&[1, 2, 3, 4, 5, 6, 7, 24, 32, 36], &["PodSecurityPolicy"]),
        (
            &[21],
            &[
                "ConfigMap",
                "CronJob",
                "DaemonSet",
                "Deployment",
                "Ingress",
                "Job",
                "Pod",
                "ReplicaSet",
                "ReplicationController",
                "Role",
                "RoleBinding",
                "Secret",
                "Service",
                "ServiceAccount",
                "StatefulSet",
            ],
        ),
        (&[41], &["ServiceAccount"]),
        (&[42], &["ClusterRoleBinding", "RoleBinding"]),
        (&[44], &["Service"]),
        (&[49, 157, 158], &["ClusterRole", "Role"]),
        (&[78], &["AdmissionConfiguration"]),
        (&[152, 153, 154], &["Ingress"]),
        (&[155, 156], &["ClusterRole"]),
    ];
    let Some(number) = id
        .strip_prefix("CKV_K8S_")
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return true;
    };
    if number > 159 {
        return true;
    }
    match OTHER.iter().find(|(ids, _)| ids.contains(&number)) {
        Some((_, kinds)) => kinds.contains(&kind),
        None => POD_KINDS.contains(&kind),
    }
}

/// Writes the app's checkov waivers onto an object as the annotations checkov reads
/// (`checkov.io/skip<N>: <check>=<reason>`), so a scan of `out/` skips exactly the
/// checks the model says do not apply, each with its reason.
pub fn skip_checks(object: &mut Object, app: &App) {
    let kind = object.kind().to_owned();
    let skips: Vec<String> = app
        .waive
        .iter()
        .filter(|(id, _)| is_checkov_id(id) && checkov_applies(id, &kind))
        .map(|(id, reason)| format!("{id}={}", reason.trim()))
        .collect();
    if skips.is_empty() {
        return;
    }
    let Some(meta) = object
        .0
        .get_mut("metadata")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| serde_json::json!({}));
    if let Some(map) = annotations.as_object_mut() {
        for (i, skip) in skips.into_iter().enumerate() {
            map.insert(
                format!("checkov.io/skip{}", i + 1),
                serde_json::Value::String(skip),
            );
        }
    }
}

fn namespace_object(name: &str, group: &str, model: &Model) -> Object {
    let level = model.pod_security_of(group).as_str();
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

/// One app's objects, image tags and annotations in one environment.
fn env_objects(cx: &Context<'_>, unit: &ClusterApp<'_>, diags: &mut Diagnostics) -> EnvObjects {
    let (env, name, app) = (unit.env, unit.name, unit.app);
    let acx = app_cx(unit, PLACEHOLDER_TAG);
    let AppObjects {
        objects,
        host_bound,
    } = app_objects(&acx, unit);
    let hand_patches = if app.patches.kubernetes.is_empty() {
        Vec::new()
    } else {
        let mut all: Vec<Object> = objects.iter().chain(&host_bound).cloned().collect();
        features::patches::hand_patches(env, name, app, &mut all, diags)
    };
    let marker = images::marker_for(name.as_str(), app, env.name.as_str(), true);
    let image = app.image.as_ref().map(|i| {
        (
            env.model.image_name(i),
            images::tag(cx, env, name, app, diags),
        )
    });
    let (images, annotations) = match image {
        Some((image_name, tag)) if unit.host.is_none() => (
            BTreeMap::from([(
                image_name,
                ImageTag {
                    tag,
                    setter: marker,
                },
            )]),
            BTreeMap::new(),
        ),
        Some((_, tag)) if unit.has_job() => (
            BTreeMap::new(),
            BTreeMap::from([(
                DEPLOYED_TAG_ANNOTATION.to_owned(),
                ImageTag {
                    tag,
                    setter: marker,
                },
            )]),
        ),
        _ => (BTreeMap::new(), BTreeMap::new()),
    };
    let mut provenance = Provenance::new(ID)
        .of_app(name.as_str())
        .of_env(env.name.as_str())
        .on_cluster(unit.cluster_name.as_str());
    if let Some((host, _)) = unit.host {
        provenance = provenance.on_host(host.as_str());
    }
    EnvObjects {
        env: env.name.to_string(),
        namespace: unit.namespace.clone(),
        objects,
        host_bound,
        images,
        annotations,
        sources: env.sources.clone(),
        provenance,
        hand_patches,
    }
}

impl Target for Kubernetes {
    fn id(&self) -> &'static str {
        ID
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
        let mut apps: BTreeMap<&Name, Vec<ClusterApp<'_>>> = BTreeMap::new();
        let mut namespaces: BTreeMap<(String, String), NamespaceUnit> = BTreeMap::new();
        let mut tunnels: BTreeMap<String, BTreeMap<String, TunnelUnit<'_>>> = BTreeMap::new();
        for env in &cx.project.environments {
            let model = &env.model;
            for unit in cluster_apps(env) {
                let (name, app, cluster) = (unit.name, unit.app, unit.cluster);
                let namespace = unit.namespace.clone();
                namespaces
                    .entry((unit.cluster_name.to_string(), namespace.clone()))
                    .or_insert_with(|| NamespaceUnit {
                        env: env.name.to_string(),
                        object: namespace_object(
                            &namespace,
                            model.group(name, app).as_str(),
                            model,
                        ),
                        sources: env.sources.clone(),
                    });
                if unit.host.is_none() && app.routes.values().any(|r| r.tunnel) {
                    let entry = tunnels
                        .entry(unit.cluster_name.to_string())
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
                        port: app.http_port(),
                    });
                }
                apps.entry(name).or_default().push(unit);
            }
        }
        // App by app, in parallel: each app's objects exist only while its base and
        // overlays are written, and the files and diagnostics are merged in app order,
        // whatever the number of threads.
        let rendered: Vec<(OutputTree, Diagnostics)> = apps
            .par_iter()
            .map(|(name, units)| {
                let mut tree = OutputTree::default();
                let mut diags = Diagnostics::default();
                let envs: Vec<EnvObjects> = units
                    .iter()
                    .map(|unit| env_objects(cx, unit, &mut diags))
                    .collect();
                kustomize::write_app(name.as_str(), envs, &mut tree);
                (tree, diags)
            })
            .collect();
        let mut trees = Vec::with_capacity(rendered.len());
        for (tree, d) in rendered {
            trees.push(tree);
            diags.append(d);
        }
        out.merge_all(trees);
        let mut by_cluster: BTreeMap<&str, Vec<(&String, &NamespaceUnit)>> = BTreeMap::new();
        for ((cluster, namespace), unit) in &namespaces {
            by_cluster
                .entry(cluster)
                .or_default()
                .push((namespace, unit));
        }
        for (cluster, units) in by_cluster {
            let dir = layout::cluster_namespaces(cluster);
            let on_cluster = Provenance::new(ID).on_cluster(cluster);
            let mut shared = on_cluster.clone();
            let mut files = Vec::new();
            let mut all_sources = Vec::new();
            for (_, unit) in units {
                let file = unit.object.file_name();
                let from = on_cluster.clone().of_env(&unit.env);
                out.add(
                    layout::join(&dir, &file),
                    yaml::document(&unit.sources, unit.object.0.clone()),
                    &from,
                );
                shared = shared.shared_with(&from);
                files.push(file);
                all_sources.extend(unit.sources.iter().cloned());
            }
            all_sources.sort();
            all_sources.dedup();
            out.add(
                layout::kustomization(&dir),
                yaml::typed(&all_sources, &kustomize::plain_kustomization(files)),
                &shared,
            );
        }
        for (cluster, by_namespace) in &tunnels {
            let dir = layout::cluster_tunnel(cluster);
            let on_cluster = Provenance::new(ID).on_cluster(cluster);
            let mut shared = on_cluster.clone();
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
                    let from = on_cluster.clone().of_env(env);
                    out.add(
                        layout::join(&dir, &file),
                        yaml::document(sources, policy.0.clone()),
                        &from,
                    );
                    shared = shared.shared_with(&from);
                    files.push(file);
                    all_sources.extend(sources.iter().cloned());
                }
            }
            if !files.is_empty() {
                all_sources.sort();
                all_sources.dedup();
                out.add(
                    layout::kustomization(&dir),
                    yaml::typed(&all_sources, &kustomize::plain_kustomization(files)),
                    &shared,
                );
            }
        }
    }
}

#[cfg(test)]
mod checkov_tests {
    use super::checkov_applies;

    #[test]
    fn checkov_skips_go_on_the_kinds_their_checks_read() {
        assert!(checkov_applies("CKV_K8S_35", "Deployment"));
        assert!(checkov_applies("CKV_K8S_35", "CronJob"));
        assert!(!checkov_applies("CKV_K8S_35", "Service"));
        assert!(!checkov_applies("CKV_K8S_35", "NetworkPolicy"));
        assert!(checkov_applies("CKV_K8S_21", "Service"));
        assert!(!checkov_applies("CKV_K8S_21", "NetworkPolicy"));
        assert!(checkov_applies("CKV_K8S_49", "Role"));
        assert!(!checkov_applies("CKV_K8S_49", "Deployment"));
        assert!(
            checkov_applies("CKV2_K8S_6", "NetworkPolicy"),
            "a check kiln does not know: everywhere"
        );
    }
}
