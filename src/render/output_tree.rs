//! [`OutputTree`]: what a build produces, in memory, before anything touches the disk.

use crate::layout::Provenance;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One generated file.
#[derive(Clone, Debug)]
pub struct OutputFile {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Whether the file is a script to be marked executable.
    pub executable: bool,
    /// Where in the model the file comes from (target, environments, cluster or
    /// host, app), set by the renderer that writes it; the environment it belongs to
    /// is [`OutputFile::env`].
    pub provenance: Provenance,
    /// The YAML document `bytes` hold, as data, when the renderer built the file from
    /// a value it had at hand ([`crate::render::yaml::document`]): Kubernetes objects,
    /// kustomizations, patches. Checks over the output read this instead of parsing
    /// the bytes again, which costs far more than rendering them; a test proves that
    /// it equals what parsing the bytes gives.
    pub data: Option<Arc<Value>>,
}

/// Files are equal when their bytes, mode and provenance are: `data` is what the
/// bytes say.
impl PartialEq for OutputFile {
    fn eq(&self, other: &Self) -> bool {
        (&self.bytes, self.executable, &self.provenance)
            == (&other.bytes, other.executable, &other.provenance)
    }
}

impl Eq for OutputFile {}

impl OutputFile {
    /// The environment the file belongs to, or `None` for files shared by environments.
    pub fn env(&self) -> Option<&str> {
        self.provenance.env.as_deref()
    }

    /// The file's one YAML document as data: the value the renderer kept, or else
    /// the bytes parsed (`None` when they are not one YAML document).
    pub fn data(&self) -> Option<Cow<'_, Value>> {
        if let Some(data) = &self.data {
            return Some(Cow::Borrowed(data));
        }
        let text = std::str::from_utf8(&self.bytes).ok()?;
        serde_saphyr::from_str::<Value>(text).ok().map(Cow::Owned)
    }

    /// Like [`OutputFile::data`], shared.
    pub fn shared_data(&self) -> Option<Arc<Value>> {
        match &self.data {
            Some(data) => Some(Arc::clone(data)),
            None => self.data().map(|d| Arc::new(d.into_owned())),
        }
    }
}

/// What a renderer hands over for one file: its bytes, and the YAML document they
/// hold when the renderer has it as a value (see [`OutputFile::data`]).
#[derive(Clone, Debug, Default)]
pub struct Contents {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The document, as data.
    pub data: Option<Value>,
}

impl From<Vec<u8>> for Contents {
    fn from(bytes: Vec<u8>) -> Self {
        Contents { bytes, data: None }
    }
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

    /// Adds a regular file (its path from [`crate::layout`]) coming from `from`.
    pub fn add(
        &mut self,
        path: impl Into<String>,
        contents: impl Into<Contents>,
        from: &Provenance,
    ) {
        let path = path.into();
        let Contents { bytes, data } = contents.into();
        let previous = self.insert(
            path.clone(),
            OutputFile {
                bytes,
                executable: false,
                provenance: from.clone(),
                data: data.map(Arc::new),
            },
        );
        debug_assert!(previous.is_none(), "two renderers wrote {path}");
    }

    /// Adds an executable script.
    pub fn add_script(&mut self, path: impl Into<String>, bytes: Vec<u8>, from: &Provenance) {
        self.insert(
            path,
            OutputFile {
                bytes,
                executable: true,
                provenance: from.clone(),
                data: None,
            },
        );
    }

    /// Moves every file of `other` into this tree.
    pub fn merge(&mut self, other: OutputTree) {
        self.files.extend(other.files);
    }

    /// Moves every file of every tree into this one, in one pass (as
    /// [`OutputTree::merge`] one after the other would, but without inserting files
    /// one by one).
    pub fn merge_all(&mut self, trees: impl IntoIterator<Item = OutputTree>) {
        let mut all: Vec<(String, OutputFile)> =
            std::mem::take(&mut self.files).into_iter().collect();
        for tree in trees {
            all.extend(tree.files);
        }
        // Collecting sorts (stably, so the last of equal paths wins, as with `merge`).
        self.files = all.into_iter().collect();
    }

    /// The files, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &OutputFile)> {
        self.files.iter()
    }

    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&OutputFile> {
        self.files.get(path)
    }

    /// Whether some file is under the folder `dir` (no trailing `/`).
    pub fn has_dir(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_dir_means_a_file_below_that_folder() {
        let mut t = OutputTree::default();
        t.add("a/b/c.yaml", b"x".to_vec(), &Provenance::default());
        t.add("a/bc", b"x".to_vec(), &Provenance::default());
        assert!(t.has_dir("a") && t.has_dir("a/b"));
        assert!(!t.has_dir("a/b/c.yaml") && !t.has_dir("a/bc") && !t.has_dir("b"));
    }
}
