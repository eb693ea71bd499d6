//! An app's volumes on a host (see [`crate::model::Volume`]): a `persistent` volume is
//! a folder `<dataDir>/<project>/<app>-<volume>` bind-mounted into the container, made
//! by `deploy.sh` and given to the user the app runs as; a host folder is bind-mounted
//! as it is; an NFS export is a compose volume of the local driver; scratch space is a
//! `tmpfs`. (A claim cannot be on a host: `validate::volumes` reports it.)

use super::{HostAppCx, HostWorkload};
use crate::model::{Source, VolumeMount};
use crate::render::hosts::compose::{Mount, Volume};

/// The folder of a persistent volume on the host.
pub fn data_dir(data: &str, app: &str, volume: &str) -> String {
    format!("{data}/{app}-{volume}")
}

/// Adds the mounts of the app's volumes to its service, the folders deploy.sh makes
/// for them, and the compose volumes of NFS exports.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let (name, app) = (cx.name, cx.app);
    for (vol_name, vol) in &app.volumes {
        let Some(source) = vol.source() else {
            continue;
        };
        for (i, m) in vol.all_mounts().into_iter().enumerate() {
            if let Source::Scratch(_) = source {
                w.service.tmpfs.push(m.path);
                continue;
            }
            // One compose volume per exported folder (a `subPath` is a folder of the
            // export).
            let nfs_key = match &m.sub_path {
                Some(_) => format!("{name}-{vol_name}-{}", i + 1),
                None => format!("{name}-{vol_name}"),
            };
            if let Some(mount) = mount(cx, w, vol_name.as_str(), source, &m, nfs_key) {
                w.service.volumes.push(mount);
            }
        }
    }
}

/// The compose mount of `m`, a mount of the app's volume `vol_name` (whichever of the
/// app's services mounts it), and what it needs: the folder `deploy.sh` makes for a
/// persistent volume, the compose volume `nfs_key` of an NFS export. `None` for
/// scratch space (one container's `tmpfs`) and claims (which a host cannot have).
pub fn mount(
    cx: &HostAppCx<'_>,
    w: &mut HostWorkload,
    vol_name: &str,
    source: Source<'_>,
    m: &VolumeMount,
    nfs_key: String,
) -> Option<Mount> {
    let joined = |dir: &str| match &m.sub_path {
        Some(sub) => format!("{}/{sub}", dir.trim_end_matches('/')),
        None => dir.to_owned(),
    };
    match source {
        Source::Persistent(_) => {
            let dir = joined(&data_dir(cx.data, cx.name.as_str(), vol_name));
            w.own_dir(dir.clone(), cx.owner());
            Some(Mount::bind(dir, m.path.clone(), m.read_only))
        }
        Source::HostPath(path) => Some(Mount::bind(joined(path), m.path.clone(), m.read_only)),
        Source::Nfs(nfs) => {
            w.volumes.insert(
                nfs_key.clone(),
                Volume::nfs(&nfs.server, &joined(&nfs.path)),
            );
            Some(Mount::volume(nfs_key, m.path.clone(), m.read_only))
        }
        Source::Scratch(_) | Source::Claim(_) => None,
    }
}
