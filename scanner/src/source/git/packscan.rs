//! Reading and scanning blobs pack by pack: each pack is decoded once, in delta-tree order
//! (a base before the objects stored as its deltas), on several threads ([`super::packwalk`]).
//!
//! Most versions of a file are stored as a delta of another version, and most of a delta is
//! copied from its base. A blob stored as a delta of a blob already scanned is scanned only
//! where it differs and inherits the rest ([`super::deltascan`]); the findings are those of a
//! scan of the whole blob (the history test compares both), from less than half the bytes.
//! What a base leaves to its deltas is held only until the last of them is scanned.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::{atomic::Ordering::Relaxed, Arc, Mutex},
};

use gix::ObjectId;

use super::{
    deltascan::{scan_delta, BlobMatches, Reach},
    history::Progress,
    packwalk::{self, Blob, Forest},
    Context, Error,
};
use crate::{scan::InputName, sink::ScanSummary, Finding, Scanner, Worker};

/// Below this many wanted blobs in a pack (and a tenth of its objects), the blobs are read
/// one by one instead of decoding the whole pack.
const MIN_BLOBS_FOR_TRAVERSAL: usize = 2048;

/// How to scan.
#[derive(Debug, Clone, Copy)]
pub struct BlobScanOptions {
    /// Threads decoding and scanning.
    pub threads: usize,
    /// Scan delta-stored blobs only where they differ from their base (default); `false`
    /// scans every blob whole.
    pub delta_aware: bool,
}

/// What scanning the wanted blobs gave.
#[derive(Debug, Default)]
pub struct BlobScanOutput {
    /// Findings per blob (named `""`: the caller knows the paths).
    pub found: HashMap<ObjectId, Vec<Finding>>,
    /// Blobs scanned and skipped.
    pub summary: ScanSummary,
    /// Bytes the engine actually read (less than the blobs' size when deltas were used).
    pub bytes_searched: u64,
}

/// Per-pack state shared by the traversal's threads.
#[derive(Default)]
struct PackState {
    /// What scanned blobs leave to their deltas, by pack offset; dropped once the last
    /// delta is scanned, so only the bases of deltas still to come are held.
    inherited: Mutex<HashMap<u64, Arc<BlobMatches>>>,
    /// Wanted deltas still to be scanned, by the pack offset of their base.
    children: Mutex<HashMap<u64, u32>>,
}

impl PackState {
    /// Counts, for each base, the wanted blobs stored as its deltas.
    fn count_children(&self, forest: &Forest, wanted: &HashSet<ObjectId>) {
        let mut children = self.children.lock().expect("no thread panicked");
        for (_, base) in forest.blob_base_offsets().filter(|(entry, _)| wanted.contains(&entry.oid)) {
            *children.entry(base).or_default() += 1;
        }
    }

    /// Keeps what the blob at `offset` leaves to its deltas, if any are to come.
    fn keep(&self, offset: u64, matches: BlobMatches) {
        if self.children.lock().expect("no thread panicked").contains_key(&offset) {
            self.inherited.lock().expect("no thread panicked").insert(offset, Arc::new(matches));
        }
    }

    /// What the base at `offset` left, if it was scanned.
    fn base(&self, offset: u64) -> Option<Arc<BlobMatches>> {
        self.inherited.lock().expect("no thread panicked").get(&offset).cloned()
    }

    /// One delta of the base at `offset` is done: the last one drops the base's state.
    fn release(&self, offset: u64) {
        let mut children = self.children.lock().expect("no thread panicked");
        if let Some(left) = children.get_mut(&offset) {
            *left -= 1;
            if *left == 0 {
                children.remove(&offset);
                self.inherited.lock().expect("no thread panicked").remove(&offset);
            }
        }
    }
}

/// Output shared by all threads.
#[derive(Default)]
struct Shared {
    found: Mutex<HashMap<ObjectId, Vec<Finding>>>,
    seen: Mutex<HashSet<ObjectId>>,
    summary: Mutex<ScanSummary>,
    searched: std::sync::atomic::AtomicU64,
}

