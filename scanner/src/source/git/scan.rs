//! Scanning blob changes: the whole new blob goes through the scanner, and only findings on
//! lines that are new are kept. Shared by `pre-commit`, `pre-push` and `pre-receive`.

use gix::{bstr::ByteSlice, ObjectId};

use super::{added::AddedLines, changes::BlobChange, repo::CommitInfo, Context, Error};
use crate::{
    engine::columns::MAX_TABLE,
    scan::InputName,
    sink::{ScanSummary, SkipReason},
    suppress::allowlist::PathAllowlist,
    Finding, Scanner, Worker,
};

/// Scans what `changes` add, attributing findings to `commit` when given.
pub struct ChangeScanner<'a> {
    /// The engine.
    pub scanner: &'a Scanner,
    /// Paths (relative to the repository root) never reported.
    pub allowlist: &'a PathAllowlist,
}

impl ChangeScanner<'_> {
    /// Scans each change's new blob and keeps findings on added lines.
    pub fn scan(
        &self,
        repo: &gix::Repository,
        changes: &[BlobChange],
        commit: Option<&CommitInfo>,
        worker: &mut Worker,
        summary: &mut ScanSummary,
        out: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        for change in changes {
            let path = change.path.to_str_lossy();
            if self.allowlist.is_allowed_relative(std::path::Path::new(path.as_ref())) {
                summary.skip(SkipReason::Allowlisted, 0);
                continue;
            }
            let start = out.len();
            // A path rule flags a file as it enters (added, or content changed), once.
            if change.old.iter().any(Option::is_none) {
                self.scanner.scan_path(InputName::same(&path), summary, out);
            }
            // A partial clone lacks the blobs of history it never checked out. `git push`
            // fetches them to send them; we cannot, and a push must not carry what was not
            // scanned: say how to fetch them.
            let Some(new) = read_blob_if_fetched(repo, change.new)? else {
                return Err(Error::Read {
                    context: format!("reading {path} (blob {})", change.new),
                    message: "this partial clone has not fetched it. If the remote already has this history, \
                              `git fetch` it and push again; otherwise fetch the blobs being pushed (`git backfill` \
                              with git 2.49 or later, or `git log -p` over the commits) and push again"
                        .into(),
                });
            };
            if let Some(reason) = self.scanner.skip_reason(new.len() as u64, &new) {
                summary.skip(reason, new.len() as u64);
                attribute_all(&mut out[start..], commit);
                continue;
            }
            // UTF-16 is compared and scanned as UTF-8, old versions alike.
            let new = self.scanner.into_text(new);
            let olds = change
                .old
                .iter()
                .map(|old| match old {
                    Some(id) => Ok(read_blob_if_fetched(repo, *id)?.map(|old| self.scanner.into_text(old))),
                    None => Ok(None),
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let added = AddedLines::between(&new, olds.iter().map(|o| o.as_deref()));
            if added.is_empty() {
                attribute_all(&mut out[start..], commit);
                continue;
            }
            // A new file is scanned whole: its lines need no index.
            let starts = if added == AddedLines::All { Vec::new() } else { line_starts(&new) };
            match added.regions(REGION_CONTEXT_LINES, MAX_TABLE, &starts) {
                None => self.scanner.scan_input(&new, InputName::same(&path), worker, summary, out),
                // Only the neighbourhood of new lines can hold a new finding: a one-line edit
                // of a large file costs a few lines' scan, not the file's.
                Some(regions) => {
                    // One input, however many stretches of it are scanned.
                    let inputs = summary.inputs + 1;
                    for (first, last) in regions {
                        let from = starts[first - 1];
                        let to = starts.get(last).copied().unwrap_or(new.len());
                        let offset = first - 1;
                        let region_start = out.len();
                        self.scanner.scan_input_where(
                            &new[from..to],
                            InputName::same(&path),
                            worker,
                            summary,
                            out,
                            |a, b| added.touches(a + offset, b + offset),
                        );
                        for finding in &mut out[region_start..] {
                            finding.line += offset;
                            finding.end_line += offset;
                        }
                    }
                    summary.inputs = summary.inputs.min(inputs);
                }
            }
            attribute_all(&mut out[start..], commit);
        }
        Ok(())
    }
}

/// Lines of context scanned around added lines: more than the longest multi-line secret
/// (a 4096-bit RSA key in PEM is about 50 lines).
const REGION_CONTEXT_LINES: usize = 200;

/// The byte offset where each line starts (line `n` starts at `starts[n - 1]`).
fn line_starts(data: &[u8]) -> Vec<usize> {
    let ends = memchr::memchr_iter(b'\n', data).map(|i| i + 1).filter(|&i| i < data.len());
    std::iter::once(0).chain(ends).collect()
}

fn attribute_all(findings: &mut [Finding], commit: Option<&CommitInfo>) {
    if let Some(commit) = commit {
        findings.iter_mut().for_each(|finding| attribute(finding, commit));
    }
}

/// Fills a finding's commit fields.
pub fn attribute(finding: &mut Finding, commit: &CommitInfo) {
    finding.commit = Some(commit.id.clone());
    finding.author = Some(commit.author.clone());
    finding.email = Some(commit.email.clone());
    finding.date = Some(commit.date.clone());
}

/// A blob that a partial clone (`git clone --filter=blob:none`) may not hold: git fetches
/// such blobs on demand, and gix does not. `None` then: a parent's version missing makes
/// the file count as new, whole (its old lines may be reported again); a new version
/// missing is an error that says how to fetch it. In any other repository a missing blob
/// is an error.
fn read_blob_if_fetched(repo: &gix::Repository, id: ObjectId) -> Result<Option<Vec<u8>>, Error> {
    match repo.try_find_object(id).context(|| format!("reading blob {id}"))? {
        Some(object) => Ok(Some(object.detach().data)),
        None if is_partial_clone(repo) => Ok(None),
        None => Err(Error::Read {
            context: format!("reading blob {id}"),
            message: "it is not in the repository".into(),
        }),
    }
}

/// Whether objects may be missing by design: `extensions.partialClone` names a promisor
/// remote, or a remote is marked `promisor`.
fn is_partial_clone(repo: &gix::Repository) -> bool {
    let config = repo.config_snapshot();
    config.string("extensions.partialClone").is_some()
        || config.sections_by_name("remote").into_iter().flatten().any(|section| {
            section.value("promisor").is_some_and(|v| v.as_slice().eq_ignore_ascii_case(b"true"))
        })
}

/// A blob's bytes.
pub fn read_blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>, Error> {
    let mut blob = repo.find_blob(id).context(|| format!("reading blob {id}"))?;
    Ok(blob.take_data())
}
