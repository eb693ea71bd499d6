//! The pipeline every command runs: input files → [`Loaded`] (the model, templates,
//! recorded tags and sealed values, read and typed) → [`Checked`] (the model checks
//! of [`crate::validate`] have run) → rendered tree → findings (the checks of the
//! rendered output, [`crate::inspect`]) → [`Compiled`]. Each stage takes the one before
//! it, so no command can render an unchecked model or write an uninspected tree. What
//! is written, and how, is [`crate::output`]'s.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::inspect;
use crate::model::{Files, Project, State};
use crate::render::{Context, OutputTree, Templates};
use crate::secrets::sealed_file::Sealed;
use crate::timings::phase;

/// Stage 1: everything read from the input files, typed, with the diagnostics so far.
pub struct Loaded {
    /// The model.
    pub project: Project,
    /// Text templates (defaults and the project's overrides).
    pub templates: Templates,
    /// What the build keeps from the committed output, with the recorded tags.
    pub state: State,
    /// The committed sealed values (`environments/sealed/`).
    pub sealed: Sealed,
    /// Diagnostics of loading.
    pub diags: Diagnostics,
}

/// Stage 2: a loaded model that the model checks have seen (render it only when
/// [`Checked::has_errors`] is false).
pub struct Checked(Loaded);

/// Stage 3: the rendered tree of a checked model, with the diagnostics of rendering
/// and of the checks over the output.
struct Inspected {
    tree: OutputTree,
    wiring: inspect::wiring::Report,
}

/// Reads and types everything in `files`; `state` is what the output stage found in
/// `out/` (automation-owned tags, committed sealed values).
pub fn load(files: &Files, state: State) -> Loaded {
    let (mut project, mut diags) = phase("load", || crate::model::load_files(files));
    let (templates, template_diags) = Templates::load(files, &mut project.sources);
    diags.extend(template_diags);
    let (recorded, tag_diags) = crate::model::tags::load_files(files, &mut project.sources);
    diags.extend(tag_diags);
    let state = State {
        recorded_tags: recorded,
        ..state
    };
    diags.extend(crate::output::state::rejected_tag_diagnostics(
        &state,
        &project.environments,
        &mut project.sources,
    ));
    let (sealed, sealed_diags) = crate::secrets::sealed_file::load_files(files, &mut project);
    diags.extend(sealed_diags.into_sorted(&project.sources));
    Loaded {
        project,
        templates,
        state,
        sealed,
        diags,
    }
}

impl Loaded {
    /// Runs the model checks. They run on every environment that loaded, even when
    /// another did not, so one run reports as much as it can.
    pub fn check(mut self) -> Checked {
        phase("validate", || {
            crate::validate::model(&self.project, &mut self.diags)
        });
        Checked(self)
    }
}

impl Checked {
    /// Whether loading or the model checks found an error (nothing may be rendered).
    pub fn has_errors(&self) -> bool {
        self.0.diags.has_errors()
    }

    fn context(&self) -> Context<'_> {
        Context {
            project: &self.0.project,
            state: &self.0.state,
            templates: &self.0.templates,
            sealed: &self.0.sealed,
        }
    }

    /// Renders every target and runs the checks of the rendered output: the lint
    /// rules and the wiring (which includes every secret a pod reads) read the
    /// rendered output side by side; their findings count only when rendering
    /// succeeded. The tree is kept only when nothing failed.
    fn render_and_inspect(&mut self) -> Inspected {
        let cx = self.context();
        let (rendered, render_diags) = phase("render", || crate::render::render_all(&cx));
        let lint_cx = inspect::lint::LintContext::new(cx.project, &rendered)
            .with_state(cx.state)
            .with_overrides(cx.templates.overridden());
        let (lint, (report, wired)) = rayon::join(
            || {
                phase("lint", || {
                    let mut d = Diagnostics::default();
                    inspect::lint::run(&lint_cx, &mut d);
                    d
                })
            },
            || {
                phase("wiring", || {
                    let mut d = Diagnostics::default();
                    (inspect::wiring::run(&lint_cx, &mut d), d)
                })
            },
        );
        drop(lint_cx);
        let render_diags = render_diags.into_sorted(&self.0.project.sources);
        let diags = &mut self.0.diags;
        diags.extend(render_diags);
        if diags.has_errors() {
            return Inspected {
                tree: OutputTree::default(),
                wiring: inspect::wiring::Report::default(),
            };
        }
        diags.append(lint);
        diags.append(wired);
        Inspected {
            tree: rendered,
            wiring: report,
        }
    }

    /// Renders and inspects a model without errors (an empty tree otherwise).
    pub fn finish(mut self) -> Compiled {
        let inspected = if self.has_errors() {
            None
        } else {
            Some(self.render_and_inspect())
        };
        let Loaded {
            project,
            templates,
            state,
            sealed,
            diags,
        } = self.0;
        let (tree, wiring) = inspected.map_or_else(
            || (OutputTree::default(), inspect::wiring::Report::default()),
            |i| (i.tree, i.wiring),
        );
        let diagnostics = diags.into_sorted(&project.sources);
        Compiled {
            project,
            templates,
            state,
            sealed,
            tree,
            diagnostics,
            wiring,
        }
    }
}

/// The result of the whole pipeline.
pub struct Compiled {
    /// The model.
    pub project: Project,
    /// Text templates (defaults and the project's overrides).
    pub templates: Templates,
    /// What the build keeps from the committed output.
    pub state: State,
    /// The committed sealed values (`environments/sealed/`).
    pub sealed: Sealed,
    /// What a build writes: every target's files (empty when the model has input
    /// errors; rendered but not to be written when a lint rule failed).
    pub tree: OutputTree,
    /// Every diagnostic, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// The wiring points checked in the output (zero when nothing was rendered).
    pub wiring: inspect::wiring::Report,
}

impl Compiled {
    /// Whether input errors (not lint findings) stop the command.
    pub fn has_input_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.is_error() && d.kind == crate::diagnostic::Kind::Error)
    }

    /// Whether any error exists (input or lint).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// What renderers receive, for asking targets about this model again.
    pub fn context(&self) -> Context<'_> {
        Context {
            project: &self.project,
            state: &self.state,
            templates: &self.templates,
            sealed: &self.sealed,
        }
    }
}

/// The whole pipeline over `files`: load, check, and when the model has no errors,
/// render and inspect.
pub fn compile(files: &Files, state: State) -> Compiled {
    load(files, state).check().finish()
}
