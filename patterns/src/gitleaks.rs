//! Reading a gitleaks configuration (`.gitleaks.toml`) as secretgate rules and allowlists.
//!
//! What maps onto what (gitleaks v8 format):
//!
//! | gitleaks | secretgate |
//! |---|---|
//! | `[[rules]]` `id`, `description`, `regex`, `keywords`, `entropy` | the same [`Rule`] fields |
//! | `secretGroup` (0 or unset: the first capture group, else the whole match) | `secret_group` |
//! | `path` with a `regex` | the rule reports only in files whose path the regex matches |
//! | `path` without a `regex` | a path rule: every file whose path matches is reported (line 1, no secret) |
//! | `tags` | accepted, unused |
//! | `keywords` | the prefilter; the regex then runs over the whole input, as in gitleaks |
//! | `[rules.allowlist]`, `[[rules.allowlists]]` | an [`AllowlistSpec`] with `target_rules = [id]` |
//! | `[allowlist]`, `[[allowlists]]` (`targetRules`) | an [`AllowlistSpec`] |
//! | allowlist `paths` (regexes) | `path_regexes` |
//! | `regexes`, `regexTarget`, `stopwords`, `commits`, `condition` | the same fields |
//! | `[extend] useDefault = true` | keep secretgate's built-in rules (gitleaks' own are not used) |
//! | `[extend] disabledRules` | built-in rules to turn off |
//! | `[extend] path` | the base file's rules and allowlists, merged as gitleaks merges them |
//! | `[extend] url` | an error: download the base file and use `path` |
//!
//! Without `useDefault` only the file's rules are used, as in gitleaks. Keys are read the
//! way gitleaks' viper reads them, case-insensitively for the usual spellings
//! (`secretGroup`/`secretgroup`). An unknown key is an error naming file, line and key.
//! Go RE2 regexes are translated where Rust's syntax differs ([`translate_go_regex`]).

use std::path::Path;

use serde::Deserialize;

pub use crate::go_regex::{translate_go_regex, Translated};
use crate::{
    allowlist::{AllowlistSpec, Condition, RegexTarget},
    load::{describe_toml_error, validate_all, Error, Strictness},
    schema::{Rule, Severity},
};

/// The keyword window of converted rules: more than any input secretgate reads.
pub const WHOLE_INPUT: usize = usize::MAX / 4;

/// A gitleaks rule with a `path` and no `regex`: every file whose path matches is reported
/// (gitleaks uses these to flag files that should never be committed, such as keystores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    /// The rule's id.
    pub id: String,
    /// What it flags.
    pub description: String,
    /// The path regex, translated to Rust's syntax.
    pub path: String,
}

/// A gitleaks configuration, converted.
#[derive(Debug, Clone, Default)]
pub struct GitleaksConfig {
    /// The file's rules.
    pub rules: Vec<Rule>,
    /// Global and per-rule allowlists.
    pub allowlists: Vec<AllowlistSpec>,
    /// Rules that only apply to some paths: `(rule id, path regex)`.
    pub rule_paths: Vec<(String, String)>,
    /// Rules that match file paths only.
    pub path_rules: Vec<PathRule>,
    /// `[extend] useDefault`: keep the built-in rules.
    pub use_default: bool,
    /// `[extend] disabledRules`.
    pub disabled_rules: Vec<String>,
    /// Things accepted but not honoured, one sentence each, naming the rule.
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "minVersion", alias = "minversion")]
    min_version: Option<String>,
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<GlRule>,
    #[serde(default)]
    allowlist: Option<GlAllowlist>,
    #[serde(default)]
    allowlists: Vec<GlAllowlist>,
    /// Warnings met while reading it and the files it extends.
    #[serde(skip)]
    warnings: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Extend {
    #[serde(default, rename = "useDefault", alias = "usedefault")]
    use_default: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, rename = "disabledRules", alias = "disabledrules")]
    disabled_rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default, rename = "secretGroup", alias = "secretgroup")]
    secret_group: usize,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<GlAllowlist>,
    #[serde(default)]
    allowlists: Vec<GlAllowlist>,
    /// Composite rules (gitleaks 8.28): accepted so they can be reported, not supported.
    #[serde(default)]
    required: Vec<toml::Value>,
    #[serde(default, rename = "skipReport", alias = "skipreport")]
    skip_report: bool,
    /// The file it was read from (for errors), set after parsing.
    #[serde(skip)]
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlAllowlist {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    condition: Condition,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default, rename = "regexTarget", alias = "regextarget")]
    regex_target: Option<RegexTarget>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default, alias = "stopWords")]
    stopwords: Vec<String>,
    #[serde(default, rename = "targetRules", alias = "targetrules")]
    target_rules: Vec<String>,
}

