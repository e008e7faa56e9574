//! The decoding stage of a scan: decode what is encoded in an input, match the decoded
//! text with the same rules, and follow nested encodings down to the configured depth.
//!
//! Each depth is one *layer*: every decoded span of the layer above is written into one
//! buffer as a *segment*, `\n` + context + decoded text + closing quote + `\n`, and the
//! buffer is matched in one call to [`RuleSet::scan`] (one prefilter pass instead of one
//! per span). The context is the text before the span on its line (at most
//! [`CONTEXT`] bytes): `DB_PASSWORD: <base64>` decodes to `DB_PASSWORD: <password>`, so
//! rules that need a name before the value still apply. A match counts only if its secret
//! lies inside one segment's decoded text.
//!
//! Every segment remembers the span it came from in the input (for nested encodings, the
//! outermost span) and its chain of encodings, outermost first.

use std::ops::Range;

use super::{decode, find_candidates, max_decoded_len, Candidate, DecodeOptions, Encoding, MAX_DEPTH};
use crate::engine::{RawMatch, RuleSet, ScanCache};

/// How many bytes before a span on its line are copied in front of its decoded text.
pub const CONTEXT: usize = 48;

/// The encodings a decoded secret was found under, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chain {
    encodings: [Encoding; MAX_DEPTH as usize],
    len: u8,
}

impl Chain {
    fn one(encoding: Encoding) -> Self {
        Chain { encodings: [encoding; MAX_DEPTH as usize], len: 1 }
    }

    fn then(mut self, encoding: Encoding) -> Self {
        if (self.len as usize) < self.encodings.len() {
            self.encodings[self.len as usize] = encoding;
            self.len += 1;
        }
        self
    }

    /// The encodings, outermost first.
    pub fn as_slice(&self) -> &[Encoding] {
        &self.encodings[..self.len as usize]
    }
}

/// A match in decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedMatch {
    /// Index of the rule in its [`RuleSet`].
    pub rule: usize,
    /// The decoded secret.
    pub secret: Vec<u8>,
    /// The outermost encoded span in the input that holds it.
    pub origin: Range<usize>,
    /// How it was encoded, outermost first.
    pub chain: Chain,
}

#[derive(Debug, Clone)]
struct Segment {
    /// Where the segment (its context) starts in the layer buffer.
    start: usize,
    /// The decoded text in the layer buffer.
    body: Range<usize>,
    origin: Range<usize>,
    chain: Chain,
}

#[derive(Debug, Default)]
struct Layer {
    buffer: Vec<u8>,
    segments: Vec<Segment>,
}

impl Layer {
    fn clear(&mut self) {
        self.buffer.clear();
        self.segments.clear();
    }
}

/// Reusable buffers of the stage, one per worker thread.
#[derive(Debug, Default)]
pub struct DecodeScratch {
    candidates: Vec<Candidate>,
    current: Layer,
    next: Layer,
    raw: Vec<RawMatch>,
}

impl DecodeScratch {
    /// Gives back memory after an unusually large input, so that one huge file does not
    /// pin its buffers for the rest of a walk.
    fn shrink(&mut self) {
        const KEEP: usize = 4 << 20;
        for layer in [&mut self.current, &mut self.next] {
            if layer.buffer.capacity() > KEEP {
                *layer = Layer::default();
            }
        }
        if self.candidates.capacity() > KEEP / 16 {
            self.candidates = Vec::new();
        }
    }
}

/// What the stage did to one input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageReport {
    /// Some spans were not decoded because the input's decoded-bytes cap was reached, or
    /// the search for escaped literals used up its allowance on a hostile input.
    pub capped: bool,
}

