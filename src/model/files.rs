//! The files a compilation reads, held in memory: everything under `environments/`
//! (the model files, `state/image-tags.yaml`, `sealed/<env>.yaml`) and `templates/`,
//! by `/`-separated path relative to the project root.
//!
//! The loader ([`super::load()`]) and the template overrides read only from a [`Files`],
//! so one model can come from the working tree ([`Files::read`], a thin wrapper over the
//! file system) or from a git revision ([`Files::from_git`], for `kiln diff --against`)
//! without a checkout. A file that could not be read is kept with the reason, so the
//! loader reports it where it would have reported the file.

use crate::git::{EntryKind, Revision};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directory the model lives in.
pub const ENVIRONMENTS: &str = "environments";
/// The directory of template overrides.
pub const TEMPLATES: &str = "templates";

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Its bytes.
    File(Vec<u8>),
    /// It exists but could not be read: why.
    Unreadable(String),
}

/// Where the files come from, for messages.
#[derive(Clone, Debug)]
enum Origin {
    /// The working tree under this root.
    Dir(PathBuf),
    /// A git revision, as the user wrote it.
    Git(String),
}

/// The input files of one compilation.
#[derive(Clone, Debug)]
pub struct Files {
    origin: Origin,
    /// Why `environments/` could not be listed, if it could not.
    env_dir_error: Option<String>,
    entries: BTreeMap<String, Entry>,
}

impl Files {
    /// An in-memory set of files, as if read from the working tree under `root`
    /// (for tests and callers that build a model without a disk).
    pub fn in_memory(root: &Path, files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Files {
        Files {
            origin: Origin::Dir(root.to_path_buf()),
            env_dir_error: None,
            entries: files
                .into_iter()
                .map(|(p, b)| (p, Entry::File(b)))
                .collect(),
        }
    }

    /// Every file, by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }

    /// Reads `root/environments/**` (model files, `state/`, `sealed/`) and
    /// `root/templates/**`. Directories are kept as unreadable entries too, so one named
    /// like a model file is reported where the file would be.
    pub fn read(root: &Path) -> Files {
        let mut files = Files {
            origin: Origin::Dir(root.to_path_buf()),
            env_dir_error: None,
            entries: BTreeMap::new(),
        };
        if let Err(e) = std::fs::read_dir(root.join(ENVIRONMENTS)) {
            files.env_dir_error = Some(e.to_string());
        }
        for top in [ENVIRONMENTS, TEMPLATES] {
            let mut stack = vec![root.join(top)];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.filter_map(Result::ok) {
                    let path = entry.path();
                    let Ok(rel) = path.strip_prefix(root) else {
                        continue;
                    };
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    if path.is_dir() {
                        files.entries.insert(rel, read_entry(&path));
                        stack.push(path);
                        continue;
                    }
                    files.entries.insert(rel, read_entry(&path));
                }
            }
        }
        files
    }

    /// Reads the same files from a git revision, without touching the working tree.
    pub fn from_git(rev: &Revision) -> crate::Result<Files> {
        let mut files = Files {
            origin: Origin::Git(rev.name().to_owned()),
            env_dir_error: None,
            entries: BTreeMap::new(),
        };
        let listed = rev.list(ENVIRONMENTS, true)?;
        if listed.is_none() {
            files.env_dir_error = Some(format!("not in revision {}", rev.name()));
        }
        let mut blobs = Vec::new();
        for entry in listed.into_iter().flatten() {
            match entry.kind {
                EntryKind::Blob => blobs.push(entry),
                EntryKind::Tree => {
                    files.entries.insert(
                        entry.path,
                        Entry::Unreadable("it is a directory, not a file".to_owned()),
                    );
                }
                EntryKind::Other => {
                    files.entries.insert(
                        entry.path,
                        Entry::Unreadable("it is not a regular file in git".to_owned()),
                    );
                }
            }
        }
        blobs.extend(
            rev.list(TEMPLATES, true)?
                .into_iter()
                .flatten()
                .filter(|e| e.kind == EntryKind::Blob),
        );
        for (entry, bytes) in rev.read(&blobs)? {
            files.entries.insert(entry.path, Entry::File(bytes));
        }
        Ok(files)
    }

    /// Why `environments/` could not be listed.
    pub fn env_dir_error(&self) -> Option<&str> {
        self.env_dir_error.as_deref()
    }

    /// The files directly in `dir` (a path relative to the root), sorted by name.
    pub fn dir<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
        let prefix = format!("{dir}/");
        self.entries.iter().filter_map(move |(path, entry)| {
            let name = path.strip_prefix(&prefix)?;
            (!name.contains('/')).then_some((name, entry))
        })
    }

    /// The file at `path`, if there is one.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// How a file is named in diagnostics: `environments/dev.yaml` in the working tree,
    /// `main:environments/dev.yaml` in a revision.
    pub fn source_path(&self, path: &str) -> PathBuf {
        match &self.origin {
            Origin::Dir(_) => PathBuf::from(path),
            Origin::Git(rev) => PathBuf::from(format!("{rev}:{path}")),
        }
    }

    /// How a path is named in messages about reading it: `root/path` in the working
    /// tree, `rev:path` in a revision.
    pub fn location(&self, path: &str) -> String {
        match &self.origin {
            Origin::Dir(root) => root.join(path).display().to_string(),
            Origin::Git(rev) => format!("{rev}:{path}"),
        }
    }
}

fn read_entry(path: &Path) -> Entry {
    match std::fs::read(path) {
        Ok(bytes) => Entry::File(bytes),
        Err(_) if path.is_dir() => Entry::Unreadable("it is a directory, not a file".to_owned()),
        Err(e) => Entry::Unreadable(e.to_string()),
    }
}
