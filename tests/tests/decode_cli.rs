//! Encoded and escaped secrets: base64, percent-encoding, backslash escapes and hex,
//! alone and nested, through the built `secretgate` binary.
//!
//! Every token is assembled at run time from a split prefix and random characters (GitHub
//! tokens with their CRC32 checksum), and encoded at run time, so this file holds no
//! credential in any encoding.

mod common;

use std::{fs, path::Path};

use common::{base64_with, random_alnum, secretgate, B64};
use serde_json::Value;

// ---------------------------------------------------------------------------------
// Tokens and encodings, made at run time
// ---------------------------------------------------------------------------------

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base64(text: &str) -> String {
    base64_with(text.as_bytes(), B64, true)
}

fn percent_all(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// `len` characters of `alphabet`, random.
fn random_of(alphabet: &str, len: usize) -> String {
    let source = random_alnum(len * 2);
    let alphabet = alphabet.as_bytes();
    source
        .bytes()
        .zip(random_alnum(len * 2).bytes())
        .take(len)
        .map(|(a, b)| alphabet[(usize::from(a) * 31 + usize::from(b)) % alphabet.len()] as char)
        .collect()
}

fn github_token() -> String {
    let body = random_alnum(30);
    let mut crc = crc32fast::hash(body.as_bytes());
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    format!("{}{body}{}", concat!("gh", "p_"), String::from_utf8_lossy(&check))
}

fn aws_key_id() -> String {
    format!("{}{}", concat!("AK", "IA"), random_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

fn slack_bot_token() -> String {
    format!(
        "{}{}-{}-{}",
        concat!("xo", "xb-"),
        random_of("0123456789", 11),
        random_of("0123456789", 13),
        random_alnum(24)
    )
}

fn stripe_live_key() -> String {
    format!("{}{}", concat!("sk_", "live_"), random_alnum(40))
}

fn slack_webhook() -> String {
    format!(
        "https://{}/services/T{}/B{}/{}",
        concat!("hooks.", "slack.com"),
        random_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
        random_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
        random_alnum(24)
    )
}

fn aws_secret() -> String {
    // Random with a slash and a plus, as real ones have.
    format!("{}/{}+{}", random_alnum(18), random_alnum(10), random_alnum(10))
}

// ---------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------

fn scan_json(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let mut all = vec!["scan", "--format", "json", "--show-secrets"];
    all.extend_from_slice(args);
    let out = secretgate(&all, dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} / {stderr}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), findings.as_array().cloned().unwrap_or_default(), stderr)
}

/// The one finding whose secret is `secret` (outside `plain.env`, where the same secret
/// is written as is).
fn finding_of<'a>(findings: &'a [Value], secret: &str) -> &'a Value {
    let matching: Vec<&Value> =
        findings.iter().filter(|f| f["secret"] == secret && f["path"] != "./plain.env").collect();
    assert_eq!(matching.len(), 1, "want one finding of {secret}, got {findings:#?}");
    matching[0]
}

fn chain(finding: &Value) -> Vec<String> {
    finding["decoded"]
        .as_array()
        .map_or_else(Vec::new, |c| c.iter().map(|e| e.as_str().unwrap_or("?").to_string()).collect())
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> (u64, u64) {
    let at = text.find(needle).unwrap_or_else(|| panic!("test bug: {needle} not in the file"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count() as u64 + 1, (at - line_start) as u64 + 1)
}

fn assert_found(
    findings: &[Value],
    file_text: &str,
    secret: &str,
    encoded: &str,
    rule: &str,
    want_chain: &[&str],
) {
    let finding = finding_of(findings, secret);
    let (line, column) = position(file_text, encoded);
    assert_eq!(finding["rule_id"], rule, "{finding}");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(line), Some(column)),
        "{finding}"
    );
    assert_eq!(chain(finding), want_chain, "{finding}");
}

fn hash_of(finding: &Value) -> String {
    finding["fingerprint"].as_str().unwrap().rsplit(':').next().unwrap().to_string()
}

// ---------------------------------------------------------------------------------
// Found
// ---------------------------------------------------------------------------------

