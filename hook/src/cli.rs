//! Command-line syntax. Parsing only: turning flags into settings happens in each command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps credentials out of git.
#[derive(Debug, Parser)]
#[command(name = "secretgate", version, about, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories, or standard input (`-`).
    Scan(ScanArgs),
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the id and description of every rule in effect.
    List(RulesListArgs),
    /// Check a rule file: regexes compile, examples match, negative examples do not.
    Check(RulesCheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Jsonl,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

/// Flags every scanning command shares.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub report_path: Option<PathBuf>,
    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
}

/// Where the rules and limits come from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (default: `.secretgate.toml` found from the current directory up
    /// to the work tree root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip inputs larger than this many bytes (default 10 MiB, or the config's limit).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Match text only as written: do not decode base64, hex, %XX or escapes.
    #[arg(long)]
    pub no_decode: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Also scan what `.gitignore` excludes, and `.git` directories.
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ListFormat,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Rule files to check (TOML, the same schema as the built-in rules).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}
