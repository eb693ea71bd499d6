//! `health` (see [`crate::model::Health`]): liveness and readiness probes on the app
//! container's `http` port.

use super::{AppCx, Workload};
use k8s_openapi::api::core::v1::{HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Adds the probes of the app's health endpoint.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let c = w.container();
    c.liveness_probe = probe(cx, true);
    c.readiness_probe = probe(cx, false);
}

fn probe(cx: &AppCx<'_>, liveness: bool) -> Option<Probe> {
    let health = cx.app.health.as_ref()?;
    let delay = if liveness {
        health.initial_delay_seconds.unwrap_or(10)
    } else {
        5
    };
    Some(Probe {
        http_get: Some(HTTPGetAction {
            path: Some(health.path.clone()),
            port: IntOrString::String("http".to_owned()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(i32::try_from(delay).unwrap_or(i32::MAX)),
        period_seconds: Some(10),
        timeout_seconds: Some(3),
        failure_threshold: Some(if liveness { 3 } else { 2 }),
        ..Default::default()
    })
}
