//! Walking directory trees: every regular file under the roots, once, with `.gitignore`
//! rules applied as git applies them.
//!
//! Why not the `ignore` crate's walker (ripgrep's): on a tree of small files the walk is
//! most of the cost, and it pays per entry for what this walker avoids. Directories are
//! opened relative to their parent's descriptor and files relative to their directory's
//! (`openat`: one path component for the kernel to look up, not the whole path), file
//! types come from the directory listing (no `stat`), and a directory's ignore files are
//! read only when its listing names them. Measured on a 52,890-file tree, one core, warm
//! cache: walking and reading every file took 0.43 s this way against 0.59 s with the
//! `ignore` walker. The rules themselves are still `ignore`'s `Gitignore` matchers.
//!
//! Semantics, as before with the `ignore` walker: hidden files are walked (`.env` is where
//! secrets live); `.gitignore`, `.ignore` and `.git/info/exclude` in each directory and in
//! the roots' ancestors, and the global excludes file, are respected, and `.git` is
//! skipped, unless ignores are off; symbolic links inside a walk are not followed, so a
//! link loop cannot trap it; a root named on the command line is followed.

use std::{
    ffi::{CStr, CString, OsStr},
    fs::File,
    io,
    os::{fd::BorrowedFd, unix::ffi::OsStrExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use ignore::{
    gitignore::{Gitignore, GitignoreBuilder},
    Match,
};
use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, CWD};

/// How deep below a root a directory may be and still be opened relative to its parent;
/// below that, by its path (each level relative to its parent holds one descriptor open).
const MAX_HELD_DEPTH: usize = 128;

/// What a walk reports to its visitor.
pub trait Visitor {
    /// A regular file to scan.
    fn file(&mut self, file: FileEntry<'_>);
    /// A directory that could not be read, with why.
    fn error(&mut self, message: String);
}

/// A regular file met by the walk; [`FileEntry::open`] opens it.
pub struct FileEntry<'a> {
    /// Its path: a root as given, joined with the names below it.
    pub path: &'a Path,
    dir: BorrowedFd<'a>,
    name: &'a CStr,
}

impl FileEntry<'_> {
    /// Opens the file for reading, relative to its directory.
    pub fn open(&self) -> io::Result<File> {
        let fd =
            openat(self.dir, self.name, OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY, Mode::empty())?;
        Ok(File::from(fd))
    }
}

/// Walks `roots` on `threads` threads, each with a visitor from `new_visitor`, and returns
/// the visitors. With `respect_ignores` false every file is visited, `.git` included.
pub fn walk<V: Visitor + Send>(
    roots: &[PathBuf],
    threads: usize,
    respect_ignores: bool,
    new_visitor: impl Fn() -> V + Sync,
) -> Vec<V> {
    let walker = Walker::new(respect_ignores);
    let mut first = new_visitor();
    let mut tasks = Vec::new();
    for root in roots {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() => match path_cstring(root) {
                Some(name) => {
                    let absolute = crate::paths::normalize(root);
                    let ignores = walker.ancestor_ignores(&absolute);
                    tasks.push(DirTask {
                        parent: None,
                        name,
                        depth: 0,
                        display: root.clone(),
                        absolute,
                        ignores,
                    })
                }
                None => first.error(format!("{}: a path with a NUL byte", root.display())),
            },
            // A pipe or a device named on the command line (`<(cmd)`, `/dev/stdin`) is read
            // as asked, up to the size limit; met in a walk, they are passed over (a fifo
            // nobody writes to would block for ever).
            Ok(meta) if meta.is_file() || is_stream(&meta.file_type()) => {
                if let Some(name) = path_cstring(root) {
                    first.file(FileEntry { path: root, dir: CWD, name: &name });
                }
            }
            Ok(_) => first.error(format!("{}: not a file, a directory or a pipe", root.display())),
            Err(err) => first.error(format!("{}: {err}", root.display())),
        }
    }
    if threads <= 1 {
        let mut stack: Vec<DirTask> = tasks.into_iter().rev().collect();
        while let Some(task) = stack.pop() {
            let children = walker.visit_dir(task, &mut first);
            stack.extend(children.into_iter().rev());
        }
        return vec![first];
    }
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(threads).build() else {
        return walk(roots, 1, respect_ignores, new_visitor);
    };
    let mut visitors = vec![Mutex::new(first)];
    visitors.extend((1..threads).map(|_| Mutex::new(new_visitor())));
    pool.scope(|scope| {
        for task in tasks {
            scope.spawn(|scope| walker.run(scope, task, &visitors));
        }
    });
    visitors
        .into_iter()
        .map(|visitor| visitor.into_inner().unwrap_or_else(|poison| poison.into_inner()))
        .collect()
}

