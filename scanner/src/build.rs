//! A configuration turned into a [`Scanner`]: built-in rules (unless turned off), the
//! configuration's own, minus the disabled ones, with its allowlists. Shared by every command
//! and by the daemon.

use std::{collections::HashSet, sync::Arc};

use secretgate_patterns::Rule;

use crate::{
    config::{self, Format as ConfigFormat, LoadedConfig},
    decode::DecodeOptions,
    scan::BuildError,
    Scanner, ScannerBuilder,
};

/// Why a configuration does not give a scanner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The built-in rules are broken (a bug).
    #[error("the built-in rules are broken: {0}")]
    Builtin(secretgate_patterns::Error),
    /// The configuration's allowlists do not compile.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// The rules do not compile, or a setting cannot work.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Compiles `config`; `max_file_size` overrides its size limit, `no_decode` turns decoding off. Warnings (gitleaks settings
/// that name rules secretgate does not have) go to `warn`.
pub fn build_scanner(
    config: &LoadedConfig,
    max_file_size: Option<u64>,
    no_decode: bool,
    warn: &mut dyn FnMut(String),
) -> Result<Scanner, Error> {
    let builtin = if config.config.use_builtin_rules {
        secretgate_patterns::builtin::rules().map_err(Error::Builtin)?
    } else {
        Vec::new()
    };
    let mut disabled = config.config.disabled_rules.clone();
    let adjusted;
    let config = if config.format == ConfigFormat::Gitleaks {
        adjusted = adjust_gitleaks(config, &builtin, &mut disabled, warn);
        &adjusted
    } else {
        config
    };
    let mut builder = ScannerBuilder::new(builtin);
    builder
        .add_rules(config.config.rules.iter().cloned())
        .disable_rules(disabled)
        .allowlists(Arc::new(config.allowlists()?))
        .path_rules(config.path_rules.iter().cloned())
        .max_input_size(max_file_size.unwrap_or(config.config.limits.max_file_size))
        .decode(if no_decode { DecodeOptions::off() } else { config.config.decode.options() });
    let scanner = builder.build()?;
    // The built-in rules are compiled by the tests; a user's rule that cannot be (a regex
    // too large for the automaton) must fail here, not vanish on first use.
    let own: HashSet<&str> = config.config.rules.iter().map(|rule| rule.id.as_str()).collect();
    scanner.rules().compile_where(|rule| own.contains(rule.id.as_str())).map_err(BuildError::from)?;
    Ok(scanner)
}

/// gitleaks' `disabledRules` and allowlist-only rules name gitleaks' default rules (or an
/// extended file's), which mostly have other ids here: the unknown ones are dropped with a
/// warning instead of failing the build.
fn adjust_gitleaks(
    config: &LoadedConfig,
    builtin: &[Rule],
    disabled: &mut Vec<String>,
    warn: &mut dyn FnMut(String),
) -> LoadedConfig {
    let builtin_ids: HashSet<&str> = builtin.iter().map(|r| r.id.as_str()).collect();
    disabled.retain(|id| {
        let keep = builtin_ids.contains(id.as_str());
        if !keep && config.config.use_builtin_rules {
            warn(format!(
                "[extend] disabledRules: `{id}` names no built-in rule; it has no effect on secretgate's built-in set"
            ));
        }
        keep
    });
    let mut known = builtin_ids;
    known.extend(config.config.rules.iter().map(|r| r.id.as_str()));
    let mut adjusted = config.clone();
    for warning in adjusted.drop_unknown_targets(&known) {
        warn(warning.to_string());
    }
    adjusted
}
