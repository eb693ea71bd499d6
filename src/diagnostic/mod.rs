//! Diagnostics: what went wrong, where, and what to do about it.
//!
//! Every stage reports into a [`Diagnostics`] sink instead of stopping at the first
//! problem. A [`Diagnostic`] has the identity of the [`Check`] that found it (stable
//! code, kebab-case name, kind and severity, fix hint: each declared once in the
//! registry, [`checks`]), a message, a primary [`Span`], optional secondary labels
//! and help lines. The renderers in [`render`] turn them into the human format
//! (`error[name]: ...` with a `--> file:line:col` line, a caret under the source and
//! `help:` lines) or JSON lines.

pub mod checks;
pub mod render;
mod source_map;

pub use source_map::{FileId, SourceFile, SourceMap, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the build: nothing is written.
    Error,
    /// Reported, but the build goes on.
    Warning,
}

/// A secondary location with its own label.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What this location has to do with the problem.
    pub message: String,
}

/// One problem found in the model or its output.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Error or warning (the check's, see [`Kind::severity`]).
    pub severity: Severity,
    /// What kind of check found it: an error in the input, a finding on the output or a
    /// warning.
    pub kind: Kind,
    /// Stable code, e.g. `E0005` or a lint rule's `K001` (see [`checks`]).
    pub code: &'static str,
    /// Kebab-case name of the check, e.g. `duplicate-key`.
    pub name: &'static str,
    /// One-line description of the problem.
    pub message: String,
    /// Where the problem is, when it has a place in a source file.
    pub span: Option<Span>,
    /// Other places involved.
    pub labels: Vec<Label>,
    /// What to do about it, specific to this problem.
    pub help: Vec<String>,
    /// The check's fix hint, shown when there is no more specific help (see
    /// [`helps`](Self::helps)).
    pub fix: &'static str,
}

impl Diagnostic {
    /// A new error of `check`, which must be an error (`E`) or a finding (`K`) whose
    /// default severity is error.
    pub fn error(check: Check, message: impl Into<String>) -> Self {
        debug_assert_eq!(
            check.kind.severity(),
            Severity::Error,
            "{} is not an error",
            check.code
        );
        Self::new(check, message)
    }

    /// A new warning of `check`, which must be a warning (`W`) or a finding (`K`) whose
    /// default severity is warning.
    pub fn warning(check: Check, message: impl Into<String>) -> Self {
        debug_assert_eq!(
            check.kind.severity(),
            Severity::Warning,
            "{} is not a warning",
            check.code
        );
        Self::new(check, message)
    }

    /// A new diagnostic of `check`, with the check's severity.
    pub fn new(check: Check, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: check.kind.severity(),
            kind: check.kind,
            code: check.code,
            name: check.name,
            message: message.into(),
            span: None,
            labels: Vec::new(),
            help: Vec::new(),
            fix: check.fix,
        }
    }

    /// Sets the primary location.
    #[must_use]
    pub fn at(mut self, span: Option<Span>) -> Self {
        self.span = span;
        self
    }

    /// Adds a secondary location.
    #[must_use]
    pub fn label(mut self, span: Option<Span>, message: impl Into<String>) -> Self {
        if let Some(span) = span {
            self.labels.push(Label {
                span,
                message: message.into(),
            });
        }
        self
    }

    /// Adds a help line.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Adds `did you mean `NAME`?` when `wanted` looks like a typo of one of
    /// `candidates` (see [`crate::suggest`]).
    #[must_use]
    pub fn did_you_mean<'a>(
        self,
        wanted: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        match crate::suggest::did_you_mean(wanted, candidates) {
            Some(guess) => self.help(guess),
            None => self,
        }
    }

    /// The help lines to show: the specific ones, or the check's fix hint when there
    /// are none, so every diagnostic says how to fix it.
    pub fn helps(&self) -> Vec<&str> {
        if self.help.is_empty() {
            vec![self.fix]
        } else {
            self.help.iter().map(String::as_str).collect()
        }
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A character as a message names it: printable ones in backticks, white space and
/// backticks by name, control characters by code point (`U+0007`, as YAML errors do).
pub fn describe_char(c: char) -> String {
    match c {
        '\n' => "a line break".to_owned(),
        '\r' => "a carriage return".to_owned(),
        '\t' => "a tab".to_owned(),
        ' ' => "a space".to_owned(),
        '`' => "a backtick".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

/// What kind of check a [`Check`] is; a code's letter says it (`E`, `K`, `W`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An error in the input (the model, a file kiln reads, the command line, a value
    /// `kiln seal` needs): nothing is written, exit status 2. Codes `E0000`-`E9999`.
    Error,
    /// A finding on the output: a lint rule over what a build would write, a broken
    /// wiring point, or `out/` differing from a build. Exit status 1 when its severity
    /// (the default one given here) is error. Codes `K000`-`K999`.
    Finding(Severity),
    /// A warning: reported, and the command goes on. Codes `W0000`-`W9999`.
    Warning,
}

impl Kind {
    /// The severity of the diagnostics of this kind.
    pub const fn severity(self) -> Severity {
        match self {
            Kind::Error => Severity::Error,
            Kind::Finding(s) => s,
            Kind::Warning => Severity::Warning,
        }
    }

    /// The letter its codes start with.
    pub const fn letter(self) -> char {
        match self {
            Kind::Error => 'E',
            Kind::Finding(_) => 'K',
            Kind::Warning => 'W',
        }
    }

    /// A few words for listings: "error", "finding, error by default", "warning".
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Error => "error in the input",
            Kind::Finding(Severity::Error) => "finding, error by default",
            Kind::Finding(Severity::Warning) => "finding, warning by default",
            Kind::Warning => "warning",
        }
    }
}

/// A check kiln runs, as the registry ([`checks`]) declares it once: its identity, its
/// kind and what `kiln explain` says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Check {
    /// Stable code: its letter is the kind's ([`Kind::letter`]).
    pub code: &'static str,
    /// Kebab-case name, shown as `error[name]`.
    pub name: &'static str,
    /// Error in the input, finding on the output, or warning.
    pub kind: Kind,
    /// One sentence: what the check finds.
    pub summary: &'static str,
    /// What to do about a problem it finds, shown as `help:` when a diagnostic has no
    /// more specific help.
    pub fix: &'static str,
    /// Markdown: `## What it does`, `## Why is this bad?`, `## Example`, `## How to fix`.
    pub doc: &'static str,
}

/// A sink that collects diagnostics from every stage.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Records many.
    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
    }

    /// Records everything `other` recorded, after what this one has.
    pub fn append(&mut self, mut other: Diagnostics) {
        self.items.append(&mut other.items);
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// The diagnostics, deduplicated (the same problem in a shared base is found once
    /// per environment) and sorted by file position, then code.
    pub fn into_sorted(self, sources: &SourceMap) -> Vec<Diagnostic> {
        let mut items = self.items;
        items.sort_by(|a, b| sort_key(a, sources).cmp(&sort_key(b, sources)));
        items.dedup();
        items
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The recorded diagnostics, in recording order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

fn sort_key<'a>(
    d: &'a Diagnostic,
    sources: &'a SourceMap,
) -> (bool, String, u32, Severity, &'a str, &'a str) {
    let (path, start) = match d.span {
        Some(s) => (sources.file(s.file).path.display().to_string(), s.start),
        None => (String::new(), 0),
    };
    (
        d.span.is_some(),
        path,
        start,
        d.severity,
        d.code,
        d.message.as_str(),
    )
}
