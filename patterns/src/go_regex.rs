//! Go RE2 regexes (gitleaks') rewritten in Rust `regex` syntax where the two differ.

/// A Go regex rewritten in Rust `regex` syntax, and its number of capture groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The pattern for Rust's `regex-syntax`.
    pub pattern: String,
    /// Capture groups (numbered and named).
    pub groups: usize,
}

/// Rewrites the parts of Go's RE2 syntax that Rust's `regex` reads differently or
/// rejects:
///
/// - `\Q...\E` (literal text): escaped character by character;
/// - `\C` (any byte): `(?s-u:.)`;
/// - octal escapes `\0`, `\012`, `\12x`: `\x{..}`;
/// - a `{` that does not start a repetition (`a{`, `x{,3}`, which Go reads literally): `\{`;
/// - `&&`, `--`, `~~` inside a class (set operations in Rust, literals in Go): escaped.
///
/// Everything else (`(?i)`, `(?U)`, `\z`, Perl and POSIX classes, `(?P<name>`) means the
/// same in both. What Rust still rejects (Unicode classes such as `\p{Greek}`, which
/// secretgate's byte-oriented engine does not support) is reported when the rule is
/// compiled, naming the rule.
pub fn translate_go_regex(pattern: &str) -> Result<Translated, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut groups = 0;
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err("the regex ends with a lone `\\`".into());
                };
                match next {
                    'Q' => {
                        let rest: String = chars[i + 2..].iter().collect();
                        let (literal, consumed) = match rest.find("\\E") {
                            Some(end) => (&rest[..end], end + 2),
                            None => (rest.as_str(), rest.len()),
                        };
                        for ch in literal.chars() {
                            push_literal(&mut out, ch);
                        }
                        i += 2 + rest[..consumed].chars().count();
                        continue;
                    }
                    'C' if !in_class => out.push_str("(?s-u:.)"),
                    '0'..='7' => {
                        let (value, used) = octal(&chars[i + 1..]).ok_or_else(|| {
                            format!("`\\{next}` is a backreference, which neither Go nor secretgate supports")
                        })?;
                        out.push_str(&format!("\\x{{{value:02X}}}"));
                        i += 1 + used;
                        continue;
                    }
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // `[]...]` and `[^]...]`: a leading `]` is a literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' if in_class && chars.get(i + 1) == Some(&':') => {
                // A POSIX class inside brackets: copy it whole.
                let rest: String = chars[i..].iter().collect();
                match rest.find(":]") {
                    Some(end) => {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                    None => out.push_str("\\["),
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if !in_class => {
                let rest: String = chars[i + 1..].iter().take(3).collect();
                if !rest.starts_with('?') || rest.starts_with("?P<") || rest.starts_with("?<") {
                    groups += 1;
                }
                out.push('(');
            }
            '{' if !in_class && !starts_repetition(&chars[i..]) => out.push_str("\\{"),
            // Rust reads `&&`, `--` and `~~` in a class as set operations; Go as literals.
            '&' | '-' | '~' if in_class && chars.get(i + 1) == Some(&c) => {
                out.push(c);
                out.push('\\');
                out.push(c);
                i += 2;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(Translated { pattern: out, groups })
}

fn push_literal(out: &mut String, ch: char) {
    if ch.is_ascii_punctuation() || ch == ' ' {
        out.push('\\');
    }
    out.push(ch);
}

/// Go's octal escapes: `\0` plus up to two octal digits, or `\1`-`\7` followed by at least
/// one more octal digit (up to three in all). Returns the value and digits used.
fn octal(digits: &[char]) -> Option<(u32, usize)> {
    let max = 3;
    let count = digits.iter().take(max).take_while(|c| ('0'..='7').contains(c)).count();
    if digits[0] != '0' && count < 2 {
        return None;
    }
    let value = digits[..count].iter().fold(0, |acc, c| acc * 8 + c.to_digit(8).unwrap_or(0));
    (value <= 0xFF).then_some((value, count))
}

/// Whether `chars` (starting at a `{`) is a repetition `{n}`, `{n,}` or `{n,m}`.
fn starts_repetition(chars: &[char]) -> bool {
    let body: String = chars.iter().skip(1).take_while(|&&c| c != '}').collect();
    if chars.len() < body.chars().count() + 2 {
        return false;
    }
    let (min, max) = match body.split_once(',') {
        Some((min, max)) => (min, Some(max)),
        None => (body.as_str(), None),
    };
    !min.is_empty()
        && min.chars().all(|c| c.is_ascii_digit())
        && max.is_none_or(|m| m.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax_is_translated() {
        let t = |p: &str| translate_go_regex(p).unwrap().pattern;
        assert_eq!(t(r"(?i)key\s*=\s*([a-z0-9]{32})\z"), r"(?i)key\s*=\s*([a-z0-9]{32})\z");
        assert_eq!(t(r"\Qa.b*\E+"), r"a\.b\*+");
        assert_eq!(t(r"x\Cy"), r"x(?s-u:.)y");
        assert_eq!(t(r"\011a"), r"\x{09}a");
        assert_eq!(t(r"a{,3}b{2,}c{"), r"a\{,3}b{2,}c\{");
        assert_eq!(t(r"[]a[:alpha:]{]"), r"[\]a[:alpha:]{]");
        assert_eq!(t(r"[a&&b--c~~d]x&&"), r"[a&\&b-\-c~\~d]x&&");
        assert!(translate_go_regex(r"(a)\1").unwrap_err().contains("backreference"));
    }

    #[test]
    fn groups_are_counted() {
        let g = |p: &str| translate_go_regex(p).unwrap().groups;
        assert_eq!(g(r"(?i)(?:a|b)(c)(?P<x>d)[(]\("), 2);
        assert_eq!(g(r"abc"), 0);
    }

    #[test]
    fn hostile_patterns_never_panic() {
        let pieces = [
            "\\", "\\Q", "\\E", "[", "]", "[:", ":]", "{", "}", ",", "\\0", "\\7", "(?", "(", "é", "&&",
            "\\C",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let _ = translate_go_regex(&format!("{a}{b}{c}"));
                }
            }
        }
    }
}
