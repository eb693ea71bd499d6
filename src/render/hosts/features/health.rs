//! `health` (see [`crate::model::Health`]): the compose health check, derived from the
//! same probe as on a cluster, and the URL `deploy.sh` waits for when the app's HTTP
//! port is published on the host. The check never assumes a tool the image may lack:
//! an HTTP probe runs the model's `tool`, anything else the model's `hostCommand` or
//! `command` (validate/health.rs reports a probe a host cannot run).

use super::{HostAppCx, HostWorkload};
use crate::model::Health;
use crate::render::hosts::compose::{Healthcheck, escape_dollars};

/// Seconds between health checks.
pub const HEALTH_INTERVAL: &str = "10s";

/// Adds the app's health check and the URL deploy.sh waits for.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let Some(h) = &cx.app.health else {
        return;
    };
    w.service.healthcheck = healthcheck(cx.app.http_port(), h);
    if let Some(path) = &h.path
        && let Some((address, port)) = cx.app.host_publish(cx.plan.name)
    {
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
        w.health_urls.push(format!("http://{reach}:{port}{path}"));
    }
}

/// The command compose runs in the container: `hostCommand`, else the command probe,
/// else the HTTP probe with the image's tool; `None` when the model gives none.
pub fn host_command(port: u16, h: &Health) -> Option<Vec<String>> {
    if let Some(c) = &h.host_command {
        return Some(c.clone());
    }
    if let Some(c) = &h.command {
        return Some(c.clone());
    }
    let path = h.path.as_ref()?;
    Some(h.tool?.command(&format!("http://127.0.0.1:{port}{path}")))
}

/// The health check of an app: `CMD` and the words (no shell, so a path or argument is
/// never shell code), `$` doubled for compose's interpolation so each word reaches the
/// container byte for byte.
fn healthcheck(port: u16, h: &Health) -> Option<Healthcheck> {
    let words = host_command(port, h)?;
    let start = match h.startup_probe() {
        Some((period, failures)) => period.saturating_mul(failures),
        None => h.initial_delay_seconds.unwrap_or(10),
    };
    Some(Healthcheck {
        test: std::iter::once("CMD".to_owned())
            .chain(words.iter().map(|w| escape_dollars(w)))
            .collect(),
        interval: match h.period_seconds {
            Some(p) => format!("{p}s"),
            None => HEALTH_INTERVAL.to_owned(),
        },
        timeout: format!("{}s", h.timeout_seconds.unwrap_or(5)),
        retries: h.failure_threshold.unwrap_or(5),
        start_period: format!("{start}s"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HealthTool;

    #[test]
    fn the_check_runs_only_the_tool_the_model_names() {
        let h = Health {
            path: Some("/a$b".into()),
            tool: Some(HealthTool::Curl),
            startup_seconds: Some(120),
            ..Default::default()
        };
        let c = healthcheck(8080, &h).unwrap();
        assert_eq!(
            c.test,
            [
                "CMD",
                "curl",
                "-fsS",
                "-o",
                "/dev/null",
                "http://127.0.0.1:8080/a$$b"
            ]
        );
        assert_eq!(c.start_period, "120s");
        let untold = Health {
            path: Some("/".into()),
            ..Default::default()
        };
        assert!(healthcheck(8080, &untold).is_none());
        let tcp = Health {
            tcp: true,
            host_command: Some(vec![
                "nc".into(),
                "-z".into(),
                "127.0.0.1".into(),
                "2368".into(),
            ]),
            ..Default::default()
        };
        assert_eq!(healthcheck(2368, &tcp).unwrap().test[1], "nc");
    }
}
