//! `secretgate baseline create`: scan, then print every finding as a baseline entry.

use std::io::Write;

use anyhow::{Context, Result};
use secretgate_scanner::suppress::{
    baseline::{self, Baseline},
    BaselineChoice,
};

use crate::{cli::BaselineCreateArgs, setup, ExitStatus};

pub fn create(args: BaselineCreateArgs) -> Result<ExitStatus> {
    let config = setup::load_config(&args.config, std::path::Path::new("."))?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    // The old baseline only lends its reviews; it filters nothing. Ignore files still
    // apply: an ignored finding needs no baseline entry.
    let previous = match &args.baseline {
        Some(file) => Some(Baseline::read(file)?),
        None => {
            let path = config.root.join(baseline::FILE_NAME);
            path.is_file().then(|| Baseline::read(&path)).transpose()?
        }
    };
    let suppressor = setup::load_suppressor(&config, &scanner, &BaselineChoice::Off)?;
    let mut output = setup::scan_inputs(&args.input, &config, &scanner)?;
    suppressor.retain(&mut output.findings, &mut output.summary);

    for error in &output.errors {
        eprintln!("secretgate: {error}");
    }
    let created = Baseline::create(&output.findings, previous.as_ref());
    match &args.output {
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
    setup::print_summary(&output.summary);
    Ok(if output.errors.is_empty() { ExitStatus::Clean } else { ExitStatus::Error })
}
