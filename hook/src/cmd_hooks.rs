//! `secretgate pre-commit` and `secretgate pre-push`: git's client-side hooks.

use std::{io::Read, io::Write, path::Path};

use anyhow::{Context, Result};
use secretgate_scanner::{
    config::LoadedConfig,
    source::git::{
        changes::{self, CommitDiffer},
        push, repo,
        scan::ChangeScanner,
    },
    Finding, ScanSummary, Scanner,
};

use crate::{
    cli::{OutputArgs, PreCommitArgs, PrePushArgs, SuppressArgs},
    setup, ExitStatus,
};

/// Scans what the commit being made adds: the index against `HEAD`.
pub fn pre_commit(args: PreCommitArgs) -> Result<ExitStatus> {
    let started = std::time::Instant::now();
    let repo = repo::discover(Path::new("."))?;
    let config = setup::load_repo_config(&args.config, &repo)?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let allowlist = config.path_allowlist()?;
    let staged = changes::staged(&repo)?;
    let mut summary = ScanSummary::default();
    let mut findings = Vec::new();
    let mut worker = scanner.worker();
    ChangeScanner { scanner: &scanner, allowlist: &allowlist }.scan(
        &repo,
        &staged,
        None,
        &mut worker,
        &mut summary,
        &mut findings,
    )?;
    let outcome = Outcome { config: &config, scanner: &scanner, findings, summary, started };
    outcome.finish(
        &args.suppress,
        &args.output,
        "commit",
        "Remove the secret from the file and stage it again (and revoke the credential if it was \
         ever shared). If it is not a secret, add `secretgate:allow` in a comment on its line.",
    )
}

/// Scans the added lines of every commit being pushed that the remote does not have.
pub fn pre_push(args: PrePushArgs) -> Result<ExitStatus> {
    let started = std::time::Instant::now();
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read git's pre-push input")?;
    let mut updates = push::parse_pre_push(&input)?;
    let repo = repo::discover(Path::new("."))?;
    if updates.is_empty() {
        updates = framework_push(&repo).unwrap_or_default();
    }
    let config = setup::load_repo_config(&args.config, &repo)?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let allowlist = config.path_allowlist()?;
    // git passes the remote's name (or the URL pushed to); the pre-commit framework sets
    // its environment instead.
    let remote = args.remote.clone().or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok());
    let range = push::pre_push_range(&repo, &updates, remote.as_deref())?;
    let commits = push::new_commits(&repo, &range.tips, &range.hidden)?;

    let mut summary = ScanSummary::default();
    let mut findings = Vec::new();
    let mut worker = scanner.worker();
    let mut differ = CommitDiffer::pairing_similar_renames();
    let mut blob_changes = Vec::new();
    let change_scanner = ChangeScanner { scanner: &scanner, allowlist: &allowlist };
    for &commit in &commits {
        blob_changes.clear();
        differ.changes(&repo, commit, &mut blob_changes)?;
        if blob_changes.is_empty() {
            continue;
        }
        let info = repo::commit_info(&repo, commit)?;
        change_scanner.scan(&repo, &blob_changes, Some(&info), &mut worker, &mut summary, &mut findings)?;
    }
    // What the remote holds already (a rebased branch re-adds it) exposes nothing new.
    let before = findings.len();
    findings
        .retain(|finding| !repo::file_holds(&repo, &range.held, &finding.path, finding.secret.as_bytes()));
    summary.findings = summary.findings.saturating_sub((before - findings.len()) as u64);
    for (name, root) in push::pushed_contents(&repo, &updates)? {
        let contents = changes::content_changes(&repo, &name, root)?;
        change_scanner.scan(&repo, &contents, None, &mut worker, &mut summary, &mut findings)?;
    }
    let outcome = Outcome { config: &config, scanner: &scanner, findings, summary, started };
    outcome.finish(
        &args.suppress,
        &args.output,
        "push",
        "Rewrite the commits that add the secret (`git rebase -i`, or `git commit --amend` for \
         the last one) and revoke the credential. If it is not a secret, add `secretgate:allow` \
         in a comment on its line and amend.",
    )
}

/// What a hook found, before ignore files and baselines.
struct Outcome<'a> {
    config: &'a LoadedConfig,
    scanner: &'a Scanner,
    findings: Vec<Finding>,
    summary: ScanSummary,
    started: std::time::Instant,
}

impl Outcome<'_> {
    /// Applies ignore files and the baseline, reports, and says how to proceed when git
    /// must stop.
    fn finish(
        mut self,
        suppress: &SuppressArgs,
        output: &OutputArgs,
        what: &str,
        steps: &str,
    ) -> Result<ExitStatus> {
        let suppressor = setup::load_suppressor(self.config, self.scanner, &suppress.baseline_choice())?;
        suppressor.retain(&mut self.findings, &mut self.summary);
        self.summary.elapsed = self.started.elapsed();
        let mut writer = setup::report_writer(output)?;
        setup::emit(writer.as_mut(), &self.findings, &self.summary)?;
        drop(writer);
        setup::print_summary(&self.summary);
        if !self.findings.is_empty() {
            advise(what, self.findings.len(), steps);
        }
        Ok(ExitStatus::from_outcome(!self.findings.is_empty(), false))
    }
}

/// Tells the user, on stderr, why git stopped and what to do.
fn advise(what: &str, count: usize, steps: &str) {
    let mut stderr = anstream::stderr();
    let noun = if count == 1 { "secret" } else { "secrets" };
    let _ = writeln!(stderr, "secretgate: {what} blocked: {count} {noun} found (listed above).");
    let _ = writeln!(stderr, "secretgate: {steps}");
}

/// The pre-commit framework runs pre-push hooks with the range in its environment
/// (`PRE_COMMIT_TO_REF`, `PRE_COMMIT_FROM_REF`) instead of git's standard input. When the
/// push includes a root commit (a repository's first push) it sets no range, only the
/// branch pushed (`PRE_COMMIT_LOCAL_BRANCH`): that is scanned as a new branch, every
/// commit the remote's tracking refs lack.
fn framework_push(repo: &gix::Repository) -> Option<Vec<push::PushUpdate>> {
    let to = match std::env::var("PRE_COMMIT_TO_REF") {
        Ok(to) => to,
        Err(_) => {
            let local = std::env::var("PRE_COMMIT_LOCAL_BRANCH").ok().filter(|b| !b.is_empty())?;
            repo.rev_parse_single(local.as_str()).ok()?.detach().to_string()
        }
    };
    let from = std::env::var("PRE_COMMIT_FROM_REF").unwrap_or_default();
    let remote_ref = std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default();
    let zero = "0".repeat(to.len());
    let line = format!("{to} {to} {remote_ref} {}", if from.is_empty() { &zero } else { &from });
    let mut fields: Vec<&str> = line.split(' ').collect();
    fields[0] = "HEAD";
    if fields[2].is_empty() {
        fields[2] = "HEAD";
    }
    push::parse_pre_push(&fields.join(" ")).ok()
}
