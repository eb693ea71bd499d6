//! The `pipelines` target: CI files compiled from the model, for GitHub Actions and
//! GitLab CI.
//!
//! Layout under `out/pipelines/`:
//! - `<app>/.github/workflows/<app>.yml` or `<app>/.gitlab-ci.yml`: the app's
//!   pipeline, to be copied into the app's repository (`build.repository`), with
//!   `<app>/.github/actionlint.yaml` when its self-hosted runner has custom labels;
//! - `<app>/deploy/<env>/job-<app>-migrate-ci.yaml`: the migration Job a push-deploy
//!   job applies, read from this repository at deploy time (one definition: the same
//!   Job the Kubernetes overlay has, under the pipeline's own name);
//! - `<app>/README.md`: what to copy where, and every CI secret and variable to set;
//! - `config/`: the pipeline of the repository that holds the model (`kiln check`, and
//!   `kiln diff` on merge requests), when `repository.ci` is set.
//!
//! What a pipeline does is gathered per app over every environment first
//! (`plan.rs`); the two CI syntaxes (`github.rs`, `gitlab.rs`) are written from that plan
//! with the same shell commands (`shell.rs`). Image tags come from the same parse of
//! `image.tagFormat` as Flux's ImagePolicy; deploy commands from the same
//! [`DeployStep`] list as the pipeline's Role.

mod github;
mod gitlab;
mod plan;
mod shell;

use super::{Context, OutputTree, Target, yaml};
use crate::diagnostic::{Diagnostic, Diagnostics, checks::PIPELINE_INCOMPLETE};
use crate::layout::{self, Provenance};
use crate::model::{CiProvider, Environment, Runner};
use crate::render::kubernetes::rbac::{DeployStep, token_secret_name};
use plan::{AppPlan, DeployPlan, EnvPlan};
use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The docker CLI image GitLab build jobs run in (it has the buildx plugin).
pub const DOCKER_IMAGE: &str = "docker:28.5.1-cli";
/// The Docker daemon GitLab build jobs use (needs a runner that allows privileged
/// containers).
pub const DIND_IMAGE: &str = "docker:28.5.1-dind";
/// QEMU emulators for cross-building on GitLab.
pub const BINFMT_IMAGE: &str = "tonistiigi/binfmt:qemu-v10.2.3-68";
/// The image GitLab verify jobs run `curl` in.
pub const CURL_IMAGE: &str = "curlimages/curl:8.16.0";
/// GitHub's hosted runner.
pub const GITHUB_HOSTED_RUNNER: &str = "ubuntu-24.04";
/// A GitHub Action kiln's workflows use, pinned by commit (a tag can be moved; a
/// commit cannot), with the release it is in the comment GitHub's `uses:` line
/// carries, which Renovate's github-actions manager reads and updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// `owner/repository`.
    pub name: &'static str,
    /// The release the commit is, e.g. `v6.1.0`.
    pub version: &'static str,
    /// The release's full commit hash.
    pub commit: &'static str,
}

/// `actions:` names only actions kiln's workflows use, and says the same in every
/// environment (one workflow file serves them all).
fn check_action_pins(project: &crate::model::Project, diags: &mut Diagnostics) {
    let names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
    let first = project.environments.first();
    for env in &project.environments {
        for name in env.model.actions.keys() {
            if !names.contains(&name.as_str()) {
                diags.push(
                    Diagnostic::error(
                        crate::diagnostic::checks::UNKNOWN_REFERENCE,
                        format!("kiln's workflows use no action `{name}`"),
                    )
                    .at(env.key_span(&format!("/actions/{}", crate::pointer::escape(name))))
                    .help(
                        crate::suggest::did_you_mean(name, names.iter().copied()).unwrap_or_else(
                            || format!("the actions they use: {}", names.join(", ")),
                        ),
                    ),
                );
            }
        }
        if let Some(first) = first.filter(|f| f.model.actions != env.model.actions) {
            diags.push(
                Diagnostic::error(
                    crate::diagnostic::checks::CONFLICT,
                    format!(
                        "`actions` differs between `{}` and `{}`, whose pipelines are the same files",
                        first.name, env.name
                    ),
                )
                .at(env.key_span("/actions").or_else(|| first.key_span("/actions")))
                .help("pin the actions once, in the file every environment extends"),
            );
        }
    }
}

