//! The rule schema: what a `[[rules]]` table in a rule file may hold.

use serde::{Deserialize, Serialize};

/// One detection rule, as written in a rule file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable, unique, kebab-case identifier (`github-pat-classic`). Appears in every
    /// finding and in fingerprints, so renaming a rule invalidates ignore entries.
    pub id: String,
    /// One line for people: what credential this is.
    pub description: String,
    /// ASCII literals matched case-insensitively; the regex only runs near one of them.
    /// A rule without keywords runs its regex over every input and should be rare.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The regex (Rust `regex` syntax, matched over bytes with Unicode off).
    pub regex: String,
    /// The capture group that holds the secret; 0 is the whole match.
    #[serde(default = "default_secret_group")]
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per byte) of the secret, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
    /// A checksum the secret carries and must verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// The secret must mix at least this many character classes: letters, digits, and
    /// symbols other than `_`, `-` and `.`. Tells a random value or a password from an
    /// identifier or a word in code (`user_password_field` has one class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_char_classes: Option<u8>,
    /// A secret containing one of these (ASCII case-insensitively) is not reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopwords: Vec<String>,
    /// Regexes over the secret alone: a secret one of them matches is not reported
    /// (a UUID where a generic rule expects a password, a file path, a known test value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_secrets: Vec<String>,
    /// A catch-all rule (generic `password = ...` assignments): reported only where no
    /// specific rule found a secret in the same bytes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generic: bool,
    /// How values are read below the header the regex finds, for secrets named by a
    /// table's column header rather than beside them; see [`Reader`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<Reader>,
    /// How bad a leak of this credential is.
    pub severity: Severity,
    /// How to revoke or rotate the credential: a URL or a short sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<String>,
    /// How far, in bytes, a match may reach from its keyword on either side.
    /// Defaults to [`Rule::DEFAULT_WINDOW`]; raise it only for long multi-line secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<usize>,
    /// Inputs that must produce a finding.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Inputs that must not produce a finding.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Where the rule was read from (a file name, or `builtin:cloud.toml`); set by the loader.
    #[serde(skip)]
    pub source: String,
}

impl Rule {
    /// The keyword window used when a rule does not set `window`.
    pub const DEFAULT_WINDOW: usize = 256;

    /// The effective keyword window of this rule.
    pub fn window(&self) -> usize {
        self.window.unwrap_or(Self::DEFAULT_WINDOW)
    }
}

fn default_secret_group() -> usize {
    1
}

/// How bad a leak is; orders from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Little damage on its own (a publishable key, a test-mode key).
    Low,
    /// Limited access.
    Medium,
    /// Access to an account or its data.
    High,
    /// Broad access: cloud root credentials, private keys, package publishing.
    Critical,
}

impl Severity {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A structural reader: where a rule's values are, relative to the header its regex finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reader {
    /// Delimited rows (CSV, TSV, `;` or `|` separated) or a Markdown table under a header
    /// line; any match on that line finds it (the built-in rule matches a cell naming a
    /// secret).
    Table,
    /// The tuples after `VALUES` of an SQL `INSERT`; the secret group is the column list
    /// inside its parentheses, and the match ends where the tuples start.
    SqlValues,
}

/// A checksum embedded in a token format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// GitHub's, npm's and Vercel's format: a prefix ending in `_`, random base62
    /// characters, then the CRC32 of those characters in 6 base62 digits (`0-9A-Za-z`,
    /// most significant first, zero-padded).
    GithubCrc32,
}

/// The top level of a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The rules it defines.
    #[serde(default)]
    pub rules: Vec<Rule>,
}
