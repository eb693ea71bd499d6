//! `nodeSelector`, `tolerations` and `affinity` on a host: nothing. A host has no
//! nodes to choose (`runsOn` is the placement), so `validate/scheduling.rs` refuses
//! them there with a located error naming the field.

use super::{HostAppCx, HostWorkload};

/// Adds nothing: see the module documentation.
pub fn apply(_cx: &HostAppCx<'_>, _w: &mut HostWorkload) {}
