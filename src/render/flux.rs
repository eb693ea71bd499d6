//! The `flux` target: a Flux tree per cluster that applies every object kiln writes
//! for it, each through exactly one Flux Kustomization, in dependency order; image
//! automation derived from each app's declared tag format; and the bootstrap script.
//!
//! Layout under `out/flux/<cluster>/`:
//! - `kustomization.yaml`: what the root `flux-system` Kustomization applies: the sync
//!   objects and one Flux Kustomization per unit;
//! - `flux-system/`: the GitRepository for this repository and the root Kustomization
//!   (path `out/flux/<cluster>`), which applies itself after bootstrap;
//! - `kustomization-<unit>.yaml`: the units: `namespaces`, `tunnel`,
//!   `image-automation`, and one per app and environment (`<app>-<env>`), whose `path`s
//!   point at the generated overlays;
//! - `image-automation/`: ImageRepository and ImagePolicy per automated app and
//!   environment, and one ImageUpdateAutomation;
//! - `bootstrap.sh`: installs Flux and applies `flux-system/` once.

use super::images::{FLUX_NAMESPACE, policy_name};
use super::kubernetes::{self, Object, kustomize::plain_kustomization};
use super::{Context, OutputTree, Target, yaml};
use crate::crd::NameRef;
use crate::crd::flux::{
    ChartSpec, ChartTemplate, CommitAuthor, CrdPolicy, FilterTags, GitCheckout, GitCommit, GitPush,
    GitRef, GitRepository, GitRepositorySpec, GitUpdate, HelmAction, HelmRelease, HelmReleaseSpec,
    HelmRepository, HelmRepositorySpec, ImagePolicy, ImagePolicySpec, ImageRepository,
    ImageRepositorySpec, ImageUpdateAutomation, ImageUpdateAutomationSpec, Kustomization,
    KustomizationSpec, Order, SourceKind, SourceRef, TagOrder, Update, UpdateStrategy,
};
use crate::diagnostic::Diagnostics;
use crate::layout::{self, Provenance};
use crate::model::{Environment, Flux as FluxSettings, Name, Repository};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The Flux target.
pub struct Flux;

/// The target's id.
const ID: &str = "flux";

/// The name of the root Kustomization and GitRepository.
const ROOT: &str = "flux-system";

/// One Flux Kustomization.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Its name in `flux-system`.
    pub name: String,
    /// The directory it applies, relative to `out/`.
    pub dir: String,
    /// Units that must be ready first.
    pub depends_on: BTreeSet<String>,
    /// Wait for every applied object to become ready.
    pub wait: bool,
}

/// The path Flux uses for a directory under `out/`.
fn flux_path(repo: Option<&Repository>, dir: &str) -> String {
    layout::in_repository(repo.map_or(".", |r| r.path.as_str()), dir)
}

fn kustomization(unit: &Unit, settings: &FluxSettings, repo: Option<&Repository>) -> Object {
    let spec = KustomizationSpec {
        depends_on: unit.depends_on.iter().map(NameRef::to).collect(),
        interval: settings.interval.clone(),
        path: flux_path(repo, &unit.dir),
        prune: true,
        source_ref: SourceRef::git(ROOT),
        timeout: settings.timeout.clone(),
        wait: unit.wait,
    };
    Object::from(&Kustomization::named(&unit.name, FLUX_NAMESPACE, spec))
}

/// Everything one cluster's Flux tree needs, gathered over environments.
#[derive(Default)]
pub struct ClusterPlan<'a> {
    /// The cluster has SealedSecrets (under `out/secrets/<cluster>/`).
    pub secrets: bool,
    settings: Option<&'a FluxSettings>,
    repo: Option<&'a Repository>,
    /// The Flux Kustomizations, by name.
    pub units: BTreeMap<String, Unit>,
    /// Where the cluster's files come from (the cluster, in every environment that
    /// uses it); an app's unit and image objects come from that app
    /// (`app_units`).
    from: Provenance,
    app_units: BTreeMap<String, Provenance>,
    images: Vec<(Provenance, Object)>,
    sources: BTreeSet<String>,
    branch: Option<String>,
}