/// Decodes `haystack` as `options` say and appends every match found in decoded text to
/// `out`. Matches of generic rules that overlap a specific rule's match in the same
/// decoded text are left out, as in plain text (`is_generic` tells them apart).
pub fn scan_decoded(
    rules: &RuleSet,
    haystack: &[u8],
    options: &DecodeOptions,
    scratch: &mut DecodeScratch,
    cache: &mut ScanCache,
    is_generic: impl Fn(usize) -> bool,
    out: &mut Vec<DecodedMatch>,
) -> StageReport {
    let mut report = StageReport::default();
    if !options.enabled() {
        return report;
    }
    let mut budget = options.max_bytes;
    let DecodeScratch { candidates, current, next, raw } = scratch;
    current.clear();
    candidates.clear();
    report.capped |= !find_candidates(haystack, options.encodings, candidates);
    for candidate in candidates.iter() {
        let chain = Chain::one(candidate.encoding);
        add_segment(haystack, candidate, candidate.span.clone(), chain, current, &mut budget, &mut report);
    }
    for depth in 1..=options.depth {
        if current.segments.is_empty() {
            break;
        }
        match_layer(rules, current, cache, raw, &is_generic, out);
        if depth == options.depth {
            break;
        }
        next.clear();
        for segment in &current.segments {
            let body = &current.buffer[segment.body.clone()];
            candidates.clear();
            report.capped |= !find_candidates(body, options.encodings, candidates);
            for candidate in candidates.iter() {
                let chain = segment.chain.then(candidate.encoding);
                add_segment(body, candidate, segment.origin.clone(), chain, next, &mut budget, &mut report);
            }
        }
        std::mem::swap(current, next);
    }
    scratch.shrink();
    report
}

/// Decodes `candidate` (a span of `source`) into a new segment of `layer`, with the text
/// before it on its line as context, if it decodes to text within the budget.
fn add_segment(
    source: &[u8],
    candidate: &Candidate,
    origin: Range<usize>,
    chain: Chain,
    layer: &mut Layer,
    budget: &mut usize,
    report: &mut StageReport,
) {
    let span = candidate.span.clone();
    let floor = span.start.saturating_sub(CONTEXT);
    let context_start = memchr::memrchr(b'\n', &source[floor..span.start]).map_or(floor, |i| floor + i + 1);
    // Not the end of the span's own word (`0x` before hex, `sha512-` before base64): glued
    // to the decoded text, it would hide a token's start from `\b`.
    let context_end = source[context_start..span.start]
        .iter()
        .rposition(|&b| !super::runs::is_alphabet(b))
        .map_or(context_start, |i| context_start + i + 1);
    let context = &source[context_start..context_end];
    let most = max_decoded_len(candidate) + context.len() + 3;
    if most > *budget {
        report.capped = true;
        return;
    }
    let start = layer.buffer.len();
    layer.buffer.push(b'\n');
    layer.buffer.extend_from_slice(context);
    let body_start = layer.buffer.len();
    if !decode(source, candidate, &mut layer.buffer) {
        layer.buffer.truncate(start);
        return;
    }
    let body = body_start..layer.buffer.len();
    // A closing quote after the span lets rules that want a quoted value match.
    if let Some(&quote @ (b'"' | b'\'' | b'`')) = source.get(span.end) {
        layer.buffer.push(quote);
    }
    layer.buffer.push(b'\n');
    *budget -= layer.buffer.len() - start;
    layer.segments.push(Segment { start, body, origin, chain });
}

/// Matches a layer's buffer and keeps the matches whose secret lies in decoded text.
fn match_layer(
    rules: &RuleSet,
    layer: &Layer,
    cache: &mut ScanCache,
    raw: &mut Vec<RawMatch>,
    is_generic: &impl Fn(usize) -> bool,
    out: &mut Vec<DecodedMatch>,
) {
    raw.clear();
    rules.scan(&layer.buffer, cache, |m| raw.push(m));
    // Specific secrets as sorted, disjoint spans: a generic match inside one yields, found
    // by binary search (thousands of decoded secrets in one file must not cost n²).
    let mut specific: Vec<Range<usize>> =
        raw.iter().filter(|m| !is_generic(m.rule)).map(|m| m.secret.clone()).collect();
    specific.sort_unstable_by_key(|s| s.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(specific.len());
    for span in specific {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    let inside_specific = |secret: &Range<usize>| {
        let after = merged.partition_point(|s| s.start < secret.end);
        after.checked_sub(1).is_some_and(|i| merged[i].end > secret.start)
    };
    for m in raw.iter() {
        if is_generic(m.rule) && inside_specific(&m.secret) {
            continue;
        }
        let index = layer.segments.partition_point(|s| s.start <= m.secret.start);
        let Some(segment) = index.checked_sub(1).map(|i| &layer.segments[i]) else {
            continue;
        };
        if m.secret.start < segment.body.start || m.secret.end > segment.body.end {
            continue; // in the context copied from the input: a plain match, seen there
        }
        out.push(DecodedMatch {
            rule: m.rule,
            secret: layer.buffer[m.secret.clone()].to_vec(),
            origin: segment.origin.clone(),
            chain: segment.chain,
        });
    }
}
