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
    /// Apps that use this secret: it is made available in their namespaces or hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<Name>,
    /// Each key and where its value comes from.
    pub keys: BTreeMap<String, KeySource>,
}

/// Kubernetes secret types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretType {
    /// `Opaque`.
    #[default]
    Opaque,
    /// `kubernetes.io/dockerconfigjson`: registry pull credentials.
    DockerRegistry,
    /// `kubernetes.io/ssh-auth`.
    SshKey,
    /// `kubernetes.io/tls`.
    Tls,
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

/// A value built from other keys, e.g.
/// `postgresql://app:{invoicetron-db.postgres-password}@db:5432/app`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TemplateSource {
    /// The text, with `{secret.key}` (or `{key}` for a key of this secret) placeholders.
    pub template: String,
}

/// A value a person enters when sealing.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManualSource {
    /// Where to get the value, shown when asking for it.
    pub manual: String,
}
