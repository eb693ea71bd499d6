//! Wiring checks: every reference that crosses objects or targets, followed in what a
//! build would write, so `kiln check` can end with `wiring: N/N points verified`.
//!
//! kiln derives both ends of each reference from one model, so in its own output every
//! point holds; the checks catch a template override, a hand-written addition or a
//! renderer that drifts. Each broken point is an error located at the model element
//! it comes from. The points, one function each in [`WIRES`]:
//! route → Service → port; env var → secret → key in that namespace; network policy →
//! exact namespace and port; wait-for-db → the database Service and port; Flux
//! Kustomization → existing path; Kustomization → GitRepository; ImagePolicy →
//! ImageRepository → the image an overlay or compose file marks; CI tag format →
//! ImagePolicy pattern; deploy steps → Role verbs; Service+Endpoints → host address
//! and port; Caddy route → published port; backup job → database service.

use crate::diagnostic::{Diagnostic, Diagnostics, checks::BROKEN_WIRE};
use crate::inspect::lint::{LintContext, OutputObject, locate};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the checks found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Points that hold.
    pub verified: usize,
    /// Points checked.
    pub total: usize,
}

/// One kind of wiring point.
pub struct Wire {
    /// What it connects, e.g. "route → service → port".
    pub name: &'static str,
    /// Checks every point of this kind: `ok` for each that holds, `broken` for each
    /// that does not.
    pub check: fn(&LintContext<'_>, &mut Points<'_>),
}

/// Where wires report.
pub struct Points<'a> {
    wire: &'static str,
    report: &'a mut Report,
    diags: &'a mut Diagnostics,
}

impl Points<'_> {
    fn ok(&mut self) {
        self.report.verified += 1;
        self.report.total += 1;
    }

    fn broken(&mut self, cx: &LintContext<'_>, path: &str, message: String) {
        self.report.total += 1;
        let (_, _, span) = locate(cx, path);
        self.diags.push(
            Diagnostic::error(BROKEN_WIRE, format!("{}: out/{path}: {message}", self.wire))
                .at(span)
                .help("kiln writes both ends from the model; a template override or a hand edit broke this"),
        );
    }

    fn expect(
        &mut self,
        cx: &LintContext<'_>,
        holds: bool,
        path: &str,
        message: impl FnOnce() -> String,
    ) {
        if holds {
            self.ok()
        } else {
            self.broken(cx, path, message())
        }
    }
}

/// Every kind of wiring point, in the order they are checked.
pub static WIRES: &[Wire] = &[
    Wire {
        name: "route → service → port",
        check: routes,
    },
    Wire {
        name: "env var → secret → key",
        check: secret_keys,
    },
    Wire {
        name: "network policy → namespace and port",
        check: network_policies,
    },
    Wire {
        name: "wait-for-db → database service and port",
        check: database_waits,
    },
    Wire {
        name: "Flux Kustomization → path",
        check: flux_paths,
    },
    Wire {
        name: "Flux Kustomization → GitRepository",
        check: flux_sources,
    },
    Wire {
        name: "ImagePolicy → ImageRepository → marked image",
        check: image_policies,
    },
    Wire {
        name: "CI tag format → ImagePolicy pattern",
        check: tag_formats,
    },
    Wire {
        name: "deploy steps → Role verbs",
        check: role_verbs,
    },
    Wire {
        name: "Service+Endpoints → host address and port",
        check: endpoints,
    },
    Wire {
        name: "Caddy route → published port",
        check: caddy_ports,
    },
    Wire {
        name: "backup job → database service",
        check: backups,
    },
];

/// Runs every wire over what a build would write.
pub fn run(cx: &LintContext<'_>, diags: &mut Diagnostics) -> Report {
    use rayon::prelude::*;
    // The objects every wire reads, prepared once; then the wires in parallel, each
    // into its own report, merged in `WIRES` order (the same as one after the other).
    cx.objects();
    let found: Vec<(Report, Diagnostics)> = WIRES
        .par_iter()
        .map(|wire| {
            let mut own = Diagnostics::default();
            let report = run_one(wire, cx, &mut own, Report::default());
            (report, own)
        })
        .collect();
    let mut total = Report::default();
    for (report, own) in found {
        total.verified += report.verified;
        total.total += report.total;
        diags.append(own);
    }
    total
}