/// How deep `[extend] path` may chain (gitleaks' own limit).
const MAX_EXTEND_DEPTH: usize = 2;

/// Parses the text of a gitleaks configuration named `source`. `[extend] path` is refused
/// here (there is no file to resolve it against); [`read_gitleaks`] follows it.
pub fn parse_gitleaks(text: &str, source: &str) -> Result<GitleaksConfig, Error> {
    let file = parse_file(text, source)?;
    if file.extend.as_ref().is_some_and(|e| e.path.is_some()) {
        return Err(parse_error(source, " [extend] path needs a file: use `secretgate --config FILE`"));
    }
    convert(file, source)
}

/// Reads a gitleaks configuration file, following `[extend] path` the way gitleaks does:
/// the base file's rules are added, a rule of the same id here overrides the base rule's
/// fields that it sets (description, regex, secretGroup, entropy, path) and adds its
/// keywords and allowlists, `disabledRules` drops base rules, global allowlists add up.
/// The base path is resolved against this file's directory, else the current directory
/// (gitleaks' own reading). `[extend] url` is refused.
pub fn read_gitleaks(path: &Path) -> Result<GitleaksConfig, Error> {
    let source = path.display().to_string();
    let file = load_file(path, 0)?;
    convert(file, &source)
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read { file: path.display().to_string(), source })
}

fn parse_error(file: &str, message: &str) -> Error {
    Error::Parse { file: file.to_string(), message: message.to_string() }
}

fn parse_file(text: &str, source: &str) -> Result<File, Error> {
    let mut file: File = toml::from_str(text)
        .map_err(|err| Error::Parse { file: source.to_string(), message: describe_toml_error(text, &err) })?;
    if file.extend.as_ref().is_some_and(|e| e.url.is_some()) {
        return Err(parse_error(
            source,
            " [extend] url is not supported: download the base configuration and use `path`",
        ));
    }
    for rule in &mut file.rules {
        rule.source = source.to_string();
    }
    Ok(file)
}

fn load_file(path: &Path, depth: usize) -> Result<File, Error> {
    let source = path.display().to_string();
    let mut file = parse_file(&read_text(path)?, &source)?;
    let Some(base_path) = file.extend.as_mut().and_then(|e| e.path.take()) else {
        return Ok(file);
    };
    if depth >= MAX_EXTEND_DEPTH {
        // gitleaks stops extending here too (with a log line), it does not fail.
        file.warnings.push(format!(
            "{source}: [extend] path {base_path:?} not followed: extending is limited to {MAX_EXTEND_DEPTH} \
             levels, as in gitleaks"
        ));
        return Ok(file);
    }
    let beside = path.parent().unwrap_or(Path::new(".")).join(&base_path);
    let resolved = if beside.is_file() { beside } else { Path::new(&base_path).to_path_buf() };
    let base = load_file(&resolved, depth + 1)?;
    Ok(extend(file, base))
}

