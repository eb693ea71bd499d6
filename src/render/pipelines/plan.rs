//! What each app's pipeline does, gathered over every environment that builds it and
//! checked, before either CI syntax is written.

use super::shell::ConfigRepo;
use crate::diagnostic::checks::{
    BRANCH_CONFLICT, PIPELINE_INCOMPLETE, PIPELINE_MISMATCH, PIPELINE_UNSUPPORTED,
};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::tag_format::{TagPart, tag_parts};
use crate::model::{
    App, Arch, Build, CiCredentials, CiProvider, Environment, Name, Placement, Project,
    TagAutomation,
};
use crate::render::kubernetes::rbac::{self, DeployStep, DeployTarget};
use crate::render::kubernetes::{self, Object, labels, workload};
use std::collections::{BTreeMap, BTreeSet};

/// The tag the migration Job manifest a deploy job applies carries until the job
/// sets the new image.
pub(crate) const PIPELINE_TAG: &str = "set-by-pipeline";

/// One app's pipeline.
pub(crate) struct AppPlan<'a> {
    /// The app.
    pub name: &'a Name,
    /// The app-level build settings (equal in every environment).
    pub build: &'a Build,
    /// Every environment that builds (or promotes) the app, by name.
    pub envs: Vec<EnvPlan<'a>>,
    /// The model files the pipeline comes from.
    pub sources: Vec<String>,
}

/// What the pipeline does for one environment.
pub(crate) struct EnvPlan<'a> {
    /// The environment.
    pub env: &'a Environment,
    /// The app in this environment.
    pub app: &'a App,
    /// Its build settings in this environment.
    pub build: &'a Build,
    /// The image without tag.
    pub image: String,
    /// The registry host.
    pub registry: String,
    /// The CI variables holding push credentials.
    pub credentials: CiCredentials,
    /// The registry speaks plain HTTP.
    pub insecure: bool,
    /// The declared tag format and its pieces.
    pub tag_format: String,
    /// The pieces of the tag format.
    pub tag_parts: Vec<TagPart>,
    /// The platforms the image is built for: where this environment (and every
    /// environment promoting from it) runs the app.
    pub platforms: BTreeSet<Arch>,
    /// Another environment promotes this one's image: push a tag per commit too.
    pub promoted: bool,
    /// The push deploy, when the pipeline deploys.
    pub deploy: Option<DeployPlan>,
}

impl EnvPlan<'_> {
    /// The environment's name.
    pub(crate) fn name(&self) -> &str {
        self.env.name.as_str()
    }
}

/// A push deploy to a cluster.
pub(crate) struct DeployPlan {
    /// The cluster.
    pub cluster: String,
    /// Its API server URL, if the model gives it (for the README).
    pub api_server: Option<String>,
    /// Flux reconciles the cluster from the config repository too.
    pub flux: bool,
    /// The namespace.
    pub namespace: String,
    /// The ServiceAccount whose token the job uses.
    pub service_account: String,
    /// What the job does on the cluster; the Role is derived from the same list.
    pub steps: Vec<DeployStep>,
    /// What the steps act on.
    pub target: DeployTarget,
    /// The migration Job manifest: its path under `out/` and the object.
    pub migration: Option<(String, Object)>,
    /// The config repository the job records the tag in.
    pub repo: ConfigRepo,
    /// The health URL the verify job checks.
    pub verify_url: Option<String>,
}

/// The CPU architecture of a runner, from its labels (x64 unless one says `arm64`).
pub(crate) fn runner_arch(labels: Option<&[String]>) -> Arch {
    let arm = labels
        .unwrap_or_default()
        .iter()
        .any(|l| l.eq_ignore_ascii_case("arm64"));
    if arm { Arch::Arm64 } else { Arch::Amd64 }
}

/// The path of an app's migration Job manifest for deploy jobs, under `out/`.
pub(crate) fn migration_path(app: &str, env: &str, job: &str) -> String {
    crate::layout::deploy_job(app, env, job)
}

