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
//! records where their keywords occur; those places are carried through copies like
//! matches, and only a keyword near a change is searched around, out to where its rule's
//! matches can reach.
//!
//! How far a rule's matches reach is read from its regex: the longest match, and whether
//! every match holds one of its keywords near its start (a token's prefix): then nothing
//! outside the match decides it. Otherwise a keyword up to a window away may have, and the
//! margins grow by the window.

use std::{cell::OnceCell, ops::Range};

use super::delta::{self, DeltaOp};
use crate::{
    decode::stage::DecodedMatch, engine::RawMatch, scan::InputName, sink::ScanSummary,
    suppress::inline::MarkedLines, Scanner, Worker,
};

/// Bytes searched on each side of an insert or a copy's edge. A rule whose matches are decided
/// within this distance of a change is found there; farther reaching rules are "long" and
/// are searched around their keywords.
pub const CONTEXT: usize = 832;

/// How far a line's edge is looked for directly before the newline index is built.
const NEAR_LINE: usize = 4096;

/// Bytes beyond a match that look-arounds may read.
const LOOK: usize = crate::engine::LOOK_AROUND;

/// How far each rule's matches depend on the bytes around them.
#[derive(Debug)]
pub struct Reach {
    /// Per rule: identical bytes a match needs on each side to be inherited.
    margin: Vec<usize>,
    /// Per rule: how far before a keyword a match can start.
    before: Vec<usize>,
    /// Per rule: how far past a keyword's start a match can end.
    after: Vec<usize>,
    /// Per rule: its matches can be decided farther than [`CONTEXT`] from a change.
    long: Vec<bool>,
}

impl Reach {
    /// The reach of `scanner`'s rules. A regex with no bound on its length (`\s*` between a
    /// key and its value) is taken to match within its keyword window, as it does in
    /// practice; only a scan of the whole blob follows such a match further.
    pub fn new(scanner: &Scanner) -> Self {
        let rules = scanner.rules().rules();
        let mut reach = Reach { margin: Vec::new(), before: Vec::new(), after: Vec::new(), long: Vec::new() };
        for rule in rules {
            if rule.rule.reader.is_some() {
                // A value read under a header: the header (recorded where the keyword
                // would be) and every row down to the value decide it, and it lies up to
                // MAX_TABLE past the header's start.
                reach.long.push(true);
                reach.margin.push(LOOK);
                reach.before.push(0);
                reach.after.push(crate::engine::columns::MAX_TABLE);
                continue;
            }
            let window = rule.rule.window();
            let len = rule.max_len().unwrap_or(window).min(1 << 20);
            let (margin, before, after) = match rule.keyword_at() {
                // The match holds its keyword: only its own bytes decide it.
                Some(at) => (LOOK, at, len),
                // A keyword up to a window away opened the search that found it.
                None => (window + LOOK, window, window + len),
            };
            // A match farther than `margin` from a change is inherited; a nearer one must lie,
            // with the keyword that finds it, within CONTEXT of the change.
            reach.long.push(margin + len + (before.max(after - len)) > CONTEXT);
            reach.margin.push(margin);
            reach.before.push(before);
            reach.after.push(after);
        }
        reach
    }

    /// `long[i]`: rule `i` reaches past [`CONTEXT`]; a worker watches these rules' keywords.
    pub fn long_rules(&self) -> Vec<bool> {
        self.long.clone()
    }

    /// Where a match found from rule `rule`'s keyword at `keyword` can lie.
    fn around(&self, rule: u32, keyword: &Range<usize>) -> (usize, usize) {
        let rule = rule as usize;
        (keyword.start.saturating_sub(self.before[rule] + LOOK), keyword.start + self.after[rule] + LOOK)
    }
}

/// A blob's accepted matches, and where long rules' keywords occur in it.
#[derive(Debug, Default)]
pub struct BlobMatches {
    /// Matches in plain text, sorted by position.
    pub plain: Vec<RawMatch>,
    /// Matches in decoded text, sorted by position.
    pub decoded: Vec<DecodedMatch>,
    /// Where long rules' keywords occur, as (rule, bytes).
    pub long: Vec<(u32, Range<usize>)>,
}

