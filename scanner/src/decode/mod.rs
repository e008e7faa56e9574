//! Decoding of encoded and escaped text, so that a secret written as base64, hex,
//! percent-encoding or backslash escapes is still matched.
//!
//! Bytes in, decoded text out; like the [`crate::engine`], this knows nothing of files or
//! findings. [`stage`] drives it inside [`crate::Scanner::scan_input`]:
//!
//! 1. [`find_candidates`] finds encoded spans cheaply: one pass over the input for runs of
//!    the base64 alphabet ([`runs`]; base64 and hex candidates come from those runs), and
//!    `memchr` for `%` ([`percent`]) and `\` ([`escape`]).
//! 2. [`decode`] decodes a span, and keeps the result only if it is text ([`text`]):
//!    images, compressed data, digests and ciphertext are dropped before matching.
//! 3. The decoded text goes through the same rules; its own encoded spans are decoded in
//!    turn, up to [`DecodeOptions::depth`] encodings deep.

pub mod base64;
pub mod escape;
pub mod hex;
pub mod percent;
pub mod runs;
pub mod stage;
pub mod text;

use std::{fmt, ops::Range};

use serde::{Deserialize, Serialize};

/// An encoding that is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Base64, standard or URL-safe, padded or not.
    Base64,
    /// Percent-encoding (`%2F`).
    Percent,
    /// Backslash escapes inside string literals (`\/`, `\"`, `\u0041`, `\x41`, `\n`).
    Escape,
    /// Hexadecimal digits.
    Hex,
}

impl Encoding {
    /// Every encoding, in the order they are documented.
    pub const ALL: [Encoding; 4] = [Encoding::Base64, Encoding::Percent, Encoding::Escape, Encoding::Hex];

    /// The name used in configuration and reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
            Encoding::Hex => "hex",
        }
    }

    /// The encoding called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingSet(u8);

impl EncodingSet {
    /// No encoding.
    pub const NONE: EncodingSet = EncodingSet(0);
    /// Every encoding.
    pub const ALL: EncodingSet = EncodingSet(0b1111);

    fn bit(encoding: Encoding) -> u8 {
        1 << encoding as u8
    }

    /// Whether `encoding` is in the set.
    pub fn contains(self, encoding: Encoding) -> bool {
        self.0 & Self::bit(encoding) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Encoding> for EncodingSet {
    fn from_iter<I: IntoIterator<Item = Encoding>>(iter: I) -> Self {
        EncodingSet(iter.into_iter().fold(0, |set, e| set | Self::bit(e)))
    }
}

/// Default nesting depth: base64 of a JSON document that holds a percent-encoded URL.
pub const DEFAULT_DEPTH: u8 = 2;
/// The deepest nesting that can be configured.
pub const MAX_DEPTH: u8 = 8;
/// Default cap on decoded bytes per input.
pub const DEFAULT_MAX_BYTES: usize = 16 << 20;

/// What to decode, how deep, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// How many encodings deep to follow: 0 turns decoding off, 1 decodes what is in the
    /// input, 2 also what is inside that, and so on.
    pub depth: u8,
    /// The encodings to decode.
    pub encodings: EncodingSet,
    /// At most this many decoded bytes per input, over all depths. Spans that would pass
    /// it are not decoded, and the input is counted in
    /// [`crate::ScanSummary::decode_capped`]. This bounds memory to the input plus this.
    pub max_bytes: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { depth: DEFAULT_DEPTH, encodings: EncodingSet::ALL, max_bytes: DEFAULT_MAX_BYTES }
    }
}

impl DecodeOptions {
    /// Decoding turned off.
    pub fn off() -> Self {
        DecodeOptions { depth: 0, ..Self::default() }
    }

    /// Whether anything is decoded at all.
    pub fn enabled(&self) -> bool {
        self.depth > 0 && !self.encodings.is_empty() && self.max_bytes > 0
    }
}

/// An encoded span of some input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its bytes in the input.
    pub span: Range<usize>,
    /// How it is encoded.
    pub encoding: Encoding,
}

/// The bytes that end a token in code and config (shared with the engine's windows).
pub(crate) use crate::engine::is_token_byte;

