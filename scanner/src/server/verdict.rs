//! The verdict on a push: accept or reject, the lines the pusher reads, and the audit record.
//! Bypasses and over-budget pushes are decided here, once for the daemon and the fallback.

use super::{
    audit::AuditRecord,
    config::{OverBudget, ServerSettings},
    protocol::{Request, Response, Verdict, MAX_LISTED_FINDINGS, VERSION},
};
use crate::{finding::redact, report::text::printable, source::git::receive::PushScan, Finding};

/// The audit reason of the one accept that needs no audit record to be let in.
const CLEAN: &str = "clean";

/// The push option that asks for a bypass: `git push -o secretgate.bypass="reason"`.
pub const BYPASS_OPTION: &str = "secretgate.bypass";

/// How a push's scan ended.
#[derive(Debug)]
pub enum Outcome {
    /// Scanned completely.
    Scanned(PushScan),
    /// Not scanned within the budget (time, bytes or concurrency), for this reason.
    OverBudget(String),
    /// The scan failed.
    Failed(String),
    /// Not scanned, by policy (the daemon was unreachable and the fallback accepts).
    Unscanned(String),
}

/// The verdict, what to tell the pusher, and what to audit.
#[derive(Debug)]
pub struct Decision {
    /// The answer for the hook.
    pub response: Response,
    /// The audit line.
    pub audit: AuditRecord,
}

impl Decision {
    /// Appends the audit line to `log`. A push let in only because it is audited (a bypass,
    /// or a policy that accepts what was not scanned) is rejected when its line cannot be
    /// written: "this is audited" must be true. The error is returned for the caller to log.
    pub fn audit_to(&mut self, log: &std::path::Path) -> std::io::Result<()> {
        let written = self.audit.append_to(log);
        let needs_audit = self.audit.verdict == Verdict::Accept && self.audit.reason != CLEAN;
        if written.is_err() && needs_audit {
            self.response.verdict = Some(Verdict::Reject);
            self.audit.verdict = Verdict::Reject;
            self.audit.reason = format!("{} but the audit log is not writable", self.audit.reason);
            self.response.message.push(
                "secretgate: push rejected after all: it may only be accepted with an audit record, and the \
                 server cannot write its audit log (tell the administrators)."
                    .into(),
            );
        }
        written
    }
}

/// The longest run of token characters a bypass reason keeps whole: a reason is prose, and a
/// pusher who pastes the secret into it must not put the secret in the audit log.
const REASON_TOKEN_RUN: usize = 16;

