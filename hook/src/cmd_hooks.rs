//! `secretgate pre-commit` and `secretgate pre-push`: git's client-side hooks.

use std::{io::Read, io::Write, path::Path};

use anyhow::{Context, Result};
use secretgate_scanner::{
    source::git::{
        changes::{self, CommitDiffer},
        push, repo,
        scan::ChangeScanner,
    },
    ScanSummary,
};

use crate::{
    cli::{PreCommitArgs, PrePushArgs},
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
    let suppressor = setup::load_suppressor(&config, &scanner, &args.suppress.baseline_choice())?;
    suppressor.retain(&mut findings, &mut summary);
    summary.elapsed = started.elapsed();
    let mut writer = setup::report_writer(&args.output)?;
    setup::emit(writer.as_mut(), &findings, &summary)?;
    drop(writer);
    setup::print_summary(&summary);
    if !findings.is_empty() {
        advise(
            "commit",
            findings.len(),
            "Remove the secret from the file and stage it again (and revoke the credential if it was \
             ever shared). If it is not a secret, add `secretgate:allow` in a comment on its line.",
        );
    }
    Ok(ExitStatus::from_outcome(!findings.is_empty(), false))
}

/// Scans the added lines of every commit being pushed that the remote does not have.
pub fn pre_push(args: PrePushArgs) -> Result<ExitStatus> {
    let started = std::time::Instant::now();
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read git's pre-push input")?;
    let mut updates = push::parse_pre_push(&input)?;
    if updates.is_empty() {
        updates = framework_push().unwrap_or_default();
    }
    let repo = repo::discover(Path::new("."))?;
    let config = setup::load_repo_config(&args.config, &repo)?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let allowlist = config.path_allowlist()?;
    let (tips, hidden) = push::pre_push_range(&repo, &updates)?;
    let commits = push::new_commits(&repo, &tips, &hidden)?;

    let mut summary = ScanSummary::default();
    let mut findings = Vec::new();
    let mut worker = scanner.worker();
    let mut differ = CommitDiffer::default();
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
    let suppressor = setup::load_suppressor(&config, &scanner, &args.suppress.baseline_choice())?;
    suppressor.retain(&mut findings, &mut summary);
    summary.elapsed = started.elapsed();
    let mut writer = setup::report_writer(&args.output)?;
    setup::emit(writer.as_mut(), &findings, &summary)?;
    drop(writer);
    setup::print_summary(&summary);
    if !findings.is_empty() {
        advise(
            "push",
            findings.len(),
            "Rewrite the commits that add the secret (`git rebase -i`, or `git commit --amend` for \
             the last one) and revoke the credential. If it is not a secret, add `secretgate:allow` \
             in a comment on its line and amend.",
        );
    }
    Ok(ExitStatus::from_outcome(!findings.is_empty(), false))
}

/// Tells the user, on stderr, why git stopped and what to do.
fn advise(what: &str, count: usize, steps: &str) {
    let mut stderr = anstream::stderr();
    let noun = if count == 1 { "secret" } else { "secrets" };
    let _ = writeln!(stderr, "secretgate: {what} blocked: {count} {noun} found (listed above).");
    let _ = writeln!(stderr, "secretgate: {steps}");
}

/// The pre-commit framework runs pre-push hooks with the range in its environment
/// (`PRE_COMMIT_TO_REF`, `PRE_COMMIT_FROM_REF`) instead of git's standard input.
fn framework_push() -> Option<Vec<push::PushUpdate>> {
    let to = std::env::var("PRE_COMMIT_TO_REF").ok()?;
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