/// A worker created on first use in each traversal thread.
struct LazyWorker(Option<Worker>);

impl LazyWorker {
    /// The worker, watching the windows of `long` rules when given.
    fn get(&mut self, scanner: &Scanner, long: Option<&Reach>) -> &mut Worker {
        self.0.get_or_insert_with(|| {
            let mut worker = scanner.worker();
            if let Some(reach) = long {
                worker.watch_rules(reach.long_rules());
            }
            worker
        })
    }
}

/// Scans every blob of `wanted` once.
pub fn scan_blobs(
    repo: &gix::Repository,
    scanner: &Scanner,
    wanted: &HashSet<ObjectId>,
    options: BlobScanOptions,
    progress: &Progress,
) -> Result<BlobScanOutput, Error> {
    let shared = Shared::default();
    let reach = Reach::new(scanner);
    for index_path in pack_indices(repo)? {
        if progress.cancel.load(Relaxed) {
            return Err(Error::Cancelled);
        }
        let bundle = gix::odb::pack::Bundle::at(&index_path, repo.object_hash())
            .context(|| format!("opening pack {}", index_path.display()))?;
        // Decoding a whole pack pays off when it holds many of the wanted blobs; a few are
        // cheaper looked up one by one (a small push against a large repository).
        let held = wanted.iter().filter(|id| bundle.index.lookup(*id).is_some()).count();
        if held < MIN_BLOBS_FOR_TRAVERSAL && held * 10 < bundle.index.num_objects() as usize {
            continue;
        }
        let scanned = scan_pack(&bundle, scanner, wanted, options, &reach, progress, &shared);
        if progress.cancel.load(Relaxed) {
            return Err(Error::Cancelled);
        }
        scanned.context(|| format!("reading pack {}", index_path.display()))?;
    }

    // Loose objects, and blobs no pack held: one by one.
    let missing: Vec<ObjectId> = {
        let seen = shared.seen.lock().expect("no thread panicked");
        wanted.iter().filter(|id| !seen.contains(*id)).copied().collect()
    };
    let mut worker = scanner.worker();
    let mut summary = ScanSummary::default();
    let mut found = Vec::new();
    for id in missing {
        if progress.cancel.load(Relaxed) {
            return Err(Error::Cancelled);
        }
        progress.blobs_done.fetch_add(1, Relaxed);
        // Too large to scan: known from the header, without reading (or holding) the blob.
        if let Ok(Some(header)) = repo.try_find_header(id) {
            if header.size() > scanner.max_input_size() {
                summary.skip(crate::sink::SkipReason::TooLarge, header.size());
                continue;
            }
        }
        match repo.try_find_object(id) {
            Ok(Some(object)) => {
                progress.bytes_done.fetch_add(object.data.len() as u64, Relaxed);
                shared.searched.fetch_add(object.data.len() as u64, Relaxed);
                found.clear();
                scanner.scan_input(&object.data, InputName::same(""), &mut worker, &mut summary, &mut found);
                if !found.is_empty() {
                    shared.found.lock().expect("no thread panicked").insert(id, found.clone());
                }
            }
            // Shallow and partial clones lack some blobs: counted, not fatal.
            Ok(None) => summary.skip(crate::sink::SkipReason::Unreadable, 0),
            Err(_) => summary.errors += 1,
        }
    }
    let mut total = shared.summary.into_inner().expect("no thread panicked");
    total.merge(&summary);
    Ok(BlobScanOutput {
        found: shared.found.into_inner().expect("no thread panicked"),
        summary: total,
        bytes_searched: shared.searched.into_inner(),
    })
}

/// The `.idx` files of the repository's packs and of its alternates.
fn pack_indices(repo: &gix::Repository) -> Result<Vec<PathBuf>, Error> {
    let store = repo.objects.store_ref();
    let mut dirs = vec![store.path().to_path_buf()];
    dirs.extend(store.alternate_db_paths().context(|| "reading the alternates".into())?);
    let mut indices = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("pack")) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "idx") && path.with_extension("pack").is_file() {
                indices.push(path);
            }
        }
    }
    indices.sort();
    Ok(indices)
}

