//! Other tools' baselines, used as they are (never converted: a detect-secrets baseline
//! holds only a SHA-1 of each secret, from which no secretgate fingerprint can be made).
//!
//! - detect-secrets `.secrets.baseline`: `{"results": {"<file>": [{"hashed_secret": "<sha1
//!   of the secret>", "line_number": N, "type": ...}]}}`. A finding matches an entry with the
//!   same root-relative file name and the SHA-1 of its secret.
//! - gitleaks JSON report (`gitleaks detect --report-format json`): `[{"RuleID", "File",
//!   "Secret", "StartLine", "Commit", "Fingerprint", ...}]`. A finding matches an entry with
//!   the same file and secret; where the report was redacted (`--redact`: the secret reads
//!   `REDACTED`), the same file and line. Rule ids are not compared: the tools name
//!   credentials differently.

use std::collections::HashSet;

use serde::Deserialize;

use super::sha1::sha1_hex;
use crate::finding::{secret_hash, split_fingerprint, Finding};

/// A baseline written by another tool.
#[derive(Debug)]
pub enum ForeignBaseline {
    /// detect-secrets: `(file, sha1 of secret)`.
    DetectSecrets(HashSet<(String, String)>),
    /// A gitleaks report: `(file, secret hash)` and, for redacted entries, `(file, line)`.
    Gitleaks {
        /// Entries with their secret.
        by_secret: HashSet<(String, String)>,
        /// Redacted entries.
        by_line: HashSet<(String, usize)>,
    },
}

#[derive(Deserialize)]
struct DetectSecretsEntry {
    hashed_secret: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GitleaksEntry {
    file: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    start_line: usize,
}

impl ForeignBaseline {
    /// Recognises and reads another tool's baseline; `None` if it is neither format.
    pub fn parse(value: &serde_json::Value) -> Result<Option<Self>, String> {
        if let Some(results) = value.get("results").and_then(serde_json::Value::as_object) {
            let mut set = HashSet::new();
            for (file, entries) in results {
                let entries: Vec<DetectSecretsEntry> = serde_json::from_value(entries.clone())
                    .map_err(|err| format!("detect-secrets results for {file:?}: {err}"))?;
                for entry in entries {
                    set.insert((normalize(file), entry.hashed_secret.to_ascii_lowercase()));
                }
            }
            return Ok(Some(ForeignBaseline::DetectSecrets(set)));
        }
        if let Some(items) = value.as_array() {
            let (mut by_secret, mut by_line) = (HashSet::new(), HashSet::new());
            for (index, item) in items.iter().enumerate() {
                let entry: GitleaksEntry = serde_json::from_value(item.clone())
                    .map_err(|err| format!("gitleaks report entry {}: {err}", index + 1))?;
                let file = normalize(&entry.file);
                if entry.secret.is_empty() || entry.secret.contains("REDACTED") {
                    by_line.insert((file, entry.start_line));
                } else {
                    by_secret.insert((file, secret_hash(entry.secret.as_bytes())));
                }
            }
            return Ok(Some(ForeignBaseline::Gitleaks { by_secret, by_line }));
        }
        Ok(None)
    }

    /// Whether `finding` is in it.
    pub fn contains(&self, finding: &Finding) -> bool {
        let Some((path, _, hash)) = split_fingerprint(&finding.fingerprint) else {
            return false;
        };
        match self {
            ForeignBaseline::DetectSecrets(set) => {
                set.contains(&(path.to_string(), sha1_hex(finding.secret.as_bytes())))
            }
            ForeignBaseline::Gitleaks { by_secret, by_line } => {
                by_secret.contains(&(path.to_string(), hash.to_string()))
                    || by_line.contains(&(path.to_string(), finding.line))
            }
        }
    }
}

/// File names as fingerprints write them: `/` separators, no leading `./`.
fn normalize(file: &str) -> String {
    file.replace('\\', "/").trim_start_matches("./").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, secret: &str, line: usize) -> Finding {
        Finding::for_test(path, "ours", secret, line)
    }

    #[test]
    fn detect_secrets_matches_file_and_sha1() {
        let secret = format!("{}-{}", "k3y", "value");
        let json = serde_json::json!({
            "version": "1.5.0",
            "plugins_used": [],
            "results": {"./conf/app.ini": [{"type": "Secret Keyword", "filename": "conf/app.ini",
                "hashed_secret": sha1_hex(secret.as_bytes()), "is_verified": false, "line_number": 4}]}
        });
        let baseline = ForeignBaseline::parse(&json).unwrap().unwrap();
        assert!(baseline.contains(&finding("conf/app.ini", &secret, 99)));
        assert!(!baseline.contains(&finding("conf/other.ini", &secret, 4)));
        assert!(!baseline.contains(&finding("conf/app.ini", "different", 4)));
    }

    #[test]
    fn gitleaks_report_matches_secret_or_redacted_line() {
        let secret = format!("{}-{}", "tok", "value");
        let json = serde_json::json!([
            {"RuleID": "generic-api-key", "File": "a.py", "Secret": secret, "StartLine": 3, "Fingerprint": "a.py:generic-api-key:3"},
            {"RuleID": "x", "File": "b.py", "Secret": "REDACTED", "StartLine": 8}
        ]);
        let baseline = ForeignBaseline::parse(&json).unwrap().unwrap();
        assert!(baseline.contains(&finding("a.py", &secret, 30)));
        assert!(!baseline.contains(&finding("a.py", "other", 3)));
        assert!(baseline.contains(&finding("b.py", "anything", 8)));
        assert!(!baseline.contains(&finding("b.py", "anything", 9)));
    }
}
