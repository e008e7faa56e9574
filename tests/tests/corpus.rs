//! Recall and false-positive rate of the built `secretgate` binary on a labelled corpus.
//!
//! The corpus is generated at test time, one case per file, each in its own directory
//! (`p001/config.py`, `n042/package-lock.json`, ...): positives hold a credential that
//! a scanner must report, negatives hold the look-alikes it must stay quiet about
//! (placeholders, digests, UUIDs, lockfiles, public keys, secret *names*, ...).
//!
//! Every credential is assembled at run time from a split prefix and a body drawn from
//! a deterministic PRNG, so this source holds no literal token: other scanners and
//! push protection have nothing to trip on, and runs are reproducible.
//!
//! The binary runs once over the whole corpus (`scan --format json DIR`); a file with
//! at least one finding counts as flagged. Misses and false positives are printed to
//! stderr (run with `--nocapture`) before the thresholds are asserted.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path};

/// Share of positive files that must be flagged.
const MIN_RECALL: f64 = 0.95;
/// Share of negative files that may be flagged.
const MAX_FALSE_POSITIVE_RATE: f64 = 0.01;
/// The corpus must stay at least this large on each side.
const MIN_POSITIVES: usize = 250;
const MIN_NEGATIVES: usize = 250;
/// The PRNG seed. `SECRETGATE_CORPUS_SEED=<u64>` draws another corpus of the same shape
/// (to check that a result does not hang on one lucky draw); the default keeps runs
/// reproducible.
const SEED: u64 = 0x5ec2_e76a_7e00_c0de;

const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";
const HEX_UPPER: &str = "0123456789ABCDEF";
const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Base62 in the order GitHub's checksum uses: digits, upper, lower.
const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BECH32_UPPER: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const WORDS: &[&str] = &[
    "billing",
    "orders",
    "payments",
    "inventory",
    "search",
    "notify",
    "ledger",
    "gateway",
    "catalog",
    "reports",
    "metrics",
    "uploads",
    "mailer",
    "scheduler",
    "checkout",
    "profile",
    "analytics",
    "media",
    "shipping",
    "pricing",
];

// ---------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) % n as u64) as usize
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn word(&mut self) -> &'static str {
        self.pick(WORDS)
    }

    /// `len` characters drawn uniformly from `alphabet` (ASCII).
    fn s(&mut self, alphabet: &str, len: usize) -> String {
        let a = alphabet.as_bytes();
        (0..len).map(|_| a[self.below(a.len())] as char).collect()
    }

    /// 16 hex digits as random hex often falls: seven distinct ones, one four times and
    /// the others twice, shuffled (2.75 bits each, under the 3.0 that longer values need).
    fn repeating_hex(&mut self) -> String {
        let mut digits: Vec<u8> = HEX.bytes().collect();
        for i in (1..digits.len()).rev() {
            digits.swap(i, self.below(i + 1));
        }
        let mut value: Vec<u8> = digits[..7].iter().flat_map(|&d| [d, d]).collect();
        value.extend([digits[0], digits[0]]);
        for i in (1..value.len()).rev() {
            value.swap(i, self.below(i + 1));
        }
        String::from_utf8(value).unwrap()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 24) as u8).collect()
    }

    /// A password-like value: letters and digits, all three classes present, no run
    /// of three equal characters.
    fn mixed(&mut self, lo: usize, hi: usize) -> String {
        loop {
            let len = self.range(lo, hi);
            let s = self.s(BASE62, len);
            let b = s.as_bytes();
            if b.iter().any(u8::is_ascii_uppercase)
                && b.iter().any(u8::is_ascii_lowercase)
                && b.iter().any(u8::is_ascii_digit)
                && !b.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
            {
                return s;
            }
        }
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-{}{}-{}",
            self.s(HEX, 8),
            self.s(HEX, 4),
            self.s(HEX, 3),
            self.s("89ab", 1),
            self.s(HEX, 3),
            self.s(HEX, 12)
        )
    }
}

// ---------------------------------------------------------------------------------
// Encodings and credential formats
// ---------------------------------------------------------------------------------

fn b64(data: &[u8], alphabet: &str, pad: bool) -> String {
    common::base64_with(data, alphabet.as_bytes(), pad)
}

/// `n` in base62 (0-9A-Za-z), most significant digit first, zero-padded to `width`.
fn base62_fixed(mut n: u32, width: usize) -> String {
    let a = BASE62.as_bytes();
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = a[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("ascii")
}

/// GitHub classic tokens and npm tokens: prefix, 30 random base62 characters, and the
/// CRC32 of those 30 characters in 6 base62 digits.
fn checksummed(r: &mut Rng, prefix: &str) -> String {
    let body = r.s(BASE62, 30);
    let crc = crc32fast::hash(body.as_bytes());
    format!("{prefix}{body}{}", base62_fixed(crc, 6))
}

fn jwt(r: &mut Rng) -> String {
    let hs = r.below(3) != 0;
    let header = if hs {
        r#"{"alg":"HS256","typ":"JWT"}"#.to_string()
    } else {
        format!(r#"{{"alg":"RS256","kid":"{}","typ":"JWT"}}"#, r.s(HEX, 16))
    };
    let iat = 1_690_000_000 + r.below(30_000_000);
    let name = r.pick(&["svc-deploy", "ada", "grace", "ci-bot", "reporting"]);
    let payload = format!(
        r#"{{"sub":"{}","name":"{name}","scope":"read write","iat":{iat},"exp":{}}}"#,
        r.uuid(),
        iat + 86_400 * 365
    );
    let signature = r.bytes(if hs { 32 } else { 256 });
    format!(
        "{}.{}.{}",
        b64(header.as_bytes(), B64URL, false),
        b64(payload.as_bytes(), B64URL, false),
        b64(&signature, B64URL, false)
    )
}

fn pem_label(kind: &str) -> String {
    let private = ["PRIV", "ATE KEY"].concat();
    if kind.is_empty() {
        private
    } else {
        format!("{kind} {private}")
    }
}

/// A PEM block (no trailing newline) around `der`, wrapped at `width` columns.
fn pem(label: &str, der: &[u8], width: usize) -> String {
    let body = b64(der, B64, true);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(width) {
        s.push_str(std::str::from_utf8(line).expect("ascii"));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----"));
    s
}

fn der(prefix: &[u8], r: &mut Rng, random: usize) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend(r.bytes(random));
    v
}

fn rsa_pkcs1_der(r: &mut Rng) -> Vec<u8> {
    der(&[0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00], r, 1180)
}

fn pkcs8_der(r: &mut Rng) -> Vec<u8> {
    let mut v = vec![
        0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x82, 0x04, 0xa8,
    ];
    v.extend(rsa_pkcs1_der(r));
    v
}

fn ec_der(r: &mut Rng) -> Vec<u8> {
    let mut v = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
    v.extend(r.bytes(32));
    v.extend([
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00,
        0x04,
    ]);
    v.extend(r.bytes(64));
    v
}

fn push_str32(v: &mut Vec<u8>, s: &[u8]) {
    v.extend((s.len() as u32).to_be_bytes());
    v.extend(s);
}

fn openssh_der(r: &mut Rng, key_type: &str, random: usize) -> Vec<u8> {
    let mut v = b"openssh-key-v1\0".to_vec();
    push_str32(&mut v, b"none");
    push_str32(&mut v, b"none");
    push_str32(&mut v, b"");
    v.extend(1u32.to_be_bytes());
    let mut public = Vec::new();
    push_str32(&mut public, key_type.as_bytes());
    public.extend(r.bytes(32));
    push_str32(&mut v, &public);
    v.extend(r.bytes(random));
    v
}

fn ssh_public(r: &mut Rng, key_type: &str) -> String {
    let mut v = Vec::new();
    push_str32(&mut v, key_type.as_bytes());
    if key_type == "ssh-rsa" {
        push_str32(&mut v, &[0x01, 0x00, 0x01]);
        let mut n = vec![0u8];
        n.extend(r.bytes(256));
        push_str32(&mut v, &n);
    } else if key_type.starts_with("ecdsa") {
        push_str32(&mut v, b"nistp256");
        let mut point = vec![0x04];
        point.extend(r.bytes(64));
        push_str32(&mut v, &point);
    } else {
        let key = r.bytes(32);
        push_str32(&mut v, &key);
    }
    b64(&v, B64, true)
}

fn public_key_der(r: &mut Rng) -> Vec<u8> {
    let mut v = vec![
        0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
        0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00,
    ];
    v.extend(r.bytes(256));
    v.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
    v
}

fn certificate_der(r: &mut Rng) -> Vec<u8> {
    let random = r.range(820, 900);
    der(
        &[0x30, 0x82, 0x03, 0x5a, 0x30, 0x82, 0x02, 0x42, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x09, 0x00],
        r,
        random,
    )
}

/// Bytes with a file format's magic number in front, base64 encoded.
fn magic_b64(r: &mut Rng, magic: &[u8], len: usize) -> String {
    let mut v = magic.to_vec();
    v.extend(r.bytes(len));
    b64(&v, B64, true)
}

// ---------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------

struct Case {
    id: String,
    kind: String,
    file: String,
    content: String,
    positive: bool,
    /// Positives: a substring of the line that holds the secret.
    needle: String,
}

#[derive(Default)]
struct Corpus {
    cases: Vec<Case>,
    positives: usize,
    negatives: usize,
}

impl Corpus {
    fn pos(&mut self, kind: &str, file: &str, content: String, needle: &str) {
        assert!(content.contains(needle), "corpus bug: {kind}/{file} does not contain its secret");
        self.positives += 1;
        self.cases.push(Case {
            id: format!("p{:03}", self.positives),
            kind: kind.to_string(),
            file: file.to_string(),
            content,
            positive: true,
            needle: needle.to_string(),
        });
    }

    fn neg(&mut self, kind: &str, file: &str, content: String) {
        self.negatives += 1;
        self.cases.push(Case {
            id: format!("n{:03}", self.negatives),
            kind: kind.to_string(),
            file: file.to_string(),
            content,
            positive: false,
            needle: String::new(),
        });
    }
}

// ---------------------------------------------------------------------------------
// Single-value templates: a credential (or a look-alike) assigned to a name
// ---------------------------------------------------------------------------------

/// A file in some language that assigns `{VALUE}` to a name. Placeholders: `{NAME}`
/// (UPPER_SNAKE), `{name}` (lower_snake), `{camel}`, `{Camel}`, `{word}`, `{N}`.
struct Tpl {
    file: &'static str,
    body: &'static str,
    /// One of the formats the generic `password|secret|token|api_key = ...` rules are
    /// measured on.
    generic: bool,
    /// Configuration formats (where `${VAR}`, `{{ x }}` templating is at home).
    config: bool,
    /// Uses the value as a bearer token: not for URLs and connection strings.
    bearer: bool,
}

const TEMPLATES: &[Tpl] = &[
    Tpl {
        file: "config.py",
        generic: true,
        config: false,
        bearer: false,
        body: r##""""Settings for the {word} service."""
import os

{NAME} = "{VALUE}"
TIMEOUT_SECONDS = {N}


def client_config():
    return {"endpoint": "https://{word}.internal.acme.io/v2", "auth": {NAME}, "timeout": TIMEOUT_SECONDS}
"##,
    },
    Tpl {
        file: "test_client.py",
        generic: true,
        config: false,
        bearer: false,
        body: r##"import unittest

from {word}.client import Client


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.client = Client(base_url="https://{word}.internal.acme.io", {name}="{VALUE}")

    def test_ping(self):
        self.assertTrue(self.client.ping())
"##,
    },
    Tpl {
        file: "client.js",
        generic: true,
        config: false,
        bearer: false,
        body: r##"'use strict';

const axios = require('axios');

const {camel} = '{VALUE}';

module.exports = function createClient(baseURL) {
  return axios.create({ baseURL, timeout: {N}, params: { auth: {camel} } });
};
"##,
    },
    Tpl {
        file: "settings.ts",
        generic: true,
        config: false,
        bearer: false,
        body: r##"export interface Settings {
  region: string;
  {camel}: string;
  retries: number;
}

export const settings: Settings = {
  region: 'eu-west-1',
  {camel}: "{VALUE}",
  retries: 3,
};
"##,
    },
    Tpl {
        file: "config.go",
        generic: true,
        config: false,
        bearer: false,
        body: r##"package config

import "time"

const (
    {Camel} = "{VALUE}"
    Timeout = {N} * time.Millisecond
)
"##,
    },
    Tpl {
        file: "Credentials.java",
        generic: true,
        config: false,
        bearer: false,
        body: r##"package com.acme.{word};

public final class Credentials {
    public static final String {NAME} = "{VALUE}";
    public static final int TIMEOUT_MS = {N};

    private Credentials() {
    }
}
"##,
    },
    Tpl {
        file: "Config.kt",
        generic: false,
        config: false,
        bearer: false,
        body: r##"package com.acme.{word}

object Config {
    const val baseUrl = "https://{word}.internal.acme.io"
    val {camel} = "{VALUE}"
}
"##,
    },
    Tpl {
        file: "Settings.cs",
        generic: true,
        config: false,
        bearer: false,
        body: r##"namespace Acme.Services
{
    public static class Settings
    {
        public const string {Camel} = "{VALUE}";
        public const int TimeoutMs = {N};
    }
}
"##,
    },
    Tpl {
        file: "initializer.rb",
        generic: true,
        config: false,
        bearer: false,
        body: r##"# frozen_string_literal: true

Acme::Client.configure do |config|
  config.endpoint = "https://{word}.internal.acme.io"
  config.{name} = "{VALUE}"
  config.timeout = {N}
end
"##,
    },
    Tpl {
        file: "config.php",
        generic: true,
        config: false,
        bearer: false,
        body: r##"<?php

return [
    'endpoint' => 'https://{word}.internal.acme.io',
    '{name}' => '{VALUE}',
    'timeout' => {N},
];
"##,
    },
    Tpl {
        file: "main.rs",
        generic: true,
        config: false,
        bearer: false,
        body: r##"const ENDPOINT: &str = "https://{word}.internal.acme.io";
const {NAME}: &str = "{VALUE}";

fn main() {
    let client = acme::Client::new(ENDPOINT, {NAME});
    client.ping().expect("ping");
}
"##,
    },
    Tpl {
        file: ".env",
        generic: true,
        config: true,
        bearer: false,
        body: r##"# {word} service
APP_ENV=production
PORT={N}
{NAME}={VALUE}
LOG_LEVEL=info
"##,
    },
    Tpl {
        file: "docker-compose.yml",
        generic: true,
        config: true,
        bearer: false,
        body: r##"services:
  {word}:
    image: ghcr.io/acme/{word}:1.4.2
    restart: unless-stopped
    environment:
      NODE_ENV: production
      {NAME}: {VALUE}
    ports:
      - "{N}:8080"
"##,
    },
    Tpl {
        file: "application.yml",
        generic: true,
        config: true,
        bearer: false,
        body: r##"spring:
  application:
    name: {word}-service
acme:
  {word}:
    base-url: https://{word}.internal.acme.io
    {camel}: {VALUE}
    timeout: {N}ms
"##,
    },
    Tpl {
        file: "config.json",
        generic: true,
        config: true,
        bearer: false,
        body: r##"{
  "service": "{word}",
  "port": {N},
  "{camel}": "{VALUE}",
  "debug": false
}
"##,
    },
    Tpl {
        file: "appsettings.json",
        generic: true,
        config: true,
        bearer: false,
        body: r##"{
  "Logging": {
    "LogLevel": {
      "Default": "Information"
    }
  },
  "{Camel}": "{VALUE}",
  "AllowedHosts": "*"
}
"##,
    },
    Tpl {
        file: "settings.ini",
        generic: true,
        config: true,
        bearer: false,
        body: r##"[{word}]
endpoint = https://{word}.internal.acme.io
{name} = {VALUE}
retries = 3
"##,
    },
    Tpl {
        file: "application.properties",
        generic: true,
        config: true,
        bearer: false,
        body: r##"server.port={N}
acme.{word}.base-url=https://{word}.internal.acme.io
acme.{word}.{camel}={VALUE}
logging.level.root=INFO
"##,
    },
    Tpl {
        file: "main.tf",
        generic: true,
        config: true,
        bearer: false,
        body: r##"provider "acme" {
  endpoint = "https://{word}.internal.acme.io"
  {name} = "{VALUE}"
}

resource "acme_project" "{word}" {
  name = "{word}"
}
"##,
    },
    Tpl {
        file: "terraform.tfvars",
        generic: true,
        config: true,
        bearer: false,
        body: r##"region       = "eu-west-1"
project_name = "{word}"
{name} = "{VALUE}"
"##,
    },
    Tpl {
        file: "Dockerfile",
        generic: true,
        config: true,
        bearer: false,
        body: r##"FROM python:3.12-slim
WORKDIR /app
ENV {NAME}={VALUE}
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["python", "-m", "{word}"]
"##,
    },
    Tpl {
        file: "deploy.sh",
        generic: true,
        config: true,
        bearer: false,
        body: r##"#!/usr/bin/env bash
set -euo pipefail

export {NAME}="{VALUE}"
./bin/{word} deploy --env production --timeout {N}
"##,
    },
    Tpl {
        file: "secret.yaml",
        generic: true,
        config: true,
        bearer: false,
        body: r##"apiVersion: v1
kind: Secret
metadata:
  name: {word}-config
  namespace: production
type: Opaque
stringData:
  {NAME}: "{VALUE}"
"##,
    },
    Tpl {
        file: "deploy.yml",
        generic: true,
        config: true,
        bearer: false,
        body: r##"name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      {NAME}: {VALUE}
    steps:
      - uses: actions/checkout@v4
      - run: make deploy
"##,
    },
    Tpl {
        file: "config.toml",
        generic: true,
        config: true,
        bearer: false,
        body: r##"[{word}]
endpoint = "https://{word}.internal.acme.io"
{name} = "{VALUE}"
timeout_ms = {N}
"##,
    },
    Tpl {
        file: "values.yaml",
        generic: true,
        config: true,
        bearer: false,
        body: r##"replicaCount: 2
image:
  repository: ghcr.io/acme/{word}
  tag: "1.4.2"
env:
  {NAME}: "{VALUE}"
"##,
    },
    Tpl {
        file: "Makefile",
        generic: false,
        config: false,
        bearer: false,
        body: "SERVICE := {word}\n{NAME} ?= {VALUE}\n\ndeploy:\n\t./bin/deploy --service $(SERVICE) --auth \"$({NAME})\"\n",
    },
    Tpl {
        file: "README.md",
        generic: false,
        config: false,
        bearer: true,
        body: r##"# {word} client

Quick check that the API answers:

```sh
curl -H "Authorization: Bearer {VALUE}" https://{word}.internal.acme.io/v1/me
```
"##,
    },
    Tpl {
        file: "settings.xml",
        generic: false,
        config: false,
        bearer: false,
        body: r##"<settings>
  <servers>
    <server>
      <id>{word}-releases</id>
      <username>deploy</username>
      <password>{VALUE}</password>
    </server>
  </servers>
</settings>
"##,
    },
    Tpl {
        file: "explore.ipynb",
        generic: false,
        config: false,
        bearer: false,
        body: r##"{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {},
   "outputs": [],
   "source": [
    "import requests\n",
    "{camel} = \"{VALUE}\"\n",
    "resp = requests.get(\"https://{word}.internal.acme.io/v1/items\", params={\"auth\": {camel}})"
   ]
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
"##,
    },
];

fn camel_case(upper_snake: &str, first_upper: bool) -> String {
    let mut out = String::new();
    for (i, part) in upper_snake.split('_').filter(|p| !p.is_empty()).enumerate() {
        let lower = part.to_ascii_lowercase();
        if i == 0 && !first_upper {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(c) = chars.next() {
                out.push(c.to_ascii_uppercase());
                out.extend(chars);
            }
        }
    }
    out
}

fn render(r: &mut Rng, tpl: &str, name: &str, value: &str) -> String {
    let word = r.word();
    let n = r.range(1024, 9999).to_string();
    tpl.replace("{NAME}", name)
        .replace("{name}", &name.to_ascii_lowercase())
        .replace("{camel}", &camel_case(name, false))
        .replace("{Camel}", &camel_case(name, true))
        .replace("{word}", word)
        .replace("{N}", &n)
        .replace("{VALUE}", value)
}

// ---------------------------------------------------------------------------------
// Positives
// ---------------------------------------------------------------------------------

