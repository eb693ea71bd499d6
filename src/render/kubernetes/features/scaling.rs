//! Scaling on a cluster (see [`crate::model::App::autoscale`]): a
//! HorizontalPodAutoscaler on the app's Deployment, which then leaves `replicas` to
//! it, and a PodDisruptionBudget of one unavailable pod for an app that runs more than
//! one replica, so draining a node never takes every replica down at once.

use super::{AppCx, Object, Workload};
use crate::render::kubernetes::labels;
use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricSource, CrossVersionObjectReference, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Adds the autoscaler and the disruption budget the app's model asks for.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    if let Some(scale) = &cx.app.autoscale {
        w.replicas = None;
        w.objects.push(Object::from(&HorizontalPodAutoscaler {
            metadata: cx.meta(cx.name.as_str(), "app"),
            spec: HorizontalPodAutoscalerSpec {
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some("apps/v1".to_owned()),
                    kind: cx.app.kind.kind().to_owned(),
                    name: cx.name.to_string(),
                },
                min_replicas: Some(int(scale.min)),
                max_replicas: int(scale.max),
                // The app container's CPU only: sidecars need no CPU request.
                metrics: Some(vec![MetricSpec {
                    type_: "ContainerResource".to_owned(),
                    container_resource: Some(ContainerResourceMetricSource {
                        container: cx.name.to_string(),
                        name: "cpu".to_owned(),
                        target: MetricTarget {
                            type_: "Utilization".to_owned(),
                            average_utilization: Some(int(scale.cpu_percent)),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            ..Default::default()
        }));
    }
    if fewest_replicas(cx.app) > 1 {
        let selector = labels::app_pods(cx.name.as_str());
        w.objects.push(Object::from(&PodDisruptionBudget {
            metadata: cx.meta(cx.name.as_str(), "app"),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(LabelSelector {
                    match_labels: Some(selector),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
}

/// The fewest replicas the app runs with: `autoscale.min`, or `replicas`.
pub fn fewest_replicas(app: &crate::model::App) -> u32 {
    app.autoscale.as_ref().map_or(app.replicas, |a| a.min)
}
