//! Command-line syntax. Parsing only: turning flags into settings happens in each command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secretgate_scanner::suppress::BaselineChoice;

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
    /// Scan a push on the server (git's pre-receive hook): asks `secretgated`, or scans in
    /// process when the daemon cannot answer, as the server config says.
    PreReceive(PreReceiveArgs),
    /// Install secretgate's pre-commit and pre-push hooks into a repository.
    Install(InstallArgs),
    /// Remove the hooks `install` wrote (and restore what they replaced).
    Uninstall(UninstallArgs),
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Record today's findings so that later scans report only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan and print a baseline of every finding (JSON, one entry per line, sorted):
    /// `secretgate baseline create > .secretgate-baseline.json`. Entries already in the old
    /// baseline keep their `reviewed` and `note`.
    Create(BaselineCreateArgs),
    /// Re-create `.secretgate-baseline.json` at the work tree root in place, keeping the
    /// `reviewed` and `note` of entries still present (`create -o` that file).
    Update(BaselineUpdateArgs),
}

#[derive(Debug, Args)]
pub struct BaselineUpdateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the id and description of every rule in effect.
    List(RulesListArgs),
    /// Check a rule file, a `.secretgate.toml` or a gitleaks config: regexes compile,
    /// examples match, negative examples do not, allowlists compile.
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
    /// Configuration file: secretgate's or gitleaks' (default: `.secretgate.toml`, else
    /// `.gitleaks.toml`, found from the current directory up to the work tree root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip inputs larger than this many bytes (default 10 MiB, or the config's limit).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Match text only as written: do not decode base64, hex, %XX or escapes.
    #[arg(long)]
    pub no_decode: bool,
}

/// Which findings a repository has already accepted. Shared by every command that
/// reports findings.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// Report only findings not in this baseline: secretgate's, a detect-secrets
    /// `.secrets.baseline`, or a gitleaks JSON report (recognised by content). Default:
    /// `.secretgate-baseline.json` at the work tree root, if it exists.
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    pub baseline: Option<PathBuf>,
    /// Do not apply `.secretgate-baseline.json`: report every finding.
    #[arg(long)]
    pub no_baseline: bool,
    /// List the `.secretgateignore` and `.gitleaksignore` entries that matched no finding
    /// (on standard error). Meaningful for a scan of the whole work tree.
    #[arg(long)]
    pub report_unused_ignores: bool,
}

impl SuppressArgs {
    /// The baseline these flags ask for.
    pub fn baseline_choice(&self) -> BaselineChoice {
        match (&self.baseline, self.no_baseline) {
            (Some(file), _) => BaselineChoice::File(file.clone()),
            (None, true) => BaselineChoice::Off,
            (None, false) => BaselineChoice::Auto,
        }
    }
}

/// What to scan: paths and how to walk them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files and directories to scan; `-` reads standard input. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Worker threads (default: all cores; at most 1024).
    #[arg(long, short = 'j', value_name = "N", value_parser = thread_count())]
    pub threads: Option<usize>,
    /// Also scan what `.gitignore` excludes, and `.git` directories.
    #[arg(long)]
    pub no_ignore: bool,
}

#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The previous baseline, whose `reviewed` and `note` are kept (default:
    /// `.secretgate-baseline.json` at the work tree root, if it exists).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the baseline to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub suppress: SuppressArgs,
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
    /// Files to check: rule files (the built-in rules' schema), `.secretgate.toml`, or a
    /// gitleaks configuration.
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
    /// Worker threads (default: all cores; at most 1024).
    #[arg(long, short = 'j', value_name = "N", value_parser = thread_count())]
    pub threads: Option<usize>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Scan every blob whole. By default a blob stored as a delta of another is scanned only
    /// where it differs from its base and inherits the base's findings elsewhere, which
    /// gives the same findings from less than half the bytes.
    #[arg(long)]
    pub whole_blobs: bool,
    /// The default since 0.1 (kept so that scripts written for it keep working).
    #[arg(long, hide = true)]
    pub delta_scan: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub suppress: SuppressArgs,
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
    pub suppress: SuppressArgs,
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
    pub suppress: SuppressArgs,
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

#[derive(Debug, Args)]
pub struct PreReceiveArgs {
    /// The server configuration (default: `$SECRETGATE_CONFIG`; none: defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The daemon's socket (default: `$SECRETGATE_SOCKET`, else the config's `socket`).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// `--threads`: at least one, and not so many that starting them is the work.
fn thread_count() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024)
}
