//! Reading and scanning blobs pack by pack: each pack is decoded once, in delta-tree order
//! (a base before the objects stored as its deltas), on several threads.
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

use gix::{odb::pack::data::entry::Header, ObjectId};

use super::{
    deltascan::{scan_delta, BlobMatches, Reach},
    history::Progress,
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
    fn count_children(
        &self,
        pack: &gix::odb::pack::data::File,
        index: &gix::odb::pack::index::File,
        wanted: &HashSet<ObjectId>,
    ) {
        let mut children = self.children.lock().expect("no thread panicked");
        for entry in index.iter().filter(|e| wanted.contains(&e.oid)) {
            if let Ok(Some((base, _))) = delta_base(pack, index, entry.pack_offset) {
                *children.entry(base).or_default() += 1;
            }
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

impl Clone for LazyWorker {
    fn clone(&self) -> Self {
        LazyWorker(None)
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
        scan_pack(&bundle, scanner, wanted, options, &reach, progress, &shared)
            .context(|| format!("reading pack {}", index_path.display()))?;
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
) -> Result<(), gix::Error> {
    let state = PackState::default();
    let (pack, index) = (&bundle.pack, &bundle.index);
    let delta_aware = options.delta_aware;
    if delta_aware {
        state.count_children(pack, index, wanted);
    }
    let interrupt = &progress.cancel;
    let state = &state;
    let processor = {
        let mut worker = LazyWorker(None);
        let mut inflate = InflateBox::default();
        move |kind: gix::objs::Kind,
              data: &[u8],
              entry: &gix::odb::pack::index::Entry,
              _: &dyn gix::progress::Progress| {
            if kind != gix::objs::Kind::Blob || !wanted.contains(&entry.oid) {
                return Ok(());
            }
            let worker = worker.get(scanner, delta_aware.then_some(reach));
            let mut summary = ScanSummary::default();
            progress.blobs_done.fetch_add(1, Relaxed);
            progress.bytes_done.fetch_add(data.len() as u64, Relaxed);
            // A delta whose base was scanned is scanned where it differs; anything else whole.
            let base = if delta_aware { delta_base(pack, index, entry.pack_offset)? } else { None };
            let base_offset = base.as_ref().map(|(offset, _)| *offset);
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
            let inherited = base
                .filter(|_| !utf16)
                .and_then(|(offset, pack_entry)| state.base(offset).map(|m| (m, pack_entry)));
            let mut matches = BlobMatches::default();
            let mut partial = None;
            if let Some((base_matches, pack_entry)) = inherited {
                let mut instructions = vec![0u8; pack_entry.decompressed_size as usize];
                pack.decompress_entry(&pack_entry, inflate.get(), &mut instructions)?;
                let mut delta_summary = ScanSummary::default();
                // A delta we cannot read is scanned whole.
                if let Ok(searched) = scan_delta(
                    scanner,
                    worker,
                    &mut delta_summary,
                    data,
                    &instructions,
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
    traverse_blobs(bundle, options.threads.max(1), interrupt, processor)
}

/// Decodes every blob of `bundle`'s pack in delta-tree order (each base once, before the
/// deltas built on it) on `threads` threads, handing each to `processor`.
///
/// Only chains of blobs are decoded: commits and trees (half the objects of a history, and
/// trees large ones: a directory of a thousand files is rebuilt for every commit that
/// touches it) are left alone, where the index's own traversal would decode them too.
fn traverse_blobs<P>(
    bundle: &gix::odb::pack::Bundle,
    threads: usize,
    interrupt: &std::sync::atomic::AtomicBool,
    mut processor: P,
) -> Result<(), gix::Error>
where
    P: FnMut(
            gix::objs::Kind,
            &[u8],
            &gix::odb::pack::index::Entry,
            &dyn gix::progress::Progress,
        ) -> Result<(), gix::Error>
        + Send
        + Clone,
{
    use gix::odb::pack::cache::delta::{traverse, Tree};
    let (pack, index) = (&bundle.pack, &bundle.index);
    let mut entries: Vec<gix::odb::pack::index::Entry> = index.iter().collect();
    entries.sort_unstable_by_key(|e| e.pack_offset);
    let (kinds, first_chain) = chain_kinds(pack, index, &entries);
    let mut keep: Vec<bool> = kinds.iter().map(|kind| *kind == Some(gix::objs::Kind::Blob)).collect();
    // The tree is built by reading headers from the pack's first entry on: that entry (and
    // the chain it needs) is kept whatever it holds; the processor skips what is no blob.
    for i in first_chain {
        keep[i] = true;
    }
    let tree = Tree::from_offsets_in_pack(
        pack.path(),
        entries.into_iter().zip(keep).filter(|(_, keep)| *keep).map(|(entry, _)| entry),
        &|entry| entry.pack_offset,
        &|id| Ok(index.lookup(id).map(|i| index.pack_offset_at_index(i))),
        &mut gix::progress::Discard,
        interrupt,
        index.object_hash(),
    )?;
    // An entry's bytes run to the next blob's offset here, past any commits and trees
    // between them: inflating stops at the end of its own stream.
    tree.traverse(
        |range, pack: &gix::odb::pack::data::File| pack.entry_slice(range),
        pack,
        pack.pack_end() as u64,
        move |entry: &mut gix::odb::pack::index::Entry, progress, context: traverse::Context<'_>| {
            let kind = context.entry.header.as_kind().unwrap_or(gix::objs::Kind::Blob);
            processor(kind, context.decompressed, entry, progress)
        },
        traverse::Options {
            object_progress: Box::new(gix::progress::Discard),
            size_progress: &mut gix::progress::Discard,
            thread_limit: Some(threads),
            should_interrupt: interrupt,
            object_hash: index.object_hash(),
            alloc_limit_bytes: None,
        },
    )?;
    Ok(())
}

/// The kind of object at the root of each entry's delta chain (`entries` sorted by pack
/// offset), read from entry headers alone; `None` where a chain cannot be followed (its
/// base is outside this pack, or the pack is damaged): such entries are left to the lookup
/// of blobs one by one. Also: the positions of the first entry's chain.
fn chain_kinds(
    pack: &gix::odb::pack::data::File,
    index: &gix::odb::pack::index::File,
    entries: &[gix::odb::pack::index::Entry],
) -> (Vec<Option<gix::objs::Kind>>, Vec<usize>) {
    // Per entry: `None` until settled, then the chain's root kind (or `None`: unknown), so
    // that every entry is read once however many chains pass through it.
    let mut settled: Vec<Option<Option<gix::objs::Kind>>> = vec![None; entries.len()];
    let position = |offset: u64| entries.binary_search_by_key(&offset, |e| e.pack_offset).ok();
    // Bases come first in most packs: one pass settles them, and chains that point forward
    // (a ref-delta to a later base) are followed from where they start.
    let mut chain = Vec::new();
    let mut first_chain = Vec::new();
    for start in 0..entries.len() {
        let mut at = start;
        chain.clear();
        let kind = loop {
            if let Some(kind) = settled[at] {
                break kind;
            }
            // A cycle would be a damaged pack: give up on it.
            if chain.len() > entries.len() {
                break None;
            }
            chain.push(at);
            let Ok(entry) = pack.entry(entries[at].pack_offset) else { break None };
            let base = match entry.header {
                Header::OfsDelta { base_distance } => Some(entry.base_pack_offset(base_distance)),
                Header::RefDelta { base_id } => index.lookup(base_id).map(|i| index.pack_offset_at_index(i)),
                header => break header.as_kind(),
            };
            match base.and_then(position) {
                Some(next) => at = next,
                None => break None,
            }
        };
        for &i in &chain {
            settled[i] = Some(kind);
        }
        if start == 0 {
            first_chain = chain.clone();
        }
    }
    (settled.into_iter().map(Option::flatten).collect(), first_chain)
}

/// A zlib inflater per traversal thread.
#[derive(Default)]
struct InflateBox(gix::zlib::Inflate);

impl InflateBox {
    fn get(&mut self) -> &mut gix::zlib::Inflate {
        &mut self.0
    }
}

impl Clone for InflateBox {
    fn clone(&self) -> Self {
        InflateBox::default()
    }
}

/// The pack offset of the base of the delta at `offset`, and the delta's entry; `None` for
/// an object stored whole (or a base outside this pack).
fn delta_base(
    pack: &gix::odb::pack::data::File,
    index: &gix::odb::pack::index::File,
    offset: u64,
) -> Result<Option<(u64, gix::odb::pack::data::Entry)>, gix::Error> {
    let entry = pack.entry(offset)?;
    let base = match entry.header {
        Header::OfsDelta { base_distance } => Some(entry.base_pack_offset(base_distance)),
        Header::RefDelta { base_id } => index.lookup(base_id).map(|i| index.pack_offset_at_index(i)),
        _ => None,
    };
    Ok(base.map(|base| (base, entry)))
}
