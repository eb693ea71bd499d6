//! An app's volumes on a host (see [`crate::model::Volume`]): a `persistent` volume is
//! a folder `<dataDir>/<project>/<app>-<volume>` bind-mounted into the container, made
//! by `deploy.sh` and given to the user the app runs as; a host folder is bind-mounted
//! as it is; an NFS export is a compose volume of the local driver; scratch space is a
//! `tmpfs`. (A claim cannot be on a host: `validate::volumes` reports it.)

use super::{HostAppCx, HostWorkload};
use crate::model::Source;
use crate::render::hosts::compose::{Mount, Volume};

/// The folder of a persistent volume on the host.
pub fn data_dir(data: &str, app: &str, volume: &str) -> String {
    format!("{data}/{app}-{volume}")
}

/// Adds the mounts of the app's volumes to its service, the folders deploy.sh makes
/// for them, and the compose volumes of NFS exports.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let (data, name, app) = (cx.data, cx.name, cx.app);
    for (vol_name, vol) in &app.volumes {
        let Some(source) = vol.source() else {
            continue;
        };
        for (i, m) in vol.all_mounts().into_iter().enumerate() {
            let sub = m.sub_path.as_deref();
            let joined = |dir: &str| match sub {
                Some(s) => format!("{}/{s}", dir.trim_end_matches('/')),
                None => dir.to_owned(),
            };
            match source {
                Source::Persistent(_) => {
                    let dir = joined(&data_dir(data, name.as_str(), vol_name.as_str()));
                    w.own_dir(dir.clone(), cx.owner());
                    w.service
                        .volumes
                        .push(Mount::bind(dir, m.path, m.read_only));
                }
                Source::HostPath(path) => {
                    w.service
                        .volumes
                        .push(Mount::bind(joined(path), m.path, m.read_only));
                }
                Source::Nfs(nfs) => {
                    let volume = format!("{name}-{vol_name}");
                    let export = joined(&nfs.path);
                    // One compose volume per exported folder (a `subPath` is a folder of
                    // the export).
                    let key = match sub {
                        Some(_) => format!("{volume}-{}", i + 1),
                        None => volume,
                    };
                    w.volumes
                        .insert(key.clone(), Volume::nfs(&nfs.server, &export));
                    w.service
                        .volumes
                        .push(Mount::volume(key, m.path, m.read_only));
                }
                Source::Scratch(_) => w.service.tmpfs.push(m.path),
                Source::Claim(_) => {}
            }
        }
    }
}
