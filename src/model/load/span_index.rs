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