/// The model's pins of actions (`actions:`), from the first environment (the model
/// checks make every environment say the same).
pub fn action_pins(project: &crate::model::Project) -> &BTreeMap<String, crate::model::ActionPin> {
    static NONE: std::sync::OnceLock<BTreeMap<String, crate::model::ActionPin>> =
        std::sync::OnceLock::new();
    project
        .environments
        .first()
        .map_or_else(|| NONE.get_or_init(BTreeMap::new), |e| &e.model.actions)
}

impl Action {
    /// What a step's `uses:` says: `owner/repository@commit`.
    pub fn reference(&self) -> String {
        format!("{}@{}", self.name, self.commit)
    }
}

/// The actions kiln's workflows use, at the newest release of their current major
/// version (node24 runtimes), read from each repository's tags.
pub const ACTIONS: &[Action] = &[
    CHECKOUT_ACTION,
    QEMU_ACTION,
    BUILDX_ACTION,
    LOGIN_ACTION,
    BUILD_PUSH_ACTION,
    CACHE_ACTION,
];
/// Checkout.
pub const CHECKOUT_ACTION: Action = Action {
    name: "actions/checkout",
    version: "v6.1.0",
    commit: "d23441a48e516b6c34aea4fa41551a30e30af803", // pragma: allowlist secret (a commit, not a secret)
};
/// QEMU for cross-building.
pub const QEMU_ACTION: Action = Action {
    name: "docker/setup-qemu-action",
    version: "v4.2.0",
    commit: "96fe6ef7f33517b61c61be40b68a1882f3264fb8", // pragma: allowlist secret (a commit, not a secret)
};
/// A BuildKit builder.
pub const BUILDX_ACTION: Action = Action {
    name: "docker/setup-buildx-action",
    version: "v4.3.0",
    commit: "37fe631027851001ddb9b187196cc803df7f5f0e", // pragma: allowlist secret (a commit, not a secret)
};
/// Registry login.
pub const LOGIN_ACTION: Action = Action {
    name: "docker/login-action",
    version: "v4.1.0",
    commit: "4907a6ddec9925e35a0a9e82d7399ccc52663121", // pragma: allowlist secret (a commit, not a secret)
};
/// Build and push.
pub const BUILD_PUSH_ACTION: Action = Action {
    name: "docker/build-push-action",
    version: "v7.3.0",
    commit: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", // pragma: allowlist secret (a commit, not a secret)
};

/// A check's dependency cache (`build.tests.<job>.cache`).
pub const CACHE_ACTION: Action = Action {
    name: "actions/cache",
    version: "v5.0.5",
    commit: "27d5ce7f107fe9357f9df03efb73ab90386fccae", // pragma: allowlist secret (a commit, not a secret)
};

/// The labels actionlint knows without configuration.
const KNOWN_RUNNER_LABELS: &[&str] = &[
    "self-hosted",
    "linux",
    "macos",
    "windows",
    "x64",
    "arm",
    "arm64",
];

/// The target's id.
const ID: &str = "pipelines";

/// The pipelines target.
pub struct Pipelines;

/// A map serialized in insertion order, so jobs read top to bottom in stage order.
pub(crate) struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One section of a deploy job: a GitHub step, part of the GitLab script.
pub(crate) struct Section {
    /// What it does.
    pub title: String,
    /// Its commands.
    pub commands: Vec<String>,
    /// The model values its commands name as variables ([`shell::Words::env`]).
    pub env: BTreeMap<String, String>,
}

