//! Compose projects: apps of one group (a compose file kiln writes whole) and upstream
//! stacks (an override beside the vendor's file).

use super::compose::{
    ComposeFile, DependsOn, EnvFile, Healthcheck, ImageRef, Mount, Port, Service, Volume, cpus,
    escape_dollars, memory,
};
use super::env_file::{self, EnvFileSpec, HostValue};
use super::features::health::HEALTH_INTERVAL;
use super::features::{self, HostAppCx, HostWorkload};
use super::scripts::{ComposeArg, CronJob, DbInfo, EnvCheck, Member, ScriptProject, UpstreamCheck};
use super::{APP_LABEL, Built, ENV_LABEL, HostPlan, Project};
use crate::model::engines::{self, DbVersion, Engine, EngineName};
use crate::model::{App, Backup, Name, Stack, WorkloadKind};
use std::collections::BTreeMap;

/// The labels of an app's services: which app and environment they are.
pub fn labels(app: &str, env: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (APP_LABEL.to_owned(), app.to_owned()),
        (ENV_LABEL.to_owned(), env.to_owned()),
    ])
}

/// The `env_file` entry of a service reading the file at `target` on the host.
pub fn env_file_ref(target: &str) -> Vec<EnvFile> {
    vec![EnvFile {
        path: target.to_owned(),
        required: false,
    }]
}

/// A database's scheduled backup on a host, into the volume `volume` at `/backups`:
/// the same dump-and-prune script as the Kubernetes CronJob. Where the engine's image
/// has `crond`, a service that schedules it itself; otherwise a service in the `jobs`
/// profile that dumps once, with the crontab entry that runs it (as a job's). The
/// password is the container's first password variable.
fn scheduled_backup(
    engine: &dyn Engine,
    version: &DbVersion,
    at: (&str, &str, &str),
    backup: &Backup,
    volume: &str,
    lock_dir: &str,
) -> (Service, Option<CronJob>) {
    let (host, db, user) = at;
    let mut s = Service::new(ImageRef::Plain(engine.image(version)));
    s.entrypoint = Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]);
    s.security_opt = vec!["no-new-privileges:true".to_owned()];
    s.volumes = vec![Mount {
        kind: "volume",
        source: volume.to_owned(),
        target: "/backups".to_owned(),
        read_only: false,
    }];
    let crond = engine.crond_backup(host, user, db, backup.retention_days, &backup.schedule);
    let cron = match crond {
        Some(command) => {
            s.command = Some(vec![escape_dollars(&command)]);
            None
        }
        None => {
            let var = engine.client_password_var();
            let command = format!(
                "{var}=\"${}\"\nexport {var}\n{}",
                engine.password_vars()[0],
                engines::backup_script(engine, host, user, db, "/backups", backup.retention_days)
            );
            s.command = Some(vec![escape_dollars(&command)]);
            s.profiles = vec![features::jobs::PROFILE.to_owned()];
            s.restart = "no";
            let service = format!("{host}-backup");
            Some(CronJob {
                schedule: features::jobs::cron_schedule(&backup.schedule),
                lock: format!("{lock_dir}/{service}.lock"),
                service,
                concurrency: "forbid",
            })
        }
    };
    (s, cron)
}

