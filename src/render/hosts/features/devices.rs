//! `devices` (see [`crate::model::Devices`]) on a host: an NVIDIA GPU is a device
//! reservation of the NVIDIA Container Toolkit (`deploy.resources.reservations.devices`,
//! driver `nvidia`, capabilities `[gpu]`), an Intel or AMD GPU the device folder
//! `/dev/dri`, device `paths` compose `devices`, and `groups` supplementary groups
//! (`group_add`, after `security.fsGroup`) so the app's user may open them. The app's
//! jobs and other services do not get them.

use super::{HostAppCx, HostWorkload};
use crate::model::{DRI, GpuVendor, device_mapping};
use crate::render::hosts::compose::{Deploy, DeployResources, DeviceRequest, Reservations};

/// Adds the GPU, the device files and the groups to the app's service.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let Some(devices) = &cx.app.devices else {
        return;
    };
    let s = &mut w.service;
    if let Some(gpu) = &devices.gpu {
        match gpu.vendor {
            GpuVendor::Nvidia => {
                s.deploy = Some(Deploy {
                    resources: DeployResources {
                        reservations: Reservations {
                            devices: vec![DeviceRequest {
                                driver: "nvidia",
                                count: gpu.count,
                                capabilities: vec!["gpu"],
                            }],
                        },
                    },
                });
            }
            GpuVendor::Intel | GpuVendor::Amd => s.devices.push(format!("{DRI}:{DRI}")),
        }
    }
    for entry in &devices.paths {
        let (host, container) = device_mapping(entry);
        s.devices.push(format!("{host}:{container}"));
    }
    for g in &devices.groups {
        let g = g.to_string();
        if !s.group_add.contains(&g) {
            s.group_add.push(g);
        }
    }
}
