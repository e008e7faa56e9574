//! Checks on a candidate secret after its regex matched: entropy, checksum, character
//! mix, stopwords, and the placeholders people write where a real secret would go.

use secretgate_patterns::Checksum;

/// Shannon entropy of `bytes`, in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    f64::from(entropy::shannon_entropy(bytes))
}

/// Keys a vendor or a standard prints for everyone to copy: they appear in countless
/// READMEs, tutorials and test suites and open nothing; a value holding one is the sample.
/// Keys with a vendor's prefix are written in pieces so that no scanner (ours included)
/// takes this file for a leak.
const PUBLISHED_EXAMPLES: &[&str] = &[
    // Stripe's API reference test keys.
    concat!("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc"),
    concat!("pk_", "test_", "TYooMQauvdEDq54NiTphI7jx"),
    concat!("sk_", "test_", "BQokikJOvBiI2HlWgH4olfQ2"),
    // BIP32's test vector 1 master private key.
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
    // The sample Secret Key of 1Password's security white paper.
    "A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB",
    // RFC 6749's sample access and refresh tokens, and RFC 7617's `Aladdin:open sesame`.
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    "YWxhZGRpbjpvcGVuc2VzYW1l",
    // The signatures of jwt.io's sample token and of RFC 7515's: a token holding one is
    // the sample.
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    // RFC 4226's and RFC 6238's HOTP/TOTP test secret ("12345678901234567890"), in base32.
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    // The example password of Rails' `has_secure_password` documentation.
    "mUc3m00RsqyRe",
    // Slack's documented example signing secret.
    "8f742231b10e8888abcd99yyyzzz85a5",
    // FullCalendar's licence keys for open-source and non-commercial use, from its docs.
    "GPL-My-Project-Is-Open-Source",
    "CC-Attribution-NonCommercial-NoDerivatives",
    // The secret keys of RFC 8032's Ed25519 test vectors (section 7.1, tests 1 to 3).
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    // The private keys of the first development accounts Hardhat and Anvil (Foundry) fund
    // on every local chain, printed at each start and known to every Ethereum developer.
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

/// Substrings (ASCII lower case) that mark a value as a placeholder rather than a secret.
/// Each is unlikely in a random token: a 5+ letter word, or markup no token alphabet has.
/// (`xxxx` is checked apart, case-sensitively: `xXXx` turns up in long random keys.)
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "sample",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "yoursecret",
    "yourpassword",
    // Microsoft's SQL Server container docs: `MSSQL_SA_PASSWORD=yourStrong(!)Password`.
    "yourstrong",
    "redacted",
    "filtered",
    "insert_",
    "replace_me",
    "replace-me",
    "replaceme",
    "{{",
    "{}",
    "****",
    "...",
    "\u{2026}",
];

/// Keyboard runs typed as fake values.
const KEYBOARD_RUNS: &[&str] = &["qwerty", "asdfgh", "zxcvbn"];

/// Whether `needle` occurs in `haystack`. The values judged here are mostly short, and
/// checked against dozens of words each: a plain scan of a short value beats building a
/// `memmem` searcher per word (a third of the time of reading a large CSV's password
/// column went there).
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    if haystack.len() > 256 {
        return memchr::memmem::find(haystack, needle).is_some();
    }
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// Whether `secret` looks like a stand-in for a secret: a marker word, one character
/// repeated, or a run of six sequential characters (`abcdef`, `123456`, `987654`).
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.is_empty() {
        return true;
    }
    if secret.iter().all(|&b| b == secret[0]) {
        return true;
    }
    // A long random value (a PEM body) holds `XXXX` by chance now and then; a stand-in
    // for one is a longer run.
    let x_run: &[&[u8]] = if secret.len() > 64 { &[b"xxxxxxxx", b"XXXXXXXX"] } else { &[b"xxxx", b"XXXX"] };
    if x_run.iter().any(|run| holds(secret, run)) {
        return true;
    }
    // A template's variable standing for the whole value: `{password}`, `{api_token}`; a
    // word in brackets says what goes there: `(whatever)`, `[password]`.
    let bracketed = |open: &[u8], close: &[u8]| {
        secret.strip_prefix(open).and_then(|rest| rest.strip_suffix(close)).is_some_and(is_plain_name)
    };
    if bracketed(b"{", b"}") || bracketed(b"(", b")") || bracketed(b"[", b"]") {
        return true;
    }
    if is_encrypted_envelope(secret) {
        return true;
    }
    let published = |example: &&str| holds(secret, example.as_bytes());
    if PUBLISHED_EXAMPLES.iter().any(published) || fails_its_checksum(secret) {
        return true;
    }
    // A body of one character repeated behind a real prefix (`ghp_000…`, `NRAK-fff…`):
    // twelve in a row do not happen by chance. Runs of `A` are base64's zero bytes (DER
    // headers, Twitter's bearer tokens) and stay.
    let repeated = |w: &[u8]| w[0] != b'A' && w[0].is_ascii_alphanumeric() && w.iter().all(|&b| b == w[0]);
    if secret.windows(12).any(repeated) {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    let contains = |needle: &str| holds(&lower, needle.as_bytes());
    if PLACEHOLDER_MARKERS.iter().any(|m| contains(m))
        || KEYBOARD_RUNS.iter().any(|m| contains(m))
        || spells_password(&lower)
    {
        return true;
    }
    (secret.contains(&b':') && is_stand_in_pair(secret))
        || is_word_list(secret)
        || has_template_slot(secret)
        || has_sequential_run(&lower, 6)
        || has_interleaved_runs(&lower)
        || is_encoded_placeholder(secret)
}

/// Whether `lower` spells "password" with letters swapped for look-alikes, as fixtures and
/// docs write a stand-in (`P@ssw0rd!`, `Pa55worD`, `p4ssworm`): the word itself is a
/// rule's stopword already.
fn spells_password(lower: &[u8]) -> bool {
    let like = |b: u8, set: &[u8]| set.contains(&b);
    lower.windows(7).any(|w| {
        w[0] == b'p'
            && like(w[1], b"a@4")
            && like(w[2], b"s5$3z")
            && like(w[3], b"s5$3z")
            && w[4] == b'w'
            && like(w[5], b"o0")
            && w[6] == b'r'
    })
}

/// How secrets-in-git tools write an encrypted value: SOPS (`ENC[AES256_GCM,data:…]`),
/// EJSON (`EJ[1:…]`), dotenvx (`encrypted:…`), Jasypt (`ENC(…)`), Spring Cloud Config
/// (`{cipher}…`), Vault's transit engine (`vault:v1:…`), Ansible Vault, AWS KMS ciphertext
/// blobs (base64 of their version header, `AQICAH…`), Windows DPAPI blobs (in base64 or
/// hex), Bitnami SealedSecrets (below). Such a value is
/// safe in a repository by design: the key that opens it is kept elsewhere.
const ENCRYPTED_ENVELOPES: &[&str] = &[
    "ENC[",
    "EJ[1:",
    "encrypted:",
    "ENC(",
    "{cipher}",
    "vault:v1:",
    "$ANSIBLE_VAULT;",
    "AQICAH",
    "AQECAH",
    // Windows DPAPI's blob header in base64 (NuGet's `Password`, PowerShell's
    // `ConvertFrom-SecureString`): only the same user on the same machine opens it.
    "AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA",
    "01000000d08c9ddf0115d1118c7a00c04fc297eb",
];

/// Whether `secret` is an encrypted value in one of [`ENCRYPTED_ENVELOPES`], or a Bitnami
/// SealedSecret's `encryptedData` value: base64 of a 2-byte length of the RSA-encrypted
/// session key (256 or 512 bytes: `0x01 0x00` or `0x02 0x00`, so `AQ` or `Ag` and `A`-`D`),
/// the key, then the AES-GCM ciphertext, hundreds of characters long. A random base64
/// secret of 300+ characters opens that way once in a thousand.
fn is_encrypted_envelope(secret: &[u8]) -> bool {
    let sealed_secret = secret.len() >= 300
        && (secret.starts_with(b"Ag") || secret.starts_with(b"AQ"))
        && matches!(secret[2], b'A'..=b'D')
        && secret.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    sealed_secret || ENCRYPTED_ENVELOPES.iter().any(|envelope| secret.starts_with(envelope.as_bytes()))
}

/// Passwords that stand for "a password goes here" when a whole credential is written
/// out, as in `username:password`.
const STAND_IN_PASSWORDS: &[&str] = &[
    "password", "passwd", "pass", "secret", "admin", "root", "test", "user", "username", "guest", "postgres",
    "mysql", "changeit",
];

/// The password of a `user:password` pair, or the whole value.
fn password_of_pair(value: &[u8]) -> &[u8] {
    value.iter().position(|&b| b == b':').map_or(value, |colon| &value[colon + 1..])
}

/// Whether `value` is a stand-in password, alone or in a pair: `user:pass`, `admin`.
fn is_stand_in_pair(value: &[u8]) -> bool {
    let password = password_of_pair(value);
    STAND_IN_PASSWORDS.iter().any(|word| password.eq_ignore_ascii_case(word.as_bytes()))
}

/// Whether `value` is a list of lower-case words (`lib,link`, `loggedin|twosock`), as a
/// shell comparison or a set of options writes them: no password is made that way.
fn is_word_list(value: &[u8]) -> bool {
    let separator = |b: &u8| *b == b',' || *b == b'|';
    value.iter().any(separator)
        && value.split(separator).all(|word| word.len() >= 2 && word.iter().all(u8::is_ascii_lowercase))
}

/// Whether `secret` is base64 of a placeholder, as Kubernetes Secret data and Basic
/// authorization headers write values: `Y2hhbmdlbWU=` (`changeme`),
/// `dXNlcm5hbWU6cGFzc3dvcmQ=` (`username:password`).
fn is_encoded_placeholder(secret: &[u8]) -> bool {
    let base64_shaped = (8..=256).contains(&secret.len())
        && secret.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='));
    let mut decoded = Vec::new();
    if !base64_shaped || !crate::decode::base64::decode(secret, &mut decoded) {
        return false;
    }
    let password = password_of_pair(&decoded);
    let stand_in = is_stand_in_pair(&decoded);
    // The name of the variable that would hold it: `QUNDRVNTX0tFWQ0K` is `ACCESS_KEY\r\n`.
    let name = password.trim_ascii();
    let variable_name = name.first().is_some_and(u8::is_ascii_uppercase)
        && name.contains(&b'_')
        && name.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if variable_name {
        return true;
    }
    // Each decoding shortens the text by a quarter: the check of the decoded text ends.
    stand_in || is_placeholder(&decoded)
}

/// Whether `lower` is typed as an obviously fake key by counting up in letters and digits:
/// letter and digit in turn (`a1b2c3d4`, `1a2b3c4d`), or in blocks (`ABCD1234EFGH5678…`:
/// its letters alone run `abcdefgh…`, its digits `12345678`). Neither happens by chance:
/// hex has only six letters, and a run of seven in a random key is rarer than one in a
/// million.
fn has_interleaved_runs(lower: &[u8]) -> bool {
    let steps_up = |a: u8, b: u8| b == a + 1 || (a == b'9' && b == b'0') || (a == b'z' && b == b'a');
    // Letter and digit in turn, each counting up: 8 characters or more.
    let mut run = 1;
    for i in 2..lower.len() {
        let (a, b) = (lower[i - 2], lower[i]);
        let alternates = lower[i - 1].is_ascii_digit() != b.is_ascii_digit() && a.is_ascii_alphanumeric();
        run = if alternates && steps_up(a, b) { run + 1 } else { 1 };
        if run >= 7 {
            return true;
        }
    }
    let letters: Vec<u8> = lower.iter().copied().filter(u8::is_ascii_alphabetic).collect();
    let digits: Vec<u8> = lower.iter().copied().filter(u8::is_ascii_digit).collect();
    has_sequential_run(&letters, 7) && has_sequential_run(&digits, 4)
}

