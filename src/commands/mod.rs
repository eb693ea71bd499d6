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
use crate::diagnostic::{Diagnostic, SourceMap};
use crate::model::Project;
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
                "--env {e}: no such environment{} (environments: {})",
                crate::suggest::hint(e, known.iter().copied()),
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
