//! Deciding that a match is not to be reported: inline markers and path allowlists.

pub mod allowlist;
pub mod inline;