impl ClusterPlan<'_> {
    /// The units in an order that applies every unit after what it depends on (ties
    /// by name).
    pub fn ordered_units(&self) -> Vec<&Unit> {
        self.waves().into_iter().flatten().collect()
    }

    /// The units in waves: each wave's units depend only on earlier waves, so Flux
    /// applies a wave's units side by side (each wave by name).
    pub fn waves(&self) -> Vec<Vec<&Unit>> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut out: Vec<Vec<&Unit>> = Vec::new();
        while done.len() < self.units.len() {
            let ready: Vec<&Unit> = self
                .units
                .values()
                .filter(|u| !done.contains(u.name.as_str()))
                .filter(|u| {
                    u.depends_on
                        .iter()
                        .all(|d| done.contains(d.as_str()) || !self.units.contains_key(d))
                })
                .collect();
            if ready.is_empty() {
                // A cycle (reported by the model checks): list the rest as they are.
                out.push(
                    self.units
                        .values()
                        .filter(|u| !done.contains(u.name.as_str()))
                        .collect(),
                );
                break;
            }
            for u in &ready {
                done.insert(u.name.as_str());
            }
            out.push(ready);
        }
        out
    }
}

/// The Flux plan of every cluster Flux reconciles, by cluster name.
pub fn plan(project: &crate::model::Project) -> BTreeMap<String, ClusterPlan<'_>> {
    let mut plans: BTreeMap<String, ClusterPlan<'_>> = BTreeMap::new();
    for env in &project.environments {
        plan_environment(env, &mut plans);
    }
    plans.retain(|_, p| p.settings.is_some());
    plans
}

impl Target for Flux {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "Flux tree per cluster: GitRepository, Kustomizations in dependency order, image automation, bootstrap script"
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics) {
        for (cluster, plan) in &plan(cx.project) {
            let Some(settings) = plan.settings else {
                continue;
            };
            write_cluster(cx, cluster, plan, settings, out, diags);
        }
    }
}

fn plan_environment<'a>(env: &'a Environment, plans: &mut BTreeMap<String, ClusterPlan<'a>>) {
    let m = &env.model;
    let units = kubernetes::cluster_apps(env);
    let envs = env.name.as_str();
    let secret_clusters: BTreeSet<String> = crate::model::secret_placement::placements(env)
        .into_iter()
        .map(|p| p.cluster.to_string())
        .collect();
    for unit in &units {
        let Some(settings) = unit.cluster.flux.as_ref() else {
            continue;
        };
        let plan = plans.entry(unit.cluster_name.to_string()).or_default();
        plan.from = std::mem::take(&mut plan.from)
            .shared_with(&Provenance::new(ID).on_cluster(unit.cluster_name.as_str()))
            .from_envs([envs]);
        let app_from = Provenance::new(ID)
            .of_app(unit.name.as_str())
            .from_envs([envs])
            .on_cluster(unit.cluster_name.as_str());
        plan.settings.get_or_insert(settings);
        plan.repo = plan.repo.or(m.repository.as_ref());
        plan.sources.extend(env.sources.iter().cloned());
        if plan.branch.is_none() {
            plan.branch = m.repository.as_ref().map(|r| r.branch.clone());
        }
        let cluster = unit.cluster_name.as_str();
        let namespaces = plan
            .units
            .entry("namespaces".to_owned())
            .or_insert_with(|| Unit {
                name: "namespaces".to_owned(),
                dir: layout::cluster_namespaces(cluster),
                depends_on: BTreeSet::new(),
                wait: true,
            });
        let _ = namespaces;
        if secret_clusters.contains(cluster) {
            plan.secrets = true;
            plan.units
                .entry("sealed-secrets".to_owned())
                .or_insert_with(|| Unit {
                    name: "sealed-secrets".to_owned(),
                    dir: layout::flux_sealed_secrets(cluster),
                    depends_on: BTreeSet::new(),
                    wait: true,
                });
            plan.units
                .entry("secrets".to_owned())
                .or_insert_with(|| Unit {
                    name: "secrets".to_owned(),
                    dir: layout::secrets(cluster),
                    depends_on: BTreeSet::from([
                        "namespaces".to_owned(),
                        "sealed-secrets".to_owned(),
                    ]),
                    wait: true,
                });
        }
        let name = format!("{}-{envs}", unit.name);
        let mut depends_on = BTreeSet::from(["namespaces".to_owned()]);
        if secret_clusters.contains(cluster) {
            depends_on.insert("secrets".to_owned());
        }
        for dep in &unit.app.depends_on {
            if units
                .iter()
                .any(|u| u.name == dep && u.cluster_name == unit.cluster_name)
            {
                depends_on.insert(format!("{dep}-{envs}"));
            }
        }
        plan.app_units.insert(name.clone(), app_from.clone());
        plan.units.insert(
            name.clone(),
            Unit {
                name,
                dir: layout::app_overlay(unit.name.as_str(), envs),
                depends_on,
                wait: true,
            },
        );
        if unit.host.is_none()
            && unit.app.routes.values().any(|r| r.tunnel)
            && unit.cluster.tunnel.is_some()
            && unit.cluster.network_policy == crate::model::NetworkPolicyFlavour::Cilium
        {
            plan.units
                .entry("tunnel".to_owned())
                .or_insert_with(|| Unit {
                    name: "tunnel".to_owned(),
                    dir: layout::cluster_tunnel(cluster),
                    depends_on: BTreeSet::new(),
                    wait: false,
                });
        }
        if unit.app.flux_picks_tag() {
            match image_objects(env, unit.name, unit.app, settings) {
                Some(objects) => {
                    plan.images
                        .extend(objects.into_iter().map(|o| (app_from.clone(), o)));
                    plan.units
                        .entry("image-automation".to_owned())
                        .or_insert_with(|| Unit {
                            name: "image-automation".to_owned(),
                            dir: layout::flux_image_automation(cluster),
                            // Scanning a private registry needs its pull secret in flux-system.
                            depends_on: if secret_clusters.contains(cluster) {
                                BTreeSet::from(["secrets".to_owned()])
                            } else {
                                BTreeSet::new()
                            },
                            wait: true,
                        });
                }
                None => continue,
            }
        }
    }
}

