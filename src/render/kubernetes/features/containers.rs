//! Sidecars and init containers on a cluster (see [`crate::model::Container`]): more
//! containers in the app's pod, init containers after kiln's database wait, each
//! running as the app's container does.

use super::{AppCx, Workload};
use crate::model::{Container as ModelContainer, pod_volume_name};
use crate::render::kubernetes::pod;
use k8s_openapi::api::core::v1::{Container, VolumeMount};

/// Adds the app's init containers and sidecars to its pod.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let security = w.container().security_context.clone();
    let build = |name: &str, c: &ModelContainer| Container {
        name: name.to_owned(),
        image: Some(cx.model.pinned_image(&c.image)),
        image_pull_policy: Some("Always".to_owned()),
        command: c.command.clone(),
        args: c.args.clone(),
        env: Some(pod::env_vars(cx, &c.env)).filter(|e| !e.is_empty()),
        resources: pod::resources(c.resources.as_ref()),
        security_context: security.clone(),
        volume_mounts: Some(
            c.volumes
                .iter()
                .map(|(vol, m)| VolumeMount {
                    name: pod_volume_name(vol.as_str()),
                    mount_path: m.path.clone(),
                    sub_path: m.sub_path.clone(),
                    read_only: m.read_only.then_some(true),
                    ..Default::default()
                })
                .collect::<Vec<_>>(),
        )
        .filter(|m| !m.is_empty()),
        ..Default::default()
    };
    if !cx.app.init_containers.is_empty() {
        let init = w.pod.init_containers.get_or_insert_with(Vec::new);
        for (name, c) in &cx.app.init_containers {
            init.push(build(name.as_str(), c));
        }
    }
    for (name, c) in &cx.app.sidecars {
        let container = build(name.as_str(), c);
        w.pod.containers.push(container);
    }
}
