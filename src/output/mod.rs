//! The output stage, the only code that touches `out/`: write a rendered
//! [`OutputTree`] atomically, compare it with what is on disk, and read back the
//! values automation owns.
//!
//! Writes go file by file through a temporary file and a rename, so a build that is
//! killed (SIGKILL, Ctrl-C, a crashed CI job) leaves every file either old or new; the
//! list of files it is about to write is recorded first (`.kiln.lock.pending`), and
//! `kiln.lock` last, so the next build recognises a half-finished build's files as
//! kiln's and removes its temporary files. Files whose bytes are unchanged are not
//! rewritten (their mtime stays). Only files the previous lock lists are ever deleted,
//! and only while their bytes are still the ones it recorded.
//!
//! Every access goes through [`crate::boundary`]: no link in `out/` is followed (a
//! folder or file there that is a link is refused), only regular files are read, and
//! the lock's paths must stay under `out/`.
//!
//! Durability is a choice ([`Durability`]). By default nothing is flushed to disk:
//! a rename is atomic with respect to processes, which is what a killed build needs,
//! and `out/` is also in git. Flushing every file before its rename (as kiln once did)
//! made a build of 100 apps spend 7 of its 8 seconds in `fsync` on a disk like the
//! benchmark's. After a power loss or kernel crash, files written shortly before may
//! be empty or old; `kiln check` reports them (as hand-edited, or not kiln's when the
//! lock itself was lost) and `kiln build --force` rewrites them. `kiln build --fsync`
//! ([`Durability::Flushed`]) flushes everything once before the lock is written, so
//! what the lock lists survives a power loss (bench/RESULTS.md measures both).

pub mod fresh;
pub mod lock;
pub mod state;

use crate::boundary::{self, Refusal};
use crate::error::Error;
use crate::render::{OutputFile, OutputTree};
use lock::{LOCK_FILE, Lock, LockEntry, sha256};
use rayon::prelude::*;
use std::collections::BTreeSet;
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

/// Whether a build flushes what it wrote to disk (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Atomic with respect to processes: a killed build leaves every file old or new.
    /// Nothing is flushed.
    #[default]
    Atomic,
    /// Also flushed to disk once, before the lock is written (one `syncfs` of `out/`'s
    /// filesystem on Linux, an `fsync` of each written file elsewhere), then the lock
    /// and `out/` itself: what the lock lists survives a power loss.
    Flushed,
}

/// How a build writes.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Which files it may touch.
    pub scope: Scope,
    /// Overwrite files kiln did not write; without it, the build writes nothing and
    /// reports them ([`WriteReport::foreign`]).
    pub force: bool,
    /// Whether to flush.
    pub durability: Durability,
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
    /// Files kiln did not write that the build would overwrite. When there are any
    /// (and `force` is off), nothing was written.
    pub foreign: Vec<String>,
    /// Files the build no longer produces that were kept, because they changed since
    /// kiln wrote them (kiln deletes only the bytes it wrote).
    pub kept: Vec<String>,
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
        /// Whether kiln wrote it before (the lock lists it): it was deleted, rather
        /// than being new output of a changed model.
        deleted: bool,
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
        /// What is on disk.
        actual: Vec<u8>,
        /// What kiln would write.
        expected: Vec<u8>,
    },
    /// `kiln.lock` or the pending list shows a build that did not finish (every
    /// generated file may be right while the lock still describes the build before).
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
            | Finding::Missing { path, .. }
            | Finding::Obsolete { path }
            | Finding::Foreign { path, .. }
            | Finding::Unfinished { path } => path,
        }
    }
}

/// The files kiln wrote: the lock, plus the pending list of a build that did not
/// finish (whose files may hold either list's bytes).
struct Known {
    /// The lock, with the pending list's entries it lacks.
    lock: Lock,
    /// The pending list as it is.
    pending: Lock,
}

