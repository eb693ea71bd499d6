//! App ports: extra port names as Kubernetes port names (and not `http`, the main
//! port's), no two ports of an app on one number and protocol, `service` settings
//! that name ports the app has and node ports in 30000–32767 (not taken twice on a
//! cluster), and `hostNetwork` where the placement can do it (Pod Security
//! `privileged` on a cluster; no `publish` on a host, where the ports are the host's).
//! Host ports two apps publish at once are [`super::hosts`]' conflict check.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{
    Environment, MAIN_PORT_NAME, Name, Placement, PodSecurityLevel, Protocol, ServiceType,
};
use crate::pointer::escape;
use std::collections::BTreeMap;

/// The node ports Kubernetes allocates from by default.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Checks the ports, Service and `hostNetwork` of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    // (cluster, node port, protocol) → where it was first asked for.
    let mut node_ports: BTreeMap<(Name, u16, Protocol), String> = BTreeMap::new();
    for (name, app) in env.model.enabled_apps() {
        let at = |rest: &str| format!("/apps/{name}{rest}");
        for port_name in app.ports.keys() {
            if let Err(why) = port_name_rule(port_name) {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("port name `{port_name}` of `{name}` {why}"),
                    )
                    .at(env.key_span(&at(&format!("/ports/{}", escape(port_name)))))
                    .help("name it as Kubernetes names ports: at most 15 lowercase letters, digits and `-`, with a letter, e.g. `dns` or `discovery`"),
                );
            }
        }
        // The same number twice on one protocol.
        let mut seen: BTreeMap<(u16, Protocol), String> = BTreeMap::new();
        for p in app.all_ports() {
            let pointer = port_pointer(&at(""), p.name);
            if let Some(first) = seen.get(&(p.port, p.protocol)) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!(
                            "port `{}` of `{name}` is {}/{}, as another of its ports is",
                            p.name,
                            p.port,
                            p.protocol.as_str()
                        ),
                    )
                    .at(env.span(&pointer))
                    .label(env.span(first), "the same port")
                    .help("a process listens once on a port and protocol: remove one, or give it another number (the same number on `tcp` and `udp` is two ports)"),
                );
            } else {
                seen.insert((p.port, p.protocol), pointer);
            }
        }
        let placement = env.model.placement(app);
        if let Some(service) = &app.service {
            let names: Vec<&str> = app.all_ports().iter().map(|p| p.name).collect();
            for (port_name, node_port) in &service.node_ports {
                let np_at = at(&format!("/service/nodePorts/{}", escape(port_name)));
                let Some(p) = app.all_ports().into_iter().find(|p| p.name == port_name) else {
                    diags.push(
                        Diagnostic::error(
                            checks::UNKNOWN_REFERENCE,
                            format!(
                                "`service.nodePorts` of `{name}` names port `{port_name}`, which `{name}` does not have{}",
                                crate::suggest::hint(port_name, names.iter().copied())
                            ),
                        )
                        .at(env.key_span(&np_at))
                        .help(format!("name one of its ports: {}", names.join(", "))),
                    );
                    continue;
                };
                if !NODE_PORT_RANGE.contains(node_port) {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("node port {node_port} of `{name}` is outside 30000–32767, the range Kubernetes gives node ports from"),
                        )
                        .at(env.span(&np_at))
                        .help("pick a node port in 30000–32767, or use `type: LoadBalancer` to serve the port itself"),
                    );
                } else if let Some(Placement::Cluster(cluster, _)) = placement {
                    match node_ports.get(&(cluster.clone(), *node_port, p.protocol)) {
                        Some(first) => diags.push(
                            Diagnostic::error(
                                checks::CONFLICT,
                                format!("node port {node_port}/{} is asked for twice on cluster `{cluster}`", p.protocol.as_str()),
                            )
                            .at(env.span(&np_at))
                            .label(env.span(first), "asked for here first")
                            .help("give each port its own node port"),
                        ),
                        None => {
                            node_ports.insert((cluster.clone(), *node_port, p.protocol), np_at.clone());
                        }
                    }
                }
            }
            if !service.node_ports.is_empty() && service.type_ == ServiceType::ClusterIP {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("`{name}` asks for node ports, but its Service is `ClusterIP`, which has none"),
                    )
                    .at(env.key_span(&at("/service/nodePorts")))
                    .help("set `service.type: NodePort` (or `LoadBalancer`), or remove `nodePorts`"),
                );
            }
            if let Some(ip) = &service.load_balancer_ip {
                if service.type_ != ServiceType::LoadBalancer {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("`{name}` asks for a load balancer address, but its Service is `{}`", service.type_.as_str()),
                        )
                        .at(env.key_span(&at("/service/loadBalancerIP")))
                        .help("set `service.type: LoadBalancer`, or remove `loadBalancerIP`"),
                    );
                } else if ip.parse::<std::net::IpAddr>().is_err() {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("`loadBalancerIP` of `{name}` is not an IP address"),
                        )
                        .at(env.span(&at("/service/loadBalancerIP")))
                        .help("write an address of the load balancer's pool, e.g. `192.168.1.53`"),
                    );
                }
            }
        }
        if let (Some(Placement::Host(host, _)), Some(_)) = (&placement, &app.service) {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("`{name}` runs on host `{host}`, which has no Service: `service` would do nothing there"),
                )
                .at(env.key_span(&at("/service")))
                .help("publish the ports on the host instead (`publish`, `ports.<name>.publish`), and remove `service` for this environment (`service: null`)"),
            );
        }
        if !app.host_network {
            continue;
        }
        match placement {
            Some(Placement::Cluster(cluster, _))
                if env.model.app_pod_security(name, app) != PodSecurityLevel::Privileged =>
            {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "`{name}` asks for the node's network, which Pod Security `{}` refuses on cluster `{cluster}`",
                            env.model.app_pod_security(name, app).as_str()
                        ),
                    )
                    .at(env.key_span(&at("/hostNetwork")))
                    .help(format!("serve the ports through the Service (`ports` and `service.type: LoadBalancer` or `NodePort`); or set {} to `privileged` if the node's network is really wanted", env.model.pod_security_field(name, app))),
                );
            }
            Some(Placement::Host(host, _)) => {
                let mut published: Vec<String> = Vec::new();
                if app.publish.is_some() {
                    published.push(at("/publish"));
                }
                for (port_name, p) in &app.ports {
                    if p.publish.is_some() {
                        published.push(at(&format!("/ports/{}/publish", escape(port_name))));
                    }
                }
                for pointer in published {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("`{name}` runs in the network of host `{host}`, where its ports are the host's and cannot be published"),
                        )
                        .at(env.key_span(&pointer))
                        .label(env.key_span(&at("/hostNetwork")), "the host's network")
                        .help("remove `publish` (the app listens on the host's ports itself), or remove `hostNetwork`"),
                    );
                }
            }
            _ => {}
        }
    }
}

