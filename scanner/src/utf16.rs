//! Text that Windows tools save as UTF-16 (PowerShell scripts, `.reg` exports, `.rdp` and
//! `.rc` files): every other byte is NUL, so the binary check would skip it, and rules
//! written for ASCII would never see its secrets. It is read as UTF-8 instead; lines stay
//! lines, so findings keep their line numbers.

/// How many leading bytes decide whether text without a byte order mark is UTF-16.
const SNIFF: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteOrder {
    Little,
    Big,
}

/// The byte order of UTF-16 text and the length of its byte order mark, if `bytes` is
/// UTF-16: it starts with a mark, or (without one) every byte of one parity is NUL and
/// none of the other is, as in mostly-ASCII text. Either way its head must hold a NUL byte:
/// a file without one is read as it is already (UTF-16 holding ASCII has NULs; `ÿþ` at the
/// start of a Latin-1 file is no mark).
fn byte_order(bytes: &[u8]) -> Option<(ByteOrder, usize)> {
    memchr::memchr(0, &bytes[..bytes.len().min(SNIFF)])?;
    // After a mark, a NUL character near the start says binary that happens to begin so.
    let no_nul_after_mark = || {
        let head = &bytes[2..bytes.len().min(SNIFF) & !1];
        head.chunks_exact(2).all(|unit| unit != [0, 0])
    };
    match bytes {
        [0xFF, 0xFE, ..] if no_nul_after_mark() => Some((ByteOrder::Little, 2)),
        [0xFE, 0xFF, ..] if no_nul_after_mark() => Some((ByteOrder::Big, 2)),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => None,
        _ => {
            let head = &bytes[..bytes.len().min(SNIFF) & !1];
            if head.len() < 8 {
                return None;
            }
            let pairs = || head.chunks_exact(2);
            if pairs().all(|pair| pair[0] != 0 && pair[1] == 0) {
                Some((ByteOrder::Little, 0))
            } else if pairs().all(|pair| pair[0] == 0 && pair[1] != 0) {
                Some((ByteOrder::Big, 0))
            } else {
                None
            }
        }
    }
}

/// Whether `bytes` reads as UTF-16 text.
pub fn is_utf16(bytes: &[u8]) -> bool {
    byte_order(bytes).is_some()
}

/// `bytes` as UTF-8, if they are UTF-16 text; unpaired surrogates become U+FFFD.
pub fn to_utf8(bytes: &[u8]) -> Option<Vec<u8>> {
    let (order, mark) = byte_order(bytes)?;
    let units = bytes[mark..].chunks_exact(2).map(|pair| match order {
        ByteOrder::Little => u16::from_le_bytes([pair[0], pair[1]]),
        ByteOrder::Big => u16::from_be_bytes([pair[0], pair[1]]),
    });
    let text: String = char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect();
    Some(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, order: ByteOrder, mark: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = mark.then_some(0xFEFF_u16).into_iter().chain(text.encode_utf16());
        for unit in units {
            out.extend_from_slice(&match order {
                ByteOrder::Little => unit.to_le_bytes(),
                ByteOrder::Big => unit.to_be_bytes(),
            });
        }
        out
    }

    #[test]
    fn utf16_in_either_order_with_or_without_a_mark_reads_as_utf8() {
        // A password-like value from parts, so that scanning this file finds nothing.
        let text = format!("$password = \"{}{}\"\r\nWrite-Host 'héllo'\r\n", "Zx9fK2", "mQ7pLw4Rt");
        let text = text.as_str();
        for order in [ByteOrder::Little, ByteOrder::Big] {
            for mark in [true, false] {
                let bytes = encode(text, order, mark);
                assert_eq!(to_utf8(&bytes).as_deref(), Some(text.as_bytes()), "{order:?} {mark}");
            }
        }
    }

    #[test]
    fn binary_and_plain_text_are_not_utf16() {
        assert!(!is_utf16(b"plain ASCII text, long enough"));
        assert!(!is_utf16(b"\xff\xfe\nLatin-1 text after bytes that look like a mark, \xe9t\xe9"));
        assert!(!is_utf16(&[0x89, b'P', b'N', b'G', 0, 0, 0, 13, b'I', b'H', b'D', b'R']));
        assert!(!is_utf16(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]));
        // A NUL in both parities: binary, not text.
        assert!(!is_utf16(&[b'a', 0, 0, b'b', b'c', 0, b'd', 0, b'e', 0]));
    }
}
