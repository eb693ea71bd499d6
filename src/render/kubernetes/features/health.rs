//! `health` (see [`crate::model::Health`]): liveness and readiness probes (HTTP on the
//! container's `http` port, a TCP connection to it, or a command), and a startup probe
//! for a slow starter.

use super::{AppCx, Workload};
use crate::model::Health;
use k8s_openapi::api::core::v1::{ExecAction, HTTPGetAction, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Adds the probes of the app's health check.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let Some(health) = cx.app.health.as_ref() else {
        return;
    };
    let c = w.container();
    c.liveness_probe = Some(probe(health, Use::Liveness));
    c.readiness_probe = Some(probe(health, Use::Readiness));
    c.startup_probe = health.startup_probe().map(|_| probe(health, Use::Startup));
}

#[derive(Clone, Copy, PartialEq)]
enum Use {
    Liveness,
    Readiness,
    Startup,
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn probe(health: &Health, kind: Use) -> Probe {
    let port = || IntOrString::String("http".to_owned());
    let mut p = Probe {
        timeout_seconds: Some(int(health.timeout_seconds.unwrap_or(3))),
        ..Default::default()
    };
    if let Some(path) = &health.path {
        let path = match kind {
            Use::Readiness => health.ready_path.as_ref().unwrap_or(path),
            Use::Liveness | Use::Startup => path,
        };
        p.http_get = Some(HTTPGetAction {
            path: Some(path.clone()),
            port: port(),
            ..Default::default()
        });
    } else if let Some(command) = &health.command {
        p.exec = Some(ExecAction {
            command: Some(command.clone()),
        });
    } else {
        p.tcp_socket = Some(TCPSocketAction {
            port: port(),
            ..Default::default()
        });
    }
    let period = health.period_seconds.unwrap_or(10);
    let (delay, period, failures) = match kind {
        Use::Liveness => (
            health.initial_delay_seconds.unwrap_or(10),
            period,
            health.failure_threshold.unwrap_or(3),
        ),
        Use::Readiness => (5, period, health.failure_threshold.unwrap_or(2)),
        Use::Startup => {
            let (period, failures) = health.startup_probe().unwrap_or((10, 30));
            (0, period, failures)
        }
    };
    if kind != Use::Startup || delay > 0 {
        p.initial_delay_seconds = Some(int(delay));
    }
    p.period_seconds = Some(int(period));
    p.failure_threshold = Some(int(failures));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_asks_ready_path_when_there_is_one() {
        let health = Health {
            path: Some("/-/healthy".to_owned()),
            ready_path: Some("/-/ready".to_owned()),
            ..Default::default()
        };
        let path = |u| probe(&health, u).http_get.unwrap().path.unwrap();
        assert_eq!(path(Use::Liveness), "/-/healthy");
        assert_eq!(path(Use::Startup), "/-/healthy");
        assert_eq!(path(Use::Readiness), "/-/ready");
        let plain = Health {
            path: Some("/up".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            probe(&plain, Use::Readiness)
                .http_get
                .unwrap()
                .path
                .unwrap(),
            "/up"
        );
    }

    #[test]
    fn each_kind_is_its_probe_and_startup_counts_seconds() {
        let tcp = Health {
            tcp: true,
            startup_seconds: Some(95),
            ..Default::default()
        };
        let p = probe(&tcp, Use::Liveness);
        assert!(p.tcp_socket.is_some() && p.http_get.is_none() && p.exec.is_none());
        assert_eq!(p.failure_threshold, Some(3));
        let s = probe(&tcp, Use::Startup);
        assert_eq!(
            (s.period_seconds, s.failure_threshold),
            (Some(10), Some(10))
        );
        let cmd = Health {
            command: Some(vec!["pg_isready".into()]),
            period_seconds: Some(30),
            ..Default::default()
        };
        let p = probe(&cmd, Use::Readiness);
        assert_eq!(p.exec.unwrap().command, Some(vec!["pg_isready".to_owned()]));
        assert_eq!(p.period_seconds, Some(30));
    }
}
