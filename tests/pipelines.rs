//! Pipelines agree with the rest of the output by construction; these tests check it
//! on every generated pipeline (the committed `out/` and every golden `expected/out/`):
//!
//! - tags: each build job's tag command, run with fixed commits and times (and a
//!   stand-in `date` and `docker`), produces tags the app's ImagePolicy pattern
//!   matches, which sort in build order;
//! - least privilege: every `kubectl` command of every deploy job needs only what the
//!   Role `kubectl kustomize` gives for that environment, and the Role grants nothing
//!   those commands do not need. The kubectl → permission table below is this test's
//!   own (from kubectl's behaviour), not kiln's `DeployStep::permissions`.

use crate::support::{repo, snapshot};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A project with generated output: its root (with `environments/`) and `out/`.
struct Project {
    name: String,
    root: PathBuf,
    out: PathBuf,
}

fn projects() -> Vec<Project> {
    let mut all = vec![Project {
        name: "out/".into(),
        root: repo(),
        out: repo().join("out"),
    }];
    for entry in std::fs::read_dir(repo().join("tests/golden"))
        .unwrap()
        .flatten()
    {
        let out = entry.path().join("expected/out");
        if out.join("pipelines").is_dir() {
            all.push(Project {
                name: entry.file_name().to_string_lossy().into_owned(),
                root: entry.path(),
                out,
            });
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

fn yaml(bytes: &[u8]) -> Value {
    serde_saphyr::from_str(std::str::from_utf8(bytes).unwrap()).unwrap()
}

/// A build (or promote) job: which app and environment, and how to run its tag step.
struct TagJob {
    app: String,
    env: String,
    image: String,
    kind: TagRunner,
}

enum TagRunner {
    /// The `run` of the step with `id: tag`, and the `tags` input of the build step.
    Github {
        script: String,
        tags: Option<String>,
    },
    /// The whole job script.
    Gitlab { script: String },
}

/// A job kiln names after an environment (`build-prod`, `deploy:dev`, ...) in a
/// generated app pipeline.
struct CiJob {
    app: String,
    kind: String,
    env: String,
    job: Value,
    github: bool,
}

fn ci_jobs(out: &BTreeMap<String, Vec<u8>>) -> Vec<CiJob> {
    let mut found = Vec::new();
    for (path, bytes) in out {
        let Some(app) = path
            .strip_prefix("pipelines/")
            .and_then(|r| r.split('/').next())
            .filter(|a| *a != "config")
        else {
            continue;
        };
        let github = path.contains("/.github/workflows/");
        let jobs = match (github, path.ends_with("/.gitlab-ci.yml")) {
            (true, _) => yaml(bytes)["jobs"].clone(),
            (_, true) => yaml(bytes),
            _ => continue,
        };
        for (name, job) in jobs.as_object().unwrap() {
            let split = if github { '-' } else { ':' };
            let Some((kind, env)) = name.split_once(split) else {
                continue;
            };
            if ["build", "promote", "deploy", "verify"].contains(&kind) {
                found.push(CiJob {
                    app: app.to_owned(),
                    kind: kind.to_owned(),
                    env: env.to_owned(),
                    job: job.clone(),
                    github,
                });
            }
        }
    }
    found
}

/// The job's shell: GitHub steps' `run`s (with the values their `env:` binds put in
/// for the `"$VAR"`s that name them, as the shell sees them), or GitLab's `script`.
fn script(job: &CiJob) -> String {
    let lines: Vec<String> = if job.github {
        job.job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| {
                let mut run = s["run"].as_str()?.to_owned();
                for (var, value) in s["env"].as_object().into_iter().flatten() {
                    let quoted = shlex::try_quote(value.as_str().unwrap()).unwrap();
                    run = run.replace(&format!("\"${var}\""), &quoted);
                }
                Some(run)
            })
            .collect()
    } else {
        job.job["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect()
    };
    lines.join("\n")
}

fn tag_jobs(out: &BTreeMap<String, Vec<u8>>) -> Vec<TagJob> {
    let mut jobs = Vec::new();
    for job in ci_jobs(out) {
        if job.kind != "build" && job.kind != "promote" {
            continue;
        }
        let kind = if job.github {
            let steps = job.job["steps"].as_array().unwrap();
            TagRunner::Github {
                script: steps
                    .iter()
                    .find(|s| s["id"] == "tag")
                    .and_then(|s| s["run"].as_str())
                    .expect("a build job has a tag step")
                    .to_owned(),
                tags: steps
                    .iter()
                    .find_map(|s| s["with"]["tags"].as_str())
                    .map(str::to_owned),
            }
        } else {
            TagRunner::Gitlab {
                script: script(&job),
            }
        };
        let image = if job.github {
            &job.job["env"]["IMAGE"]
        } else {
            &job.job["variables"]["IMAGE"]
        };
        jobs.push(TagJob {
            image: image.as_str().unwrap().to_owned(),
            app: job.app,
            env: job.env,
            kind,
        });
    }
    jobs
}

/// A directory with stand-ins for `date` (prints `$FAKE_DATE`) and `docker` (appends
/// its arguments to `$DOCKER_LOG`).
fn stand_ins() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).unwrap();
    };
    write(
        "date",
        "#!/bin/sh\n[ \"$*\" = \"-u +%Y%m%d%H%M%S\" ] || { echo \"unexpected date $*\" >&2; exit 9; }\nprintf '%s\\n' \"$FAKE_DATE\"\n",
    );
    write(
        "docker",
        "#!/bin/sh\ncat > /dev/null 2>&1 <&0 || true\nprintf '%s\\n' \"$*\" >> \"$DOCKER_LOG\"\n",
    );
    dir
}