/// The name of the migration Job a deploy job runs: not the one Flux applies from the
/// overlay, so that a reconciliation during a deploy cannot replace the running job.
pub(crate) fn pipeline_migration_job(app: &str) -> String {
    format!("{}-ci", workload::migration_job_name(app))
}

/// The app-level fields every environment must agree on.
fn app_level_fields(b: &Build) -> [(&'static str, serde_json::Value); 6] {
    fn v<T: serde::Serialize>(x: &T) -> serde_json::Value {
        serde_json::to_value(x).unwrap_or_default()
    }
    [
        ("repository", v(&b.repository)),
        ("ci", v(&b.ci)),
        ("tests", v(&b.tests)),
        ("runner", v(&b.runner)),
        ("paths", v(&b.paths)),
        ("pathsIgnore", v(&b.paths_ignore)),
    ]
}

/// Gathers every app's pipeline and reports what cannot be built.
pub(crate) fn gather<'a>(project: &'a Project, diags: &mut Diagnostics) -> Vec<AppPlan<'a>> {
    let mut by_app: BTreeMap<&'a Name, Vec<(&'a Environment, &'a App, &'a Build)>> =
        BTreeMap::new();
    for env in &project.environments {
        for (name, app) in env.model.enabled_apps() {
            if let Some(build) = &app.build {
                by_app.entry(name).or_default().push((env, app, build));
            }
        }
    }
    let mut plans = Vec::new();
    for (name, envs) in by_app {
        let before = diags.iter().filter(|d| d.is_error()).count();
        check_consistency(name, &envs, diags);
        let mut plan_envs = Vec::new();
        for (env, app, build) in &envs {
            if let Some(p) = env_plan(name, env, app, build, diags) {
                plan_envs.push(p);
            }
        }
        link_promotions(name, &envs, &mut plan_envs, diags);
        if diags.iter().filter(|d| d.is_error()).count() > before {
            continue;
        }
        let mut sources: Vec<String> = envs
            .iter()
            .flat_map(|(e, _, _)| e.sources.iter().cloned())
            .collect();
        sources.sort();
        sources.dedup();
        plans.push(AppPlan {
            name,
            build: envs[0].2,
            envs: plan_envs,
            sources,
        });
    }
    plans
}

