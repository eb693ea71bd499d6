//! App files: each has an absolute path in the container, exactly one source
//! (`content`, `from` or `secret`), a `secret` that exists, has the key and is
//! available to the app (the secret checks follow it, [`super::secrets`]), a valid
//! mode, and a path no volume, writable path or other file of the app mounts. A
//! missing `from` file is reported by the loader, which reads it.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, file_key};
use crate::pointer::escape;
use std::collections::BTreeMap;

/// Checks the files of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let at = |rest: &str| format!("/apps/{name}{rest}");
        // Every mount path of the app, with where it was declared.
        let mut mounts: BTreeMap<String, String> = BTreeMap::new();
        for path in &app.security.writable_paths {
            mounts.insert(path.clone(), at("/security/writablePaths"));
        }
        for (vol_name, vol) in &app.volumes {
            for m in vol.all_mounts() {
                mounts.insert(m.path, at(&format!("/volumes/{vol_name}")));
            }
        }
        for (path, file) in &app.files {
            let file_at = at(&format!("/files/{}", escape(path)));
            if !path.starts_with('/') {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("file `{path}` of `{name}` is not an absolute path"),
                    )
                    .at(env.key_span(&file_at))
                    .help(format!("write the path in the container, e.g. `/{path}`")),
                );
            }
            match file.source_count() {
                1 => {}
                n => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        if n == 0 {
                            format!("file `{path}` of `{name}` has no source")
                        } else {
                            format!("file `{path}` of `{name}` has {n} sources")
                        },
                    )
                    .at(env.key_span(&file_at))
                    .help("give it exactly one of `content` (inline text), `from` (a file under environments/, e.g. `files/app.conf`) or `secret: {secret, key}`"),
                ),
            }
            if let Some(r) = &file.secret {
                super::references::secret_ref(env, &format!("{file_at}/secret"), r, diags);
                if file.interpolate {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("secret file `{path}` of `{name}` cannot be interpolated"),
                        )
                        .at(env.span(&format!("{file_at}/interpolate")))
                        .help("kiln never reads a secret's value; remove `interpolate`"),
                    );
                }
            }
            if file.mode.is_some() && file.mode_bits().is_none() {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("the mode of file `{path}` of `{name}` is not an octal mode"),
                    )
                    .at(env.span(&format!("{file_at}/mode")))
                    .help("write it as an octal string, e.g. \"0440\""),
                );
            }
            // The same path, a file inside another mount's file, or a mount inside
            // this file (a file is no folder); a file inside a volume's folder is fine.
            let clash = |other: &str| {
                other == path
                    || path.starts_with(&format!("{other}/")) && app.files.contains_key(other)
                    || other.starts_with(&format!("{path}/"))
            };
            let conflict = mounts
                .iter()
                .find(|(m, _)| clash(m))
                .map(|(m, w)| (m.clone(), w.clone()))
                .or_else(|| {
                    app.files
                        .keys()
                        .find(|other| {
                            // Reported once, at the later of the two.
                            other.as_str() < path.as_str()
                                && (clash(other) || file_key(other) == file_key(path))
                        })
                        .map(|o| (o.clone(), at(&format!("/files/{}", escape(o)))))
                });
            if let Some((other, where_)) = conflict {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("file `{path}` of `{name}` conflicts with the mount at `{other}`"),
                    )
                    .at(env.key_span(&file_at))
                    .label(env.key_span(&where_), "mounted here")
                    .help("mount the file at a path of its own (a file, not a folder another mount uses)"),
                );
            }
        }
    }
}
