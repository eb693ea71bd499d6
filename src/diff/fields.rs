//! Field-by-field comparison of two structured resources: the changed fields as
//! (path, A value, B value), and the redacted text both sides are shown as in a
//! unified diff.
//!
//! Maps are compared key by key; lists whose items all carry a `name` (containers,
//! env, ports, volumes) item by name; lists of plain values as a whole; other lists
//! item by item. Secret values, the `data`/`stringData` of a Secret and the
//! `spec.encryptedData` of a SealedSecret, are never shown: only whether they changed.

use super::normalize::Normalizer;
use super::{Change, Shown};
use serde_json::{Map, Value};

/// One step of a path.
#[derive(Clone, Debug)]
enum Seg {
    /// A map key.
    Key(String),
    /// A list item matched by its `name`.
    Name(String),
    /// A list item by position.
    Index(usize),
}

/// The paths (as map keys from the root) under which a resource holds secret values.
fn secret_roots(root: &Value) -> &'static [&'static [&'static str]] {
    match root["kind"].as_str() {
        Some("SealedSecret") => &[&["spec", "encryptedData"]],
        Some("Secret") => &[&["data"], &["stringData"]],
        _ => &[],
    }
}

struct Walk<'a> {
    norm: &'a Normalizer,
    secrets: &'static [&'static [&'static str]],
    out: Vec<Change>,
}

/// The fields that differ between `a` and `b`.
pub(super) fn changes(a: &Value, b: &Value, norm: &Normalizer) -> Vec<Change> {
    let mut secrets = secret_roots(a);
    if secrets.is_empty() {
        secrets = secret_roots(b);
    }
    let mut walk = Walk {
        norm,
        secrets,
        out: Vec::new(),
    };
    walk.walk(Some(a), Some(b), &mut Vec::new());
    walk.out
}

impl Walk<'_> {
    /// How `path` relates to the secret roots: under one (a secret value), above one
    /// (holds secrets further down), or neither.
    fn secrecy(&self, path: &[Seg]) -> (bool, bool) {
        let keys: Vec<&str> = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.as_str(),
                _ => "",
            })
            .collect();
        let under = self
            .secrets
            .iter()
            .any(|root| keys.len() > root.len() && keys[..root.len()] == **root);
        let above = self
            .secrets
            .iter()
            .any(|root| keys.len() <= root.len() && root[..keys.len()] == *keys);
        (under, above)
    }

    fn walk(&mut self, a: Option<&Value>, b: Option<&Value>, path: &mut Vec<Seg>) {
        let (secret, holds_secrets) = self.secrecy(path);
        if secret {
            if a != b {
                self.out.push(Change {
                    path: display(path),
                    a: a.map(|_| Shown::Secret),
                    b: b.map(|_| Shown::Secret),
                });
            }
            return;
        }
        match (a, b) {
            (Some(x), Some(y)) if self.norm.equal(x, y) => {}
            (Some(Value::Object(x)), Some(Value::Object(y))) => self.maps(Some(x), Some(y), path),
            (Some(Value::Object(x)), None) if holds_secrets => self.maps(Some(x), None, path),
            (None, Some(Value::Object(y))) if holds_secrets => self.maps(None, Some(y), path),
            (Some(Value::Array(x)), Some(Value::Array(y))) => self.lists(x, y, path),
            _ => self.out.push(Change {
                path: display(path),
                a: a.map(|v| Shown::Value(v.clone())),
                b: b.map(|v| Shown::Value(v.clone())),
            }),
        }
    }

    fn maps(
        &mut self,
        a: Option<&Map<String, Value>>,
        b: Option<&Map<String, Value>>,
        path: &mut Vec<Seg>,
    ) {
        let empty = Map::new();
        let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
        let mut matched = Vec::new();
        for (key, x) in a {
            let other = self.norm.key_in(key, b);
            if let Some(k) = other {
                matched.push(k.as_str());
            }
            path.push(Seg::Key(self.norm.text(key).into_owned()));
            self.walk(Some(x), other.map(|k| &b[k]), path);
            path.pop();
        }
        for (key, y) in b.iter().filter(|(k, _)| !matched.contains(&k.as_str())) {
            path.push(Seg::Key(self.norm.text(key).into_owned()));
            self.walk(None, Some(y), path);
            path.pop();
        }
    }

    fn lists(&mut self, a: &[Value], b: &[Value], path: &mut Vec<Seg>) {
        let scalar = |v: &Value| !v.is_object() && !v.is_array();
        if a.iter().chain(b).all(scalar) {
            self.out.push(Change {
                path: display(path),
                a: Some(Shown::Value(Value::Array(a.to_vec()))),
                b: Some(Shown::Value(Value::Array(b.to_vec()))),
            });
            return;
        }
        if let (Some(x), Some(y)) = (self.named(a), self.named(b)) {
            let mut matched = Vec::new();
            for (name, item) in &x {
                let other = y.iter().find(|(n, _)| n == name);
                if let Some((n, _)) = other {
                    matched.push(n.clone());
                }
                path.push(Seg::Name(name.clone()));
                self.walk(Some(item), other.map(|(_, v)| *v), path);
                path.pop();
            }
            for (name, item) in y.iter().filter(|(n, _)| !matched.contains(n)) {
                path.push(Seg::Name(name.clone()));
                self.walk(None, Some(item), path);
                path.pop();
            }
            return;
        }
        for i in 0..a.len().max(b.len()) {
            path.push(Seg::Index(i));
            self.walk(a.get(i), b.get(i), path);
            path.pop();
        }
    }

    /// The items by (rewritten) `name`, when every item has a distinct one.
    fn named<'v>(&self, items: &'v [Value]) -> Option<Vec<(String, &'v Value)>> {
        let mut out: Vec<(String, &Value)> = Vec::with_capacity(items.len());
        for item in items {
            let name = self.norm.text(item.get("name")?.as_str()?).into_owned();
            if out.iter().any(|(n, _)| *n == name) {
                return None;
            }
            out.push((name, item));
        }
        Some(out)
    }
}