/// A pipe or a device: something to read from, but no regular file.
fn is_stream(file_type: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    file_type.is_fifo() || file_type.is_char_device() || file_type.is_block_device()
}

/// A directory still to be read.
struct DirTask {
    /// The directory it is in (`None`: opened by its path).
    parent: Option<Arc<Dir>>,
    /// Its name in `parent`, or its path.
    name: CString,
    /// How many directories below its root it is.
    depth: usize,
    /// Its path as reported.
    display: PathBuf,
    /// Its absolute, normalized path: what ignore rules match against.
    absolute: PathBuf,
    /// The ignore rules in force here, innermost first.
    ignores: Option<Arc<IgnoreLevel>>,
}

/// The rules of one directory's ignore files, and those of the directories above it.
struct IgnoreLevel {
    matcher: Gitignore,
    parent: Option<Arc<IgnoreLevel>>,
}

/// A listing entry: what the walk needs of it.
enum Kind {
    File,
    Dir,
    Other,
}

struct Walker {
    respect_ignores: bool,
    global: Gitignore,
}

impl Walker {
    fn new(respect_ignores: bool) -> Self {
        let global = if respect_ignores { Gitignore::global().0 } else { Gitignore::empty() };
        Walker { respect_ignores, global }
    }

    /// Visits one directory on a pool thread and queues its subdirectories.
    fn run<'s, V: Visitor + Send>(
        &'s self,
        scope: &rayon::Scope<'s>,
        task: DirTask,
        visitors: &'s [Mutex<V>],
    ) {
        let index = rayon::current_thread_index().unwrap_or(0).min(visitors.len() - 1);
        let children = {
            let mut visitor = visitors[index].lock().unwrap_or_else(|poison| poison.into_inner());
            self.visit_dir(task, &mut *visitor)
        };
        for child in children {
            scope.spawn(move |scope| self.run(scope, child, visitors));
        }
    }

    /// Reads one directory, hands its files to `visitor`, and returns its subdirectories.
    fn visit_dir(&self, task: DirTask, visitor: &mut impl Visitor) -> Vec<DirTask> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let opened = match &task.parent {
            Some(parent) => {
                parent.fd().and_then(|fd| openat(fd, &task.name, flags | OFlags::NOFOLLOW, Mode::empty()))
            }
            None => openat(CWD, &task.name, flags, Mode::empty()),
        };
        // `Dir::new` reads through the descriptor it is given; `Dir::read_from` would open
        // the directory a second time.
        let mut dir = match opened.and_then(Dir::new) {
            Ok(dir) => dir,
            Err(err) => {
                visitor.error(format!("{}: {}", task.display.display(), io::Error::from(err)));
                return Vec::new();
            }
        };
        let entries = match list(&mut dir) {
            Ok(entries) => entries,
            Err(err) => {
                visitor.error(format!("{}: {err}", task.display.display()));
                return Vec::new();
            }
        };
        let ignores = if self.respect_ignores { self.own_ignores(&task, &entries) } else { None };
        // Rules to apply here (with ignores off there are none, not even global ones).
        let filtering = ignores.is_some() || !self.global.is_empty();
        let dir = Arc::new(dir);
        let Ok(fd) = dir.fd() else { return Vec::new() };
        let mut subdirs = Vec::new();
        for (name, kind) in entries {
            let os_name = OsStr::from_bytes(name.to_bytes());
            if self.respect_ignores && os_name == ".git" {
                continue;
            }
            if matches!(kind, Kind::Other) {
                continue; // symbolic links, sockets, fifos, devices
            }
            let is_dir = matches!(kind, Kind::Dir);
            // Ignore rules match absolute paths; without rules only a directory needs its own.
            let absolute = (filtering || is_dir).then(|| task.absolute.join(os_name));
            if filtering
                && absolute.as_deref().is_some_and(|path| self.is_ignored(ignores.as_deref(), path, is_dir))
            {
                continue;
            }
            let display = task.display.join(os_name);
            if is_dir {
                let absolute = absolute.unwrap_or_else(|| task.absolute.join(os_name));
                // A pending subdirectory keeps its parent open; past `MAX_HELD_DEPTH` levels
                // it is opened by path instead, so a very deep tree cannot run the process
                // out of file descriptors.
                let depth = task.depth + 1;
                let (parent, name) = if depth <= MAX_HELD_DEPTH {
                    (Some(Arc::clone(&dir)), name)
                } else {
                    match path_cstring(&display) {
                        Some(path) => (None, path),
                        None => continue,
                    }
                };
                subdirs.push(DirTask { parent, name, depth, display, absolute, ignores: ignores.clone() });
            } else {
                visitor.file(FileEntry { path: &display, dir: fd, name: &name });
            }
        }
        subdirs
    }

    /// The ignore rules in force in `task`'s directory: its parent's, plus its own files
    /// when its listing names any.
    fn own_ignores(&self, task: &DirTask, entries: &[(CString, Kind)]) -> Option<Arc<IgnoreLevel>> {
        let named = |wanted: &str, kind: fn(&Kind) -> bool| {
            entries.iter().any(|(name, k)| name.to_bytes() == wanted.as_bytes() && kind(k))
        };
        let has_git = named(".git", |k| matches!(k, Kind::Dir));
        let has_gitignore = named(".gitignore", |k| matches!(k, Kind::File));
        let has_ignore = named(".ignore", |k| matches!(k, Kind::File));
        if !(has_git || has_gitignore || has_ignore) {
            return task.ignores.clone();
        }
        ignore_level(&task.absolute, has_git, has_gitignore, has_ignore, task.ignores.clone())
            .or_else(|| task.ignores.clone())
    }

    /// The ignore rules of the directories above a root (its `absolute`, normalized path),
    /// outermost first; the root's own are read when the walk lists it.
    fn ancestor_ignores(&self, absolute: &Path) -> Option<Arc<IgnoreLevel>> {
        if !self.respect_ignores {
            return None;
        }
        let mut ancestors: Vec<&Path> = absolute.ancestors().skip(1).collect();
        ancestors.reverse();
        let mut level = None;
        for dir in ancestors {
            let has_git = dir.join(".git").is_dir();
            let has_gitignore = dir.join(".gitignore").is_file();
            let has_ignore = dir.join(".ignore").is_file();
            if has_git || has_gitignore || has_ignore {
                level = ignore_level(dir, has_git, has_gitignore, has_ignore, level.clone()).or(level);
            }
        }
        level
    }

    /// Whether `path` is ignored: the innermost rule that matches decides, as in git.
    fn is_ignored(&self, mut level: Option<&IgnoreLevel>, path: &Path, is_dir: bool) -> bool {
        while let Some(current) = level {
            match current.matcher.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => level = current.parent.as_deref(),
            }
        }
        self.global.matched(path, is_dir).is_ignore()
    }
}