fn scan_pack(
    bundle: &gix::odb::pack::Bundle,
    scanner: &Scanner,
    wanted: &HashSet<ObjectId>,
    options: BlobScanOptions,
    reach: &Reach,
    progress: &Progress,
    shared: &Shared,
) -> Result<(), packwalk::Error> {
    let state = PackState::default();
    let forest = Forest::new(&bundle.pack, &bundle.index);
    let delta_aware = options.delta_aware;
    if delta_aware {
        state.count_children(&forest, wanted);
    }
    let state = &state;
    let new_visitor = || {
        let mut worker = LazyWorker(None);
        move |blob: Blob<'_>| -> Result<(), packwalk::Error> {
            let (entry, data) = (blob.entry, blob.data);
            if !wanted.contains(&entry.oid) {
                return Ok(());
            }
            let worker = worker.get(scanner, delta_aware.then_some(reach));
            let mut summary = ScanSummary::default();
            progress.blobs_done.fetch_add(1, Relaxed);
            progress.bytes_done.fetch_add(data.len() as u64, Relaxed);
            // A delta whose base was scanned is scanned where it differs; anything else whole.
            let delta = blob.delta.filter(|_| delta_aware);
            let base_offset = delta.map(|d| d.base_offset);
            let done = |summary: &ScanSummary| {
                shared.seen.lock().expect("no thread panicked").insert(entry.oid);
                shared.summary.lock().expect("no thread panicked").merge(summary);
                if let Some(offset) = base_offset {
                    state.release(offset);
                }
            };
            if let Some(reason) = scanner.skip_reason(data.len() as u64, data) {
                summary.skip(reason, data.len() as u64);
                done(&summary);
                return Ok(());
            }
            // UTF-16 is scanned whole, as UTF-8 (`scan_input` converts it): deltas address
            // its bytes, not the text the rules read, so its matches are not handed on.
            let utf16 = crate::utf16::is_utf16(data);
            let inherited =
                delta.filter(|_| !utf16).and_then(|d| state.base(d.base_offset).map(|m| (m, d.instructions)));
            let mut matches = BlobMatches::default();
            let mut partial = None;
            if let Some((base_matches, instructions)) = inherited {
                let mut delta_summary = ScanSummary::default();
                // A delta we cannot read is scanned whole.
                if let Ok(searched) = scan_delta(
                    scanner,
                    worker,
                    &mut delta_summary,
                    data,
                    instructions,
                    &base_matches,
                    reach,
                    &mut matches,
                ) {
                    summary.merge(&delta_summary);
                    partial = Some(searched);
                } else {
                    matches = BlobMatches::default();
                }
            }
            let (findings, searched) = match partial {
                Some(searched) => {
                    summary.inputs += 1;
                    summary.bytes += data.len() as u64;
                    let mut findings = Vec::new();
                    let name = InputName::same("");
                    scanner.findings_from_matches(
                        data,
                        name,
                        &matches.plain,
                        &matches.decoded,
                        &mut findings,
                    );
                    summary.findings += findings.len() as u64;
                    (findings, searched)
                }
                None => {
                    // The whole blob, decoded content included; its matches are kept
                    // for the blobs stored as its deltas.
                    let mut findings = Vec::new();
                    scanner.scan_input(data, InputName::same(""), worker, &mut summary, &mut findings);
                    matches = BlobMatches::from_worker(worker);
                    (findings, data.len())
                }
            };
            shared.searched.fetch_add(searched as u64, Relaxed);
            if !findings.is_empty() {
                shared.found.lock().expect("no thread panicked").insert(entry.oid, findings);
            }
            if delta_aware && !utf16 {
                state.keep(entry.pack_offset, matches);
            }
            done(&summary);
            Ok(())
        }
    };
    forest.walk(&bundle.pack, options.threads.max(1), &progress.cancel, new_visitor)
}
