//! Path allowlists: files a repository's config says never to report.

use std::path::{Path, PathBuf};

use crate::paths::{normalize, normalize_in};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Globs over paths relative to a root (the directory holding the config file).
///
/// `*` stays within one path component and `**` crosses them; a glob without `/` matches a
/// file name in any directory (`*.lock`), as in `.gitignore`.
#[derive(Debug, Clone)]
pub struct PathAllowlist {
    root: PathBuf,
    cwd: PathBuf,
    globs: GlobSet,
    empty: bool,
}

impl PathAllowlist {
    /// Compiles `globs`, relative to `root`.
    pub fn new(root: &Path, globs: &[String]) -> Result<Self, globset::Error> {
        Ok(PathAllowlist {
            root: normalize(root),
            cwd: std::env::current_dir().unwrap_or_default(),
            globs: glob_set(globs)?,
            empty: globs.is_empty(),
        })
    }

    /// An allowlist that allows nothing.
    pub fn none() -> Self {
        PathAllowlist { root: PathBuf::new(), cwd: PathBuf::new(), globs: GlobSet::empty(), empty: true }
    }

    /// Whether `path` (absolute, or relative to the current directory) is allowlisted.
    pub fn is_allowed(&self, path: &Path) -> bool {
        if self.empty {
            return false;
        }
        let path = normalize_in(&self.cwd, path);
        match path.strip_prefix(&self.root) {
            Ok(relative) => self.globs.is_match(relative),
            Err(_) => false,
        }
    }

    /// Whether `relative`, a path relative to the root (a path inside a git tree), is
    /// allowlisted.
    pub fn is_allowed_relative(&self, relative: &Path) -> bool {
        !self.empty && self.globs.is_match(relative)
    }
}

/// Compiles root-relative path globs the way allowlists read them.
pub fn glob_set(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let glob = glob.trim_start_matches("./");
        let anchored = if glob.contains('/') { glob.to_string() } else { format!("**/{glob}") };
        builder.add(GlobBuilder::new(&anchored).literal_separator(true).build()?);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_relative_to_the_root() {
        let root = Path::new("/repo");
        let list = PathAllowlist::new(root, &["patterns/rules/*.toml".into(), "*.lock".into()]).unwrap();
        assert!(list.is_allowed(Path::new("/repo/patterns/rules/cloud.toml")));
        assert!(list.is_allowed(Path::new("/repo/./patterns/x/../rules/cloud.toml")));
        assert!(!list.is_allowed(Path::new("/repo/patterns/rules/sub/cloud.toml")));
        assert!(list.is_allowed(Path::new("/repo/deep/dir/Cargo.lock")));
        assert!(!list.is_allowed(Path::new("/other/patterns/rules/cloud.toml")));
        assert!(!PathAllowlist::none().is_allowed(Path::new("/repo/a")));
    }
}
