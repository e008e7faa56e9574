//! Where results go: the [`FindingSink`] trait and the [`ScanSummary`] of a run.

use std::{collections::BTreeMap, time::Duration};

use serde::Serialize;

use crate::finding::Finding;

/// Why an input was not scanned. Never silent: each is counted in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A NUL byte near the start: binary content.
    Binary,
    /// Larger than the configured size limit.
    TooLarge,
    /// Matched a path allowlist entry.
    Allowlisted,
    /// Could not be read.
    Unreadable,
}

impl SkipReason {
    /// A short phrase for people.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "over the size limit",
            SkipReason::Allowlisted => "allowlisted",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

/// Inputs skipped for one reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// How many inputs.
    pub count: u64,
    /// Their bytes (as far as known without reading them).
    pub bytes: u64,
}

/// What a run did: inputs and bytes scanned, what was skipped and why, what was found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanSummary {
    /// Inputs scanned (files, blobs).
    pub inputs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Inputs not scanned, by reason.
    pub skipped: BTreeMap<SkipReason, Skipped>,
    /// Findings reported.
    pub findings: u64,
    /// Findings suppressed by an inline marker.
    pub suppressed: u64,
    /// Findings an allowlist of the configuration allowed.
    pub allowlisted: u64,
    /// Findings an ignore file entry covered.
    pub ignored: u64,
    /// Findings already in the baseline.
    pub baselined: u64,
    /// Errors met on the way (each also reported on its own).
    pub errors: u64,
    /// Inputs in which some encoded spans were left undecoded because the decoded-bytes
    /// cap per input was reached (their plain text was still scanned).
    pub decode_capped: u64,
    /// Wall time of the run.
    #[serde(serialize_with = "as_seconds")]
    pub elapsed: Duration,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl ScanSummary {
    /// Records one skipped input.
    pub fn skip(&mut self, reason: SkipReason, bytes: u64) {
        let entry = self.skipped.entry(reason).or_default();
        entry.count += 1;
        entry.bytes += bytes;
    }

    /// Adds another summary's counts into this one (the elapsed time is kept).
    pub fn merge(&mut self, other: &ScanSummary) {
        self.inputs += other.inputs;
        self.bytes += other.bytes;
        for (reason, skipped) in &other.skipped {
            let entry = self.skipped.entry(*reason).or_default();
            entry.count += skipped.count;
            entry.bytes += skipped.bytes;
        }
        self.findings += other.findings;
        self.suppressed += other.suppressed;
        self.allowlisted += other.allowlisted;
        self.ignored += other.ignored;
        self.baselined += other.baselined;
        self.errors += other.errors;
        self.decode_capped += other.decode_capped;
    }
}

/// Receives the results of a scan, in order. Report writers and the daemon's verdict
/// builder implement it; the scan never learns who listens.
pub trait FindingSink {
    /// Called once before any finding.
    fn begin(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// Called for each finding.
    fn finding(&mut self, finding: &Finding) -> std::io::Result<()>;
    /// Called once after the last finding, with the run's summary.
    fn finish(&mut self, summary: &ScanSummary) -> std::io::Result<()>;
}

impl<S: FindingSink + ?Sized> FindingSink for &mut S {
    fn begin(&mut self) -> std::io::Result<()> {
        (**self).begin()
    }
    fn finding(&mut self, finding: &Finding) -> std::io::Result<()> {
        (**self).finding(finding)
    }
    fn finish(&mut self, summary: &ScanSummary) -> std::io::Result<()> {
        (**self).finish(summary)
    }
}

impl<S: FindingSink + ?Sized> FindingSink for Box<S> {
    fn begin(&mut self) -> std::io::Result<()> {
        (**self).begin()
    }
    fn finding(&mut self, finding: &Finding) -> std::io::Result<()> {
        (**self).finding(finding)
    }
    fn finish(&mut self, summary: &ScanSummary) -> std::io::Result<()> {
        (**self).finish(summary)
    }
}
