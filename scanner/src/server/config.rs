//! The server configuration: one TOML file read by `secretgated` and by the `pre-receive`
//! hook. Server keys (`socket`, `audit_log`, `[bypass]`, `[budget]`...) sit next to the keys of
//! a repository's `.secretgate.toml` (`[allowlist]`, `disabled_rules`, `[[rules]]`, `[limits]`),
//! which mean the same here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{self as repo_config, LoadedConfig};

/// Where `secretgated` listens when the config does not say.
pub const DEFAULT_SOCKET: &str = "/run/secretgate/secretgated.sock";

/// Keys that belong to the server; everything else is repository configuration.
const SERVER_KEYS: [&str; 7] =
    ["socket", "socket_mode", "audit_log", "metrics_address", "fallback", "bypass", "budget"];

/// What the hook does when the daemon cannot be reached or does not answer in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// Scan in the hook's own process, with the same rules (default).
    #[default]
    Scan,
    /// Reject the push.
    Reject,
    /// Accept the push unscanned (audited).
    Accept,
}

/// What happens to a push that cannot be scanned within the budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverBudget {
    /// Reject it, saying why and how to split the push (default).
    #[default]
    Reject,
    /// Accept it unscanned (audited).
    Accept,
}

/// `[bypass]`: whether `git push -o secretgate.bypass="reason"` may accept a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bypass {
    /// Off unless set.
    #[serde(default)]
    pub allowed: bool,
}

/// `[budget]`: bounds on the work one push may cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Time for one push's scan, in milliseconds (git servers give all pre-receive hooks
    /// together a few seconds).
    pub timeout_ms: u64,
    /// Scans run at once; further pushes wait (within their time budget).
    pub max_concurrent_scans: usize,
    /// Bytes of new blobs one push may bring before it is over budget.
    pub max_push_bytes: u64,
    /// What happens past the bounds.
    pub over_budget: OverBudget,
    /// Threads per scan (0: all cores).
    pub threads: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            // GitHub Enterprise Server's 5 s for all pre-receive hooks, less what git and the
            // hook's own start take (about 10 ms measured).
            timeout_ms: 4800,
            max_concurrent_scans: 8,
            max_push_bytes: 8 << 30,
            over_budget: OverBudget::Reject,
            threads: 0,
        }
    }
}

/// The server's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// The daemon's Unix socket.
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
    /// The socket's permission bits, octal (default `0660`: the git user and its group).
    #[serde(default)]
    pub socket_mode: Option<String>,
    /// One JSON line per push and verdict (never a secret).
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// `host:port` (loopback) where Prometheus metrics are served.
    #[serde(default)]
    pub metrics_address: Option<String>,
    /// The hook's policy when the daemon is unreachable.
    #[serde(default)]
    pub fallback: Fallback,
    /// Push-option bypasses.
    #[serde(default)]
    pub bypass: Bypass,
    /// Bounds per push.
    #[serde(default)]
    pub budget: Budget,
}

fn default_socket() -> PathBuf {
    PathBuf::from(DEFAULT_SOCKET)
}

impl Default for ServerSettings {
    fn default() -> Self {
        toml::from_str("").expect("every server key has a default")
    }
}

impl ServerSettings {
    /// The socket's mode bits.
    pub fn socket_mode(&self) -> Result<u32, repo_config::Error> {
        match &self.socket_mode {
            None => Ok(0o660),
            Some(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
                .ok()
                .filter(|mode| *mode <= 0o777)
                .ok_or_else(|| repo_config::Error::Parse {
                    file: String::new(),
                    message: format!("socket_mode: `{text}` is not octal permission bits such as \"0660\""),
                }),
        }
    }

    /// Threads for one scan.
    pub fn scan_threads(&self) -> usize {
        match self.budget.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

/// A server configuration file, read and checked.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The file.
    pub file: Option<PathBuf>,
    /// Server keys.
    pub settings: ServerSettings,
    /// Rules, allowlists and limits (the repository-config part of the file).
    pub scan: LoadedConfig,
}

impl ServerConfig {
    /// Reads and checks `path`. Errors name the file and the key.
    pub fn read(path: &Path) -> Result<Self, repo_config::Error> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| repo_config::Error::Read { file: file.clone(), source })?;
        let mut config = Self::parse(&text, &file)?;
        config.file = Some(path.to_path_buf());
        Ok(config)
    }

    /// Checks a configuration held in memory; `name` says where it came from.
    pub fn parse(text: &str, name: &str) -> Result<Self, repo_config::Error> {
        let parse_error = |message: String| repo_config::Error::Parse { file: name.to_string(), message };
        let mut table: toml::Table =
            toml::from_str(text).map_err(|err| parse_error(err.to_string().trim().replace('\n', " ")))?;
        let mut server = toml::Table::new();
        for key in SERVER_KEYS {
            if let Some(value) = table.remove(key) {
                server.insert(key.to_string(), value);
            }
        }
        let settings: ServerSettings = server
            .try_into()
            .map_err(|err: toml::de::Error| parse_error(err.to_string().trim().replace('\n', " ")))?;
        settings.socket_mode().map_err(|err| parse_error(err.to_string()))?;
        if settings.budget.max_concurrent_scans == 0 || settings.budget.timeout_ms == 0 {
            return Err(parse_error("budget: timeout_ms and max_concurrent_scans must be at least 1".into()));
        }
        let rest = toml::to_string(&table).map_err(|err| parse_error(err.to_string()))?;
        let root = std::env::current_dir().unwrap_or_default();
        let scan = LoadedConfig::parse(&rest, name, root)?;
        Ok(ServerConfig { file: None, settings, scan })
    }

    /// The configuration of a server without a file: defaults everywhere.
    pub fn default_config() -> Self {
        ServerConfig { file: None, settings: ServerSettings::default(), scan: LoadedConfig::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_and_repository_keys_live_side_by_side() {
        let config = ServerConfig::parse(
            "socket = \"/tmp/s.sock\"\naudit_log = \"/tmp/a.log\"\nfallback = \"reject\"\n\
             disabled_rules = [\"generic-secret-quoted\"]\n[bypass]\nallowed = true\n\
             [budget]\ntimeout_ms = 2000\n[allowlist]\npaths = [\"fixtures/**\"]\n",
            "server.toml",
        )
        .unwrap();
        assert_eq!(config.settings.socket, PathBuf::from("/tmp/s.sock"));
        assert!(config.settings.bypass.allowed);
        assert_eq!(config.settings.fallback, Fallback::Reject);
        assert_eq!(config.settings.budget.timeout_ms, 2000);
        assert_eq!(config.settings.budget.max_concurrent_scans, 8);
        assert_eq!(config.scan.config.disabled_rules, vec!["generic-secret-quoted".to_string()]);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_errors_naming_the_key() {
        for (text, key) in [
            ("fallback = \"maybe\"", "fallback"),
            ("[bypass]\nallowd = true", "allowd"),
            ("socket_mode = \"999\"", "socket_mode"),
            ("sockets = \"/x\"", "sockets"),
            ("[budget]\ntimeout_ms = 0", "timeout_ms"),
        ] {
            let err = ServerConfig::parse(text, "server.toml").unwrap_err().to_string();
            assert!(err.contains(key) && err.contains("server.toml"), "{text}: {err}");
        }
    }
}
