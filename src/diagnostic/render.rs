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
        let primary = file.clamp(span.range());
        let labels: Vec<_> = d
            .labels
            .iter()
            .filter(|l| l.span.file == span.file)
            .map(|l| (file.clamp(l.span.range()), l.message.as_str()))
            .collect();
        let (cut, line) = file
            .excerpt(std::iter::once(primary.clone()).chain(labels.iter().map(|(r, _)| r.clone())));
        let shift = |r: std::ops::Range<usize>| r.start - cut.start..r.end - cut.start;
        let mut snippet = excerpt_snippet(file, cut.clone(), line)
            .annotation(AnnotationKind::Primary.span(shift(primary)));
        for (range, message) in labels {
            snippet = snippet.annotation(AnnotationKind::Context.span(shift(range)).label(message));
        }
        group = group.element(snippet);
        for label in d.labels.iter().filter(|l| l.span.file != span.file) {
            let other = sources.file(label.span.file);
            let range = other.clamp(label.span.range());
            let (cut, line) = other.excerpt([range.clone()]);
            let range = range.start - cut.start..range.end - cut.start;
            group = group.element(
                excerpt_snippet(other, cut, line)
                    .annotation(AnnotationKind::Context.span(range).label(&label.message)),
            );
        }
    }
    for help in d.helps() {
        group = group.element(Level::HELP.message(help));
    }
    let report: &[Group<'_>] = &[group];
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.decor_style(DecorStyle::Ascii).render(report)
}

/// A snippet of the lines `cut` of `file`, numbered from `line`: the renderer sees only
/// the lines a diagnostic shows, never the whole file (which made rendering N
/// diagnostics over one file of N entries quadratic).
fn excerpt_snippet<'a>(
    file: &'a super::SourceFile,
    cut: std::ops::Range<usize>,
    line: usize,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    #[cfg(test)]
    EXCERPT_BYTES.with(|n| n.set(n.get() + cut.len()));
    Snippet::source(&file.text[cut])
        .line_start(line)
        .path(file.path.display().to_string())
        .fold(true)
}

#[cfg(test)]
thread_local! {
    /// Bytes of source handed to the snippet renderer on this thread (tests measure
    /// the work rendering does by it, not by time).
    static EXCERPT_BYTES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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
    help: Vec<&'a str>,
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
        help: d.helps(),
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

    /// The human format as rendered from the whole file (what kiln did before cutting
    /// excerpts), for comparison.
    fn human_from_whole_file(d: &Diagnostic, sources: &SourceMap) -> String {
        let span = d.span.unwrap();
        let file = sources.file(span.file);
        let mut snippet = Snippet::source(file.text.as_str())
            .path(file.path.display().to_string())
            .fold(true)
            .annotation(AnnotationKind::Primary.span(file.clamp(span.range())));
        for l in &d.labels {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(file.clamp(l.span.range()))
                    .label(&l.message),
            );
        }
        let mut group =
            Group::with_title(Level::ERROR.primary_title(d.message.as_str()).id(d.name))
                .element(snippet);
        for help in d.helps() {
            group = group.element(Level::HELP.message(help));
        }
        Renderer::plain()
            .decor_style(DecorStyle::Ascii)
            .render(&[group])
    }

    #[test]
    fn excerpts_render_exactly_as_the_whole_file_does() {
        let body = "apps:\n  web:\n    port: 0\n    image: {tag: \"caf\u{e9};x\"}\n\n  api:\n    replicas: 2147483648\n    routes:\n      main: {host: a.example.com}\nlast: line";
        for text in [body.to_owned(), format!("{body}\n"), format!("{body}\n\n")] {
            excerpts_render_as_the_whole_file(&text);
        }
    }

    fn excerpts_render_as_the_whole_file(text: &str) {
        let mut sources = SourceMap::default();
        let id = sources.add("environments/dev.yaml", text.to_owned());
        let len = text.len();
        let mut spans = vec![(0, 0), (len, len), (len - 4, len), (2, 30), (12, 13)];
        for start in (0..len).step_by(7) {
            spans.push((start, start));
            spans.push((start, (start + 9).min(len)));
        }
        for (i, &(start, end)) in spans.iter().enumerate() {
            let mut d = Diagnostic::error(checks::INVALID_VALUE, "bad")
                .at(Some(Span::new(id, start, end)))
                .help("fix it");
            if i % 3 == 0 {
                let (a, b) = spans[(i * 5) % spans.len()];
                d = d.label(Some(Span::new(id, a, b)), "related");
            }
            assert_eq!(
                human(&d, &sources, false),
                human_from_whole_file(&d, &sources),
                "span {start}..{end} of {text:?}"
            );
        }
    }

    /// Rendering N diagnostics over one file of N entries hands the renderer about one
    /// line per diagnostic, not the file each time (which was quadratic: 8,000 warnings
    /// took 35 s). Measured by the bytes given to the renderer, not by time.
    #[test]
    fn rendering_many_diagnostics_over_one_big_file_is_linear() {
        let n = 20_000;
        let mut text = String::from("apps:\n");
        let mut starts = Vec::new();
        for i in 0..n {
            text.push_str(&format!("  app-{i:05}:\n    port: {}\n", 8000 + i % 1000));
            starts.push(text.len() - 5);
        }
        let mut sources = SourceMap::default();
        let id = sources.add("environments/common.yaml", text.clone());
        let diagnostics: Vec<Diagnostic> = starts
            .iter()
            .map(|&s| {
                Diagnostic::warning(checks::UNUSED_SECRET, "port")
                    .at(Some(Span::new(id, s, s + 4)))
                    .help("change it")
            })
            .collect();
        EXCERPT_BYTES.with(|b| b.set(0));
        let out = all(&diagnostics, &sources, Format::Human, false);
        let handed = EXCERPT_BYTES.with(std::cell::Cell::get);
        assert!(
            out.contains("20000 warnings"),
            "{}",
            &out[out.len() - 100..]
        );
        // Each diagnostic shows one line of "    port: 8xyz\n" (15 bytes).
        assert_eq!(handed, n * 15, "the renderer was handed {handed} bytes");
        assert!(
            handed < text.len(),
            "{handed} bytes for a {}-byte file",
            text.len()
        );
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
        assert_eq!(
            v["help"][0],
            checks::SCHEMA.fix,
            "no help of its own: the fix hint"
        );
    }

    #[test]
    fn the_fix_hint_is_the_help_of_a_diagnostic_without_a_more_specific_one() {
        let mut sources = SourceMap::default();
        let id = sources.add("e.yaml", "a: 1\n".into());
        let bare = Diagnostic::error(checks::DUPLICATE_KEY, "duplicate key `a`")
            .at(Some(Span::new(id, 0, 1)));
        let text = human(&bare, &sources, false);
        assert!(
            text.contains(&format!("help: {}", checks::DUPLICATE_KEY.fix)),
            "{text}"
        );
        let specific = bare.help("keep the second `a`");
        let text = human(&specific, &sources, false);
        assert!(text.contains("help: keep the second `a`"), "{text}");
        assert!(!text.contains(checks::DUPLICATE_KEY.fix), "{text}");
    }
}
