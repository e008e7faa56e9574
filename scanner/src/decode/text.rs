//! Is decoded output text? Only text goes on to the matcher: decoded images, compressed
//! data, digests and ciphertext are dropped, which keeps both cost and false positives
//! down (a random 18-byte string passes this test with probability below one in a
//! million: it must avoid all 30 control bytes and be valid UTF-8).

/// Whether `bytes` is text: valid UTF-8 without control characters other than tab,
/// newline and carriage return.
pub fn is_text(bytes: &[u8]) -> bool {
    if bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') || b == 0x7f) {
        return false;
    }
    // Most decoded secrets are ASCII; only then is the UTF-8 check needed.
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// Whether a prefix of a longer decoded output is text, allowing it to end inside a
/// UTF-8 sequence that the rest of the output completes.
pub fn is_text_prefix(bytes: &[u8]) -> bool {
    if bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') || b == 0x7f) {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(err) => err.error_len().is_none(),
    }
}

/// Keeps what a decoder appended to `out` after `start` if it is text; otherwise removes it.
/// Returns whether it was kept.
pub fn keep_if_text(out: &mut Vec<u8>, start: usize) -> bool {
    let text = is_text(&out[start..]);
    if !text {
        out.truncate(start);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        assert!(is_text(b"user:pa55word\n"));
        assert!(is_text("clé: valeur".as_bytes()));
        assert!(!is_text(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_text(b"abc\0def"));
        assert!(!is_text(b"\xff\xfe\xfd"));
        assert!(is_text_prefix(&"é".as_bytes()[..1]));
        assert!(!is_text(&"é".as_bytes()[..1]));
    }
}