/// A credential format, embedded through the single-value templates.
struct Provider {
    kind: &'static str,
    /// A name that says what it holds, and a name without any secret-ish word.
    names: [&'static str; 2],
    count: usize,
    /// URLs and connection strings are not bearer tokens.
    url: bool,
    gen: fn(&mut Rng) -> String,
}

fn providers() -> Vec<Provider> {
    fn p(
        kind: &'static str,
        names: [&'static str; 2],
        count: usize,
        gen: fn(&mut Rng) -> String,
    ) -> Provider {
        Provider { kind, names, count, url: false, gen }
    }
    fn u(
        kind: &'static str,
        names: [&'static str; 2],
        count: usize,
        gen: fn(&mut Rng) -> String,
    ) -> Provider {
        Provider { kind, names, count, url: true, gen }
    }
    fn db_host(r: &mut Rng) -> String {
        match r.below(3) {
            0 => format!("{}-db.internal.acme.net", r.word()),
            1 => format!("10.{}.{}.{}", r.range(0, 254), r.range(0, 254), r.range(1, 254)),
            _ => format!("prod-{}.{}.eu-west-1.rds.amazonaws.com", r.word(), r.s(LOWER_ALNUM, 12)),
        }
    }
    vec![
        p("github-pat-classic", ["GITHUB_TOKEN", "GH_DEPLOY"], 6, |r| checksummed(r, concat!("gh", "p_"))),
        p("github-oauth", ["GITHUB_OAUTH_TOKEN", "GH_OAUTH"], 3, |r| checksummed(r, concat!("gh", "o_"))),
        p("github-user-to-server", ["GH_APP_USER_TOKEN", "GH_USER_AUTH"], 3, |r| {
            checksummed(r, concat!("gh", "u_"))
        }),
        p("github-server-to-server", ["GITHUB_APP_TOKEN", "GH_INSTALLATION"], 3, |r| {
            checksummed(r, concat!("gh", "s_"))
        }),
        p("github-refresh", ["GITHUB_REFRESH_TOKEN", "GH_REFRESH"], 3, |r| {
            // GitHub App user refresh tokens are longer than the classic 36-character
            // tokens: `ghr_` and 76 characters (mixed-case hex in GitHub's docs).
            format!("{}{}", concat!("gh", "r_"), r.s("0123456789abcdefABCDEF", 76))
        }),
        p("github-fine-grained", ["GITHUB_PAT", "GH_FG"], 5, |r| {
            format!("{}{}_{}", concat!("github", "_pat_"), r.s(BASE62, 22), r.s(BASE62, 59))
        }),
        p("gitlab-pat", ["GITLAB_TOKEN", "GL_CI"], 5, |r| {
            format!("{}{}", concat!("gl", "pat-"), r.s(B64URL, 20))
        }),
        p("slack-bot-token", ["SLACK_BOT_TOKEN", "SLACK_BOT"], 5, |r| {
            format!("{}{}-{}-{}", concat!("xo", "xb-"), r.s(DIGITS, 12), r.s(DIGITS, 13), r.s(BASE62, 24))
        }),
        p("slack-user-token", ["SLACK_USER_TOKEN", "SLACK_USER"], 4, |r| {
            format!(
                "{}{}-{}-{}-{}",
                concat!("xo", "xp-"),
                r.s(DIGITS, 12),
                r.s(DIGITS, 12),
                r.s(DIGITS, 13),
                r.s(HEX, 32)
            )
        }),
        u("slack-webhook", ["SLACK_WEBHOOK_URL", "ALERTS_HOOK"], 5, |r| {
            format!(
                "https://{}/services/T{}/B{}/{}",
                concat!("hooks.", "slack.com"),
                r.s(UPPER_ALNUM, 8),
                r.s(UPPER_ALNUM, 10),
                r.s(BASE62, 24)
            )
        }),
        p("stripe-secret-key", ["STRIPE_SECRET_KEY", "STRIPE_LIVE"], 5, |r| {
            let n = if r.below(2) == 0 { 24 } else { 99 };
            format!("{}{}", concat!("sk_", "live_"), r.s(BASE62, n))
        }),
        p("stripe-restricted-key", ["STRIPE_RESTRICTED_KEY", "STRIPE_RK"], 2, |r| {
            format!("{}{}", concat!("rk_", "live_"), r.s(BASE62, 99))
        }),
        p("sendgrid", ["SENDGRID_API_KEY", "SG_MAIL"], 5, |r| {
            format!("{}{}.{}", concat!("S", "G."), r.s(B64URL, 22), r.s(B64URL, 43))
        }),
        p("mailgun", ["MAILGUN_API_KEY", "MG_KEY"], 4, |r| {
            format!("{}{}", concat!("ke", "y-"), r.s(HEX, 32))
        }),
        p("npm", ["NPM_TOKEN", "NPM_PUBLISH"], 4, |r| checksummed(r, concat!("np", "m_"))),
        p("pypi", ["PYPI_API_TOKEN", "PYPI_UPLOAD"], 4, |r| {
            let len = r.range(150, 200);
            format!("{}{}", concat!("pypi-AgEIcHlw", "aS5vcmc"), r.s(B64URL, len))
        }),
        p("dockerhub-pat", ["DOCKERHUB_TOKEN", "DOCKER_HUB_PAT"], 5, |r| {
            format!("{}{}", concat!("dckr", "_pat_"), r.s(B64URL, 27))
        }),
        p("openai", ["OPENAI_API_KEY", "OPENAI_KEY"], 5, |r| {
            let marker = concat!("T3Blbk", "FJ");
            if r.below(4) == 0 {
                format!("sk-{}{marker}{}", r.s(BASE62, 20), r.s(BASE62, 20))
            } else {
                format!("{}{}{marker}{}", concat!("sk-", "proj-"), r.s(B64URL, 74), r.s(B64URL, 74))
            }
        }),
        p("anthropic", ["ANTHROPIC_API_KEY", "CLAUDE_KEY"], 5, |r| {
            format!("{}{}AA", concat!("sk-ant-", "api03-"), r.s(B64URL, 93))
        }),
        p("huggingface", ["HF_TOKEN", "HUGGINGFACE_HUB"], 5, |r| {
            format!("{}{}", concat!("h", "f_"), r.s(LETTERS, 34))
        }),
        p("shopify", ["SHOPIFY_ACCESS_TOKEN", "SHOPIFY_ADMIN"], 5, |r| {
            let prefix = r.pick(&[
                concat!("shp", "at_"),
                concat!("shp", "at_"),
                concat!("shp", "ss_"),
                concat!("shp", "ca_"),
            ]);
            format!("{prefix}{}", r.s(HEX, 32))
        }),
        p("square", ["SQUARE_ACCESS_TOKEN", "SQUARE_PROD"], 4, |r| {
            if r.below(2) == 0 {
                format!("{}{}", concat!("EA", "AA"), r.s(B64URL, 60))
            } else {
                format!("{}{}", concat!("sq0", "csp-"), r.s(B64URL, 43))
            }
        }),
        p("atlassian", ["JIRA_API_TOKEN", "ATLASSIAN_USER"], 4, |r| {
            format!("{}{}={}", concat!("ATATT3x", "FfGF0"), r.s(B64URL, 180), r.s(HEX_UPPER, 8))
        }),
        p("linear", ["LINEAR_API_KEY", "LINEAR_KEY"], 4, |r| {
            format!("{}{}", concat!("lin_", "api_"), r.s(BASE62, 40))
        }),
        p("notion", ["NOTION_TOKEN", "NOTION_INTEGRATION"], 4, |r| {
            if r.below(2) == 0 {
                format!("{}{}", concat!("sec", "ret_"), r.s(BASE62, 43))
            } else {
                format!("{}{}{}", concat!("nt", "n_"), r.s(DIGITS, 11), r.s(BASE62, 35))
            }
        }),
        p("datadog-api-key", ["DD_API_KEY", "DATADOG_API_KEY"], 4, |r| r.s(HEX, 32)),
        p("datadog-app-key", ["DD_APP_KEY", "DATADOG_APP_KEY"], 3, |r| r.s(HEX, 40)),
        p("newrelic", ["NEW_RELIC_API_KEY", "NEWRELIC_USER"], 4, |r| {
            format!("{}{}", concat!("NR", "AK-"), r.s(UPPER_ALNUM, 27))
        }),
        p("sentry", ["SENTRY_AUTH_TOKEN", "SENTRY_CLI"], 4, |r| {
            if r.below(2) == 0 {
                format!("{}{}", concat!("sntr", "yu_"), r.s(HEX, 64))
            } else {
                let claims = format!(
                    r#"{{"iat":{}.{},"url":"https://sentry.io","region_url":"https://us.sentry.io","org":"{}"}}"#,
                    1_700_000_000 + r.below(20_000_000),
                    r.range(100_000, 999_999),
                    r.word()
                );
                format!(
                    "{}{}_{}",
                    concat!("sntr", "ys_"),
                    b64(claims.as_bytes(), B64, false),
                    r.s(BASE62, 43)
                )
            }
        }),
        p("heroku", ["HEROKU_API_KEY", "HEROKU_CLI"], 4, |r| {
            format!("{}{}", concat!("HRKU", "-AA"), r.s(B64URL, 58))
        }),
        p("digitalocean", ["DIGITALOCEAN_ACCESS_TOKEN", "DO_PAT"], 4, |r| {
            format!("{}{}", concat!("dop", "_v1_"), r.s(HEX, 64))
        }),
        p("doppler", ["DOPPLER_TOKEN", "DOPPLER_SVC"], 4, |r| {
            if r.below(2) == 0 {
                format!("{}{}", concat!("dp.", "st.prd."), r.s(BASE62, 43))
            } else {
                format!("{}{}", concat!("dp.", "pt."), r.s(BASE62, 43))
            }
        }),
        p("tailscale", ["TS_AUTHKEY", "TAILSCALE_OAUTH_CLIENT_SECRET"], 2, |r| {
            let kind = r.pick(&["auth-", "client-", "api-"]);
            format!("{}{kind}k{}CNTRL-{}", concat!("tsk", "ey-"), r.s(BASE62, 10), r.s(BASE62, 34))
        }),
        p("apify", ["APIFY_TOKEN", "APIFY_API_TOKEN"], 2, |r| {
            format!("{}{}", concat!("apify", "_api_"), r.s(BASE62, 36))
        }),
        p("vault", ["VAULT_TOKEN", "VAULT_ROOT"], 4, |r| {
            // Vault >= 1.10 service tokens: `hvs.` and a ~90-character body.
            let len = r.range(86, 100);
            format!("{}CAESI{}", concat!("hv", "s."), r.s(B64URL, len))
        }),
        p("terraform-cloud", ["TFE_TOKEN", "TF_CLOUD_ORG_AUTH"], 4, |r| {
            format!("{}{}{}", r.s(BASE62, 14), concat!(".atlas", "v1."), r.s(B64URL, 67))
        }),
        p("databricks", ["DATABRICKS_TOKEN", "DATABRICKS_HOST_AUTH"], 4, |r| {
            let suffix = if r.below(2) == 0 { "" } else { "-2" };
            format!("{}{}{suffix}", concat!("da", "pi"), r.s(HEX, 32))
        }),
        u("discord-webhook", ["DISCORD_WEBHOOK_URL", "ALERTS_DISCORD"], 4, |r| {
            format!(
                "https://{}/api/webhooks/{}/{}",
                concat!("discord", ".com"),
                r.s(DIGITS, 19),
                r.s(B64URL, 68)
            )
        }),
        p("discord-bot-token", ["DISCORD_BOT_TOKEN", "DISCORD_BOT"], 3, |r| {
            let id = format!("1{}", r.s(DIGITS, 17));
            format!("{}.{}.{}", b64(id.as_bytes(), B64, false), r.s(B64URL, 6), r.s(B64URL, 38))
        }),
        p("telegram-bot-token", ["TELEGRAM_BOT_TOKEN", "TG_BOT"], 4, |r| {
            format!("{}:AA{}", r.range(100_000_000, 9_999_999_999), r.s(B64URL, 33))
        }),
        p("jwt", ["ACCESS_TOKEN", "SESSION_JWT"], 6, jwt),
        p("google-oauth-client-secret", ["GOOGLE_CLIENT_SECRET", "GOOGLE_OAUTH_CLIENT"], 3, |r| {
            format!("{}{}", concat!("GOC", "SPX-"), r.s(B64URL, 28))
        }),
        p("azure-ad-client-secret", ["AZURE_CLIENT_SECRET", "AZURE_AD_APP"], 3, |r| {
            format!(
                "{}{}Q~{}",
                r.s(BASE62, 3),
                r.s(DIGITS, 1),
                r.s(concat!("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz0123456789_~.-"), 34)
            )
        }),
        p("postman", ["POSTMAN_API_KEY", "POSTMAN_KEY"], 3, |r| {
            format!("{}{}-{}", concat!("PM", "AK-"), r.s(HEX, 24), r.s(HEX, 34))
        }),
        p("grafana", ["GRAFANA_SERVICE_ACCOUNT_TOKEN", "GRAFANA_SA"], 3, |r| {
            format!("{}{}_{}", concat!("gl", "sa_"), r.s(BASE62, 32), r.s(HEX, 8))
        }),
        p("pulumi", ["PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_AUTH"], 3, |r| {
            format!("{}{}", concat!("pu", "l-"), r.s(HEX, 40))
        }),
        p("age-secret-key", ["SOPS_AGE_KEY", "AGE_IDENTITY"], 3, |r| {
            format!("{}{}", concat!("AGE-SECRET-", "KEY-1"), r.s(BECH32_UPPER, 58))
        }),
        p("gcp-api-key", ["GOOGLE_API_KEY", "MAPS_KEY"], 5, |r| {
            format!("{}{}", concat!("AI", "za"), r.s(B64URL, 35))
        }),
        u("azure-storage", ["AZURE_STORAGE_CONNECTION_STRING", "STORAGE_CONN"], 5, |r| {
            format!(
                "DefaultEndpointsProtocol=https;AccountName={}{};AccountKey={}{};EndpointSuffix=core.windows.net",
                r.word(),
                r.s(LOWER_ALNUM, 6),
                r.s(B64, 86),
                "=="
            )
        }),
        u("postgres-url", ["DATABASE_URL", "PG_URL"], 6, |r| {
            let scheme = if r.below(2) == 0 { "postgres" } else { "postgresql" };
            let user = r.pick(&["app", "postgres", "billing_rw", "svc_api"]);
            let host = db_host(r);
            format!("{scheme}://{user}:{}@{host}:5432/{}", r.mixed(14, 24), r.word())
        }),
        u("mysql-url", ["MYSQL_URL", "MYSQL_DSN"], 4, |r| {
            let host = db_host(r);
            format!("mysql://root:{}@{host}:3306/{}", r.mixed(12, 20), r.word())
        }),
        u("mongodb-url", ["MONGODB_URI", "MONGO_URL"], 4, |r| {
            format!(
                "mongodb+srv://{}:{}@cluster0.{}.mongodb.net/{}?retryWrites=true&w=majority",
                r.word(),
                r.mixed(14, 24),
                r.s(LOWER_ALNUM, 5),
                r.word()
            )
        }),
        u("redis-url", ["REDIS_URL", "CACHE_URL"], 4, |r| {
            let host = db_host(r);
            if r.below(2) == 0 {
                format!("redis://:{}@{host}:6379/0", r.mixed(16, 32))
            } else {
                format!("rediss://default:{}@{host}:6380", r.mixed(16, 32))
            }
        }),
        u("amqp-url", ["CELERY_BROKER_URL", "AMQP_URL"], 3, |r| {
            format!("amqp://{}:{}@rabbitmq.internal.acme.net:5672/{}", r.word(), r.mixed(12, 20), r.word())
        }),
    ]
}

fn provider_cases(r: &mut Rng, c: &mut Corpus) {
    let mut next = 0usize;
    for provider in providers() {
        for i in 0..provider.count {
            let tpl = loop {
                let tpl = &TEMPLATES[next % TEMPLATES.len()];
                next += 1;
                if !(provider.url && tpl.bearer) {
                    break tpl;
                }
            };
            let value = (provider.gen)(r);
            let name = provider.names[i % 2];
            let content = render(r, tpl.body, name, &value);
            c.pos(provider.kind, tpl.file, content, &value);
        }
    }
}

fn generic_cases(r: &mut Rng, c: &mut Corpus) {
    const NAMES: &[&str] = &[
        "DB_PASSWORD",
        "API_KEY",
        "CLIENT_SECRET",
        "AUTH_TOKEN",
        "SECRET_KEY",
        "ACCESS_TOKEN",
        "SMTP_PASSWORD",
        "WEBHOOK_SECRET",
        "JWT_SECRET",
        "ENCRYPTION_KEY",
        "ADMIN_PASSWORD",
        "REFRESH_TOKEN",
        "API_TOKEN",
        "SESSION_SECRET",
        "REDIS_PASSWORD",
        "SIGNING_KEY",
    ];
    let mut n = 0;
    for tpl in TEMPLATES.iter().filter(|t| t.generic) {
        for _ in 0..2 {
            let name = NAMES[n % NAMES.len()];
            n += 1;
            let value = r.mixed(16, 40);
            let content = render(r, tpl.body, name, &value);
            c.pos("generic-assignment", tpl.file, content, &value);
        }
    }
}

fn aws_cases(r: &mut Rng, c: &mut Corpus) {
    let b64_chars = [LETTERS, DIGITS, "+/"].concat();
    for i in 0..11 {
        let prefix = if i == 10 { concat!("AS", "IA") } else { concat!("AK", "IA") };
        let id = format!("{prefix}{}", r.s(BASE32, 16));
        let secret = r.s(&b64_chars, 40);
        let region = r.pick(&["us-east-1", "eu-west-1", "ap-southeast-2"]);
        let (file, content) = match i {
            0 => (
                "credentials",
                format!(
                    "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = {region}\n\n[staging]\nrole_arn = arn:aws:iam::{}:role/deploy\nsource_profile = default\n",
                    r.s(DIGITS, 12)
                ),
            ),
            1 => (
                ".env",
                format!("APP_ENV=production\nAWS_REGION={region}\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\nS3_BUCKET=acme-{}-assets\n", r.word()),
            ),
            2 => (
                "s3_upload.py",
                format!(
                    "import boto3\n\n\ndef upload(path, key):\n    s3 = boto3.client(\n        \"s3\",\n        aws_access_key_id=\"{id}\",\n        aws_secret_access_key=\"{secret}\",\n        region_name=\"{region}\",\n    )\n    s3.upload_file(path, \"acme-{}\", key)\n",
                    r.word()
                ),
            ),
            3 => (
                "s3.js",
                format!(
                    "import {{ S3Client }} from '@aws-sdk/client-s3';\n\nexport const s3 = new S3Client({{\n  region: '{region}',\n  credentials: {{\n    accessKeyId: '{id}',\n    secretAccessKey: '{secret}',\n  }},\n}});\n"
                ),
            ),
            4 => (
                "provider.tf",
                format!(
                    "provider \"aws\" {{\n  region     = \"{region}\"\n  access_key = \"{id}\"\n  secret_key = \"{secret}\"\n}}\n"
                ),
            ),
            5 => (
                "S3Config.java",
                format!(
                    "package com.acme.storage;\n\nimport com.amazonaws.auth.BasicAWSCredentials;\n\npublic class S3Config {{\n    static BasicAWSCredentials credentials() {{\n        return new BasicAWSCredentials(\"{id}\", \"{secret}\");\n    }}\n}}\n"
                ),
            ),
            6 => (
                "storage.go",
                format!(
                    "package storage\n\nimport \"github.com/aws/aws-sdk-go/aws/credentials\"\n\nvar creds = credentials.NewStaticCredentials(\"{id}\", \"{secret}\", \"\")\n"
                ),
            ),
            7 => (
                "docker-compose.yml",
                format!(
                    "services:\n  worker:\n    image: ghcr.io/acme/worker:2.1.0\n    environment:\n      AWS_DEFAULT_REGION: {region}\n      AWS_ACCESS_KEY_ID: {id}\n      AWS_SECRET_ACCESS_KEY: {secret}\n"
                ),
            ),
            8 => (
                "release.yml",
                format!(
                    "name: release\non: [push]\njobs:\n  upload:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: {id}\n      AWS_SECRET_ACCESS_KEY: {secret}\n    steps:\n      - uses: actions/checkout@v4\n      - run: aws s3 sync dist/ s3://acme-releases/\n"
                ),
            ),
            9 => (
                "setup-aws.sh",
                format!(
                    "#!/bin/sh\nset -e\naws configure set aws_access_key_id {id}\naws configure set aws_secret_access_key {secret}\naws configure set region {region}\n"
                ),
            ),
            _ => (
                "session.sh",
                format!(
                    "export AWS_ACCESS_KEY_ID={id}\nexport AWS_SECRET_ACCESS_KEY={secret}\nexport AWS_SESSION_TOKEN={}\n",
                    r.s(B64, 600)
                ),
            ),
        };
        c.pos("aws-access-key", file, content, &id);
    }
}

fn service_account_json(r: &mut Rng) -> String {
    let project = format!("{}-{}", r.word(), r.range(100_000, 999_999));
    let account = r.pick(&["deployer", "ci-runner", "bigquery-export", "terraform"]);
    let key = pem(&pem_label(""), &pkcs8_der(r), 64).replace('\n', "\\n");
    format!(
        r#"{{
  "type": "service_account",
  "project_id": "{project}",
  "private_key_id": "{}",
  "private_key": "{key}\n",
  "client_email": "{account}@{project}.iam.gserviceaccount.com",
  "client_id": "{}",
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "token_uri": "https://oauth2.googleapis.com/token",
  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
  "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/{account}%40{project}.iam.gserviceaccount.com",
  "universe_domain": "googleapis.com"
}}"#,
        r.s(HEX, 40),
        r.s(DIGITS, 21)
    )
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}")).collect::<Vec<_>>().join("\n")
}

fn gcp_service_account_cases(r: &mut Rng, c: &mut Corpus) {
    let needle = "\"private_key\":";
    for i in 0..6 {
        let json = service_account_json(r);
        let (file, content) = match i {
            0 => ("service-account.json".to_string(), format!("{json}\n")),
            1 => (format!("{}-{}.json", r.word(), r.s(HEX, 12)), format!("{json}\n")),
            2 => ("credentials.json".to_string(), format!("{json}\n")),
            3 => ("gcp-key.json".to_string(), format!("{json}\n")),
            4 => (
                "gcp-secret.yaml".to_string(),
                format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gcp-credentials\ntype: Opaque\nstringData:\n  key.json: |\n{}\n",
                    indent(&json, "    ")
                ),
            ),
            _ => (
                "google.tf".to_string(),
                format!(
                    "provider \"google\" {{\n  project     = \"acme-prod\"\n  region      = \"europe-west1\"\n  credentials = <<-EOT\n{}\n  EOT\n}}\n",
                    indent(&json, "    ")
                ),
            ),
        };
        c.pos("gcp-service-account", &file, content, needle);
    }
}

fn twilio_cases(r: &mut Rng, c: &mut Corpus) {
    for i in 0..5 {
        let sid = format!("AC{}", r.s(HEX, 32));
        let token = r.s(HEX, 32);
        let (file, content) = match i {
            0 => (
                ".env",
                format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={token}\nTWILIO_FROM=+15005550006\n"),
            ),
            1 => (
                "sms.py",
                format!(
                    "from twilio.rest import Client\n\nclient = Client(\"{sid}\", \"{token}\")\n\n\ndef send(to, body):\n    return client.messages.create(to=to, from_=\"+15005550006\", body=body)\n"
                ),
            ),
            2 => (
                "sms.js",
                format!(
                    "const twilio = require('twilio');\n\nconst client = twilio('{sid}', '{token}');\n\nmodule.exports = (to, body) => client.messages.create({{ to, from: '+15005550006', body }});\n"
                ),
            ),
            3 => (
                "twilio.yml",
                format!("twilio:\n  account_sid: {sid}\n  auth_token: {token}\n  from: \"+15005550006\"\n"),
            ),
            _ => (
                "SmsSender.java",
                format!(
                    "import com.twilio.Twilio;\n\npublic class SmsSender {{\n    static {{\n        Twilio.init(\"{sid}\", \"{token}\");\n    }}\n}}\n"
                ),
            ),
        };
        c.pos("twilio", file, content, &token);
    }
}

fn private_key_cases(r: &mut Rng, c: &mut Corpus) {
    let mut style = 0usize;
    let plan: &[(&str, usize)] = &[
        ("private-key-rsa", 8),
        ("private-key-pkcs8", 5),
        ("private-key-ec", 5),
        ("private-key-openssh", 6),
        ("private-key-dsa", 1),
        ("private-key-pgp", 2),
    ];
    for &(kind, count) in plan {
        for _ in 0..count {
            let (label, raw_name, block) = match kind {
                "private-key-rsa" => {
                    let l = pem_label("RSA");
                    let b = pem(&l, &rsa_pkcs1_der(r), 64);
                    (l, "id_rsa", b)
                }
                "private-key-pkcs8" => {
                    let l = pem_label("");
                    let b = pem(&l, &pkcs8_der(r), 64);
                    (l, "server.key", b)
                }
                "private-key-ec" => {
                    let l = pem_label("EC");
                    let b = pem(&l, &ec_der(r), 64);
                    (l, "ec-signing.pem", b)
                }
                "private-key-openssh" => {
                    let l = pem_label("OPENSSH");
                    let data = if r.below(3) == 0 {
                        openssh_der(r, "ssh-rsa", 1700)
                    } else {
                        openssh_der(r, "ssh-ed25519", 200)
                    };
                    let b = pem(&l, &data, 70);
                    (l, "id_ed25519", b)
                }
                "private-key-dsa" => {
                    let l = pem_label("DSA");
                    let b = pem(&l, &der(&[0x30, 0x82, 0x01, 0xbb, 0x02, 0x01, 0x00], r, 440), 64);
                    (l, "id_dsa", b)
                }
                _ => {
                    let l = format!("PGP {} BLOCK", pem_label(""));
                    let body = magic_b64(r, &[0x95, 0x03, 0xc6, 0x04], 900);
                    let mut b = format!("-----BEGIN {l}-----\n\n");
                    for line in body.as_bytes().chunks(64) {
                        b.push_str(std::str::from_utf8(line).expect("ascii"));
                        b.push('\n');
                    }
                    b.push_str(&format!("={}\n-----END {l}-----", r.s(B64, 4)));
                    (l, "release-signing.asc", b)
                }
            };
            let needle = format!("-----BEGIN {label}-----");
            let (file, content) = embed_pem(r, style, raw_name, &block);
            style += 1;
            c.pos(kind, &file, content, &needle);
        }
    }
}

fn embed_pem(r: &mut Rng, style: usize, raw_name: &str, block: &str) -> (String, String) {
    match style % 9 {
        0 => (raw_name.to_string(), format!("{block}\n")),
        1 => (
            "signing.py".into(),
            format!(
                "import jwt\n\nSIGNING_KEY = \"\"\"{block}\"\"\"\n\n\ndef sign(claims):\n    return jwt.encode(claims, SIGNING_KEY, algorithm=\"RS256\")\n"
            ),
        ),
        2 => (
            "tls-secret.yaml".into(),
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}-tls\ntype: kubernetes.io/tls\nstringData:\n  tls.key: |\n{}\n",
                r.word(),
                indent(block, "    ")
            ),
        ),
        3 => (
            "jwt-keys.json".into(),
            format!(
                "{{\n  \"kid\": \"{}\",\n  \"alg\": \"RS256\",\n  \"pem\": \"{}\\n\"\n}}\n",
                r.s(HEX, 16),
                block.replace('\n', "\\n")
            ),
        ),
        4 => (
            "deploy_key.tf".into(),
            format!(
                "resource \"aws_secretsmanager_secret_version\" \"deploy_key\" {{\n  secret_id     = aws_secretsmanager_secret.deploy_key.id\n  secret_string = <<-EOT\n{}\n  EOT\n}}\n",
                indent(block, "    ")
            ),
        ),
        5 => (
            "keys.go".into(),
            format!("package auth\n\nvar signingKey = []byte(`{block}`)\n"),
        ),
        6 => (
            "sign.js".into(),
            format!("const privateKey = `{block}`;\n\nmodule.exports = {{ privateKey }};\n"),
        ),
        7 => (
            ".env".into(),
            format!(
                "APP_ENV=production\nJWT_ISSUER=https://auth.acme.io\nJWT_SIGNING_PEM=\"{}\"\n",
                block.replace('\n', "\\n")
            ),
        ),
        _ => (
            "deploy_key.rb".into(),
            format!(
                "DEPLOY_KEY = <<~PEM\n{}\nPEM\n\nNet::SSH.start(host, \"deploy\", key_data: [DEPLOY_KEY])\n",
                indent(block, "  ")
            ),
        ),
    }
}

/// Files whose format is specific to one kind of credential.
fn special_cases(r: &mut Rng, c: &mut Corpus) {
    // npm and GitHub Packages registries.
    let npm = checksummed(r, concat!("np", "m_"));
    c.pos(
        "npm",
        ".npmrc",
        format!("registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={npm}\nalways-auth=true\n"),
        &npm,
    );
    let ghp = checksummed(r, concat!("gh", "p_"));
    c.pos(
        "github-pat-classic",
        ".npmrc",
        format!("@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken={ghp}\n"),
        &ghp,
    );
    // PyPI upload configuration.
    for i in 0..2 {
        let len = r.range(150, 200);
        let tok = format!("{}{}", concat!("pypi-AgEIcHlw", "aS5vcmc"), r.s(B64URL, len));
        let content = if i == 0 {
            format!(
                "[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = {tok}\n"
            )
        } else {
            format!("[tool.poetry]\nname = \"acme-{}\"\n\n# poetry config pypi-token.pypi\n[pypi-token]\npypi = \"{tok}\"\n", r.word())
        };
        c.pos("pypi", if i == 0 { ".pypirc" } else { "auth.toml" }, content, &tok);
    }
    // Terraform CLI credentials.
    for i in 0..2 {
        let tok = format!("{}{}{}", r.s(BASE62, 14), concat!(".atlas", "v1."), r.s(B64URL, 67));
        let (file, content) = if i == 0 {
            (".terraformrc", format!("credentials \"app.terraform.io\" {{\n  token = \"{tok}\"\n}}\n"))
        } else {
            (
                "credentials.tfrc.json",
                format!("{{\n  \"credentials\": {{\n    \"app.terraform.io\": {{\n      \"token\": \"{tok}\"\n    }}\n  }}\n}}\n"),
            )
        };
        c.pos("terraform-cloud", file, content, &tok);
    }
    // Firebase web configuration.
    for _ in 0..2 {
        let key = format!("{}{}", concat!("AI", "za"), r.s(B64URL, 35));
        let project = format!("{}-{}", r.word(), r.s(LOWER_ALNUM, 5));
        c.pos(
            "gcp-api-key",
            "firebase.js",
            format!(
                "import {{ initializeApp }} from 'firebase/app';\n\nconst firebaseConfig = {{\n  apiKey: \"{key}\",\n  authDomain: \"{project}.firebaseapp.com\",\n  projectId: \"{project}\",\n  storageBucket: \"{project}.appspot.com\",\n  messagingSenderId: \"{}\",\n  appId: \"1:{}:web:{}\"\n}};\n\nexport const app = initializeApp(firebaseConfig);\n",
                r.s(DIGITS, 12),
                r.s(DIGITS, 12),
                r.s(HEX, 22)
            ),
            &key,
        );
    }
    // Heroku API keys in their older UUID form, in their usual homes.
    let key = r.uuid();
    c.pos(
        "heroku-uuid-key",
        ".netrc",
        format!("machine api.heroku.com\n  login ops@acme.io\n  password {key}\nmachine git.heroku.com\n  login ops@acme.io\n  password {key}\n"),
        &key,
    );
    let key = r.uuid();
    c.pos("heroku-uuid-key", ".env", format!("HEROKU_APP=acme-{}\nHEROKU_API_KEY={key}\n", r.word()), &key);
    // Registry credentials in a Docker config.
    for i in 0..2 {
        let auth = b64(format!("deploy:{}", r.mixed(18, 28)).as_bytes(), B64, true);
        let registry = if i == 0 { "https://index.docker.io/v1/" } else { "registry.acme.io" };
        c.pos(
            "docker-config-auth",
            if i == 0 { "config.json" } else { "dockerconfig.json" },
            format!(
                "{{\n  \"auths\": {{\n    \"{registry}\": {{\n      \"auth\": \"{auth}\"\n    }}\n  }}\n}}\n"
            ),
            &auth,
        );
    }
    // Authorization headers with literal credentials.
    for i in 0..2 {
        let basic = b64(format!("{}:{}", r.word(), r.mixed(16, 24)).as_bytes(), B64, true);
        let (file, content) = if i == 0 {
            (
                "smoke-test.sh",
                format!("#!/bin/sh\ncurl -fsS -H \"Authorization: Basic {basic}\" https://jenkins.build.acme.net/api/json\n"),
            )
        } else {
            (
                "reports.py",
                format!("import requests\n\nHEADERS = {{\"Authorization\": \"Basic {basic}\", \"Accept\": \"application/json\"}}\n\nresp = requests.get(\"https://reports.acme.io/api/v2/daily\", headers=HEADERS)\n"),
            )
        };
        c.pos("http-basic-header", file, content, &basic);
    }
    for i in 0..2 {
        let bearer = r.mixed(40, 48);
        let (file, content) = if i == 0 {
            (
                "sync.sh",
                format!("#!/bin/sh\ncurl -fsS https://api.acme.io/v1/sync \\\n  -H 'Authorization: Bearer {bearer}' \\\n  -d '{{\"full\": true}}'\n"),
            )
        } else {
            (
                "requests.http",
                format!("### list orders\nGET https://api.acme.io/v1/orders\nAuthorization: Bearer {bearer}\nAccept: application/json\n"),
            )
        };
        c.pos("http-bearer-header", file, content, &bearer);
    }
    // A pre-1.10 Vault service token: `s.` and 24 characters, only its name tells.
    let legacy = format!("s.{}", r.s(BASE62, 24));
    c.pos(
        "vault-legacy-token",
        ".env",
        format!("VAULT_ADDR=https://vault.acme.io:8200\nVAULT_TOKEN={legacy}\n"),
        &legacy,
    );
    // Datadog agent configuration.
    let dd = r.s(HEX, 32);
    c.pos(
        "datadog-api-key",
        "datadog.yaml",
        format!("site: datadoghq.eu\napi_key: {dd}\nlogs_enabled: true\napm_config:\n  enabled: true\n"),
        &dd,
    );
    // Passwords in https URLs (registries, git remotes, CI servers).
    let hosts = [
        "git.acme-corp.io/platform/infra.git",
        "nexus.acme.net/repository/pypi-internal/simple",
        "artifactory.acme-corp.io/api/npm/npm-virtual/",
        "jenkins.build.acme.net/job/deploy/buildWithParameters",
        "gitlab.acme.io/data/warehouse.git",
        "charts.acme.io/stable",
    ];
    for (i, host) in hosts.iter().enumerate() {
        let user = r.pick(&["deploy", "ci", "svc-builder", "jenkins"]);
        let url = format!("https://{user}:{}@{host}", r.mixed(14, 24));
        let (file, content) = match i {
            0 => ("bootstrap.sh", format!("#!/bin/sh\nset -e\ngit clone {url} /opt/infra\n")),
            1 => ("pip.conf", format!("[global]\nindex-url = {url}\ntimeout = 60\n")),
            2 => (".npmrc", format!("registry={url}\nstrict-ssl=true\n")),
            3 => ("Jenkinsfile", format!("pipeline {{\n  agent any\n  stages {{\n    stage('trigger') {{\n      steps {{\n        sh 'curl -X POST \"{url}?ENV=prod\"'\n      }}\n    }}\n  }}\n}}\n")),
            4 => (".gitmodules", format!("[submodule \"warehouse\"]\n\tpath = vendor/warehouse\n\turl = {url}\n")),
            _ => ("requirements.txt", format!("--extra-index-url {url}\nrequests==2.31.0\nacme-helm-tools==0.4.1\n")),
        };
        c.pos("https-basic-auth", file, content, &url);
    }
}