impl BlobMatches {
    /// What a whole-blob scan by `worker` found.
    pub fn from_worker(worker: &Worker) -> Self {
        BlobMatches {
            plain: worker.last_matches().to_vec(),
            decoded: worker.last_decoded().to_vec(),
            long: {
                let mut long = worker.watched_keywords().to_vec();
                long.sort_unstable_by_key(|(rule, keyword)| (keyword.start, *rule, keyword.end));
                long
            },
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
    lines: Lines<'a>,
}

/// Line edges in a target. A newline near the place asked about is looked for directly; a
/// longer line falls back to an index of every newline, built once, so that a minified file
/// cannot make each of many lookups walk its whole length.
struct Lines<'a> {
    data: &'a [u8],
    index: OnceCell<Vec<usize>>,
}

impl<'a> Lines<'a> {
    fn new(data: &'a [u8]) -> Self {
        Lines { data, index: OnceCell::new() }
    }

    fn newlines(&self) -> &[usize] {
        self.index.get_or_init(|| memchr::memchr_iter(b'\n', self.data).collect())
    }

    /// The start of the line holding `at`.
    fn start(&self, at: usize) -> usize {
        let at = at.min(self.data.len());
        let near = at.saturating_sub(NEAR_LINE);
        if let Some(i) = memchr::memrchr(b'\n', &self.data[near..at]) {
            return near + i + 1;
        }
        if near == 0 {
            return 0;
        }
        let newlines = self.newlines();
        match newlines.partition_point(|&n| n < at) {
            0 => 0,
            p => newlines[p - 1] + 1,
        }
    }