/// Appends every candidate span of `haystack` in `encodings` to `out`. Spans of different
/// encodings may overlap (a base64 value inside an escaped string literal). Returns
/// `false` when the search for escaped literals stopped early on a hostile input (see
/// [`escape::candidates`]).
pub fn find_candidates(haystack: &[u8], encodings: EncodingSet, out: &mut Vec<Candidate>) -> bool {
    let (base64, hex) = (encodings.contains(Encoding::Base64), encodings.contains(Encoding::Hex));
    if base64 || hex {
        // One constant length for both (hex checks its own, longer, minimum): a constant
        // lets the compiler unroll the run-length test of the hot loop.
        runs::for_each_run::<{ self::base64::MIN_LEN }>(haystack, |run| {
            let classes = runs::classes(&haystack[run.clone()]);
            if base64 {
                if let Some(span) = self::base64::candidate(haystack, run.clone(), classes) {
                    out.push(Candidate { span, encoding: Encoding::Base64 });
                }
            }
            if hex {
                self::hex::candidates(haystack, run, classes, |span| {
                    out.push(Candidate { span, encoding: Encoding::Hex })
                });
            }
        });
    }
    // `%` and `\` in one memchr pass: the second pass over every byte cost 1% of a scan.
    let (percent, escape) = (encodings.contains(Encoding::Percent), encodings.contains(Encoding::Escape));
    let mut percents = percent::Finder::default();
    let mut escapes = escape::Finder::new(haystack.len());
    let needles: &[u8] = match (percent, escape) {
        (true, true) => b"%\\",
        (true, false) => b"%",
        (false, true) => b"\\",
        (false, false) => b"",
    };
    if let [first, rest @ ..] = needles {
        let second = rest.first().copied().unwrap_or(*first);
        for at in memchr::memchr2_iter(*first, second, haystack) {
            if haystack[at] == b'%' {
                percents.visit(haystack, at, &mut |span| {
                    out.push(Candidate { span, encoding: Encoding::Percent })
                });
            } else {
                escapes.visit(haystack, at, &mut |span| {
                    out.push(Candidate { span, encoding: Encoding::Escape })
                });
            }
        }
    }
    !escapes.exhausted()
}

/// An upper bound of the size `candidate` decodes to.
pub fn max_decoded_len(candidate: &Candidate) -> usize {
    let len = candidate.span.len();
    match candidate.encoding {
        Encoding::Base64 => self::base64::max_decoded_len(len),
        Encoding::Percent => percent::max_decoded_len(len),
        Encoding::Escape => escape::max_decoded_len(len),
        Encoding::Hex => self::hex::max_decoded_len(len),
    }
}

/// Decodes `candidate` (a span of `haystack`) onto the end of `out` if it decodes to text.
/// Otherwise `out` is left as it was and the result is `false`. Never panics on any input.
pub fn decode(haystack: &[u8], candidate: &Candidate, out: &mut Vec<u8>) -> bool {
    let src = &haystack[candidate.span.clone()];
    match candidate.encoding {
        Encoding::Base64 => self::base64::decode(src, out),
        Encoding::Percent => percent::decode(src, out),
        Encoding::Escape => escape::decode(src, out),
        Encoding::Hex => self::hex::decode(src, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&[u8]] = &[
        b"dXNlcjpwYXNzd29yZDEyMw",
        b"=",
        b"==",
        b"%",
        b"%4",
        b"%41",
        b"%zz",
        b"\\",
        b"\\u",
        b"\\u00",
        b"\\x4",
        b"\\u{1F6",
        b"\"",
        b"'",
        b"`",
        b"\n",
        b"0x",
        b"deadbeef",
        b"6162636465",
        b"+/",
        b"-_",
        b"\xff",
        b"\0",
        b"AbCdEfGh0123456789",
        b" ",
    ];

    fn decode_everything(input: &[u8]) {
        let mut candidates = Vec::new();
        find_candidates(input, EncodingSet::ALL, &mut candidates);
        let mut out = Vec::new();
        for candidate in &candidates {
            assert!(candidate.span.end <= input.len() && candidate.span.start <= candidate.span.end);
            let before = out.len();
            if decode(input, candidate, &mut out) {
                assert!(out.len() - before <= max_decoded_len(candidate));
                assert!(text::is_text(&out[before..]));
            } else {
                assert_eq!(out.len(), before);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Random bytes, and random mixes of truncated escapes, bad padding and stray `%`,
        /// never panic a decoder, and decoded output is always text within its bound.
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            decode_everything(&bytes);
        }

        #[test]
        fn hostile_pieces_decode_without_panic(parts in proptest::collection::vec(0..PIECES.len(), 0..300)) {
            let input: Vec<u8> = parts.iter().flat_map(|&i| PIECES[i].iter().copied()).collect();
            decode_everything(&input);
        }
    }

    #[test]
    fn names_round_trip() {
        for encoding in Encoding::ALL {
            assert_eq!(Encoding::from_name(encoding.name()), Some(encoding));
        }
        assert_eq!(Encoding::from_name("rot13"), None);
    }

    #[test]
    fn a_percent_sign_at_the_very_end() {
        decode_everything(b"password=abc%");
        decode_everything(b"%");
        decode_everything(b"x\\");
    }
}
