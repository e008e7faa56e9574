//! Baselines: the findings a repository has accepted, so that only new ones are reported.
//!
//! The file (`.secretgate-baseline.json` at the work tree root) is made to live in git:
//!
//! ```text
//! {
//! "version": 1,
//! "entries": [
//! {"fingerprint":"src/a.py:aws-access-key:0123456789abcdef","rule_id":"aws-access-key","path":"src/a.py","reviewed":true,"note":"test account, revoked"},
//! {"fingerprint":"src/b.py:...","rule_id":"...","path":"src/b.py","reviewed":false},
//! {"end":"keep this line last"}
//! ]
//! }
//! ```
//!
//! One entry per line, sorted by fingerprint; no timestamps and no line numbers, so that
//! re-creating it changes only the lines of findings that came or went. Every entry line
//! ends with a comma (the fixed last element makes that valid JSON), so an entry added at
//! the end touches no other line. Two branches that each add a finding at different places
//! merge without conflict; entries added at the same place do conflict, unless
//! `.gitattributes` says `.secretgate-baseline.json merge=union`, which this layout makes
//! safe (the reader sorts again, and a duplicate line is harmless).
//!
//! `--baseline` also reads a detect-secrets `.secrets.baseline` and a gitleaks JSON report
//! (see [`super::foreign_baseline`]); the format is recognised from the content.

use std::{collections::BTreeMap, io::Write, path::Path};

use serde::{Deserialize, Serialize};

use super::foreign_baseline::ForeignBaseline;
use crate::finding::{split_fingerprint, Finding};

/// The file name looked for at the work tree root.
pub const FILE_NAME: &str = ".secretgate-baseline.json";

/// The format version written.
pub const VERSION: u32 = 1;

const END_MARKER: &str = "keep this line last";

/// A baseline that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// It could not be read.
    #[error("cannot read the baseline {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a baseline secretgate knows.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// The finding's fingerprint (`path:rule_id:secret_hash`).
    pub fingerprint: String,
    /// Its rule, for people reading the file.
    pub rule_id: String,
    /// Its root-relative path, for people reading the file.
    pub path: String,
    /// Someone looked at it and decided it may stay. Kept when the baseline is re-created.
    #[serde(default)]
    pub reviewed: bool,
    /// Why it may stay. Kept when the baseline is re-created.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl BaselineEntry {
    /// The entry recording `finding`, not yet reviewed.
    pub fn of(finding: &Finding) -> Self {
        let (path, _, _) = split_fingerprint(&finding.fingerprint).unwrap_or((&finding.path, "", ""));
        BaselineEntry {
            fingerprint: finding.fingerprint.clone(),
            rule_id: finding.rule_id.clone(),
            path: path.to_string(),
            reviewed: false,
            note: String::new(),
        }
    }
}

/// A baseline read from a file: secretgate's own, or another tool's.
#[derive(Debug)]
pub struct Baseline {
    /// The file it was read from.
    pub file: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Own(BTreeMap<String, BaselineEntry>),
    Foreign(ForeignBaseline),
}

impl Baseline {
    /// Reads a baseline file, recognising its format.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Read { file: file.clone(), source })?;
        Self::parse(&text, &file)
    }

    /// Parses a baseline named `file`: secretgate's (an object with `entries`), a
    /// detect-secrets baseline (an object with `results`), or a gitleaks report (an array).
    pub fn parse(text: &str, file: &str) -> Result<Self, Error> {
        let invalid = |message: String| Error::Invalid { file: file.to_string(), message };
        // `baseline create > .secretgate-baseline.json` empties the file before the scan
        // reads it: an empty file is an empty baseline, not an error.
        if text.trim().is_empty() {
            return Ok(Self::empty(file));
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| invalid(format!("not JSON: {err}")))?;
        let kind = if value.get("entries").is_some() {
            Kind::Own(parse_own(&value).map_err(invalid)?)
        } else {
            match ForeignBaseline::parse(&value).map_err(invalid)? {
                Some(foreign) => Kind::Foreign(foreign),
                None => {
                    return Err(invalid(
                        "not a baseline secretgate knows: expected secretgate's (`entries`), a \
                         detect-secrets `.secrets.baseline` (`results`) or a gitleaks JSON report (an array)"
                            .into(),
                    ))
                }
            }
        };
        Ok(Baseline { file: file.to_string(), kind })
    }

    /// An empty secretgate baseline.
    pub fn empty(file: &str) -> Self {
        Baseline { file: file.to_string(), kind: Kind::Own(BTreeMap::new()) }
    }

    /// Whether `finding` is in the baseline.
    pub fn contains(&self, finding: &Finding) -> bool {
        match &self.kind {
            Kind::Own(entries) => entries.contains_key(&finding.fingerprint),
            Kind::Foreign(foreign) => foreign.contains(finding),
        }
    }

    /// The entries of a secretgate baseline (none for another tool's).
    pub fn entries(&self) -> impl Iterator<Item = &BaselineEntry> {
        let own = match &self.kind {
            Kind::Own(entries) => Some(entries.values()),
            Kind::Foreign(_) => None,
        };
        own.into_iter().flatten()
    }

    /// A baseline of `findings`, keeping `reviewed` and `note` of entries that `previous`
    /// (a secretgate baseline) already had. Entries whose finding is gone are dropped.
    pub fn create<'a>(findings: impl IntoIterator<Item = &'a Finding>, previous: Option<&Baseline>) -> Self {
        let mut entries = BTreeMap::new();
        for finding in findings {
            let mut entry = BaselineEntry::of(finding);
            if let Some(Kind::Own(old)) = previous.map(|p| &p.kind) {
                if let Some(old) = old.get(&entry.fingerprint) {
                    entry.reviewed = old.reviewed;
                    entry.note.clone_from(&old.note);
                }
            }
            entries.insert(entry.fingerprint.clone(), entry);
        }
        Baseline { file: String::new(), kind: Kind::Own(entries) }
    }

    /// Adds the entries of `previous` (a secretgate baseline) that this one lacks and whose
    /// file the scan did not cover (`scanned` says which root-relative paths it did): an
    /// update of part of a tree keeps the rest of the baseline, reviews included.
    pub fn keep_unscanned(&mut self, previous: &Baseline, scanned: impl Fn(&str) -> bool) {
        let (Kind::Own(entries), Kind::Own(old)) = (&mut self.kind, &previous.kind) else { return };
        for (fingerprint, entry) in old {
            if !scanned(&entry.path) {
                entries.entry(fingerprint.clone()).or_insert_with(|| entry.clone());
            }
        }
    }

    /// Writes the baseline in the merge-friendly layout described in the module docs.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{{\n\"version\": {VERSION},\n\"entries\": [")?;
        for entry in self.entries() {
            let line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
            writeln!(out, "{line},")?;
        }
        writeln!(out, "{{\"end\":\"{END_MARKER}\"}}\n]\n}}")
    }
}

