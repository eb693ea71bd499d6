//! Loading `environments/`: files → YAML nodes → `extends` merged → `${vars}`
//! substituted → JSON Schema checked → typed [`Model`](super::Model)s.
//!
//! One file per step, run in order by [`load_files`]: `decode` (files → YAML nodes),
//! `extends` (each environment's chain of files), `merge` (the chain into one node),
//! `interpolate` (`${name}`) and `resolve` (schema, typed model), with `span_index`
//! (pointer → span, for diagnostics on typed data).
//!
//! Every problem is collected; an environment with errors is left out of the
//! returned [`Project`], and the caller stops before rendering.

mod app_files;
mod decode;
mod extends;
mod interpolate;
mod merge;
mod resolve;
mod span_index;

pub use decode::{SEALED_DIR, add_source, problems};
pub use span_index::SpanIndex;

use super::Project;
use super::files::{ENVIRONMENTS, Files};
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use rayon::prelude::*;
use std::path::Path;

/// Loads every environment under `root/environments` from the file system.
///
/// Returns the project (with only the environments that loaded cleanly) and every
/// diagnostic found. An unreadable directory is reported as a diagnostic too.
pub fn load(root: &Path) -> (Project, Diagnostics) {
    load_files(&Files::read(root))
}

/// Loads every environment from an in-memory set of input files (the working tree's
/// or a git revision's). See [`load`].
pub fn load_files(input: &Files) -> (Project, Diagnostics) {
    let mut project = Project::default();
    let mut diags = Diagnostics::default();
    let dir = input.location(ENVIRONMENTS);
    if let Some(e) = input.env_dir_error() {
        diags.push(
            Diagnostic::error(checks::NO_ENVIRONMENT, format!("cannot read {dir}: {e}"))
                .help("run kiln in the project root, or pass --root DIR; the model lives in DIR/environments/"),
        );
        return (project, diags);
    }
    // Recorded tags and sealed values report their own folders' problems.
    diags.extend(problems(input, &mut project.sources, |p| {
        !super::files::is_under(p, super::tags::STATE_DIR) && !super::files::is_under(p, SEALED_DIR)
    }));
    let files = decode::files(input, &mut project, &mut diags);
    let (pending, extended) = extends::environments(&files, &dir, &mut diags);
    // Environments resolve independently: in parallel, diagnostics kept in order.
    let resolved: Vec<_> = pending
        .into_par_iter()
        .map(|pending| {
            let mut diags = Diagnostics::default();
            let env = resolve::resolve(pending, &mut diags);
            (env, diags)
        })
        .collect();
    for (mut env, d) in resolved {
        diags.append(d);
        if let Some(env) = &mut env {
            app_files::read(env, input, &mut diags);
        }
        project.environments.extend(env);
    }
    if !diags.has_errors() {
        extends::unused_abstract(&files, &extended, &mut diags);
    }
    project.environments.sort_by(|a, b| a.name.cmp(&b.name));
    (project, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceMap;

    #[test]
    fn loads_from_in_memory_files_with_the_same_paths_in_diagnostics() {
        let files = Files::in_memory(
            Path::new("/nowhere"),
            [
                (
                    "environments/common.yaml".to_owned(),
                    b"abstract: true\n".to_vec(),
                ),
                (
                    "environments/dev.yaml".to_owned(),
                    b"extends: common\nbogus: 1\n".to_vec(),
                ),
                (
                    "environments/README.md".to_owned(),
                    b"not a model file".to_vec(),
                ),
                ("templates/x".to_owned(), b"".to_vec()),
            ],
        );
        let (project, diags) = load_files(&files);
        let diags = diags.into_sorted(&project.sources);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].name, checks::UNKNOWN_FIELD.name);
        let span = diags[0].span.unwrap();
        assert_eq!(project.sources.location(span), "environments/dev.yaml:2:1");

        let (_, diags) = load_files(&Files::in_memory(Path::new("/nowhere"), []));
        let diags = diags.into_sorted(&SourceMap::default());
        assert_eq!(diags[0].message, "no environment in /nowhere/environments");
    }
}
