//! An app's extra ports, its Service type and `hostNetwork` on a cluster (see
//! [`crate::model::Port`]): each extra port is a named container port and a port of
//! the app's Service (by name, with its protocol); `service` sets the Service's type,
//! fixed node ports and load balancer address; `hostNetwork` puts the pod in the
//! node's network with the DNS policy that keeps cluster names resolving.

use super::{AppCx, Workload};
use k8s_openapi::api::core::v1::{ContainerPort, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Adds the app's extra ports to its container and Service, its Service settings
/// and its host network.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let app = cx.app;
    for (name, p) in &app.ports {
        w.container()
            .ports
            .get_or_insert_with(Vec::new)
            .push(ContainerPort {
                name: Some(name.clone()),
                container_port: i32::from(p.port),
                protocol: Some(p.protocol.kubernetes().to_owned()),
                ..Default::default()
            });
        w.service
            .ports
            .get_or_insert_with(Vec::new)
            .push(ServicePort {
                name: Some(name.clone()),
                port: i32::from(p.port),
                target_port: Some(IntOrString::String(name.clone())),
                protocol: Some(p.protocol.kubernetes().to_owned()),
                ..Default::default()
            });
    }
    if let Some(service) = &app.service {
        w.service.type_ = Some(service.type_.as_str().to_owned());
        for port in w.service.ports.iter_mut().flatten() {
            if let Some(n) = port
                .name
                .as_ref()
                .and_then(|name| service.node_ports.get(name))
            {
                port.node_port = Some(i32::from(*n));
            }
        }
        w.service
            .load_balancer_ip
            .clone_from(&service.load_balancer_ip);
    }
    if app.host_network {
        w.pod.host_network = Some(true);
        w.pod.dns_policy = Some("ClusterFirstWithHostNet".to_owned());
    }
}