/// Runs a job's tag step for one commit at one time; returns the tag and the image
/// reference the job pushes.
fn run_tag_job(job: &TagJob, bin: &Path, sha: &str, run: u32, time: &str) -> (String, String) {
    let work = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let docker_log = work.path().join("docker.log");
    let output = work.path().join("github_output");
    let script = match &job.kind {
        TagRunner::Github { script, .. } => script,
        TagRunner::Gitlab { script } => script,
    };
    let status = Command::new("sh")
        .arg("-e")
        .arg("-c")
        .arg(script)
        .current_dir(work.path())
        .env("PATH", path)
        .env("FAKE_DATE", time)
        .env("DOCKER_LOG", &docker_log)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_SHA", sha)
        .env("GITHUB_RUN_NUMBER", run.to_string())
        .env("CI_COMMIT_SHA", sha)
        .env("CI_PIPELINE_IID", run.to_string())
        .env("IMAGE", &job.image)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}/{}: the tag step failed: {}",
        job.app,
        job.env,
        String::from_utf8_lossy(&status.stderr)
    );
    match &job.kind {
        TagRunner::Github { tags, .. } => {
            let text = std::fs::read_to_string(&output).unwrap();
            let tag = text
                .lines()
                .find_map(|l| l.strip_prefix("tag="))
                .unwrap()
                .to_owned();
            // The first `tags:` line of the build step, with the expressions evaluated.
            let pushed = tags.as_deref().map_or_else(
                || format!("{}:{tag}", job.image),
                |t| {
                    t.lines()
                        .next()
                        .unwrap()
                        .replace("${{ env.IMAGE }}", &job.image)
                        .replace("${{ steps.tag.outputs.tag }}", &tag)
                },
            );
            (tag, pushed)
        }
        TagRunner::Gitlab { .. } => {
            let env = std::fs::read_to_string(work.path().join("build.env")).unwrap();
            let tag = env.trim().strip_prefix("TAG=").unwrap().to_owned();
            let log = std::fs::read_to_string(&docker_log).unwrap();
            let push = log
                .lines()
                .find(|l| {
                    l.starts_with("buildx build") || l.starts_with("buildx imagetools create")
                })
                .unwrap_or_else(|| {
                    panic!("{}/{}: no build or promotion in {log}", job.app, job.env)
                });
            let words: Vec<&str> = push.split_whitespace().collect();
            let pushed = words
                .windows(2)
                .find(|w| w[0] == "--tag")
                .map(|w| w[1].to_owned())
                .unwrap();
            if push.starts_with("buildx build") {
                assert!(words.contains(&"--push"), "{push}");
            }
            (tag, pushed)
        }
    }
}

