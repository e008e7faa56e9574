//! Allowlists judged match by match: paths, regexes over the secret, the match or the
//! line, stopwords and commits, combined by `or`/`and`, as gitleaks' allowlists are.
//!
//! A match is judged twice. In the scan, everything but the commit is known, and in the
//! history sweep and on the server not the path either (a blob is scanned once, before it
//! is traced to the commits and paths that hold it); after the scan, on a [`Finding`], the
//! commit and the path are known but the line and the whole match are not. A criterion that cannot be
//! judged yet is `unknown`: under `or` the other criteria may still allow the match, under
//! `and` it waits for the second judgement. So an `and` allowlist that combines commits
//! with a `match` or `line` regex can never allow anything; [`Allowlists::new`] rejects it.
//!
//! [`Finding`]: crate::finding::Finding

use std::collections::HashMap;

use globset::GlobSet;
use regex_automata::{meta::Regex, util::syntax};
use secretgate_patterns::allowlist::{AllowlistSpec, Condition, RegexTarget};

use super::allowlist::glob_set;

/// An allowlist that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A regex does not compile.
    #[error("allowlist{which}: invalid regex {pattern:?}: {message}")]
    Regex {
        /// ` for rule `id``, or empty for a global allowlist.
        which: String,
        /// The pattern.
        pattern: String,
        /// The engine's message.
        message: String,
    },
    /// A path glob does not parse.
    #[error("allowlist{which}: invalid path glob: {source}")]
    Glob {
        /// ` for rule `id``, or empty.
        which: String,
        /// The glob error.
        source: globset::Error,
    },
    /// A rule's path regex does not compile.
    #[error("rule `{rule}`: invalid path regex {pattern:?}: {message}")]
    RulePath {
        /// The rule id.
        rule: String,
        /// The pattern.
        pattern: String,
        /// The engine's message.
        message: String,
    },
    /// No criterion is set: with `or` it would allow nothing, with `and` everything.
    #[error("allowlist{which}: no criterion: set at least one of paths, path_regexes, regexes, stopwords, commits")]
    Empty {
        /// ` for rule `id``, or empty.
        which: String,
    },
    /// The criteria can never all be judged at once.
    #[error(
        "allowlist{which}: `condition = \"and\"` with `commits` and a `{target}` regex can never match \
         (commits are known only after the scan, lines only during it); split it into two allowlists"
    )]
    Unjudgeable {
        /// ` for rule `id``, or empty.
        which: String,
        /// The regex target.
        target: &'static str,
    },
}

/// What is known about a match when it is judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchContext<'a> {
    /// The root-relative path, `/`-separated; `None` for a blob not yet traced to one.
    pub path: Option<&'a str>,
    /// The secret.
    pub secret: &'a [u8],
    /// The rule's whole match, during the scan.
    pub whole: Option<&'a [u8]>,
    /// The line(s) holding the match, during the scan.
    pub line: Option<&'a [u8]>,
    /// The commit, when the source knows it.
    pub commit: Option<&'a str>,
}

/// The outcome of judging a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// An allowlist allows it: do not report it.
    Allowed,
    /// No allowlist allows it.
    Reported,
    /// Some criterion could not be judged with what is known yet.
    Undecided,
}

#[derive(Debug)]
struct Allowlist {
    target_rules: Vec<String>,
    globs: Option<GlobSet>,
    path_regexes: Vec<Regex>,
    regexes: Vec<Regex>,
    regex_target: RegexTarget,
    stopwords: Vec<String>,
    commits: Vec<String>,
    condition: Condition,
}

impl Allowlist {
    fn compile(spec: &AllowlistSpec) -> Result<Self, Error> {
        let which = match spec.target_rules.as_slice() {
            [] => String::new(),
            rules => format!(" for rule `{}`", rules.join("`, `")),
        };
        let regex = |pattern: &String| {
            compile(pattern).map_err(|message| Error::Regex {
                which: which.clone(),
                pattern: pattern.clone(),
                message,
            })
        };
        if spec.is_empty() {
            return Err(Error::Empty { which });
        }
        if spec.condition == Condition::And && !spec.commits.is_empty() && !spec.regexes.is_empty() {
            match spec.regex_target {
                RegexTarget::Secret => {}
                RegexTarget::Match => return Err(Error::Unjudgeable { which, target: "match" }),
                RegexTarget::Line => return Err(Error::Unjudgeable { which, target: "line" }),
            }
        }
        let globs = if spec.paths.is_empty() {
            None
        } else {
            Some(glob_set(&spec.paths).map_err(|source| Error::Glob { which: which.clone(), source })?)
        };
        Ok(Allowlist {
            target_rules: spec.target_rules.clone(),
            globs,
            path_regexes: spec.path_regexes.iter().map(regex).collect::<Result<_, _>>()?,
            regexes: spec.regexes.iter().map(regex).collect::<Result<_, _>>()?,
            regex_target: spec.regex_target,
            stopwords: spec.stopwords.iter().map(|w| w.to_ascii_lowercase()).collect(),
            commits: spec.commits.iter().map(|c| c.to_ascii_lowercase()).collect(),
            condition: spec.condition,
        })
    }

