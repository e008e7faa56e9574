//! Living with findings: `.secretgate.toml` allowlists and errors, inline markers, ignore
//! files, baselines (including a real `git merge` of two branches that each add an entry),
//! other tools' baselines, and gitleaks configurations. Driven through the built binary.
//!
//! Credential-like values are assembled at run time from parts, so this file holds none.

mod common;

use std::{fs, path::Path, process::Command};

use common::{database_url, json, random_alnum, secretgate};

/// `(path, rule_id)` of every finding of a JSON report, sorted, paths without `./`.
fn found(stdout: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<_> = json(stdout)
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().trim_start_matches("./").to_string();
            (path, f["rule_id"].as_str().unwrap().to_string())
        })
        .collect();
    out.sort();
    out
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<_> = expected.iter().map(|(p, r)| (p.to_string(), r.to_string())).collect();
    out.sort();
    out
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the real git in `dir`; panics with its output if it fails.
fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

// ---------------------------------------------------------------------------------------
// .secretgate.toml

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "nothing here\n");
    write(dir.path(), ".secretgate.toml", "disabled_rules = []\n\n[limits]\nmax_size = 10\n");
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(".secretgate.toml:4:") && err.contains("key `limits.max_size`"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    write(dir.path(), ".secretgate.toml", "[limits]\nmax_file_size = \"big\"\n");
    let err = stderr(&secretgate(&["scan", "."], dir.path()));
    assert!(err.contains(".secretgate.toml:2:") && err.contains("key `limits.max_file_size`"), "{err}");

    write(dir.path(), ".secretgate.toml", "[[allowlists]]\nregexes = ['(unclosed']\n");
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid regex \"(unclosed\""), "{}", stderr(&out));

    write(
        dir.path(),
        ".secretgate.toml",
        "[[allowlists]]\ntarget_rules = ['no-such-rule']\nstopwords = ['x']\n",
    );
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("names `no-such-rule`"), "{}", stderr(&out));
}

#[test]
fn config_allowlists_judge_secret_line_stopwords_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<_> = (0..6).map(|_| database_url().0).collect();
    write(dir.path(), "src/plain.py", &format!("DB = '{}'\n", urls[0]));
    write(dir.path(), "src/fixture.py", &format!("DB = '{}'  # test fixture\n", urls[1]));
    let notreal = urls[2].replace("billing:", "billing:NotReal");
    write(dir.path(), "src/stop.py", &format!("DB = '{notreal}'\n"));
    write(dir.path(), "legacy/old.py", &format!("DB = '{}'\n", urls[3]));
    write(dir.path(), "fixtures/skip.py", &format!("DB = '{}'\n", urls[4]));
    let config = r#"
[allowlist]
paths = ["fixtures/**", ".secretgate.toml"]
stopwords = ["notreal"]

[[allowlists]]
regex_target = "line"
regexes = ['''# test fixture''']

[[allowlists]]
target_rules = ["database-url-password"]
condition = "and"
path_regexes = ['''^legacy/''']
regexes = ['''.{8}''']
"#;
    write(dir.path(), ".secretgate.toml", config);
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(found(&out.stdout), pairs(&[("src/plain.py", "database-url-password")]), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("3 allowlisted") && err.contains("skipped 2 allowlisted"), "{err}");

    // A team's own rules can replace the built-in set.
    let own = r#"
use_builtin_rules = false

[allowlist]
paths = [".secretgate.toml"]

[[rules]]
id = "acme-token"
description = "ACME token"
keywords = ["acme_"]
regex = '''\b(acme_[A-Za-z0-9]{32})\b'''
severity = "high"
examples = ["acme_Qm9uZ2JhZ2VzQm9uZ2JhZ2VzQm9uZ2Jh"]
"#;
    write(dir.path(), ".secretgate.toml", own);
    write(dir.path(), "src/acme.txt", &format!("t = acme_{}\n", random_alnum(32)));
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(found(&out.stdout), pairs(&[("src/acme.txt", "acme-token")]), "{}", stderr(&out));
}