/// Whether `value` holds a slot a template or shell fills in: `${name}`, `#{name}`,
/// `$(name)`, `((name))`, `%(name)s`, `<your-token>`, or a `%s` / `%d` that a format string replaces. A random
/// password can hold `$(` or `%s` by chance (`…i$(xrg#b7k…`, `…$8%s0kjj…`: Django's key
/// alphabet has both), so the slot must read as one: a name closed by its bracket, or a
/// conversion that no letter or digit follows.
fn has_template_slot(value: &[u8]) -> bool {
    // `${VAR:-default}`, `#{secrets['x']}`, `$(cat file)`, `%(name)s`: a name first, then
    // only what such a slot holds up to its closing bracket.
    let name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.');
    let slot = |after: &[u8], close: u8, holds: &dyn Fn(u8) -> bool| {
        after.first().is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
            && memchr::memchr(close, after).is_some_and(|end| after[..end].iter().all(|&b| holds(b)))
    };
    // A `${…}` or `#{…}` slot that the match cut off before its brace (value classes
    // stop at `}`: `#{Acme.ApiKey` from `value="#{Acme.ApiKey}"`) runs to the value's end.
    let cut_slot = |after: &[u8]| {
        after.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_') && after.iter().all(|&b| name(b))
    };
    // A conversion (`%s`) fills in text: `Bearer %s`, `%s:%s`, `user-%d`. A random key's
    // alphabet (Django's) has `%`, letters and the symbols around them by chance.
    let text_like = value.iter().all(|&b| b.is_ascii_alphanumeric() || b" _-./:=?&@,+%".contains(&b));
    let expansion =
        |b: u8| name(b) || matches!(b, b'-' | b':' | b'?' | b'=' | b'/' | b' ' | b'\'' | b'"' | b'[' | b']');
    let command = |b: u8| name(b) || matches!(b, b'-' | b'/' | b' ');
    value.windows(2).enumerate().any(|(at, pair)| {
        let after = &value[at + 2..];
        match pair {
            b"${" | b"#{" => slot(after, b'}', &expansion) || cut_slot(after) || after.starts_with(b"{"),
            b"$(" => slot(after, b')', &command),
            // `<set-in-vault>` written in XML text: `&lt;set-in-vault&gt;`.
            b"&l" if after.starts_with(b"t;") => {
                let inside = &after[2..];
                inside.first().is_some_and(u8::is_ascii_alphabetic)
                    && memchr::memmem::find(inside, b"&gt;").is_some_and(|end| {
                        inside[..end]
                            .iter()
                            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ' | b'.'))
                    })
            }
            // Concourse's `((github-deploy-key))`, `((vault.token))`.
            b"((" => {
                slot(after, b')', &|b| name(b) || b == b'-')
                    && memchr::memchr(b')', after).is_some_and(|end| after.get(end + 1) == Some(&b')'))
            }
            b"%(" => slot(after, b')', &name),
            [b'%', b's' | b'd'] => {
                text_like && !after.first().is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
            }
            // `<your-token>`, `<API KEY>`, `<insert token here>`; not `<kM>` in a generated
            // key whose alphabet holds `<` and `>` (WordPress salts): a slot's words are
            // written in one case, or capitalised.
            [b'<', first] if first.is_ascii_alphabetic() => {
                slot(&value[at + 1..], b'>', &|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ' | b'.')
                }) && value[at + 1..].split(|&b| b == b'>').next().is_some_and(|slot| {
                    slot.split(|b| matches!(b, b'_' | b'-' | b' ' | b'.')).all(reads_as_one_case)
                })
            }
            _ => false,
        }
    })
}

/// Whether a word is written in one case (`token`, `API`) or capitalised (`Token`).
fn reads_as_one_case(word: &[u8]) -> bool {
    let rest = word.get(1..).unwrap_or_default();
    !rest.iter().any(u8::is_ascii_uppercase) || !word.iter().any(u8::is_ascii_lowercase)
}

/// Whether `value` points at a value kept elsewhere instead of being one: a variable
/// reference (`$DB_PASS`, `$$DB_PASS`, `$env:TOKEN`, `%APPDATA%`, `@db_pass`, YAML's
/// `&anchor` and `*alias`, `#name`), a value that opens with a brace (`{x}`, JSON), or a
/// crypt-style password hash (`$2b$12$…`, `$argon2id$…`), which stores no password.
/// Template slots (`${X}`, `$(X)`, `%(x)s`) are placeholders already. A random secret may
/// start with the same sigils (`#xs@h2yeppz!^…`, `&@JWZJtZ7r…`): only a name after the
/// sigil, running to the end or into a member access, makes a reference.
pub fn is_reference(value: &[u8]) -> bool {
    if is_template_token(value) {
        return true;
    }
    let Some((&sigil, rest)) = value.split_first() else { return false };
    let rest = if sigil == b'$' { rest.strip_prefix(b"$").unwrap_or(rest) } else { rest };
    let name_len = if rest.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_') {
        rest.iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_').count()
    } else {
        0
    };
    let after_name = &rest[name_len..];
    // `$this->password`, `$env:TOKEN`, `$config.db`, `$secrets[0]`; YAML's aliases and
    // decorators name the whole value, or a member of it. A value class that stops only
    // at spaces takes the brackets that close around a variable (`(htpasswd … $PWD)`).
    let closers = (1..=3).contains(&after_name.len()) && after_name.iter().all(|b| b")];,}\"'`".contains(b));
    let variable = name_len > 0
        && (after_name.is_empty()
            || matches!(after_name[0], b'.' | b':' | b'[')
            || after_name.starts_with(b"->")
            || (sigil == b'$' && closers));
    let alias =
        name_len > 0 && (after_name.is_empty() || after_name[0] == b'.') && reads_as_name(&rest[..name_len]);
    match sigil {
        b'{' => true,
        b'$' => {
            let crypt_id = rest.iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-').count();
            variable || ((1..=12).contains(&crypt_id) && rest.get(crypt_id) == Some(&b'$'))
        }
        // `%APPDATA%`; `%{hiera('token')}`, `%{lookup('x')}`, `%{::fqdn}`: Puppet's
        // interpolation (a value class may stop at its quote: `%{hiera(`).
        b'%' => {
            let puppet = rest.strip_prefix(b"{").is_some_and(|inner| {
                inner.starts_with(b"::") || inner.iter().take_while(|b| b.is_ascii_lowercase()).count() >= 3
            });
            (name_len > 0 && after_name == b"%") || puppet
        }
        b'#' => name_len > 0 && after_name.is_empty(),
        b'@' | b'&' | b'*' => alias,
        _ => false,
    }
}

/// Whether `value` is a regular expression, as code that detects or validates tokens keeps
/// them under a token's name (`slack_token: 'xox[baprs]-[0-9A-Za-z-]{10,72}'`): a
/// character class with a range (`[0-9`, `[A-Za-z`), a repetition count after a class or
/// group (`]{10,72}`, `){2}`), an escape class (`\d`, `\w`) or a group's flags (`(?:`).
/// A random password may hold a bracket or a brace, but not these in sequence.
pub fn looks_like_regex(value: &[u8]) -> bool {
    // The ranges regexes use (`[0-9`, `[a-z`, `[A-F`), not any `[x-y` a random value holds.
    let class_range = value.windows(4).any(|w| {
        w[0] == b'['
            && w[2] == b'-'
            && matches!((w[1], w[3]), (b'0', b'9') | (b'a', b'z' | b'f') | (b'A', b'Z' | b'F'))
    });
    // A count closed as a count: `]{10,72}`, `){2}`.
    let counted = value.windows(2).enumerate().any(|(at, w)| {
        matches!(w[0], b']' | b')') && w[1] == b'{' && {
            let digits = value[at + 2..].iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0 && matches!(value.get(at + 2 + digits), Some(b'}' | b','))
        }
    });
    let escape_class = value.windows(2).any(|w| w[0] == b'\\' && matches!(w[1], b'd' | b'w' | b's' | b'b'));
    let group =
        memchr::memmem::find(value, b"(?:").is_some() || memchr::memmem::find(value, b"(?i)").is_some();
    class_range || counted || (escape_class && value.iter().any(|b| matches!(b, b'+' | b'*' | b'{'))) || group
}

/// Whether `value` is a token that a deployment step replaces with the secret:
/// `__HEROKU_API_KEY__`, `#{DbPassword}#`, `@@DB_PASSWORD@@` (Azure DevOps' and Octopus'
/// token replacement, release scripts). A name between the same two marks, doubled.
fn is_template_token(value: &[u8]) -> bool {
    [(&b"__"[..], &b"__"[..]), (b"#{", b"}#"), (b"@@", b"@@"), (b"##", b"##")].iter().any(|(open, close)| {
        value.strip_prefix(*open).and_then(|inner| inner.strip_suffix(*close)).is_some_and(|name| {
            name.first().is_some_and(u8::is_ascii_alphabetic)
                && name.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                && is_named_in_words(name)
        })
    })
}

/// Whether a template token's `name` is made of words (`HEROKU_API_KEY`, `DbPassword`,
/// `SMTP_PASS`): each piece of three letters or more a word or a short acronym, digits at
/// most four in a row, and one such piece at least. Random text between the marks
/// (`__k9x2mq7vz4__`) cuts into scraps.
fn is_named_in_words(name: &[u8]) -> bool {
    let mut worded = false;
    for (_, piece) in pieces(name) {
        if piece[0].is_ascii_digit() {
            if piece.len() > 4 {
                return false;
            }
        } else if piece.len() >= 3 {
            let acronym = piece.len() <= 5 && piece.iter().all(u8::is_ascii_uppercase);
            if !acronym && !is_word(piece) {
                return false;
            }
            worded = true;
        }
    }
    worded
}

/// Whether `value` is an OpenPGP key id or fingerprint as git's `user.signingkey` takes
/// it: 8, 16 or 40 hex digits, maybe `0x` before and `!` after.
pub fn is_key_id(value: &[u8]) -> bool {
    let value = value.strip_prefix(b"0x").unwrap_or(value);
    let value = value.strip_suffix(b"!").unwrap_or(value);
    matches!(value.len(), 8 | 16 | 40) && value.iter().all(u8::is_ascii_hexdigit)
}

/// Whether `name` reads as a name a person gave: one case (`db_password`, `DB_PASSWORD`),
/// camel case with a capital or two (`dbPassword`), or words, acronyms and numbers
/// (`X25519PrivateKey`, `MLKEM768Key`) with at most one scrap of one or two letters.
/// Random text mixes cases throughout (`vyxULTsxPiwZN2Tm`, `w1NHJcQm0TzQScB`) and puts
/// digits between letters more than once.
fn reads_as_name(name: &[u8]) -> bool {
    let upper = name.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = name.iter().filter(|b| b.is_ascii_lowercase()).count();
    if upper == 0 || lower == 0 {
        return true;
    }
    // Numbers inside names come one at a time (`sha256Sum`, `utf8Decoder`); random text
    // scatters digits between letters (`mHsC8v0f`).
    let inner_numbers = name
        .windows(2)
        .enumerate()
        .filter(|(at, w)| {
            // The end of a run of digits that a letter precedes and a letter follows.
            w[0].is_ascii_digit()
                && w[1].is_ascii_alphabetic()
                && name[..*at].iter().rev().find(|b| !b.is_ascii_digit()).is_some_and(u8::is_ascii_alphabetic)
        })
        .count();
    if inner_numbers > 1 {
        return false;
    }
    if upper <= 2 {
        return true;
    }
    let (mut words, mut scraps) = (0, 0);
    for (_, piece) in pieces(name) {
        if piece[0].is_ascii_digit() || (piece.len() <= 5 && piece.iter().all(u8::is_ascii_uppercase)) {
            continue;
        }
        if !is_word(piece) && piece.len() > 2 {
            return false;
        }
        if piece.len() <= 2 {
            scraps += 1;
        } else if piece.len() >= 4 {
            words += 1;
        }
    }
    words >= 1 && scraps <= 1
}

/// Whether `value` is a member path (`config.password`, `Settings::API_KEY`,
/// `$this->secret`): names joined by `.`, `::` or `->`, maybe called at the end. Each
/// part must read as a name: a random password may hold a dot (`MovvAode.w1NHJcQm0TzQ`).
pub fn is_member_path(value: &[u8]) -> bool {
    let value = value.strip_suffix(b"()").unwrap_or(value);
    let (mut parts, mut odd_parts, mut lower_parts) = (0, 0, 0);
    let mut rest = value;
    loop {
        let len = rest.iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_').count();
        let part = &rest[..len];
        if !is_plain_name(part) {
            return false;
        }
        if !reads_as_name(part) {
            odd_parts += 1;
        }
        if part.len() >= 3 && !part.iter().any(u8::is_ascii_uppercase) {
            lower_parts += 1;
        }
        parts += 1;
        rest = &rest[len..];
        if rest.is_empty() {
            // Every part a name, or a module path around an odd one
            // (`rust_openssl.hpke.MLKEM768X25519PrivateKey`).
            return parts >= 2 && (odd_parts == 0 || lower_parts >= 2);
        }
        rest = match [&b"."[..], b"::", b"->"].iter().find(|sep| rest.starts_with(sep)) {
            Some(sep) => &rest[sep.len()..],
            None => return false,
        };
    }
}

