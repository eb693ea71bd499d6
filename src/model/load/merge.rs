//! Merging an environment's chain of files, base first, like a JSON merge patch
//! (RFC 7386): mappings merge key by key, `null` removes a key, anything else replaces.

use super::decode::File;
use crate::yaml::{Key, Node, Value};
use std::collections::HashMap;

/// The files of `chain` (base first) merged into one node, without their `extends`
/// and `abstract`; `None` for an empty chain.
pub(super) fn chain(chain: &[&File]) -> Option<Node> {
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
    merged
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

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
