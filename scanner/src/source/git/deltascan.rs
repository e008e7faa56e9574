//! Scanning a delta-stored blob where it differs from its base.
//!
//! A delta rebuilds its target from copies of its base and inserted bytes. A match of the
//! target that lies inside one copy, with the bytes that decide it identical around it (its
//! rule's keyword window and longest match, and its whole lines for inline markers and
//! allowlists), is the base's match moved: it is inherited, not searched for. Every other
//! match is near an insert or a copy's edge, and the stretches around those are searched.
//! The two sets are told apart by one predicate ([`Copies::holds`]), so each match of the
//! target is reported exactly once, and the findings are those of a scan of the whole blob.
//!
//! Rules whose matches reach further than [`CONTEXT`] (a PEM block, a Dropbox token of a
//! thousand characters) would need wide stretches around every edge. Instead the engine
//! records where their keywords open windows; those windows are carried through copies like
//! matches, and only a window near a change is searched, out to the rule's longest match.

use std::ops::Range;

use super::delta::{self, DeltaOp};
use crate::{
    decode::stage::DecodedMatch, engine::RawMatch, scan::InputName, sink::ScanSummary, Scanner, Worker,
};

/// Bytes searched on each side of an insert or a copy's edge. A rule whose matches depend on
/// bytes at most this far away (keyword window plus longest match) is found there; farther
/// reaching rules are "long" and handled through their keyword windows.
pub const CONTEXT: usize = 832;

/// How far each rule's matches depend on the bytes around them.
#[derive(Debug)]
pub struct Reach {
    /// Per rule: identical bytes a match needs on each side to be inherited.
    margin: Vec<usize>,
    /// Per rule: the longest match.
    max_len: Vec<usize>,
    /// Per rule: reaches past [`CONTEXT`].
    long: Vec<bool>,
}

impl Reach {
    /// The reach of `scanner`'s rules. A regex with no bound on its length (`\s*` between a
    /// key and its value) is taken to match within its keyword window, as it does in
    /// practice; only a scan of the whole blob follows such a match further.
    pub fn new(scanner: &Scanner) -> Self {
        let rules = scanner.rules().rules();
        let max_len: Vec<usize> =
            rules.iter().map(|c| c.max_len().unwrap_or(c.rule.window()).min(1 << 20)).collect();
        let margin: Vec<usize> = rules.iter().zip(&max_len).map(|(c, len)| c.rule.window() + len).collect();
        let long = margin.iter().map(|&m| m > CONTEXT).collect();
        Reach { margin, max_len, long }
    }

    /// `long[i]`: rule `i` reaches past [`CONTEXT`]; a worker watches these rules' windows.
    pub fn long_rules(&self) -> Vec<bool> {
        self.long.clone()
    }
}

/// A blob's accepted matches, and where long rules' keywords occur in it.
#[derive(Debug, Default)]
pub struct BlobMatches {
    /// Matches in plain text, sorted by position.
    pub plain: Vec<RawMatch>,
    /// Matches in decoded text, sorted by position.
    pub decoded: Vec<DecodedMatch>,
    /// Windows around long rules' keywords, as (rule, bytes).
    pub long: Vec<(u32, Range<usize>)>,
}

impl BlobMatches {
    /// Whether there is nothing to inherit.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.decoded.is_empty() && self.long.is_empty()
    }

    /// What a whole-blob scan by `worker` found.
    pub fn from_worker(worker: &Worker) -> Self {
        BlobMatches {
            plain: worker.last_matches().to_vec(),
            decoded: worker.last_decoded().to_vec(),
            long: worker.watched_windows().to_vec(),
        }
    }
}

/// One copy instruction: `len` bytes from `base` in the base to `target` in the target.
#[derive(Debug, Clone, Copy)]
struct Copy {
    target: usize,
    base: usize,
    len: usize,
}

/// A delta's copies, in target order.
struct Copies<'a> {
    list: Vec<Copy>,
    base_size: usize,
    data: &'a [u8],
}

