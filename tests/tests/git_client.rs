//! End-to-end tests of secretgate on git's client side: the installed pre-commit and pre-push
//! hooks and the history sweep, on real repositories built with the real `git` binary.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::git::{findings, pem_key, stripe_key, Repo};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn installed() -> Repo {
    let repo = Repo::init();
    repo.write("README.md", "# demo\n");
    repo.commit_all("init");
    let out = repo.secretgate(&["install"]);
    assert!(out.status.success(), "{}", stderr(&out));
    repo
}

#[test]
fn staged_secret_blocks_the_commit_and_a_clean_commit_passes() {
    let repo = installed();
    repo.write("src/app.py", "import os\nprint('hello')\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "clean"]);

    let key = stripe_key();
    repo.write("src/app.py", &format!("import os\nSTRIPE = \"{key}\"\nprint('hello')\n"));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-m", "add key"]);
    assert!(!out.status.success(), "the commit went through");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("src/app.py:2:"), "{text}");
    assert!(text.contains("stripe-live-secret-key"), "{text}");
    assert!(text.contains("secretgate:allow"), "no advice: {text}");
    assert!(!text.contains(&key), "the secret was printed in full");
    assert_eq!(repo.git(&["log", "--format=%s", "-1"]), "clean");

    // Marking it as a false positive lets the commit through.
    repo.write("src/app.py", &format!("import os\nSTRIPE = \"{key}\"  # secretgate:allow\nprint('hello')\n"));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "allowed"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn pre_commit_reports_only_added_lines_but_sees_whole_multiline_secrets() {
    let repo = Repo::init();
    let old_key = stripe_key();
    let pem = pem_key(12);
    repo.write("config.py", &format!("KEY = \"{old_key}\"\n"));
    repo.write("id_rsa", &pem);
    repo.commit_all("history has secrets already");

    // Editing another line of the file does not re-report the old secret.
    repo.write("config.py", &format!("KEY = \"{old_key}\"\nDEBUG = True\n"));
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Changing one line inside the PEM block: the key is new, and found whole.
    let mut lines: Vec<String> = pem.lines().map(String::from).collect();
    lines[5] = common::random_alnum(64);
    repo.write("id_rsa", &(lines.join("\n") + "\n"));
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["path"], "id_rsa");
    assert_eq!(found[0]["line"], 1);
}

/// A row added to a table far below its header (more lines than the context scanned around
/// an added line) is caught; the rows already committed are not reported again, and a
/// header renamed to name a secret reports the rows under it.
#[test]
fn pre_commit_reads_a_table_row_under_a_header_far_above() {
    let repo = Repo::init();
    let filler: String = (0..400).map(|n| format!("user{n},,viewer\n")).collect();
    let old_row = format!("bob,{}7q,admin\n", common::random_alnum(12));
    repo.write("users.csv", &format!("user,notes,role\n{filler}{old_row}"));
    repo.commit_all("a table without secrets");

    repo.write("users.csv", &format!("user,password,role\n{filler}{old_row}"));
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule_id"], "generic-secret-table-column");
    assert_eq!(found[0]["line"], 402);
    repo.commit_all("the column is named for what it holds");

    let new_row = format!("amy,{}4x,ops\n", common::random_alnum(12));
    repo.write("users.csv", &format!("user,password,role\n{filler}{old_row}{new_row}"));
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["line"], 403);
}

#[test]
fn pre_commit_handles_renames_paths_crlf_binary_symlinks_and_subdirectories() {
    let repo = Repo::init();
    let key = stripe_key();
    repo.write("old name.txt", &format!("key: {key}\n"));
    repo.commit_all("a secret already in history");

    // A pure rename adds nothing.
    repo.git(&["mv", "old name.txt", "new name.txt"]);
    let out = repo.secretgate(&["pre-commit"]);
    assert_eq!(out.status.code(), Some(0), "a rename re-reported old content: {}", stderr(&out));
    repo.commit_all("rename");

    // Deletions, binary files and symlinks: nothing to report.
    repo.git(&["rm", "-q", "new name.txt"]);
    std::fs::write(repo.dir.join("blob.bin"), [0u8, 1, 2, 3, 0, 255]).unwrap();
    std::os::unix::fs::symlink("README", repo.dir.join("link")).unwrap();
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    repo.commit_all("cleanup");

    // Paths with spaces and bytes that are not UTF-8, CRLF line ends, run from a subdirectory.
    let odd: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(b"dir with space/caf\xe9.env");
    std::fs::create_dir_all(repo.dir.join("dir with space")).unwrap();
    let key2 = stripe_key();
    std::fs::write(repo.dir.join(odd), format!("A=1\r\nSTRIPE_KEY={key2}\r\n")).unwrap();
    repo.git(&["add", "-A"]);
    let out = repo.secretgate_in(&repo.dir.join("dir with space"), &["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]["path"].as_str().unwrap().starts_with("dir with space/caf"), "{found:?}");
    assert_eq!(found[0]["line"], 2);
}

#[test]
fn a_file_moved_and_edited_adds_only_its_edits() {
    let repo = installed();
    repo.add_bare_remote();
    let config: String = (1..=40).map(|n| format!("setting_{n} = {n}\n")).collect();
    let key = stripe_key();
    repo.write("app.cfg", &format!("{config}stripe_key = {key}\n"));
    let original = {
        let out = repo.git_output(&["add", "-A"]);
        assert!(out.status.success());
        let out = repo.git_output(&["commit", "-q", "--no-verify", "-m", "config with a secret"]);
        assert!(out.status.success(), "{}", stderr(&out));
        repo.git(&["rev-parse", "HEAD"])
    };
    assert!(repo.git_output(&["push", "-q", "--no-verify", "origin", "main"]).status.success());

    // `git mv` and an edit in the same commit: the secret line is old.
    repo.git(&["mv", "app.cfg", "service.cfg"]);
    let moved = std::fs::read_to_string(repo.dir.join("service.cfg"))
        .unwrap()
        .replace("setting_1 = 1", "setting_1 = 100");
    repo.write("service.cfg", &moved);
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "rename and tune"]);
    assert!(out.status.success(), "the edited move was blocked: {}", stderr(&out));
    let out = repo.git_output(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "the edited move was blocked at push: {}", stderr(&out));

    // The sweep reports the secret once, where it was written.
    let out = repo.secretgate(&["git", "--format", "json"]);
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["commit"], original.as_str());
    assert_eq!(found[0]["path"], "app.cfg");

    // A new secret written while moving is still new.
    repo.git(&["mv", "service.cfg", "final.cfg"]);
    repo.write("final.cfg", &format!("{moved}backup_key = {}\n", stripe_key()));
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["line"], 42);
}

