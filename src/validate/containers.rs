//! Sidecars and init containers (`apps.<app>.sidecars`, `apps.<app>.initContainers`):
//! names that do not collide with the app's or kiln's own containers, an image from a
//! registry the model defines (a private one only when it is the app's, whose pull
//! secret the pod has), volumes the app declares, secrets that exist; on a host, no
//! scratch volume shared with another container (a `tmpfs` is one container's).

use super::references::{secret_ref, unknown};
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{EnvValue, Environment, Name, Placement, RESERVED_CONTAINER_NAMES, Source};

/// Checks the sidecars and init containers of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    for (name, app) in m.enabled_apps() {
        let on_host = matches!(m.placement(app), Some(Placement::Host(..)));
        let all = app
            .init_containers
            .iter()
            .map(|c| ("initContainers", c))
            .chain(app.sidecars.iter().map(|c| ("sidecars", c)));
        for (field, (c_name, c)) in all {
            let at = |rest: &str| format!("/apps/{name}/{field}/{c_name}{rest}");
            if c_name == name || RESERVED_CONTAINER_NAMES.contains(&c_name.as_str()) {
                diags.push(
                    Diagnostic::error(
                        checks::DUPLICATE_NAME,
                        format!("`{c_name}` is a name of `{name}`'s own containers or services"),
                    )
                    .at(env.key_span(&at("")))
                    .help(format!(
                        "rename it: {} and the app's name are taken",
                        RESERVED_CONTAINER_NAMES.join(", ")
                    )),
                );
            }
            if field == "sidecars" && app.init_containers.contains_key(c_name) {
                diags.push(
                    Diagnostic::error(
                        checks::DUPLICATE_NAME,
                        format!("`{name}` has a sidecar and an init container named `{c_name}`"),
                    )
                    .at(env.key_span(&at("")))
                    .label(
                        env.key_span(&format!("/apps/{name}/initContainers/{c_name}")),
                        "the init container",
                    )
                    .help("give each container of the app its own name"),
                );
            }
            match m.registries.get(&c.image.registry) {
                None => diags.push(unknown(
                    env,
                    &at("/image/registry"),
                    "registry",
                    &c.image.registry,
                    m.registries.keys().map(Name::to_string).collect(),
                )),
                Some(r) if r.private && Some(&c.image.registry) != app.image.as_ref().map(|i| &i.registry) => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "`{c_name}` of `{name}` pulls from private registry `{}`, but the pod has only the pull secret of `{}`",
                            c.image.registry, app.image.as_ref().map_or("", |i| i.registry.as_str())
                        ),
                    )
                    .at(env.span(&at("/image/registry")))
                    .help("use the app's registry or a public one"),
                ),
                Some(_) => {}
            }
            for (var, value) in &c.env {
                if let EnvValue::Secret(r) = value {
                    secret_ref(env, &at(&format!("/env/{var}")), r, diags);
                }
            }
            for vol_name in c.volumes.keys() {
                match app.volumes.get(vol_name).and_then(|v| v.source()) {
                    None if !app.volumes.contains_key(vol_name) => diags.push(
                        unknown(
                            env,
                            &at(&format!("/volumes/{vol_name}")),
                            &format!("volume of `{name}`"),
                            vol_name,
                            app.volumes.keys().map(Name::to_string).collect(),
                        )
                        .at(env.key_span(&at(&format!("/volumes/{vol_name}")))),
                    ),
                    Some(Source::Scratch(_)) if on_host => diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("`{c_name}` of `{name}` mounts scratch volume `{vol_name}`, which a host cannot share: it is a tmpfs of one container"),
                        )
                        .at(env.key_span(&at(&format!("/volumes/{vol_name}"))))
                        .label(env.key_span(&format!("/apps/{name}/volumes/{vol_name}")), "a scratch volume")
                        .help("make the volume `persistent` to share it on a host"),
                    ),
                    _ => {}
                }
            }
        }
    }
}
