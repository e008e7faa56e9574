//! Engine throughput on generated inputs: ordinary source code, code with sparse secrets,
//! minified JavaScript, lockfiles, and base64-heavy Kubernetes manifests; each with the
//! decoding stage on (the default) and off. Run with `cargo bench -p secretgate-benches`.
//!
//! Inputs are generated (deterministically) rather than read from disk, so the numbers
//! measure the matcher and not the file system; `benches/throughput.sh` measures the
//! whole binary over a real tree.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use secretgate_scanner::{decode::DecodeOptions, scan::InputName, ScanSummary, Scanner, ScannerBuilder};

/// A small deterministic PRNG (xorshift64*), so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn alnum(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| A[(self.next() % 62) as usize] as char).collect()
    }
    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap()).collect()
    }
}

const SIZE: usize = 4 << 20;

/// Source code in the style of a web service: functions, config reads, HTTP calls, and
/// the words (`token`, `secret`, `key`, `password`) that make keyword prefilters work.
fn source_code(rng: &mut Rng, secrets_every: Option<usize>) -> Vec<u8> {
    let idents =
        ["user", "request", "session", "token", "config", "handler", "key", "value", "items", "cache"];
    let templates = [
        "    let {a}_{b} = self.{c}.get(\"{a}\").unwrap_or_default();\n",
        "def {a}_{b}(self, {c}):\n    return self.{c}_{a} or {b}\n",
        "    if ({a}.{b} == null) {{ throw new Error('missing {c}'); }}\n",
        "    // refresh the {a} {b} before the {c} expires\n",
        "    {a}_{b} = os.environ.get(\"{A}_{B}\")\n",
        "    resp = http.post(url + \"/v1/{a}/{b}\", headers={{\"Authorization\": auth_{c}}})\n",
        "    password_field = form.get('{a}_password')\n",
        "import {{ {a}, {b} }} from './{c}';\n",
        "  \"{a}\": \"{b}\",\n",
        "    return hmac.new(secret_key, msg, hashlib.sha256).hexdigest()\n",
    ];
    let mut out = String::with_capacity(SIZE + 256);
    let mut line = 0usize;
    while out.len() < SIZE {
        line += 1;
        #[allow(clippy::manual_is_multiple_of)] // `is_multiple_of` is newer than our rust-version
        if secrets_every.is_some_and(|every| line % every == 0) {
            out.push_str(&format!("    GITHUB_TOKEN = \"gh{}_{}\"\n", "p", rng.alnum(36)));
            out.push_str(&format!("    aws_access_key_id = \"AKIA{}\"\n", rng.alnum(16).to_uppercase()));
            continue;
        }
        let (a, b, c) = (rng.pick(&idents), rng.pick(&idents), rng.pick(&idents));
        let template = rng.pick(&templates);
        out.push_str(
            &template
                .replace("{a}", a)
                .replace("{b}", b)
                .replace("{c}", c)
                .replace("{A}", &a.to_uppercase())
                .replace("{B}", &b.to_uppercase())
                .replace("{{", "{")
                .replace("}}", "}"),
        );
    }
    out.into_bytes()
}

/// Minified JavaScript: very long lines of short identifiers and punctuation.
fn minified_js(rng: &mut Rng) -> Vec<u8> {
    let pieces = [
        "function(e,t){",
        "return e&&t}",
        "var n=",
        "t.exports=",
        "r(",
        "\"use strict\";",
        "a.push(o);",
        "})",
        ",i=",
        "key:",
        "token:n,",
        "0x1f",
        "null",
    ];
    let mut out = String::with_capacity(SIZE + 64);
    while out.len() < SIZE {
        for _ in 0..4000 {
            out.push_str(rng.pick(&pieces));
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// A package-lock.json: integrity hashes, resolved URLs, versions.
fn lockfile(rng: &mut Rng) -> Vec<u8> {
    let mut out = String::with_capacity(SIZE + 512);
    while out.len() < SIZE {
        let name = rng.alnum(8).to_lowercase();
        out.push_str(&format!(
            "    \"node_modules/{name}\": {{\n      \"version\": \"{}.{}.{}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz\",\n      \"integrity\": \"sha512-{}==\",\n      \"dev\": true\n    }},\n",
            rng.next() % 10, rng.next() % 30, rng.next() % 20, rng.alnum(86),
        ));
        out.push_str(&format!("    \"resolved-sha\": \"{}\",\n", rng.hex(40)));
    }
    out.into_bytes()
}

/// Kubernetes manifests: Secrets whose `data:` values are base64 of text (each one a
/// decoding candidate that decodes), between Deployments.
fn manifests(rng: &mut Rng) -> Vec<u8> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let encode = |text: &str| -> String {
        let mut out = String::new();
        for chunk in text.as_bytes().chunks(3) {
            let n = (u32::from(chunk[0]) << 16)
                | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
                | u32::from(chunk.get(2).copied().unwrap_or(0));
            for i in 0..4 {
                out.push(if i <= chunk.len() {
                    B64[((n >> (18 - 6 * i)) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    };
    let mut out = String::with_capacity(SIZE + 1024);
    while out.len() < SIZE {
        let name = rng.alnum(8).to_lowercase();
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ndata:\n  username: {}\n  password: {}\n  config.json: {}\n",
            encode(&format!("svc-{name}")),
            encode(&rng.alnum(24)),
            encode(&format!("{{\"endpoint\": \"https://{name}.internal:8443/v1\", \"timeout\": 30}}")),
        ));
        out.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.acme.io/{name}@sha256:{}\n",
            rng.hex(64)
        ));
    }
    out.into_bytes()
}

fn builder() -> ScannerBuilder {
    ScannerBuilder::new(secretgate_patterns::builtin::rules().expect("built-in rules load"))
}

fn scanner() -> Scanner {
    builder().build().expect("built-in rules compile")
}

fn scanner_without_decoding() -> Scanner {
    builder().decode(DecodeOptions::off()).build().expect("built-in rules compile")
}

fn engine(c: &mut Criterion) {
    let scanners = [("decode", scanner()), ("no-decode", scanner_without_decoding())];
    let mut rng = Rng(0x005E_C2E7_6A7E);
    let inputs = [
        ("source-clean", source_code(&mut rng, None)),
        ("source-sparse-secrets", source_code(&mut rng, Some(5000))),
        ("minified-js", minified_js(&mut rng)),
        ("lockfile", lockfile(&mut rng)),
        ("k8s-manifests", manifests(&mut rng)),
    ];
    let mut group = c.benchmark_group("scan");
    group.sample_size(10);
    for (name, input) in &inputs {
        group.throughput(Throughput::Bytes(input.len() as u64));
        for (mode, scanner) in &scanners {
            group.bench_with_input(BenchmarkId::new(*name, mode), input, |b, input| {
                let mut worker = scanner.worker();
                let mut findings = Vec::new();
                b.iter(|| {
                    let mut summary = ScanSummary::default();
                    findings.clear();
                    scanner.scan_input(
                        input,
                        InputName::same("bench"),
                        &mut worker,
                        &mut summary,
                        &mut findings,
                    );
                    findings.len()
                })
            });
        }
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    // What every hook invocation pays before reading a byte: parse and compile the rules.
    c.bench_function("load-and-compile-rules", |b| b.iter(scanner));
}

criterion_group!(benches, engine, startup);
criterion_main!(benches);
