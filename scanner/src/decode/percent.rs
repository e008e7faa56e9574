//! Percent-encoding (`%40`, `%2F`): passwords in connection URLs, URLs inside query
//! parameters, form-encoded bodies.

use std::ops::Range;

/// Shortest token worth decoding.
pub const MIN_LEN: usize = 12;

/// How far a token is followed from its first `%XX` each way. A token is a URL or a
/// value; anything longer is data, and the bound keeps a pathological line linear.
const REACH: usize = 4096;

fn is_escape_at(haystack: &[u8], at: usize) -> bool {
    haystack.len() > at + 2 && haystack[at + 1].is_ascii_hexdigit() && haystack[at + 2].is_ascii_hexdigit()
}

/// Finds tokens (runs of [`super::is_token_byte`]s) that hold a `%XX` escape, fed the
/// offsets of the `%` bytes in increasing order.
#[derive(Debug, Default)]
pub struct Finder {
    /// Everything before this is inside a token already reported.
    done: usize,
}

impl Finder {
    /// Looks at the `%` at `at`; calls `on_span` once per token.
    pub fn visit(&mut self, haystack: &[u8], at: usize, on_span: &mut impl FnMut(Range<usize>)) {
        if at < self.done || !is_escape_at(haystack, at) {
            return;
        }
        let floor = at.saturating_sub(REACH).max(self.done);
        let start = haystack[floor..at]
            .iter()
            .rposition(|&b| !super::is_token_byte(b))
            .map_or(floor, |i| floor + i + 1);
        let ceiling = (at + REACH).min(haystack.len());
        let end =
            haystack[at..ceiling].iter().position(|&b| !super::is_token_byte(b)).map_or(ceiling, |i| at + i);
        self.done = end;
        if end - start >= MIN_LEN {
            on_span(start..end);
        }
    }
}

/// Calls `on_span` with every token that holds a `%XX` escape, once per token.
pub fn candidates(haystack: &[u8], mut on_span: impl FnMut(Range<usize>)) {
    let mut finder = Finder::default();
    for at in memchr::memchr_iter(b'%', haystack) {
        finder.visit(haystack, at, &mut on_span);
    }
}

/// An upper bound of the decoded size of `len` bytes.
pub fn max_decoded_len(len: usize) -> usize {
    len
}

/// Decodes every `%XX` of `src` onto the end of `out` (other bytes are copied, `+` stays a
/// plus: passwords hold them more often than forms turn spaces into them). Returns
/// `false`, leaving `out` as it was, when the result is not text.
pub fn decode(src: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let mut i = 0;
    while i < src.len() {
        if src[i] == b'%' && is_escape_at(src, i) {
            let hex = [src[i + 1], src[i + 2]];
            let text = std::str::from_utf8(&hex).expect("two ASCII hex digits");
            out.push(u8::from_str_radix(text, 16).expect("two hex digits parse"));
            i += 3;
        } else {
            out.push(src[i]);
            i += 1;
        }
    }
    crate::decode::text::keep_if_text(out, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_with_escapes() {
        let text = b"url = \"https%3A%2F%2Fhooks.example.org%2Fx\" and 100% sure, printf(\"%02x\")";
        let mut spans = Vec::new();
        candidates(text, |s| spans.push(s));
        assert_eq!(spans, vec![7..42]);
        let mut out = Vec::new();
        assert!(decode(&text[7..42], &mut out));
        assert_eq!(out, b"https://hooks.example.org/x");
        assert!(!decode(b"%02x%00abcdefgh", &mut out), "control bytes are not text");
        assert!(decode(b"trailing %", &mut out));
        assert!(decode(b"bad %zz escape %4", &mut out));
    }
}
