//! [`OutputTree`]: what a build produces, in memory, before anything touches the disk.

use std::collections::BTreeMap;

/// One generated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Whether the file is a script to be marked executable.
    pub executable: bool,
    /// The environment the file belongs to, or `None` for files shared by environments.
    pub env: Option<String>,
}

/// Paths (relative to `out/`, `/`-separated) → generated files, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputTree {
    files: BTreeMap<String, OutputFile>,
}

impl OutputTree {
    /// Adds a file. Returns the previous content when the path was already produced,
    /// which is a bug in a renderer (two objects in one file).
    pub fn insert(&mut self, path: impl Into<String>, file: OutputFile) -> Option<OutputFile> {
        self.files.insert(path.into(), file)
    }

    /// Adds a regular file belonging to `env` (or shared when `None`).
    pub fn add(&mut self, path: impl Into<String>, bytes: Vec<u8>, env: Option<&str>) {
        let path = path.into();
        let previous = self.insert(
            path.clone(),
            OutputFile {
                bytes,
                executable: false,
                env: env.map(str::to_owned),
            },
        );
        debug_assert!(previous.is_none(), "two renderers wrote {path}");
    }

    /// Adds an executable script.
    pub fn add_script(&mut self, path: impl Into<String>, bytes: Vec<u8>, env: Option<&str>) {
        self.insert(
            path,
            OutputFile {
                bytes,
                executable: true,
                env: env.map(str::to_owned),
            },
        );
    }

    /// Moves every file of `other` into this tree.
    pub fn merge(&mut self, other: OutputTree) {
        self.files.extend(other.files);
    }

    /// The files, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &OutputFile)> {
        self.files.iter()
    }

    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&OutputFile> {
        self.files.get(path)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Keeps only the files `keep` returns true for.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &OutputFile) -> bool) {
        self.files.retain(|p, f| keep(p, f));
    }
}