/// Reads the lock, plus the pending list of a build that did not finish. Both are
/// checked the same way: a path that leaves `out/` is an error.
fn known_files(out_dir: &Path) -> Result<Known, Error> {
    let mut lock = Lock::read(&out_dir.join(LOCK_FILE))?;
    let pending = Lock::read(&out_dir.join(PENDING_FILE))?;
    for (path, entry) in &pending.files {
        lock.files
            .entry(path.clone())
            .or_insert_with(|| entry.clone());
    }
    Ok(Known { lock, pending })
}

/// `out_dir` itself: a folder or nothing, never a link (`out/` is committed, and a
/// link would send every write elsewhere).
fn check_out_dir(out_dir: &Path) -> Result<(), Error> {
    match boundary::kind(out_dir).map_err(|e| Error::refused(out_dir, e))? {
        boundary::Kind::Dir | boundary::Kind::Missing => Ok(()),
        boundary::Kind::Symlink => Err(Error::refused(out_dir, Refusal::Symlink)),
        boundary::Kind::File => Err(Error::refused(out_dir, Refusal::NotADirectory)),
        boundary::Kind::Other(k) => Err(Error::refused(out_dir, Refusal::NotRegular(k))),
    }
}

/// The files of `tree` in `scope`, after checking the folders that hold them or a
/// file `lock` lists (see [`check_dirs`]).
fn scoped_files<'t>(
    out_dir: &Path,
    tree: &'t OutputTree,
    scope: &Scope,
    lock: &Lock,
) -> Result<Vec<(&'t String, &'t OutputFile)>, Error> {
    let files: Vec<(&String, &OutputFile)> = tree
        .iter()
        .filter(|(_, f)| scope.includes(f.env()))
        .collect();
    check_dirs(
        out_dir,
        files
            .iter()
            .map(|(p, _)| p.as_str())
            .chain(lock.files.keys().map(String::as_str)),
    )?;
    Ok(files)
}

/// Checks every folder that holds one of `paths` (relative to `out_dir`) once: each is
/// a real folder or missing, never a link.
fn check_dirs<'a>(out_dir: &Path, paths: impl Iterator<Item = &'a str>) -> Result<(), Error> {
    let dirs: BTreeSet<&Path> = paths.filter_map(|p| Path::new(p).parent()).collect();
    for dir in dirs {
        boundary::dirs_are_real(out_dir, dir).map_err(|e| Error::refused(out_dir.join(dir), e))?;
    }
    Ok(())
}

fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    boundary::read(path).map_err(|e| match e {
        Refusal::Directory => Error::Refused {
            path: path.into(),
            reason: Refusal::BadPath(
                "it is a directory where kiln writes a file: move it away".to_owned(),
            ),
        },
        e => Error::refused(path, e),
    })
}

/// Compares `out_dir` with `tree`, for the files in `scope`. Files are read in
/// parallel; findings come in path order.
pub fn check(out_dir: &Path, tree: &OutputTree, scope: &Scope) -> Result<Vec<Finding>, Error> {
    check_out_dir(out_dir)?;
    let lock = known_files(out_dir)?.lock;
    let files = scoped_files(out_dir, tree, scope, &lock)?;
    let found: Vec<Option<Finding>> = files
        .par_iter()
        .map(|(path, file)| compare(out_dir, &lock, path, file))
        .collect::<Result<_, _>>()?;
    let mut findings: Vec<Finding> = found.into_iter().flatten().collect();
    for (path, entry) in &lock.files {
        if tree.get(path).is_none()
            && scope.includes(entry.env.as_deref())
            && boundary::kind(&out_dir.join(path)).is_ok_and(|k| k == boundary::Kind::File)
        {
            findings.push(Finding::Obsolete { path: path.clone() });
        }
    }
    // A build killed after writing every file, but before its lock: nothing else
    // differs, yet the lock describes the build before. The pending list is there
    // from before the first file is written until after the lock is. (Comparing the
    // lock with the tree's instead would flag every tag Flux commits into out/, which
    // changes a file without changing the lock.)
    if pending_exists(out_dir) {
        findings.push(Finding::Unfinished {
            path: PENDING_FILE.to_owned(),
        });
    }
    Ok(findings)
}

