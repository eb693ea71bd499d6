//! An app's volumes on a host (see [`crate::model::Volume`]): a `persistent` volume is
//! a folder `<dataDir>/<project>/<app>-<volume>` bind-mounted into the container, made
//! by `deploy.sh` and given to the user the app runs as; a host folder is bind-mounted
//! as it is; an NFS export is a compose volume of the local driver; scratch space is a
//! `tmpfs`. (A claim cannot be on a host: `validate::volumes` reports it.)

use super::compose::{Mount, Service, Volume};
use super::scripts::OwnedDir;
use crate::model::{App, Name, Source};
use std::collections::BTreeMap;

/// What an app's volumes add to its compose project.
#[derive(Default)]
pub struct HostVolumes {
    /// Top-level compose volumes (NFS exports), by name.
    pub volumes: BTreeMap<String, Volume>,
    /// Folders `deploy.sh` creates and gives to the app's user.
    pub owned_dirs: Vec<OwnedDir>,
}

/// The folder of a persistent volume on the host.
pub fn data_dir(data: &str, app: &str, volume: &str) -> String {
    format!("{data}/{app}-{volume}")
}

/// Adds the mounts of `app`'s volumes to `service`; `data` is the project's folder
/// under the host's `dataDir`.
pub fn apply(data: &str, name: &Name, app: &App, service: &mut Service, out: &mut HostVolumes) {
    let uid = app.security.run_as_user;
    let gid = app.security.run_as_group.unwrap_or(uid);
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
                    if !out.owned_dirs.iter().any(|d| d.dir == dir) {
                        out.owned_dirs.push(OwnedDir {
                            dir: dir.clone(),
                            owner: format!("{uid}:{gid}"),
                        });
                    }
                    service.volumes.push(Mount::bind(dir, m.path, m.read_only));
                }
                Source::HostPath(path) => {
                    service
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
                    out.volumes
                        .insert(key.clone(), Volume::nfs(&nfs.server, &export));
                    service
                        .volumes
                        .push(Mount::volume(key, m.path, m.read_only));
                }
                Source::Scratch(_) => service.tmpfs.push(m.path),
                Source::Claim(_) => {}
            }
        }
    }
}
