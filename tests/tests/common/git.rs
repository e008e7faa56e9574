//! Real git repositories for the end-to-end tests, driven by the real `git` binary with an
//! environment of their own (no user or system configuration leaks in).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A repository in a temporary directory (or a bare one), plus the home directory git sees.
pub struct Repo {
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub home: PathBuf,
}

/// A `git` command with a private home, fixed identity and no system config.
pub fn git_command(cwd: &Path, home: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(cwd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("NO_COLOR", "1")
        // No background maintenance: a detached `git maintenance` would race the test's own
        // repacks.
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "maintenance.auto")
        .env("GIT_CONFIG_VALUE_0", "false")
        .env("GIT_CONFIG_KEY_1", "gc.auto")
        .env("GIT_CONFIG_VALUE_1", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .env_remove("SECRETGATE_CONFIG");
    command
}

impl Repo {
    /// `git init` in a new temporary directory, on branch `main`.
    pub fn init() -> Repo {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let dir = tmp.path().join("work");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let repo = Repo { dir, _tmp: Some(tmp), home };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// Another repository at `dir` (made by the caller, e.g. a clone), sharing this one's
    /// home; this one keeps the temporary directory alive.
    pub fn beside(&self, dir: PathBuf) -> Repo {
        Repo { dir, _tmp: None, home: self.home.clone() }
    }

    /// `git init --bare` next to this repository, added as remote `origin`.
    pub fn add_bare_remote(&self) -> PathBuf {
        let bare = self.dir.parent().unwrap().join("remote.git");
        let out = git_command(self.dir.parent().unwrap(), &self.home)
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&bare)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
        bare
    }

    /// Runs git and returns its output, whatever the status.
    pub fn git_output(&self, args: &[&str]) -> Output {
        git_command(&self.dir, &self.home).args(args).output().expect("git runs")
    }

    /// Runs git, asserting success; returns stdout, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Packs every object, as deltas of each other where git finds them, and drops the loose
    /// copies (what `git gc` does, without its background and reflog work).
    pub fn pack_with_deltas(&self) {
        use std::io::Write;
        let objects = self.git(&["rev-list", "--objects", "--all"]);
        let mut child = git_command(&self.dir, &self.home)
            .args(["pack-objects", "-q", "--window=250", "--depth=50", ".git/objects/pack/pack"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("git pack-objects runs");
        child.stdin.take().unwrap().write_all(format!("{objects}\n").as_bytes()).unwrap();
        assert!(child.wait_with_output().unwrap().status.success(), "git pack-objects failed");
        self.git(&["prune-packed"]);
    }

    /// How many objects the packs store as deltas.
    pub fn delta_count(&self) -> usize {
        let pack_dir = self.dir.join(".git/objects/pack");
        let mut deltas = 0;
        for entry in std::fs::read_dir(pack_dir).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "idx") {
                let out = self.git(&["verify-pack", "-v", entry.path().to_str().unwrap()]);
                // Delta entries carry two more fields: depth and base id.
                deltas += out.lines().filter(|l| l.split_whitespace().count() == 7).count();
            }
        }
        deltas
    }

    /// Writes a file (creating directories).
    pub fn write(&self, path: &str, content: &str) {
        let full = self.dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// A blob of `content` and a tree holding it at `path`, written to the object store
    /// without any commit (nor touching the index or the work tree); returns their ids.
    pub fn uncommitted_objects(&self, path: &str, content: &str) -> (String, String) {
        let scratch = self.dir.parent().unwrap().join("scratch");
        let file = scratch.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, content).unwrap();
        let index = self.dir.parent().unwrap().join("scratch.index");
        let git = |args: &[&str]| {
            let out = git_command(&scratch, &self.home)
                .env("GIT_DIR", self.dir.join(".git"))
                .env("GIT_WORK_TREE", &scratch)
                .env("GIT_INDEX_FILE", &index)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let blob = git(&["hash-object", "-w", path]);
        git(&["add", path]);
        let tree = git(&["write-tree"]);
        std::fs::remove_dir_all(&scratch).unwrap();
        std::fs::remove_file(&index).unwrap();
        (blob, tree)
    }

    /// Stages everything and commits without hooks; returns the commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Runs secretgate in this repository with git's environment.
    pub fn secretgate(&self, args: &[&str]) -> Output {
        self.secretgate_in(&self.dir, args)
    }

    /// Runs secretgate in `cwd` with this repository's git environment.
    pub fn secretgate_in(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut command = super::secretgate_command(args, cwd);
        command.env("HOME", &self.home).env("GIT_CONFIG_NOSYSTEM", "1");
        command.output().expect("secretgate runs")
    }
}

/// A fake Stripe live key, made at run time.
pub fn stripe_key() -> String {
    format!("sk_live_{}", super::random_alnum(24))
}

/// A fake PEM private key of `lines` body lines, made at run time.
pub fn pem_key(lines: usize) -> String {
    let mut key = String::from("-----BEGIN RSA PRIVATE KEY-----\n");
    for _ in 0..lines {
        key.push_str(&super::random_alnum(64));
        key.push('\n');
    }
    key.push_str("-----END RSA PRIVATE KEY-----\n");
    key
}

/// Parses a JSON report.
pub fn findings(stdout: &[u8]) -> Vec<serde_json::Value> {
    super::json(stdout).as_array().expect("a JSON array").clone()
}