/// Whether `value` is a UUID (`550e8400-e29b-41d4-a716-446655440000`): an id, not a key.
pub fn is_uuid(value: &[u8]) -> bool {
    let groups: Vec<&[u8]> = value.split(|&b| b == b'-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.iter().all(u8::is_ascii_hexdigit))
}

/// Whether `value` is a ULID: 26 characters of Crockford's base32 whose first ten are a
/// time in milliseconds, here between 2015 and 2100 (`01HSZSQ33TVA9NC9ZTM0QQQ5R8`). An
/// identifier, sortable by time; a random key of that shape has a time of any year.
pub fn is_ulid(value: &[u8]) -> bool {
    const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if value.len() != 26 {
        return false;
    }
    let mut digits = value.iter().map(|b| CROCKFORD.iter().position(|c| c == b));
    let mut millis: u64 = 0;
    for digit in digits.by_ref().take(10) {
        let Some(digit) = digit else { return false };
        millis = millis * 32 + digit as u64;
    }
    (1_420_070_400_000..4_102_444_800_000).contains(&millis) && digits.all(|d| d.is_some())
}

/// Whether `value` is a stored password hash in a framework's format (Django's
/// `pbkdf2_sha256$600000$salt$hash`, Werkzeug's `scrypt:32768:8:1$salt$hash`): it keeps no
/// password.
pub fn is_password_hash(value: &[u8]) -> bool {
    const ALGORITHMS: &[&[u8]] = &[
        b"pbkdf2_sha256$",
        b"pbkdf2_sha1$",
        b"pbkdf2:sha256:",
        b"argon2$",
        b"bcrypt_sha256$",
        b"bcrypt$",
        b"scrypt$",
        b"scrypt:",
        b"sha1$",
        b"md5$",
        b"unsalted_md5$",
        b"unsalted_sha1$",
    ];
    ALGORITHMS.iter().any(|prefix| value.starts_with(prefix))
}

/// Whether `value` is a file system path (`/etc/ssl/private/server.key`, `~/.ssh/id_rsa`,
/// `../secrets/token`, `/var/run/docker/netns/3df878d8ed31`) rather than a secret that
/// happens to open with `/`, as one base64 key in 64 does (`/4EI3NF1mcAGkDcw…`): no `+`
/// or `=`, and each part [`reads_as_name`].
pub fn looks_like_path(value: &[u8]) -> bool {
    let rooted = [&b"/"[..], b"~/", b"./", b"../"].iter().any(|root| value.starts_with(root));
    let parts: Vec<&[u8]> = value.split(|&b| b == b'/').filter(|part| !part.is_empty()).collect();
    // `prod/orders/api-key` (a secret manager's name for a secret) is a path too, and so
    // is `prod/oauth` (AWS's `SecretId`) when both parts are lower-case words: a password
    // of two parts mixes cases or symbols (`Xk9q/Lm2v`).
    let lower_word = |part: &&[u8]| {
        part.len() >= 2
            && part[0].is_ascii_lowercase()
            && part.iter().all(|&b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
    };
    let two_words = parts.len() == 2 && parts.iter().all(lower_word);
    // `checkout/API_KEY_REVOKED`: a Redux action type, a slice's name and a constant's.
    let constant = |part: &[u8]| {
        part.len() >= 3
            && part[0].is_ascii_uppercase()
            && part.contains(&b'_')
            && part.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    if !rooted && parts.len() == 2 && lower_word(&parts[0]) && constant(parts[1]) {
        return true;
    }
    // `urn:ietf:params:oauth:grant-type:jwt-bearer`: a URN names a thing.
    if value.len() > 4 && value[..4].eq_ignore_ascii_case(b"urn:") {
        let rest = &value[4..];
        let namespace = rest.iter().position(|&b| b == b':').map(|colon| &rest[..colon]);
        if namespace
            .is_some_and(|ns| !ns.is_empty() && ns.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return true;
        }
    }
    // One part after the root reads as a directory or a route (`/data`, `/Users`,
    // `/healthz`), not as a password that happens to open with a slash (`/toXhwim7`).
    let one_word = |part: &[u8]| {
        part.iter().skip(1).all(|&b| !b.is_ascii_uppercase())
            && (part[0].is_ascii_lowercase() || !part.iter().any(u8::is_ascii_digit))
    };
    if rooted && parts.len() == 1 && !one_word(parts[0]) {
        return false;
    }
    (rooted || parts.len() >= 3 || two_words)
        && !value.iter().any(|&b| b == b'+' || b == b'=')
        && parts.iter().all(|part| reads_as_name(part))
}

/// Whether `value` is published by design wherever it is assigned: a Mapbox public token
/// (`pk.eyJ…`; its secret tokens are `sk.`), a Stripe publishable key, a PostHog project
/// key (`phc_`), a New Relic browser key (`NRJS-`), a Datadog browser
/// client token (`pub` and 32 hex digits), an Amazon identifier (`amzn1.account.…`), an
/// unsigned JWT (a sample), or an Ethereum account address (`0x` and 40 hex
/// digits; a private key has 64).
pub fn is_public_value(value: &[u8]) -> bool {
    // A JWT's header and payload without a signature: a sample, not a credential (a
    // whole token is the JWT rule's).
    // So is one whose signature is empty (`alg: none`, as forged in a write-up).
    let dots = value.iter().filter(|&&b| b == b'.').count();
    let unsigned_jwt = value.starts_with(b"eyJ") && (dots == 1 || (dots == 2 && value.ends_with(b".")));
    // Braintree's tokenization keys (`production_<8>_<16>`) are made for the browser.
    let braintree_tokenization_key = [&b"production_"[..], b"sandbox_"].iter().any(|prefix| {
        value.strip_prefix(*prefix).is_some_and(|rest| {
            rest.len() == 25
                && rest[8] == b'_'
                && rest
                    .iter()
                    .enumerate()
                    .all(|(at, &b)| at == 8 || b.is_ascii_lowercase() || b.is_ascii_digit())
        })
    });
    // Paddle's client-side tokens (`live_`/`test_` and 27 hex digits) go into checkout pages.
    let paddle_client_token = value.len() == 32
        && (value.starts_with(b"live_") || value.starts_with(b"test_"))
        && value[5..].iter().all(u8::is_ascii_hexdigit);
    let datadog_client_token =
        value.len() == 35 && value.starts_with(b"pub") && value[3..].iter().all(u8::is_ascii_hexdigit);
    // The Azure storage emulator's account key, published for local use.
    let azurite = value.starts_with(b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq")
        && value.ends_with(b"/K1SZFPTOtr/KBHBeksoGMGw==");
    datadog_client_token
        || azurite
        || unsigned_jwt
        || paddle_client_token
        || braintree_tokenization_key
        || is_certificate_signed_jwt(value)
        || value.starts_with(b"amzn1.")
        // PostHog's project key, New Relic's browser key and Mailgun's validation key go
        // into every page that uses them.
        || (value.starts_with(b"phc_") && value.len() > 20)
        || (value.len() == 39 && value.starts_with(b"pubkey-") && value[7..].iter().all(u8::is_ascii_hexdigit))
        || is_anonymous_role_jwt(value)
        || ((value.starts_with(b"NRJS-") || value.starts_with(b"NRBR-")) && value.len() == 24)
        || value.starts_with(b"pk.eyJ")
        || value.starts_with(b"pk_live_")
        || value.starts_with(b"pk_test_")
        || (value.len() == 42 && value.starts_with(b"0x") && value[2..].iter().all(u8::is_ascii_hexdigit))
}

/// Whether `value` is a JWT signed under a certificate chain its header carries (`x5c`):
/// a signed statement anyone may verify (an App Store notification, a device attestation),
/// not a bearer credential.
fn is_certificate_signed_jwt(value: &[u8]) -> bool {
    if !value.starts_with(b"eyJ") {
        return false;
    }
    let header = value.split(|&b| b == b'.').next().unwrap_or_default();
    let mut decoded = Vec::new();
    header.len() <= 16 * 1024
        && crate::decode::base64::decode(header, &mut decoded)
        && memchr::memmem::find(&decoded, b"\"x5c\"").is_some()
}

/// Whether `value` is a signed JWT whose claims give the anonymous role: Supabase's anon
/// key (and PostgREST's), which every browser client is given. Its `service_role` sibling
/// is a secret.
fn is_anonymous_role_jwt(value: &[u8]) -> bool {
    // Runs for every rule's secrets: split without collecting.
    let mut parts = value.split(|&b| b == b'.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let mut decoded = Vec::new();
    header.starts_with(b"eyJ")
        && claims.starts_with(b"eyJ")
        && !signature.is_empty()
        && crate::decode::base64::decode(claims, &mut decoded)
        && [&b"\"role\":\"anon\""[..], b"\"role\": \"anon\""]
            .iter()
            .any(|role| memchr::memmem::find(&decoded, role).is_some())
}

/// Whether `bytes` holds `len` alphanumeric characters in a row that each step up by one,
/// or each step down by one.
fn has_sequential_run(bytes: &[u8], len: usize) -> bool {
    let (mut up, mut down) = (1, 1);
    for pair in bytes.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let both_alnum = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
        up = if both_alnum && b == a.wrapping_add(1) { up + 1 } else { 1 };
        down = if both_alnum && a == b.wrapping_add(1) { down + 1 } else { 1 };
        if up >= len || down >= len {
            return true;
        }
    }
    false
}

/// Whether `secret` is 16 or more letters whose capitals make up 30-70% of them: random
/// text of both cases. CamelCase names capitalise only each word's first letter (~20%
/// in `SecurityGroupForVpcs`), upper-case constants every letter.
pub fn mixes_cases_at_random(secret: &[u8]) -> bool {
    let letters = secret.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let upper = secret.iter().filter(|b| b.is_ascii_uppercase()).count();
    letters >= 16 && (letters * 3..=letters * 7).contains(&(upper * 10))
}

/// How many of the classes letters, digits and symbols occur in `secret`. `_`, `-` and
/// `.` are not symbols here: they join the words of identifiers (`user_password_field`).
/// With `cases_apart`, letters count twice when both cases occur at least twice: a random
/// password of letters alone (`LISyOXPuFnBYPJMW`) is as mixed as one with a digit, while a
/// capitalised word (`Password`) is not. Generic rules keep letters as one class: a value
/// of letters alone assigned to a name is far more often a CamelCase identifier
/// (`WorkspacesConnectionStatus`) than a password.
pub fn char_classes(secret: &[u8], cases_apart: bool) -> u8 {
    let (mut upper, mut lower, mut digit, mut symbol) = (0usize, 0usize, false, false);
    for &b in secret {
        match b {
            b'A'..=b'Z' => upper += 1,
            b'a'..=b'z' => lower += 1,
            b'0'..=b'9' => digit = true,
            b'_' | b'-' | b'.' => {}
            _ => symbol = true,
        }
    }
    let letters = match (upper, lower) {
        (0, 0) => 0,
        (u, l) if cases_apart && u >= 2 && l >= 2 => 2,
        _ => 1,
    };
    letters + digit as u8 + symbol as u8
}

/// Words that name things, give instructions or stand in for a value: a value of
/// lower-case words holding one names a resource or a reference (`prod-db-password`,
/// `app-tls-secret`, `vault-kv-store`) or asks for a value (`enter-your-token-here`), and
/// is no passphrase. The words people and generators pick for passphrases (diceware lists,
/// `lucky-panda-velvet`) are ordinary nouns and adjectives.
const NAME_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "from",
    "into",
    "are",
    "was",
    "not",
    "yes",
    "your",
    "our",
    "their",
    "his",
    "her",
    "its",
    "this",
    "that",
    "these",
    "those",
    "here",
    "there",
    "you",
    "please",
    "enter",
    "type",
    "paste",
    "put",
    "insert",
    "replace",
    "change",
    "set",
    "use",
    "see",
    "get",
    "fill",
    "add",
    "update",
    "generate",
    "generated",
    "create",
    "random",
    "string",
    "some",
    "any",
    "example",
    "sample",
    "dummy",
    "fake",
    "mock",
    "test",
    "testing",
    "tests",
    "demo",
    "placeholder",
    "default",
    "value",
    "values",
    "secret",
    "secrets",
    "password",
    "passwords",
    "passwd",
    "pass",
    "passphrase",
    "token",
    "tokens",
    "key",
    "keys",
    "cert",
    "certs",
    "certificate",
    "tls",
    "ssl",
    "ssh",
    "gpg",
    "pgp",
    "auth",
    "oauth",
    "login",
    "user",
    "users",
    "admin",
    "root",
    "guest",
    "name",
    "names",
    "ref",
    "reference",
    "config",
    "configuration",
    "settings",
    "setting",
    "env",
    "environment",
    "var",
    "variable",
    "file",
    "files",
    "path",
    "dir",
    "local",
    "localhost",
    "dev",
    "develop",
    "development",
    "stage",
    "staging",
    "prod",
    "production",
    "live",
    "uat",
    "app",
    "application",
    "apps",
    "api",
    "apis",
    "service",
    "services",
    "svc",
    "server",
    "client",
    "database",
    "sql",
    "data",
    "store",
    "storage",
    "bucket",
    "queue",
    "topic",
    "cluster",
    "node",
    "pod",
    "namespace",
    "deployment",
    "vault",
    "kms",
    "aws",
    "gcp",
    "azure",
    "git",
    "github",
    "gitlab",
    "docker",
    "kube",
    "kubernetes",
    "helm",
    "redis",
    "postgres",
    "postgresql",
    "mysql",
    "mongo",
    "mongodb",
    "kafka",
    "rabbit",
    "rabbitmq",
    "elastic",
    "smtp",
    "mail",
    "email",
    "http",
    "https",
    "www",
    "com",
    "org",
    "net",
    "internal",
    "external",
    "public",
    "private",
    "primary",
    "secondary",
    "master",
    "main",
    "backup",
    "read",
    "write",
    "only",
    "new",
    "old",
    "temp",
    "tmp",
    "cache",
    "access",
    "account",
    "role",
    "policy",
    "group",
    "credential",
    "credentials",
    "super",
    "very",
    "long",
    "short",
    "strong",
    "weak",
    "simple",
    "real",
    "todo",
    "fixme",
    "changeme",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "unknown",
    "empty",
    "blank",
    "hidden",
    "redacted",
    "masked",
    "encrypted",
    "hash",
    "salt",
    "signing",
    "encryption",
    "session",
    "jwt",
    "bearer",
    "basic",
    "digest",
    "hmac",
    "sha",
    "md5",
    "rsa",
    "integration",
    "webhook",
    "hook",
    "callback",
    "endpoint",
    "url",
    "uri",
    "host",
    "port",
    "region",
    "zone",
    "horse",
    "battery",
    "staple",
];

/// Whether `secret` is a password made of words, which the checks for names and randomness
/// would drop: words and a number as people make them ([`is_words_and_number`]), a
/// passphrase run together ([`is_run_together_passphrase`]), or a passphrase of three to
/// six distinct lower-case words of 3-10 letters,
/// pronounceable, joined by one kind of separator (space, `-`, `_` or `.`), none of them
/// [`NAME_WORDS`] (`lucky-panda-velvet`, `happy badger tiger meadow`,
/// `crystal_lotus_marble`, `ribbon.autumn.carbon`). Such a value has one character class
/// and reads as words, so the checks for names and randomness would drop it; its strength
/// is in the number of words, not in the letters.
///
/// Password managers join the words of a generated passphrase with any of the four, but
/// `_` and `.` also join the words of names and member chains (`password_reset_form`,
/// `self.cipher.decrypt`): there, no word may be one that code names things with
/// ([`CODE_CHAIN_WORDS`]) either.
pub fn is_passphrase(secret: &[u8]) -> bool {
    if is_words_and_number(secret) {
        return true;
    }
    let Some(&separator) = secret.iter().find(|&&b| matches!(b, b' ' | b'-' | b'_' | b'.')) else {
        return is_run_together_passphrase(secret);
    };
    let code_joined = matches!(separator, b'_' | b'.');
    let words: Vec<&[u8]> = secret.split(|&b| b == separator).collect();
    let plain_word = |word: &&[u8]| {
        (3..=10).contains(&word.len())
            && word.iter().all(u8::is_ascii_lowercase)
            && is_word(word)
            && !is_listed(NAME_WORDS, word)
            && !(code_joined
                && (is_listed(CODE_CHAIN_WORDS, word) || is_listed(CODE_CHAIN_WORDS, singular(word))))
    };
    let distinct = words.iter().enumerate().all(|(i, word)| !words[..i].contains(word));
    secret.len() >= 14 && (3..=6).contains(&words.len()) && words.iter().all(plain_word) && distinct
}

/// Whether `secret` is a password made as people make them: one to four plain words, run
/// together, capitalised or joined by one kind of separator, then a number of one to four
/// digits and perhaps a symbol (`Pine84`, `HarborGray3`, `pepperthunder2022`,
/// `brown-hawk-28`, `spruce.winter.66*`). Names of things are made so too (`Route53`,
/// `Base64`, `Python3`, `node-pool-3`, `Welcome1`): no word may be one of
/// [`NAME_WORDS`], [`CODE_CHAIN_WORDS`], [`TECH_WORDS`] or [`RUN_TOGETHER_STAND_INS`].
fn is_words_and_number(secret: &[u8]) -> bool {
    let symbol = secret.last().is_some_and(|b| b"!#?*@$%&+~^_-.".contains(b));
    let body = if symbol { &secret[..secret.len() - 1] } else { secret };
    let digits = body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=4).contains(&digits) || secret.len() < 6 {
        return false;
    }
    let words = &body[..body.len() - digits];
    let is_separator = |b: &u8| matches!(b, b'-' | b'.' | b'_');
    let separator = words.iter().copied().find(is_separator);
    if words.iter().any(|b| is_separator(b) && Some(*b) != separator)
        || words.first().is_some_and(|b| !b.is_ascii_alphabetic())
    {
        return false;
    }
    // The number follows the last word or the same separator (`brown-hawk-28`).
    let words = match separator {
        Some(separator) => words.strip_suffix(&[separator]).unwrap_or(words),
        None => words,
    };
    if words.last().is_none_or(|b| !b.is_ascii_alphabetic()) {
        return false;
    }
    let mut count = 0;
    for chunk in words.split(is_separator) {
        let mut at = 0;
        while at < chunk.len() {
            let word = next_piece(&chunk[at..]);
            at += word.len();
            count += 1;
            let plain = (3..=20).contains(&word.len())
                && word.iter().all(u8::is_ascii_alphabetic)
                && word[1..].iter().all(u8::is_ascii_lowercase)
                && is_word(word);
            if !plain || count > 4 {
                return false;
            }
            let lower = word.to_ascii_lowercase();
            // A stand-in inside a word counts (`mypass123`, `testuser1`, `letmein1`); a short
            // one only where the word starts with it, as `pass` is in `compass`.
            let unprefixed = lower.strip_prefix(b"my").unwrap_or(&lower);
            let stand_in = RUN_TOGETHER_STAND_INS.iter().any(|stand_in| {
                let stand_in = stand_in.as_bytes();
                if stand_in.len() >= 5 {
                    holds(&lower, stand_in)
                } else {
                    unprefixed.starts_with(stand_in)
                }
            });
            if stand_in
                || [NAME_WORDS, CODE_CHAIN_WORDS, TECH_WORDS].iter().any(|list| is_listed(list, &lower))
            {
                return false;
            }
        }
    }
    count >= 1
}

/// Names of software, formats and algorithms that end in a version or a size
/// (`Python3`, `Sha256`, `Ubuntu2204`, `Vue3`): a word and a number, but no password.
const TECH_WORDS: &[&str] = &[
    "base", "route", "argon", "bcrypt", "scrypt", "aes", "ecdsa", "utf", "latin", "ascii", "python", "java",
    "dotnet", "win", "linux", "ubuntu", "debian", "alpine", "centos", "vue", "angular", "react", "ipv",
    "mariadb", "sqlite", "version", "release", "build", "level", "tier", "phase", "step", "round", "part",
    "page", "line", "row", "slot", "shard", "replica", "worker", "pool", "batch", "instance", "web",
    "volume", "size", "chacha", "salsa", "poly", "blake", "windows", "macos", "ios", "android", "fedora",
    "oracle", "kotlin", "swift", "golang", "rust",
];

/// Whether `secret` is a passphrase written without separators
/// (`silverglaciermaplelaurel`): 16-48 lower-case letters that read as words, with no
/// word in them that names a thing. Without a dictionary the words cannot be told apart,
/// so the test is on the whole: vowels as in words (30-65%), no five consonants running
/// (the seam of two words may hold four: `amber` + `shrine`), no letter three times over
/// nor five letters twice,
/// and none of [`NAME_WORDS`] or [`CODE_CHAIN_WORDS`] of five letters or more, nor of
/// [`RUN_TOGETHER_STAND_INS`], inside (`supersecretpassword`, `kubernetesdashboard`,
/// `mytestingvalue`). Other short names are not looked for: `for` is in `forest`, `live`
/// in `olive`. Random lower-case letters hold about 23% vowels and are judged by their
/// entropy instead.
fn is_run_together_passphrase(secret: &[u8]) -> bool {
    if !(16..=48).contains(&secret.len()) || !secret.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let vowels = secret.iter().filter(|b| is_vowel(b)).count();
    if vowels * 100 < secret.len() * 30
        || vowels * 100 > secret.len() * 65
        || longest_consonant_run(secret) >= 5
    {
        return false;
    }
    // `aaa`, `amberamberamber`: a letter or a word said again.
    let repeats_a_word =
        secret.windows(5).enumerate().any(|(i, w)| secret[i + 1..].windows(5).any(|v| v == w));
    if secret.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) || repeats_a_word {
        return false;
    }
    // `thisisnotarealkey`, `setmeinyourdotenv`: a sentence run together, as stand-ins say.
    let prose = [&b"this"[..], b"my", b"your", b"dont", b"not", b"set", b"put", b"use"];
    if prose.iter().any(|opening| secret.starts_with(opening)) {
        return false;
    }
    let long_names = NAME_WORDS.iter().chain(CODE_CHAIN_WORDS).filter(|word| word.len() >= 5);
    let names_a_thing = long_names.chain(RUN_TOGETHER_STAND_INS).any(|word| holds(secret, word.as_bytes()));
    !names_a_thing
}

/// Words that give a value away as a stand-in or a name when written as one word under a
/// password's name (`letmeinplease`, `mytestpassword`, `hunter42`): the short names
/// worth looking for inside, and stand-ins beyond [`NAME_WORDS`].
const RUN_TOGETHER_STAND_INS: &[&str] = &[
    "hunter",
    "pass",
    "pwd",
    "test",
    "demo",
    "fake",
    "mock",
    "user",
    "root",
    "auth",
    "prod",
    "null",
    "none",
    "todo",
    "temp",
    "blah",
    "asdf",
    "abcd",
    "qwerty",
    "letmein",
    "sesame",
    "iloveyou",
    "whatever",
    "nothing",
    "something",
    "anything",
    "everything",
    "drowssap",
    "hello",
    "welcome",
    "trustno",
    "insecure",
    "unsafe",
    "notsecure",
    "notreal",
    "foobar",
    "lorem",
    "ipsum",
    "dolor",
    "thequick",
    "brownfox",
    "lazydog",
    "goeshere",
    "yours",
    "changeit",
    "qwer",
];

/// Whether `word` is one of `list`.
fn is_listed(list: &[&str], word: &[u8]) -> bool {
    list.iter().any(|name| name.as_bytes() == word)
}

/// `word` without a plural `s` (`validators`, `digits`).
fn singular(word: &[u8]) -> &[u8] {
    word.strip_suffix(b"s").unwrap_or(word)
}

/// Words that name things in code, by which a name or a member chain joined by `_` or `.`
/// is told from a passphrase: receivers and request objects (`self.form.data`), what a
/// password field does (`password_reset_confirm`), file extensions (`secret.key.pem`).
const CODE_CHAIN_WORDS: &[&str] = &[
    "self",
    "cls",
    "obj",
    "object",
    "req",
    "request",
    "res",
    "resp",
    "response",
    "ctx",
    "context",
    "params",
    "param",
    "args",
    "arg",
    "kwargs",
    "props",
    "prop",
    "state",
    "form",
    "forms",
    "input",
    "inputs",
    "output",
    "options",
    "opts",
    "json",
    "yaml",
    "body",
    "payload",
    "process",
    "system",
    "window",
    "document",
    "module",
    "exports",
    "result",
    "field",
    "fields",
    "model",
    "models",
    "entity",
    "schema",
    "table",
    "column",
    "record",
    "item",
    "items",
    "event",
    "message",
    "query",
    "cleaned",
    "decrypt",
    "encrypt",
    "decode",
    "encode",
    "hashed",
    "reset",
    "confirm",
    "confirmed",
    "confirmation",
    "changed",
    "forgot",
    "forgotten",
    "recover",
    "recovery",
    "verify",
    "required",
    "invalid",
    "expired",
    "missing",
    "length",
    "min",
    "max",
    "minimum",
    "maximum",
    "grant",
    "code",
    "scope",
    "mode",
    "method",
    "flow",
    "provider",
    "handler",
    "manager",
    "encoder",
    "validator",
    "hasher",
    "label",
    "hint",
    "prompt",
    "error",
    "errors",
    "util",
    "utils",
    "helper",
    "helpers",
    "common",
    "core",
    "lib",
    "src",
    "pem",
    "txt",
    "cfg",
    "conf",
    "ini",
    "yml",
    "toml",
    "crt",
    "der",
    "csr",
    "jks",
    "pfx",
    "log",
    "bak",
    "spec",
    "stub",
    "fixture",
    "fixtures",
    "factory",
    "const",
    "enum",
    "str",
    "int",
    "len",
    "has",
    "ids",
    "uuid",
    "index",
    "list",
    "dict",
    "map",
    "array",
    "attr",
    "attrs",
    "meta",
    "info",
    "detail",
    "details",
    "view",
    "views",
    "page",
    "route",
    "routes",
    "controller",
    "action",
    "actions",
    "reducer",
    "slice",
    "selector",
    "hooks",
    "component",
    "widget",
    "button",
    "dialog",
    "modal",
    "screen",
    "template",
    "text",
];

/// Whether `secret` reads as an identifier made of words (`Ec2InstanceMetadata`,
/// `test_schema_2`, `HTTPServerKey`, `15.minutes`) rather than a random string.
///
/// It is split at `_`, `.`, `-`, at letter/digit boundaries and before each capital that
/// starts a word. Every piece must be a digit run of at most 4, an acronym of 2-5 capitals,
/// or a word: 2+ letters, a vowel, no 4 consonants in a row. At least one word has 4+
/// letters, and letters are at least half the value. Random base62 strings pass by
/// chance ~0.1% of the time at 16-40 characters and ~2% at 8-12 (measured on 200,000 of
/// each), which is what this costs the generic rules in recall.
pub fn looks_like_identifier(secret: &[u8]) -> bool {
    // Translation files escape the letters outside ASCII (`Ung\u00fcltiges`, Java
    // properties and JSON): a word with its umlaut escaped is still a word.
    if let Some(plain) = escaped_letters_as_vowels(secret) {
        return looks_like_identifier(&plain);
    }
    // So is a word with its letters outside ASCII written as they are (`Contraseña`).
    if !secret.is_ascii() {
        let Ok(text) = std::str::from_utf8(secret) else {
            return false;
        };
        if !text.chars().all(|c| c.is_ascii() || c.is_alphabetic()) {
            return false;
        }
        let plain: Vec<u8> = text.chars().map(|c| if c.is_ascii() { c as u8 } else { b'e' }).collect();
        return looks_like_identifier(&plain);
    }
    if !secret.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return false;
    }
    // `Willow.7368Quartz`, `Lantern.48Willow`: a word, a separator, then digits run
    // straight into a capitalised word, as people make passwords; names that run a number
    // into a word have no separator (`Route53Resolver`, `X25519PrivateKey`).
    let separated = secret.iter().any(|&b| matches!(b, b'.' | b'-' | b'_'));
    let number_into_word =
        secret.windows(3).any(|w| w[..2].iter().all(u8::is_ascii_digit) && w[2].is_ascii_uppercase());
    if separated && number_into_word {
        return false;
    }
    // `Ember.85-Velvet-`, `W4lnut-91.Anchor_`: capitalised words, digits and punctuation
    // mixed as people make passwords. A name keeps to one kind of separator and does not
    // end in one (`Orange-2`, `test_schema_2`).
    let separator_kinds = [b'.', b'-', b'_'].iter().filter(|sep| secret.contains(sep)).count();
    let ends_in_separator = secret.last().is_some_and(|b| matches!(b, b'.' | b'-' | b'_'));
    let capitalised_word = secret.windows(2).any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_lowercase());
    if (separator_kinds >= 2 || ends_in_separator)
        && capitalised_word
        && secret.iter().any(u8::is_ascii_digit)
    {
        return false;
    }
    // `Autumn2019`, `CoffeeSoylent2019`, `ShadowBluebird99`: capitalised words and then a
    // year, or two words and two digits, as people make passwords; names end in a version
    // (`Route53`, `ServerlessV2`, `HmacSha256`, `Base64`), not in a year.
    let digits = secret.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (words, number) = secret.split_at(secret.len() - digits);
    let capitalised = words.len() >= 4
        && words[0].is_ascii_uppercase()
        && words.iter().all(u8::is_ascii_alphabetic)
        && pieces(words).all(|(_, word)| word.len() >= 3 && word[1..].iter().all(u8::is_ascii_lowercase));
    let two_words = words.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2;
    let a_year = digits == 4 && (number.starts_with(b"19") || number.starts_with(b"20"));
    if capitalised && (a_year || (two_words && digits == 2)) {
        return false;
    }
    let (mut letters, mut long_words, mut numbers, mut scraps) = (0, 0, 0, 0);
    for (at, piece) in pieces(secret) {
        if piece[0].is_ascii_digit() {
            // `test_schema_2`, `S3Bucket`, `ServerlessV2Engine`: a number or two. Random
            // strings scatter more (`ZzikAb7H0356ZovwY6HR`).
            numbers += 1;
            if piece.len() > 4 || numbers > 2 {
                return false;
            }
            continue;
        }
        letters += piece.len();
        if piece.iter().all(u8::is_ascii_uppercase) {
            // An acronym, or one capital before a number (`S3`, `V2` in `ServerlessV2Engine`).
            let versioned = piece.len() == 1 && secret.get(at + 1).is_some_and(u8::is_ascii_digit);
            if !(2..=5).contains(&piece.len()) && !versioned {
                return false;
            }
            continue;
        }
        if !is_word(piece) {
            return false;
        }
        if piece.len() >= 4 {
            long_words += 1;
        }
        // Names are made of words; random text cut at its case changes leaves many
        // two-letter scraps (`qfee|Yp|8|J|17|vekl|Yt`). One is common (`Id`, `Db`).
        if piece.len() <= 2 {
            scraps += 1;
            if scraps > 1 {
                return false;
            }
        }
    }
    long_words >= 1 && letters * 2 >= secret.len()
}

