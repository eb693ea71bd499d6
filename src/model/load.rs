//! Loading `environments/`: files → YAML nodes → `extends` merged → `${vars}`
//! substituted → JSON Schema checked → typed [`Model`]s.
//!
//! Every problem is collected; an environment with errors is left out of the
//! returned [`Project`], and the caller stops before rendering.

use super::files::{ENVIRONMENTS, Entry, Files};
use super::schema;
use super::{Environment, Model, Name, Project};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, SourceMap, Span, checks};
use crate::yaml::{self, Key, Node, Value};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// JSON pointer → where the value (and its key) was written.
#[derive(Debug, Default)]
pub struct SpanIndex {
    values: HashMap<String, Span>,
    keys: HashMap<String, Span>,
}

impl SpanIndex {
    /// The span of the value at `pointer`, or of the nearest ancestor that has one.
    pub fn value(&self, pointer: &str) -> Option<Span> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.values.get(p) {
                return Some(*s);
            }
            p = &p[..p.rfind('/')?];
        }
    }

    /// The span of the key at `pointer`, falling back to the value's span.
    pub fn key(&self, pointer: &str) -> Option<Span> {
        self.keys
            .get(pointer)
            .copied()
            .or_else(|| self.value(pointer))
    }

    fn build(&mut self, node: &Node, pointer: &mut String) {
        // A mapping or list spans many lines; point at its key (or its first byte).
        let span = match (&node.value, self.keys.get(pointer.as_str())) {
            (Value::Map(_) | Value::Seq(_), Some(key)) => *key,
            (Value::Map(_) | Value::Seq(_), None) => Span::new(
                node.span.file,
                node.span.start as usize,
                node.span.start as usize,
            ),
            _ => node.span,
        };
        self.values.insert(pointer.clone(), span);
        match &node.value {
            Value::Map(entries) => {
                for (key, value) in entries {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&crate::pointer::escape(&key.name));
                    self.keys.insert(pointer.clone(), key.span);
                    self.build(value, pointer);
                    pointer.truncate(len);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.build(item, pointer);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
}

/// One file of `environments/` after parsing.
struct File {
    id: FileId,
    /// The path relative to the project root (what generated files name as their source).
    rel: String,
    stem: String,
    node: Node,
    extends: Option<(String, Span)>,
    is_abstract: bool,
}

/// Loads every environment under `root/environments` from the file system.
///
/// Returns the project (with only the environments that loaded cleanly) and every
/// diagnostic found. An unreadable directory is reported as a diagnostic too.
pub fn load(root: &Path) -> (Project, Diagnostics) {
    load_files(&Files::read(root))
}

/// Loads every environment from an in-memory set of input files (the working tree's
/// or a git revision's). See [`load`].
pub fn load_files(input: &Files) -> (Project, Diagnostics) {
    let mut project = Project::default();
    let mut diags = Diagnostics::default();
    let dir = input.location(ENVIRONMENTS);
    if let Some(e) = input.env_dir_error() {
        diags.push(
            Diagnostic::error(checks::NO_ENVIRONMENT, format!("cannot read {dir}: {e}"))
                .help("run kiln in the project root, or pass --root DIR; the model lives in DIR/environments/"),
        );
        return (project, diags);
    }
    // Recorded tags and sealed values report their own folders' problems.
    diags.extend(problems(input, &mut project.sources, |p| {
        !super::files::is_under(p, super::tags::STATE_DIR) && !super::files::is_under(p, SEALED_DIR)
    }));
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
        if let Some(file) = read_file(&rel, entry, input, &mut project, &mut diags) {
            files.push(file);
        }
    }
    let environments: Vec<&File> = files.iter().filter(|f| !f.is_abstract).collect();
    if environments.is_empty() && !diags.has_errors() {
        // Point at the first `abstract: true` when there is one: that is what makes
        // this file a base rather than an environment.
        let at = files
            .iter()
            .find_map(|f| f.node.get("abstract").map(|n| n.span));
        let message = if at.is_some() {
            "no environment in environments/: every file is `abstract: true`".to_owned()
        } else {
            format!("no environment in {dir}")
        };
        diags.push(
            Diagnostic::error(checks::NO_ENVIRONMENT, message)
                .at(at)
                .help("add a file such as environments/dev.yaml (files with `abstract: true` are only shared bases)"),
        );
    }
    let by_stem: BTreeMap<&str, &File> = files.iter().map(|f| (f.stem.as_str(), f)).collect();
    let mut extended = std::collections::BTreeSet::new();
    let mut to_resolve = Vec::new();
    for file in &environments {
        let Some(chain) = chain(file, &by_stem, &mut diags) else {
            continue;
        };
        for f in &chain {
            extended.insert(f.stem.clone());
        }
        let name = match Name::parse(&file.stem) {
            Ok(name) => name,
            Err(why) => {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("environment name from file name: {why}"),
                    )
                    .at(Some(Span::new(file.id, 0, 0)))
                    .help("rename the file; the environment is named after it"),
                );
                continue;
            }
        };
        let sources: Vec<String> = chain.iter().map(|f| f.rel.clone()).collect();
        to_resolve.push((name, chain, file.id, sources));
    }
    // Environments resolve independently: in parallel, diagnostics kept in order.
    let resolved: Vec<(Option<Environment>, Diagnostics)> = to_resolve
        .into_par_iter()
        .map(|(name, chain, id, sources)| {
            let mut diags = Diagnostics::default();
            let env = resolve(name, &chain, id, sources, &mut diags);
            (env, diags)
        })
        .collect();
    for (env, d) in resolved {
        diags.append(d);
        project.environments.extend(env);
    }
    let all_parsed = !diags.has_errors();
    for f in files
        .iter()
        .filter(|f| all_parsed && f.is_abstract && !extended.contains(&f.stem))
    {
        diags.push(
            Diagnostic::warning(
                checks::UNUSED_ABSTRACT,
                format!("`{}` is abstract but no environment extends it", f.stem),
            )
            .at(f.node.get("abstract").map(|n| n.span))
            .help(format!(
                "add `extends: {}` to an environment, or delete the file",
                f.stem
            )),
        );
    }
    project.environments.sort_by(|a, b| a.name.cmp(&b.name));
    (project, diags)
}

