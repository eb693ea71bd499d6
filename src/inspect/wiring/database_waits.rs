//! Wait-for-db → database Service and port: the init container that waits for the
//! database names a Service of the app, on a port it has.

use super::{Points, Wire, services_of};
use crate::inspect::lint::LintContext;
use serde_json::Value;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "wait-for-db → database service and port",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in cx.objects() {
        let Some(app) = &o.provenance.app else {
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
            let services = services_of(cx, app);
            points.expect(
                cx,
                services.get(&target).is_some_and(|p| p.contains(&port)),
                &o.path,
                || format!("waits for `{target}:{port}`, which is not the app's database Service"),
            );
        }
    }
}
