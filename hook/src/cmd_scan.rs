//! `secretgate scan`: files, directories and standard input.

use anyhow::Result;

use crate::{cli::ScanArgs, setup, ExitStatus};

pub fn run(args: ScanArgs) -> Result<ExitStatus> {
    let config = setup::load_config(&args.config, &setup::config_start(&args.input))?;
    let scanner = setup::build_scanner(&config, &args.config)?;
    let suppressor = setup::load_suppressor(&config, &scanner, &args.suppress.baseline_choice())?;
    let mut writer = setup::report_writer_at(&args.output, config.root_in_repository())?;

    let mut output = setup::scan_inputs(&args.input, &config, &scanner)?;
    setup::apply_suppressions(&suppressor, &mut output, &args.suppress);

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
