//! SARIF 2.1.0, in the shape GitHub code scanning accepts: one run, the rules that fired
//! under `tool.driver.rules`, one result per finding with a region and a partial
//! fingerprint (our content-based fingerprint, so alerts survive rebases).

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{presented, ReportOptions};
use crate::{
    finding::Finding,
    sink::{FindingSink, ScanSummary},
};
use secretgate_patterns::Severity;

/// Collects findings and writes one SARIF log at the end.
pub struct SarifWriter<W: Write> {
    out: W,
    options: ReportOptions,
    findings: Vec<Finding>,
}

impl<W: Write> SarifWriter<W> {
    /// A SARIF writer.
    pub fn new(out: W, options: ReportOptions) -> Self {
        SarifWriter { out, options, findings: Vec::new() }
    }
}

/// GitHub's `security-severity` scale (0-10): critical >= 9, high >= 7, medium >= 4.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// The finding's path from the work tree root, which is what code scanning resolves a
/// location against: the path its fingerprint names, unless that lies outside the root
/// (absolute), when the path as given is all there is.
fn root_relative_path(f: &Finding, root_in_repository: &str) -> String {
    match crate::finding::split_fingerprint(&f.fingerprint) {
        Some((path, _, _)) if !path.is_empty() && !path.starts_with('/') => {
            format!("{root_in_repository}{path}")
        }
        _ => f.path.clone(),
    }
}

/// A relative URI reference for a path: forward slashes, no leading `./`, and the
/// characters that would break a URI percent-encoded.
fn path_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.trim_start_matches("./");
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'/'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'+'
            | b'@'
            | b'='
            | b',' => uri.push(byte as char),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

impl<W: Write> FindingSink for SarifWriter<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        self.findings.push(presented(finding, &self.options));
        Ok(())
    }

    fn finish(&mut self, _summary: &ScanSummary) -> io::Result<()> {
        let mut rule_ids: Vec<&str> = self.findings.iter().map(|f| f.rule_id.as_str()).collect();
        rule_ids.sort_unstable();
        rule_ids.dedup();
        let rules: Vec<Value> = rule_ids
            .iter()
            .map(|id| {
                let f = self.findings.iter().find(|f| f.rule_id == *id).expect("every id comes from a finding");
                let help = f.revoke.as_deref().map_or_else(
                    || "Remove the secret from the code and from git history, then rotate it.".to_string(),
                    |r| format!("Remove the secret from the code and from git history, then revoke or rotate it: {r}"),
                );
                json!({
                    "id": id,
                    "name": id,
                    "shortDescription": { "text": f.description },
                    "fullDescription": { "text": f.description },
                    "help": { "text": help },
                    "defaultConfiguration": { "level": level(f.severity) },
                    "properties": {
                        "tags": ["security", "secret"],
                        "security-severity": security_severity(f.severity),
                    },
                })
            })
            .collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut message = format!("{} found: {}", f.description, f.secret);
                if !f.decoded.is_empty() {
                    message.push_str(&format!(" (decoded from {})", f.decoded_chain()));
                }
                if let Some(commit) = &f.commit {
                    message.push_str(&format!(" (introduced in commit {commit})"));
                }
                let mut result = json!({
                    "ruleId": f.rule_id,
                    "ruleIndex": rule_ids.binary_search(&f.rule_id.as_str()).expect("rule listed above"),
                    "level": level(f.severity),
                    "message": { "text": message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": path_uri(&root_relative_path(f, &self.options.root_in_repository)) },
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column,
                            },
                        },
                    }],
                    "partialFingerprints": { "secretgate/v1": f.fingerprint },
                });
                if !f.decoded.is_empty() {
                    // The region is the encoded text's; say how the secret was encoded.
                    result["properties"] = json!({ "decoded": f.decoded });
                }
                result
            })
            .collect();
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "secretgate",
                        "semanticVersion": env!("CARGO_PKG_VERSION"),
                        "informationUri": "https://github.com/secretgate/secretgate",
                        "rules": rules,
                    },
                },
                "results": results,
            }],
        });
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::path_uri;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(path_uri("./src/a b.py"), "src/a%20b.py");
        assert_eq!(path_uri("dir\\x#1.txt"), "dir/x%231.txt");
    }
}
