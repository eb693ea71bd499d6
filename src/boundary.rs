//! kiln's boundary with the file system: every file kiln reads, writes or deletes
//! under the project goes through here.
//!
//! Everything under the project root is committed, so anyone who can propose a pull
//! request controls it (see `SECURITY.md`). The rules, in one place:
//!
//! - **Paths are relative and stay inside.** A path that comes from a file (a line of
//!   `out/kiln.lock`) is checked by [`relative`]: `/`-separated, no empty, `.` or `..`
//!   component, no leading `/`, no backslash, no NUL or control character.
//! - **No symbolic link is followed** under the folders kiln owns (`environments/`,
//!   `templates/`, `out/`, `.kiln/`): a link where kiln reads, writes or deletes is
//!   refused, and the refusal never names or quotes what the link points at.
//! - **Only regular files are read**, opened without following a final link and
//!   without blocking (a FIFO would hang; a device would read forever), up to
//!   [`MAX_FILE_BYTES`].
//! - **Deletions** happen only when the file's bytes still hash to what kiln recorded
//!   ([`remove_if_unchanged`]).
//! - **One build at a time** per project: [`ProjectLock`].
//!
//! The threat is committed content, not a concurrent local attacker swapping folders
//! between two system calls (who could already edit the files kiln reads).

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file kiln reads: a model of 10,000 apps is a few MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Why a path or file was refused.
#[derive(Debug)]
pub enum Refusal {
    /// A path from a file that would leave its folder, or is not a plain relative path.
    BadPath(String),
    /// A symbolic link where kiln reads or writes (the target is never shown).
    Symlink,
    /// Not a regular file: a FIFO, a device, a socket.
    NotRegular(&'static str),
    /// A folder where a file belongs.
    Directory,
    /// A file where a folder belongs.
    NotADirectory,
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// The operating system's error (permissions, ...).
    Io(std::io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadPath(why) => write!(f, "{why}"),
            Refusal::Symlink => write!(
                f,
                "it is a symbolic link, and kiln does not follow links in the project's folders (replace it with the file or folder itself)"
            ),
            Refusal::NotRegular(kind) => {
                write!(
                    f,
                    "it is {kind}, not a regular file (kiln reads only regular files)"
                )
            }
            Refusal::Directory => write!(f, "it is a directory, not a file"),
            Refusal::NotADirectory => write!(f, "it is a file where a directory belongs"),
            Refusal::TooLarge => write!(
                f,
                "it is larger than {} MiB, the most kiln reads from one file",
                MAX_FILE_BYTES >> 20
            ),
            Refusal::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<std::io::Error> for Refusal {
    fn from(e: std::io::Error) -> Self {
        Refusal::Io(e)
    }
}

/// Checks a `/`-separated path read from a file: relative, inside its folder.
pub fn relative(path: &str) -> Result<&str, Refusal> {
    let bad = |why: &str| Err(Refusal::BadPath(why.to_owned()));
    if path.is_empty() {
        return bad("the path is empty");
    }
    if path.chars().any(|c| c.is_control()) {
        return bad("the path holds a control character");
    }
    if path.contains('\\') {
        return bad("the path holds a backslash");
    }
    if path.starts_with('/') || (path.len() > 1 && path.as_bytes()[1] == b':') {
        return bad("the path is absolute");
    }
    for part in path.split('/') {
        match part {
            "" => return bad("the path has an empty component"),
            "." | ".." => return bad("the path has a `.` or `..` component"),
            _ => {}
        }
    }
    Ok(path)
}

/// What is at a path, without following a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Nothing.
    Missing,
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Something else (FIFO, device, socket), named.
    Other(&'static str),
}

fn kind_of(t: std::fs::FileType) -> Kind {
    if t.is_symlink() {
        return Kind::Symlink;
    }
    if t.is_dir() {
        return Kind::Dir;
    }
    if t.is_file() {
        return Kind::File;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Kind::Other("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Kind::Other("a device");
        }
        if t.is_socket() {
            return Kind::Other("a socket");
        }
    }
    Kind::Other("a special file")
}

/// What is at `path`, not following a final link.
pub fn kind(path: &Path) -> Result<Kind, Refusal> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(kind_of(m.file_type())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Kind::Missing),
        Err(e) => Err(Refusal::Io(e)),
    }
}

/// The entries of a directory, by name, with what each is (links not followed), sorted.
pub fn list(dir: &Path) -> Result<Vec<(String, Kind)>, Refusal> {
    match kind(dir)? {
        Kind::Dir => {}
        Kind::Symlink => return Err(Refusal::Symlink),
        Kind::Missing => {
            return Err(Refusal::Io(std::io::Error::from(
                std::io::ErrorKind::NotFound,
            )));
        }
        Kind::File => return Err(Refusal::NotADirectory),
        Kind::Other(k) => return Err(Refusal::NotRegular(k)),
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        out.push((name, kind_of(entry.file_type()?)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Checks that every folder from `root` (exclusive) down to `root/rel` (inclusive) is a
/// real directory or missing; `Ok(false)` when one is missing. `root` itself is the
/// caller's (given on the command line) and may be reached through links.
pub fn dirs_are_real(root: &Path, rel: &Path) -> Result<bool, Refusal> {
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match kind(&at)? {
            Kind::Dir => {}
            Kind::Missing => return Ok(false),
            Kind::Symlink => return Err(Refusal::Symlink),
            Kind::File => return Err(Refusal::NotADirectory),
            Kind::Other(k) => return Err(Refusal::NotRegular(k)),
        }
    }
    Ok(true)
}

/// Creates `root/rel` and the folders above it (below `root`), refusing a link or a
/// file anywhere on the way.
pub fn create_dirs(root: &Path, rel: &Path) -> Result<(), Refusal> {
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match kind(&at)? {
            Kind::Dir => {}
            Kind::Missing => match std::fs::create_dir(&at) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && at.is_dir() => {}
                Err(e) => return Err(Refusal::Io(e)),
            },
            Kind::Symlink => return Err(Refusal::Symlink),
            Kind::File => return Err(Refusal::NotADirectory),
            Kind::Other(k) => return Err(Refusal::NotRegular(k)),
        }
    }
    Ok(())
}

/// Reads the regular file at `path`, without following a final link or blocking on a
/// FIFO, up to [`MAX_FILE_BYTES`]; `Ok(None)` when nothing is there. The folders above
/// it are the caller's to have checked ([`list`], [`dirs_are_real`]).
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, Refusal> {
    let file = match open_no_follow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            // A final link (ELOOP with O_NOFOLLOW) or a directory: say which.
            return match kind(path)? {
                Kind::Symlink => Err(Refusal::Symlink),
                Kind::Dir => Err(Refusal::Directory),
                Kind::Other(k) => Err(Refusal::NotRegular(k)),
                Kind::Missing => Ok(None),
                Kind::File => Err(Refusal::Io(e)),
            };
        }
    };
    let meta = file.metadata()?;
    match kind_of(meta.file_type()) {
        Kind::File => {}
        Kind::Dir => return Err(Refusal::Directory),
        Kind::Symlink => return Err(Refusal::Symlink),
        Kind::Other(k) => return Err(Refusal::NotRegular(k)),
        Kind::Missing => unreachable!("an open file exists"),
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge);
    }
    Ok(Some(bytes))
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    if kind(path).is_ok_and(|k| k == Kind::Symlink) {
        return Err(std::io::Error::other("a symbolic link"));
    }
    std::fs::File::open(path)
}