fn check_consistency(name: &Name, envs: &[(&Environment, &App, &Build)], diags: &mut Diagnostics) {
    let at = |env: &Environment, field: &str| env.span(&format!("/apps/{name}/build/{field}"));
    let (first_env, _, first) = envs[0];
    let first_fields = app_level_fields(first);
    let mut branches: BTreeMap<&str, &Environment> = BTreeMap::new();
    for (env, _, build) in envs {
        for ((field, want), (_, got)) in first_fields.iter().zip(app_level_fields(build)) {
            if *want != got {
                diags.push(
                    Diagnostic::error(
                        PIPELINE_MISMATCH,
                        format!(
                            "`build.{field}` of `{name}` differs between `{}` and `{}`: one repository has one pipeline",
                            first_env.name, env.name
                        ),
                    )
                    .at(at(env, field))
                    .label(at(first_env, field), format!("as in `{}`", first_env.name))
                    .help(format!("set `build.{field}` once, in the file every environment extends")),
                );
            }
        }
        match branches.get(build.branch.as_str()) {
            Some(other) => {
                let here = at(env, "branch");
                let there = at(other, "branch");
                let mut d = Diagnostic::error(
                    BRANCH_CONFLICT,
                    format!(
                        "branch `{}` builds both `{}` and `{}` of `{name}`: a push could not tell which to deploy",
                        build.branch, other.name, env.name
                    ),
                )
                .at(here)
                .help(format!(
                    "give each environment its own branch in its file, e.g. `build: {{branch: develop}}` in {}.yaml",
                    other.name
                ));
                if there != here {
                    d = d.label(there, format!("`{}` builds from it too", other.name));
                }
                diags.push(d);
            }
            None => {
                branches.insert(&build.branch, env);
            }
        }
        if build.ci == CiProvider::Gitlab && !build.paths_ignore.is_empty() {
            diags.push(
                Diagnostic::error(
                    PIPELINE_UNSUPPORTED,
                    format!(
                        "`{name}` builds with GitLab CI, whose `rules:changes` cannot ignore paths"
                    ),
                )
                .at(at(env, "pathsIgnore"))
                .help("list the paths that should trigger a build under `build.paths` instead"),
            );
        }
        if !build.paths.is_empty() && !build.paths_ignore.is_empty() {
            diags.push(
                Diagnostic::error(
                    PIPELINE_UNSUPPORTED,
                    "`build.paths` and `build.pathsIgnore` cannot both be set (GitHub refuses both filters on one event)",
                )
                .at(at(env, "pathsIgnore"))
                .label(at(env, "paths"), "paths set here"),
            );
        }
        for (test, job) in &build.tests {
            let max = (build.ci == CiProvider::Gitlab).then_some(2);
            for (field, problem, help) in job.cache.iter().flat_map(|c| c.problems(max)) {
                let pointer = format!("/apps/{name}/build/tests/{test}/cache");
                let pointer = if field.is_empty() {
                    pointer
                } else {
                    format!("{pointer}/{field}")
                };
                diags.push(
                    Diagnostic::error(
                        PIPELINE_UNSUPPORTED,
                        format!("the cache of test job `{test}`: {problem}"),
                    )
                    .at(env.key_span(&pointer))
                    .help(help),
                );
            }
        }
        for test in build.tests.keys() {
            if ["build-", "promote-", "deploy-", "verify-"]
                .iter()
                .any(|p| test.as_str().starts_with(p))
            {
                diags.push(
                    Diagnostic::error(
                        PIPELINE_UNSUPPORTED,
                        format!("test job `{test}` would clash with the jobs kiln names `build-<env>`, `deploy-<env>`, ..."),
                    )
                    .at(env.key_span(&format!("/apps/{name}/build/tests/{test}")))
                    .help("rename the test job"),
                );
            }
        }
    }
}

fn env_plan<'a>(
    name: &'a Name,
    env: &'a Environment,
    app: &'a App,
    build: &'a Build,
    diags: &mut Diagnostics,
) -> Option<EnvPlan<'a>> {
    let m = &env.model;
    // A build without an image is reported by `validate::data_services`.
    let image = app.image.as_ref()?;
    let registry = m.registries.get(&image.registry)?;
    let Some(format) = &image.tag_format else {
        diags.push(
            Diagnostic::error(
                PIPELINE_INCOMPLETE,
                format!("`{name}` has a build but no `image.tagFormat` to tag its images with"),
            )
            .at(env.span(&format!("/apps/{name}/image")))
            .help(
                "add e.g. `tagFormat: ${env}-{sha}-{timestamp}` (sortable by Flux and by people)",
            ),
        );
        return None;
    };
    let format_span = env.span(&format!("/apps/{name}/image/tagFormat"));
    let parts = match tag_parts(format) {
        Ok(p) => p,
        // The flux target reports formats it cannot read for Flux-automated apps.
        Err(_) if image.automation == TagAutomation::Flux => return None,
        Err(why) => {
            diags.push(Diagnostic::error(PIPELINE_INCOMPLETE, why).at(format_span));
            return None;
        }
    };
    if let Some(TagPart::Literal(bad)) = parts
        .iter()
        .find(|p| matches!(p, TagPart::Literal(t) if !super::shell::literal_is_safe(t)))
    {
        diags.push(
            Diagnostic::error(
                PIPELINE_INCOMPLETE,
                format!("`{bad}` in tag format `{format}` cannot be part of an image tag"),
            )
            .at(format_span)
            .help("use letters, digits, `_`, `.` and `-` besides the placeholders"),
        );
        return None;
    }
    let names_ok = build_names_valid(name, env, build, diags);
    let placement = m.placement(app);
    let arch = match placement {
        Some(Placement::Cluster(_, c)) => c.arch,
        Some(Placement::Host(_, h)) => h.arch,
        None => Arch::default(),
    };
    let deploy = deploy_plan(name, env, app, diags);
    if !names_ok {
        return None;
    }
    Some(EnvPlan {
        env,
        app,
        build,
        image: m.image_name(image),
        registry: registry.host.clone(),
        credentials: registry.ci_credentials(&image.registry),
        insecure: registry.insecure,
        tag_format: format.clone(),
        tag_parts: parts,
        // The model's explicit platforms win over where the app runs.
        platforms: if image.platforms.is_empty() {
            BTreeSet::from([arch])
        } else {
            image.platforms.iter().copied().collect()
        },
        promoted: false,
        deploy,
    })
}

