//! `secretgate rules list` and `secretgate rules check`.

use std::{collections::HashSet, io::Write};

use anyhow::{Context, Result};
use secretgate_scanner::{
    check::check_examples,
    config::{Format, LoadedConfig},
    engine::RuleSet,
};

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

/// Checks each file: it parses (as a rule file, `.secretgate.toml` or gitleaks config),
/// every rule's regex compiles (all failures listed, not just the first), allowlists
/// compile, examples match and negative examples do not.
pub fn check(args: RulesCheckArgs) -> Result<ExitStatus> {
    // A file that cannot be read is an error of the command, not a failing rule.
    for file in &args.files {
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    }
    let mut failed = false;
    for file in &args.files {
        failed |= !check_file(file);
    }
    Ok(if failed { ExitStatus::Findings } else { ExitStatus::Clean })
}

fn check_file(file: &std::path::Path) -> bool {
    let config = match LoadedConfig::read(file) {
        Ok(config) => config,
        Err(err) => {
            println!("FAIL {err}");
            return false;
        }
    };
    for warning in &config.warnings {
        println!("warn {warning}");
    }
    let mut problems = 0;
    let mut good = Vec::new();
    for rule in &config.config.rules {
        match RuleSet::new(vec![rule.clone()]).and_then(|set| set.compile_all()) {
            Ok(()) => good.push(rule.clone()),
            Err(err) => {
                println!("FAIL {err}");
                problems += 1;
            }
        }
    }
    if config.format == Format::Secretgate && config.config.use_builtin_rules {
        problems += clashes_with_builtin(file, &config.config.rules);
    }
    match config.allowlists() {
        Err(err) => {
            println!("FAIL {err}");
            problems += 1;
        }
        Ok(allowlists) => {
            let mut known: HashSet<String> = config.config.rules.iter().map(|r| r.id.clone()).collect();
            if config.config.use_builtin_rules {
                let builtin = secretgate_patterns::builtin::rules().unwrap_or_default();
                known.extend(builtin.into_iter().map(|r| r.id));
            }
            for id in allowlists.named_rules().filter(|id| !known.contains(*id)) {
                // In a gitleaks file such an allowlist extends a rule defined elsewhere; a
                // scan ignores it with a warning. In secretgate's own format it is an error.
                match config.format {
                    Format::Gitleaks => {
                        println!("warn {}: allowlist for unknown rule `{id}` is ignored", file.display())
                    }
                    Format::Secretgate => {
                        println!(
                            "FAIL {}: an allowlist names rule `{id}`, which does not exist",
                            file.display()
                        );
                        problems += 1;
                    }
                }
            }
        }
    }
    let (count, examples) = match RuleSet::new(good) {
        Ok(rules) => {
            let failures = check_examples(&rules);
            for failure in &failures {
                println!("FAIL {failure}");
            }
            problems += failures.len();
            let examples: usize =
                rules.rules().iter().map(|r| r.rule.examples.len() + r.rule.negative_examples.len()).sum();
            (rules.rules().len(), examples)
        }
        Err(err) => {
            println!("FAIL {err}");
            problems += 1;
            (0, 0)
        }
    };
    let format = match config.format {
        Format::Gitleaks => " (gitleaks config; its rules carry no examples)",
        Format::Secretgate => "",
    };
    println!(
        "{} {}{format}: {} rules, {count} compiled, {examples} examples, {problems} failures",
        if problems == 0 { "ok  " } else { "FAIL" },
        file.display(),
        config.config.rules.len(),
    );
    problems == 0
}

/// Reports each rule that takes a built-in rule's id with another definition: a scan with
/// the built-in rules on refuses such a configuration. (The built-in rule files themselves,
/// edited or not, are recognised by name: `cloud.toml` may define the ids of
/// `builtin:cloud.toml`.)
fn clashes_with_builtin(file: &std::path::Path, rules: &[secretgate_patterns::Rule]) -> usize {
    let builtin = secretgate_patterns::builtin::rules().unwrap_or_default();
    let name = file.file_name().map(|n| format!("builtin:{}", n.to_string_lossy())).unwrap_or_default();
    let mut clashes = 0;
    for rule in rules {
        if builtin.iter().any(|b| b.id == rule.id && b.source != name) {
            println!(
                "FAIL {}: rule `{}` has a built-in rule's id; rename it, or set use_builtin_rules = false",
                file.display(),
                rule.id
            );
            clashes += 1;
        }
    }
    clashes
}
