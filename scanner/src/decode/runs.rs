//! The one pass over every input byte that decoding pays for: runs of the base64
//! alphabet (standard and URL-safe together, which also holds every hex digit).
//!
//! This pass runs over all input, so it is written for speed: 64 bytes at a time become a
//! bit mask (the per-byte test is plain comparisons, which the compiler turns into SIMD
//! compares), and a run of at least `min_len` set bits is detected with a few shifts and
//! ANDs. Only blocks that hold such a run are looked at byte by byte. Ordinary source code
//! has few runs of 20+ such characters, so almost every block costs a handful of
//! instructions.

use std::ops::Range;

const BLOCK: usize = 64;

/// Whether `byte` is in the base64 alphabet, standard (`+/`) or URL-safe (`-_`).
///
/// Written as few unsigned range tests, without short-circuits, so that a loop of it
/// compiles to SIMD compares: `+` `-` `/` and the digits are 0x2B..=0x39 less `,` and `.`
/// (the two bytes that `& 0xFD` maps to `,`), letters are one range once case is folded.
#[inline(always)]
pub fn is_alphabet(byte: u8) -> bool {
    let digit_or_symbol = (byte.wrapping_sub(b'+') < 15) & ((byte & 0xFD) != b',');
    let letter = (byte | 0x20).wrapping_sub(b'a') < 26;
    digit_or_symbol | letter | (byte == b'_')
}

/// Bit `i` is set when `block[i]` is in the alphabet.
///
/// With SSE2 (every x86-64): [`is_alphabet`] on 16 bytes at once and `pmovmskb` to gather
/// the 16 flags, about 60 instructions per block. Measured on the 236 MB tree, this pass
/// was ~4.5% of a one-core scan with the portable version below, which the compiler
/// vectorises for the tests but gathers the flags with eight multiplications.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn block_mask(block: &[u8; BLOCK]) -> u64 {
    use safe_arch::{
        bitand_m128i, bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i,
        move_mask_i8_m128i, set_splat_i8_m128i, sub_i8_m128i,
    };
    let splat = |byte: u8| set_splat_i8_m128i(byte as i8);
    let below = |value, limit: u8| cmp_eq_mask_i8_m128i(min_u8_m128i(value, splat(limit - 1)), value);
    let mut mask = 0u64;
    for (k, sixteen) in block.chunks_exact(16).enumerate() {
        let bytes = load_unaligned_m128i(sixteen.try_into().expect("chunks of sixteen"));
        let comma_or_dot = cmp_eq_mask_i8_m128i(bitand_m128i(bytes, splat(0xFD)), splat(b','));
        let digit_or_symbol = bitandnot_m128i(comma_or_dot, below(sub_i8_m128i(bytes, splat(b'+')), 15));
        let letter = below(sub_i8_m128i(bitor_m128i(bytes, splat(0x20)), splat(b'a')), 26);
        let underscore = cmp_eq_mask_i8_m128i(bytes, splat(b'_'));
        let all = bitor_m128i(bitor_m128i(digit_or_symbol, letter), underscore);
        mask |= u64::from(move_mask_i8_m128i(all) as u16) << (16 * k);
    }
    mask
}

/// Bit `i` is set when `block[i]` is in the alphabet.
///
/// Portable: one flag byte per input byte (vectorised), then eight flags at a time
/// gathered into eight bits by one multiplication (each flag lands in bit 56 + its index,
/// and no two partial products overlap there).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn block_mask_portable(block: &[u8; BLOCK]) -> u64 {
    let mut flags = [0u8; BLOCK];
    for (flag, &byte) in flags.iter_mut().zip(block) {
        *flag = u8::from(is_alphabet(byte));
    }
    let mut mask = 0u64;
    for (k, eight) in flags.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(eight.try_into().expect("chunks of eight"));
        mask |= (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    mask
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn block_mask(block: &[u8; BLOCK]) -> u64 {
    block_mask_portable(block)
}

/// Bit `i` stays set when bits `i..i + len` were all set (`1 <= len <= 64`).
#[inline(always)]
fn runs_at_least(mut mask: u64, len: u32) -> u64 {
    let mut have = 1;
    while have * 2 <= len {
        mask &= mask >> have;
        have *= 2;
    }
    if have < len {
        mask &= mask >> (len - have);
    }
    mask
}

/// Calls `on_run` with every maximal run of alphabet bytes at least `MIN_LEN` long
/// (`1 <= MIN_LEN <= 64`), in order. The length is a constant so that the run-length
/// test unrolls (as a loop it was an eighth of this pass).
pub fn for_each_run<const MIN_LEN: usize>(haystack: &[u8], mut on_run: impl FnMut(Range<usize>)) {
    const { assert!(MIN_LEN >= 1 && MIN_LEN <= BLOCK) };
    let min_len = MIN_LEN;
    // Length of the run of alphabet bytes that ends at the current block's start.
    let mut open = 0usize;
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut at = 0usize;
    for block in &mut blocks {
        let block: &[u8; BLOCK] = block.try_into().expect("chunks_exact yields whole blocks");
        open = runs_in_block(block_mask(block), at, open, min_len, &mut on_run);
        at += BLOCK;
    }
    // The last partial block, padded with zero bytes (not in the alphabet): the same code
    // path instead of a byte-by-byte loop, which cost 5% of this pass over small files.
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut block = [0u8; BLOCK];
        block[..rest.len()].copy_from_slice(rest);
        open = runs_in_block(block_mask(&block), at, open, min_len, &mut on_run);
    }
    if open >= min_len {
        on_run(haystack.len() - open..haystack.len());
    }
}