fn parse_own(value: &serde_json::Value) -> Result<BTreeMap<String, BaselineEntry>, String> {
    let version = value.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if version != u64::from(VERSION) {
        return Err(format!("baseline version {version} is not supported (expected {VERSION})"));
    }
    let list = value["entries"].as_array().ok_or("`entries` must be an array")?;
    let mut entries = BTreeMap::new();
    for (index, item) in list.iter().enumerate() {
        if item.get("end").is_some() && item.get("fingerprint").is_none() {
            continue;
        }
        let entry: BaselineEntry =
            serde_json::from_value(item.clone()).map_err(|err| format!("entry {}: {err}", index + 1))?;
        if split_fingerprint(&entry.fingerprint).is_none() {
            return Err(format!("entry {}: `{}` is not a fingerprint", index + 1, entry.fingerprint));
        }
        entries.insert(entry.fingerprint.clone(), entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, secret: &str) -> Finding {
        Finding::for_test(path, "rule-x", secret, 7)
    }

    #[test]
    fn written_sorted_one_per_line_and_read_back() {
        let (b, a) = (finding("src/b.py", "s3cr3t-b"), finding("src/a.py", "s3cr3t-a"));
        let baseline = Baseline::create([&b, &a], None);
        let mut out = Vec::new();
        baseline.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert!(lines[3].contains("src/a.py") && lines[4].contains("src/b.py"), "{text}");
        assert!(lines[3].ends_with(',') && lines[4].ends_with(','));
        assert!(!text.contains("\"line\"") && !text.contains("s3cr3t"), "{text}");
        let read = Baseline::parse(&text, "b.json").unwrap();
        assert!(read.contains(&a) && read.contains(&b));
        assert!(!read.contains(&finding("src/a.py", "other")));
    }

    #[test]
    fn re_creating_keeps_review_of_entries_still_present() {
        let (a, b) = (finding("a.py", "one"), finding("b.py", "two"));
        let mut text = Vec::new();
        Baseline::create([&a, &b], None).write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap().replacen(
            "\"reviewed\":false",
            "\"reviewed\":true,\"note\":\"test key\"",
            1,
        );
        let old = Baseline::parse(&text, "old.json").unwrap();
        let c = finding("c.py", "three");
        let new = Baseline::create([&a, &c], Some(&old));
        let entries: Vec<_> = new.entries().collect();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].reviewed && entries[0].note == "test key");
        assert!(!entries[1].reviewed && entries[1].path == "c.py");
    }

    #[test]
    fn unknown_formats_and_bad_entries_are_errors() {
        assert!(Baseline::parse("{\"foo\": 1}", "x.json")
            .unwrap_err()
            .to_string()
            .contains("not a baseline"));
        let bad =
            "{\"version\":1,\"entries\":[{\"fingerprint\":\"nocolons\",\"rule_id\":\"r\",\"path\":\"p\"}]}";
        assert!(Baseline::parse(bad, "x.json").unwrap_err().to_string().contains("entry 1"));
        assert!(Baseline::parse("{\"version\":9,\"entries\":[]}", "x").is_err());
    }
}
