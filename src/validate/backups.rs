//! Volume backups: `backup` archives a `persistent` volume (a folder kiln made), so
//! on any other source it is a located error naming the field. (Its schedule is
//! checked with the other cron schedules in `kubernetes_rules`.)

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, Source};

/// Checks the volume backups of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        for (vol_name, vol) in &app.volumes {
            if vol.backup.is_none() {
                continue;
            }
            let Some(source) = vol.source() else { continue };
            if matches!(source, Source::Persistent(_)) {
                continue;
            }
            let at = format!("/apps/{name}/volumes/{vol_name}");
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "volume `{vol_name}` of `{name}` has a `backup`, but it is `{}`, not `persistent`",
                        source.field()
                    ),
                )
                .at(env.key_span(&format!("{at}/backup")))
                .label(env.key_span(&format!("{at}/{}", source.field())), "its source")
                .help("kiln archives the persistent volumes it makes: remove `backup`, or back this data up where it lives (the claim's storage, the host folder, the NFS server)"),
            );
        }
    }
}
