//! The `hosts` target: everything a machine running docker compose needs.
//!
//! Layout under `out/hosts/<host>/`:
//! - `<group>-<env>/compose.yaml`: one compose project per app group and environment
//!   (so two environments on one host never share a project), with a service per app,
//!   `<app>-db` and `<app>-db-backup` for an app's database, and one
//!   `<service>.env.template` per service that needs secret values;
//! - `<stack>-<env>/compose.override.yaml` and `.env.template` for an upstream stack
//!   (the upstream compose file itself stays on the host, as published);
//! - `caddy/compose.yaml` and `Caddyfile`: the host's reverse proxy, shared by every
//!   environment on the host;
//! - `deploy.sh`, `backup.sh`, `restore.sh`: scripts from `templates/hosts/`.
//!
//! On the host, a project's volumes, `.env` files and backups live under
//! `<dataDir>/<project>/`; the checkout of this repository only holds `out/`.

pub mod caddy;
pub mod caddy_token;
pub mod compose;
pub mod env_file;
pub mod features;
pub mod project;
pub mod scripts;

use super::{Context, OutputTree, Target, images, yaml};
use crate::diagnostic::Diagnostics;
use crate::layout::{self, Provenance};
use crate::model::placement::host_users;
use crate::model::{App, Environment, Host, Name, Placement, Stack};
use std::collections::BTreeMap;

/// The hosts target.
pub struct Hosts;

/// The target's id.
const ID: &str = "hosts";

/// The label naming the app a service runs (read back by the output stage).
pub const APP_LABEL: &str = "kiln.app";
/// The label naming the environment a service belongs to.
pub const ENV_LABEL: &str = "kiln.env";

/// What runs on one host, across environments.
pub struct HostPlan<'a> {
    /// The host's name.
    pub name: &'a Name,
    /// The host (as the first environment using it describes it; the validator made
    /// sure the others agree).
    pub host: &'a Host,
    /// The environments with something on this host.
    pub envs: Vec<&'a Environment>,
    /// Compose projects, by name.
    pub projects: BTreeMap<String, Project<'a>>,
}

/// One compose project on a host.
pub struct Project<'a> {
    /// `<group>-<env>` or `<stack>-<env>`.
    pub name: String,
    /// The environment.
    pub env: &'a Environment,
    /// What the project runs.
    pub kind: ProjectKind<'a>,
}

/// What a project is built from.
pub enum ProjectKind<'a> {
    /// Apps of one group, as a compose file kiln writes.
    Apps(Vec<(&'a Name, &'a App)>),
    /// An upstream stack: kiln writes the override.
    Stack(&'a Name, &'a Stack),
}

impl HostPlan<'_> {
    /// The directory on the host holding `project`'s volumes, env files and backups.
    pub fn project_data(&self, project: &str) -> String {
        format!("{}/{project}", self.host.data_dir.trim_end_matches('/'))
    }

    /// Sources of every environment on the host, for headers of shared files.
    pub fn sources(&self) -> Vec<String> {
        let mut s: Vec<String> = self.envs.iter().flat_map(|e| e.sources.clone()).collect();
        s.sort();
        s.dedup();
        s
    }

    /// The environment shared host-level files belong to: the only one, or none.
    pub fn file_env(&self) -> Option<&str> {
        match self.envs.as_slice() {
            [one] => Some(one.name.as_str()),
            _ => None,
        }
    }
}

/// Every host with something to run, and what it runs.
pub fn plan(project: &crate::model::Project) -> Vec<HostPlan<'_>> {
    let mut plans = Vec::new();
    for (host_name, envs) in host_users(project) {
        let Some(first) = envs.first() else { continue };
        let Some((name, host)) = first.model.hosts.get_key_value(&host_name) else {
            continue;
        };
        let mut projects = BTreeMap::new();
        for env in &envs {
            let m = &env.model;
            let mut groups: BTreeMap<&Name, Vec<(&Name, &App)>> = BTreeMap::new();
            for (app_name, app) in m.enabled_apps() {
                if let Some(Placement::Host(h, _)) = m.placement(app)
                    && h == name
                {
                    groups
                        .entry(m.group(app_name, app))
                        .or_default()
                        .push((app_name, app));
                }
            }
            for (group, apps) in groups {
                let pname = format!("{group}-{}", env.name);
                projects.insert(
                    pname.clone(),
                    Project {
                        name: pname,
                        env,
                        kind: ProjectKind::Apps(apps),
                    },
                );
            }
            for (stack_name, stack) in m.enabled_stacks() {
                if m.stack_host(stack).is_some_and(|(h, _)| h == name) {
                    let pname = format!("{stack_name}-{}", env.name);
                    projects.insert(
                        pname.clone(),
                        Project {
                            name: pname,
                            env,
                            kind: ProjectKind::Stack(stack_name, stack),
                        },
                    );
                }
            }
        }
        plans.push(HostPlan {
            name,
            host,
            envs,
            projects,
        });
    }
    plans
}