#[test]
fn kubernetes_secret_reports_each_key_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let (github, aws, slack, stripe) = (github_token(), aws_key_id(), slack_bot_token(), stripe_live_key());
    let values = [base64(&github), base64(&aws), base64(&slack), base64(&stripe)];
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {}\n  AWS_ACCESS_KEY_ID: {}\n  SLACK_BOT_TOKEN: \"{}\"\n  STRIPE_KEY: {}\n",
        values[0], values[1], values[2], values[3]
    );
    fs::write(dir.path().join("secret.yaml"), &manifest).unwrap();
    fs::write(dir.path().join("plain.env"), format!("GITHUB_TOKEN={github}\n")).unwrap();

    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_found(&findings, &manifest, &github, &values[0], "github-pat-classic", &["base64"]);
    assert_found(&findings, &manifest, &aws, &values[1], "aws-access-key-id", &["base64"]);
    assert_found(&findings, &manifest, &slack, &values[2], "slack-bot-token", &["base64"]);
    assert_found(&findings, &manifest, &stripe, &values[3], "stripe-live-secret-key", &["base64"]);
    assert_eq!(findings.len(), 5, "{findings:#?}");

    // One credential, plain or encoded: the same secret hash in the fingerprint.
    let plain = findings.iter().find(|f| f["path"] == "./plain.env").expect("plain finding");
    assert!(plain.get("decoded").is_none(), "plain findings carry no chain: {plain}");
    assert_eq!(hash_of(plain), hash_of(finding_of(&findings, &github)));

    // Text output says how it was encoded; redaction applies to decoded secrets too.
    let out = secretgate(&["scan", "secret.yaml"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("github-pat-classic (critical) (base64)"), "{text}");
    assert!(!text.contains(&github) && !text.contains(&stripe), "secret printed in full: {text}");

    // SARIF carries the chain in the result's properties.
    let out = secretgate(&["scan", "--format", "sarif", "secret.yaml"], dir.path());
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["properties"]["decoded"][0], "base64");

    // --no-decode: only what the text shows as written (generic rules on the key names).
    let (_, findings, _) = scan_json(dir.path(), &["--no-decode", "secret.yaml"]);
    assert!(
        findings
            .iter()
            .all(|f| f.get("decoded").is_none() && f["rule_id"].as_str().unwrap().starts_with("generic-")),
        "{findings:#?}"
    );
}

#[test]
fn base64_in_docker_config_basic_auth_and_url_safe_alphabet() {
    let dir = tempfile::tempdir().unwrap();
    let github = github_token();
    let slack = slack_bot_token();
    let aws = aws_key_id();
    let auth = base64(&format!("x-access-token:{github}"));
    let docker =
        format!("{{\n  \"auths\": {{\n    \"ghcr.io\": {{\n      \"auth\": \"{auth}\"\n    }}\n  }}\n}}\n");
    fs::write(dir.path().join("config.json"), &docker).unwrap();
    let basic = base64(&format!("bot:{slack}"));
    let script = format!("#!/bin/sh\ncurl -H \"Authorization: Basic {basic}\" https://ci.acme.io/api\n");
    fs::write(dir.path().join("call.sh"), &script).unwrap();
    // URL-safe and unpadded, as in a JWT-style blob; the value holds bytes that encode to `-` and `_`.
    let blob = base64_with(format!("{{\"id\":\"{aws}\",\"note\":\"~~~>>>???\"}}").as_bytes(), B64URL, false);
    assert!(blob.contains('-') || blob.contains('_'), "test bug: {blob} is not URL-safe-only");
    let env = format!("# session\nSTATE_BLOB={blob}\n");
    fs::write(dir.path().join("state.env"), &env).unwrap();

    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_found(&findings, &docker, &github, &auth, "github-pat-classic", &["base64"]);
    assert_found(&findings, &script, &slack, &basic, "slack-bot-token", &["base64"]);
    assert_found(&findings, &env, &aws, &blob, "aws-access-key-id", &["base64"]);
}

