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

/// [`fingerprint_path`] for the files of a walk, which come directory by directory: each
/// directory is normalized once, and a file's name is its directory's name plus its own.
/// (Normalizing every walked path cost ~2.5% of a one-core tree scan.)
#[derive(Debug, Default)]
pub struct FingerprintNamer {
    dir: PathBuf,
    dir_name: String,
}

impl FingerprintNamer {
    /// The fingerprint name of `path`; equal to `fingerprint_path(root, cwd, path)`.
    pub fn name(&mut self, root: &Path, cwd: &Path, path: &Path) -> String {
        let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
            return fingerprint_path(root, cwd, path);
        };
        if dir.as_os_str().is_empty() || file == ".." {
            return fingerprint_path(root, cwd, path);
        }
        if self.dir != dir {
            self.dir = dir.to_path_buf();
            self.dir_name = fingerprint_path(root, cwd, dir);
        }
        let file = file.to_string_lossy();
        let mut name = String::with_capacity(self.dir_name.len() + 1 + file.len());
        name.push_str(&self.dir_name);
        if !name.is_empty() && !name.ends_with('/') {
            name.push('/');
        }
        name.push_str(&file);
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namer_names_paths_as_fingerprint_path_does() {
        let root = Path::new("/repo");
        let mut namer = FingerprintNamer::default();
        for (cwd, path) in [
            ("/repo", "src/app.py"),
            ("/repo", "src/lib.rs"),
            ("/repo", "app.py"),
            ("/repo", "./top.py"),
            ("/repo/src", "../README.md"),
            ("/repo/src", "x/../y.py"),
            ("/repo", "/repo/src/deep/z.py"),
            ("/repo", "/elsewhere/app.py"),
            ("/repo", "/app.py"),
            ("/", "etc/app.py"),
            ("/repo", "/repo/src/.."),
        ] {
            let (cwd, path) = (Path::new(cwd), Path::new(path));
            assert_eq!(
                namer.name(root, cwd, path),
                fingerprint_path(root, cwd, path),
                "{path:?} from {cwd:?}"
            );
        }
    }

    #[test]
    fn fingerprint_paths_are_root_relative() {
        let root = Path::new("/repo");
        assert_eq!(fingerprint_path(root, root, Path::new("./src/../src/app.py")), "src/app.py");
        assert_eq!(fingerprint_path(root, root, Path::new("/elsewhere/app.py")), "/elsewhere/app.py");
    }
}
