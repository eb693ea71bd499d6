//! The freshness record: how `kiln build` and `kiln check` tell, without compiling,
//! that nothing changed since the last clean build.
//!
//! After a build that wrote every environment and found nothing to report (no error,
//! no warning), kiln records in `.kiln/fresh` (next to `environments/`; the folder
//! ignores itself in git):
//!
//! - a key: SHA-256 over kiln's version and executable (its size and modification
//!   time) and every input file (`environments/**`, `templates/**`, path and bytes);
//! - the status of every file the build wrote and of `kiln.lock` (size, modification
//!   and change times, inode, mode), and of every folder holding them, whose times
//!   change when a file is added, removed or renamed in it.
//!
//! The next `build` or `check` with no `--env` reads the input files (it must, to
//! compute the key), and when the key and every status match, it reports the record's
//! summary and stops: the output is what a compile would give, byte for byte. Any
//! difference, a missing or unreadable record, or a pending list in `out/` (a build that
//! did not finish) means a full compile and comparison, as without the record. Git's
//! index uses the same test for a changed file (`git status` trusts it the same way).
//!
//! A status taken in the same clock tick as the record could still change unseen
//! ("racily clean" in git's words), so a record any of whose times are not older
//! than the record file itself is not trusted; the full build that follows rewrites
//! it, and the one after can use it. `--no-cache` ignores the record.

use crate::model::Files;
use crate::render::OutputTree;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The record's folder under the project root.
pub const DIR: &str = ".kiln";
/// The record's file in [`DIR`].
pub const FILE: &str = "fresh";
const HEADER: &str = "kiln-fresh 1";

/// What the recorded build reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files in the output tree.
    pub files: usize,
    /// Environments compiled.
    pub environments: usize,
    /// Wiring points verified.
    pub wiring_verified: usize,
    /// Wiring points checked.
    pub wiring_total: usize,
}

