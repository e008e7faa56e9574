//! secretgate's engine and everything both binaries share.
//!
//! Data flows one way:
//!
//! ```text
//! source (files | stdin | git)  ->  bytes + a path
//!    -> engine (keyword prefilter -> regexes in windows -> entropy/checksum/placeholders)
//!       + decode (base64, hex, %XX, escapes -> text -> the same engine, nested)
//!    -> scan (size and binary checks, lines and columns, inline markers, allowlists) -> Finding
//!    -> suppress::Suppressor (ignore files, commit allowlists, baseline)
//!    -> report writer (text | JSON | JSONL | SARIF), through a FindingSink
//! ```
//!
//! The [`engine`] knows nothing of files or git; [`source`]s know nothing of regexes;
//! [`report`] writers know only [`finding::Finding`] and [`sink::ScanSummary`].
#![deny(missing_docs)]

pub mod build;
pub mod check;
pub mod config;
pub mod decode;
pub mod engine;
pub mod finding;
pub mod locate;
pub mod paths;
pub mod report;
pub mod scan;
pub mod server;
pub mod sink;
pub mod source;
pub mod suppress;
pub mod utf16;

pub use finding::Finding;
pub use scan::{Scanner, ScannerBuilder, Worker};
pub use sink::{FindingSink, ScanSummary, SkipReason};