    fn applies_to(&self, rule_id: &str) -> bool {
        self.target_rules.is_empty() || self.target_rules.iter().any(|r| r == rule_id)
    }

    fn judge(&self, ctx: &MatchContext) -> Verdict {
        // One entry per criterion that is set: Some(holds) or None (not known yet).
        let mut criteria: [Option<Option<bool>>; 4] = [None; 4];
        if self.globs.is_some() || !self.path_regexes.is_empty() {
            criteria[0] = Some(ctx.path.map(|path| {
                self.globs.as_ref().is_some_and(|g| g.is_match(path))
                    || self.path_regexes.iter().any(|r| r.is_match(path.as_bytes()))
            }));
        }
        if !self.regexes.is_empty() {
            let target = match self.regex_target {
                RegexTarget::Secret => Some(ctx.secret),
                RegexTarget::Match => ctx.whole,
                RegexTarget::Line => ctx.line,
            };
            criteria[1] = Some(target.map(|text| self.regexes.iter().any(|r| r.is_match(text))));
        }
        if !self.stopwords.is_empty() {
            let lower = ctx.secret.to_ascii_lowercase();
            let found = self.stopwords.iter().any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some());
            criteria[2] = Some(Some(found));
        }
        if !self.commits.is_empty() {
            criteria[3] = Some(ctx.commit.map(|commit| {
                let commit = commit.to_ascii_lowercase();
                self.commits.iter().any(|c| commit == *c || (c.len() >= 7 && commit.starts_with(c.as_str())))
            }));
        }
        let set = criteria.iter().flatten();
        match self.condition {
            Condition::Or if set.clone().any(|c| *c == Some(true)) => Verdict::Allowed,
            Condition::Or if set.clone().any(Option::is_none) => Verdict::Undecided,
            Condition::Or => Verdict::Reported,
            Condition::And if set.clone().any(|c| *c == Some(false)) => Verdict::Reported,
            Condition::And if set.clone().any(Option::is_none) => Verdict::Undecided,
            Condition::And => Verdict::Allowed,
        }
    }
}

/// Every allowlist of a configuration, plus the rules limited to some paths (gitleaks'
/// rule `path`), compiled. Cheap to judge with: a match runs only the lists that apply to
/// its rule.
#[derive(Debug, Default)]
pub struct Allowlists {
    lists: Vec<Allowlist>,
    rule_paths: HashMap<String, Regex>,
}

impl Allowlists {
    /// Compiles `specs` and `rule_paths` (`(rule id, path regex)`).
    pub fn new(specs: &[AllowlistSpec], rule_paths: &[(String, String)]) -> Result<Self, Error> {
        let lists = specs.iter().map(Allowlist::compile).collect::<Result<_, _>>()?;
        let rule_paths = rule_paths
            .iter()
            .map(|(rule, pattern)| {
                compile(pattern).map(|regex| (rule.clone(), regex)).map_err(|message| Error::RulePath {
                    rule: rule.clone(),
                    pattern: pattern.clone(),
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Allowlists { lists, rule_paths })
    }

    /// Every rule id an allowlist or a path limit names, for checking that they exist.
    pub fn named_rules(&self) -> impl Iterator<Item = &str> {
        let targets = self.lists.iter().flat_map(|l| l.target_rules.iter());
        targets.chain(self.rule_paths.keys()).map(String::as_str)
    }

    /// Whether there is nothing to judge.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty() && self.rule_paths.is_empty()
    }

    /// Whether anything looks at commits or paths, and so must judge findings again once
    /// a history's blob is traced to its commit and path.
    pub fn judges_after_scan(&self) -> bool {
        !self.rule_paths.is_empty()
            || self
                .lists
                .iter()
                .any(|l| !l.commits.is_empty() || l.globs.is_some() || !l.path_regexes.is_empty())
    }

    /// Whether `rule_id` applies to a file at `path` (root-relative): false only for a rule
    /// limited to paths that do not include it. A blob not yet traced to a path (`None`)
    /// may be anywhere: the rule applies until its finding's path is known.
    pub fn rule_applies_to_path(&self, rule_id: &str, path: Option<&str>) -> bool {
        let Some(path) = path else {
            return true;
        };
        self.rule_paths.get(rule_id).is_none_or(|regex| regex.is_match(path.as_bytes()))
    }

    /// Judges a match of `rule_id`: allowed if any applicable allowlist allows it.
    pub fn judge(&self, rule_id: &str, ctx: &MatchContext) -> Verdict {
        let mut verdict = Verdict::Reported;
        for list in self.lists.iter().filter(|l| l.applies_to(rule_id)) {
            match list.judge(ctx) {
                Verdict::Allowed => return Verdict::Allowed,
                Verdict::Undecided => verdict = Verdict::Undecided,
                Verdict::Reported => {}
            }
        }
        verdict
    }
}

/// Bytes, Unicode off: the same reading as rule regexes, so a pattern means the same in a
/// rule and in an allowlist.
fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build(pattern)
        .map_err(|err| err.to_string().replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(toml: &str) -> Allowlists {
        #[derive(serde::Deserialize)]
        struct Wrapper {
            allowlists: Vec<AllowlistSpec>,
        }
        let wrapper: Wrapper = toml::from_str(toml).unwrap();
        Allowlists::new(&wrapper.allowlists, &[("only-py".into(), r"\.py$".into())]).unwrap()
    }

    fn ctx<'a>(path: &'a str, secret: &'a str, line: &'a str) -> MatchContext<'a> {
        MatchContext {
            path: Some(path),
            secret: secret.as_bytes(),
            whole: Some(line.as_bytes()),
            line: Some(line.as_bytes()),
            commit: None,
        }
    }

