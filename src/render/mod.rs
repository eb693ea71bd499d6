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
#[cfg(test)]
mod probe;
pub mod resource;
mod runbook;
pub mod secrets;
pub mod templates;
#[cfg(test)]
mod unchecked;
pub mod yaml;

pub use output_tree::{Contents, OutputFile, OutputTree};
pub use resource::{Content, Resource};
pub use templates::Templates;

use crate::diagnostic::Diagnostics;
use crate::model::{Environment, Project, State};
use rayon::prelude::*;

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

/// A compilation target: one kind of output.
pub trait Target: Sync {
    /// Kebab-case id; also the top folder under `out/`.
    fn id(&self) -> &'static str;
    /// One line saying what the target writes.
    fn description(&self) -> &'static str;
    /// Renders every environment into `out`, reporting problems into `diags`. Paths
    /// come from [`crate::layout`] (or are below the target's own folder), and every
    /// file carries its [`crate::layout::Provenance`]: the checks of the output
    /// locate their findings on a file through it.
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

/// Every target, in the order they render. A test build adds `probe`, a target that
/// exists only to prove that a new target needs nothing outside its file and this
/// line (its files are located, linted and wired like any other's).
pub static TARGETS: &[&dyn Target] = &[
    &kubernetes::Kubernetes,
    &flux::Flux,
    &secrets::Secrets,
    &hosts::Hosts,
    &pipelines::Pipelines,
    &docs::Docs,
    #[cfg(test)]
    &probe::Probe,
];

/// Renders every target, the targets (and within them apps or environments) in
/// parallel. The result is the same whatever the number of threads (rayon's pool:
/// `RAYON_NUM_THREADS`, default one per core): each part renders into its own tree
/// and diagnostics, merged in a fixed order.
pub fn render_all(cx: &Context<'_>) -> (OutputTree, Diagnostics) {
    let rendered: Vec<(OutputTree, Diagnostics)> = TARGETS
        .par_iter()
        .map(|target| {
            let mut tree = OutputTree::default();
            let mut diags = Diagnostics::default();
            target.render(cx, &mut tree, &mut diags);
            debug_assert!(
                tree.iter()
                    .all(|(p, f)| crate::layout::under_target(target.id(), p)
                        && f.provenance.target == target.id()),
                "target {} wrote outside out/{}/ or without its provenance",
                target.id(),
                target.id()
            );
            (tree, diags)
        })
        .collect();
    let mut out = OutputTree::default();
    let mut diags = Diagnostics::default();
    let mut trees = Vec::with_capacity(rendered.len());
    for (tree, d) in rendered {
        trees.push(tree);
        diags.append(d);
    }
    out.merge_all(trees);
    (out, diags)
}

/// Every target's resources for environment `env`, given everything the targets
/// rendered, sorted by target, scope, kind, namespace and name.
pub fn resources(cx: &Context<'_>, env: &Environment, rendered: &OutputTree) -> Vec<Resource> {
    let mut out = Vec::new();
    for target in TARGETS {
        let mut files = OutputTree::default();
        for (path, file) in rendered
            .iter()
            .filter(|(_, f)| f.provenance.target == target.id())
        {
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
                let from = crate::layout::Provenance::new(self.id());
                for env in &cx.project.environments {
                    out.add(
                        format!("notes/{}.yaml", env.name),
                        format!("env: {}\n", env.name).into_bytes(),
                        &from.clone().of_env(env.name.as_str()),
                    );
                }
                out.add("notes/README", b"shared\n".to_vec(), &from);
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

    /// The repository's model and every golden case's.
    pub(crate) fn models() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = vec![root.to_path_buf()];
        let mut cases: Vec<_> = std::fs::read_dir(root.join("tests/golden"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("environments").is_dir())
            .collect();
        cases.sort();
        out.extend(cases);
        out
    }

    /// Checks over the output read the data renderers kept instead of parsing the
    /// bytes; it must be exactly what parsing them gives. And every Kubernetes object,
    /// kustomization and patch carries it, or the checks would parse (slowly) again.
    #[test]
    fn kept_data_is_what_the_bytes_say_and_every_object_has_it() {
        let mut with_data = 0;
        for root in models() {
            let compiled =
                crate::pipeline::compile(&crate::model::Files::read(&root), State::default());
            for (path, file) in compiled.tree.iter() {
                let text = std::str::from_utf8(&file.bytes).unwrap_or_default();
                match &file.data {
                    Some(data) => {
                        let parsed: serde_json::Value = serde_saphyr::from_str(text)
                            .unwrap_or_else(|e| panic!("{}: {path}: {e}", root.display()));
                        assert_eq!(**data, parsed, "{}: {path}", root.display());
                        with_data += 1;
                    }
                    None => assert!(
                        !(path.contains("/patches/")
                            || path.ends_with(".yaml") && text.contains("\nkind: ")),
                        "{}: {path} has no data",
                        root.display()
                    ),
                }
            }
        }
        assert!(with_data > 100, "{with_data}");
    }

    /// A fleet of `n` apps in dev and prod, each with a database, backups, a route, a
    /// secret and a pipeline; secrets unsealed, so every app also gets warnings.
    fn fleet(n: usize) -> crate::model::Files {
        let mut common = String::from(
            "abstract: true\nrepository:\n  url: ssh://git@git.example.internal/acme/fleet.git\n  ci: {provider: gitlab, image: images.example.internal/kiln-ci:1}\nenvironment:\n  runsOn: lab\nregistries:\n  internal: {host: images.example.internal, private: true, pullSecret: pull}\nclusters:\n  lab:\n    ingress: {kind: gateway, gateway: {name: gw, namespace: gw, listener: https}}\n    storageClass: standard\n    flux: {}\napps:\n",
        );
        let mut secrets = String::from(
            "secrets:\n  pull:\n    type: docker-registry\n    keys: {username: {manual: robot}, password: {op: \"op://v/pull/password\"}}\n",
        );
        let (mut dev, mut prod) = (String::from("apps:\n"), String::from("apps:\n"));
        for i in 0..n {
            let app = format!("app-{i:03}");
            common.push_str(&format!(
                "  {app}:\n    image: {{registry: internal, repository: acme/{app}, tag: \"1.{i}.0\", tagFormat: \"main-{{sha}}-{{run}}\"}}\n    port: {}\n    health: {{path: /healthz}}\n    resources: {{requests: {{cpu: 50m, memory: 64Mi}}, limits: {{cpu: 500m, memory: 256Mi}}}}\n    env: {{TEAM: t{}, DATABASE_URL: {{secret: {app}, key: url}}}}\n    routes: {{main: {{host: \"{app}.${{domain}}\"}}}}\n    database: {{version: 16, storage: 5Gi, password: {{secret: {app}, key: password}}, backup: {{schedule: \"0 4 * * *\", retentionDays: 3, storage: 1Gi}}}}\n    migrations: {{command: [./migrate]}}\n    build: {{repository: https://git.example.internal/acme/{app}, ci: {}}}\n",
                8000 + i,
                i % 5,
                if i % 2 == 0 { "gitlab" } else { "github" },
            ));
            secrets.push_str(&format!(
                "  {app}:\n    usedBy: [{app}]\n    keys:\n      password: {{generate: {{}}}}\n      url: {{template: \"postgresql://a:{{password}}@{app}-db:5432/a\"}}\n"
            ));
            dev.push_str(&format!("  {app}: {{build: {{branch: develop}}}}\n"));
            prod.push_str(&format!(
                "  {app}: {{replicas: {}, build: {{branch: main}}}}\n",
                2 + i % 3
            ));
        }
        common.push_str(&secrets);
        let files = [
            ("environments/common.yaml", common),
            (
                "environments/dev.yaml",
                format!("extends: common\nenvironment: {{domain: dev.example.com}}\n{dev}"),
            ),
            (
                "environments/prod.yaml",
                format!(
                    "extends: common\nenvironment: {{domain: example.com, production: true}}\n{prod}"
                ),
            ),
        ];
        crate::model::Files::in_memory(
            std::path::Path::new("/fleet"),
            files.map(|(p, t)| (p.to_owned(), t.into_bytes())),
        )
    }

    /// Rendering and checking in parallel gives exactly what one thread gives: the
    /// same files, bytes and diagnostics (in the same order), for a fleet of apps, the
    /// repository's model and every golden case.
    #[test]
    fn parallel_compile_equals_sequential() {
        let on = |threads: usize, files: &crate::model::Files| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| crate::pipeline::compile(files, State::default()))
        };
        let mut inputs = vec![("fleet".to_owned(), fleet(60))];
        for root in models() {
            inputs.push((root.display().to_string(), crate::model::Files::read(&root)));
        }
        for (name, files) in &inputs {
            let one = on(1, files);
            let many = on(4, files);
            assert_eq!(one.diagnostics, many.diagnostics, "{name}");
            assert!(one.tree == many.tree, "{name}: the trees differ");
            if name == "fleet" {
                let errors: Vec<_> = one
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| &d.message)
                    .collect();
                assert!(errors.is_empty(), "{errors:?}");
                assert!(one.tree.len() > 60 * 20, "{}", one.tree.len());
                assert!(one.diagnostics.len() >= 120, "{:?}", one.diagnostics);
            }
        }
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
