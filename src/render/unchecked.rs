//! Test support: renders one target from model files without the model checks, so
//! that a renderer's own escaping is tested on values the checks would refuse.

use super::{Context, OutputTree, State, Target, templates::Templates};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Files;
use std::path::Path;

/// Loads `files` (path → text) and renders `target`; returns what it wrote and its
/// diagnostics. Panics when the files do not load.
pub(crate) fn render(target: &dyn Target, files: &[(&str, &str)]) -> (OutputTree, Vec<Diagnostic>) {
    let files = Files::in_memory(
        Path::new("/unchecked"),
        files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec())),
    );
    let (project, diags) = crate::model::load_files(&files);
    let loaded = diags.into_sorted(&project.sources);
    assert!(
        loaded.iter().all(|d| !d.is_error()),
        "the model does not load: {loaded:?}"
    );
    let (state, templates) = (State::default(), Templates::default());
    let cx = Context {
        project: &project,
        state: &state,
        templates: &templates,
        sealed: &Default::default(),
    };
    let mut out = OutputTree::default();
    let mut diags = Diagnostics::default();
    target.render(&cx, &mut out, &mut diags);
    (out, diags.into_sorted(&project.sources))
}

/// The text of a file `render` wrote.
pub(crate) fn text<'a>(out: &'a OutputTree, path: &str) -> &'a str {
    let file = out.get(path).unwrap_or_else(|| {
        panic!(
            "no {path} in {:?}",
            out.iter().map(|(p, _)| p).collect::<Vec<_>>()
        )
    });
    std::str::from_utf8(&file.bytes).unwrap()
}
