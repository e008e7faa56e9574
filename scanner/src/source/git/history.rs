//! The historical sweep: every blob the selected history holds is read and scanned once,
//! however many commits contain it; each finding is then traced to the oldest commit that
//! introduced it at its path.
//!
//! One walk over the selected commits, diffing each against every parent, yields for every
//! blob the (path, commit) pairs that introduced it. That same walk is the blob enumeration,
//! so a blob that only a merge resolution introduced is found as surely as any other.
//! Findings are then reported once per fingerprint (path, rule, secret): a secret that stays
//! in a file over many versions is one finding, attributed to the commit that added it.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Instant,
};

use gix::{bstr::ByteSlice, ObjectId};
use rayon::prelude::*;

use super::{
    added::AddedLines,
    changes::{content_changes, CommitDiffer},
    packscan::{self, BlobScanOptions},
    repo,
    scan::{attribute, read_blob},
    Context, Error,
};
use crate::{
    finding::fingerprint,
    scan::InputName,
    sink::{ScanSummary, SkipReason},
    suppress::allowlist::PathAllowlist,
    Finding, Scanner,
};

/// Delta-base cache per diffing thread.
const PACK_CACHE_BYTES: usize = 8 << 20;

/// Which history to sweep.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A revision (`main`, a commit) or a range `A..B`; `None`: every ref.
    pub revision: Option<String>,
    /// Only commits made at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Explicit tips and the commits to leave out (a push); overrides `revision`.
    pub tips: Option<(Vec<ObjectId>, Vec<ObjectId>)>,
    /// Trees and blobs that references point at directly, by reference name: scanned whole.
    /// With neither `tips` nor `revision`, every such reference of the repository is added.
    pub contents: repo::RefContents,
}

/// Counters a progress display can read while the sweep runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Commits walked.
    pub commits: AtomicU64,
    /// Distinct blobs to scan, once known.
    pub blobs_total: AtomicU64,
    /// Bytes of those blobs, once known.
    pub bytes_total: AtomicU64,
    /// Blobs scanned (or skipped) so far.
    pub blobs_done: AtomicU64,
    /// Bytes scanned (or skipped) so far.
    pub bytes_done: AtomicU64,
    /// Set to stop the sweep early (a push out of time): it then ends with
    /// [`Error::Cancelled`].
    pub cancel: std::sync::atomic::AtomicBool,
}

/// What a sweep found.
#[derive(Debug, Default)]
pub struct HistoryOutput {
    /// One finding per fingerprint, oldest introduction first.
    pub findings: Vec<Finding>,
    /// Blobs scanned and skipped, bytes, findings, time.
    pub summary: ScanSummary,
    /// Commits walked.
    pub commits: u64,
    /// Bytes the engine read: less than the blobs' total when deltas spared re-reading.
    pub bytes_searched: u64,
}

/// How to sweep.
#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// Threads for diffing and scanning.
    pub threads: usize,
    /// Scan delta-stored blobs only where they differ from their base.
    pub delta_aware: bool,
}

/// Where a blob entered history: at `path`, in the commit at `order` (oldest first). An
/// `order` past the last commit is a reference to a tree or blob (`Selection::contents`),
/// which no commit introduced: it ranks after every commit.
#[derive(Debug, Clone)]
struct Introduction {
    path: gix::bstr::BString,
    order: usize,
}