/// `current` extended by `base`, as gitleaks' `Config.extend` does it.
fn extend(mut current: File, base: File) -> File {
    let disabled: Vec<String> = current.extend.as_ref().map(|e| e.disabled_rules.clone()).unwrap_or_default();
    let base_default = base.extend.as_ref().is_some_and(|e| e.use_default);
    for base_rule in base.rules {
        if disabled.contains(&base_rule.id) {
            continue;
        }
        match current.rules.iter_mut().find(|r| r.id == base_rule.id) {
            None => current.rules.push(base_rule),
            Some(rule) => {
                let overrides = std::mem::replace(rule, base_rule);
                rule.source = overrides.source;
                if overrides.description.is_some() {
                    rule.description = overrides.description;
                }
                if overrides.entropy.is_some() {
                    rule.entropy = overrides.entropy;
                }
                if overrides.secret_group != 0 {
                    rule.secret_group = overrides.secret_group;
                }
                if overrides.regex.is_some() {
                    rule.regex = overrides.regex;
                }
                if overrides.path.is_some() {
                    rule.path = overrides.path;
                }
                rule.tags.extend(overrides.tags);
                rule.keywords.extend(overrides.keywords);
                rule.allowlists.extend(overrides.allowlist.into_iter().chain(overrides.allowlists));
            }
        }
    }
    current.allowlists.extend(base.allowlist.into_iter().chain(base.allowlists));
    current.warnings.extend(base.warnings);
    if base_default {
        current.extend.get_or_insert_with(Extend::default).use_default = true;
    }
    current
}

fn convert(file: File, source: &str) -> Result<GitleaksConfig, Error> {
    let _ = (&file.title, &file.description, &file.min_version);
    let mut out = GitleaksConfig { warnings: file.warnings, ..Default::default() };
    // A file that extends another (or the defaults) may hold rules that only add
    // allowlists to a rule defined elsewhere.
    let extends = file.extend.is_some();
    if let Some(extend) = file.extend {
        out.use_default = extend.use_default;
        out.disabled_rules = extend.disabled_rules;
    }
    let mut rules = file.rules;
    // gitleaks keeps rules in a map by id: a later rule of the same id replaces an earlier.
    let mut seen = std::collections::HashSet::new();
    for index in (0..rules.len()).rev() {
        if !seen.insert(rules[index].id.clone()) {
            let dropped = rules.remove(index);
            out.warnings.push(format!(
                "{}: rule `{}` is defined twice; the later definition is used, as in gitleaks",
                dropped.source, dropped.id
            ));
        }
    }
    for gl in rules {
        let _ = &gl.tags;
        if !gl.required.is_empty() || gl.skip_report {
            out.warnings.push(format!(
                "{}: rule `{}` is part of a composite rule (`required`/`skipReport`), which secretgate \
                 does not support; it is skipped",
                gl.source, gl.id
            ));
            continue;
        }
        let invalid =
            |message: String| Error::Invalid { file: gl.source.clone(), rule: gl.id.clone(), message };
        for list in gl.allowlist.into_iter().chain(gl.allowlists) {
            if !list.target_rules.is_empty() {
                return Err(invalid("`targetRules` belongs in a global [[allowlists]]".into()));
            }
            let mut spec = convert_allowlist(list).map_err(invalid)?;
            spec.target_rules = vec![gl.id.clone()];
            if let Some(target) = unjudgeable(&spec) {
                out.warnings.push(format!(
                    "{}: an allowlist of rule `{}` combines `commits` with a `{target}` regex under AND; \
                     secretgate knows commits only after a scan and lines only during it, so it is ignored",
                    gl.source, gl.id
                ));
                continue;
            }
            out.allowlists.push(spec);
        }
        let Some(regex) = gl.regex.filter(|r| !r.is_empty()) else {
            if let Some(path) = gl.path.filter(|p| !p.is_empty()) {
                let path = translate_go_regex(&path).map_err(|m| invalid(format!("path: {m}")))?;
                let description =
                    gl.description.clone().unwrap_or_else(|| format!("file matching `{}`", path.pattern));
                out.path_rules.push(PathRule { id: gl.id.clone(), description, path: path.pattern });
                // Its allowlists judge contents, which a path rule has none of.
                out.allowlists.retain(|a| a.target_rules != [gl.id.clone()]);
                continue;
            }
            if extends {
                // In an extending file, a rule without a regex adds its allowlists to the
                // rule of that id elsewhere; the scanner keeps them if such a rule exists.
                continue;
            }
            return Err(invalid("no `regex` (and no `path`)".into()));
        };
        let translated = translate_go_regex(&regex).map_err(invalid)?;
        if let Some(path) = gl.path.filter(|p| !p.is_empty()) {
            let path = translate_go_regex(&path).map_err(|m| invalid(format!("path: {m}")))?;
            out.rule_paths.push((gl.id.clone(), path.pattern));
        }
        let secret_group = match gl.secret_group {
            0 if translated.groups > 0 => 1,
            0 => 0,
            group => group,
        };
        let keywords = gl.keywords.into_iter().filter(|k| !k.is_empty()).map(|k| k.to_lowercase()).collect();
        out.rules.push(Rule {
            description: gl.description.filter(|d| !d.trim().is_empty()).unwrap_or_else(|| gl.id.clone()),
            id: gl.id,
            keywords,
            regex: translated.pattern,
            secret_group,
            entropy: gl.entropy.filter(|e| *e > 0.0),
            checksum: None,
            min_char_classes: None,
            stopwords: Vec::new(),
            excluded_secrets: Vec::new(),
            generic: false,
            reader: None,
            severity: Severity::High,
            revoke: None,
            // gitleaks runs a rule's regex over the whole file once a keyword occurs
            // anywhere in it; a window wider than any input does the same here.
            window: Some(WHOLE_INPUT),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            source: gl.source,
        });
    }
    for list in file.allowlist.into_iter().chain(file.allowlists) {
        let spec =
            convert_allowlist(list).map_err(|m| parse_error(source, &format!(" global allowlist: {m}")))?;
        if let Some(target) = unjudgeable(&spec) {
            out.warnings.push(format!(
                "{source}: a global allowlist combines `commits` with a `{target}` regex under AND, which \
                 secretgate cannot judge; it is ignored"
            ));
            continue;
        }
        out.allowlists.push(spec);
    }
    validate_all(&out.rules, Strictness::Imported)?;
    Ok(out)
}