/// Who or what a password is for, when a config glues it to `pass` (`remotepass`,
/// `dbpass`, `smtppass`); `bypass`, `compass` or a renderer's `shadowpass` are not among
/// them.
const PASS_OWNERS: &[&str] = &[
    "remote",
    "local",
    "user",
    "usr",
    "db",
    "admin",
    "root",
    "smtp",
    "mail",
    "ftp",
    "sftp",
    "ldap",
    "bind",
    "mysql",
    "pg",
    "postgres",
    "redis",
    "mongo",
    "amqp",
    "mq",
    "app",
    "api",
    "auth",
    "login",
    "sql",
    "proxy",
    "imap",
    "pop",
    "svc",
    "service",
    "master",
    "sys",
    "key",
    "store",
    "keystore",
    "truststore",
    "vnc",
    "sudo",
    "my",
];

/// Whether a piece of `name` is an owner glued to `pass`: `remotepass`, `DBPASS`.
fn has_pass_compound(name: &[u8]) -> bool {
    pieces(name).any(|(_, piece)| {
        let lower = piece.to_ascii_lowercase();
        lower.strip_suffix(b"pass").is_some_and(|owner| PASS_OWNERS.iter().any(|o| o.as_bytes() == owner))
    })
}

/// Whether `name` holds `word` as a word of its own (one of its [`pieces`]).
fn has_word(name: &[u8], word: &[u8]) -> bool {
    pieces(name).any(|(_, piece)| piece.eq_ignore_ascii_case(word))
}

