//! Helpers shared by the end-to-end tests: `mod common;` in a test file.
//!
//! The tests drive the built binaries, never the library: build them first with
//! `cargo build --workspace --bins` (or point `SECRETGATE_BIN` at another build).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod git;

/// The workspace root (the parent of this package's manifest directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives inside the workspace")
        .to_path_buf()
}

/// The `secretgate` binary under test: `$SECRETGATE_BIN` if set, else the workspace's
/// debug build. Panics with the command to run when it does not exist.
pub fn secretgate_bin() -> PathBuf {
    let path = match std::env::var_os("SECRETGATE_BIN") {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => workspace_root()
            .join("target")
            .join("debug")
            .join(format!("secretgate{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        panic!("build the binaries first: cargo build --workspace --bins (no binary at {})", path.display());
    }
    path
}

/// The `secretgated` binary under test, next to `secretgate`.
pub fn secretgated_bin() -> PathBuf {
    let path = secretgate_bin().with_file_name(format!("secretgated{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        panic!("build the binaries first: cargo build --workspace --bins (no binary at {})", path.display());
    }
    path
}

/// A `Command` for the binary under test, run in `cwd`, with colour off and no
/// configuration inherited from the environment of whoever runs the tests.
pub fn secretgate_command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(secretgate_bin());
    command
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("SECRETGATE_CONFIG")
        .env_remove("SECRETGATE_SOCKET");
    command
}

/// Runs the binary under test with `args` in `cwd` and returns its status and output.
pub fn secretgate(args: &[&str], cwd: &Path) -> Output {
    secretgate_command(args, cwd)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", secretgate_bin().display()))
}

/// Runs the binary under test with `input` on its standard input, in a temporary directory.
pub fn secretgate_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = secretgate_command(args, dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", secretgate_bin().display()));
    child.stdin.take().expect("stdin is piped").write_all(input).expect("write to stdin");
    child.wait_with_output().expect("the binary runs to completion")
}

/// `len` random ASCII letters and digits, different on every call (seeded from the clock
/// and a counter): test secrets are made at run time, never written in the source.
pub fn random_alnum(len: usize) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut state = nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % 62) as usize] as char
        })
        .collect()
}

/// A database URL with a random password (a finding for the `database-url-password` rule),
/// and the password.
pub fn database_url() -> (String, String) {
    let password = format!("{}9!{}", random_alnum(10), random_alnum(6));
    (format!("{}://billing:{password}@db.internal.acme.io:5432/orders", "postgres"), password)
}

/// A report parsed as JSON; panics with the text when it is not JSON.
pub fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

/// The standard base64 alphabet.
pub const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `data` in base64 over `alphabet`, padded with `=` when `pad`.
pub fn base64_with(data: &[u8], alphabet: &[u8], pad: bool) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}
