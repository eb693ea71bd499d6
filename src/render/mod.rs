//! Rendering: each target turns the model into files, in memory.
//!
//! A target is a unit struct implementing [`Target`], listed once in [`TARGETS`].
//! `kiln targets`, `--target` and the docs are derived from that list. Renderers do
//! no I/O: what they need from the disk (tags written by automation) arrives in the
//! [`State`] the output stage read before rendering.

pub mod docs;
pub mod flux;
pub mod hosts;
pub mod images;
pub mod kubernetes;
mod output_tree;
pub mod pipelines;
mod runbook;
pub mod secrets;
pub mod templates;
pub mod yaml;

pub use output_tree::{OutputFile, OutputTree};
pub use templates::Templates;

use crate::diagnostic::Diagnostics;
use crate::model::Project;
use std::collections::BTreeMap;

/// What renderers receive.
pub struct Context<'a> {
    /// Every environment.
    pub project: &'a Project,
    /// What the output stage found on disk that the build must keep.
    pub state: &'a State,
    /// Text templates (defaults plus the project's overrides).
    pub templates: &'a Templates,
    /// The committed sealed values (`environments/sealed/<env>.yaml`).
    pub sealed: &'a crate::secrets::sealed_file::Sealed,
}

/// Tags that automation owns, read before rendering so a build never reverts them.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Image tags Flux image automation committed into the output, by (app, environment).
    pub image_tags: BTreeMap<(String, String), String>,
    /// Image tags recorded by `kiln set-image`, by (app, environment).
    pub recorded_tags: BTreeMap<(String, String), String>,
}

/// A compilation target: one kind of output.
pub trait Target: Sync {
    /// Kebab-case id; also the top folder under `out/`.
    fn id(&self) -> &'static str;
    /// One line saying what the target writes.
    fn description(&self) -> &'static str;
    /// Renders every environment into `out`, reporting problems into `diags`.
    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics);
}

/// Every target, in the order they render.
pub static TARGETS: &[&dyn Target] = &[
    &kubernetes::Kubernetes,
    &flux::Flux,
    &secrets::Secrets,
    &hosts::Hosts,
    &pipelines::Pipelines,
    &docs::Docs,
];

/// Renders every target.
pub fn render_all(cx: &Context<'_>) -> (OutputTree, Diagnostics) {
    let mut out = OutputTree::default();
    let mut diags = Diagnostics::default();
    for target in TARGETS {
        let mut tree = OutputTree::default();
        target.render(cx, &mut tree, &mut diags);
        debug_assert!(
            tree.iter()
                .all(|(p, _)| p.starts_with(&format!("{}/", target.id()))),
            "target {} wrote outside out/{}/",
            target.id(),
            target.id()
        );
        out.merge(tree);
    }
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn target_ids_are_unique_kebab_case() {
        let mut seen = HashSet::new();
        for t in TARGETS {
            assert!(seen.insert(t.id()), "duplicate target {}", t.id());
            assert!(
                t.id().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                t.id()
            );
            assert!(!t.description().is_empty());
        }
    }
}
