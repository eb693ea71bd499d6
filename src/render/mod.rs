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
pub mod resource;
mod runbook;
pub mod secrets;
pub mod templates;
pub mod yaml;

pub use output_tree::{OutputFile, OutputTree};
pub use resource::{Content, Resource};
pub use templates::Templates;

use crate::diagnostic::Diagnostics;
use crate::model::{Environment, Project};
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
    /// The sealed values of the committed SealedSecrets: path under `out/` → key →
    /// ciphertext (to tell which values a build changes).
    pub committed_sealed: BTreeMap<String, BTreeMap<String, String>>,
}

/// A compilation target: one kind of output.
pub trait Target: Sync {
    /// Kebab-case id; also the top folder under `out/`.
    fn id(&self) -> &'static str;
    /// One line saying what the target writes.
    fn description(&self) -> &'static str;
    /// Renders every environment into `out`, reporting problems into `diags`.
    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics);
    /// What environment `env` gets from this target, fully resolved, for `kiln diff`.
    /// `files` are the files this target rendered. The default reads them back
    /// ([`resource::from_files`]: the environment's files and the shared ones, YAML as
    /// data, Kubernetes objects by kind and name); override it when the files are not
    /// the environment's objects as deployed.
    fn resources(&self, cx: &Context<'_>, env: &Environment, files: &OutputTree) -> Vec<Resource> {
        let _ = cx;
        resource::from_files(self.id(), env.name.as_str(), files)
    }
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

/// Every target's resources for environment `env`, given everything the targets
/// rendered, sorted by target, scope, kind, namespace and name.
pub fn resources(cx: &Context<'_>, env: &Environment, rendered: &OutputTree) -> Vec<Resource> {
    let mut out = Vec::new();
    for target in TARGETS {
        let prefix = format!("{}/", target.id());
        let mut files = OutputTree::default();
        for (path, file) in rendered.iter().filter(|(p, _)| p.starts_with(&prefix)) {
            files.insert(path.clone(), file.clone());
        }
        out.extend(target.resources(cx, env, &files));
    }
    out.sort_by(|a, b| {
        (a.target, &a.scope, &a.kind, &a.namespace, &a.name).cmp(&(
            b.target,
            &b.scope,
            &b.kind,
            &b.namespace,
            &b.name,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A target that only renders takes part in `kiln diff` through the default
    /// `resources`: its environment's files and its shared ones.
    #[test]
    fn a_new_target_gets_resources_without_implementing_them() {
        struct Notes;
        impl Target for Notes {
            fn id(&self) -> &'static str {
                "notes"
            }
            fn description(&self) -> &'static str {
                "one note per environment"
            }
            fn render(&self, cx: &Context<'_>, out: &mut OutputTree, _: &mut Diagnostics) {
                for env in &cx.project.environments {
                    out.add(
                        format!("notes/{}.yaml", env.name),
                        format!("env: {}\n", env.name).into_bytes(),
                        Some(env.name.as_str()),
                    );
                }
                out.add("notes/README", b"shared\n".to_vec(), None);
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (project, _) = crate::model::load(root);
        let (state, templates) = (State::default(), Templates::default());
        let cx = Context {
            project: &project,
            state: &state,
            templates: &templates,
            sealed: &Default::default(),
        };
        let mut files = OutputTree::default();
        Notes.render(&cx, &mut files, &mut Diagnostics::default());
        let prod = project.environment("prod").unwrap();
        let got = Notes.resources(&cx, prod, &files);
        let names: Vec<(&str, bool)> = got.iter().map(|r| (r.name.as_str(), r.shared)).collect();
        assert_eq!(names, [("notes/README", true), ("notes/prod.yaml", false)]);
        assert_eq!(
            got[1].content,
            Content::Data(serde_json::json!({"env": "prod"}))
        );
    }

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