/// The folder of sealed values.
pub const SEALED_DIR: &str = "environments/sealed";

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
            let display = input.source_path(path);
            let id = sources.add(&display, String::new());
            Diagnostic::error(
                checks::IO,
                format!("cannot read {}: {why}", display.display()),
            )
            .at(Some(Span::new(id, 0, 0)))
            .help("nothing was read from it and nothing is written until it is a regular file or folder kiln can read")
        })
        .collect()
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
        Entry::Unreadable(why) => {
            let id = sources.add(display, String::new());
            return Err(Box::new(
                Diagnostic::error(
                    checks::IO,
                    format!("cannot read {}: {why}", display.display()),
                )
                .at(Some(Span::new(id, 0, 0))),
            ));
        }
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

/// The files an environment is built from, base first.
fn chain<'a>(
    file: &'a File,
    by_stem: &BTreeMap<&str, &'a File>,
    diags: &mut Diagnostics,
) -> Option<Vec<&'a File>> {
    let mut chain = vec![file];
    let mut current = file;
    while let Some((parent, span)) = &current.extends {
        let Some(next) = by_stem.get(parent.as_str()) else {
            let known: Vec<_> = by_stem
                .keys()
                .filter(|s| **s != file.stem)
                .copied()
                .collect();
            diags.push(
                Diagnostic::error(
                    checks::EXTENDS,
                    format!("`extends: {parent}` names no file in environments/"),
                )
                .at(Some(*span))
                .did_you_mean(parent, known.iter().copied())
                .help(if known.is_empty() {
                    format!("create environments/{parent}.yaml")
                } else {
                    format!("files you can extend: {}", known.join(", "))
                }),
            );
            return None;
        };
        if chain.iter().any(|f| f.stem == next.stem) {
            let cycle: Vec<_> = chain
                .iter()
                .map(|f| f.stem.as_str())
                .chain([parent.as_str()])
                .collect();
            diags.push(
                Diagnostic::error(
                    checks::EXTENDS,
                    format!("`extends` forms a cycle: {}", cycle.join(" → ")),
                )
                .at(Some(*span))
                .help("one of these files must not extend another"),
            );
            return None;
        }
        chain.push(next);
        current = next;
    }
    chain.reverse();
    Some(chain)
}