#[test]
fn percent_encoded_urls() {
    let dir = tempfile::tempdir().unwrap();
    let webhook = slack_webhook();
    let password = format!("{}9!{}", random_alnum(10), random_alnum(6));
    let database = format!("{}://billing:{password}@db.internal.acme.io:5432/orders", "postgres");
    let hook_param = percent_all(&webhook);
    let db_param = percent_all(&database);
    let text = format!(
        "links:\n  alerts: https://status.acme.io/subscribe?target={hook_param}&format=json\n  backup: \"https://backup.acme.io/run?source={db_param}\"\n"
    );
    fs::write(dir.path().join("links.yaml"), &text).unwrap();
    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(1), "{stderr}");
    let hook = findings.iter().find(|f| f["rule_id"] == "slack-webhook-url").expect("webhook found");
    assert_eq!(chain(hook), ["percent"]);
    assert_eq!((hook["line"].as_u64(), hook["column"].as_u64()), (Some(2), Some(11)), "{hook}");
    assert_found(&findings, &text, &password, "https://backup", "database-url-password", &["percent"]);
}

#[test]
fn escaped_strings_in_json_javascript_and_notebooks() {
    let dir = tempfile::tempdir().unwrap();
    let webhook = slack_webhook();
    let json = format!("{{\n  \"name\": \"alerts\",\n  \"hook\": \"{}\"\n}}\n", webhook.replace('/', "\\/"));
    fs::write(dir.path().join("hooks.json"), &json).unwrap();
    let aws = aws_key_id();
    let escaped_aws = format!("\\u{:04x}{}", u32::from(aws.as_bytes()[0]), &aws[1..]);
    let js = format!("export const config = {{\n  region: 'eu-west-1',\n  keyId: \"{escaped_aws}\",\n}};\n");
    fs::write(dir.path().join("config.js"), &js).unwrap();
    let secret = aws_secret();
    let notebook = format!(
        "{{\n \"cells\": [\n  {{\n   \"cell_type\": \"code\",\n   \"source\": [\n    \"import boto3\\n\",\n    \"aws_secret_access_key = \\\"{secret}\\\"\\n\",\n    \"s3 = boto3.client('s3')\"\n   ]\n  }}\n ]\n}}\n"
    );
    fs::write(dir.path().join("analysis.ipynb"), &notebook).unwrap();

    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(1), "{stderr}");
    let hook = findings.iter().find(|f| f["rule_id"] == "slack-webhook-url").expect("webhook found");
    assert_eq!(hook["secret"], webhook.as_str());
    assert_eq!(chain(hook), ["escape"]);
    assert_eq!((hook["line"].as_u64(), hook["column"].as_u64()), (Some(3), Some(12)), "{hook}");
    assert_found(&findings, &js, &aws, &escaped_aws, "aws-access-key-id", &["escape"]);
    assert_found(
        &findings,
        &notebook,
        &secret,
        "aws_secret_access_key = ",
        "aws-secret-access-key",
        &["escape"],
    );
}

#[test]
fn hex_encoded_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (github, stripe) = (github_token(), stripe_live_key());
    let (a, b) = (hex(&github), hex(&stripe).to_uppercase());
    let text = format!("[signing]\nseed = \"0x{a}\"\nbackup = {b}\n");
    fs::write(dir.path().join("keys.toml"), &text).unwrap();
    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_found(&findings, &text, &github, &a, "github-pat-classic", &["hex"]);
    assert_found(&findings, &text, &stripe, &b, "stripe-live-secret-key", &["hex"]);
}

#[test]
fn nesting_is_followed_to_the_configured_depth() {
    let dir = tempfile::tempdir().unwrap();
    // Depth 2: base64 of a JSON document that holds a percent-encoded URL.
    let webhook = slack_webhook();
    let document = format!("{{\"notify\": \"{}\", \"retries\": 3}}", percent_all(&webhook));
    let outer = base64(&document);
    let two = format!("settings: {outer}\n");
    fs::write(dir.path().join("two.yaml"), &two).unwrap();
    // Depth 3: base64 of base64 of base64 of a token.
    let github = github_token();
    let three = format!("blob = \"{}\"\n", base64(&base64(&base64(&github))));
    fs::write(dir.path().join("three.toml"), &three).unwrap();

    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(1), "{stderr}");
    let hook = findings.iter().find(|f| f["rule_id"] == "slack-webhook-url").expect("depth 2 found");
    assert_eq!(chain(hook), ["base64", "percent"]);
    assert_eq!((hook["line"].as_u64(), hook["column"].as_u64()), (Some(1), Some(11)));
    assert!(
        findings.iter().all(|f| f["path"] != "./three.toml"),
        "depth 3 is past the default: {findings:#?}"
    );

    fs::write(dir.path().join(".secretgate.toml"), "[decode]\ndepth = 3\n").unwrap();
    let (_, findings, _) = scan_json(dir.path(), &["."]);
    let deep = finding_of(&findings, &github);
    assert_eq!(chain(deep), ["base64", "base64", "base64"]);
    assert_eq!(deep["line"], 1);
    assert_eq!(deep["column"], 9);
}