/// What [`remove_if_unchanged`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Deleted.
    Removed,
    /// Nothing was there.
    Missing,
    /// Kept: its bytes are not the ones recorded (edited since, or replaced by a link
    /// or something else).
    Kept,
}

/// Deletes the file at `path` only when it is a regular file whose sha256 (hex) is
/// `sha256`.
pub fn remove_if_unchanged(path: &Path, sha256: &str) -> Result<Removal, Refusal> {
    let bytes = match read(path) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(Removal::Missing),
        Err(Refusal::Io(e)) => return Err(Refusal::Io(e)),
        Err(_) => return Ok(Removal::Kept),
    };
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if !hex.eq_ignore_ascii_case(sha256) {
        return Ok(Removal::Kept);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(Removal::Removed),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Removal::Missing),
        Err(e) => Err(Refusal::Io(e)),
    }
}

/// An advisory lock held for the length of a build (exclusive) or check (shared), on
/// `.kiln/lock` under the project root, so two builds of one project do not write
/// `out/` at once: the second waits, and says so.
#[derive(Debug)]
pub struct ProjectLock {
    _file: Option<std::fs::File>,
}

/// The lock file's place under the project root.
pub const LOCK_PATH: &str = ".kiln/lock";

impl ProjectLock {
    /// Takes the lock, exclusive or shared; `waiting` is called once if another kiln
    /// holds it, before blocking until it is released. A shared lock in a project
    /// kiln cannot write to (a read-only checkout) is not taken: nothing there can
    /// write `out/` either.
    pub fn take(
        root: &Path,
        exclusive: bool,
        waiting: impl FnOnce(),
    ) -> Result<ProjectLock, (PathBuf, Refusal)> {
        let dir = root.join(".kiln");
        match create_dirs(root, Path::new(".kiln")) {
            Ok(()) => {}
            Err(Refusal::Io(e))
                if !exclusive
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::PermissionDenied
                            | std::io::ErrorKind::ReadOnlyFilesystem
                    ) =>
            {
                return Ok(ProjectLock { _file: None });
            }
            Err(e) => return Err((dir, e)),
        }
        ensure_ignored(&dir);
        let path = root.join(LOCK_PATH);
        if let Kind::Symlink | Kind::Dir | Kind::Other(_) =
            kind(&path).map_err(|e| (path.clone(), e))?
        {
            return Err((path, Refusal::NotRegular("not a lock file")));
        }
        let file = match std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if !exclusive && e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Ok(ProjectLock { _file: None });
            }
            Err(e) => return Err((path, Refusal::Io(e))),
        };
        let tried = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match tried {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                if exclusive {
                    file.lock()
                } else {
                    file.lock_shared()
                }
                .map_err(|e| (path.clone(), Refusal::Io(e)))?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                // A file system without locks: go on unlocked rather than refuse.
                if e.kind() != std::io::ErrorKind::Unsupported {
                    return Err((path, Refusal::Io(e)));
                }
            }
        }
        Ok(ProjectLock { _file: Some(file) })
    }
}

