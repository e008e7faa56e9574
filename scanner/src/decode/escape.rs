//! Backslash escapes inside string literals: JSON and JavaScript write `/` as `\/` and
//! characters as `\u00XX`; notebooks keep code as JSON strings full of `\"` and `\n`.

use std::ops::Range;

/// Shortest literal worth decoding.
pub const MIN_LEN: usize = 12;

/// How far back from a backslash its opening quote is looked for, and how far forward
/// the closing quote: bounds that keep minified code with many backslashes linear.
const BACK_REACH: usize = 4096;
const FORWARD_REACH: usize = 64 << 10;

const QUOTES: [u8; 3] = [b'"', b'\'', b'`'];

/// Where a literal opened by the quote at `open` closes, if it does on the same line
/// within reach: the first unescaped `quote` after it.
fn closing_quote(haystack: &[u8], open: usize) -> Option<usize> {
    let quote = haystack[open];
    let end = (open + 1 + FORWARD_REACH).min(haystack.len());
    let mut i = open + 1;
    while i < end {
        match haystack[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            byte if byte == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Calls `on_span` with the contents (quotes excluded) of every one-line string literal
/// that holds a backslash. The literal around a backslash is found from the nearest quote
/// before it on its line; the nearer of `"`, `'` and `` ` `` that closes is taken.
pub fn candidates(haystack: &[u8], mut on_span: impl FnMut(Range<usize>)) {
    let mut done = 0;
    for at in memchr::memchr_iter(b'\\', haystack) {
        if at < done {
            continue;
        }
        let floor = at.saturating_sub(BACK_REACH).max(done);
        let line = &haystack[floor..at];
        let line_start = memchr::memrchr(b'\n', line).map_or(floor, |i| floor + i + 1);
        let before = &haystack[line_start..at];
        let mut opens = QUOTES.map(|q| memchr::memrchr(q, before).map(|i| line_start + i));
        opens.sort_unstable_by(|a, b| b.cmp(a)); // nearest first; `None` sorts last
        let literal = opens
            .into_iter()
            .flatten()
            .find_map(|open| closing_quote(haystack, open).map(|close| open + 1..close));
        match literal {
            Some(content) => {
                done = content.end + 1;
                if content.len() >= MIN_LEN {
                    on_span(content);
                }
            }
            None => done = at + 2,
        }
    }
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
    let text = crate::decode::text::is_text(&out[start..]);
    if !text {
        out.truncate(start);
    }
    text
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
    fn escapes() {
        assert_eq!(decoded(r"https:\/\/x.org\/a").unwrap(), "https://x.org/a");
        assert_eq!(decoded(r#"pw = \"A\u0042\x43\"\n"#).unwrap(), "pw = \"ABC\"\n");
        assert_eq!(decoded(r"\ud83d\ude00 \u{1F600}").unwrap(), "\u{1F600} \u{1F600}");
        assert_eq!(decoded(r"truncated \u12 \x4 \").unwrap(), r"truncated \u12 \x4 \");
        assert_eq!(decoded(r"lone \ud83d surrogate").unwrap(), "lone \u{FFFD} surrogate");
        assert_eq!(decoded(r"\x00\x01 binary"), None);
    }
}
