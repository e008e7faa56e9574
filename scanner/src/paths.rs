//! Paths as findings name them.

use std::path::{Component, Path, PathBuf};

/// An absolute path with `.` and `..` resolved lexically (symlinks are not followed, so
/// that the path a user typed is the path the globs see).
pub fn normalize(path: &Path) -> PathBuf {
    if path.is_absolute() {
        normalize_in(Path::new("/"), path)
    } else {
        normalize_in(&std::env::current_dir().unwrap_or_default(), path)
    }
}

/// [`normalize`] with the current directory given, for loops that must not ask the
/// kernel for it once per file.
pub fn normalize_in(cwd: &Path, path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The name of `path` in fingerprints: relative to `root` (the work tree root) with `/`
/// separators, so that `scan .`, `scan src/app.py` and a scan from a subdirectory give one
/// fingerprint. A path outside `root` keeps its normalized absolute form.
pub fn fingerprint_path(root: &Path, cwd: &Path, path: &Path) -> String {
    let absolute = normalize_in(cwd, path);
    let relative = absolute.strip_prefix(root).unwrap_or(&absolute);
    let text = relative.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_paths_are_root_relative() {
        let root = Path::new("/repo");
        assert_eq!(fingerprint_path(root, root, Path::new("./src/../src/app.py")), "src/app.py");
        assert_eq!(fingerprint_path(root, root, Path::new("/elsewhere/app.py")), "/elsewhere/app.py");
    }
}