/// Writes `.kiln/.gitignore` (the folder ignores itself) when it is not there.
pub fn ensure_ignored(dir: &Path) {
    let ignore = dir.join(".gitignore");
    if kind(&ignore).is_ok_and(|k| k == Kind::Missing) {
        let _ = std::fs::write(
            &ignore,
            "# kiln's local records (freshness, build lock): never committed.\n*\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        for ok in [
            "a",
            "a/b.yaml",
            "c d.yaml",
            "kubernetes/apps/web/base/x.yaml",
        ] {
            assert!(relative(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/tmp/victim",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/.",
            "a\\b",
            "a\0b",
            "a\nb",
            "C:/x",
        ] {
            assert!(relative(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_fifos_and_devices_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let err = read(&link).unwrap_err();
        assert!(matches!(err, Refusal::Symlink), "{err}");
        assert!(!err.to_string().contains("secret"));
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        assert!(matches!(read(&fifo), Err(Refusal::NotRegular(_))));
        assert!(matches!(
            read(Path::new("/dev/zero")),
            Err(Refusal::NotRegular(_))
        ));
        assert!(matches!(read(dir.path()), Err(Refusal::Directory)));
        assert!(read(&dir.path().join("none")).unwrap().is_none());
        assert_eq!(read(&secret).unwrap().unwrap(), b"s3cret\n");
    }

    #[cfg(unix)]
    #[test]
    fn folders_are_created_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("a")).unwrap();
        assert!(matches!(
            create_dirs(dir.path(), Path::new("a/b")),
            Err(Refusal::Symlink)
        ));
        assert!(!outside.path().join("b").exists());
        assert!(matches!(
            dirs_are_real(dir.path(), Path::new("a/b")),
            Err(Refusal::Symlink)
        ));
        create_dirs(dir.path(), Path::new("c/d")).unwrap();
        assert!(dirs_are_real(dir.path(), Path::new("c/d")).unwrap());
        assert!(!dirs_are_real(dir.path(), Path::new("c/e")).unwrap());
    }

    #[test]
    fn only_unchanged_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "x").unwrap();
        let sha = |b: &[u8]| -> String {
            Sha256::digest(b)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let (sha_x, sha_y) = (&sha(b"x"), &sha(b"y"));
        assert_eq!(remove_if_unchanged(&f, sha_y).unwrap(), Removal::Kept);
        assert!(f.exists());
        assert_eq!(remove_if_unchanged(&f, sha_x).unwrap(), Removal::Removed);
        assert!(!f.exists());
        assert_eq!(remove_if_unchanged(&f, sha_x).unwrap(), Removal::Missing);
    }

    #[test]
    fn a_second_exclusive_lock_waits() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProjectLock::take(dir.path(), true, || panic!("nothing to wait for")).unwrap();
        let root = dir.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let waited = std::cell::Cell::new(false);
            let _second = ProjectLock::take(&root, true, || waited.set(true)).unwrap();
            tx.send(waited.get()).unwrap();
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(rx.try_recv().is_err(), "the second lock did not wait");
        drop(first);
        assert!(rx.recv().unwrap(), "the waiting callback was not called");
        t.join().unwrap();
        assert!(dir.path().join(".kiln/.gitignore").exists());
    }
}
