//! `secretgate scan`: files, directories and standard input.

use std::path::PathBuf;

use anyhow::Result;
use secretgate_scanner::source::files::{self, FilesOutput, WalkOptions};

use crate::{cli::ScanArgs, setup, ExitStatus};

pub fn run(args: ScanArgs) -> Result<ExitStatus> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && paths.len() > 1 {
        anyhow::bail!("`-` (standard input) cannot be combined with other paths");
    }
    let config = setup::load_config(&args.config, std::path::Path::new("."))?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let mut writer = setup::report_writer(&args.output)?;

    let output: FilesOutput = if stdin {
        files::scan_stdin(&scanner, &mut std::io::stdin().lock())?
    } else {
        let threads =
            args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if threads == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        let options = WalkOptions {
            threads,
            no_ignore: args.no_ignore,
            allowlist: config.path_allowlist()?,
            root: config.root.clone(),
        };
        files::scan_paths(&scanner, &paths, &options)?
    };

    for error in &output.errors {
        eprintln!("secretgate: {error}");
    }
    writer.begin()?;
    for finding in &output.findings {
        writer.finding(finding)?;
    }
    writer.finish(&output.summary)?;
    setup::print_summary(&output.summary);
    Ok(ExitStatus::from_outcome(!output.findings.is_empty(), !output.errors.is_empty()))
}