impl Target for Hosts {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "docker compose projects, .env templates, a Caddyfile and deploy/backup/restore scripts per host"
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics) {
        for plan in plan(cx.project) {
            let host = plan.name.as_str();
            let on_host = Provenance::new(ID).on_host(host);
            let mut script_projects = Vec::new();
            for project in plan.projects.values() {
                let dir = layout::host_file(host, &project.name);
                let sources = &project.env.sources;
                let mut from = on_host.clone().of_env(project.env.name.as_str());
                let (compose_file, built) = match &project.kind {
                    ProjectKind::Apps(apps) => {
                        // A project of one app is that app's.
                        if let [(app, _)] = apps.as_slice() {
                            from = from.of_app(app.as_str());
                        }
                        (
                            layout::COMPOSE,
                            apps_project(cx, &plan, project, apps, diags)
                                .map(|c| yaml::file(sources, &c)),
                        )
                    }
                    ProjectKind::Stack(name, stack) => (
                        layout::COMPOSE_OVERRIDE,
                        project::stack_project(&plan, project, name, stack)
                            .map(|c| yaml::file(sources, &c)),
                    ),
                };
                out.add(layout::join(&dir, compose_file), built.compose, &from);
                for file in &built.env_files {
                    match env_file::render(cx, sources, &plan, project, file) {
                        Ok(text) => out.add(
                            layout::join(&dir, &file.template_name()),
                            text.into_bytes(),
                            &from,
                        ),
                        Err(d) => diags.push(*d),
                    }
                }
                for (path, bytes) in built.files {
                    out.add(layout::join(&dir, &path), bytes, &from);
                }
                script_projects.push(built.script);
            }
            let sources = plan.sources();
            let from = on_host
                .from_envs(plan.envs.iter().map(|e| e.name.as_str()))
                .owned_by(plan.file_env());
            if let Some(caddy_cfg) = &plan.host.caddy {
                let built = caddy::project(&plan, caddy_cfg);
                let dir = layout::host_file(host, "caddy");
                out.add(
                    layout::join(&dir, layout::COMPOSE),
                    yaml::file(&sources, &built.compose),
                    &from,
                );
                for file in &built.env_files {
                    match env_file::render_host(cx, &sources, &plan, "caddy", file) {
                        Ok(text) => out.add(
                            layout::join(&dir, &file.template_name()),
                            text.into_bytes(),
                            &from,
                        ),
                        Err(d) => diags.push(*d),
                    }
                }
                script_projects.push(built.script);
                match caddy::caddyfile(cx, &plan, caddy_cfg, &sources) {
                    Ok(text) => out.add(layout::caddyfile(host), text.into_bytes(), &from),
                    Err(d) => diags.push(*d),
                }
            }
            for (name, text) in scripts::render(cx, &plan, &script_projects, &sources) {
                match text {
                    Ok(text) => {
                        out.add_script(layout::host_file(host, name), text.into_bytes(), &from)
                    }
                    Err(d) => diags.push(*d),
                }
            }
        }
    }
}

/// A project's compose file, env files and what the scripts need to know of it.
pub struct Built<T> {
    /// The compose file.
    pub compose: T,
    /// Its env files.
    pub env_files: Vec<env_file::EnvFileSpec>,
    /// Generated files of its apps (config files), by path relative to the project's
    /// folder, which the compose file bind-mounts.
    pub files: Vec<(String, Vec<u8>)>,
    /// What `deploy.sh`, `backup.sh` and `restore.sh` need.
    pub script: scripts::ScriptProject,
}

impl<T> Built<T> {
    /// The same project with its compose file turned into `f(compose)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Built<U> {
        Built {
            compose: f(self.compose),
            env_files: self.env_files,
            files: self.files,
            script: self.script,
        }
    }
}

fn apps_project(
    cx: &Context<'_>,
    plan: &HostPlan<'_>,
    project: &Project<'_>,
    apps: &[(&Name, &App)],
    diags: &mut Diagnostics,
) -> Built<compose::ComposeFile> {
    let env = project.env;
    project::apps_project(plan, project, apps, |name, app| {
        let image = format!(
            "{}:{}",
            app.image
                .as_ref()
                .map(|i| env.model.image_name(i))
                .unwrap_or_default(),
            images::tag(cx, env, name, app, diags)
        );
        match images::marker_for(name.as_str(), app, env.name.as_str(), false) {
            Some(marker) => compose::ImageRef::Marked(serde_saphyr::Commented(image, marker)),
            None => compose::ImageRef::Plain(image),
        }
    })
}