/// Sweeps `repo`'s history on `threads` threads.
pub fn sweep(
    repo: &gix::Repository,
    scanner: &Scanner,
    allowlist: &PathAllowlist,
    selection: &Selection,
    options: SweepOptions,
    progress: &Progress,
) -> Result<HistoryOutput, Error> {
    let threads = options.threads;
    let started = Instant::now();
    // The walk and the diffs read commits and trees through a store of their own, dropped
    // before the packs are decoded: a store keeps its packs mapped, and the pages it touched
    // would be counted a second time beside the decoder's own mapping (72 of 126 MB on curl).
    let walker = own_store(repo)?;
    let (commits, contents) = select_commits(&walker, selection)?;
    progress.commits.store(commits.len() as u64, Relaxed);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|err| Error::Input(format!("cannot start {threads} threads: {err}")))?;
    let shared = walker.into_sync();

    let mut introductions = pool.install(|| introductions(&shared, &commits, &progress.cancel))?;
    drop(shared);
    for (nth, (name, root)) in contents.iter().enumerate() {
        for change in content_changes(repo, name, *root)? {
            // A blob a commit introduced is that commit's (a tag of a commit's tree brings
            // nothing new).
            let by_commit = introductions
                .get(&change.new)
                .is_some_and(|places| places.iter().any(|p| p.order < commits.len()));
            if by_commit {
                continue;
            }
            introduce(
                &mut introductions,
                change.new,
                Introduction { path: change.path, order: commits.len() + nth },
            );
        }
    }
    progress.blobs_total.store(introductions.len() as u64, Relaxed);

    // Scan each distinct blob once; a blob all of whose paths are allowlisted is not read.
    let mut allowlisted = ScanSummary::default();
    let wanted: std::collections::HashSet<ObjectId> = introductions
        .iter()
        .filter(|(_, places)| {
            let listed = places
                .iter()
                .all(|i| allowlist.is_allowed_relative(std::path::Path::new(i.path.to_str_lossy().as_ref())));
            if listed {
                allowlisted.skip(SkipReason::Allowlisted, 0);
                progress.blobs_done.fetch_add(1, Relaxed);
            }
            !listed
        })
        .map(|(id, _)| *id)
        .collect();
    let scanned = packscan::scan_blobs(
        repo,
        scanner,
        &wanted,
        BlobScanOptions { threads, delta_aware: options.delta_aware },
        progress,
    )?;

    let mut summary = scanned.summary;
    summary.merge(&allowlisted);
    // Every place each fingerprint entered history, to pick the oldest below.
    let mut candidates: HashMap<String, Vec<(usize, Finding)>> = HashMap::new();
    for (blob, found) in &scanned.found {
        for introduction in &introductions[blob] {
            let path = introduction.path.to_str_lossy();
            if allowlist.is_allowed_relative(std::path::Path::new(path.as_ref())) {
                continue;
            }
            for finding in found {
                let print = fingerprint(&path, &finding.rule_id, finding.secret.as_bytes());
                let mut finding = finding.clone();
                finding.path = path.clone().into_owned();
                finding.fingerprint = print.clone();
                candidates.entry(print).or_default().push((introduction.order, finding));
            }
        }
    }
    // Files that path rules flag, wherever a version of them entered history.
    for (blob, places) in introductions.iter().filter(|_| scanner.has_path_rules()) {
        if !wanted.contains(blob) {
            continue;
        }
        for introduction in places {
            let path = introduction.path.to_str_lossy();
            let mut flagged = Vec::new();
            scanner.scan_path(InputName::same(&path), &mut ScanSummary::default(), &mut flagged);
            for finding in flagged {
                candidates
                    .entry(finding.fingerprint.clone())
                    .or_default()
                    .push((introduction.order, finding));
            }
        }
    }
    // The oldest introduction whose commit added the secret's line is the one to report:
    // when a selection (`A..B`, `--since`) starts after the line was written, a later
    // version only carries it along and nothing is reported.
    let mut lines = AddedLinesCache::new();
    let mut chosen: Vec<(usize, Finding)> = Vec::new();
    for (_, mut places) in candidates {
        places.sort_by(|(a, fa), (b, fb)| {
            a.cmp(b).then_with(|| (fa.line, fa.column).cmp(&(fb.line, fb.column)))
        });
        for (order, finding) in places {
            // A path rule's finding (no secret) is the file's entry into history.
            let added = match commits.get(order) {
                Some(&commit) => lines.touches(repo, commit, &finding)?,
                None => true,
            };
            if finding.secret.is_empty() || added {
                chosen.push((order, finding));
                break;
            }
        }
    }
    chosen.sort_by(|(a, fa), (b, fb)| {
        a.cmp(b).then_with(|| (&fa.path, fa.line, fa.column).cmp(&(&fb.path, fb.line, fb.column)))
    });
    let mut infos: HashMap<usize, repo::CommitInfo> = HashMap::new();
    let mut out = Vec::with_capacity(chosen.len());
    for (order, mut finding) in chosen {
        let Some(&commit) = commits.get(order) else {
            out.push(finding);
            continue;
        };
        let info = match infos.entry(order) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(repo::commit_info(repo, commit)?)
            }
        };
        attribute(&mut finding, info);
        out.push(finding);
    }
    summary.findings = out.len() as u64;
    summary.elapsed = started.elapsed();
    Ok(HistoryOutput {
        findings: out,
        summary,
        commits: commits.len() as u64,
        bytes_searched: scanned.bytes_searched,
    })
}

