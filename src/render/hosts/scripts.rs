//! `deploy.sh`, `backup.sh` and `restore.sh` of a host, from `templates/hosts/`.
//!
//! `deploy.sh NAME [ENV]` is the contract with the cluster's deploy Job: it deploys
//! the compose project that runs NAME (an app, a stack, or `caddy`), exits non-zero
//! on any failure. ENV is needed only when NAME runs in two environments on the host.

use super::HostPlan;
use crate::diagnostic::Diagnostic;
use crate::model::Engine;
use crate::render::Context;
use serde::Serialize;

/// The scripts, by file name, and their templates.
pub const SCRIPTS: &[(&str, &str)] = &[
    (crate::layout::DEPLOY_SCRIPT, "hosts/deploy.sh"),
    ("backup.sh", "hosts/backup.sh"),
    ("restore.sh", "hosts/restore.sh"),
];

/// What the scripts know about one compose project.
#[derive(Clone, Debug, Serialize)]
pub struct ScriptProject {
    /// The project name.
    pub name: String,
    /// A shell identifier for it.
    pub func: String,
    /// Its compose files, in order.
    pub files: Vec<ComposeArg>,
    /// `--project-directory` (the upstream directory of a stack).
    pub project_directory: Option<String>,
    /// `--env-file` (the `.env` an upstream file interpolates).
    pub env_file: Option<String>,
    /// Directories volumes are bound to, created before starting.
    pub data_dirs: Vec<String>,
    /// Folders of app volumes, created before starting and given to the user the app
    /// runs as.
    pub owned_dirs: Vec<OwnedDir>,
    /// Health endpoints reachable from the host, waited for after starting.
    pub health_urls: Vec<String>,
    /// Scheduled jobs, which `deploy.sh` writes into the deploying user's crontab.
    pub cron_jobs: Vec<CronJob>,
    /// Env files that must exist with their variables set.
    pub env_checks: Vec<EnvCheck>,
    /// Secret files that must exist on the host before the project starts.
    pub secret_files: Vec<SecretFile>,
    /// The upstream compose file that must exist on the host.
    pub upstream: Option<UpstreamCheck>,
    /// Whether this is the host's Caddy (validated before it is restarted).
    pub caddy: bool,
    /// Whether nothing of it runs all the time (every app is `kind: jobs`): `deploy.sh`
    /// then starts nothing and installs the jobs' crontab entries.
    pub jobs_only: bool,
    /// The apps or stack it runs.
    pub members: Vec<Member>,
}

/// A folder `deploy.sh` creates and gives to a user.
#[derive(Clone, Debug, Serialize)]
pub struct OwnedDir {
    /// Its path on the host.
    pub dir: String,
    /// `uid:gid`.
    pub owner: String,
}

/// A scheduled job on a host: a crontab line running the job's compose service.
#[derive(Clone, Debug, Serialize)]
pub struct CronJob {
    /// The five cron fields or a descriptor (`@daily`), as the host's cron reads them.
    pub schedule: String,
    /// The compose service (in the `jobs` profile) it runs.
    pub service: String,
    /// `forbid` (skip a run while one runs, with `flock`), `allow` or `replace` (stop
    /// the running one first).
    pub concurrency: &'static str,
    /// The lock file of `forbid`.
    pub lock: String,
}

/// A compose file argument.
#[derive(Clone, Debug, Serialize)]
pub struct ComposeArg {
    /// The path.
    pub path: String,
    /// Relative to the host's directory in `out/` (else absolute, on the host).
    pub relative: bool,
}

/// A secret file of an app on the host, which `deploy.sh` requires: the value of one
/// key of a model secret, put there by the operator (never in `out/`).
#[derive(Clone, Debug, Serialize)]
pub struct SecretFile {
    /// Its path on the host.
    pub path: String,
    /// Its path in the container.
    pub target: String,
    /// The model secret.
    pub secret: String,
    /// The key whose value the file holds.
    pub key: String,
    /// The user that must own it (the one the app runs as).
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// Its mode, in octal (`0440`).
    pub mode: String,
    /// Where the value comes from (the lines an env template's comment has).
    pub source: Vec<String>,
}

/// An env file `deploy.sh` checks.
#[derive(Clone, Debug, Serialize)]
pub struct EnvCheck {
    /// Its path on the host.
    pub path: String,
    /// Its template, relative to the host's directory in `out/`.
    pub template: String,
    /// Variables that must be set and non-empty.
    pub secret: Vec<String>,
    /// Variables that must be present.
    pub plain: Vec<String>,
}