/// Whether `value` is code rather than a literal: it starts where an expression ends
/// (`),d?x.createElement(` cut out of minified code), or it is a member, index or call
/// expression (`arguments[2]`, `config.get()`, `self.tokens[0]`, `derive_key(salt)`).
pub fn looks_like_code(value: &[u8]) -> bool {
    // Cut out of minified code: `),d?x.createElement(`. A random password may open with
    // `)` too (`)7s*tWiYQ…`, Django's alphabet has it), but not with `),` or `);`.
    // What follows must begin an expression (`,d?x`, `;return`, `,!function`) or go on
    // with one (`].map`): a random key (a WordPress salt, `,=cX5wv;…`) puts any symbol there.
    let begins_expression = |b: u8| b.is_ascii_alphanumeric() || b" _$!([{\"'`-+/.)],;<".contains(&b);
    // A generated key (Django's SECRET_KEY, a WordPress salt) opens with any symbol of its
    // alphabet (`)@p6^…`, `]k7#Lp)…`); it is long, has digits, and mixes symbols that code
    // cut mid-expression rarely holds together, or is as random as code never is (64
    // characters of WordPress' 94 hold ~5.4 bits each; code, well under 5).
    let generated_key = value.len() >= 24
        && value.iter().any(u8::is_ascii_digit)
        && (b"@#%^~*&!$".iter().filter(|symbol| value.contains(symbol)).count() >= 3
            || (value.len() >= 40 && shannon_entropy(value) >= 5.0));
    let ends_an_expression = !generated_key
        && match value {
            // `>` closes a tag: markup cut after an attribute (`">package-0.1.tar.gz`).
            [b']' | b',' | b';' | b'>', next, ..] => begins_expression(*next),
            [b')', next, ..] => !next.is_ascii_alphanumeric(),
            _ => false,
        };
    // `t.apiKey||` from minified code: a name, then an operator that needs its right side
    // (perhaps cut at an escaped quote, `t.apiKey||\"\"` inside a string literal).
    let unescaped = value.strip_suffix(b"\\").unwrap_or(value);
    let before_operator = [&b"||"[..], b"&&", b"??"].iter().find_map(|op| unescaped.strip_suffix(*op));
    if ends_an_expression
        || before_operator
            .is_some_and(|left| is_member_path(left) || (is_plain_name(left) && reads_as_name(left)))
    {
        return true;
    }
    // An ARM or Bicep template expression cut at its first quote: `[parameters(`.
    let template_expression = !generated_key && value.starts_with(b"[") && value.ends_with(b"(");
    template_expression
        || ends_in_calls_or_indexes(value)
        || is_member_path(value)
        || starts_with_call(value)
        || is_indexed_path(value)
        // A generated key's alphabet holds braces: WordPress salts (`CrR67G{Fry}{6l3E*…`).
        || (!generated_key && interpolates_a_name(value))
}

/// `get_secret(current_user)`, `ReadOnlyCredentials(`, `process.current_process().authkey`,
/// Go's `v.(string)`: a value that opens with a call, as unquoted right-hand sides in code
/// do. The callee must be spelled as code (with `_` or `.`, or of letters alone):
/// `p4ss(w0rd)` is a password.
fn starts_with_call(value: &[u8]) -> bool {
    let Some(open) = memchr::memchr(b'(', value) else { return false };
    let callee = &value[..open];
    let callee = callee.strip_suffix(b".").unwrap_or(callee);
    let spelled_as_code =
        callee.iter().any(|&b| b == b'_' || b == b'.') || callee.iter().all(u8::is_ascii_alphabetic);
    // The call ends the value, is left open for the next line, or goes on into a member
    // or another call: `lcm(@hjm*ebu)_l1plz+…` is a password that happens to hold `(`.
    let mut depth = 0usize;
    let close = value[open..].iter().position(|&b| {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        depth == 0
    });
    let call_ends_well = match close {
        None => value.ends_with(b"(") || value.ends_with(b","),
        Some(close) => matches!(value.get(open + close + 1), None | Some(b'.' | b'(' | b'[' | b')' | b',')),
    };
    spelled_as_code && call_ends_well && callee.split(|&b| b == b'.').all(is_plain_name)
}

/// `config.get()`, `self.tokens[0]`: a name followed by empty calls or plain indexes.
fn ends_in_calls_or_indexes(value: &[u8]) -> bool {
    let mut end = value.len();
    let mut groups = 0;
    while end > 0 && matches!(value[end - 1], b']' | b')') {
        let open = if value[end - 1] == b']' { b'[' } else { b'(' };
        let Some(start) = memchr::memrchr(open, &value[..end]) else { return false };
        let inside = &value[start + 1..end - 1];
        // A call with nothing in it, or an index: `get()`, `[2]`, `["key"]`.
        let plain_index =
            inside.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'"' | b'\'' | b'$'));
        if (open == b'(' && !inside.is_empty()) || !plain_index {
            return false;
        }
        end = start;
        groups += 1;
    }
    let head = &value[..end];
    groups > 0
        && head.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && head.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
}

