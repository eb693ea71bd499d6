//! Devices an app's container uses: a GPU (for transcoding, machine learning) and
//! device files such as a USB Zigbee stick (see [`crate::model::App::devices`]).
//!
//! | field | on a cluster | on a host |
//! |---|---|---|
//! | `gpu` nvidia | resource limit `nvidia.com/gpu` | `deploy.resources.reservations.devices` (driver `nvidia`, capabilities `[gpu]`) |
//! | `gpu` intel, amd | resource limit `gpu.intel.com/i915`, `amd.com/gpu` | the device `/dev/dri` |
//! | `paths` | a located error (a device file needs a privileged `hostPath`) | compose `devices` |
//! | `groups` | pod `supplementalGroups` | `group_add` |

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn one() -> u32 {
    1
}

/// The devices of an app.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Devices {
    /// A GPU: `{vendor: intel}` (one), `{vendor: nvidia, count: 2}`. On a cluster a
    /// resource of the vendor's device plugin; on a host NVIDIA's container runtime or
    /// the `/dev/dri` device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<Gpu>,
    /// Device files, hosts only: `/dev/ttyUSB0` (the same path in the container), or
    /// `HOST:CONTAINER` as compose writes it
    /// (`/dev/serial/by-id/usb-ITead_Sonoff_Zigbee-if00:/dev/ttyUSB0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Group ids the container also runs in, to open the devices: the host's `render`
    /// group for a GPU under `/dev/dri` (`getent group render`), `dialout` for a serial
    /// stick. Numbers, not names: the names inside the image are not the host's. A
    /// host's `group_add`, a pod's `supplementalGroups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<u32>,
}

/// A GPU of one vendor.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Gpu {
    /// `nvidia`, `intel` or `amd`.
    pub vendor: GpuVendor,
    /// How many GPUs (default 1).
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub count: u32,
}

/// Who made a GPU, which decides how a container gets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GpuVendor {
    /// NVIDIA: the NVIDIA device plugin's `nvidia.com/gpu`; on a host the NVIDIA
    /// Container Toolkit.
    Nvidia,
    /// Intel: the Intel GPU device plugin's `gpu.intel.com/i915`; on a host `/dev/dri`.
    Intel,
    /// AMD: the AMD GPU device plugin's `amd.com/gpu`; on a host `/dev/dri`.
    Amd,
}

impl GpuVendor {
    /// The extended resource its Kubernetes device plugin offers.
    pub fn resource(self) -> &'static str {
        match self {
            GpuVendor::Nvidia => "nvidia.com/gpu",
            GpuVendor::Intel => "gpu.intel.com/i915",
            GpuVendor::Amd => "amd.com/gpu",
        }
    }
}

/// The one directory of GPU device files (`card0`, `renderD128`) Intel and AMD GPUs
/// are used through on a host.
pub const DRI: &str = "/dev/dri";

/// A device path of `paths` as (host path, container path): `HOST` is both.
pub fn device_mapping(entry: &str) -> (&str, &str) {
    entry.split_once(':').unwrap_or((entry, entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_path_maps_to_itself_unless_it_names_the_container_path() {
        assert_eq!(
            device_mapping("/dev/ttyUSB0"),
            ("/dev/ttyUSB0", "/dev/ttyUSB0")
        );
        assert_eq!(
            device_mapping("/dev/serial/by-id/x:/dev/zigbee"),
            ("/dev/serial/by-id/x", "/dev/zigbee")
        );
    }

    #[test]
    fn each_vendor_names_its_device_plugin_resource() {
        assert_eq!(GpuVendor::Nvidia.resource(), "nvidia.com/gpu");
        assert_eq!(GpuVendor::Intel.resource(), "gpu.intel.com/i915");
        assert_eq!(GpuVendor::Amd.resource(), "amd.com/gpu");
    }
}