fn resolve(
    name: Name,
    chain: &[&File],
    file: FileId,
    sources: Vec<String>,
    diags: &mut Diagnostics,
) -> Option<Environment> {
    let mut merged: Option<Node> = None;
    for f in chain {
        let mut node = f.node.clone();
        if let Value::Map(entries) = &mut node.value {
            entries.retain(|(k, _)| k.name != "extends" && k.name != "abstract");
        }
        merged = Some(match merged {
            None => strip_nulls(node),
            Some(base) => merge(base, node),
        });
    }
    let mut merged = merged?;
    let before = diags.error_count();
    interpolate(&mut merged, &name, diags);
    if diags.error_count() > before {
        return None;
    }
    let mut index = SpanIndex::default();
    index.build(&merged, &mut String::new());
    let mut json = merged.to_json();
    diags.extend(super::literal_secrets::literal_values(&mut json, &index));
    let (errors, unknown) = schema::validate(&json, &index);
    if !errors.is_empty() {
        // Unknown fields alone do not stop the checks that follow: drop them and go
        // on, so one run reports every problem. The errors still fail the build.
        let only_unknown = errors.iter().all(|d| d.name == checks::UNKNOWN_FIELD.name);
        diags.extend(errors);
        if !only_unknown {
            return None;
        }
        for pointer in unknown {
            crate::pointer::remove(&mut json, &pointer);
        }
    }
    match serde_path_to_error::deserialize::<_, Model>(json) {
        Ok(model) => Some(Environment {
            name,
            file,
            sources,
            model,
            index,
        }),
        Err(e) => {
            let pointer = path_to_pointer(e.path());
            diags.push(
                Diagnostic::error(checks::SCHEMA, e.inner().to_string()).at(index.value(&pointer)),
            );
            None
        }
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&crate::pointer::escape(key)),
            Segment::Enum { variant } => out.push_str(&crate::pointer::escape(variant)),
            Segment::Unknown => {}
        }
    }
    out
}

/// Removes `null` map entries (a `null` means "not set").
fn strip_nulls(mut node: Node) -> Node {
    if let Value::Map(entries) = node.value {
        node.value = Value::Map(
            entries
                .into_iter()
                .filter(|(_, v)| v.value != Value::Null)
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        );
    }
    node
}

/// Merges `patch` over `base` like a JSON merge patch (RFC 7386), keeping the spans
/// of whichever file each value comes from.
fn merge(base: Node, patch: Node) -> Node {
    match (base.value, patch.value) {
        (Value::Map(entries), Value::Map(patch_entries)) => {
            // Slots keep the base's order; a removed entry leaves an empty slot. The
            // index keeps merging linear in the number of keys.
            let mut slots: Vec<Option<(Key, Node)>> = entries.into_iter().map(Some).collect();
            let mut index: HashMap<String, usize> = slots
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.as_ref().map(|(k, _)| (k.name.clone(), i)))
                .collect();
            for (key, value) in patch_entries {
                match (index.get(&key.name).copied(), value.value == Value::Null) {
                    (Some(i), true) => {
                        slots[i] = None;
                        index.remove(&key.name);
                    }
                    (None, true) => {}
                    (Some(i), false) => {
                        if let Some((_, old)) = slots[i].take() {
                            slots[i] = Some((key, merge(old, value)));
                        }
                    }
                    (None, false) => {
                        index.insert(key.name.clone(), slots.len());
                        slots.push(Some((key, strip_nulls(value))));
                    }
                }
            }
            Node {
                value: Value::Map(slots.into_iter().flatten().collect()),
                span: patch.span,
            }
        }
        (_, value) => strip_nulls(Node {
            value,
            span: patch.span,
        }),
    }
}