/// How the file at `path` differs from what kiln would write, if it does.
fn compare(
    out_dir: &Path,
    lock: &Lock,
    path: &str,
    file: &OutputFile,
) -> Result<Option<Finding>, Error> {
    let Some(actual) = read_existing(&out_dir.join(path))? else {
        return Ok(Some(Finding::Missing {
            path: path.to_owned(),
            deleted: lock.files.contains_key(path),
        }));
    };
    if actual == file.bytes {
        return Ok(None);
    }
    let (path, expected) = (path.to_owned(), file.bytes.clone());
    Ok(Some(match lock.files.get(&path) {
        Some(entry) if entry.sha256 == sha256(&actual) => Finding::Stale {
            path,
            actual,
            expected,
        },
        Some(_) => Finding::HandEdited {
            path,
            actual,
            expected,
        },
        None => Finding::Foreign {
            path,
            actual,
            expected,
        },
    }))
}

/// Writes `tree` into `out_dir` (files in `scope` only), overwriting files kiln did
/// not write, deletes files the previous lock lists that the tree no longer has, and
/// writes the lock last.
pub fn write(out_dir: &Path, tree: &OutputTree, scope: &Scope) -> Result<WriteReport, Error> {
    write_with(
        out_dir,
        tree,
        &WriteOptions {
            scope: scope.clone(),
            force: true,
            durability: Durability::Atomic,
        },
    )
}

/// What to do with one file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    Unchanged,
    Write,
    Foreign,
}

