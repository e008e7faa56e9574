//! Report writers: findings into text for people, or JSON, JSON Lines and SARIF for
//! machines. Each writer is a [`crate::sink::FindingSink`]; writers know [`Finding`] and
//! [`crate::sink::ScanSummary`], nothing of how a finding was found.

pub mod json;
pub mod sarif;
pub mod text;

use std::io::Write;

use crate::{finding::Finding, sink::FindingSink};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON array of findings.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// SARIF 2.1.0, as GitHub code scanning accepts it.
    Sarif,
}

/// Writer options that do not depend on the format.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Print secrets whole instead of redacted.
    pub show_secrets: bool,
    /// Use ANSI colours (text only).
    pub color: bool,
    /// Where the root that fingerprints name files from lies inside the repository
    /// (`services/api/` when a configuration there was used; empty at the work tree root):
    /// SARIF locations are given from the repository's root, as code scanning reads them.
    pub root_in_repository: String,
}

/// A writer for `format` over `out`.
pub fn writer<'w>(
    format: Format,
    options: ReportOptions,
    out: Box<dyn Write + 'w>,
) -> Box<dyn FindingSink + 'w> {
    match format {
        Format::Text => Box::new(text::TextWriter::new(out, options)),
        Format::Json => Box::new(json::JsonWriter::new(out, options, false)),
        Format::Jsonl => Box::new(json::JsonWriter::new(out, options, true)),
        Format::Sarif => Box::new(sarif::SarifWriter::new(out, options)),
    }
}

/// `finding` with its secret redacted unless `show_secrets`.
fn presented(finding: &Finding, options: &ReportOptions) -> Finding {
    let mut shown = finding.clone();
    shown.secret = finding.display_secret(options.show_secrets);
    shown
}
