//! Deciding that a match is not to be reported.
//!
//! During the scan ([`crate::Scanner`]): inline markers ([`inline`]) and allowlists
//! ([`criteria`]; whole files by [`allowlist::PathAllowlist`]). After it, on each
//! [`Finding`], the [`Suppressor`]: ignore files ([`ignore_file`]), allowlists that name
//! commits, and a baseline ([`baseline`]). A source that knows a finding's commit only
//! after the scan (history, a push) calls [`Suppressor::check`] once it has set it.

pub mod allowlist;
pub mod baseline;
pub mod criteria;
pub mod foreign_baseline;
pub mod ignore_file;
pub mod inline;
mod sha1;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use self::{
    baseline::Baseline,
    criteria::{Allowlists, MatchContext, Verdict},
    ignore_file::IgnoreList,
};
use crate::{
    finding::{split_fingerprint, Finding},
    sink::ScanSummary,
};

/// Ignore files or a baseline that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An ignore file.
    #[error(transparent)]
    Ignore(#[from] ignore_file::Error),
    /// A baseline.
    #[error(transparent)]
    Baseline(#[from] baseline::Error),
}

/// Which baseline to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BaselineChoice {
    /// `.secretgate-baseline.json` at the work tree root, if it exists.
    #[default]
    Auto,
    /// This file (any format [`Baseline::parse`] knows); it must exist.
    File(PathBuf),
    /// None: report everything.
    Off,
}

/// Why a finding is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// An entry of `.secretgateignore` or `.gitleaksignore`.
    Ignored,
    /// An allowlist judged once the commit and the path are known.
    Allowlisted,
    /// It is in the baseline.
    Baselined,
    /// Its rule is limited to other paths (gitleaks' rule `path`): it was never a match,
    /// as a scan that knows the path does not count one.
    OtherPath,
}

impl Suppression {
    /// Moves one finding in `summary` from reported to suppressed for this reason.
    pub fn count_in(self, summary: &mut ScanSummary) {
        summary.findings = summary.findings.saturating_sub(1);
        match self {
            Suppression::Ignored => summary.ignored += 1,
            Suppression::Allowlisted => summary.allowlisted += 1,
            Suppression::Baselined => summary.baselined += 1,
            Suppression::OtherPath => {}
        }
    }
}

/// The suppressions applied to finished findings: ignore files, commit allowlists and
/// the baseline. One value per run; share it by reference between threads.
#[derive(Debug, Default)]
pub struct Suppressor {
    allowlists: Arc<Allowlists>,
    ignores: IgnoreList,
    baseline: Option<Baseline>,
}

impl Suppressor {
    /// A suppressor from parts already loaded.
    pub fn new(allowlists: Arc<Allowlists>, ignores: IgnoreList, baseline: Option<Baseline>) -> Self {
        Suppressor { allowlists, ignores, baseline }
    }

    /// Reads the ignore files at `root` and the baseline `choice` names. `allowlists` are
    /// the scanner's ([`crate::Scanner::allowlists`]), judged again here for commits.
    pub fn load(root: &Path, allowlists: Arc<Allowlists>, choice: &BaselineChoice) -> Result<Self, Error> {
        let ignores = IgnoreList::read_dir(root)?;
        let baseline = match choice {
            BaselineChoice::Off => None,
            BaselineChoice::File(path) => Some(Baseline::read(path)?),
            BaselineChoice::Auto => {
                let path = root.join(baseline::FILE_NAME);
                if path.is_file() {
                    Some(Baseline::read(&path)?)
                } else {
                    None
                }
            }
        };
        Ok(Suppressor { allowlists, ignores, baseline })
    }