/// `repo` with an object store of its own (the same objects and alternates), so that
/// dropping it releases what it mapped.
fn own_store(repo: &gix::Repository) -> Result<gix::Repository, Error> {
    let path = repo.objects.store_ref().path();
    let odb = gix::odb::at(path, repo.object_hash())
        .map_err(|err| Error::Open { path: path.display().to_string(), message: err.to_string() })?;
    let mut own = repo.clone();
    own.objects = odb.into();
    own.object_cache_size_if_unset(4 << 20);
    Ok(own)
}

/// The selected commits, oldest first, and the trees and blobs to scan whole.
fn select_commits(
    repo: &gix::Repository,
    selection: &Selection,
) -> Result<(Vec<ObjectId>, repo::RefContents), Error> {
    let mut contents = selection.contents.clone();
    let (tips, hidden) = match (&selection.tips, selection.revision.as_deref()) {
        (Some((tips, hidden)), _) => (tips.clone(), hidden.clone()),
        (None, None) => {
            let tips = repo::ref_tips(repo, |_| true)?;
            if let Some(name) = tips.missing.first() {
                return Err(Error::Input(format!(
                    "reference {name} points to an object missing from the repository{}; its history cannot be swept",
                    match tips.missing.len() {
                        1 => String::new(),
                        n => format!(" (and {} more references)", n - 1),
                    }
                )));
            }
            contents.extend(tips.contents);
            (tips.commits, Vec::new())
        }
        (None, Some(spec)) if spec.contains("...") => {
            return Err(Error::Input(format!(
                "`{spec}` is a symmetric range, which a sweep does not take: use `A..B` (the commits of B not in A)"
            )))
        }
        (None, Some(spec)) => match spec.split_once("..") {
            Some((from, to)) => {
                let to = if to.is_empty() { "HEAD" } else { to };
                let from = if from.is_empty() { "HEAD" } else { from };
                (vec![resolve(repo, to)?], vec![resolve(repo, from)?])
            }
            None => (vec![resolve(repo, spec)?], Vec::new()),
        },
    };
    if tips.is_empty() {
        return Ok((Vec::new(), contents));
    }
    let walk = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
        .all()
        .context(|| "walking history".into())?;
    let mut walked = Vec::new();
    for info in walk {
        let info = info.context(|| "walking history".into())?;
        let time = info.commit_time.unwrap_or_default();
        if selection.since.is_some_and(|since| time < since) {
            continue;
        }
        walked.push((info.id, info.parent_ids.to_vec(), time));
    }
    Ok((oldest_first(walked), contents))
}

/// Orders commits so that every parent comes before its children (commit times, which can
/// tie or lie, only break ties): "the oldest commit holding a secret" must be an ancestor's.
fn oldest_first(commits: Vec<(ObjectId, Vec<ObjectId>, i64)>) -> Vec<ObjectId> {
    use std::{cmp::Reverse, collections::BinaryHeap};
    let index: HashMap<ObjectId, usize> = commits.iter().enumerate().map(|(i, c)| (c.0, i)).collect();
    let mut pending_parents = vec![0usize; commits.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); commits.len()];
    for (child, (_, parents, _)) in commits.iter().enumerate() {
        for parent in parents {
            if let Some(&p) = index.get(parent) {
                pending_parents[child] += 1;
                children[p].push(child);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId, usize)>> = commits
        .iter()
        .enumerate()
        .filter(|(i, _)| pending_parents[*i] == 0)
        .map(|(i, c)| Reverse((c.2, c.0, i)))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, id, i))) = ready.pop() {
        order.push(id);
        for &child in &children[i] {
            pending_parents[child] -= 1;
            if pending_parents[child] == 0 {
                ready.push(Reverse((commits[child].2, commits[child].0, child)));
            }
        }
    }
    order
}

/// A revision, peeled to a commit.
fn resolve(repo: &gix::Repository, spec: &str) -> Result<ObjectId, Error> {
    let id = repo
        .rev_parse_single(spec)
        .map_err(|err| {
            Error::Input(format!("unknown revision `{spec}`: {}", super::one_line(&err.to_string())))
        })?
        .detach();
    repo::peel_to_commit(repo, id)?.ok_or_else(|| Error::Input(format!("`{spec}` does not name a commit")))
}