/// Replaces `${name}` in every string with the environment's variables; `$${` is a
/// literal `${`.
///
/// A variable whose definition is itself wrong (a `domain` that is not a string, an
/// `environment` or `vars` that is not a mapping, a variable that is a list) is
/// reported once, where it is defined, and not again at every use.
fn interpolate(root: &mut Node, env: &Name, diags: &mut Diagnostics) {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    // Names whose definition was reported as wrong; `None` in the set: all of `vars`.
    let mut broken: std::collections::BTreeSet<Option<String>> = Default::default();
    vars.insert("env".to_owned(), env.to_string());
    let mut not_a = |node: &Node, expected: &str, pointer: &str| {
        diags.push(
            Diagnostic::error(
                checks::SCHEMA,
                format!(
                    "expected {expected}, found a {} (at {pointer})",
                    node.type_name()
                ),
            )
            .at(Some(node.span)),
        );
    };
    match root.get("environment") {
        Some(
            e @ Node {
                value: Value::Map(_),
                ..
            },
        ) => match e.get("domain") {
            Some(Node {
                value: Value::String(domain),
                ..
            }) => {
                vars.insert("domain".to_owned(), domain.clone());
            }
            Some(d) => {
                not_a(d, "a string", "/environment/domain");
                broken.insert(Some("domain".to_owned()));
            }
            None => {}
        },
        Some(e) => {
            not_a(e, "a mapping", "/environment");
            broken.insert(Some("domain".to_owned()));
        }
        None => {}
    }
    match root.get("vars") {
        Some(Node {
            value: Value::Map(entries),
            ..
        }) => {
            for (Key { name, span }, value) in entries {
                match value.as_str() {
                    Some(v) if !v.contains("${") => {
                        if name == "env" || name == "domain" {
                            diags.push(
                                Diagnostic::error(
                                    checks::INTERPOLATION,
                                    format!(
                                        "`{name}` is a built-in variable and cannot be set under `vars`"
                                    ),
                                )
                                .at(Some(*span)),
                            );
                        } else {
                            vars.insert(name.clone(), v.to_owned());
                        }
                    }
                    Some(_) => {
                        broken.insert(Some(name.clone()));
                        diags.push(
                            Diagnostic::error(
                                checks::INTERPOLATION,
                                "variables cannot refer to other variables",
                            )
                            .at(Some(value.span)),
                        );
                    }
                    None => {
                        broken.insert(Some(name.clone()));
                        diags.push(
                            Diagnostic::error(
                                checks::INTERPOLATION,
                                format!(
                                    "variable `{name}` must be a string, found a {}",
                                    value.type_name()
                                ),
                            )
                            .at(Some(value.span)),
                        );
                    }
                }
            }
        }
        Some(v) => {
            not_a(v, "a mapping", "/vars");
            broken.insert(None);
        }
        None => {}
    }
    walk_strings(root, &mut |node| {
        let Value::String(s) = &node.value else {
            return;
        };
        if !s.contains("${") {
            return;
        }
        match substitute(s, &vars) {
            Ok(out) => node.value = Value::String(out),
            Err(None) => diags.push(
                Diagnostic::error(checks::INTERPOLATION, "`${` is not closed with `}`")
                    .at(Some(node.span))
                    .help("write `${name}`, or `$${` for a literal `${`"),
            ),
            Err(Some(unknown))
                if broken.contains(&Some(unknown.clone())) || broken.contains(&None) => {}
            Err(Some(unknown)) => {
                let known: Vec<_> = vars.keys().map(String::as_str).collect();
                diags.push(
                    Diagnostic::error(checks::INTERPOLATION, format!("`${{{unknown}}}` is not defined"))
                        .at(Some(node.span))
                        .help(format!(
                            "defined variables: {}; add `{unknown}` under `vars`, or write `$${{` for a literal `${{`",
                            known.join(", ")
                        )),
                );
            }
        }
    });
}

