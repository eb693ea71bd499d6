//! Decoding: the input files → UTF-8 text in the [`SourceMap`] → YAML nodes, with each
//! environment file's `extends` and `abstract` read.

use crate::diagnostic::{Diagnostic, Diagnostics, FileId, SourceMap, Span, checks};
use crate::model::Project;
use crate::model::files::{ENVIRONMENTS, Entry, Files};
use crate::yaml::{self, Node, Value};
use std::path::Path;

/// The folder of sealed values.
pub const SEALED_DIR: &str = "environments/sealed";

/// One file of `environments/` after parsing.
pub(super) struct File {
    pub(super) id: FileId,
    /// The path relative to the project root (what generated files name as their source).
    pub(super) rel: String,
    pub(super) stem: String,
    pub(super) node: Node,
    pub(super) extends: Option<(String, Span)>,
    pub(super) is_abstract: bool,
}

/// Every `.yaml`/`.yml` file of `environments/` that decodes to a mapping with a valid
/// `extends` and `abstract`; the others are reported.
pub(super) fn files(input: &Files, project: &mut Project, diags: &mut Diagnostics) -> Vec<File> {
    let mut files = Vec::new();
    for (name, entry) in input.dir(ENVIRONMENTS) {
        let path = Path::new(name);
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if ext != "yaml" && ext != "yml" {
            continue;
        }
        let rel = format!("{ENVIRONMENTS}/{name}");
        if let Some(file) = read_file(&rel, entry, input, project, diags) {
            files.push(file);
        }
    }
    files
}

/// A located error for every path among `input`'s [`Files::problems`] that `select`
/// keeps: a link, a special file, a folder that cannot be listed. The message says why
/// and never quotes where a link points or what it holds.
pub fn problems(
    input: &Files,
    sources: &mut SourceMap,
    select: impl Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    input
        .problems()
        .filter(|(path, _)| select(path))
        .map(|(path, why)| {
            cannot_read(&input.source_path(path), why, sources).help(
                "nothing was read from it and nothing is written until it is a regular file or folder kiln can read",
            )
        })
        .collect()
}

/// `cannot read <display>: <why>`, at the start of `display`, added to `sources` with
/// no text.
fn cannot_read(display: &Path, why: &str, sources: &mut SourceMap) -> Diagnostic {
    let id = sources.add(display, String::new());
    Diagnostic::error(
        checks::IO,
        format!("cannot read {}: {why}", display.display()),
    )
    .at(Some(Span::new(id, 0, 0)))
}

/// Adds one input file (model, sealed values, recorded tags, template override) to
/// `sources` under its display path, or a located error when it could not be read (a
/// directory, permissions), is not UTF-8 (UTF-16 is named) or starts with a
/// byte-order mark.
pub fn add_source(
    entry: &Entry,
    display: &Path,
    sources: &mut SourceMap,
) -> Result<FileId, Box<Diagnostic>> {
    let bytes = match entry {
        Entry::File(bytes) => bytes.clone(),
        Entry::Unreadable(why) => return Err(Box::new(cannot_read(display, why, sources))),
    };
    let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
    let (text, bad_at) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
        }
    };
    let bom = text.starts_with('\u{feff}');
    let id = sources.add(display, text);
    if let Some(at) = bad_at {
        // The text holds U+FFFD where the first invalid bytes were.
        return Err(Box::new(
            Diagnostic::error(
                checks::IO,
                if utf16 {
                    "the file is UTF-16; kiln reads UTF-8"
                } else {
                    "the file is not valid UTF-8"
                },
            )
            .at(Some(Span::new(
                id,
                at,
                at + char::REPLACEMENT_CHARACTER.len_utf8(),
            )))
            .help("save the file as UTF-8"),
        ));
    }
    if bom {
        return Err(Box::new(
            Diagnostic::error(
                checks::YAML_SYNTAX,
                "the file starts with a byte-order mark",
            )
            .at(Some(Span::new(id, 0, 3)))
            .help("save the file as UTF-8 without BOM"),
        ));
    }
    Ok(id)
}

fn read_file(
    rel: &str,
    entry: &Entry,
    input: &Files,
    project: &mut Project,
    diags: &mut Diagnostics,
) -> Option<File> {
    let display = input.source_path(rel);
    let display = display.as_path();
    let stem = Path::new(rel)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let id = match add_source(entry, display, &mut project.sources) {
        Ok(id) => id,
        Err(d) => {
            diags.push(*d);
            return None;
        }
    };
    let text = &project.sources.file(id).text;
    let node = match yaml::parse(id, text) {
        Ok(node) => node,
        Err(errors) => {
            diags.extend(errors);
            return None;
        }
    };
    match &node.value {
        Value::Map(_) => {}
        Value::Null => {
            diags.push(
                Diagnostic::error(checks::SCHEMA, "the file is empty")
                    .at(Some(Span::new(id, 0, 0)))
                    .help("an environment file is a mapping; start with `extends: common` or `abstract: true`"),
            );
            return None;
        }
        _ => {
            diags.push(
                Diagnostic::error(
                    checks::SCHEMA,
                    format!(
                        "expected a mapping at the top of the file, found a {}",
                        node.type_name()
                    ),
                )
                .at(Some(node.span)),
            );
            return None;
        }
    }
    let mut ok = true;
    let extends = match node.get("extends") {
        None => None,
        Some(n) => match n.as_str() {
            Some(s) => Some((s.to_owned(), n.span)),
            None => {
                diags.push(
                    Diagnostic::error(checks::EXTENDS, "`extends` names one file, as a string")
                        .at(Some(n.span)),
                );
                ok = false;
                None
            }
        },
    };
    let is_abstract = match node.get("abstract") {
        None => false,
        Some(Node {
            value: Value::Bool(b),
            ..
        }) => *b,
        Some(n) => {
            diags.push(
                Diagnostic::error(checks::SCHEMA, "`abstract` is `true` or `false`")
                    .at(Some(n.span)),
            );
            ok = false;
            false
        }
    };
    ok.then_some(File {
        id,
        rel: rel.to_owned(),
        stem,
        node,
        extends,
        is_abstract,
    })
}
