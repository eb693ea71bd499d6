//! Names that end up in Kubernetes object names and file paths.
//!
//! A [`Name`] is a DNS-1035 label (lowercase letters, digits and `-`, starting with a
//! letter and ending with a letter or digit, at most 63 characters): valid as a
//! Service name, a namespace, a label value and a file name. Because every name kiln puts
//! in an object name or a path under `out/` is one, no model value can produce an
//! invalid object or a path outside `out/` (`..`, `/` and spaces are not allowed).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The pattern of a DNS-1123 label.
pub const NAME_PATTERN: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

/// A DNS-1035 label: the name of an app, cluster, host, registry, secret or environment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// Checks `s` and wraps it, or says what is wrong with it.
    pub fn parse(s: &str) -> Result<Name, String> {
        validate(s, 63).map(|()| Name(s.to_owned()))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl JsonSchema for Name {
    fn schema_name() -> Cow<'static, str> {
        "Name".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A DNS label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters.",
            "type": "string",
            "pattern": NAME_PATTERN,
            "minLength": 1,
            "maxLength": 63
        })
    }
}

/// Checks that `s` is a DNS-1123 label of at most `max` characters; the error says
/// what is wrong in words.
pub fn validate(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("a name cannot be empty".to_owned());
    }
    if s.len() > max {
        return Err(format!(
            "`{}` is {} characters long; the limit is {max}",
            short(s),
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let what = match c {
            'A'..='Z' => "an uppercase letter".to_owned(),
            '/' => "a `/`".to_owned(),
            '.' => "a `.`".to_owned(),
            ' ' => "a space".to_owned(),
            '_' => "an underscore".to_owned(),
            c => format!("the character {c:?}"),
        };
        return Err(format!(
            "`{}` contains {what}; names are lowercase letters, digits and `-`",
            short(s)
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("`{}` must start with a lowercase letter", short(s)));
    }
    if s.ends_with('-') {
        return Err(format!("`{}` must end with a letter or digit", short(s)));
    }
    Ok(())
}

fn short(s: &str) -> Cow<'_, str> {
    if s.chars().count() > 40 {
        Cow::Owned(format!("{}…", s.chars().take(40).collect::<String>()))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for ok in ["a", "invoicetron", "invoicetron-db", "a1", "x0"] {
            assert!(Name::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_paths_case_spaces_and_long_names() {
        for bad in [
            "",
            "../etc",
            "a/b",
            "Web",
            "a b",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "0x",
            &"x".repeat(64),
        ] {
            assert!(Name::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn messages_say_what_is_wrong() {
        assert!(Name::parse("Web").unwrap_err().contains("uppercase"));
        assert!(Name::parse("../x").unwrap_err().contains("`.`"));
        assert!(
            Name::parse(&"y".repeat(254))
                .unwrap_err()
                .contains("254 characters")
        );
    }
}
