//! Wiring checks: the reference output verifies every point, every kind of point is
//! exercised, and breaking any one reference in the output fails with its location.

use crate::support::{copy_tree, reference_project, repo};
use kiln::inspect::lint::LintContext;
use kiln::inspect::wiring::{self, WIRES};
use kiln::render::OutputFile;

fn compiled() -> (tempfile::TempDir, kiln::pipeline::Compiled) {
    let project = reference_project();
    copy_tree(&repo().join("out"), &project.path().join("out"));
    let compiled = kiln::pipeline::compile(
        &kiln::model::Files::read(project.path()),
        kiln::model::State::default(),
    );
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    (project, compiled)
}

#[test]
fn the_reference_verifies_every_point_of_every_kind() {
    let (_dir, c) = compiled();
    assert_eq!(c.wiring.verified, c.wiring.total);
    for wire in WIRES {
        let mut diags = kiln::diagnostic::Diagnostics::default();
        let cx = LintContext::new(&c.project, &c.tree);
        let mut report = wiring::Report::default();
        let before = report;
        report = wiring::run_one(wire, &cx, &mut diags, report);
        assert!(
            report.total > before.total,
            "no `{}` point in the reference output",
            wire.name
        );
    }
}

/// (wire, file under out/, text to replace, replacement)
const BREAKS: &[(&str, &str, &str, &str)] = &[
    (
        "route → service → port",
        "kubernetes/apps/frontend/base/ingress-frontend.yaml",
        "number: 8080",
        "number: 9999",
    ),
    (
        "pod → secret → key",
        "kubernetes/apps/invoicetron/base/deployment-invoicetron.yaml",
        "key: database-url",
        "key: database_url",
    ),
    (
        "network policy → namespace and port",
        "kubernetes/clusters/homelab/tunnel/ciliumnetworkpolicy-tunnel-to-invoicetron-prod.yaml",
        "port: \"3000\"",
        "port: \"3001\"",
    ),
    (
        "wait-for-db → database service and port",
        "kubernetes/apps/invoicetron/base/deployment-invoicetron.yaml",
        "invoicetron-db 5432",
        "invoicetron-db 5433",
    ),
    (
        "Flux Kustomization → path",
        "flux/pi/kustomization-frontend-prod.yaml",
        "overlays/prod",
        "overlays/production",
    ),
    (
        "Flux Kustomization → GitRepository",
        "flux/pi/kustomization-frontend-prod.yaml",
        "name: flux-system",
        "name: flux",
    ),
    (
        "ImagePolicy → ImageRepository → marked image",
        "flux/pi/image-automation/imagepolicy-frontend-prod.yaml",
        "name: frontend-prod\n  policy",
        "name: frontend\n  policy",
    ),
    (
        "CI tag format → ImagePolicy pattern",
        "flux/pi/image-automation/imagepolicy-frontend-prod.yaml",
        "[0-9]{14}",
        "[0-9]{12}",
    ),
    (
        "deploy steps → Role verbs",
        "kubernetes/apps/invoicetron/base/role-gitlab-deploy.yaml",
        "  - patch\n",
        "",
    ),
    (
        "Service+EndpointSlice → host address and port",
        "kubernetes/apps/backend/overlays/prod/endpointslice-backend.yaml",
        "192.168.1.50",
        "192.168.1.51",
    ),
    (
        "Caddy route → published port",
        "hosts/local/Caddyfile",
        "127.0.0.1:3001",
        "127.0.0.1:3002",
    ),
    (
        "backup job → database service",
        "kubernetes/apps/invoicetron/overlays/prod/cronjob-invoicetron-db-backup.yaml",
        "-h invoicetron-db",
        "-h invoicetron-database",
    ),
];

