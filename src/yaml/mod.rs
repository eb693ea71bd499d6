//! YAML with positions: parses one file into a [`Node`] tree where every node keeps
//! its [`Span`], so every later diagnostic can say `file:line:col`.
//!
//! kiln reads YAML 1.2 strictly, because the model is data, not a program:
//! - `true`/`false` are the only booleans; `on`, `yes`, `y`, `NO` stay strings;
//! - integers have no leading zero, underscore or radix prefix (`0755`, `1_000` and
//!   `0x1F` stay strings), so a file mode or a zip code is never silently a number;
//! - a mapping may not repeat a key (both places are reported);
//! - tags, merge keys (`<<`), aliases and multiple documents are refused with a
//!   message saying what to use instead (`extends` shares values between files), which
//!   also makes alias bombs impossible.

pub mod write;

use crate::diagnostic::{Diagnostic, FileId, Span, checks};
use granit_parser::{Event, Marker, Parser, ScalarStyle};

/// A scalar, sequence or mapping with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it is in its file.
    pub span: Span,
}

/// A mapping key: always a string.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key is written.
    pub span: Span,
}

/// The value of a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string (every quoted scalar, and plain scalars that are not the above).
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with unique string keys, in source order.
    Map(Vec<(Key, Node)>),
}

impl Node {
    /// The entry for `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name for the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// Converts to JSON (spans are dropped; see `model::load` for the pointer index).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses `text` (the contents of file `file`) into one document.
///
/// Returns `None` with diagnostics when the text is not acceptable YAML; a syntax
/// error stops the file, other problems (duplicate keys, tags) are all reported.
pub fn parse(file: FileId, text: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder {
        file,
        text,
        errors: Vec::new(),
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: Vec::new(),
        aliases: Vec::new(),
    };
    if let Some(pos) = text.find('\t').filter(|&p| is_indent_tab(text, p)) {
        builder.errors.push(
            Diagnostic::error(
                checks::YAML_SYNTAX,
                "a tab indents this line; YAML indents with spaces",
            )
            .at(Some(Span::new(file, pos, pos + 1)))
            .help("replace the tab with spaces"),
        );
        return Err(builder.errors);
    }
    for event in Parser::new_from_str(text) {
        match event {
            Ok((event, span)) => {
                let span = builder.span(span.start, span.end);
                builder.event(event, span);
            }
            Err(e) => {
                let at = builder.offset(e.marker());
                let (message, help) = syntax_message(&e.to_string());
                let mut d = Diagnostic::error(checks::YAML_SYNTAX, message)
                    .at(Some(Span::new(file, at, at)));
                if let Some(help) = help {
                    d = d.help(help);
                }
                builder.errors.push(d);
                return Err(builder.errors);
            }
        }
    }
    let Builder {
        mut errors,
        mut docs,
        anchors,
        aliases,
        ..
    } = builder;
    // One diagnostic per kind and file: an alias bomb has thousands.
    for (spans, what, help) in [
        (
            &anchors,
            "anchors",
            "move shared values into the base file this one `extends`",
        ),
        (
            &aliases,
            "aliases",
            "write the value out, or move shared values into the base file this one `extends`",
        ),
    ] {
        let Some(first) = spans.first() else {
            continue;
        };
        let mut d = Diagnostic::error(
            checks::YAML_UNSUPPORTED,
            format!("YAML {what} are not supported in the model"),
        )
        .at(Some(*first))
        .help(help);
        if spans.len() > 1 {
            d = d.help(format!("this file has {} {what} in all", spans.len()));
        }
        errors.push(d);
    }
    if docs.len() > 1 {
        errors.push(
            Diagnostic::error(
                checks::YAML_UNSUPPORTED,
                "a second YAML document in one file; kiln reads one document per file",
            )
            .at(Some(docs[1].span))
            .help("move this document into a file of its own"),
        );
    }
    match (errors.is_empty(), docs.is_empty()) {
        (true, false) => Ok(docs.swap_remove(0)),
        (true, true) => Ok(Node {
            value: Value::Null,
            span: Span::new(file, 0, 0),
        }),
        (false, _) => Err(errors),
    }
}

/// Whether the tab at `pos` is in the indentation of its line (a tab inside a quoted
/// string or a comment is fine).
fn is_indent_tab(text: &str, pos: usize) -> bool {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..pos]
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
}

