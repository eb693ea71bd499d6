//! The output stage, the only code that touches `out/`: write a rendered
//! [`OutputTree`] atomically, compare it with what is on disk, and read back the
//! values automation owns.
//!
//! Writes go file by file through a temporary file and a rename, so a crash leaves
//! every file either old or new; `kiln.lock` is written last. Files whose bytes are
//! unchanged are not rewritten (their mtime stays). Only files the previous lock lists
//! are ever deleted.

pub mod lock;
pub mod state;

use crate::error::Error;
use crate::render::OutputTree;
use lock::{LOCK_FILE, Lock, LockEntry, sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Prefix of temporary files; leftovers from a killed build are removed by the next.
const TMP_PREFIX: &str = ".kiln-tmp-";
/// The list of files a build is about to write, kept until the lock is written, so a
/// build killed half-way is recognised as kiln's by the next one.
const PENDING_FILE: &str = ".kiln.lock.pending";

/// Which files a run may touch: all, or those of some environments plus shared files.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// The selected environments; empty means all.
    pub envs: Vec<String>,
}

impl Scope {
    /// Whether a file of `env` (None: shared) is in scope.
    pub fn includes(&self, env: Option<&str>) -> bool {
        match env {
            None => true,
            Some(e) => self.envs.is_empty() || self.envs.iter().any(|s| s == e),
        }
    }
}

/// What a build did.
#[derive(Debug, Default)]
pub struct WriteReport {
    /// Files written (new or changed).
    pub written: Vec<String>,
    /// Files left as they were.
    pub unchanged: usize,
    /// Files deleted because the build no longer produces them.
    pub deleted: Vec<String>,
}

/// A difference between `out/` and what a build would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Kiln wrote this file, and the model has changed since: run `kiln build`.
    Stale {
        /// The path under `out/`.
        path: String,
        /// What is on disk.
        actual: Vec<u8>,
        /// What kiln would write.
        expected: Vec<u8>,
    },
    /// The file was edited by hand since kiln wrote it.
    HandEdited {
        /// The path under `out/`.
        path: String,
        /// What is on disk.
        actual: Vec<u8>,
        /// What kiln would write.
        expected: Vec<u8>,
    },
    /// Kiln would write this file and it does not exist.
    Missing {
        /// The path under `out/`.
        path: String,
    },
    /// Kiln wrote this file before but no longer generates it.
    Obsolete {
        /// The path under `out/`.
        path: String,
    },
    /// A file kiln did not write sits where kiln would write.
    Foreign {
        /// The path under `out/`.
        path: String,
    },
    /// The pending list shows a build that did not finish (every generated file may
    /// be right while the lock still describes the build before).
    Unfinished {
        /// The path under `out/`.
        path: String,
    },
}

impl Finding {
    /// The path the finding is about.
    pub fn path(&self) -> &str {
        match self {
            Finding::Stale { path, .. }
            | Finding::HandEdited { path, .. }
            | Finding::Missing { path }
            | Finding::Obsolete { path }
            | Finding::Foreign { path }
            | Finding::Unfinished { path } => path,
        }
    }
}

/// Reads the lock, plus the pending list of a build that did not finish.
fn known_files(out_dir: &Path) -> Result<Lock, Error> {
    let mut lock = Lock::read(&out_dir.join(LOCK_FILE))?;
    let pending = Lock::read(&out_dir.join(PENDING_FILE)).unwrap_or_default();
    for (path, entry) in pending.files {
        lock.files.entry(path).or_insert(entry);
    }
    Ok(lock)
}

fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if path.is_dir() => {
            Err(Error::io("cannot replace a directory with a file", path, e))
        }
        Err(e) => Err(Error::io("cannot read", path, e)),
    }
}

