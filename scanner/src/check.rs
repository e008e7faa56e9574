//! Checking rules against their own examples: every example must produce a match of its
//! rule, no negative example may. The built-in set is checked by a unit test; users' rule
//! files by `secretgate rules check`.

use crate::engine::{RuleSet, ScanCache};

/// An example that did not behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// The rule id.
    pub rule: String,
    /// Where the rule was read from.
    pub source: String,
    /// The offending input.
    pub example: String,
    /// What went wrong.
    pub problem: Problem,
}

/// How an example failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A positive example produced no match.
    NoMatch,
    /// A negative example produced a match.
    UnexpectedMatch,
    /// A positive example contains none of the rule's keywords, so the prefilter would
    /// never let the regex run on it.
    NoKeyword,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.problem {
            Problem::NoMatch => "example does not match",
            Problem::UnexpectedMatch => "negative example matches",
            Problem::NoKeyword => "example contains none of the rule's keywords",
        };
        write!(f, "{}: rule `{}`: {what}: {:?}", self.source, self.rule, self.example)
    }
}

/// Runs every rule's examples and negative examples through `rules`.
pub fn check_examples(rules: &RuleSet) -> Vec<ExampleFailure> {
    let mut cache = rules.new_cache();
    let mut failures = Vec::new();
    for (index, compiled) in rules.rules().iter().enumerate() {
        let rule = &compiled.rule;
        let fail = |example: &str, problem| ExampleFailure {
            rule: rule.id.clone(),
            source: rule.source.clone(),
            example: example.to_string(),
            problem,
        };
        for example in &rule.examples {
            let lower = example.to_ascii_lowercase();
            if !rule.keywords.is_empty()
                && !rule.keywords.iter().any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                failures.push(fail(example, Problem::NoKeyword));
            } else if !matches_rule(rules, &mut cache, index, example.as_bytes()) {
                failures.push(fail(example, Problem::NoMatch));
            }
        }
        for example in &rule.negative_examples {
            if matches_rule(rules, &mut cache, index, example.as_bytes()) {
                failures.push(fail(example, Problem::UnexpectedMatch));
            }
        }
    }
    failures
}

fn matches_rule(rules: &RuleSet, cache: &mut ScanCache, rule: usize, haystack: &[u8]) -> bool {
    let mut found = false;
    rules.scan(haystack, cache, |m| found |= m.rule == rule);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in rules' own examples are the engine's table of test cases.
    #[test]
    fn every_builtin_example_behaves() {
        let rules = RuleSet::new(secretgate_patterns::builtin::rules().unwrap()).unwrap();
        rules.compile_all().unwrap();
        let failures = check_examples(&rules);
        let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert!(failures.is_empty(), "{} failing examples:\n{}", failures.len(), report.join("\n"));
    }

    /// The prefilter's contract, tested: every example contains a keyword of its rule, so
    /// the prefilter never hides a match (`check_examples` reports `NoKeyword` otherwise).
    /// Here the other direction: with windows covering whole examples, the engine finds
    /// every positive example on its own line inside a larger buffer at any offset.
    #[test]
    fn examples_are_found_inside_larger_buffers() {
        let rules = RuleSet::new(secretgate_patterns::builtin::rules().unwrap()).unwrap();
        let mut cache = rules.new_cache();
        let filler = "let total = compute(items, 42);\n".repeat(20);
        for (index, compiled) in rules.rules().iter().enumerate() {
            for example in &compiled.rule.examples {
                let haystack = format!("{filler}{example}\n{filler}");
                let mut found = false;
                rules.scan(haystack.as_bytes(), &mut cache, |m| found |= m.rule == index);
                assert!(
                    found,
                    "rule {} misses its example inside a larger buffer: {example:?}",
                    compiled.rule.id
                );
            }
        }
    }
}
