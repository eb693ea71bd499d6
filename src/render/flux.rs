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
use crate::diagnostic::Diagnostics;
use crate::layout::{self, Provenance};
use crate::model::{Environment, Flux as FluxSettings, Name, Repository, TagAutomation};
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
    /// Recreate objects whose immutable fields changed (Jobs).
    pub force: bool,
    /// Wait for every applied object to become ready.
    pub wait: bool,
}

/// A Flux ImagePolicy derived from a tag format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPolicy {
    /// The anchored RE2 pattern tags must match.
    pub pattern: String,
    /// The capture group that orders tags (`$ts` or `$run`).
    pub extract: String,
}

/// One piece of an image tag format (`image.tagFormat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPart {
    /// Text copied as is.
    Literal(String),
    /// `{sha}`: the commit, 7 lowercase hex digits.
    Sha,
    /// `{timestamp}`: the build time, UTC `YYYYMMDDhhmmss`.
    Timestamp,
    /// `{run}`: the CI run number.
    Run,
}

/// Splits a tag format such as `main-{sha}-{timestamp}` into its pieces. Both the
/// Flux ImagePolicy ([`tag_policy`]) and the CI step that computes tags (the
/// `pipelines` target) are derived from this, so they agree by construction.
pub fn tag_parts(format: &str) -> Result<Vec<TagPart>, String> {
    let mut parts = Vec::new();
    let mut rest = format;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{format}`"))?;
            parts.push(match &after[..end] {
                "sha" => TagPart::Sha,
                "timestamp" => TagPart::Timestamp,
                "run" => TagPart::Run,
                other => {
                    return Err(format!(
                        "`{{{other}}}` is not a tag placeholder (use {{sha}}, {{timestamp}}, {{run}})"
                    ));
                }
            });
            rest = &after[end + 1..];
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            match parts.last_mut() {
                Some(TagPart::Literal(text)) => text.push_str(&rest[..end]),
                _ => parts.push(TagPart::Literal(rest[..end].to_owned())),
            }
            rest = &rest[end..];
        }
    }
    Ok(parts)
}

/// Derives the ImagePolicy pattern and sort key from a tag format such as
/// `main-{sha}-{timestamp}`. Fails when nothing in the format orders tags.
pub fn tag_policy(format: &str) -> Result<TagPolicy, String> {
    let mut pattern = String::from("^");
    let mut extract = None;
    for part in tag_parts(format)? {
        match part {
            TagPart::Sha => pattern.push_str("[a-f0-9]{7,40}"),
            TagPart::Timestamp => {
                pattern.push_str("(?P<ts>[0-9]{14})");
                extract.get_or_insert("$ts");
            }
            TagPart::Run => {
                pattern.push_str("(?P<run>[0-9]+)");
                extract.get_or_insert("$run");
            }
            TagPart::Literal(text) => {
                for c in text.chars() {
                    if r".+*?()|[]{}^$\".contains(c) {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
            }
        }
    }
    pattern.push('$');
    let extract = extract.ok_or_else(|| {
        format!("`{format}` has no {{timestamp}} or {{run}}: Flux cannot tell which tag is newest")
    })?;
    Ok(TagPolicy {
        pattern,
        extract: extract.to_owned(),
    })
}

/// The path Flux uses for a directory under `out/`.
fn flux_path(repo: Option<&Repository>, dir: &str) -> String {
    layout::in_repository(repo.map_or(".", |r| r.path.as_str()), dir)
}

fn kustomization(unit: &Unit, settings: &FluxSettings, repo: Option<&Repository>) -> Object {
    let mut spec = json!({
        "interval": settings.interval,
        "path": flux_path(repo, &unit.dir),
        "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": ROOT},
        "timeout": settings.timeout,
        "wait": unit.wait,
    });
    if unit.force {
        spec["force"] = json!(true);
    }
    if !unit.depends_on.is_empty() {
        spec["dependsOn"] = json!(
            unit.depends_on
                .iter()
                .map(|d| json!({"name": d}))
                .collect::<Vec<_>>()
        );
    }
    Object::from(&json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": unit.name, "namespace": FLUX_NAMESPACE},
        "spec": spec,
    }))
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
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::new();
        while out.len() < self.units.len() {
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
                out.extend(
                    self.units
                        .values()
                        .filter(|u| !done.contains(u.name.as_str())),
                );
                break;
            }
            for u in ready {
                done.insert(u.name.as_str());
                out.push(u);
            }
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
                force: false,
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
                    force: false,
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
                    force: false,
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
                force: unit.has_job(),
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
                    force: false,
                    wait: false,
                });
        }
        if unit.app.image.automation == TagAutomation::Flux && unit.app.image.tag.is_none() {
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
                            force: false,
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
    // A missing or unsortable format is reported by the `unsortable-image-tag` rule.
    let policy = tag_policy(app.image.tag_format.as_deref()?).ok()?;
    let name = policy_name(app_name.as_str(), env.name.as_str());
    let registry = m.registries.get(&app.image.registry)?;
    let mut repo_spec = json!({
        "image": m.image_name(&app.image),
        "interval": settings.image_interval,
    });
    if registry.insecure {
        repo_spec["insecure"] = json!(true);
    }
    if let Some(secret) = registry.pull_secret.as_ref().filter(|_| registry.private) {
        repo_spec["secretRef"] = json!({"name": secret.as_str()});
    }
    let repository = Object::from(&json!({
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {"name": name, "namespace": FLUX_NAMESPACE},
        "spec": repo_spec,
    }));
    let image_policy = Object::from(&json!({
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": name, "namespace": FLUX_NAMESPACE},
        "spec": {
            "imageRepositoryRef": {"name": name},
            "filterTags": {"pattern": policy.pattern, "extract": policy.extract},
            "policy": {"numerical": {"order": "asc"}},
        },
    }));
    Some(vec![repository, image_policy])
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
    let git = Object::from(&json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": ROOT, "namespace": FLUX_NAMESPACE},
        "spec": {
            "interval": "1m",
            "url": url,
            "ref": {"branch": branch},
            "secretRef": {"name": secret},
        },
    }));
    let root_unit = Unit {
        name: ROOT.to_owned(),
        dir: root.clone(),
        depends_on: BTreeSet::new(),
        force: false,
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
        let update = Object::from(&json!({
            "apiVersion": "image.toolkit.fluxcd.io/v1",
            "kind": "ImageUpdateAutomation",
            "metadata": {"name": ROOT, "namespace": FLUX_NAMESPACE},
            "spec": {
                "interval": settings.image_interval,
                "sourceRef": {"kind": "GitRepository", "name": ROOT},
                "git": {
                    "checkout": {"ref": {"branch": branch}},
                    "commit": {
                        "author": {"name": "fluxcdbot", "email": "fluxcdbot@users.noreply.github.com"},
                        "messageTemplate": "Update images on {cluster}\n\n{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}".replace("{cluster}", cluster),
                    },
                    "push": {"branch": branch},
                },
                "update": {"path": flux_path(repo, ""), "strategy": "Setters"},
            },
        }));
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
        let repository = Object::from(&json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "sealed-secrets", "namespace": FLUX_NAMESPACE},
            "spec": {"interval": "24h", "url": "https://bitnami-labs.github.io/sealed-secrets"},
        }));
        // The controller's name and namespace are the ones kubeseal looks for by default.
        let release = Object::from(&json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "sealed-secrets-controller", "namespace": FLUX_NAMESPACE},
            "spec": {
                "interval": "1h",
                "releaseName": "sealed-secrets-controller",
                "targetNamespace": "kube-system",
                "chart": {"spec": {
                    "chart": "sealed-secrets",
                    "version": version,
                    "sourceRef": {"kind": "HelmRepository", "name": "sealed-secrets"},
                }},
                "install": {"crds": "Create"},
                "upgrade": {"crds": "CreateReplace"},
                "values": {"fullnameOverride": "sealed-secrets-controller"},
            },
        }));
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

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn policy_matches_tags_of_its_format_and_rejects_near_misses() {
        let p = tag_policy("main-{sha}-{timestamp}").unwrap();
        assert_eq!(p.pattern, r"^main-[a-f0-9]{7,40}-(?P<ts>[0-9]{14})$");
        assert_eq!(
            tag_policy("v1.{run}").unwrap().pattern,
            r"^v1\.(?P<run>[0-9]+)$"
        );
        assert_eq!(p.extract, "$ts");
        let re = Regex::new(&p.pattern).unwrap();
        for ok in [
            "main-3f9c2a1-20260207143000",
            "main-3f9c2a1d4e5f60718293a4b5c6d7e8f901234567-20260207143000",
        ] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in [
            "develop-3f9c2a1-20260207143000",
            "main-3F9C2A1-20260207143000",
            "main-3f9c2a1-2026020714300",
            "main-3f9c2a1-20260207143000-dirty",
            "main-3f9c2a-20260207143000",
            "latest",
        ] {
            assert!(!re.is_match(bad), "{bad} should not match");
        }
    }

    #[test]
    fn newest_tag_sorts_last_numerically() {
        let p = tag_policy("main-{sha}-{timestamp}").unwrap();
        let re = Regex::new(&p.pattern).unwrap();
        let mut tags = [
            "main-aaaaaaa-20260207143000",
            "main-bbbbbbb-20251231235959",
            "main-ccccccc-20260207143001",
        ];
        tags.sort_by_key(|t| re.captures(t).unwrap()["ts"].parse::<u64>().unwrap());
        assert_eq!(tags.last(), Some(&"main-ccccccc-20260207143001"));
    }

    #[test]
    fn formats_without_an_order_are_refused() {
        assert!(
            tag_policy("main-{sha}")
                .unwrap_err()
                .contains("cannot tell which tag is newest")
        );
        assert!(tag_policy("{run}").is_ok());
        assert!(tag_policy("v{semver}").is_err());
    }
}