/// Build argument names, secret ids and CI variable names go into shell words and CI
/// expressions: only plain names.
fn build_names_valid(
    name: &Name,
    env: &Environment,
    build: &Build,
    diags: &mut Diagnostics,
) -> bool {
    let plain = |s: &str, extra: &[u8]| {
        s.bytes().next().is_some_and(|b| !b.is_ascii_digit())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || extra.contains(&b))
    };
    let at = |p: String| env.key_span(&format!("/apps/{name}/build/{p}"));
    let mut ok = true;
    let mut bad = |span, what: String, help: &str| {
        ok = false;
        diags.push(
            Diagnostic::error(PIPELINE_INCOMPLETE, what)
                .at(span)
                .help(help.to_owned()),
        );
    };
    for (arg, value) in &build.args {
        if !plain(arg, b"") {
            bad(
                at(format!("args/{arg}")),
                format!("`{arg}` is not a build argument name"),
                "use letters, digits and `_`",
            );
        } else if value.contains('\n') {
            bad(
                at(format!("args/{arg}")),
                format!("build argument `{arg}` spans several lines"),
                "a build argument is one line",
            );
        }
    }
    for (id, var) in &build.secrets {
        if !plain(id, b".-") {
            bad(
                at(format!("secrets/{id}")),
                format!("`{id}` is not a build secret id"),
                "use letters, digits, `_`, `.` and `-`",
            );
        }
        if !plain(var, b"") || var.bytes().any(|b| b.is_ascii_lowercase()) {
            bad(
                env.span(&format!("/apps/{name}/build/secrets/{id}")),
                format!("`{var}` is not a CI secret or variable name"),
                "use upper-case letters, digits and `_`",
            );
        }
    }
    ok
}

