//! From byte offsets to lines and columns.

use memchr::memchr_iter;

/// Turns increasing byte offsets of one buffer into 1-based (line, column) pairs, counting
/// newlines only once over the buffer. Offsets that go backwards restart the count.
#[derive(Debug)]
pub struct LineLocator<'a> {
    haystack: &'a [u8],
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineLocator<'a> {
    /// A locator over `haystack`.
    pub fn new(haystack: &'a [u8]) -> Self {
        LineLocator { haystack, offset: 0, line: 1, line_start: 0 }
    }

    /// The 1-based line and byte column of `offset`.
    pub fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.haystack.len());
        if offset < self.offset {
            *self = LineLocator::new(self.haystack);
        }
        for newline in memchr_iter(b'\n', &self.haystack[self.offset..offset]) {
            self.line += 1;
            self.line_start = self.offset + newline + 1;
        }
        self.offset = offset;
        (self.line, offset - self.line_start + 1)
    }
}

/// The 1-based line, and the column just past the end, of `span`, which starts at `start`
/// (its line and column).
pub fn end_position(haystack: &[u8], span: std::ops::Range<usize>, start: (usize, usize)) -> (usize, usize) {
    let bytes = &haystack[span.clone()];
    match memchr::memrchr(b'\n', bytes) {
        None => (start.0, start.1 + bytes.len()),
        Some(last) => (start.0 + memchr_iter(b'\n', bytes).count(), bytes.len() - last),
    }
}

/// Where the line(s) holding `start..end` lie in `haystack`, without the line terminators.
pub fn line_span_around(haystack: &[u8], start: usize, end: usize) -> std::ops::Range<usize> {
    let from = memchr::memrchr(b'\n', &haystack[..start]).map_or(0, |i| i + 1);
    let to = memchr::memchr(b'\n', &haystack[end..]).map_or(haystack.len(), |i| end + i);
    from..to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = b"ab\ncd\r\nefg";
        let mut locator = LineLocator::new(text);
        assert_eq!(locator.locate(0), (1, 1));
        assert_eq!(locator.locate(4), (2, 2));
        assert_eq!(locator.locate(8), (3, 2));
        assert_eq!(locator.locate(1), (1, 2));
    }

    #[test]
    fn end_of_single_and_multi_line_spans() {
        let text = b"k = ab\ncd\nef";
        assert_eq!(end_position(text, 4..6, (1, 5)), (1, 7));
        assert_eq!(end_position(text, 4..12, (1, 5)), (3, 3));
    }

    #[test]
    fn lines_around_a_span() {
        let text = b"one\ntwo three\nfour";
        assert_eq!(&text[line_span_around(text, 8, 13)], b"two three");
        assert_eq!(&text[line_span_around(text, 0, 2)], b"one");
        assert_eq!(&text[line_span_around(text, 15, 18)], b"four");
    }
}
