//! Shared set-up of the scanning commands: configuration, rules, the scanner, the writer.

use std::{
    io::{IsTerminal, Write},
    path::Path,
};

use anyhow::{Context, Result};
use secretgate_scanner::{
    config::LoadedConfig,
    decode::DecodeOptions,
    report::{self, Format, ReportOptions},
    FindingSink, ScanSummary, Scanner, ScannerBuilder,
};

use crate::cli::{ConfigArgs, FormatArg, OutputArgs};

/// The configuration in effect: `--config FILE`, or `.secretgate.toml` discovered from `start`.
pub fn load_config(args: &ConfigArgs, start: &Path) -> Result<LoadedConfig> {
    Ok(match &args.config {
        Some(file) => LoadedConfig::read(file)?,
        None => LoadedConfig::discover(start)?,
    })
}

/// Built-in rules plus the config's own, minus the disabled ones, compiled.
pub fn build_scanner(config: &LoadedConfig, args: &ConfigArgs) -> Result<Scanner> {
    let builtin = secretgate_patterns::builtin::rules().context("the built-in rules are broken")?;
    let mut builder = ScannerBuilder::new(builtin);
    builder
        .add_rules(config.config.rules.iter().cloned())
        .disable_rules(config.config.disabled_rules.iter().cloned())
        .max_input_size(args.max_file_size.unwrap_or(config.config.limits.max_file_size))
        .decode(if args.no_decode { DecodeOptions::off() } else { config.config.decode.options() });
    Ok(builder.build()?)
}

/// The report writer the flags ask for, on standard output or `--report-path`.
pub fn report_writer(args: &OutputArgs) -> Result<Box<dyn FindingSink>> {
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
    };
    let (out, color): (Box<dyn Write>, bool) = match &args.report_path {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create the report file {}", path.display()))?;
            (Box::new(std::io::BufWriter::new(file)), false)
        }
        None => {
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            (Box::new(std::io::BufWriter::new(stdout.lock())), color)
        }
    };
    Ok(report::writer(format, ReportOptions { show_secrets: args.show_secrets, color }, out))
}

/// One line on standard error saying what was scanned, skipped and found.
pub fn print_summary(summary: &ScanSummary) {
    let mut line = format!(
        "secretgate: scanned {} {} ({}) in {:.2}s",
        summary.inputs,
        if summary.inputs == 1 { "input" } else { "inputs" },
        human_bytes(summary.bytes),
        summary.elapsed.as_secs_f64()
    );
    for (reason, skipped) in &summary.skipped {
        line.push_str(&format!(
            "; skipped {} {} ({})",
            skipped.count,
            reason.describe(),
            human_bytes(skipped.bytes)
        ));
    }
    if summary.suppressed > 0 {
        line.push_str(&format!("; {} suppressed inline", summary.suppressed));
    }
    if summary.decode_capped > 0 {
        line.push_str(&format!(
            "; decoding cut short by its per-input limits in {} {}",
            summary.decode_capped,
            if summary.decode_capped == 1 { "input" } else { "inputs" }
        ));
    }
    if summary.errors > 0 {
        line.push_str(&format!("; {} errors", summary.errors));
    }
    line.push_str(&match summary.findings {
        0 => "; no secrets found".to_string(),
        1 => "; 1 finding".to_string(),
        n => format!("; {n} findings"),
    });
    let mut stderr = anstream::stderr();
    let _ = writeln!(stderr, "{line}");
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
