//! Printing diagnostics: the human format with source snippets, and JSON lines.

use super::{Diagnostic, Severity, SourceMap};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet, renderer::DecorStyle};
use serde::Serialize;

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `error[name]: message`, the location, the source line and a caret.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
    /// Markdown, for merge-request comments: diagnostics in the human form, in a
    /// fenced block.
    Markdown,
    /// `kiln graph` only: a Mermaid flowchart (diagnostics as in `human`).
    Mermaid,
    /// `kiln graph` only: Graphviz DOT (diagnostics as in `human`).
    Dot,
}

/// Renders one diagnostic for a person to read.
pub fn human(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut group = Group::with_title(level.primary_title(d.message.as_str()).id(d.name));
    if let Some(span) = d.span {
        let file = sources.file(span.file);
        let path = file.path.display().to_string();
        let mut snippet = Snippet::source(file.text.as_str())
            .path(path)
            .fold(true)
            .annotation(AnnotationKind::Primary.span(file.clamp(span.range())));
        for label in d.labels.iter().filter(|l| l.span.file == span.file) {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(file.clamp(label.span.range()))
                    .label(&label.message),
            );
        }
        group = group.element(snippet);
        for label in d.labels.iter().filter(|l| l.span.file != span.file) {
            let other = sources.file(label.span.file);
            group = group.element(
                Snippet::source(other.text.as_str())
                    .path(other.path.display().to_string())
                    .fold(true)
                    .annotation(
                        AnnotationKind::Context
                            .span(other.clamp(label.span.range()))
                            .label(&label.message),
                    ),
            );
        }
    }
    for help in &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let report: &[Group<'_>] = &[group];
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.decor_style(DecorStyle::Ascii).render(report)
}

#[derive(Serialize)]
struct JsonLocation {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl JsonLocation {
    fn new(span: super::Span, sources: &SourceMap) -> Self {
        let file = sources.file(span.file);
        let (line, column) = file.line_col(span.start as usize);
        let (end_line, end_column) = file.line_col(span.end as usize);
        JsonLocation {
            file: file.path.display().to_string(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Serialize)]
struct JsonLabel {
    #[serde(flatten)]
    location: JsonLocation,
    message: String,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    name: &'a str,
    message: &'a str,
    #[serde(flatten)]
    location: Option<JsonLocation>,
    labels: Vec<JsonLabel>,
    help: &'a [String],
}

/// Renders one diagnostic as a single line of JSON (no trailing newline).
pub fn json(d: &Diagnostic, sources: &SourceMap) -> String {
    let value = JsonDiagnostic {
        severity: d.severity,
        code: d.code,
        name: d.name,
        message: &d.message,
        location: d.span.map(|s| JsonLocation::new(s, sources)),
        labels: d
            .labels
            .iter()
            .map(|l| JsonLabel {
                location: JsonLocation::new(l.span, sources),
                message: l.message.clone(),
            })
            .collect(),
        help: &d.help,
    };
    serde_json::to_string(&value).unwrap_or_default()
}

/// Renders a list of diagnostics in the chosen format, with a closing count line in the
/// human format.
pub fn all(diagnostics: &[Diagnostic], sources: &SourceMap, format: Format, color: bool) -> String {
    let mut out = String::new();
    match format {
        Format::Human | Format::Mermaid | Format::Dot => {
            for d in diagnostics {
                out.push_str(&human(d, sources, color));
                out.push_str("\n\n");
            }
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = diagnostics.len() - errors;
            if errors + warnings > 0 {
                out.push_str(&summary(errors, warnings));
                out.push('\n');
            }
        }
        Format::Json => {
            for d in diagnostics {
                out.push_str(&json(d, sources));
                out.push('\n');
            }
        }
        Format::Markdown => {
            let text = all(diagnostics, sources, Format::Human, false);
            let fence = if text.contains("```") { "~~~~" } else { "```" };
            out.push_str(&format!("{fence}text\n{text}{fence}\n"));
        }
    }
    out
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Span, checks};

    #[test]
    fn human_format_names_file_line_col_and_underlines_the_span() {
        let mut sources = SourceMap::default();
        let id = sources.add(
            "environments/prod.yaml",
            "apps:\n  web:\n    port: eighty\n".into(),
        );
        let d = Diagnostic::error(checks::SCHEMA, "\"eighty\" is not of type \"integer\"")
            .at(Some(Span::new(id, 23, 29)))
            .help("write a number");
        let text = human(&d, &sources, false);
        assert!(text.starts_with("error[schema]: \"eighty\""), "{text}");
        assert!(text.contains("--> environments/prod.yaml:3:11"), "{text}");
        assert!(text.contains("port: eighty"), "{text}");
        assert!(text.contains("^^^^^^"), "{text}");
        assert!(text.contains("help: write a number"), "{text}");
    }

    #[test]
    fn json_format_is_one_line_with_location() {
        let mut sources = SourceMap::default();
        let id = sources.add("e.yaml", "a: 1\n".into());
        let d = Diagnostic::error(checks::SCHEMA, "bad").at(Some(Span::new(id, 3, 4)));
        let line = json(&d, &sources);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["file"], "e.yaml");
        assert_eq!(v["line"], 1);
        assert_eq!(v["column"], 4);
        assert_eq!(v["name"], "schema");
        assert_eq!(v["code"], "E0005");
    }
}