fn image_objects(
    env: &Environment,
    app_name: &Name,
    app: &crate::model::App,
    settings: &FluxSettings,
) -> Option<Vec<Object>> {
    let m = &env.model;
    let image = app.image.as_ref()?;
    // A missing or unsortable format is reported by the `unsortable-image-tag` rule.
    let policy = crate::model::tag_format::tag_policy(image.tag_format.as_deref()?).ok()?;
    let name = policy_name(app_name.as_str(), env.name.as_str());
    let registry = m.registries.get(&image.registry)?;
    let repository = ImageRepository::named(
        &name,
        FLUX_NAMESPACE,
        ImageRepositorySpec {
            image: m.image_name(image),
            insecure: registry.insecure,
            interval: settings.image_interval.clone(),
            secret_ref: registry
                .pull_secret
                .as_ref()
                .filter(|_| registry.private)
                .map(|secret| NameRef::to(secret.as_str())),
        },
    );
    let image_policy = ImagePolicy::named(
        &name,
        FLUX_NAMESPACE,
        ImagePolicySpec {
            filter_tags: Some(FilterTags {
                extract: policy.extract,
                pattern: policy.pattern,
            }),
            image_repository_ref: NameRef::to(name.as_str()),
            policy: TagOrder::Numerical { order: Order::Asc },
        },
    );
    Some(vec![Object::from(&repository), Object::from(&image_policy)])
}