/// The deploy job's commands, in sections (GitHub steps; GitLab runs them as one
/// script): clone this repository, point kubectl at the cluster, then each
/// [`DeployStep`], recording the tag with `kiln set-image` after the migration and
/// before the image changes (so Flux, which reconciles the same overlay, moves to the
/// new tag rather than back to the old one). `words` makes the [`shell::Words`] of a
/// section: quoted in place, or through its `env:`.
pub(crate) fn deploy_script(
    plan: &AppPlan<'_>,
    env: &EnvPlan<'_>,
    deploy: &DeployPlan,
    author: (&str, &str),
    words: fn() -> shell::Words,
) -> Vec<Section> {
    let section = |title: String, build: &dyn Fn(&mut shell::Words) -> Vec<String>| {
        let mut w = words();
        let commands = build(&mut w);
        Section {
            title,
            commands,
            env: w.into_env(),
        }
    };
    let mut sections = vec![
        section("Clone the config repository".to_owned(), &|w| {
            deploy.repo.clone_commands(w)
        }),
        section(
            format!(
                "Point kubectl at {} (namespace {})",
                deploy.cluster, deploy.namespace
            ),
            &|_| shell::kubeconfig(&deploy.namespace),
        ),
    ];
    for step in &deploy.steps {
        if *step == DeployStep::SetImage {
            sections.push(section(
                "Record the tag with kiln set-image".to_owned(),
                &|w| {
                    vec![
                        deploy
                            .repo
                            .record_commands(plan.name.as_str(), env.name(), author, w),
                    ]
                },
            ));
        }
        let title = match step {
            DeployStep::RunMigration => "Run the migration Job",
            DeployStep::WaitMigration => "Wait for the migration",
            DeployStep::SetImage => "Set the image",
            DeployStep::WaitRollout => "Wait for the rollout",
        };
        sections.push(section(title.to_owned(), &|w| {
            step.commands(&deploy.target, &mut |var, value| w.word(var, value))
        }));
    }
    sections
}

/// The scheme and host of a URL: what an environment links to.
pub(crate) fn origin(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    url[..end].to_owned()
}

impl Target for Pipelines {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "CI per app (GitHub Actions or GitLab CI): test, build, tag, push, deploy, verify; the config repository's check pipeline"
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics) {
        let project = cx.project;
        check_action_pins(project, diags);
        let plans = plan::gather(project, diags);
        let config_ci = project
            .environments
            .iter()
            .find_map(|e| e.model.repository.as_ref()?.ci.as_ref().map(|ci| (e, ci)));
        if let Some((env, _)) = config_ci
            && let Some(plan) = plans.iter().find(|p| p.name.as_str() == "config")
        {
            diags.push(
                Diagnostic::error(
                    PIPELINE_INCOMPLETE,
                    "an app named `config` would share out/pipelines/config/ with this repository's pipeline",
                )
                .at(env.key_span(&format!("/apps/{}", plan.name)))
                .help("rename the app"),
            );
            return;
        }
        // Apps built in one repository share its `.github/actionlint.yaml`.
        let mut labels_by_repo: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for plan in &plans {
            labels_by_repo
                .entry(plan.build.repository.as_str())
                .or_default()
                .extend(custom_labels(&plan.build.runner));
        }
        for plan in &plans {
            let dir = layout::pipeline(plan.name.as_str());
            let from = Provenance::new(ID)
                .of_app(plan.name.as_str())
                .from_envs(plan.envs.iter().map(EnvPlan::name));
            let labels = &labels_by_repo[plan.build.repository.as_str()];
            let files = match plan.build.ci {
                CiProvider::Github => {
                    let mut files = vec![(
                        format!(".github/workflows/{}.yml", plan.name),
                        github::file(&plan.sources, &github::workflow(plan), action_pins(project)),
                    )];
                    if !labels.is_empty() {
                        files.push(actionlint_config(&plan.sources, labels));
                    }
                    files
                }
                CiProvider::Gitlab => vec![(
                    ".gitlab-ci.yml".to_owned(),
                    yaml::file(&plan.sources, &gitlab::pipeline(plan)),
                )],
            };
            let copied: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
            for (path, bytes) in files {
                out.add(layout::join(&dir, &path), bytes, &from);
            }
            for env in &plan.envs {
                if let Some((path, job)) = env.deploy.as_ref().and_then(|d| d.migration.as_ref()) {
                    out.add(
                        path.clone(),
                        yaml::document(&env.env.sources, job.0.clone()),
                        &from.clone().of_env(env.name()),
                    );
                }
            }
            let context = readme_context(plan, &copied);
            match cx
                .templates
                .render("pipelines/README.md.j2", &context, &project.sources)
            {
                Ok(text) => out.add(layout::join(&dir, "README.md"), text.into_bytes(), &from),
                Err(d) => diags.push(*d),
            }
        }
        if let Some((env, ci)) = config_ci {
            write_config_pipeline(cx, env, ci, out, diags);
        }
    }
}

