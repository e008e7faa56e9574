//! Ignore files: `.secretgateignore` and `.gitleaksignore` at the work tree root.
//!
//! `.secretgateignore` holds one entry per line (`#` starts a comment line):
//!
//! ```text
//! src/settings.py:database-url-password:3f2a9c0b1d4e5f67   # this finding (a fingerprint)
//! database-url-password:3f2a9c0b1d4e5f67                   # this credential, any file
//! 3f2a9c0b1d4e5f67                                         # this secret, any file, any rule
//! ```
//!
//! The hash is the one fingerprints carry (content-based), so an entry survives edits,
//! rebases and moves of the line; the shorter forms cover a credential copied into several
//! files.
//!
//! `.gitleaksignore` holds gitleaks fingerprints, `commit:path:rule:line` or
//! `path:rule:line`. They name a line, not a secret, so they match a finding by path and
//! line (and commit, when both the entry and the finding have one). The rule id is not
//! compared: gitleaks and secretgate name the same credential differently
//! (`github-pat` / `github-pat-classic`).

use std::{
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
};

use crate::finding::{split_fingerprint, Finding};

/// The file names read from the work tree root.
pub const FILE_NAME: &str = ".secretgateignore";
/// gitleaks' ignore file, read too so that a repository can switch tools.
pub const GITLEAKS_FILE_NAME: &str = ".gitleaksignore";

/// An ignore file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// It could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not an entry.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// One line of an ignore file.
#[derive(Debug)]
pub struct IgnoreEntry {
    /// The file it came from.
    pub file: String,
    /// Its 1-based line.
    pub line: usize,
    /// The entry as written.
    pub text: String,
    pattern: Pattern,
    used: AtomicBool,
}

#[derive(Debug, PartialEq, Eq)]
enum Pattern {
    /// `path:rule:hash`.
    Fingerprint { path: String, rule: String, hash: String },
    /// `rule:hash`.
    RuleHash { rule: String, hash: String },
    /// `hash`.
    Hash(String),
    /// gitleaks' `[commit:]path:rule:line`.
    Gitleaks { commit: Option<String>, path: String, line: usize },
}

impl Pattern {
    fn matches(&self, finding: &Finding) -> bool {
        let Some((path, rule, hash)) = split_fingerprint(&finding.fingerprint) else {
            return false;
        };
        // A path with a newline or another control character is printed escaped (`a\nb`),
        // and an entry copied from the report holds it so.
        let same_path = |p: &String| p == path || *p == crate::report::text::printable(path);
        match self {
            Pattern::Fingerprint { path: p, rule: r, hash: h } => same_path(p) && r == rule && h == hash,
            Pattern::RuleHash { rule: r, hash: h } => r == rule && h == hash,
            Pattern::Hash(h) => h == hash,
            Pattern::Gitleaks { commit, path: p, line } => {
                let commit_ok = match (commit, &finding.commit) {
                    (Some(entry), Some(found)) => found.starts_with(entry.as_str()),
                    _ => true,
                };
                same_path(p) && *line == finding.line && commit_ok
            }
        }
    }
}

/// The entries of a work tree's ignore files.
#[derive(Debug, Default)]
pub struct IgnoreList {
    entries: Vec<IgnoreEntry>,
}

impl IgnoreList {
    /// Reads `.secretgateignore` and `.gitleaksignore` from `root`, where they exist.
    pub fn read_dir(root: &Path) -> Result<Self, Error> {
        Self::read_with(|name| {
            let path = root.join(name);
            let file = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some((text, file))),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(Error::Read { file, source }),
            }
        })
    }

    /// Reads `.secretgateignore` and `.gitleaksignore` through `read`, which gives a file's
    /// text and the name to cite in messages, or `None` where it does not exist (a work
    /// tree's files, or those committed in a tree).
    pub fn read_with(
        mut read: impl FnMut(&str) -> Result<Option<(String, String)>, Error>,
    ) -> Result<Self, Error> {
        let mut list = IgnoreList::default();
        for (name, parse) in [
            (FILE_NAME, parse_secretgate_line as fn(&str) -> Result<Pattern, String>),
            (GITLEAKS_FILE_NAME, parse_gitleaks_line),
        ] {
            if let Some((text, file)) = read(name)? {
                list.add(&text, &file, parse)?;
            }
        }
        Ok(list)
    }

    /// Parses the text of a `.secretgateignore` named `file`.
    pub fn parse(text: &str, file: &str) -> Result<Self, Error> {
        let mut list = IgnoreList::default();
        list.add(text, file, parse_secretgate_line)?;
        Ok(list)
    }

    /// Parses the text of a `.gitleaksignore` named `file`.
    pub fn parse_gitleaks(text: &str, file: &str) -> Result<Self, Error> {
        let mut list = IgnoreList::default();
        list.add(text, file, parse_gitleaks_line)?;
        Ok(list)
    }

    fn add(
        &mut self,
        text: &str,
        file: &str,
        parse: fn(&str) -> Result<Pattern, String>,
    ) -> Result<(), Error> {
        // Editors on Windows may start the file with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            // A `#` starts a comment anywhere, after a blank: fingerprints hold no blanks.
            let entry = raw.split(" #").next().unwrap_or("").trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let pattern = parse(entry).map_err(|message| Error::Invalid {
                file: file.to_string(),
                line: index + 1,
                message: format!("{message}: {entry:?}"),
            })?;
            self.entries.push(IgnoreEntry {
                file: file.to_string(),
                line: index + 1,
                text: entry.to_string(),
                pattern,
                used: AtomicBool::new(false),
            });
        }
        Ok(())
    }

    /// Whether no entry was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an entry covers `finding`; every entry that does is marked used.
    pub fn matches(&self, finding: &Finding) -> bool {
        let mut matched = false;
        for entry in &self.entries {
            if entry.pattern.matches(finding) {
                entry.used.store(true, Ordering::Relaxed);
                matched = true;
            }
        }
        matched
    }

    /// The entries that matched no finding so far.
    pub fn unused(&self) -> impl Iterator<Item = &IgnoreEntry> {
        self.entries.iter().filter(|e| !e.used.load(Ordering::Relaxed))
    }
}

