//! Which nodes of a cluster an app's pods run on: `nodeSelector`, `tolerations` and a
//! simple `affinity` by node labels (see [`crate::model::App::node_selector`]). A host
//! has no nodes: there each of them is a located error naming the field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A taint the app's pods tolerate, as in a pod's `tolerations` (and the app-template
/// chart's): `{key: gpu, operator: Equal, value: "true", effect: NoSchedule}`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// The taint's key; empty (with `operator: Exists`) tolerates every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Equal` (the default: the taint's value is `value`) or `Exists` (any value;
    /// then no `value`).
    #[serde(default)]
    pub operator: TolerationOperator,
    /// The taint's value, for `operator: Equal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The taint's effect this tolerates: `NoSchedule`, `PreferNoSchedule` or
    /// `NoExecute`; unset tolerates every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    /// With `effect: NoExecute`: how long the pod stays on a node after the taint
    /// appears; unset, forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<u32>,
}

/// How a toleration matches a taint's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    /// The taint has the toleration's `value`.
    #[default]
    Equal,
    /// The taint exists, whatever its value.
    Exists,
}

impl TolerationOperator {
    /// The operator as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TolerationOperator::Equal => "Equal",
            TolerationOperator::Exists => "Exists",
        }
    }
}

/// What a taint does to pods that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    /// New pods are not scheduled on the node.
    NoSchedule,
    /// The scheduler avoids the node.
    PreferNoSchedule,
    /// Running pods are evicted, new ones not scheduled.
    NoExecute,
}

impl TaintEffect {
    /// The effect as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// Node affinity by labels, and spreading replicas over nodes: what most apps need of
/// a pod's `affinity` without its full shape.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Affinity {
    /// Node labels a node must have, each with the value (or values) it may have:
    /// `{kubernetes.io/arch: amd64, disk: [ssd, nvme]}` (node affinity
    /// `requiredDuringSchedulingIgnoredDuringExecution`, operator `In`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub required: BTreeMap<String, LabelValues>,
    /// Node labels the scheduler prefers, each with its values (node affinity
    /// `preferredDuringSchedulingIgnoredDuringExecution`, one term of weight 1 per label).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub preferred: BTreeMap<String, LabelValues>,
    /// Spread the app's replicas over nodes where the cluster can (a topology spread
    /// constraint on `kubernetes.io/hostname`, skew 1, `ScheduleAnyway`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spread: bool,
}

impl Affinity {
    /// Whether it asks for anything.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.preferred.is_empty() && !self.spread
    }
}

/// The value a node label must have, or the values it may have.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum LabelValues {
    /// One value: `ssd`.
    One(String),
    /// Any of these values: `[ssd, nvme]`.
    Many(Vec<String>),
}

impl LabelValues {
    /// The values, in the order written.
    pub fn values(&self) -> Vec<String> {
        match self {
            LabelValues::One(v) => vec![v.clone()],
            LabelValues::Many(v) => v.clone(),
        }
    }
}
