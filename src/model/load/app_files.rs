//! The `from` files of app files: read from the input files (`environments/<from>`,
//! through [`Files`], so links and special files are refused as everywhere else), and
//! interpolated when the file asks; a file that is missing, unreadable or not UTF-8
//! is a located error at its `from` naming where kiln looked, an unknown variable one
//! at its `from` naming the variable.

use super::interpolate::substitute_vars;
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::Environment;
use crate::model::files::{ENVIRONMENTS, Entry, Files};
use crate::pointer::escape;

/// Reads every `from` of `env`'s app files into [`crate::model::AppFile::loaded`].
pub(super) fn read(env: &mut Environment, input: &Files, diags: &mut Diagnostics) {
    let name = env.name.to_string();
    let mut loaded = Vec::new();
    for (app, a) in &env.model.apps {
        for (path, file) in &a.files {
            let Some(from) = &file.from else { continue };
            let at = env.span(&format!("/apps/{app}/files/{}/from", escape(path)));
            let rel = format!("{ENVIRONMENTS}/{from}");
            let looked = input.source_path(&rel).display().to_string();
            let missing = |why: String| {
                Box::new(Diagnostic::error(checks::UNKNOWN_REFERENCE, why)
                    .at(at)
                    .help(format!(
                        "`from` is a path relative to {ENVIRONMENTS}/: `files/prometheus.yml` is {ENVIRONMENTS}/files/prometheus.yml; create the file or correct the path"
                    )))
            };
            let text = if from
                .split('/')
                .any(|s| s == ".." || s == "." || s.is_empty())
            {
                Err(missing(format!(
                    "`from: {from}` of file `{path}` of `{app}` must name a file inside {ENVIRONMENTS}/ (no `..`, `.` or empty segment)"
                )))
            } else {
                match input.get(&rel) {
                    Some(Entry::File(bytes)) => String::from_utf8(bytes.clone()).map_err(|_| {
                        Box::new(Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("{looked}, the `from` of file `{path}` of `{app}`, is not UTF-8 text"),
                        )
                        .at(at)
                        .help("a config file is text; mount binary data as a volume"))
                    }),
                    Some(Entry::Unreadable(why)) => Err(missing(format!(
                        "cannot read {looked}, the `from` of file `{path}` of `{app}`: {why}"
                    ))),
                    None => Err(missing(format!(
                        "the `from` of file `{path}` of `{app}` does not exist: kiln looked for {looked}"
                    ))),
                }
            };
            let text = text.and_then(|t| {
                if !file.interpolate {
                    return Ok(t);
                }
                substitute_vars(&t, &name, &env.model).map_err(|e| {
                    let why = match e {
                        Some(v) => format!("`${{{v}}}` in {looked} is not defined"),
                        None => format!("`${{` in {looked} is not closed with `}}`"),
                    };
                    Box::new(Diagnostic::error(checks::INTERPOLATION, why)
                        .at(at)
                        .help("the file asks for `interpolate: true`: add the variable under `vars`, write `$${` for a literal `${`, or drop `interpolate`"))
                })
            });
            match text {
                Ok(t) => loaded.push((app.clone(), path.clone(), t)),
                Err(d) => diags.push(*d),
            }
        }
    }
    for (app, path, text) in loaded {
        if let Some(f) = env
            .model
            .apps
            .get_mut(&app)
            .and_then(|a| a.files.get_mut(&path))
        {
            f.loaded = Some(text);
        }
    }
}
