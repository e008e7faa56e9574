//! `secretgate scan` and `secretgate rules`, driven as a user would: real files in a
//! temporary directory, the built binary, exit codes, stdout and stderr.
//!
//! Credential-like values are assembled at run time from parts, so this file holds none.

mod common;

use std::{fs, path::Path};

use common::{database_url, json, random_alnum, secretgate, secretgate_stdin};
use serde_json::Value;

#[test]
fn text_report_names_place_rule_and_redacts_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (url, password) = database_url();
    fs::write(dir.path().join("settings.py"), format!("import os\n\nDATABASE_URL = \"{url}\"\n")).unwrap();

    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let column = "DATABASE_URL = \"".len() + url.find(&password).unwrap() + 1;
    assert!(stdout.contains(&format!("settings.py:3:{column}")), "{stdout}");
    assert!(stdout.contains("database-url-password"), "{stdout}");
    assert!(!stdout.contains(&password), "secret printed in full: {stdout}");
    assert!(stdout.contains("revoke:"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 finding"), "{stderr}");

    let shown = secretgate(&["scan", "--show-secrets", "."], dir.path());
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&password));
}

#[test]
fn json_jsonl_and_sarif_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (url, password) = database_url();
    fs::write(dir.path().join("app.env"), format!("# app\nDB={url}\n")).unwrap();

    let out = secretgate(&["scan", "--format", "json", "app.env"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let findings = json(&out.stdout);
    let finding = &findings.as_array().unwrap()[0];
    assert_eq!(finding["rule_id"], "database-url-password");
    assert_eq!(finding["path"], "app.env");
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["column"], 4 + url.find(&password).unwrap());
    assert_eq!(finding["severity"], "critical");
    assert!(finding["commit"].is_null() && finding["author"].is_null() && finding["date"].is_null());
    assert!(finding["email"].is_null());
    let secret = finding["secret"].as_str().unwrap();
    assert!(secret.ends_with('…') && !secret.contains(&password), "{secret}");
    let fingerprint = finding["fingerprint"].as_str().unwrap();
    assert!(fingerprint.starts_with("app.env:database-url-password:"), "{fingerprint}");

    let out = secretgate(&["scan", "--format", "jsonl", "app.env"], dir.path());
    let lines: Vec<_> = String::from_utf8_lossy(&out.stdout).lines().map(|l| json(l.as_bytes())).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["fingerprint"], fingerprint);

    let report = dir.path().join("out.sarif");
    let out = secretgate(&["scan", "--format", "sarif", "--report-path", "out.sarif", "app.env"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "the report went to the file, not stdout");
    let sarif = json(&fs::read(report).unwrap());
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "secretgate");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "database-url-password");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "database-url-password");
    assert_eq!(result["ruleIndex"], 0);
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app.env");
    assert_eq!(location["region"]["startLine"], 2);
    assert_eq!(result["partialFingerprints"]["secretgate/v1"], fingerprint);
    assert!(!String::from_utf8_lossy(&fs::read(dir.path().join("out.sarif")).unwrap()).contains(&password));
}

#[test]
fn clean_input_exits_zero_with_an_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("main.rs"),
        "fn main() { println!(\"token = {}\", std::env::var(\"TOKEN\").unwrap()); }\n",
    )
    .unwrap();
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json(&out.stdout), Value::Array(vec![]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scanned 1 input"));
}

#[test]
fn a_file_reached_by_two_named_paths_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    fs::create_dir(dir.path().join("d")).unwrap();
    fs::write(dir.path().join("d/a.env"), format!("DB={url}\nOTHER={}\n", database_url().0)).unwrap();
    let out = secretgate(&["scan", "--format", "json", "d", "d/a.env", "./d/a.env", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let findings = json(&out.stdout);
    let lines: Vec<_> = findings.as_array().unwrap().iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 2], "{findings}");
}

#[test]
fn standard_input() {
    let (url, _) = database_url();
    let out = secretgate_stdin(&["scan", "--format", "json", "-"], format!("x\n{url}\n").as_bytes());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let findings = json(&out.stdout);
    assert_eq!(findings[0]["path"], "<stdin>");
    assert_eq!(findings[0]["line"], 2);
}

