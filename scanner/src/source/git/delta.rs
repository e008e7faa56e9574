//! git's delta format: a target object described as copies from a base object and inserted
//! bytes. Parsed here (gix neither exposes a delta's ops nor applies one for a caller) to
//! rebuild delta-stored blobs and to know which of their bytes are new and which repeat
//! their base.

/// One instruction of a delta, with its position in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaOp {
    /// `len` bytes copied from `base` (an offset in the base) to `target`.
    Copy {
        /// Offset in the target.
        target: u64,
        /// Offset in the base.
        base: u64,
        /// Bytes copied.
        len: u64,
    },
    /// `len` new bytes at `target`.
    Insert {
        /// Offset in the target.
        target: u64,
        /// Bytes inserted.
        len: u64,
    },
}

/// A delta that does not parse: the pack is corrupt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed delta: {0}")]
pub struct MalformedDelta(pub &'static str);

/// The sizes a delta declares: (base size, target size).
pub fn sizes(delta: &[u8]) -> Result<(u64, u64), MalformedDelta> {
    let mut at = 0;
    Ok((varint(delta, &mut at)?, varint(delta, &mut at)?))
}

/// Calls `on_op` for each instruction of `delta`, in target order; checks that the ops
/// produce exactly the declared target size.
pub fn for_each_op(delta: &[u8], mut on_op: impl FnMut(DeltaOp)) -> Result<(u64, u64), MalformedDelta> {
    walk_ops(delta, |op, _| on_op(op))
}

/// Rebuilds the target of `delta` from `base` into `out` (replacing what it held).
pub fn apply(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), MalformedDelta> {
    let (base_size, target_size) = sizes(delta)?;
    if base_size != base.len() as u64 {
        return Err(MalformedDelta("the base is not the size the delta declares"));
    }
    out.clear();
    // The declared size is checked against the ops as they come; reserving it all up front
    // would trust a corrupt header with the allocation.
    out.reserve(usize::try_from(target_size.min(64 << 20)).unwrap_or(0));
    walk_ops(delta, |op, inserted| match op {
        DeltaOp::Copy { base: from, len, .. } => {
            out.extend_from_slice(&base[from as usize..(from + len) as usize])
        }
        DeltaOp::Insert { .. } => out.extend_from_slice(inserted),
    })?;
    Ok(())
}

/// The parser behind [`for_each_op`] and [`apply`]: each op with the bytes it inserts
/// (empty for a copy). Stops at the first op that would run past the declared target size.
fn walk_ops(delta: &[u8], mut on_op: impl FnMut(DeltaOp, &[u8])) -> Result<(u64, u64), MalformedDelta> {
    let mut at = 0;
    let base_size = varint(delta, &mut at)?;
    let target_size = varint(delta, &mut at)?;
    let mut pos = 0u64;
    while at < delta.len() {
        let command = delta[at];
        at += 1;
        if command & 0x80 != 0 {
            let (mut offset, mut len) = (0u64, 0u64);
            for (bit, shift) in [(0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)] {
                if command & bit != 0 {
                    offset |= u64::from(*delta.get(at).ok_or(MalformedDelta("truncated copy"))?) << shift;
                    at += 1;
                }
            }
            for (bit, shift) in [(0x10, 0), (0x20, 8), (0x40, 16)] {
                if command & bit != 0 {
                    len |= u64::from(*delta.get(at).ok_or(MalformedDelta("truncated copy"))?) << shift;
                    at += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            if offset + len > base_size {
                return Err(MalformedDelta("copy past the end of the base"));
            }
            if pos + len > target_size {
                return Err(MalformedDelta("ops run past the target size"));
            }
            on_op(DeltaOp::Copy { target: pos, base: offset, len }, &[]);
            pos += len;
        } else if command != 0 {
            let len = u64::from(command);
            if at + command as usize > delta.len() {
                return Err(MalformedDelta("truncated insert"));
            }
            if pos + len > target_size {
                return Err(MalformedDelta("ops run past the target size"));
            }
            on_op(DeltaOp::Insert { target: pos, len }, &delta[at..at + command as usize]);
            at += command as usize;
            pos += len;
        } else {
            return Err(MalformedDelta("reserved opcode 0"));
        }
    }
    if pos != target_size {
        return Err(MalformedDelta("ops do not add up to the target size"));
    }
    Ok((base_size, target_size))
}

fn varint(data: &[u8], at: &mut usize) -> Result<u64, MalformedDelta> {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let byte = *data.get(*at).ok_or(MalformedDelta("truncated size"))?;
        *at += 1;
        if shift > 63 {
            return Err(MalformedDelta("size too large"));
        }
        value |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_copies_and_inserts() {
        // base 10 bytes, target 8: copy 4 bytes from offset 2, insert "abcd"
        let delta = [10u8, 8, 0x80 | 0x01 | 0x10, 2, 4, 4, b'a', b'b', b'c', b'd'];
        let mut ops = Vec::new();
        assert_eq!(for_each_op(&delta, |op| ops.push(op)).unwrap(), (10, 8));
        assert_eq!(
            ops,
            vec![DeltaOp::Copy { target: 0, base: 2, len: 4 }, DeltaOp::Insert { target: 4, len: 4 }]
        );
    }

    #[test]
    fn applies_copies_and_inserts() {
        let delta = [10u8, 8, 0x80 | 0x01 | 0x10, 2, 4, 4, b'a', b'b', b'c', b'd'];
        let mut out = b"stale".to_vec();
        apply(b"0123456789", &delta, &mut out).unwrap();
        assert_eq!(out, b"2345abcd");
        assert!(apply(b"012345678", &delta, &mut out).is_err()); // the base is a byte short
    }

    #[test]
    fn rejects_corrupt_deltas() {
        assert!(for_each_op(&[10, 8, 0x91, 2], |_| {}).is_err()); // truncated copy
        assert!(for_each_op(&[10, 8, 4, b'a'], |_| {}).is_err()); // truncated insert
        assert!(for_each_op(&[10, 8, 0], |_| {}).is_err()); // reserved opcode
        assert!(for_each_op(&[10, 9, 0x91, 2, 4], |_| {}).is_err()); // sizes disagree
        assert!(for_each_op(&[2, 4, 0x91, 2, 4], |_| {}).is_err()); // copy past the base
        assert!(for_each_op(&[0xff; 12], |_| {}).is_err());
    }
}