/// `spec.template.spec.containers[web].env[PORT].value`; keys that are not plain
/// words are quoted: `metadata.labels["app.kubernetes.io/name"]`.
fn display(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$') =>
            {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => out.push_str(&format!("[{}]", Value::String(k.clone()))),
            Seg::Name(n) => out.push_str(&format!("[{n}]")),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Both sides as they are shown in a unified diff: rewritten with `norm`, secret
/// values replaced by `(secret)`, or `(secret, changed)` on the B side.
pub(super) fn redacted(a: &Value, b: &Value, norm: &Normalizer) -> (Value, Value) {
    let mut secrets = secret_roots(a);
    if secrets.is_empty() {
        secrets = secret_roots(b);
    }
    let (mut x, mut y) = (norm.value(a), norm.value(b));
    for root in secrets {
        let pointer: String = root.iter().map(|k| format!("/{k}")).collect();
        let before = x.pointer(&pointer).cloned();
        if let Some(Value::Object(map)) = x.pointer_mut(&pointer) {
            map.values_mut()
                .for_each(|v| *v = Value::String("(secret)".into()));
        }
        if let Some(Value::Object(map)) = y.pointer_mut(&pointer) {
            for (k, v) in map.iter_mut() {
                let same = before.as_ref().and_then(|m| m.get(k)) == Some(&*v);
                *v = Value::String(
                    if same {
                        "(secret)"
                    } else {
                        "(secret, changed)"
                    }
                    .into(),
                );
            }
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(a: &Value, b: &Value) -> Vec<String> {
        changes(a, b, &Normalizer::none())
            .into_iter()
            .map(|c| c.path)
            .collect()
    }

    #[test]
    fn named_list_items_are_matched_by_name_and_plain_lists_compared_whole() {
        let a = json!({"spec": {"containers": [
            {"name": "web", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}],
            "hosts": ["x"]}});
        let b = json!({"spec": {"containers": [
            {"name": "web", "env": [{"name": "B", "value": "3"}, {"name": "A", "value": "1"}]}],
            "hosts": ["x", "y"]}});
        assert_eq!(
            paths(&a, &b),
            ["spec.containers[web].env[B].value", "spec.hosts"]
        );
    }

    #[test]
    fn odd_keys_are_quoted_and_missing_fields_are_absent_on_one_side() {
        let a = json!({"metadata": {"labels": {"app.kubernetes.io/name": "a"}}});
        let b = json!({"metadata": {"labels": {}}, "spec": 1});
        let c = changes(&a, &b, &Normalizer::none());
        assert_eq!(c[0].path, "metadata.labels[\"app.kubernetes.io/name\"]");
        assert!(c[0].b.is_none());
        assert_eq!(c[1].path, "spec");
        assert!(c[1].a.is_none());
    }

    #[test]
    fn secret_values_are_never_shown() {
        let a =
            json!({"kind": "SealedSecret", "spec": {"encryptedData": {"k": "AgA1", "same": "x"}}});
        let b = json!({"kind": "SealedSecret", "spec": {"encryptedData": {"k": "AgA2", "same": "x", "new": "AgA3"}}});
        let c = changes(&a, &b, &Normalizer::none());
        assert_eq!(c.len(), 2);
        for change in &c {
            let text = format!("{change:?}");
            assert!(!text.contains("AgA"), "{text}");
        }
        // A secret that appears whole is listed key by key, still without its value.
        let none = json!({"kind": "SealedSecret", "spec": {}});
        let c = changes(&none, &b, &Normalizer::none());
        assert_eq!(c.len(), 3, "{c:?}");
        assert!(!format!("{c:?}").contains("AgA"));
        let (x, y) = redacted(&a, &b, &Normalizer::none());
        let text = format!("{x} {y}");
        assert!(!text.contains("AgA"), "{text}");
        assert_eq!(y["spec"]["encryptedData"]["k"], "(secret, changed)");
        assert_eq!(y["spec"]["encryptedData"]["same"], "(secret)");
    }
}
