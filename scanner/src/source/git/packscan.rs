//! Reading and scanning blobs pack by pack: each pack is decoded once, in delta-tree order
//! (a base before the objects stored as its deltas), on several threads.
//!
//! Most versions of a file are stored as a delta of another version, and most of a delta is
//! copied from its base. A delta-stored blob is scanned only around what it inserts and around
//! each copy's edges; a match its base had inside a copied stretch, with enough identical
//! context on both sides, is carried over to the same bytes in the target. Every match of the
//! blob is thus either found in the scanned stretches or inherited, so the findings are those of
//! a scan of the whole blob (the history test compares both), at a fraction of the bytes.

use std::{
    collections::{HashMap, HashSet},
    ops::Range,
    path::PathBuf,
    sync::{atomic::Ordering::Relaxed, Arc, Mutex},
};

use gix::{odb::pack::data::entry::Header, ObjectId};

use super::{
    delta::{self, DeltaOp},
    history::Progress,
    Context, Error,
};
use crate::{
    decode::stage::DecodedMatch, engine::RawMatch, scan::InputName, sink::ScanSummary, Finding, Scanner,
    Worker,
};

/// Context kept on each side of a copy's edges and of inserts, in bytes: at least the longest
/// match (keyword window and secret) of every rule that is not handled by [`LongRules`].
pub const CONTEXT: usize = 2048;

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

/// Rules whose matches can be longer than [`CONTEXT`] (multi-line PEM blocks): a delta
/// target where one of their keywords occurs (in its new bytes, or inherited from its base) is
/// scanned whole.
struct LongRules {
    /// `long[i]`: rule `i` can match past the context.
    long: Vec<bool>,
}

impl LongRules {
    fn new(scanner: &Scanner) -> Self {
        let long = scanner.rules().rules().iter().map(|c| c.rule.window() > CONTEXT).collect();
        LongRules { long }
    }

    /// Whether the worker's last scan met a long rule's keyword.
    fn hit(&self, worker: &Worker) -> bool {
        worker.touched_rules().iter().any(|&rule| self.long[rule as usize])
    }
}

/// Per-pack state shared by the traversal's threads.
#[derive(Default)]
struct PackState {
    /// Accepted matches of scanned blobs that have any, by pack offset.
    matches: Mutex<HashMap<u64, Arc<BlobMatches>>>,
    /// Pack offsets of blobs scanned in full knowledge (whole, or delta-aware from a scanned
    /// base): their matches (or absence of matches) can be inherited.
    scanned: Mutex<HashSet<u64>>,
    /// Pack offsets of scanned blobs that hold (or may hold) a long-rule keyword: their
    /// delta targets are searched for those keywords throughout.
    long: Mutex<HashSet<u64>>,
}

/// A blob's accepted matches, in plain and in decoded text, each sorted by position.
#[derive(Debug, Default)]
struct BlobMatches {
    plain: Vec<RawMatch>,
    decoded: Vec<DecodedMatch>,
}