/// The parser's message without its position (kiln prints the location itself), in
/// kiln's words where the parser's are obscure, and a hint at the usual cause.
fn syntax_message(raw: &str) -> (String, Option<&'static str>) {
    // granit appends " at byte N line L column C".
    let trimmed = raw.split(" at byte ").next().unwrap_or(raw).trim();
    let trimmed = trimmed.split(" at line ").next().unwrap_or(trimmed).trim();
    let trimmed = trimmed.split(" at char ").next().unwrap_or(trimmed).trim();
    if trimmed.contains("recursion limit exceeded") {
        return (
            "invalid YAML: nested too deeply".to_owned(),
            Some("kiln reads at most 255 levels of nested lists and mappings"),
        );
    }
    if let Some(c) = trimmed
        .strip_prefix("unexpected character: `")
        .and_then(|rest| rest.strip_suffix('\''))
        .and_then(quoted_char)
    {
        let what = if c.is_control() {
            format!("the control character U+{:04X}", u32::from(c))
        } else {
            format!("`{c}`")
        };
        return (
            format!("invalid YAML: {what} cannot start a value or appear here"),
            Some("quote the value if the character belongs in it"),
        );
    }
    let help = if trimmed.contains("unknown escape character") {
        Some(
            "in double quotes `\\` starts an escape such as `\\n`; write `\\\\`, or use single quotes",
        )
    } else if trimmed.contains("quoted scalar") {
        Some("a quoted string ends at its closing quote: is one missing?")
    } else if trimmed.contains("':' indicator") {
        Some("is a `]` or `}` missing on an earlier line?")
    } else if trimmed.contains("did not find expected key") {
        Some("check the indentation: keys of one mapping start in the same column")
    } else if trimmed.contains("mapping values are not allowed") {
        Some("a value containing `: ` must be quoted")
    } else {
        None
    };
    (format!("invalid YAML: {trimmed}"), help)
}

/// The character granit shows as `c` or, for a control character, `\u{7}`.
fn quoted_char(shown: &str) -> Option<char> {
    if let Some(hex) = shown
        .strip_prefix("\\u{")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
    }
    let mut chars = shown.chars();
    chars.next().filter(|_| chars.next().is_none())
}

enum Frame {
    Seq {
        start: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        entries: Vec<(Key, Node)>,
        /// Where each key in `entries` is written: duplicates are found in constant
        /// time, so a mapping with many keys cannot make parsing quadratic.
        seen: std::collections::HashMap<String, Span>,
        pending: Option<Key>,
    },
}

struct Builder<'a> {
    file: FileId,
    text: &'a str,
    errors: Vec<Diagnostic>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    /// Where anchors and aliases are (refused; reported once per file).
    anchors: Vec<Span>,
    aliases: Vec<Span>,
}