    #[test]
    fn each_criterion_under_or() {
        let set = lists(
            r#"
[[allowlists]]
paths = ["tests/**"]
[[allowlists]]
path_regexes = ['''^docs/''']
[[allowlists]]
regexes = ['''^AKIA.*TEST$''']
[[allowlists]]
regex_target = "line"
regexes = ['''fixture''']
[[allowlists]]
stopwords = ["notreal"]
[[allowlists]]
target_rules = ["only-this"]
stopwords = ["k3y"]
"#,
        );
        let judge = |c: MatchContext| set.judge("some-rule", &c);
        assert_eq!(judge(ctx("tests/a/b.py", "s3cr3t", "x = s3cr3t")), Verdict::Allowed);
        assert_eq!(judge(ctx("docs/a.md", "s3cr3t", "x = s3cr3t")), Verdict::Allowed);
        assert_eq!(judge(ctx("src/a.py", "AKIA0000TEST", "x")), Verdict::Allowed);
        assert_eq!(judge(ctx("src/a.py", "s3cr3t", "x = s3cr3t # fixture")), Verdict::Allowed);
        assert_eq!(judge(ctx("src/a.py", "abcNotRealx", "x")), Verdict::Allowed);
        assert_eq!(judge(ctx("src/a.py", "k3y-value", "x")), Verdict::Reported);
        assert_eq!(set.judge("only-this", &ctx("src/a.py", "k3y-value", "x")), Verdict::Allowed);
        // After the scan the line is unknown: a line regex cannot decide.
        let later = MatchContext { path: Some("src/a.py"), secret: b"s3cr3t", ..Default::default() };
        assert_eq!(judge(later), Verdict::Undecided);
        // A history's blob is scanned before its path is known: a path cannot decide yet,
        // and once traced to one, the path alone allows it.
        let blob = MatchContext { path: None, secret: b"s3cr3t", ..ctx("", "s3cr3t", "x = s3cr3t") };
        assert_eq!(judge(blob), Verdict::Undecided);
        let traced = MatchContext { path: Some("tests/a.py"), secret: b"s3cr3t", ..Default::default() };
        assert_eq!(judge(traced), Verdict::Allowed);
    }

    #[test]
    fn and_needs_every_criterion_and_waits_for_the_commit() {
        let set = lists(
            r#"
[[allowlists]]
condition = "AND"
paths = ["old/**"]
commits = ["0123456789abcdef0123456789abcdef01234567"]
"#,
        );
        let mut c = ctx("old/a.py", "s", "s");
        assert_eq!(set.judge("r", &c), Verdict::Undecided);
        c.commit = Some("0123456789ABCDEF0123456789abcdef01234567");
        assert_eq!(set.judge("r", &c), Verdict::Allowed);
        c.path = Some("new/a.py");
        assert_eq!(set.judge("r", &c), Verdict::Reported);
    }

    #[test]
    fn unjudgeable_and_is_rejected_and_rule_paths_apply() {
        let spec = AllowlistSpec {
            condition: Condition::And,
            commits: vec!["abc1234".into()],
            regexes: vec!["x".into()],
            regex_target: RegexTarget::Line,
            ..Default::default()
        };
        assert!(Allowlists::new(&[spec], &[]).unwrap_err().to_string().contains("can never match"));
        let empty = AllowlistSpec { condition: Condition::And, ..Default::default() };
        assert!(Allowlists::new(&[empty], &[]).unwrap_err().to_string().contains("no criterion"));
        let set = lists("allowlists = []");
        assert!(set.rule_applies_to_path("only-py", Some("a/b.py")));
        assert!(!set.rule_applies_to_path("only-py", Some("a/b.js")));
        assert!(set.rule_applies_to_path("other", Some("a/b.js")));
        assert!(set.rule_applies_to_path("only-py", None));
    }
}