impl BlobMatches {
    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.decoded.is_empty()
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
    fn get(&mut self, scanner: &Scanner) -> &mut Worker {
        self.0.get_or_insert_with(|| scanner.worker())
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
    let long_rules = LongRules::new(scanner);
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
        scan_pack(&bundle, scanner, wanted, options, &long_rules, progress, &shared)
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
    long_rules: &LongRules,
    progress: &Progress,
    shared: &Shared,
) -> Result<(), gix::Error> {
    let state = PackState::default();
    let (pack, index) = (&bundle.pack, &bundle.index);
    let delta_aware = options.delta_aware;
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
            let worker = worker.get(scanner);
            let mut summary = ScanSummary::default();
            progress.blobs_done.fetch_add(1, Relaxed);
            progress.bytes_done.fetch_add(data.len() as u64, Relaxed);
            let done = |summary: &ScanSummary| {
                shared.seen.lock().expect("no thread panicked").insert(entry.oid);
                shared.summary.lock().expect("no thread panicked").merge(summary);
            };
            if let Some(reason) = scanner.skip_reason(data.len() as u64, data) {
                summary.skip(reason, data.len() as u64);
                done(&summary);
                return Ok(());
            }
            // A delta whose base was scanned is scanned where it differs; anything else whole.
            let base = if delta_aware { delta_base(pack, index, entry.pack_offset)? } else { None };
            let inherited = base.and_then(|(offset, pack_entry)| {
                state.scanned.lock().expect("no thread panicked").contains(&offset).then(|| {
                    let matches = state.matches.lock().expect("no thread panicked").get(&offset).cloned();
                    let long = state.long.lock().expect("no thread panicked").contains(&offset);
                    (matches.unwrap_or_default(), long, pack_entry)
                })
            });
            let mut matches = BlobMatches::default();
            let mut partial = None;
            if let Some((base_matches, base_long, pack_entry)) = inherited {
                let mut instructions = vec![0u8; pack_entry.decompressed_size as usize];
                pack.decompress_entry(&pack_entry, inflate.get(), &mut instructions)?;
                let base = Base { matches: &base_matches, long: base_long };
                let mut delta_summary = ScanSummary::default();
                // `None` (long-window rules in play) or a delta we cannot read: scan whole.
                if let Ok(Some(searched)) = scan_delta(
                    scanner,
                    worker,
                    &mut delta_summary,
                    data,
                    &instructions,
                    base,
                    long_rules,
                    &mut matches,
                ) {
                    summary.merge(&delta_summary);
                    partial = Some(searched);
                }
            }
            let (findings, searched, long) = match partial {
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
                    (findings, searched, false)
                }
                None => {
                    // The whole blob, decoded content included; its matches are kept
                    // for the blobs stored as its deltas.
                    let mut findings = Vec::new();
                    scanner.scan_input(data, InputName::same(""), worker, &mut summary, &mut findings);
                    matches.plain = worker.last_matches().to_vec();
                    matches.decoded = worker.last_decoded().to_vec();
                    (findings, data.len(), long_rules.hit(worker))
                }
            };
            if long {
                state.long.lock().expect("no thread panicked").insert(entry.pack_offset);
            }
            shared.searched.fetch_add(searched as u64, Relaxed);
            if delta_aware {
                state.scanned.lock().expect("no thread panicked").insert(entry.pack_offset);
            }
            if !findings.is_empty() {
                shared.found.lock().expect("no thread panicked").insert(entry.oid, findings);
            }
            if delta_aware && !matches.is_empty() {
                state
                    .matches
                    .lock()
                    .expect("no thread panicked")
                    .insert(entry.pack_offset, Arc::new(matches));
            }
            done(&summary);
            Ok(())
        }
    };
    index.traverse(
        pack,
        &mut gix::progress::Discard,
        interrupt,
        processor,
        gix::odb::pack::index::traverse::Options {
            traversal: gix::odb::pack::index::traverse::Algorithm::DeltaTreeLookup,
            thread_limit: Some(options.threads.max(1)),
            check: gix::odb::pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
            alloc_limit_bytes: None,
            make_pack_lookup_cache: || gix::odb::pack::cache::Never,
        },
    )?;
    Ok(())
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

