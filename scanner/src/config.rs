//! The repository configuration file, `.secretgate.toml` (or a gitleaks `.gitleaks.toml`).
//!
//! ```toml
//! use_builtin_rules = true                     # false: only the [[rules]] below
//! disabled_rules = ["generic-secret-unquoted"] # built-in rules to turn off
//!
//! [allowlist]                                  # applies to every rule
//! paths = ["tests/fixtures/**", "*.lock"]      # globs relative to the config's directory
//! regexes = ['^AKIA[0-9A-Z]{12}TEST$']         # over regex_target: secret | match | line
//! stopwords = ["notreal"]                      # secret contains one (case-insensitive)
//! commits = ["4b2e1c7"]                        # findings introduced by these commits
//!
//! [[allowlists]]                               # more, each with its own condition
//! target_rules = ["generic-password"]          # only these rules (default: all)
//! condition = "and"                            # every criterion set must hold (default "or")
//! path_regexes = ['^legacy/']                  # regexes over the root-relative path
//! regex_target = "line"
//! regexes = ['# test fixture']
//!
//! [limits]
//! max_file_size = 10485760                     # bytes; larger inputs are skipped and counted
//!
//! [decode]                                     # decoding of encoded secrets (on by default)
//! depth = 2                                    # encodings deep; 0 turns decoding off
//! encodings = ["base64", "percent", "escape", "hex"]
//! max_bytes = 16777216                         # decoded bytes per input, at most
//!
//! [[rules]]                                    # the team's own rules, same schema as built-ins
//! id = "acme-internal-token"
//! ...
//! ```
//! Unknown keys and invalid values are errors that name the file, line and key. A gitleaks
//! configuration is converted by [`secretgate_patterns::gitleaks`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use secretgate_patterns::{
    gitleaks::read_gitleaks,
    load::{describe_toml_error, Strictness},
    AllowlistSpec, Rule,
};

use crate::suppress::criteria::{self, Allowlists};

use crate::decode::{DecodeOptions, Encoding, DEFAULT_DEPTH, DEFAULT_MAX_BYTES, MAX_DEPTH};

/// The file name looked for at the root of a work tree.
pub const FILE_NAME: &str = ".secretgate.toml";

/// gitleaks' configuration, used when a directory has no `.secretgate.toml`.
pub const GITLEAKS_FILE_NAME: &str = ".gitleaks.toml";

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
    #[error("{file}:{message}")]
    Parse {
        /// The file.
        file: String,
        /// `LINE:COLUMN: key `KEY`: what is wrong`, from
        /// [`secretgate_patterns::load::describe_toml_error`].
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
    /// An allowlist does not compile.
    #[error("{file}: {source}")]
    Allowlist {
        /// The file.
        file: String,
        /// What is wrong.
        source: criteria::Error,
    },
}

/// Which tool's format a configuration file is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// `.secretgate.toml` (or a plain rule file, which is a subset).
    #[default]
    Secretgate,
    /// A gitleaks configuration.
    Gitleaks,
}

/// The contents of `.secretgate.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// `false`: use only this file's `[[rules]]`, not the built-in set.
    #[serde(default = "yes")]
    pub use_builtin_rules: bool,
    /// What never to report: `[allowlist]`. Its `paths` also skip whole files in a walk.
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    /// More allowlists, each with its own condition and target rules: `[[allowlists]]`.
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
    /// Input limits.
    #[serde(default)]
    pub limits: Limits,
    /// Ids of built-in rules to turn off.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// The team's own rules, added to the built-in set (or replacing it, with
    /// `use_builtin_rules = false`).
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

impl Default for RepoConfig {
    fn default() -> Self {
        RepoConfig {
            use_builtin_rules: true,
            allowlist: AllowlistSpec::default(),
            allowlists: Vec::new(),
            limits: Limits::default(),
            disabled_rules: Vec::new(),
            rules: Vec::new(),
            decode: DecodeConfig::default(),
        }
    }
}

fn yes() -> bool {
    true
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
    /// Its contents (a gitleaks configuration converted).
    pub config: RepoConfig,
    /// Its format.
    pub format: Format,
    /// Rules limited to some paths (gitleaks' rule `path`): `(rule id, path regex)`.
    pub rule_paths: Vec<(String, String)>,
    /// gitleaks rules that flag files by path alone.
    pub path_rules: Vec<secretgate_patterns::gitleaks::PathRule>,
    /// Parts of the file accepted but not honoured, one sentence each.
    pub warnings: Vec<String>,
}

