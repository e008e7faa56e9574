//! Backslash escapes inside string literals: JSON and JavaScript write `/` as `\/` and
//! characters as `\u00XX`; notebooks keep code as JSON strings full of `\"` and `\n`.

use std::ops::Range;

/// Shortest literal worth decoding.
pub const MIN_LEN: usize = 12;

/// How far forward from an opening quote its closing quote is looked for.
const FORWARD_REACH: usize = 64 << 10;

/// Work allowed per input, as bytes looked at while searching for closing quotes: this
/// many times the input's length (plus a constant for small inputs). Hostile lines (an
/// unclosed quote followed by thousands of backslashes) would otherwise rescan the same
/// 64 KiB for every backslash; past the allowance the search stops and says so.
const WORK_PER_BYTE: usize = 4;
const WORK_MIN: usize = 1 << 20;

const QUOTES: [u8; 3] = [b'"', b'\'', b'`'];

/// Where a literal opened by the quote at `open` closes, if it does on the same line
/// within reach: the first unescaped same quote after it. Also returns how many bytes
/// were looked at.
fn closing_quote(haystack: &[u8], open: usize) -> (Option<usize>, usize) {
    let quote = haystack[open];
    let end = (open + 1 + FORWARD_REACH).min(haystack.len());
    let mut i = open + 1;
    while i < end {
        match haystack[i] {
            b'\\' => i += 2,
            b'\n' => return (None, i - open),
            byte if byte == quote => return (Some(i), i - open),
            _ => i += 1,
        }
    }
    (None, end - open)
}

/// Finds the contents (quotes excluded) of one-line string literals that hold a
/// backslash, fed the offsets of the backslashes in increasing order. The literal around
/// a backslash is found from the nearest quote before it on its line; the nearer of `"`,
/// `'` and `` ` `` that closes is taken.
///
/// Linear in the input: the line start and the nearest quotes are carried from one
/// backslash to the next (each byte is searched backwards once), a quote that did not
/// close is remembered, and the forward search has an allowance.
#[derive(Debug)]
pub struct Finder {
    allowance: usize,
    work: usize,
    /// Nothing before this opens a literal (it was inside one already handled).
    done: usize,
    /// Everything before this has been searched for newlines and quotes.
    searched: usize,
    line_start: usize,
    /// The nearest quote of each kind on the current line, at or after `done`.
    nearest: [Option<usize>; 3],
    /// The last quote of each kind found not to close (closing depends on the quote only).
    unclosed: [Option<usize>; 3],
}

impl Finder {
    /// A finder over a haystack of `len` bytes.
    pub fn new(len: usize) -> Self {
        Finder {
            allowance: len.saturating_mul(WORK_PER_BYTE).max(WORK_MIN),
            work: 0,
            done: 0,
            searched: 0,
            line_start: 0,
            nearest: [None; 3],
            unclosed: [None; 3],
        }
    }

    /// Whether the allowance for the forward search is used up: later backslashes are
    /// not looked at.
    pub fn exhausted(&self) -> bool {
        self.work > self.allowance
    }

    /// Looks at the backslash at `at`; calls `on_span` once per literal.
    pub fn visit(&mut self, haystack: &[u8], at: usize, on_span: &mut impl FnMut(Range<usize>)) {
        if at < self.done || self.exhausted() {
            return;
        }
        let from = self.searched.max(self.done);
        if let Some(newline) = memchr::memrchr(b'\n', &haystack[from..at]) {
            self.line_start = from + newline + 1;
            self.nearest = [None; 3];
        }
        let region = from.max(self.line_start);
        for (slot, quote) in self.nearest.iter_mut().zip(QUOTES) {
            if let Some(i) = memchr::memrchr(quote, &haystack[region..at]) {
                *slot = Some(region + i);
            }
            if slot.is_some_and(|open| open < self.done) {
                *slot = None;
            }
        }
        self.searched = at;
        let mut order = [0usize, 1, 2];
        order.sort_unstable_by_key(|&k| std::cmp::Reverse(self.nearest[k]));
        let mut literal = None;
        for kind in order {
            let Some(open) = self.nearest[kind] else { continue };
            if self.unclosed[kind] == Some(open) {
                continue;
            }
            let (close, looked_at) = closing_quote(haystack, open);
            self.work += looked_at;
            match close {
                Some(close) => {
                    literal = Some(open + 1..close);
                    break;
                }
                None => self.unclosed[kind] = Some(open),
            }
        }
        match literal {
            Some(content) => {
                self.done = content.end + 1;
                if content.len() >= MIN_LEN {
                    on_span(content);
                }
            }
            None => self.done = at + 2,
        }
    }
}