fn is_hash(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn parse_secretgate_line(entry: &str) -> Result<Pattern, String> {
    const EXPECTED: &str = "expected `path:rule:hash`, `rule:hash` or `hash` (16 hex digits, as in a \
                            finding's fingerprint)";
    let mut parts = entry.rsplitn(3, ':');
    let hash = parts.next().unwrap_or("").to_ascii_lowercase();
    if !is_hash(&hash) {
        return Err(EXPECTED.into());
    }
    Ok(match (parts.next(), parts.next()) {
        (None, _) => Pattern::Hash(hash),
        (Some(rule), None) if !rule.is_empty() => Pattern::RuleHash { rule: rule.into(), hash },
        (Some(rule), Some(path)) if !rule.is_empty() && !path.is_empty() => {
            Pattern::Fingerprint { path: path.into(), rule: rule.into(), hash }
        }
        _ => return Err(EXPECTED.into()),
    })
}

fn parse_gitleaks_line(entry: &str) -> Result<Pattern, String> {
    const EXPECTED: &str = "expected a gitleaks fingerprint, `commit:path:rule:line` or `path:rule:line`";
    let mut parts = entry.rsplitn(3, ':');
    let line = parts.next().and_then(|l| l.parse::<usize>().ok()).ok_or(EXPECTED)?;
    let _rule = parts.next().filter(|r| !r.is_empty()).ok_or(EXPECTED)?;
    let rest = parts.next().filter(|r| !r.is_empty()).ok_or(EXPECTED)?;
    let (commit, path) = match rest.split_once(':') {
        Some((commit, path)) if commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (Some(commit.to_ascii_lowercase()), path)
        }
        _ => (None, rest),
    };
    Ok(Pattern::Gitleaks { commit, path: path.to_string(), line })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::fingerprint;

    fn finding(path: &str, rule: &str, secret: &str, line: usize) -> Finding {
        Finding::for_test(&format!("./{path}"), rule, secret, line)
    }

    #[test]
    fn three_forms_and_unused_entries() {
        let a = finding("src/a.py", "rule-x", "s3cr3t-a", 3);
        let b = finding("src/b.py", "rule-y", "s3cr3t-b", 9);
        let c = finding("src/c.py", "rule-z", "s3cr3t-c", 1);
        let hash = |f: &Finding| split_fingerprint(&f.fingerprint).unwrap().2.to_string();
        let text = format!(
            "# reviewed 2026-11\n{}\n\nrule-y:{}  # copied into b\n{}\n{}\n",
            a.fingerprint,
            hash(&b),
            hash(&c).to_uppercase(),
            fingerprint("gone.py", "rule-x", b"old")
        );
        let list = IgnoreList::parse(&text, ".secretgateignore").unwrap();
        assert!(list.matches(&a) && list.matches(&b) && list.matches(&c));
        let with_mark =
            IgnoreList::parse(&format!("\u{feff}{}\n", a.fingerprint), ".secretgateignore").unwrap();
        assert!(with_mark.matches(&a), "a byte-order mark hid the first entry");
        let other = finding("src/a.py", "rule-x", "another", 3);
        assert!(!list.matches(&other));
        let unused: Vec<_> = list.unused().map(|e| (e.line, e.text.as_str())).collect();
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].0, 6);
    }

    #[test]
    fn an_entry_copied_from_the_report_matches_a_path_with_a_newline() {
        let odd = finding("new\nline.env", "rule-x", "s3cr3t", 1);
        let printed = crate::report::text::printable(&odd.fingerprint).into_owned();
        assert!(printed.contains("new\\nline.env"), "{printed}");
        let list = IgnoreList::parse(&format!("{printed}\n"), ".secretgateignore").unwrap();
        assert!(list.matches(&odd));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = IgnoreList::parse("# ok\nnot-a-fingerprint\n", ".secretgateignore").unwrap_err();
        assert!(err.to_string().starts_with(".secretgateignore:2: expected"), "{err}");
    }

    #[test]
    fn gitleaks_fingerprints_match_path_and_line() {
        let text = "0123456789abcdef0123456789abcdef01234567:src/a.py:generic-api-key:3\nsrc/b.py:x:9\n";
        let list = IgnoreList::parse_gitleaks(text, ".gitleaksignore").unwrap();
        assert!(list.matches(&finding("src/a.py", "rule-x", "s", 3)));
        assert!(!list.matches(&finding("src/a.py", "rule-x", "s", 4)));
        let mut in_commit = finding("src/a.py", "rule-x", "s", 3);
        in_commit.commit = Some("fedcba9876543210fedcba9876543210fedcba98".into());
        assert!(!list.matches(&in_commit));
        assert!(list.matches(&finding("src/b.py", "other", "t", 9)));
        assert!(IgnoreList::parse_gitleaks("a.py:rule:x\n", "g").is_err());
    }
}
