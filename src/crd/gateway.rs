//! Gateway API's `HTTPRoute` (`gateway.networking.k8s.io/v1`). kiln writes no
//! Gateway: routes attach to a shared one the cluster has ([`ParentRef`]).

use super::{Crd, Spec};
use serde::{Deserialize, Serialize};

/// An HTTPRoute.
pub type HttpRoute = Crd<HttpRouteSpec>;

/// The Gateway (and listener) a route attaches to (`parentRefs` entry).
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ParentRef {
    /// `group`, e.g. `gateway.networking.k8s.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `kind`, e.g. `Gateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The Gateway's name; unset only for a model the model checks refuse (a
    /// `gateway` ingress without its Gateway).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Gateway's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// How a path matches.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathMatchType {
    /// The path and everything under it.
    #[default]
    PathPrefix,
    /// The path only.
    Exact,
    /// A regular expression.
    RegularExpression,
}

/// `path` of a rule's match.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PathMatch {
    /// `type`.
    #[serde(rename = "type")]
    pub type_: PathMatchType,
    /// `value`.
    pub value: String,
}

/// One entry of a rule's `matches`.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteMatch {
    /// `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
}

/// A Service a rule sends requests to (`backendRefs` entry).
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BackendRef {
    /// The Service's name.
    pub name: String,
    /// The Service's port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// One entry of `rules`.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteRule {
    /// Where matching requests go.
    pub backend_refs: Vec<BackendRef>,
    /// Which requests it takes.
    pub matches: Vec<RouteMatch>,
}

/// `spec` of an HTTPRoute.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// The hostnames it serves (none in a base whose environments serve different
    /// ones: each overlay sets its own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// The Gateways it attaches to (as `hostnames`, in the overlays when they differ).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentRef>,
    /// Its rules.
    pub rules: Vec<RouteRule>,
}

impl HttpRouteSpec {
    /// Every Service its rules send requests to.
    pub fn backends(&self) -> impl Iterator<Item = &BackendRef> {
        self.rules.iter().flat_map(|r| &r.backend_refs)
    }
}

impl Spec for HttpRouteSpec {
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const KIND: &'static str = "HTTPRoute";
}