/// Calls `on_span` with the contents of every one-line string literal that holds a
/// backslash (see [`Finder`]). Returns `false` if the search stopped early.
pub fn candidates(haystack: &[u8], mut on_span: impl FnMut(Range<usize>)) -> bool {
    let mut finder = Finder::new(haystack.len());
    for at in memchr::memchr_iter(b'\\', haystack) {
        finder.visit(haystack, at, &mut on_span);
    }
    !finder.exhausted()
}

/// An upper bound of the decoded size of `len` bytes.
pub fn max_decoded_len(len: usize) -> usize {
    // `\u0041` is 6 bytes for 1; the longest decoding per byte is a plain copy.
    len
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Decodes the escapes of a literal's contents onto the end of `out`: `\n \t \r \" \' \\
/// \/` and `` \` ``, `\xHH`, `\uHHHH` (with surrogate pairs), `\u{H...}`, and a backslash
/// before a newline (a continued line). `\b`, `\f`, `\v`, `\0` become spaces: they are
/// rare in values, and as control bytes they would mark the literal as binary. Unknown
/// and truncated escapes are kept as written. Returns `false`, leaving `out` as it was,
/// when the result is not text.
pub fn decode(src: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let mut i = 0;
    while i < src.len() {
        let byte = src[i];
        if byte != b'\\' || i + 1 == src.len() {
            out.push(byte);
            i += 1;
            continue;
        }
        let next = src[i + 1];
        i += 2;
        match next {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' | b'f' | b'v' | b'0' => out.push(b' '),
            b'"' | b'\'' | b'\\' | b'/' | b'`' => out.push(next),
            b'\n' => {}
            b'x' => match src.get(i..i + 2).and_then(hex_value) {
                Some(value) => {
                    out.push(value as u8);
                    i += 2;
                }
                None => out.extend_from_slice(b"\\x"),
            },
            b'u' if src.get(i) == Some(&b'{') => {
                let close = src[i..].iter().take(9).position(|&b| b == b'}');
                match close
                    .and_then(|c| hex_value(&src[i + 1..i + c]).and_then(char::from_u32).map(|ch| (c, ch)))
                {
                    Some((c, ch)) => {
                        push_char(out, ch);
                        i += c + 1;
                    }
                    None => out.extend_from_slice(b"\\u"),
                }
            }
            b'u' => match src.get(i..i + 4).and_then(hex_value) {
                Some(high @ 0xD800..=0xDBFF) => {
                    let low = (src.get(i + 4..i + 6) == Some(b"\\u"))
                        .then(|| src.get(i + 6..i + 10).and_then(hex_value))
                        .flatten()
                        .filter(|low| (0xDC00..=0xDFFF).contains(low));
                    match low {
                        Some(low) => {
                            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                            push_char(out, char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                            i += 10;
                        }
                        None => {
                            push_char(out, char::REPLACEMENT_CHARACTER);
                            i += 4;
                        }
                    }
                }
                Some(code) => {
                    push_char(out, char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    i += 4;
                }
                None => out.extend_from_slice(b"\\u"),
            },
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
    crate::decode::text::keep_if_text(out, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(src: &str) -> Option<String> {
        let mut out = Vec::new();
        decode(src.as_bytes(), &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn literals_around_backslashes() {
        let text = br#"x = "a", y = "https:\/\/hooks.example.org\/x" + 'don\'t stop me now' \ z"#;
        let mut spans = Vec::new();
        candidates(text, |s| spans.push(s));
        let found: Vec<_> =
            spans.iter().map(|s| String::from_utf8_lossy(&text[s.clone()]).into_owned()).collect();
        assert_eq!(found, vec![r"https:\/\/hooks.example.org\/x", r"don\'t stop me now"]);
    }

    #[test]
    fn hostile_lines_stay_linear() {
        // An unclosed quote before a long run of escaped quotes, backslashes alone, and
        // quote-backslash pairs that never close: each would rescan the line per backslash.
        for unit in [&b"' \\"[..], b"\\\\", b"'\\'", b"\"x\\"] {
            let line: Vec<u8> = unit.iter().copied().cycle().take(3 << 20).collect();
            let started = std::time::Instant::now();
            let mut count = 0;
            candidates(&line, |_| count += 1);
            assert!(started.elapsed().as_secs() < 20, "{:?} took {:?}", unit, started.elapsed());
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(decoded(r"https:\/\/x.org\/a").unwrap(), "https://x.org/a");
        assert_eq!(decoded(r#"pw = \"A\u0042\x43\"\n"#).unwrap(), "pw = \"ABC\"\n");
        assert_eq!(decoded(r"\ud83d\ude00 \u{1F600}").unwrap(), "\u{1F600} \u{1F600}");
        assert_eq!(decoded(r"truncated \u12 \x4 \").unwrap(), r"truncated \u12 \x4 \");
        assert_eq!(decoded(r"lone \ud83d surrogate").unwrap(), "lone \u{FFFD} surrogate");
        assert_eq!(decoded(r"\x00\x01 binary"), None);
    }
}
