//! `out/kiln.lock`: the sha256 of every file kiln generated, and which environment
//! it belongs to, so `check` can tell a hand edit from stale output and `build`
//! deletes only files it wrote before.
//!
//! The format is one line per file, `<sha256>  <env or ->  <path>`, after a comment
//! header: plain text that diffs well in review.

use crate::error::Error;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The lock file's name under `out/`.
pub const LOCK_FILE: &str = "kiln.lock";

const HEADER: &str = "# kiln.lock: the sha256 of every file kiln generated under out/, its environment\n# (- for shared files) and its path. Written by `kiln build`; do not edit.\n";

/// One generated file's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockEntry {
    /// Hex sha256 of the bytes kiln wrote.
    pub sha256: String,
    /// The environment, or `None` for shared files.
    pub env: Option<String>,
}

/// The parsed lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    /// Path (relative to `out/`) → entry.
    pub files: BTreeMap<String, LockEntry>,
}

/// Hex sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Lock {
    /// Reads `path` (a regular file, not through a link); a missing file is an
    /// empty lock.
    pub fn read(path: &Path) -> Result<Lock, Error> {
        let lock_error = |reason: String| Error::Lock {
            path: path.into(),
            reason,
        };
        match crate::boundary::read(path) {
            Ok(Some(bytes)) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| lock_error("it is not UTF-8".to_owned()))?;
                Lock::parse(&text).map_err(lock_error)
            }
            Ok(None) => Ok(Lock::default()),
            Err(e) => Err(Error::refused(path, e)),
        }
    }

    /// Parses the text of a lock file.
    pub fn parse(text: &str) -> Result<Lock, String> {
        let mut files = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, "  ");
            let (Some(sha), Some(env), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "line {}: expected `<sha256>  <env>  <path>`",
                    i + 1
                ));
            };
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("line {}: `{sha}` is not a sha256", i + 1));
            }
            // Every path is one kiln deletes or overwrites: it must stay under out/.
            if let Err(why) = crate::boundary::relative(path) {
                return Err(format!(
                    "line {}: {why}; kiln writes only paths under out/ into its lock, so this line is not one it wrote: delete the line and run `kiln build`",
                    i + 1
                ));
            }
            let env = (env != "-").then(|| env.to_owned());
            files.insert(
                path.to_owned(),
                LockEntry {
                    sha256: sha.to_owned(),
                    env,
                },
            );
        }
        Ok(Lock { files })
    }

    /// The lock file's text.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER);
        for (path, e) in &self.files {
            out.push_str(&e.sha256);
            out.push_str("  ");
            out.push_str(e.env.as_deref().unwrap_or("-"));
            out.push_str("  ");
            out.push_str(path);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut lock = Lock::default();
        lock.files.insert(
            "a/b.yaml".into(),
            LockEntry {
                sha256: sha256(b"x"),
                env: None,
            },
        );
        lock.files.insert(
            "c d.yaml".into(),
            LockEntry {
                sha256: sha256(b"y"),
                env: Some("dev".into()),
            },
        );
        assert_eq!(Lock::parse(&lock.render()).unwrap(), lock);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Lock::parse("nonsense\n").is_err());
        assert!(Lock::parse("abc  -  x\n").is_err());
        let zeros = "0".repeat(64);
        for path in ["/tmp/victim.txt", "../../victim", "a/../../b", "a\\b"] {
            let err = Lock::parse(&format!("{zeros}  -  {path}\n")).unwrap_err();
            assert!(err.contains("line 1"), "{err}");
        }
    }
}