/// The key of a compilation of `files` by this kiln executable.
pub fn key(files: &Files) -> String {
    let mut h = Sha256::new();
    h.update(HEADER);
    h.update(env!("CARGO_PKG_VERSION"));
    if let Some(stat) = std::env::current_exe().ok().and_then(|exe| status(&exe)) {
        h.update(stat);
    }
    for (path, entry) in files.iter() {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path);
        match entry {
            crate::model::files::Entry::File(bytes) => {
                h.update([0]);
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(bytes);
            }
            crate::model::files::Entry::Unreadable(why) => {
                h.update([1]);
                h.update((why.len() as u64).to_le_bytes());
                h.update(why);
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What is compared: the files written and the lock, then the folders holding them.
fn watched(paths: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut files = vec![super::lock::LOCK_FILE.to_owned()];
    let mut dirs = BTreeSet::from([String::new()]);
    for p in paths {
        let mut d = p.as_str();
        while let Some((parent, _)) = d.rsplit_once('/') {
            dirs.insert(parent.to_owned());
            d = parent;
        }
        files.push(p);
    }
    files.extend(dirs.into_iter().map(|d| format!("{d}/")));
    files
}

/// Writes the record of a clean build of `tree` with `key` (best effort: a record
/// that cannot be written only means the next build compiles).
pub fn record(root: &Path, key: &str, out_dir: &Path, tree: &OutputTree, summary: Summary) {
    let dir = root.join(DIR);
    let path = dir.join(FILE);
    // `.kiln` must be this project's own folder, not a link to somewhere else.
    if crate::boundary::create_dirs(root, Path::new(DIR)).is_err() {
        return;
    }
    // An old record must not outlive a failure to replace it.
    let _ = std::fs::remove_file(&path);
    let mut text = format!(
        "{HEADER}\nkey {key}\nsummary {} {} {} {}\n",
        summary.files, summary.environments, summary.wiring_verified, summary.wiring_total
    );
    let mut latest = 0;
    for rel in watched(tree.iter().map(|(p, _)| p.clone())) {
        let Some(stat) = status(&out_path(out_dir, &rel)) else {
            return;
        };
        let (mtime, ctime) = stat_times(&stat).unwrap_or_default();
        latest = latest.max(mtime).max(ctime);
        text.push_str(&format!("{stat} {rel}\n"));
    }
    // The record must be younger than every status it holds (see the module doc):
    // wait out the file system's clock tick (at most 10 ms on Linux) when the build
    // just wrote something.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128)
    };
    let wait_until = latest + 20_000_000;
    if now() < wait_until {
        std::thread::sleep(std::time::Duration::from_nanos(
            u64::try_from(wait_until - now()).unwrap_or(0),
        ));
    }
    if crate::boundary::create_dirs(root, Path::new(DIR)).is_err() {
        return;
    }
    crate::boundary::ensure_ignored(&dir);
    let _ = super::write_file(&path, text.as_bytes(), false, false);
}

/// The freshness check `build` and `check` share: with every environment in scope,
/// the key of `files` (for the record a clean run writes) and, unless `trust` is off,
/// the recorded summary when it holds for `out_dir`.
pub fn consult(
    root: &Path,
    files: &Files,
    whole: bool,
    trust: bool,
    out_dir: &Path,
) -> (Option<String>, Option<Summary>) {
    use crate::timings::{note, phase};
    if !whole {
        return (None, None);
    }
    let key = phase("key", || key(files));
    let found = if trust {
        phase("fresh record", || lookup(root, &key, out_dir))
    } else {
        None
    };
    if found.is_some() {
        note("the freshness record matches: nothing to compile, compare or write");
    }
    (Some(key), found)
}

/// The recorded summary, when the record says that a compile of `key` would find
/// `out_dir` as it is.
pub fn lookup(root: &Path, key: &str, out_dir: &Path) -> Option<Summary> {
    if out_dir.join(super::PENDING_FILE).exists() {
        return None;
    }
    if !crate::boundary::dirs_are_real(root, Path::new(DIR)).unwrap_or(false) {
        return None;
    }
    let path = root.join(DIR).join(FILE);
    let recorded_at = std::fs::symlink_metadata(&path).ok()?;
    let text = String::from_utf8(crate::boundary::read(&path).ok()??).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER || lines.next()?.strip_prefix("key ")? != key {
        return None;
    }
    let numbers: Vec<usize> = lines
        .next()?
        .strip_prefix("summary ")?
        .split(' ')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [files, environments, wiring_verified, wiring_total] = numbers[..] else {
        return None;
    };
    let limit = times(&recorded_at)?;
    let entries: Vec<(&str, &str)> = lines
        .map(|line| {
            // `size mtime ctime ino mode path`: the path is what follows the fifth space.
            let cut = line.match_indices(' ').nth(4)?.0;
            Some((&line[..cut], &line[cut + 1..]))
        })
        .collect::<Option<_>>()?;
    if entries.len() < 2 {
        return None;
    }
    use rayon::prelude::*;
    let all_match = entries.par_iter().all(|(stat, rel)| {
        let Some((mtime, ctime)) = stat_times(stat) else {
            return false;
        };
        // Racily clean: taken in the record's own clock tick or after.
        if mtime >= limit || ctime >= limit {
            return false;
        }
        status(&out_path(out_dir, rel)).is_some_and(|now| now == *stat)
    });
    all_match.then_some(Summary {
        files,
        environments,
        wiring_verified,
        wiring_total,
    })
}

fn out_path(out_dir: &Path, rel: &str) -> PathBuf {
    match rel.strip_suffix('/') {
        Some("") => out_dir.to_path_buf(),
        Some(dir) => out_dir.join(dir),
        None => out_dir.join(rel),
    }
}

/// `size mtime ctime ino mode` of a path (not following a last symlink), with times
/// in nanoseconds.
#[cfg(unix)]
fn status(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).ok()?;
    Some(format!(
        "{} {} {} {} {:o}",
        m.size(),
        i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        m.ino(),
        m.mode()
    ))
}

/// Without Unix file status, there is no record to trust.
#[cfg(not(unix))]
fn status(_path: &Path) -> Option<String> {
    None
}

#[cfg(unix)]
fn times(m: &std::fs::Metadata) -> Option<i128> {
    use std::os::unix::fs::MetadataExt;
    Some(i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()))
}

#[cfg(not(unix))]
fn times(_m: &std::fs::Metadata) -> Option<i128> {
    None
}

fn stat_times(stat: &str) -> Option<(i128, i128)> {
    let mut parts = stat.split(' ').skip(1);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}
