//! JSON Pointers (RFC 6901), the one place their `~0` / `~1` escaping is written: the
//! model's span index, schema and deserialization error locations, diagnostics'
//! pointers into the model and the paths of Kustomize patches (`PointerBuf` there)
//! all escape through jsonptr, the crate json-patch applies patches with.

use json_patch::jsonptr::{Pointer, Token};

/// One segment escaped for a pointer: `~` becomes `~0`, `/` becomes `~1`.
pub fn escape(segment: &str) -> String {
    Token::new(segment).encoded().to_owned()
}

/// The key one escaped segment names (`~1` is `/`, `~0` is `~`); a segment that is
/// not a valid escape (a `~` before anything but `0` or `1`) is taken as it is.
pub fn unescape(segment: &str) -> String {
    match Token::from_encoded(segment) {
        Ok(token) => token.decoded().into_owned(),
        Err(_) => segment.to_owned(),
    }
}

/// The segments of `pointer`, unescaped (none for the root, `""`).
pub fn segments(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer.split('/').skip(1).map(unescape)
}

/// Removes what `pointer` points at from `value`, if it is there.
pub fn remove(value: &mut serde_json::Value, pointer: &str) {
    if let Ok(pointer) = Pointer::parse(pointer) {
        pointer.delete(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn segments_escape_and_unescape() {
        for key in ["plain", "app.kubernetes.io/name", "~tilde", "~1/~0", ""] {
            assert_eq!(unescape(&escape(key)), key);
        }
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        // `~01` is `~` then `1`, not `/`: the order of the replacements matters.
        assert_eq!(unescape("~01"), "~1");
        assert_eq!(unescape("~2"), "~2");
        let all: Vec<String> = segments("/properties/a~1b/$ref").collect();
        assert_eq!(all, ["properties", "a/b", "$ref"]);
        assert_eq!(segments("").count(), 0);
    }

    #[test]
    fn remove_takes_out_an_escaped_key() {
        let mut v = json!({"a": {"b/c": 1, "d~e": 2, "keep": 3}});
        remove(&mut v, "/a/b~1c");
        remove(&mut v, "/a/d~0e");
        remove(&mut v, "/a/missing");
        remove(&mut v, "/nowhere/x");
        assert_eq!(v, json!({"a": {"keep": 3}}));
    }
}
