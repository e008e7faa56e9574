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
    /// Sweep a repository's whole history: every blob once, each finding traced to the
    /// commit that introduced it.
    Git(GitArgs),
    /// Scan the staged changes (git's pre-commit hook).
    PreCommit(PreCommitArgs),
    /// Scan the commits being pushed (git's pre-push hook; reads git's pre-push input).
    PrePush(PrePushArgs),
    /// Install secretgate's pre-commit and pre-push hooks into a repository.
    Install(InstallArgs),
    /// Remove the hooks `install` wrote (and restore what they replaced).
    Uninstall(UninstallArgs),
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

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository (bare or not; default: the one containing the current directory).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// A revision range `A..B` (commits reachable from B and not from A) or one revision.
    #[arg(value_name = "RANGE")]
    pub range: Option<String>,
    /// Only the history of this branch (or any revision).
    #[arg(long, value_name = "BRANCH", conflicts_with = "range")]
    pub branch: Option<String>,
    /// Only commits made since DATE (`2024-01-31`, RFC 3339, or `2 weeks ago`).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct PreCommitArgs {
    /// File names the pre-commit framework passes; ignored: the index says what is staged.
    #[arg(value_name = "FILE", hide = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// The remote's name, as git passes it.
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
    /// The remote's URL, as git passes it.
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// Replace hooks that secretgate did not write (they are kept as `<hook>.secretgate-backup`).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
}