/// The upstream file of a stack.
#[derive(Clone, Debug, Serialize)]
pub struct UpstreamCheck {
    /// Its path on the host.
    pub file: String,
    /// How to obtain it.
    pub source: String,
}

/// An app, stack or `caddy` that `deploy.sh NAME` accepts.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    /// The name.
    pub name: String,
    /// Its environment (empty for `caddy`).
    pub env: String,
    /// Whether NAME alone (without ENV) identifies it on the host.
    pub unique: bool,
    /// Its database, for `backup.sh` and `restore.sh`.
    pub database: Option<DbInfo>,
    /// Its persistent volumes, for `backup.sh` and `restore.sh`.
    pub volumes: Vec<VolumeArchive>,
    /// Whether it runs only scheduled jobs (no service for `restore.sh` to stop).
    pub jobs_only: bool,
}

/// A persistent volume the scripts can archive and restore.
#[derive(Clone, Debug, Serialize)]
pub struct VolumeArchive {
    /// The volume's name in the model.
    pub volume: String,
    /// Its folder on the host.
    pub dir: String,
    /// `uid:gid` of the user the app runs as, who owns the folder's contents.
    pub owner: String,
    /// The file-name prefix of its archives (`<prefix>_<date>.tar.gz`).
    pub prefix: String,
    /// Where manual archives go on the host.
    pub backup_dir: String,
}

/// A database the scripts can dump and restore, with its engine's commands (run by
/// `sh -c` in its container, the user as `$1` and the database as `$2`).
#[derive(Clone, Debug, Serialize)]
pub struct DbInfo {
    /// The compose service running the server.
    pub service: String,
    /// The user to connect as.
    pub user: String,
    /// The database.
    pub name: String,
    /// Where manual dumps go on the host.
    pub backup_dir: String,
    /// The server, e.g. `PostgreSQL`.
    pub title: &'static str,
    /// What a dump is, e.g. `pg_dump --format=custom`.
    pub dump_kind: String,
    /// The dumps' file extension.
    pub dump_ext: &'static str,
    /// The dump, to standard output.
    pub dump: String,
    /// Reads a dump on standard input; fails unless it is whole.
    pub check: String,
    /// The restore, from standard input.
    pub restore: String,
    /// Whether a failed restore is rolled back.
    pub atomic: bool,
}

impl DbInfo {
    /// The database `name` of `service`, dumped as `user`.
    pub fn new(
        engine: &dyn Engine,
        service: String,
        user: String,
        name: String,
        backup_dir: String,
    ) -> Self {
        Self {
            service,
            user,
            name,
            backup_dir,
            title: engine.title(),
            dump_kind: engine.dump_kind(),
            dump_ext: engine.dump_ext(),
            dump: engine.container_dump(),
            check: engine.check_dump(),
            restore: engine.container_restore(),
            atomic: engine.atomic_restore(),
        }
    }
}

#[derive(Serialize)]
struct ScriptContext<'a> {
    header: Vec<String>,
    host: &'a str,
    projects: &'a [ScriptProject],
    /// Whether a project of the host has scheduled jobs (`deploy.sh` then manages
    /// their crontab entries).
    jobs: bool,
    /// Whether a project of the host has secret files (`deploy.sh` then has the
    /// function that checks them).
    secret_files: bool,
    /// Whether a project of the host runs only scheduled jobs (`deploy.sh` then starts
    /// nothing for it).
    jobs_only: bool,
}

/// Renders every script of a host.
pub fn render(
    cx: &Context<'_>,
    plan: &HostPlan<'_>,
    projects: &[ScriptProject],
    sources: &[String],
) -> Vec<(&'static str, Result<String, Box<Diagnostic>>)> {
    let mut projects = projects.to_vec();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for m in projects.iter().flat_map(|p| &p.members) {
        *counts.entry(m.name.clone()).or_default() += 1;
    }
    for m in projects.iter_mut().flat_map(|p| &mut p.members) {
        m.unique = counts[&m.name] == 1;
    }
    let header = crate::render::yaml::header(sources)
        .lines()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    SCRIPTS
        .iter()
        .map(|(file, template)| {
            let text = cx.templates.render(
                template,
                ScriptContext {
                    header: header.clone(),
                    host: plan.name.as_str(),
                    projects: &projects,
                    jobs: projects.iter().any(|p| !p.cron_jobs.is_empty()),
                    secret_files: projects.iter().any(|p| !p.secret_files.is_empty()),
                    jobs_only: projects.iter().any(|p| p.jobs_only),
                },
                &cx.project.sources,
            );
            (*file, text)
        })
        .collect()
}
