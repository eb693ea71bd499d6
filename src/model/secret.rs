//! Secrets: named sets of keys, where each key's value comes from, and where the
//! secret is used. The model never holds a value.

use super::Name;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A reference to one key of a secret.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
    /// The secret's name (under `secrets`).
    pub secret: Name,
    /// The key in that secret.
    #[schemars(regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// A secret: its type and the sources of its keys.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secret {
    /// What the secret is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The Kubernetes secret type.
    #[serde(default, rename = "type")]
    pub kind: SecretType,
    /// Apps (or stacks) that use this secret: it is made available in their namespaces
    /// or hosts. (A registry's `pullSecret` is placed in every namespace that pulls from
    /// it, and a stack's `env` reads its secrets, without being listed here.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<Name>,
    /// Where the sealed values may be decrypted: only as this secret in its namespace
    /// (`strict`, the default), as any secret in that namespace (`namespace-wide`), or
    /// anywhere in the cluster (`cluster-wide`).
    #[serde(default, skip_serializing_if = "is_strict")]
    pub scope: SecretScope,
    /// Each key and where its value comes from.
    pub keys: BTreeMap<String, KeySource>,
}

fn is_strict(scope: &SecretScope) -> bool {
    *scope == SecretScope::Strict
}

/// The scope a sealed value is bound to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretScope {
    /// Only this secret name in this namespace.
    #[default]
    Strict,
    /// Any secret name in this namespace.
    NamespaceWide,
    /// Any secret name in any namespace.
    ClusterWide,
}

/// Kubernetes secret types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretType {
    /// `Opaque`.
    #[default]
    Opaque,
    /// `kubernetes.io/dockerconfigjson`: registry pull credentials. Keys `username`
    /// and `password`; kiln composes `.dockerconfigjson` with the host of the registry
    /// that names this secret as its `pullSecret`.
    DockerRegistry,
    /// `kubernetes.io/ssh-auth`: key `ssh-privatekey`.
    SshKey,
    /// `kubernetes.io/tls`: keys `tls.crt` and `tls.key`.
    Tls,
}

impl SecretType {
    /// The Kubernetes `type` of the Secret.
    pub fn kubernetes(self) -> &'static str {
        match self {
            SecretType::Opaque => "Opaque",
            SecretType::DockerRegistry => "kubernetes.io/dockerconfigjson",
            SecretType::SshKey => "kubernetes.io/ssh-auth",
            SecretType::Tls => "kubernetes.io/tls",
        }
    }

    /// The keys the model must define for this type (exactly these for
    /// `docker-registry`; at least these otherwise).
    pub fn required_keys(self) -> &'static [&'static str] {
        match self {
            SecretType::Opaque => &[],
            SecretType::DockerRegistry => &["password", "username"],
            SecretType::SshKey => &["ssh-privatekey"],
            SecretType::Tls => &["tls.crt", "tls.key"],
        }
    }
}

/// Where a secret key's value comes from. Never the value itself.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum KeySource {
    /// A 1Password reference, `op://vault/item/field`.
    OnePassword(OnePasswordSource),
    /// Generated when sealed.
    Generate(GenerateSource),
    /// Built from other keys of the same secret or other secrets.
    Template(TemplateSource),
    /// Entered by a person when sealing.
    Manual(ManualSource),
}

/// A 1Password reference.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OnePasswordSource {
    /// `op://vault/item/field`.
    #[schemars(regex(pattern = r"^op://[^/]+/[^/]+/[^/]+$"))]
    pub op: String,
}

/// A generated value.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenerateSource {
    /// How it is generated.
    pub generate: Generator,
}

/// Length and alphabet of a generated value.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Generator {
    /// Number of characters.
    #[serde(default = "default_length")]
    #[schemars(range(min = 16, max = 256))]
    pub length: u32,
    /// Characters to draw from. `hex` is the default: a `/` or `@` in a password
    /// breaks the database URL it ends up in.
    #[serde(default)]
    pub alphabet: Alphabet,
}

fn default_length() -> u32 {
    40
}

/// Alphabets for generated values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Alphabet {
    /// `0-9a-f`: safe in URLs, shells and config files.
    #[default]
    Hex,
    /// `A-Za-z0-9`: URL-safe.
    Alphanumeric,
    /// Base64 (`+`, `/` and `=` included): not URL-safe.
    Base64,
}

impl Alphabet {
    /// The characters drawn from.
    pub fn chars(self) -> &'static [u8] {
        match self {
            Alphabet::Hex => b"0123456789abcdef",
            Alphabet::Alphanumeric => {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            }
            Alphabet::Base64 => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        }
    }

    /// Whether every character may appear in a URL unescaped.
    pub fn is_url_safe(self) -> bool {
        self.chars().iter().all(|c| is_url_safe_byte(*c))
    }

    /// The name used in the model.
    pub fn as_str(self) -> &'static str {
        match self {
            Alphabet::Hex => "hex",
            Alphabet::Alphanumeric => "alphanumeric",
            Alphabet::Base64 => "base64",
        }
    }
}

/// RFC 3986 unreserved characters: safe anywhere in a URL, including the userinfo
/// part of a database URL.
pub fn is_url_safe_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// A value built from other keys, e.g.
/// `postgresql://app:{invoicetron-db.postgres-password}@db:5432/app`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TemplateSource {
    /// The text, with `{secret.key}` (or `{key}` for a key of this secret) placeholders;
    /// a key of this secret with a `.` in its name is written `{this-secret.tls.crt}`.
    /// `{{` and `}}` are literal braces.
    pub template: String,
}

/// One piece of a template: literal text or a reference to a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text copied as is.
    Text(String),
    /// `{secret.key}`, or `{key}` (secret `None`) for a key of the same secret.
    Key {
        /// The secret, when another one.
        secret: Option<String>,
        /// The key.
        key: String,
    },
}

impl TemplateSource {
    /// Splits the template into text and key references. `{{` and `}}` are literal
    /// braces. An unclosed `{` is returned as an error with its byte offset.
    pub fn parts(&self) -> Result<Vec<TemplatePart>, usize> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let s = &self.template;
        let mut i = 0;
        while i < s.len() {
            let rest = &s[i..];
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push_str(&rest[..1]);
                i += 2;
            } else if let Some(body) = rest.strip_prefix('{') {
                let end = body.find('}').ok_or(i)?;
                let reference = &body[..end];
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                // Secret names cannot contain `.`; keys can (`tls.crt`).
                parts.push(match reference.split_once('.') {
                    Some((secret, key)) if !secret.is_empty() => TemplatePart::Key {
                        secret: Some(secret.to_owned()),
                        key: key.to_owned(),
                    },
                    _ => TemplatePart::Key {
                        secret: None,
                        key: reference.to_owned(),
                    },
                });
                i += end + 2;
            } else {
                let c = rest.chars().next().unwrap_or_default();
                text.push(c);
                i += c.len_utf8();
            }
        }
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        Ok(parts)
    }

    /// Whether the template builds a URL (`scheme://...`): values put into it must
    /// be URL-safe.
    pub fn is_url(&self) -> bool {
        self.template.contains("://")
    }
}

/// A value a person enters when sealing.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManualSource {
    /// Where to get the value, shown when asking for it.
    pub manual: String,
}
