//! A finding: a secret located in an input, with everything a report or a verdict needs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use secretgate_patterns::Severity;

use crate::decode::Encoding;

/// A secret found at a place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule_id: String,
    /// What kind of credential it is.
    pub description: String,
    /// How bad a leak is.
    pub severity: Severity,
    /// The file (or `<stdin>`), as given or as walked.
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column (in bytes) of the secret's first byte.
    pub column: usize,
    /// 1-based line of the secret's last byte.
    pub end_line: usize,
    /// 1-based column (in bytes) just past the secret's last byte.
    pub end_column: usize,
    /// The secret, lossily decoded as UTF-8. Reports redact it unless asked not to.
    pub secret: String,
    /// Stable identity for ignore files and baselines; see [`fingerprint`].
    pub fingerprint: String,
    /// The commit that introduced it, in git sources.
    pub commit: Option<String>,
    /// That commit's author name.
    pub author: Option<String>,
    /// That commit's author email.
    pub email: Option<String>,
    /// That commit's author date (RFC 3339).
    pub date: Option<String>,
    /// How to revoke the credential, from the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<String>,
    /// The encodings the secret was decoded from, outermost first (`["base64"]`); empty,
    /// and left out of JSON, for a secret found as written. The location of a decoded
    /// secret is that of the encoded span in the input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<Encoding>,
    /// For a value read from a table: the line of the header naming its column. A commit
    /// that writes that header introduces the finding as much as one that writes the value.
    #[serde(skip)]
    pub header_line: Option<usize>,
}

impl Finding {
    /// The chain of encodings for people: `base64 > percent`; empty for a plain finding.
    pub fn decoded_chain(&self) -> String {
        self.decoded.iter().map(|e| e.name()).collect::<Vec<_>>().join(" > ")
    }

    /// The secret as reports show it: whole when `show` is set, redacted otherwise.
    pub fn display_secret(&self, show: bool) -> String {
        if show {
            self.secret.clone()
        } else {
            redact(&self.secret)
        }
    }
}

#[cfg(test)]
impl Finding {
    /// A finding of `rule` for `secret` on `line` of `path` (shown as is, fingerprinted
    /// without a leading `./`), for tests of what consumes findings.
    pub(crate) fn for_test(path: &str, rule: &str, secret: &str, line: usize) -> Finding {
        Finding {
            rule_id: rule.into(),
            description: String::new(),
            severity: secretgate_patterns::Severity::High,
            path: path.into(),
            line,
            column: 1,
            end_line: line,
            end_column: 2,
            secret: secret.into(),
            fingerprint: fingerprint(path.trim_start_matches("./"), rule, secret.as_bytes()),
            commit: None,
            author: None,
            email: None,
            date: None,
            revoke: None,
            decoded: Vec::new(),
            header_line: None,
        }
    }
}

/// Keeps the first characters of a secret and hides the rest: four characters (the
/// provider prefix of most tokens), fewer for short secrets so that at most a quarter
/// of the secret is ever shown.
pub fn redact(secret: &str) -> String {
    let shown = (secret.chars().count() / 4).min(4);
    let mut out: String = secret.chars().take(shown).collect();
    out.push('…');
    out
}

/// The short hash of a secret that fingerprints carry: the first 16 hex digits of its
/// SHA-256, enough to tell secrets apart and too little to recover a random one.
pub fn secret_hash(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A finding's fingerprint: `path:rule_id:secret_hash`.
///
/// It depends only on what was found and where the file lives, never on the commit or
/// the line, so an ignore entry or baseline entry survives rebases, squash merges,
/// cherry-picks and edits elsewhere in the file.
pub fn fingerprint(path: &str, rule_id: &str, secret: &[u8]) -> String {
    format!("{path}:{rule_id}:{}", secret_hash(secret))
}

/// A fingerprint's parts: `(path, rule_id, secret_hash)`. The path may itself hold `:`;
/// rule ids and hashes never do.
pub fn split_fingerprint(fingerprint: &str) -> Option<(&str, &str, &str)> {
    let mut parts = fingerprint.rsplitn(3, ':');
    let hash = parts.next()?;
    let rule = parts.next()?;
    let path = parts.next()?;
    Some((path, rule, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_at_most_a_quarter_and_four_chars() {
        assert_eq!(redact("ghp_0123456789abcdefghijklmnopqrstuvwxyz"), "ghp_…");
        assert_eq!(redact("hunter2x"), "hu…");
        assert_eq!(redact("abc"), "…");
    }

    #[test]
    fn fingerprint_ignores_line_and_commit_but_not_secret() {
        let a = fingerprint("src/a.py", "rule", b"s3cr3t-one");
        assert_eq!(a, fingerprint("src/a.py", "rule", b"s3cr3t-one"));
        assert_ne!(a, fingerprint("src/a.py", "rule", b"s3cr3t-two"));
        assert!(a.starts_with("src/a.py:rule:"));
        assert_eq!(a.len(), "src/a.py:rule:".len() + 16);
        let odd = fingerprint("C:/a:b.py", "rule", b"x");
        assert_eq!(split_fingerprint(&odd).map(|p| (p.0, p.1)), Some(("C:/a:b.py", "rule")));
    }
}
