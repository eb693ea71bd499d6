//! Devices (`apps.<app>.devices`; see [`crate::model::Devices`]): device paths are
//! device files (`/dev/...`, at most `HOST:CONTAINER`), each container path once, and
//! only on a host: a cluster gives a pod a device through a device plugin, and a device
//! file only through a privileged `hostPath`, so there `paths` is a located error. A
//! GPU works on both targets (a device plugin resource, the host's runtime or
//! `/dev/dri`).

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{DRI, Environment, GpuVendor, Placement, device_mapping};

/// Checks the devices of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let Some(devices) = &app.devices else {
            continue;
        };
        let at = |rest: &str| format!("/apps/{name}/devices{rest}");
        let placement = env.model.placement(app);
        if let (Some(Placement::Cluster(cluster, _)), false) =
            (&placement, devices.paths.is_empty())
        {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("`{name}` runs on cluster `{cluster}`, where a device file (`devices.paths`) would need a privileged `hostPath` volume, which no Pod Security level but `privileged` admits"),
                )
                .at(env.key_span(&at("/paths")))
                .help(match &devices.gpu {
                    None => "run the app on a host that has the device (`runsOn: <host>`; there it is a compose `devices` entry); on a cluster, a device plugin offers devices as resources, which kiln asks for as `devices.gpu`".to_owned(),
                    Some(_) => "on a cluster the GPU is `devices.gpu` alone: remove `paths` for this environment (`paths: null`), or run the app on a host (`runsOn: <host>`)".to_owned(),
                }),
            );
            continue;
        }
        let mut seen: Vec<&str> = Vec::new();
        if let Some(gpu) = &devices.gpu
            && gpu.vendor != GpuVendor::Nvidia
        {
            seen.push(DRI);
        }
        for (i, entry) in devices.paths.iter().enumerate() {
            let span = env.span(&at(&format!("/paths/{i}")));
            let parts: Vec<&str> = entry.split(':').collect();
            let (host, container) = device_mapping(entry);
            let bad = parts.len() > 2
                || [host, container]
                    .iter()
                    .any(|p| !p.starts_with("/dev/") || p.len() == "/dev/".len());
            if bad {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("`{entry}` in the devices of `{name}` is not a device file"),
                    )
                    .at(span)
                    .help("write a path under `/dev/` (`/dev/ttyUSB0`), or `HOST:CONTAINER` to give it another path in the container (`/dev/serial/by-id/usb-...:/dev/ttyUSB0`); folders the app reads are `volumes`"),
                );
                continue;
            }
            if seen.contains(&container) {
                let why = if container == DRI && devices.gpu.is_some() {
                    "the GPU (`devices.gpu`) already maps `/dev/dri`"
                } else {
                    "another entry maps it"
                };
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("`{name}` maps device `{container}` twice: {why}"),
                    )
                    .at(span)
                    .help("map each device path once"),
                );
            }
            seen.push(container);
        }
        for (i, group) in devices.groups.iter().enumerate() {
            if devices.groups[..i].contains(group) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("group {group} is in the device groups of `{name}` twice"),
                    )
                    .at(env.span(&at(&format!("/groups/{i}"))))
                    .help("list each group id once"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::scheduling::tests::messages;

    const APP: &str = "  a:\n    image: {registry: hub, repository: a, tag: \"1\"}\n    port: 80\n";

    fn diags(apps: &str) -> Vec<String> {
        messages(apps, super::check)
    }

    #[test]
    fn a_device_path_on_a_cluster_is_an_error_and_a_gpu_is_not() {
        let got = diags(&format!(
            "{APP}    devices: {{gpu: {{vendor: intel}}, paths: [/dev/ttyUSB0]}}\n"
        ));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].contains("runs on cluster `lab`") && got[0].contains("`devices.paths`"),
            "{got:?}"
        );
        assert!(
            diags(&format!(
                "{APP}    devices: {{gpu: {{vendor: nvidia, count: 2}}, groups: [44]}}\n"
            ))
            .is_empty()
        );
    }

    #[test]
    fn device_paths_on_a_host_are_device_files_mapped_once() {
        let got = diags(&format!(
            "{APP}    runsOn: box\n    devices:\n      gpu: {{vendor: amd}}\n      paths: [/dev/ttyUSB0, /srv/media, \"/dev/a:/dev/b:rw\", \"/dev/serial/by-id/x:/dev/ttyUSB0\", /dev/dri]\n      groups: [20, 20]\n"
        ));
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(
            got[0].contains("`/srv/media`") && got[0].contains("not a device file"),
            "{got:?}"
        );
        assert!(got[1].contains("`/dev/a:/dev/b:rw`"), "{got:?}");
        assert!(
            got[2].contains("`/dev/ttyUSB0` twice: another entry"),
            "{got:?}"
        );
        assert!(got[3].contains("`/dev/dri` twice: the GPU"), "{got:?}");
        assert!(got[4].contains("group 20"), "{got:?}");
    }
}
