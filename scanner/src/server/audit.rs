//! The audit log: one JSON line per push and verdict. It names the repository, the refs, the
//! pusher, counts and fingerprints; never a secret.

use std::{io::Write, path::Path};

use serde::Serialize;

use super::protocol::{Request, Verdict};
use crate::source::git::receive::RefUpdate;

/// One push, as audited.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// When the verdict was given (RFC 3339).
    pub time: String,
    /// The repository.
    pub repo: String,
    /// The ref updates.
    pub refs: Vec<RefUpdate>,
    /// Who pushed, as the git server says.
    pub pusher: Option<String>,
    /// Who scanned: `daemon`, or the hook's `fallback`.
    pub mode: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why: `clean`, `findings`, `bypass`, `over budget: …`, `error: …`, `unscanned: …`.
    pub reason: String,
    /// New commits scanned.
    pub commits: u64,
    /// Distinct blobs scanned.
    pub blobs: u64,
    /// Bytes of those blobs.
    pub bytes: u64,
    /// Findings.
    pub findings: u64,
    /// Findings the pushed tip's `.secretgateignore` or baseline suppressed.
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed_by_repository: u64,
    /// What was not scanned and why (`3 binary`, `1 over the size limit`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_scanned: Vec<String>,
    /// Their fingerprints (rule, path and a hash of the secret: never the secret).
    pub fingerprints: Vec<String>,
    /// The reason given for a bypass that was granted.
    pub bypass: Option<String>,
    /// The reason given (perhaps empty) for a bypass asked on a push that was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypass_refused: Option<String>,
    /// Time spent, in milliseconds.
    pub duration_ms: u64,
}

impl AuditRecord {
    /// A record for `request`, to be completed.
    pub fn new(request: &Request, mode: &str, duration_ms: u64) -> Self {
        AuditRecord {
            time: gix::date::Time::now_local_or_utc().format_or_unix(gix::date::time::format::ISO8601_STRICT),
            repo: request.repo.display().to_string(),
            refs: request.updates.clone(),
            pusher: request.pusher.clone(),
            mode: mode.to_string(),
            verdict: Verdict::Reject,
            reason: String::new(),
            commits: 0,
            blobs: 0,
            bytes: 0,
            findings: 0,
            suppressed_by_repository: 0,
            not_scanned: Vec::new(),
            fingerprints: Vec::new(),
            bypass: None,
            bypass_refused: None,
            duration_ms,
        }
    }

    /// Appends this record to the audit log at `path` (created private to its owner and
    /// group).
    pub fn append_to(&self, path: &Path) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
        // One write of a whole line: concurrent appenders do not interleave lines.
        options.open(path)?.write_all(&line)
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
