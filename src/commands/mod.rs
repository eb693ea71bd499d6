//! One file per subcommand. [`main`] parses the command line, runs the command and
//! maps its outcome to an exit code.

mod build;
mod check;
mod completions;
mod diff;
mod graph;
mod rules;
mod seal;
mod set_image;
mod targets;

use crate::cli::{Cli, ColorChoice, Command, GlobalArgs};
use crate::diagnostic::render::{self, Format};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceMap};
use crate::model::{Files, Project};
use crate::render::{Context, OutputTree, State, Templates};
use crate::secrets::sealed_file::Sealed;
use crate::validate;
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Takes the project's lock ([`crate::boundary::ProjectLock`]): exclusive for the
/// commands that write (`build`, `seal`, `set-image`), shared for `check`. When another
/// kiln holds it, says so and waits.
pub fn lock_project(
    g: &GlobalArgs,
    exclusive: bool,
    out: &Printer,
) -> crate::Result<crate::boundary::ProjectLock> {
    crate::boundary::ProjectLock::take(&g.root, exclusive, || {
        out.summary("kiln: waiting for another kiln build in this project to finish");
    })
    .map_err(|(path, why)| crate::Error::refused(path, why))
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Clean,
    /// Findings: stale output, lint errors, differences.
    Findings,
    /// Invalid input or usage.
    Error,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(match o {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        })
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let out = Printer::new(&cli.global);
    let result = match &cli.command {
        Command::Build(args) => build::run(&cli.global, args, &out),
        Command::Check(args) => check::run(&cli.global, args, &out),
        Command::Diff(args) => diff::run(&cli.global, args, &out),
        Command::Completions(args) => completions::run(args, &out),
        Command::Seal(args) => seal::run(&cli.global, args, &out),
        Command::Targets => targets::run(&out),
        Command::Graph => graph::run(&cli.global, &out),
        Command::SetImage(args) => set_image::run(&cli.global, args, &out),
        Command::Rules(args) => rules::run(args, &out),
        Command::Explain(args) => rules::explain(args, &out),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            out.error(&format!("error: {e}"));
            Outcome::Error.into()
        }
    }
}

/// Where output goes: human diagnostics on stderr, JSON and Markdown on stdout;
/// command output (lists, diffs) on stdout.
pub struct Printer {
    format: Format,
    /// Colour diagnostics (stderr).
    color: bool,
    /// Colour command output (stdout).
    stdout_color: bool,
    quiet: bool,
}

impl Printer {
    fn new(g: &GlobalArgs) -> Self {
        let color = |terminal: bool| match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        };
        Printer {
            format: g.format,
            color: color(std::io::stderr().is_terminal()),
            stdout_color: color(std::io::stdout().is_terminal()),
            quiet: g.quiet,
        }
    }

    /// The output format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether command output on stdout may be coloured.
    pub fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    /// Prints diagnostics in the chosen format.
    pub fn diagnostics(&self, diagnostics: &[Diagnostic], sources: &SourceMap) {
        if diagnostics.is_empty() {
            return;
        }
        let text = render::all(diagnostics, sources, self.format, self.color);
        match self.format {
            Format::Human | Format::Mermaid | Format::Dot => self.stderr(&text),
            Format::Json | Format::Markdown => self.stdout(&text),
        }
    }

    /// A summary line (human format only; suppressed by --quiet).
    pub fn summary(&self, line: &str) {
        if !self.quiet && matches!(self.format, Format::Human | Format::Mermaid | Format::Dot) {
            self.stderr(&format!("{line}\n"));
        }
    }

    /// Command output meant for stdout (lists, diffs).
    pub fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn stderr(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
    }

    /// A failure without a location.
    pub fn error(&self, message: &str) {
        match self.format {
            Format::Human | Format::Markdown | Format::Mermaid | Format::Dot => {
                self.stderr(&format!("{message}\n"))
            }
            Format::Json => self.stdout(&format!(
                "{}\n",
                serde_json::json!({
                    "severity": "error",
                    "code": crate::diagnostic::checks::COMMAND.code,
                    "name": crate::diagnostic::checks::COMMAND.name,
                    "message": message,
                    "help": [crate::diagnostic::checks::COMMAND.fix],
                })
            )),
        }
    }
}

/// The result of loading, validating and rendering.
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
    pub wiring: validate::wiring::Report,
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

/// Loads, validates and renders the model in `files`, stopping after the first stage
/// that finds errors.
pub fn compile(files: &Files, state: State) -> Compiled {
    use crate::timings::phase;
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
    // Reference checks run on every environment that loaded, even when another did
    // not, so one run reports as much as it can.
    phase("validate", || validate::model(&project, &mut diags));
    let mut tree = OutputTree::default();
    let mut wiring = validate::wiring::Report::default();
    if !diags.has_errors() {
        let cx = Context {
            project: &project,
            state: &state,
            templates: &templates,
            sealed: &sealed,
        };
        let (rendered, render_diags) = phase("render", || crate::render::render_all(&cx));
        diags.extend(render_diags.into_sorted(&project.sources));
        {
            // The secret references, the lint rules and the wiring read the rendered
            // output side by side; lint and wiring findings count only when rendering
            // and every secret reference succeeded (as when they ran after them).
            let lint_cx = validate::lint::LintContext::new(&project, &rendered).with_state(&state);
            let (refs, (lint, (report, wired))) = rayon::join(
                || {
                    phase("secret refs", || {
                        let mut d = Diagnostics::default();
                        validate::secret_refs::check(&project, &rendered, &mut d);
                        d
                    })
                },
                || {
                    rayon::join(
                        || {
                            phase("lint", || {
                                let mut d = Diagnostics::default();
                                validate::lint::run(&lint_cx, &mut d);
                                d
                            })
                        },
                        || {
                            phase("wiring", || {
                                let mut d = Diagnostics::default();
                                (validate::wiring::run(&lint_cx, &mut d), d)
                            })
                        },
                    )
                },
            );
            drop(lint_cx);
            diags.append(refs);
            if !diags.has_errors() {
                diags.append(lint);
                diags.append(wired);
                wiring = report;
                tree = rendered;
            }
        }
    }
    let diagnostics = finish(diags, &project.sources);
    Compiled {
        wiring,
        project,
        templates,
        state,
        sealed,
        tree,
        diagnostics,
    }
}

fn finish(diags: Diagnostics, sources: &SourceMap) -> Vec<Diagnostic> {
    diags.into_sorted(sources)
}

/// Checks that every `--env` names an environment.
pub fn check_envs(g: &GlobalArgs, project: &Project) -> crate::Result<()> {
    for e in &g.envs {
        if project.environment(e).is_none() {
            let known: Vec<&str> = project
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            return Err(crate::Error::Usage(format!(
                "--env {e}: no such environment (environments: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// The environments `--env` selects (every one without it), after [`check_envs`].
pub fn selected_envs<'p>(
    g: &GlobalArgs,
    project: &'p Project,
) -> crate::Result<Vec<&'p crate::model::Environment>> {
    check_envs(g, project)?;
    Ok(project
        .environments
        .iter()
        .filter(|e| g.envs.is_empty() || g.envs.iter().any(|n| n == e.name.as_str()))
        .collect())
}
