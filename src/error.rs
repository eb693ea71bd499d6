//! Failures that have no place in a source file: the disk, the arguments, git.

use std::path::PathBuf;

/// A failure outside the model. Problems in the model are diagnostics instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What kiln was doing: "cannot read", "cannot write", ...
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// A git command failed or a revision does not exist.
    #[error("git: {0}")]
    Git(String),
    /// A path kiln refuses to read, write or delete (a link, a FIFO, a path from a
    /// file that leaves its folder): see [`crate::boundary`].
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The path, inside the project.
        path: PathBuf,
        /// Why.
        reason: crate::boundary::Refusal,
    },
    /// `out/kiln.lock` exists but cannot be understood.
    #[error("{} is not a kiln lock file: {reason}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// A refused path.
    pub fn refused(path: impl Into<PathBuf>, reason: crate::boundary::Refusal) -> Self {
        match reason {
            crate::boundary::Refusal::Io(source) => Error::Io {
                action: "cannot read",
                path: path.into(),
                source,
            },
            reason => Error::Refused {
                path: path.into(),
                reason,
            },
        }
    }

    /// An I/O error with its action and path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