/// `Jobs[-1].JobId`, `StreamDescription.Shards[-1].ShardId`: a dotted path of names that
/// goes through at least one index (a number, a quoted key or a name).
fn is_indexed_path(value: &[u8]) -> bool {
    let is_name = is_plain_name;
    let is_index = |inside: &[u8]| {
        let number = inside.strip_prefix(b"-").unwrap_or(inside);
        (!number.is_empty() && number.iter().all(u8::is_ascii_digit))
            || is_name(inside)
            || (inside.len() >= 2
                && matches!(inside[0], b'"' | b'\'')
                && inside.last() == Some(&inside[0])
                && is_name(&inside[1..inside.len() - 1]))
    };
    let mut indexes = 0;
    for segment in value.split(|&b| b == b'.') {
        let name_end = memchr::memchr(b'[', segment).unwrap_or(segment.len());
        let (name, mut rest) = segment.split_at(name_end);
        if !is_name(name) {
            return false;
        }
        while let Some(after_open) = rest.strip_prefix(b"[") {
            let Some(close) = memchr::memchr(b']', after_open) else { return false };
            if !is_index(&after_open[..close]) {
                return false;
            }
            indexes += 1;
            rest = &after_open[close + 1..];
        }
        if !rest.is_empty() {
            return false;
        }
    }
    indexes > 0
}

/// A name as code spells it: a letter or `_`, then letters, digits and `_`.
fn is_plain_name(name: &[u8]) -> bool {
    name.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `share-{portfolio_id}-{org_type}`, `events!connection/{connection_id}/auth`: a format
/// string that interpolates a name (Python f-strings and `str.format`, C#, Kotlin); `${`,
/// `#{` and `{{` are placeholder markers already.
fn interpolates_a_name(value: &[u8]) -> bool {
    let mut rest = value;
    while let Some(open) = memchr::memchr(b'{', rest) {
        let after = &rest[open + 1..];
        let Some(close) = memchr::memchr(b'}', after) else { return false };
        let inside = &after[..close];
        let reads_as_name = inside.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
            && inside.len() >= 2
            && inside.iter().any(u8::is_ascii_lowercase)
            && inside.iter().all(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']' | b'\'' | b'"' | b'-')
            });
        if reads_as_name {
            return true;
        }
        rest = &after[close + 1..];
    }
    false
}

/// Whether `value` is an e-mail address: a local part, `@`, and a domain with a dot and
/// a top-level domain of letters.
pub fn is_email_address(value: &[u8]) -> bool {
    let Some(at) = memchr::memrchr(b'@', value) else {
        return false;
    };
    let (local, domain) = (&value[..at], &value[at + 1..]);
    let Some(dot) = memchr::memrchr(b'.', domain) else {
        return false;
    };
    let tld = &domain[dot + 1..];
    !local.is_empty()
        && !local.contains(&b'@')
        && dot > 0
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
        && domain.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The pieces of `text` with their offsets: its alphanumeric runs (anything else
/// separates them), each cut by [`next_piece`]. `api-keySHA256` gives `api`, `key`, `SHA`,
/// `256`.
fn pieces(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        at += text[at.min(text.len())..].iter().take_while(|b| !b.is_ascii_alphanumeric()).count();
        if at >= text.len() {
            return None;
        }
        let piece = next_piece(&text[at..]);
        let found = (at, piece);
        at += piece.len();
        Some(found)
    })
}

/// The first piece of `text` (alphanumeric, not empty): a digit run, a run of capitals not
/// followed by a lower-case letter, or an optional capital and its lower-case letters. In
/// `HTTPServer` the pieces are `HTTP` and `Server`.
fn next_piece(text: &[u8]) -> &[u8] {
    let first = text[0];
    let run = |from: usize, pred: fn(&u8) -> bool| from + text[from..].iter().take_while(|b| pred(b)).count();
    if first.is_ascii_digit() {
        return &text[..run(0, u8::is_ascii_digit)];
    }
    if first.is_ascii_uppercase() {
        let capitals = run(0, u8::is_ascii_uppercase);
        if capitals < text.len() && text[capitals].is_ascii_lowercase() {
            if capitals == 1 {
                return &text[..run(1, u8::is_ascii_lowercase)];
            }
            return &text[..capitals - 1];
        }
        return &text[..capitals];
    }
    &text[..run(0, u8::is_ascii_lowercase)]
}

/// Letter pairs that the words of names almost never hold: fewer than 5 of the 14,651
/// words that occur 20 times or more in the identifiers of a 236 MB tree of ten projects
/// (C, Ruby, Java, Python, Go, Rust, JavaScript, HCL) have one. A piece of random text
/// holds one about a third of the time; 0.3% of word occurrences in names do (`graphql`,
/// `jquery`, `argv`). Random passwords of 15 letters and a digit that read as names fell
/// from 0.8% to 0.4% with this check.
const RARE_PAIRS: [&[u8; 2]; 94] = [
    b"bw", b"bx", b"cj", b"cz", b"dq", b"dz", b"fh", b"fz", b"gj", b"gq", b"gv", b"gx", b"hj", b"hq", b"hx",
    b"hz", b"iw", b"jf", b"jh", b"jl", b"jq", b"jt", b"jv", b"jw", b"jx", b"jy", b"jz", b"kj", b"kv", b"kx",
    b"kz", b"lj", b"lq", b"mh", b"nx", b"oq", b"pj", b"pz", b"qb", b"qd", b"qe", b"qf", b"qh", b"qi", b"qj",
    b"qn", b"qo", b"qq", b"qr", b"qv", b"qx", b"qy", b"qz", b"rq", b"rx", b"rz", b"sz", b"tq", b"uh", b"uj",
    b"uq", b"uw", b"vj", b"vq", b"vx", b"wj", b"wm", b"wq", b"wy", b"wz", b"xg", b"xj", b"xk", b"xn", b"xq",
    b"xu", b"xw", b"xz", b"yq", b"zb", b"zc", b"zd", b"zf", b"zg", b"zh", b"zj", b"zk", b"zm", b"zp", b"zq",
    b"zt", b"zv", b"zw", b"zx",
];

/// Whether a run of letters (at most one leading capital) is pronounceable enough to be
/// a word: two or more letters, a vowel, no four consonants in a row, and no letter pair
/// that words of names almost never hold ([`RARE_PAIRS`]).
fn is_word(piece: &[u8]) -> bool {
    if longest_consonant_run(piece) >= 4 {
        return false;
    }
    let rare_pair = piece.windows(2).any(|pair| {
        let pair = [pair[0].to_ascii_lowercase(), pair[1].to_ascii_lowercase()];
        RARE_PAIRS.iter().any(|rare| **rare == pair)
    });
    piece.len() >= 2 && piece.iter().any(is_vowel) && !rare_pair
}

/// Whether `b` is a vowel, `y` included, in either case.
fn is_vowel(b: &u8) -> bool {
    matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// The most consonants (any byte but a vowel) that `text` holds in a row.
fn longest_consonant_run(text: &[u8]) -> usize {
    let (mut run, mut longest) = (0, 0);
    for b in text {
        run = if is_vowel(b) { 0 } else { run + 1 };
        longest = longest.max(run);
    }
    longest
}

/// Words that make a name about a secret rather than the secret itself: its hash, its
/// type, where it lives, how long it lives, a page token.
const NON_SECRET_NAME_WORDS: &[&str] = &[
    "authenticity",
    "uuid",
    "guid",
    "hash",
    "hashed",
    "digest",
    "checksum",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "fingerprint",
    "revision",
    "etag",
    "next",
    "page",
    "continuation",
    "pagination",
    "sync",
    "csrf",
    "xsrf",
    "spec",
    "length",
    "len",
    "size",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "timeout",
    "version",
    "policy",
    "regex",
    "pattern",
    "label",
    "placeholder",
    "mask",
    "hint",
    "format",
    "param",
    "header",
    "prefix",
    "suffix",
    "salt",
    "type",
    "name",
    "kind",
    "ref",
    "arn",
    "id",
    "ids",
    "public",
    "publishable",
    "primary",
    "foreign",
    "sort",
    "partition",
    "cache",
    "idempotency",
    "lookup",
    "cursor",
    "unique",
    "row",
    "column",
    "index",
    "translation",
    "i18n",
    "locale",
    "message",
    "routing",
    "gpg",
    "pgp",
];

/// Words that, besides [`NON_SECRET_NAME_WORDS`], make a name a non-secret, but only as
/// its last word: places, which tell where a secret is used or kept when a word follows
/// (`url_password`, `FIELD_ENCRYPTION_KEY`, `ENV_SECRET`) and name a place at the end
/// (`token_url`, `password_file`, `SMTP_PASSWORD_HOST`); `nonce` (`oauth_nonce` is a
/// one-time value, WordPress's `NONCE_KEY` a key); `commit` (a git commit's id); and the texts a form shows about a
/// secret (`password_help`, `passwordPrompt`), where a service may bear the word first
/// (`PROMPT_API_KEY`).
const LAST_WORD_ONLY: &[&str] = &[
    "url",
    "uri",
    "endpoint",
    "host",
    "field",
    "file",
    "path",
    "dir",
    "env",
    "var",
    "variable",
    "nonce",
    "commit",
    "help",
    "title",
    "prompt",
    "description",
    "tooltip",
    "caption",
    "question",
    "strength",
    "algo",
    "algorithm",
];

/// Parts of names that say a secret is meant, in English and in the languages whose words
/// for "password" turn up in code; `pass` alone is not one of them, since it ends
/// `minipass` and `bypass` (it counts only as a word of its own: `DB_PASS`).
const SECRET_NAME_PARTS: &[&str] = &[
    "passw",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    // German, Spanish, French, Portuguese, Dutch, Polish, Finnish.
    "kennwort",
    "contrasena",
    "passe",
    "senha",
    "wachtwoord",
    "haslo",
    "salasana",
];

/// Whether an assigned-to name such as `password_hash`, `NextToken` or `apiKeyHeader`
/// holds one of [`NON_SECRET_NAME_WORDS`] as a word (split at `_`, `-`, `.` and where a
/// capital starts a word), or names no secret at all (`minipass`).
pub fn names_a_non_secret(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    let has = |part: &[u8]| memchr::memmem::find(&lower, part).is_some();
    let strong = SECRET_NAME_PARTS.iter().any(|part| has(part.as_bytes()));
    // `pass` and `pat` (a personal access token) count only as words of their own.
    if !strong && !has_word(name, b"pass") && !has_word(name, b"pat") && !has_pass_compound(name) {
        return true;
    }
    // Keys handed to every browser by design: the `writeKey` of an analytics snippet
    // (Segment's; a server source's `SEGMENT_WRITE_KEY` is kept private) and Pusher's app
    // key (its secret is the app secret).
    let browser_write_key = memchr::memmem::find(name, b"writeKey").is_some();
    if browser_write_key || (has_word(name, b"pusher") && !has_word(name, b"secret")) {
        return true;
    }
    if names_a_captcha_site_key(name) {
        return true;
    }
    // Search-only keys (Algolia's, Typesense's) and Facebook's client token are handed to
    // every browser or app by design.
    if (has_word(name, b"search") && (has_word(name, b"only") || has(b"algolia")))
        || ((has(b"facebook") || has_word(name, b"fb")) && (has(b"clienttoken") || has(b"client_token")))
    {
        return true;
    }
    let listed = |word: &[u8]| {
        NON_SECRET_NAME_WORDS.iter().chain(LAST_WORD_ONLY).any(|w| w.as_bytes().eq_ignore_ascii_case(word))
    };
    // Where a secret is used says nothing when a secret word follows: `url_password` is
    // the password for a URL, `token_url` is a URL.
    let last = pieces(name).last().map_or(0, |(at, _)| at);
    let before_last = |at: usize, word: &[u8]| {
        at != last && LAST_WORD_ONLY.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(word))
    };
    // The word just before, when it ends where this piece starts: `md5` and `sha256` are a
    // word and its digits.
    let mut word: Option<(usize, usize)> = None;
    let mut previous: &[u8] = b"";
    for (at, piece) in pieces(name) {
        let end = at + piece.len();
        let start = match word {
            Some((start, word_end)) if word_end == at && piece[0].is_ascii_digit() => start,
            _ => at,
        };
        // An id is no secret (`AccessKeyId`), except Vault AppRole's `secret_id` and the
        // token ids that are bearer tokens themselves (OpenStack Keystone's).
        let secret_id = piece.eq_ignore_ascii_case(b"id")
            && (previous.eq_ignore_ascii_case(b"secret") || previous.eq_ignore_ascii_case(b"token"));
        if (listed(piece) || listed(&name[start..end])) && !secret_id && !before_last(at, piece) {
            return true;
        }
        word = (!piece[0].is_ascii_digit()).then_some((at, end));
        previous = piece;
    }
    false
}