#[test]
fn inline_markers_work_in_any_comment_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        "DB = '{}'  # secretgate:allow",
        "db := \"{}\" // secretgate:allow",
        "char *db = \"{}\"; /* gitleaks:allow */",
        "SELECT '{}'; -- secretgate:allow",
        "<db url=\"{}\"/> <!-- secretgate:allow -->",
        "db = {} ; pragma: allowlist secret",
        "REM {} secretgate:allow",
        "% {} SECRETGATE:ALLOW",
        "{{- /* {} */ -}} {{/* secretgate:allow */}}",
        "DB = '{}'",
    ];
    let text: String = lines.iter().map(|l| l.replacen("{}", &database_url().0, 1) + "\n").collect();
    write(dir.path(), "many.txt", &text);
    let out = secretgate(&["scan", "--format", "json", "many.txt"], dir.path());
    let findings = json(&out.stdout);
    let lines: Vec<_> = findings.as_array().unwrap().iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![10], "{findings}");
    assert!(stderr(&out).contains("9 suppressed inline"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Ignore files

#[test]
fn ignore_file_forms_unused_entries_and_gitleaksignore() {
    let dir = tempfile::tempdir().unwrap();
    let (shared, _) = database_url();
    write(dir.path(), "a.py", &format!("DB = '{shared}'\n"));
    write(dir.path(), "b.py", &format!("DB = '{shared}'\n"));
    let (other, _) = database_url();
    write(dir.path(), "c.py", &format!("\n\nDB = '{other}'\n"));
    let (third, _) = database_url();
    write(dir.path(), "d.py", &format!("DB = '{third}'\n"));
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    let findings = json(&out.stdout);
    let fingerprint = |file: &str| {
        findings.as_array().unwrap().iter().find(|f| f["path"].as_str().unwrap().ends_with(file)).unwrap()
            ["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // `rule:hash` covers the credential in both files; `path:rule:hash` one finding.
    let shared_fp = fingerprint("a.py");
    let rule_hash = shared_fp.split_once(':').unwrap().1.to_string();
    let ignore = format!(
        "# reviewed\n{rule_hash}\n{}   # the one in d.py\n0123456789abcdef\ngone.py:x:fedcba9876543210\n",
        fingerprint("d.py")
    );
    write(dir.path(), ".secretgateignore", &ignore);
    let out = secretgate(&["scan", "--format", "json", "--report-unused-ignores", "."], dir.path());
    assert_eq!(found(&out.stdout), pairs(&[("c.py", "database-url-password")]));
    let err = stderr(&out);
    assert!(err.contains(".secretgateignore:4: 0123456789abcdef"), "{err}");
    assert!(err.contains(".secretgateignore:5: gone.py:x:fedcba9876543210"), "{err}");
    assert!(!err.contains(".secretgateignore:2:"), "{err}");
    assert!(err.contains("3 ignored"), "{err}");

    // The bare hash form, and gitleaks' path:rule:line.
    let hash = fingerprint("c.py").rsplit(':').next().unwrap().to_string();
    write(dir.path(), ".secretgateignore", &format!("{hash}\n"));
    write(dir.path(), ".gitleaksignore", "a.py:generic-api-key:1\nb.py:generic-api-key:1\nd.py:x:1\n");
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    write(dir.path(), ".secretgateignore", "not a fingerprint\n");
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".secretgateignore:1: expected"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Baselines

#[test]
fn baseline_create_filters_and_keeps_reviews() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", &format!("DB = '{}'\n", database_url().0));
    write(dir.path(), "b.py", &format!("DB = '{}'\n", database_url().0));
    let out = secretgate(&["baseline", "create", "-o", ".secretgate-baseline.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = fs::read_to_string(dir.path().join(".secretgate-baseline.json")).unwrap();
    assert!(!text.contains("\"line\"") && !text.contains("date"), "{text}");

    // Picked up automatically; --no-baseline reports everything.
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 in the baseline"));
    let out = secretgate(&["scan", "--no-baseline", "--format", "json", "."], dir.path());
    assert_eq!(found(&out.stdout).len(), 2);

    // A new finding is reported; the old ones stay quiet.
    write(dir.path(), "c.py", &format!("DB = '{}'\n", database_url().0));
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(found(&out.stdout), pairs(&[("c.py", "database-url-password")]));

    // Re-creating keeps `reviewed` and `note` of entries still present, drops gone ones.
    let reviewed = text.replacen("\"reviewed\":false", "\"reviewed\":true,\"note\":\"rotated 2026-11\"", 1);
    fs::write(dir.path().join(".secretgate-baseline.json"), reviewed).unwrap();
    fs::remove_file(dir.path().join("b.py")).unwrap();
    let out = secretgate(&["baseline", "create", "."], dir.path());
    let created = String::from_utf8_lossy(&out.stdout).into_owned();
    let entries: Vec<_> = created.lines().filter(|l| l.contains("\"fingerprint\"")).collect();
    assert_eq!(entries.len(), 2, "{created}");
    assert!(entries[0].contains("a.py") && entries[0].contains("\"note\":\"rotated 2026-11\""), "{created}");
    assert!(entries[1].contains("c.py") && entries[1].contains("\"reviewed\":false"), "{created}");

    // `baseline update` re-creates the root baseline in place, keeping reviews.
    let out = secretgate(&["baseline", "update"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let updated = fs::read_to_string(dir.path().join(".secretgate-baseline.json")).unwrap();
    assert!(updated.contains("c.py") && updated.contains("rotated 2026-11"), "{updated}");
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Updating part of the tree keeps the entries of the rest, reviews included.
    write(dir.path(), "sub/d.py", &format!("DB = '{}'\n", database_url().0));
    let out = secretgate(&["baseline", "update", "sub"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let partly = fs::read_to_string(dir.path().join(".secretgate-baseline.json")).unwrap();
    assert!(partly.contains("sub/d.py") && partly.contains("c.py"), "{partly}");
    assert!(partly.contains("rotated 2026-11"), "the review of a.py was lost: {partly}");
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // An explicit --baseline that does not exist is an error.
    let out = secretgate(&["scan", "--baseline", "missing.json", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

/// Two branches each add a finding and re-create the baseline; git merges them without a
/// conflict, and the merged baseline covers all three findings.
#[test]
fn baselines_of_two_branches_merge_without_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let create = |repo: &Path| {
        let out = secretgate(&["baseline", "create", "-o", ".secretgate-baseline.json"], repo);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    write(repo, "m.py", &format!("DB = '{}'\n", database_url().0));
    create(repo);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);

    git(repo, &["checkout", "-q", "-b", "one"]);
    write(repo, "c.py", &format!("DB = '{}'\n", database_url().0));
    create(repo);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "one"]);

    git(repo, &["checkout", "-q", "main"]);
    git(repo, &["checkout", "-q", "-b", "two"]);
    write(repo, "x.py", &format!("DB = '{}'\n", database_url().0));
    create(repo);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "two"]);

    let merge = git(repo, &["merge", "--no-edit", "one"]);
    assert!(!String::from_utf8_lossy(&merge.stdout).contains("CONFLICT"));
    let baseline = fs::read_to_string(repo.join(".secretgate-baseline.json")).unwrap();
    assert_eq!(baseline.lines().filter(|l| l.contains("\"fingerprint\"")).count(), 3, "{baseline}");
    let out = secretgate(&["scan", "."], repo);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 in the baseline"), "{}", stderr(&out));

    // Entries added at the same place merge too, with the documented union attribute.
    write(repo, ".gitattributes", ".secretgate-baseline.json merge=union\n");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "union"]);
    git(repo, &["checkout", "-q", "-b", "three"]);
    write(repo, "y1.py", &format!("DB = '{}'\n", database_url().0));
    create(repo);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "three files"]);
    git(repo, &["checkout", "-q", "two"]);
    write(repo, "y2.py", &format!("DB = '{}'\n", database_url().0));
    create(repo);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "four"]);
    git(repo, &["merge", "--no-edit", "three"]);
    let out = secretgate(&["scan", "."], repo);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("5 in the baseline"), "{}", stderr(&out));
}

/// SHA-1 of a string, via the `sha1sum` tool: detect-secrets stores that of each secret.
fn sha1(text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("sha1sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha1sum runs");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn detect_secrets_and_gitleaks_reports_serve_as_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let (url_a, password_a) = database_url();
    let (url_b, password_b) = database_url();
    let (url_c, _) = database_url();
    write(dir.path(), "conf/a.py", &format!("DB = '{url_a}'\n"));
    write(dir.path(), "conf/b.py", &format!("\nDB = '{url_b}'\n"));
    write(dir.path(), "conf/c.py", &format!("DB = '{url_c}'\n"));

    let detect_secrets = serde_json::json!({
        "version": "1.5.0",
        "plugins_used": [{"name": "KeywordDetector"}],
        "filters_used": [],
        "results": {
            "conf/a.py": [{"type": "Secret Keyword", "filename": "conf/a.py",
                "hashed_secret": sha1(&password_a), "is_verified": false, "line_number": 1}],
            "conf/b.py": [{"type": "Secret Keyword", "filename": "conf/b.py",
                "hashed_secret": sha1(&password_b), "is_verified": false, "line_number": 2}]
        },
        "generated_at": "2026-11-01T00:00:00Z"
    });
    write(dir.path(), "ds.json", &detect_secrets.to_string());
    let out = secretgate(&["scan", "--baseline", "ds.json", "--format", "json", "conf"], dir.path());
    assert_eq!(found(&out.stdout), pairs(&[("conf/c.py", "database-url-password")]), "{}", stderr(&out));

    let report = serde_json::json!([
        {"RuleID": "generic-api-key", "File": "conf/a.py", "Secret": password_a, "StartLine": 1,
         "Fingerprint": "conf/a.py:generic-api-key:1", "Commit": "", "Description": "x"},
        {"RuleID": "generic-api-key", "File": "conf/c.py", "Secret": "REDACTED", "StartLine": 1,
         "Fingerprint": "conf/c.py:generic-api-key:1"}
    ]);
    write(dir.path(), "gl.json", &report.to_string());
    let out = secretgate(&["scan", "--baseline", "gl.json", "--format", "json", "conf"], dir.path());
    assert_eq!(found(&out.stdout), pairs(&[("conf/b.py", "database-url-password")]), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// gitleaks configurations

/// A gitleaks configuration written from gitleaks' documented format: custom rules (with
/// `secretGroup`, `keywords`, `path`, `entropy`), rule allowlists old and new, global
/// allowlists with `targetRules` and `condition`. The findings must be what the rules'
/// own semantics say.
const GITLEAKS_CONFIG: &str = r#"
title = "team gitleaks config"

[[rules]]
id = "acme-key"
description = "ACME API key"
regex = '''acme_(?:live|test)_([a-z0-9]{24})'''
keywords = ["acme_"]
tags = ["acme"]
[[rules.allowlists]]
description = "test fixtures"
regexTarget = "line"
regexes = ['''fixture''']

[[rules]]
id = "corp-password"
description = "Corp password in ini files"
regex = '''(?i)corp_pass\s*=\s*"([^"\s]{10,})"'''
secretGroup = 1
entropy = 2.5
keywords = ["corp_pass"]
path = '''\.ini$'''
[rules.allowlist]
stopwords = ["notreal"]

[[rules]]
id = "pkcs12-file"
description = "PKCS12 file"
path = '''\.p12$'''

[allowlist]
description = "global"
paths = ['''^vendor/''', '''gitleaks\.toml$''']

[[allowlists]]
targetRules = ["acme-key"]
condition = "AND"
paths = ['''^legacy/''']
regexTarget = "match"
regexes = ['''^acme_test_''']
"#;

fn lower_token(len: usize) -> String {
    random_alnum(len).to_ascii_lowercase()
}

#[test]
fn gitleaks_config_gives_the_findings_its_rules_define() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let acme = |kind: &str| format!("acme_{kind}_{}", lower_token(24));
    write(repo, "src/app.py", &format!("key = \"{}\"\n", acme("live")));
    write(repo, "src/fixture.py", &format!("key = \"{}\"  # fixture\n", acme("live")));
    write(repo, "vendor/lib.py", &format!("key = \"{}\"\n", acme("live")));
    write(repo, "legacy/a.py", &format!("key = \"{}\"\n", acme("test")));
    write(repo, "legacy/b.py", &format!("key = \"{}\"\n", acme("live")));
    let corp = format!("corp_pass = \"{}7q{}\"\n", random_alnum(6), random_alnum(6));
    write(repo, "conf/app.ini", &corp);
    write(repo, "conf/app.py", &corp);
    write(repo, "conf/b.ini", &format!("corp_pass = \"NotReal{}\"\n", random_alnum(8)));
    write(repo, "src/db.py", &format!("DB = '{}'\n", database_url().0));
    write(repo, ".gitleaks.toml", GITLEAKS_CONFIG);
    git(repo, &["init", "-q"]);

    // Picked up by itself (no .secretgate.toml); without useDefault only its rules run.
    let out = secretgate(&["scan", "--format", "json", "."], repo);
    let expected =
        [("src/app.py", "acme-key"), ("legacy/b.py", "acme-key"), ("conf/app.ini", "corp-password")];
    assert_eq!(found(&out.stdout), pairs(&expected), "{}", stderr(&out));
    // A rule with a `path` and no `regex` is a path rule now: no warning (and no .p12 here).
    assert!(!stderr(&out).contains("pkcs12-file"), "{}", stderr(&out));

    // The history sweep scans each blob before it knows the blob's paths: path allowlists
    // and rules' `path` are judged once a finding is traced to its path, so the sweep finds
    // what the scan does. One difference: an AND allowlist of paths and a `match` regex
    // (legacy/a.py's) can be judged neither in the scan nor after it, and reports.
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "all"]);
    let out = secretgate(&["git", "--format", "json", "."], repo);
    let mut swept = expected.to_vec();
    swept.push(("legacy/a.py", "acme-key"));
    assert_eq!(found(&out.stdout), pairs(&swept), "{}", stderr(&out));

    // [extend] useDefault = true keeps the built-in rules as well.
    let extended = GITLEAKS_CONFIG.replace("title = \"team gitleaks config\"", "[extend]\nuseDefault = true");
    write(repo, "custom-gitleaks.toml", &extended);
    let out = secretgate(&["scan", "--config", "custom-gitleaks.toml", "--format", "json", "."], repo);
    let mut with_default = expected.to_vec();
    with_default.push(("src/db.py", "database-url-password"));
    // Built-in generic rules may see more in these files; the rules under test are these.
    let under_test = ["acme-key", "corp-password", "database-url-password"];
    let got: Vec<_> =
        found(&out.stdout).into_iter().filter(|(_, r)| under_test.contains(&r.as_str())).collect();
    assert_eq!(got, pairs(&with_default), "{}", stderr(&out));

    // [extend] path: a team file extending the base; its allowlist-only rule adds to the
    // base rule, and disabledRules drops one.
    let team = "[extend]\npath = \"custom-gitleaks.toml\"\ndisabledRules = [\"corp-password\"]\n\n\
                [[rules]]\nid = \"acme-key\"\n[[rules.allowlists]]\npaths = ['^legacy/']\n";
    write(repo, "team-gitleaks.toml", team);
    let out = secretgate(&["scan", "--config", "team-gitleaks.toml", "--format", "json", "."], repo);
    let got: Vec<_> =
        found(&out.stdout).into_iter().filter(|(_, r)| under_test.contains(&r.as_str())).collect();
    let expected = [("src/app.py", "acme-key"), ("src/db.py", "database-url-password")];
    assert_eq!(got, pairs(&expected), "{}", stderr(&out));

    // Unknown keys name file, line and key.
    write(repo, ".gitleaks.toml", &GITLEAKS_CONFIG.replace("secretGroup = 1", "secretGroupp = 1"));
    let out = secretgate(&["scan", "."], repo);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".gitleaks.toml:19:") && stderr(&out).contains("rules.secretGroupp"));
}

