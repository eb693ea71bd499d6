//! The layout of `out/`: every path kiln writes is built here, and every file records
//! where in the model it comes from ([`Provenance`]).
//!
//! Renderers ask this module for the folder or file they write
//! (`kubernetes/apps/<app>/overlays/<env>/`, `flux/<cluster>/`,
//! `secrets/<cluster>/<namespace>/`, `hosts/<host>/<project>/`, ...), and so do the
//! readers of automation-owned state ([`state_file`]) and the checks of the output; no
//! other module spells a folder under `out/` (a renderer names only the files of the
//! folders it asked for; `tests/layers.rs` checks it). A check that reports on a file
//! locates it through the file's provenance ([`Provenance::locate`]), never by taking
//! its path apart, so a new target's findings point at the model lines its files come
//! from without any edit outside the target.
//!
//! The top folder of every target is its id (`kubernetes`, `flux`, ...): the functions
//! here use the ids of kiln's targets, and [`under_target`] checks a target wrote only
//! below its own.

use crate::diagnostic::Span;
use crate::model::{Environment, Project};

/// Where a generated file comes from: the target that wrote it, the environments,
/// clusters, host and app it is for. Set by the renderer that writes the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The id of the target that wrote it (empty for a file no target wrote, such as
    /// a hand-written addition in a test).
    pub target: &'static str,
    /// The environment the file belongs to (for `--env` and `out/kiln.lock`); `None`
    /// for a file environments share.
    pub env: Option<String>,
    /// Every environment the file is made from, in the project's order (the owning
    /// one first when there is one).
    pub envs: Vec<String>,
    /// The clusters the file is applied to (empty for files no cluster applies, such
    /// as pipelines, runbooks and host files).
    pub clusters: Vec<String>,
    /// The host the file is for.
    pub host: Option<String>,
    /// The app the file is for.
    pub app: Option<String>,
}

impl Provenance {
    /// A file written by `target`, for nothing in particular yet.
    pub fn new(target: &'static str) -> Self {
        Provenance {
            target,
            ..Provenance::default()
        }
    }

    /// The file belongs to environment `env` (and is made from it).
    #[must_use]
    pub fn of_env(mut self, env: &str) -> Self {
        self.env = Some(env.to_owned());
        self.envs.retain(|e| e != env);
        self.envs.insert(0, env.to_owned());
        self
    }

    /// The file is made from these environments (it belongs to none of them alone).
    #[must_use]
    pub fn from_envs<S: AsRef<str>>(mut self, envs: impl IntoIterator<Item = S>) -> Self {
        for env in envs {
            let env = env.as_ref();
            if !self.envs.iter().any(|e| e == env) {
                self.envs.push(env.to_owned());
            }
        }
        self
    }

    /// The file is applied to cluster `cluster`.
    #[must_use]
    pub fn on_cluster(mut self, cluster: &str) -> Self {
        if !self.clusters.iter().any(|c| c == cluster) {
            self.clusters.push(cluster.to_owned());
        }
        self
    }

    /// The file is for host `host`.
    #[must_use]
    pub fn on_host(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    /// The file is for app `app`.
    #[must_use]
    pub fn of_app(mut self, app: &str) -> Self {
        self.app = Some(app.to_owned());
        self
    }

    /// The same provenance, belonging to environment `env` (or shared when `None`).
    #[must_use]
    pub fn owned_by(self, env: Option<&str>) -> Self {
        match env {
            Some(env) => self.of_env(env),
            None => Provenance { env: None, ..self },
        }
    }

    /// A file made from this and `other`: the environments and clusters of both,
    /// belonging to no environment alone; the target, host and app of this one, else
    /// of `other`.
    #[must_use]
    pub fn shared_with(mut self, other: &Provenance) -> Self {
        self.env = None;
        if self.target.is_empty() {
            self.target = other.target;
        }
        self = self.from_envs(&other.envs);
        for cluster in &other.clusters {
            self = self.on_cluster(cluster);
        }
        self.host = self.host.or_else(|| other.host.clone());
        self.app = self.app.or_else(|| other.app.clone());
        self
    }

    /// The environment and the model span a diagnostic about this file points at: the
    /// key that defines its app (`apps.<app>`), else its host (`hosts.<host>`), else
    /// its cluster (`clusters.<cluster>`), in the first of its environments that has
    /// it; else the start of its first environment's file. Environments the file does
    /// not name are searched last (a file made from none names every one).
    pub fn locate<'p>(&self, project: &'p Project) -> (Option<&'p Environment>, Option<Span>) {
        let named = self.envs.iter().filter_map(|e| project.environment(e));
        let rest = project
            .environments
            .iter()
            .filter(|e| !self.envs.iter().any(|n| n == e.name.as_str()));
        let candidates: Vec<&'p Environment> = named.chain(rest).collect();
        let mut pointers = Vec::new();
        if let Some(app) = &self.app {
            pointers.push(format!("/apps/{}", crate::pointer::escape(app)));
        }
        if let Some(host) = &self.host {
            pointers.push(format!("/hosts/{}", crate::pointer::escape(host)));
        }
        for cluster in &self.clusters {
            pointers.push(format!("/clusters/{}", crate::pointer::escape(cluster)));
        }
        for pointer in &pointers {
            for env in &candidates {
                if let Some(span) = env.key_span(pointer) {
                    return (Some(env), Some(span));
                }
            }
        }
        let env = candidates.first().copied();
        (env, env.and_then(|e| e.span("")))
    }
}