impl Copies<'_> {
    /// The copy holding target bytes `[a, b)` with `margin` identical bytes on each side and
    /// their whole lines (or identical out to both objects' start or end).
    fn holds(&self, a: usize, b: usize, margin: usize) -> Option<&Copy> {
        let at = self.list.partition_point(|c| c.target <= a).checked_sub(1)?;
        let copy = &self.list[at];
        let from = a.saturating_sub(margin).min(line_start(self.data, a));
        let to = (b + margin).max(line_end(self.data, b)).min(self.data.len());
        let starts_both = copy.target == 0 && copy.base == 0;
        let ends_both = copy.target + copy.len == self.data.len() && copy.base + copy.len == self.base_size;
        let before_ok = from >= copy.target || (starts_both && a >= copy.target);
        let after_ok = to <= copy.target + copy.len || (ends_both && b <= copy.target + copy.len);
        (before_ok && after_ok).then_some(copy)
    }

    fn inherits(&self, a: usize, b: usize, margin: usize) -> bool {
        self.holds(a, b, margin).is_some()
    }
}

/// Scans a delta target `data` where it differs from its base (`instructions` rebuild it
/// from a base whose matches are `base`) and inherits the rest; returns the bytes searched.
#[allow(clippy::too_many_arguments)]
pub fn scan_delta(
    scanner: &Scanner,
    worker: &mut Worker,
    summary: &mut ScanSummary,
    data: &[u8],
    instructions: &[u8],
    base: &BlobMatches,
    reach: &Reach,
    out: &mut BlobMatches,
) -> Result<usize, delta::MalformedDelta> {
    let w = CONTEXT;
    let (base_size, target_size) = delta::sizes(instructions)?;
    if target_size as usize != data.len() {
        return Err(delta::MalformedDelta("target size differs from the object"));
    }
    // What changed: inserts, and the edges between ops (a copy's bytes are only identical
    // to the base inside it), each with the context of the rules that are not long.
    let mut changed: Vec<(usize, usize)> = vec![(0, 0), (data.len(), data.len())];
    let mut list = Vec::new();
    delta::for_each_op(instructions, |op| match op {
        DeltaOp::Insert { target, len } => changed.push((target as usize, (target + len) as usize)),
        DeltaOp::Copy { target, base, len } => {
            changed.push((target as usize, target as usize));
            list.push(Copy { target: target as usize, base: base as usize, len: len as usize });
        }
    })?;
    let copies = Copies { list, base_size: base_size as usize, data };
    let near_change: Vec<(usize, usize)> = merge(
        &mut changed.iter().map(|&(s, e)| (s.saturating_sub(w), e + w)).collect::<Vec<_>>(),
        data.len(),
    );

    // Long rules' windows, carried from the base through the copies (clipped to them).
    for copy in &copies.list {
        let in_base = copy.base..copy.base + copy.len;
        for (rule, window) in &base.long {
            let (s, e) = (window.start.max(in_base.start), window.end.min(in_base.end));
            if s < e {
                out.long.push((*rule, s - copy.base + copy.target..e - copy.base + copy.target));
            }
        }
    }
    // Search near each change, and around each long window whose rule's matches there could
    // reach a change: from the window out to its longest match.
    let mut regions = near_change.clone();
    regions.extend(long_regions(&out.long, &changed, reach, data.len()));
    let mut regions = regions;

    let mut searched = 0;
    let mut own_long = Vec::new();
    let mut search = |regions: &mut Vec<(usize, usize)>, out: &mut BlobMatches, long: &mut Vec<_>| {
        let stretches = search(scanner, worker, summary, data, &copies, reach, regions, out, long);
        searched += stretches.iter().map(|(s, e)| e - s).sum::<usize>();
        stretches
    };
    let covered = search(&mut regions, out, &mut own_long);
    // A long keyword in changed bytes whose match could run past what was searched.
    let mut extra: Vec<(usize, usize)> = own_long
        .iter()
        .map(|(rule, window): &(u32, Range<usize>)| {
            (window.start, window.end + reach.max_len[*rule as usize])
        })
        .filter(|&(s, e)| !covered.iter().any(|&(cs, ce)| cs <= s && e.min(data.len()) <= ce))
        .collect();
    if !extra.is_empty() {
        let mut more_long = Vec::new();
        search(&mut extra, out, &mut more_long);
        own_long.extend(more_long);
    }
    out.long.extend(own_long);
    out.long.sort_unstable_by(|a, b| (a.0, a.1.start).cmp(&(b.0, b.1.start)));
    out.long.dedup_by(|next, kept| {
        let joined = next.0 == kept.0 && next.1.start <= kept.1.end;
        if joined {
            kept.1.end = kept.1.end.max(next.1.end);
        }
        joined
    });

    // Inherited matches: those the predicate gives to the copies.
    for copy in &copies.list {
        let by = copy.target as isize - copy.base as isize;
        let in_base = |a: usize, b: usize| a >= copy.base && b <= copy.base + copy.len;
        for m in &base.plain {
            let (a, b) = span(m);
            if in_base(a, b) {
                let moved = shift(m.clone(), by);
                let (a, b) = span(&moved);
                if copies.inherits(a, b, reach.margin[m.rule]) {
                    out.plain.push(moved);
                }
            }
        }
        for m in &base.decoded {
            if in_base(m.origin.start, m.origin.end) {
                let moved = shift_decoded(m.clone(), by);
                if copies.inherits(moved.origin.start, moved.origin.end, w) {
                    out.decoded.push(moved);
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
    Ok(searched)
}

/// The stretches to search around long windows that lie near a change.
fn long_regions<'a>(
    long: &'a [(u32, Range<usize>)],
    changed: &'a [(usize, usize)],
    reach: &'a Reach,
    len: usize,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    long.iter().filter_map(move |(rule, window)| {
        let rule = *rule as usize;
        let far = reach.max_len[rule] + reach.margin[rule];
        let (s, e) = (window.start.saturating_sub(far), window.end + far);
        changed
            .iter()
            .any(|&(cs, ce)| cs <= e && ce >= s)
            .then(|| (window.start, (window.end + reach.max_len[rule]).min(len)))
    })
}

/// Searches `regions` (merged and widened to whole lines first) and keeps the matches the
/// copies do not hold; returns the stretches searched.
#[allow(clippy::too_many_arguments)]
fn search(
    scanner: &Scanner,
    worker: &mut Worker,
    summary: &mut ScanSummary,
    data: &[u8],
    copies: &Copies,
    reach: &Reach,
    regions: &mut [(usize, usize)],
    out: &mut BlobMatches,
    long: &mut Vec<(u32, Range<usize>)>,
) -> Vec<(usize, usize)> {
    let mut lines: Vec<(usize, usize)> = merge(regions, data.len())
        .into_iter()
        .map(|(s, e)| (line_start(data, s), line_end(data, e)))
        .collect();
    let stretches = merge(&mut lines, data.len());
    let name = InputName::same("");
    let mut found = Vec::new();
    for &(from, to) in &stretches {
        let stretch = &data[from..to];
        found.clear();
        scanner.scan_matches(stretch, name, worker, summary, &mut found, |m| {
            let (a, b) = span(m);
            !copies.inherits(a + from, b + from, reach.margin[m.rule])
        });
        out.plain.extend(found.drain(..).map(|m| shift(m, from as isize)));
        for m in worker.last_decoded() {
            let (a, b) = (m.origin.start + from, m.origin.end + from);
            if !copies.inherits(a, b, CONTEXT) && scanner.decoded_allowed(stretch, name, m, summary) {
                out.decoded.push(shift_decoded(m.clone(), from as isize));
            }
        }
        // A window cut short by the stretch's edge may have reached further in the blob.
        let rules = scanner.rules().rules();
        long.extend(worker.watched_windows().iter().map(|(rule, w)| {
            let reach = rules[*rule as usize].rule.window();
            let start = if w.start == 0 { from.saturating_sub(reach) } else { w.start + from };
            let end = if w.end == stretch.len() { to + reach } else { w.end + from };
            (*rule, start..end.min(data.len()))
        }));
    }
    stretches
}

/// The bytes a match occupies: the whole match and its secret group.
fn span(m: &RawMatch) -> (usize, usize) {
    (m.whole.start.min(m.secret.start), m.whole.end.max(m.secret.end))
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
    memchr::memrchr(b'\n', &data[..at.min(data.len())]).map_or(0, |i| i + 1)
}

/// The end (past the newline) of the line holding `at - 1`.
fn line_end(data: &[u8], at: usize) -> usize {
    if at == 0 || at >= data.len() || data[at - 1] == b'\n' {
        return at.min(data.len());
    }
    memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1)
}
