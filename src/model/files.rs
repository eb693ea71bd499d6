//! The files a compilation reads, held in memory: everything under `environments/`
//! (the model files, `state/image-tags.yaml`, `sealed/<env>.yaml`) and `templates/`,
//! by `/`-separated path relative to the project root.
//!
//! The loader ([`super::load()`]) and the template overrides read only from a [`Files`],
//! so one model can come from the working tree ([`Files::read`], a thin wrapper over the
//! file system) or from a git revision ([`Files::from_git`], for `kiln diff --against`)
//! without a checkout. A file that could not be read is kept with the reason, so the
//! loader reports it where it would have reported the file.
//!
//! The working tree is read through [`crate::boundary`]: links are never followed
//! (a link, a FIFO, a device or a folder that cannot be listed is a
//! [`Files::problems`] entry, which the loader reports as an error), and only regular
//! files up to [`crate::boundary::MAX_FILE_BYTES`] are read.

use crate::boundary;
use crate::git::{EntryKind, Revision};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directory the model lives in.
pub const ENVIRONMENTS: &str = "environments";
/// The directory of template overrides.
pub const TEMPLATES: &str = "templates";

/// Whether `path` is `dir` or inside it (`/`-separated, relative).
pub fn is_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

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
    /// Paths under `environments/` or `templates/` kiln refuses to read (links, special
    /// files, folders it cannot list), with why.
    problems: BTreeMap<String, String>,
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
            problems: BTreeMap::new(),
        }
    }

    /// Every file, by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }

    /// Reads `root/environments/**` (model files, `state/`, `sealed/`) and
    /// `root/templates/**`. Directories are kept as unreadable entries too, so one named
    /// like a model file is reported where the file would be.
    ///
    /// No link is followed and nothing but regular files and folders is read: see
    /// [`Files::problems`].
    pub fn read(root: &Path) -> Files {
        let mut files = Files {
            origin: Origin::Dir(root.to_path_buf()),
            env_dir_error: None,
            entries: BTreeMap::new(),
            problems: BTreeMap::new(),
        };
        match boundary::list(&root.join(ENVIRONMENTS)) {
            Ok(_) => {}
            Err(boundary::Refusal::Io(e)) => files.env_dir_error = Some(e.to_string()),
            Err(e) => {
                files.env_dir_error = Some(e.to_string());
                return files;
            }
        }
        for top in [ENVIRONMENTS, TEMPLATES] {
            match boundary::kind(&root.join(top)) {
                Ok(boundary::Kind::Missing) => continue,
                Ok(boundary::Kind::Dir) => {}
                Ok(boundary::Kind::File) => {
                    files
                        .problems
                        .insert(top.to_owned(), boundary::Refusal::NotADirectory.to_string());
                    continue;
                }
                Ok(boundary::Kind::Symlink) => {
                    files
                        .problems
                        .insert(top.to_owned(), boundary::Refusal::Symlink.to_string());
                    continue;
                }
                Ok(boundary::Kind::Other(k)) => {
                    files
                        .problems
                        .insert(top.to_owned(), boundary::Refusal::NotRegular(k).to_string());
                    continue;
                }
                Err(e) => {
                    files.problems.insert(top.to_owned(), e.to_string());
                    continue;
                }
            }
            let mut stack = vec![top.to_owned()];
            while let Some(dir) = stack.pop() {
                let entries = match boundary::list(&root.join(&dir)) {
                    Ok(entries) => entries,
                    Err(e) => {
                        // A folder that cannot be listed may hold sealed values or
                        // recorded tags: reading it as empty would delete them.
                        files
                            .problems
                            .insert(dir.clone(), format!("cannot list the folder: {e}"));
                        continue;
                    }
                };
                for (name, kind) in entries {
                    let rel = format!("{dir}/{name}");
                    match kind {
                        boundary::Kind::Dir => {
                            files.entries.insert(
                                rel.clone(),
                                Entry::Unreadable(boundary::Refusal::Directory.to_string()),
                            );
                            stack.push(rel);
                        }
                        boundary::Kind::File => {
                            let entry = match boundary::read(&root.join(&rel)) {
                                Ok(Some(bytes)) => Entry::File(bytes),
                                Ok(None) => continue,
                                // Permissions: reported where the file is used.
                                Err(e @ boundary::Refusal::Io(_)) => {
                                    Entry::Unreadable(e.to_string())
                                }
                                Err(e) => {
                                    files.problems.insert(rel, e.to_string());
                                    continue;
                                }
                            };
                            files.entries.insert(rel, entry);
                        }
                        boundary::Kind::Missing => {}
                        boundary::Kind::Symlink => {
                            files
                                .problems
                                .insert(rel, boundary::Refusal::Symlink.to_string());
                        }
                        boundary::Kind::Other(k) => {
                            files
                                .problems
                                .insert(rel, boundary::Refusal::NotRegular(k).to_string());
                        }
                    }
                }
            }
        }
        files
    }

    /// Paths under `environments/` and `templates/` that kiln refuses to read, with why:
    /// links (never followed), FIFOs, devices, files over the size limit, folders that
    /// cannot be listed. Every one is an error: what it holds is unknown. They are not
    /// among the files ([`Files::get`] does not see them).
    pub fn problems(&self) -> impl Iterator<Item = (&str, &str)> {
        self.problems.iter().map(|(p, w)| (p.as_str(), w.as_str()))
    }

    /// Reads the same files from a git revision, without touching the working tree.
    pub fn from_git(rev: &Revision) -> crate::Result<Files> {
        let mut files = Files {
            origin: Origin::Git(rev.name().to_owned()),
            env_dir_error: None,
            entries: BTreeMap::new(),
            problems: BTreeMap::new(),
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
                    // A link (or submodule) in git: refused as in the working tree.
                    let why = "it is not a regular file in git (kiln does not follow links)";
                    files.problems.insert(entry.path, why.to_owned());
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