/// Builds the compose project of a group of apps.
pub fn apps_project(
    plan: &HostPlan<'_>,
    project: &Project<'_>,
    apps: &[(&Name, &App)],
    mut image: impl FnMut(&Name, &App) -> ImageRef,
) -> Built<ComposeFile> {
    let env = project.env;
    let env_name = env.name.as_str();
    let data = plan.project_data(&project.name);
    let mut services = BTreeMap::new();
    let mut volumes = BTreeMap::new();
    let mut env_files = Vec::new();
    let mut data_dirs = Vec::new();
    let mut owned_dirs = Vec::new();
    let mut health_urls = Vec::new();
    let mut cron_jobs = Vec::new();
    let mut files = Vec::new();
    let mut secret_files = Vec::new();
    let mut members = Vec::new();

    for (name, app) in apps {
        // A data service has no image: its service is built for the database's sake
        // and left out (below).
        let mut s = Service::new(if app.is_data_service() {
            ImageRef::Plain(String::new())
        } else {
            image(name, app)
        });
        let uid = app.security.uid();
        let gid = app.security.gid();
        s.user = Some(format!("{uid}:{gid}"));
        s.read_only = app.security.read_only_root_filesystem;
        s.tmpfs.clone_from(&app.security.writable_paths);
        s.cap_drop = vec!["ALL".to_owned()];
        s.security_opt = vec!["no-new-privileges:true".to_owned()];
        s.extra_hosts = vec!["host.docker.internal:host-gateway".to_owned()];
        if let Some((address, port)) = app.host_publish(plan.name) {
            s.ports.push(Port {
                target: app.http_port(),
                published: port.to_string(),
                host_ip: address,
                protocol: "tcp",
            });
        }
        let mut secret_vars = Vec::new();
        for (var, value) in &app.env {
            match env_file::host_value(env, var, value) {
                HostValue::Secret(spec) => secret_vars.push(spec),
                HostValue::Text(t, _) => {
                    s.environment.insert(var.clone(), escape_dollars(&t));
                }
            }
        }
        if !secret_vars.is_empty() {
            let target = format!("{data}/{name}.env");
            s.env_file = env_file_ref(&target);
            env_files.push(EnvFileSpec {
                service: Some(name.to_string()),
                target,
                vars: secret_vars,
            });
        }
        if let Some(r) = &app.resources
            && let Some(l) = &r.limits
        {
            s.cpus = l.cpu.as_deref().map(cpus);
            s.mem_limit = l.memory.as_deref().map(memory);
        }
        for dep in &app.depends_on {
            if let Some((_, dep_app)) = apps.iter().find(|(n, _)| *n == dep) {
                let condition = if dep_app.health.is_some() {
                    "service_healthy"
                } else {
                    "service_started"
                };
                s.depends_on
                    .insert(dep.to_string(), DependsOn { condition });
            }
        }
        // The databases of other apps of the project it takes a part of.
        for (owner, _) in env.model.consumed_databases(name, app) {
            if apps.iter().any(|(n, _)| *n == owner) {
                s.depends_on.insert(
                    crate::model::db_host(owner),
                    DependsOn {
                        condition: "service_healthy",
                    },
                );
            }
        }
        s.labels = labels(name.as_str(), env_name);
        let cx = HostAppCx {
            plan,
            env,
            project: &project.name,
            data: &data,
            name,
            app,
        };
        let mut w = HostWorkload::new(s);
        features::apply_all(&cx, &mut w);
        let mut s = w.service;
        services.append(&mut w.services);
        volumes.append(&mut w.volumes);
        for d in w.owned_dirs {
            if !owned_dirs
                .iter()
                .any(|o: &super::scripts::OwnedDir| o.dir == d.dir)
            {
                owned_dirs.push(d);
            }
        }
        health_urls.append(&mut w.health_urls);
        env_files.append(&mut w.env_files);
        if !w.cron_jobs.is_empty() {
            data_dirs.push(format!("{data}/jobs"));
        }
        cron_jobs.append(&mut w.cron_jobs);
        let member_volumes = std::mem::take(&mut w.volume_archives);
        files.append(&mut w.files);
        secret_files.append(&mut w.secret_files);

        let mut db_info = None;
        if let Some(db) = &app.database {
            let engine = db.engine();
            let db_service = format!("{name}-db");
            let db_name = db.db_name(name);
            let data_volume = format!("{db_service}-data");
            let data_dir = format!("{data}/{data_volume}");
            volumes.insert(data_volume.clone(), Volume::bind(&data_dir));
            data_dirs.push(data_dir);
            let db_env_target = format!("{data}/{db_service}.env");
            env_files.push(EnvFileSpec {
                service: Some(db_service.clone()),
                target: db_env_target.clone(),
                vars: engine
                    .password_vars()
                    .iter()
                    .map(|var| env_file::secret_var(env, var, &db.password))
                    .collect(),
            });
            let mut d = Service::new(ImageRef::Plain(engine.image(&db.version)));
            d.security_opt = vec!["no-new-privileges:true".to_owned()];
            d.environment = engine
                .server_env(&db_name, &db_name, None)
                .into_iter()
                .collect();
            d.env_file = env_file_ref(&db_env_target);
            d.command = engine
                .server_args(db.persistence.unwrap_or_default(), None)
                .map(|args| args.iter().map(|a| escape_dollars(a)).collect());
            d.volumes = vec![Mount {
                kind: "volume",
                source: data_volume,
                target: engine.data_path(&db.version).to_owned(),
                read_only: false,
            }];
            let mut test = vec!["CMD".to_owned()];
            test.extend(
                engine
                    .health(&db_name, &db_name)
                    .iter()
                    .map(|a| escape_dollars(a)),
            );
            d.healthcheck = Some(Healthcheck {
                test,
                interval: HEALTH_INTERVAL.to_owned(),
                timeout: "5s".to_owned(),
                retries: 5,
                start_period: "10s".to_owned(),
            });
            d.labels = labels(name.as_str(), env_name);
            s.depends_on.insert(
                db_service.clone(),
                DependsOn {
                    condition: "service_healthy",
                },
            );
            if let Some(backup) = &db.backup {
                let backup_volume = format!("{db_service}-backups");
                let backup_dir = format!("{data}/backups/{db_service}");
                volumes.insert(backup_volume.clone(), Volume::bind(&backup_dir));
                data_dirs.push(backup_dir);
                let jobs_dir = format!("{data}/jobs");
                let (mut b, cron) = scheduled_backup(
                    engine,
                    &db.version,
                    (&db_service, &db_name, &db_name),
                    backup,
                    &backup_volume,
                    &jobs_dir,
                );
                if let Some(cron) = cron {
                    if !data_dirs.contains(&jobs_dir) {
                        data_dirs.push(jobs_dir);
                    }
                    cron_jobs.push(cron);
                }
                b.env_file = env_file_ref(&db_env_target);
                b.depends_on.insert(
                    db_service.clone(),
                    DependsOn {
                        condition: "service_healthy",
                    },
                );
                b.labels = labels(name.as_str(), env_name);
                services.insert(format!("{db_service}-backup"), b);
            }
            services.insert(db_service.clone(), d);
            db_info = Some(DbInfo::new(
                engine,
                db_service.clone(),
                db_name.clone(),
                db_name,
                format!("{data}/manual-backups/{db_service}"),
            ));
        }
        services.extend(features::jobs::services(&cx, &s));
        // A jobs-only app is its job services (copies of its own): nothing of it runs
        // between the runs. A data service is only its database.
        if app.has_workload() {
            services.insert(name.to_string(), s);
        }
        members.push(Member {
            name: name.to_string(),
            env: env_name.to_owned(),
            unique: true,
            database: db_info,
            volumes: member_volumes,
            jobs_only: app.kind == WorkloadKind::Jobs,
        });
    }
    Built {
        compose: ComposeFile {
            name: Some(project.name.clone()),
            services,
            volumes,
        },
        script: ScriptProject {
            name: project.name.clone(),
            func: project.name.replace('-', "_"),
            files: vec![ComposeArg {
                path: crate::layout::join(&project.name, crate::layout::COMPOSE),
                relative: true,
            }],
            project_directory: None,
            env_file: None,
            data_dirs,
            owned_dirs,
            health_urls,
            cron_jobs,
            env_checks: env_checks(&project.name, &env_files),
            secret_files,
            upstream: None,
            caddy: false,
            jobs_only: apps.iter().all(|(_, a)| a.kind == WorkloadKind::Jobs),
            members,
        },
        env_files,
        files,
    }
}

