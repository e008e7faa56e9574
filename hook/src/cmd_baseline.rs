//! `secretgate baseline create|update`: scan, then write every finding as a baseline entry.

use std::{io::Write, path::PathBuf};

use anyhow::{Context, Result};
use secretgate_scanner::{
    config::LoadedConfig,
    suppress::{
        baseline::{self, Baseline},
        BaselineChoice,
    },
};

use crate::{
    cli::{BaselineCreateArgs, BaselineUpdateArgs, ConfigArgs, InputArgs},
    setup, ExitStatus,
};

pub fn create(args: BaselineCreateArgs) -> Result<ExitStatus> {
    let config = setup::load_config(&args.config, &setup::config_start(&args.input))?;
    write_baseline(&config, &args.input, &args.config, args.baseline.as_ref(), args.output.as_ref())
}

/// `create -o <work tree root>/.secretgate-baseline.json`.
pub fn update(args: BaselineUpdateArgs) -> Result<ExitStatus> {
    let config = setup::load_config(&args.config, &setup::config_start(&args.input))?;
    let output = config.root.join(baseline::FILE_NAME);
    write_baseline(&config, &args.input, &args.config, None, Some(&output))
}

fn write_baseline(
    config: &LoadedConfig,
    input: &InputArgs,
    config_args: &ConfigArgs,
    previous: Option<&PathBuf>,
    output: Option<&PathBuf>,
) -> Result<ExitStatus> {
    let scanner = setup::build_scanner(config, config_args)?;
    // The old baseline only lends its reviews; it filters nothing. Ignore files still
    // apply: an ignored finding needs no baseline entry.
    let previous = match previous {
        Some(file) => Some(Baseline::read(file)?),
        None => {
            let path = config.root.join(baseline::FILE_NAME);
            path.is_file().then(|| Baseline::read(&path)).transpose()?
        }
    };
    let suppressor = setup::load_suppressor(config, &scanner, &BaselineChoice::Off)?;
    let mut output_files = setup::scan_inputs(input, config, &scanner)?;
    suppressor.retain(&mut output_files.findings, &mut output_files.summary);

    for error in &output_files.errors {
        eprintln!("secretgate: {error}");
    }
    let mut created = Baseline::create(&output_files.findings, previous.as_ref());
    if let Some(previous) = &previous {
        let scanned = scanned_prefixes(config, input);
        created.keep_unscanned(previous, |path| {
            scanned.iter().any(|prefix| {
                prefix.is_empty()
                    || path == prefix
                    || path.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.starts_with('/'))
            })
        });
    }
    match output {
        // Written only after the scan and the old baseline were read, so `-o` may name
        // the baseline being updated.
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("cannot create the baseline file {}", path.display()))?;
            created.write(&mut file)?;
            file.flush()?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            created.write(&mut out)?;
            out.flush()?;
        }
    }
    setup::print_summary(&output_files.summary);
    Ok(if output_files.errors.is_empty() { ExitStatus::Clean } else { ExitStatus::Error })
}

/// The root-relative paths the scan covered (`""`: the whole work tree). A path outside
/// the work tree covers none of it.
fn scanned_prefixes(config: &LoadedConfig, input: &InputArgs) -> Vec<String> {
    let root = secretgate_scanner::paths::normalize(&config.root);
    let paths = if input.paths.is_empty() { vec![PathBuf::from(".")] } else { input.paths.clone() };
    paths
        .iter()
        .filter(|path| path.as_os_str() != "-")
        .filter_map(|path| {
            let absolute = secretgate_scanner::paths::normalize(path);
            let relative = absolute.strip_prefix(&root).ok()?;
            Some(relative.to_string_lossy().into_owned())
        })
        .collect()
}
