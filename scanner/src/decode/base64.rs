//! Base64, standard (`+/`) and URL-safe (`-_`), padded or not: Kubernetes Secret `data:`,
//! docker `auth`, `Authorization: Basic`, JWT parts, values stored "encoded" in config.

use std::ops::Range;

use super::runs::{self, Classes, DIGIT, LOWER, UPPER};

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};

/// Shortest run worth decoding: 20 characters hold 15 bytes, about the shortest secret a
/// rule reports. Shorter runs are everywhere in code and would cost more than they find.
pub const MIN_LEN: usize = 20;

/// Encoders differ on padding and on the unused bits of the last character; accept all.
const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

/// How much is decoded before the rest: enough to tell text from binary, so that an
/// image or a digest costs 64 characters of decoding, not its whole length.
const PROBE: usize = 64;

/// The base64 span in an alphabet run `run` of `haystack`, if it looks like base64 of
/// something: one alphabet (a run such as `sha512-AbC+...` that mixes `-_` with `+/` is cut
/// after its last `-` or `_`), at least [`MIN_LEN`] characters, a valid length, and either
/// `=` padding or all of upper case, lower case and digits (which identifiers, words and
/// paths rarely have, and base64 of 15+ bytes nearly always has).
pub fn candidate(haystack: &[u8], run: Range<usize>, classes: Classes) -> Option<Range<usize>> {
    let padding = haystack[run.end..].iter().take(2).take_while(|&&b| b == b'=').count();
    let mixed = |c: Classes| c & (UPPER | LOWER | DIGIT) == UPPER | LOWER | DIGIT;
    if padding == 0 && !mixed(classes) {
        return None;
    }
    let mut start = run.start;
    if classes & runs::STANDARD != 0 && classes & runs::URL_SAFE != 0 {
        let last = haystack[run.clone()].iter().rposition(|&b| b == b'-' || b == b'_')?;
        start = run.start + last + 1;
        if padding == 0 && !mixed(runs::classes(&haystack[start..run.end])) {
            return None;
        }
    }
    let body = run.end - start;
    if body < MIN_LEN {
        return None;
    }
    let valid_length = if padding > 0 { (body + padding) % 4 == 0 } else { body % 4 != 1 };
    valid_length.then_some(start..run.end + padding)
}

/// An upper bound of the decoded size of `len` characters.
pub fn max_decoded_len(len: usize) -> usize {
    len / 4 * 3 + 3
}

/// Decodes `src` onto the end of `out` if it is base64 of text; otherwise leaves `out` as
/// it was and returns `false`.
pub fn decode(src: &[u8], out: &mut Vec<u8>) -> bool {
    let engine = if src.iter().any(|&b| b == b'-' || b == b'_') { &URL_SAFE } else { &STANDARD };
    let start = out.len();
    let probe = if src.len() > PROBE + 4 { PROBE } else { src.len() };
    let decoded = engine.decode_vec(&src[..probe], out).is_ok()
        && crate::decode::text::is_text_prefix(&out[start..])
        && (probe == src.len() || engine.decode_vec(&src[probe..], out).is_ok())
        && crate::decode::text::is_text(&out[start..]);
    if !decoded {
        out.truncate(start);
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str) -> Option<&str> {
        let end = text.bytes().position(|b| !crate::decode::runs::is_alphabet(b)).unwrap_or(text.len());
        candidate(text.as_bytes(), 0..end, runs::classes(&text.as_bytes()[..end])).map(|r| &text[r])
    }

    #[test]
    fn candidates() {
        assert_eq!(span("dXNlcjpwYXNzd29yZDEyMw== rest"), Some("dXNlcjpwYXNzd29yZDEyMw=="));
        assert_eq!(span("request_handler_factory_name"), None);
        assert_eq!(span("src/components/header/index"), None);
        assert_eq!(span("sha512-AbCdEfGh0123456789+/AbCdEfGh01=="), Some("AbCdEfGh0123456789+/AbCdEfGh01=="));
        // 21 characters cannot be base64.
        assert_eq!(span("AbCdEfGh0123456789AbC"), None);
    }

    #[test]
    fn decodes_text_and_refuses_binary() {
        let mut out = b"x".to_vec();
        assert!(decode(b"dXNlcjpwYXNzd29yZDEyMw==", &mut out));
        assert_eq!(out, b"xuser:password123");
        assert!(decode(b"dXNlcjpwYXNzd29yZDEyMw", &mut out), "unpadded");
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR and then more bytes to be long");
        assert!(!decode(png.as_bytes(), &mut out));
        assert!(!decode(b"not=base64==at-all", &mut out));
        assert_eq!(out, b"xuser:password123user:password123");
        let long = STANDARD.encode("text ".repeat(100));
        assert!(decode(long.as_bytes(), &mut out));
    }
}
