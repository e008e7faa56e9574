//! secretgate's rules as data.
//!
//! A rule names the keywords that must occur near a secret, the regex that finds it, the
//! capture group holding it, and the checks (entropy, checksum, stopwords) it must pass.
//! Every rule carries examples that must match and negative examples that must not.
//!
//! This crate only parses and validates rule files (`schema`, `load`) and embeds the
//! built-in set (`builtin`). It knows nothing of regex engines or automata: `scanner`
//! compiles what this crate hands over.
#![deny(missing_docs)]

pub mod allowlist;
pub mod builtin;
pub mod gitleaks;
pub mod go_regex;
pub mod load;
pub mod schema;

pub use allowlist::AllowlistSpec;
pub use load::{parse_rule_file, Error};
pub use schema::{Checksum, Reader, Rule, Severity};