/// Whether a table column's header names a secret (`Password`, `client_secret`, `API
/// Key`) and not something about one (`password_hint`, `token_type`). Stricter than an
/// assigned-to name: `Key` and `Author` head columns of names.
pub fn names_a_column_secret(name: &[u8]) -> bool {
    const PARTS: &[&str] = &[
        "passw",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
        "authkey",
        "signingkey",
        "encryptionkey",
        "masterkey",
        "storagekey",
        "accountkey",
        "credential",
    ];
    let squashed: Vec<u8> =
        name.iter().filter(|b| b.is_ascii_alphanumeric()).map(u8::to_ascii_lowercase).collect();
    let names_one = PARTS.iter().any(|part| squashed.windows(part.len()).any(|w| w == part.as_bytes()))
        || has_word(name, b"pass")
        || has_pass_compound(name);
    names_one && !names_a_non_secret(name)
}

/// Whether `name` names a CAPTCHA's site key (reCAPTCHA, hCaptcha, Turnstile), which every
/// page showing the widget holds; its secret is the `secret_key`, same format, other name.
/// Only a name that says CAPTCHA, or is the site key and nothing else: a `SITE_PRIVATE_KEY`
/// or `site_api_key` is a secret.
fn names_a_captcha_site_key(name: &[u8]) -> bool {
    let one_word = has_word(name, b"sitekey");
    let says_site_key = one_word || (has_word(name, b"site") && has_word(name, b"key"));
    if !says_site_key {
        return false;
    }
    let bare = pieces(name).count() == if one_word { 1 } else { 2 };
    let captcha =
        ["captcha", "recaptcha", "hcaptcha", "turnstile"].iter().any(|w| has_word(name, w.as_bytes()));
    let other_secret =
        ["secret", "password", "private", "api", "access", "auth", "signing", "encryption", "master"]
            .iter()
            .any(|w| has_word(name, w.as_bytes()));
    (bare || captcha) && !other_secret
}

/// `value` with each `\uXXXX` escape of a character outside ASCII replaced by `e`, when it
/// holds one.
fn escaped_letters_as_vowels(value: &[u8]) -> Option<Vec<u8>> {
    let is_escape = |at: usize| {
        value[at..].starts_with(b"\\u")
            && value.get(at + 2..at + 6).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            && (!value[at + 2..at + 4].eq(b"00".as_slice()) || value[at + 4] >= b'8')
    };
    // Most values hold no backslash at all: one memchr pass says so.
    let first = memchr::memmem::find(value, b"\\u")?;
    (first..value.len()).any(is_escape).then(|| {
        let mut plain = Vec::with_capacity(value.len());
        let mut at = 0;
        while at < value.len() {
            if is_escape(at) {
                plain.push(b'e');
                at += 6;
            } else {
                plain.push(value[at]);
                at += 1;
            }
        }
        plain
    })
}

/// Whether `secret` contains one of `stopwords` (already ASCII lower case).
pub fn has_stopword(secret: &[u8], stopwords: &[String]) -> bool {
    if stopwords.is_empty() {
        return false;
    }
    let lower = secret.to_ascii_lowercase();
    stopwords.iter().any(|word| memchr::memmem::find(&lower, word.as_bytes()).is_some())
}

