//! Files, directories and standard input.
//!
//! Directories are walked in parallel by [`walk`]: hidden files are scanned (`.env` is
//! where secrets live), `.gitignore` rules and the `.git` directory are respected unless
//! `no_ignore` is set. Symbolic links are not followed inside a walk, so a link loop
//! cannot trap it.
//!
//! Per file the cost is kept to open, read, close: the walk already knows the file type,
//! so there is no stat, and one buffer per thread is reused for every file.

use std::{
    io::Read,
    path::{Path, PathBuf},
    time::Instant,
};

use super::walk;

use crate::{
    finding::Finding,
    paths::FingerprintNamer,
    scan::{InputName, Scanner, Worker},
    sink::{ScanSummary, SkipReason},
    suppress::allowlist::PathAllowlist,
};

/// A path that cannot be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// It does not exist (or cannot be examined).
    #[error("{path}: {reason}")]
    Missing {
        /// The path as given.
        path: String,
        /// Why (in the message, not a chained source: it would be printed twice).
        reason: std::io::Error,
    },
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Stdin(std::io::Error),
}

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Scan what `.gitignore` excludes, and `.git` itself.
    pub no_ignore: bool,
    /// Paths never scanned (counted as allowlisted).
    pub allowlist: PathAllowlist,
    /// The work tree root: fingerprints name files relative to it.
    pub root: PathBuf,
}

/// What a scan of files found.
#[derive(Debug, Default)]
pub struct FilesOutput {
    /// Findings, sorted by path, line and column.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: ScanSummary,
    /// One line per input that could not be read, in walk order.
    pub errors: Vec<String>,
}

impl FilesOutput {
    fn absorb(&mut self, other: FilesOutput) {
        self.findings.extend(other.findings);
        self.summary.merge(&other.summary);
        self.errors.extend(other.errors);
    }

    fn finish(mut self, started: Instant) -> Self {
        self.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
        });
        // A file reached twice (`scan d d/a.env`, `scan . ./a.env`) is one file: its
        // fingerprint names it from the root however it was reached.
        let mut seen = std::collections::HashSet::new();
        self.findings.retain(|f| seen.insert((f.fingerprint.clone(), f.line, f.column)));
        self.summary.errors = self.errors.len() as u64;
        self.summary.elapsed = started.elapsed();
        self
    }
}

/// The name findings from standard input carry.
pub const STDIN_PATH: &str = "<stdin>";

/// How much of a too-large standard input is read and dropped before giving up on its end.
const MAX_DRAIN: u64 = 1 << 30;

/// Scans standard input as one input.
pub fn scan_stdin(scanner: &Scanner, input: &mut dyn Read) -> Result<FilesOutput, Error> {
    let started = Instant::now();
    let mut buffer = Vec::new();
    input.take(scanner.max_input_size().saturating_add(1)).read_to_end(&mut buffer).map_err(Error::Stdin)?;
    let mut output = FilesOutput::default();
    if buffer.len() as u64 > scanner.max_input_size() {
        // Drain the rest so the writer does not see a broken pipe, and count it; but not
        // for ever (`yes | secretgate scan -`).
        let rest = std::io::copy(&mut input.take(MAX_DRAIN), &mut std::io::sink()).map_err(Error::Stdin)?;
        output.summary.skip(SkipReason::TooLarge, buffer.len() as u64 + rest);
    } else {
        let mut worker = scanner.worker();
        scanner.scan_input(
            &buffer,
            InputName::same(STDIN_PATH),
            &mut worker,
            &mut output.summary,
            &mut output.findings,
        );
    }
    Ok(output.finish(started))
}

/// Scans files and directory trees. Fails before scanning anything if a path is missing.
pub fn scan_paths(scanner: &Scanner, paths: &[PathBuf], options: &WalkOptions) -> Result<FilesOutput, Error> {
    let started = Instant::now();
    for path in paths {
        std::fs::symlink_metadata(path)
            .map_err(|reason| Error::Missing { path: path.display().to_string(), reason })?;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let workers = walk::walk(paths, options.threads.max(1), !options.no_ignore, || FileWorker {
        scanner,
        worker: scanner.worker(),
        buffer: Vec::new(),
        output: FilesOutput::default(),
        options,
        cwd: &cwd,
        namer: FingerprintNamer::default(),
    });
    let mut output = FilesOutput::default();
    for worker in workers {
        output.absorb(worker.output);
    }
    Ok(output.finish(started))
}

/// One walker thread's state.
struct FileWorker<'s> {
    scanner: &'s Scanner,
    worker: Worker,
    buffer: Vec<u8>,
    output: FilesOutput,
    options: &'s WalkOptions,
    cwd: &'s Path,
    namer: FingerprintNamer,
}

impl walk::Visitor for FileWorker<'_> {
    fn file(&mut self, file: walk::FileEntry<'_>) {
        let path = file.path;
        if self.options.allowlist.is_allowed(path) {
            self.output.summary.skip(SkipReason::Allowlisted, 0);
            return;
        }
        let limit = self.scanner.max_input_size();
        self.buffer.clear();
        let read =
            file.open().and_then(|file| file.take(limit.saturating_add(1)).read_to_end(&mut self.buffer));
        if let Err(err) = read {
            self.output.summary.skip(SkipReason::Unreadable, 0);
            self.output.errors.push(format!("{}: {err}", path.display()));
            return;
        }
        if self.buffer.len() as u64 > limit {
            // A pipe's metadata says 0: what was read is then the least it held.
            let size = std::fs::metadata(path).map_or(0, |m| m.len()).max(self.buffer.len() as u64);
            self.output.summary.skip(SkipReason::TooLarge, size);
            return;
        }
        let display = path.to_string_lossy();
        let fingerprint = self.namer.name(&self.options.root, self.cwd, path);
        let name = InputName { display: &display, fingerprint: &fingerprint };
        self.scanner.scan_input(
            &self.buffer,
            name,
            &mut self.worker,
            &mut self.output.summary,
            &mut self.output.findings,
        );
        // A huge file should not pin its buffer for the rest of the walk.
        if self.buffer.capacity() > 16 << 20 {
            self.buffer = Vec::new();
        }
    }

    fn error(&mut self, message: String) {
        self.output.errors.push(message);
    }
}
