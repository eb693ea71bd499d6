//! Source files and spans: every diagnostic points into a file kept here.
//!
//! A [`Span`] is a file id plus a byte range. Line and column are worked out only
//! when a diagnostic is printed, from the line starts recorded per file.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte (equal to `start` for a point).
    pub end: u32,
}

impl Span {
    /// A span covering `start..end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            file,
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// The byte range as `usize`s.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One loaded file: its display path, text and line starts.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as shown to the user (relative to the project root when possible).
    pub path: PathBuf,
    /// Full text (lossily decoded if the file was not UTF-8).
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// `range` shrunk to the text and widened to character boundaries, so that a span
    /// computed from bytes that were not valid UTF-8 can never split a character.
    pub fn clamp(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let len = self.text.len();
        let mut start = range.start.min(len);
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = range.end.clamp(start, len);
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        start..end
    }

    /// The whole lines that hold every one of `ranges` (each already [`clamp`]ed):
    /// the byte range from the start of the first such line to the end of the last
    /// (with its newline), and the 1-based number of its first line. Found by binary
    /// search over the line starts, so cutting an excerpt costs the excerpt's size, not
    /// the file's: a diagnostic renders in time proportional to the lines it shows.
    ///
    /// [`clamp`]: SourceFile::clamp
    pub fn excerpt(
        &self,
        ranges: impl IntoIterator<Item = std::ops::Range<usize>>,
    ) -> (std::ops::Range<usize>, usize) {
        let len = self.text.len();
        let (mut lo, mut hi) = (usize::MAX, 0);
        for r in ranges {
            lo = lo.min(r.start.min(len));
            hi = hi.max(r.end.min(len));
        }
        if lo > hi {
            return (0..0, 1);
        }
        // The renderer counts no line after a final newline: an offset at the very end
        // belongs to the last line.
        let line = |offset: usize| {
            if offset == len && self.text.ends_with('\n') {
                self.line_of(offset - 1)
            } else {
                self.line_of(offset)
            }
        };
        let (first, last) = (line(lo), line(hi));
        let start = self.line_starts[first];
        let end = self.line_starts.get(last + 1).copied().unwrap_or(len);
        (start..end, first + 1)
    }

    /// 0-based index of the line holding byte `offset` (at most the text's length).
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// Every source file seen in a run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile::new(path.into(), text));
        id
    }

    /// The file behind an id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The id of a file already added under this display path.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .and_then(|i| u32::try_from(i).ok())
            .map(FileId)
    }

    /// `path:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let file = self.file(span.file);
        let (line, col) = file.line_col(span.start as usize);
        format!("{}:{line}:{col}", file.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_characters() {
        let mut map = SourceMap::default();
        let id = map.add("a.yaml", "ab\nçd: x\n".to_owned());
        let f = map.file(id);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes: byte 6 is the ':' after "çd", the third character.
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(map.location(Span::new(id, 3, 4)), "a.yaml:2:1");
    }

    #[test]
    fn offsets_past_the_end_clamp_to_the_last_line() {
        let mut map = SourceMap::default();
        let id = map.add("a.yaml", "x\n".to_owned());
        assert_eq!(map.file(id).line_col(99), (2, 1));
    }

    #[test]
    fn clamp_never_splits_a_character_or_leaves_the_text() {
        let mut map = SourceMap::default();
        let id = map.add("a.yaml", "caf\u{fffd}\n".to_owned());
        let f = map.file(id);
        assert_eq!(f.clamp(3..4), 3..6);
        assert_eq!(f.clamp(4..5), 3..6);
        assert_eq!(f.clamp(50..60), 7..7);
    }
}
