//! The runbook sections of `out/docs/<env>.md` beyond secrets: the environment at a
//! glance with its diagram, what must be done by hand, the order things are applied
//! in, how to verify, and how to roll back and restore. Each section is a template
//! under `templates/docs/` rendered with the context built here; every command names
//! objects and paths kiln generates (the `dangling-reference` rule reads them).

use super::Context;
use super::kubernetes::{self, cluster_apps, external, workload};
use super::templates::shell_quote as q;
use crate::model::graph::Graph;
use crate::model::{
    App, Database, Environment, IngressKind, Model, Name, NetworkPolicyFlavour, Placement,
    TagAutomation,
};
use serde_json::{Value, json};

fn url(host: &str, path: &str) -> String {
    if path == "/" {
        format!("https://{host}/")
    } else {
        format!("https://{host}{path}")
    }
}

/// The environment at a glance: what runs where, how it is reached, and the diagram.
pub(super) fn overview(cx: &Context<'_>, env: &Environment) -> Value {
    let m = &env.model;
    let _ = cx;
    let mut apps = Vec::new();
    for (name, app) in m.enabled_apps() {
        let place = match m.placement(app) {
            Some(Placement::Cluster(c, _)) => format!(
                "cluster `{c}`, namespace `{}`",
                m.namespace(&env.name, name, app)
            ),
            Some(Placement::Host(h, host)) => format!("host `{h}` ({})", host.address),
            None => "nowhere".to_owned(),
        };
        let urls: Vec<String> = app
            .routes
            .values()
            .map(|r| {
                let how = if r.tunnel {
                    " (public, through the tunnel)"
                } else {
                    ""
                };
                format!("{}{how}", url(&r.host, &r.path))
            })
            .collect();
        apps.push(json!({
            "name": name.as_str(),
            "description": app.description.clone().unwrap_or_default(),
            "place": place,
            "urls": urls,
            "database": databases_of(m, name, app),
        }));
    }
    let stacks: Vec<Value> = m
        .enabled_stacks()
        .map(|(name, s)| {
            json!({
                "name": name.as_str(),
                "place": m.stack_host(s).map_or("nowhere".to_owned(), |(h, host)| format!("host `{h}` ({})", host.address)),
                "urls": s.routes.values().map(|r| url(&r.host, &r.path)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"env": env.name.as_str(), "apps": apps, "stacks": stacks, "diagram": Graph::of(env).mermaid()})
}

/// What kiln cannot do: accounts, dashboards, machines.
pub(super) fn by_hand(cx: &Context<'_>, env: &Environment) -> Value {
    let m = &env.model;
    let plans = super::flux::plan(cx.project);
    let mut clusters = Vec::new();
    for (name, cluster) in &m.clusters {
        let used = cluster_apps(env).iter().any(|u| u.cluster_name == name);
        if !used {
            continue;
        }
        let plan = plans.get(name.as_str());
        clusters.push(json!({
            "name": name.as_str(),
            "flux": plan.is_some(),
            "secrets": plan.is_some_and(|p| p.secrets),
            "gateway": cluster.ingress.gateway.as_ref().filter(|_| cluster.ingress.kind == IngressKind::Gateway).map(|g| json!({
                "name": g.name.as_str(), "namespace": g.namespace.as_str(), "listener": g.listener.as_ref().map(|l| l.as_str()),
            })),
            "traefik_external_name": cluster.ingress.kind == IngressKind::Traefik
                && cluster_apps(env).iter().any(|u| u.cluster_name == name && u.host.is_some_and(|(_, h)| h.address.parse::<std::net::IpAddr>().is_err())),
            "cilium_tunnel": cluster.network_policy == NetworkPolicyFlavour::Cilium && cluster.tunnel.is_some(),
        }));
    }
    let mut tunnel_routes = Vec::new();
    for unit in cluster_apps(env) {
        if unit.host.is_some() {
            continue;
        }
        let Some(tunnel) = &unit.cluster.tunnel else {
            continue;
        };
        for route in unit.app.routes.values().filter(|r| r.tunnel) {
            tunnel_routes.push(json!({
                "host": route.host,
                "tunnel": tunnel.name,
                "service": format!("http://{}.{}.svc.cluster.local:{}", unit.name, unit.namespace, unit.app.http_port()),
                "app": unit.name.as_str(),
            }));
        }
    }
    let mut hosts = Vec::new();
    for plan in super::hosts::plan(cx.project) {
        if !plan.envs.iter().any(|e| e.name == env.name) {
            continue;
        }
        let projects: Vec<Value> = plan
            .projects
            .values()
            .filter(|p| p.env.name == env.name)
            .map(|p| {
                let data = plan.project_data(&p.name);
                let secret_files: Vec<_> = match &p.kind {
                    super::hosts::ProjectKind::Apps(apps) => apps
                        .iter()
                        .flat_map(|(n, a)| {
                            super::hosts::features::files::secret_files(p.env, &data, n.as_str(), a)
                        })
                        .collect(),
                    super::hosts::ProjectKind::Stack(..) => Vec::new(),
                };
                json!({"name": p.name, "data": data, "secret_files": secret_files})
            })
            .collect();
        hosts.push(json!({
            "name": plan.name.as_str(),
            "address": plan.host.address,
            "data_dir": plan.host.data_dir,
            "projects": projects,
            "deploy_from": plan.host.deploy_from.as_ref().map(|d| json!({
                "cluster": d.cluster.as_str(), "user": d.user, "checkout": d.checkout, "ssh_key": d.ssh_key.as_str(),
            })),
            "repository": m.repository.as_ref().map(|r| r.url.clone()),
        }));
    }
    let mut pipelines = Vec::new();
    for (name, app) in m.enabled_apps() {
        let Some(build) = &app.build else { continue };
        let runner = match &build.runner {
            crate::model::Runner::Hosted => None,
            crate::model::Runner::SelfHosted(s) => Some(s.self_hosted.clone()),
        };
        pipelines.push(json!({
            "app": name.as_str(),
            "repository": build.repository,
            "provider": match build.ci { crate::model::CiProvider::Github => "GitHub Actions", crate::model::CiProvider::Gitlab => "GitLab CI" },
            "branch": build.branch,
            "runner": runner,
            // Only a pipeline with a deploy job talks to the cluster; the others push
            // an image and leave the rest to Flux or `kiln set-image`.
            "deploys": app.deploy.is_some(),
        }));
    }
    let config_ci = m.repository.as_ref().and_then(|r| r.ci.as_ref()).is_some();
    json!({
        "env": env.name.as_str(),
        "clusters": clusters,
        "tunnel_routes": tunnel_routes,
        "hosts": hosts,
        "pipelines": pipelines,
        "config_ci": config_ci,
    })
}

/// The order things are applied in: Flux units per cluster, deploy scripts per host.
pub(super) fn apply(cx: &Context<'_>, env: &Environment) -> Value {
    let mut clusters = Vec::new();
    for (name, plan) in super::flux::plan(cx.project) {
        if !env.model.clusters.contains_key(name.as_str())
            || !cluster_apps(env)
                .iter()
                .any(|u| u.cluster_name.as_str() == name)
        {
            continue;
        }
        let units: Vec<Value> =
            plan.waves()
                .into_iter()
                .enumerate()
                .flat_map(|(i, wave)| wave.into_iter().map(move |u| (i + 1, u)))
                .filter(|(_, u)| {
                    // Units of other environments on the same cluster are theirs to list.
                    let other =
                        cx.project.environments.iter().any(|e| {
                            e.name != env.name && u.name.ends_with(&format!("-{}", e.name))
                        });
                    !other
                })
                .map(|(step, u)| {
                    json!({
                        "step": step,
                        "name": u.name,
                        "dir": u.dir,
                        "depends_on": u.depends_on.iter().cloned().collect::<Vec<_>>(),
                    })
                })
                .collect();
        clusters.push(json!({"name": name, "units": units}));
    }
    let mut hosts = Vec::new();
    for plan in super::hosts::plan(cx.project) {
        let projects: Vec<Value> = plan
            .projects
            .values()
            .filter(|p| p.env.name == env.name)
            .map(|p| {
                let names: Vec<String> = match &p.kind {
                    super::hosts::ProjectKind::Apps(apps) => {
                        apps.iter().map(|(n, _)| n.to_string()).collect()
                    }
                    super::hosts::ProjectKind::Stack(n, _) => vec![n.to_string()],
                };
                json!({"name": p.name, "deploy": names.first()})
            })
            .collect();
        if !projects.is_empty() {
            let caddy = plan.host.caddy.is_some();
            hosts.push(json!({"name": plan.name.as_str(), "projects": projects, "caddy": caddy}));
        }
    }
    json!({"env": env.name.as_str(), "clusters": clusters, "hosts": hosts})
}

/// Commands that show the environment works, with the generated names.
pub(super) fn verify(cx: &Context<'_>, env: &Environment) -> Value {
    let _ = cx;
    let m = &env.model;
    let mut workloads = Vec::new();
    for unit in cluster_apps(env) {
        // Every name in a command is one shell word, as the reader pastes it.
        let ns = q(&unit.namespace);
        let object = |kind: &str, name: &str| q(&format!("{kind}/{name}"));
        let mut checks = Vec::new();
        match unit.host {
            None => {
                if unit.app.has_workload() {
                    checks.push(format!(
                        "kubectl -n {ns} rollout status {} --timeout=180s",
                        object(unit.app.kind.as_str(), unit.name.as_str())
                    ));
                }
                for job in unit.app.jobs.keys() {
                    let job = crate::model::job_name(unit.name.as_str(), job.as_str());
                    checks.push(format!(
                        "kubectl -n {ns} create job --from={} {}   # runs the scheduled job now",
                        object("cronjob", &job),
                        q(&format!("{job}-manual"))
                    ));
                }
                if unit.app.migrations.is_some() {
                    checks.push(format!(
                        "kubectl -n {ns} wait --for=condition=complete {} --timeout=600s",
                        object("job", &workload::migration_job_name(unit.name.as_str()))
                    ));
                }
                if let Some(db) = &unit.app.database {
                    checks.push(format!(
                        "kubectl -n {ns} rollout status {} --timeout=180s",
                        object("statefulset", &format!("{}-db", unit.name))
                    ));
                    checks.push(format!("kubectl -n {ns} get pvc"));
                    if db.backup.is_some() {
                        let job = format!("{}-db-backup", unit.name);
                        checks.push(format!(
                            "kubectl -n {ns} create job --from={} {}",
                            object("cronjob", &job),
                            q(&format!("{job}-manual"))
                        ));
                        checks.push(format!(
                            "kubectl -n {ns} logs {} --follow   # ends with: Backup completed: /backups/…",
                            object("job", &format!("{job}-manual"))
                        ));
                        checks.push(format!(
                            "kubectl -n {ns} delete job {}",
                            q(&format!("{job}-manual"))
                        ));
                    }
                }
            }
            Some(_) => {
                checks.push(format!(
                    "kubectl -n {ns} get service,endpoints {}",
                    q(unit.name.as_str())
                ));
                if unit.has_job() {
                    checks.push(format!(
                        "kubectl -n {ns} logs {} --follow",
                        object("job", &external::deploy_job_name(unit.name.as_str()))
                    ));
                }
            }
        }
        workloads.push(json!({"app": unit.name.as_str(), "cluster": unit.cluster_name.as_str(), "checks": checks}));
    }
    let mut health = Vec::new();
    for (name, app) in m.enabled_apps() {
        let Some(path) = app.health.as_ref().and_then(|h| h.path.as_ref()) else {
            continue;
        };
        for route in app.routes.values() {
            // The health path is reachable through a route that serves it.
            if route.path != "/" && !path.starts_with(&route.path) {
                continue;
            }
            health.push(json!({"app": name.as_str(), "url": url(&route.host, path)}));
        }
    }
    health.sort_by(|a, b| a["url"].as_str().cmp(&b["url"].as_str()));
    health.dedup();
    let host_backups = host_databases(cx, env);
    json!({"env": env.name.as_str(), "workloads": workloads, "health": health, "host_backups": host_backups, "flux": super::flux::plan(cx.project).keys().filter(|c| env.model.clusters.contains_key(c.as_str())).cloned().collect::<Vec<_>>()})
}

/// The overview's database cell of app `name`: its own database's engine and version,
/// the apps it is shared with, and the other apps' databases it uses; `None` for none.
fn databases_of(m: &Model, name: &Name, app: &App) -> Option<String> {
    let title = |d: &Database| format!("{} {}", d.engine().title(), d.version);
    let own = app.database.as_ref().map(|d| {
        let shared: Vec<String> = m
            .db_consumers(name)
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        if shared.is_empty() {
            title(d)
        } else {
            format!("{}, shared with {}", title(d), shared.join(", "))
        }
    });
    let used = m
        .consumed_databases(name, app)
        .into_iter()
        .map(|(owner, d)| format!("uses `{owner}`'s {}", title(d)));
    let parts: Vec<String> = own.into_iter().chain(used).collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Rolling back a release and restoring a database, GitOps-aware.
pub(super) fn rollback(cx: &Context<'_>, env: &Environment) -> Value {
    let mut apps = Vec::new();
    for unit in cluster_apps(env) {
        let db = unit.app.database.as_ref().map(|d| {
            let engine = d.engine();
            let name = d.db_name(unit.name);
            let word = q(&name);
            let (change_password, interactive) = engine
                .change_password(&name)
                .map_or((None, false), |(c, i)| (Some(c), i));
            json!({
                "statefulset": format!("{}-db", unit.name),
                "pod": format!("{}-db-0", unit.name),
                "name": name,
                "title": engine.title(),
                "backup_claim": d.backup.as_ref().map(|_| format!("{}-db-backup", unit.name)),
                "mount": engine.data_path(&d.version),
                "dump": engine.local_dump(&word, &word),
                "restore": engine.local_restore(&word, &word),
                "atomic": engine.atomic_restore(),
                "ext": engine.dump_ext(),
                "change_password": change_password,
                "interactive": interactive,
            })
        });
        apps.push(json!({
            "app": unit.name.as_str(),
            // A jobs-only app has no workload to roll back: its next run takes the tag.
            "workload": (unit.app.has_workload()).then(|| format!("{}/{}", unit.app.kind.as_str(), unit.name)),
            // A data service has no image to roll back, only its database.
            "image": !unit.app.is_data_service(),
            "namespace": unit.namespace,
            "cluster": unit.cluster_name.as_str(),
            "on_host": unit.host.map(|(h, _)| h.as_str()),
            "flux": unit.cluster.flux.is_some(),
            "automation": match unit.app.automation() { TagAutomation::Flux => "flux", TagAutomation::Push => "push" },
            "pinned": unit.app.pinned_tag().is_some(),
            "unit": format!("{}-{}", unit.name, env.name),
            "db": db,
            "volumes": if unit.host.is_some() { Vec::new() } else { cluster_volume_restores(&unit) },
        }));
    }
    json!({
        "env": env.name.as_str(),
        "apps": apps,
        "host_restores": host_databases(cx, env),
        "host_volumes": host_volume_restores(cx, env),
    })
}

/// The backed-up volumes of an app on a cluster, with what restoring one takes: the
/// workload scaled to zero, a one-off pod of the backup image mounting both claims.
fn cluster_volume_restores(unit: &kubernetes::ClusterApp<'_>) -> Vec<Value> {
    use kubernetes::features::backups;
    let name = unit.name.as_str();
    let scales = !matches!(
        unit.app.kind,
        crate::model::WorkloadKind::DaemonSet | crate::model::WorkloadKind::Jobs
    );
    backups::backed_up(unit.app)
        .into_iter()
        .map(|(volume, _, _)| {
            json!({
                "volume": volume,
                "claim": kubernetes::features::volumes::claim_name(name, volume),
                "backup_claim": backups::backup_name(name, volume),
                "prefix": crate::model::archive_prefix(name, volume),
                "pod": backups::restore_pod_name(name, volume),
                "image": backups::IMAGE,
                "overrides": backups::restore_overrides(unit.app, name, volume),
                "scale": scales.then(|| json!({
                    "workload": format!("{}/{name}", unit.app.kind.as_str()),
                    "replicas": unit.app.autoscale.as_ref().map_or(unit.app.replicas, |a| a.min),
                })),
            })
        })
        .collect()
}

/// Every persistent volume of the apps of `env` on hosts: where its archives are and
/// the `restore.sh` command that puts one back.
fn host_volume_restores(cx: &Context<'_>, env: &Environment) -> Vec<Value> {
    use super::hosts::features::backups::{archive_dir, manual_archive_dir};
    let mut out = Vec::new();
    for plan in super::hosts::plan(cx.project) {
        for p in plan.projects.values().filter(|p| p.env.name == env.name) {
            let super::hosts::ProjectKind::Apps(apps) = &p.kind else {
                continue;
            };
            let data = plan.project_data(&p.name);
            for (app, a) in apps {
                for (volume, v) in &a.volumes {
                    if !matches!(v.source(), Some(crate::model::Source::Persistent(_))) {
                        continue;
                    }
                    let (app, volume) = (app.as_str(), volume.as_str());
                    out.push(json!({
                        "host": plan.name.as_str(),
                        "app": app,
                        "volume": volume,
                        "prefix": crate::model::archive_prefix(app, volume),
                        "scheduled": v.backup.as_ref().map(|_| archive_dir(&data, app, volume)),
                        "manual": manual_archive_dir(&data, app, volume),
                    }));
                }
            }
        }
    }
    out
}

/// The scheduled jobs of the apps of `env` on hosts (the crontab lines `deploy.sh`
/// writes), with the command that runs one by hand and where its output goes.
pub(super) fn host_jobs(cx: &Context<'_>, env: &Environment) -> Value {
    let mut jobs = Vec::new();
    for plan in super::hosts::plan(cx.project) {
        for p in plan.projects.values().filter(|p| p.env.name == env.name) {
            let super::hosts::ProjectKind::Apps(apps) = &p.kind else {
                continue;
            };
            for (app, a) in apps {
                for (job_name, job) in &a.jobs {
                    let service = crate::model::job_name(app.as_str(), job_name.as_str());
                    let compose = format!(
                        "out/{}",
                        crate::layout::compose(plan.name.as_str(), &p.name)
                    );
                    jobs.push(json!({
                        "host": plan.name.as_str(),
                        "project": p.name,
                        "app": app.as_str(),
                        "job": job_name.as_str(),
                        "schedule": job.schedule,
                        "service": service,
                        "compose": compose,
                        "tag": format!("kiln-{}-{service}", p.name),
                    }));
                }
            }
        }
    }
    json!({"env": env.name.as_str(), "jobs": jobs})
}

/// `{host, name}` of each compose project of `env` with a database (its first app
/// with one, or the stack), which `backup.sh NAME` and `restore.sh NAME` take.
fn host_databases(cx: &Context<'_>, env: &Environment) -> Vec<Value> {
    let mut out = Vec::new();
    for plan in super::hosts::plan(cx.project) {
        for p in plan.projects.values().filter(|p| p.env.name == env.name) {
            let name = match &p.kind {
                super::hosts::ProjectKind::Apps(apps) => apps
                    .iter()
                    .find(|(_, a)| a.database.is_some())
                    .map(|(n, _)| n.to_string()),
                super::hosts::ProjectKind::Stack(n, s) => {
                    s.database.as_ref().map(|_| n.to_string())
                }
            };
            if let Some(name) = name {
                out.push(json!({"host": plan.name.as_str(), "name": name}));
            }
        }
    }
    out
}

/// The waivers: every lint rule or checkov check the model turns off, for what, and why.
pub(super) fn waivers(_: &Context<'_>, env: &Environment) -> Value {
    let model = &env.model;
    let mut rows = Vec::new();
    for (name, app) in model.enabled_apps() {
        for (check, reason) in &app.waive {
            rows.push(json!({
                "subject": format!("app `{name}`"),
                "check": check,
                "checkov": kubernetes::is_checkov_id(check),
                "reason": reason,
            }));
        }
    }
    for (name, registry) in &model.registries {
        for (check, reason) in &registry.waive {
            rows.push(json!({
                "subject": format!("registry `{name}`"),
                "check": check,
                "checkov": false,
                "reason": reason,
            }));
        }
    }
    json!({"env": env.name.as_str(), "waivers": rows})
}

/// The hand patches, app by app: what kiln writes outside the model in this
/// environment, each with where it is written and why.
pub(super) fn patches(_: &Context<'_>, env: &Environment) -> Value {
    let mut apps = Vec::new();
    for (name, app) in env.model.enabled_apps() {
        let p = &app.patches;
        if p.is_empty() {
            continue;
        }
        let kubernetes: Vec<Value> = p
            .kubernetes
            .iter()
            .enumerate()
            .map(|(i, patch)| {
                let kind = patch.target.kind.as_deref().unwrap_or(app.kind.kind());
                let target = patch.target.name.as_deref().unwrap_or(name.as_str());
                let file = crate::layout::join(
                    &crate::layout::app_overlay(name.as_str(), env.name.as_str()),
                    &crate::layout::patch(&format!(
                        "hand-{}-{}-{target}.yaml",
                        i + 1,
                        kind.to_lowercase()
                    )),
                );
                let ops: Vec<String> = patch
                    .json_patch
                    .iter()
                    .flatten()
                    .map(|op| {
                        let verb = serde_json::to_value(op.op).unwrap_or_default();
                        format!("{} {}", verb.as_str().unwrap_or_default(), op.path)
                    })
                    .collect();
                let keys: Vec<&String> = patch
                    .strategic_merge
                    .iter()
                    .flatten()
                    .map(|(k, _)| k)
                    .collect();
                json!({"form": patch.form(), "kind": kind, "name": target, "file": file,
                    "ops": ops, "keys": keys, "reason": patch.reason})
            })
            .collect();
        let compose: Option<Vec<&String>> = p.compose.as_ref().map(|c| c.keys().collect());
        let host = match env.model.placement(app) {
            Some(crate::model::Placement::Host(h, _)) => Some(h.as_str()),
            _ => None,
        };
        apps.push(json!({"name": name.as_str(), "kubernetes": kubernetes, "compose": compose, "host": host}));
    }
    json!({"env": env.name.as_str(), "apps": apps})
}

#[cfg(test)]
mod tests {
    use crate::render::docs::Docs;
    use crate::render::unchecked::{render, text};

    /// The runbook's commands with values the model checks would refuse: each value
    /// is still one shell word, as a reader pastes the command.
    #[test]
    fn runbook_commands_take_each_value_as_one_word() {
        let nasty = "$(id)'x;y";
        let common = include_str!("../../tests/bad_inputs/base/environments/common.yaml")
            .replace(
                "ssh://git@example.com/ops/config.git",
                &format!("\"https://git.example.com/ops{nasty}.git\""),
            )
            .replace(
                "health: {path: /healthz}",
                &format!("health: {{path: \"/healthz{nasty}\"}}"),
            );
        let dev = include_str!("../../tests/bad_inputs/base/environments/dev.yaml");
        let (out, _) = render(
            &Docs,
            &[
                ("environments/common.yaml", &common),
                ("environments/dev.yaml", dev),
            ],
        );
        let runbook = text(&out, "docs/dev.md");
        let command = |start: &str| -> Vec<String> {
            let at = runbook
                .find(&format!("`{start}"))
                .unwrap_or_else(|| panic!("no `{start}` in\n{runbook}"));
            let code = &runbook[at + 1..];
            let code = &code[..code.find('`').unwrap()];
            shlex::split(code).unwrap_or_else(|| panic!("cannot split {code}"))
        };
        assert_eq!(
            command("git clone"),
            [
                "git",
                "clone",
                &format!("https://git.example.com/ops{nasty}.git"),
                "/opt/config"
            ]
        );
        assert_eq!(
            command("curl -fsS"),
            [
                "curl",
                "-fsS",
                &format!("https://web.dev.example.com/healthz{nasty}")
            ]
        );
    }
}