/// One directory's rules, read from its ignore files; lines later in the list override
/// earlier ones, so precedence runs `.git/info/exclude` < `.gitignore` < `.ignore`.
/// Unreadable files and bad lines are skipped, as git skips them.
fn ignore_level(
    dir: &Path,
    has_git: bool,
    has_gitignore: bool,
    has_ignore: bool,
    parent: Option<Arc<IgnoreLevel>>,
) -> Option<Arc<IgnoreLevel>> {
    let mut builder = GitignoreBuilder::new(dir);
    if has_git {
        builder.add(dir.join(".git/info/exclude"));
    }
    if has_gitignore {
        builder.add(dir.join(".gitignore"));
    }
    if has_ignore {
        builder.add(dir.join(".ignore"));
    }
    let matcher = builder.build().ok()?;
    if matcher.is_empty() {
        return None;
    }
    Some(Arc::new(IgnoreLevel { matcher, parent }))
}

/// The entries of an open directory, `.` and `..` left out. The listing gives most types;
/// where the file system does not, one `stat` (not following links) does.
fn list(dir: &mut Dir) -> io::Result<Vec<(CString, Kind)>> {
    let mut listed = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name();
        if !matches!(name.to_bytes(), b"." | b"..") {
            listed.push((name.to_owned(), entry.file_type()));
        }
    }
    let fd = dir.fd()?;
    Ok(listed
        .into_iter()
        .map(|(name, file_type)| {
            let file_type = match file_type {
                FileType::Unknown => statat(fd, &name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_or(FileType::Unknown, |stat| FileType::from_raw_mode(stat.st_mode)),
                known => known,
            };
            let kind = match file_type {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Dir,
                _ => Kind::Other,
            };
            (name, kind)
        })
        .collect())
}

