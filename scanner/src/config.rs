//! The repository configuration file, `.secretgate.toml`.
//!
//! ```toml
//! [allowlist]
//! paths = ["tests/fixtures/**", "*.lock"]   # globs relative to the config's directory
//!
//! [limits]
//! max_file_size = 10485760                   # bytes; larger inputs are skipped and counted
//!
//! disabled_rules = ["generic-secret-unquoted"] # built-in rules to turn off
//!
//! [decode]                                   # decoding of encoded secrets (on by default)
//! depth = 2                                  # encodings deep; 0 turns decoding off
//! encodings = ["base64", "percent", "escape", "hex"]
//! max_bytes = 16777216                       # decoded bytes per input, at most
//!
//! [[rules]]                                  # the team's own rules, same schema as built-ins
//! id = "acme-internal-token"
//! ...
//! ```
//! Unknown keys and invalid values are errors that name the file, line and key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use secretgate_patterns::{load::Strictness, Rule};

use crate::decode::{DecodeOptions, Encoding, DEFAULT_DEPTH, DEFAULT_MAX_BYTES, MAX_DEPTH};

/// The file name looked for at the root of a work tree.
pub const FILE_NAME: &str = ".secretgate.toml";

/// Default size limit: inputs larger than this are skipped (and counted).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// It could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is not valid TOML, or has an unknown key or a bad value.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message, with line, column and key.
        message: String,
    },
    /// One of its rules is invalid.
    #[error(transparent)]
    Rule(#[from] secretgate_patterns::Error),
    /// An allowlist glob does not parse.
    #[error("{file}: invalid allowlist path glob: {source}")]
    Glob {
        /// The file.
        file: String,
        /// The glob error.
        source: globset::Error,
    },
}

/// The contents of `.secretgate.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// What never to report.
    #[serde(default)]
    pub allowlist: AllowlistConfig,
    /// Input limits.
    #[serde(default)]
    pub limits: Limits,
    /// Ids of built-in rules to turn off.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// The team's own rules, added to the built-in set.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// What to decode before matching.
    #[serde(default)]
    pub decode: DecodeConfig,
}

/// `[decode]`: checked by [`LoadedConfig::read`], so [`DecodeConfig::options`] cannot fail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeConfig {
    /// How many encodings deep to decode; 0 turns decoding off.
    #[serde(default = "default_depth")]
    pub depth: u8,
    /// Names of the encodings to decode (`base64`, `percent`, `escape`, `hex`).
    #[serde(default = "default_encodings")]
    pub encodings: Vec<String>,
    /// At most this many decoded bytes per input.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            depth: default_depth(),
            encodings: default_encodings(),
            max_bytes: default_max_bytes(),
        }
    }
}

fn default_depth() -> u8 {
    DEFAULT_DEPTH
}

fn default_encodings() -> Vec<String> {
    Encoding::ALL.iter().map(|e| e.name().to_string()).collect()
}

fn default_max_bytes() -> usize {
    DEFAULT_MAX_BYTES
}

impl DecodeConfig {
    /// The first problem with these settings, as a message naming the key.
    fn problem(&self) -> Option<String> {
        if self.depth > MAX_DEPTH {
            return Some(format!(
                "decode.depth = {}: at most {MAX_DEPTH} (0 turns decoding off)",
                self.depth
            ));
        }
        self.encodings.iter().find(|name| Encoding::from_name(name).is_none()).map(|name| {
            let known: Vec<&str> = Encoding::ALL.iter().map(|e| e.name()).collect();
            format!("decode.encodings: unknown encoding `{name}` (known: {})", known.join(", "))
        })
    }

    /// The decoding options these settings describe.
    pub fn options(&self) -> DecodeOptions {
        DecodeOptions {
            depth: self.depth,
            encodings: self.encodings.iter().filter_map(|name| Encoding::from_name(name)).collect(),
            max_bytes: self.max_bytes,
        }
    }
}

/// `[allowlist]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistConfig {
    /// Path globs, relative to the directory holding the config file.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Inputs larger than this many bytes are skipped and counted.
    #[serde(default = "default_max_file_size")]
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_size: DEFAULT_MAX_FILE_SIZE }
    }
}

fn default_max_file_size() -> u64 {
    DEFAULT_MAX_FILE_SIZE
}

/// A loaded configuration and the directory its relative paths are resolved against.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    /// Where it was read from, if anywhere.
    pub file: Option<PathBuf>,
    /// The directory holding it (path globs are relative to it).
    pub root: PathBuf,
    /// Its contents.
    pub config: RepoConfig,
}

impl LoadedConfig {
    /// Reads and checks a configuration file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Read { file: file.clone(), source })?;
        let mut config: RepoConfig = toml::from_str(&text)
            .map_err(|err| Error::Parse { file: file.clone(), message: one_line(&err) })?;
        // Rules in a config are checked like any user rule file.
        for rule in &mut config.rules {
            rule.source = file.clone();
        }
        secretgate_patterns::load::validate_all(&config.rules, Strictness::User)?;
        if let Some(message) = config.decode.problem() {
            return Err(Error::Parse { file, message });
        }
        let root = crate::paths::normalize(path.parent().unwrap_or(Path::new(".")));
        Ok(LoadedConfig { file: Some(path.to_path_buf()), root, config })
    }

    /// Looks for `.secretgate.toml` in `start` and its parents, up to and including the
    /// first directory that holds `.git` (the work tree root). No file is not an error.
    pub fn discover(start: &Path) -> Result<Self, Error> {
        let start = crate::paths::normalize(start);
        let mut dir = Some(start.as_path());
        while let Some(current) = dir {
            let candidate = current.join(FILE_NAME);
            if candidate.is_file() {
                return Self::read(&candidate);
            }
            if current.join(".git").exists() {
                break;
            }
            dir = current.parent();
        }
        Ok(LoadedConfig { file: None, root: start, config: RepoConfig::default() })
    }

    /// The path allowlist, compiled.
    pub fn path_allowlist(&self) -> Result<crate::suppress::allowlist::PathAllowlist, Error> {
        crate::suppress::allowlist::PathAllowlist::new(&self.root, &self.config.allowlist.paths).map_err(
            |source| Error::Glob {
                file: self.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default(),
                source,
            },
        )
    }
}

fn one_line(err: &toml::de::Error) -> String {
    err.to_string().trim_end().replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<LoadedConfig, Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        LoadedConfig::read(&path)
    }

    #[test]
    fn decode_settings() {
        let config = read("[decode]\ndepth = 3\nencodings = [\"base64\", \"hex\"]\n").unwrap();
        let options = config.config.decode.options();
        assert_eq!(options.depth, 3);
        assert!(options.encodings.contains(Encoding::Hex) && !options.encodings.contains(Encoding::Escape));
        assert_eq!(read("").unwrap().config.decode.options(), DecodeOptions::default());
    }

    #[test]
    fn unknown_encodings_and_deep_depths_name_the_key() {
        let err = read("[decode]\nencodings = [\"base64\", \"rot13\"]\n").unwrap_err().to_string();
        assert!(err.contains("decode.encodings") && err.contains("rot13"), "{err}");
        let err = read("[decode]\ndepth = 9\n").unwrap_err().to_string();
        assert!(err.contains("decode.depth"), "{err}");
        let err = read("[decode]\ndeep = 1\n").unwrap_err().to_string();
        assert!(err.contains("deep"), "{err}");
    }
}