/// Runner labels actionlint must be told about.
fn custom_labels(runner: &Runner) -> BTreeSet<String> {
    runner
        .labels()
        .unwrap_or_default()
        .iter()
        .filter(|l| !KNOWN_RUNNER_LABELS.contains(&l.to_ascii_lowercase().as_str()))
        .cloned()
        .collect()
}

fn actionlint_config(sources: &[String], labels: &BTreeSet<String>) -> (String, Vec<u8>) {
    (
        ".github/actionlint.yaml".to_owned(),
        yaml::file(sources, &json!({"self-hosted-runner": {"labels": labels}})),
    )
}

/// What the README template gets.
#[derive(Serialize)]
struct Readme {
    app: String,
    provider: &'static str,
    gitlab: bool,
    repository: String,
    files: Vec<String>,
    sources: Vec<String>,
    runner: Option<Vec<String>>,
    envs: Vec<ReadmeEnv>,
    variables: Vec<Variable>,
    config_repository: Option<String>,
    /// Flux reconciles a cluster the pipeline deploys to.
    flux: bool,
    tests: Vec<String>,
    insecure: Vec<String>,
}

#[derive(Serialize)]
struct ReadmeEnv {
    name: String,
    branch: String,
    image: String,
    tag_format: String,
    platforms: Vec<&'static str>,
    promote_from: Option<String>,
    automation: &'static str,
    deploy: Option<ReadmeDeploy>,
    build_args: Vec<String>,
}

#[derive(Serialize)]
struct ReadmeDeploy {
    cluster: String,
    namespace: String,
    steps: Vec<String>,
    verify_url: Option<String>,
    migration_file: Option<String>,
}

/// One CI secret or variable to create.
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Variable {
    name: String,
    /// `all` or an environment.
    scope: String,
    /// GitHub: `secret` or `variable`.
    kind: &'static str,
    /// Where the value comes from.
    source: String,
}

