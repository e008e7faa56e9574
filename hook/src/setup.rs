//! Shared set-up of the scanning commands: configuration, rules, the scanner, the writer.

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, Result};
use secretgate_scanner::{
    config::LoadedConfig,
    report::{self, Format, ReportOptions},
    source::files::{self, FilesOutput, WalkOptions},
    suppress::{BaselineChoice, Suppressor},
    FindingSink, ScanSummary, Scanner,
};

use crate::cli::{ConfigArgs, FormatArg, InputArgs, OutputArgs, SuppressArgs};

/// The configuration in effect: `--config FILE`, or `.secretgate.toml` (else
/// `.gitleaks.toml`) discovered from `start`, else from the current directory when
/// `start` lies in no work tree and under no configuration. Its warnings go to standard
/// error.
pub fn load_config(args: &ConfigArgs, start: &Path) -> Result<LoadedConfig> {
    let here = Path::new(".");
    let config = match &args.config {
        // A configuration named on the command line replaces the discovered one, which
        // is then not read at all (a broken one must not fail an organisation-wide scan).
        Some(file) if LoadedConfig::anything_above(start) => LoadedConfig::read_for(file, start)?,
        Some(file) => LoadedConfig::read_for(file, here)?,
        None => match LoadedConfig::discover_above(start)? {
            Some(config) => config,
            None => LoadedConfig::discover(here)?,
        },
    };
    for warning in &config.warnings {
        eprintln!("secretgate: warning: {warning}");
    }
    Ok(config)
}

/// Where a scan of `input` looks for its configuration: the first path it names (its
/// directory, for a file), so that `secretgate scan ../repo` uses that repository's
/// `.secretgate.toml`, ignore files and baseline, and names files from its root, as a
/// scan run inside it does. Standard input and no path: the current directory. (A path
/// in no work tree and under no configuration falls back on the current directory: see
/// [`load_config`].)
pub fn config_start(input: &InputArgs) -> PathBuf {
    let here = PathBuf::from(".");
    let Some(first) = input.paths.iter().find(|p| p.as_os_str() != "-") else {
        return here;
    };
    if first.is_dir() {
        return first.clone();
    }
    match first.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => here,
    }
}

/// Built-in rules (unless the config turns them off) plus the config's own, minus the
/// disabled ones, with the config's allowlists, compiled.
pub fn build_scanner(config: &LoadedConfig, args: &ConfigArgs) -> Result<Scanner> {
    Ok(secretgate_scanner::build::build_scanner(
        config,
        args.max_file_size,
        args.no_decode,
        &mut |warning| eprintln!("secretgate: warning: {warning}"),
    )?)
}

/// Ignore files at the config's root, and the baseline the flags ask for.
pub fn load_suppressor(
    config: &LoadedConfig,
    scanner: &Scanner,
    choice: &BaselineChoice,
) -> Result<Suppressor> {
    Ok(Suppressor::load(&config.root, Arc::clone(scanner.allowlists()), choice)?)
}

/// Scans the paths (or standard input) `args` name.
pub fn scan_inputs(args: &InputArgs, config: &LoadedConfig, scanner: &Scanner) -> Result<FilesOutput> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && paths.len() > 1 {
        anyhow::bail!("`-` (standard input) cannot be combined with other paths");
    }
    if stdin {
        return Ok(files::scan_stdin(scanner, &mut std::io::stdin().lock())?);
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    let options = WalkOptions {
        threads,
        no_ignore: args.no_ignore,
        allowlist: config.path_allowlist()?,
        root: config.root.clone(),
    };
    Ok(files::scan_paths(scanner, &paths, &options)?)
}

/// Drops suppressed findings and, if asked, lists unused ignore entries on standard error.
pub fn apply_suppressions(suppressor: &Suppressor, output: &mut FilesOutput, args: &SuppressArgs) {
    suppressor.retain(&mut output.findings, &mut output.summary);
    if args.report_unused_ignores {
        for entry in suppressor.ignores().unused() {
            eprintln!("secretgate: unused ignore entry {}:{}: {}", entry.file, entry.line, entry.text);
        }
    }
}

/// The report writer the flags ask for, on standard output or `--report-path`.
pub fn report_writer(args: &OutputArgs) -> Result<Box<dyn FindingSink>> {
    report_writer_at(args, String::new())
}

/// [`report_writer`] for findings named from a root that lies at `root_in_repository`
/// inside its repository (see [`LoadedConfig::root_in_repository`]).
pub fn report_writer_at(args: &OutputArgs, root_in_repository: String) -> Result<Box<dyn FindingSink>> {
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
    let options = ReportOptions { show_secrets: args.show_secrets, color, root_in_repository };
    Ok(report::writer(format, options, out))
}

/// One line on standard error saying what was scanned, skipped and found.
pub fn print_summary(summary: &ScanSummary) {
    print_summary_with_commits(summary, None)
}

/// The summary line, naming the commits walked when there were any.
pub fn print_summary_with_commits(summary: &ScanSummary, commits: Option<u64>) {
    let commits_given = commits.is_some();
    let commits = commits.map(|n| format!("{n} {}, ", if n == 1 { "commit" } else { "commits" }));
    let mut line = format!(
        "secretgate: scanned {}{} {} ({}) in {:.2}s",
        commits.unwrap_or_default(),
        summary.inputs,
        match (commits_given, summary.inputs == 1) {
            (true, true) => "unique blob",
            (true, false) => "unique blobs",
            (false, true) => "input",
            (false, false) => "inputs",
        },
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
    for (count, what) in [
        (summary.suppressed, "suppressed inline"),
        (summary.allowlisted, "allowlisted"),
        (summary.ignored, "ignored"),
        (summary.baselined, "in the baseline"),
    ] {
        if count > 0 {
            line.push_str(&format!("; {count} {what}"));
        }
    }
    if summary.decode_capped > 0 {
        line.push_str(&format!(
            "; decoding cut short by its per-input limits in {} {}",
            summary.decode_capped,
            if summary.decode_capped == 1 { "input" } else { "inputs" }
        ));
    }
    if summary.errors > 0 {
        line.push_str(&match summary.errors {
            1 => "; 1 error".to_string(),
            n => format!("; {n} errors"),
        });
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

/// The configuration for a git command: `--config FILE`; else `.secretgate.toml` at the work
/// tree root; else, in a bare repository, the one committed at `HEAD`.
pub fn load_repo_config(args: &ConfigArgs, repo: &gix::Repository) -> Result<LoadedConfig> {
    if let Some(file) = &args.config {
        return Ok(LoadedConfig::read(file)?);
    }
    if let Some(root) = repo.workdir() {
        return Ok(LoadedConfig::discover(root)?);
    }
    let root = repo.git_dir().to_path_buf();
    let committed = repo.head_tree().ok().and_then(|tree| {
        let entry = tree.find_entry(secretgate_scanner::config::FILE_NAME)?;
        let object = entry.object().ok()?;
        Some(String::from_utf8_lossy(&object.data).into_owned())
    });
    match committed {
        Some(text) => Ok(LoadedConfig::parse(&text, "HEAD:.secretgate.toml", root)?),
        None => Ok(LoadedConfig { root, ..Default::default() }),
    }
}

/// Writes findings and the summary: the report to its writer, the summary line to stderr.
pub fn emit(
    writer: &mut dyn FindingSink,
    findings: &[secretgate_scanner::Finding],
    summary: &ScanSummary,
) -> Result<()> {
    writer.begin()?;
    for finding in findings {
        writer.finding(finding)?;
    }
    writer.finish(summary)?;
    Ok(())
}