fn deploy_plan(
    name: &Name,
    env: &Environment,
    app: &App,
    diags: &mut Diagnostics,
) -> Option<DeployPlan> {
    let m = &env.model;
    if app.automation() != TagAutomation::Push || app.pinned_tag().is_some() {
        return None;
    }
    let deploy = app.deploy.as_ref()?;
    let unit = kubernetes::cluster_app(env, name).filter(|u| u.host.is_none())?;
    let repo = match m.repository.as_ref().map(|r| (r, r.ci.as_ref())) {
        Some((r, Some(ci))) => match ConfigRepo::https(&r.url) {
            Some((https_url, host)) => ConfigRepo {
                https_url,
                host,
                branch: r.branch.clone(),
                path: r.path.clone(),
                token: ci.push_token.clone(),
                image: ci.image.clone(),
            },
            None => {
                diags.push(
                    Diagnostic::error(
                        PIPELINE_INCOMPLETE,
                        format!("deploy jobs push recorded tags over HTTPS, but `{}` is not a git URL kiln can turn into one", r.url),
                    )
                    .at(env.span("/repository/url"))
                    .help("use `ssh://git@host/path.git`, `git@host:path.git` or `https://host/path.git`"),
                );
                return None;
            }
        },
        _ => {
            diags.push(
                Diagnostic::error(
                    PIPELINE_INCOMPLETE,
                    format!("`{name}` is deployed by its pipeline, which records the tag with `kiln set-image` in this repository: the model names no `repository.ci`"),
                )
                .at(env.span(&format!("/apps/{name}/deploy")))
                .help("add `repository: {url: ..., ci: {provider: ..., image: <an image with kiln, git and kubectl>}}`"),
            );
            return None;
        }
    };
    let acx = kubernetes::app_cx(&unit, PIPELINE_TAG);
    let steps = rbac::steps(&acx);
    let job_name = pipeline_migration_job(name.as_str());
    let migration = app.migrations.as_ref().map(|_| {
        let mut job = Object::from(&workload::migration_job(&acx, &workload::build(&acx)));
        job.0["metadata"]["name"] = job_name.clone().into();
        job.0["spec"]["template"]["metadata"]["name"] = job_name.clone().into();
        job.set_namespace(&unit.namespace);
        kubernetes::skip_checks(&mut job, app);
        (
            migration_path(name.as_str(), env.name.as_str(), &job_name),
            job,
        )
    });
    if migration.is_some() && job_name.len() > 63 {
        diags.push(
            Diagnostic::error(
                PIPELINE_INCOMPLETE,
                format!(
                    "the deploy job's migration Job `{job_name}` would be longer than 63 characters"
                ),
            )
            .at(env.key_span(&format!("/apps/{name}")))
            .help("shorten the app's name"),
        );
        return None;
    }
    let deadline = migration
        .as_ref()
        .and_then(|(_, j)| j.0["spec"]["activeDeadlineSeconds"].as_u64())
        .unwrap_or(600);
    let target = DeployTarget {
        deployment: name.to_string(),
        kind: app.kind,
        selector: format!("{}={name},{}=app", labels::NAME, labels::COMPONENT),
        image: "\"$IMAGE:$TAG\"".to_owned(),
        migration_job: job_name.clone(),
        migration_container: "migrate".to_owned(),
        migration_file: crate::layout::in_checkout(
            &repo.project_dir(),
            &migration_path(name.as_str(), env.name.as_str(), &job_name),
        ),
        migration_timeout: u32::try_from(deadline + 60).unwrap_or(u32::MAX),
    };
    let verify_url = app
        .health
        .as_ref()
        .and_then(|h| h.path.as_ref())
        .and_then(|path| {
            let mut routes = unit.routes();
            routes.sort_by_key(|(route_name, route)| (route.tunnel, *route_name));
            routes
                .into_iter()
                .find(|(_, r)| path.starts_with(r.path.trim_end_matches('/')))
                .map(|(_, r)| format!("https://{}{}", r.host, path))
        });
    Some(DeployPlan {
        cluster: unit.cluster_name.to_string(),
        api_server: unit.cluster.api_server.clone(),
        flux: unit.cluster.flux.is_some(),
        namespace: unit.namespace.clone(),
        service_account: deploy.service_account.to_string(),
        steps,
        target,
        migration,
        repo,
        verify_url,
    })
}

fn link_promotions(
    name: &Name,
    envs: &[(&Environment, &App, &Build)],
    plans: &mut [EnvPlan<'_>],
    diags: &mut Diagnostics,
) {
    for (env, _, build) in envs {
        let Some(from) = &build.promote_from else {
            continue;
        };
        let span = env.span(&format!("/apps/{name}/build/promoteFrom"));
        let source = envs.iter().find(|(e, _, _)| &e.name == from);
        let problem = match source {
            _ if from == &env.name => Some("an environment cannot promote from itself".to_owned()),
            None => Some(format!(
                "`{from}` does not build `{name}` (no such environment, the app is disabled there, or it has no `build`)"
            )),
            Some((_, _, b)) if b.promote_from.is_some() => Some(format!(
                "`{from}` promotes too: promote from the environment that builds the image"
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            let mut d = Diagnostic::error(PIPELINE_INCOMPLETE, problem).at(span);
            if source.is_none() {
                let builders = envs.iter().map(|(e, _, _)| e.name.as_str());
                d = d.did_you_mean(from.as_str(), builders.filter(|e| *e != env.name.as_str()));
            }
            diags.push(d);
            continue;
        }
        let arch: Vec<Arch> = plans
            .iter()
            .filter(|p| p.env.name == env.name)
            .flat_map(|p| p.platforms.iter().copied())
            .collect();
        if let Some(source) = plans.iter_mut().find(|p| &p.env.name == from) {
            source.promoted = true;
            source.platforms.extend(arch);
        }
    }
}
