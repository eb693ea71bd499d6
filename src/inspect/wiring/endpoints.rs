//! Service+EndpointSlice → host address and port: in each environment, a host app's
//! EndpointSlice (or ExternalName Service) on a cluster points at the address and port the
//! app listens on on that environment's host. Each environment's overlay is built as
//! `kubectl kustomize` builds it, so an address in the shared base that one
//! environment's overlay does not replace is caught.

use super::built::build;
use super::{Points, Wire};
use crate::inspect::lint::LintContext;
use crate::layout;
use crate::render::kubernetes::external::SERVICE_NAME_LABEL;
use serde_json::Value;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "Service+EndpointSlice → host address and port",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for env in &cx.project.environments {
        for unit in crate::model::placement::cluster_apps(env) {
            let Some((_, host)) = unit.host else { continue };
            let app = unit.name.as_str();
            let overlay = layout::app_overlay(app, env.name.as_str());
            if cx.output.get(&layout::kustomization(&overlay)).is_none() {
                continue;
            }
            let mut objects = Vec::new();
            if let Err(why) = build(cx.output, &overlay, &mut objects, 0) {
                points.broken(
                    cx,
                    &layout::kustomization(&overlay),
                    format!("cannot be built to check where `{app}` is reached: {why}"),
                );
                continue;
            }
            let file = |o: &Value| file_of(cx, app, &overlay, o);
            let want_port = i64::from(crate::render::kubernetes::external::host_port_of(unit.app));
            let slice = objects.iter().find(|o| {
                o["kind"] == "EndpointSlice" && o["metadata"]["labels"][SERVICE_NAME_LABEL] == app
            });
            match slice {
                Some(o) => {
                    let ip = o["endpoints"][0]["addresses"][0]
                        .as_str()
                        .unwrap_or_default();
                    let port = o["ports"][0]["port"].as_i64().unwrap_or(-1);
                    points.expect(cx, ip == host.address && port == want_port, &file(o), || {
                        format!(
                            "points at {ip}:{port} in {}, but `{app}` listens on {}:{want_port} there",
                            env.name, host.address
                        )
                    });
                }
                None => {
                    // A DNS name: an ExternalName Service carries the address.
                    let Some(o) = objects.iter().find(|o| o["spec"]["type"] == "ExternalName")
                    else {
                        continue;
                    };
                    let target = o["spec"]["externalName"].as_str().unwrap_or_default();
                    points.expect(cx, target == host.address, &file(o), || {
                        format!(
                            "points at {target} in {}, but the host is {}",
                            env.name, host.address
                        )
                    });
                }
            }
        }
    }
}

/// The file an overlay's object comes from: the overlay's own, else the base's, else
/// the overlay's kustomization.
fn file_of(cx: &LintContext<'_>, app: &str, overlay: &str, object: &Value) -> String {
    let same = |o: &&crate::inspect::lint::OutputObject| {
        o.value["kind"] == object["kind"]
            && o.value["metadata"]["name"] == object["metadata"]["name"]
    };
    let mine: Vec<_> = cx.objects_of_app(app).filter(same).collect();
    let base = layout::app_base(app);
    let in_dir = |dir: &str| {
        mine.iter()
            .find(|o| o.path.starts_with(&format!("{dir}/")))
            .map(|o| o.path.clone())
    };
    in_dir(overlay)
        .or_else(|| in_dir(&base))
        .unwrap_or_else(|| layout::kustomization(overlay))
}
