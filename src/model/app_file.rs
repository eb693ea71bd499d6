//! An app's config files: a file mounted into the container at its path, from inline
//! `content`, from a file beside the model (`from`, relative to `environments/`), or
//! from a key of a model secret (`secret`). On a cluster the first two are one
//! ConfigMap per app whose name carries a hash of the content (a change rolls the
//! pods), a secret file is a `secret` volume; on a host they are generated files under
//! the project folder, and a secret file is a file on the host that `deploy.sh`
//! requires, never a value in `out/`.

use super::SecretRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The mode of a secret file unless the model gives one: read by its owner and group
/// only (on a cluster the group is the pod's `fsGroup`).
pub const SECRET_FILE_MODE: i32 = 0o440;

/// One file mounted into the app's container: exactly one of `content`, `from` or
/// `secret`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppFile {
    /// The file's text, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A file beside the model, relative to `environments/`, e.g.
    /// `files/prometheus.yml` for `environments/files/prometheus.yml` (only the
    /// `.yaml` files directly in `environments/` are model files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^/\s]\S*$"))]
    pub from: Option<String>,
    /// A key of a model secret, mounted as the file (the value never enters `out/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
    /// Replace `${vars}` (`env`, `domain`, `vars`) in `content` or the `from` file as
    /// in the rest of the model; an unknown variable is an error (default: false,
    /// every `$` stays literal, as config files such as Prometheus' use it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interpolate: bool,
    /// The file's mode, an octal string such as `"0440"` (default: `0644` for a text
    /// file, `0440` for a secret file, whose group is the app's on a cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^0?[0-7]{3}$"))]
    pub mode: Option<String>,
    /// The text of the `from` file as the loader read it (interpolated when asked).
    #[serde(skip)]
    #[schemars(skip)]
    pub loaded: Option<String>,
}

/// Where an app file's text comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FileSource<'a> {
    /// Text (inline, or read from a `from` file).
    Text(&'a str),
    /// A key of a model secret.
    Secret(&'a SecretRef),
}

impl AppFile {
    /// How many of `content`, `from` and `secret` are set (exactly one is valid).
    pub fn source_count(&self) -> usize {
        usize::from(self.content.is_some())
            + usize::from(self.from.is_some())
            + usize::from(self.secret.is_some())
    }

    /// The file's source, when exactly one is set and a `from` file was read.
    pub fn source(&self) -> Option<FileSource<'_>> {
        if self.source_count() != 1 {
            return None;
        }
        if let Some(s) = &self.secret {
            return Some(FileSource::Secret(s));
        }
        self.content
            .as_deref()
            .or(self.loaded.as_deref())
            .map(FileSource::Text)
    }

    /// The mode as a number (`"0440"` is 0o440), if set and valid.
    pub fn mode_bits(&self) -> Option<i32> {
        self.mode
            .as_deref()
            .and_then(|m| i32::from_str_radix(m, 8).ok())
            .filter(|m| (0..=0o777).contains(m))
    }
}

/// The text files of `files` (inline or read from `from`), by [`file_key`] of their
/// path; secret files and files without one source are left out.
pub fn text_files(files: &BTreeMap<String, AppFile>) -> BTreeMap<String, String> {
    files
        .iter()
        .filter_map(|(path, f)| match f.source()? {
            FileSource::Text(t) => Some((file_key(path), t.to_owned())),
            FileSource::Secret(_) => None,
        })
        .collect()
}

/// A short hash of the app's text files (their keys and texts): the first 8 hex
/// digits of a SHA-256, the same for the same files on every build. The cluster's
/// ConfigMap carries it in its name and a host's compose service in a label, so a
/// changed file restarts the app on both.
pub fn content_hash(data: &BTreeMap<String, String>) -> String {
    let mut hash = Sha256::new();
    for (key, text) in data {
        hash.update(key.as_bytes());
        hash.update([0]);
        hash.update(text.as_bytes());
        hash.update([0]);
    }
    let mut hex = String::new();
    for b in &hash.finalize()[..4] {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// A name for the file at `path` that is a valid ConfigMap key and file name: the
/// path without its leading `/`, each character other than `[-._a-zA-Z0-9]` as `-`
/// (`/etc/prometheus/prometheus.yml` is `etc-prometheus-prometheus.yml`).
pub fn file_key(path: &str) -> String {
    path.trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_names_of_the_path() {
        assert_eq!(
            file_key("/etc/prometheus/prometheus.yml"),
            "etc-prometheus-prometheus.yml"
        );
        assert_eq!(file_key("/a b/c:d"), "a-b-c-d");
    }

    #[test]
    fn the_hash_is_stable_and_changes_with_a_key_or_a_text() {
        let a = BTreeMap::from([("k".to_owned(), "one".to_owned())]);
        let b = BTreeMap::from([("k".to_owned(), "two".to_owned())]);
        let c = BTreeMap::from([("j".to_owned(), "one".to_owned())]);
        // Pinned: the name of every committed ConfigMap depends on it.
        assert_eq!(content_hash(&a), content_hash(&a.clone()));
        assert_eq!(content_hash(&a).len(), 8);
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        let ab = BTreeMap::from([("ab".to_owned(), "c".to_owned())]);
        let a_bc = BTreeMap::from([("a".to_owned(), "bc".to_owned())]);
        assert_ne!(content_hash(&ab), content_hash(&a_bc));
    }

    #[test]
    fn mode_is_octal() {
        let mut f: AppFile = serde_json::from_str(r#"{"content": "x", "mode": "0440"}"#).unwrap();
        assert_eq!(f.mode_bits(), Some(0o440));
        f.mode = Some("999".into());
        assert_eq!(f.mode_bits(), None);
    }
}
