//! Reading rule files: TOML parsing plus the checks that need no regex engine.
//!
//! Whether a regex compiles, and whether the examples match, is checked by `scanner`,
//! which owns the engine; its errors name the file and rule id the same way.

use std::{collections::HashMap, path::Path};

use crate::schema::{Rule, RuleFile};

/// A rule file that cannot be used. Every variant names the file, and the rule where
/// there is one, so the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read rule file {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not follow the schema.
    #[error("{file}:{message}")]
    Parse {
        /// The file.
        file: String,
        /// `LINE:COLUMN: key `KEY`: what is wrong` (see [`describe_toml_error`]).
        message: String,
    },
    /// A rule breaks a constraint of the schema.
    #[error("{file}: rule `{rule}`: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The rule id.
        rule: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Two rules share an id.
    #[error("rule id `{rule}` is defined twice: in {first} and in {second}")]
    Duplicate {
        /// The id.
        rule: String,
        /// Where it was defined first.
        first: String,
        /// Where it was defined again.
        second: String,
    },
}

/// How strictly to check a rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Built-in rules: examples and negative examples are both required.
    Builtin,
    /// A user's rules: at least one example is required.
    User,
    /// Rules converted from another tool's format (gitleaks), which has no examples.
    Imported,
}

/// Parses the text of a rule file named `source` and checks each rule.
pub fn parse_rule_file(text: &str, source: &str, strictness: Strictness) -> Result<Vec<Rule>, Error> {
    let file: RuleFile = toml::from_str(text)
        .map_err(|err| Error::Parse { file: source.to_string(), message: describe_toml_error(text, &err) })?;
    let mut rules = file.rules;
    for rule in &mut rules {
        rule.source = source.to_string();
    }
    validate_all(&rules, strictness)?;
    Ok(rules)
}

/// Checks every rule of a set and that their ids are unique.
pub fn validate_all(rules: &[Rule], strictness: Strictness) -> Result<(), Error> {
    for rule in rules {
        validate(rule, strictness)?;
    }
    check_unique(rules)
}

/// Reads and parses a rule file from disk.
pub fn read_rule_file(path: &Path) -> Result<Vec<Rule>, Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { file: file.clone(), source })?;
    parse_rule_file(&text, &file, Strictness::User)
}

/// Fails on the first id defined by two rules.
pub fn check_unique(rules: &[Rule]) -> Result<(), Error> {
    let mut seen: HashMap<&str, &str> = HashMap::with_capacity(rules.len());
    for rule in rules {
        if let Some(first) = seen.insert(&rule.id, &rule.source) {
            return Err(Error::Duplicate {
                rule: rule.id.clone(),
                first: first.to_string(),
                second: rule.source.clone(),
            });
        }
    }
    Ok(())
}

/// A TOML error as `LINE:COLUMN: key `KEY`: MESSAGE` (append it to the file name and a
/// colon; without a position it is ` MESSAGE`), so
/// the message says where to look and which key is wrong even when the parser's own
/// message (`invalid type: string "x", expected u64`) names no key.
pub fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end().replace('\n', " ");
    let Some(span) = err.span() else {
        return format!(" {message}");
    };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_number = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    match key_of_line(line, &text[..line_start]) {
        Some(key) => format!("{line_number}:{column}: key `{key}`: {message}"),
        None => format!("{line_number}:{column}: {message}"),
    }
}

/// The dotted key a line sets (`limits.max_file_size`), qualified by the table header
/// before it; or the header itself for a `[table]` line.
fn key_of_line(line: &str, before: &str) -> Option<String> {
    let header = |l: &str| {
        let l = l.trim();
        l.starts_with('[').then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    };
    if let Some(table) = header(line) {
        return Some(table);
    }
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('#') {
        return None;
    }
    match before.lines().rev().find_map(header) {
        Some(table) => Some(format!("{table}.{key}")),
        None => Some(key.to_string()),
    }
}