#[test]
fn utf16_files_are_scanned_by_the_hooks_and_the_sweep() {
    let repo = installed();
    let utf16 = |text: &str| -> Vec<u8> {
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
    };
    let lines: String = (1..=30).map(|n| format!("Write-Host 'step {n}'\r\n")).collect();
    std::fs::write(repo.dir.join("deploy.ps1"), utf16(&lines)).unwrap();
    repo.commit_all("script");
    std::fs::write(repo.dir.join("deploy.ps1"), utf16(&format!("{lines}$key = '{}'\r\n", stripe_key())))
        .unwrap();
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&out.stdout)[0]["line"], 31);
    let out = repo.git_output(&["commit", "-q", "--no-verify", "-m", "key"]);
    assert!(out.status.success());
    repo.pack_with_deltas();
    let out = repo.secretgate(&["git", "--format", "json"]);
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["line"], 31);
}

#[test]
fn pre_commit_works_with_a_sparse_index() {
    let repo = installed();
    repo.write("d1/a.txt", "one\n");
    repo.write("d2/old.env", &format!("K={}\n", stripe_key()));
    let out = repo.git_output(&["add", "-A"]);
    assert!(out.status.success());
    assert!(repo.git_output(&["commit", "-q", "--no-verify", "-m", "two dirs"]).status.success());
    repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"]);
    repo.git(&["sparse-checkout", "set", "d1"]);
    assert!(repo.git(&["ls-files", "--sparse"]).contains("d2/"), "the index is not sparse");

    repo.write("d1/clean.txt", "clean\n");
    repo.git(&["add", "d1/clean.txt"]);
    let out = repo.git_output(&["commit", "-q", "-m", "clean"]);
    assert!(out.status.success(), "a clean commit failed: {}", stderr(&out));

    repo.write("d1/new.env", &format!("K={}\n", stripe_key()));
    repo.git(&["add", "d1/new.env"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "the secret outside the cone was reported: {found:?}");
    assert_eq!(found[0]["path"], "d1/new.env");
}

/// `git commit <path>` commits that path only, through a temporary index that git names in
/// `GIT_INDEX_FILE`: a secret staged in another file is not part of this commit.
#[test]
fn partial_commit_scans_what_is_committed() {
    let repo = installed();
    repo.write("a.txt", "one\n");
    repo.write("b.txt", "two\n");
    repo.commit_all("files");
    repo.write("a.txt", &format!("token {}\n", stripe_key()));
    repo.git(&["add", "a.txt"]);
    repo.write("b.txt", "two, edited\n");
    let out = repo.git_output(&["commit", "-q", "-m", "only b", "b.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = repo.git_output(&["commit", "-q", "-m", "now a"]);
    assert!(!out.status.success(), "the staged secret was committed");
}

#[test]
fn pre_push_blocks_new_secrets_and_lets_old_history_through() {
    let repo = installed();
    let bare = repo.add_bare_remote();
    let old = stripe_key();
    repo.write("legacy.env", &format!("STRIPE={old}\n"));
    repo.commit_all("old secret, pushed long ago");
    let out = repo.git_output(&["push", "-q", "--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Untouched old secret: a clean commit pushes.
    repo.write("notes.md", "hello\n");
    repo.commit_all("clean");
    let out = repo.git_output(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "blocked by history: {}", stderr(&out));

    // A new branch whose commits the remote has: nothing new.
    repo.git(&["branch", "feature"]);
    let out = repo.git_output(&["push", "-q", "origin", "feature"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A secret committed past the pre-commit hook is stopped at push time.
    let new = stripe_key();
    repo.write("deploy.sh", &format!("#!/bin/sh\nexport STRIPE_KEY={new}\n"));
    let secret_commit = repo.commit_all("deploy script");
    repo.write("notes.md", "hello again\n");
    repo.commit_all("later");
    let remote_before = repo.git(&["ls-remote", bare.to_str().unwrap(), "refs/heads/main"]);
    let out = repo.git_output(&["push", "origin", "main"]);
    assert!(!out.status.success(), "the push went through");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("deploy.sh:2:"), "{text}");
    assert!(text.contains(&secret_commit), "commit not named: {text}");
    assert_eq!(repo.git(&["ls-remote", bare.to_str().unwrap(), "refs/heads/main"]), remote_before);

    // The same commits on a new branch are caught too; deleting a branch scans nothing.
    let out = repo.git_output(&["push", "origin", "main:refs/heads/other"]);
    assert!(!out.status.success());
    let out = repo.git_output(&["push", "-q", "origin", ":feature"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Removed again and history rewritten: the force push scans only the new commits.
    repo.git(&["reset", "-q", "--hard", "HEAD~2"]);
    repo.write("notes.md", "rewritten\n");
    repo.commit_all("rewritten");
    let out = repo.git_output(&["push", "-q", "--force", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A tag may point at a blob or a tree that no commit holds (`git tag key $(git
/// hash-object -w key.asc)`): pushing it sends that content, and the sweep reads it too.
#[test]
fn refs_to_blobs_and_trees_are_scanned_by_pre_push_and_the_sweep() {
    let repo = installed();
    repo.add_bare_remote();
    repo.write("README.md", "# demo\n");
    let clean = repo.commit_all("clean");
    assert!(repo.git_output(&["push", "-q", "origin", "main"]).status.success());

    let (blob, _) = repo.uncommitted_objects("key.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    let (_, tree) =
        repo.uncommitted_objects("deploy/prod.env", &format!("A=1\nSTRIPE_KEY={}\n", stripe_key()));
    repo.git(&["tag", "keyblob", &blob]);
    repo.git(&["tag", "-a", "-m", "snapshot", "snapshot", &tree]);
    let out = repo.git_output(&["push", "origin", "keyblob"]);
    assert!(!out.status.success(), "a blob tag carried a secret out");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("refs/tags/keyblob:1:"), "{text}");
    let out = repo.git_output(&["push", "origin", "snapshot"]);
    assert!(!out.status.success(), "a tree tag carried a secret out");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("refs/tags/snapshot:deploy/prod.env:2:"), "{text}");
    repo.git(&["tag", "cleantree", &format!("{clean}^{{tree}}")]);
    assert!(repo.git_output(&["push", "-q", "origin", "cleantree"]).status.success());
    // A tag of a commit's tree holds what that commit introduced: found once, there.
    repo.write("app.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    let committed = repo.commit_all("secret committed");
    repo.git(&["tag", "committedtree", &format!("{committed}^{{tree}}")]);

    let out = repo.secretgate(&["git", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut found: Vec<(String, u64, bool)> = findings(&out.stdout)
        .iter()
        .map(|f| {
            (f["path"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap(), f["commit"].is_null())
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("app.env".to_string(), 1, false),
            ("refs/tags/keyblob".to_string(), 1, true),
            ("refs/tags/snapshot:deploy/prod.env".to_string(), 2, true)
        ]
    );
}

/// `secretgate git main` and `secretgate git A..B` inside a repository name revisions, as in
/// `git log`; `../x.git` names a repository; a symmetric range is refused in one line.
#[test]
fn sweep_arguments_name_revisions_and_relative_repositories() {
    let repo = Repo::init();
    repo.write("a.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    repo.commit_all("secret");
    repo.write("b.txt", "clean\n");
    repo.commit_all("clean");
    let sweep = |cwd: &std::path::Path, args: &[&str]| {
        let mut all = vec!["git", "--format", "json"];
        all.extend(args);
        repo.secretgate_in(cwd, &all)
    };
    let count = |out: &std::process::Output| findings(&out.stdout).len();
    let out = sweep(&repo.dir, &["main"]);
    assert_eq!((out.status.code(), count(&out)), (Some(1), 1), "{}", stderr(&out));
    let out = sweep(&repo.dir, &["HEAD~1..HEAD"]);
    assert_eq!((out.status.code(), count(&out)), (Some(0), 0), "{}", stderr(&out));
    let out = sweep(&repo.dir, &["HEAD~1...HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("symmetric range"), "{}", stderr(&out));
    let out = sweep(&repo.dir, &["no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    // A range with an end that does not resolve is named as such, not taken for a directory.
    let out = sweep(&repo.dir, &["HEAD~9..HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HEAD~9") && !stderr(&out).contains("directory"), "{}", stderr(&out));

    let bare = bare_clone(&repo);
    let beside = bare.parent().unwrap().join("beside");
    std::fs::create_dir_all(&beside).unwrap();
    let relative = format!("../{}", bare.file_name().unwrap().to_str().unwrap());
    let out = sweep(&beside, &[&relative]);
    assert_eq!((out.status.code(), count(&out)), (Some(1), 1), "{}", stderr(&out));
}

#[test]
fn pre_push_to_another_remote_scans_what_that_remote_lacks() {
    let repo = installed();
    repo.add_bare_remote();
    repo.write("legacy.env", &format!("STRIPE={}\n", stripe_key()));
    repo.commit_all("a secret the private origin already has");
    let out = repo.git_output(&["push", "-q", "--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    repo.write("notes.md", "hello\n");
    repo.commit_all("clean");
    assert!(repo.git_output(&["push", "-q", "origin", "main"]).status.success());

    // A new, empty remote has none of it: origin's tracking refs say nothing about it.
    let public = repo.dir.parent().unwrap().join("public.git");
    repo.git(&["init", "-q", "--bare", "-b", "main", public.to_str().unwrap()]);
    repo.git(&["remote", "add", "public", public.to_str().unwrap()]);
    let out = repo.git_output(&["push", "public", "main"]);
    assert!(!out.status.success(), "the secret reached a remote that lacked it");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("legacy.env:1:"), "{text}");

    // Once the remote has the history (pushed past the hook), a clean branch pushes.
    assert!(repo.git_output(&["push", "-q", "--no-verify", "public", "main"]).status.success());
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("topic.md", "topic\n");
    repo.commit_all("topic");
    let out = repo.git_output(&["push", "-q", "public", "topic"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A merge whose conflict resolution introduces a secret found in neither parent.
fn conflicted_merge(resolution_secret: Option<&str>) -> (Repo, String) {
    let repo = installed();
    repo.write("settings.ini", "[app]\nname = demo\nmode = base\n");
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("settings.ini", "[app]\nname = demo\nmode = topic\n");
    repo.commit_all("topic side");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("settings.ini", "[app]\nname = demo\nmode = main\n");
    repo.commit_all("main side");
    let out = repo.git_output(&["merge", "-q", "topic"]);
    assert!(!out.status.success(), "expected a conflict");
    let extra = resolution_secret.map(|s| format!("api_key = {s}\n")).unwrap_or_default();
    repo.write("settings.ini", &format!("[app]\nname = demo\nmode = main\nmode_b = topic\n{extra}"));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "--no-edit"]);
    let merge = repo.git(&["rev-parse", "HEAD"]);
    (repo, merge)
}

#[test]
fn secret_in_a_merge_resolution_is_caught_by_pre_push_and_the_sweep() {
    let key = stripe_key();
    let (repo, merge) = conflicted_merge(Some(&key));
    repo.add_bare_remote();
    let out = repo.git_output(&["push", "origin", "main"]);
    assert!(!out.status.success(), "merge resolution secret pushed");
    assert!(stderr(&out).contains("1 secret"), "{}", stderr(&out));

    let out = repo.secretgate(&["git", "--format", "json", "--show-secrets"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["commit"], merge.as_str());
    assert_eq!(found[0]["secret"], key.as_str());
    assert_eq!(found[0]["line"], 5);
}

#[test]
fn a_merge_of_scanned_lines_reports_nothing() {
    let (repo, _) = conflicted_merge(None);
    repo.add_bare_remote();
    let out = repo.git_output(&["push", "-q", "origin", "main", "topic"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn pre_commit_concluding_a_merge_reports_only_the_resolution_s_own_lines() {
    let repo = installed();
    repo.write("settings.ini", "[app]\nmode = base\n");
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "upstream"]);
    let theirs = stripe_key();
    repo.write("settings.ini", "[app]\nmode = upstream\n");
    repo.write("legacy.env", &format!("STRIPE_KEY={theirs}\n"));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "upstream, secret and all"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("settings.ini", "[app]\nmode = main\n");
    repo.commit_all("main side");
    assert!(!repo.git_output(&["merge", "-q", "upstream"]).status.success(), "expected a conflict");

    // The resolution adds a secret of its own: blocked, and only that one is named.
    let ours = stripe_key();
    repo.write("settings.ini", &format!("[app]\nmode = both\nkey = {ours}\n"));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "--no-edit"]);
    assert!(!out.status.success(), "the resolution's secret was committed");
    let err = stderr(&out);
    assert!(err.contains("settings.ini:3") && !err.contains("legacy.env"), "{err}");

    // Resolved without one: what the merged branch brings (its secret included) is not new.
    repo.write("settings.ini", "[app]\nmode = both\n");
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "--no-edit"]);
    assert!(out.status.success(), "a merge that only takes upstream's lines was blocked: {}", stderr(&out));
}

#[test]
fn sweep_finds_a_removed_secret_and_names_the_commit_that_added_it() {
    let repo = Repo::init();
    repo.write("app.py", "print('v1')\n");
    repo.commit_all("v1");
    let key = stripe_key();
    repo.write("app.py", &format!("print('v2')\nSTRIPE = '{key}'\n"));
    let added = repo.commit_all("add the key");
    repo.write("app.py", &format!("print('v3')\nSTRIPE = '{key}'\n# more\n"));
    repo.commit_all("edit elsewhere");
    repo.write("app.py", "import os\nSTRIPE = os.environ['STRIPE']\n");
    repo.commit_all("remove the key");

    let out = repo.secretgate(&["git", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "one credential at one path is one finding: {found:?}");
    let f = &found[0];
    assert_eq!(f["commit"], added.as_str());
    assert_eq!((f["path"].as_str(), f["line"].as_u64()), (Some("app.py"), Some(2)));
    assert_eq!(f["author"], "Ada Tester");
    assert_eq!(f["email"], "ada@example.com");
    assert!(f["date"].as_str().unwrap().starts_with("20"), "{f}");
    assert!(stderr(&out).contains("4 commits"), "{}", stderr(&out));

    // A range that starts after the secret was added sees nothing; `--branch` the same history.
    let out = repo.secretgate(&["git", ".", &format!("{added}..main")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = repo.secretgate(&["git", "--branch", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = repo.secretgate(&["git", "--since", "2999-01-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = repo.secretgate(&["git", ".", "no-such-rev"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The sweep reports exactly what a scan of every blob finds: each (rule, secret) of every
/// blob, nothing more, and each fingerprint once; also after `git gc` packs the blobs as
/// deltas of each other, in a bare clone, and reading deltas only where they differ from
/// their base (with a base64-encoded secret that must be decoded in both, and a table whose
/// header decides rows far below it).
#[test]
fn sweep_agrees_with_a_scan_of_every_blob() {
    let repo = Repo::init();
    let keys: Vec<String> = (0..4).map(|_| stripe_key()).collect();
    // Long enough that a delta's copies hold matches far from any change (inherited from
    // the base, not searched again): the encoded one among them.
    let filler = |from: usize| -> String {
        (from..from + 300)
            .map(|i| format!("line {i}: some ordinary text that repeats across versions\n"))
            .collect()
    };
    let encoded = common::base64_with(format!("stripe: {}", stripe_key()).as_bytes(), common::B64, true);
    // A PEM block (longer than the context searched around a change) whose body changes
    // in a later version while its header is copied: found from its keyword's place.
    let pem = pem_key(40);
    let mut body = format!("{}blob = \"{encoded}\"\n{pem}{}", filler(0), filler(300));
    let mut minified: Vec<String> = (0..60)
        .map(|j| {
            if j % 3 == 0 {
                format!("var k{j}=\"{}\";", stripe_key())
            } else {
                format!("function f{j}(x){{return x*{j}}}")
            }
        })
        .collect();
    // A table whose header, far above its rows, decides them: a row copied unchanged
    // into a version whose header now names a secret, and a row appended far below a
    // header copied unchanged.
    let mut table_rows: String = (0..200).map(|n| format!("user{n},,viewer\n")).collect();
    let first_row = format!("bob,{}7q,admin\n", common::random_alnum(12));
    table_rows.push_str(&first_row);
    for (i, key) in keys.iter().enumerate() {
        if i == 2 {
            table_rows.push_str(&format!("amy,{}4x,ops\n", common::random_alnum(12)));
        }
        let header = if i == 0 { "user,notes,role" } else { "user,password,role" };
        repo.write("users.csv", &format!("{header}\n{table_rows}"));
        if i == 2 {
            let lines: Vec<&str> = pem.lines().collect();
            let changed = format!(
                "{}\n{}\n{}\n",
                lines[..30].join("\n"),
                common::random_alnum(64),
                lines[31..].join("\n")
            );
            body = body.replace(&pem, &changed);
        }
        body.push_str(&format!("KEY_{i} = \"{key}\"\n"));
        repo.write("big.txt", &body);
        repo.write(&format!("dir{i}/copy.env"), &format!("STRIPE={key}\n"));
        // One long line (minified code): a change anywhere on it changes every match's line.
        minified[i * 7] = format!("var changed{i}=\"{}\";", stripe_key());
        repo.write("app.min.js", &minified.concat());
        repo.commit_all(&format!("step {i}"));
        if i == 1 {
            repo.git(&["checkout", "-q", "-b", "side"]);
            repo.write("side.txt", &format!("PEM:\n{}", pem_key(8)));
            repo.commit_all("side");
            repo.git(&["checkout", "-q", "main"]);
        }
    }
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    repo.pack_with_deltas();
    assert!(repo.delta_count() >= 3, "the test needs delta-stored blobs");

    let expected = every_blob_scanned(&repo);
    assert!(expected.len() >= 5, "{expected:?}");
    let table_values = expected.iter().filter(|(rule, _)| rule == "generic-secret-table-column").count();
    assert_eq!(table_values, 2, "{expected:?}");
    let bare = bare_clone(&repo);
    let whole: &[&str] = &["--whole-blobs"];
    // Every mode also attributes each finding to the same commit and line.
    let mut first: Option<BTreeSet<String>> = None;
    for (dir, mode) in [(&repo.dir, &[][..]), (&bare, &[][..]), (&bare, whole), (&repo.dir, whole)] {
        let mut args = vec!["git", "--format", "json", "--show-secrets"];
        args.extend(mode);
        let out = repo.secretgate_in(dir, &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let found = findings(&out.stdout);
        let got: BTreeSet<(String, String)> = found
            .iter()
            .map(|f| (f["rule_id"].as_str().unwrap().to_string(), f["secret"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(got, expected);
        let prints: BTreeSet<&str> = found.iter().map(|f| f["fingerprint"].as_str().unwrap()).collect();
        assert_eq!(prints.len(), found.len(), "a fingerprint reported twice");
        let placed: BTreeSet<String> = found
            .iter()
            .map(|f| format!("{} {} {} {}", f["fingerprint"], f["commit"], f["line"], f["column"]))
            .collect();
        assert_eq!(first.get_or_insert_with(|| placed.clone()), &placed, "{mode:?}");
    }
}

fn bare_clone(repo: &Repo) -> std::path::PathBuf {
    let bare = repo.dir.parent().unwrap().join("clone.git");
    let out = common::git::git_command(repo.dir.parent().unwrap(), &repo.home)
        .args(["clone", "-q", "--bare", "--no-local"])
        .arg(&repo.dir)
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    bare
}

/// `git cat-file --batch-all-objects`, each blob through `secretgate scan -`.
fn every_blob_scanned(repo: &Repo) -> BTreeSet<(String, String)> {
    let listing = repo.git(&["cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"]);
    let mut all = BTreeSet::new();
    let mut per_blob: BTreeMap<String, usize> = BTreeMap::new();
    for line in listing.lines() {
        let (id, kind) = line.split_once(' ').unwrap();
        if kind != "blob" {
            continue;
        }
        let content = repo.git_output(&["cat-file", "blob", id]).stdout;
        let out = common::secretgate_stdin(&["scan", "-", "--format", "json", "--show-secrets"], &content);
        for f in findings(&out.stdout) {
            all.insert((
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            ));
            *per_blob.entry(id.to_string()).or_default() += 1;
        }
    }
    all
}

#[test]
fn sweep_reads_shallow_clones() {
    let repo = Repo::init();
    let key = stripe_key();
    for i in 0..3 {
        repo.write("f.txt", &format!("v{i}\n"));
        repo.commit_all(&format!("c{i}"));
    }
    repo.write("f.txt", &format!("v3\nKEY={key}\n"));
    repo.commit_all("key");
    let shallow = repo.dir.parent().unwrap().join("shallow");
    let url = format!("file://{}", repo.dir.display());
    let out = common::git::git_command(repo.dir.parent().unwrap(), &repo.home)
        .args(["clone", "-q", "--depth", "2", &url])
        .arg(&shallow)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = repo.secretgate_in(&shallow, &["git", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&out.stdout).len(), 1);
    assert!(stderr(&out).contains("shallow clone"), "{}", stderr(&out));
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn install_respects_foreign_hooks_and_hooks_path_and_uninstall_restores_them() {
    let repo = Repo::init();
    let hooks = repo.dir.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\necho mine\n").unwrap();
    let out = repo.secretgate(&["install"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert!(!hooks.join("pre-push").exists(), "installed half the hooks");

    let out = repo.secretgate(&["install", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(hooks.join("pre-commit")).unwrap().contains("secretgate"));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.secretgate-backup")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    // Installing again is harmless.
    assert!(repo.secretgate(&["install"]).status.success());

    // The hook put aside still runs, after secretgate and only when it passes, with
    // pre-push's standard input handed to both.
    std::fs::write(hooks.join("pre-commit.secretgate-backup"), "#!/bin/sh\necho mine > ran-pre-commit\n")
        .unwrap();
    std::fs::write(hooks.join("pre-push.secretgate-backup"), "#!/bin/sh\ncat > pushed-refs\n").unwrap();
    for hook in ["pre-commit", "pre-push"] {
        make_executable(&hooks.join(format!("{hook}.secretgate-backup")));
    }
    repo.write("clean.txt", "fine\n");
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(repo.dir.join("ran-pre-commit").is_file(), "the previous pre-commit hook did not run");
    std::fs::remove_file(repo.dir.join("ran-pre-commit")).unwrap();
    repo.write("leak.env", &format!("K={}\n", stripe_key()));
    repo.git(&["add", "leak.env"]);
    assert!(!repo.git_output(&["commit", "-q", "-m", "leak"]).status.success());
    assert!(!repo.dir.join("ran-pre-commit").exists(), "the previous hook ran though secretgate refused");
    repo.git(&["reset", "-q", "leak.env"]);
    std::fs::remove_file(repo.dir.join("leak.env")).unwrap();
    repo.add_bare_remote();
    let out = repo.git_output(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pushed = std::fs::read_to_string(repo.dir.join("pushed-refs")).unwrap();
    assert!(pushed.starts_with("refs/heads/main "), "{pushed:?}");
    std::fs::write(hooks.join("pre-commit.secretgate-backup"), "#!/bin/sh\necho mine\n").unwrap();
    std::fs::remove_file(hooks.join("pre-push.secretgate-backup")).unwrap();

    // A hook whose binary is gone says what is wrong, and blocks.
    let moved = repo.home.join("gone");
    let script = std::fs::read_to_string(hooks.join("pre-commit")).unwrap();
    let bin = common::secretgate_bin();
    std::fs::write(hooks.join("pre-commit"), script.replace(bin.to_str().unwrap(), moved.to_str().unwrap()))
        .unwrap();
    let out = common::git::git_command(&repo.dir, &repo.home)
        .env("PATH", "/usr/bin:/bin")
        .args(["commit", "-q", "--allow-empty", "-m", "no binary"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("secretgate is neither at"), "{}", stderr(&out));
    assert!(repo.secretgate(&["install"]).status.success());

    let out = repo.secretgate(&["uninstall"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit")).unwrap(), "#!/bin/sh\necho mine\n");
    assert!(!hooks.join("pre-push").exists());

    // core.hooksPath, relative to the work tree root.
    repo.git(&["config", "core.hooksPath", "githooks"]);
    assert!(repo.secretgate(&["install"]).status.success());
    assert!(repo.dir.join("githooks/pre-commit").is_file());
    repo.write("x.env", &format!("K={}\n", stripe_key()));
    repo.git(&["add", "-A"]);
    assert!(!repo.git_output(&["commit", "-q", "-m", "x"]).status.success());
}

#[test]
fn sweep_fails_rather_than_reports_clean_when_objects_are_missing() {
    let repo = Repo::init();
    repo.write("a.txt", "plain text\n");
    repo.write("b.env", &format!("K={}\n", stripe_key()));
    repo.commit_all("two files");
    // A partial clone lacks blobs: delete one loose blob the way such a clone lacks it.
    let blob = repo.git(&["rev-parse", "HEAD:a.txt"]);
    std::fs::remove_file(repo.dir.join(format!(".git/objects/{}/{}", &blob[..2], &blob[2..]))).unwrap();
    let out = repo.secretgate(&["git", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "the readable secret still counts: {}", stderr(&out));
    assert!(stderr(&out).contains("1 blob of this history is missing"), "{}", stderr(&out));

    let secret_blob = repo.git(&["rev-parse", "HEAD:b.env"]);
    std::fs::remove_file(repo.dir.join(format!(".git/objects/{}/{}", &secret_blob[..2], &secret_blob[2..])))
        .unwrap();
    let out = repo.secretgate(&["git", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing readable was found, but not all was read: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("2 blobs of this history are missing"), "{}", stderr(&out));

    // A reference to a commit the repository does not have.
    std::fs::write(repo.dir.join(".git/refs/heads/ghost"), format!("{}\n", "1".repeat(40))).unwrap();
    let out = repo.secretgate(&["git"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refs/heads/ghost"), "{}", stderr(&out));
}

#[test]
fn install_from_a_linked_worktree_protects_every_worktree() {
    let repo = Repo::init();
    repo.write("README", "hello\n");
    repo.commit_all("init");
    let worktree = repo.dir.join("../linked-worktree");
    repo.git(&["worktree", "add", "-q", worktree.to_str().unwrap(), "-b", "side"]);
    let out = repo.secretgate_in(&worktree, &["install"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // git runs hooks from the common directory's `hooks`, never from a worktree's own.
    assert!(repo.dir.join(".git/hooks/pre-commit").is_file(), "{}", stderr(&out));
    std::fs::write(worktree.join("x.env"), format!("K={}\n", stripe_key())).unwrap();
    let commit = |dir: &std::path::Path| {
        let mut add = common::git::git_command(dir, &repo.home);
        assert!(add.args(["add", "-A"]).status().unwrap().success());
        common::git::git_command(dir, &repo.home).args(["commit", "-q", "-m", "x"]).output().unwrap()
    };
    assert!(!commit(&worktree).status.success(), "a linked worktree's commit went through");
    repo.write("y.env", &format!("K={}\n", stripe_key()));
    assert!(!commit(&repo.dir).status.success(), "the main worktree's commit went through");
}

#[test]
fn install_treats_a_dangling_hook_symlink_as_a_foreign_hook() {
    let repo = Repo::init();
    let hooks = repo.dir.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::os::unix::fs::symlink("/nonexistent/hook", hooks.join("pre-push")).unwrap();
    let out = repo.secretgate(&["install"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert!(!hooks.join("pre-commit").exists(), "installed half the hooks");

    let out = repo.secretgate(&["install", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(hooks.join("pre-push")).unwrap().contains("secretgate"));
    let backup = hooks.join("pre-push.secretgate-backup");
    assert_eq!(std::fs::read_link(&backup).unwrap(), std::path::Path::new("/nonexistent/hook"));
    assert!(repo.secretgate(&["uninstall"]).status.success());
    assert_eq!(
        std::fs::read_link(hooks.join("pre-push")).unwrap(),
        std::path::Path::new("/nonexistent/hook")
    );
}

#[test]
fn repository_config_is_read_by_the_hooks_and_the_sweep() {
    let repo = installed();
    repo.write(".secretgate.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    repo.write("fixtures/fake.env", &format!("STRIPE={}\n", stripe_key()));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "fixtures"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = repo.secretgate(&["git"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // In a bare clone the committed config applies.
    let bare = bare_clone(&repo);
    let out = repo.secretgate_in(&bare, &["git"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The pre-commit framework (the real `pre-commit` package) runs secretgate from this
/// repository's `.pre-commit-hooks.yaml` and refuses a commit that stages a secret.
#[test]
fn pre_commit_framework_runs_the_hook() {
    let pre_commit = std::env::var("SECRETGATE_PRE_COMMIT").unwrap_or_else(|_| "pre-commit".into());
    let version = std::process::Command::new(&pre_commit).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "the pre-commit package is needed (scripts/test.sh installs it): {version:?}"
    );
    // A hook repository pre-commit can clone: this project's hook manifest, committed.
    let hooks = Repo::init();
    let manifest = std::fs::read_to_string(common::workspace_root().join(".pre-commit-hooks.yaml")).unwrap();
    hooks.write(".pre-commit-hooks.yaml", &manifest);
    let rev = hooks.commit_all("hooks");

    let repo = Repo::init();
    repo.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: secretgate-system\n",
            hooks.dir.display()
        ),
    );
    repo.commit_all("config");
    let bin_dir = common::secretgate_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let cache = repo.home.join("pre-commit-cache");
    let run = |args: &[&str]| {
        common::git::git_command(&repo.dir, &repo.home)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    let out = std::process::Command::new(&pre_commit)
        .current_dir(&repo.dir)
        .env("HOME", &repo.home)
        .env("PRE_COMMIT_HOME", &cache)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["install"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    repo.write("clean.txt", "nothing to see\n");
    repo.git(&["add", "-A"]);
    let out = run(&["commit", "-q", "-m", "clean"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));

    repo.write("creds.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    repo.git(&["add", "-A"]);
    let out = run(&["commit", "-q", "-m", "secret"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!out.status.success(), "the framework let the secret through: {text}");
    assert!(text.contains("creds.env:1:"), "{text}");
    assert_eq!(repo.git(&["log", "--format=%s", "-1"]), "clean");
}

/// A repository with SHA-256 object names (`git init --object-format=sha256`) works as a
/// SHA-1 one does: pre-commit blocks, the sweep finds and names the commit.
#[test]
fn sha256_repositories_are_scanned() {
    let repo = Repo::init();
    std::fs::remove_dir_all(repo.dir.join(".git")).unwrap();
    repo.git(&["init", "-q", "-b", "main", "--object-format=sha256"]);
    assert!(repo.secretgate(&["install"]).status.success());
    repo.write("README.md", "# demo\n");
    repo.commit_all("init");
    let key = stripe_key();
    repo.write("creds.env", &format!("STRIPE_KEY={key}\n"));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "secret"]);
    assert!(!out.status.success(), "pre-commit let the secret through: {}", stderr(&out));
    let commit = repo.commit_all("secret, committed anyway");
    assert_eq!(commit.len(), 64);
    let out = repo.secretgate(&["git", "--format", "json", "--show-secrets"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(
        (found[0]["commit"].as_str(), found[0]["secret"].as_str()),
        (Some(commit.as_str()), Some(key.as_str()))
    );
}

/// A rebased branch re-adds its lines against the new base; force-pushing it exposes nothing
/// the remote's branch did not hold, so it passes, while a secret new to the remote does not.
#[test]
fn force_pushing_a_rebased_branch_reports_only_what_the_remote_lacks() {
    let repo = installed();
    repo.add_bare_remote();
    repo.write("app.txt", "one\n");
    repo.commit_all("base");
    assert!(repo.git_output(&["push", "-q", "origin", "main"]).status.success());
    repo.git(&["checkout", "-q", "-b", "feat"]);
    repo.write("legacy.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    repo.commit_all("feature, with a secret pushed before secretgate");
    assert!(repo.git_output(&["push", "-q", "--no-verify", "origin", "feat"]).status.success());
    repo.git(&["checkout", "-q", "main"]);
    repo.write("app.txt", "one\ntwo\n");
    repo.commit_all("main moves on");
    assert!(repo.git_output(&["push", "-q", "origin", "main"]).status.success());
    repo.git(&["checkout", "-q", "feat"]);
    repo.git(&["rebase", "-q", "main"]);
    let out = repo.git_output(&["push", "-q", "--force", "origin", "feat"]);
    assert!(out.status.success(), "a rebase of what the remote holds was blocked: {}", stderr(&out));

    repo.write("new.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    repo.commit_all("a new secret");
    let out = repo.git_output(&["push", "-q", "--force", "origin", "feat"]);
    assert!(!out.status.success(), "a new secret was force-pushed");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("new.env:1:") && !text.contains("legacy.env"), "{text}");

    // What `origin` holds is no excuse on a push to another place: history squashed for
    // publication and pushed to a URL no remote names is judged whole.
    repo.git(&["checkout", "-q", "--orphan", "public"]);
    repo.git(&["rm", "-q", "--cached", "new.env"]);
    std::fs::remove_file(repo.dir.join("new.env")).unwrap();
    repo.commit_all("first public release");
    let public = repo.dir.parent().unwrap().join("public.git");
    let out = common::git::git_command(repo.dir.parent().unwrap(), &repo.home)
        .args(["init", "-q", "--bare"])
        .arg(&public)
        .output()
        .unwrap();
    assert!(out.status.success());
    let url = format!("file://{}", public.display());
    let out = repo.git_output(&["push", "-q", &url, "public:main"]);
    assert!(!out.status.success(), "a secret origin holds was published");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("legacy.env:1:"), "{text}");
}

/// A partial clone (`--filter=blob:none`) lacks the blobs of history it never checked out:
/// pre-push scans the user's own commits, and refuses, saying how to fetch them, to push
/// history it cannot read.
#[test]
fn pre_push_from_a_partial_clone_scans_the_user_s_commits() {
    let upstream = Repo::init();
    for n in 1..=3 {
        upstream.write("notes.txt", &format!("version {n}\n"));
        upstream.commit_all(&format!("v{n}"));
    }
    upstream.git(&["config", "uploadpack.allowFilter", "true"]);
    let parent = upstream.dir.parent().unwrap();
    let url = format!("file://{}", upstream.dir.display());
    let out = common::git::git_command(parent, &upstream.home)
        .args(["clone", "-q", "--filter=blob:none", &url, "partial"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let clone = upstream.beside(parent.join("partial"));
    assert!(clone.secretgate(&["install"]).status.success());
    let out = common::git::git_command(parent, &upstream.home)
        .args(["init", "-q", "--bare", "fork.git"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    clone.git(&["remote", "add", "fork", parent.join("fork.git").to_str().unwrap()]);

    // A first push to an empty remote carries history whose blobs were never fetched: it
    // cannot be scanned, so it is refused with the way out.
    clone.write("notes.txt", "version 4\n");
    clone.commit_all("mine, clean");
    let out = clone.git_output(&["push", "-q", "fork", "main"]);
    assert!(!out.status.success(), "history that was never read was pushed");
    assert!(stderr(&out).contains("partial clone has not fetched it"), "{}", stderr(&out));

    // Once the remote holds upstream's history (and a fetch says so), only the user's own
    // commits are scanned.
    clone.git(&["push", "-q", "--no-verify", "fork", "origin/main:refs/heads/main"]);
    clone.git(&["fetch", "-q", "fork"]);
    let out = clone.git_output(&["push", "-q", "fork", "main"]);
    assert!(out.status.success(), "a clean push from a partial clone failed: {}", stderr(&out));

    clone.write("notes.txt", &format!("version 5\nkey = {}\n", stripe_key()));
    clone.commit_all("mine, with a secret");
    let out = clone.git_output(&["push", "-q", "fork", "main"]);
    assert!(!out.status.success(), "the secret was pushed");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("notes.txt:2:")
            || stderr(&out).contains("notes.txt:2:"),
        "{out:?}"
    );
}

/// The pre-commit framework runs pre-push hooks without git's standard input: the range is
/// in its environment, and on a repository's first push (a root commit) only the branch.
#[test]
fn pre_push_under_the_framework_scans_a_first_push_and_a_range() {
    let repo = Repo::init();
    repo.write("README.md", "# demo\n");
    let root = repo.commit_all("init");
    repo.write("creds.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    let tip = repo.commit_all("secret");
    let framework = |env: &[(&str, &str)]| {
        let mut command = common::secretgate_command(&["pre-push"], &repo.dir);
        command.env("HOME", &repo.home).env("GIT_CONFIG_NOSYSTEM", "1");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let branch = [
        ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
        ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main"),
        ("PRE_COMMIT_REMOTE_NAME", "origin"),
    ];
    let out = framework(&branch);
    assert_eq!(out.status.code(), Some(1), "first push let through: {}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("creds.env:1:"), "{out:?}");

    let mut ranged = branch.to_vec();
    ranged.extend([("PRE_COMMIT_FROM_REF", root.as_str()), ("PRE_COMMIT_TO_REF", tip.as_str())]);
    let out = framework(&ranged);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    ranged.truncate(3);
    ranged.extend([("PRE_COMMIT_FROM_REF", tip.as_str()), ("PRE_COMMIT_TO_REF", tip.as_str())]);
    let out = framework(&ranged);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Ignore entries, allowlists and baselines reach the hooks: a baselined secret does not block a
/// push, an ignored or allowlisted one does not block a commit, and a new one still does.
#[test]
fn hooks_honour_ignores_allowlists_and_baselines() {
    let repo = installed();
    repo.add_bare_remote();
    repo.write("old.env", &format!("STRIPE={}\n", stripe_key()));
    repo.commit_all("a known secret");
    let out = repo.secretgate(&["baseline", "create", "-o", ".secretgate-baseline.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    repo.commit_all("baseline");
    let out = repo.git_output(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "a baselined secret blocked the push: {}", stderr(&out));

    // Ignored by fingerprint: the commit goes through.
    let key = stripe_key();
    repo.write("ignored.env", &format!("STRIPE={key}\n"));
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    let print = findings(&out.stdout)[0]["fingerprint"].as_str().unwrap().to_string();
    repo.write(".secretgateignore", &format!("# reviewed: test fixture\n{print}\n"));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "ignored"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Allowlisted by path in the config: the commit goes through.
    repo.write(".secretgate.toml", "[allowlist]\npaths = [\"testdata/**\"]\n");
    repo.write("testdata/fake.env", &format!("STRIPE={}\n", stripe_key()));
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "allowlisted"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = repo.git_output(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A new secret is still stopped.
    repo.write("new.env", &format!("STRIPE={}\n", stripe_key()));
    repo.commit_all("new secret");
    let out = repo.git_output(&["push", "origin", "main"]);
    assert!(!out.status.success(), "a new secret was pushed");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("new.env:1:") && !text.contains("old.env"), "{text}");
}

/// The decoding stage reaches the hooks and the sweep through the engine: a base64-encoded
/// key in a Kubernetes Secret blocks the commit and is found in history, with its chain.
#[test]
fn encoded_secrets_are_caught_by_the_hooks_and_the_sweep() {
    let repo = installed();
    let key = stripe_key();
    let encoded = base64(key.as_bytes());
    let manifest =
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: payments\ndata:\n  stripe: {encoded}\n");
    repo.write("k8s/secret.yaml", &manifest);
    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json", "--show-secrets"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0]["line"].as_u64(), found[0]["secret"].as_str()), (Some(6), Some(key.as_str())));
    assert_eq!(found[0]["decoded"][0], "base64");
    assert!(!repo.git_output(&["commit", "-q", "-m", "secret"]).status.success());

    repo.commit_all("secret, past the hook");
    let out = repo.secretgate(&["git", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&out.stdout)[0]["decoded"][0], "base64");
    let out = repo.secretgate(&["git", "--no-decode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// A gitleaks rule with a `path` and no `regex` flags the file itself, binary or not, in a
/// plain scan, the pre-commit hook and the history sweep.
#[test]
fn gitleaks_path_rules_flag_files_by_name() {
    let repo = Repo::init();
    repo.write(
        ".gitleaks.toml",
        "[extend]\nuseDefault = true\n\n[[rules]]\nid = \"pkcs12-file\"\ndescription = \"PKCS#12 keystore\"\npath = '''\\.p12$'''\n",
    );
    repo.commit_all("config");
    std::fs::write(repo.dir.join("client.p12"), [0x30u8, 0x82, 0, 1, 2, 0, 3]).unwrap();
    let out = repo.secretgate(&["scan", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!(
        (found.len(), found[0]["rule_id"].as_str(), found[0]["path"].as_str()),
        (1, Some("pkcs12-file"), Some("./client.p12"))
    );

    repo.git(&["add", "-A"]);
    let out = repo.secretgate(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&out.stdout)[0]["path"], "client.p12");

    let added = repo.commit_all("keystore");
    let out = repo.secretgate(&["git", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out.stdout);
    assert_eq!((found.len(), found[0]["commit"].as_str()), (1, Some(added.as_str())));
}
