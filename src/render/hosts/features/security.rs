//! `security.root`, `security.capabilities` and `security.fsGroup` (see
//! [`crate::model::Security`]) on a host: an image that must start as root gets no
//! compose `user` (it starts as the image's user, root), added capabilities are
//! `cap_add` (every other one stays dropped), `fsGroup` a supplementary group
//! (`group_add`).

use super::{HostAppCx, HostWorkload};

/// Sets the service's user, added capabilities and supplementary group.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let sec = &cx.app.security;
    if sec.root.is_some() {
        w.service.user = None;
    }
    w.service.cap_add = sec.added_capabilities().to_vec();
    w.service.group_add = sec.fs_group.map(|g| g.to_string()).into_iter().collect();
}