fn walk_strings(node: &mut Node, f: &mut impl FnMut(&mut Node)) {
    match &mut node.value {
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                if key.name != "vars" {
                    walk_strings(value, f);
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| walk_strings(n, f)),
        Value::String(_) => f(node),
        _ => {}
    }
}

/// Substitutes `${name}`; on failure returns the first unknown name, or `None` for a
/// `${` that is never closed.
fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<String, Option<String>> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(lit) = after.strip_prefix("${") {
            out.push_str("${");
            rest = lit;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(None);
            };
            let name = &body[..end];
            out.push_str(vars.get(name).ok_or_else(|| Some(name.to_owned()))?);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceMap;

    fn vars() -> BTreeMap<String, String> {
        [("env", "dev"), ("domain", "example.com")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn substitutes_variables_and_keeps_escaped_dollars() {
        assert_eq!(
            substitute("app.${domain}", &vars()).unwrap(),
            "app.example.com"
        );
        assert_eq!(
            substitute("$${HOME} and $5", &vars()).unwrap(),
            "${HOME} and $5"
        );
        assert_eq!(
            substitute("${nope}", &vars()).unwrap_err().as_deref(),
            Some("nope")
        );
        assert_eq!(substitute("a.${domain", &vars()).unwrap_err(), None);
    }

    #[test]
    fn loads_from_in_memory_files_with_the_same_paths_in_diagnostics() {
        let files = Files::in_memory(
            Path::new("/nowhere"),
            [
                (
                    "environments/common.yaml".to_owned(),
                    b"abstract: true\n".to_vec(),
                ),
                (
                    "environments/dev.yaml".to_owned(),
                    b"extends: common\nbogus: 1\n".to_vec(),
                ),
                (
                    "environments/README.md".to_owned(),
                    b"not a model file".to_vec(),
                ),
                ("templates/x".to_owned(), b"".to_vec()),
            ],
        );
        let (project, diags) = load_files(&files);
        let diags = diags.into_sorted(&project.sources);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].name, checks::UNKNOWN_FIELD.name);
        let span = diags[0].span.unwrap();
        assert_eq!(project.sources.location(span), "environments/dev.yaml:2:1");

        let (_, diags) = load_files(&Files::in_memory(Path::new("/nowhere"), []));
        let diags = diags.into_sorted(&SourceMap::default());
        assert_eq!(diags[0].message, "no environment in /nowhere/environments");
    }

    #[test]
    fn merge_replaces_scalars_merges_maps_and_null_deletes() {
        let mut sources = crate::diagnostic::SourceMap::default();
        let a = sources.add("a", String::new());
        let base = yaml::parse(a, "x: 1\nm: {a: 1, b: 2}\nl: [1, 2]\n").unwrap();
        let patch = yaml::parse(a, "x: 2\nm: {b: null, c: 3}\nl: [3]\n").unwrap();
        let merged = merge(base, patch).to_json();
        assert_eq!(
            merged,
            serde_json::json!({"x": 2, "m": {"a": 1, "c": 3}, "l": [3]})
        );
    }

    #[test]
    fn merging_large_maps_is_linear() {
        let mut sources = crate::diagnostic::SourceMap::default();
        let a = sources.add("a", String::new());
        let keys =
            |n: usize, v: &str| -> String { (0..n).map(|i| format!("k{i}: {v}\n")).collect() };
        let base = yaml::parse(a, &keys(50_000, "1")).unwrap();
        let patch = yaml::parse(
            a,
            &format!("{}k5: null\n", keys(49_000, "2").replace("k5: 2\n", "")),
        )
        .unwrap();
        let start = std::time::Instant::now();
        let merged = merge(base, patch).to_json();
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        let map = merged.as_object().unwrap();
        assert_eq!(map.len(), 49_999);
        assert_eq!(map["k0"], 2);
        assert_eq!(map["k49999"], 1);
        assert!(!map.contains_key("k5"));
    }
}