/// Writes `tree` into `out_dir` as `options` say: first every file is compared with
/// what is there (in parallel), and when some file is not kiln's and `force` is off,
/// nothing is written and the report lists them; otherwise the pending list, the
/// changed files (in parallel), the deletions and the lock, in that order.
pub fn write_with(
    out_dir: &Path,
    tree: &OutputTree,
    options: &WriteOptions,
) -> Result<WriteReport, Error> {
    let scope = &options.scope;
    check_out_dir(out_dir)?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io("cannot create", out_dir, e))?;
    // Absolute once here, or every temporary file asks for the working directory.
    let absolute =
        std::path::absolute(out_dir).map_err(|e| Error::io("cannot resolve", out_dir, e))?;
    let out_dir = absolute.as_path();
    // A build killed half-way leaves temporary files: while it wrote the pending list
    // (in out/ itself), or after, when the pending list is there to say so. Only then
    // is the whole tree searched.
    remove_stray_temporaries(out_dir, pending_exists(out_dir));
    let known = known_files(out_dir)?;
    let old = &known.lock;
    let files = scoped_files(out_dir, tree, scope, old)?;
    let plans: Vec<(Plan, String)> = files
        .par_iter()
        .map(|(path, file)| {
            let plan = match read_existing(&out_dir.join(path))? {
                Some(actual) if actual == file.bytes => Plan::Unchanged,
                Some(_) if !old.files.contains_key(*path) => Plan::Foreign,
                _ => Plan::Write,
            };
            Ok((plan, sha256(&file.bytes)))
        })
        .collect::<Result<_, Error>>()?;
    let mut report = WriteReport::default();
    if !options.force {
        report.foreign = files
            .iter()
            .zip(&plans)
            .filter(|(_, (plan, _))| *plan == Plan::Foreign)
            .map(|((path, _), _)| (*path).clone())
            .collect();
        if !report.foreign.is_empty() {
            return Ok(report);
        }
    }

    let mut new = Lock::default();
    // Entries out of scope keep their old records.
    for (path, entry) in &old.files {
        if !scope.includes(entry.env.as_deref())
            && tree.get(path).is_none_or(|f| !scope.includes(f.env()))
        {
            new.files.insert(path.clone(), entry.clone());
        }
    }
    for ((path, file), (_, sha)) in files.iter().zip(&plans) {
        new.files.insert(
            (*path).clone(),
            LockEntry {
                sha256: sha.clone(),
                env: file.env().map(str::to_owned),
            },
        );
    }
    let lock_path = out_dir.join(LOCK_FILE);
    let lock_text = new.render();
    let lock_changed =
        boundary::read(&lock_path).ok().flatten().as_deref() != Some(lock_text.as_bytes());
    let to_delete: Vec<&String> = old
        .files
        .iter()
        .filter(|(path, entry)| {
            !new.files.contains_key(*path) && scope.includes(entry.env.as_deref())
        })
        .map(|(path, _)| path)
        .collect();
    let unfinished = pending_exists(out_dir);
    if !lock_changed
        && to_delete.is_empty()
        && !unfinished
        && plans.iter().all(|(plan, _)| *plan == Plan::Unchanged)
    {
        // Nothing to write, delete or record: out/ is not touched at all.
        report.unchanged = files.len();
        return Ok(report);
    }
    // Record what is about to be written before writing it.
    let mut pending = new.clone();
    for (path, entry) in &old.files {
        pending
            .files
            .entry(path.clone())
            .or_insert_with(|| entry.clone());
    }
    let flushed = options.durability == Durability::Flushed;
    write_file(
        &out_dir.join(PENDING_FILE),
        pending.render().as_bytes(),
        false,
        flushed,
    )?;

    let to_write: Vec<(&String, &OutputFile)> = files
        .iter()
        .zip(&plans)
        .filter(|(_, (plan, _))| *plan != Plan::Unchanged)
        .map(|(f, _)| *f)
        .collect();
    report.unchanged = files.len() - to_write.len();
    // Folders first, once each, so that the parallel writes only write files.
    let dirs: BTreeSet<PathBuf> = to_write
        .iter()
        .filter_map(|(path, _)| out_dir.join(path).parent().map(Path::to_path_buf))
        .collect();
    for dir in &dirs {
        let rel = dir.strip_prefix(out_dir).unwrap_or(dir);
        boundary::create_dirs(out_dir, rel).map_err(|e| Error::refused(dir, e))?;
    }
    to_write
        .par_iter()
        .map(|(path, file)| write_file(&out_dir.join(path), &file.bytes, file.executable, false))
        .collect::<Result<Vec<()>, Error>>()?;
    report.written = to_write.iter().map(|(p, _)| (*p).clone()).collect();

    for path in to_delete {
        let target = out_dir.join(path);
        // Only the bytes kiln wrote: a file edited since (or replaced by a link) stays.
        let sha = old.files[path].sha256.as_str();
        let pending_sha = known.pending.files.get(path).map(|e| e.sha256.as_str());
        let mut removal = boundary::remove_if_unchanged(&target, sha);
        if let (Ok(boundary::Removal::Kept), Some(other)) = (&removal, pending_sha) {
            removal = boundary::remove_if_unchanged(&target, other);
        }
        match removal.map_err(|e| Error::refused(&target, e))? {
            boundary::Removal::Removed => {
                report.deleted.push(path.clone());
                remove_empty_parents(out_dir, &target);
            }
            boundary::Removal::Missing => {}
            boundary::Removal::Kept => report.kept.push(path.clone()),
        }
    }
    if flushed {
        let written: Vec<PathBuf> = to_write.iter().map(|(p, _)| out_dir.join(p)).collect();
        flush(out_dir, &written, &dirs)?;
    }
    if lock_changed {
        write_file(&lock_path, lock_text.as_bytes(), false, flushed)?;
    }
    if flushed {
        sync_dir(out_dir)?;
    }
    std::fs::remove_file(out_dir.join(PENDING_FILE))
        .map_err(|e| Error::io("cannot delete", out_dir.join(PENDING_FILE), e))?;
    Ok(report)
}

/// Whether a pending list is there (anything by that name, not following a link).
fn pending_exists(out_dir: &Path) -> bool {
    boundary::kind(&out_dir.join(PENDING_FILE)).is_ok_and(|k| k != boundary::Kind::Missing)
}

