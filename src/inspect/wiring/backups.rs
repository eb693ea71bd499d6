//! Backup job → database service: the `pg_dump` of an app's backup CronJob reads from
//! a Service of the app.

use super::{Points, Wire, objects_of, services_of};
use crate::inspect::lint::LintContext;
use serde_json::Value;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "backup job → database service",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in objects_of(cx, "CronJob") {
        let Some(app) = &o.provenance.app else {
            continue;
        };
        let pod = &o.value["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        for c in pod["containers"].as_array().into_iter().flatten() {
            let script = c["command"]
                .as_array()
                .and_then(|a| a.last())
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some(host) = script
                .split_whitespace()
                .skip_while(|w| *w != "pg_dump")
                .skip_while(|w| *w != "-h")
                .nth(1)
            else {
                continue;
            };
            let services = services_of(cx, app);
            points.expect(cx, services.contains_key(host), &o.path, || {
                format!("dumps from `{host}`, which is not the app's database Service")
            });
        }
    }
}