// ---------------------------------------------------------------------------------
// Encoded and escaped credentials (found by decoding)
// ---------------------------------------------------------------------------------

fn percent_all(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn slack_bot(r: &mut Rng) -> String {
    format!("{}{}-{}-{}", concat!("xo", "xb-"), r.s(DIGITS, 11), r.s(DIGITS, 13), r.s(BASE62, 24))
}

fn slack_webhook(r: &mut Rng) -> String {
    format!(
        "https://{}/services/T{}/B{}/{}",
        concat!("hooks.", "slack.com"),
        r.s(UPPER_ALNUM, 10),
        r.s(UPPER_ALNUM, 10),
        r.s(BASE62, 24)
    )
}

fn encoded_cases(r: &mut Rng, c: &mut Corpus) {
    // Kubernetes Secrets: every value base64.
    for i in 0..3 {
        let token = match i {
            0 => checksummed(r, concat!("gh", "p_")),
            1 => slack_bot(r),
            _ => format!("{}{}", concat!("sk_", "live_"), r.s(BASE62, 40)),
        };
        let value = b64(token.as_bytes(), B64, true);
        c.pos(
            "k8s-secret-base64",
            "secret.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}-credentials\n  namespace: prod\ntype: Opaque\ndata:\n  username: {}\n  credential: {value}\n",
                r.word(),
                b64(r.word().as_bytes(), B64, true)
            ),
            &value,
        );
    }
    // A token inside Basic credentials, and inside a base64url JSON blob.
    let gh = checksummed(r, concat!("gh", "p_"));
    let basic = b64(format!("x-access-token:{gh}").as_bytes(), B64, true);
    c.pos(
        "basic-auth-base64",
        "mirror.sh",
        format!(
            "#!/bin/sh\ncurl -fsS -H \"Authorization: Basic {basic}\" https://api.github.com/repos/acme/{}\n",
            r.word()
        ),
        &basic,
    );
    let key_id = format!("{}{}", concat!("AK", "IA"), r.s(BASE32, 16));
    let blob = b64(format!("{{\"key\":\"{key_id}\",\"region\":\"eu-west-1\"}}").as_bytes(), B64URL, false);
    c.pos("json-base64url", ".env", format!("APP_NAME={}\nCLOUD_PROFILE={blob}\n", r.word()), &blob);
    // Percent-encoded URLs inside other URLs.
    let hook = percent_all(&slack_webhook(r));
    c.pos(
        "percent-encoded-url",
        "alerts.yml",
        format!(
            "receivers:\n  - name: {}\n    url: https://relay.acme.io/forward?to={hook}&retry=3\n",
            r.word()
        ),
        &hook,
    );
    // Escaped strings: JSON `\/`, JavaScript `\u0041`, a notebook's quoted code.
    let hook = slack_webhook(r).replace('/', "\\/");
    c.pos(
        "json-escaped-slashes",
        "integrations.json",
        format!("{{\n  \"slack\": {{\n    \"webhook\": \"{hook}\"\n  }}\n}}\n"),
        &hook,
    );
    let key_id = format!("{}{}", concat!("AK", "IA"), r.s(BASE32, 16));
    let escaped = format!("\\u0041{}", &key_id[1..]);
    c.pos(
        "js-unicode-escape",
        "aws.js",
        format!("module.exports = {{\n  accessKeyId: \"{escaped}\",\n  region: 'us-east-1'\n}};\n"),
        &escaped,
    );
    let secret = format!("{}/{}+{}", r.s(BASE62, 18), r.s(BASE62, 10), r.s(BASE62, 10));
    c.pos(
        "notebook-escaped",
        "explore.ipynb",
        format!("{{\n \"cells\": [\n  {{\n   \"cell_type\": \"code\",\n   \"source\": [\n    \"import boto3\\n\",\n    \"aws_secret_access_key = \\\"{secret}\\\"\\n\"\n   ]\n  }}\n ]\n}}\n"),
        &secret,
    );
    // Hex, and base64 around a percent-encoded URL (two encodings deep).
    let stripe = format!("{}{}", concat!("sk_", "live_"), r.s(BASE62, 32));
    let hex: String = stripe.bytes().map(|b| format!("{b:02x}")).collect();
    c.pos(
        "hex-encoded",
        "keys.toml",
        format!("[payments]\nprovider = \"{}\"\nkey_hex = \"{hex}\"\n", r.word()),
        &hex,
    );
    let nested = b64(
        format!("{{\"notify\":\"{}\",\"retries\":3}}", percent_all(&slack_webhook(r))).as_bytes(),
        B64,
        true,
    );
    c.pos("base64-then-percent", "values.yaml", format!("alerting:\n  config: {nested}\n"), &nested);
}

fn positives(r: &mut Rng, c: &mut Corpus) {
    provider_cases(r, c);
    aws_cases(r, c);
    gcp_service_account_cases(r, c);
    twilio_cases(r, c);
    private_key_cases(r, c);
    special_cases(r, c);
    generic_cases(r, c);
    encoded_cases(r, c);
    config_syntax_cases(r, c);
    key_name_cases(r, c);
    layout_cases(r, c);
    context_cases(r, c);
    build_and_tool_file_cases(r, c);
    less_common_syntax_cases(r, c);
    table_cases(r, c);
}

/// Secrets named by a column's header lines above them (CSV, TSV, Markdown, an SQL
/// `INSERT`'s column list), and tables whose secret columns hold nothing secret.
fn table_cases(r: &mut Rng, c: &mut Corpus) {
    for _ in 0..2 {
        let v = format!("{}!{}", r.mixed(7, 7), r.mixed(6, 6));
        let rows: String = (0..r.pick(&[3, 40, 300])).map(|i| format!("svc-{i},staging,,ops\n")).collect();
        c.pos(
            "table",
            "credentials.csv",
            format!("service,environment,password,owner\n{rows}payments,live,{v},app\n"),
            &v,
        );
        let v = r.s(HEX, 32);
        c.pos("table", "README.md", format!("# Access\n\n| Service | User | Secret | Notes |\n|---|---|---|---|\n| Grafana | viewer | (SSO) | read only |\n| App | svc_api | `{v}` | shared |\n"), &v);
        let v = r.mixed(20, 20);
        c.pos("table", "keys.tsv", format!("host\tuser\tapi_key\ndb1\tetl\t{v}\n"), &v);
        let v = format!("{}#{}", r.mixed(8, 8), r.mixed(5, 5));
        c.pos("table", "seed.sql", format!("-- seed users\nINSERT INTO users (id, username, email, password, role) VALUES\n  (1, 'admin', 'admin@acme.io', NULL, 'user'),\n  (2, 'dave', 'dave@acme.io', '{v}', 'admin');\n"), &v);
    }
    let hash = format!("$2b$12${}", r.s(&[LETTERS, DIGITS, "./"].concat(), 53));
    c.neg("table", "users.csv", format!("id,username,password_hash,role\n1,bob,{hash},admin\n"));
    c.neg(
        "table",
        "users.csv",
        "id,username,password,role\n1,bob,********,admin\n2,amy,<redacted>,ops\n3,eve,,ops\n".to_string(),
    );
    c.neg("table", "SECURITY.md", "| Setting | Password policy |\n|---|---|\n| length | at least 12 characters |\n| rotation | every 90 days |\n".to_string());
    c.neg("table", "seed.sql", format!("INSERT INTO users (id, username, password_hash) VALUES (1, 'bob', '{hash}');\nINSERT INTO users (id, username, password) VALUES (2, 'amy', :password);\n"));
    c.neg("table", "login.py", format!("def login(user, password):\n    return check(user, password)\n\nuser, password = read_credentials()\nbob, token = 'bob', fetch_token()\n"));
    c.neg(
        "table",
        "tokens.csv",
        format!("name,token_type,expires_in\nweb,bearer,3600\napi,refresh,{}\n", r.s(DIGITS, 6)),
    );
}

/// Keys known only by a `..._KEY` / `..._PAT` name, letters-only passwords given to a
/// specific rule, and the look-alikes of each: type names mapped to schema hashes,
/// pagination paths, format strings, route parameters.
fn key_name_cases(r: &mut Rng, c: &mut Corpus) {
    let key = r.mixed(32, 32);
    c.pos("key-name", ".env", format!("SEGMENT_WRITE_KEY={key}\nSEGMENT_DEBUG=false\n"), &key);
    let key = r.s(HEX, 32);
    c.pos("key-name", "config.js", format!("module.exports = {{\n  algoliaAdminKey: '{key}',\n}};\n"), &key);
    let pat = r.mixed(52, 52);
    c.pos("key-name", "pipeline.sh", format!("export AZURE_DEVOPS_PAT={pat}\naz devops configure\n"), &pat);
    let password = loop {
        let candidate = r.s(LETTERS, 16);
        let upper = candidate.bytes().filter(u8::is_ascii_uppercase).count();
        if (2..=14).contains(&upper) {
            break candidate;
        }
    };
    c.pos(
        "curl-letters-password",
        "deploy.sh",
        format!("curl -u deploy:{password} https://artifacts.{}.io/upload\n", r.word()),
        &password,
    );
    c.neg(
        "type-name-hash",
        "providers.py",
        format!(
            "    \"AWS::SecretsManager::Secret\": \"{}\",\n    \"AWS::ApiGateway::ApiKey\": \"{}\",\n",
            r.s(HEX, 16),
            r.s(HEX, 16)
        ),
    );
    c.neg(
        "pagination-path",
        "paginators-1.json",
        "{\"ListShards\": {\"input_token\": \"NextToken\", \"output_token\": \"StreamDescription.Shards[-1].ShardId\", \"result_key\": \"TransitGatewayVpcAttachments\"}}\n".to_string(),
    );
    c.neg(
        "format-string",
        "models.py",
        "        portfolio_share_token = f\"share-{portfolio_id}-{org_type}-{org_value}\"\n".to_string(),
    );
    c.neg(
        "route-parameter",
        "routes.rb",
        "  put \"/disk/:encoded_token\" => \"active_storage/disk#update\", as: :update_rails_disk_service\n"
            .to_string(),
    );
    c.neg(
        "id-name",
        "examples.json",
        format!(
            "{{\"AccessKeyId\": \"ASIA{}\", \"ServiceSpecificCredentialId\": \"ACCA{}\"}}\n",
            r.s(UPPER_ALNUM, 16),
            r.s(UPPER_ALNUM, 17)
        ),
    );
}

/// Secrets in the shapes configuration takes outside `NAME = value`: connection strings,
/// XML settings, environment fallbacks, Azure connection strings, keys pasted into code
/// as concatenated literals, PuTTY key files. Each kind has a look-alike negative.
fn config_syntax_cases(r: &mut Rng, c: &mut Corpus) {
    let password = format!("{}!{}", r.mixed(10, 14), r.s(BASE62, 3));
    c.pos(
        "connection-string-password",
        "appsettings.json",
        format!(
            "{{\n  \"ConnectionStrings\": {{\n    \"Orders\": \"Server=tcp:{}.database.windows.net,1433;Initial Catalog=orders;User ID=app;Password={password};Encrypt=True;\"\n  }}\n}}\n",
            r.word()
        ),
        &password,
    );
    let password = r.mixed(14, 20);
    c.pos(
        "connection-string-password",
        "report.py",
        format!("conn = pyodbc.connect(\"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER=db01;DATABASE={};UID=svc;PWD={password}\")\n", r.word()),
        &password,
    );
    c.neg(
        "connection-string-placeholder",
        "appsettings.json",
        "{\"ConnectionStrings\": {\"Default\": \"Server=myServerAddress;Database=myDataBase;User Id=myUsername;Password=myPassword;\"}}\n".to_string(),
    );
    c.neg(
        "connection-string-placeholder",
        "appsettings.Development.json",
        "{\"ConnectionStrings\": {\"Default\": \"Server=localhost;Database=app;User Id=sa;Password=${DB_PASSWORD};\"}}\n".to_string(),
    );
    let secret = r.mixed(24, 32);
    c.pos(
        "xml-app-setting",
        "Web.config",
        format!("<configuration>\n  <appSettings>\n    <add key=\"PaymentGatewaySecret\" value=\"{secret}\" />\n  </appSettings>\n</configuration>\n"),
        &secret,
    );
    c.neg(
        "xml-app-setting-placeholder",
        "Web.config",
        "<appSettings>\n  <add key=\"PaymentGatewaySecret\" value=\"#{PaymentGatewaySecret}\" />\n  <add key=\"TokenLifetimeMinutes\" value=\"60\" />\n</appSettings>\n".to_string(),
    );
    let key = format!("{}*{}#{}", r.s(BASE62, 20), r.s(BASE62, 12), r.s(BASE62, 10));
    c.pos(
        "env-fallback",
        "settings.py",
        format!("SECRET_KEY = os.environ.get(\"DJANGO_SECRET_KEY\", \"{key}\")\n"),
        &key,
    );
    let token = r.mixed(32, 40);
    c.pos(
        "env-fallback",
        "client.js",
        format!("const token = process.env.API_TOKEN || '{token}';\n"),
        &token,
    );
    c.neg(
        "env-fallback-placeholder",
        "settings.py",
        "SECRET_KEY = os.environ.get(\"DJANGO_SECRET_KEY\", \"change-me-in-production\")\nDEBUG = os.environ.get(\"DEBUG\", \"false\")\n".to_string(),
    );
    let sak = b64(&r.bytes(32), B64, true);
    c.pos(
        "azure-shared-access-key",
        "local.settings.json",
        format!("{{\"Values\": {{\"IoTHub\": \"HostName={}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={sak}\"}}}}\n", r.word()),
        &sak,
    );
    let secret = b64(&r.bytes(32), B64, true);
    c.pos(
        "azure-app-configuration",
        "Program.cs",
        format!(
            "builder.Configuration.AddAzureAppConfiguration(\"Endpoint=https://{}.azconfig.io;Id={}-l0-s0:{};Secret={secret}\");\n",
            r.word(),
            r.s(BASE62, 4),
            r.s(BASE62, 20)
        ),
        &secret,
    );
    let body: Vec<String> = b64(&pkcs8_der(r), B64, true)
        .as_bytes()
        .chunks(64)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let label = concat!("PRIVATE", " KEY");
    let mut java = format!("    static final String KEY = \"-----BEGIN {label}-----\\n\"\n");
    for line in &body {
        java.push_str(&format!("        + \"{line}\\n\"\n"));
    }
    java.push_str(&format!("        + \"-----END {label}-----\";\n"));
    c.pos("private-key-in-string-literals", "KeyFixture.java", java, &body[1]);
    let public = b64(&r.bytes(51), B64, true);
    let private: Vec<String> = b64(&r.bytes(96), B64, true)
        .as_bytes()
        .chunks(64)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    c.pos(
        "putty-private-key",
        "deploy.ppk",
        format!(
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@ci\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: {}\n{}\nPrivate-MAC: {}\n",
            &public[..40],
            &public[40..],
            private.len(),
            private.join("\n"),
            r.s(HEX, 64)
        ),
        &private[0],
    );
    // Assignments in the syntax of particular languages and tools.
    let shapes: &[(&str, &str, &str)] = &[
        ("wp-config.php", "<?php\ndefine( 'DB_PASSWORD', '{V}' );\n", "define( 'DB_PASSWORD', 'password_here' );\n"),
        ("docker-compose.yml", "services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={V}\n", "services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD}\n"),
        ("settings.xml", "<settings><servers><server><id>releases</id><username>ci</username><password>{V}</password></server></servers></settings>\n", "<settings><servers><server><id>releases</id><password>${env.MAVEN_PASSWORD}</password></server></servers></settings>\n"),
        ("jdbc.properties", "jdbc.url=jdbc:mysql://db:3306/app?user=app&password={V}\n", "jdbc.url=jdbc:mysql://db:3306/app?user=app&password=${DB_PASSWORD}\n"),
        ("restore.sh", "mysql -u root -p{V} app < dump.sql\n", "mysql -u root -p app < dump.sql\n"),
        ("init.sql", "CREATE USER app WITH PASSWORD '{V}';\n", "CREATE USER app WITH PASSWORD :'app_password';\n"),
        ("config.h", "#define API_KEY \"{V}\"\n", "#define API_KEY_HEADER \"X-Api-Key\"\n"),
        ("Dockerfile", "FROM alpine:3.20\nENV API_TOKEN {V}\n", "FROM alpine:3.20\nENV API_TOKEN ${API_TOKEN}\n"),
        ("deploy.ps1", "$pw = ConvertTo-SecureString \"{V}\" -AsPlainText -Force\n", "$pw = ConvertTo-SecureString $env:DEPLOY_PASSWORD -AsPlainText -Force\n"),
        ("mail.ini", "[smtp]\nhost = smtp.example.com\npass = {V}\n", "[smtp]\nhost = smtp.example.com\npass = %(SMTP_PASS)s\n"),
    ];
    for (file, positive, negative) in shapes {
        let value = r.mixed(16, 24);
        c.pos("language-shape", file, positive.replace("{V}", &value), &value);
        c.neg("language-shape-placeholder", file, negative.to_string());
    }
    let bot = format!(
        "{}:{}{}",
        r.range(100_000_000, 999_999_999),
        r.s("BCDEFGHIJKLMNOPQRSTUVWXYZabcdef", 1),
        r.s(B64URL, 34)
    );
    c.pos(
        "telegram-named",
        "alerts.yml",
        format!("notifiers:\n  - type: telegram\n    telegram_bot_token: \"{bot}\"\n"),
        &bot,
    );
}

// ---------------------------------------------------------------------------------
// Negatives
// ---------------------------------------------------------------------------------