/// Flushes the written files and the folders that hold them to disk.
#[cfg(target_os = "linux")]
fn flush(out_dir: &Path, _written: &[PathBuf], _dirs: &BTreeSet<PathBuf>) -> Result<(), Error> {
    // One syncfs flushes everything at once, which costs far less than an fsync per
    // file on the disks measured.
    let dir = std::fs::File::open(out_dir).map_err(|e| Error::io("cannot open", out_dir, e))?;
    rustix::fs::syncfs(&dir).map_err(|e| Error::io("cannot sync", out_dir, e.into()))
}

#[cfg(not(target_os = "linux"))]
fn flush(_out_dir: &Path, written: &[PathBuf], dirs: &BTreeSet<PathBuf>) -> Result<(), Error> {
    for path in written {
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("cannot sync", path, e))?;
    }
    for dir in dirs {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Flushes a folder's entries (a rename in it) to disk.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("cannot sync", dir, e))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes `bytes` to `root/rel` through a temporary file in the same directory and a
/// rename, so readers see the old file or the new one, never half of one, and flushes
/// it to disk before the rename (for single files that matter, like sealed values).
/// The folders below `root` are created as needed and must not be links.
pub fn atomic_write(root: &Path, rel: &str, bytes: &[u8], executable: bool) -> Result<(), Error> {
    let path = root.join(rel);
    if let Some(dir) = Path::new(rel).parent() {
        boundary::create_dirs(root, dir).map_err(|e| Error::refused(root.join(dir), e))?;
    }
    write_file(&path, bytes, executable, true)
}

/// [`atomic_write`] into an existing folder, flushing only when `sync` is set.
fn write_file(path: &Path, bytes: &[u8], executable: bool, sync: bool) -> Result<(), Error> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    set_mode(tmp.as_file(), executable).map_err(|e| Error::io("cannot set mode of", path, e))?;
    if sync {
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io("cannot sync", path, e))?;
    }
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

