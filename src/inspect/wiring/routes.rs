//! Route → Service → port: every HTTPRoute and Ingress backend is a Service of the
//! route's app, on a port that Service has.

use super::{Points, Wire, services_of};
use crate::crd::gateway::HttpRoute;
use crate::inspect::lint::LintContext;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "route → service → port",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in cx.objects() {
        let Some(app) = &o.provenance.app else {
            continue;
        };
        let backends: Vec<(String, i64)> = match o.value["kind"].as_str() {
            // An HTTPRoute that does not read as one is one broken point.
            Some("HTTPRoute") => match HttpRoute::of(&o.value) {
                Some(route) => route
                    .spec
                    .backends()
                    .map(|b| (b.name.clone(), b.port.map_or(-1, i64::from)))
                    .collect(),
                None => vec![(String::new(), -1)],
            },
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
        let services = services_of(cx, app);
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
