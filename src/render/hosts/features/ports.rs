//! An app's extra ports and `hostNetwork` on a host (see [`crate::model::Port`]): a
//! published extra port is a compose `ports:` entry with its protocol (address
//! default `127.0.0.1`, host port default the container port; an unpublished one
//! needs nothing); `hostNetwork` is `network_mode: host`, which publishes nothing
//! (the ports are the host's; `validate::ports` refuses `publish` with it). A
//! host has no Service: `service` is for clusters.

use super::{HostAppCx, HostWorkload};
use crate::render::hosts::compose::Port;

/// Adds the app's published extra ports to its service, or puts it in the host's
/// network.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let app = cx.app;
    if app.host_network {
        w.service.network_mode = Some("host".to_owned());
        w.service.ports.clear();
        return;
    }
    for p in app.ports.values() {
        let Some(publish) = &p.publish else { continue };
        w.service.ports.push(Port {
            target: p.port,
            published: publish.port.unwrap_or(p.port).to_string(),
            host_ip: publish.address.clone(),
            protocol: p.protocol.as_str(),
        });
    }
}
