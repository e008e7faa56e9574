//! Inline markers: a comment on the secret's line that says "this is not a secret".
//!
//! `secretgate:allow` is ours; `gitleaks:allow` and detect-secrets' `pragma: allowlist
//! secret` are honoured too, so repositories that used those tools keep working.

/// The markers, matched ASCII case-insensitively anywhere on the line, in any comment
/// syntax (`#`, `//`, `/* */`, `--`, `<!-- -->`, ...).
pub const MARKERS: &[&str] = &["secretgate:allow", "gitleaks:allow", "pragma: allowlist secret"];

/// Whether `line` carries an inline allow marker. Runs once per finding, not per line.
pub fn has_marker(line: &[u8]) -> bool {
    let lower = line.to_ascii_lowercase();
    MARKERS.iter().any(|marker| memchr::memmem::find(&lower, marker.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::has_marker;

    #[test]
    fn markers_in_several_comment_styles() {
        assert!(has_marker(b"token = 'abc' # secretgate:allow"));
        assert!(has_marker(b"const t = 'abc'; // gitleaks:allow"));
        assert!(has_marker(b"password: hunter2  # pragma: allowlist secret"));
        assert!(has_marker(b"<!-- SecretGate:Allow -->"));
        assert!(!has_marker(b"allow_list = true"));
        assert!(!has_marker(b"token = 'abc'"));
    }
}
