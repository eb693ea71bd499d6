//! `nodeSelector`, `tolerations` and `affinity` (see [`crate::model::Affinity`]) on a
//! cluster: the pod's `nodeSelector`, `tolerations`, node affinity by labels (operator
//! `In`) and, for `spread`, a topology spread constraint over nodes. The migration Job
//! and the CronJobs copy the pod, so they run on the same kind of node (they do not
//! spread: they are not replicas).

use super::{AppCx, Workload};
use crate::model::LabelValues;
use crate::render::kubernetes::labels;
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PreferredSchedulingTerm, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// Adds the pod's node selector, tolerations, node affinity and spread.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let app = cx.app;
    if !app.node_selector.is_empty() {
        w.pod.node_selector = Some(app.node_selector.clone());
    }
    if !app.tolerations.is_empty() {
        w.pod.tolerations = Some(
            app.tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    operator: Some(t.operator.as_str().to_owned()),
                    value: t.value.clone(),
                    effect: t.effect.map(|e| e.as_str().to_owned()),
                    toleration_seconds: t.toleration_seconds.map(i64::from),
                })
                .collect(),
        );
    }
    let Some(affinity) = &app.affinity else {
        return;
    };
    let required = (!affinity.required.is_empty()).then(|| NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: Some(requirements(&affinity.required)),
            ..Default::default()
        }],
    });
    let preferred = (!affinity.preferred.is_empty()).then(|| {
        requirements(&affinity.preferred)
            .into_iter()
            .map(|r| PreferredSchedulingTerm {
                weight: 1,
                preference: NodeSelectorTerm {
                    match_expressions: Some(vec![r]),
                    ..Default::default()
                },
            })
            .collect()
    });
    if required.is_some() || preferred.is_some() {
        w.pod.affinity = Some(Affinity {
            node_affinity: Some(NodeAffinity {
                required_during_scheduling_ignored_during_execution: required,
                preferred_during_scheduling_ignored_during_execution: preferred,
            }),
            ..w.pod.affinity.take().unwrap_or_default()
        });
    }
    if affinity.spread {
        let selector = labels::app_pods(cx.name.as_str());
        w.pod.topology_spread_constraints = Some(vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname".to_owned(),
            when_unsatisfiable: "ScheduleAnyway".to_owned(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            }),
            ..Default::default()
        }]);
    }
}

/// One `In` requirement per label, in the order of the labels.
fn requirements(labels: &BTreeMap<String, LabelValues>) -> Vec<NodeSelectorRequirement> {
    labels
        .iter()
        .map(|(key, values)| NodeSelectorRequirement {
            key: key.clone(),
            operator: "In".to_owned(),
            values: Some(values.values()),
        })
        .collect()
}