/// Compares `out_dir` with `tree`, for the files in `scope`.
pub fn check(out_dir: &Path, tree: &OutputTree, scope: &Scope) -> Result<Vec<Finding>, Error> {
    let lock = known_files(out_dir)?;
    let mut findings = Vec::new();
    for (path, file) in tree
        .iter()
        .filter(|(_, f)| scope.includes(f.env.as_deref()))
    {
        let on_disk = read_existing(&out_dir.join(path))?;
        let Some(actual) = on_disk else {
            findings.push(Finding::Missing { path: path.clone() });
            continue;
        };
        if actual == file.bytes {
            continue;
        }
        let expected = file.bytes.clone();
        findings.push(match lock.files.get(path) {
            Some(entry) if entry.sha256 == sha256(&actual) => Finding::Stale {
                path: path.clone(),
                actual,
                expected,
            },
            Some(_) => Finding::HandEdited {
                path: path.clone(),
                actual,
                expected,
            },
            None => Finding::Foreign { path: path.clone() },
        });
    }
    for (path, entry) in &lock.files {
        if tree.get(path).is_none()
            && scope.includes(entry.env.as_deref())
            && out_dir.join(path).is_file()
        {
            findings.push(Finding::Obsolete { path: path.clone() });
        }
    }
    // A build writes its pending list first and removes it after its lock: while the
    // list exists, the build did not finish (every file may already be new while the
    // lock still describes the build before).
    if out_dir.join(PENDING_FILE).exists() {
        findings.push(Finding::Unfinished {
            path: PENDING_FILE.to_owned(),
        });
    }
    Ok(findings)
}

/// The lock a build of `tree` in `scope` writes over `old`: entries out of scope keep
/// their old records.
fn next_lock(old: &Lock, tree: &OutputTree, scope: &Scope) -> Lock {
    let mut new = Lock::default();
    for (path, entry) in &old.files {
        if !scope.includes(entry.env.as_deref())
            && tree
                .get(path)
                .is_none_or(|f| !scope.includes(f.env.as_deref()))
        {
            new.files.insert(path.clone(), entry.clone());
        }
    }
    for (path, file) in tree
        .iter()
        .filter(|(_, f)| scope.includes(f.env.as_deref()))
    {
        new.files.insert(
            path.clone(),
            LockEntry {
                sha256: sha256(&file.bytes),
                env: file.env.clone(),
            },
        );
    }
    new
}

/// Files that a build would overwrite although kiln did not write them.
pub fn foreign_files(
    out_dir: &Path,
    tree: &OutputTree,
    scope: &Scope,
) -> Result<Vec<String>, Error> {
    Ok(check(out_dir, tree, scope)?
        .into_iter()
        .filter_map(|f| match f {
            Finding::Foreign { path } => Some(path),
            _ => None,
        })
        .collect())
}

