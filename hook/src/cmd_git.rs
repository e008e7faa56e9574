//! `secretgate git`: the historical sweep.

use std::{
    io::IsTerminal,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering::Relaxed},
        Arc,
    },
    time::Duration,
};

use anyhow::{Context, Result};
use secretgate_scanner::{
    sink::SkipReason,
    source::git::{
        history::{self, Progress, Selection},
        repo,
    },
    suppress::Suppressor,
};

use crate::{cli::GitArgs, setup, ExitStatus};

/// The repository and the range to sweep. A lone argument that names no file but a
/// revision of the repository around the current directory (`secretgate git main`,
/// `secretgate git v1..v2`) is that revision, as in `git log`; one holding `..` is taken
/// for a range even when an end does not resolve, so the error names the revision, not a
/// missing directory.
fn repo_and_range(args: &GitArgs) -> (PathBuf, Option<String>) {
    let here = PathBuf::from(".");
    let (Some(lone), None) = (&args.repo, &args.range) else {
        return (args.repo.clone().unwrap_or(here), args.range.clone());
    };
    let spec = lone.to_string_lossy();
    let names_revision = !lone.exists()
        && repo::discover(&here).is_ok_and(|repo| {
            let dots = if spec.contains("...") { "..." } else { ".." };
            let ends = spec.split(dots).filter(|end| !end.is_empty()).collect::<Vec<_>>();
            !ends.is_empty()
                && (spec.contains("..") || ends.iter().all(|end| repo.rev_parse_single(*end).is_ok()))
        });
    if names_revision {
        (here, Some(spec.into_owned()))
    } else {
        (lone.clone(), None)
    }
}

pub fn run(args: GitArgs) -> Result<ExitStatus> {
    let (path, range) = repo_and_range(&args);
    let repo = repo::discover(&path)?;
    let config = setup::load_repo_config(&args.config, &repo)?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let allowlist = config.path_allowlist()?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    let since = args
        .since
        .as_deref()
        .map(|date| {
            gix::date::parse(date, Some(gix::date::Zoned::now()))
                .map(|time| time.seconds)
                .with_context(|| format!("--since: cannot read `{date}` as a date"))
        })
        .transpose()?;
    let selection =
        Selection { revision: range.or(args.branch.clone()), since, tips: None, contents: Vec::new() };
    let mut writer = setup::report_writer(&args.output)?;

    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let show_bar = !args.no_progress && std::io::stderr().is_terminal();
    let output = std::thread::scope(|scope| {
        if show_bar {
            scope.spawn(|| draw_progress(&progress, &done));
        }
        let output = history::sweep(
            &repo,
            &scanner,
            &allowlist,
            &selection,
            history::SweepOptions { threads, delta_aware: !args.whole_blobs },
            &progress,
        );
        done.store(true, Relaxed);
        output
    })?;
    let mut output = output;
    let suppressor = match (repo.workdir(), &args.suppress.baseline, repo.head_id()) {
        // A bare repository has no work tree: its ignore file and baseline are HEAD's.
        (None, None, Ok(head)) if !args.suppress.no_baseline => {
            let head = head.detach();
            Suppressor::committed(Arc::clone(scanner.allowlists()), "HEAD", |name| {
                repo::committed_file(&repo, head, name)
            })?
        }
        _ => setup::load_suppressor(&config, &scanner, &args.suppress.baseline_choice())?,
    };
    suppressor.retain(&mut output.findings, &mut output.summary);

    setup::emit(writer.as_mut(), &output.findings, &output.summary)?;
    drop(writer);
    setup::print_summary_with_commits(&output.summary, Some(output.commits));
    // A blob that history names but the repository lacks (a partial clone, a damaged one)
    // was not scanned: "no secrets found" would be a claim about content nobody read.
    if repo.is_shallow().unwrap_or(false) && !output.findings.is_empty() {
        eprintln!(
            "secretgate: note: this is a shallow clone; a finding in its oldest commits may have been introduced before them"
        );
    }
    let missing = output.summary.skipped.get(&SkipReason::Unreadable).map_or(0, |skipped| skipped.count);
    if missing > 0 {
        eprintln!(
            "secretgate: error: {missing} {} of this history {} missing from the repository (a partial clone, or a damaged one) and could not be scanned",
            if missing == 1 { "blob" } else { "blobs" },
            if missing == 1 { "is" } else { "are" },
        );
    }
    Ok(ExitStatus::from_outcome(!output.findings.is_empty(), output.summary.errors > 0 || missing > 0))
}

/// A progress bar on stderr: blobs and bytes scanned, rate, ETA.
fn draw_progress(progress: &Progress, done: &AtomicBool) {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} blobs, {msg} ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    while !done.load(Relaxed) {
        let total = progress.blobs_total.load(Relaxed);
        if total == 0 {
            bar.set_message(format!("walking history: {} commits", progress.commits.load(Relaxed)));
        } else {
            bar.set_length(total);
            bar.set_position(progress.blobs_done.load(Relaxed));
            bar.set_message(indicatif::HumanBytes(progress.bytes_done.load(Relaxed)).to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
