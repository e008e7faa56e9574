//! The built-in rule set, embedded at build time from `patterns/rules/*.toml`.

use crate::{
    load::{check_unique, parse_rule_file, Error, Strictness},
    schema::Rule,
};

/// `(file name, contents)` of every built-in rule file, in file-name order.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// Parses and checks the built-in rules.
///
/// The built-in files are tested in CI, so an error here means a broken build; it is
/// still returned rather than panicking so the binaries can report it.
pub fn rules() -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::new();
    for (name, text) in FILES {
        rules.extend(parse_rule_file(text, &format!("builtin:{name}"), Strictness::Builtin)?);
    }
    check_unique(&rules)?;
    Ok(rules)
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_rules_load_and_are_many() {
        let rules = super::rules().unwrap();
        assert!(rules.len() >= 150, "only {} built-in rules", rules.len());
    }

    #[test]
    fn every_rule_has_a_keyword() {
        // Keywordless rules run their regex over every byte of every input; the built-in
        // set keeps none so that the prefilter decides where regexes run.
        for rule in super::rules().unwrap() {
            assert!(!rule.keywords.is_empty(), "{} has no keywords", rule.id);
        }
    }
}