/// The ImagePolicy `filterTags` of an app in an environment: the one the flux target
/// wrote, or, for apps not automated by Flux, the one it would derive.
fn policy_for(
    out: &BTreeMap<String, Vec<u8>>,
    models: &BTreeMap<(String, String), String>,
    app: &str,
    env: &str,
) -> (String, String) {
    let name = format!("{app}-{env}");
    for (path, bytes) in out {
        if path.starts_with("flux/") && path.ends_with(&format!("/imagepolicy-{name}.yaml")) {
            let doc = yaml(bytes);
            let f = &doc["spec"]["filterTags"];
            return (
                f["pattern"].as_str().unwrap().to_owned(),
                f["extract"].as_str().unwrap().to_owned(),
            );
        }
    }
    let format = &models[&(app.to_owned(), env.to_owned())];
    let p = kiln::model::tag_format::tag_policy(format).unwrap();
    (p.pattern, p.extract)
}

/// Every (app, environment) → tag format of a project's model.
fn tag_formats(root: &Path) -> BTreeMap<(String, String), String> {
    let (project, diags) = kiln::model::load(root);
    assert!(!diags.has_errors(), "{}", root.display());
    let mut formats = BTreeMap::new();
    for env in &project.environments {
        for (name, app) in &env.model.apps {
            if let Some(f) = app.image.as_ref().and_then(|i| i.tag_format.as_ref()) {
                formats.insert((name.to_string(), env.name.to_string()), f.clone());
            }
        }
    }
    formats
}

#[test]
fn pipeline_tags_match_the_image_policy_and_sort_in_build_order() {
    let bin = stand_ins();
    let mut checked = 0;
    for project in projects() {
        let out = snapshot(&project.out);
        let formats = tag_formats(&project.root);
        for job in tag_jobs(&out) {
            let (pattern, extract) = policy_for(&out, &formats, &job.app, &job.env);
            let re = regex::Regex::new(&pattern).unwrap();
            let key = extract.trim_start_matches('$');
            // Three builds in order: later times, later runs, unrelated commits.
            let builds = [
                (
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
                    7,
                    "20261231235959",
                ),
                (
                    "3f9c2a1d4e5f60718293a4b5c6d7e8f901234567",
                    8,
                    "20270101000000",
                ),
                (
                    "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                    10,
                    "20270101000001",
                ),
            ];
            let mut order = Vec::new();
            for (sha, run, time) in builds {
                let (tag, pushed) = run_tag_job(&job, bin.path(), sha, run, time);
                let what = format!("{}: {}/{}", project.name, job.app, job.env);
                assert!(
                    re.is_match(&tag),
                    "{what}: tag `{tag}` does not match the ImagePolicy pattern `{pattern}`"
                );
                assert_eq!(pushed, format!("{}:{tag}", job.image), "{what}");
                assert!(
                    tag.contains(&sha[..7]) || !pattern.contains("[a-f0-9]"),
                    "{what}: {tag}"
                );
                let n: u64 = re.captures(&tag).unwrap()[key].parse().unwrap();
                order.push(n);
            }
            assert!(
                order.windows(2).all(|w| w[0] < w[1]),
                "{}: {}/{} tags do not sort in build order: {order:?}",
                project.name,
                job.app,
                job.env
            );
            checked += 1;
        }
    }
    // The reference: invoicetron dev and prod (GitLab), frontend and backend (GitHub);
    // the golden cases add {run} formats and a promotion.
    assert!(checked >= 8, "only {checked} build jobs found");
}

/// (API group, resource, verb).
type Permission = (String, String, String);

fn resource(word: &str) -> (&'static str, &'static str) {
    let kind = word.split('/').next().unwrap();
    match kind {
        "job" | "jobs" | "Job" => ("batch", "jobs"),
        "deployment" | "deployments" | "Deployment" => ("apps", "deployments"),
        "statefulset" | "statefulsets" | "sts" => ("apps", "statefulsets"),
        "daemonset" | "daemonsets" | "ds" => ("apps", "daemonsets"),
        "replicaset" | "replicasets" | "rs" => ("apps", "replicasets"),
        "pod" | "pods" | "po" => ("", "pods"),
        other => panic!("the test does not know the resource type `{other}`"),
    }
}

