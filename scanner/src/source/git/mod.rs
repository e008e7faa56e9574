//! Git as a source of bytes to scan, read through `gix`: the staged changes of a commit being
//! made, the new commits of a push, and every blob of a repository's history.
//!
//! What is "new" is decided here, by diffing trees and lines; the scan itself is the same
//! [`crate::Scanner`] every other source uses.

pub mod added;
pub mod changes;
pub mod delta;
pub mod history;
pub mod packscan;
pub mod push;
pub mod receive;
pub mod repo;
pub mod scan;

pub use gix::ObjectId;

/// Something git-side went wrong. Messages name what was being read; they never hold a
/// secret (only ids, paths and gix's own message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The repository could not be opened or found.
    #[error("cannot open a git repository at {path}: {message}")]
    Open {
        /// Where we looked.
        path: String,
        /// Why it failed.
        message: String,
    },
    /// Reading objects or references failed.
    #[error("{context}: {message}")]
    Read {
        /// What was being read.
        context: String,
        /// gix's message.
        message: String,
    },
    /// The work was stopped before it ended (out of time).
    #[error("stopped before the end")]
    Cancelled,
    /// Input that git hands a hook is malformed.
    #[error("{0}")]
    Input(String),
}

/// Attaches what was being read to a gix error.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|err| Error::Read { context: what(), message: one_line(&err.to_string()) })
    }
}

fn one_line(message: &str) -> String {
    message.trim_end().replace('\n', " ")
}