impl Builder<'_> {
    fn offset(&self, m: &Marker) -> usize {
        m.byte_offset().unwrap_or_else(|| {
            // Fallback: walk to line/col (col counts characters).
            let line_start = self
                .text
                .split_inclusive('\n')
                .take(m.line().saturating_sub(1))
                .map(str::len)
                .sum::<usize>();
            let rest = &self.text[line_start.min(self.text.len())..];
            line_start
                + rest
                    .char_indices()
                    .nth(m.col())
                    .map_or(rest.len(), |(i, _)| i)
        })
    }

    fn span(&self, start: Marker, end: Marker) -> Span {
        Span::new(self.file, self.offset(&start), self.offset(&end))
    }

    fn unsupported(&mut self, span: Span, message: &str, help: &str) {
        self.errors.push(
            Diagnostic::error(checks::YAML_UNSUPPORTED, message)
                .at(Some(span))
                .help(help),
        );
    }

    fn event(&mut self, event: Event<'_>, span: Span) {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 {
                    self.anchors.push(span);
                }
                if tag.is_some() {
                    self.unsupported(
                        span,
                        "YAML tags are not supported in the model",
                        "remove the tag; quote the value if it must stay a string",
                    );
                }
                let value = resolve(&text, style);
                if let Value::Float(f) = value
                    && !f.is_finite()
                {
                    self.unsupported(
                        span,
                        &format!("the number `{text}` is too large"),
                        "quote it if it is meant as text",
                    );
                }
                self.push(Node { value, span });
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                if anchor != 0 {
                    self.anchors.push(span);
                }
                if tag.is_some() {
                    self.unsupported(
                        span,
                        "YAML tags are not supported in the model",
                        "remove the tag",
                    );
                }
                let start = span.start as usize;
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        start,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        start,
                        entries: Vec::new(),
                        seen: std::collections::HashMap::new(),
                        pending: None,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let end = span.end as usize;
                let node = match self.stack.pop() {
                    Some(Frame::Seq { start, items }) => Node {
                        value: Value::Seq(items),
                        span: Span::new(self.file, start, end),
                    },
                    Some(Frame::Map { start, entries, .. }) => Node {
                        value: Value::Map(entries),
                        span: Span::new(self.file, start, end),
                    },
                    None => return,
                };
                self.push(node);
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                self.aliases.push(span);
                self.push(Node {
                    value: Value::Null,
                    span,
                });
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(..)
            | Event::DocumentEnd
            | Event::Anchor(..) => {}
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                seen,
                pending,
                ..
            }) => match pending.take() {
                None => {
                    let name = match node.value {
                        Value::String(s) => s,
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_owned(),
                        Value::Float(_) | Value::Seq(_) | Value::Map(_) => {
                            let d = Diagnostic::error(
                                checks::YAML_UNSUPPORTED,
                                "mapping keys must be strings",
                            )
                            .at(Some(node.span));
                            self.errors.push(d);
                            String::new()
                        }
                    };
                    if name == "<<" {
                        let d = Diagnostic::error(
                            checks::YAML_UNSUPPORTED,
                            "YAML merge keys (`<<`) are not supported in the model",
                        )
                        .at(Some(node.span))
                        .help("use `extends` to share values between files");
                        self.errors.push(d);
                    }
                    if let Some(first) = seen.get(&name) {
                        let d = Diagnostic::error(
                            checks::DUPLICATE_KEY,
                            format!("duplicate key `{name}`"),
                        )
                        .at(Some(node.span))
                        .label(Some(*first), "first defined here")
                        .help("remove one of them; YAML parsers disagree on which one wins");
                        self.errors.push(d);
                    }
                    *pending = Some(Key {
                        name,
                        span: node.span,
                    });
                }
                Some(key) => {
                    // A duplicate key keeps its first value; the error above stops the run.
                    if !seen.contains_key(&key.name) {
                        seen.insert(key.name.clone(), key.span);
                        entries.push((key, node));
                    }
                }
            },
        }
    }
}

/// Resolves a scalar with kiln's strict YAML 1.2 core rules (see the module docs).
fn resolve(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let leading_zero = unsigned.len() > 1 && unsigned.starts_with('0');
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) && !leading_zero {
        return text.parse::<i64>().map_or_else(
            |_| {
                text.parse::<f64>()
                    .map_or_else(|_| Value::String(text.to_owned()), Value::Float)
            },
            Value::Int,
        );
    }
    if is_decimal_float(unsigned)
        && !leading_zero_int_part(unsigned)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(text.to_owned())
}

fn is_decimal_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    let (whole, frac) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    exp_ok
        && digits(whole)
        && frac.is_none_or(digits)
        && (!whole.is_empty() || frac.is_some_and(|f| !f.is_empty()))
        && (frac.is_some() || exponent.is_some())
}

