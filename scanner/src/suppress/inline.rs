//! Inline markers: a comment on the secret's line that says "this is not a secret".
//!
//! `secretgate:allow` is ours; `gitleaks:allow` and detect-secrets' `pragma: allowlist
//! secret` are honoured too, so repositories that used those tools keep working.

use std::ops::Range;

/// The markers, matched ASCII case-insensitively anywhere on the line, in any comment
/// syntax (`#`, `//`, `/* */`, `--`, `<!-- -->`, ...).
pub const MARKERS: &[&str] = &["secretgate:allow", "gitleaks:allow", "pragma: allowlist secret"];

/// Whether `line` carries an inline allow marker.
pub fn has_marker(line: &[u8]) -> bool {
    static FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(MARKERS)
            .expect("the markers are plain literals")
    });
    FINDER.is_match(line)
}

/// The lines findings are on, and whether they carry a marker, each line searched once:
/// matches come in order of position, and one line of a minified file can hold thousands
/// (searching the line again for each made a 1.6 MB line take 9 s instead of 0.1 s).
pub struct MarkedLines<'h> {
    haystack: &'h [u8],
    /// The last single line looked at, and whether it has a marker.
    last: Option<(Range<usize>, bool)>,
}

impl<'h> MarkedLines<'h> {
    /// Lines of `haystack`, none looked at yet.
    pub fn new(haystack: &'h [u8]) -> Self {
        Self { haystack, last: None }
    }

    /// The whole lines around `span`, and whether they carry a marker.
    pub fn around(&mut self, span: Range<usize>) -> (&'h [u8], bool) {
        if let Some((line, marked)) = &self.last {
            if line.start <= span.start && span.end <= line.end {
                return (&self.haystack[line.clone()], *marked);
            }
        }
        let lines = crate::locate::line_span_around(self.haystack, span.start, span.end);
        let text = &self.haystack[lines.clone()];
        let marked = has_marker(text);
        if memchr::memchr(b'\n', text).is_none() {
            self.last = Some((lines, marked));
        }
        (text, marked)
    }
}

#[cfg(test)]
mod tests {
    use super::{has_marker, MarkedLines};

    #[test]
    fn markers_in_several_comment_styles() {
        assert!(has_marker(b"token = 'abc' # secretgate:allow"));
        assert!(has_marker(b"const t = 'abc'; // gitleaks:allow"));
        assert!(has_marker(b"password: hunter2  # pragma: allowlist secret"));
        assert!(has_marker(b"<!-- SecretGate:Allow -->"));
        assert!(!has_marker(b"allow_list = true"));
        assert!(!has_marker(b"token = 'abc'"));
    }

    #[test]
    fn marked_lines_are_told_apart_and_remembered() {
        let text = b"a = 1 # secretgate:allow\nb = 2\nc = 3 # GITLEAKS:ALLOW";
        let mut lines = MarkedLines::new(text);
        assert_eq!(lines.around(0..5), (&b"a = 1 # secretgate:allow"[..], true));
        assert_eq!(lines.around(4..5), (&b"a = 1 # secretgate:allow"[..], true));
        assert_eq!(lines.around(25..30), (&b"b = 2"[..], false));
        assert!(lines.around(31..36).1);
        // A span over two lines is judged on both.
        assert_eq!(lines.around(25..36), (&b"b = 2\nc = 3 # GITLEAKS:ALLOW"[..], true));
        assert_eq!(lines.around(25..27), (&b"b = 2"[..], false));
    }
}