#[test]
fn breaking_any_one_reference_fails_with_its_location() {
    let (_dir, c) = compiled();
    assert_eq!(
        BREAKS.len(),
        WIRES.len(),
        "one break per kind of wiring point"
    );
    for (wire, path, from, to) in BREAKS {
        let mut tree = c.tree.clone();
        let file = tree
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not in the output"))
            .clone();
        let text = String::from_utf8(file.bytes.clone()).unwrap();
        assert!(text.contains(from), "{path} does not contain {from:?}");
        tree.insert(
            *path,
            OutputFile {
                bytes: text.replacen(from, to, 1).into_bytes(),
                // The edited bytes are the truth now, not the data the renderer kept.
                data: None,
                ..file
            },
        );
        let mut diags = kiln::diagnostic::Diagnostics::default();
        let report = wiring::run(&LintContext::new(&c.project, &tree), &mut diags);
        assert!(
            report.verified < report.total,
            "breaking {path} broke no `{wire}` point"
        );
        let broken: Vec<_> = diags.iter().filter(|d| d.name == "broken-wire").collect();
        assert!(
            broken
                .iter()
                .any(|d| d.message.starts_with(wire) && d.span.is_some()),
            "breaking {path}: no located `{wire}` error in {broken:#?}"
        );
        // The wires read what the build renders, never out/ on disk: with no template
        // overridden, the cause is kiln, not a hand edit.
        for d in &broken {
            let help = d.help.join(" ");
            assert!(
                !help.contains("hand") && help.contains("defect in kiln"),
                "{help}"
            );
        }
    }
}

/// Every secret a pod reads is one wiring point, whatever reads it (an env var,
/// `envFrom`, a volume, `imagePullSecrets`), checked once: breaking a pull secret's
/// name fails that wire, located at the app, and no other check reports it.
#[test]
fn every_secret_a_pod_reads_is_one_wire() {
    let (_dir, c) = compiled();
    let path = "kubernetes/apps/invoicetron/base/deployment-invoicetron.yaml";
    let mut tree = c.tree.clone();
    let file = tree.get(path).unwrap().clone();
    let text = String::from_utf8(file.bytes.clone()).unwrap();
    let broken = text.replacen("- name: gitlab-registry", "- name: gitlab-registri", 1);
    assert_ne!(broken, text);
    tree.insert(
        path,
        OutputFile {
            bytes: broken.into_bytes(),
            data: None,
            ..file
        },
    );
    let cx = LintContext::new(&c.project, &tree);
    let mut diags = kiln::diagnostic::Diagnostics::default();
    let report = wiring::run(&cx, &mut diags);
    kiln::inspect::lint::run(&cx, &mut diags);
    let about: Vec<_> = diags
        .iter()
        .filter(|d| d.message.contains("gitlab-registri"))
        .collect();
    assert!(!about.is_empty() && report.verified < report.total);
    let invoicetron = c.project.environments[0]
        .key_span("/apps/invoicetron")
        .unwrap();
    for d in &about {
        assert!(
            d.name == "broken-wire" && d.message.starts_with("pod → secret → key: "),
            "{d:#?}"
        );
        assert!(d.span.is_some(), "{d:#?}");
    }
    assert!(
        about.iter().any(|d| d.span == Some(invoicetron)),
        "{about:#?}"
    );
}

/// An app on a host routed through a cluster (`via`) in two environments whose hosts
/// differ in address and port: the reference model plus `staging` (a second VM, a
/// third cluster, the backend published on another port) builds, the shared base
/// holds neither address, and `kubectl kustomize` of each overlay points the Service
/// at that environment's own host and port.
#[test]
fn a_host_app_routed_in_two_environments_points_each_at_its_own_host() {
    let project = reference_project();
    std::fs::copy(
        repo().join("tests/fixtures/staging.yaml"),
        project.path().join("environments/staging.yaml"),
    )
    .unwrap();
    let run = crate::support::kiln(project.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let apps = project.path().join("out/kubernetes/apps/backend");
    for (file, bytes) in crate::support::snapshot(&apps.join("base")) {
        let text = String::from_utf8(bytes).unwrap();
        for address in ["192.168.1.50", "192.168.1.60"] {
            assert!(
                !text.contains(address),
                "the shared base/{file} holds one environment's host address {address}"
            );
        }
    }
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    for (env, address, port) in [
        ("prod", "192.168.1.50", 3001),
        ("staging", "192.168.1.60", 3002),
    ] {
        let out = std::process::Command::new("kubectl")
            .arg("kustomize")
            .arg(apps.join("overlays").join(env))
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let docs: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(&String::from_utf8(out.stdout).unwrap()).unwrap();
        let slice = docs
            .iter()
            .find(|d| d["kind"] == "EndpointSlice")
            .unwrap_or_else(|| panic!("{env}: no EndpointSlice in {docs:#?}"));
        assert_eq!(slice["apiVersion"], "discovery.k8s.io/v1");
        assert_eq!(
            slice["metadata"]["labels"]["kubernetes.io/service-name"],
            "backend"
        );
        assert_eq!(
            slice["endpoints"][0]["addresses"][0], address,
            "{env}: {slice:#?}"
        );
        assert_eq!(slice["ports"][0]["port"], port, "{env}: {slice:#?}");
        let service = docs
            .iter()
            .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == "backend")
            .unwrap();
        assert_eq!(
            service["spec"]["ports"][0]["port"], port,
            "{env}: {service:#?}"
        );
        assert!(service["spec"].get("selector").is_none(), "{service:#?}");
        assert!(
            docs.iter().all(|d| d["kind"] != "Endpoints"),
            "{env}: deprecated v1 Endpoints"
        );
    }
}