fn path_cstring(path: &Path) -> Option<CString> {
    CString::new(path.as_os_str().as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{collections::BTreeSet, fs};

    struct Collect(BTreeSet<PathBuf>, Vec<String>);

    impl Visitor for Collect {
        fn file(&mut self, file: FileEntry<'_>) {
            assert!(file.open().is_ok(), "{}", file.path.display());
            self.0.insert(file.path.to_path_buf());
        }
        fn error(&mut self, message: String) {
            self.1.push(message);
        }
    }

    fn walked(root: &Path, threads: usize, respect_ignores: bool) -> BTreeSet<PathBuf> {
        let visitors =
            walk(&[root.to_path_buf()], threads, respect_ignores, || Collect(BTreeSet::new(), Vec::new()));
        visitors.into_iter().flat_map(|c| c.0).collect()
    }

    /// What the `ignore` crate's walker, configured as `scan` configured it, visits.
    fn reference(root: &Path) -> BTreeSet<PathBuf> {
        let mut builder = ignore::WalkBuilder::new(root);
        builder
            .hidden(false)
            .parents(true)
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false);
        builder.filter_entry(|entry| entry.file_name() != ".git");
        builder
            .build()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
            .map(|entry| entry.into_path())
            .collect()
    }

    #[test]
    fn the_walk_visits_what_gitignore_rules_leave() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let files = [
            ".env",
            "keep.txt",
            "build/out.js",
            "build/keep.me",
            "logs/a.log",
            "logs/important.log",
            "src/app.py",
            "src/cache/x.py",
            "src/deep/tmp/y.txt",
            "src/deep/z.txt",
            "src/local.cfg",
            "docs/.hidden/notes.md",
            "vendor/lib.rs",
            ".git/config",
            "sub/.gitignore",
            "sub/a.secret",
            "sub/b.txt",
            "excluded.bin",
        ];
        for file in files {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "x").unwrap();
        }
        fs::create_dir_all(root.join(".git/info")).unwrap();
        fs::write(root.join(".git/info/exclude"), "excluded.bin\n").unwrap();
        fs::write(root.join(".gitignore"), "/build/*\n!/build/keep.me\n*.log\n!important.log\ncache/\ntmp\n")
            .unwrap();
        fs::write(root.join("src/.gitignore"), "local.cfg\n").unwrap();
        fs::write(root.join(".ignore"), "vendor/\n").unwrap();
        fs::write(root.join("sub/.gitignore"), "*.secret\n").unwrap();
        std::os::unix::fs::symlink(&root, root.join("src/loop")).unwrap();
        fs::write(dir.path().join(".gitignore"), "keep.txt\n").unwrap(); // an ancestor's rules apply

        let expected = reference(&root);
        for kept in [
            ".env",
            "build/keep.me",
            "logs/important.log",
            "src/app.py",
            "src/deep/z.txt",
            "sub/b.txt",
            "docs/.hidden/notes.md",
        ] {
            assert!(expected.contains(&root.join(kept)), "{kept}");
        }
        for left in [
            "build/out.js",
            "logs/a.log",
            "src/cache/x.py",
            "src/deep/tmp/y.txt",
            "src/local.cfg",
            "vendor/lib.rs",
            "sub/a.secret",
            "excluded.bin",
            "keep.txt",
            ".git/config",
        ] {
            assert!(!expected.contains(&root.join(left)), "{left}");
        }
        for threads in [1, 2] {
            assert_eq!(walked(&root, threads, true), expected, "{threads} threads");
        }
        let everything = walked(&root, 1, false);
        assert!(
            everything.contains(&root.join(".git/config")) && everything.contains(&root.join("excluded.bin"))
        );
        assert!(!everything.iter().any(|path| path.starts_with(root.join("src/loop"))));
    }

    #[test]
    fn a_tree_deeper_than_the_held_descriptors_is_walked_whole() {
        // Deeper than the descriptors allowed below, shorter than PATH_MAX.
        const LEVELS: usize = 1_100;
        let dir = tempfile::tempdir().unwrap();
        let mut path = dir.path().to_path_buf();
        for level in 0..LEVELS {
            // Siblings beside the next level keep this level's directory open while they
            // wait (whichever way the listing orders them, most levels hold one).
            for sibling in ["a", "b", "c"] {
                fs::create_dir(path.join(sibling)).unwrap();
            }
            path.push("d");
            fs::create_dir(&path).unwrap();
            fs::write(path.join(format!("f{level}")), "x").unwrap();
        }
        // With fewer descriptors than levels, holding every level open would fail (EMFILE).
        // The limit is the process's, so it stays well above what the tests running beside
        // this one open, and is put back after.
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        struct Restore(Rlimit);
        impl Drop for Restore {
            fn drop(&mut self) {
                let _ = setrlimit(Resource::Nofile, self.0);
            }
        }
        let before = getrlimit(Resource::Nofile);
        let lowered =
            Rlimit { current: Some(before.current.map_or(512, |current| current.min(512))), ..before };
        let restore = Restore(before);
        setrlimit(Resource::Nofile, lowered).unwrap();
        let counts: Vec<usize> = [1, 2].map(|threads| walked(dir.path(), threads, true).len()).to_vec();
        drop(restore);
        assert_eq!(counts, [LEVELS, LEVELS]);
    }

    #[test]
    fn an_unreadable_directory_is_reported_and_the_rest_walked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("locked")).unwrap();
        fs::write(dir.path().join("locked/f"), "x").unwrap();
        fs::write(dir.path().join("open.txt"), "x").unwrap();
        fs::set_permissions(dir.path().join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        let visitors = walk(&[dir.path().to_path_buf()], 1, true, || Collect(BTreeSet::new(), Vec::new()));
        fs::set_permissions(dir.path().join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
        let Collect(files, errors) = visitors.into_iter().next().unwrap();
        assert!(files.contains(&dir.path().join("open.txt")));
        if !files.contains(&dir.path().join("locked/f")) {
            // Not as root, which reads anything.
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(errors[0].contains("locked"), "{errors:?}");
        }
    }
}
