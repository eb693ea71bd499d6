//! An app's files on a host (see [`crate::model::AppFile`]): a text file is written
//! under the project's folder in `out/` (`files/<app>/<key>`) and bind-mounted
//! read-only (the compose file's relative paths are relative to that folder), and
//! the service carries a `kiln.files` label with [`crate::model::content_hash`] of
//! the app's text files, so `docker compose up` recreates the container when one
//! changes (a bind-mounted file's content alone would not). A secret file is a file
//! on the host, `<dataDir>/<project>/secrets/<app>/<key>`, that the operator puts
//! there (the runbook's "By hand" section says with which value, owner and mode) and
//! `deploy.sh` requires, present, not empty and not readable by every user,
//! bind-mounted read-only. No value of a secret is ever written to `out/`. A text
//! file's `mode` has no effect on a host (its file in `out/` is the repository's).

use super::{HostAppCx, HostWorkload};
use crate::model::{
    App, Environment, FileSource, SECRET_FILE_MODE, content_hash, file_key, text_files,
};
use crate::render::hosts::compose::Mount;
use crate::render::hosts::env_file::secret_var;
use crate::render::hosts::scripts::SecretFile;

/// The label whose value is the hash of the app's text files.
pub const FILES_LABEL: &str = "kiln.files";

/// Where the secret file of `app` at container path key `key` lives on the host.
pub fn secret_file_path(data: &str, app: &str, key: &str) -> String {
    format!("{data}/secrets/{app}/{key}")
}

/// The secret files of app `name` in the project whose folder on the host is `data`,
/// by container path: what `deploy.sh` requires and the runbook describes.
pub fn secret_files(env: &Environment, data: &str, name: &str, app: &App) -> Vec<SecretFile> {
    let (uid, gid) = (app.security.uid(), app.security.gid());
    app.files
        .iter()
        .filter_map(|(path, file)| match file.source()? {
            FileSource::Secret(r) => Some(SecretFile {
                path: secret_file_path(data, name, &file_key(path)),
                target: path.clone(),
                secret: r.secret.to_string(),
                key: r.key.clone(),
                uid,
                gid,
                mode: format!("{:04o}", file.mode_bits().unwrap_or(SECRET_FILE_MODE)),
                source: secret_var(env, "", r).comments,
            }),
            FileSource::Text(_) => None,
        })
        .collect()
}

/// Adds the app's files: generated files with their bind mounts and the label of
/// their hash, and the secret files `deploy.sh` requires with theirs.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let app = cx.name.as_str();
    let texts = text_files(&cx.app.files);
    for (path, file) in &cx.app.files {
        if let Some(FileSource::Text(text)) = file.source() {
            let rel = crate::layout::host_app_file(app, &file_key(path));
            w.service
                .volumes
                .push(Mount::bind(format!("./{rel}"), path.clone(), true));
            w.files.push((rel, text.as_bytes().to_vec()));
        }
    }
    if !texts.is_empty() {
        w.service
            .labels
            .insert(FILES_LABEL.to_owned(), content_hash(&texts));
    }
    for f in secret_files(cx.env, cx.data, app, cx.app) {
        w.service
            .volumes
            .push(Mount::bind(f.path.clone(), f.target.clone(), true));
        w.secret_files.push(f);
    }
}
