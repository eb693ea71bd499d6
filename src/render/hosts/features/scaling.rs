//! Scaling on a host: nothing. A compose service is one container, so `autoscale`
//! is a located error (`validate::scaling`), and a disruption budget has no meaning.

use super::{HostAppCx, HostWorkload};

/// Adds nothing: hosts do not autoscale.
pub fn apply(_cx: &HostAppCx<'_>, _w: &mut HostWorkload) {}
