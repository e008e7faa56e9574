//! Hex: keys kept as hex strings (`0x` or not) in configs and code.

use std::ops::Range;

use super::runs::{self, Classes, DIGIT, LOWER, NOT_HEX, UPPER};

/// 32 hex digits: 16 bytes, the shortest secret worth decoding. Digests (40, 64, 128
/// digits) are also this long; they decode to binary and are dropped after one probe.
pub const MIN_LEN: usize = 32;

/// Bytes decoded before the rest, to drop digests and binary keys cheaply.
const PROBE: usize = 32;

/// Calls `on_span` with every hex value of at least [`MIN_LEN`] digits (cut to an even
/// length) in the alphabet run `run` of `haystack`: the whole run, or a piece of it between
/// separators (`0x...`, `key_...`, `sha1-...`) in a run of one letter case.
pub fn candidates(
    haystack: &[u8],
    run: Range<usize>,
    classes: Classes,
    mut on_span: impl FnMut(Range<usize>),
) {
    if run.len() < MIN_LEN || classes & DIGIT == 0 {
        return; // hex of 16+ bytes without a digit is too rare to look for
    }
    let mut emit = |piece: Range<usize>| {
        let len = piece.len() & !1;
        if len >= MIN_LEN && runs::classes(&haystack[piece.clone()]) & NOT_HEX == 0 {
            on_span(piece.start..piece.start + len);
        }
    };
    if classes & NOT_HEX == 0 {
        emit(run);
        return;
    }
    // Hex is written in one case, and so are the words glued to it (`0x`, `key_`); a
    // mixed-case run is base64 or an identifier, and splitting it would cost a branchy
    // walk over its every byte (measured: a quarter of the stage's time on lockfiles).
    if classes & (UPPER | LOWER) == UPPER | LOWER {
        return;
    }
    let is_separator = |b: u8| matches!(b, b'-' | b'_' | b'+' | b'/' | b'x' | b'X');
    let mut start = run.start;
    for i in run.clone() {
        if is_separator(haystack[i]) {
            emit(start..i);
            start = i + 1;
        }
    }
    emit(start..run.end);
}

/// An upper bound of the decoded size of `len` digits.
pub fn max_decoded_len(len: usize) -> usize {
    len / 2
}

fn nibble(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|n| n as u8)
}

/// Decodes `src` (an even number of hex digits) onto the end of `out` if it is hex of
/// text; otherwise leaves `out` as it was and returns `false`.
pub fn decode(src: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    for (i, pair) in src.chunks(2).enumerate() {
        let byte = match (pair.first().copied().and_then(nibble), pair.get(1).copied().and_then(nibble)) {
            (Some(high), Some(low)) => high << 4 | low,
            _ => {
                out.truncate(start);
                return false;
            }
        };
        out.push(byte);
        if i + 1 == PROBE / 2 && !crate::decode::text::is_text_prefix(&out[start..]) {
            out.truncate(start);
            return false;
        }
    }
    crate::decode::text::keep_if_text(out, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_decoding() {
        let text = b"key_0x73656372657420746f6b656e2076616c7565 end";
        let mut spans = Vec::new();
        candidates(text, 0..42, crate::decode::runs::classes(&text[..42]), |s| spans.push(s));
        assert_eq!(spans, vec![6..42]);
        let mut out = Vec::new();
        assert!(decode(&text[6..42], &mut out));
        assert_eq!(out, b"secret token value");
        assert!(!decode(b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &mut out));
        assert!(!decode(b"zz", &mut out));
        assert_eq!(out, b"secret token value");
    }
}