fn env_checks(dir: &str, files: &[EnvFileSpec]) -> Vec<EnvCheck> {
    files
        .iter()
        .map(|f| EnvCheck {
            path: f.target.clone(),
            template: format!("{dir}/{}", f.template_name()),
            secret: f.secret_vars(),
            plain: f.plain_vars(),
        })
        .collect()
}

/// An override file: new services whole, upstream services only with what kiln adds.
#[derive(serde::Serialize)]
pub struct OverrideFile {
    services: BTreeMap<String, OverrideService>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    volumes: BTreeMap<String, Volume>,
}

/// A service in an override.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum OverrideService {
    /// A service kiln adds (the backup).
    Full(Box<Service>),
    /// Variables added to an upstream service.
    Env(ServiceEnv),
}

/// Variables added to an upstream service.
#[derive(serde::Serialize)]
pub struct ServiceEnv {
    environment: BTreeMap<String, String>,
}

/// Builds the override and `.env` template of an upstream stack.
pub fn stack_project(
    plan: &HostPlan<'_>,
    project: &Project<'_>,
    name: &Name,
    stack: &Stack,
) -> Built<OverrideFile> {
    let env = project.env;
    let data = plan.project_data(&project.name);
    let upstream_dir = stack.upstream.dir.trim_end_matches('/');
    let env_target = format!("{data}/.env");
    let mut vars: BTreeMap<String, env_file::EnvVarSpec> = stack
        .env
        .iter()
        .map(|(var, value)| (var.clone(), env_file::var(env, var, value)))
        .collect();
    let mut services = BTreeMap::new();
    for (service, extra) in &stack.services {
        let mut environment = BTreeMap::new();
        for (var, value) in &extra.env {
            let text = match env_file::host_value(env, var, value) {
                HostValue::Secret(spec) => {
                    vars.entry(var.clone()).or_insert(spec);
                    format!("${{{var}}}")
                }
                HostValue::Text(t, _) => escape_dollars(&t),
            };
            environment.insert(var.clone(), text);
        }
        services.insert(service.to_string(), ServiceEnv { environment });
    }
    let env_spec = EnvFileSpec {
        service: None,
        target: env_target.clone(),
        vars: vars.into_values().collect(),
    };
    let mut services: BTreeMap<String, OverrideService> = services
        .into_iter()
        .map(|(k, v)| (k, OverrideService::Env(v)))
        .collect();
    let mut volumes = BTreeMap::new();
    let mut data_dirs = Vec::new();
    let mut db_info = None;
    if let Some(db) = &stack.database {
        if let Some(backup) = &db.backup {
            let service = format!("{}-backup", db.service);
            let backup_volume = format!("{}-backups", db.service);
            let backup_dir = format!("{data}/backups/{}", db.service);
            volumes.insert(backup_volume.clone(), Volume::bind(&backup_dir));
            data_dirs.push(backup_dir);
            let engine = EngineName::Postgres.engine();
            let (mut b, _) = scheduled_backup(
                engine,
                &DbVersion::major(db.version),
                (db.service.as_str(), &db.name, &db.user),
                backup,
                &backup_volume,
                &format!("{data}/jobs"),
            );
            // The upstream file's `.env` is interpolated, not given to services whole:
            // the backup gets only the password. No `depends_on`: the override must
            // stay valid on its own (the upstream file is not in this repository),
            // and crond waits for the schedule anyway.
            b.environment = BTreeMap::from([(
                "POSTGRES_PASSWORD".to_owned(),
                format!("${{{}}}", db.password_env),
            )]);
            b.labels = labels(name.as_str(), env.name.as_str());
            services.insert(service, OverrideService::Full(Box::new(b)));
        }
        db_info = Some(DbInfo::new(
            EngineName::Postgres.engine(),
            db.service.to_string(),
            db.user.clone(),
            db.name.clone(),
            format!("{data}/manual-backups/{}", db.service),
        ));
    }
    let health_urls = stack
        .health
        .iter()
        .filter_map(|h| h.path.as_ref())
        .map(|path| format!("http://127.0.0.1:{}{path}", stack.port))
        .collect();
    let env_files = vec![env_spec];
    Built {
        compose: OverrideFile { services, volumes },
        script: ScriptProject {
            name: project.name.clone(),
            func: project.name.replace('-', "_"),
            files: vec![
                ComposeArg {
                    path: format!("{upstream_dir}/{}", stack.upstream.file),
                    relative: false,
                },
                ComposeArg {
                    path: crate::layout::join(&project.name, crate::layout::COMPOSE_OVERRIDE),
                    relative: true,
                },
            ],
            project_directory: Some(upstream_dir.to_owned()),
            env_file: Some(env_target),
            data_dirs,
            owned_dirs: Vec::new(),
            health_urls,
            cron_jobs: Vec::new(),
            env_checks: env_checks(&project.name, &env_files),
            secret_files: Vec::new(),
            upstream: Some(UpstreamCheck {
                file: format!("{upstream_dir}/{}", stack.upstream.file),
                source: stack.upstream.source.clone().unwrap_or_default(),
            }),
            caddy: false,
            jobs_only: false,
            members: vec![Member {
                name: name.to_string(),
                env: env.name.to_string(),
                unique: true,
                database: db_info,
                volumes: Vec::new(),
                jobs_only: false,
            }],
        },
        env_files,
        files: Vec::new(),
    }
}
