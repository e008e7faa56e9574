//! Allowlists as data: what a repository says never to report, before any regex is
//! compiled. `scanner::suppress::allowlist` compiles and applies them.
//!
//! The shape follows gitleaks' `[[allowlists]]` so that a gitleaks configuration maps onto
//! it one to one: criteria (paths, regexes, stopwords, commits) combined by a condition,
//! optionally limited to some rules.

use serde::{Deserialize, Serialize};

/// One allowlist: a finding is not reported when the criteria hold (any of them with
/// `condition = "or"`, all the ones set with `"and"`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// What it is for, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Path globs relative to the work tree root (`*` within a component, `**` across;
    /// without `/` a glob matches a file name anywhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Regexes over the root-relative path (`/` separators); what gitleaks' `paths` are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_regexes: Vec<String>,
    /// Regexes over [`AllowlistSpec::regex_target`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regexes: Vec<String>,
    /// What `regexes` are matched against.
    #[serde(default)]
    pub regex_target: RegexTarget,
    /// A secret containing one of these (ASCII case-insensitively) is allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopwords: Vec<String>,
    /// Commit ids (full, or a prefix of at least 7 hex digits) whose findings are allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// How the criteria combine.
    #[serde(default)]
    pub condition: Condition,
    /// Rule ids this allowlist is limited to; empty means every rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_rules: Vec<String>,
}

impl AllowlistSpec {
    /// Whether no criterion is set (such an allowlist would allow nothing, or with `and`
    /// everything: both are mistakes worth an error).
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.path_regexes.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
    }
}

/// The text an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegexTarget {
    /// The secret alone (the rule's secret group).
    #[default]
    Secret,
    /// The rule's whole match.
    Match,
    /// The line(s) holding the match.
    Line,
}

/// How an allowlist's criteria combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Condition {
    /// Any criterion that holds allows the finding.
    #[default]
    #[serde(rename = "or", alias = "OR", alias = "Or")]
    Or,
    /// Every criterion that is set must hold.
    #[serde(rename = "and", alias = "AND", alias = "And")]
    And,
}