/// Expands `{TAG}` placeholders of negative templates, each occurrence drawn anew.
/// Anything in braces that is not a known tag (code, `${VAR}`, `{{ x }}`) stays as is.
fn fill(r: &mut Rng, tpl: &str) -> String {
    let mut out = String::with_capacity(tpl.len() * 2);
    let mut rest = tpl;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let expanded = after.find('}').and_then(|end| expand(r, &after[..end]).map(|text| (text, end)));
        match expanded {
            Some((text, end)) => {
                out.push_str(&text);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn expand(r: &mut Rng, tag: &str) -> Option<String> {
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let sized = |prefix: &str| tag.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    if let Some(n) = sized("HEX") {
        return Some(r.s(HEX, n));
    }
    if let Some(n) = sized("B64URL_") {
        return Some(r.s(B64URL, n));
    }
    if let Some(n) = sized("B64_") {
        return Some(r.s(B64, n));
    }
    if let Some(n) = sized("B62_") {
        return Some(r.s(BASE62, n));
    }
    if let Some(n) = sized("LOWER_") {
        return Some(r.s(LOWER_ALNUM, n));
    }
    if let Some(n) = sized("DIGITS_") {
        return Some(r.s(DIGITS, n));
    }
    if let Some(n) = sized("X_") {
        return Some("X".repeat(n));
    }
    let text = match tag {
        "UUID" => r.uuid(),
        "UUIDU" => r.uuid().to_ascii_uppercase(),
        "SHA512" => b64(&r.bytes(64), B64, true),
        "SHA384" => b64(&r.bytes(48), B64, true),
        "H1" => b64(&r.bytes(32), B64, true),
        "WORD" => r.word().to_string(),
        "N" => r.range(2, 9999).to_string(),
        "PNG_B64" => {
            let n = r.range(200, 600);
            magic_b64(r, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", n)
        }
        "GIF_B64" => {
            let n = r.range(60, 300);
            magic_b64(r, b"GIF89a", n)
        }
        "JPEG_B64" => {
            let n = r.range(300, 700);
            magic_b64(r, &[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0], n)
        }
        "WOFF2_B64" => {
            let n = r.range(400, 900);
            magic_b64(r, b"wOF2\0\x01\0\0", n)
        }
        "WASM_B64" => {
            let n = r.range(300, 600);
            magic_b64(r, b"\0asm\x01\0\0\0", n)
        }
        "SVG_B64" => {
            let svg = format!(
                r##""<svg xmlns="http://www.w3.org/2000/svg" width="90" height="20"><rect width="90" height="20" fill="#{}"/><text x="6" y="14" fill="#fff">build passing</text></svg>""##,
                r.s(HEX, 6)
            );
            b64(svg.as_bytes(), B64, true)
        }
        "JWTHDR" => b64(br#"{"alg":"HS256","typ":"JWT"}"#, B64URL, false),
        "PUBKEY_PEM" => pem("PUBLIC KEY", &public_key_der(r), 64),
        "EC_PUBKEY_PEM" => {
            let mut v = vec![
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
                0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
            ];
            v.extend(r.bytes(64));
            pem("PUBLIC KEY", &v, 64)
        }
        "RSA_PUBKEY_PEM" => {
            let mut v = vec![0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00];
            v.extend(r.bytes(256));
            v.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
            pem("RSA PUBLIC KEY", &v, 64)
        }
        "CERT_PEM" => pem("CERTIFICATE", &certificate_der(r), 64),
        "CSR_PEM" => pem(
            "CERTIFICATE REQUEST",
            &der(&[0x30, 0x82, 0x02, 0x9a, 0x30, 0x82, 0x01, 0x82, 0x02, 0x01, 0x00], r, 650),
            64,
        ),
        "CERT_B64" => b64(&certificate_der(r), B64, true),
        "PGP_PUBLIC" => {
            let body = magic_b64(r, &[0x99, 0x01, 0x8d, 0x04], 600);
            let mut s = String::from("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n");
            for line in body.as_bytes().chunks(64) {
                s.push_str(std::str::from_utf8(line).expect("ascii"));
                s.push('\n');
            }
            s.push_str(&format!("={}\n-----END PGP PUBLIC KEY BLOCK-----", r.s(B64, 4)));
            s
        }
        "SSH_RSA" => format!("ssh-rsa {}", ssh_public(r, "ssh-rsa")),
        "SSH_ED25519" => format!("ssh-ed25519 {}", ssh_public(r, "ssh-ed25519")),
        "SSH_ECDSA" => format!("ecdsa-sha2-nistp256 {}", ssh_public(r, "ecdsa-sha2-nistp256")),
        "JWK_N" => b64(&r.bytes(256), B64URL, false),
        _ => return None,
    };
    Some(text)
}

/// Whether a template draws anything at random (then it is worth generating twice).
fn is_random(tpl: &str) -> bool {
    let mut probe = Rng::new(1);
    let mut probe2 = Rng::new(2);
    fill(&mut probe, tpl) != fill(&mut probe2, tpl)
}

/// Hand-written look-alikes: (kind, file name, template).
const NEGATIVE_TEMPLATES: &[(&str, &str, &str)] = &[
    // --- environment and configuration lookups -------------------------------------
    ("env-lookup", "settings.py", r##"import os

DEBUG = os.environ.get("DEBUG", "0") == "1"
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DATABASE_PASSWORD = os.getenv("DATABASE_PASSWORD")
API_TOKEN = os.environ.get("API_TOKEN", "")
"##),
    ("env-lookup", "config.js", r##"module.exports = {
  port: Number(process.env.PORT || 3000),
  apiKey: process.env.API_KEY,
  sessionSecret: process.env.SESSION_SECRET,
  dbPassword: process.env.DB_PASSWORD || '',
};
"##),
    ("env-lookup", "client.ts", r##"const apiKey = import.meta.env.VITE_API_KEY
const token = process.env.GITHUB_TOKEN
const { DB_PASSWORD } = process.env

export function headers() {
  return { 'X-Api-Key': apiKey, Authorization: `Bearer ${token}` }
}
"##),
    ("env-lookup", "Database.java", r##"package com.acme.db;

public class Database {
    public static DataSource create() {
        String password = System.getenv("DB_PASSWORD");
        String token = System.getProperty("auth.token");
        return new HikariDataSource(url(), "app", password, token);
    }
}
"##),
    ("env-lookup", "AppConfig.java", r##"package com.acme;

@Configuration
public class AppConfig {
    @Value("${app.api-key}")
    private String apiKey;

    @Value("${spring.datasource.password}")
    private String dbPassword;
}
"##),
    ("env-lookup", "main.go", r##"package main

import "os"

func main() {
	token := os.Getenv("GITHUB_TOKEN")
	apiKey, ok := os.LookupEnv("API_KEY")
	if !ok || token == "" {
		os.Exit(2)
	}
	run(token, apiKey)
}
"##),
    ("env-lookup", "main.rs", r##"use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let token = std::env::var("API_TOKEN").context("API_TOKEN must be set")?;
    let password = std::env::var("DB_PASSWORD").unwrap_or_default();
    acme::run(&token, &password)
}
"##),
    ("env-lookup", "stripe.rb", r##"Stripe.api_key = ENV.fetch("STRIPE_SECRET_KEY")
password = ENV['DB_PASSWORD']
token = Rails.application.credentials.dig(:github, :token)
"##),
    ("env-lookup", "release.sh", r##"#!/usr/bin/env bash
set -euo pipefail
export GITHUB_TOKEN="$(gh auth token)"
PASSWORD="${DB_PASSWORD:?DB_PASSWORD must be set}"
token=$(vault kv get -field=token secret/ci)
curl -H "Authorization: Bearer ${token}" https://api.acme.io/v1/release
"##),
    ("env-lookup", "database.php", r##"<?php
return [
    'password' => env('DB_PASSWORD'),
    'secret' => env('APP_SECRET', ''),
];
$apiKey = getenv('API_KEY');
"##),
    ("env-lookup", "Startup.cs", r##"var builder = WebApplication.CreateBuilder(args);
var apiKey = Environment.GetEnvironmentVariable("API_KEY");
var jwtSecret = builder.Configuration["Jwt:Secret"];
var password = builder.Configuration.GetConnectionString("Password");
"##),
    ("env-lookup", "deploy.ps1", r##"$token = $env:GITHUB_TOKEN
$password = ConvertTo-SecureString $env:ADMIN_PASSWORD -AsPlainText -Force
$credential = New-Object System.Management.Automation.PSCredential("admin", $password)
"##),
    ("env-lookup", "docker-compose.yml", r##"services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      API_TOKEN: ${API_TOKEN:?err}
      SECRET_KEY: ${SECRET_KEY:-}
"##),
    ("env-lookup", ".env.example", r##"# Copy to .env and fill in
API_KEY=
DB_PASSWORD=
SECRET_KEY=
GITHUB_TOKEN=
"##),
    ("env-lookup", "settings.py", r##"from decouple import config

SECRET_KEY = config("SECRET_KEY")
EMAIL_HOST_PASSWORD = config("EMAIL_HOST_PASSWORD", default="")
STRIPE_API_KEY = config("STRIPE_API_KEY", cast=str)
"##),
    ("env-lookup", "publish.yml", r##"name: publish
on: [release]
jobs:
  publish:
    runs-on: ubuntu-latest
    env:
      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
      PYPI_PASSWORD: ${{ secrets.PYPI_PASSWORD }}
    steps:
      - run: npm publish
"##),
    ("env-lookup", ".gitlab-ci.yml", r##"variables:
  TOKEN: $CI_JOB_TOKEN
build:
  script:
    - docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" "$CI_REGISTRY"
    - docker push "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"
"##),
    ("env-lookup", "Jenkinsfile", r##"pipeline {
  agent any
  stages {
    stage('push') {
      steps {
        withCredentials([string(credentialsId: 'github-token', variable: 'GITHUB_TOKEN')]) {
          sh 'git push https://x-access-token:$GITHUB_TOKEN@github.com/acme/app.git HEAD:main'
        }
      }
    }
  }
}
"##),
    ("env-lookup", "Config.kt", r##"val apiKey: String = System.getenv("API_KEY") ?: error("API_KEY not set")
val password: String? = System.getenv("DB_PASSWORD")
"##),
    ("env-lookup", "application.properties", r##"spring.datasource.url=jdbc:postgresql://db:5432/app
spring.datasource.username=app
spring.datasource.password=${DB_PASSWORD}
jwt.secret=${JWT_SECRET:}
"##),
    ("env-lookup", "cli.py", r##"import getpass

password = getpass.getpass("Password: ")
token = input("Paste your token: ").strip()
"##),
    ("env-lookup", "secrets_loader.py", r##"import hvac

client = hvac.Client(url="https://vault.acme.io")
secret = client.secrets.kv.v2.read_secret_version(path="app")["data"]["data"]
api_key = secret["api_key"]
password = secret.get("db_password")
"##),
    // --- git SHAs, digests, checksums, etags -----------------------------------------
    ("digest", "CHANGELOG.md", r##"# Changelog

## 2.4.1
- fix login redirect loop ([{HEX7}](https://github.com/acme/app/commit/{HEX40}))
- bump dependencies ([{HEX7}](https://github.com/acme/app/commit/{HEX40}))
- rotate signing keys on deploy ([{HEX7}](https://github.com/acme/app/commit/{HEX40}))
"##),
    ("digest", ".git-blame-ignore-revs", r##"# Reformat with black
{HEX40}
# Migrate to ruff
{HEX40}
"##),
    ("digest", "build-info.json", r##"{
  "commit": "{HEX40}",
  "branch": "main",
  "builtAt": "2024-03-11T09:21:44Z",
  "buildHash": "{HEX12}"
}
"##),
    ("digest", "SHA256SUMS", r##"{HEX64}  acme-cli-linux-amd64.tar.gz
{HEX64}  acme-cli-linux-arm64.tar.gz
{HEX64}  acme-cli-darwin-arm64.tar.gz
{HEX64}  acme-cli-windows-amd64.zip
"##),
    ("digest", "Dockerfile", r##"FROM python:3.12-slim@sha256:{HEX64}
RUN pip install --no-cache-dir poetry==1.8.2
COPY . /app
"##),
    ("digest", "deployment.yaml", r##"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api@sha256:{HEX64}
"##),
    ("digest", "install.sh", r##"#!/bin/sh
VERSION=1.7.2
CHECKSUM="{HEX64}"
curl -fsSLo tool.tgz "https://dl.acme.io/tool/${VERSION}/tool.tgz"
echo "${CHECKSUM}  tool.tgz" | sha256sum -c -
"##),
    ("digest", "acme.rb", r##"class Acme < Formula
  desc "Acme command-line tool"
  url "https://github.com/acme/cli/archive/refs/tags/v1.2.3.tar.gz"
  sha256 "{HEX64}"
  license "MIT"
end
"##),
    ("digest", "list-objects.json", r##"{
  "Contents": [
    { "Key": "reports/2024-03.csv", "ETag": "\"{HEX32}\"", "Size": 48213 },
    { "Key": "reports/2024-04.csv", "ETag": "\"{HEX32}\"", "Size": 51877 }
  ]
}
"##),
    ("digest", "manifest.yml", r##"files:
  - path: assets/logo.png
    md5: {HEX32}
    etag: "{HEX32}"
  - path: assets/app.css
    md5: {HEX32}
    etag: "{HEX32}"
"##),
    ("digest", "test_hashing.py", r##"import hashlib


def test_digest():
    data = b"hello world"
    assert hashlib.sha256(data).hexdigest() == "{HEX64}"
    assert hashlib.md5(data).hexdigest() == "{HEX32}"
"##),
    ("digest", "digest_test.go", r##"package store

import "testing"

const wantDigest = "{HEX64}"

func TestDigest(t *testing.T) {
	if got := Digest([]byte("payload")); got != wantDigest {
		t.Fatalf("digest = %s", got)
	}
}
"##),
    ("digest", "ci.yml", r##"jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{HEX40} # v4.1.1
      - uses: actions/setup-node@{HEX40} # v4.0.2
      - uses: actions/cache@{HEX40} # v4.0.0
        with:
          key: deps-{HEX64}
"##),
    ("digest", "build.env", r##"GIT_SHA={HEX40}
GIT_SHORT_SHA={HEX7}
BUILD_HASH={HEX12}
"##),
    ("digest", "package.json", r##"{
  "name": "left-pad",
  "version": "1.3.0",
  "dist": {
    "shasum": "{HEX40}",
    "tarball": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"
  },
  "gitHead": "{HEX40}"
}
"##),
    ("digest", "s3.tf", r##"resource "aws_s3_object" "bundle" {
  bucket = "acme-artifacts"
  key    = "bundle.zip"
  source = "dist/bundle.zip"
  etag   = "{HEX32}"
}
"##),
    ("digest", "application.yaml", r##"apiVersion: argoproj.io/v1alpha1
kind: Application
spec:
  source:
    repoURL: https://github.com/acme/deploy.git
    targetRevision: {HEX40}
    path: apps/api
"##),
    ("digest", "packed-refs", r##"# pack-refs with: peeled fully-peeled sorted
{HEX40} refs/heads/main
{HEX40} refs/tags/v1.0.0
^{HEX40}
"##),
    ("digest", "pins.toml", r##"[tools.protoc]
version = "25.3"
digest = "sha256:{HEX64}"
commit = "{HEX40}"
"##),
    ("digest", "release.py", r##"COMMIT_HASH = "{HEX40}"
CHECKSUM = "{HEX64}"
ETAG = "{HEX32}"
"##),
    ("digest", "stats.json", r##"{
  "hash": "{HEX20}",
  "version": "5.90.3",
  "assets": [
    { "name": "main.{HEX8}.js", "size": 183221, "contenthash": "{HEX20}" }
  ]
}
"##),
    // --- UUIDs -----------------------------------------------------------------------
    ("uuid", "app.log", r##"{"level":"info","ts":"2024-03-11T09:21:44Z","request_id":"{UUID}","correlation_id":"{UUID}","msg":"request completed","status":200}
{"level":"warn","ts":"2024-03-11T09:21:45Z","request_id":"{UUID}","correlation_id":"{UUID}","msg":"slow query","ms":812}
"##),
    ("uuid", "users.json", r##"[
  { "id": "{UUID}", "name": "Ada Lovelace", "role": "admin" },
  { "id": "{UUID}", "name": "Grace Hopper", "role": "member" }
]
"##),
    ("uuid", "azure.tf", r##"provider "azurerm" {
  features {}
  tenant_id       = "{UUID}"
  subscription_id = "{UUID}"
  client_id       = "{UUID}"
}
"##),
    ("uuid", "test_orders.py", r##"REQUEST_ID = "{UUID}"
ORDER_ID = "{UUID}"


def test_lookup(client):
    resp = client.get(f"/orders/{ORDER_ID}", headers={"X-Request-Id": REQUEST_ID})
    assert resp.status_code == 200
"##),
    ("uuid", "seed.sql", r##"INSERT INTO accounts (id, name, plan) VALUES ('{UUID}', 'acme', 'enterprise');
INSERT INTO accounts (id, name, plan) VALUES ('{UUID}', 'globex', 'free');
"##),
    ("uuid", "create-order.http", r##"POST https://api.acme.io/v1/orders
Content-Type: application/json
X-Request-Id: {UUID}
Idempotency-Key: {UUID}

{"sku": "ABC-123", "quantity": 2}
"##),
    ("uuid", "Acme.sln", r##"Microsoft Visual Studio Solution File, Format Version 12.00
Project("{{UUIDU}}") = "Acme.Api", "Acme.Api\Acme.Api.csproj", "{{UUIDU}}"
EndProject
"##),
    ("uuid", "pod.yaml", r##"apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f8c6b5-x2x7q
  uid: {UUID}
  ownerReferences:
    - kind: ReplicaSet
      name: api-7d9f8c6b5
      uid: {UUID}
"##),
    ("uuid", "trace.yaml", r##"spans:
  - trace_id: {UUID}
    span_id: {HEX16}
    parent_span_id: {HEX16}
    name: GET /orders
"##),
    ("uuid", "session.js", r##"const sessionId = '{UUID}';
const installationId = "{UUID}";
export default { sessionId, installationId };
"##),
    // --- lockfiles ----------------------------------------------------------------------
    ("lockfile", "package-lock.json", r##"{
  "name": "acme-web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "node_modules/axios": {
      "version": "1.6.7",
      "resolved": "https://registry.npmjs.org/axios/-/axios-1.6.7.tgz",
      "integrity": "sha512-{SHA512}",
      "dependencies": { "follow-redirects": "^1.15.4" }
    },
    "node_modules/follow-redirects": {
      "version": "1.15.5",
      "resolved": "https://registry.npmjs.org/follow-redirects/-/follow-redirects-1.15.5.tgz",
      "integrity": "sha512-{SHA512}"
    },
    "node_modules/js-tokens": {
      "version": "4.0.0",
      "resolved": "https://registry.npmjs.org/js-tokens/-/js-tokens-4.0.0.tgz",
      "integrity": "sha512-{SHA512}"
    }
  }
}
"##),
    ("lockfile", "yarn.lock", r##"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


axios@^1.6.0:
  version "1.6.7"
  resolved "https://registry.yarnpkg.com/axios/-/axios-1.6.7.tgz#{HEX40}"
  integrity sha512-{SHA512}

js-tokens@^4.0.0:
  version "4.0.0"
  resolved "https://registry.yarnpkg.com/js-tokens/-/js-tokens-4.0.0.tgz#{HEX40}"
  integrity sha512-{SHA512}
"##),
    ("lockfile", "Cargo.lock", r##"# This file is automatically @generated by Cargo.
version = 3

[[package]]
name = "aho-corasick"
version = "1.1.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{HEX64}"

[[package]]
name = "secrecy"
version = "0.8.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{HEX64}"
"##),
    ("lockfile", "go.sum", r##"github.com/golang-jwt/jwt/v5 v5.2.0 h1:{H1}
github.com/golang-jwt/jwt/v5 v5.2.0/go.mod h1:{H1}
golang.org/x/crypto v0.19.0 h1:{H1}
golang.org/x/crypto v0.19.0/go.mod h1:{H1}
"##),
    ("lockfile", "poetry.lock", r##"[[package]]
name = "keyring"
version = "24.3.0"
description = "Store and access your passwords safely."
optional = false
python-versions = ">=3.8"
files = [
    {file = "keyring-24.3.0-py3-none-any.whl", hash = "sha256:{HEX64}"},
    {file = "keyring-24.3.0.tar.gz", hash = "sha256:{HEX64}"},
]
"##),
    ("lockfile", "pnpm-lock.yaml", r##"lockfileVersion: '6.0'

packages:

  /jsonwebtoken@9.0.2:
    resolution: {integrity: sha512-{SHA512}}
    engines: {node: '>=12', npm: '>=6'}
    dev: false

  /js-tokens@4.0.0:
    resolution: {integrity: sha512-{SHA512}}
    dev: false
"##),
    ("lockfile", ".terraform.lock.hcl", r##"# This file is maintained automatically by "terraform init".
provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.38.0"
  constraints = "~> 5.0"
  hashes = [
    "h1:{H1}",
    "zh:{HEX64}",
    "zh:{HEX64}",
  ]
}
"##),
    ("lockfile", "requirements.txt", r##"cryptography==42.0.5 \
    --hash=sha256:{HEX64} \
    --hash=sha256:{HEX64}
pyjwt==2.8.0 \
    --hash=sha256:{HEX64}
"##),
    ("lockfile", "composer.lock", r##"{
    "content-hash": "{HEX32}",
    "packages": [
        {
            "name": "firebase/php-jwt",
            "version": "v6.10.0",
            "source": { "type": "git", "url": "https://github.com/firebase/php-jwt.git", "reference": "{HEX40}" },
            "dist": { "type": "zip", "reference": "{HEX40}", "shasum": "" }
        }
    ]
}
"##),
    ("lockfile", "flake.lock", r##"{
  "nodes": {
    "nixpkgs": {
      "locked": {
        "lastModified": 1709961763,
        "narHash": "sha256-{H1}",
        "owner": "NixOS",
        "repo": "nixpkgs",
        "rev": "{HEX40}",
        "type": "github"
      }
    }
  },
  "version": 7
}
"##),
    ("lockfile", "Pipfile.lock", r##"{
    "_meta": { "hash": { "sha256": "{HEX64}" } },
    "default": {
        "passlib": {
            "hashes": [
                "sha256:{HEX64}",
                "sha256:{HEX64}"
            ],
            "version": "==1.7.4"
        }
    }
}
"##),
    ("lockfile", "Podfile.lock", r##"PODS:
  - Alamofire (5.8.1)
  - KeychainAccess (4.2.2)

SPEC CHECKSUMS:
  Alamofire: {HEX40}
  KeychainAccess: {HEX40}

PODFILE CHECKSUM: {HEX40}

COCOAPODS: 1.15.2
"##),
    ("lockfile", "verification-metadata.xml", r##"<?xml version="1.0" encoding="UTF-8"?>
<verification-metadata>
   <components>
      <component group="io.jsonwebtoken" name="jjwt-api" version="0.12.5">
         <artifact name="jjwt-api-0.12.5.jar">
            <sha256 value="{HEX64}" origin="Generated by Gradle"/>
         </artifact>
      </component>
   </components>
</verification-metadata>
"##),
    ("lockfile", "Gemfile.lock", r##"GEM
  remote: https://rubygems.org/
  specs:
    bcrypt (3.1.20)
    jwt (2.8.1)

CHECKSUMS
  bcrypt (3.1.20) sha256={HEX64}
  jwt (2.8.1) sha256={HEX64}

BUNDLED WITH
   2.5.6
"##),
    ("lockfile", "mix.lock", r##"%{
  "jason": {:hex, :jason, "1.4.1", "{HEX64}", [:mix], [], "hexpm", "{HEX64}"},
  "joken": {:hex, :joken, "2.6.0", "{HEX64}", [:mix], [], "hexpm", "{HEX64}"},
}
"##),
    ("lockfile", "packages.lock.json", r##"{
  "version": 1,
  "dependencies": {
    "net8.0": {
      "System.IdentityModel.Tokens.Jwt": {
        "type": "Direct",
        "requested": "[7.4.0, )",
        "resolved": "7.4.0",
        "contentHash": "{SHA512}"
      }
    }
  }
}
"##),
    ("lockfile", "uv.lock", r##"version = 1
requires-python = ">=3.11"

[[package]]
name = "python-jose"
version = "3.3.0"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.pythonhosted.org/packages/python_jose-3.3.0.tar.gz", hash = "sha256:{HEX64}", size = 129068 }
wheels = [
    { url = "https://files.pythonhosted.org/packages/python_jose-3.3.0-py2.py3-none-any.whl", hash = "sha256:{HEX64}", size = 33530 },
]
"##),
    // --- base64 data URIs and blobs without secret context ------------------------------
    ("data-uri", "logo.css", r##".logo {
  width: 120px;
  background-image: url("data:image/png;base64,{PNG_B64}");
}
"##),
    ("data-uri", "spinner.html", r##"<div class="loading">
  <img alt="loading" src="data:image/gif;base64,{GIF_B64}">
</div>
"##),
    ("data-uri", "BADGES.md", r##"# Status

![build](data:image/svg+xml;base64,{SVG_B64})
"##),
    ("data-uri", "icons.ts", r##"export const ICON_CHECK = 'data:image/png;base64,{PNG_B64}';
export const ICON_WARN = 'data:image/png;base64,{PNG_B64}';
"##),
    ("data-uri", "fonts.css", r##"@font-face {
  font-family: "Inter";
  src: url(data:font/woff2;base64,{WOFF2_B64}) format("woff2");
  font-display: swap;
}
"##),
    ("data-uri", "manifest.json", r##"{
  "name": "Acme Dashboard",
  "icons": [{ "src": "data:image/png;base64,{PNG_B64}", "sizes": "64x64", "type": "image/png" }]
}
"##),
    ("data-uri", "welcome-email.html", r##"<table role="presentation"><tr><td>
  <img src="data:image/jpeg;base64,{JPEG_B64}" width="600" alt="Welcome to Acme">
</td></tr></table>
"##),
    ("test-blob", "test_codec.py", r##"from acme.codec import decode, encode

ENCODED = "{B64_120}"


def test_roundtrip():
    assert encode(decode(ENCODED)) == ENCODED
"##),
    ("test-blob", "fixture.json", r##"{
  "message_id": 18233,
  "payload": "{B64_200}",
  "content_type": "application/octet-stream"
}
"##),
    ("test-blob", "codec_test.go", r##"package codec

import "testing"

var sample = []byte("{B64_64}")

func TestDecode(t *testing.T) {
	if _, err := Decode(sample); err != nil {
		t.Fatal(err)
	}
}
"##),
    ("test-blob", "render.test.js.snap", r##"// Jest Snapshot v1, https://goo.gl/fbAQLP

exports[`renders the chart 1`] = `"{B64_300}"`;
"##),
    ("test-blob", "vectors.yaml", r##"cases:
  - name: short message
    input: {B64_44}
    output: {B64_44}
  - name: long message
    input: {B64_88}
    output: {B64_88}
"##),
    ("test-blob", "test_aead.py", r##"CIPHERTEXT = bytes.fromhex("{HEX64}")
IV = bytes.fromhex("{HEX24}")
TAG = bytes.fromhex("{HEX32}")


def test_decrypt_rejects_tampering():
    with pytest.raises(InvalidTag):
        decrypt(CIPHERTEXT[:-1] + b"\x00", IV, TAG)
"##),
    ("test-blob", "ImageTest.java", r##"class ImageTest {
    private static final String ENCODED_IMAGE = "{B64_160}";

    @Test
    void decodes() {
        assertNotNull(Image.decode(ENCODED_IMAGE));
    }
}
"##),
    ("test-blob", "invoice.eml", r##"From: billing@acme.io
To: ada@example.org
Subject: Your invoice
MIME-Version: 1.0
Content-Type: application/pdf; name="invoice.pdf"
Content-Transfer-Encoding: base64

{B64_76}
{B64_76}
{B64_76}
{B64_40}==
"##),
    ("test-blob", "configmap.yaml", r##"apiVersion: v1
kind: ConfigMap
metadata:
  name: branding
binaryData:
  logo.png: {PNG_B64}
"##),
    ("test-blob", "wasm.js", r##"const wasmBytes = "{WASM_B64}";
export const module = WebAssembly.compile(Uint8Array.from(atob(wasmBytes), (c) => c.charCodeAt(0)));
"##),
    // --- public keys and certificates --------------------------------------------------------
    ("public-key", "public.pem", "{PUBKEY_PEM}\n"),
    ("public-key", "ec_public.pem", "{EC_PUBKEY_PEM}\n"),
    ("public-key", "rsa_pub.pem", "{RSA_PUBKEY_PEM}\n"),
    ("public-key", "cert.pem", "{CERT_PEM}\n{CERT_PEM}\n"),
    ("public-key", "server.csr", "{CSR_PEM}\n"),
    ("public-key", "authorized_keys", r##"{SSH_RSA} ada@laptop
{SSH_ED25519} grace@workstation
{SSH_ECDSA} deploy@ci
"##),
    ("public-key", "known_hosts", r##"github.com {SSH_ED25519}
gitlab.acme.io {SSH_ECDSA}
|1|{B64_27}=|{B64_27}= {SSH_RSA}
"##),
    ("public-key", "id_ed25519.pub", "{SSH_ED25519} ops@acme.io\n"),
    ("public-key", "ca-bundle.yaml", r##"apiVersion: v1
kind: ConfigMap
metadata:
  name: trusted-ca
data:
  ca.crt: |
    -----BEGIN CERTIFICATE-----
    {B64_64}
    {B64_64}
    {B64_64}
    {B64_64}
    {B64_40}==
    -----END CERTIFICATE-----
"##),
    ("public-key", "jwks.json", r##"{
  "keys": [
    { "kty": "RSA", "kid": "{HEX16}", "use": "sig", "alg": "RS256", "n": "{JWK_N}", "e": "AQAB" },
    { "kty": "RSA", "kid": "{HEX16}", "use": "sig", "alg": "RS256", "n": "{JWK_N}", "e": "AQAB", "x5c": ["{CERT_B64}"] }
  ]
}
"##),
    ("public-key", "SECURITY.md", r##"# Security

Report vulnerabilities to security@acme.io, encrypted with this key:

```
{PGP_PUBLIC}
```
"##),
    ("public-key", "bastion.tf", r##"resource "aws_key_pair" "deploy" {
  key_name   = "deploy"
  public_key = "{SSH_ED25519} deploy@ci"
}
"##),
    ("public-key", "verify.py", r##"from cryptography.hazmat.primitives.serialization import load_pem_public_key

PUBLIC_KEY = load_pem_public_key(b"""{PUBKEY_PEM}""")
"##),
    ("public-key", "tls.yaml", r##"apiVersion: v1
kind: ConfigMap
metadata:
  name: upstream-ca
data:
  upstream.crt: |
{CERT_PEM}
"##),
    // --- secret names without values -----------------------------------------------------------
    ("secret-name", "forms.py", r##"password_field = "user_password"
PASSWORD_INPUT_NAME = "new_password"
CONFIRM_PASSWORD_FIELD = "confirm_password"
"##),
    ("secret-name", "constants.js", r##"export const TOKEN_HEADER = "X-Auth-Token";
export const API_KEY_HEADER = 'X-Api-Key';
export const REFRESH_TOKEN_COOKIE = "refresh_token";
"##),
    ("secret-name", "values.yaml", r##"postgresql:
  auth:
    existingSecret: postgres-credentials
    secretKeys:
      adminPasswordKey: postgres-password
secret_name: prod-db-credentials
"##),
    ("secret-name", "secrets.tf", r##"resource "aws_secretsmanager_secret" "db" {
  name = "prod/api/db-credentials"
}

data "aws_secretsmanager_secret_version" "db" {
  secret_id = aws_secretsmanager_secret.db.id
}
"##),
    ("secret-name", "settings.py", r##"PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
"##),
    ("secret-name", "Params.java", r##"public final class Params {
    public static final String PASSWORD_PARAM = "password";
    public static final String TOKEN_TYPE = "access_token";
    public static final String SECRET_PROPERTY = "spring.datasource.password";
}
"##),
    ("secret-name", "oauth.py", r##"token_url = "https://oauth2.googleapis.com/token"
token_endpoint_auth_method = "client_secret_post"
grant_type = "client_credentials"
"##),
    ("secret-name", "outputs.tf", r##"output "db_secret_arn" {
  value = "arn:aws:secretsmanager:us-east-1:{DIGITS_12}:secret:prod/db-{B62_6}"
}
"##),
    ("secret-name", "realm-export.json", r##"{
  "realm": "acme",
  "users": [
    { "username": "ada", "credentials": [{ "type": "password", "temporary": false }] }
  ],
  "clients": [
    { "clientId": "web", "secret": "**********", "publicClient": false }
  ]
}
"##),
    ("secret-name", "main.yml", r##"- name: create db user
  community.postgresql.postgresql_user:
    name: app
    password: "{{ vault_db_password }}"
  no_log: true
"##),
    ("secret-name", "cache_keys.py", r##"TOKEN_CACHE_KEY = "auth:token:{user_id}"
PASSWORD_RESET_TEMPLATE = "emails/password_reset.html"
"##),
    ("secret-name", "schema.sql", r##"CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    password_hash text NOT NULL,
    api_key_prefix varchar(8)
);
"##),
    ("secret-name", "schema.graphql", r##"type Mutation {
  resetPassword(token: String!, newPassword: String!): Boolean!
  createApiKey(name: String!): ApiKey!
}
"##),
    ("secret-name", "openapi.yaml", r##"components:
  securitySchemes:
    ApiKeyAuth:
      type: apiKey
      in: header
      name: X-API-KEY
    BearerAuth:
      type: http
      scheme: bearer
      bearerFormat: JWT
"##),
    ("secret-name", "ingress.yaml", r##"apiVersion: networking.k8s.io/v1
kind: Ingress
spec:
  tls:
    - hosts: [api.acme.io]
      secretName: tls-acme-io
---
apiVersion: v1
kind: ServiceAccount
automountServiceAccountToken: false
"##),
    ("secret-name", "policy.yaml", r##"password_min_length: 12
password_require_symbols: true
token_ttl_seconds: 3600
secret_rotation_days: 30
"##),
    ("secret-name", "user.rb", r##"class User < ApplicationRecord
  has_secure_password
  has_secure_token :api_token
  encrypts :api_key
end
"##),
    ("secret-name", "config.go", "package config\n\ntype Config struct {\n\tPassword string `json:\"password\" yaml:\"password\"`\n\tAPIKey   string `env:\"API_KEY,required\"`\n\tToken    string `json:\"token,omitempty\"`\n}\n"),
    ("secret-name", "TokenResponse.cs", r##"public class TokenResponse
{
    [JsonPropertyName("client_secret")]
    public string ClientSecret { get; set; }

    [JsonPropertyName("access_token")]
    public string AccessToken { get; set; }
}
"##),
    ("secret-name", "Keychain.swift", r##"let passwordKey = "com.acme.keychain.password"
let tokenService = "com.acme.auth"
"##),
    ("secret-name", "routes.py", r##"urlpatterns = [
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
]
password_reset_url = "/accounts/password/reset/"
"##),
    ("secret-name", "external-secret.yaml", r##"apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: api
spec:
  secretStoreRef:
    name: vault-backend
    kind: ClusterSecretStore
  data:
    - secretKey: password
      remoteRef:
        key: prod/api
        property: db_password
"##),
    // --- paths to secret files ---------------------------------------------------------------
    ("file-path", "tls.tf", r##"locals {
  private_key_path = "/etc/ssl/private/key.pem"
  certificate_path = "/etc/ssl/certs/acme.pem"
}
"##),
    ("file-path", "inventory.yml", r##"all:
  vars:
    ansible_user: deploy
    ansible_ssh_private_key_file: ~/.ssh/id_ed25519
    ssh_key_file: ~/.ssh/deploy_key
"##),
    ("file-path", "provider.tf", r##"provider "aws" {
  region                   = "us-east-1"
  shared_credentials_files = ["~/.aws/credentials"]
  profile                  = "prod"
}
"##),
    ("file-path", ".env", r##"GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json
TLS_PRIVATE_KEY=/etc/tls/tls.key
SECRETS_DIR=/run/secrets
"##),
    ("file-path", ".sops.yaml", r##"creation_rules:
  - path_regex: secrets/prod\.enc\.yaml$
    kms: arn:aws:kms:us-east-1:{DIGITS_12}:alias/sops
secret_file: ./secrets/prod.enc.yaml
"##),
    ("file-path", "db.py", r##"password_file = "/run/secrets/db_password"
with open(password_file) as fh:
    DB_PASSWORD = fh.read().strip()
"##),
    ("file-path", "nginx.conf", r##"server {
    listen 443 ssl;
    ssl_certificate     /etc/nginx/ssl/server.crt;
    ssl_certificate_key /etc/nginx/ssl/server.key;
}
"##),
    ("file-path", "Keystore.java", r##"String keystorePath = "/opt/app/keystore.p12";
String truststorePath = "/opt/app/truststore.jks";
"##),
    ("file-path", "docker-compose.yml", r##"services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    secrets:
      - db_password
secrets:
  db_password:
    file: ./secrets/db_password.txt
"##),
    ("file-path", "kubeconfig.yaml", r##"users:
  - name: ci
    user:
      tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
      client-key: /etc/kubernetes/pki/ci.key
"##),
    ("file-path", "settings.json", r##"{
  "python.envFile": "${workspaceFolder}/.env.secrets",
  "files.exclude": { "**/secrets": true }
}
"##),
    ("file-path", "ssh_config", r##"Host bastion
    HostName bastion.acme.io
    User deploy
    IdentityFile ~/.ssh/deploy_key
"##),
    // --- functions and expressions ---------------------------------------------------------
    ("function", "session.py", r##"class Session:
    def get_token(self):
        return self._session.token

    def refresh(self):
        token = self._oauth.refresh_token(self._refresh)
        self._session.token = token
        return token
"##),
    ("function", "login.js", r##"function getPassword() {
  return document.querySelector('#password').value;
}

async function login(username) {
  const password = getPassword();
  const token = await api.authenticate(username, password);
  localStorage.setItem('token', token);
}
"##),
    ("function", "client.go", r##"package client

func (c *Client) SecretKey() string { return c.secretKey }

func (c *Client) Token() (string, error) {
	token, err := c.source.Token()
	if err != nil {
		return "", err
	}
	return token.AccessToken, nil
}
"##),
    ("function", "Account.java", r##"public class Account {
    private String apiKey;
    private String password;

    public String getApiKey() { return apiKey; }

    public void setPassword(String password) { this.password = password; }
}
"##),
    ("function", "auth.py", r##"def register(raw_password, payload, key):
    password = hash_password(raw_password)
    token = jwt.encode(payload, key, algorithm="HS256")
    secret = secrets.token_urlsafe(32)
    return password, token, secret
"##),
    ("function", "middleware.py", r##"def authenticate(request):
    api_key = request.headers.get("X-API-Key")
    token = request.cookies.get("session_token")
    return lookup(api_key or token)
"##),
    ("function", "auth.rs", r##"impl Credentials {
    pub fn access_token(&self) -> &str {
        &self.access_token
    }
}

fn prompt() -> anyhow::Result<String> {
    let password = rpassword::prompt_password("Password: ")?;
    Ok(password)
}
"##),
    ("function", "tokens.ts", r##"export class TokenService {
  async refreshToken(refreshToken: string): Promise<TokenPair> {
    const res = await this.http.post<TokenPair>('/oauth/token', { refresh_token: refreshToken });
    return res.data;
  }
}
"##),
    ("function", "SecretStore.cs", r##"public class SecretStore
{
    public async Task<string> GetSecretAsync(string secretName)
    {
        KeyVaultSecret secret = await _client.GetSecretAsync(secretName);
        return secret.Value;
    }
}
"##),
    ("function", "client.rb", r##"class Client
  def api_key
    @api_key ||= credentials.fetch(:api_key)
  end
end
"##),
    ("function", "helpers.sh", r##"get_token() {
  gh auth token
}

TOKEN="$(get_token)"
"##),
    ("function", "User.php", r##"<?php
class User {
    public function getPassword(): string { return $this->password; }
    public function setApiToken(string $token): void { $this->apiToken = $token; }
}
"##),
    ("function", "test_signup.py", r##"def test_password_too_short(client):
    resp = client.post("/signup", data={"email": "a@b.c", "password": "short"})
    assert resp.status_code == 400


def test_password_with_spaces(client):
    resp = client.post("/signup", data={"email": "a@b.c", "password": "correct horse battery staple"})
    assert resp.status_code == 201
"##),
    ("function", "Verifier.kt", r##"fun verifyToken(token: String): Boolean = verifier.verify(token) != null
fun hashPassword(password: CharArray): String = encoder.encode(password)
"##),
    // --- i18n and localization ---------------------------------------------------------------
    ("i18n", "en.json", r##"{
  "login": {
    "password_label": "Enter your password",
    "forgot_password": "Forgot your password?",
    "token_expired": "Your session has expired. Please sign in again.",
    "api_key_help": "Create an API key in your account settings."
  }
}
"##),
    ("i18n", "de.json", r##"{
  "password": "Passwort",
  "password_confirm": "Passwort bestätigen",
  "api_key": "API-Schlüssel",
  "token": "Zugangstoken"
}
"##),
    ("i18n", "nl.json", r##"{
  "password": "Wachtwoord",
  "new_password": "Nieuw wachtwoord"
}
"##),
    ("i18n", "fi.json", r##"{
  "password": "Salasana",
  "token": "Tunnus"
}
"##),
    ("i18n", "es.yml", r##"es:
  password: Contraseña
  secret_question: Pregunta secreta
  password_confirmation: Confirmación
"##),
    ("i18n", "messages.properties", r##"login.password=Password
login.password.hint=Enter your password
token.expired=Your token has expired
"##),
    ("i18n", "messages_fr.properties", r##"login.password=Mot de passe
login.password.hint=Saisissez votre mot de passe
token.expired=Votre jeton a expiré
"##),
    ("i18n", "django.po", r##"msgid "Password"
msgstr "Passwort"

msgid "Reset password"
msgstr "Passwort zurücksetzen"

msgid "API token"
msgstr "API-Token"
"##),
    ("i18n", "strings.xml", r##"<resources>
    <string name="password_hint">Password</string>
    <string name="token_invalid">This sign-in link is no longer valid</string>
</resources>
"##),
    ("i18n", "Localizable.strings", r##""password_placeholder" = "Enter your password";
"secret_code_title" = "Recovery code";
"##),
    ("i18n", "messages.fr.xlf", r##"<trans-unit id="passwordLabel">
  <source>Password</source>
  <target>Mot de passe</target>
</trans-unit>
"##),
    ("i18n", "messages.ts", r##"export const messages = {
  passwordTooWeak: 'Password is too weak',
  tokenInvalid: 'Invalid token',
  secretCopied: 'Copied to clipboard',
};
"##),
    ("i18n", "login.html", r##"<form method="post" action="/login">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" placeholder="••••••••">
</form>
"##),
    ("i18n", "ja.json", r##"{
  "password": "パスワード",
  "forgot_password": "パスワードをお忘れですか？"
}
"##),
    ("i18n", "ru.yml", r##"ru:
  password: Пароль
  token: Токен
"##),
    ("i18n", "zh-CN.json", r##"{
  "password": "密码",
  "secret_key": "密钥"
}
"##),
    ("i18n", "pt-BR.json", r##"{
  "password": "Senha",
  "new_password": "Nova senha"
}
"##),
    ("i18n", "sv.json", r##"{
  "password": "Lösenord",
  "token": "Åtkomsttoken"
}
"##),
    ("i18n", "it.json", r##"{
  "password": "Password",
  "confirm_password": "Conferma password"
}
"##),
    ("i18n", "pl.json", r##"{
  "password": "Hasło",
  "forgot_password": "Zapomniałeś hasła?"
}
"##),
    ("i18n", "tr.json", r##"{
  "password": "Parola",
  "secret_key": "Gizli anahtar"
}
"##),
    ("i18n", "errors.go", r##"package auth

var (
	ErrPasswordTooShort = errors.New("password must be at least 12 characters")
	ErrTokenExpired     = errors.New("token expired")
)
"##),
    // --- docs explaining token formats -------------------------------------------------------
    ("format-docs", "tokens.md", r##"# Tokens

Personal access tokens start with `ghp_` followed by 36 characters; fine-grained tokens
start with `github_pat_`. The scanner matches `ghp_[A-Za-z0-9]{36}`.
"##),
    ("format-docs", "aws.md", r##"AWS access key IDs begin with `AKIA` followed by 16 uppercase letters and digits,
for example `AKIA{X_16}`. Secret access keys are 40 characters long.
"##),
    ("format-docs", "slack.md", r##"Slack bot tokens look like `xoxb-{X_12}-{X_13}-{X_24}`.
Create one under *OAuth & Permissions* and store it in your secret manager.
"##),
    ("format-docs", "CONTRIBUTING.md", r##"Set `STRIPE_KEY` to your secret key (it starts with `sk_live_` or `sk_test_`)
and never commit it.
"##),
    ("format-docs", "keys.md", r##"Private keys are PEM files that start with `-----BEGIN RSA PRIVATE KEY-----` and end with
`-----END RSA PRIVATE KEY-----`; keep them out of the repository.
"##),
    ("format-docs", "rules.yaml", r##"rules:
  - id: gitlab-pat
    pattern: 'glpat-[0-9a-zA-Z_\-]{20}'
  - id: slack
    pattern: '''xox[baprs]-([0-9a-zA-Z]{10,48})'''
"##),
    ("format-docs", "api.md", r##"Every request needs a header `Authorization: Bearer <token>`:

    curl -H 'Authorization: Bearer $TOKEN' https://api.acme.io/v1/me
"##),
    ("format-docs", "jwt.md", r##"A JWT has three parts, `header.payload.signature`; the header `{JWTHDR}` decodes to
`{"alg":"HS256","typ":"JWT"}`.
"##),
    ("format-docs", "cli.txt", r##"OPTIONS
    --token TOKEN   DigitalOcean API token (format: `dop_v1_` + 64 hex characters)
    --npm-token T   npm token: `npm_` followed by 36 base62 characters
"##),
    ("format-docs", "openai.md", r##"OpenAI project keys start with `sk-proj-`; Anthropic keys start with `sk-ant-api03-`.
Put them in `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`, never in code.
"##),
    // --- version strings -------------------------------------------------------------------------
    ("version", "_version.py", r##"__version__ = "2024.1.0.dev3+g{HEX7}"
version_tuple = (2024, 1, 0, "dev3", "g{HEX7}")
"##),
    ("version", "go.mod", r##"module github.com/acme/api

go 1.22

require (
	github.com/acme/lib v0.0.0-20231012123456-{HEX12}
	golang.org/x/oauth2 v0.17.0
)
"##),
    ("version", "package.json", r##"{
  "name": "@acme/web",
  "version": "3.14.159-beta.2+build.{N}",
  "dependencies": { "jsonwebtoken": "^9.0.2", "js-tokens": "^4.0.0" }
}
"##),
    ("version", "Chart.yaml", r##"apiVersion: v2
name: api
version: 0.12.3
appVersion: "v2.3.1-rc.1-g{HEX7}"
"##),
    ("version", "images.yml", r##"services:
  web:
    image: nginx:1.25.3-alpine3.18
  db:
    image: postgres:16.1-bookworm
  cache:
    image: redis:7.2.4-alpine
"##),
    ("version", "VERSION", "v1.4.0-87-g{HEX7}-dirty\n"),
    ("version", "build.gradle", r##"version = '1.0.0-SNAPSHOT'
dependencies {
    implementation 'io.jsonwebtoken:jjwt-api:0.12.5'
    implementation 'com.squareup.okhttp3:okhttp:4.12.0'
}
"##),
    ("version", ".tool-versions", r##"nodejs 20.11.1
python 3.12.2
terraform 1.7.4
"##),
    ("version", "Makefile", "VERSION ?= 2.7.0+sha.{HEX7}\nLDFLAGS := -X main.version=$(VERSION)\n\nbuild:\n\tgo build -ldflags \"$(LDFLAGS)\" ./cmd/api\n"),
    // --- Terraform references -----------------------------------------------------------------
    ("terraform-ref", "rds.tf", r##"resource "aws_db_instance" "main" {
  engine   = "postgres"
  username = var.db_username
  password = var.db_password
}
"##),
    ("terraform-ref", "aurora.tf", r##"resource "aws_rds_cluster" "main" {
  master_username = "app"
  master_password = random_password.db.result
}
"##),
    ("terraform-ref", "secret_version.tf", r##"resource "aws_secretsmanager_secret_version" "app" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({ username = "app", password = random_password.app.result })
}
"##),
    ("terraform-ref", "datadog.tf", r##"provider "datadog" {
  api_key = data.aws_ssm_parameter.datadog_api_key.value
  app_key = data.aws_ssm_parameter.datadog_app_key.value
}
"##),
    ("terraform-ref", "variables.tf", r##"variable "db_password" {
  type      = string
  sensitive = true
}

variable "api_token" {
  type        = string
  description = "Token for the Acme API"
  sensitive   = true
}
"##),
    ("terraform-ref", "vault.tf", r##"provider "vault" {
  address = "https://vault.acme.io"
  token   = var.vault_token
}
"##),
    ("terraform-ref", "azure_sp.tf", r##"provider "azuread" {
  client_id     = var.client_id
  client_secret = azurerm_key_vault_secret.sp.value
  tenant_id     = var.tenant_id
}
"##),
    ("terraform-ref", "module.tf", r##"module "db" {
  source   = "./modules/db"
  password = module.secrets.db_password
  token    = local.api_token
}
"##),
    ("terraform-ref", "helm.tf", r##"resource "helm_release" "redis" {
  name  = "redis"
  chart = "bitnami/redis"
  set_sensitive {
    name  = "auth.password"
    value = var.redis_password
  }
}
"##),
    ("terraform-ref", "aws.tf", r##"provider "aws" {
  access_key = var.aws_access_key
  secret_key = var.aws_secret_key
}
"##),
    ("terraform-ref", "index.ts", r##"const config = new pulumi.Config();
const dbPassword = config.requireSecret("dbPassword");
const apiToken = config.requireSecret("apiToken");
"##),
    // --- Kubernetes and Helm references -------------------------------------------------------
    ("k8s-ref", "deployment.yaml", r##"apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: api
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: db-credentials
                  key: password
            - name: API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: api-credentials
                  key: token
"##),
    ("k8s-ref", "worker.yaml", r##"containers:
  - name: worker
    envFrom:
      - secretRef:
          name: worker-secrets
      - configMapRef:
          name: worker-config
"##),
    ("k8s-ref", "secret.yaml", r##"apiVersion: v1
kind: Secret
metadata:
  name: {{ include "app.fullname" . }}
type: Opaque
data:
  password: {{ .Values.auth.password | b64enc | quote }}
  token: {{ .Values.auth.token | b64enc | quote }}
"##),
    ("k8s-ref", "sealed-secret.yaml", r##"apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: db-credentials
spec:
  encryptedData:
    password: AgB{B64_340}
"##),
    ("k8s-ref", "volumes.yaml", r##"volumes:
  - name: tls
    secret:
      secretName: api-tls
  - name: creds
    secret:
      secretName: api-credentials
      items:
        - key: password
          path: db_password
"##),
    ("k8s-ref", "vault-agent.yaml", r##"metadata:
  annotations:
    vault.hashicorp.com/agent-inject: "true"
    vault.hashicorp.com/agent-inject-secret-config: "secret/data/api/config"
    vault.hashicorp.com/role: "api"
"##),
    ("k8s-ref", "kustomization.yaml", r##"secretGenerator:
  - name: api-secrets
    envs:
      - secrets.env
    files:
      - password.txt
"##),
    ("k8s-ref", "secret-provider.yaml", r##"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
spec:
  provider: aws
  parameters:
    objects: |
      - objectName: "prod/api/db-password"
        objectType: "secretsmanager"
"##),
    ("k8s-ref", "redis-values.yaml", r##"auth:
  enabled: true
  existingSecret: redis-auth
  existingSecretPasswordKey: redis-password
"##),
    ("k8s-ref", "stack.yml", r##"services:
  api:
    image: acme/api:2.0
    secrets:
      - source: db_password
        target: /run/secrets/db_password
secrets:
  db_password:
    external: true
"##),
    // --- HTML, CSRF ---------------------------------------------------------------------------
    ("html-csrf", "layout.html", r##"<head>
  <meta name="csrf-token" content="{{ csrf_token() }}">
  <title>Acme</title>
</head>
"##),
    ("html-csrf", "application.html.erb", r##"<head>
  <%= csrf_meta_tags %>
</head>
<form action="/session" method="post">
  <input type="hidden" name="authenticity_token" value="<%= form_authenticity_token %>">
  <input type="password" name="session[password]">
</form>
"##),
    ("html-csrf", "login.html", r##"<form method="post">
  {% csrf_token %}
  <input type="text" name="username">
  <input type="password" name="password" placeholder="Password">
  <button type="submit">Sign in</button>
</form>
"##),
    ("html-csrf", "app.blade.php", r##"<meta name="csrf-token" content="{{ csrf_token() }}">
<form method="POST" action="/profile">
    @csrf
    <input type="hidden" name="_token" value="{{ csrf_token() }}">
</form>
"##),
    ("html-csrf", "login.component.html", r##"<form [formGroup]="form" (ngSubmit)="submit()">
  <input type="password" formControlName="password" placeholder="Password">
</form>
"##),
    ("html-csrf", "csrf.js", r##"const token = document.querySelector('meta[name="csrf-token"]').content;
fetch('/api/items', { method: 'POST', headers: { 'X-CSRF-Token': token } });
"##),
    ("html-csrf", "form.html", r##"<form th:action="@{/login}" method="post">
  <input type="hidden" th:name="${_csrf.parameterName}" th:value="${_csrf.token}"/>
</form>
"##),
    ("html-csrf", "fixture.html", r##"<html><head><meta name="csrf-token" content="test"></head><body></body></html>
"##),
    // --- fake nonces and salts in tests ---------------------------------------------------------
    ("fake-test-value", "test_crypto.py", r##"SALT = b"pepper-and-salt-for-tests"
NONCE = "fake-nonce-for-unit-tests"


def test_kdf():
    assert derive(b"pw", SALT) == derive(b"pw", SALT)
"##),
    ("fake-test-value", "test_chacha.py", r##"# RFC 8439, section 2.4.2
KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
NONCE = bytes.fromhex("000000000000004a00000000")
"##),
    ("fake-test-value", "auth.test.js", r##"const fakeToken = 'fake-token-for-tests';
const TEST_SECRET = 'test-secret-do-not-use';

test('rejects a tampered token', () => {
  expect(verify(fakeToken + 'x', TEST_SECRET)).toBe(false);
});
"##),
    ("fake-test-value", "nonce_test.go", r##"package crypto

var (
	testNonce = []byte("0123456789ab")
	testSalt  = []byte("saltsaltsaltsalt")
)
"##),
    ("fake-test-value", "vectors.json", r##"{
  "iv": "00000000000000000000000000000000",
  "key": "00000000000000000000000000000000",
  "plaintext": "6bc1bee22e409f96e93d7e117393172a"
}
"##),
    ("fake-test-value", "test_hmac.py", r##"# RFC 4231 test case 2
HMAC_KEY = b"Jefe"
DATA = b"what do ya want for nothing?"
EXPECTED = "{HEX64}"
"##),
    ("fake-test-value", "users.yml", r##"ada:
  email: ada@example.org
  password_digest: "$2b$12${B64_53}"
grace:
  email: grace@example.org
  password_digest: "$2b$12${B64_53}"
"##),
    ("fake-test-value", "conftest.py", r##"@pytest.fixture
def settings():
    return {"nonce": "abc123", "salt": "NaCl", "jwt_secret": "test"}
"##),
    // --- publishable keys, asset hashes --------------------------------------------------------
    ("publishable-key", "checkout.js", r##"const stripe = Stripe('pk_live_{B62_99}');
const elements = stripe.elements();
"##),
    ("asset-hash", "asset-manifest.json", r##"{
  "files": {
    "main.js": "/static/js/main.{HEX8}.js",
    "main.css": "/static/css/main.{HEX8}.css",
    "runtime.js": "/static/js/runtime.{HEX8}.js"
  }
}
"##),
    ("asset-hash", "build-manifest.json", r##"{
  "buildId": "{B62_21}",
  "pages": { "/": ["static/chunks/pages/index-{HEX16}.js"] }
}
"##),
    ("asset-hash", "manifest.vite.json", r##"{
  "index.html": { "file": "assets/index-{B62_8}.js", "css": ["assets/index-{B62_8}.css"], "isEntry": true }
}
"##),
    ("asset-hash", "index.html", r##"<script src="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/js/bootstrap.bundle.min.js" integrity="sha384-{SHA384}" crossorigin="anonymous"></script>
<link rel="stylesheet" href="/assets/app.css" integrity="sha512-{SHA512}">
"##),
    ("asset-hash", "sw.js", r##"self.__WB_MANIFEST = [{url:"/index.html",revision:"{HEX32}"},{url:"/app.js",revision:"{HEX32}"}];
"##),
];

/// Placeholder values that any format may carry.
const PLACEHOLDERS: &[&str] = &[
    "YOUR_API_KEY",
    "<token>",
    "xxxxxxxxxxxxxxxxxxxx",
    "changeme",
    "<your-password-here>",
    "REPLACE_ME",
    "********",
    "your-secret-key-here",
    "insert-your-token-here",
    "TODO",
    "<redacted>",
    "REDACTED",
    "placeholder",
    "<API_KEY>",
    "[YOUR_TOKEN]",
    "xoxb-your-bot-token",
    "changeit",
    "example",
    "password",
    "dummy-value",
];

/// Placeholders of configuration templating.
const TEMPLATED: &[&str] = &[
    "${SECRET}",
    "{{ api_key }}",
    "${{ secrets.DEPLOY_TOKEN }}",
    "{{ .Values.apiKey }}",
    "${env:API_KEY}",
    "${DB_PASSWORD:-postgres}",
    "{{ vault_db_password }}",
    "%env(DATABASE_PASSWORD)%",
    "$(cat /run/secrets/token)",
];

const PLACEHOLDER_NAMES: &[&str] = &[
    "API_KEY",
    "DB_PASSWORD",
    "AUTH_TOKEN",
    "CLIENT_SECRET",
    "SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "GITHUB_TOKEN",
];

fn placeholder_cases(r: &mut Rng, c: &mut Corpus) {
    let mut values: Vec<String> = PLACEHOLDERS.iter().map(|s| s.to_string()).collect();
    values.push(format!("{}{}", concat!("sk_", "live_"), "x".repeat(24)));
    values.push(format!("{}{}", concat!("gh", "p_"), "x".repeat(36)));
    values.push(format!("{}{}", concat!("AK", "IA"), "X".repeat(16)));
    let any: Vec<&Tpl> = TEMPLATES.iter().filter(|t| t.generic).collect();
    let config: Vec<&Tpl> = TEMPLATES.iter().filter(|t| t.config).collect();
    for (i, value) in values.iter().enumerate() {
        let tpl = any[(i * 5) % any.len()];
        let name = PLACEHOLDER_NAMES[i % PLACEHOLDER_NAMES.len()];
        let content = render(r, tpl.body, name, value);
        c.neg("placeholder", tpl.file, content);
    }
    let mut n = 0;
    for value in TEMPLATED {
        for _ in 0..2 {
            let tpl = config[(n * 3) % config.len()];
            let name = PLACEHOLDER_NAMES[n % PLACEHOLDER_NAMES.len()];
            n += 1;
            let content = render(r, tpl.body, name, value);
            c.neg("placeholder", tpl.file, content);
        }
    }
    // Database URLs whose password is a placeholder or a variable.
    for url in [
        "postgres://user:password@localhost:5432/app",
        "postgres://postgres:${POSTGRES_PASSWORD}@db:5432/app",
        "mysql://root:<password>@localhost:3306/app",
        "redis://:${REDIS_PASSWORD}@redis:6379/0",
        "mongodb+srv://<username>:<password>@cluster0.mongodb.net/test",
        "amqp://guest:guest@localhost:5672/",
    ] {
        let tpl = config[n % config.len()];
        n += 1;
        let content = render(r, tpl.body, "DATABASE_URL", url);
        c.neg("placeholder-url", tpl.file, content);
    }
}

fn aws_docs_cases(r: &mut Rng, c: &mut Corpus) {
    let id = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    let secret = ["wJalrXUtnFEMI", "/K7MDENG/", "bPxRfiCY", "EXAMPLEKEY"].concat();
    let id2 = ["AKIA", "I44QH8DHB", "EXAMPLE"].concat();
    let secret2 = ["je7MtGbClwBF", "/2Zp9Utk/", "h3yCo8nvb", "EXAMPLEKEY"].concat();
    c.neg(
        "aws-docs-example",
        "README.md",
        format!("## Configure\n\n```python\nimport boto3\n\ns3 = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"{id}\",\n    aws_secret_access_key=\"{secret}\",\n)\n```\n"),
    );
    c.neg(
        "aws-docs-example",
        "aws-setup.md",
        format!("Your `~/.aws/credentials` should look like:\n\n```ini\n[default]\naws_access_key_id = {id2}\naws_secret_access_key = {secret2}\n```\n"),
    );
    c.neg(
        "aws-docs-example",
        ".env.example",
        format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_REGION=us-east-1\n"),
    );
    for _ in 0..2 {
        let fake = format!("{}{}EXAMPLE", concat!("AK", "IA"), r.s(UPPER_ALNUM, 9));
        c.neg(
            "aws-docs-example",
            "test_config.py",
            format!("def test_parses_credentials(tmp_path):\n    cfg = parse(\"[default]\\naws_access_key_id = {fake}\\n\")\n    assert cfg.key_id == \"{fake}\"\n"),
        );
    }
    c.neg(
        "aws-docs-example",
        "provider_test.tf",
        format!("provider \"aws\" {{\n  access_key                  = \"{id}\"\n  secret_key                  = \"{secret}\"\n  skip_credentials_validation = true\n  s3_use_path_style           = true\n  endpoints {{\n    s3 = \"http://localhost:4566\"\n  }}\n}}\n"),
    );
}

fn ident(r: &mut Rng) -> String {
    let first = r.s("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$", 1);
    if r.below(4) == 0 {
        first + &r.s(LETTERS, 1)
    } else {
        first
    }
}

/// A minified bundle: long lines, one-letter identifiers, and the odd secret-ish word.
fn minified_js(r: &mut Rng) -> String {
    let mut out = format!(
        "/*! {}.js v{}.{}.{} | MIT License */\n",
        r.word(),
        r.range(1, 9),
        r.range(0, 20),
        r.range(0, 9)
    );
    for _ in 0..r.range(1, 3) {
        let target = r.range(3000, 8000);
        let mut line = String::from("!function(e,t){\"use strict\";");
        while line.len() < target {
            let (a, b, cc) = (ident(r), ident(r), ident(r));
            let stmt = match r.below(16) {
                0 => format!("function {a}({b},{cc}){{return {b}.call(this,{cc})||this}}"),
                1 => format!("var {a}={b}({}),{cc}=Object.assign({{}},{a})", r.range(0, 999)),
                2 => format!("{a}.type===\"password\"&&({a}.autocomplete=\"current-password\")"),
                3 => format!("{a}.headers.Authorization=\"Bearer \"+{b}.token"),
                4 => format!("{a}={{apiKey:{b}.apiKey,authDomain:{b}.authDomain,projectId:{b}.projectId}}"),
                5 => format!("{a}.prototype.getToken=function(){{return this._token}}"),
                6 => format!("var {a}=\"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\""),
                7 => {
                    let mut m = String::from("{");
                    for k in 0..r.range(4, 12) {
                        if k > 0 {
                            m.push(',');
                        }
                        m.push_str(&format!("{k}:\"{}\"", r.s(HEX, 8)));
                    }
                    m.push('}');
                    format!("{a}.p+\"static/js/\"+{b}+\".\"+{m}[{b}]+\".chunk.js\"")
                }
                8 => format!("{a}.exports={{secret:!1,token:null,password:\"\"}}"),
                9 => format!("{a}.setRequestHeader(\"X-CSRF-Token\",{b})"),
                10 => format!("if(!{a}.secret)throw new Error(\"missing secret\")"),
                11 => format!("{a}.tokenize=function({b}){{return {b}.split(/\\s+/).filter(Boolean)}}"),
                12 => format!(
                    "var {a}=new Uint8Array([{}])",
                    (0..r.range(8, 32)).map(|_| r.range(0, 255).to_string()).collect::<Vec<_>>().join(",")
                ),
                13 => format!("{a}[{b}]=\"sha256-\"+{cc}"),
                14 => format!("{{password:{a}.password,username:{a}.username}}"),
                _ => format!("for(var {a}=0;{a}<{b}.length;{a}++){cc}+={b}.charCodeAt({a})"),
            };
            line.push_str(&stmt);
            line.push(if r.below(2) == 0 { ';' } else { ',' });
        }
        line.push_str("}(this,this.document);\n");
        out.push_str(&line);
    }
    out.push_str(&format!("//# sourceMappingURL=app.{}.js.map\n", r.s(HEX, 8)));
    out
}

fn css(r: &mut Rng, prism: bool) -> String {
    let mut s = String::new();
    if prism {
        s.push_str(".token.comment,.token.prolog,.token.doctype{color:#708090}\n.token.punctuation{color:#999}\n.token.keyword,.token.selector{color:#07a}\n.token.string{color:#690}\n");
    }
    let minified = r.below(2) == 0;
    for _ in 0..r.range(20, 40) {
        let class = match r.below(3) {
            0 => format!(".css-{}", r.s(LOWER_ALNUM, 7)),
            1 => format!(".sc-{}.{}", r.s(LETTERS, 6), r.s(LETTERS, 6)),
            _ => format!(
                ".{}-{}",
                r.pick(&[
                    "btn",
                    "card",
                    "nav",
                    "modal",
                    "form",
                    "password-input",
                    "token-list",
                    "secret-banner"
                ]),
                r.pick(&["primary", "lg", "active", "disabled", "error"])
            ),
        };
        let rule = format!(
            "{class}{{color:#{};background:rgba({},{},{},.{});padding:{}px {}px;border-radius:{}px;transition:all .{}s ease-in-out}}",
            r.s(HEX, 6),
            r.range(0, 255),
            r.range(0, 255),
            r.range(0, 255),
            r.range(1, 9),
            r.range(0, 24),
            r.range(0, 24),
            r.range(0, 12),
            r.range(1, 5)
        );
        s.push_str(&rule);
        if !minified {
            s.push('\n');
        }
    }
    s.push('\n');
    s
}

fn svg(r: &mut Rng) -> String {
    let title = r.pick(&["Show password", "Copy token", "Key", "Lock", "Secret settings"]);
    let mut d = format!("M{}.{} {}.{}", r.range(0, 23), r.range(0, 99), r.range(0, 23), r.range(0, 99));
    for _ in 0..r.range(40, 160) {
        let cmd = r.pick(&["c", "l", "s", "C", "L", "a", "h", "v"]);
        d.push_str(cmd);
        for _ in 0..r.range(1, 6) {
            d.push_str(&format!("{}.{} ", r.range(0, 24), r.range(0, 999)));
        }
    }
    d.push('z');
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\" width=\"24\" height=\"24\" id=\"icon-{}\">\n  <title>{title}</title>\n  <path fill-rule=\"evenodd\" d=\"{d}\"/>\n</svg>\n",
        r.s(LOWER_ALNUM, 6)
    )
}

/// Encoded material that is not a secret: what the decoding stage must stay quiet about.
fn encoded_negatives(r: &mut Rng, c: &mut Corpus) {
    for i in 0..3 {
        let len = r.range(200, 900);
        let png = magic_b64(r, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", len);
        let content = if i == 0 {
            format!("<img alt=\"{}\" src=\"data:image/png;base64,{png}\">\n", r.word())
        } else {
            format!(".icon-{} {{\n  background-image: url(data:image/png;base64,{png});\n}}\n", r.word())
        };
        c.neg("decoded-image", if i == 0 { "logo.html" } else { "icons.css" }, content);
    }
    let svg = b64(format!("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><path d=\"M{} {}h8v8H4z\"/></svg>", r.below(9), r.below(9)).as_bytes(), B64, true);
    c.neg(
        "decoded-image",
        "button.css",
        format!(".btn::after {{ content: url(\"data:image/svg+xml;base64,{svg}\"); }}\n"),
    );
    for _ in 0..2 {
        let mut lock = String::from("# yarn lockfile v1\n\n");
        for _ in 0..20 {
            let name = r.word();
            let digest = b64(&r.bytes(64), B64, true);
            lock.push_str(&format!("{name}@^1.{n}.0:\n  version \"1.{n}.2\"\n  resolved \"https://registry.yarnpkg.com/{name}/-/{name}-1.{n}.2.tgz#{}\"\n  integrity sha512-{digest}\n\n", r.s(HEX, 40), n = r.below(20)));
        }
        c.neg("decoded-integrity", "yarn.lock", lock);
    }
    for _ in 0..2 {
        c.neg(
            "decoded-travis-secure",
            ".travis.yml",
            format!(
                "language: node_js\nenv:\n  global:\n    - secure: \"{}\"\n    - secure: {}\ndeploy:\n  provider: npm\n  api_key:\n    secure: \"{}\"\n",
                b64(&r.bytes(256), B64, true),
                b64(&r.bytes(256), B64, true),
                b64(&r.bytes(512), B64, true)
            ),
        );
    }
    let cert = pem("CERTIFICATE", &certificate_der(r), 64);
    c.neg("decoded-public-material", "ca-bundle.crt", format!("# {} internal CA\n{cert}\n", r.word()));
    let public = pem("PUBLIC KEY", &public_key_der(r), 64);
    c.neg("decoded-public-material", "jwt-public.pem", format!("{public}\n"));
    let mut pgp = vec![0x99, 0x01, 0x0d, 0x04];
    pgp.extend(r.bytes(400));
    c.neg("decoded-public-material", "KEYS.asc", format!("{}\n", pem("PGP PUBLIC KEY BLOCK", &pgp, 64)));
    let ssh = ssh_public(r, "ssh-rsa");
    c.neg("decoded-public-material", "authorized_keys", format!("ssh-rsa {ssh} deploy@{}\n", r.word()));
    // A bundle with escapes and an inline source map; the source map itself.
    let mut bundle = String::new();
    for i in 0..120 {
        bundle.push_str(&format!(
            "var n{i}=\"\\u003cspan class=\\\"{}\\\"\\u003e\\n\",u{i}='https:\\/\\/cdn.acme.io\\/{}\\/{i}.js';function t{i}(e){{return e.split(/\\s+/).join(\"\\t\")}}",
            r.word(),
            r.word()
        ));
    }
    let map = format!(
        "{{\"version\":3,\"file\":\"main.js\",\"sources\":[\"webpack:\\/\\/\\/.\\/src\\/{}.ts\"],\"sourcesContent\":[\"export const apiToken = process.env.API_TOKEN;\\nexport function go() {{ return fetch(\\\"\\/api\\/{}\\\"); }}\\n\"],\"names\":[],\"mappings\":\"AAAA,OAAO,MAAMA,WAAWC,QAAQC,IAAIC;AACpC,OAAO,SAASC,KAAK\"}}",
        r.word(),
        r.word()
    );
    bundle.push_str(&format!(
        "\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,{}\n",
        b64(map.as_bytes(), B64, true)
    ));
    c.neg("decoded-bundle", "main.min.js", bundle);
    c.neg("decoded-bundle", "main.js.map", format!("{map}\n"));
    // Notebooks: escaped code that reads its secrets from the environment.
    c.neg(
        "decoded-notebook",
        "train.ipynb",
        "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"source\": [\n    \"import os\\n\",\n    \"token = os.environ[\\\"HF_TOKEN\\\"]\\n\",\n    \"print(\\\"loaded\\\\tok\\\")\"\n   ]\n  }\n ]\n}\n".to_string(),
    );
    // Percent-encoded queries, hex and base64 of harmless text.
    c.neg(
        "decoded-harmless",
        "links.md",
        format!("[search](https://www.google.com/search?q=%22{}%20{}%22&hl=en)\n", r.word(), r.word()),
    );
    let state = b64(
        format!("{{\"theme\":\"dark\",\"page\":\"{}\",\"token_type\":\"Bearer\"}}", r.word()).as_bytes(),
        B64,
        true,
    );
    c.neg("decoded-harmless", "fixtures.yaml", format!("ui_state: {state}\n"));
}

fn negatives(r: &mut Rng, c: &mut Corpus) {
    for &(kind, file, tpl) in NEGATIVE_TEMPLATES {
        let repeats = if is_random(tpl) { 2 } else { 1 };
        for _ in 0..repeats {
            let content = fill(r, tpl);
            c.neg(kind, file, content);
        }
    }
    placeholder_cases(r, c);
    aws_docs_cases(r, c);
    for i in 0..10 {
        let content = minified_js(r);
        let file =
            if i % 2 == 0 { format!("vendor.{}.min.js", r.s(HEX, 8)) } else { "app.min.js".to_string() };
        c.neg("minified-js", &file, content);
    }
    for i in 0..6 {
        let content = css(r, i == 0);
        c.neg("css", if i % 2 == 0 { "app.css" } else { "styles.min.css" }, content);
    }
    for _ in 0..6 {
        let content = svg(r);
        c.neg("svg", "icon.svg", content);
    }
    encoded_negatives(r, c);
    published_by_design_cases(r, c);
}

// ---------------------------------------------------------------------------------
// The measurement
// ---------------------------------------------------------------------------------

fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// The case a reported path belongs to: the first path component that names one.
fn case_of(path: &str, root: &Path, ids: &HashMap<&str, usize>) -> Option<usize> {
    let path = Path::new(path);
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.components().chain(path.components()).find_map(|component| match component {
        Component::Normal(name) => name.to_str().and_then(|n| ids.get(n)).copied(),
        _ => None,
    })
}

/// Per kind: cases, flagged cases, cases flagged by `generic-*` rules alone, rules that fired.
type KindTally<'a> = (usize, usize, usize, BTreeSet<&'a str>);

#[test]
fn corpus_recall_and_false_positive_rate() {
    let seed = std::env::var("SECRETGATE_CORPUS_SEED")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(SEED);
    let mut rng = Rng::new(seed);
    let mut corpus = Corpus::default();
    positives(&mut rng, &mut corpus);
    negatives(&mut rng, &mut corpus);
    let cases = &corpus.cases;
    assert!(corpus.positives >= MIN_POSITIVES, "only {} positives", corpus.positives);
    assert!(corpus.negatives >= MIN_NEGATIVES, "only {} negatives", corpus.negatives);

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let root = root.as_path();
    // `SECRETGATE_CORPUS_KEEP=1` leaves the corpus on disk for a closer look.
    if std::env::var_os("SECRETGATE_CORPUS_KEEP").is_some_and(|v| !v.is_empty() && v != "0") {
        let kept = dir.keep();
        eprintln!("== corpus kept in {}", kept.display());
    }
    for case in cases {
        let case_dir = root.join(&case.id);
        std::fs::create_dir_all(&case_dir).expect("create case dir");
        std::fs::write(case_dir.join(&case.file), &case.content).expect("write case");
    }

    let root_arg = root.to_str().expect("utf-8 temp path");
    let output = common::secretgate(&["scan", "--format", "json", root_arg], root);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let findings: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!(
            "`secretgate scan --format json` did not print a JSON array ({err}); exit {:?}\nstderr: {stderr}\nstdout: {}",
            output.status.code(),
            clip(&stdout, 2000)
        )
    });

    let ids: HashMap<&str, usize> = cases.iter().enumerate().map(|(i, case)| (case.id.as_str(), i)).collect();
    // Per case: (rule_id, first line, last line) of every finding.
    let mut hits: Vec<Vec<(String, usize, usize)>> = vec![Vec::new(); cases.len()];
    let mut unmapped = Vec::new();
    for finding in &findings {
        for field in ["rule_id", "path", "line", "column", "secret", "fingerprint"] {
            assert!(finding.get(field).is_some(), "finding without `{field}`: {finding}");
        }
        let path = finding["path"].as_str().unwrap_or_default();
        let rule = finding["rule_id"].as_str().unwrap_or("?").to_string();
        let line = finding["line"].as_u64().unwrap_or(0) as usize;
        let end_line = finding["end_line"].as_u64().map_or(line, |l| l as usize);
        match case_of(path, root, &ids) {
            Some(i) => hits[i].push((rule, line, end_line.max(line))),
            None => unmapped.push(path.to_string()),
        }
    }

    // Tallies.
    let positives: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].positive).collect();
    let negatives: Vec<usize> = (0..cases.len()).filter(|&i| !cases[i].positive).collect();
    let found = positives.iter().filter(|&&i| !hits[i].is_empty()).count();
    let flagged = negatives.iter().filter(|&&i| !hits[i].is_empty()).count();
    let recall = found as f64 / positives.len() as f64;
    let fpr = flagged as f64 / negatives.len() as f64;

    let mut per_kind: BTreeMap<(bool, &str), KindTally> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let entry = per_kind.entry((case.positive, case.kind.as_str())).or_insert((0, 0, 0, BTreeSet::new()));
        entry.0 += 1;
        if !hits[i].is_empty() {
            entry.1 += 1;
            if hits[i].iter().all(|(rule, _, _)| rule.starts_with("generic-")) {
                entry.2 += 1;
            }
        }
        entry.3.extend(hits[i].iter().map(|(rule, _, _)| rule.as_str()));
    }
    let positive_kinds = per_kind.keys().filter(|(p, _)| *p).count();
    let negative_kinds = per_kind.keys().filter(|(p, _)| !*p).count();

    eprintln!();
    eprintln!(
        "== corpus (seed {seed:#x}): {} positives ({positive_kinds} kinds), {} negatives ({negative_kinds} kinds); {} findings; exit {:?}",
        positives.len(),
        negatives.len(),
        findings.len(),
        output.status.code()
    );
    eprintln!(
        "== recall {recall:.3} ({found}/{}), false-positive rate {fpr:.3} ({flagged}/{})   [thresholds: recall >= {MIN_RECALL}, FPR <= {MAX_FALSE_POSITIVE_RATE}]",
        positives.len(),
        negatives.len()
    );
    eprintln!("\n-- positives by kind (found/total: rules that fired)");
    for ((positive, kind), (total, hit, generic_only, rules)) in &per_kind {
        if *positive {
            let rules: Vec<&str> = rules.iter().copied().collect();
            let mut mark = String::new();
            if hit < total {
                mark.push_str("  <-- misses");
            }
            if *generic_only > 0 && !kind.starts_with("generic") {
                mark.push_str(&format!("  ({generic_only} by generic rules alone)"));
            }
            eprintln!("  {kind:<28} {hit:>3}/{total:<3} {}{mark}", rules.join(","));
        }
    }
    eprintln!("\n-- negatives by kind (flagged/total: rules that fired)");
    for ((positive, kind), (total, hit, _, rules)) in &per_kind {
        if !*positive {
            let rules: Vec<&str> = rules.iter().copied().collect();
            eprintln!("  {kind:<28} {hit:>3}/{total:<3} {}", rules.join(","));
        }
    }

    // The 1-based line that holds a positive's secret, and its text.
    let secret_line = |case: &Case| -> (usize, String) {
        case.content
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(&case.needle))
            .map_or((0, "?".to_string()), |(n, l)| (n + 1, l.to_string()))
    };
    eprintln!("\n-- missed positives ({})", positives.len() - found);
    for &i in &positives {
        if hits[i].is_empty() {
            let case = &cases[i];
            let (n, line) = secret_line(case);
            eprintln!("  {}/{:<24} {:<26} L{n}: {}", case.id, case.file, case.kind, clip(&line, 150));
        }
    }
    // Flagged, but by findings that do not cover the secret's line: counted as found,
    // listed so that a lucky hit elsewhere in the file does not hide a weak rule.
    let off_target: Vec<usize> = positives
        .iter()
        .copied()
        .filter(|&i| {
            let (n, _) = secret_line(&cases[i]);
            !hits[i].is_empty() && !hits[i].iter().any(|&(_, a, b)| a <= n && n <= b)
        })
        .collect();
    eprintln!(
        "\n-- positives flagged only away from the secret's line ({}, counted as found)",
        off_target.len()
    );
    for &i in &off_target {
        let case = &cases[i];
        let (n, line) = secret_line(case);
        let rules: Vec<String> = hits[i].iter().map(|(rule, a, _)| format!("{rule}@L{a}")).collect();
        eprintln!(
            "  {}/{:<24} {:<26} L{n}: {} <- {}",
            case.id,
            case.file,
            case.kind,
            clip(&line, 100),
            rules.join(",")
        );
    }
    eprintln!("\n-- false positives ({flagged})");
    for &i in &negatives {
        let case = &cases[i];
        for (rule, line, _) in &hits[i] {
            let text = case.content.lines().nth(line.saturating_sub(1)).unwrap_or("?");
            eprintln!(
                "  {}/{:<24} {:<18} {rule:<28} L{line}: {}",
                case.id,
                case.file,
                case.kind,
                clip(text, 150)
            );
        }
    }
    if !unmapped.is_empty() {
        eprintln!("\n-- findings outside any case: {unmapped:?}");
    }
    eprintln!();

    assert_eq!(output.status.code(), Some(1), "a scan with findings must exit 1; stderr: {stderr}");
    assert!(
        recall >= MIN_RECALL,
        "recall {recall:.3} ({found}/{}) is below {MIN_RECALL}; see the missed positives above",
        positives.len()
    );
    assert!(
        fpr <= MAX_FALSE_POSITIVE_RATE,
        "false-positive rate {fpr:.3} ({flagged}/{}) is above {MAX_FALSE_POSITIVE_RATE}; see the false positives above",
        negatives.len()
    );
}

/// Secrets written the way formatters and habits lay them out: aligned operators, Go's
/// typed declarations, commented-out lines, values that open with a sigil or hold
/// parentheses (Django keys), driver-qualified database URLs, credentials passed
/// positionally, headers split by concatenation or written nginx-style. Each has a
/// look-alike negative: references, public values, obviously fake keys, calls.
fn layout_cases(r: &mut Rng, c: &mut Corpus) {
    const DJANGO: &str = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
    let password = r.mixed(20, 24);
    c.pos(
        "aligned",
        "rds.tf",
        format!("  username          = \"master\"\n  password          = \"{password}\"\n"),
        &password,
    );
    let key = r.mixed(32, 32);
    c.pos(
        "aligned",
        "partner.config.js",
        format!("module.exports = {{\n  apiKey:       '{key}',\n}};\n"),
        &key,
    );
    let password = r.mixed(20, 20);
    c.pos("go-typed-var", "smtp.go", format!("var smtpPassword string = \"{password}\"\n"), &password);
    let django = loop {
        let key = format!("#{}", r.s(DJANGO, 49));
        if key.contains('(') && key.bytes().filter(u8::is_ascii_digit).count() >= 2 {
            break key;
        }
    };
    c.pos("django-key", "prod_settings.py", format!("SECRET_KEY = '{django}'\nDEBUG = False\n"), &django);
    let unquoted = loop {
        let key = r.s(DJANGO, 50);
        if key.contains(')')
            && !key.starts_with(['$', '%', '@', '&', '#', '*', '(', ')'])
            && key.bytes().any(|b| b.is_ascii_digit())
        {
            break key;
        }
    };
    c.pos("django-key", ".env", format!("DEBUG=0\nSECRET_KEY={unquoted}\n"), &unquoted);
    let password = r.mixed(16, 16);
    c.pos(
        "commented-out",
        "cron.py",
        format!("# password: {password}\nPASSWORD = os.environ[\"SMTP_PASSWORD\"]\n"),
        &password,
    );
    let password = r.mixed(20, 20);
    c.pos(
        "driver-url",
        "db.py",
        format!(
            "engine = create_engine(\"mysql+pymysql://reporting:{password}@10.20.3.14:3306/warehouse\")\n"
        ),
        &password,
    );
    let password = r.mixed(16, 16);
    c.pos(
        "login-call",
        "ftp_upload.py",
        format!("ftp = FTP(host)\nftp.login(\"acme\", \"{password}\")\n"),
        &password,
    );
    let secret = r.s(B64, 40);
    c.pos(
        "aws-positional",
        "S3Client.java",
        format!("new BasicAWSCredentials(\"AKIA{}\", \"{secret}\");\n", r.s(BASE32, 16)),
        &secret,
    );
    let basic = b64(format!("svc-{}:{}", r.word(), r.mixed(16, 16)).as_bytes(), B64, true);
    c.pos(
        "nginx-basic",
        "nginx.conf",
        format!("location / {{\n    proxy_set_header Authorization \"Basic {basic}\";\n}}\n"),
        &basic,
    );
    let token = r.mixed(40, 40);
    c.pos(
        "bearer-concat",
        "http.py",
        format!("headers = {{\"Authorization\": \"Bearer \" + \"{token}\"}}\n"),
        &token,
    );

    c.neg("public-value", "contracts.json", format!("{{\n  \"TokenVault\": \"0x{}\",\n}}\n", r.s(HEX, 40)));
    c.neg(
        "public-value",
        "gitconfig",
        format!("[user]\n\tname = Ada\n\tsigningkey = {}\n", r.s(HEX_UPPER, 16)),
    );
    c.neg("public-value", "map.js", format!("mapboxgl.accessToken = \"pk.eyJ1Ijoi{}\";\n", r.s(BASE62, 60)));
    c.neg(
        "fake-key",
        "config.yml",
        "access_key: A1B2C3D4E5F6G7H8I9J0\nsecret_key: a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6\n".to_string(),
    );
    c.neg("reference", "settings.php", "$password = \"$DB_PASSWORD\";\n$token = '@api_token';\n".to_string());
    c.neg("reference", "compose.yml", "x-db: &db_password\n  password: \"*db_password\"\n".to_string());
    c.neg(
        "call",
        "managers.py",
        "    authkey = process.current_process().authkey\n    credentials = sts_client.assume_role(\n"
            .to_string(),
    );
    c.neg(
        "crypt-hash",
        "users.yml",
        format!("password_hash: \"$6$rounds=5000${}${}\"\n", r.s(BASE62, 16), r.s(BASE62, 86)),
    );
}

/// Secrets whose name and value sit apart, or that a command line, a call or a config
/// format carries: Kubernetes env lists, Postman pairs, XML properties, Android strings,
/// plists, docker/kubectl/helm flags, DSN strings, JWT signing calls, redis.conf, JWKs,
/// OpenVPN keys, positional Twilio and Algolia credentials. Look-alike negatives: values
/// from secret stores, references, CSRF fields, emulator keys, unsigned JWT samples.
fn context_cases(r: &mut Rng, c: &mut Corpus) {
    let v = r.mixed(20, 24);
    c.pos(
        "name-value",
        "deployment.yaml",
        format!("        env:\n          - name: DB_PASSWORD\n            value: \"{v}\"\n"),
        &v,
    );
    let v = r.s(HEX, 37);
    c.pos(
        "name-value",
        "collection.json",
        format!("{{\"header\": [{{\"key\": \"X-Auth-Key\", \"value\": \"{v}\"}}]}}\n"),
        &v,
    );
    let v = r.mixed(18, 18);
    c.pos(
        "xml-named",
        "hibernate.cfg.xml",
        format!("<property name=\"hibernate.connection.password\">{v}</property>\n"),
        &v,
    );
    let v = r.mixed(50, 50);
    c.pos(
        "xml-named",
        "strings.xml",
        format!("<resources>\n  <string name=\"twitter_consumer_secret\">{v}</string>\n</resources>\n"),
        &v,
    );
    let v = r.mixed(40, 40);
    c.pos(
        "plist",
        "Info.plist",
        format!("<dict>\n\t<key>API_SECRET</key>\n\t<string>{v}</string>\n</dict>\n"),
        &v,
    );
    let v = r.mixed(20, 20);
    c.pos(
        "cli-flag",
        "deploy.sh",
        format!("docker run -d --name pg -e POSTGRES_PASSWORD={v} -p 5432:5432 postgres:16\n"),
        &v,
    );
    let v = r.mixed(20, 20);
    c.pos(
        "cli-flag",
        "secrets.sh",
        format!("kubectl create secret generic db --from-literal=username=app --from-literal=password={v}\n"),
        &v,
    );
    let v = r.mixed(18, 18);
    c.pos("dsn", "load.py", format!("conn = psycopg2.connect(\"host=dw.internal dbname=dw user=loader password={v} sslmode=require\")\n"), &v);
    let v = r.mixed(48, 48);
    c.pos(
        "jwt-sign",
        "auth.js",
        format!("return jwt.sign({{ sub: user.id }}, '{v}', {{ expiresIn: '7d' }});\n"),
        &v,
    );
    let v = r.mixed(32, 32);
    c.pos("redis-conf", "redis.conf", format!("bind 127.0.0.1\nrequirepass {v}\n"), &v);
    let v = r.s(B64URL, 43);
    c.pos(
        "jwk",
        "jwks.json",
        format!("{{\"keys\": [{{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"{}\", \"y\": \"{}\", \"d\": \"{v}\"}}]}}\n", r.s(B64URL, 43), r.s(B64URL, 43)),
        &v,
    );
    let key: Vec<String> = (0..16).map(|_| r.s(HEX, 32)).collect();
    c.pos(
        "openvpn",
        "ta.key",
        format!(
            "-----BEGIN OpenVPN Static key V1-----\n{}\n-----END OpenVPN Static key V1-----\n",
            key.join("\n")
        ),
        &key[0],
    );
    let v = r.mixed(32, 32);
    c.pos("twilio-positional", "sms.py", format!("client = Client(\"SK{}\", \"{v}\")\n", r.s(HEX, 32)), &v);
    let v = r.s(HEX, 32);
    c.pos(
        "algolia-positional",
        "search.py",
        format!("client = SearchClient.create(\"{}\", \"{v}\")\n", r.s(UPPER_ALNUM, 10)),
        &v,
    );
    let v = format!("{}.{}{}", "Willow", r.range(1000, 9999), "Quartz");
    c.pos(
        "human-password",
        "database.yml",
        format!("production:\n  adapter: postgresql\n  password: {v}\n"),
        &v,
    );

    c.neg(
        "secret-store",
        "config.py",
        "api_key = sm.get_secret_value(SecretId=\"prod/orders/api-key\")[\"SecretString\"]\n".to_string(),
    );
    c.neg("reference", "deployment.yaml", "        env:\n          - name: DB_PASSWORD\n            valueFrom:\n              secretKeyRef: {name: db, key: password}\n".to_string());
    c.neg(
        "csrf",
        "form.html",
        format!("<input type=\"hidden\" name=\"authenticity_token\" value=\"{}\">\n", r.s(B64URL, 86)),
    );
    c.neg("uuid-define", "ble.h", format!("#define TOKEN_CHAR_UUID \"{}\"\n", r.uuid()));
    c.neg(
        "unsigned-jwt",
        "TokenTests.java",
        format!("String token = \"eyJhbGciOiJIUzI1NiJ9.eyJ{}\";\n", r.s(B64URL, 40)),
    );
    c.neg(
        "type-path",
        "hpke.py",
        "MLKEM768X25519PrivateKey = rust_openssl.hpke.MLKEM768X25519PrivateKey\n".to_string(),
    );
    c.neg(
        "env-reference",
        "run.sh",
        "docker run -e POSTGRES_PASSWORD=$POSTGRES_PASSWORD -e API_TOKEN=${API_TOKEN} postgres\n".to_string(),
    );
}

/// Secrets in the files of build tools and other programs, each in its own syntax: Gradle
/// (`buildConfigField`, a `credentials` block), `.pgpass`, a Postman collection's apikey
/// auth, a wallet's recovery phrase, SSSD, a Railway token, a Django key whose alphabet
/// makes `%d` by chance; service managers, web servers, make, YAML anchors, C# verbatim
/// strings; and secrets placed by position (a Go MySQL DSN, PHP's PDO, the IAM console's
/// CSV, a continued curl line, an SMTP URL, a HAR header, a YAML list of tokens).
fn build_and_tool_file_cases(r: &mut Rng, c: &mut Corpus) {
    const PHRASE_WORDS: &[&str] = &[
        "risk", "dish", "stairs", "coffee", "option", "muscle", "useless", "aim", "drama", "fall", "slot",
        "wine", "sweet", "hollow", "depth", "fit", "seed", "worry", "top", "plug", "defense", "tape",
        "together", "island",
    ];
    let phrase = (0..12).map(|_| r.pick(PHRASE_WORDS)).collect::<Vec<_>>().join(" ");
    let aws_id = format!("{}{}", concat!("AK", "IA"), r.s(BASE32, 16));
    // (kind, file, content with `{v}` where the secret goes, the secret)
    let planted = [
        ("build-config", "build.gradle", "android {\n  defaultConfig {\n    buildConfigField \"String\", \"ALGOLIA_ADMIN_KEY\", \"\\\"{v}\\\"\"\n  }\n}\n".to_string(), r.s(HEX, 32)),
        ("build-config", "build.gradle", "maven {\n  credentials {\n    username 'deployer'\n    password '{v}'\n  }\n}\n".to_string(), format!("{}!{}", r.mixed(9, 9), r.mixed(8, 8))),
        ("pgpass", ".pgpass", "orders-db.internal:5432:orders:orders_app:{v}\n".to_string(), format!("{}%{}", r.mixed(8, 8), r.mixed(9, 9))),
        ("postman", "api.postman_collection.json", "{\"auth\": {\n  \"type\": \"apikey\",\n  \"apikey\": [\n    {\"key\": \"value\", \"value\": \"{v}\", \"type\": \"string\"},\n    {\"key\": \"key\", \"value\": \"DD-API-KEY\", \"type\": \"string\"}\n  ]\n}}\n".to_string(), r.s(HEX, 32)),
        ("mnemonic", ".env", "NETWORK=mainnet\nMNEMONIC=\"{v}\"\n".to_string(), phrase),
        ("sssd", "sssd.conf", "[domain/corp]\nid_provider = ldap\nldap_default_authtok = {v}\n".to_string(), format!("{}*%{}", r.mixed(8, 8), r.mixed(8, 8))),
        ("railway", ".env", "RAILWAY_TOKEN={v}\n".to_string(), r.uuid()),
        ("django-key", "settings.py", "DEBUG = False\nSECRET_KEY = '{v}'\n".to_string(), format!("(x-n(92-1#)2#_&%d*3${}^uxm(sa^{}+ok_5ob)rc", r.s(HEX, 8), r.s(LETTERS, 6).to_lowercase())),
        ("unit-syntax", "exporter.service", "[Service]\nEnvironment=EXPORTER_API_TOKEN={v}\nExecStart=/usr/bin/exporter\n".to_string(), r.mixed(40, 40)),
        ("unit-syntax", "shop.conf", "<VirtualHost *:443>\n    SetEnv DB_PASSWORD \"{v}\"\n</VirtualHost>\n".to_string(), format!("{}#{}", r.mixed(8, 8), r.mixed(9, 9))),
        ("unit-syntax", "Makefile", "DB_USER ?= app\nDB_PASSWORD ?= {v}\n".to_string(), r.mixed(20, 20)),
        ("unit-syntax", "values.yaml", "defaults:\n  dbPassword: &dbpass \"{v}\"\nreplica:\n  dbPassword: *dbpass\n".to_string(), r.mixed(24, 24)),
        ("unit-syntax", "Upload.cs", "var credential = new NetworkCredential(@\"partner_upload\", @\"{v}\");\n".to_string(), r.mixed(20, 20)),
        ("positional", "db.go", "const dsn = `app:{v}@tcp(db-prod-01.internal:3306)/shop?parseTime=true`\n".to_string(), r.mixed(18, 18)),
        ("positional", "Db.php", "return new PDO('mysql:host=db.internal;dbname=shop', 'orders_rw', '{v}', [\n]);\n".to_string(), format!("{}&{}", r.mixed(8, 8), r.mixed(9, 9))),
        ("positional", "accessKeys.csv", format!("Access key ID,Secret access key\n{aws_id},{{v}}\n"), r.s(&[LETTERS, DIGITS, "+/"].concat(), 40)),
        ("positional", "backup.sh", "curl -fsS \\\n  --user backup@acme.io:{v} \\\n  -o backup.zip https://jira.acme.local/rest/backup\n".to_string(), r.mixed(20, 20)),
        ("positional", ".env", "EMAIL_URL=smtp+tls://alerts%40acme.io:{v}@smtp.office365.com:587\n".to_string(), r.mixed(20, 20)),
        ("positional", "checkout.har", "{\"headers\": [\n  {\"name\": \"Accept\", \"value\": \"application/json\"},\n  {\n    \"name\": \"Authorization\",\n    \"value\": \"Bearer {v}\"\n  }\n]}\n".to_string(), r.s(B64URL, 48)),
        ("positional", "ingest.yaml", "ingest:\n  allowed_tokens:\n    - {v}\n  max_body: 10MiB\n".to_string(), r.mixed(40, 40)),
    ];
    let (twilio_sid, twilio_account) = (format!("SK{}", r.s(HEX, 32)), format!("AC{}", r.s(HEX, 32)));
    let sdk_calls = [
        ("sdk-call", "Notify.java", format!("Twilio.init(\"{twilio_sid}\", \"{{v}}\", \"{twilio_account}\");\n"), r.s(BASE62, 32)),
        ("sdk-call", "okta.go", "client, _ := okta.NewClient(ctx, okta.WithOrgUrl(\"https://acme.okta.com\"), okta.WithToken(\"{v}\"))\n".to_string(), format!("00{}", r.s(B64URL, 40))),
    ];
    for (kind, file, content, secret) in planted.into_iter().chain(sdk_calls) {
        c.pos(kind, file, content.replace("{v}", &secret), &secret);
    }
    // Go's encoder writes `<` as `\u003c`: the file holds the escape, the finding the secret.
    let v = format!("{}<{}", r.mixed(8, 8), r.mixed(8, 8)).replace('<', "\\u003c");
    c.pos("positional", "provision.jsonl", format!("{{\"level\":\"debug\",\"password\":\"{v}\"}}\n"), &v);
    c.neg(
        "mnemonic",
        "hardhat.config.js",
        "module.exports = { networks: { hardhat: { accounts: { mnemonic: \"test test test test test test test test test test test junk\" } } } };\n".to_string(),
    );
    c.neg("railway", ".env", format!("RAILWAY_PROJECT_ID={}\nRAILWAY_ENVIRONMENT=production\n", r.uuid()));
    // Ids beside a provider's name, cache keys shaped like Mailgun's, made-up tokens (a
    // body of zeros, a GitHub token whose checksum fails).
    let fake_github = format!("ghp_{}", r.s(BASE62, 36));
    let fakes = [
        ("provider-id", ".env", format!("HEROKU_APP_ID={}\nSNYK_ORG_ID={}\n", r.uuid(), r.uuid())),
        (
            "cache-key",
            "ci.yml",
            format!("      - uses: actions/cache@v4\n        with:\n          key: key-{}\n", r.s(HEX, 32)),
        ),
        (
            "made-up-token",
            "fixtures.py",
            format!("NEW_RELIC = \"NRAK-{}\"\nTOKEN = \"{fake_github}\"\n", "0".repeat(27)),
        ),
    ];
    for (kind, file, content) in fakes {
        c.neg(kind, file, content);
    }
}

/// Values made to be published, or standing for a value filled in later: keys that go
/// into every page (PostHog's `phc_`, New Relic's `NRJS-`, a Sentry DSN, the write key of
/// Segment's browser snippet, Pusher's app key, Algolia's search key), a vendor's
/// documentation key, and deployment tools' substitution markers.
fn published_by_design_cases(r: &mut Rng, c: &mut Corpus) {
    let (phc, nrjs, nr_app) = (r.s(BASE62, 43), r.s(HEX, 19), r.s(DIGITS, 9));
    let (dsn_key, sentry_org, sentry_project) = (r.s(HEX, 32), r.s(DIGITS, 6), r.s(DIGITS, 7));
    let (write_key, pusher_id, pusher_key) = (r.s(BASE62, 32), r.s(DIGITS, 7), r.s(HEX, 20));
    let (algolia_app, algolia_key) = (r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10), r.s(HEX, 32));
    let stripe_docs = concat!("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc");
    let published = [
        ("posthog.ts", format!("posthog.init('phc_{phc}', {{ api_host: 'https://us.i.posthog.com' }});\n")),
        ("newrelic.js", format!("NREUM.info={{licenseKey:\"NRJS-{nrjs}\",applicationID:\"{nr_app}\"}};\n")),
        ("sentry.ts", format!("Sentry.init({{ dsn: 'https://{dsn_key}@o{sentry_org}.ingest.us.sentry.io/{sentry_project}' }});\n")),
        ("analytics.html", format!("<script>analytics._writeKey=\"{write_key}\";analytics.load(\"{write_key}\");</script>\n")),
        (".env", format!("BROADCAST_DRIVER=pusher\nPUSHER_APP_ID={pusher_id}\nPUSHER_APP_KEY={pusher_key}\n")),
        ("search.ts", format!("export const searchClient = algoliasearch('{algolia_app}', '{algolia_key}');\n")),
        ("payments.md", format!("```python\nstripe.api_key = \"{stripe_docs}\"\n```\n")),
    ];
    for (file, content) in published {
        c.neg("published", file, content);
    }
    // Placeholders in base64 (Kubernetes data, a Basic header), a reference in a .netrc,
    // a fallback in minified code, public keys of Mailgun and Supabase.
    c.neg(
        "encoded-placeholder",
        "dev-secret.yaml",
        "data:\n  password: Y2hhbmdlbWU=\n  token: cmVwbGFjZS1tZQ==\n".to_string(),
    );
    c.neg(
        "encoded-placeholder",
        "api.http",
        "GET /v1/me\nAuthorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=\n".to_string(),
    );
    c.neg("reference", ".netrc", "machine gitlab.com\nlogin oauth2\npassword $GITLAB_TOKEN\n".to_string());
    c.neg(
        "minified-js",
        "index.min.js",
        "var a=function(t){var apiKey=t.apiKey||\"\";return apiKey};\n".to_string(),
    );
    c.neg("published", "validate.js", format!("const MAILGUN_PUBLIC_KEY = \"pubkey-{}\";\n", r.s(HEX, 32)));
    let b64url = |bytes: &[u8]| b64(bytes, B64URL, false);
    let claims =
        format!("{{\"iss\":\"supabase\",\"ref\":\"{}\",\"role\":\"anon\"}}", r.s(LETTERS, 20).to_lowercase());
    let anon = [b64url(br#"{"alg":"HS256","typ":"JWT"}"#), b64url(claims.as_bytes()), b64url(&r.bytes(32))]
        .join(".");
    c.neg(
        "published",
        "supabaseClient.ts",
        format!("export const supabase = createClient(url, \"{anon}\");\n"),
    );
    c.neg(
        "template-marker",
        "web.Release.config",
        "<appSettings>\n  <add key=\"ApiKey\" value=\"#{Acme.ApiKey}\" />\n  <add key=\"SmtpPassword\" value=\"$(SmtpPassword)\" />\n</appSettings>\n".to_string(),
    );
}

/// Secrets named in syntaxes of less common languages and config formats (from a seventh
/// outside corpus): Terraform variable defaults, Erlang tuples and SQL rows, Clojure/EDN
/// keywords, nginx directives, C arrays, R's `<-` and `->`, Scala/Kotlin typed vals,
/// Objective-C `@"…"`, XML `name=… value=…` attributes, a SQL `UPDATE … WHERE name=`, and
/// JWT signing keys written into the call.
fn less_common_syntax_cases(r: &mut Rng, c: &mut Corpus) {
    let dd_app = r.s(HEX, 40);
    // (kind, file, content with `{v}` where the secret goes, the secret)
    let planted = [
        ("hcl", "variables.tf", "variable \"cloudflare_api_token\" {\n  type      = string\n  sensitive = true\n  default   = \"{v}\"\n}\n".to_string(), r.s(B64URL, 40)),
        ("hcl", "variables.tf", "variable \"db_password\" { default = \"{v}\" }\n".to_string(), format!("{}!{}", r.mixed(8, 8), r.mixed(8, 8))),
        ("erlang", "sys.config", "[{acme, [\n  {port, 8080},\n  {jwt_secret, \"{v}\"}\n]}].\n".to_string(), r.mixed(48, 48)),
        ("erlang", "sys.config", "[{acme, [{twilio_auth_token, \"{v}\"}]}].\n".to_string(), r.s(HEX, 32)),
        ("sql", "dump.sql", "INSERT INTO `settings` VALUES (1,'site_name','Acme'),\n(2,'ldap_bind_password','{v}');\n".to_string(), format!("{}-{}", r.mixed(8, 8), r.mixed(12, 12))),
        ("edn", "config.edn", "{:http {:port 3000}\n :partner-api-key \"{v}\"\n :timeout-ms 5000}\n".to_string(), r.mixed(32, 32)),
        ("edn", "core.clj", "(def db-password \"{v}\")\n".to_string(), format!("{}!{}", r.mixed(9, 9), r.mixed(8, 8))),
        ("nginx", "api.conf", "location /v1/ {\n    proxy_pass https://backend.internal;\n    proxy_set_header X-Ldap-Bind-Password \"{v}\";\n}\n".to_string(), format!("{}!{}", r.mixed(9, 9), r.mixed(7, 7))),
        ("nginx", "api.conf", "location /v1/ {\n    proxy_set_header X-Dd-Api-Key \"{v}\";\n}\n".to_string(), r.s(HEX, 32)),
        ("c-array", "keys.cpp", "namespace acme {\nconstexpr char kMysqlRootPassword[] = \"{v}\";\n}\n".to_string(), format!("{}_{}", r.mixed(4, 4), r.mixed(15, 15))),
        ("c-array", "keys.cpp", "constexpr char kTwilioAuthToken[] = \"{v}\";\n".to_string(), r.s(HEX, 32)),
        ("r-assign", "report.R", "library(httr)\nadmin_password <- \"{v}\"\n".to_string(), format!("{}!{}", r.mixed(8, 8), r.mixed(9, 9))),
        ("typed-val", "Settings.scala", "object Settings {\n  val herokuApiKey: String = \"{v}\"\n}\n".to_string(), r.uuid()),
        ("objc", "AppKeys.m", "static NSString * const kDatadogAppKey = @\"{v}\";\n".to_string(), dd_app.clone()),
        ("xml-attribute", "beans.xml", "<bean id=\"client\" class=\"com.acme.Client\">\n  <property name=\"herokuApiKey\" value=\"{v}\"/>\n</bean>\n".to_string(), r.uuid()),
        ("makefile", "Makefile", "DATADOG_APP_KEY ?= {v}\n".to_string(), r.s(HEX, 40)),
        ("jwt-call", "auth.go", "return t.SignedString([]byte(\"{v}\"))\n".to_string(), format!("{}#{}", r.mixed(20, 20), r.mixed(19, 19))),
        ("jwt-call", "TokenService.java", "return Jwts.builder().subject(sub)\n    .signWith(Keys.hmacShaKeyFor(\"{v}\".getBytes())).compact();\n".to_string(), format!("{}%{}", r.mixed(20, 20), r.mixed(19, 19))),
        ("jwt-call", "auth.php", "return JWT::encode(['sub' => $user->id], '{v}', 'HS256');\n".to_string(), format!("{}^{}", r.mixed(16, 16), r.mixed(15, 15))),
        ("sql", "migrate.sql", "UPDATE settings SET value = '{v}' WHERE name = 'api_key';\n".to_string(), r.mixed(32, 32)),
        ("r-assign", "report.R", "\"{v}\" -> db_password\n".to_string(), format!("{}!{}*{}", r.mixed(5, 5), r.mixed(7, 7), r.mixed(10, 10))),
        // The provider named only by the object or section that holds the key.
        ("nested-provider", "appsettings.json", "{\n  \"Heroku\": {\n    \"ApiKey\": \"{v}\"\n  }\n}\n".to_string(), r.uuid()),
        ("nested-provider", "config.yml", "snyk:\n  org: acme\n  token: {v}\n".to_string(), r.uuid()),
        ("nested-provider", "settings.yml", "railway:\n  token: \"{v}\"\n".to_string(), r.uuid()),
        // npm's checksum is not checked: a generator or a fixture that copies the format
        // without it still writes a token.
        ("npm-unchecked", ".npmrc", "//registry.npmjs.org/:_authToken={v}\n".to_string(), format!("{}{}", concat!("np", "m_"), r.s(BASE62, 36))),
        ("cli-password", "Jenkinsfile", "stage('push') {\n  steps {\n    sh \"docker login -u deploy -p '{v}' nexus.acme.io:8443\"\n  }\n}\n".to_string(), r.mixed(20, 20)),
        ("cli-password", "import-ca.sh", "keytool -importcert -alias acme -file ca.pem -keystore truststore.jks -storepass {v} -noprompt\n".to_string(), r.mixed(16, 16)),
        ("directive", "ldap.conf", "base dc=acme,dc=io\nuri ldaps://ldap.acme.io\nbinddn cn=reader,dc=acme,dc=io\nbindpw {v}\n".to_string(), format!("{}-#{}", r.mixed(6, 6), r.mixed(8, 8))),
        ("directive", "haproxy.cfg", "userlist ops\n    user ops insecure-password {v}\n".to_string(), format!("{}{}$", r.mixed(12, 12), 42)),
        ("sql", "V3__roles.sql", "CREATE ROLE grafana LOGIN PASSWORD '{v}';\nGRANT SELECT ON ALL TABLES IN SCHEMA metrics TO grafana;\n".to_string(), r.mixed(16, 16)),
        ("app-setting", "Web.config", "<appSettings>\n  <add key=\"Environment\" value=\"Production\" />\n  <add key=\"AzureStorageKey\" value=\"{v}\" />\n</appSettings>\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("typed-const", "consts.rs", "pub const AZURE_STORAGE_KEY: &str = \"{v}\";\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("objc", "DDConfig.m", "static NSString * const kDdApiKey = @\"{v}\";\n".to_string(), r.s(HEX, 32)),
        // Passed by position, through a setter, as a parameter or a placeholder's default.
        ("setter", "DataSourceConfig.java", "HikariConfig cfg = new HikariConfig();\ncfg.setUsername(\"ledger_app\");\ncfg.setPassword(\"{v}\");\n".to_string(), r.mixed(24, 24)),
        ("credentials-call", "report.pl", "my $dbh = DBI->connect(\"DBI:Pg:dbname=reports;host=pg\", \"reporter\", \"{v}\", { RaiseError => 1 });\n".to_string(), format!("{}@{}", r.mixed(8, 8), r.mixed(6, 6))),
        ("credentials-call", "mail.go", "auth := smtp.PlainAuth(\"\", \"alerts@acme.io\", \"{v}\", \"smtp.acme.io\")\n".to_string(), r.mixed(18, 18)),
        ("credentials-call", "jira_report.py", "jira = JIRA(server=URL, basic_auth=(\"ops-bot@acme.io\", \"{v}\"))\n".to_string(), r.mixed(24, 24)),
        ("cli-parameter", "refresh.ps1", "Invoke-Sqlcmd -ServerInstance sql01 -Username \"refresh_job\" -Password \"{v}\" -Query $q\n".to_string(), r.mixed(24, 24)),
        ("cli-parameter", "upload.ps1", "$ctx = New-AzStorageContext -StorageAccountName acmelogs -StorageAccountKey \"{v}\"\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("placeholder-default", "WebhookController.java", "@Value(\"${github.webhook.secret:{v}}\")\nprivate String webhookSecret;\n".to_string(), r.mixed(32, 32)),
        ("placeholder-default", "docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-{v}}\n".to_string(), format!("{}#{}", r.mixed(8, 8), r.mixed(8, 8))),
        ("shell-set", "config.fish", "set -gx PATH $HOME/bin $PATH\nset -gx TWILIO_AUTH_TOKEN {v}\n".to_string(), r.s(HEX, 32)),
        ("directive", ".msmtprc", "account acme\nhost smtp.acme.io\nuser alerts@acme.io\npassword {v}\n".to_string(), r.mixed(24, 24)),
        ("directive", ".offlineimaprc", "[Repository Remote]\ntype = IMAP\nremoteuser = jdoe@acme.io\nremotepass = {v}\n".to_string(), r.mixed(16, 16)),
        ("sql", "dblink.sql", "CREATE DATABASE LINK fin CONNECT TO fin_ro IDENTIFIED BY \"{v}\" USING 'FINPRD';\n".to_string(), r.mixed(24, 24)),
        ("sql", "logins.sql", "CREATE LOGIN [etl_svc] WITH PASSWORD=N'{v}', CHECK_POLICY = OFF;\n".to_string(), format!("{}@{}", r.mixed(12, 12), r.s(DIGITS, 4))),
        ("oracle-connect", "Jenkinsfile", "sh 'sqlplus -s APP_OWNER/{v}@//ora-prod.acme.local:1521/ORCLPDB1 @deploy.sql'\n".to_string(), r.mixed(24, 24)),
        ("oracle-connect", "datasource.properties", "url=jdbc:oracle:thin:hr_app/{v}@//ora-scan.acme.local:1521/HRPDB\n".to_string(), r.mixed(20, 20)),
        ("azure-function-url", "call-func.sh", "curl -s \"https://acme-fn.azurewebsites.net/api/reindex?code={v}\" -d '{}'\n".to_string(), format!("{}==", r.s(B64URL, 54))),
        ("nested-provider", "appsettings.Production.json", "{\n  \"CosmosDb\": {\n    \"Endpoint\": \"https://acme.documents.azure.com:443/\",\n    \"Key\": \"{v}\",\n    \"DatabaseName\": \"orders\"\n  }\n}\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("atlas-private-key", ".env", "MONGODB_ATLAS_PUBLIC_KEY=bqnxaafb\nMONGODB_ATLAS_PRIVATE_KEY={v}\n".to_string(), r.uuid()),
        ("b2-rclone", "rclone.conf", "[b2-backup]\ntype = b2\naccount = 00258ff90de40000000001\nkey = {v}\n".to_string(), format!("K00{}{}", r.s(DIGITS, 1), r.s(B64, 27))),
        ("snyk-header", "snyk-report.sh", "curl -s -H \"Authorization: token {v}\" \"https://api.snyk.io/rest/self\"\n".to_string(), r.uuid()),
        ("cloudflare-call", "dns_update.py", "import CloudFlare\ncf = CloudFlare.CloudFlare(email=\"hostmaster@acme.io\", key=\"{v}\")\n".to_string(), r.s(HEX, 37)),
        ("ado-pat", "queue-build.ps1", "$pat = \"{v}\"\n$auth = [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes(\":$pat\"))\n".to_string(), r.s("abcdefghijklmnopqrstuvwxyz234567", 52)),
        ("registry-login", "ocir-login.sh", "echo '{v}' | docker login fra.ocir.io -u 'tenancy/deploy@acme.io' --password-stdin\n".to_string(), format!("{}.{}>{}", r.mixed(4, 4), r.mixed(7, 7), r.mixed(5, 5))),
        ("vault-unseal", "vault-init.txt", "Unseal Key 1: {v}\nUnseal Key 2: {v}\n\nInitial Root Token: (rotated)\n".to_string(), r.s(B64, 44)),
        ("network-device", "edge-rtr-01.cfg", "hostname edge-rtr-01\n!\nenable password 0 {v}\n".to_string(), r.mixed(24, 24)),
        ("network-device", "ipsec.secrets", "203.0.113.10 198.51.100.20 : PSK \"{v}\"\n".to_string(), r.mixed(24, 24)),
        ("tsig", "ddns.key", "key \"ddns-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"{v}\";\n};\n".to_string(), format!("{}=", r.s(B64, 43))),
        ("cloudformation", "rds.yaml", "Parameters:\n  DBPassword:\n    Type: String\n    NoEcho: true\n    Default: '{v}'\n".to_string(), r.mixed(24, 24)),
        ("struct-dump", "panic.txt", "panic: pq: password authentication failed (cfg={Host:db.internal Port:5432 User:ledger Password:{v} DBName:ledger})\n".to_string(), r.mixed(24, 24)),
        ("prometheus", "scrape-jobs.yml", "  - job_name: billing\n    authorization:\n      type: Bearer\n      credentials: {v}\n".to_string(), r.uuid()),
        ("kaggle", "kaggle.json", "{\"username\":\"mlops\",\"key\":\"{v}\"}\n".to_string(), r.s(HEX, 32)),
        ("azure-attribute", "prod.tfstate", "          \"attributes\": {\n            \"primary_access_key\": \"{v}\",\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("aws-positional", "init.sls", "s3:\n  region: eu-west-1\n  keyid: AKIA{id}\n  key: {v}\n".replace("{id}", &r.s(BASE32, 16)), r.s(B64, 40)),
        ("hex-key", "settings.py", "KAGGLE_KEY = \"{v}\"\n".to_string(), r.s(HEX, 32)),
        ("duo", "login_duo.conf", "[duo]\nikey = DI{i}\nskey = {v}\nhost = api-4f2a9c1e.duosecurity.com\n".replace("{i}", &r.s(UPPER_ALNUM, 18)), r.s(LOWER_ALNUM, 40)),
        ("ethereum-config", "hardhat.config.js", "module.exports = {\n  networks: {\n    mainnet: {\n      url: process.env.RPC_URL,\n      accounts: [\"{v}\"],\n    },\n  },\n};\n".to_string(), r.s(HEX, 64)),
        ("pulumi", "Pulumi.prod.yaml", "config:\n  aws:region: us-west-2\n  payments:dbPassword: {v}\n".to_string(), r.mixed(16, 16)),
        // Passwords people make: capitalised words, digits and punctuation.
        ("human-password", "wp-config.php", "/** Database password */\ndefine( 'DB_PASSWORD', '{v}' );\n".to_string(), format!("{}{}-{}.{}_", r.pick(&["W", "G", "B"]), r.pick(&["4lnut", "r4nite", "0ulder"]), r.s(DIGITS, 2), r.pick(&["Anchor", "Velvet", "Orbit"]))),
        ("human-password", "Web.config", "<connectionStrings>\n  <add name=\"Default\" connectionString=\"Data Source=sql01;Initial Catalog=Inventory;User ID=sa;Password={v};\" />\n</connectionStrings>\n".to_string(), format!("{}.{}-{}-", r.pick(&["Ember", "Cedar", "Falcon"]), r.s(DIGITS, 2), r.pick(&["Velvet", "Harbor", "Summit"]))),
        ("split-connection-string", "orders_report.py", "conn = pyodbc.connect(\n    \"DRIVER={ODBC Driver 18 for SQL Server};\"\n    \"SERVER=sql01;\"\n    \"UID=etl_user;\"\n    \"PWD={v};\"\n)\n".to_string(), format!("{}!{}", r.mixed(10, 10), r.mixed(12, 12))),
        ("place-word-name", ".env.prod", "QUEUE_CONCURRENCY=10\nFIELD_ENCRYPTION_KEY={v}\n".to_string(), r.s(HEX, 32)),
        ("credentials-call", "digest_mailer.rb", "Net::SMTP.start(SMTP_HOST, 587, \"acme.io\", \"digest-mailer\", \"{v}\", :login) do |smtp|\n  smtp.send_message(body, FROM, rcpt)\nend\n".to_string(), format!("{}+{}", r.mixed(6, 6), r.mixed(5, 5))),
        ("csharp-property", "MysqlOptions.cs", "public class MysqlOptions\n{\n    public string MysqlRootPassword { get; set; } = \"{v}\";\n}\n".to_string(), format!("{}*{}", r.mixed(8, 8), r.mixed(11, 11))),
        ("short-password", "source.properties", "source.jdbc.url=jdbc:mysql://db.internal:3306/app?user=app&password={v}&useSSL=false\n".to_string(), format!("{}_{}~{}", r.mixed(4, 4), r.mixed(3, 3), r.s(DIGITS, 1))),
        ("credentials-call", "ReportingClient.java", "private final RestTemplate rest = new RestTemplateBuilder().basicAuthentication(\"reporting\", \"{v}\").build();\n".to_string(), format!("{}@{}_{}", r.mixed(4, 4), r.mixed(4, 4), r.mixed(3, 3))),
        ("cli-password", "audit-users.sh", "ldapsearch -x -H ldaps://ldap.acme.local -D 'cn=admin,dc=acme,dc=local' -w '{v}' '(uid=*)'\n".to_string(), r.mixed(14, 14)),
        ("twilio-positional", "sms.js", "const twilio = require('twilio');\nconst client = twilio('SK{sid}', '{v}');\n".replace("{sid}", &r.s(HEX, 32)), r.s(BASE62, 32)),
        ("filezilla", "sitemanager.xml", "<FileZilla3>\n <Servers>\n  <Server>\n   <Host>ftp.acme.io</Host>\n   <User>deploy</User>\n   <Pass encoding=\"base64\">{v}</Pass>\n  </Server>\n </Servers>\n</FileZilla3>\n".to_string(), format!("{}==", r.s(B64, 22))),
        // A salt whose alphabet holds braces and that a `nonce` names.
        ("wordpress-salt", "wp-config.php", "define( 'NONCE_KEY',        '{v}' );\n".to_string(), format!("{}{{Fry}}{}*{}%{}!{}", r.mixed(6, 6), r.mixed(8, 8), r.mixed(10, 10), r.mixed(12, 12), r.mixed(14, 14))),
        ("human-password", "application.properties", "auth.db-url=jdbc:postgresql://db:5432/auth\nauth.db-password={v}\n".to_string(), format!("{}{}{}", r.pick(&["Coffee", "Harbor", "Maple"]), r.pick(&["Soylent", "Lantern", "Meadow"]), r.pick(&["2019", "2021", "1998"]))),
        ("machine-key", "Web.config", "<system.web>\n  <machineKey validationKey=\"{v}\" validation=\"HMACSHA512\" />\n</system.web>\n".to_string(), r.s(HEX_UPPER, 128)),
        // Short values: eight characters with a repeat hold less than 3 bits each.
        ("short-password", "application.properties", "spring.datasource.username=shop\nspring.datasource.password={v}\n".to_string(), format!("{}{}", r.s(LOWER_ALNUM, 4), "k7k2")),
        ("short-password", "docker-compose.yml", "services:\n  db:\n    environment:\n      - \"POSTGRES_PASSWORD={v}\"\n".to_string(), r.s(HEX, 12)),
        ("name-value-pair", "deployment.yaml", "        env:\n        - name: ENCRYPTION_KEY\n          value: \"{v}\"\n".to_string(), r.s(HEX, 64)),
        ("name-value-pair", "params.prod.json", "[\n  {\"ParameterKey\": \"Environment\", \"ParameterValue\": \"prod\"},\n  {\"ParameterKey\": \"DbPassword\", \"ParameterValue\": \"{v}\"}\n]\n".to_string(), format!("{}~{}", r.mixed(9, 9), r.mixed(10, 10))),
        ("name-value-pair", "ssm-export.json", "[{\"Name\": \"/live/billing/encryption_key\", \"Type\": \"SecureString\", \"Value\": \"{v}\"}]\n".to_string(), r.s(HEX, 64)),
        ("parameter-object", "azuredeploy.parameters.json", "{\n  \"parameters\": {\n    \"administratorLoginPassword\": {\n      \"value\": \"{v}\"\n    }\n  }\n}\n".to_string(), format!("{}#{}", r.mixed(10, 10), r.mixed(9, 9))),
        ("connection-string-xml", "Web.config", "<add name=\"Ledger\" connectionString=\"Server=sql01;Database=ledger;User Id=svc;Password={v};\" />\n".to_string(), format!("{}&amp;{}", r.mixed(6, 6), r.mixed(10, 10))),
        // Short hex repeats digits: 16 random ones often hold under 3 bits each.
        ("short-hex", "production.json", "{\n  \"redis\": {\n    \"user\": \"svc\",\n    \"redisPassword\": \"{v}\"\n  }\n}\n".to_string(), r.repeating_hex()),
        // Structured forms: the value before its name, on a continuation line, behind a YAML
        // anchor, inside a Spring <value>, under a plist key.
        ("value-name-pair", "task-definition.json", "\"environment\": [\n  {\n    \"value\": \"{v}\",\n    \"name\": \"REDIS_PASSWORD\"\n  }\n]\n".to_string(), format!("{}%{}", r.mixed(9, 9), r.mixed(9, 9))),
        ("properties-continuation", "app-prod.properties", "app.name=billing\nspring.elastic.password=\\\n\t{v}\ndb.host=mysql.prod\n".to_string(), format!("{}+{}", r.mixed(8, 8), r.mixed(8, 8))),
        ("yaml-anchor", "shared.yml", "x-admin-password: &admin_password\n  \"{v}\"\n\nproduction:\n  password: *admin_password\n".to_string(), format!("{}^{}", r.mixed(8, 8), r.mixed(8, 8))),
        ("spring-bean-value", "spring-beans.xml", "<bean id=\"client\" class=\"com.acme.ApiClient\">\n  <property name=\"keystorePassword\">\n    <value>{v}</value>\n  </property>\n</bean>\n".to_string(), format!("{}~{}", r.mixed(8, 8), r.mixed(8, 8))),
        ("sql-tuple", "2024_seed_settings.sql", "INSERT INTO settings (name, value, created_at) VALUES\n  ('smtp_host', 'mail.acme.io', now()),\n  ('client_secret', '{v}', now());\n".to_string(), format!("{}!{}", r.mixed(8, 8), r.mixed(8, 8))),
        // Passphrases: plain words, strong by their number.
        ("passphrase", "db.properties", "db.url=jdbc:postgresql://db:5432/app\ndb.password={v}\n".to_string(), [r.pick(&["lucky", "coral", "brave"]), r.pick(&["panda", "anchor", "willow"]), r.pick(&["velvet", "mocha", "pine"]), r.pick(&["orbit", "tulip", "raven"])].join("-")),
        ("passphrase", "mailer.go", "const smtpPassword = \"{v}\"\n".to_string(), [r.pick(&["happy", "gray", "robin"]), r.pick(&["badger", "orange", "stone"]), r.pick(&["tiger", "hunter", "sailor"])].join(" ")),
        // Password managers also join the words with `_` or `.`.
        ("passphrase", "database.yml", "production:\n  adapter: postgresql\n  password: \"{v}\"\n".to_string(), [r.pick(&["crystal", "forest", "canyon"]), r.pick(&["lotus", "walnut", "silver"]), r.pick(&["marble", "zephyr", "reef"]), r.pick(&["harbor", "cabin", "ginger"])].join("_")),
        ("passphrase", "checkout.conf", "[signing]\nkey_passphrase = {v}\n".to_string(), [r.pick(&["ribbon", "summit", "winter"]), r.pick(&["autumn", "forest", "basket"]), r.pick(&["carbon", "coral", "cactus"])].join(".")),
        // Or run the words together.
        ("passphrase", "prod.py", "DATABASES = {}\nDB_PASSWORD = \"{v}\"\n".to_string(), [r.pick(&["silver", "cinder", "hollow"]), r.pick(&["glacier", "blossom", "crater"]), r.pick(&["maple", "nectar", "granite"]), r.pick(&["laurel", "tundra", "violet"])].concat()),
        // Words and a number, as people make passwords; and in SQL, a passphrase.
        ("human-password", "settings.py", "DEBUG = False\nDB_PASSWORD = \"{v}\"\n".to_string(), format!("{}{}{}", r.pick(&["Harbor", "Pepper", "Breeze"]), r.pick(&["Gray", "Thunder", "Walnut"]), r.pick(&["37", "1982", "6"]))),
        ("human-password", "roles.sql", "CREATE USER app_owner IDENTIFIED BY \"{v}\";\n".to_string(), format!("{}.{}.{}*", r.pick(&["desert", "spruce", "panda"]), r.pick(&["pink", "winter", "compass"]), r.pick(&["82", "66", "9"]))),
        ("url-short-hex", "db.js", "mongoose.connect('mongodb://inventory:{v}@mongo.internal:27017/inventory');\n".to_string(), {
            // 8 hex digits with repeats, as a random draw often has (`4bb9f04b`: 2.2 bits).
            let (a, b) = (r.pick(&["4", "7"]), r.pick(&["b", "c"]));
            format!("{a}{b}{b}{}{}{}{a}{b}", r.pick(&["9", "2"]), r.pick(&["f", "e"]), r.pick(&["0", "5"]))
        }),
        ("yaml-value-child", ".gitlab-ci.yml", "variables:\n  ENVIRONMENT:\n    value: production\n  WEBHOOK_SECRET:\n    description: \"signs the deploy hook\"\n    value: {v}\n".to_string(), r.s(HEX, 64)),
        ("ssm-export", "ssm-live.json", "{\n  \"Parameters\": [\n    {\n      \"Name\": \"/live/checkout/azure/storage/key\",\n      \"Type\": \"SecureString\",\n      \"Version\": 6,\n      \"Value\": \"{v}\"\n    }\n  ]\n}\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("xml-properties-entry", "app-config.xml", "<properties>\n  <entry key=\"azure.storage.account\">stx5kxdzk</entry>\n  <entry key=\"azure.storage.key\">{v}</entry>\n</properties>\n".to_string(), format!("{}==", r.s(B64, 86))),
        ("docker-config-auth", ".dockercfg", "{\n  \"quay.io\": {\n    \"auth\": \"{v}\",\n    \"email\": \"ci@acme.io\"\n  }\n}\n".to_string(), b64(format!("ci_robot:{}", r.s(BASE62, 32)).as_bytes(), B64, true)),
        // Secrets in program source: fallbacks of environment lookups, passwords by
        // position, header setters, map arrows.
        ("env-fallback", "Jenkinsfile.groovy", "def ADMIN_PASSWORD = System.getenv('DB_PASSWORD') ?: '{v}'\n".to_string(), format!("{}*{}", r.mixed(9, 9), r.mixed(8, 8))),
        ("env-fallback", "store.pm", "my $db_pass = $ENV{DB_PASSWORD} // '{v}';\n".to_string(), format!("{}*{}", r.mixed(9, 9), r.mixed(8, 8))),
        ("env-fallback", "Auth.swift", "static let jwtSigningKey = ProcessInfo.processInfo.environment[\"JWT_SECRET\"] ?? \"{v}\"\n".to_string(), format!("{}=", r.s(B64, 43))),
        ("env-fallback", "token_service.R", "jwt_signing_key <- Sys.getenv(\"JWT_SECRET\", unset = \"{v}\")\n".to_string(), r.s(HEX, 64)),
        ("env-fallback", "migrate.lua", "local SMTP_PASSWORD = os.getenv(\"SMTP_PASSWORD\") or \"{v}\"\n".to_string(), format!("{}%{}", r.mixed(9, 9), r.mixed(8, 8))),
        ("positional-password", "Store.groovy", "def sql = Sql.newInstance('jdbc:postgresql://db.internal:5432/app', 'app', '{v}', 'org.postgresql.Driver')\n".to_string(), format!("{}*{}", r.mixed(9, 9), r.mixed(8, 8))),
        ("positional-password", "ldap.go", "if err := l.Bind(\"cn=deploy\", \"{v}\"); err != nil {\n\treturn err\n}\n".to_string(), format!("{}~{}", r.mixed(9, 9), r.mixed(7, 7))),
        ("positional-password", "smtp.cpp", "session->login(\"etl\", \"{v}\");\n".to_string(), format!("{}~{}", r.mixed(9, 9), r.mixed(7, 7))),
        ("header-setter", "ApiClient.cs", "_http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(\"Bearer\", \"{v}\");\n".to_string(), r.s(HEX, 32)),
        ("header-setter", "ACMTelemetry.m", "[request setValue:@\"{v}\" forHTTPHeaderField:@\"DD-API-KEY\"];\n".to_string(), r.s(HEX, 32)),
        ("map-arrow", "Otp.scala", "val settings = Map(\n  \"twilioAuthToken\" -> \"{v}\"\n)\n".to_string(), r.s(HEX, 32)),
        ("plist-storage-key", "Keys.plist", "<dict>\n\t<key>AzureStorageKey</key>\n\t<string>{v}</string>\n</dict>\n".to_string(), format!("{}==", r.s(B64, 86))),
    ];
    for (kind, file, content, secret) in planted {
        c.pos(kind, file, content.replace("{v}", &secret), &secret);
    }
    // Public by design, or no secret at all, in the same syntaxes.
    let site_key = format!("6L{}", r.s(B64URL, 38));
    c.neg(
        "captcha-site-key",
        "env.dart",
        format!("class Env {{\n  static const String recaptchaSiteKey = '{site_key}';\n}}\n"),
    );
    c.neg("captcha-site-key", "deploy.yml", format!("    env:\n      RECAPTCHA_SITE_KEY: {site_key}\n"));
    // Names under a secret's name: an action type, a ULID, a revision, a URN, a word.
    c.neg("named-things", "actionTypes.js", "export const API_KEY_REVOKED = \"checkout/API_KEY_REVOKED\";\nexport const SECRET_ROTATED = \"checkout/SECRET_ROTATED\";\n".to_string());
    c.neg("named-things", "vars.yml", "session_token_id: \"01HSZSQ33TVA9NC9ZTM0QQQ5R8\"\n".to_string());
    c.neg(
        "named-things",
        "appsettings.json",
        "{\n  \"TokenServiceRevision\": \"efc01fa730\"\n}\n".to_string(),
    );
    c.neg(
        "named-things",
        "config.rs",
        "pub const CLIENT_SECRET_GRANT: &str = \"urn:ietf:params:oauth:grant-type:jwt-bearer\";\n"
            .to_string(),
    );
    c.neg("named-things", "messages_es.properties", "auth.password=Contrase\u{f1}a\n".to_string());
    // Words under a secret's name that are no passphrase: help texts, names of things.
    c.neg("passphrase", "strings.json", "{\n  \"password_help\": \"mix letters numbers symbols\",\n  \"secret_santa_title\": \"holiday gift exchange\",\n  \"passwordPrompt\": \"enter your password here\"\n}\n".to_string());
    c.neg("passphrase", "settings.py", "PASSWORD_HASHERS_ALGO = \"argon bcrypt scrypt\"\nsecret_name = \"orders-payments-primary\"\nMETADATA_KEY = 'pydantic-mypy-metadata'\n".to_string());
    // Names and member chains joined by `_` or `.` under a password's name.
    c.neg("passphrase", "views.py", "password = self.cipher.decrypt\nsecret = request.form.secret\nPASSWORD_TEMPLATE = \"password_reset_form\"\n".to_string());
    c.neg(
        "passphrase",
        "application.yml",
        "spring:\n  datasource:\n    password: orders.internal.svc\n  secret_file: signing_key_file\n"
            .to_string(),
    );
    c.neg("passphrase", "docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: supersecretpassword\n      DASHBOARD_SECRET: kubernetesdashboard\n".to_string());
    c.neg(
        "human-password",
        "seed.yml",
        "admin_password: Welcome1\nreadonly_password: Password1\nsecret: hunter42\npassword_hasher: Argon2\n"
            .to_string(),
    );
    // Tokens a deployment step replaces, and base64 of a default password in an example.
    c.neg(
        "template-token",
        ".netrc.tmpl",
        "machine api.heroku.com\n  login deploy@acme.io\n  password __HEROKU_API_KEY__\n".to_string(),
    );
    c.neg("template-token", "web.config", "<add key=\"DbPassword\" value=\"#{DbPassword}#\" />\n<add key=\"ApiToken\" value=\"@@API_TOKEN@@\" />\n".to_string());
    c.neg("k8s-secret-placeholder", "secret.example.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: crm-sync\ntype: Opaque\ndata:\n  username: cG9zdGdyZXM=\n  password: cG9zdGdyZXM=\n".to_string());
    // Patterns that detect tokens, kept under a token's name.
    c.neg("regex-pattern", "patterns.rb", "PATTERNS = {\n  slack_token: 'xox[baprs]-[0-9A-Za-z-]{10,72}',\n  github_token: '^ghp_[A-Za-z0-9]{36}$'\n}\n".to_string());
    // Value first, but no secret: a lifetime, a reference, an address.
    c.neg("value-name-pair", "task-definition.json", "\"environment\": [\n  {\"value\": \"3600\", \"name\": \"TOKEN_TTL\"},\n  {\"value\": \"${DB_PASSWORD}\", \"name\": \"DB_PASSWORD\"},\n  {\"value\": \"https://auth.acme.io/oauth/token\", \"name\": \"TOKEN_URL\"}\n]\n".to_string());
    c.neg(
        "yaml-anchor",
        "shared.yml",
        "x-db-password: &db_password\n  \"${DB_PASSWORD}\"\n\nproduction:\n  password: *db_password\n"
            .to_string(),
    );
    // References to secrets kept elsewhere, and the name of one.
    c.neg(
        "template-reference",
        "pipeline.yml",
        "resources:\n- name: repo\n  type: git\n  source:\n    uri: git@github.com:acme/app.git\n    private_key: ((github-deploy-key))\n".to_string(),
    );
    c.neg(
        "secret-name",
        "loader.js",
        "const clientSecret = await secretsClient.getSecretValue({ SecretId: \"prod/oauth\" }).then((r) => r.SecretString);\n".to_string(),
    );
    c.neg(
        "variable-reference",
        "values.yaml",
        "# bcrypt hash of the admin password (htpasswd -nbBC 10 \"\" $ARGO_PWD)\nadminPasswordHash: \"\"\n"
            .to_string(),
    );
    c.neg(
        "shell-required-variable",
        "deploy.sh",
        "export MYSQL_PASSWORD=\"${MYSQL_PASSWORD:?missing}\"\n".to_string(),
    );
    c.neg(
        "public-badge-token",
        "README.md",
        format!("[![codecov](https://codecov.io/gh/acme/widgets/graph/badge.svg?token={})](https://codecov.io/gh/acme/widgets)\n", r.s(BASE62, 10)),
    );
    c.neg(
        "xml-escaped-placeholder",
        "credentials.xml",
        "<secret>&lt;set-in-vault&gt;</secret>\n".to_string(),
    );
    c.neg(
        "dpapi-encrypted",
        "NuGet.Config",
        format!("<packageSourceCredentials>\n  <feed>\n    <add key=\"Username\" value=\"ci\" />\n    <add key=\"Password\" value=\"AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA{}\" />\n  </feed>\n</packageSourceCredentials>\n", r.s(B64, 120)),
    );
    c.neg(
        "service-account-template",
        "sa.json",
        format!("{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"\",\n  \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com\"\n}}\n", r.s(HEX, 40)),
    );
    c.neg(
        "leet-stand-in",
        "seed.py",
        "credentials = {\"username\": \"admin\", \"password\": \"P@55w0rd!\"}\n".to_string(),
    );
    // Hardhat's first development account, funded on every local chain.
    c.neg(
        "published-sample",
        "hardhat.config.js",
        format!(
            "module.exports = {{\n  networks: {{\n    hardhat: {{\n      accounts: [\"0x{}{}\"],\n    }},\n  }},\n}};\n",
            "ac0974bec39a17e36ba4a6b4d238ff94", "4bacb478cbed5efcae784d7bf4f2ff80"
        ),
    );
    // What standards and tutorials print for everyone to copy.
    c.neg(
        "published-sample",
        "auth.test.ts",
        format!(
            "// Example token from jwt.io\nconst token =\n  '{}.{}.{}';\n",
            ["eyJhbGciOiJIUzI1NiIsInR5", "cCI6IkpXVCJ9"].concat(),
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        ),
    );
    c.neg(
        "published-sample",
        "ed25519_test.go",
        "// RFC 8032 section 7.1, TEST 1\nvar test1Secret = \"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\"\n".to_string(),
    );
    c.neg(
        "sql-verifier",
        "roles.sql",
        format!(
            "ALTER ROLE app PASSWORD 'SCRAM-SHA-256$4096:{}${}:{}';\n",
            r.s(B64, 24),
            r.s(B64, 44),
            r.s(B64, 44)
        ),
    );
    c.neg(
        "published-sample",
        "calendar.js",
        "const calendar = new Calendar(el, {\n  schedulerLicenseKey: 'GPL-My-Project-Is-Open-Source',\n});\n"
            .to_string(),
    );
    c.neg(
        "bearer-path",
        "call_api.sh",
        "curl -sS -H \"Authorization: Bearer /etc/ssl/private/server.key\" https://api.acme.io/v1/status\n"
            .to_string(),
    );
    c.neg(
        "app-setting-path",
        "Web.config",
        "<appSettings>\n  <add key=\"LicenseKeyPath\" value=\"C:\\Licenses\\acme-enterprise.lic\" />\n</appSettings>\n".to_string(),
    );
    c.neg(
        "nested-provider-id",
        "appsettings.json",
        format!("{{\n  \"Heroku\": {{\n    \"AppId\": \"{}\",\n    \"Region\": \"eu\"\n  }}\n}}\n", r.uuid()),
    );
    c.neg(
        "i18n-escape",
        "messages_de.properties",
        "token.invalid=Ung\\u00fcltiges Token\npassword.weak=Passwort zu schwach\n".to_string(),
    );
    c.neg(
        "list-of-names",
        "builtins.py",
        "FUNCTIONS = ['ssh2_auth_password', 'ssh2_auth_pubkey_file', 'ssh2_connect']\n".to_string(),
    );
    c.neg("call-arguments", "unit1620.c", "  t1620_parse(\"user:password;options;more\", \"user\", \"password\",\n              \"options;more\");\n".to_string());
    c.neg(
        "hcl",
        "variables.tf",
        "variable \"db_password\" {\n  type      = string\n  sensitive = true\n}\n".to_string(),
    );
    c.neg(
        "nginx",
        "api.conf",
        "    proxy_set_header Authorization $http_authorization;\n    proxy_set_header X-Api-Key $api_key;\n"
            .to_string(),
    );
    c.neg("edn", "config.edn", " :partner-api-key (System/getenv \"PARTNER_API_KEY\")\n".to_string());
    c.neg(
        "sql",
        "migrate.sql",
        "UPDATE settings SET value = 'enabled' WHERE name = 'api_key_rotation';\n".to_string(),
    );
    // Encrypted at rest by a secrets-in-git tool: safe in a repository by design.
    c.neg(
        "encrypted-value",
        "secrets.json",
        format!(
            "{{\n  \"db_password\": \"ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]\"\n}}\n",
            r.s(B64, 24),
            r.s(B64, 44),
            r.s(B64, 24)
        ),
    );
    c.neg(
        "encrypted-value",
        "secrets.ejson",
        format!(
            "{{\n  \"stripe_secret_key\": \"EJ[1:{}:{}:{}]\"\n}}\n",
            r.s(B64, 44),
            r.s(B64, 32),
            r.s(B64, 40)
        ),
    );
    c.neg(
        "encrypted-value",
        ".env.production",
        format!("STRIPE_SECRET_KEY=\"encrypted:{}\"\n", r.s(B64, 120)),
    );
    c.neg(
        "encrypted-value",
        "application.yml",
        format!("spring:\n  datasource:\n    password: ENC({})\n", r.s(B64, 44)),
    );
    c.neg(
        "published-sample",
        "totp_test.py",
        "# RFC 6238 test secret\nSECRET_B32 = \"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\"\n".to_string(),
    );
    c.neg(
        "scram-verifier",
        "system.users.json",
        format!(
            "{{\"SCRAM-SHA-256\": {{\"iterationCount\": 15000, \"salt\": \"{}\",\n  \"storedKey\": \"{}=\",\n  \"serverKey\": \"{}=\"}}}}\n",
            r.s(B64, 40),
            r.s(B64, 43),
            r.s(B64, 43)
        ),
    );
    c.neg(
        "browser-key",
        "adyen.js",
        format!(
            "const checkout = await AdyenCheckout({{\n  clientKey: 'live_{}',\n}});\n",
            r.s(UPPER_ALNUM, 32)
        ),
    );
    c.neg("sql-column", "schema.sql", "create table users (\n  username varchar(50) not null,\n  password varchar(256),\n  enabled boolean\n);\n".to_string());
    c.neg(
        "key-path",
        "SslConfig.java",
        "bundle.setPrivateKey(\"classpath:tls/server-key.pem\");\n".to_string(),
    );
    c.neg(
        "published-sample",
        "oauth-notes.md",
        "RFC 6749 section 5.1:\n\n    \"access_token\":\"2YotnFZFEjr1zCsicMWpAA\",\n    \"refresh_token\":\"tGzv3JOkF0XG5Qx2TlKWIA\",\n".to_string(),
    );
    c.neg(
        "template-expression",
        "azuredeploy.json",
        "\"properties\": {\n  \"adminPassword\": \"[parameters('adminPassword')]\"\n}\n".to_string(),
    );
    c.neg(
        "browser-key",
        "checkout.html",
        format!("<script>Paddle.Initialize({{ token: 'live_{}' }});</script>\n", r.s(HEX, 27)),
    );
    c.neg(
        "git-config",
        "git-config-list.txt",
        format!(
            "user.signingkey={}\ncredential.https://dev.azure.com.usehttppath=true\n",
            r.s(HEX_UPPER, 16)
        ),
    );
    c.neg(
        "browser-key",
        "braintree.ts",
        format!(
            "export const BRAINTREE_TOKENIZATION_KEY = \"production_{}_{}\";\n",
            r.s(LOWER_ALNUM, 8),
            r.s(LOWER_ALNUM, 16)
        ),
    );
    c.neg(
        "browser-key",
        "search.ts",
        format!("export const ALGOLIA_SEARCH_ONLY_API_KEY = \"{}\";\n", r.s(HEX, 32)),
    );
    c.neg(
        "c-member",
        "conn.c",
        "  if(!strcmp(\"password\", conn->passwd) && data->set.str[STRING_PASSWORD])\n".to_string(),
    );
}