    /// The end (past the newline) of the line holding `at - 1`.
    fn end(&self, at: usize) -> usize {
        let len = self.data.len();
        if at == 0 || at >= len || self.data[at - 1] == b'\n' {
            return at.min(len);
        }
        let near = (at + NEAR_LINE).min(len);
        if let Some(i) = memchr::memchr(b'\n', &self.data[at..near]) {
            return at + i + 1;
        }
        if near == len {
            return len;
        }
        let newlines = self.newlines();
        newlines.get(newlines.partition_point(|&n| n < at)).map_or(len, |&n| n + 1)
    }
}

impl Copies<'_> {
    /// The copy holding target bytes `[a, b)` with `margin` identical bytes on each side and
    /// their whole lines (or identical out to both objects' start or end).
    fn holds(&self, a: usize, b: usize, margin: usize) -> Option<&Copy> {
        let at = self.list.partition_point(|c| c.target <= a).checked_sub(1)?;
        let copy = &self.list[at];
        let from = a.saturating_sub(margin).min(self.lines.start(a));
        let to = (b + margin).max(self.lines.end(b)).min(self.data.len());
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
    // What changed: inserts, and the edges of copies (a copy's bytes are only identical to
    // the base inside it), each with the context of the rules that are not long. Copies that
    // continue each other in both objects are one copy (git splits copies at 64 KiB), and a
    // copy edge at both objects' start or end changes nothing: `Copies::holds` says the same.
    let mut changed: Vec<(usize, usize)> = Vec::new();
    let mut list: Vec<Copy> = Vec::new();
    delta::for_each_op(instructions, |op| match op {
        DeltaOp::Insert { target, len } => changed.push((target as usize, (target + len) as usize)),
        DeltaOp::Copy { target, base, len } => {
            let (target, base, len) = (target as usize, base as usize, len as usize);
            match list.last_mut() {
                Some(last) if last.target + last.len == target && last.base + last.len == base => {
                    last.len += len
                }
                _ => list.push(Copy { target, base, len }),
            }
        }
    })?;
    let (base_size, target_size) = (base_size as usize, data.len());
    for copy in &list {
        if copy.target != 0 || copy.base != 0 {
            changed.push((copy.target, copy.target));
        }
        let (end, base_end) = (copy.target + copy.len, copy.base + copy.len);
        if end != target_size || base_end != base_size {
            changed.push((end, end));
        }
    }
    let copies = Copies { list, base_size, data, lines: Lines::new(data) };
    changed.sort_unstable();
    let near_change: Vec<(usize, usize)> = merge(
        &mut changed.iter().map(|&(s, e)| (s.saturating_sub(w), e + w)).collect::<Vec<_>>(),
        data.len(),
    );

    // Long rules' keywords, carried from the base through the copies (a keyword across a
    // copy's edge is in the searched stretches, found again there).
    for copy in &copies.list {
        let first = base.long.partition_point(|(_, keyword)| keyword.start < copy.base);
        for (rule, keyword) in base.long[first..].iter().take_while(|(_, k)| k.start < copy.base + copy.len) {
            if keyword.end <= copy.base + copy.len {
                let at = keyword.start - copy.base + copy.target;
                out.long.push((*rule, at..at + keyword.len()));
            }
        }
    }
    // Search near each change, and around each long keyword whose matches could be decided
    // by a change: out to where they can lie.
    let mut regions = near_change;
    regions.extend(long_regions(&out.long, &changed, reach));

    let mut searched = 0;
    let mut own_long = Vec::new();
    let mut search = |regions: &mut Vec<(usize, usize)>, out: &mut BlobMatches, long: &mut Vec<_>| {
        let stretches = search(scanner, worker, summary, data, &copies, reach, regions, out, long);
        searched += stretches.iter().map(|(s, e)| e - s).sum::<usize>();
        stretches
    };
    let covered = search(&mut regions, out, &mut own_long);
    // A long keyword in changed bytes whose matches could lie past what was searched.
    let mut extra: Vec<(usize, usize)> = own_long
        .iter()
        .map(|(rule, keyword): &(u32, Range<usize>)| reach.around(*rule, keyword))
        .filter(|&(s, e)| !covered.iter().any(|&(cs, ce)| cs <= s && e.min(data.len()) <= ce))
        .collect();
    if !extra.is_empty() {
        let mut more_long = Vec::new();
        search(&mut extra, out, &mut more_long);
        own_long.extend(more_long);
    }
    out.long.extend(own_long);
    out.long.sort_unstable_by_key(|(rule, keyword)| (keyword.start, *rule, keyword.end));
    out.long.dedup();

    // Inherited matches: those the predicate gives to the copies. Each copy looks only at
    // the base's matches that start inside it.
    let mut plain: Vec<(usize, usize, &RawMatch)> =
        base.plain.iter().map(|m| (span(m).0, span(m).1, m)).collect();
    plain.sort_unstable_by_key(|&(a, b, _)| (a, b));
    let mut decoded: Vec<&DecodedMatch> = base.decoded.iter().collect();
    decoded.sort_by_key(|m| m.origin.start);
    for copy in &copies.list {
        let by = copy.target as isize - copy.base as isize;
        let end = copy.base + copy.len;
        let first = plain.partition_point(|&(a, ..)| a < copy.base);
        for &(_, b, m) in plain[first..].iter().take_while(|&&(a, ..)| a < end) {
            if b <= end {
                let moved = shift(m.clone(), by);
                let (a, b) = span(&moved);
                if copies.inherits(a, b, reach.margin[m.rule]) {
                    out.plain.push(moved);
                }
            }
        }
        let first = decoded.partition_point(|m| m.origin.start < copy.base);
        for m in decoded[first..].iter().take_while(|m| m.origin.start < end) {
            if m.origin.end <= end {
                let moved = shift_decoded((*m).clone(), by);
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

/// The stretches to search around long keywords whose matches could be decided by a change.
fn long_regions<'a>(
    long: &'a [(u32, Range<usize>)],
    changed: &'a [(usize, usize)],
    reach: &'a Reach,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    long.iter().filter_map(move |(rule, keyword)| {
        let (s, e) = reach.around(*rule, keyword);
        let margin = reach.margin[*rule as usize];
        let (near_s, near_e) = (s.saturating_sub(margin), e + margin);
        // `changed` is sorted and its stretches do not overlap: the first ending at or after
        // `near_s` is the only candidate.
        let next = changed.partition_point(|&(_, ce)| ce < near_s);
        changed.get(next).is_some_and(|&(cs, _)| cs <= near_e).then_some((s, e))
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
        .map(|(s, e)| (copies.lines.start(s), copies.lines.end(e)))
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
        let mut lines = MarkedLines::new(stretch);
        for m in worker.last_decoded() {
            let (a, b) = (m.origin.start + from, m.origin.end + from);
            if !copies.inherits(a, b, CONTEXT) && scanner.decoded_allowed(&mut lines, name, m, summary) {
                out.decoded.push(shift_decoded(m.clone(), from as isize));
            }
        }
        long.extend(worker.watched_keywords().iter().map(|(rule, k)| (*rule, k.start + from..k.end + from)));
    }
    stretches
}

/// The bytes a match occupies ([`RawMatch::extent`]): the whole match, its secret group,
/// and a table value's header.
fn span(m: &RawMatch) -> (usize, usize) {
    let extent = m.extent();
    (extent.start, extent.end)
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
    RawMatch {
        rule: m.rule,
        secret: move_range(m.secret, by),
        whole: move_range(m.whole, by),
        anchor: m.anchor.map(|anchor| move_range(anchor, by)),
    }
}

fn shift_decoded(m: DecodedMatch, by: isize) -> DecodedMatch {
    DecodedMatch { origin: move_range(m.origin, by), ..m }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{scan::ScannerBuilder, Finding};
    use proptest::prelude::*;

    fn scanner() -> Scanner {
        ScannerBuilder::new(secretgate_patterns::builtin::rules().unwrap()).build().unwrap()
    }

    /// A git delta that rebuilds `target` from `base`: each line of the target found in the
    /// base is copied (neighbouring copies joined), every other line inserted.
    fn encode_delta(base: &[u8], target: &[u8]) -> Vec<u8> {
        fn varint(mut n: usize, out: &mut Vec<u8>) {
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    return;
                }
                out.push(byte | 0x80);
            }
        }
        fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
            haystack.windows(needle.len()).position(|w| w == needle)
        }
        let mut ops: Vec<(Option<usize>, Range<usize>)> = Vec::new(); // (base offset, target bytes)
        let mut at = 0;
        for line in target.split_inclusive(|&b| b == b'\n') {
            let range = at..at + line.len();
            at += line.len();
            match (find(base, line), ops.last_mut()) {
                (Some(from), Some((Some(prev), prev_range)))
                    if *prev + prev_range.len() == from && prev_range.end == range.start =>
                {
                    prev_range.end = range.end
                }
                (Some(from), _) => ops.push((Some(from), range)),
                (None, Some((None, prev_range))) => prev_range.end = range.end,
                (None, _) => ops.push((None, range)),
            }
        }
        let mut out = Vec::new();
        varint(base.len(), &mut out);
        varint(target.len(), &mut out);
        for (from, range) in ops {
            match from {
                Some(from) => {
                    let mut at = 0;
                    while at < range.len() {
                        let len = (range.len() - at).min(0xffff);
                        let offset = from + at;
                        out.push(0x80 | 0x0f | 0x30);
                        out.extend_from_slice(&(offset as u32).to_le_bytes());
                        out.extend_from_slice(&(len as u16).to_le_bytes());
                        at += len;
                    }
                }
                None => {
                    for chunk in target[range].chunks(127) {
                        out.push(chunk.len() as u8);
                        out.extend_from_slice(chunk);
                    }
                }
            }
        }
        out
    }

