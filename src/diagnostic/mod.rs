//! Diagnostics: what went wrong, where, and what to do about it.
//!
//! Every stage reports into a [`Diagnostics`] sink instead of stopping at the first
//! problem. A [`Diagnostic`] has a severity, a stable code, a kebab-case name, a
//! message, a primary [`Span`], optional secondary labels and help lines. The
//! renderers in [`render`] turn them into the human format (`error[name]: ...` with a
//! `--> file:line:col` line and a caret under the source) or JSON lines.

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
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `E0101` or a lint rule's `K0001`.
    pub code: &'static str,
    /// Kebab-case name of the check, e.g. `duplicate-key`.
    pub name: &'static str,
    /// One-line description of the problem.
    pub message: String,
    /// Where the problem is, when it has a place in a source file.
    pub span: Option<Span>,
    /// Other places involved.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Vec<String>,
}

impl Diagnostic {
    /// A new error with the given code, name and message.
    pub fn error(check: Check, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, check, message)
    }

    /// A new warning with the given code, name and message.
    pub fn warning(check: Check, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, check, message)
    }

    /// A new diagnostic.
    pub fn new(severity: Severity, check: Check, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: check.code,
            name: check.name,
            message: message.into(),
            span: None,
            labels: Vec::new(),
            help: Vec::new(),
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

/// The identity of a check: a stable code and a kebab-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Check {
    /// Stable code.
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
}

/// The checks kiln runs outside the lint rule registry (loading, schema, references).
pub mod checks {
    use super::Check;

    macro_rules! checks {
        ($($(#[$doc:meta])* $id:ident = $code:literal, $name:literal;)*) => {
            $( $(#[$doc])* pub const $id: Check = Check { code: $code, name: $name }; )*
            /// Every check in this module, for documentation and uniqueness tests.
            pub const ALL: &[Check] = &[$($id),*];
        };
    }

    checks! {
        /// A file could not be read.
        IO = "E0001", "io";
        /// The YAML is not well-formed.
        YAML_SYNTAX = "E0002", "yaml-syntax";
        /// A mapping has the same key twice.
        DUPLICATE_KEY = "E0003", "duplicate-key";
        /// A YAML feature kiln does not accept (tags, merge keys, multiple documents).
        YAML_UNSUPPORTED = "E0004", "yaml-unsupported";
        /// The document does not match the JSON Schema of the model.
        SCHEMA = "E0005", "schema";
        /// A field the model does not know (a typo must not pass silently).
        UNKNOWN_FIELD = "E0006", "unknown-field";
        /// `extends` names a file that does not exist, or forms a cycle.
        EXTENDS = "E0007", "extends";
        /// A `${var}` that no variable defines.
        INTERPOLATION = "E0008", "interpolation";
        /// A name that cannot become a Kubernetes object name or a path.
        INVALID_NAME = "E0009", "invalid-name";
        /// A reference to an app, cluster, host, registry or secret that does not exist.
        UNKNOWN_REFERENCE = "E0010", "unknown-reference";
        /// Two objects that would have the same name.
        DUPLICATE_NAME = "E0011", "duplicate-name";
        /// A value the model accepts in shape but not in meaning.
        INVALID_VALUE = "E0012", "invalid-value";
        /// The environments directory has no environment to build.
        NO_ENVIRONMENT = "E0013", "no-environment";
        /// A file under `out/` differs from what a build would write.
        STALE_OUTPUT = "E0014", "stale-output";
        /// A file under `out/` was edited by hand since kiln wrote it.
        HAND_EDITED = "E0015", "hand-edited";
        /// A file kiln would write is missing from `out/`.
        MISSING_OUTPUT = "E0016", "missing-output";
        /// A file under `out/` that kiln did not write sits where kiln writes.
        UNEXPECTED_OUTPUT = "E0017", "unexpected-output";
        /// Something references a secret key the model does not define.
        SECRET_REFERENCE = "E0018", "secret-reference"; // pragma: allowlist secret
        /// A dependency cycle.
        CYCLE = "E0019", "cycle";
        /// A literal secret value in the model.
        LITERAL_SECRET = "E0020", "literal-secret"; // pragma: allowlist secret
        /// A rule waiver is malformed (no reason, unknown rule).
        WAIVER = "E0021", "waiver";
        /// Two things claim the same port, hostname or path.
        CONFLICT = "E0022", "conflict";
        /// A text template failed to load or render.
        TEMPLATE = "E0023", "template";
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn check_codes_and_names_are_unique_and_kebab_case() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for c in checks::ALL {
            assert!(codes.insert(c.code), "duplicate code {}", c.code);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            assert!(
                c.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{} is not kebab-case",
                c.name
            );
        }
    }
}