fn validate(rule: &Rule, strictness: Strictness) -> Result<(), Error> {
    let invalid = |message: String| Error::Invalid {
        file: rule.source.clone(),
        rule: if rule.id.is_empty() { "<no id>".into() } else { rule.id.clone() },
        message,
    };
    let id_ok = !rule.id.is_empty()
        && rule.id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !id_ok {
        return Err(invalid("the id must be non-empty ASCII letters, digits, `-`, `_` or `.`".into()));
    }
    if rule.description.trim().is_empty() {
        return Err(invalid("the description is empty".into()));
    }
    if rule.regex.is_empty() {
        return Err(invalid("the regex is empty".into()));
    }
    if let Some(keyword) = rule.keywords.iter().find(|k| k.is_empty() || !k.is_ascii()) {
        return Err(invalid(format!("keyword {keyword:?} must be non-empty ASCII")));
    }
    if let Some(entropy) = rule.entropy {
        // gitleaks accepts any entropy (999: never report); so does an import.
        let ceiling = if strictness == Strictness::Imported { f64::MAX } else { 8.0 };
        if !(0.0..=ceiling).contains(&entropy) {
            return Err(invalid(format!("entropy {entropy} is outside 0.0..=8.0 bits per byte")));
        }
    }
    if rule.window == Some(0) {
        return Err(invalid("window must be at least 1 byte".into()));
    }
    if rule.examples.is_empty() && strictness != Strictness::Imported {
        return Err(invalid("no examples: add at least one input that must produce a finding".into()));
    }
    if strictness == Strictness::Builtin && rule.negative_examples.is_empty() {
        return Err(invalid(
            "no negative_examples: add at least one input that must not produce a finding".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rules]]
id = "demo-token"
description = "Demo token"
keywords = ["demo_"]
regex = '''(demo_[a-z0-9]{8})'''
severity = "high"
examples = ["demo_k3j5h2g8"]
negative_examples = ["demo_short"]
"#;

    #[test]
    fn parses_a_rule_and_records_its_source() {
        let rules = parse_rule_file(GOOD, "demo.toml", Strictness::Builtin).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].source, "demo.toml");
        assert_eq!(rules[0].secret_group, 1);
        assert_eq!(rules[0].window(), Rule::DEFAULT_WINDOW);
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_file() {
        let text = GOOD.replace("severity", "sevrity");
        let err = parse_rule_file(&text, "demo.toml", Strictness::User).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("demo.toml:"), "{message}");
        assert!(message.contains("key `rules.sevrity`"), "{message}");
        assert!(message.starts_with("demo.toml:7:1:"), "{message}");
    }

    #[test]
    fn a_bad_value_names_line_and_key() {
        let text = GOOD.replace("severity = \"high\"", "severity = 3");
        let err = parse_rule_file(&text, "demo.toml", Strictness::User).unwrap_err().to_string();
        assert!(err.contains(":7:") && err.contains("key `rules.severity`"), "{err}");
    }

    #[test]
    fn missing_examples_name_the_rule() {
        let text = GOOD.replace("examples = [\"demo_k3j5h2g8\"]", "");
        let err = parse_rule_file(&text, "demo.toml", Strictness::User).unwrap_err();
        assert!(err.to_string().contains("rule `demo-token`: no examples"), "{err}");
    }

    #[test]
    fn builtin_rules_need_negative_examples() {
        let text = GOOD.replace("negative_examples = [\"demo_short\"]", "");
        assert!(parse_rule_file(&text, "demo.toml", Strictness::User).is_ok());
        let err = parse_rule_file(&text, "demo.toml", Strictness::Builtin).unwrap_err();
        assert!(err.to_string().contains("negative_examples"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_reported_with_both_places() {
        let twice = format!("{GOOD}\n{GOOD}");
        let err = parse_rule_file(&twice, "demo.toml", Strictness::User).unwrap_err();
        assert!(matches!(err, Error::Duplicate { ref rule, .. } if rule == "demo-token"), "{err}");
    }
}