/// For every blob the commits introduce, where: each path it appeared at, with the oldest
/// commit that put it there. Commits are diffed in parallel.
fn introductions(
    shared: &gix::ThreadSafeRepository,
    commits: &[ObjectId],
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<HashMap<ObjectId, Vec<Introduction>>, Error> {
    let per_chunk: Vec<Result<Vec<(ObjectId, Introduction)>, Error>> = commits
        .par_chunks(256)
        .enumerate()
        .map_init(
            || {
                let mut repo = shared.to_thread_local();
                // Trees of neighbouring commits are deltas of each other: a delta-base cache
                // halves the cost of reading them.
                repo.objects.set_pack_cache(|| {
                    Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(PACK_CACHE_BYTES))
                });
                (repo, CommitDiffer::default(), Vec::new())
            },
            |(repo, differ, changes), (chunk, ids)| {
                let mut out = Vec::new();
                if cancel.load(Relaxed) {
                    return Err(Error::Cancelled);
                }
                for (offset, &commit) in ids.iter().enumerate() {
                    changes.clear();
                    differ.changes(repo, commit, changes)?;
                    let order = chunk * 256 + offset;
                    for change in changes.drain(..) {
                        // An exact rename adds no content: the blob was introduced earlier.
                        if change.old.contains(&Some(change.new)) {
                            continue;
                        }
                        out.push((change.new, Introduction { path: change.path, order }));
                    }
                }
                Ok(out)
            },
        )
        .collect();
    let mut map: HashMap<ObjectId, Vec<Introduction>> = HashMap::new();
    for chunk in per_chunk {
        for (blob, introduction) in chunk? {
            introduce(&mut map, blob, introduction);
        }
    }
    Ok(map)
}

/// Records that `blob` entered at a place, keeping the oldest introduction per path.
fn introduce(map: &mut HashMap<ObjectId, Vec<Introduction>>, blob: ObjectId, introduction: Introduction) {
    let entries = map.entry(blob).or_default();
    match entries.iter_mut().find(|e| e.path == introduction.path) {
        Some(existing) => existing.order = existing.order.min(introduction.order),
        None => entries.push(introduction),
    }
}

/// Added lines of the (commit, path) pairs that findings were attributed to.
struct AddedLinesCache {
    differ: CommitDiffer,
    by_commit: HashMap<ObjectId, Vec<super::changes::BlobChange>>,
    by_change: HashMap<(ObjectId, String), AddedLines>,
}

impl AddedLinesCache {
    fn new() -> Self {
        AddedLinesCache {
            // A file moved and edited adds only its edits: its old lines were introduced
            // where the file was.
            differ: CommitDiffer::pairing_similar_renames(),
            by_commit: HashMap::new(),
            by_change: HashMap::new(),
        }
    }

    /// Whether `finding` lies on a line that `commit` added at its path, or under a table
    /// header it added.
    fn touches(
        &mut self,
        repo: &gix::Repository,
        commit: ObjectId,
        finding: &Finding,
    ) -> Result<bool, Error> {
        let key = (commit, finding.path.clone());
        if !self.by_change.contains_key(&key) {
            if !self.by_commit.contains_key(&commit) {
                let mut changes = Vec::new();
                self.differ.changes(repo, commit, &mut changes)?;
                self.by_commit.insert(commit, changes);
            }
            let change = self.by_commit[&commit].iter().find(|c| c.path.to_str_lossy() == finding.path);
            let added = match change {
                Some(change) => {
                    let new = read_blob(repo, change.new)?;
                    let olds = change
                        .old
                        .iter()
                        .map(|old| old.map(|id| read_blob(repo, id)).transpose())
                        .collect::<Result<Vec<_>, _>>()?;
                    AddedLines::between(&new, olds.iter().map(|o| o.as_deref()))
                }
                None => AddedLines::All,
            };
            self.by_change.insert(key.clone(), added);
        }
        let added = &self.by_change[&key];
        let header = finding.header_line.is_some_and(|header| added.touches(header, header));
        Ok(header || added.touches(finding.line, finding.end_line))
    }
}
