//! Scaling an app on a cluster: a HorizontalPodAutoscaler between `min` and `max`
//! replicas on a CPU target (see [`crate::model::App::autoscale`]). Hosts run one copy
//! of a compose service and cannot autoscale (a located error).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A HorizontalPodAutoscaler (`autoscaling/v2`) on the app's Deployment, scaling on
/// its CPU use relative to its CPU request. The autoscaler owns the replica count:
/// the Deployment leaves `replicas` out, so a reconcile does not reset what it chose.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscale {
    /// The fewest replicas (at least 1).
    #[schemars(range(min = 1))]
    pub min: u32,
    /// The most replicas (at least `min`).
    #[schemars(range(min = 1))]
    pub max: u32,
    /// The average CPU use the autoscaler keeps, in percent of `resources.requests.cpu`
    /// (which the app must set), e.g. `75`.
    #[schemars(range(min = 1, max = 1000))]
    pub cpu_percent: u32,
}
