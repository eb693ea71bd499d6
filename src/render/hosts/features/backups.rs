//! `backup` of a persistent volume on a host (see [`crate::model::VolumeBackup`]): a
//! service `<app>-<volume>-backup` in the app's compose project, the same scheduler
//! the database backup uses (busybox `crond` in a pinned busybox image), that mounts
//! the volume's folder read-only and writes a dated `.tar.gz` into
//! `<dataDir>/<project>/backups/<app>-<volume>/`, deleting archives older than
//! `retentionDays`. Every persistent volume of the app, backed up on a schedule or
//! not, is also one `backup.sh APP` archives and `restore.sh APP FILE` restores.

use super::{HostAppCx, HostWorkload};
use crate::model::{Source, VolumeBackup, archive_prefix};
use crate::render::hosts::compose::{ImageRef, Mount, Service, escape_dollars};
use crate::render::hosts::features::volumes::data_dir;
use crate::render::hosts::scripts::VolumeArchive;
use crate::render::kubernetes::features::backups::{
    BACKUP_DIR, IMAGE, SOURCE_DIR, archive_script, backup_name,
};

/// The folder scheduled archives of a volume go to on the host.
pub fn archive_dir(data: &str, app: &str, volume: &str) -> String {
    format!("{data}/backups/{}", archive_prefix(app, volume))
}

/// The folder `backup.sh` writes a volume's archives to on the host.
pub fn manual_archive_dir(data: &str, app: &str, volume: &str) -> String {
    format!("{data}/manual-backups/{}", archive_prefix(app, volume))
}

/// The command of a volume's backup service: writes the archive script and a crontab
/// line, then runs busybox `crond` in the foreground (its jobs log to the
/// container's output).
pub fn backup_command(prefix: &str, backup: &VolumeBackup) -> String {
    let script = archive_script(SOURCE_DIR, BACKUP_DIR, prefix, backup.retention_days);
    let command = format!(
        "set -eu\n\
         mkdir -p /etc/crontabs /usr/local/bin\n\
         cat > /usr/local/bin/kiln-backup <<'EOF'\n\
         #!/bin/sh\n\
         {script}\
         EOF\n\
         chmod 0700 /usr/local/bin/kiln-backup\n\
         echo '{schedule} /usr/local/bin/kiln-backup > /proc/1/fd/1 2>&1' > /etc/crontabs/root\n\
         exec crond -f -l 6\n",
        schedule = backup.schedule,
    );
    escape_dollars(&command)
}

/// Adds a backup service per backed-up persistent volume, and every persistent
/// volume to what the scripts archive and restore.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let (data, app) = (cx.data, cx.name.as_str());
    for (volume, vol) in &cx.app.volumes {
        let Some(Source::Persistent(_)) = vol.source() else {
            continue;
        };
        let volume = volume.as_str();
        let dir = data_dir(data, app, volume);
        w.volume_archives.push(VolumeArchive {
            volume: volume.to_owned(),
            dir: dir.clone(),
            owner: cx.owner(),
            prefix: archive_prefix(app, volume),
            backup_dir: manual_archive_dir(data, app, volume),
        });
        let Some(backup) = &vol.backup else { continue };
        let archives = archive_dir(data, app, volume);
        w.own_dir(dir.clone(), cx.owner());
        w.own_dir(archives.clone(), cx.owner());
        let mut s = Service::new(ImageRef::Plain(IMAGE.to_owned()));
        s.entrypoint = Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]);
        s.command = Some(vec![backup_command(&archive_prefix(app, volume), backup)]);
        s.security_opt = vec!["no-new-privileges:true".to_owned()];
        s.volumes = vec![
            Mount::bind(dir, SOURCE_DIR.to_owned(), true),
            Mount::bind(archives, BACKUP_DIR.to_owned(), false),
        ];
        s.labels.clone_from(&w.service.labels);
        w.services.insert(backup_name(app, volume), s);
    }
}
