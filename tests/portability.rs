//! Portability: every example builds again with every app moved to the other kind of
//! placement (cluster ↔ host), or fails only with the located errors its
//! `portability.expected` lists, so a feature that cannot move is noticed.
//!
//! Each environment's own file gets, as a JSON merge patch: a host (or cluster) when
//! the environment has none, and `runsOn` of every enabled app naming the other kind.
//! The result is compiled in memory; its errors, as `<code> <check-name> <model pointer>`,
//! must be exactly the expected ones (`UPDATE_GOLDEN=1` rewrites the file).

use crate::support::{examples, updating};
use kiln::model::{Files, Placement, files::Entry};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The file beside an example's `environments/` listing its expected errors.
const EXPECTED: &str = "portability.expected";
/// The name of the cluster the test adds to an environment that has none.
const ADDED_CLUSTER: &str = "portability-cluster";

/// The name of the host the test adds to environment number `n` that has none: one
/// machine per environment, as a user would start (two environments moved to one
/// new machine would bind the same ports, which is the model's choice, not a move's).
fn added_host_name(n: usize) -> String {
    format!("portability-host-{n}")
}

/// A host with Caddy, as a user moving an app to a new machine would write it.
fn added_host(n: usize) -> Value {
    json!({
        "address": format!("192.0.2.{}", 10 + n),
        "dataDir": "/srv/kiln",
        "caddy": {"tls": {"mode": "internal"}},
    })
}

/// A plain k3s-like cluster.
fn added_cluster() -> Value {
    json!({
        "ingress": {"kind": "traefik", "className": "traefik"},
        "storageClass": "local-path",
    })
}

/// RFC 7386 merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// The patch moving every enabled app of `model` (environment number `n`) to the other
/// kind of placement.
fn moves(model: &kiln::model::Model, n: usize) -> Value {
    let mut patch = json!({});
    // Prefer a host with Caddy (routed apps need it) and any cluster the model has.
    let host = model
        .hosts
        .iter()
        .find(|(_, h)| h.caddy.is_some())
        .or_else(|| model.hosts.iter().next())
        .map(|(n, _)| n.as_str().to_owned());
    let cluster = model.clusters.keys().next().map(|n| n.as_str().to_owned());
    for (name, app) in model.enabled_apps() {
        let target = match model.placement(app) {
            Some(Placement::Cluster(..)) => host.clone().unwrap_or_else(|| {
                let added = added_host_name(n);
                merge(&mut patch, &json!({"hosts": {&added: added_host(n)}}));
                added
            }),
            Some(Placement::Host(..)) => cluster.clone().unwrap_or_else(|| {
                merge(
                    &mut patch,
                    &json!({"clusters": {ADDED_CLUSTER: added_cluster()}}),
                );
                ADDED_CLUSTER.to_owned()
            }),
            None => continue,
        };
        merge(
            &mut patch,
            &json!({"apps": {name.as_str(): {"runsOn": target}}}),
        );
    }
    patch
}

/// The example's files with every environment's own file patched to move its apps
/// (written back as JSON, which is YAML).
fn moved_files(example: &Path) -> Files {
    let files = Files::read(example);
    let (project, diags) = kiln::model::load_files(&files);
    assert!(
        !diags.has_errors(),
        "{}: the example itself does not load",
        example.display()
    );
    let mut entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|(p, e)| match e {
            Entry::File(b) => Some((p.to_owned(), b.clone())),
            Entry::Unreadable(_) => None,
        })
        .collect();
    for (n, env) in project.environments.iter().enumerate() {
        let file = project.sources.file(env.file);
        let path = file.path.to_string_lossy().into_owned();
        let entry = entries
            .iter_mut()
            .find(|(p, _)| path.ends_with(p.as_str()))
            .unwrap_or_else(|| panic!("{path}: not among the example's files"));
        let mut doc = kiln::yaml::parse(env.file, &file.text).unwrap().to_json();
        merge(&mut doc, &moves(&env.model, n));
        entry.1 = serde_json::to_vec_pretty(&doc).unwrap();
    }
    let moved = Files::in_memory(example, entries);
    // Every app that had a placement now has the other kind.
    let (after, _) = kiln::model::load_files(&moved);
    for env in &project.environments {
        let Some(moved_env) = after.environment(env.name.as_str()) else {
            continue; // it no longer loads: its errors are the test's findings
        };
        for (name, app) in env.model.enabled_apps() {
            let on_cluster =
                |m: &kiln::model::Model, a| matches!(m.placement(a), Some(Placement::Cluster(..)));
            if let (Some(_), Some(now)) = (env.model.placement(app), moved_env.model.apps.get(name))
            {
                assert_ne!(
                    on_cluster(&env.model, app),
                    on_cluster(&moved_env.model, now),
                    "{}: app {name} of {} did not move",
                    example.display(),
                    env.name.as_str()
                );
            }
        }
    }
    moved
}