#[test]
fn errors_exit_two_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["scan", "no/such/path"][..],
        &["scan", "--format", "xml", "."],
        &["scan", "--threads", "0", "."],
        &["scan", "--threads", "100000", "."],
        &["scan", "--bogus", "."],
    ] {
        let out = secretgate(args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
    let out = secretgate(&["scan", "no/such/path"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no/such/path"), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "the reason is given once: {stderr}");

    fs::write(dir.path().join(".secretgate.toml"), "[allowlist]\npathz = []\n").unwrap();
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(".secretgate.toml") && stderr.contains("pathz"), "{stderr}");

    // A rule of one's own whose regex is too large to build fails the scan, as a syntax
    // error does, instead of vanishing on first use.
    let rule = r#"[[rules]]
id = "huge"
description = "d"
severity = "high"
keywords = ["key"]
examples = ["key=qzmrtwpk"]
regex = 'key=([a-z]{8}[^\n]{0,100000})'
"#;
    fs::write(dir.path().join(".secretgate.toml"), rule).unwrap();
    fs::write(dir.path().join("k.txt"), "key=qzmrtwpk\n").unwrap();
    let out = secretgate(&["scan", "k.txt"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("huge") && stderr.trim().lines().count() == 1, "{stderr}");
}

/// A pipe named on the command line is read; the largest size limit is no limit; a reader
/// that goes away early makes the run fail rather than look clean.
#[test]
fn pipes_limits_and_a_closed_output() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    let text = format!("DATABASE_URL = \"{url}\"\n");
    fs::write(dir.path().join("settings.py"), &text).unwrap();
    let out = secretgate_stdin(&["scan", "/dev/stdin"], text.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = secretgate(&["scan", "--max-file-size", &u64::MAX.to_string(), "settings.py"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    let mut child = common::secretgate_command(&["scan", "--format", "json", "settings.py"], dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("output was closed"), "{out:?}");
}

#[test]
fn gitignore_and_dot_git_are_respected_unless_no_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".git/config"), format!("[remote]\nurl = {url}\n")).unwrap();
    fs::write(dir.path().join(".gitignore"), "local.env\n").unwrap();
    fs::write(dir.path().join("local.env"), format!("DB={url}\n")).unwrap();
    fs::write(dir.path().join(".env"), "PORT=8080\n").unwrap();

    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = secretgate(&["scan", "--no-ignore", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let mut paths: Vec<String> = json(&out.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["./.git/config", "./local.env"]);
}

#[cfg(unix)]
#[test]
fn a_symlink_named_on_the_command_line_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    fs::write(dir.path().join("real.env"), format!("DB={url}\n")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("real.env"), dir.path().join("link.env")).unwrap();
    let out = secretgate(&["scan", "--format", "json", "link.env"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(json(&out.stdout)[0]["path"], "link.env");
}

#[test]
fn hidden_files_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    fs::write(dir.path().join(".env"), format!("DATABASE_URL={url}\n")).unwrap();
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    let mut binary = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    binary.extend_from_slice(url.as_bytes());
    fs::write(dir.path().join("app.bin"), binary).unwrap();
    fs::write(dir.path().join("big.txt"), format!("{}\n{url}\n", "a".repeat(5000))).unwrap();

    let out = secretgate(&["scan", "--max-file-size", "4096", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped 1 binary"), "{stderr}");
    assert!(stderr.contains("skipped 1 over the size limit"), "{stderr}");

    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "under the default limit big.txt is scanned");
}

#[test]
fn utf16_text_is_scanned_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let (url, password) = database_url();
    let text = format!("# deploy.ps1\r\n$conn = \"{url}\"\r\n");
    let little: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    fs::write(dir.path().join("deploy.ps1"), little).unwrap();
    fs::write(dir.path().join("settings.reg"), big).unwrap();

    let out = secretgate(&["scan", "--format", "json", "--show-secrets", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = json(&out.stdout);
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    for finding in found {
        assert_eq!(finding["line"], 2);
        assert_eq!(finding["secret"], password.as_str());
    }
}

#[test]
fn inline_markers_suppress() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    let (url2, _) = database_url();
    fs::write(
        dir.path().join("t.py"),
        format!("A = '{url}'  # secretgate:allow\nB = '{url2}'  # gitleaks:allow\nC = '{url}'\n"),
    )
    .unwrap();
    let out = secretgate(&["scan", "--format", "json", "t.py"], dir.path());
    let findings = json(&out.stdout);
    assert_eq!(findings.as_array().unwrap().len(), 1);
    assert_eq!(findings[0]["line"], 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 suppressed inline"));
}

#[test]
fn config_allowlists_paths_and_adds_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    fs::create_dir_all(dir.path().join("fixtures/deep")).unwrap();
    fs::write(dir.path().join("fixtures/deep/db.txt"), format!("{url}\n")).unwrap();
    fs::write(dir.path().join("app.txt"), format!("token acme_{}\n", random_alnum(32))).unwrap();
    let config = r#"
[allowlist]
paths = ["fixtures/**", ".secretgate.toml"]

[[rules]]
id = "acme-token"
description = "ACME token"
keywords = ["acme_"]
regex = '''\b(acme_[A-Za-z0-9]{32})\b'''
severity = "high"
examples = ["acme_Qm9uZ2JhZ2VzQm9uZ2JhZ2VzQm9uZ2Jh"]
"#;
    fs::write(dir.path().join(".secretgate.toml"), config).unwrap();
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    let findings = json(&out.stdout);
    let rules: Vec<_> = findings.as_array().unwrap().iter().map(|f| f["rule_id"].as_str().unwrap()).collect();
    assert_eq!(rules, vec!["acme-token"], "{findings}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 2 allowlisted"));
}

#[test]
fn hostile_inputs_give_results_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = database_url();
    // Invalid UTF-8 around a secret, a NUL byte past the binary sniff, a long single line.
    let mut bytes = vec![0xff, 0xfe, b'\n'];
    bytes.extend_from_slice(url.as_bytes());
    bytes.extend_from_slice(b"\n\xc3\x28\n");
    fs::write(dir.path().join("latin.txt"), &bytes).unwrap();
    let mut late_nul = "x".repeat(10_000).into_bytes();
    late_nul.push(0);
    late_nul.extend_from_slice(format!("\n{url}\n").as_bytes());
    fs::write(dir.path().join("late-nul.txt"), late_nul).unwrap();
    let mut line = "ab1=".repeat(2 << 20);
    line.push_str(&url);
    fs::write(dir.path().join("one-line.txt"), line).unwrap();
    // Deep directories and a symlink loop.
    let mut deep = dir.path().to_path_buf();
    for _ in 0..100 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("deep.txt"), format!("{url}\n")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();

    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let findings = json(&out.stdout);
    let mut files: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Path::new(f["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, vec!["deep.txt", "late-nul.txt", "latin.txt", "one-line.txt"]);
}

#[test]
fn rules_list_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = secretgate(&["rules", "list"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() >= 150);
    let out = secretgate(&["rules", "list", "--format", "json"], dir.path());
    let rules = json(&out.stdout);
    let ids: Vec<_> = rules.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"private-key") && ids.contains(&"database-url-password"));

    let rule = r#"
[[rules]]
id = "acme-token"
description = "ACME token"
keywords = ["acme_"]
regex = '''\b(acme_[A-Za-z0-9]{32})\b'''
severity = "high"
examples = ["acme_Qm9uZ2JhZ2VzQm9uZ2JhZ2VzQm9uZ2Jh", "acme_short"]
negative_examples = ["acme_Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFy"]
"#;
    fs::write(dir.path().join("rules.toml"), rule).unwrap();
    let out = secretgate(&["rules", "check", "rules.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("rule `acme-token`: example does not match: \"acme_short\""), "{stdout}");
    assert!(stdout.contains("negative example matches"), "{stdout}");

    fs::write(dir.path().join("bad.toml"), rule.replace("{32}", "{32")).unwrap();
    let out = secretgate(&["rules", "check", "bad.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("bad.toml: rule `acme-token`: invalid regex"));

    fs::write(
        dir.path().join("good.toml"),
        rule.replace(", \"acme_short\"", "")
            .replace("negative_examples = [\"acme_Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFy\"]", ""),
    )
    .unwrap();
    let out = secretgate(&["rules", "check", "good.toml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // A rule taking a built-in rule's id fails the check, as the scan would refuse it.
    let clash =
        fs::read_to_string(dir.path().join("good.toml")).unwrap().replace("acme-token", "private-key");
    fs::write(dir.path().join("clash.toml"), &clash).unwrap();
    let out = secretgate(&["rules", "check", "clash.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("rule `private-key` has a built-in rule's id"));
    fs::write(dir.path().join("clash.toml"), format!("use_builtin_rules = false\n{clash}")).unwrap();
    let out = secretgate(&["rules", "check", "clash.toml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // A file that cannot be read is an error of the command, not a failing rule.
    let out = secretgate(&["rules", "check", "missing.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim().lines().count(), 1, "{out:?}");
}