/// Whether `path` is below the top folder of target `target`.
pub fn under_target(target: &str, path: &str) -> bool {
    path.strip_prefix(target)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// `dir/file`.
pub fn join(dir: &str, file: &str) -> String {
    format!("{dir}/{file}")
}

/// The folder a file is in (`a/b/c.yaml` → `a/b`; `""` for a top-level file).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `relative` (a kustomization's `resources` entry or patch path) resolved against
/// the folder `dir`: `.` and `..` removed (`a/overlays/prod` + `../../base` → `a/base`).
pub fn resolve(dir: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in dir.split('/').chain(relative.split('/')) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The file of a Kustomize folder.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// `dir/kustomization.yaml`.
pub fn kustomization(dir: &str) -> String {
    join(dir, KUSTOMIZATION)
}

/// The folder of a `…/kustomization.yaml` path.
pub fn kustomization_dir(path: &str) -> Option<&str> {
    path.strip_suffix(KUSTOMIZATION)?.strip_suffix('/')
}

/// The folder an overlay's patches are in, relative to the overlay.
pub const PATCHES: &str = "patches";

/// Whether `path` is a patch (under an overlay's `patches/`), not an object.
pub fn is_patch(path: &str) -> bool {
    path.split('/').rev().nth(1) == Some(PATCHES)
}

/// The overlay's patch file for an object's file name, relative to the overlay.
pub fn patch(file: &str) -> String {
    join(PATCHES, file)
}

/// `kubernetes/apps`: one folder per app.
pub const APPS: &str = "kubernetes/apps";

/// `kubernetes/apps/<app>`: an app's Kustomize base and overlays.
pub fn app(app: &str) -> String {
    join(APPS, app)
}

/// `kubernetes/apps/<app>/base`.
pub fn app_base(name: &str) -> String {
    join(&app(name), "base")
}

/// `kubernetes/apps/<app>/overlays`.
pub fn app_overlays(name: &str) -> String {
    join(&app(name), "overlays")
}

/// `kubernetes/apps/<app>/overlays/<env>`.
pub fn app_overlay(name: &str, env: &str) -> String {
    join(&app_overlays(name), env)
}

/// The base, as an overlay's kustomization lists it.
pub const OVERLAY_BASE: &str = "../../base";

/// `kubernetes/clusters/<cluster>/namespaces`: a cluster's Namespaces.
pub fn cluster_namespaces(cluster: &str) -> String {
    format!("kubernetes/clusters/{cluster}/namespaces")
}

/// `kubernetes/clusters/<cluster>/tunnel`: the tunnel's network policies.
pub fn cluster_tunnel(cluster: &str) -> String {
    format!("kubernetes/clusters/{cluster}/tunnel")
}

/// `flux/<cluster>`: a cluster's Flux tree.
pub fn flux(cluster: &str) -> String {
    join("flux", cluster)
}

/// The folder of a cluster's Flux tree that holds the sync objects, relative to it.
pub const FLUX_SYNC: &str = "flux-system";

/// `flux/<cluster>/flux-system`: the sync objects.
pub fn flux_sync(cluster: &str) -> String {
    join(&flux(cluster), FLUX_SYNC)
}

/// `flux/<cluster>/sealed-secrets`: the Sealed Secrets controller.
pub fn flux_sealed_secrets(cluster: &str) -> String {
    join(&flux(cluster), "sealed-secrets")
}

/// `flux/<cluster>/image-automation`: image repositories, policies, the update.
pub fn flux_image_automation(cluster: &str) -> String {
    join(&flux(cluster), "image-automation")
}

/// `flux/<cluster>/bootstrap.sh`.
pub fn flux_bootstrap(cluster: &str) -> String {
    join(&flux(cluster), "bootstrap.sh")
}

/// The folder holding `out/` in a checkout: `out`.
const OUT: &str = "out";

/// The path Flux uses for `dir` (under `out/`) in a repository whose model is at
/// `repository_path` (`.` or a sub-folder): `./out/<dir>` or `./<path>/out/<dir>`.
pub fn in_repository(repository_path: &str, dir: &str) -> String {
    let base = repository_path.trim_end_matches('/');
    if base == "." || base.is_empty() {
        format!("./{OUT}/{dir}")
    } else {
        format!("./{}/{OUT}/{dir}", base.trim_start_matches("./"))
    }
}

/// The folder under `out/` of a path written by [`in_repository`] (`None` when the
/// path is not under an `out/` folder).
pub fn from_repository(path: &str) -> Option<&str> {
    let path = path.trim_start_matches("./");
    let dir = match path.strip_prefix(&format!("{OUT}/")) {
        Some(dir) => dir,
        None => path.split_once(&format!("/{OUT}/"))?.1,
    };
    Some(dir.trim_end_matches('/'))
}

/// `path` (under `out/`) in a checkout at `checkout`: `<checkout>/out/<path>`.
pub fn in_checkout(checkout: &str, path: &str) -> String {
    format!("{checkout}/{OUT}/{path}")
}

/// `secrets`: one folder per cluster.
pub const SECRETS: &str = "secrets";

/// `secrets/<cluster>`: a cluster's SealedSecrets, one folder per namespace.
pub fn secrets(cluster: &str) -> String {
    join(SECRETS, cluster)
}

/// `secrets/<cluster>/<namespace>`.
pub fn secrets_namespace(cluster: &str, namespace: &str) -> String {
    join(&secrets(cluster), namespace)
}

/// The file name of a secret's SealedSecret.
pub fn sealed_secret_file(secret: &str) -> String {
    format!("sealedsecret-{secret}.yaml")
}

/// `secrets/<cluster>/<namespace>/sealedsecret-<secret>.yaml`.
pub fn sealed_secret(cluster: &str, namespace: &str, secret: &str) -> String {
    join(
        &secrets_namespace(cluster, namespace),
        &sealed_secret_file(secret),
    )
}

/// `secrets/seal.sh`: sealing with kubeseal.
pub const SEAL_SCRIPT: &str = "secrets/seal.sh";

/// `hosts`: one folder per host.
pub const HOSTS: &str = "hosts";

/// `hosts/<host>`: a host's compose projects, Caddyfile and scripts.
pub fn host(host: &str) -> String {
    join(HOSTS, host)
}

/// `hosts/<host>/<name>`: a file (a script, the Caddyfile) or project folder of a host.
pub fn host_file(host_name: &str, name: &str) -> String {
    join(&host(host_name), name)
}

/// A host's Caddyfile, in its folder.
pub const CADDYFILE: &str = "Caddyfile";

/// `hosts/<host>/Caddyfile`.
pub fn caddyfile(host_name: &str) -> String {
    host_file(host_name, CADDYFILE)
}

/// A host's deploy script, in its folder (the cluster's deploy Job runs it).
pub const DEPLOY_SCRIPT: &str = "deploy.sh";

/// The compose file of a project of apps.
pub const COMPOSE: &str = "compose.yaml";

/// The compose file kiln writes beside an upstream stack's.
pub const COMPOSE_OVERRIDE: &str = "compose.override.yaml";

/// Whether `path` is a compose file kiln writes (a project's or an override).
pub fn is_compose(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name == COMPOSE || name == COMPOSE_OVERRIDE
}

/// `files/<app>/<key>`: a config file of an app, relative to its project's folder
/// (`hosts/<host>/<project>/`), which its compose file bind-mounts.
pub fn host_app_file(app: &str, key: &str) -> String {
    join(&join("files", app), key)
}

/// `hosts/<host>/<project>/compose.yaml`.
pub fn compose(host_name: &str, project: &str) -> String {
    join(&host_file(host_name, project), COMPOSE)
}

/// `pipelines/<app>`: an app's pipeline, to copy into its repository.
pub fn pipeline(app: &str) -> String {
    join("pipelines", app)
}

/// `pipelines/config`: the pipeline of the repository holding the model.
pub const CONFIG_PIPELINE: &str = "pipelines/config";

/// `pipelines/<app>/deploy/<env>/job-<job>.yaml`: the migration Job a deploy job applies.
pub fn deploy_job(app: &str, env: &str, job: &str) -> String {
    format!("{}/deploy/{env}/job-{job}.yaml", pipeline(app))
}

/// `docs/<env>.md`: an environment's runbook.
pub fn runbook(env: &str) -> String {
    format!("docs/{env}.md")
}

/// The folders under `out/` that hold automation-owned values (and the sealed values
/// rules compare against).
pub const STATE_DIRS: &[&str] = &[APPS, HOSTS, SECRETS];

/// What a state file is (see [`state_file`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFile<'a> {
    /// `kubernetes/apps/<app>/overlays/<env>/kustomization.yaml`: the tags of the
    /// app's images in that environment.
    Overlay {
        /// The app.
        app: &'a str,
        /// The environment.
        env: &'a str,
    },
    /// `hosts/<host>/<project>/compose.yaml`: the tags of the project's apps.
    Compose,
    /// `secrets/<cluster>/<namespace>/sealedsecret-<name>.yaml`: sealed values.
    Sealed,
}

/// What the file at `path` (relative to `out/`) holds of the automation-owned state,
/// if anything: the inverse of [`app_overlay`] + [`kustomization`], [`compose`] and
/// [`sealed_secret`], for files read back from disk (which carry no provenance).
pub fn state_file(path: &str) -> Option<StateFile<'_>> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts[..] {
        ["kubernetes", "apps", app, "overlays", env, KUSTOMIZATION] => {
            Some(StateFile::Overlay { app, env })
        }
        ["hosts", _, _, COMPOSE] => Some(StateFile::Compose),
        ["secrets", _, _, file] if file.starts_with("sealedsecret-") && file.ends_with(".yaml") => {
            Some(StateFile::Sealed)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout as committed `out/` folders have it: changing it changes where
    /// state is read back from.
    #[test]
    fn state_files_are_overlay_kustomizations_compose_files_and_sealed_secrets() {
        assert_eq!(
            state_file("kubernetes/apps/web/overlays/prod/kustomization.yaml"),
            Some(StateFile::Overlay {
                app: "web",
                env: "prod"
            })
        );
        assert_eq!(
            state_file("hosts/vm/shop-prod/compose.yaml"),
            Some(StateFile::Compose)
        );
        assert_eq!(
            state_file("secrets/lab/web-prod/sealedsecret-web.yaml"),
            Some(StateFile::Sealed)
        );
        for other in [
            "kubernetes/apps/web/base/kustomization.yaml",
            "kubernetes/apps/web/overlays/prod/patches/x.yaml",
            "secrets/lab/web-prod/kustomization.yaml",
        ] {
            assert_eq!(state_file(other), None, "{other}");
        }
    }

    #[test]
    fn state_files_are_read_back_from_the_paths_built_here() {
        assert_eq!(
            state_file(&kustomization(&app_overlay("web", "prod"))),
            Some(StateFile::Overlay {
                app: "web",
                env: "prod"
            })
        );
        assert_eq!(
            state_file(&compose("vm", "shop-prod")),
            Some(StateFile::Compose)
        );
        assert_eq!(
            state_file(&sealed_secret("lab", "web-prod", "web")),
            Some(StateFile::Sealed)
        );
        for other in [
            kustomization(&app_base("web")),
            join(&app_overlay("web", "prod"), &patch("x.yaml")),
            join(&host_file("vm", "shop-prod"), COMPOSE_OVERRIDE),
            kustomization(&secrets_namespace("lab", "web-prod")),
        ] {
            assert_eq!(state_file(&other), None, "{other}");
        }
        for (built, dir) in [
            (kustomization(&app_overlay("web", "prod")), APPS),
            (compose("vm", "p"), HOSTS),
            (sealed_secret("lab", "ns", "s"), SECRETS),
        ] {
            assert!(STATE_DIRS.contains(&dir) && built.starts_with(&format!("{dir}/")));
        }
    }

    #[test]
    fn relative_paths_resolve_and_flux_paths_round_trip() {
        assert_eq!(
            resolve(&app_overlay("a", "prod"), OVERLAY_BASE),
            app_base("a")
        );
        assert_eq!(resolve("./x/.", "./y"), "x/y");
        assert!(is_patch(&join(&app_overlay("a", "prod"), &patch("d.yaml"))));
        assert!(!is_patch(&join(&app_base("a"), "d.yaml")));
        for repo in [".", "", "deploy/", "./deploy", "layout"] {
            let dir = app_overlay("a", "prod");
            assert_eq!(
                from_repository(&in_repository(repo, &dir)),
                Some(dir.as_str())
            );
        }
        assert_eq!(in_repository("deploy", "flux/pi"), "./deploy/out/flux/pi");
        assert_eq!(
            kustomization_dir(&kustomization("a/b")),
            Some("a/b"),
            "{}",
            kustomization("a/b")
        );
        assert_eq!(parent("a/b/c.yaml"), "a/b");
        assert!(under_target("flux", &flux("pi")) && !under_target("flux", "fluxx/pi"));
    }
}
