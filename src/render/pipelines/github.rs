//! GitHub Actions: one workflow per app. Tests run on pushes to the branches that
//! build and on pull requests; per environment a build (or promote) job runs on its
//! branch, then, for push deploys, a deploy job bound to the GitHub environment (whose
//! secrets and variables hold the cluster credentials) and a verify job.
//!
//! GitHub evaluates `${{ }}` in most fields, `run:` included, before anything else
//! reads them. So this file is the one place GitHub expressions are written: kiln's own
//! (`secret`, `literal`, the `${{ steps... }}` it needs), model values in a field as
//! [`text`] (any `${{` in them escaped), and model values in a `run:` only through
//! the step's `env:` ([`shell::Words::env`]), never in the script itself.

use super::plan::{AppPlan, EnvPlan, runner_arch};
use super::shell::{self, GITHUB};
use super::{
    ACTIONS, Action, BUILD_PUSH_ACTION, BUILDX_ACTION, CACHE_ACTION, CHECKOUT_ACTION,
    GITHUB_HOSTED_RUNNER, LOGIN_ACTION, Ordered, QEMU_ACTION, deploy_script, origin,
};
use crate::model::Runner;
use crate::render::yaml;
use serde::Serialize;
use std::collections::BTreeMap;

/// A workflow file.
#[derive(Serialize)]
pub(crate) struct Workflow {
    name: String,
    on: On,
    permissions: BTreeMap<&'static str, &'static str>,
    concurrency: Concurrency,
    jobs: Ordered<Job>,
}

#[derive(Serialize)]
struct On {
    push: Trigger,
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_request: Option<Trigger>,
}