/// Runs one wire, adding its points to `report`.
pub fn run_one(
    wire: &Wire,
    cx: &LintContext<'_>,
    diags: &mut Diagnostics,
    mut report: Report,
) -> Report {
    let mut points = Points {
        wire: wire.name,
        report: &mut report,
        diags,
    };
    (wire.check)(cx, &mut points);
    report
}

/// The folder a file is in (`a/b/c.yaml` → `a/b`).
fn dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The app folder of a Kubernetes app file (`kubernetes/apps/<app>`).
fn app_dir(path: &str) -> Option<String> {
    let mut parts = path.splitn(4, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("kubernetes"), Some("apps"), Some(app)) => Some(format!("kubernetes/apps/{app}")),
        _ => None,
    }
}

fn objects_of<'a>(
    cx: &'a LintContext<'_>,
    kind: &'a str,
) -> impl Iterator<Item = &'a OutputObject> {
    cx.objects().iter().filter(move |o| o.value["kind"] == kind)
}

fn name(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or_default()
}

/// Services in an app's folder: name → ports.
fn services_in(cx: &LintContext<'_>, app: &str) -> BTreeMap<String, BTreeSet<i64>> {
    let mut out = BTreeMap::new();
    for o in cx
        .objects_under(&format!("{app}/"))
        .iter()
        .filter(|o| o.value["kind"] == "Service")
    {
        let ports: BTreeSet<i64> = o.value["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["port"].as_i64())
            .collect();
        out.insert(name(&o.value).to_owned(), ports);
    }
    out
}

fn routes(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in cx.objects() {
        let Some(app) = app_dir(&o.path) else {
            continue;
        };
        let backends: Vec<(String, i64)> = match o.value["kind"].as_str() {
            Some("HTTPRoute") => o.value["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["backendRefs"].as_array().into_iter().flatten())
                .map(|b| {
                    (
                        b["name"].as_str().unwrap_or_default().to_owned(),
                        b["port"].as_i64().unwrap_or(-1),
                    )
                })
                .collect(),
            Some("Ingress") => o.value["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["http"]["paths"].as_array().into_iter().flatten())
                .map(|p| {
                    let s = &p["backend"]["service"];
                    (
                        s["name"].as_str().unwrap_or_default().to_owned(),
                        s["port"]["number"].as_i64().unwrap_or(-1),
                    )
                })
                .collect(),
            _ => continue,
        };
        let services = services_in(cx, &app);
        for (svc, port) in backends {
            points.expect(
                cx,
                services.get(&svc).is_some_and(|p| p.contains(&port)),
                &o.path,
                || {
                    format!(
                        "routes to service `{svc}` port {port}, which no Service of the app has"
                    )
                },
            );
        }
    }
}

fn secret_keys(cx: &LintContext<'_>, points: &mut Points<'_>) {
    // Each environment's app objects (base and overlay) land in the app's namespace;
    // every secretKeyRef there must name a secret and key placed in that namespace.
    for env in &cx.project.environments {
        // (cluster, namespace) → the (secret, key) pairs placed there.
        let mut placed: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
        for p in crate::model::secret_placement::placements(env) {
            let keys = env.model.secrets.get(&p.secret).into_iter();
            placed
                .entry((p.cluster.to_string(), p.namespace.to_string()))
                .or_default()
                .extend(
                    keys.flat_map(|s| s.keys.keys().map(|k| (p.secret.to_string(), k.clone()))),
                );
        }
        let none = BTreeSet::new();
        for unit in crate::render::kubernetes::cluster_apps(env) {
            if unit.host.is_some() {
                continue;
            }
            let available = placed
                .get(&(unit.cluster_name.to_string(), unit.namespace.to_string()))
                .unwrap_or(&none);
            let base = format!("kubernetes/apps/{}/base/", unit.name);
            let overlay = format!("kubernetes/apps/{}/overlays/{}/", unit.name, env.name);
            for o in cx
                .objects_under(&base)
                .iter()
                .chain(cx.objects_under(&overlay))
            {
                let mut refs = Vec::new();
                collect_secret_key_refs(&o.value, &mut refs);
                for (secret, key) in refs {
                    points.expect(
                        cx,
                        available.contains(&(secret.clone(), key.clone())),
                        &o.path,
                        || {
                            format!(
                                "reads `{secret}.{key}`, which namespace `{}` does not have",
                                unit.namespace
                            )
                        },
                    );
                }
            }
        }
    }
}

fn collect_secret_key_refs(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("secretKeyRef") {
                out.push((
                    r["name"].as_str().unwrap_or_default().to_owned(),
                    r["key"].as_str().unwrap_or_default().to_owned(),
                ));
            }
            m.values().for_each(|x| collect_secret_key_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_secret_key_refs(x, out)),
        _ => {}
    }
}

fn network_policies(cx: &LintContext<'_>, points: &mut Points<'_>) {
    // (namespace, app) → the port the app listens on, over every environment (the
    // first environment's wins, as a search in environment order would find it).
    let mut listening: BTreeMap<(String, String), i64> = BTreeMap::new();
    for env in &cx.project.environments {
        for u in crate::render::kubernetes::cluster_apps(env) {
            if u.host.is_none() {
                listening
                    .entry((u.namespace.to_string(), u.name.to_string()))
                    .or_insert(i64::from(u.app.port));
            }
        }
    }
    for o in objects_of(cx, "CiliumNetworkPolicy") {
        for rule in o.value["spec"]["egress"].as_array().into_iter().flatten() {
            for ep in rule["toEndpoints"].as_array().into_iter().flatten() {
                let labels = &ep["matchLabels"];
                let ns = labels["k8s:io.kubernetes.pod.namespace"]
                    .as_str()
                    .unwrap_or_default();
                let app = labels["app.kubernetes.io/name"]
                    .as_str()
                    .unwrap_or_default();
                let ports: BTreeSet<i64> = rule["toPorts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|p| p["ports"].as_array().into_iter().flatten())
                    .filter_map(|p| p["port"].as_str().and_then(|s| s.parse().ok()))
                    .collect();
                let target = listening.get(&(ns.to_owned(), app.to_owned())).copied();
                points.expect(cx, target.is_some_and(|p| ports.contains(&p)), &o.path, || {
                    format!("allows `{app}` in namespace `{ns}` on {ports:?}, but no such app listens there")
                });
            }
        }
    }
}

fn database_waits(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in cx.objects() {
        let Some(app) = app_dir(&o.path) else {
            continue;
        };
        let spec = &o.value["spec"]["template"]["spec"];
        for c in spec["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == "wait-for-db")
        {
            let command = c["command"]
                .as_array()
                .and_then(|a| a.last())
                .and_then(Value::as_str)
                .unwrap_or_default();
            let target = command
                .split_whitespace()
                .skip_while(|w| *w != "-z")
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let port: i64 = command
                .split_whitespace()
                .skip_while(|w| *w != "-z")
                .nth(2)
                .and_then(|p| p.trim_end_matches(';').parse().ok())
                .unwrap_or(-1);
            let services = services_in(cx, &app);
            points.expect(
                cx,
                services.get(&target).is_some_and(|p| p.contains(&port)),
                &o.path,
                || format!("waits for `{target}:{port}`, which is not the app's database Service"),
            );
        }
    }
}

fn flux_kustomizations<'a>(cx: &'a LintContext<'_>) -> impl Iterator<Item = &'a OutputObject> {
    cx.objects().iter().filter(|o| {
        o.value["kind"] == "Kustomization"
            && o.value["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    })
}

fn flux_paths(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in flux_kustomizations(cx) {
        let path = o.value["spec"]["path"].as_str().unwrap_or_default();
        let dir = path
            .split_once("out/")
            .map(|(_, d)| d.trim_end_matches('/'))
            .unwrap_or_default();
        points.expect(
            cx,
            cx.output
                .get(&format!("{dir}/kustomization.yaml"))
                .is_some(),
            &o.path,
            || format!("path `{path}` is not a folder kiln writes a kustomization.yaml to"),
        );
    }
}

fn flux_sources(cx: &LintContext<'_>, points: &mut Points<'_>) {
    let repos: BTreeSet<(String, String)> = objects_of(cx, "GitRepository")
        .map(|o| {
            (
                o.path.split('/').nth(1).unwrap_or_default().to_owned(),
                name(&o.value).to_owned(),
            )
        })
        .collect();
    for o in flux_kustomizations(cx) {
        let cluster = o.path.split('/').nth(1).unwrap_or_default().to_owned();
        let source = o.value["spec"]["sourceRef"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        points.expect(
            cx,
            repos.contains(&(cluster, source.clone())),
            &o.path,
            || format!("reads GitRepository `{source}`, which this cluster's tree does not define"),
        );
    }
}

/// Every Flux setter marker in the output: policy name → files whose marked value is
/// the image (or tag) of that policy.
fn markers(cx: &LintContext<'_>) -> BTreeMap<String, Vec<(String, String)>> {
    const MARKER: &str = "{\"$imagepolicy\": \"";
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (path, file) in cx.output.iter() {
        // Most files hold no marker: one fast search skips them.
        if memchr::memmem::find(&file.bytes, MARKER.as_bytes()).is_none() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            continue;
        };
        let mut image_name = String::new();
        for line in text.lines() {
            if let Some(n) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("name: ")
            {
                image_name = n.trim().to_owned();
            }
            let Some((value, marker)) = line.split_once(" # {\"$imagepolicy\": \"") else {
                continue;
            };
            let policy = marker
                .trim_end_matches("\"}")
                .trim_end_matches(":tag")
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            let value = value
                .split_once(": ")
                .map_or("", |(_, v)| v)
                .trim()
                .to_owned();
            let image = if value.contains('/') {
                value
                    .rsplit_once(':')
                    .map_or(value.clone(), |(i, _)| i.to_owned())
            } else {
                image_name.clone()
            };
            out.entry(policy).or_default().push((path.clone(), image));
        }
    }
    out
}

fn image_policies(cx: &LintContext<'_>, points: &mut Points<'_>) {
    let repos: BTreeMap<String, String> = objects_of(cx, "ImageRepository")
        .map(|o| {
            (
                name(&o.value).to_owned(),
                o.value["spec"]["image"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let marked = markers(cx);
    for o in objects_of(cx, "ImagePolicy") {
        let policy = name(&o.value);
        let repo = o.value["spec"]["imageRepositoryRef"]["name"]
            .as_str()
            .unwrap_or_default();
        let Some(image) = repos.get(repo) else {
            points.broken(
                cx,
                &o.path,
                format!("`{policy}` reads ImageRepository `{repo}`, which does not exist"),
            );
            continue;
        };
        points.ok();
        let uses = marked.get(policy).cloned().unwrap_or_default();
        let matching = uses.iter().any(|(_, i)| i.is_empty() || i == image);
        points.expect(cx, !uses.is_empty() && matching, &o.path, || {
            format!("no overlay or compose file marks image `{image}` for `{policy}` (Flux would update nothing)")
        });
    }
}

fn tag_formats(cx: &LintContext<'_>, points: &mut Points<'_>) {
    let policies: BTreeMap<String, (String, &str)> = objects_of(cx, "ImagePolicy")
        .map(|o| {
            let pattern = o.value["spec"]["filterTags"]["pattern"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (name(&o.value).to_owned(), (pattern, o.path.as_str()))
        })
        .collect();
    for env in &cx.project.environments {
        for (app_name, app) in env.model.enabled_apps() {
            let Some(format) = &app.image.tag_format else {
                continue;
            };
            let policy = crate::render::images::policy_name(app_name.as_str(), env.name.as_str());
            let Some((pattern, path)) = policies.get(&policy) else {
                continue;
            };
            let want = crate::model::tag_format::tag_policy(format)
                .map(|p| p.pattern)
                .unwrap_or_default();
            points.expect(cx, &want == pattern, path, || {
                format!("CI tags `{app_name}` as `{format}` but ImagePolicy `{policy}` filters `{pattern}`")
            });
        }
    }
}

fn role_verbs(cx: &LintContext<'_>, points: &mut Points<'_>) {
    use crate::render::kubernetes::rbac::{rules, steps_for};
    for o in objects_of(cx, "Role") {
        let Some(app) = app_dir(&o.path) else {
            continue;
        };
        let app_name = app.rsplit('/').next().unwrap_or_default();
        let Some(app) = cx
            .project
            .environments
            .iter()
            .find_map(|e| e.model.apps.get(app_name).filter(|a| a.deploy.is_some()))
        else {
            continue;
        };
        let steps = steps_for(app);
        let granted: BTreeSet<(String, String, String)> = o.value["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| {
                let groups: Vec<String> = r["apiGroups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect();
                let resources: Vec<String> = r["resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect();
                let verbs: Vec<String> = r["verbs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect();
                let mut out = Vec::new();
                for g in &groups {
                    for res in &resources {
                        for v in &verbs {
                            out.push((g.clone(), res.clone(), v.clone()));
                        }
                    }
                }
                out
            })
            .collect();
        for rule in rules(&steps) {
            for g in rule.api_groups.iter().flatten() {
                for res in rule.resources.iter().flatten() {
                    for v in &rule.verbs {
                        points.expect(cx, granted.contains(&(g.clone(), res.clone(), v.clone())), &o.path, || {
                            format!("the deploy job needs `{v}` on `{res}`, which Role `{}` does not grant", name(&o.value))
                        });
                    }
                }
            }
        }
    }
}

fn endpoints(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for env in &cx.project.environments {
        for unit in crate::render::kubernetes::cluster_apps(env) {
            let Some((_, host)) = unit.host else { continue };
            let app = format!("kubernetes/apps/{}", unit.name);
            let want_port = i64::from(crate::render::kubernetes::external::host_port_of(unit.app));
            let mine = cx.objects_under(&format!("{app}/"));
            let found = mine.iter().find(|o| o.value["kind"] == "Endpoints");
            match found {
                Some(o) => {
                    let subset = &o.value["subsets"][0];
                    let ip = subset["addresses"][0]["ip"].as_str().unwrap_or_default();
                    let port = subset["ports"][0]["port"].as_i64().unwrap_or(-1);
                    points.expect(cx, ip == host.address && port == want_port, &o.path, || {
                        format!(
                            "points at {ip}:{port}, but `{}` listens on {}:{want_port}",
                            unit.name, host.address
                        )
                    });
                }
                None => {
                    // A DNS name: an ExternalName Service carries the address.
                    let Some(o) = mine
                        .iter()
                        .find(|o| o.value["spec"]["type"] == "ExternalName")
                    else {
                        continue;
                    };
                    let target = o.value["spec"]["externalName"].as_str().unwrap_or_default();
                    points.expect(cx, target == host.address, &o.path, || {
                        format!("points at {target}, but the host is {}", host.address)
                    });
                }
            }
        }
    }
}

fn caddy_ports(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for (path, file) in cx
        .output
        .iter()
        .filter(|(p, _)| p.starts_with("hosts/") && p.ends_with("/Caddyfile"))
    {
        let host_dir = dir(path);
        // Ports the host's compose projects publish (upstream stacks publish their own).
        let mut published: BTreeSet<i64> = BTreeSet::new();
        for (p, f) in cx
            .output
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("{host_dir}/")) && p.ends_with(".yaml"))
        {
            let _ = p;
            if let Ok(v) =
                serde_saphyr::from_str::<Value>(std::str::from_utf8(&f.bytes).unwrap_or_default())
            {
                for svc in v["services"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    for port in svc["ports"].as_array().into_iter().flatten() {
                        if let Some(n) = port["published"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .or_else(|| port["published"].as_i64())
                        {
                            published.insert(n);
                        }
                    }
                }
            }
        }
        let host = host_dir.rsplit('/').next().unwrap_or_default();
        for env in &cx.project.environments {
            for (_, stack) in env.model.enabled_stacks() {
                if env
                    .model
                    .stack_host(stack)
                    .is_some_and(|(h, _)| h.as_str() == host)
                {
                    published.insert(i64::from(stack.port));
                }
            }
        }
        let text = String::from_utf8_lossy(&file.bytes);
        for line in text.lines() {
            let Some(upstream) = line.trim().strip_prefix("reverse_proxy ") else {
                continue;
            };
            let port: i64 = upstream
                .rsplit(':')
                .next()
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(-1);
            points.expect(cx, published.contains(&port), path, || {
                format!("proxies to {upstream}, a port nothing on the host publishes")
            });
        }
    }
}

fn backups(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in objects_of(cx, "CronJob") {
        let Some(app) = app_dir(&o.path) else {
            continue;
        };
        let pod = &o.value["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        for c in pod["containers"].as_array().into_iter().flatten() {
            let script = c["command"]
                .as_array()
                .and_then(|a| a.last())
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some(host) = script
                .split_whitespace()
                .skip_while(|w| *w != "pg_dump")
                .skip_while(|w| *w != "-h")
                .nth(1)
            else {
                continue;
            };
            let services = services_in(cx, &app);
            points.expect(cx, services.contains_key(host), &o.path, || {
                format!("dumps from `{host}`, which is not the app's database Service")
            });
        }
    }
}