fn perms(group: &str, resource: &str, verbs: &[&str]) -> Vec<Permission> {
    verbs
        .iter()
        .map(|v| (group.to_owned(), resource.to_owned(), (*v).to_owned()))
        .collect()
}

/// What one `kubectl` command needs from the API server. `kinds` maps files the job
/// wrote (`> FILE`) or reads to the kind of object in them.
fn kubectl_needs(args: &[String], kinds: &mut BTreeMap<String, String>) -> Vec<Permission> {
    let word = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let positional: Vec<&str> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.contains('/'))
        .map(String::as_str)
        .collect();
    match (word(0), word(1)) {
        // Local: writes the kubeconfig.
        ("config", _) => Vec::new(),
        ("set", "image") if args.iter().any(|a| a == "--local") => {
            // Works on a file and prints it: the output file holds the same kind.
            if let (Some(from), Some(to)) = (flag("-f"), flag(">")) {
                let kind = kinds.get(&from).cloned().unwrap_or_default();
                kinds.insert(to, kind);
            }
            Vec::new()
        }
        // Gets the object, then patches it.
        ("set", "image") => {
            let (g, r) = resource(word(2));
            perms(g, r, &["get", "patch"])
        }
        ("create", _) => {
            let file = flag("-f").expect("create -f FILE");
            let kind = kinds
                .get(&file)
                .unwrap_or_else(|| panic!("the test cannot tell what {file} holds"));
            let (g, r) = resource(kind);
            perms(g, r, &["create"])
        }
        ("delete", _) => {
            let (g, r) = resource(positional[0]);
            let mut p = perms(g, r, &["delete"]);
            // --wait (the default) watches until the object is gone.
            if !args.iter().any(|a| a == "--wait=false") {
                p.extend(perms(g, r, &["get", "list", "watch"]));
            }
            p
        }
        ("wait", _) => {
            let (g, r) = resource(positional[0]);
            perms(g, r, &["get", "list", "watch"])
        }
        // Gets the Job for its selector, lists its pods (watching while there are
        // none), then reads each container's log.
        ("logs", _) => {
            let (g, r) = resource(word(1));
            let mut p = perms(g, r, &["get"]);
            p.extend(perms("", "pods", &["list", "watch"]));
            p.extend(perms("", "pods/log", &["get"]));
            p
        }
        // Gets the Deployment, then lists and watches it (a field-selected watch).
        ("rollout", "status") => {
            let (g, r) = resource(word(2));
            perms(g, r, &["get", "list", "watch"])
        }
        ("get", types) if args.iter().any(|a| a.starts_with("--selector")) => types
            .split(',')
            .flat_map(|t| {
                let (g, r) = resource(t);
                perms(g, r, &["list"])
            })
            .collect(),
        other => panic!("the test does not know what `kubectl {other:?}` needs: {args:?}"),
    }
}

/// The `kubectl` commands of a shell script, in order, as argument lists (with `>`
/// and its target kept).
fn kubectl_commands(script: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut text = script.to_owned();
    for sep in ["&&", "||", ";", "|"] {
        text = text.replace(sep, "\n");
    }
    for line in text.lines() {
        let mut line = line.trim();
        for keyword in ["if ", "then ", "else ", "until ", "do ", "! "] {
            if let Some(rest) = line.strip_prefix(keyword) {
                line = rest.trim();
            }
        }
        if let Some(rest) = line.strip_prefix("kubectl ") {
            let mut words = shlex::split(rest).unwrap_or_else(|| panic!("cannot split: {rest}"));
            // `> FILE` becomes the pair (">", FILE).
            let mut i = 0;
            while i < words.len() {
                if let Some(file) = words[i].strip_prefix('>').filter(|f| !f.is_empty()) {
                    let file = file.to_owned();
                    words[i] = ">".into();
                    words.insert(i + 1, file);
                }
                i += 1;
            }
            commands.push(words);
        }
    }
    commands
}

/// Every deploy job's script: (app, environment, script).
fn deploy_jobs(out: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String, String)> {
    ci_jobs(out)
        .into_iter()
        .filter(|j| j.kind == "deploy")
        .map(|j| {
            let text = script(&j);
            (j.app, j.env, text)
        })
        .collect()
}