/// The errors of a build of `files`, as `<code> <check-name> <model pointer>` (the pointer
/// of the value or key an error points at, in any environment; its file and line when
/// no model value is there, `(not located)` without a place), each with its message.
fn errors(example: &Path, files: &Files) -> BTreeMap<String, String> {
    let state = kiln::output::state::read(&example.join("out")).unwrap_or_default();
    let compiled = kiln::pipeline::compile(files, state);
    let project = &compiled.project;
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let place = match d.span {
                None => "(not located)".to_owned(),
                Some(span) => project
                    .environments
                    .iter()
                    .find_map(|e| e.index.pointer_at(span))
                    .map_or_else(|| project.sources.location(span), str::to_owned),
            };
            (format!("{} {} {place}", d.code, d.name), d.message.clone())
        })
        .collect()
}

fn read_expected(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn write_expected(path: &Path, errors: &BTreeMap<String, String>) {
    if errors.is_empty() {
        let _ = std::fs::remove_file(path);
        return;
    }
    let mut text = String::from(
        "# The located errors a build gives with every app of this example moved to the\n\
         # other kind of placement (cluster <-> host), as `<code> <check> <model pointer>`\n\
         # (tests/portability.rs; UPDATE_GOLDEN=1 rewrites this file: read its diff).\n",
    );
    for e in errors.keys() {
        text.push_str(e);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// The comparison itself: what is missing and what is new, or `None` when equal.
fn compare(
    name: &str,
    expected: &BTreeSet<String>,
    found: &BTreeMap<String, String>,
) -> Option<String> {
    let new: Vec<_> = found
        .iter()
        .filter(|(k, _)| !expected.contains(*k))
        .collect();
    let gone: Vec<_> = expected
        .iter()
        .filter(|e| !found.contains_key(*e))
        .collect();
    if new.is_empty() && gone.is_empty() {
        return None;
    }
    let mut report = format!("=== {name} ===\n");
    for (e, message) in new {
        report.push_str(&format!("  error not in {EXPECTED}: {e} ({message})\n"));
    }
    for e in gone {
        report.push_str(&format!("  expected, no longer an error: {e}\n"));
    }
    Some(report)
}

/// Every example, with every app moved to the other kind of placement, builds or
/// fails with exactly the errors its `portability.expected` lists (none without one).
#[test]
fn examples_build_with_every_app_moved() {
    let examples = examples();
    assert!(!examples.is_empty(), "examples/ holds complete models");
    let mut failures = Vec::new();
    for example in &examples {
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        let found = errors(example, &moved_files(example));
        let path = example.join(EXPECTED);
        if updating() {
            write_expected(&path, &found);
            continue;
        }
        if let Some(report) = compare(&name, &read_expected(&path), &found) {
            failures.push(report);
        }
    }
    assert!(
        failures.is_empty(),
        "examples do not move between a cluster and a host as examples/<name>/{EXPECTED} \
         says (UPDATE_GOLDEN=1 cargo test --test integration portability rewrites it; \
         an error there must be one the model cannot move, located at its field):\n{}",
        failures.join("\n")
    );
}

/// The test moves apps both ways and sees the errors of what cannot move: an app on a
/// cluster with a tunnel route lands on a host (which has no tunnel), an app on a host
/// lands on a cluster, and a wrong expectation is reported both ways.
#[test]
fn moving_reports_what_cannot_move() {
    let project = tempfile::tempdir().unwrap();
    let envs = project.path().join("environments");
    std::fs::create_dir_all(&envs).unwrap();
    std::fs::write(
        envs.join("prod.yaml"),
        r#"environment: {domain: example.com, runsOn: lab}
registries:
  hub: {host: registry.example.com}
clusters:
  lab:
    ingress: {kind: traefik, className: traefik}
    tunnel: {name: lab, namespace: cloudflare, selector: {app: cloudflared}}
apps:
  web:
    image: {registry: hub, repository: web, tag: "1.0.0"}
    port: 8080
    health: {path: /healthz, tool: wget}
    security: {runAsUser: 1000}
    routes:
      public: {host: web.example.com, tunnel: true}
"#,
    )
    .unwrap();
    let moved = moved_files(project.path());
    let (loaded, _) = kiln::model::load_files(&moved);
    let model = &loaded.environment("prod").unwrap().model;
    assert!(model.hosts.contains_key(added_host_name(0).as_str()));
    assert!(matches!(
        model.placement(&model.apps.values().next().unwrap().clone()),
        Some(Placement::Host(..))
    ));
    let found = errors(project.path(), &moved);
    assert!(
        found
            .keys()
            .any(|e| e.ends_with(" /apps/web/routes/public/tunnel")),
        "a tunnel route on a host is a located error: {found:?}"
    );
    // Moving back (the app is now on a host): the cluster is the model's own.
    let back = moves(model, 0);
    assert_eq!(back["apps"]["web"]["runsOn"], "lab");
    // A wrong expectation fails, both ways.
    assert!(compare("t", &BTreeSet::new(), &found).is_some());
    let mut more: BTreeSet<String> = found.keys().cloned().collect();
    assert!(compare("t", &more, &found).is_none());
    more.insert("some-check /apps/web/port".into());
    assert!(compare("t", &more, &found).is_some());
}