#[test]
fn decode_config_is_checked_and_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let github = github_token();
    fs::write(dir.path().join("secret.yaml"), format!("data:\n  app: {}\n", base64(&github))).unwrap();

    fs::write(dir.path().join(".secretgate.toml"), "[decode]\nencodings = [\"base64\", \"rot13\"]\n")
        .unwrap();
    let out = secretgate(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("decode.encodings") && stderr.contains("rot13"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    fs::write(dir.path().join(".secretgate.toml"), "[decode]\nencodings = [\"hex\"]\n").unwrap();
    let (code, _, _) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(0), "base64 is not among the encodings");

    fs::write(dir.path().join(".secretgate.toml"), "[decode]\ndepth = 0\n").unwrap();
    let (code, _, _) = scan_json(dir.path(), &["."]);
    assert_eq!(code, Some(0), "depth 0 turns decoding off");

    fs::write(dir.path().join(".secretgate.toml"), "[decode]\ndepth = 2\n").unwrap();
    let (code, findings, _) = scan_json(dir.path(), &["."]);
    assert_eq!((code, findings.len()), (Some(1), 1));
}

#[test]
fn inline_markers_suppress_decoded_findings() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("data:\n  token: {} # secretgate:allow\n", base64(&github_token()));
    fs::write(dir.path().join("secret.yaml"), text).unwrap();
    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!((code, findings.len()), (Some(0), 0), "{stderr}");
    assert!(stderr.contains("1 suppressed"), "{stderr}");
}

// ---------------------------------------------------------------------------------
// Not found: encoded material that is not a secret
// ---------------------------------------------------------------------------------