/// Scans a delta target `data` where it differs from its base and inherits the base's matches
/// elsewhere; returns how many bytes were searched, or `None` when the target must be scanned
/// whole (a long-window rule's keyword is in it).
///
/// Encoded runs that the decode stage reads never cross a line, and the stretches searched
/// are whole lines: a run touching a stretch is decoded whole.
#[allow(clippy::too_many_arguments)]
fn scan_delta(
    scanner: &Scanner,
    worker: &mut Worker,
    summary: &mut ScanSummary,
    data: &[u8],
    instructions: &[u8],
    base: Base,
    long_rules: &LongRules,
    out: &mut BlobMatches,
) -> Result<Option<usize>, delta::MalformedDelta> {
    let w = CONTEXT;
    let (base_size, target_size) = delta::sizes(instructions)?;
    let mut raw: Vec<(usize, usize)> =
        vec![(0, w.min(data.len())), (data.len().saturating_sub(w), data.len())];
    let mut copies: Vec<(usize, usize, usize)> = Vec::new();
    delta::for_each_op(instructions, |op| match op {
        DeltaOp::Insert { target, len } => {
            let (target, len) = (target as usize, len as usize);
            raw.push((target.saturating_sub(w), target + len + w));
        }
        DeltaOp::Copy { target, base, len } => {
            let target = target as usize;
            raw.push((target.saturating_sub(w), target + w));
            copies.push((target, base as usize, len as usize));
        }
    })?;
    if target_size as usize != data.len() {
        return Err(delta::MalformedDelta("target size differs from the object"));
    }
    let merged = merge(&mut raw, data.len());

    // Own matches: those starting in [s - w - 1, e) of each stretch, searched with w more
    // context each side, out to whole lines (inline markers and allowlists read lines).
    let name = InputName::same("");
    let mut searched = 0;
    let mut found = Vec::new();
    let mut long = false;
    let mut last_to = 0;
    for &(s, e) in &merged {
        let accept = s.saturating_sub(w + 1)..e;
        let from = line_start(data, accept.start.saturating_sub(w)).max(last_to.min(accept.start));
        let to = line_end(data, (e + w).min(data.len()));
        let stretch = &data[from..to];
        searched += to - from;
        last_to = to;
        found.clear();
        scanner.scan_matches(stretch, name, worker, summary, &mut found, |m| {
            accept.contains(&(m.whole.start + from))
        });
        // A keyword in the target is either copied from the base or within the stretches
        // searched (it touches an insert): the engine says whether it met a long rule's there.
        long |= long_rules.hit(worker);
        out.plain.extend(found.drain(..).map(|m| shift(m, from as isize)));
        for m in worker.last_decoded() {
            if accept.contains(&(m.origin.start + from)) && scanner.decoded_allowed(stretch, name, m, summary)
            {
                out.decoded.push(shift_decoded(m.clone(), from as isize));
            }
        }
    }
    // A rule whose match can outgrow the context (a PEM block) needs the whole target.
    if base.long || long {
        return Ok(None);
    }

    // Inherited matches: inside one copy, with w identical bytes around them (or the object's
    // own start or end on both sides).
    if !base.matches.is_empty() {
        for &(target, base_at, len) in &copies {
            let left_edge = base_at == 0 && target == 0;
            let right_edge = base_at + len == base_size as usize && target + len == data.len();
            let inside = |a: usize, b: usize| {
                a >= base_at
                    && b <= base_at + len
                    && (a >= base_at + w || left_edge)
                    && (b + w <= base_at + len || right_edge)
            };
            let by = target as isize - base_at as isize;
            for m in &base.matches.plain {
                if inside(m.whole.start.min(m.secret.start), m.whole.end.max(m.secret.end)) {
                    out.plain.push(shift(m.clone(), by));
                }
            }
            for m in &base.matches.decoded {
                if inside(m.origin.start, m.origin.end) {
                    out.decoded.push(shift_decoded(m.clone(), by));
                }
            }
        }
    }
    out.plain.sort_unstable_by(|a, b| {
        (a.secret.start, a.rule, a.secret.end).cmp(&(b.secret.start, b.rule, b.secret.end))
    });
    out.plain.dedup_by(|a, b| a.rule == b.rule && a.secret == b.secret);
    out.decoded.sort_by(|a, b| (a.origin.start, a.rule, &a.secret).cmp(&(b.origin.start, b.rule, &b.secret)));
    out.decoded.dedup_by(|a, b| a.rule == b.rule && a.origin == b.origin && a.secret == b.secret);
    Ok(Some(searched))
}

/// What a delta target inherits from its base.
#[derive(Clone, Copy)]
struct Base<'a> {
    /// The base's accepted matches.
    matches: &'a BlobMatches,
    /// Whether the base holds a long-rule keyword.
    long: bool,
}

/// Sorts and merges overlapping ranges, clamped to `len`.
fn merge(raw: &mut [(usize, usize)], len: usize) -> Vec<(usize, usize)> {
    raw.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in raw.iter() {
        let e = e.min(len);
        if s >= e {
            continue;
        }
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn move_range(r: Range<usize>, by: isize) -> Range<usize> {
    (r.start as isize + by) as usize..(r.end as isize + by) as usize
}

fn shift(m: RawMatch, by: isize) -> RawMatch {
    RawMatch { rule: m.rule, secret: move_range(m.secret, by), whole: move_range(m.whole, by) }
}

fn shift_decoded(m: DecodedMatch, by: isize) -> DecodedMatch {
    DecodedMatch { origin: move_range(m.origin, by), ..m }
}

/// The start of the line holding `at`.
fn line_start(data: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1)
}

/// The end (past the newline) of the line holding `at - 1`.
fn line_end(data: &[u8], at: usize) -> usize {
    if at == 0 || at >= data.len() || data[at - 1] == b'\n' {
        return at.min(data.len());
    }
    memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1)
}