impl LoadedConfig {
    /// Reads and checks a configuration file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Read { file: file.clone(), source })?;
        let root = crate::paths::normalize(path.parent().unwrap_or(Path::new(".")));
        let mut loaded = if is_gitleaks(path, &text) {
            Self::from_gitleaks(path)?
        } else {
            Self::parse(&text, &file, root.clone())?
        };
        loaded.file = Some(path.to_path_buf());
        loaded.root = root;
        Ok(loaded)
    }

    /// Checks a secretgate configuration held in memory (read from a git tree, say); `name`
    /// says where it came from in messages, and relative paths resolve against `root`.
    pub fn parse(text: &str, name: &str, root: PathBuf) -> Result<Self, Error> {
        let file = name.to_string();
        let mut config: RepoConfig = toml::from_str(text)
            .map_err(|err| Error::Parse { file: file.clone(), message: describe_toml_error(text, &err) })?;
        // Rules in a config are checked like any user rule file.
        for rule in &mut config.rules {
            rule.source = file.clone();
        }
        secretgate_patterns::load::validate_all(&config.rules, Strictness::User)?;
        if let Some(message) = config.decode.problem() {
            return Err(Error::Parse { file, message });
        }
        Ok(LoadedConfig { config, root, ..Default::default() })
    }

    fn from_gitleaks(path: &Path) -> Result<Self, Error> {
        let gitleaks = read_gitleaks(path)?;
        let config = RepoConfig {
            use_builtin_rules: gitleaks.use_default,
            allowlists: gitleaks.allowlists,
            disabled_rules: gitleaks.disabled_rules,
            rules: gitleaks.rules,
            ..Default::default()
        };
        Ok(LoadedConfig {
            config,
            format: Format::Gitleaks,
            rule_paths: gitleaks.rule_paths,
            path_rules: gitleaks.path_rules,
            warnings: gitleaks.warnings,
            ..Default::default()
        })
    }

    /// Reads a configuration named on the command line for a scan started in `start`.
    /// Relative paths in it (and the ignore files and baseline) resolve against its own
    /// directory when that lies inside the work tree of `start`; a configuration kept
    /// elsewhere (an organisation's shared file) applies to the work tree being scanned.
    pub fn read_for(path: &Path, start: &Path) -> Result<Self, Error> {
        let mut loaded = Self::read(path)?;
        if let Some(tree) = work_tree_root(&crate::paths::normalize(start)) {
            if !loaded.root.starts_with(&tree) {
                loaded.root = tree;
            }
        }
        Ok(loaded)
    }

    /// Looks for `.secretgate.toml`, then `.gitleaks.toml`, in `start` and its parents, up
    /// to and including the first directory that holds `.git` (the work tree root). No
    /// file is not an error; the root is then the work tree root (or `start` outside one).
    pub fn discover(start: &Path) -> Result<Self, Error> {
        Ok(Self::discover_above(start)?
            .unwrap_or_else(|| LoadedConfig { root: crate::paths::normalize(start), ..Default::default() }))
    }

    /// Where [`LoadedConfig::root`] lies inside its work tree, as a prefix for paths
    /// (`services/api/`; empty at the work tree root or outside one).
    pub fn root_in_repository(&self) -> String {
        let Some(tree) = work_tree_root(&self.root) else { return String::new() };
        match self.root.strip_prefix(&tree) {
            Ok(inside) if !inside.as_os_str().is_empty() => {
                let mut prefix = inside.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                prefix.push('/');
                prefix
            }
            _ => String::new(),
        }
    }

    /// Whether `start` lies in a work tree or under a configuration file: what
    /// [`LoadedConfig::discover_above`] finds, without reading (or failing on) the file.
    pub fn anything_above(start: &Path) -> bool {
        discovery_stop(start).is_some()
    }

    /// [`LoadedConfig::discover`], but `None` when `start` is in no work tree and no
    /// configuration file lies above it.
    pub fn discover_above(start: &Path) -> Result<Option<Self>, Error> {
        match discovery_stop(start) {
            Some(DiscoveryStop::File(file)) => Self::read(&file).map(Some),
            Some(DiscoveryStop::WorkTree(root)) => Ok(Some(LoadedConfig { root, ..Default::default() })),
            None => Ok(None),
        }
    }

    fn file_name(&self) -> String {
        self.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default()
    }

    /// Every allowlist of the file (`[allowlist]`, `[[allowlists]]`, gitleaks' global and
    /// rule allowlists) and its path-limited rules, compiled.
    pub fn allowlists(&self) -> Result<Allowlists, Error> {
        let mut specs: Vec<AllowlistSpec> = self.config.allowlists.clone();
        if !self.config.allowlist.is_empty() {
            specs.insert(0, self.config.allowlist.clone());
        }
        specs.push(AllowlistSpec { paths: own_files(), ..Default::default() });
        Allowlists::new(&specs, &self.rule_paths)
            .map_err(|source| Error::Allowlist { file: self.file_name(), source })
    }

    /// Drops the rule allowlists that target none of the `known` rule ids, and returns a
    /// warning for each. For gitleaks configurations, whose allowlist-only rules
    /// (`[[rules]] id = "generic-api-key"` plus `[[rules.allowlists]]`) extend gitleaks'
    /// default rules, most of which secretgate names differently.
    pub fn drop_unknown_targets(&mut self, known: &std::collections::HashSet<&str>) -> Vec<String> {
        let mut warnings = Vec::new();
        let file = self.file_name();
        self.config.allowlists.retain(|list| {
            let keep = list.target_rules.is_empty() || list.target_rules.iter().any(|id| known.contains(id.as_str()));
            if !keep {
                warnings.push(format!(
                    "{file}: allowlist for rule `{}` ignored: no rule has that id (see `secretgate rules list`)",
                    list.target_rules.join("`, `")
                ));
            }
            keep
        });
        warnings
    }

    /// The files a walk skips: `[allowlist] paths`, when that allowlist applies to every
    /// rule with `or` (then any file under those globs is allowed whatever it holds).
    pub fn path_allowlist(&self) -> Result<crate::suppress::allowlist::PathAllowlist, Error> {
        let list = &self.config.allowlist;
        let whole_files =
            list.condition == secretgate_patterns::allowlist::Condition::Or && list.target_rules.is_empty();
        let mut globs: Vec<String> = own_files();
        if whole_files {
            globs.extend(list.paths.iter().cloned());
        }
        crate::suppress::allowlist::PathAllowlist::new(&self.root, &globs)
            .map_err(|source| Error::Glob { file: self.file_name(), source })
    }
}