#[derive(Serialize, Default)]
struct Trigger {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    branches: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    #[serde(rename = "paths-ignore", skip_serializing_if = "Vec::is_empty")]
    paths_ignore: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Concurrency {
    group: String,
    cancel_in_progress: bool,
}

/// One job.
#[derive(Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Job {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    needs: Vec<String>,
    runs_on: RunsOn,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<Concurrency>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    outputs: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    defaults: Option<Defaults>,
    steps: Vec<Step>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RunsOn {
    Label(String),
    Labels(Vec<String>),
}

impl Default for RunsOn {
    fn default() -> Self {
        RunsOn::Label(GITHUB_HOSTED_RUNNER.to_owned())
    }
}

#[derive(Serialize)]
struct Environment {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Defaults {
    run: RunDefaults,
}

#[derive(Serialize)]
struct RunDefaults {
    shell: &'static str,
}

/// One step.
#[derive(Serialize, Default)]
pub(crate) struct Step {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uses: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    with: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<String>,
}

fn run(name: &str, script: String) -> Step {
    Step {
        name: Some(text(name)),
        run: Some(script),
        ..Default::default()
    }
}

/// A `run:` step whose commands name model values as the variables in `env`.
fn run_with(name: &str, script: String, env: BTreeMap<String, String>) -> Step {
    Step {
        env: env.into_iter().map(|(k, v)| (k, text(&v))).collect(),
        ..run(name, script)
    }
}

fn uses(action: Action) -> Step {
    let mut with = BTreeMap::new();
    if action == CHECKOUT_ACTION {
        // Nothing after the checkout pushes with its token (a deploy pushes with its own
        // token, to its own clone), so the token is not left in .git/config for later
        // steps or artifacts to read.
        with.insert("persist-credentials", "false".to_owned());
    }
    Step {
        uses: Some(action.reference()),
        with,
        ..Default::default()
    }
}

/// A workflow file: the YAML of `workflow`, each pinned `uses:` followed by the
/// release its commit is (`# v6.1.0`), as Renovate's github-actions manager reads it.
/// An action the model pins (`actions:`) is written with the model's commit and release
/// instead of kiln's.
pub(crate) fn file(
    sources: &[String],
    workflow: &Workflow,
    pins: &BTreeMap<String, crate::model::ActionPin>,
) -> Vec<u8> {
    let mut text = String::from_utf8(yaml::file(sources, workflow)).expect("YAML is UTF-8");
    for action in ACTIONS {
        let line = format!("uses: {}\n", action.reference());
        let (commit, version) = pins
            .get(action.name)
            .map_or((action.commit, action.version), |p| {
                (p.commit.as_str(), p.version.as_str())
            });
        text = text.replace(
            &line,
            &format!("uses: {}@{commit} # {version}\n", action.name),
        );
    }
    text.into_bytes()
}

fn runs_on(runner: &Runner) -> RunsOn {
    match runner {
        Runner::Hosted => RunsOn::default(),
        Runner::SelfHosted(s) => RunsOn::Labels(
            std::iter::once("self-hosted".to_owned())
                .chain(s.self_hosted.iter().map(|l| text(l)))
                .collect(),
        ),
    }
}

/// A check's dependency cache: the package manager pointed at its directory in the
/// workspace (`$GITHUB_WORKSPACE` is the container's path in a container job, which
/// `${{ github.workspace }}` is not), then `actions/cache` restoring it (and saving it
/// when the job ends) under the job's name and the lockfiles' hash, falling back to
/// the job's newest cache when the lockfiles changed.
fn cache_steps(job: &str, cache: &crate::model::CachePlan) -> Vec<Step> {
    let mut steps = Vec::new();
    if !cache.variables.is_empty() {
        let script = cache
            .variables
            .iter()
            .map(|(var, dir)| format!("echo \"{var}=$GITHUB_WORKSPACE/{dir}\" >> \"$GITHUB_ENV\""))
            .collect::<Vec<_>>()
            .join("\n");
        steps.push(run("Point the package manager at the cache", script));
    }
    let files = cache
        .lockfiles
        .iter()
        .map(|f| literal(f))
        .collect::<Vec<_>>()
        .join(", ");
    let prefix = format!("${{{{ runner.os }}}}-{job}-");
    let mut step = uses(CACHE_ACTION);
    step.name = Some("Restore the dependency cache".to_owned());
    step.with.insert("path", cache.paths.join("\n"));
    step.with
        .insert("key", format!("{prefix}${{{{ hashFiles({files}) }}}}"));
    step.with.insert("restore-keys", prefix);
    steps.push(step);
    steps
}

/// `${{ secrets.NAME }}`.
fn secret(name: &str) -> String {
    format!("${{{{ secrets.{name} }}}}")
}

/// A string literal in an expression.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A model value in a field GitHub evaluates: read as text, whatever it holds (each
/// `${{` becomes an expression that yields `${{`).
fn text(s: &str) -> String {
    s.replace("${{", "${{ '${{' }}")
}

fn sh() -> Option<Defaults> {
    Some(Defaults {
        run: RunDefaults { shell: "sh" },
    })
}

/// The workflow of one app.
pub(crate) fn workflow(plan: &AppPlan<'_>) -> Workflow {
    let build = plan.build;
    let mut jobs = Vec::new();
    for (name, test) in &build.tests {
        let mut steps = vec![uses(CHECKOUT_ACTION)];
        if let Some(cache) = &test.cache {
            steps.extend(cache_steps(name.as_str(), &cache.plan()));
        }
        steps.extend(test.run.iter().map(|cmd| Step {
            run: Some(cmd.clone()),
            ..Default::default()
        }));
        jobs.push((
            name.to_string(),
            Job {
                runs_on: runs_on(&build.runner),
                container: Some(text(&test.image)),
                defaults: sh(),
                steps,
                ..Default::default()
            },
        ));
    }
    let tests: Vec<String> = build.tests.keys().map(ToString::to_string).collect();
    for env in &plan.envs {
        jobs.extend(env_jobs(plan, env, &tests));
    }
    let trigger = |branches: Vec<String>| Trigger {
        branches,
        paths: build.paths.clone(),
        paths_ignore: build.paths_ignore.clone(),
    };
    Workflow {
        name: plan.name.to_string(),
        on: On {
            push: trigger(plan.envs.iter().map(|e| e.build.branch.clone()).collect()),
            pull_request: (!build.tests.is_empty()).then(|| trigger(Vec::new())),
        },
        permissions: BTreeMap::from([("contents", "read")]),
        concurrency: Concurrency {
            group: "${{ github.workflow }}-${{ github.ref }}".to_owned(),
            cancel_in_progress: false,
        },
        jobs: Ordered(jobs),
    }
}

fn env_jobs(plan: &AppPlan<'_>, env: &EnvPlan<'_>, tests: &[String]) -> Vec<(String, Job)> {
    let e = env.name();
    let condition = format!(
        "github.event_name == 'push' && github.ref == {}",
        literal(&format!("refs/heads/{}", env.build.branch))
    );
    let source = match &env.build.promote_from {
        None => format!("build-{e}"),
        Some(_) => format!("promote-{e}"),
    };
    let image_env = BTreeMap::from([("IMAGE".to_owned(), text(&env.image))]);
    let mut jobs = vec![(
        source.clone(),
        Job {
            condition: Some(condition.clone()),
            needs: tests.to_vec(),
            runs_on: runs_on(&plan.build.runner),
            outputs: BTreeMap::from([(
                "tag".to_owned(),
                "${{ steps.tag.outputs.tag }}".to_owned(),
            )]),
            env: image_env.clone(),
            steps: build_steps(plan, env),
            ..Default::default()
        },
    )];
    let Some(deploy) = &env.deploy else {
        return jobs;
    };
    let mut job_env = image_env;
    job_env.insert(
        "TAG".to_owned(),
        format!("${{{{ needs.{source}.outputs.tag }}}}"),
    );
    job_env.insert(
        "KUBE_API_URL".to_owned(),
        "${{ vars.KUBE_API_URL }}".to_owned(),
    );
    job_env.insert(
        "KUBE_CA_CERT".to_owned(),
        "${{ vars.KUBE_CA_CERT }}".to_owned(),
    );
    job_env.insert("KUBE_TOKEN".to_owned(), secret("KUBE_TOKEN"));
    job_env.insert(deploy.repo.token.clone(), secret(&deploy.repo.token));
    let steps = deploy_script(
        plan,
        env,
        deploy,
        (
            "github-actions[bot]",
            "41898282+github-actions[bot]@users.noreply.github.com",
        ),
        shell::Words::env,
    )
    .into_iter()
    .map(|s| run_with(&s.title, s.commands.join("\n"), s.env))
    .collect();
    jobs.push((
        format!("deploy-{e}"),
        Job {
            condition: Some(condition.clone()),
            needs: vec![source],
            runs_on: runs_on(&plan.build.runner),
            container: Some(text(&deploy.repo.image)),
            environment: Some(Environment {
                name: e.to_owned(),
                url: deploy.verify_url.as_deref().map(|u| text(&origin(u))),
            }),
            concurrency: Some(Concurrency {
                group: format!("deploy-{}-{e}", plan.name),
                cancel_in_progress: false,
            }),
            env: job_env,
            defaults: sh(),
            steps,
            ..Default::default()
        },
    ));
    if let Some(url) = &deploy.verify_url {
        jobs.push((
            format!("verify-{e}"),
            Job {
                condition: Some(condition),
                needs: vec![format!("deploy-{e}")],
                runs_on: runs_on(&plan.build.runner),
                steps: vec![{
                    let mut w = shell::Words::env();
                    let command = shell::verify_command(url, &mut w);
                    run_with(&format!("Check {url}"), command, w.into_env())
                }],
                ..Default::default()
            },
        ));
    }
    jobs
}

fn build_steps(plan: &AppPlan<'_>, env: &EnvPlan<'_>) -> Vec<Step> {
    let c = &env.credentials;
    let mut steps = Vec::new();
    if env.build.promote_from.is_none() {
        steps.push(uses(CHECKOUT_ACTION));
    }
    steps.push(Step {
        name: Some(text(&format!("Tag ({})", env.tag_format))),
        id: Some("tag".to_owned()),
        run: Some(format!(
            "{}\necho \"tag=$TAG\" >> \"$GITHUB_OUTPUT\"",
            shell::tag_command(&env.tag_parts, GITHUB)
        )),
        ..Default::default()
    });
    let runner = runner_arch(plan.build.runner.labels());
    let cross: Vec<&str> = env
        .platforms
        .iter()
        .filter(|p| **p != runner)
        .map(|p| p.platform())
        .collect();
    if !cross.is_empty() && env.build.promote_from.is_none() {
        let mut qemu = uses(QEMU_ACTION);
        qemu.with.insert("platforms", cross.join(","));
        steps.push(qemu);
    }
    let mut buildx = uses(BUILDX_ACTION);
    if env.insecure {
        buildx.with.insert(
            "buildkitd-config-inline",
            text(&shell::buildkitd_config(&[&env.registry])),
        );
    }
    steps.push(buildx);
    let mut login = uses(LOGIN_ACTION);
    login.with.insert("registry", text(&env.registry));
    login.with.insert("username", secret(&c.username));
    login.with.insert("password", secret(&c.password));
    steps.push(login);
    match &env.build.promote_from {
        Some(from) => steps.push(run(
            &format!("Promote the image {from} built from this commit"),
            format!(
                "docker buildx imagetools create --tag \"$IMAGE:$TAG\" \"$IMAGE:{}\"",
                shell::commit_alias(from.as_str(), GITHUB)
            ),
        )),
        None => {
            let mut push = uses(BUILD_PUSH_ACTION);
            let w = &mut push.with;
            w.insert("context", text(&env.build.context));
            w.insert("file", text(&env.build.dockerfile_path()));
            let platforms: Vec<&str> = env.platforms.iter().map(|p| p.platform()).collect();
            w.insert("platforms", platforms.join(","));
            w.insert("push", "true".to_owned());
            let mut tags = vec!["${{ env.IMAGE }}:${{ steps.tag.outputs.tag }}".to_owned()];
            if env.promoted {
                tags.push(format!(
                    "${{{{ env.IMAGE }}}}:{}-git-${{{{ github.sha }}}}",
                    env.name()
                ));
            }
            w.insert("tags", lines(tags));
            if !env.build.args.is_empty() {
                w.insert(
                    "build-args",
                    lines(
                        env.build
                            .args
                            .iter()
                            .map(|(k, v)| text(&format!("{k}={v}"))),
                    ),
                );
            }
            if !env.build.secrets.is_empty() {
                w.insert(
                    "secrets",
                    lines(
                        env.build
                            .secrets
                            .iter()
                            .map(|(id, var)| format!("{id}={}", secret(var))),
                    ),
                );
            }
            steps.push(push);
        }
    }
    steps
}

fn lines(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().map(|l| l + "\n").collect()
}

/// The config repository's workflow: `kiln check` on every push and pull request,
/// and on pull requests the rendered diff in the job summary.
pub(crate) fn config_workflow(image: &str, runner: &Runner, root: Option<&str>) -> Workflow {
    let mut w = shell::Words::env();
    let root_arg = root
        .map(|r| format!(" --root {}", w.word("KILN_ROOT", r)))
        .unwrap_or_default();
    let root_env = w.into_env();
    let job = |steps: Vec<Step>, condition: Option<&str>| Job {
        condition: condition.map(str::to_owned),
        runs_on: runs_on(runner),
        container: Some(text(image)),
        defaults: sh(),
        steps,
        ..Default::default()
    };
    let mut full_checkout = uses(CHECKOUT_ACTION);
    full_checkout.with.insert("fetch-depth", "0".to_owned());
    let mut diff = run_with(
        "kiln diff",
        format!(
            "status=0\nkiln diff --against \"origin/$BASE\" --format markdown{root_arg} > kiln-diff.md || status=$?\ncat kiln-diff.md >> \"$GITHUB_STEP_SUMMARY\"\n# kiln diff exits 1 when the output changes, 2 on errors.\nif [ \"$status\" -gt 1 ]; then exit \"$status\"; fi"
        ),
        root_env.clone(),
    );
    diff.env
        .insert("BASE".to_owned(), "${{ github.base_ref }}".to_owned());
    Workflow {
        name: "kiln".to_owned(),
        on: On {
            push: Trigger {
                branches: vec!["**".to_owned()],
                ..Default::default()
            },
            pull_request: Some(Trigger::default()),
        },
        permissions: BTreeMap::from([("contents", "read")]),
        concurrency: Concurrency {
            group: "${{ github.workflow }}-${{ github.ref }}".to_owned(),
            cancel_in_progress: true,
        },
        jobs: Ordered(vec![
            (
                "check".to_owned(),
                job(
                    vec![
                        uses(CHECKOUT_ACTION),
                        run_with("kiln check", format!("kiln check{root_arg}"), root_env),
                    ],
                    None,
                ),
            ),
            (
                "diff".to_owned(),
                job(
                    vec![full_checkout, diff],
                    Some("github.event_name == 'pull_request'"),
                ),
            ),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_literals_double_single_quotes() {
        assert_eq!(literal("refs/heads/it's"), "'refs/heads/it''s'");
        assert_eq!(secret("X"), "${{ secrets.X }}");
    }

    #[test]
    fn model_text_keeps_expressions_as_text() {
        assert_eq!(text("node:22"), "node:22");
        assert_eq!(
            text("a${{ github.token }}"),
            "a${{ '${{' }} github.token }}"
        );
    }
}
