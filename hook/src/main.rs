//! The `secretgate` command: parse the command line, run one command, map the outcome to
//! an exit code (0 clean, 1 findings, 2 error).

mod cli;
mod cmd_baseline;
mod cmd_git;
mod cmd_hooks;
mod cmd_install;
mod cmd_receive;
mod cmd_rules;
mod cmd_scan;
mod setup;

use clap::Parser;

use cli::{BaselineCommand, Cli, Command, RulesCommand};

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing found.
    Clean = 0,
    /// Secrets found (or, for `rules check`, failing rules).
    Findings = 1,
    /// Something went wrong.
    Error = 2,
}

impl ExitStatus {
    /// Findings win over errors: either way a gate must fail, and findings say more.
    pub fn from_outcome(findings: bool, errors: bool) -> Self {
        match (findings, errors) {
            (true, _) => ExitStatus::Findings,
            (false, true) => ExitStatus::Error,
            (false, false) => ExitStatus::Clean,
        }
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() => {
            // One line, as every other error: clap's first line says what is wrong, and the
            // usage it would add is one `--help` away.
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ");
            eprintln!("secretgate: error: {first} (see `secretgate --help`)");
            std::process::exit(ExitStatus::Error as i32);
        }
        Err(err) => {
            let _ = err.print();
            std::process::exit(0);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => cmd_scan::run(args),
        Command::Git(args) => cmd_git::run(args),
        Command::PreCommit(args) => cmd_hooks::pre_commit(args),
        Command::PrePush(args) => cmd_hooks::pre_push(args),
        Command::PreReceive(args) => cmd_receive::run(args),
        Command::Install(args) => cmd_install::install(args),
        Command::Uninstall(args) => cmd_install::uninstall(args),
        Command::Rules(RulesCommand::List(args)) => cmd_rules::list(args),
        Command::Rules(RulesCommand::Check(args)) => cmd_rules::check(args),
        Command::Baseline(BaselineCommand::Create(args)) => cmd_baseline::create(args),
        Command::Baseline(BaselineCommand::Update(args)) => cmd_baseline::update(args),
    };
    let status = match result {
        Ok(status) => status,
        Err(err) => {
            // A reader that went away (`| head`) did not see the whole report: a gate must
            // not read that as clean.
            if is_broken_pipe(&err) {
                eprintln!("secretgate: error: the output was closed before the report was written");
                std::process::exit(ExitStatus::Error as i32);
            }
            eprintln!("secretgate: error: {}", one_line(&err));
            ExitStatus::Error
        }
    };
    std::process::exit(status as i32);
}

/// The error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain().map(|e| e.to_string()) {
        // A message that already quotes its cause (`cannot read X: <why>`) is not repeated.
        if line.ends_with(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    line
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