/// What a deploy job's commands need, following the files they read from `out/`.
fn required(script: &str, out: &BTreeMap<String, Vec<u8>>) -> BTreeSet<Permission> {
    let mut kinds = BTreeMap::new();
    for command in kubectl_commands(script) {
        // Files read from the cloned config repository: `.../out/<path in out/>`.
        for word in &command {
            if let Some((_, rel)) = word.split_once("/out/")
                && let Some(bytes) = out.get(rel)
            {
                let kind = yaml(bytes)["kind"].as_str().unwrap().to_owned();
                kinds.insert(word.clone(), kind);
            }
        }
    }
    let mut needed = BTreeSet::new();
    for command in kubectl_commands(script) {
        needed.extend(kubectl_needs(&command, &mut kinds));
    }
    needed
}

/// The Role in an environment's overlay, as `kubectl kustomize` renders it.
fn role(out_dir: &Path, app: &str, env: &str) -> BTreeSet<Permission> {
    let overlay = out_dir.join(format!("kubernetes/apps/{app}/overlays/{env}"));
    let run = Command::new("kubectl")
        .arg("kustomize")
        .arg(&overlay)
        .output()
        .expect("kubectl runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let roles: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Role").collect();
    assert_eq!(roles.len(), 1, "{}: one Role expected", overlay.display());
    let mut granted = BTreeSet::new();
    for rule in roles[0]["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    granted.insert((
                        group.as_str().unwrap().to_owned(),
                        resource.as_str().unwrap().to_owned(),
                        verb.as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    granted
}

#[test]
fn deploy_jobs_need_exactly_what_the_role_grants() {
    let mut checked = 0;
    for project in projects() {
        let out = snapshot(&project.out);
        for (app, env, script) in deploy_jobs(&out) {
            let what = format!("{}: {app}/{env}", project.name);
            let needed = required(&script, &out);
            assert!(!needed.is_empty(), "{what}: no kubectl command found");
            let granted = role(&project.out, &app, &env);
            let missing: Vec<_> = needed.difference(&granted).collect();
            assert!(missing.is_empty(), "{what}: the Role lacks {missing:?}");
            let unused: Vec<_> = granted.difference(&needed).collect();
            assert!(
                unused.is_empty(),
                "{what}: the Role grants {unused:?}, which no command uses"
            );
            // Taking any one verb away from the Role leaves a command without it.
            for permission in &granted {
                let mut fewer = granted.clone();
                fewer.remove(permission);
                assert!(
                    !needed.is_subset(&fewer),
                    "{what}: removing {permission:?} went unnoticed"
                );
            }
            checked += 1;
        }
    }
    // invoicetron dev and prod; the golden notes (staging, prod) and board.
    assert!(checked >= 5, "only {checked} deploy jobs found");
}

#[test]
fn kubectl_parsing_follows_redirects_and_compound_commands() {
    let script = "kubectl set image --local -f cfg/out/x.yaml migrate=\"$IMAGE:$TAG\" -o yaml > m.yaml\nkubectl create -f m.yaml\nif ! kubectl rollout status deployment/a --timeout=1s; then\n  kubectl get replicasets,pods --selector='a=b'\n  exit 1\nfi\nkubectl logs job/x || true";
    let commands = kubectl_commands(script);
    assert_eq!(commands.len(), 5, "{commands:?}");
    let mut kinds = BTreeMap::from([("cfg/out/x.yaml".to_owned(), "Job".to_owned())]);
    let mut needed = BTreeSet::new();
    for c in &commands {
        needed.extend(kubectl_needs(c, &mut kinds));
    }
    assert!(needed.contains(&("batch".into(), "jobs".into(), "create".into())));
    assert!(needed.contains(&("apps".into(), "replicasets".into(), "list".into())));
    assert!(needed.contains(&("".into(), "pods/log".into(), "get".into())));
    assert!(!needed.iter().any(|(_, _, v)| v == "update"));
}

/// The GitHub expression a pull request controls, planted in every model value that
/// reaches a workflow.
const PLANTED: &str = "${{github.event.pull_request.title}}";

/// A GitHub-built app deployed by its pipeline, with `PLANTED` in its values. The
/// model checks refuse most of these; the renderer must not rely on them.
fn hostile_model() -> String {
    format!(
        r#"repository:
  url: git@github.com:acme/config.git
  path: "infra{PLANTED}"
  ci: {{provider: github, image: "registry.example.com/kiln:1{PLANTED}"}}
environment:
  runsOn: arm
  domain: example.com
registries:
  ghcr:
    host: ghcr.io
    ciCredentials: {{username: GHCR_USER, password: GHCR_TOKEN}}
clusters:
  arm:
    ingress: {{kind: traefik}}
apps:
  notes:
    image: {{registry: ghcr, repository: acme/notes, tagFormat: "{{sha}}-{{timestamp}}"}}
    port: 8080
    health: {{path: "/healthz{PLANTED}"}}
    routes:
      web: {{host: notes.example.com}}
    migrations: {{command: [./notes, migrate]}}
    deploy: {{serviceAccount: notes-deploy}}
    build:
      repository: https://github.com/acme/notes
      ci: github
      branch: main
      context: "src{PLANTED}"
      args:
        PUBLIC_API: "https://api.example.com/{PLANTED}"
      runner: {{selfHosted: ["lan{PLANTED}"]}}
      tests:
        unit: {{image: "node:22{PLANTED}", run: [npm test]}}
"#
    )
    .replace("${{", "$${{")
}

/// The `pipelines` target's files for `model` (one environment, `prod`), rendered
/// without the model checks: the renderer's own escaping is what is tested.
fn render_unchecked(model: &str) -> kiln::render::OutputTree {
    let files = kiln::model::Files::in_memory(
        Path::new("/hostile"),
        [(
            "environments/prod.yaml".to_owned(),
            model.as_bytes().to_vec(),
        )],
    );
    let (project, diags) = kiln::model::load_files(&files);
    let loaded = diags.into_sorted(&project.sources);
    assert!(loaded.iter().all(|d| !d.is_error()), "{loaded:?}");
    let (state, templates) = (
        kiln::model::State::default(),
        kiln::render::templates::Templates::default(),
    );
    let cx = kiln::render::Context {
        project: &project,
        state: &state,
        templates: &templates,
        sealed: &Default::default(),
    };
    let mut out = kiln::render::OutputTree::default();
    let mut diags = kiln::diagnostic::Diagnostics::default();
    use kiln::render::Target;
    kiln::render::pipelines::Pipelines.render(&cx, &mut out, &mut diags);
    let errors: Vec<_> = diags.into_sorted(&project.sources);
    assert!(errors.iter().all(|d| !d.is_error()), "{errors:?}");
    out
}

/// Every `${{ … }}` in `s`, by its inside.
fn expressions(s: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        let inner = &rest[start + 3..];
        // An expression ends at the first `}}` outside a '...' literal.
        let (mut quoted, mut end) = (false, inner.len());
        let bytes = inner.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\'' => quoted = !quoted,
                b'}' if !quoted && bytes.get(i + 1) == Some(&b'}') => {
                    end = i;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        found.push(&inner[..end]);
        rest = &inner[(end + 2).min(inner.len())..];
    }
    found
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k);
            strings(x, out);
        }),
        _ => {}
    }
}