/// Writes `tree` into `out_dir` (files in `scope` only), deletes files the previous
/// lock lists that the tree no longer has, and writes the lock last.
pub fn write(out_dir: &Path, tree: &OutputTree, scope: &Scope) -> Result<WriteReport, Error> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io("cannot create", out_dir, e))?;
    remove_stray_temporaries(out_dir);
    let old = known_files(out_dir)?;
    let new = next_lock(&old, tree, scope);
    // Record what is about to be written before writing it.
    let mut pending = new.clone();
    for (path, entry) in &old.files {
        pending
            .files
            .entry(path.clone())
            .or_insert_with(|| entry.clone());
    }
    atomic_write(
        &out_dir.join(PENDING_FILE),
        pending.render().as_bytes(),
        false,
    )?;

    let mut report = WriteReport::default();
    for (path, file) in tree
        .iter()
        .filter(|(_, f)| scope.includes(f.env.as_deref()))
    {
        let target = out_dir.join(path);
        if read_existing(&target)?.as_deref() == Some(file.bytes.as_slice()) {
            report.unchanged += 1;
            continue;
        }
        atomic_write(&target, &file.bytes, file.executable)?;
        report.written.push(path.clone());
    }
    for (path, entry) in &old.files {
        if new.files.contains_key(path) || !scope.includes(entry.env.as_deref()) {
            continue;
        }
        let target = out_dir.join(path);
        match std::fs::remove_file(&target) {
            Ok(()) => {
                report.deleted.push(path.clone());
                remove_empty_parents(out_dir, &target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot delete", target, e)),
        }
    }
    let lock_path = out_dir.join(LOCK_FILE);
    let lock_text = new.render();
    if std::fs::read_to_string(&lock_path).ok().as_deref() != Some(lock_text.as_str()) {
        atomic_write(&lock_path, lock_text.as_bytes(), false)?;
    }
    std::fs::remove_file(out_dir.join(PENDING_FILE))
        .map_err(|e| Error::io("cannot delete", out_dir.join(PENDING_FILE), e))?;
    Ok(report)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so readers see the old file or the new one, never half of one.
pub fn atomic_write(path: &Path, bytes: &[u8], executable: bool) -> Result<(), Error> {
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(&dir)
        .map_err(|e| Error::io("cannot create a temporary file in", &dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    set_mode(tmp.as_file(), executable).map_err(|e| Error::io("cannot set mode of", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("cannot sync", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot write", path, e.error))?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(if executable {
        0o755
    } else {
        0o644
    }))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File, _: bool) -> std::io::Result<()> {
    Ok(())
}

fn remove_empty_parents(out_dir: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out_dir || !d.starts_with(out_dir) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn remove_stray_temporaries(out_dir: &Path) {
    let mut stack = vec![out_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if name.to_string_lossy().starts_with(TMP_PREFIX) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> OutputTree {
        let mut t = OutputTree::default();
        for (p, c) in files {
            t.add(*p, c.as_bytes().to_vec(), None);
        }
        t
    }

    #[test]
    fn build_writes_then_check_is_clean_and_unchanged_files_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t = tree(&[("a/x.yaml", "x\n"), ("b.yaml", "b\n")]);
        let r = write(&out, &t, &Scope::default()).unwrap();
        assert_eq!(r.written.len(), 2);
        assert!(check(&out, &t, &Scope::default()).unwrap().is_empty());
        let r = write(&out, &t, &Scope::default()).unwrap();
        assert!(r.written.is_empty());
        assert_eq!(r.unchanged, 2);
        assert!(!out.join(PENDING_FILE).exists());
    }

    #[test]
    fn check_tells_stale_from_hand_edited_missing_obsolete_and_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(
            &out,
            &tree(&[("a.yaml", "1\n"), ("b.yaml", "b\n"), ("gone.yaml", "g\n")]),
            &Scope::default(),
        )
        .unwrap();
        std::fs::write(out.join("b.yaml"), "edited\n").unwrap();
        std::fs::write(out.join("new.yaml"), "mine\n").unwrap();
        let next = tree(&[
            ("a.yaml", "2\n"),
            ("b.yaml", "b\n"),
            ("c.yaml", "c\n"),
            ("new.yaml", "kiln\n"),
        ]);
        let mut findings = check(&out, &next, &Scope::default()).unwrap();
        findings.sort_by(|a, b| a.path().cmp(b.path()));
        let kinds: Vec<_> = findings
            .iter()
            .map(|f| match f {
                Finding::Stale { .. } => "stale",
                Finding::HandEdited { .. } => "hand-edited",
                Finding::Missing { .. } => "missing",
                Finding::Obsolete { .. } => "obsolete",
                Finding::Foreign { .. } => "foreign",
                Finding::Unfinished { .. } => "unfinished",
            })
            .collect();
        assert_eq!(
            kinds,
            ["stale", "hand-edited", "missing", "obsolete", "foreign"]
        );
    }

    #[test]
    fn build_deletes_only_files_it_wrote_before() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(
            &out,
            &tree(&[("d/old.yaml", "o\n"), ("keep.yaml", "k\n")]),
            &Scope::default(),
        )
        .unwrap();
        std::fs::write(out.join("user.txt"), "mine\n").unwrap();
        let r = write(&out, &tree(&[("keep.yaml", "k\n")]), &Scope::default()).unwrap();
        assert_eq!(r.deleted, ["d/old.yaml"]);
        assert!(!out.join("d").exists(), "empty directory left behind");
        assert!(out.join("user.txt").exists());
    }

    #[test]
    fn check_reports_a_build_that_wrote_every_file_but_did_not_finish() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let next = tree(&[("a.yaml", "2\n")]);
        write(&out, &next, &Scope::default()).unwrap();
        assert!(check(&out, &next, &Scope::default()).unwrap().is_empty());
        // Killed after the files (or after the lock), before the pending list went.
        std::fs::write(out.join(PENDING_FILE), Lock::default().render()).unwrap();
        assert_eq!(
            check(&out, &next, &Scope::default()).unwrap(),
            [Finding::Unfinished {
                path: PENDING_FILE.to_owned()
            }]
        );
        write(&out, &next, &Scope::default()).unwrap();
        assert!(check(&out, &next, &Scope::default()).unwrap().is_empty());
        assert!(!out.join(PENDING_FILE).exists());
    }
}