fn leading_zero_int_part(s: &str) -> bool {
    let whole = s.split(['.', 'e', 'E']).next().unwrap_or("");
    whole.len() > 1 && whole.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceMap;

    fn load(text: &str) -> Result<Node, Vec<Diagnostic>> {
        let mut sources = SourceMap::default();
        let id = sources.add("t.yaml", text.to_owned());
        parse(id, text)
    }

    #[test]
    fn yaml_11_booleans_octals_and_sexagesimals_stay_strings() {
        let node =
            load("a: on\nb: yes\nc: y\nd: NO\ne: 12:30\nf: 0755\ng: 1_000\nh: 0x1F\ni: off\n")
                .unwrap();
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            assert!(
                matches!(node.get(key).unwrap().value, Value::String(_)),
                "{key} should be a string"
            );
        }
    }

    #[test]
    fn core_scalars_resolve() {
        let node = load("a: true\nb: 12\nc: -3\nd: 1.5\ne: ~\nf: \"12\"\ng: 1e3\n").unwrap();
        assert_eq!(node.get("a").unwrap().value, Value::Bool(true));
        assert_eq!(node.get("b").unwrap().value, Value::Int(12));
        assert_eq!(node.get("c").unwrap().value, Value::Int(-3));
        assert_eq!(node.get("d").unwrap().value, Value::Float(1.5));
        assert_eq!(node.get("e").unwrap().value, Value::Null);
        assert_eq!(node.get("f").unwrap().value, Value::String("12".into()));
        assert_eq!(node.get("g").unwrap().value, Value::Float(1000.0));
    }

    #[test]
    fn duplicate_keys_are_errors_naming_both_places() {
        let errors = load("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "duplicate-key");
        assert_eq!(errors[0].span.unwrap().start, 10);
        assert_eq!(errors[0].labels[0].span.start, 0);
    }

    #[test]
    fn nested_duplicate_keys_are_all_reported() {
        let errors = load("a:\n  x: 1\n  x: 2\nb:\n  y: 1\n  y: 2\n").unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn aliases_anchors_tags_and_merge_keys_are_refused() {
        let errors = load("a: &x 1\nb: *x\n").unwrap_err();
        assert!(errors.iter().all(|e| e.name == "yaml-unsupported"));
        assert_eq!(errors.len(), 2);
        assert_eq!(
            load("a: !!str 1\n").unwrap_err()[0].name,
            "yaml-unsupported"
        );
        assert_eq!(
            load("a:\n  <<: {b: 1}\n").unwrap_err()[0].name,
            "yaml-unsupported"
        );
    }

    #[test]
    fn billion_laughs_is_refused_without_expanding() {
        let mut doc = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            doc.push_str(&format!("{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = n;
        }
        let start = std::time::Instant::now();
        let errors = load(&doc).unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        // One error for the anchors and one for the aliases, not one per alias.
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[1].help.iter().any(|h| h.contains("72 aliases")));
    }

    #[test]
    fn many_keys_parse_in_linear_time() {
        // A bound for correctness, not a benchmark: checking each key against every
        // earlier one took minutes here.
        let doc: String = (0..100_000).map(|i| format!("k{i}: v\n")).collect();
        let start = std::time::Instant::now();
        let node = load(&format!("{doc}k7: again\n"));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(node.unwrap_err()[0].name, "duplicate-key");
    }

    #[test]
    fn numbers_too_large_for_a_float_are_refused_not_nulled() {
        let errors = load("a: 1e999\n").unwrap_err();
        assert_eq!(errors[0].message, "the number `1e999` is too large");
    }

    #[test]
    fn deep_nesting_is_refused_with_a_plain_message() {
        let doc = format!("a: {}\n", "[".repeat(100_000));
        let errors = load(&doc).unwrap_err();
        assert_eq!(errors[0].message, "invalid YAML: nested too deeply");
    }

    #[test]
    fn control_characters_are_named() {
        let errors = load("a: x\u{7}y\n").unwrap_err();
        assert!(
            errors[0].message.contains("U+0007"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let errors = load("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "yaml-syntax");
        assert!(
            errors[0].message.starts_with("invalid YAML: "),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn indenting_tabs_are_errors_but_tabs_in_strings_are_not() {
        assert_eq!(load("a:\n\tb: 1\n").unwrap_err()[0].name, "yaml-syntax");
        assert!(load("a: \"x\ty\"\n").is_ok());
    }

    #[test]
    fn second_document_is_refused() {
        let errors = load("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(errors[0].name, "yaml-unsupported");
    }

    #[test]
    fn spans_cover_scalars() {
        let text = "key: value\n";
        let node = load(text).unwrap();
        let v = node.get("key").unwrap();
        assert_eq!(&text[v.span.range()], "value");
    }
}