/// The model pointer of the port named `name` of the app at `app_at`.
fn port_pointer(app_at: &str, name: &str) -> String {
    if name == MAIN_PORT_NAME {
        format!("{app_at}/port")
    } else {
        format!("{app_at}/ports/{}/port", escape(name))
    }
}

/// Kubernetes' rule for port names (`IANA_SVC_NAME`): 1–15 characters, lowercase
/// letters, digits and `-`, at least one letter, no `-` at either end or twice in a
/// row. `http` is the main port's.
fn port_name_rule(name: &str) -> Result<(), String> {
    if name == MAIN_PORT_NAME {
        return Err("is the name of the main port (`port`)".to_owned());
    }
    if name.is_empty() || name.len() > 15 {
        return Err(format!(
            "has {} characters; a port name has 1 to 15",
            name.len()
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may hold only lowercase letters, digits and `-`".to_owned());
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err("needs at least one letter".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err("may not start or end with `-` or hold `--`".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::port_name_rule;

    #[test]
    fn port_names_follow_kubernetes() {
        for ok in ["dns", "dns-tcp", "discovery", "a1", "abcdefghijklmno"] {
            assert!(port_name_rule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http",
            "",
            "abcdefghijklmnop",
            "DNS",
            "dns_udp",
            "53",
            "-dns",
            "dns-",
            "dns--udp",
        ] {
            assert!(port_name_rule(bad).is_err(), "{bad}");
        }
    }
}
