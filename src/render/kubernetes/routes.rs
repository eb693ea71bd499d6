//! HTTP routes: Gateway API `HTTPRoute`s or Traefik `Ingress`es, from the same route
//! declarations. Routes marked `tunnel` are reached through the cluster's tunnel
//! instead and get a network policy (see `network`).

use super::{AppCx, Object, labels};
use crate::crd::gateway::{
    BackendRef, HttpRoute, HttpRouteSpec, ParentRef, PathMatch, PathMatchType, RouteMatch,
    RouteRule,
};
use crate::model::IngressKind;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeMap, BTreeSet};

/// The route objects of an app.
pub fn objects(cx: &AppCx<'_>) -> Vec<Object> {
    // Hostnames by path prefix, for routes served by the cluster's own ingress.
    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (_, route) in cx.routes.iter().filter(|(_, r)| !r.tunnel) {
        by_path
            .entry(route.path.as_str())
            .or_default()
            .insert(route.host.as_str());
    }
    if by_path.is_empty() {
        return Vec::new();
    }
    match cx.cluster.ingress.kind {
        IngressKind::Gateway => by_path
            .iter()
            .map(|(path, hosts)| http_route(cx, path, hosts))
            .collect(),
        IngressKind::Traefik => vec![ingress(cx, &by_path)],
    }
}

/// The name of the route object for a path prefix: the app's name for `/`.
pub fn route_name(app: &str, path: &str) -> String {
    let suffix = super::pod::volume_name(path);
    if suffix == "root" {
        app.to_owned()
    } else {
        format!("{app}-{suffix}")
    }
}

fn http_route(cx: &AppCx<'_>, path: &str, hosts: &BTreeSet<&str>) -> Object {
    let gateway = cx.cluster.ingress.gateway.as_ref();
    let parent = ParentRef {
        group: Some("gateway.networking.k8s.io".to_owned()),
        kind: Some("Gateway".to_owned()),
        name: gateway.map(|g| g.name.to_string()),
        namespace: gateway.map(|g| g.namespace.to_string()),
        section_name: gateway
            .and_then(|g| g.listener.as_ref())
            .map(|l| l.to_string()),
    };
    Object::from(&HttpRoute {
        metadata: ObjectMeta {
            name: Some(route_name(cx.name.as_str(), path)),
            labels: Some(labels::standard(
                cx.name.as_str(),
                cx.group.as_str(),
                "route",
            )),
            ..Default::default()
        },
        spec: HttpRouteSpec {
            hostnames: hosts.iter().map(|h| (*h).to_owned()).collect(),
            parent_refs: vec![parent],
            rules: vec![RouteRule {
                backend_refs: vec![BackendRef {
                    name: cx.name.to_string(),
                    port: Some(cx.service_port),
                }],
                matches: vec![RouteMatch {
                    path: Some(PathMatch {
                        type_: PathMatchType::PathPrefix,
                        value: path.to_owned(),
                    }),
                }],
            }],
        },
    })
}

fn ingress(cx: &AppCx<'_>, by_path: &BTreeMap<&str, BTreeSet<&str>>) -> Object {
    let mut by_host: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (path, hosts) in by_path {
        for host in hosts {
            by_host.entry(host).or_default().push(path);
        }
    }
    let rules = by_host
        .into_iter()
        .map(|(host, paths)| IngressRule {
            host: Some(host.to_owned()),
            http: Some(HTTPIngressRuleValue {
                paths: paths
                    .into_iter()
                    .map(|path| HTTPIngressPath {
                        path: Some(path.to_owned()),
                        path_type: "Prefix".to_owned(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: cx.name.to_string(),
                                port: Some(ServiceBackendPort {
                                    number: Some(i32::from(cx.service_port)),
                                    name: None,
                                }),
                            }),
                            resource: None,
                        },
                    })
                    .collect(),
            }),
        })
        .collect();
    Object::from(&Ingress {
        metadata: ObjectMeta {
            name: Some(cx.name.to_string()),
            labels: Some(labels::standard(
                cx.name.as_str(),
                cx.group.as_str(),
                "route",
            )),
            ..Default::default()
        },
        spec: Some(IngressSpec {
            ingress_class_name: cx
                .cluster
                .ingress
                .class_name
                .as_ref()
                .map(|c| c.to_string()),
            rules: Some(rules),
            ..Default::default()
        }),
        ..Default::default()
    })
}