fn write_cluster(
    cx: &Context<'_>,
    cluster: &str,
    plan: &ClusterPlan<'_>,
    settings: &FluxSettings,
    out: &mut OutputTree,
    diags: &mut Diagnostics,
) {
    let root = layout::flux(cluster);
    let from = &plan.from;
    let sources: Vec<String> = plan.sources.iter().cloned().collect();
    let branch = plan.branch.clone().unwrap_or_else(|| "main".to_owned());
    let repo = plan.repo;

    // The sync objects: the source and the root Kustomization applying this tree.
    let url = repo.map_or_else(
        || "ssh://git@example.invalid/set-repository-url.git".to_owned(),
        |r| r.url.clone(),
    );
    let secret = repo
        .and_then(|r| r.secret.as_ref())
        .map_or(ROOT, Name::as_str);
    let git = Object::from(&GitRepository::named(
        ROOT,
        FLUX_NAMESPACE,
        GitRepositorySpec {
            interval: "1m".to_owned(),
            git_ref: GitRef {
                branch: branch.clone(),
            },
            secret_ref: NameRef::to(secret),
            url: url.clone(),
        },
    ));
    let root_unit = Unit {
        name: ROOT.to_owned(),
        dir: root.clone(),
        depends_on: BTreeSet::new(),
        wait: false,
    };
    let root_kustomization = kustomization(&root_unit, settings, repo);
    let sync = layout::flux_sync(cluster);
    let sync_files = write_objects(out, &sync, &sources, from, [git, root_kustomization]);
    write_kustomization(out, &sync, &sources, from, sync_files);

    let image_unit = plan.units.contains_key("image-automation");
    let mut resources = vec![layout::FLUX_SYNC.to_owned()];
    for unit in plan.units.values() {
        let unit_from = plan.app_units.get(&unit.name).unwrap_or(from);
        let object = kustomization(unit, settings, repo);
        resources.extend(write_objects(out, &root, &sources, unit_from, [object]));
    }
    resources.sort();
    write_kustomization(out, &root, &sources, from, resources);

    if image_unit {
        let update = Object::from(&ImageUpdateAutomation::named(
            ROOT,
            FLUX_NAMESPACE,
            ImageUpdateAutomationSpec {
                git: GitUpdate {
                    checkout: GitCheckout {
                        git_ref: GitRef {
                            branch: branch.clone(),
                        },
                    },
                    commit: GitCommit {
                        author: CommitAuthor {
                            email: "fluxcdbot@users.noreply.github.com".to_owned(),
                            name: "fluxcdbot".to_owned(),
                        },
                        message_template: "Update images on {cluster}\n\n{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}".replace("{cluster}", cluster),
                    },
                    push: GitPush {
                        branch: branch.clone(),
                    },
                },
                interval: settings.image_interval.clone(),
                source_ref: SourceRef::git(ROOT),
                update: Update {
                    path: flux_path(repo, ""),
                    strategy: UpdateStrategy::Setters,
                },
            },
        ));
        let dir = layout::flux_image_automation(cluster);
        let mut files = Vec::new();
        for (image_from, object) in &plan.images {
            files.extend(write_objects(
                out,
                &dir,
                &sources,
                image_from,
                [object.clone()],
            ));
        }
        files.extend(write_objects(out, &dir, &sources, from, [update]));
        files.sort();
        write_kustomization(out, &dir, &sources, from, files);
    }

    if plan.secrets {
        let version = &settings.sealed_secrets_version;
        let repository = Object::from(&HelmRepository::named(
            "sealed-secrets",
            FLUX_NAMESPACE,
            HelmRepositorySpec {
                interval: "24h".to_owned(),
                url: "https://bitnami-labs.github.io/sealed-secrets".to_owned(),
            },
        ));
        // The controller's name and namespace are the ones kubeseal looks for by default.
        let release = Object::from(&HelmRelease::named(
            "sealed-secrets-controller",
            FLUX_NAMESPACE,
            HelmReleaseSpec {
                chart: ChartTemplate {
                    spec: ChartSpec {
                        chart: "sealed-secrets".to_owned(),
                        source_ref: SourceRef {
                            kind: SourceKind::HelmRepository,
                            name: "sealed-secrets".to_owned(),
                        },
                        version: version.clone(),
                    },
                },
                install: HelmAction {
                    crds: CrdPolicy::Create,
                },
                interval: "1h".to_owned(),
                release_name: "sealed-secrets-controller".to_owned(),
                target_namespace: "kube-system".to_owned(),
                upgrade: HelmAction {
                    crds: CrdPolicy::CreateReplace,
                },
                values: BTreeMap::from([(
                    "fullnameOverride".to_owned(),
                    json!("sealed-secrets-controller"),
                )]),
            },
        ));
        let dir = layout::flux_sealed_secrets(cluster);
        let files = write_objects(out, &dir, &sources, from, [repository, release]);
        write_kustomization(out, &dir, &sources, from, files);
    }

    let context = json!({
        "cluster": cluster,
        "path": flux_path(repo, &root).trim_start_matches("./"),
        "sync_dir": flux_path(repo, &sync).trim_start_matches("./"),
        "url": url,
        "branch": branch,
        "secret": secret,
        "image_automation": image_unit,
        "sources": sources,
    });
    match cx
        .templates
        .render("flux/bootstrap.sh.j2", &context, &cx.project.sources)
    {
        Ok(script) => out.add_script(layout::flux_bootstrap(cluster), script.into_bytes(), from),
        Err(d) => diags.push(*d),
    }
}

/// Writes each object into `dir` (a cluster's files, shared by its environments) and
/// gives the file names, in the objects' order.
fn write_objects(
    out: &mut OutputTree,
    dir: &str,
    sources: &[String],
    from: &Provenance,
    objects: impl IntoIterator<Item = Object>,
) -> Vec<String> {
    objects
        .into_iter()
        .map(|object| {
            let file = object.file_name();
            out.add(
                layout::join(dir, &file),
                yaml::document(sources, object.0),
                from,
            );
            file
        })
        .collect()
}

/// Writes `dir/kustomization.yaml` listing `resources`.
fn write_kustomization(
    out: &mut OutputTree,
    dir: &str,
    sources: &[String],
    from: &Provenance,
    resources: Vec<String>,
) {
    out.add(
        layout::kustomization(dir),
        yaml::typed(sources, &plain_kustomization(resources)),
        from,
    );
}