    fn whole(scanner: &Scanner, worker: &mut Worker, data: &[u8]) -> Vec<Finding> {
        let mut found = Vec::new();
        scanner.scan_input(data, InputName::same(""), worker, &mut ScanSummary::default(), &mut found);
        found
    }

    fn key(f: &Finding) -> (String, usize, usize, String) {
        (f.rule_id.clone(), f.line, f.column, f.secret.clone())
    }

    /// Lines to build texts from: code, secrets of short and long rules, encoded secrets,
    /// a line with an inline allow marker, a long minified line, and tables.
    fn line(kind: u8, seed: u32) -> String {
        const ALPHANUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let token = |len: usize| -> String {
            let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ALPHANUM[(state % ALPHANUM.len() as u64) as usize] as char
                })
                .collect()
        };
        let stripe = format!("{}{}", "sk_live_", token(28));
        match kind % 11 {
            0 => format!("let value_{seed} = compute({seed}) + offset;\n"),
            1 => format!("STRIPE_KEY = \"{stripe}\"\n"),
            2 => format!("password = \"{}\"\n", token(18)),
            // Longer than the context searched around a change.
            3 => format!(
                "-----BEGIN RSA {}-----\n{}-----END RSA {}-----\n",
                "PRIVATE KEY",
                (0..24).map(|i| format!("{}\n", &token(64 + i)[i..])).collect::<String>(),
                "PRIVATE KEY"
            ),
            4 => format!("blob = \"{}\"\n", b64(format!("stripe: {stripe}").as_bytes())),
            5 => format!("DROPBOX = \"sl.{}\"\n", token(140)),
            6 => format!("KEY = \"{stripe}\" # secretgate:allow\n"),
            // Values under a column header: an edit between the header and a row, or to
            // the header, decides the row's match.
            9 if seed % 2 == 0 => {
                format!("user,password,role\nbob{seed},{},admin\namy,{}x,ops\n", token(14), token(12))
            }
            9 => format!("| user | token |\n|---|---|\n| bob | {} |\n", token(16)),
            10 => format!(
                "INSERT INTO users (id, password) VALUES\n  ({seed}, '{}'),\n  (2, '{}');\n",
                token(13),
                token(15)
            ),
            7 => format!("{}\n", (0..40).map(|i| format!("var v{i}={seed};")).collect::<String>()),
            _ => format!("// comment {seed} about ssl. and tokens\n"),
        }
    }

    fn b64(data: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        /// Scanning a delta where it differs, with its base's matches, finds exactly what a
        /// scan of the whole target finds.
        #[test]
        fn a_delta_scan_finds_what_a_whole_scan_finds(
            base_lines in proptest::collection::vec((0u8..11, 0u32..1000), 20..120),
            edits in proptest::collection::vec((0usize..1000, 0u8..3, 0u8..11, 0u32..1000), 1..12),
            filler in 0usize..60,
        ) {
            let scanner = scanner();
            let reach = Reach::new(&scanner);
            let mut worker = scanner.worker();
            worker.watch_rules(reach.long_rules());
            let pad: String = (0..filler).map(|i| format!("plain line {i} of ordinary text here\n")).collect();
            let mut lines: Vec<String> = base_lines.iter().map(|&(k, s)| line(k, s)).collect();
            // A PEM block line by line, so that an edit can change part of it.
            let at = filler % lines.len();
            let pem = line(3, filler as u32 + 77);
            for (i, pem_line) in pem.split_inclusive('\n').enumerate() {
                lines.insert(at + i, pem_line.to_string());
            }
            let base = format!("{pad}{}", lines.concat());
            for &(at, op, kind, seed) in &edits {
                let at = at % (lines.len() + 1);
                match op {
                    0 => lines.insert(at, line(kind, seed + 5000)),
                    1 if at < lines.len() => { lines.remove(at); }
                    _ if at < lines.len() => lines[at] = line(kind, seed + 9000),
                    _ => lines.push(line(kind, seed)),
                }
            }
            let target = format!("{pad}{}", lines.concat());

            whole(&scanner, &mut worker, base.as_bytes());
            let base_matches = BlobMatches::from_worker(&worker);
            let expected: std::collections::BTreeSet<_> =
                whole(&scanner, &mut worker, target.as_bytes()).iter().map(key).collect();

            let delta = encode_delta(base.as_bytes(), target.as_bytes());
            let mut out = BlobMatches::default();
            let data = target.as_bytes();
            scan_delta(&scanner, &mut worker, &mut ScanSummary::default(), data, &delta, &base_matches, &reach, &mut out).unwrap();
            let mut found = Vec::new();
            scanner.findings_from_matches(data, InputName::same(""), &out.plain, &out.decoded, &mut found);
            let got: std::collections::BTreeSet<_> = found.iter().map(key).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