    /// The ignore files and `.secretgate-baseline.json` as committed in a tree (a bare
    /// repository has no work tree): `read` gives a file's text by name, `None` where the
    /// tree has none; `label` names the tree in messages.
    pub fn committed(
        allowlists: Arc<Allowlists>,
        label: &str,
        mut read: impl FnMut(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let ignores =
            IgnoreList::read_with(|name| Ok(read(name).map(|text| (text, format!("{label}:{name}")))))?;
        let baseline = read(baseline::FILE_NAME)
            .map(|text| Baseline::parse(&text, &format!("{label}:{}", baseline::FILE_NAME)))
            .transpose()?;
        Ok(Suppressor { allowlists, ignores, baseline })
    }

    /// Why `finding` is not to be reported, if it is not. Marks the ignore entries it
    /// matches as used.
    pub fn check(&self, finding: &Finding) -> Option<Suppression> {
        // Judged in the scan already where the path was known; a history's blob was scanned
        // before it was traced to its commit and path.
        let path = split_fingerprint(&finding.fingerprint).map_or(finding.path.as_str(), |p| p.0);
        // Not a match at all, so no ignore entry is used up by it.
        if !self.allowlists.rule_applies_to_path(&finding.rule_id, Some(path)) {
            return Some(Suppression::OtherPath);
        }
        if self.ignores.matches(finding) {
            return Some(Suppression::Ignored);
        }
        if self.allowlists.judges_after_scan() {
            let ctx = MatchContext {
                path: Some(path),
                secret: finding.secret.as_bytes(),
                whole: None,
                line: None,
                commit: finding.commit.as_deref(),
            };
            if self.allowlists.judge(&finding.rule_id, &ctx) == Verdict::Allowed {
                return Some(Suppression::Allowlisted);
            }
        }
        if self.baseline.as_ref().is_some_and(|b| b.contains(finding)) {
            return Some(Suppression::Baselined);
        }
        None
    }

    /// Drops the suppressed findings and counts them in `summary` (its `findings` count
    /// goes down by as many).
    pub fn retain(&self, findings: &mut Vec<Finding>, summary: &mut ScanSummary) {
        findings.retain(|finding| {
            let Some(why) = self.check(finding) else {
                return true;
            };
            why.count_in(summary);
            false
        });
    }

    /// The ignore entries.
    pub fn ignores(&self) -> &IgnoreList {
        &self.ignores
    }

    /// The baseline in effect, if any.
    pub fn baseline(&self) -> Option<&Baseline> {
        self.baseline.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secretgate_patterns::allowlist::AllowlistSpec;

    fn finding(path: &str, secret: &str, commit: Option<&str>) -> Finding {
        Finding { commit: commit.map(String::from), ..Finding::for_test(path, "rule-x", secret, 1) }
    }

    /// What a hook does: one `Suppressor`, one `check` per finding once its commit is set.
    #[test]
    fn ignore_then_commit_allowlist_then_baseline() {
        let commits = AllowlistSpec { commits: vec!["abcdef1".into()], ..Default::default() };
        let allowlists = Arc::new(Allowlists::new(&[commits], &[]).unwrap());
        let ignored = finding("a.py", "one", None);
        let ignores = IgnoreList::parse(&format!("{}\n", ignored.fingerprint), ".secretgateignore").unwrap();
        let old = finding("b.py", "two", None);
        let baseline = Baseline::create([&old], None);
        let suppressor = Suppressor::new(allowlists, ignores, Some(baseline));

        assert_eq!(suppressor.check(&ignored), Some(Suppression::Ignored));
        assert_eq!(
            suppressor.check(&finding("c.py", "3", Some("abcdef1234"))),
            Some(Suppression::Allowlisted)
        );
        assert_eq!(suppressor.check(&finding("c.py", "3", Some("0000000"))), None);
        assert_eq!(suppressor.check(&old), Some(Suppression::Baselined));
        assert_eq!(suppressor.ignores().unused().count(), 0);

        let mut findings = vec![ignored, old, finding("d.py", "4", None)];
        let mut summary = ScanSummary { findings: 3, ..Default::default() };
        suppressor.retain(&mut findings, &mut summary);
        assert_eq!(findings.len(), 1);
        assert_eq!((summary.findings, summary.ignored, summary.baselined), (1, 1, 1));
    }

    #[test]
    fn load_reads_root_files_and_honours_the_choice() {
        let dir = tempfile::tempdir().unwrap();
        let f = finding("a.py", "one", None);
        let mut text = Vec::new();
        Baseline::create([&f], None).write(&mut text).unwrap();
        std::fs::write(dir.path().join(baseline::FILE_NAME), &text).unwrap();
        let auto = Suppressor::load(dir.path(), Arc::default(), &BaselineChoice::Auto).unwrap();
        assert_eq!(auto.check(&f), Some(Suppression::Baselined));
        let off = Suppressor::load(dir.path(), Arc::default(), &BaselineChoice::Off).unwrap();
        assert_eq!(off.check(&f), None);
        let missing = BaselineChoice::File(dir.path().join("nope.json"));
        assert!(Suppressor::load(dir.path(), Arc::default(), &missing).is_err());
    }
}
