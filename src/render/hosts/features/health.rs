//! `health` (see [`crate::model::Health`]): the compose health check, and the URL
//! `deploy.sh` waits for when the app's port is published on the host.

use super::{HostAppCx, HostWorkload};
use crate::render::hosts::compose::{Healthcheck, escape_dollars};
use crate::render::templates::shell_quote;

/// Seconds between health checks.
pub const HEALTH_INTERVAL: &str = "10s";

/// Adds the app's health check and the URL deploy.sh waits for.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let Some(h) = &cx.app.health else {
        return;
    };
    w.service.healthcheck = Some(http_healthcheck(
        cx.app.port,
        &h.path,
        h.initial_delay_seconds,
    ));
    if let Some((address, port)) = cx.app.host_publish(cx.plan.name) {
        let reach = if address == "0.0.0.0" || address == "::" {
            "127.0.0.1".to_owned()
        } else {
            address
        };
        let reach = if reach.contains(':') {
            format!("[{reach}]")
        } else {
            reach
        };
        w.health_urls
            .push(format!("http://{reach}:{port}{}", h.path));
    }
}

/// The health check of an app: an HTTP request from inside the container with
/// whichever of wget (busybox, Alpine images) or curl the image has. The URL is one
/// shell word ([`shell_quote`]), and `$` is doubled for compose's interpolation, so the
/// path reaches the probe byte for byte and is never shell code.
fn http_healthcheck(port: u16, path: &str, initial_delay: Option<u32>) -> Healthcheck {
    let url = shell_quote(&format!("http://127.0.0.1:{port}{path}"));
    Healthcheck {
        test: vec![
            "CMD-SHELL".to_owned(),
            escape_dollars(&format!(
                "wget -q -O /dev/null {url} || curl -fsS -o /dev/null {url}"
            )),
        ],
        interval: HEALTH_INTERVAL.to_owned(),
        timeout: "5s".to_owned(),
        retries: 5,
        start_period: format!("{}s", initial_delay.unwrap_or(10)),
    }
}