/// The first of `start` and its parents that holds `.git`.
/// Where discovery from a directory stops.
enum DiscoveryStop {
    /// The first configuration file found.
    File(PathBuf),
    /// The work tree root reached first, holding none.
    WorkTree(PathBuf),
}

/// Looks for `.secretgate.toml`, then `.gitleaks.toml`, in `start` and its parents, up to
/// and including the first directory that holds `.git`.
fn discovery_stop(start: &Path) -> Option<DiscoveryStop> {
    let start = crate::paths::normalize(start);
    for dir in start.ancestors() {
        for name in [FILE_NAME, GITLEAKS_FILE_NAME] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(DiscoveryStop::File(candidate));
            }
        }
        if dir.join(".git").exists() {
            return Some(DiscoveryStop::WorkTree(dir.to_path_buf()));
        }
    }
    None
}

fn work_tree_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf)
}

/// Whether a gitleaks-only spelling (`regexTarget`, `targetRules`, ...) is used anywhere:
/// secretgate's keys are snake_case.
fn has_camel_case_key(table: &toml::Table) -> bool {
    const CAMEL: &[&str] =
        &["regexTarget", "targetRules", "secretGroup", "useDefault", "disabledRules", "stopWords"];
    table.iter().any(|(key, value)| {
        CAMEL.contains(&key.as_str())
            || match value {
                toml::Value::Table(inner) => has_camel_case_key(inner),
                toml::Value::Array(items) => {
                    items.iter().filter_map(toml::Value::as_table).any(has_camel_case_key)
                }
                _ => false,
            }
    })
}

/// secretgate's own bookkeeping files: they hold fingerprints (hashes), never secrets,
/// and `password:0123abcd...` in a fingerprint looks like an assignment to generic rules.
fn own_files() -> Vec<String> {
    [
        crate::suppress::ignore_file::FILE_NAME,
        crate::suppress::ignore_file::GITLEAKS_FILE_NAME,
        crate::suppress::baseline::FILE_NAME,
    ]
    .map(String::from)
    .to_vec()
}

