//! `secretgate rules list` and `secretgate rules check`.

use std::io::Write;

use anyhow::Result;
use secretgate_patterns::load::read_rule_file;
use secretgate_scanner::{check::check_examples, engine::RuleSet};

use crate::{
    cli::{ListFormat, RulesCheckArgs, RulesListArgs},
    setup, ExitStatus,
};

pub fn list(args: RulesListArgs) -> Result<ExitStatus> {
    let config = setup::load_config(&args.config, std::path::Path::new("."))?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let rules = scanner.rules().rules();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ListFormat::Text => {
            let width = rules.iter().map(|r| r.rule.id.len()).max().unwrap_or(0);
            for compiled in rules {
                let rule = &compiled.rule;
                writeln!(out, "{:width$}  {:8}  {}", rule.id, rule.severity.as_str(), rule.description)?;
            }
        }
        ListFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.rule.id,
                        "description": c.rule.description,
                        "severity": c.rule.severity,
                        "keywords": c.rule.keywords,
                        "source": c.rule.source,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Clean)
}

pub fn check(args: RulesCheckArgs) -> Result<ExitStatus> {
    let mut failed = false;
    for file in &args.files {
        let rules = match read_rule_file(file).map_err(anyhow::Error::from).and_then(|r| {
            let rules = RuleSet::new(r)?;
            rules.compile_all()?;
            Ok(rules)
        }) {
            Ok(rules) => rules,
            Err(err) => {
                println!("FAIL {err}");
                failed = true;
                continue;
            }
        };
        let failures = check_examples(&rules);
        for failure in &failures {
            println!("FAIL {failure}");
        }
        let examples: usize =
            rules.rules().iter().map(|r| r.rule.examples.len() + r.rule.negative_examples.len()).sum();
        println!(
            "{} {}: {} rules, {} examples, {} failures",
            if failures.is_empty() { "ok  " } else { "FAIL" },
            file.display(),
            rules.rules().len(),
            examples,
            failures.len()
        );
        failed |= !failures.is_empty();
    }
    Ok(if failed { ExitStatus::Findings } else { ExitStatus::Clean })
}
