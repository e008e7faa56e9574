//! Git as a source of bytes to scan, read through `gix`: the staged changes of a commit being
//! made, the new commits of a push, and every blob of a repository's history.
//!
//! What is "new" is decided here, by diffing trees and lines; the scan itself is the same
//! [`crate::Scanner`] every other source uses.

pub mod added;
pub mod changes;
pub mod delta;
pub mod deltascan;
pub mod history;
pub mod packscan;
pub mod packwalk;
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

/// The non-blank lines of a hook's standard input, each split into `N` fields whose
/// positions in `ids` must be object ids; a line of another shape is an error naming the
/// hook, the line and the shape expected.
pub(crate) fn hook_input<'a, const N: usize>(
    input: &'a str,
    hook: &str,
    shape: &str,
    ids: &[usize],
) -> Result<Vec<[&'a str; N]>, Error> {
    let mut lines = Vec::new();
    for (number, line) in input.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad =
            || Error::Input(format!("{hook} input line {}: expected `{shape}`, got `{line}`", number + 1));
        let fields: [&str; N] = line.split_whitespace().collect::<Vec<_>>().try_into().map_err(|_| bad())?;
        if ids.iter().any(|&i| ObjectId::from_hex(fields[i].as_bytes()).is_err()) {
            return Err(bad());
        }
        lines.push(fields);
    }
    Ok(lines)
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

/// `err` and each cause it wraps, on one line: gix's top message ("Repository configuration
/// could not be loaded") often leaves the reason to a cause.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut message = one_line(&err.to_string());
    let mut cause = err.source();
    while let Some(inner) = cause {
        let text = one_line(&inner.to_string());
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = inner.source();
    }
    message
}