/// A project that overrides a template is told which overrides a broken point may
/// come from.
#[test]
fn a_broken_point_names_the_projects_template_overrides() {
    let (_dir, c) = compiled();
    let path = "hosts/local/Caddyfile";
    let mut tree = c.tree.clone();
    let file = tree.get(path).unwrap().clone();
    let text = String::from_utf8(file.bytes.clone()).unwrap();
    tree.insert(
        path,
        OutputFile {
            bytes: text
                .replacen("127.0.0.1:3001", "127.0.0.1:3002", 1)
                .into_bytes(),
            data: None,
            ..file
        },
    );
    let cx = LintContext::new(&c.project, &tree)
        .with_overrides(vec!["templates/hosts/Caddyfile".to_owned()]);
    let mut diags = kiln::diagnostic::Diagnostics::default();
    wiring::run(&cx, &mut diags);
    let broken: Vec<_> = diags.iter().filter(|d| d.name == "broken-wire").collect();
    assert!(!broken.is_empty());
    for d in broken {
        let help = d.help.join(" ");
        assert!(
            help.contains("templates/hosts/Caddyfile") && !help.contains("hand"),
            "{help}"
        );
    }
}

/// A Service (and a PodDisruptionBudget) selects its app's own pods, never the pods
/// of the app's Jobs (migrations, scheduled jobs), which carry the app's name too: a
/// request routed to a job's pod finds nothing listening. Over the reference, every
/// golden case and every example, base objects as written.
#[test]
fn services_select_the_app_pods_and_no_job_pods() {
    fn docs(dir: &std::path::Path, out: &mut Vec<serde_json::Value>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                docs(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if let Ok(doc) = serde_saphyr::from_str::<serde_json::Value>(&text) {
                    out.push(doc);
                }
            }
        }
    }
    let mut all = Vec::new();
    docs(&repo().join("out/kubernetes"), &mut all);
    for dir in ["tests/golden", "examples"] {
        for case in std::fs::read_dir(repo().join(dir)).unwrap().flatten() {
            docs(&case.path().join("expected/out/kubernetes"), &mut all);
            docs(&case.path().join("out/kubernetes"), &mut all);
        }
    }
    let labels = |v: &serde_json::Value| v.as_object().cloned().unwrap_or_default();
    let mut job_pods = Vec::new();
    let mut app_pods = Vec::new();
    for d in &all {
        match d["kind"].as_str() {
            Some("Job") => job_pods.push(labels(&d["spec"]["template"]["metadata"]["labels"])),
            Some("CronJob") => job_pods.push(labels(
                &d["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
            )),
            Some("Deployment" | "StatefulSet" | "DaemonSet") => {
                app_pods.push(labels(&d["spec"]["template"]["metadata"]["labels"]))
            }
            _ => {}
        }
    }
    assert!(job_pods.len() > 5 && app_pods.len() > 10);
    let mut checked = 0;
    for d in &all {
        let selector = match d["kind"].as_str() {
            Some("Service") => labels(&d["spec"]["selector"]),
            Some("PodDisruptionBudget") => labels(&d["spec"]["selector"]["matchLabels"]),
            _ => continue,
        };
        if selector.is_empty() {
            continue; // a Service of a host app (an EndpointSlice names its address)
        }
        let selects = |pod: &serde_json::Map<String, serde_json::Value>| {
            selector.iter().all(|(k, v)| pod.get(k) == Some(v))
        };
        let name = &d["metadata"]["name"];
        assert!(
            !job_pods.iter().any(selects),
            "{} {name} selects a job's pods",
            d["kind"]
        );
        assert!(
            app_pods.iter().any(selects),
            "{} {name} selects no workload's pods",
            d["kind"]
        );
        checked += 1;
    }
    assert!(checked > 10, "{checked}");
}