/// The regex target of an `and` allowlist that also names commits, which secretgate
/// cannot judge (see `scanner::suppress::criteria`).
fn unjudgeable(spec: &AllowlistSpec) -> Option<&'static str> {
    let mixes = spec.condition == Condition::And && !spec.commits.is_empty() && !spec.regexes.is_empty();
    match spec.regex_target {
        RegexTarget::Match if mixes => Some("match"),
        RegexTarget::Line if mixes => Some("line"),
        _ => None,
    }
}

fn convert_allowlist(list: GlAllowlist) -> Result<AllowlistSpec, String> {
    let translate_all = |patterns: Vec<String>| -> Result<Vec<String>, String> {
        patterns.iter().map(|p| translate_go_regex(p).map(|t| t.pattern)).collect()
    };
    let spec = AllowlistSpec {
        description: list.description,
        paths: Vec::new(),
        path_regexes: translate_all(list.paths)?,
        regexes: translate_all(list.regexes)?,
        regex_target: list.regex_target.unwrap_or_default(),
        stopwords: list.stopwords,
        commits: list.commits,
        condition: list.condition,
        target_rules: list.target_rules,
    };
    if spec.is_empty() {
        return Err("an allowlist needs at least one of paths, regexes, stopwords or commits".into());
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
title = "team config"

[extend]
useDefault = true

[[rules]]
id = "acme-key"
description = "ACME key"
regex = '''acme_(?:live|test)_([a-z0-9]{24})'''
keywords = ["ACME_"]
entropy = 3.0
tags = ["acme"]
path = '''\.py$'''
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''fixture''']
[rules.allowlist]
stopwords = ["aaaa"]

[[rules]]
id = "p12"
path = '''\.p12$'''

[allowlist]
paths = ['''^vendor/''']

[[allowlists]]
targetRules = ["acme-key"]
condition = "AND"
commits = ["0123456789abcdef"]
paths = ['''^old/''']
"#;

    #[test]
    fn a_config_maps_onto_rules_and_allowlists() {
        let config = parse_gitleaks(CONFIG, ".gitleaks.toml").unwrap();
        assert!(config.use_default);
        assert_eq!(config.rules.len(), 1);
        let rule = &config.rules[0];
        assert_eq!((rule.id.as_str(), rule.secret_group, rule.entropy), ("acme-key", 1, Some(3.0)));
        assert_eq!(rule.keywords, vec!["acme_"]);
        assert_eq!(config.rule_paths, vec![("acme-key".to_string(), r"\.py$".to_string())]);
        assert_eq!(config.allowlists.len(), 4);
        assert_eq!(config.allowlists[0].stopwords, vec!["aaaa"]);
        assert_eq!(config.allowlists[1].regex_target, RegexTarget::Line);
        assert_eq!(config.allowlists[0].target_rules, vec!["acme-key"]);
        assert_eq!(config.allowlists[3].condition, Condition::And);
        assert_eq!(config.path_rules.len(), 1);
        assert_eq!(config.path_rules[0].id, "p12");
        assert!(config.warnings.iter().all(|w| !w.contains("rule `p12`")), "{:?}", config.warnings);
    }

    #[test]
    fn unsupported_parts_are_errors_naming_what_to_do() {
        let extend = "[extend]\nurl = \"https://example.invalid/base.toml\"\n";
        assert!(parse_gitleaks(extend, "g.toml").unwrap_err().to_string().contains("not supported"));
        let targeted = "[[rules]]\nid = \"a\"\nregex = 'a'\n[[rules.allowlists]]\ntargetRules = [\"b\"]\nstopwords = [\"x\"]\n";
        assert!(parse_gitleaks(targeted, "g.toml").unwrap_err().to_string().contains("rule `a`"));
        let empty = "[allowlist]\ndescription = \"nothing\"\n";
        assert!(parse_gitleaks(empty, "g.toml").unwrap_err().to_string().contains("at least one"));
        let no_regex = "[[rules]]\nid = \"a\"\n";
        assert!(parse_gitleaks(no_regex, "g.toml").unwrap_err().to_string().contains("no `regex`"));
    }

    #[test]
    fn extend_path_merges_like_gitleaks() {
        let dir = std::env::temp_dir().join(format!("sg-gitleaks-extend-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = "[[rules]]\nid = \"a\"\ndescription = \"A\"\nregex = 'a_[a-z]{8}'\nkeywords = [\"a_\"]\n\
                    [[rules]]\nid = \"b\"\nregex = 'b_[a-z]{8}'\n\
                    [[rules]]\nid = \"c\"\nregex = 'c_[a-z]{8}'\n\
                    [allowlist]\nstopwords = [\"base\"]\n";
        std::fs::write(dir.join("base.toml"), base).unwrap();
        let top = "[extend]\npath = \"base.toml\"\ndisabledRules = [\"c\"]\n\
                   [[rules]]\nid = \"a\"\nkeywords = [\"zz\"]\nentropy = 2.0\n\
                   [[rules.allowlists]]\npaths = ['x']\n";
        std::fs::write(dir.join("top.toml"), top).unwrap();
        let config = read_gitleaks(&dir.join("top.toml")).unwrap();
        let ids: Vec<_> = config.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b"]);
        let a = &config.rules[0];
        assert_eq!((a.description.as_str(), a.entropy), ("A", Some(2.0)));
        assert_eq!(a.keywords, vec!["a_", "zz"]);
        assert_eq!(config.allowlists.len(), 2);
        assert!(parse_gitleaks(top, "top.toml").unwrap_err().to_string().contains("needs a file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let text = CONFIG.replace("entropy = 3.0", "entropi = 3.0");
        let err = parse_gitleaks(&text, ".gitleaks.toml").unwrap_err().to_string();
        assert!(err.starts_with(".gitleaks.toml:12:"), "{err}");
        assert!(err.contains("key `rules.entropi`"), "{err}");
    }
}