/// Whether a configuration file is gitleaks': by name (`.gitleaks.toml`, `gitleaks.toml`),
/// or by keys only gitleaks has (`title`, `[extend]`, a rule without `severity`, ...).
fn is_gitleaks(path: &Path, text: &str) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.contains("gitleaks") {
        return true;
    }
    if name == FILE_NAME {
        return false;
    }
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    const GITLEAKS_ONLY: &[&str] = &["title", "extend", "minVersion"];
    const RULE_KEYS: &[&str] = &["secretGroup", "tags", "path", "allowlist", "allowlists"];
    if GITLEAKS_ONLY.iter().any(|k| table.contains_key(*k)) || has_camel_case_key(&table) {
        return true;
    }
    let rules = table.get("rules").and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    rules.iter().filter_map(toml::Value::as_table).any(|rule| {
        (!rule.contains_key("severity") && !rule.contains_key("examples"))
            || RULE_KEYS.iter().any(|k| rule.contains_key(*k))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn discovery_prefers_secretgate_then_gitleaks_and_stops_at_the_work_tree_root() {
        let gitleaks = "[[rules]]\nid = \"x\"\nregex = '''x_[a-z]{8}'''\n";
        let dir = dir_with(&[(GITLEAKS_FILE_NAME, gitleaks)]);
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        let loaded = LoadedConfig::discover(&dir.path().join("sub")).unwrap();
        assert_eq!(loaded.format, Format::Gitleaks);
        assert!(!loaded.config.use_builtin_rules, "gitleaks without useDefault: only its rules");
        assert_eq!(loaded.config.rules[0].id, "x");

        std::fs::write(dir.path().join(FILE_NAME), "use_builtin_rules = false\n").unwrap();
        let loaded = LoadedConfig::discover(&dir.path().join("sub")).unwrap();
        assert_eq!(loaded.format, Format::Secretgate);
        assert!(!loaded.config.use_builtin_rules);

        let empty = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(empty.path().join(".git")).unwrap();
        std::fs::create_dir_all(empty.path().join("a/b")).unwrap();
        let loaded = LoadedConfig::discover(&empty.path().join("a/b")).unwrap();
        assert!(loaded.file.is_none());
        assert_eq!(loaded.root, crate::paths::normalize(empty.path()));
    }

    #[test]
    fn a_config_outside_the_work_tree_applies_to_the_tree_scanned() {
        let shared = dir_with(&[("org.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n")]);
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        let loaded = LoadedConfig::read_for(&shared.path().join("org.toml"), repo.path()).unwrap();
        assert_eq!(loaded.root, crate::paths::normalize(repo.path()));
        let inside = dir_with(&[("my.toml", "")]);
        std::fs::create_dir_all(inside.path().join(".git")).unwrap();
        let loaded = LoadedConfig::read_for(&inside.path().join("my.toml"), inside.path()).unwrap();
        assert_eq!(loaded.root, crate::paths::normalize(inside.path()));
    }

    #[test]
    fn gitleaks_format_is_recognised_by_content_too() {
        let rules =
            "[[rules]]\nid = \"y\"\ndescription = \"y\"\nregex = '(y_[a-z]{8})'\nseverity = \"low\"\n\
                     examples = [\"y_abcdefgh\"]\n";
        let dir = dir_with(&[
            ("team.toml", "title = \"t\"\n[[rules]]\nid = \"x\"\nregex = 'x_[a-z]{8}'\n"),
            ("rules.toml", rules),
        ]);
        assert_eq!(LoadedConfig::read(&dir.path().join("team.toml")).unwrap().format, Format::Gitleaks);
        assert_eq!(LoadedConfig::read(&dir.path().join("rules.toml")).unwrap().format, Format::Secretgate);
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        let dir = dir_with(&[(FILE_NAME, "[allowlist]\nregex_target = \"word\"\n")]);
        let err = LoadedConfig::read(&dir.path().join(FILE_NAME)).unwrap_err().to_string();
        assert!(err.contains(".secretgate.toml:2:") && err.contains("key `allowlist.regex_target`"), "{err}");
    }

    #[test]
    fn own_files_are_always_skipped_and_walk_skips_only_plain_path_lists() {
        let text = "[allowlist]\npaths = [\"vendor/**\"]\ncondition = \"and\"\nstopwords = [\"x\"]\n";
        let dir = dir_with(&[(FILE_NAME, text)]);
        let loaded = LoadedConfig::read(&dir.path().join(FILE_NAME)).unwrap();
        let walk = loaded.path_allowlist().unwrap();
        assert!(walk.is_allowed(&dir.path().join(".secretgateignore")));
        assert!(walk.is_allowed(&dir.path().join(".secretgate-baseline.json")));
        assert!(!walk.is_allowed(&dir.path().join("vendor/a.py")), "an `and` list is judged per match");
        assert!(!loaded.allowlists().unwrap().is_empty());
    }
}

#[cfg(test)]
mod decode_tests {
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
