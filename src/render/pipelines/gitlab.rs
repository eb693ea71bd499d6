//! GitLab CI: `.gitlab-ci.yml` with the stages validate, test, build, deploy, verify;
//! per environment a build (or promote) job on its branch, then deploy and verify jobs
//! bound to the GitLab environment, whose scoped variables hold the cluster
//! credentials.

use super::plan::{AppPlan, EnvPlan, runner_arch};
use super::shell::{self, GITLAB};
use super::{BINFMT_IMAGE, CURL_IMAGE, DIND_IMAGE, DOCKER_IMAGE, Ordered, deploy_script, origin};
use crate::model::{Runner, TestStage};
use crate::render::templates::shell_quote;
use serde::Serialize;
use std::collections::BTreeMap;

/// A whole `.gitlab-ci.yml`.
#[derive(Serialize)]
pub(crate) struct GitlabCi {
    stages: Vec<&'static str>,
    workflow: Workflow,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<Defaults>,
    #[serde(flatten)]
    jobs: Ordered<Job>,
}

#[derive(Serialize)]
struct Workflow {
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Defaults {
    tags: Vec<String>,
}

#[derive(Serialize, Default)]
struct Rule {
    #[serde(rename = "if")]
    condition: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
}

/// One job.
#[derive(Serialize, Default)]
pub(crate) struct Job {
    stage: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    services: Vec<Service>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    needs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_group: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    variables: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rules: Vec<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache: Option<Cache>,
    script: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifacts: Option<Artifacts>,
}

/// A job's `cache:`: its directories, under a key of the job's name and its lockfiles'
/// contents.
#[derive(Serialize)]
struct Cache {
    key: CacheKey,
    paths: Vec<String>,
}

#[derive(Serialize)]
struct CacheKey {
    files: Vec<String>,
    prefix: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Image {
    Name(String),
    /// An image whose entrypoint is cleared (the kiln image may start `kiln`).
    NoEntrypoint {
        name: String,
        entrypoint: [&'static str; 1],
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Service {
    Name(String),
    WithCommand { name: String, command: Vec<String> },
}

#[derive(Serialize)]
struct Environment {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
}

#[derive(Serialize, Default)]
pub(crate) struct Artifacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    reports: Option<Reports>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expose_as: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
}

#[derive(Serialize)]
struct Reports {
    dotenv: String,
}

/// The rule of a merge request pipeline.
const MERGE_REQUEST: &str = "$CI_PIPELINE_SOURCE == \"merge_request_event\"";

fn on_branch(branch: &str) -> String {
    format!("$CI_COMMIT_BRANCH == {}", quote(branch))
}

/// A string literal in a GitLab rule expression.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn job_name(kind: &str, env: &str) -> String {
    format!("{kind}:{env}")
}

/// The pipeline of one app.
pub(crate) fn pipeline(plan: &AppPlan<'_>) -> GitlabCi {
    let build = plan.build;
    let branches: Vec<String> = plan
        .envs
        .iter()
        .map(|e| on_branch(&e.build.branch))
        .collect();
    let mut jobs = Vec::new();
    for (name, test) in &build.tests {
        let cache = test
            .cache
            .as_ref()
            .map(crate::model::DependencyCache::plan)
            .unwrap_or_default();
        jobs.push((
            name.to_string(),
            Job {
                stage: match test.stage {
                    TestStage::Validate => "validate",
                    TestStage::Test => "test",
                },
                image: Some(Image::Name(test.image.clone())),
                // The package manager reads its cache directory from its variable;
                // GitLab keeps only paths inside the project directory.
                variables: cache
                    .variables
                    .iter()
                    .map(|(var, dir)| ((*var).to_owned(), format!("$CI_PROJECT_DIR/{dir}")))
                    .collect(),
                cache: test.cache.as_ref().map(|_| Cache {
                    key: CacheKey {
                        files: cache.lockfiles.clone(),
                        prefix: name.to_string(),
                    },
                    paths: cache.paths.iter().map(|p| format!("{p}/")).collect(),
                }),
                script: test.run.clone(),
                ..Default::default()
            },
        ));
    }
    for env in &plan.envs {
        jobs.extend(env_jobs(plan, env));
    }
    GitlabCi {
        stages: vec!["validate", "test", "build", "deploy", "verify"],
        workflow: Workflow {
            // Merge requests run only the checks: without any, there is no pipeline.
            // One from a deploying branch (develop into main) would run them twice:
            // that branch's own pipeline already does, and deploys.
            rules: (!build.tests.is_empty())
                .then(|| Rule {
                    condition: std::iter::once(MERGE_REQUEST.to_owned())
                        .chain(plan.envs.iter().map(|e| {
                            format!(
                                "$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME != {}",
                                quote(&e.build.branch)
                            )
                        }))
                        .collect::<Vec<_>>()
                        .join(" && "),
                    changes: build.paths.clone(),
                    ..Default::default()
                })
                .into_iter()
                .chain([Rule {
                    condition: branches.join(" || "),
                    changes: build.paths.clone(),
                    ..Default::default()
                }])
                .collect(),
        },
        default: match &build.runner {
            Runner::Hosted => None,
            Runner::SelfHosted(s) => Some(Defaults {
                tags: s.self_hosted.clone(),
            }),
        },
        jobs: Ordered(jobs),
    }
}

fn env_jobs(plan: &AppPlan<'_>, env: &EnvPlan<'_>) -> Vec<(String, Job)> {
    let e = env.name();
    let rules = || {
        vec![Rule {
            condition: on_branch(&env.build.branch),
            ..Default::default()
        }]
    };
    let mut jobs = Vec::new();
    let image_var = BTreeMap::from([("IMAGE".to_owned(), env.image.clone())]);
    let source_job = match &env.build.promote_from {
        None => job_name("build", e),
        Some(_) => job_name("promote", e),
    };
    jobs.push((
        source_job.clone(),
        build_job(plan, env, rules(), image_var.clone()),
    ));
    let Some(deploy) = &env.deploy else {
        return jobs;
    };
    let repo = &deploy.repo;
    jobs.push((
        job_name("deploy", e),
        Job {
            stage: "deploy",
            image: Some(Image::NoEntrypoint {
                name: repo.image.clone(),
                entrypoint: [""],
            }),
            needs: vec![source_job],
            environment: Some(Environment {
                name: e.to_owned(),
                url: deploy.verify_url.as_ref().map(|u| origin(u)),
                action: None,
            }),
            resource_group: Some(format!("deploy-{}-{e}", plan.name)),
            variables: image_var,
            rules: rules(),
            script: deploy_script(
                plan,
                env,
                deploy,
                ("$GITLAB_USER_NAME", "$GITLAB_USER_EMAIL"),
                shell::Words::quoted,
            )
            .into_iter()
            .flat_map(|s| s.commands)
            .collect(),
            ..Default::default()
        },
    ));
    if let Some(url) = &deploy.verify_url {
        jobs.push((
            job_name("verify", e),
            Job {
                stage: "verify",
                image: Some(Image::NoEntrypoint {
                    name: CURL_IMAGE.to_owned(),
                    entrypoint: [""],
                }),
                needs: vec![job_name("deploy", e)],
                environment: Some(Environment {
                    name: e.to_owned(),
                    url: None,
                    action: Some("verify"),
                }),
                rules: rules(),
                script: vec![shell::verify_command(url, &mut shell::Words::quoted())],
                ..Default::default()
            },
        ));
    }
    jobs
}

/// Builds and pushes the environment's image (or tags the image its source
/// environment built from this commit), and hands the tag to later jobs as `TAG`.
fn build_job(
    plan: &AppPlan<'_>,
    env: &EnvPlan<'_>,
    rules: Vec<Rule>,
    mut variables: BTreeMap<String, String>,
) -> Job {
    let c = &env.credentials;
    let mut script = vec![
        shell::tag_command(&env.tag_parts, GITLAB),
        "echo \"TAG=$TAG\" > build.env".to_owned(),
        shell::docker_login(&env.registry, &c.username, &c.password),
    ];
    let runner = runner_arch(plan.build.runner.labels());
    let cross = env.platforms.iter().any(|p| *p != runner);
    let container_builder = cross || env.platforms.len() > 1;
    match &env.build.promote_from {
        Some(from) => script.push(format!(
            "docker buildx imagetools create --tag \"$IMAGE:$TAG\" \"$IMAGE:{}\"",
            shell::commit_alias(from.as_str(), GITLAB)
        )),
        None => {
            if cross {
                let arches: Vec<&str> = env
                    .platforms
                    .iter()
                    .filter(|p| **p != runner)
                    .map(|p| p.platform().trim_start_matches("linux/"))
                    .collect();
                script.push(format!(
                    "docker run --rm --privileged {BINFMT_IMAGE} --install {}",
                    arches.join(",")
                ));
            }
            if container_builder {
                let mut create = "docker buildx create --use --driver docker-container".to_owned();
                if env.insecure {
                    script.push(format!(
                        "printf '%s' {} > buildkitd.toml",
                        shell_quote(&shell::buildkitd_config(&[&env.registry]))
                    ));
                    create.push_str(" --buildkitd-config buildkitd.toml");
                }
                script.push(create);
            }
            let mut cmd = "docker buildx build".to_owned();
            let platforms: Vec<&str> = env.platforms.iter().map(|p| p.platform()).collect();
            cmd.push_str(&format!(" --platform {}", platforms.join(",")));
            cmd.push_str(&format!(
                " --file {}",
                shell_quote(&env.build.dockerfile_path())
            ));
            for (k, v) in &env.build.args {
                cmd.push_str(&format!(
                    " --build-arg {}",
                    shell_quote(&format!("{k}={v}"))
                ));
            }
            for (id, var) in &env.build.secrets {
                cmd.push_str(&format!(
                    " --secret {}",
                    shell_quote(&format!("id={id},env={var}"))
                ));
            }
            cmd.push_str(" --tag \"$IMAGE:$TAG\"");
            if env.promoted {
                cmd.push_str(&format!(
                    " --tag \"$IMAGE:{}\"",
                    shell::commit_alias(env.name(), GITLAB)
                ));
            }
            cmd.push_str(&format!(" --push {}", shell_quote(&env.build.context)));
            script.push(cmd);
        }
    }
    variables.insert("DOCKER_TLS_CERTDIR".to_owned(), "/certs".to_owned());
    let service = if env.insecure {
        Service::WithCommand {
            name: DIND_IMAGE.to_owned(),
            command: vec![format!("--insecure-registry={}", env.registry)],
        }
    } else {
        Service::Name(DIND_IMAGE.to_owned())
    };
    Job {
        stage: "build",
        image: Some(Image::Name(DOCKER_IMAGE.to_owned())),
        services: vec![service],
        variables,
        rules,
        script,
        artifacts: Some(Artifacts {
            reports: Some(Reports {
                dotenv: "build.env".to_owned(),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The config repository's pipeline: `kiln check` on every pipeline, the rendered
/// diff on merge requests (printed, and kept as an artifact the merge request links).
pub(crate) fn config_pipeline(image: &str, runner: &Runner, root: Option<&str>) -> GitlabCi {
    let root_arg = root
        .map(|r| format!(" --root {}", shell_quote(r)))
        .unwrap_or_default();
    let kiln_image = || {
        Some(Image::NoEntrypoint {
            name: image.to_owned(),
            entrypoint: [""],
        })
    };
    let jobs = vec![
        (
            "kiln-check".to_owned(),
            Job {
                stage: "validate",
                image: kiln_image(),
                script: vec![format!("kiln check{root_arg}")],
                ..Default::default()
            },
        ),
        (
            "kiln-diff".to_owned(),
            Job {
                stage: "validate",
                image: kiln_image(),
                variables: BTreeMap::from([("GIT_DEPTH".to_owned(), "0".to_owned())]),
                rules: vec![Rule {
                    condition: MERGE_REQUEST.to_owned(),
                    ..Default::default()
                }],
                script: vec![
                    "git fetch --quiet origin \"+refs/heads/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME:refs/remotes/origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\"".to_owned(),
                    format!(
                        "status=0\nkiln diff --against \"origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\" --format markdown{root_arg} > kiln-diff.md || status=$?\ncat kiln-diff.md\n# kiln diff exits 1 when the output changes, 2 on errors.\nif [ \"$status\" -gt 1 ]; then exit \"$status\"; fi"
                    ),
                ],
                artifacts: Some(Artifacts {
                    paths: vec!["kiln-diff.md".to_owned()],
                    expose_as: Some("kiln diff".to_owned()),
                    when: Some("always"),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    ];
    GitlabCi {
        stages: vec!["validate"],
        workflow: Workflow {
            rules: vec![
                Rule {
                    condition: MERGE_REQUEST.to_owned(),
                    ..Default::default()
                },
                // A branch with an open merge request runs the merge request pipeline.
                Rule {
                    condition: "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS".to_owned(),
                    when: Some("never"),
                    ..Default::default()
                },
                Rule {
                    condition: "$CI_COMMIT_BRANCH".to_owned(),
                    ..Default::default()
                },
            ],
        },
        default: runner.labels().map(|l| Defaults { tags: l.to_vec() }),
        jobs: Ordered(jobs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_rule_literals() {
        assert_eq!(origin("https://a.example/api/health"), "https://a.example");
        assert_eq!(origin("https://a.example"), "https://a.example");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