/// Reports the runs of one block's `mask` (at offset `at`) that end inside it, given the
/// length `open` of the run reaching into it, and returns the length of the run that
/// reaches its end.
#[inline(always)]
fn runs_in_block(
    mask: u64,
    at: usize,
    open: usize,
    min_len: usize,
    on_run: &mut impl FnMut(Range<usize>),
) -> usize {
    if mask == u64::MAX {
        return open + BLOCK;
    }
    let head = mask.trailing_ones() as usize;
    if open + head >= min_len {
        on_run(at - open..at + head);
    }
    let tail = mask.leading_ones() as usize;
    // Runs strictly inside the block: neither touching its start nor its end.
    let mut inner = mask & !low_bits(head) & !high_bits(tail);
    if inner != 0 && runs_at_least(inner, min_len as u32) != 0 {
        // Walk the runs by their bits, not the bytes.
        while inner != 0 {
            let start = inner.trailing_zeros() as usize;
            let len = (inner >> start).trailing_ones() as usize;
            if len >= min_len {
                on_run(at + start..at + start + len);
            }
            inner &= !low_bits(start + len);
        }
    }
    tail
}

/// What kinds of characters a run holds, as bits of [`Classes`].
pub type Classes = u8;
/// An upper-case letter.
pub const UPPER: Classes = 1;
/// A lower-case letter.
pub const LOWER: Classes = 2;
/// A digit.
pub const DIGIT: Classes = 4;
/// `+` or `/`: standard base64 only.
pub const STANDARD: Classes = 8;
/// `-` or `_`: URL-safe base64 only.
pub const URL_SAFE: Classes = 16;
/// Not a hex digit.
pub const NOT_HEX: Classes = 32;

const CLASS_TABLE: [Classes; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = match b {
            b'A'..=b'F' => UPPER,
            b'G'..=b'Z' => UPPER | NOT_HEX,
            b'a'..=b'f' => LOWER,
            b'g'..=b'z' => LOWER | NOT_HEX,
            b'0'..=b'9' => DIGIT,
            b'+' | b'/' => STANDARD | NOT_HEX,
            b'-' | b'_' => URL_SAFE | NOT_HEX,
            _ => NOT_HEX,
        };
        byte += 1;
    }
    table
};

/// The classes of characters in `bytes`, in one pass: enough to reject most runs (words,
/// identifiers and paths hold no digit, or no upper case) without looking twice.
pub fn classes(bytes: &[u8]) -> Classes {
    bytes.iter().fold(0, |classes, &b| classes | CLASS_TABLE[b as usize])
}

fn low_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

fn high_bits(n: usize) -> u64 {
    if n == 0 {
        0
    } else {
        !0u64 << (64 - n.min(64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(haystack: &[u8], min_len: usize) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 0..=haystack.len() {
            if i == haystack.len() || !is_alphabet(haystack[i]) {
                if i - start >= min_len {
                    out.push(start..i);
                }
                start = i + 1;
            }
        }
        out
    }

    fn fast(haystack: &[u8], min_len: usize) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let push = |r| out.push(r);
        match min_len {
            1 => for_each_run::<1>(haystack, push),
            7 => for_each_run::<7>(haystack, push),
            20 => for_each_run::<20>(haystack, push),
            32 => for_each_run::<32>(haystack, push),
            63 => for_each_run::<63>(haystack, push),
            _ => for_each_run::<64>(haystack, push),
        }
        out
    }

    #[test]
    fn the_alphabet_is_base64_standard_and_url_safe() {
        for byte in 0..=255u8 {
            let expected = byte.is_ascii_alphanumeric() || b"+/-_".contains(&byte);
            assert_eq!(is_alphabet(byte), expected, "byte {byte:#04x}");
        }
    }

    proptest! {
        /// The SIMD block mask (where there is one) agrees with the portable one.
        #[test]
        fn block_masks_agree(bytes in proptest::array::uniform32(any::<u8>()), more in proptest::array::uniform32(any::<u8>())) {
            let mut block = [0u8; BLOCK];
            block[..32].copy_from_slice(&bytes);
            block[32..].copy_from_slice(&more);
            prop_assert_eq!(block_mask(&block), block_mask_portable(&block));
        }
    }

    #[test]
    fn runs_across_blocks_and_at_the_ends() {
        let mut text = vec![b'a'; 200];
        text[3] = b' ';
        text[70] = b'.';
        text[71] = b'.';
        text[150] = b'\n';
        assert_eq!(fast(&text, 20), vec![4..70, 72..150, 151..200]);
        assert_eq!(fast(b"short words only here", 20), Vec::<Range<usize>>::new());
        assert_eq!(fast(&[b'Z'; 64], 20), vec![0..64]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The block algorithm finds exactly the runs a byte-by-byte loop finds.
        #[test]
        fn same_runs_as_the_naive_loop(
            bytes in proptest::collection::vec(prop_oneof![Just(b'A'), Just(b'9'), Just(b' '), Just(b'_'), any::<u8>()], 0..400),
            min_len in prop_oneof![Just(1usize), Just(7), Just(20), Just(32), Just(63), Just(64)],
        ) {
            prop_assert_eq!(fast(&bytes, min_len), naive(&bytes, min_len));
        }
    }
}