#[test]
fn rules_check_reads_gitleaks_configs_and_names_bad_rules() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "gitleaks.toml", GITLEAKS_CONFIG);
    let out = secretgate(&["rules", "check", "gitleaks.toml"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("gitleaks config") && stdout.contains("2 rules"), "{stdout}");

    let bad = GITLEAKS_CONFIG
        .replace("acme_(?:live|test)_([a-z0-9]{24})", r"acme_(live)_\1")
        .replace(r"(?i)corp_pass", r"(?i)corp_pass\p{Greek}");
    write(dir.path(), "bad-gitleaks.toml", &bad);
    let out = secretgate(&["rules", "check", "bad-gitleaks.toml"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("rule `acme-key`") && stdout.contains("backreference"), "{stdout}");

    let bad = GITLEAKS_CONFIG.replace(r"(?i)corp_pass", r"(?i)corp_pass\p{Greek}");
    write(dir.path(), "bad2-gitleaks.toml", &bad);
    let out = secretgate(&["rules", "check", "bad2-gitleaks.toml"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("rule `corp-password`: invalid regex"), "{stdout}");
}

#[test]
fn a_repository_scanned_from_outside_uses_its_own_config_ignores_and_baseline() {
    let outside = tempfile::tempdir().unwrap();
    let repo = outside.path().join("repo");
    git(outside.path(), &["init", "-q", "repo"]);
    write(&repo, "src/a.py", &format!("DB = '{}'\n", database_url().0));
    write(&repo, "src/b.py", &format!("DB = '{}'\n", database_url().0));
    write(&repo, "legacy/c.py", &format!("DB = '{}'\n", database_url().0));
    write(&repo, ".secretgate.toml", "[allowlist]\npaths = ['legacy/**']\n");

    // Run inside, the fingerprints are root-relative; ignore a.py's.
    let inside = secretgate(&["scan", "--format", "json", "."], &repo);
    assert_eq!(
        found(&inside.stdout),
        pairs(&[("src/a.py", "database-url-password"), ("src/b.py", "database-url-password")])
    );
    let fingerprints: Vec<String> = json(&inside.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().into())
        .collect();
    assert!(fingerprints[0].starts_with("src/a.py:"), "{fingerprints:?}");
    write(&repo, ".secretgateignore", &format!("{}\n", fingerprints[0]));

    // From outside, naming the repository or a file in it: the same config (legacy/ is
    // allowlisted), the same ignore file, the same fingerprints, and SARIF locations
    // relative to the repository's root.
    for target in ["repo", "repo/src", "repo/src/b.py"] {
        let out = secretgate(&["scan", "--format", "json", target], outside.path());
        assert_eq!(out.status.code(), Some(1), "{target}: {}", stderr(&out));
        let report = json(&out.stdout);
        let findings = report.as_array().unwrap();
        assert_eq!(findings.len(), 1, "{target}: {findings:?}");
        assert_eq!(findings[0]["fingerprint"].as_str().unwrap(), fingerprints[1], "{target}");
        assert_eq!(findings[0]["path"], "repo/src/b.py", "{target}");
    }
    let out = secretgate(&["scan", "--format", "sarif", "repo"], outside.path());
    let sarif = json(&out.stdout);
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/b.py");

    // A baseline made from outside lands in, and is read from, the repository's root.
    let out = secretgate(&["baseline", "update", "repo"], outside.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(repo.join(".secretgate-baseline.json").is_file());
    let out = secretgate(&["scan", "repo"], outside.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A configuration in a subdirectory (a monorepo's service) is that scan's root; SARIF
    // still names files from the repository's root, where code scanning looks for them.
    write(&repo, "services/api/.secretgate.toml", "");
    write(&repo, "services/api/s.env", &format!("DB={}\n", database_url().0));
    let out = secretgate(&["scan", "--format", "sarif", "services/api"], &repo);
    let sarif = json(&out.stdout);
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "services/api/s.env");

    // A configuration named on the command line replaces the repository's, which is then
    // not read: a broken one does not fail the scan.
    write(&repo, "services/api/.secretgate.toml", "this is = = broken\n");
    write(outside.path(), "org.toml", "");
    let out = secretgate(&["scan", "--config", "org.toml", "repo/services/api"], outside.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
