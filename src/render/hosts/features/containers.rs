//! Sidecars and init containers on a host (see [`crate::model::Container`]): each is a
//! compose service `<app>-<name>` running as the app does. A sidecar shares the app's
//! network (`network_mode: service:<app>`, so it reaches the app on `localhost`) and
//! mounts the app's volumes; an init container runs once (`restart: "no"`) and the app
//! starts when it has succeeded (`service_completed_successfully`).

use super::{HostAppCx, HostWorkload};
use crate::model::{Container, VolumeMount};
use crate::render::hosts::compose::{DependsOn, ImageRef, Service, escape_dollars};
use crate::render::hosts::env_file::{self, EnvFileSpec, HostValue};
use crate::render::hosts::features::volumes;
use crate::render::hosts::project::{env_file_ref, labels};

/// Adds a service per sidecar and init container, and the app's wait for the latter.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    for (name, c) in &cx.app.init_containers {
        let service_name = format!("{}-{name}", cx.name);
        let mut s = service(cx, w, &service_name, c);
        s.restart = "no";
        w.service.depends_on.insert(
            service_name.clone(),
            DependsOn {
                condition: "service_completed_successfully",
            },
        );
        w.services.insert(service_name, s);
    }
    for (name, c) in &cx.app.sidecars {
        let service_name = format!("{}-{name}", cx.name);
        let mut s = service(cx, w, &service_name, c);
        s.network_mode = Some(format!("service:{}", cx.name));
        s.depends_on.insert(
            cx.name.to_string(),
            DependsOn {
                condition: "service_started",
            },
        );
        w.services.insert(service_name, s);
    }
}

/// The service of one container: the app's user and lock-down, its own image,
/// command, environment (secrets in an env file of its own) and mounts.
fn service(cx: &HostAppCx<'_>, w: &mut HostWorkload, service_name: &str, c: &Container) -> Service {
    let app = &w.service;
    let mut s = Service::new(ImageRef::Plain(cx.env.model.pinned_image(&c.image)));
    s.user.clone_from(&app.user);
    s.read_only = app.read_only;
    s.cap_drop.clone_from(&app.cap_drop);
    s.security_opt.clone_from(&app.security_opt);
    s.labels = labels(cx.name.as_str(), cx.env.name.as_str());
    let literal = |words: &Vec<String>| words.iter().map(|w| escape_dollars(w)).collect();
    s.entrypoint = c.command.as_ref().map(literal);
    s.command = c.args.as_ref().map(literal);
    if let Some(l) = c.resources.as_ref().and_then(|r| r.limits.as_ref()) {
        s.cpus = l.cpu.as_deref().map(crate::render::hosts::compose::cpus);
        s.mem_limit = l
            .memory
            .as_deref()
            .map(crate::render::hosts::compose::memory);
    }
    let mut secret_vars = Vec::new();
    for (var, value) in &c.env {
        match env_file::host_value(cx.env, var, value) {
            HostValue::Secret(spec) => secret_vars.push(spec),
            HostValue::Text(t, _) => {
                s.environment.insert(var.clone(), escape_dollars(&t));
            }
        }
    }
    if !secret_vars.is_empty() {
        let target = format!("{}/{service_name}.env", cx.data);
        s.env_file = env_file_ref(&target);
        w.env_files.push(EnvFileSpec {
            service: Some(service_name.to_owned()),
            target,
            vars: secret_vars,
        });
    }
    for (vol_name, m) in &c.volumes {
        let Some(source) = cx.app.volumes.get(vol_name).and_then(|v| v.source()) else {
            continue;
        };
        let m = VolumeMount {
            path: m.path.clone(),
            sub_path: m.sub_path.clone(),
            read_only: m.read_only,
        };
        // A tmpfs is one container's: validate::containers refuses sharing scratch space.
        let nfs_key = format!("{service_name}-{vol_name}");
        if let Some(mount) = volumes::mount(cx, w, vol_name.as_str(), source, &m, nfs_key) {
            s.volumes.push(mount);
        }
    }
    s
}
