//! The pointer → span index: where each value (and its key) of a merged environment
//! was written, so that checks on typed data can point at `file:line:col`.

use crate::diagnostic::Span;
use crate::yaml::{Node, Value};
use std::collections::HashMap;

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

    /// The span of the value at `pointer` when the model writes one there (no
    /// ancestor's: a field left to its default has none).
    pub fn written(&self, pointer: &str) -> Option<Span> {
        self.values.get(pointer).copied()
    }

    /// The span of the key at `pointer`, falling back to the value's span.
    pub fn key(&self, pointer: &str) -> Option<Span> {
        self.keys
            .get(pointer)
            .copied()
            .or_else(|| self.value(pointer))
    }

    /// The deepest JSON pointer whose value or key was written exactly at `span` (the
    /// reverse of [`value`](Self::value) and [`key`](Self::key)), e.g. the model field a
    /// diagnostic points at; `None` when no value or key starts and ends there.
    pub fn pointer_at(&self, span: Span) -> Option<&str> {
        self.values
            .iter()
            .chain(&self.keys)
            .filter(|(_, s)| **s == span)
            .map(|(p, _)| p.as_str())
            .max_by(|a, b| a.len().cmp(&b.len()).then_with(|| b.cmp(a)))
    }

    /// The index of every value and key under `root`.
    pub(super) fn of(root: &Node) -> SpanIndex {
        let mut index = SpanIndex::default();
        index.build(root, &mut String::new());
        index
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

#[cfg(test)]
mod tests {
    use super::SpanIndex;
    use crate::diagnostic::SourceMap;

    #[test]
    fn pointer_at_is_the_reverse_of_value_and_key() {
        let text = "apps:\n  web:\n    port: 8080\n    routes:\n      main: {host: a.example}\n";
        let mut sources = SourceMap::default();
        let file = sources.add("environments/dev.yaml", text.to_string());
        let root = crate::yaml::parse(file, text).unwrap();
        let index = SpanIndex::of(&root);
        for pointer in ["/apps/web/port", "/apps/web/routes/main/host"] {
            let value = index.written(pointer).unwrap();
            assert_eq!(index.pointer_at(value), Some(pointer));
            let key = index.key(pointer).unwrap();
            assert_eq!(index.pointer_at(key), Some(pointer));
        }
        // A mapping's value is its key's span: the mapping's own pointer, not a child's.
        let routes = index.written("/apps/web/routes").unwrap();
        assert_eq!(index.pointer_at(routes), Some("/apps/web/routes"));
        let elsewhere = crate::diagnostic::Span::new(file, 1, 3);
        assert_eq!(index.pointer_at(elsewhere), None);
    }
}
