//! `devices` (see [`crate::model::Devices`]) on a cluster: a GPU is a limit of its
//! vendor's device plugin resource on the app's container (`nvidia.com/gpu`,
//! `gpu.intel.com/i915`, `amd.com/gpu`; a limit alone makes the request the same),
//! `groups` the pod's `supplementalGroups`. Device files (`paths`) would need a
//! privileged `hostPath`: `validate/devices.rs` refuses them, so nothing here.

use super::{AppCx, Workload};
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Adds the GPU limit and the supplementary groups.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let Some(devices) = &cx.app.devices else {
        return;
    };
    if let Some(gpu) = &devices.gpu {
        let resources = w
            .container()
            .resources
            .get_or_insert_with(ResourceRequirements::default);
        resources
            .limits
            .get_or_insert_with(Default::default)
            .insert(
                gpu.vendor.resource().to_owned(),
                Quantity(gpu.count.to_string()),
            );
    }
    if !devices.groups.is_empty()
        && let Some(sc) = w.pod.security_context.as_mut()
    {
        let groups = sc.supplemental_groups.get_or_insert_with(Vec::new);
        for g in &devices.groups {
            if !groups.contains(&i64::from(*g)) {
                groups.push(i64::from(*g));
            }
        }
    }
}