/// The bypass reason the push options carry, if any (`None` if none was asked), with
/// token-like runs redacted.
pub fn bypass_reason(push_options: &[String]) -> Option<String> {
    push_options.iter().rev().find_map(|option| {
        let (key, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
        (key.trim() == BYPASS_OPTION).then(|| redact_token_runs(value.trim().trim_matches('"')))
    })
}

/// `reason` with each run of more than [`REASON_TOKEN_RUN`] token characters cut to its
/// redacted form (`AKIA…`).
fn redact_token_runs(reason: &str) -> String {
    let is_token = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~".contains(c);
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(start) = rest.find(is_token) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c: char| !is_token(c)).unwrap_or(run.len());
        if len > REASON_TOKEN_RUN {
            out.push_str(&redact(&run[..len]));
        } else {
            out.push_str(&run[..len]);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    out
}

/// Decides on a push.
pub fn decide(
    settings: &ServerSettings,
    request: &Request,
    outcome: Outcome,
    mode: &str,
    elapsed_ms: u64,
) -> Decision {
    let bypass = bypass_reason(&request.push_options);
    let bypass_granted = settings.bypass.allowed && bypass.as_deref().is_some_and(|r| !r.is_empty());
    let mut audit = AuditRecord::new(request, mode, elapsed_ms);
    let mut message = Vec::new();
    let mut findings = Vec::new();
    let verdict = match outcome {
        Outcome::Scanned(scan) => {
            audit.commits = scan.commits;
            audit.blobs = scan.summary.inputs;
            audit.bytes = scan.summary.bytes;
            audit.findings = scan.findings.len() as u64;
            audit.suppressed_by_repository = scan.summary.ignored + scan.summary.baselined;
            audit.fingerprints = scan.findings.iter().map(|f| f.fingerprint.clone()).collect();
            let total = scan.findings.len();
            findings = scan.findings.into_iter().take(MAX_LISTED_FINDINGS).map(redacted).collect();
            // Say what was not scanned (binary files, blobs over the size limit): never silently.
            let skipped: Vec<String> = scan
                .summary
                .skipped
                .iter()
                .filter(|(reason, _)| **reason != crate::sink::SkipReason::Allowlisted)
                .map(|(reason, skipped)| format!("{} {}", skipped.count, reason.describe()))
                .collect();
            if !skipped.is_empty() {
                message.push(format!("secretgate: not scanned: {}.", skipped.join(", ")));
                audit.not_scanned = skipped;
            }
            if findings.is_empty() {
                audit.reason = CLEAN.into();
                Verdict::Accept
            } else if bypass_granted {
                audit.reason = "bypass".into();
                audit.bypass = bypass.clone();
                message.push(format!(
                    "secretgate: {} found; push ACCEPTED by bypass (\"{}\"); this is audited.",
                    count(total),
                    bypass.as_deref().unwrap_or_default()
                ));
                list(&findings, total, &mut message);
                Verdict::Accept
            } else {
                audit.reason = "findings".into();
                message.push(format!("secretgate: push rejected: {} in the pushed commits.", count(total)));
                list(&findings, total, &mut message);
                advise(&mut message, settings, bypass.as_deref());
                Verdict::Reject
            }
        }
        Outcome::OverBudget(why) => {
            audit.reason = format!("over budget: {why}");
            if bypass_granted {
                audit.bypass = bypass.clone();
                message.push(format!(
                    "secretgate: push not scanned ({why}); ACCEPTED by bypass; this is audited."
                ));
                Verdict::Accept
            } else if settings.budget.over_budget == OverBudget::Accept {
                message.push(format!("secretgate: push ACCEPTED UNSCANNED: {why} (server policy; audited)."));
                Verdict::Accept
            } else {
                message.push(format!(
                    "secretgate: push rejected: it could not be scanned within the server's budget ({why})."
                ));
                message.push(
                    "secretgate: split it into smaller pushes, older commits first \
                     (git push origin <commit>:refs/heads/<branch>), then push the rest."
                        .into(),
                );
                Verdict::Reject
            }
        }
        Outcome::Failed(why) => {
            audit.reason = format!("error: {why}");
            message.push(format!("secretgate: push rejected: the secret scan failed: {why}"));
            message
                .push("secretgate: try again; if it keeps failing, tell the server's administrators.".into());
            Verdict::Reject
        }
        Outcome::Unscanned(why) => {
            audit.reason = format!("unscanned: {why}");
            message.push(format!("secretgate: push ACCEPTED UNSCANNED: {why} (server policy; audited)."));
            Verdict::Accept
        }
    };
    audit.verdict = verdict;
    // A bypass asked for on a rejected push (not allowed here, or without a reason) is
    // audited too: who tried to get past the scan matters as much as who did.
    if verdict == Verdict::Reject {
        audit.bypass_refused = bypass;
    }
    Decision {
        response: Response { version: VERSION, verdict: Some(verdict), message, findings, error: None },
        audit,
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 secret".into()
    } else {
        format!("{n} secrets")
    }
}

fn redacted(mut finding: Finding) -> Finding {
    finding.secret = redact(&finding.secret);
    finding
}

/// At most this many findings are listed to the pusher; the audit log has them all.
const LISTED: usize = 30;

/// Two lines per finding: commit, place, rule, redacted secret; its fingerprint.
fn list(findings: &[Finding], total: usize, message: &mut Vec<String>) {
    if total > LISTED {
        message.push(format!(
            "secretgate:   (the first {LISTED} of {total}; `secretgate git` on your clone lists them all)"
        ));
    }
    for finding in findings.iter().take(LISTED) {
        // Content a ref points at directly has no commit; its path names the ref.
        let commit = finding
            .commit
            .as_deref()
            .map_or(String::new(), |c| format!("commit {}  ", &c[..c.len().min(12)]));
        message.push(format!(
            "secretgate:   {commit}{}:{}  {}  {}",
            printable(&finding.path),
            finding.line,
            finding.rule_id,
            printable(&finding.secret)
        ));
        // What `.secretgateignore` takes, as the advice below says.
        message.push(format!("secretgate:     fingerprint {}", printable(&finding.fingerprint)));
    }
}

fn advise(message: &mut Vec<String>, settings: &ServerSettings, asked: Option<&str>) {
    message.push("secretgate: to fix it:".into());
    message.push(
        "secretgate:   1. remove the secret from the commits that add it (git rebase -i <base>, or \
         git commit --amend for the last one) and push again;"
            .into(),
    );
    message.push("secretgate:   2. revoke the credential: it has left your machine;".into());
    message.push(
        "secretgate:   3. if it is not a secret, add `secretgate:allow` in a comment on its line, or its \
         fingerprint to .secretgateignore, in the commit that adds it."
            .into(),
    );
    match (settings.bypass.allowed, asked) {
        (true, Some("")) => {
            message.push("secretgate: a bypass needs a reason: git push -o secretgate.bypass=\"why\"".into())
        }
        (true, _) => message
            .push("secretgate: to push anyway (audited): git push -o secretgate.bypass=\"reason\"".into()),
        (false, Some(_)) => message.push("secretgate: bypasses are not allowed on this server.".into()),
        (false, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bypass_reasons_come_from_push_options() {
        assert_eq!(
            bypass_reason(&["secretgate.bypass=test fixture".into()]).as_deref(),
            Some("test fixture")
        );
        assert_eq!(bypass_reason(&["secretgate.bypass=\"quoted\"".into()]).as_deref(), Some("quoted"));
        assert_eq!(bypass_reason(&["secretgate.bypass".into()]).as_deref(), Some(""));
        assert_eq!(bypass_reason(&["ci.skip".into()]), None);
        // A pasted secret does not reach the audit log; prose and ticket ids stay.
        let pasted =
            format!("false positive, the key {}{} is revoked (SEC-1234)", "AKIA", "QX3VZ7N2KD5TPLM4");
        assert_eq!(
            bypass_reason(&[format!("secretgate.bypass={pasted}")]).as_deref(),
            Some("false positive, the key AKIA… is revoked (SEC-1234)")
        );
    }

    #[test]
    fn a_finding_is_two_lines_of_the_message_whatever_its_path() {
        let finding = Finding::for_test("a\nb.env", "stripe-live-secret-key", "sk_l…", 3);
        let mut message = Vec::new();
        list(std::slice::from_ref(&finding), 1, &mut message);
        assert_eq!(
            message,
            [
                "secretgate:   a\\nb.env:3  stripe-live-secret-key  sk_l…".to_string(),
                format!("secretgate:     fingerprint {}", printable(&finding.fingerprint))
            ]
        );
    }
}
