//! Service+Endpoints → host address and port: a host app's Endpoints (or ExternalName
//! Service) on a cluster points at the address and port the host app listens on.

use super::{Points, Wire};
use crate::inspect::lint::LintContext;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "Service+Endpoints → host address and port",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for env in &cx.project.environments {
        for unit in crate::model::placement::cluster_apps(env) {
            let Some((_, host)) = unit.host else { continue };
            let want_port = i64::from(crate::render::kubernetes::external::host_port_of(unit.app));
            let mine: Vec<_> = cx.objects_of_app(unit.name.as_str()).collect();
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
