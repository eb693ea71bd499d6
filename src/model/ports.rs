//! An app's extra named ports, the Service that exposes them on a cluster, and
//! `hostNetwork`: what [`super::App`] says beyond its main HTTP `port`.

use super::{App, Name, Publish};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The name of an app's main HTTP port (`port`), which no extra port may take.
pub const MAIN_PORT_NAME: &str = "http";

/// One extra port the container listens on, e.g. DNS on UDP 53.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Port {
    /// The port the container listens on.
    pub port: u16,
    /// `tcp` (default) or `udp`.
    #[serde(default)]
    pub protocol: Protocol,
    /// On a host: publish the port on this host address and port. The address
    /// defaults to `127.0.0.1` (only the host itself reaches it): write
    /// `address: 0.0.0.0` for a port the LAN must reach, such as DNS or discovery.
    /// The host port defaults to the container port. An unpublished port is not
    /// published on a host; on a cluster every port is on the app's Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

/// A transport protocol.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// As Kubernetes spells it (`TCP`, `UDP`).
    pub fn kubernetes(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }

    /// As compose and the model spell it (`tcp`, `udp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// How a cluster exposes the app's Service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ServiceType {
    /// Reached inside the cluster only (and through the app's routes).
    #[default]
    ClusterIP,
    /// Also on a port of every node (30000–32767).
    NodePort,
    /// Also on an address of the cluster's load balancer (MetalLB, Cilium LB IPAM,
    /// a cloud's).
    LoadBalancer,
}

impl ServiceType {
    /// As Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// The app's Service on a cluster (a host has no Service: there `publish` decides).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSettings {
    /// `ClusterIP` (default), `NodePort` or `LoadBalancer`.
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    /// Fixed node ports by port name (`http` is the main port), each 30000–32767;
    /// `NodePort` or `LoadBalancer` only. Unlisted ports get one Kubernetes picks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_ports: BTreeMap<String, u16>,
    /// The address a `LoadBalancer` Service asks for, e.g. `192.168.1.53`.
    #[serde(
        default,
        rename = "loadBalancerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub load_balancer_ip: Option<String>,
}

/// One port of an app, the main one or an extra one.
#[derive(Clone, Debug, PartialEq)]
pub struct AppPort<'a> {
    /// Its name (`http` for the main port).
    pub name: &'a str,
    /// The container port.
    pub port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// Where it is published on a host, when it is.
    pub publish: Option<&'a Publish>,
}

/// A port an app binds on a host.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBinding {
    /// The port's name (`http` for the main port).
    pub name: String,
    /// The host address.
    pub address: String,
    /// The host port.
    pub host_port: u16,
    /// The container port.
    pub port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// The model pointer under `/apps/<app>` that says so, e.g. `/ports/dns/publish`.
    pub pointer: String,
}

impl App {
    /// The main (`http`) port. Only an app of `kind: jobs` has none (0 here), and the
    /// model checks refuse what would use it there (a route, a probe, `publish`).
    pub fn http_port(&self) -> u16 {
        self.port.unwrap_or_default()
    }

    /// Every port of the app: the main `http` port first, then the extra ones by name.
    pub fn all_ports(&self) -> Vec<AppPort<'_>> {
        let mut out: Vec<AppPort<'_>> = self
            .port
            .map(|port| AppPort {
                name: MAIN_PORT_NAME,
                port,
                protocol: Protocol::Tcp,
                publish: self.publish.as_ref(),
            })
            .into_iter()
            .collect();
        out.extend(self.ports.iter().map(|(name, p)| AppPort {
            name,
            port: p.port,
            protocol: p.protocol,
            publish: p.publish.as_ref(),
        }));
        out
    }

    /// What the app binds on host `host`: the main port as [`App::host_publish`] says,
    /// and every published extra port (address default `127.0.0.1`, host port default
    /// the container port). With `hostNetwork` the container's ports are the host's:
    /// every port is bound on `0.0.0.0`, as the process listens.
    pub fn host_bindings(&self, host: &Name) -> Vec<HostBinding> {
        if self.host_network {
            return self
                .all_ports()
                .into_iter()
                .map(|p| HostBinding {
                    name: p.name.to_owned(),
                    address: "0.0.0.0".to_owned(),
                    host_port: p.port,
                    port: p.port,
                    protocol: p.protocol,
                    pointer: if p.name == MAIN_PORT_NAME {
                        "/port".to_owned()
                    } else {
                        format!("/ports/{}/port", crate::pointer::escape(p.name))
                    },
                })
                .collect();
        }
        let mut out = Vec::new();
        if let Some((address, host_port)) = self.host_publish(host) {
            let pointer = match &self.publish {
                Some(p) if p.port.is_some() => "/publish/port",
                Some(_) => "/publish",
                None => "/port",
            };
            out.push(HostBinding {
                name: MAIN_PORT_NAME.to_owned(),
                address,
                host_port,
                port: self.http_port(),
                protocol: Protocol::Tcp,
                pointer: pointer.to_owned(),
            });
        }
        for (name, p) in &self.ports {
            let Some(publish) = &p.publish else { continue };
            let at = format!("/ports/{}", crate::pointer::escape(name));
            out.push(HostBinding {
                name: name.clone(),
                address: publish.address.clone(),
                host_port: publish.port.unwrap_or(p.port),
                port: p.port,
                protocol: p.protocol,
                pointer: if publish.port.is_some() {
                    format!("{at}/publish/port")
                } else {
                    format!("{at}/publish")
                },
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(extra: serde_json::Value) -> App {
        let mut v = serde_json::json!({
            "image": {"registry": "hub", "repository": "tools/media"},
            "port": 8096,
            "ports": {
                "discovery": {"port": 7359, "protocol": "udp", "publish": {}},
                "dlna": {"port": 1900, "protocol": "udp"}
            }
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn published_extra_ports_bind_loopback_on_their_own_port_by_default() {
        let host = Name::parse("box").unwrap();
        let b = app(serde_json::json!({})).host_bindings(&host);
        // The main port is not routed nor published; dlna is not published.
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(
            (b[0].address.as_str(), b[0].host_port, b[0].protocol),
            ("127.0.0.1", 7359, Protocol::Udp)
        );
        assert_eq!(b[0].pointer, "/ports/discovery/publish");
    }

    #[test]
    fn host_network_binds_every_port_on_every_address() {
        let host = Name::parse("box").unwrap();
        let b = app(serde_json::json!({"hostNetwork": true})).host_bindings(&host);
        let got: Vec<_> = b
            .iter()
            .map(|b| (b.name.as_str(), b.address.as_str(), b.host_port))
            .collect();
        assert_eq!(
            got,
            [
                ("http", "0.0.0.0", 8096),
                ("discovery", "0.0.0.0", 7359),
                ("dlna", "0.0.0.0", 1900)
            ]
        );
    }
}
