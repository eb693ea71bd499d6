//! Caddy route → published port: every `reverse_proxy` of a host's Caddyfile goes to a
//! port something on the host publishes (a compose project kiln writes, or an upstream
//! stack).

use super::{Points, Wire};
use crate::inspect::lint::LintContext;
use crate::layout;
use serde_json::Value;
use std::collections::BTreeSet;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "Caddy route → published port",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for (path, file) in cx.output.iter() {
        let Some(host) = file.provenance.host.as_deref() else {
            continue;
        };
        if *path != layout::caddyfile(host) {
            continue;
        }
        // Ports the host's compose projects publish (upstream stacks publish their own).
        let mut published: BTreeSet<i64> = BTreeSet::new();
        for (p, f) in cx.output.iter() {
            if f.provenance.host.as_deref() != Some(host) || !layout::is_compose(p) {
                continue;
            }
            if let Ok(v) =
                serde_saphyr::from_str::<Value>(std::str::from_utf8(&f.bytes).unwrap_or_default())
            {
                for svc in v["services"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    for port in svc["ports"].as_array().into_iter().flatten() {
                        if let Some(n) = port["published"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .or_else(|| port["published"].as_i64())
                        {
                            published.insert(n);
                        }
                    }
                }
            }
        }
        for env in &cx.project.environments {
            // An app in the host's network listens on the host's ports itself.
            for (_, app) in env.model.enabled_apps() {
                if app.host_network
                    && matches!(env.model.placement(app), Some(crate::model::Placement::Host(h, _)) if h.as_str() == host)
                {
                    published.insert(i64::from(app.http_port()));
                }
            }
            for (_, stack) in env.model.enabled_stacks() {
                if env
                    .model
                    .stack_host(stack)
                    .is_some_and(|(h, _)| h.as_str() == host)
                {
                    published.insert(i64::from(stack.port));
                }
            }
        }
        let text = String::from_utf8_lossy(&file.bytes);
        for line in text.lines() {
            let Some(upstream) = line.trim().strip_prefix("reverse_proxy ") else {
                continue;
            };
            let port: i64 = upstream
                .rsplit(':')
                .next()
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(-1);
            points.expect(cx, published.contains(&port), path, || {
                format!("proxies to {upstream}, a port nothing on the host publishes")
            });
        }
    }
}
