//! Reading files from a git revision through the `git` command line, without touching
//! the working tree or the index: `git rev-parse` resolves the revision, `git ls-tree`
//! lists a directory, and one `git cat-file --batch` process reads every blob.
//!
//! Paths are relative to the directory kiln was pointed at (`--root`), which may be a
//! subdirectory of the repository, exactly as `git ls-tree` prints them from there.

use crate::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A resolved commit in the repository that contains a project root.
#[derive(Clone, Debug)]
pub struct Revision {
    root: PathBuf,
    name: String,
    commit: String,
}

/// What a tree entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular or executable file.
    Blob,
    /// A directory.
    Tree,
    /// A symbolic link or a submodule.
    Other,
}

/// One entry of `git ls-tree`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    /// Blob, tree or other.
    pub kind: EntryKind,
    /// The object id.
    pub object: String,
}

impl Revision {
    /// Resolves `name` (a branch, tag, `HEAD~1`, a commit id) in the repository that
    /// contains `root`.
    pub fn resolve(root: &Path, name: &str) -> crate::Result<Revision> {
        let out = git(root)
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{name}^{{commit}}"))
            .output()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            let inside = git(root)
                .args(["rev-parse", "--is-inside-work-tree"])
                .output()
                .is_ok_and(|o| o.status.success());
            return Err(Error::Git(if inside {
                format!("`{name}` is not a commit in this repository")
            } else {
                format!("{} is not inside a git repository", root.display())
            }));
        }
        Ok(Revision {
            root: root.to_path_buf(),
            name: name.to_owned(),
            commit: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        })
    }

    /// The revision as the user wrote it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full commit id.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The entries in `dir` (relative to the root), recursively (with the
    /// directories on the way) or not; `None` when the revision has no such directory.
    pub fn list(&self, dir: &str, recursive: bool) -> crate::Result<Option<Vec<TreeEntry>>> {
        let mut cmd = git(&self.root);
        cmd.args(["ls-tree", "-z"]);
        if recursive {
            cmd.args(["-r", "-t"]);
        }
        let out = cmd
            .arg(&self.commit)
            .arg("--")
            .arg(format!("{}/", dir.trim_end_matches('/')))
            .output()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "git ls-tree {} {dir}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut entries = Vec::new();
        for record in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8_lossy(record);
            let Some((meta, path)) = record.split_once('\t') else {
                continue;
            };
            let mut parts = meta.split(' ');
            let (mode, kind, object) = (parts.next(), parts.next(), parts.next());
            let kind = match (mode, kind) {
                (Some("100644" | "100755"), Some("blob")) => EntryKind::Blob,
                (_, Some("tree")) => EntryKind::Tree,
                _ => EntryKind::Other,
            };
            entries.push(TreeEntry {
                path: path.to_owned(),
                kind,
                object: object.unwrap_or_default().to_owned(),
            });
        }
        Ok((!entries.is_empty()).then_some(entries))
    }

    /// Reads the blobs of `entries` with one `git cat-file --batch`.
    pub fn read(&self, entries: &[TreeEntry]) -> crate::Result<Vec<(TreeEntry, Vec<u8>)>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut child = git(&self.root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let request: String = entries.iter().map(|e| format!("{}\n", e.object)).collect();
        // Written from a thread: git answers while it reads, and a full pipe on either
        // side would otherwise stop both processes.
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
            let size = header
                .trim_end()
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|_| header.contains(" blob "))
                .ok_or_else(|| {
                    Error::Git(format!(
                        "git cat-file: cannot read {}:{}: {}",
                        self.name,
                        entry.path,
                        header.trim()
                    ))
                })?;
            let mut bytes = vec![0; size + 1];
            reader
                .read_exact(&mut bytes)
                .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
            bytes.pop();
            out.push((entry.clone(), bytes));
        }
        let _ = writer.join();
        let _ = child.wait();
        Ok(out)
    }
}

fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root);
    // Inside a git hook these point at the repository relative to the hook's working
    // directory; `-C root` would make them wrong, and git finds the repository itself.
    cmd.env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}