fn remove_stray_temporaries(out_dir: &Path, recursive: bool) {
    let mut stack = vec![out_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if recursive {
                    stack.push(path);
                }
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
            t.add(
                *p,
                c.as_bytes().to_vec(),
                &crate::layout::Provenance::new("t"),
            );
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

    /// A build with nothing to change touches nothing: no pending list comes and goes
    /// (which would change out/'s own times), the lock is not rewritten.
    #[cfg(unix)]
    #[test]
    fn a_build_with_nothing_to_change_touches_nothing() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t = tree(&[("a/x.yaml", "x\n"), ("b.yaml", "b\n")]);
        write(&out, &t, &Scope::default()).unwrap();
        let stat = |p: &Path| {
            let m = std::fs::metadata(p).unwrap();
            (
                m.ino(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            )
        };
        let before = (stat(&out), stat(&out.join(LOCK_FILE)), stat(&out.join("a")));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let r = write(&out, &t, &Scope::default()).unwrap();
        assert_eq!((r.written.len(), r.unchanged), (0, 2));
        let after = (stat(&out), stat(&out.join(LOCK_FILE)), stat(&out.join("a")));
        assert_eq!(before, after);
    }

    #[test]
    fn a_foreign_file_stops_the_build_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("a.yaml", "1\n")]), &Scope::default()).unwrap();
        std::fs::write(out.join("mine.yaml"), "mine\n").unwrap();
        let options = WriteOptions::default();
        let next = tree(&[("a.yaml", "2\n"), ("mine.yaml", "kiln\n")]);
        let r = write_with(&out, &next, &options).unwrap();
        assert_eq!(r.foreign, ["mine.yaml"]);
        assert!(r.written.is_empty());
        assert_eq!(std::fs::read_to_string(out.join("a.yaml")).unwrap(), "1\n");
        assert_eq!(
            std::fs::read_to_string(out.join("mine.yaml")).unwrap(),
            "mine\n"
        );
        assert!(!out.join(PENDING_FILE).exists());
        let forced = WriteOptions {
            force: true,
            ..WriteOptions::default()
        };
        let r = write_with(&out, &next, &forced).unwrap();
        assert_eq!(r.written, ["a.yaml", "mine.yaml"]);
        assert!(check(&out, &next, &Scope::default()).unwrap().is_empty());
    }

    /// What a build killed half-way leaves (its pending list, temporary files in any
    /// folder, or a temporary file of the pending list itself) is cleaned up by the
    /// next build, and its files are recognised as kiln's.
    #[test]
    fn the_next_build_recovers_what_a_killed_build_left() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t = tree(&[("a/x.yaml", "x\n"), ("b.yaml", "b\n")]);
        // Killed while writing the pending list: only its temporary file exists.
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(format!("{TMP_PREFIX}pending")), "half").unwrap();
        write(&out, &t, &Scope::default()).unwrap();
        assert!(!out.join(format!("{TMP_PREFIX}pending")).exists());
        // Killed after writing a.yaml's replacement but before renaming it, and before
        // the lock: the pending list names the new file c.yaml, which was written.
        let next = tree(&[("a/x.yaml", "x2\n"), ("b.yaml", "b\n"), ("c.yaml", "c\n")]);
        let mut pending = Lock::read(&out.join(LOCK_FILE)).unwrap();
        pending.files.insert(
            "c.yaml".into(),
            LockEntry {
                sha256: sha256(b"c\n"),
                env: None,
            },
        );
        std::fs::write(out.join(PENDING_FILE), pending.render()).unwrap();
        std::fs::write(out.join("c.yaml"), "c\n").unwrap();
        std::fs::write(out.join("a").join(format!("{TMP_PREFIX}x")), "x2\n").unwrap();
        let r = write_with(&out, &next, &WriteOptions::default()).unwrap();
        assert!(r.foreign.is_empty(), "{:?}", r.foreign);
        assert!(!out.join("a").join(format!("{TMP_PREFIX}x")).exists());
        assert!(!out.join(PENDING_FILE).exists());
        assert!(check(&out, &next, &Scope::default()).unwrap().is_empty());
    }

    #[test]
    fn a_flushed_build_writes_what_an_atomic_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let t = tree(&[("x/y.yaml", "y\n"), ("z.yaml", "z\n")]);
        write(&a, &t, &Scope::default()).unwrap();
        let flushed = WriteOptions {
            durability: Durability::Flushed,
            ..WriteOptions::default()
        };
        write_with(&b, &t, &flushed).unwrap();
        for f in ["x/y.yaml", "z.yaml", LOCK_FILE] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap()
            );
        }
    }

    #[test]
    fn check_reports_a_build_that_wrote_every_file_but_not_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let before = tree(&[("a.yaml", "1\n"), ("gone.yaml", "g\n")]);
        write(&out, &before, &Scope::default()).unwrap();
        let old_lock = std::fs::read(out.join(LOCK_FILE)).unwrap();
        let next = tree(&[("a.yaml", "2\n")]);
        write(&out, &next, &Scope::default()).unwrap();
        assert!(check(&out, &next, &Scope::default()).unwrap().is_empty());

        // A file changed by automation (a tag Flux committed) that the tree agrees
        // with: the lock still has kiln's hash of it, and that is not a finding.
        std::fs::write(out.join(LOCK_FILE), &old_lock).unwrap();
        assert!(check(&out, &next, &Scope::default()).unwrap().is_empty());
        // Killed after the files, before the lock: the pending list is still there.
        std::fs::write(out.join(PENDING_FILE), "").unwrap();
        assert_eq!(
            check(&out, &next, &Scope::default()).unwrap(),
            [Finding::Unfinished {
                path: PENDING_FILE.to_owned()
            }]
        );
        std::fs::remove_file(out.join(PENDING_FILE)).unwrap();
        // Killed after the lock, before the pending list was removed.
        write(&out, &next, &Scope::default()).unwrap();
        std::fs::write(out.join(PENDING_FILE), "").unwrap();
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
