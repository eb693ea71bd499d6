//! `security.fsGroup` (see [`crate::model::Security`]) on a cluster: the pod's
//! `fsGroup`, the group that owns its volumes. Root and added capabilities are part
//! of the app container's security context, which the migration Job shares
//! ([`super::super::workload`]); the namespace's Pod Security level is checked against
//! them in `validate/security.rs`.

use super::{AppCx, Workload};

/// Sets the pod's `fsGroup`.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    if let (Some(group), Some(sc)) = (cx.app.security.fs_group, w.pod.security_context.as_mut()) {
        sc.fs_group = Some(i64::from(group));
    }
}