/// Model values reach GitHub only as text: no `run:` holds an expression, every
/// expression anywhere is kiln's own (the planted one is escaped into text), and
/// actionlint accepts the workflows.
#[test]
fn model_values_never_become_github_expressions() {
    let out = render_unchecked(&hostile_model());
    let dir = tempfile::tempdir().unwrap();
    let mut workflows = 0;
    for (path, file) in out.iter() {
        let dest = dir.path().join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, &file.bytes).unwrap();
        if !path.contains("/.github/workflows/") {
            continue;
        }
        workflows += 1;
        let doc = yaml(&file.bytes);
        for (job, body) in doc["jobs"].as_object().unwrap() {
            for step in body["steps"].as_array().unwrap() {
                if let Some(run) = step["run"].as_str() {
                    assert!(
                        !run.contains("${{"),
                        "{path}: a run of {job} holds an expression:\n{run}"
                    );
                }
            }
        }
        let mut all = Vec::new();
        strings(&doc, &mut all);
        for s in all {
            for e in expressions(s) {
                assert!(
                    !e.contains("pull_request"),
                    "{path}: {s:?} evaluates the planted expression"
                );
            }
        }
        let text = std::str::from_utf8(&file.bytes).unwrap();
        assert!(
            text.contains("${{ '${{' }}github.event.pull_request.title}}"),
            "{text}"
        );
    }
    assert_eq!(workflows, 2, "the app's and the config repository's");
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    for repo in ["notes", "config"] {
        let root = dir.path().join("pipelines").join(repo);
        let mut cmd = Command::new("/tmp/validators/bin/actionlint");
        cmd.current_dir(&root);
        if root.join(".github/actionlint.yaml").is_file() {
            cmd.args(["-config-file", ".github/actionlint.yaml"]);
        }
        let workflows = std::fs::read_dir(root.join(".github/workflows")).unwrap();
        for w in workflows.flatten() {
            cmd.arg(w.path());
        }
        let out = cmd.output().expect("actionlint runs");
        assert!(
            out.status.success(),
            "actionlint on {repo}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// GitLab runs `script:` lines as they are: every model value in them is one
/// shell-quoted word, whatever it holds (`$(…)`, `$VAR`, quotes).
#[test]
fn gitlab_scripts_hold_model_values_as_single_words() {
    let nasty = "$(id)'\"$CI_JOB_TOKEN";
    let model = hostile_model()
        .replace(
            "$${{github.event.pull_request.title}}",
            &nasty.replace('"', "\\\""),
        )
        .replace("provider: github", "provider: gitlab")
        .replace("ci: github", "ci: gitlab");
    let out = render_unchecked(&model);
    let pipeline = yaml(&out.get("pipelines/notes/.gitlab-ci.yml").unwrap().bytes);
    let lines = |job: &str| -> Vec<String> {
        pipeline[job]["script"]
            .as_array()
            .unwrap_or_else(|| panic!("no job {job}"))
            .iter()
            .flat_map(|l| {
                l.as_str()
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let word_after = |lines: &[String], command: &str, flag: &str| -> String {
        let line = lines
            .iter()
            .find(|l| l.trim_start().starts_with(command))
            .unwrap_or_else(|| panic!("no `{command}` in {lines:?}"));
        let words = shlex::split(line).unwrap_or_else(|| panic!("cannot split {line}"));
        let at = words
            .iter()
            .position(|w| w == flag)
            .unwrap_or_else(|| panic!("{line}"));
        words[at + 1].clone()
    };
    let build = lines("build:prod");
    assert_eq!(
        word_after(&build, "docker buildx build", "--build-arg"),
        format!("PUBLIC_API=https://api.example.com/{nasty}")
    );
    assert_eq!(
        word_after(&build, "docker buildx build", "--file"),
        format!("src{nasty}/Dockerfile")
    );
    let deploy = lines("deploy:prod");
    assert_eq!(
        word_after(&deploy, "kiln set-image", "--root"),
        format!(".kiln-config/infra{nasty}")
    );
    assert_eq!(
        word_after(&deploy, "kubectl set image --local", "-f"),
        format!(
            ".kiln-config/infra{nasty}/out/pipelines/notes/deploy/prod/job-notes-migrate-ci.yaml"
        )
    );
    let verify = lines("verify:prod");
    let words = shlex::split(&verify[0]).unwrap();
    assert_eq!(
        words.last().unwrap(),
        &format!("https://notes.example.com/healthz{nasty}")
    );
}

/// gitlab-ci-local (the GitLab runner's own rule evaluation, run locally) on every
/// generated `.gitlab-ci.yml`: on each branch a job's rules name, exactly the jobs of
/// that branch's environment run (with the checks), their `needs` chain holds
/// (`--validate-dependency-chain`); and the workflow makes no merge-request pipeline
/// from a deploying branch, whose own pipeline runs the checks.
#[test]
fn gitlab_ci_local_runs_each_environments_jobs_on_its_branch() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let prefix = std::env::var_os("VALIDATORS_PREFIX")
        .map_or_else(|| PathBuf::from("/tmp/validators"), PathBuf::from);
    let bin = prefix.join("gcl/node_modules/.bin");
    assert!(
        bin.join("gitlab-ci-local").is_file(),
        "gitlab-ci-local is not installed (tools/validators/setup-validators.sh); set KILN_SKIP_VALIDATORS=1 to skip"
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut files = Vec::new();
    for root in [
        repo().join("out"),
        repo().join("tests/golden"),
        repo().join("examples"),
    ] {
        for (rel, _) in snapshot(&root) {
            if rel.ends_with(".gitlab-ci.yml") && !rel.contains("/bad-") && !rel.starts_with("bad-")
            {
                files.push(root.join(rel));
            }
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    let mut checked = 0;
    for file in &files {
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        // Which branch each environment's jobs run on, from the jobs' own rules.
        let mut by_branch: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut checks = BTreeSet::new();
        let keywords = ["workflow", "default", "stages", "variables", "include"];
        for (name, job) in doc.as_object().unwrap() {
            if keywords.contains(&name.as_str()) || name.starts_with('.') {
                continue;
            }
            let Some(rules) = job.get("rules").and_then(Value::as_array) else {
                if job.get("script").is_some() {
                    checks.insert(name.clone());
                }
                continue;
            };
            for rule in rules {
                if let Some(branch) = rule["if"].as_str().and_then(branch_of_rule) {
                    by_branch.entry(branch).or_default().insert(name.clone());
                }
            }
        }
        if by_branch.is_empty() {
            continue; // the config repository's pipeline: every branch alike
        }
        let repo_dir = tempfile::tempdir().unwrap();
        std::fs::copy(file, repo_dir.path().join(".gitlab-ci.yml")).unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
                .args(args)
                .current_dir(repo_dir.path())
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "kiln-test"]);
        git(&[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.com/group/app.git",
        ]);
        git(&["add", "-A"]);
        git(&["commit", "-qm", "pipeline"]);
        for (branch, jobs) in &by_branch {
            git(&["checkout", "-q", "-B", branch]);
            let run = |extra: &[&str]| {
                let out = std::process::Command::new(bin.join("gitlab-ci-local"))
                    .args(extra)
                    .current_dir(repo_dir.path())
                    .env("PATH", &path)
                    .output()
                    .expect("gitlab-ci-local runs");
                (
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                )
            };
            // `changes:` (a monorepo's paths) read as matched: which paths a push
            // touches is not what this checks.
            let (ok, out) = run(&["--list-csv", "--evaluate-rule-changes=false"]);
            assert!(ok, "{}: {out}", file.display());
            let listed: BTreeSet<String> = out
                .lines()
                .skip_while(|l| !l.starts_with("name;"))
                .skip(1)
                .filter_map(|l| l.split(';').next().map(str::to_owned))
                .collect();
            let expected: BTreeSet<String> = jobs.union(&checks).cloned().collect();
            assert_eq!(listed, expected, "{} on branch {branch}", file.display());
            let (ok, out) = run(&[
                "--validate-dependency-chain",
                "--evaluate-rule-changes=false",
            ]);
            assert!(ok, "{} on branch {branch}: {out}", file.display());
            // A merge request from this branch would be a second pipeline of the same
            // commit (its branch pipeline runs the checks and deploys): the workflow
            // rule of merge requests excludes it. (gitlab-ci-local 4.75 does not
            // evaluate `workflow:rules`, so this reads the rule.)
            let workflow = doc["workflow"]["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for rule in workflow.iter().filter_map(|r| r["if"].as_str()) {
                if rule.contains("merge_request_event") {
                    assert!(
                        rule.contains(&format!(
                            "$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME != \"{branch}\""
                        )),
                        "{}: a merge request from {branch} runs a second pipeline: {rule}",
                        file.display()
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} branches checked");
}

/// The branch a rule's `if` names (`$CI_COMMIT_BRANCH == "develop"` alone).
fn branch_of_rule(condition: &str) -> Option<String> {
    let rest = condition.trim().strip_prefix("$CI_COMMIT_BRANCH == \"")?;
    let branch = rest.strip_suffix('"')?;
    (!branch.contains('"')).then(|| branch.to_owned())
}