fn readme_context(plan: &AppPlan<'_>, files: &[String]) -> Readme {
    let gitlab = plan.build.ci == CiProvider::Gitlab;
    let mut variables = BTreeSet::new();
    let mut push = |name: &str, scope: &str, kind: &'static str, source: String| {
        // GitLab's predefined variables need no setting up.
        if !(gitlab && name.starts_with("CI_")) {
            variables.insert(Variable {
                name: name.to_owned(),
                scope: scope.to_owned(),
                kind,
                source,
            });
        }
    };
    let mut envs = Vec::new();
    let mut config_repository = None;
    let mut flux = false;
    for env in &plan.envs {
        let c = &env.credentials;
        push(
            &c.username,
            "all",
            "secret",
            format!("a user that may push to {}", env.registry),
        );
        push(
            &c.password,
            "all",
            "secret",
            format!("its password or token for {}", env.registry),
        );
        for var in env.build.secrets.values() {
            push(
                var,
                "all",
                "secret",
                "a build secret (see `build.secrets`)".to_owned(),
            );
        }
        let deploy = env.deploy.as_ref().map(|d| {
            let e = env.name();
            let token = token_secret_name(&d.service_account);
            push(
                "KUBE_API_URL",
                e,
                "variable",
                d.api_server.as_ref().map_or_else(
                    || format!("the API server URL of cluster `{}`", d.cluster),
                    |url| format!("`{url}` (`clusters.{}.apiServer`)", d.cluster),
                ),
            );
            push(
                "KUBE_CA_CERT",
                e,
                "variable",
                format!(
                    "`kubectl get secret {token} -n {} -o jsonpath='{{.data.ca\\.crt}}' | base64 -d`",
                    d.namespace
                ),
            );
            push(
                "KUBE_TOKEN",
                e,
                "secret",
                format!(
                    "`kubectl get secret {token} -n {} -o jsonpath='{{.data.token}}' | base64 -d`",
                    d.namespace
                ),
            );
            push(
                &d.repo.token,
                "all",
                "secret",
                format!(
                    "a token that may push to {} (GitHub: a fine-grained token with contents: write; GitLab: a project access token with write_repository)",
                    d.repo.https_url
                ),
            );
            config_repository = Some(d.repo.https_url.clone());
            flux |= d.flux;
            ReadmeDeploy {
                cluster: d.cluster.clone(),
                namespace: d.namespace.clone(),
                steps: d
                    .steps
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect(),
                verify_url: d.verify_url.clone(),
                migration_file: d.migration.as_ref().map(|(p, _)| format!("out/{p}")),
            }
        });
        envs.push(ReadmeEnv {
            name: env.name().to_owned(),
            branch: env.build.branch.clone(),
            image: env.image.clone(),
            tag_format: env.tag_format.clone(),
            platforms: env.platforms.iter().map(|p| p.platform()).collect(),
            promote_from: env.build.promote_from.as_ref().map(ToString::to_string),
            automation: match env.app.automation() {
                crate::model::TagAutomation::Push => "push",
                crate::model::TagAutomation::Flux => "flux",
            },
            deploy,
            build_args: env
                .build
                .args
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        });
    }
    Readme {
        app: plan.name.to_string(),
        provider: plan.build.ci.title(),
        gitlab,
        repository: plan.build.repository.clone(),
        files: files.to_vec(),
        sources: plan.sources.clone(),
        runner: plan.build.runner.labels().map(<[String]>::to_vec),
        envs,
        variables: variables.into_iter().collect(),
        config_repository,
        flux,
        tests: plan.build.tests.keys().map(ToString::to_string).collect(),
        insecure: plan
            .envs
            .iter()
            .filter(|e| e.insecure)
            .map(|e| e.registry.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

fn write_config_pipeline(
    cx: &Context<'_>,
    env: &Environment,
    ci: &crate::model::RepositoryCi,
    out: &mut OutputTree,
    diags: &mut Diagnostics,
) {
    let repo = env.model.repository.as_ref();
    let root = repo
        .map(|r| r.path.trim_matches('/').trim_start_matches("./").to_owned())
        .filter(|p| p != "." && !p.is_empty());
    let mut sources: Vec<String> = cx
        .project
        .environments
        .iter()
        .flat_map(|e| e.sources.iter().cloned())
        .collect();
    sources.sort();
    sources.dedup();
    let mut files = match ci.provider {
        CiProvider::Github => vec![(
            ".github/workflows/kiln.yml".to_owned(),
            github::file(
                &sources,
                &github::config_workflow(&ci.image, &ci.runner, root.as_deref()),
                action_pins(cx.project),
            ),
        )],
        CiProvider::Gitlab => vec![(
            ".gitlab-ci.yml".to_owned(),
            yaml::file(
                &sources,
                &gitlab::config_pipeline(&ci.image, &ci.runner, root.as_deref()),
            ),
        )],
    };
    let labels = custom_labels(&ci.runner);
    if ci.provider == CiProvider::Github && !labels.is_empty() {
        files.push(actionlint_config(&sources, &labels));
    }
    let context = json!({
        "provider": ci.provider.title(),
        "gitlab": ci.provider == CiProvider::Gitlab,
        "files": files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        "image": ci.image,
        "url": repo.map(|r| r.url.clone()),
        "root": root,
        "sources": sources,
    });
    let from = Provenance::new(ID).from_envs([env.name.as_str()]);
    for (path, bytes) in files {
        out.add(layout::join(layout::CONFIG_PIPELINE, &path), bytes, &from);
    }
    match cx.templates.render(
        "pipelines/config-README.md.j2",
        &context,
        &cx.project.sources,
    ) {
        Ok(text) => out.add(
            layout::join(layout::CONFIG_PIPELINE, "README.md"),
            text.into_bytes(),
            &from,
        ),
        Err(d) => diags.push(*d),
    }
}