/// Whether `secret` has the shape of a GitHub token (prefix and 36 base62
/// characters) but its CRC32 suffix does not verify: a made-up value, a test fixture or a
/// sample, whichever rule meets it (a `TOKEN = "ghp_…"` assignment included).
fn fails_its_checksum(secret: &[u8]) -> bool {
    const PREFIXES: [&[u8]; 5] = [b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"];
    secret.len() == 40
        && PREFIXES.iter().any(|prefix| secret.starts_with(prefix))
        && secret[4..].iter().all(u8::is_ascii_alphanumeric)
        && !github_crc32_ok(secret)
}

/// Whether `secret` carries a valid checksum of kind `checksum`.
pub fn checksum_ok(checksum: Checksum, secret: &[u8]) -> bool {
    match checksum {
        Checksum::GithubCrc32 => github_crc32_ok(secret),
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 6 base62 digits of `value`, most significant first, zero-padded.
pub fn base62_6(mut value: u32) -> [u8; 6] {
    let mut digits = [b'0'; 6];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits
}

/// GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens: 30 random
/// base62 characters after the prefix, then their CRC32 as 6 base62 digits.
fn github_crc32_ok(secret: &[u8]) -> bool {
    let Some(underscore) = memchr::memchr(b'_', secret) else {
        return false;
    };
    let body = &secret[underscore + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_6(crc32fast::hash(random)) == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_action_types_and_urns_are_names() {
        assert!(is_ulid(b"01HSZSQ33TVA9NC9ZTM0QQQ5R8"));
        assert!(!is_ulid(b"7ZZZZZZZZZTVA9NC9ZTM0QQQ5R"));
        assert!(!is_ulid(b"ZHSZSQ33TVA9NC9ZTM0QQQ5R8K"));
        assert!(!is_ulid(b"01HSZSQ33TVA9NC9ZTM0QQQ5RU"));
        assert!(looks_like_path(b"checkout/API_KEY_REVOKED"));
        assert!(looks_like_path(b"urn:ietf:params:oauth:grant-type:jwt-bearer"));
        assert!(!looks_like_path(b"Xk9q/API_KEY"));
        assert!(!looks_like_path(b"urn:"));
        // One part after the root: a directory or a route, or a password opening with `/`.
        for path in [&b"/data"[..], b"/Users", b"/healthz", b"/v1", b"/oauth2callback"] {
            assert!(looks_like_path(path), "{}", String::from_utf8_lossy(path));
        }
        for password in [&b"/toXhwim7"[..], b"/twDkYfw", b"/K9qLm2"] {
            assert!(!looks_like_path(password), "{}", String::from_utf8_lossy(password));
        }
        assert!(looks_like_identifier("Contraseña".as_bytes()));
        assert!(!looks_like_identifier("Kq8ñzX2vL9pQ".as_bytes()));
    }

    #[test]
    fn passphrases_are_plain_words_that_name_nothing() {
        for value in [
            "lucky-panda-velvet",
            "happy badger tiger meadow",
            "coral-anchor-brown-mocha",
            "crystal_lotus_marble_harbor",
            "ribbon.autumn.carbon",
            "silverglaciermaplelaurel",
            "cinderblossomsagenectar",
            // Words and a number.
            "Pine84",
            "HarborGray3",
            "pepperthunder2022",
            "brown-hawk-28",
            "spruce.winter.66*",
            "panda.compass.89",
            "tiger-maple-phoenix-tiger22",
            "Sailor-Latte-Mango-19",
            "BreezePepper69!",
            "summer_panther123_",
        ] {
            assert!(is_passphrase(value.as_bytes()), "{value}");
        }
        for value in [
            "prod-db-password",
            "enter your password here",
            "correct horse battery staple",
            "pydantic-mypy-metadata-store",
            "two words",
            "lucky-lucky-panda",
            "Lucky-Panda-Velvet",
            "lucky panda-velvet",
            "password_reset_form",
            "self.cipher.decrypt",
            "request.form.secret",
            "cleaned_data_field",
            "orders.internal.svc",
            "signing_key_file",
            "brwnx-panda-velvet",
            "a-b-c-d-e-f-g",
            // Run together: stand-ins, names, random letters, keyboard rows.
            "supersecretpassword",
            "kubernetesdashboard",
            "correcthorsebatterystaple",
            "letmeinpleasenow",
            "qwertyuiopasdfgh",
            "localdevelopmentonly",
            "xkqzvbnmwrtplkjhgf",
            "amberamberamberamber",
            "cinderblossom",
            "thisisnotarealkeyvalue",
            "accounts.validators.complexity",
            // Names with a version or a number, stand-ins with a digit.
            "Route53",
            "Base64",
            "Python3",
            "node-pool-3",
            "Welcome1",
            "Password1",
            "admin123",
            "Test1234",
            "hunter42",
            "mypass123",
            "testuser1",
            "Changeit1",
            "chacha20",
            "windows1252",
            "Summer",
            "us-east-1",
            "v1.2.3",
            "Pine-84-x",
        ] {
            assert!(!is_passphrase(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn names_about_secrets_are_told_from_names_of_secrets() {
        for name in [
            "password_hash",
            "NextToken",
            "apiKeyHeader",
            "token_type",
            "SECRET_NAME",
            "api-key-sha256",
            "ServiceSpecificCredentialId",
            "token_url",
            "OAUTH_TOKEN_ENDPOINT",
            "AccessKeyId",
            "analytics._writeKey",
            "PUSHER_APP_KEY",
            "recaptchaSiteKey",
            "RECAPTCHA_SITE_KEY",
            "hcaptcha-sitekey",
            "TURNSTILE_SITE_KEY",
            "site_key",
            "password_field",
            "SECRET_KEY_FILE",
            "oauth_nonce",
            "inventory.password.reset.commit",
            "password_help",
            "secret_santa_title",
            "PASSWORD_HASHERS_ALGO",
        ] {
            assert!(names_a_non_secret(name.as_bytes()), "{name}");
        }
        for name in [
            "password",
            "DB_PASSWORD",
            "clientSecret",
            "hashicorp_vault_token",
            "account_password",
            "secret_id",
            "tokenID",
            "url_password",
            "PUSHER_APP_SECRET",
            "RECAPTCHA_SECRET_KEY",
            "site_password",
            "SITE_PRIVATE_KEY",
            "site_api_key",
            "siteAccessKey",
            "FIELD_ENCRYPTION_KEY",
            "env_secret",
            "NONCE_KEY",
        ] {
            assert!(!names_a_non_secret(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn code_is_told_from_literals() {
        for value in [
            "),d?x.a.createElement(",
            "arguments[2]",
            "config.get()",
            "self.tokens[0]",
            "$scope.form.password()",
            "Jobs[-1].JobId",
            "StreamDescription.Shards[-1].ShardId",
            "events!connection/{connection_id}/auth",
            "share-{portfolio_id}-{org_type}",
            "{log_group_name}@{log_streams_page[-1]['logStreamName']}",
            "derive_key(salt,Kx9)",
            "hashlib.sha256(seed)",
            "str(random.uuid4())",
            "creds.get_frozen_credentials())",
            "to_text(private_key.private_bytes(",
            "process.current_process().authkey",
            "ReadOnlyCredentials(",
            "v.(string)",
            "t.apiKey||",
            "t.apiKey||\\",
        ] {
            assert!(looks_like_code(value.as_bytes()), "{value}");
        }
        for value in [
            "p4ss(w0rd)",
            "lcm(@hjm*ebu)_l1plz+mi&i!!gd+g_k^v873fnhdix3f^xlme",
            "kd(&v5u+$g9pr7bodui1&j=%lz-n+4tptunf2m7g&k6=s2n+k5",
            ")7s*tWiYQlM7i8&ng%J5DyEUhk8sDDh!OPvUQXQAFp!tG!1KYo",
            "Xk9#mP2$vL8q",
            "a1b2c3[d4]e5",
            "[FILTER]x",
            "h]6EszR}vJ*m",
            "Q{9}xT.w[2]z",
            "mK8.Tq[1]x",
            ",=cX5wv;zwxGE65jc^%u/K!>W(e:;0FLFzu?]YN_d7_OOM84Ud.J]8{47t:^L*6#",
            ")@p6^k2w9!x#3v$z8q*m4n&b7c%r1t-y5u=i0o+lj",
            "]k7#Lp)9qW!z2xV4^mN8*bR1&tY6%uE3+hJ5-gF0=dS",
            ";OvU%Pq?XFLe`ol+/MdMn*ZiQQAuon9a,N>]L)cW1Q,ei6|`Ns]RM_c|7YDa%sgi",
            ";k7#Lp)9qW!z2xV4^mN8*bR1&tY6%uE3+hJ5-gF0=dS",
            "[k7#Lp)9qW!z2xV4^mN8*bR1&tY6%uE3+hJ5-gF0=dSa@Zx|Q(",
            "CrR67G{Fry}{6l3E*1u,2Yl%/,}QC=VJNC{7!^GeH6W4kHj!5x=`4M<LWU/gf<d3",
        ] {
            assert!(!looks_like_code(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn email_addresses_are_recognised() {
        assert!(is_email_address(b"curl_by_daniel@haxx.se"));
        assert!(is_email_address(b"Daniel.Stenberg@haxx.nu"));
        for value in ["p@ssw0rd!2024", "abc@def", "user@host.c0m", "a@b@c.com", "@example.com"] {
            assert!(!is_email_address(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn identifiers_are_told_from_random_strings() {
        for name in [
            "Ec2InstanceMetadata",
            "S3AccessPointAttachments",
            "ServerlessV2PlatformVersions",
            "test_schema_2",
            "Orange-2",
            "user_service-name",
            "Orange-Tree",
            "15.minutes",
            "HTTPServerKey",
            "getApiTokenFromVault",
            "Ung\\u00fcltiges",
            "Gr\\u00F6\\u00DFe",
            "HmacSha256",
            "Base64",
            "Route53",
        ] {
            assert!(looks_like_identifier(name.as_bytes()), "{name}");
        }
        for value in [
            "pxLsGVpsC9A5S",
            "mUc3m00RsqyRe",
            "XLveDrKzF1SwaiNRPTaMtkrsTzedtebPPkmxEFIU",
            "b3c631c314c0bbca50c1b2843150fe33",
            "kjfhueyt9485osdfasdkljfh4lkjhakldjfhalkd",
            "rcHu+HzSFw89Ypyhn/896A==",
            "Cl1ent$ecret!",
            "ZzikAb7H0356ZovwY6HR",
            "qfeeYp8J17veklYt",
            "Willow.7368Quartz",
            "Lantern.48Willow",
            "Ember.85-Velvet-",
            "W4lnut-91.Anchor_",
            "Ember85-Velvet-",
            "CoffeeSoylent2019",
            "Autumn2019",
            "ShadowBluebird99",
            "Xk9\\u0041mQ2vLp7wRt4Zs",
        ] {
            assert!(!looks_like_identifier(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn placeholders_are_recognised() {
        for value in [
            "AKIAIOSFODNN7EXAMPLE",
            "xxxxxxxxxxxxxxxxxxxx",
            "${GITHUB_TOKEN}",
            "{password}",
            "{api_token}",
            "<your-token>",
            "<Your API Key>",
            "(whatever)",
            "changeme",
            "aaaaaaaaaaaaaaaa",
            "abcdefgh12",
            "key-0123456789",
            "zyxwvu99",
            "{{ .Values.token }}",
            "a1B2c3D4e5F6",
            "A1B2C3D4E5F6G7H8I9J0",
            "${DB_PASSWORD:-fallback}",
            "$(DB_PASSWORD)",
            "((github-deploy-key))",
            "&lt;set-in-vault&gt;",
            "AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAAq7Hk2mZzN0ejXy1dCm3e6gAAAAACAAAAAAAQZgAAAAEAACAAAAA",
            "postgres://app:%s@db/app",
            "%(password)s",
            "#{secrets.token}",
            "#{Acme.ApiKey",
            "Y2hhbmdlbWU=",
            "QUNDRVNTX0tFWQ0K",
            "user:pass",
            "lib,link",
            "P@ssw0rd!",
            "03#pa33w0rd",
            "yourStrong(!)Password",
            "cmVwbGFjZS1tZQ==",
            "dXNlcm5hbWU6cGFzc3dvcmQ=",
            "NRAK-000000000000000000000000000",
            "sq0atp-0000000000000_00000000",
            concat!("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc"),
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn sealed_secrets_ciphertext_is_an_encrypted_envelope() {
        // Base64 of `02 00` (a 512-byte session key's length), then random bytes.
        let body: String = (0..400u32).map(|i| char::from(b"Zq8+Lm/3Xw"[(i * 7 % 10) as usize])).collect();
        assert!(is_encrypted_envelope(format!("AgB{body}").as_bytes()));
        assert!(is_encrypted_envelope(format!("AQC{body}").as_bytes()));
        // Short, or not opening with a key length: a secret like any other.
        assert!(!is_encrypted_envelope(format!("AgB{}", &body[..100]).as_bytes()));
        assert!(!is_encrypted_envelope(format!("AgZ{body}").as_bytes()));
    }

    #[test]
    fn template_marks_inside_random_values_are_not_placeholders() {
        // Django secret keys: their alphabet has `$`, `(`, `%` and `s`.
        for value in [
            "=---kt(uwhab$8%s0kjjilhax7lk9@-%7@u51c)!ihm9mg#!27",
            "s1s%62lhj#mz=cno!r19+p+z94#9$r-0fzxt++i$(xrg#b7k^n",
            "(x-n(92-1#)2#_&%d*3$85b86tx^uxm(sa^ldeai+ok_5ob)rc",
            "FXNadb&uporBA<Aj95N",
            // A WordPress salt: its alphabet has `<` and `>`.
            "^uX%uy8HMj<kM>mbXFEi9$lJ1a}5B[R8cNVm2g=CX=uAKuJV7P(rV~.=PD?G3B<5",
        ] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn references_are_told_from_random_values_that_start_with_a_sigil() {
        for value in [
            "__HEROKU_API_KEY__",
            "#{DbPassword}#",
            "@@DB_PASSWORD@@",
            "$DB_PASSWORD",
            "$$DB_PASSWORD",
            "$env:API_TOKEN",
            "$this->password",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2O",
            "%APPDATA%",
            "%{hiera('token')}",
            "%{hiera(",
            "@db_password",
            "&default_password",
            "*db_password",
            "#secret",
            "{\"a\":1}",
            "$ARGO_PWD)",
        ] {
            assert!(is_reference(value.as_bytes()), "{value}");
        }
        for value in [
            "#xs@h2yeppz!^_mobw#95+d#3=c)!h%*i$7#kve_i4qojhxnfr",
            "&@JWZJtZ7r50VQ^0dUU&EoduH9eTEXlhEY9Xp&rt",
            "$7#kve_i4qojhxnfr",
            "@Wq4nZ8tLm2Xr7Kv5!",
            "%9fK2mQ7xLp4Zr8Tn",
            "%{Zq8xLp4#Tn2}",
            "$Kx9pQ)vL2#",
            "__xK9qTmW2vL8pZr__",
            "__k9x2mq7vz4__",
            "@@Wq4nZ8tLm2Xr7Kv5@@",
        ] {
            assert!(!is_reference(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn regular_expressions_are_told_from_passwords() {
        for regex in ["xox[baprs]-[0-9A-Za-z-]{10,72}", "^ghp_[A-Za-z0-9]{36}$", "(?:sk|rk)_live_\\w+"] {
            assert!(looks_like_regex(regex.as_bytes()), "{regex}");
        }
        for password in ["Kq8[zX2-vL9pQ", "a]{b7x!Qm2Lp", "Wq4n{Z8tLm2Xr7K}v5", "p49B5ivIFN3%~==w0u2"] {
            assert!(!looks_like_regex(password.as_bytes()), "{password}");
        }
    }

    #[test]
    fn paths_are_told_from_keys_that_open_with_a_slash() {
        for path in [
            "/etc/ssl/private/server.key",
            "~/.ssh/id_ed25519",
            "../secrets/token",
            "/var/run/docker/netns/3df878d8ed31",
            "/opt/MyApp/Config/keys.json",
            "prod/oauth",
            "my-app/db-credentials",
        ] {
            assert!(looks_like_path(path.as_bytes()), "{path}");
        }
        for key in [
            "/4EI3NF1mcAGkDcwfeZIcN4d9BmXC68TzwWeNLe0",
            "/l8+XIBvTXeOoDiBWu3cB6xZF7o60PCIH/7Jd1z4",
            "/6q1gGj/SvIMF74I9/CHqq2qkSHKwbBuuJixJC8x",
            "Xk9q/Lm2v",
            "hunter2/tango",
        ] {
            assert!(!looks_like_path(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn member_paths_are_told_from_passwords_with_a_dot() {
        for path in [
            "config.password",
            "Settings::API_KEY",
            "$this->secret",
            "x25519.X25519PrivateKey",
            "self.get_token()",
        ] {
            assert!(is_member_path(path.trim_start_matches('$').as_bytes()), "{path}");
        }
        for password in ["MovvAode.w1NHJcQm0TzQScB", "qYV3dvV8DR4iaqVraEq.ny", "Uxh.mHsC8v0f.d"] {
            assert!(!is_member_path(password.as_bytes()), "{password}");
        }
        assert!(is_uuid(b"ba39d592-3f24-4d3f-a988-ac14de6a6d47"));
        assert!(!is_uuid(b"ba39d592-3f24-4d3f-a988-ac14de6a6d4"));
        assert!(is_password_hash(b"pbkdf2_sha256$600000$K5p4f43o$8+X3nrWM="));
    }

    #[test]
    fn values_published_by_design_are_recognised() {
        assert!(is_public_value(b"0xb92cdf09ac5aecf3f77de21b221a1c5178ec6023"));
        assert!(is_public_value(b"pk.eyJ1IjoiYWNtZSIsImEiOiJjbGFiYyJ9.2vuFKJO0O0_WTJV8IvhwsF"));
        assert!(is_public_value(b"NRJS-ae64021ba18db9b826c"));
        assert!(is_public_value(b"pubkey-2bc7d894839967988c2589a8c751aee4"));
        use base64::Engine as _;
        let jwt = |claims: &str| {
            let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let header = engine.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
            format!("{header}.{}.{}", engine.encode(claims), engine.encode([7u8; 32]))
        };
        assert!(is_public_value(
            jwt(r#"{"iss":"supabase","ref":"xxdzqq","role":"anon","iat":1795523673}"#).as_bytes()
        ));
        assert!(!is_public_value(
            jwt(r#"{"iss":"supabase","ref":"xxdzqq","role":"service_role"}"#).as_bytes()
        ));
        assert!(is_public_value(b"phc_j7ZJGwd9afEEPgWso4OV5G4HcQCuRNmvInFmtCE2i3K"));
        let jwt_io = [
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ]
        .join(".");
        assert!(is_placeholder(jwt_io.as_bytes()));
        assert!(!is_placeholder(&jwt_io.as_bytes()[..jwt_io.len() - 1]));
        assert!(!is_public_value(b"sk.eyJ1IjoiYWNtZSIsImEiOiJjbGFiYyJ9.2vuFKJO0O0_WTJV8IvhwsF"));
        assert!(!is_public_value(b"0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"));
    }

    #[test]
    fn random_values_are_not_placeholders() {
        // The last: base64 of `deploy:Kq8#vN2pLx`, a real pair.
        for value in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq3v9T8a1B",
            "9fK2mQ7xLp4Zr8Tn",
            "ghp_R4nd0mV4lu3Str1ng",
            "ZGVwbG95OktxOCN2TjJwTHg=",
        ] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn github_checksum_verifies() {
        let random = b"Zq8LmW3xT5vN0pR7sK2hJ9gF4dB6cY";
        let mut token = b"ghp_".to_vec();
        token.extend_from_slice(random);
        token.extend_from_slice(&base62_6(crc32fast::hash(random)));
        assert!(checksum_ok(Checksum::GithubCrc32, &token));
        assert!(!is_placeholder(&token));
        let last = token.len() - 1;
        token[last] = if token[last] == b'A' { b'B' } else { b'A' };
        assert!(!checksum_ok(Checksum::GithubCrc32, &token));
        // A token that fails its checksum is made up, whichever rule meets it.
        assert!(is_placeholder(&token));
    }

    #[test]
    fn base62_is_zero_padded_most_significant_first() {
        assert_eq!(&base62_6(0), b"000000");
        assert_eq!(&base62_6(61), b"00000z");
        assert_eq!(&base62_6(62), b"000010");
        assert_eq!(&base62_6(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn random_case_mixes_are_told_from_camel_case() {
        assert!(mixes_cases_at_random(b"KrVLpVxaRofaAhvZUFWEHuXl"));
        for name in
            ["NetworkInsightsAnalyses", "SecurityGroupForVpcs", "AWSLAMBDAFUNCTIONNAME", "KrVLpVxaRofa"]
        {
            assert!(!mixes_cases_at_random(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn character_classes_are_counted() {
        assert_eq!(char_classes(b"user_password-field.x", true), 1);
        assert_eq!(char_classes(b"aB3", true), 2);
        assert_eq!(char_classes(b"aB3!", false), 3);
        assert_eq!(char_classes(b"LISyOXPuFnBYPJMW", true), 2);
        assert_eq!(char_classes(b"LISyOXPuFnBYPJMW", false), 1);
        assert_eq!(char_classes(b"Password", true), 1);
    }

    #[test]
    fn entropy_of_uniform_bytes() {
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-6);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
    }
}