/// Deterministic pseudo-random bytes.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64_with(der, B64, true);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[test]
fn binary_and_public_encoded_material_is_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| fs::write(dir.path().join(name), text).unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(bytes(1, 600));
    let mut woff = b"wOF2\0\x01\0\0".to_vec();
    woff.extend(bytes(2, 900));
    write(
        "styles.css",
        format!(
            ".logo {{ background: url(data:image/png;base64,{}); }}\n@font-face {{ src: url(\"data:font/woff2;base64,{}\") }}\n",
            base64_with(&png, B64, true),
            base64_with(&woff, B64, true)
        ),
    );
    let mut lock = String::from("{\n  \"packages\": {\n");
    for i in 0..40 {
        lock.push_str(&format!(
            "    \"node_modules/pkg{i}\": {{\n      \"version\": \"1.0.{i}\",\n      \"integrity\": \"sha512-{}\"\n    }},\n",
            base64_with(&bytes(100 + i, 64), B64, true)
        ));
    }
    lock.push_str("  }\n}\n");
    write("package-lock.json", lock);
    write(
        ".travis.yml",
        format!(
            "language: ruby\nenv:\n  global:\n    - secure: \"{}\"\ndeploy:\n  api_key:\n    secure: {}\n",
            base64_with(&bytes(3, 256), B64, true),
            base64_with(&bytes(4, 256), B64, true)
        ),
    );
    let mut cert = vec![0x30, 0x82, 0x03, 0x50, 0x30, 0x82, 0x02, 0x38, 0xa0, 0x03, 0x02, 0x01, 0x02];
    cert.extend(bytes(5, 300));
    cert.extend(b"\x31\x0b\x30\x09\x06\x03\x55\x04\x06\x13\x02US1\x130\x11\x06\x03U\x04\x08\x0c\nCalifornia");
    cert.extend(bytes(6, 500));
    write("ca.pem", pem("CERTIFICATE", &cert));
    let mut spki = vec![0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7];
    spki.extend(bytes(7, 280));
    write("key.pub.pem", pem("PUBLIC KEY", &spki));
    let mut ssh = b"\0\0\0\x07ssh-rsa\0\0\0\x03\x01\0\x01\0\0\x01\x01".to_vec();
    ssh.extend(bytes(8, 257));
    write("id_rsa.pub", format!("ssh-rsa {} deploy@build\n", base64_with(&ssh, B64, true)));
    let mut pgp = vec![0x99, 0x01, 0x0d, 0x04];
    pgp.extend(bytes(9, 400));
    write("release.asc", pem("PGP PUBLIC KEY BLOCK", &pgp));
    // A minified bundle: escapes, unicode escapes, a sourcemap comment, a font inline.
    let mut bundle = String::new();
    for i in 0..200 {
        bundle.push_str(&format!(
            "var a{i}=\"\\u003cdiv class=\\\"row-{i}\\\"\\u003e\\n\",b{i}='https:\\/\\/cdn.acme.io\\/img\\/{i}.png';function f{i}(e,t){{return e.replace(/\\s+/g,\"\\t\")+t}}"
        ));
    }
    bundle.push_str(&format!(
        "\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,{}\n",
        base64("{\"version\":3,\"sources\":[\"src/app.ts\"],\"mappings\":\"AAAA,SAASA,EAAE;AACX\"}")
    ));
    write("bundle.min.js", bundle);
    write(
        "bundle.min.js.map",
        "{\"version\":3,\"file\":\"bundle.min.js\",\"sources\":[\"webpack:\\/\\/\\/src\\/index.ts\"],\"sourcesContent\":[\"import { api } from './api';\\nexport const token = process.env.API_TOKEN;\\nconsole.log(\\\"ready\\\");\\n\"],\"mappings\":\"AAAA,SAASA,GAAGC,CAACC,CAAC;AAAAA,MAAMC,YAAY,GAAGC,OAAOC,KAAK,UAAUC,CAACC;AAClDC,OAAOC,IAAI,CAAC,QAAQ\"}\n"
            .to_string(),
    );
    write(
        "digests.txt",
        format!("sha256 {}\nsha1 {}\n", hex_bytes(&bytes(10, 32)), hex_bytes(&bytes(11, 20))),
    );

    let (code, findings, stderr) = scan_json(dir.path(), &["."]);
    assert_eq!((code, findings.len()), (Some(0), 0), "{findings:#?}\n{stderr}");
}

fn hex_bytes(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------

#[test]
fn broken_encodings_give_results_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let github = github_token();
    let cases = [
        format!("s = \"{}\\u00", &github[..20]),
        format!("s = \"abc\\x4\" + '{}\\", base64(&github)),
        format!("token: {}===\n", base64(&github)),
        format!("token: {}\n", &base64(&github)[..41]),
        format!("url = https://x.io/?a={}%", percent_all(&github)),
        "%".to_string(),
        "\\".to_string(),
        format!("{}%2", "%41".repeat(50)),
    ];
    for (i, case) in cases.iter().enumerate() {
        fs::write(dir.path().join(format!("case{i}.txt")), case).unwrap();
    }
    let out = secretgate(&["scan", "--format", "json", "."], dir.path());
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("scanned {} inputs", cases.len())), "{stderr}");
}

#[test]
fn a_long_single_line_of_base64_is_scanned_or_skipped_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob.b64");
    // 12 MB of base64 on one line, of text (every span decodes), with a token at the end.
    let github = github_token();
    let mut text = "lorem ipsum dolor sit amet ".repeat(350_000);
    text.push_str(&github);
    let line = base64(&text);
    fs::write(&path, &line).unwrap();
    let started = std::time::Instant::now();
    let out =
        secretgate(&["scan", "--max-file-size", "100000000", "--format", "json", "blob.b64"], dir.path());
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
    // Default size limit: skipped and counted, never silently.
    let out = secretgate(&["scan", "blob.b64"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the size limit"));
}
