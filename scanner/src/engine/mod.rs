//! The matcher: rules compiled into one keyword automaton plus one regex per rule.
//!
//! Bytes in, [`RawMatch`]es out. The engine knows nothing of files, git or findings; the
//! caller says where the bytes came from and turns matches into findings.
//!
//! For each buffer:
//! 1. the [`prefilter`] reports every keyword occurrence;
//! 2. each occurrence opens a window of `rule.window()` bytes on both sides for the rules
//!    that keyword belongs to; a rule's overlapping windows are merged, so its regex runs at
//!    most once over any byte;
//! 3. the rule's regex runs inside each window (look-around such as `\b` sees the bytes
//!    outside it); a match that reaches the window's end is retried on a wider window so
//!    that a secret is never cut short;
//! 4. the secret group passes the [`checks`]: placeholders, entropy, checksum, character
//!    classes and stopwords.

pub mod checks;
pub mod columns;
pub mod prefilter;

use std::{ops::Range, sync::OnceLock};

use regex_automata::{
    meta::{self, Regex},
    util::{captures::Captures, syntax},
    Input,
};
use secretgate_patterns::{Reader, Rule};

use self::prefilter::Prefilter;

/// A rule that cannot be compiled. Names the file and the rule.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The regex does not compile.
    #[error("{file}: rule `{rule}`: invalid regex: {message}")]
    Regex {
        /// Where the rule was read from.
        file: String,
        /// The rule id.
        rule: String,
        /// The regex engine's message.
        message: String,
    },
    /// `secret_group` names a group the regex does not have.
    #[error(
        "{file}: rule `{rule}`: secret_group {group} does not exist (the regex has {groups} capture groups)"
    )]
    SecretGroup {
        /// Where the rule was read from.
        file: String,
        /// The rule id.
        rule: String,
        /// The group asked for.
        group: usize,
        /// How many explicit groups the regex has.
        groups: usize,
    },
    /// The keyword automaton could not be built.
    #[error("cannot build the keyword automaton: {0}")]
    Prefilter(#[from] aho_corasick::BuildError),
}

/// A rule ready to run.
#[derive(Debug)]
pub struct CompiledRule {
    /// The rule as written.
    pub rule: Rule,
    regex: LazyRegex,
    shape: Shape,
    /// How far before and after a keyword hit the regex runs; see [`Self::search_window`].
    reach: (usize, usize),
    stopwords: Vec<String>,
    excluded_secrets: Vec<LazyRegex>,
}

impl CompiledRule {
    /// The longest match the rule's regex can make, in bytes; `None` when unbounded.
    pub fn max_len(&self) -> Option<usize> {
        self.shape.max_len
    }

    /// When every match holds one of the rule's keywords within a literal of the regex: how
    /// far past the match's start that literal ends at most.
    pub fn keyword_at(&self) -> Option<usize> {
        self.shape.keyword_at
    }

    /// Where this rule's regex must run around one of its keywords at `keyword`, in a
    /// buffer of `len` bytes.
    #[inline]
    fn search_window(&self, keyword: &Range<usize>, len: usize) -> Range<usize> {
        let (before, after) = self.reach;
        keyword.start.saturating_sub(before)..keyword.end.saturating_add(after).min(len)
    }
}

/// How far before and after a keyword hit `rule`'s regex must run: the keyword window on
/// both sides, narrowed where the regex says more. A match that holds its keyword starts at
/// most `keyword_at` bytes before the keyword ends and spans at most `max_len` bytes, so
/// nothing outside those bounds can belong to it. On the benchmark tree that cut the raw
/// window bytes of `curl-user-credentials` and `airtable-personal-access-token`, whose
/// keywords (`curl`, `pat`) are common words, from 66 to 34 MB and from 62 to 11 MB.
fn reach(rule: &Rule, shape: Shape) -> (usize, usize) {
    let window = rule.window();
    match shape.keyword_at {
        Some(at) => (at.min(window) + LOOK_AROUND, shape.max_len.unwrap_or(window).min(window) + LOOK_AROUND),
        None => (window, window),
    }
}

/// Bytes beyond a match that its look-arounds (`\b`, `(?:[^A-Za-z]|$)`) may read.
pub const LOOK_AROUND: usize = 4;

/// What a regex says about its matches' extent.
#[derive(Debug, Clone, Copy)]
struct Shape {
    max_len: Option<usize>,
    keyword_at: Option<usize>,
}

/// When every match of `hir` holds a literal containing one of `keywords` (as the prefilter
/// sees them, ignoring ASCII case, which `(?i)` letters are): the most bytes from a match's
/// start to that literal's end. Leading bounded parts, captures and alternations whose every
/// branch holds a keyword are followed; anything else gives `None`.
fn keyword_at(hir: &regex_syntax::hir::Hir, keywords: &[String]) -> Option<usize> {
    let lower: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase().into_bytes()).collect();
    keyword_end(hir, &lower)
}

fn keyword_end(hir: &regex_syntax::hir::Hir, keywords: &[Vec<u8>]) -> Option<usize> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn sequence<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) {
        match hir.kind() {
            HirKind::Capture(capture) => sequence(&capture.sub, out),
            HirKind::Concat(items) => items.iter().for_each(|item| sequence(item, out)),
            _ => out.push(hir),
        }
    }
    /// The one byte (lowercased) a part matches, ignoring ASCII case.
    fn one_byte(hir: &Hir) -> Option<Vec<u8>> {
        match hir.kind() {
            HirKind::Literal(literal) => Some(literal.0.to_ascii_lowercase()),
            HirKind::Class(Class::Bytes(class)) => {
                let mut bytes =
                    class.iter().flat_map(|r| r.start()..=r.end()).map(|b| b.to_ascii_lowercase());
                let first = bytes.next()?;
                (class.iter().map(|r| usize::from(r.end() - r.start()) + 1).sum::<usize>() <= 2
                    && bytes.all(|b| b == first))
                .then(|| vec![first])
            }
            HirKind::Class(Class::Unicode(class)) => {
                let mut chars =
                    class.iter().flat_map(|r| r.start()..=r.end()).map(|c| c.to_ascii_lowercase());
                let first = chars.next().filter(char::is_ascii)?;
                (class.iter().map(|r| r.end() as usize - r.start() as usize + 1).sum::<usize>() <= 2
                    && chars.all(|c| c == first))
                .then(|| vec![first as u8])
            }
            _ => None,
        }
    }
    let holds_keyword =
        |run: &[u8]| keywords.iter().any(|k| !k.is_empty() && run.windows(k.len()).any(|w| w == &k[..]));
    let mut parts = Vec::new();
    sequence(hir, &mut parts);
    let (mut offset, mut run) = (0usize, Vec::new());
    for part in parts {
        if let Some(bytes) = one_byte(part) {
            offset += bytes.len();
            run.extend(bytes);
            if holds_keyword(&run) {
                return Some(offset);
            }
            continue;
        }
        match part.kind() {
            HirKind::Look(_) => continue,
            HirKind::Alternation(branches) => {
                let ends: Option<Vec<usize>> = branches.iter().map(|b| keyword_end(b, keywords)).collect();
                if let Some(ends) = ends {
                    return Some(offset + ends.into_iter().max().unwrap_or(0));
                }
            }
            _ => {}
        }
        offset = offset.checked_add(part.properties().maximum_len()?)?;
        run.clear();
    }
    None
}

/// A regex whose syntax was checked when its rule was loaded, and which is compiled the
/// first time its rule's keyword occurs. Compiling all ~400 built-in rules up front takes
/// tens of milliseconds, which a pre-commit hook (< 50 ms in all) cannot spend; a typical
/// commit touches a handful of rules.
#[derive(Debug)]
struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Result<Regex, String>>,
}

impl LazyRegex {
    /// Checks the syntax of `pattern` and returns it with its number of explicit groups.
    /// The regex, its number of capture groups, and the shape of its matches.
    fn parse(rule: &Rule, pattern: &str) -> Result<(Self, usize, Shape), Error> {
        let hir = syntax::parse_with(pattern, &syntax_config())
            .map_err(|err| regex_error(rule, &err.to_string()))?;
        let groups = hir.properties().explicit_captures_len();
        let shape =
            Shape { max_len: hir.properties().maximum_len(), keyword_at: keyword_at(&hir, &rule.keywords) };
        Ok((LazyRegex { pattern: pattern.to_string(), compiled: OnceLock::new() }, groups, shape))
    }

    /// The compiled regex, or the reason it could not be built (a size limit: the syntax
    /// is known to be valid). A rule whose regex cannot be built never matches;
    /// [`RuleSet::compile_all`] reports it, and the built-in rules are tested with it.
    fn get(&self) -> Result<&Regex, &str> {
        self.compiled.get_or_init(|| compile_regex(&self.pattern)).as_ref().map_err(String::as_str)
    }
}

/// Where one rule matched: the secret, and the whole match around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in its [`RuleSet`].
    pub rule: usize,
    /// The bytes of the secret (the rule's secret group).
    pub secret: Range<usize>,
    /// The bytes of the whole regex match; for a value read from a table, its row.
    pub whole: Range<usize>,
    /// For a value read from a table: the header that names its column, which decides the
    /// match as much as the row does (and so do the rows between them).
    pub anchor: Option<Range<usize>>,
}

impl RawMatch {
    /// The bytes this match reads: its whole match, its secret, and its header.
    pub fn extent(&self) -> Range<usize> {
        let (start, end) = (self.whole.start.min(self.secret.start), self.whole.end.max(self.secret.end));
        match &self.anchor {
            Some(anchor) => start.min(anchor.start)..end.max(anchor.end),
            None => start..end,
        }
    }
}

/// Every rule compiled, plus the keyword prefilter. Immutable and shared between threads;
/// each thread brings its own [`ScanCache`].
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    prefilter: Prefilter,
    /// Rules without keywords: their regex runs over the whole buffer.
    keywordless: Vec<u32>,
}

/// The lazy DFA's cache per rule regex. The 2 MiB default is cleared and rebuilt often on
/// rules with wide character classes; 8 MiB keeps them warm (PERF.md measured 1.6x on the
/// regex stage from a bigger cache). This is a ceiling: a cache grows only as far as used.
const HYBRID_CACHE_CAPACITY: usize = 8 << 20;

/// How far past its first window a match may be followed before it is cut off.
const MAX_WINDOW_GROWTH: usize = 64 << 10;

impl RuleSet {
    /// Compiles `rules`. Fails on the first rule whose regex or secret group is invalid.
    pub fn new(rules: Vec<Rule>) -> Result<Self, Error> {
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            let (regex, groups, shape) = LazyRegex::parse(&rule, &rule.regex)?;
            if rule.secret_group > groups {
                return Err(Error::SecretGroup {
                    file: rule.source.clone(),
                    rule: rule.id.clone(),
                    group: rule.secret_group,
                    groups,
                });
            }
            let stopwords = rule.stopwords.iter().map(|w| w.to_ascii_lowercase()).collect();
            let excluded_secrets = rule
                .excluded_secrets
                .iter()
                .map(|pattern| LazyRegex::parse(&rule, pattern).map(|(regex, ..)| regex))
                .collect::<Result<_, _>>()?;
            let reach = reach(&rule, shape);
            compiled.push(CompiledRule { rule, regex, shape, reach, stopwords, excluded_secrets });
        }
        let prefilter = Prefilter::new(
            compiled.iter().enumerate().map(|(index, c)| (index as u32, c.rule.keywords.as_slice())),
        )?;
        let keywordless =
            (0..compiled.len() as u32).filter(|&i| compiled[i as usize].rule.keywords.is_empty()).collect();
        Ok(RuleSet { rules: compiled, prefilter, keywordless })
    }

    /// Compiles every regex now instead of on first use, and reports the first that
    /// cannot be built. For `rules check`, tests, and a daemon that wants no surprises.
    pub fn compile_all(&self) -> Result<(), Error> {
        self.compile_where(|_| true)
    }

    /// [`RuleSet::compile_all`] for the rules `pick` chooses (a user's own rules, which no
    /// test has compiled).
    pub fn compile_where(&self, pick: impl Fn(&Rule) -> bool) -> Result<(), Error> {
        for compiled in self.rules.iter().filter(|compiled| pick(&compiled.rule)) {
            for regex in std::iter::once(&compiled.regex).chain(&compiled.excluded_secrets) {
                regex.get().map_err(|message| regex_error(&compiled.rule, message))?;
            }
        }
        Ok(())
    }

    /// The compiled rules, in the order they were given.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// The keyword prefilter.
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// A fresh per-thread cache for scanning with this rule set.
    pub fn new_cache(&self) -> ScanCache {
        ScanCache {
            regex: (0..self.rules.len()).map(|_| None).collect(),
            windows: vec![Vec::new(); self.rules.len()],
            touched: Vec::new(),
            captures: (0..self.rules.len()).map(|_| None).collect(),
            watch: Vec::new(),
            watched: Vec::new(),
        }
    }

    /// Scans `haystack` and calls `on_match` for every match that passes the rule's checks,
    /// rule by rule, in increasing offset within a rule.
    pub fn scan(&self, haystack: &[u8], cache: &mut ScanCache, mut on_match: impl FnMut(RawMatch)) {
        self.collect_windows(haystack, cache);
        let mut touched = std::mem::take(&mut cache.touched);
        touched.sort_unstable();
        for &rule in &touched {
            let mut windows = std::mem::take(&mut cache.windows[rule as usize]);
            merge_windows(&mut windows);
            for window in windows.iter_mut() {
                *window = widen_to_token_edges(haystack, window.clone());
            }
            merge_windows(&mut windows);

            self.search_windows(rule as usize, haystack, &windows, cache, &mut on_match);
            windows.clear();
            cache.windows[rule as usize] = windows;
        }
        touched.clear();
        cache.touched = touched;
    }

    /// Runs the prefilter and records, per rule, the windows where its regex must run.
    fn collect_windows(&self, haystack: &[u8], cache: &mut ScanCache) {
        let len = haystack.len();
        let ScanCache { windows, touched, watch, watched, .. } = cache;
        watched.clear();
        let watching = !watch.is_empty();
        self.prefilter.for_each_hit(haystack, |hit| {
            for &rule in self.prefilter.rules_of(hit.keyword) {
                // A reader's rule records the headers it reads under instead; see
                // `search_windows`.
                if watching && watch[rule as usize] && self.rules[rule as usize].rule.reader.is_none() {
                    watched.push((rule, hit.start..hit.end));
                }
                let window = self.rules[rule as usize].search_window(&(hit.start..hit.end), len);
                let rule_windows = &mut windows[rule as usize];
                if rule_windows.is_empty() {
                    touched.push(rule);
                }
                // The prefilter's lanes each report in order of the hits' ends, interleaved:
                // a hit mostly overlaps one of the last few windows and grows it in place
                // (a run of keyword hits, `AAAA…` in base64, stays one window per lane, not
                // one per byte); anything else is pushed and sorted out by `merge_windows`.
                let recent = rule_windows.len().saturating_sub(prefilter::LANES);
                match rule_windows[recent..]
                    .iter_mut()
                    .rev()
                    .find(|w| window.start <= w.end && window.end >= w.start)
                {
                    Some(near) => {
                        near.start = near.start.min(window.start);
                        near.end = near.end.max(window.end);
                    }
                    None => rule_windows.push(window),
                }
            }
        });
        for &rule in &self.keywordless {
            touched.push(rule);
            windows[rule as usize].push(0..len);
        }
    }

    fn search_windows(
        &self,
        rule_index: usize,
        haystack: &[u8],
        windows: &[Range<usize>],
        cache: &mut ScanCache,
        on_match: &mut impl FnMut(RawMatch),
    ) {
        let compiled = &self.rules[rule_index];
        let Ok(regex) = compiled.regex.get() else {
            return;
        };
        let regex_cache = cache.regex[rule_index].get_or_insert_with(|| regex.create_cache());
        let captures = cache.captures[rule_index].get_or_insert_with(|| regex.create_captures());
        // Matches already reported end here; a window grown past its end may reach into the
        // next window, whose search then resumes after the last match.
        let mut searched_to = 0;
        let mut memo = columns::TableMemo::default();
        for window in windows {
            let mut at = window.start.max(searched_to);
            let mut end = window.end;
            while at < end {
                let input = Input::new(haystack).range(at..end);
                // A table's reader needs only where its header is: no capture engine.
                let found = if compiled.rule.reader == Some(Reader::Table) {
                    regex.search_with(regex_cache, &input)
                } else {
                    regex.search_captures_with(regex_cache, &input, captures);
                    captures.get_match()
                };
                let Some(found) = found else {
                    break;
                };
                if found.end() == end && end < haystack.len() && end - window.end < MAX_WINDOW_GROWTH {
                    // The match may continue past the window: look again with more room.
                    end = (end + compiled.rule.window().max(4096)).min(haystack.len());
                    continue;
                }
                if let Some(reader) = compiled.rule.reader {
                    let header = match reader {
                        Reader::Table => Some(found.range()),
                        Reader::SqlValues => secret_span(captures, compiled.rule.secret_group),
                    };
                    if let Some(header) = header {
                        // The header's bytes decide every value read under it.
                        let anchor = columns::header_extent(reader, haystack, found.range());
                        let names_secret = checks::names_a_column_secret;
                        let is_header = columns::read(
                            reader,
                            haystack,
                            header,
                            found.range(),
                            names_secret,
                            &mut memo,
                            |column| {
                                if compiled.accepts_column_value(haystack, &column) {
                                    let (secret, whole) = (column.value, column.row);
                                    on_match(RawMatch {
                                        rule: rule_index,
                                        secret,
                                        whole,
                                        anchor: Some(anchor.clone()),
                                    });
                                }
                            },
                        );
                        if is_header {
                            if cache.watch.get(rule_index) == Some(&true) {
                                cache.watched.push((rule_index as u32, anchor.clone()));
                            }
                            // One reading per header: its other cells name the same table.
                            at = found.end().max(anchor.end);
                            continue;
                        }
                    }
                } else if let Some(secret) = secret_span(captures, compiled.rule.secret_group) {
                    let value = &haystack[secret.clone()];
                    let passphrase = compiled.rule.generic && checks::is_passphrase(value);
                    // A passphrase is one only under a password's or a secret's name.
                    if compiled.accepts_judged(value, passphrase)
                        && !(compiled.rule.generic && names_a_non_secret(haystack, captures, secret.clone()))
                        && (!passphrase || names_a_password(haystack, captures, &secret))
                    {
                        on_match(RawMatch { rule: rule_index, secret, whole: found.range(), anchor: None });
                    }
                }
                at = if found.is_empty() { found.end() + 1 } else { found.end() };
            }
            searched_to = searched_to.max(at.min(end));
        }
    }
}

impl CompiledRule {
    /// Whether `secret` passes this rule's checks.
    pub fn accepts(&self, secret: &[u8]) -> bool {
        self.accepts_judged(secret, self.rule.generic && checks::is_passphrase(secret))
    }

    /// Whether a value read from a table column passes this rule's checks: a passphrase
    /// only under a password's or a secret's name, as for a generic assignment.
    fn accepts_column_value(&self, haystack: &[u8], column: &columns::ColumnValue) -> bool {
        let value = &haystack[column.value.clone()];
        let passphrase = checks::is_passphrase(value);
        self.accepts_judged(value, passphrase)
            && (!passphrase || names_a_password_in(&haystack[column.name.clone()]))
    }

    /// [`Self::accepts`], told whether `secret` is a passphrase a generic rule found.
    fn accepts_judged(&self, secret: &[u8], passphrase: bool) -> bool {
        let rule = &self.rule;
        // A reference (`$GITLAB_TOKEN`, `%APPDATA%`, `{x}`) stands for a secret kept
        // elsewhere, and a value published by design (a browser key) guards nothing,
        // whichever rule found it: a `.netrc` or a CLI flag holds references too.
        if checks::is_placeholder(secret)
            || checks::has_stopword(secret, &self.stopwords)
            || checks::is_reference(secret)
            || checks::is_public_value(secret)
        {
            return false;
        }
        // A password of plain words (a passphrase, or words and a number as people make
        // them) reads as a name and holds few classes: the checks for classes, names and
        // entropy below would drop it, and the caller has seen it under a password's
        // name. A generic value with a space in it is a passphrase or prose.
        if passphrase {
            return self.not_excluded(secret);
        }
        if rule.generic && secret.contains(&b' ') {
            return false;
        }
        // Letters of both cases count as two classes, except in what a generic rule found:
        // there `Password` and `NetworkInsightsAnalyses` are words, unless the cases mix
        // as only chance mixes them (`KrVLpVxaRofaAhvZUFWEHuXl`).
        let cases_apart = !rule.generic || checks::mixes_cases_at_random(secret);
        if rule.min_char_classes.is_some_and(|min| checks::char_classes(secret, cases_apart) < min) {
            return false;
        }
        // A generic rule knows a secret only by the name it is assigned to; a value that
        // reads as a name itself (`accessTokenField`, `test_schema_2`), as an expression
        // (`arguments[2]`) is code, not a key, and an e-mail address is none either.
        if rule.generic
            && (checks::looks_like_identifier(secret)
                || checks::is_email_address(secret)
                || checks::looks_like_code(secret)
                || checks::looks_like_regex(secret)
                || checks::looks_like_path(secret)
                || checks::is_uuid(secret)
                || checks::is_ulid(secret)
                || checks::is_password_hash(secret))
        {
            return false;
        }
        // Hex has 16 symbols: a random 32-digit key falls under 3.5 bits one time in five.
        // Its bar is lower; a run or a repeat that hex makes (`aaaa…`, `0123…`) is a
        // placeholder, judged above.
        let all_hex = secret.iter().all(u8::is_ascii_hexdigit);
        let hex = secret.len() >= 20 && all_hex;
        // Ten characters hold at most log2(10) = 3.3 bits each, and two repeated ones among
        // them (`2ou_oY2~K9`) leave 2.9; eight hold at most 3.0, and any repeat leaves less.
        // A bar of 3.0 dropped half of random 8- and 9-character passwords and a quarter of
        // 10-character ones. A generic rule's short value (8 to 15 characters) is judged
        // against what its length allows: log2(length) - 0.75, a bar that random values
        // pass, while placeholders, names and references are told apart by the checks above,
        // not by their entropy. Other rules keep their bar: without those checks, it is
        // what drops words (`commented` in a `.netrc`).
        let short = rule.generic && (8..16).contains(&secret.len());
        // Short hex draws from 16 symbols only, so repeats are common: the bars above drop
        // 10-29% of random 8- to 18-digit hex values. Under 0.5 * log2(length) + 0.6 falls
        // fewer than one in twenty (2.1 bits for 8 digits, 2.6 for 16). This holds for
        // every rule that finds values this short (`4bb9f04b` in a database URL).
        // Outside generic rules, which judge words and names themselves, a hex value must
        // mix digits and letters: `deadbeef`, `cafebabe` and `12345678` are hex too.
        let mixed_hex = secret.iter().any(u8::is_ascii_digit) && secret.iter().any(u8::is_ascii_alphabetic);
        let short_hex = (8..20).contains(&secret.len()) && all_hex && (rule.generic || mixed_hex);
        let min_entropy = rule.entropy.map(|min| {
            let min = if hex { min.min(3.2) } else { min };
            let length_bits = (secret.len() as f64).log2();
            if short_hex {
                min.min(0.5 * length_bits + 0.6)
            } else if short {
                min.min(length_bits - 0.75)
            } else {
                min
            }
        });
        if min_entropy.is_some_and(|min| checks::shannon_entropy(secret) < min) {
            return false;
        }
        if rule.checksum.is_some_and(|kind| !checks::checksum_ok(kind, secret)) {
            return false;
        }
        self.not_excluded(secret)
    }

    /// Whether none of the rule's `excluded_secrets` regexes matches `secret`.
    fn not_excluded(&self, secret: &[u8]) -> bool {
        !self.excluded_secrets.iter().any(|regex| regex.get().is_ok_and(|regex| regex.is_match(secret)))
    }
}

/// Whether a generic match's `name` group (or, with none, its text before the value) names
/// a password or a secret, which a passphrase may be; a key's or a token's name given words
/// (`METADATA_KEY = 'pydantic-mypy-metadata'`) holds a lookup key or a label.
fn names_a_password(haystack: &[u8], captures: &Captures, secret: &Range<usize>) -> bool {
    match captures.get_group_by_name("name") {
        Some(name) => names_a_password_in(&haystack[name.range()]),
        // A rule with no name knows a password by the statement around it: the text it
        // matched before the value says so or not (`WITH LOGIN PASSWORD '…'`, `Password=…;`,
        // SQL's `IDENTIFIED BY '…'`).
        None => captures.get_match().is_some_and(|found| {
            let before = &haystack[found.start()..secret.start];
            names_a_password_in(before) || says_identified_by(before)
        }),
    }
}

/// Whether `text` holds SQL's `IDENTIFIED BY`, in any case and spacing.
fn says_identified_by(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    memchr::memmem::find_iter(&lower, b"identified").any(|at| {
        let rest = &lower[at + b"identified".len()..];
        let space = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        space > 0 && rest[space..].starts_with(b"by")
    })
}

/// [`names_a_password`] for the name itself.
fn names_a_password_in(name: &[u8]) -> bool {
    let name = name.to_ascii_lowercase();
    [&b"pass"[..], b"pwd", b"secret"].iter().any(|word| memchr::memmem::find(&name, word).is_some())
}

/// Whether a generic match's `name` group, widened left over the identifier it ends
/// (`NextToken` where the group holds `Token`), names something that is not a secret:
/// `password_hash`, `api_key_header`, `token_type`, `NextToken`, a URL route's parameter.
fn names_a_non_secret(haystack: &[u8], captures: &Captures, secret: Range<usize>) -> bool {
    let Some(name) = captures.get_group_by_name("name") else {
        return false;
    };
    // git's `user.signingkey` names a GPG key by its id or fingerprint: public.
    let lower_name = haystack[name.range()].to_ascii_lowercase();
    let git_signing_key = lower_name == b"signingkey" || lower_name.ends_with(b".signingkey");
    if git_signing_key && checks::is_key_id(&haystack[secret.clone()]) {
        return true;
    }
    // SCRAM's stored and server keys (MongoDB's `system.users`, PostgreSQL's verifiers) are
    // HMACs derived from the password, as a hash is: base64 of a SHA-1 or SHA-256 digest.
    // The names alone are not enough (`serverKey` may name a real key): SCRAM's own
    // words must be near.
    let name_text = &haystack[name.range()];
    let scram = name_text.eq_ignore_ascii_case(b"storedKey") || name_text.eq_ignore_ascii_case(b"serverKey");
    if scram && matches!(secret.len(), 28 | 44) && haystack[secret.clone()].ends_with(b"=") {
        let near = &haystack[name.start.saturating_sub(512)..(secret.end + 512).min(haystack.len())];
        let said = |word: &[u8]| memchr::memmem::find(near, word).is_some();
        if said(b"SCRAM-SHA") || (said(b"storedKey") && said(b"serverKey")) {
            return true;
        }
    }
    let is_name_byte = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-' || *b == b'.';
    let widened = haystack[..name.start].iter().rev().take(64).take_while(|b| is_name_byte(b)).count();
    // A parameter of a URL route (`"/reset/:token" => "passwords#edit"`, `/users/{token}`)
    // names a path segment, not a variable holding a secret; `//password = …` is a comment.
    let before = &haystack[..name.start - widened];
    let in_route = [&b"/"[..], b"/:", b"/{", b"/<"].iter().any(|mark| before.ends_with(mark))
        && !before.ends_with(b"//");
    in_route
        || names_a_qualified_type(before)
        || checks::names_a_non_secret(&haystack[name.start - widened..name.end])
}

/// Whether the name after `before` ends a quoted, `::`-qualified type name
/// (`"AWS::SecretsManager::Secret": "c85175a4ebcce361"`, a schema's hash per resource
/// type): a string naming a type, not a variable. An unquoted `Config::password = "…"`
/// (a C++ static member) still names a secret.
fn names_a_qualified_type(before: &[u8]) -> bool {
    if !before.ends_with(b"::") {
        return false;
    }
    let qualified = before
        .iter()
        .rev()
        .take(128)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'))
        .count();
    matches!(before.len().checked_sub(qualified + 1).map(|at| before[at]), Some(b'"' | b'\''))
}

fn secret_span(captures: &Captures, group: usize) -> Option<Range<usize>> {
    captures.get_group(group).map(|span| span.range()).filter(|span| !span.is_empty())
}

/// Whether `byte` can be part of a token: anything but whitespace, quotes, brackets and
/// the separators that end a value in code and config.
#[inline]
pub(crate) fn is_token_byte(byte: u8) -> bool {
    !matches!(
        byte,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b'"'
            | b'\''
            | b'`'
            | b'<'
            | b'>'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b','
            | b';'
    )
}

/// Moves a window's edges outwards to the nearest byte that cannot be part of a token
/// (at most [`MAX_WINDOW_GROWTH`] bytes each way).
///
/// Look-around in a regex sees past the window, so a window that ends inside a long token
/// does not yield a shortened secret: it yields no match at all (`\b` fails in the middle
/// of a word). Widening to token edges means a window never cuts a single-line secret,
/// however long; secrets that span lines (PEM blocks) need a rule `window` that covers them.
fn widen_to_token_edges(haystack: &[u8], window: Range<usize>) -> Range<usize> {
    let floor = window.start.saturating_sub(MAX_WINDOW_GROWTH);
    let start = haystack[floor..window.start]
        .iter()
        .rposition(|&b| !is_token_byte(b))
        .map_or(floor, |i| floor + i + 1);
    let ceiling = window.end.saturating_add(MAX_WINDOW_GROWTH).min(haystack.len());
    let end = haystack[window.end..ceiling]
        .iter()
        .position(|&b| !is_token_byte(b))
        .map_or(ceiling, |i| window.end + i);
    start..end
}

/// Sorts windows by start and merges those that overlap or touch.
fn merge_windows(windows: &mut Vec<Range<usize>>) {
    if windows.len() < 2 {
        return;
    }
    windows.sort_unstable_by_key(|w| w.start);
    let mut merged = 0;
    for i in 1..windows.len() {
        if windows[i].start <= windows[merged].end {
            windows[merged].end = windows[merged].end.max(windows[i].end);
        } else {
            merged += 1;
            windows[merged] = windows[i].clone();
        }
    }
    windows.truncate(merged + 1);
}

/// Bytes, not UTF-8: inputs are arbitrary files and `\w`, `\d`, `\b` mean ASCII, which
/// also keeps the automata small (no Unicode classes).
fn syntax_config() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let config = meta::Config::new().utf8_empty(false).hybrid_cache_capacity(HYBRID_CACHE_CAPACITY);
    Regex::builder()
        .syntax(syntax_config())
        .configure(config)
        .build(pattern)
        .map_err(|err| err.to_string().replace('\n', " "))
}

fn regex_error(rule: &Rule, message: &str) -> Error {
    Error::Regex { file: rule.source.clone(), rule: rule.id.clone(), message: message.replace('\n', " ") }
}

/// Per-thread scratch space: regex caches (made on a rule's first use), capture slots and
/// window lists. Made by [`RuleSet::new_cache`] and only valid with that rule set.
#[derive(Debug)]
pub struct ScanCache {
    regex: Vec<Option<meta::Cache>>,
    windows: Vec<Vec<Range<usize>>>,
    touched: Vec<u32>,
    captures: Vec<Option<Captures>>,
    /// `watch[rule]`: record where that rule's keywords occur.
    watch: Vec<bool>,
    /// The keyword occurrences of watched rules in the last buffer scanned.
    watched: Vec<(u32, Range<usize>)>,
}

impl ScanCache {
    /// Records, for each rule `i` with `rules[i]`, where its keywords occur in each buffer
    /// scanned.
    pub fn watch(&mut self, rules: Vec<bool>) {
        self.watch = rules;
    }

    /// The watched rules' keyword occurrences in the last buffer scanned, by rule, in the
    /// order found.
    pub fn watched_keywords(&self) -> &[(u32, Range<usize>)] {
        &self.watched
    }

    /// Heap memory held by the regex caches, in bytes.
    pub fn memory_usage(&self) -> usize {
        self.regex.iter().flatten().map(|c| c.memory_usage()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secretgate_patterns::{load::Strictness, parse_rule_file};

    fn rule_set(toml: &str) -> RuleSet {
        RuleSet::new(parse_rule_file(toml, "test.toml", Strictness::User).unwrap()).unwrap()
    }

    /// Where a regex holds its keyword: a prefix literal (any ASCII case), a case-insensitive
    /// group, every branch of an alternation; not a keyword spelled across an optional part.
    #[test]
    fn keyword_position_is_read_from_the_regex() {
        let at = |regex: &str, keywords: &[&str]| {
            let hir = syntax::parse_with(regex, &syntax_config()).unwrap();
            keyword_at(&hir, &keywords.iter().map(|k| k.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(at(r"\b(sl\.(?:u\.)?[A-Za-z]{5,9})\b", &["sl."]), Some(3));
        assert_eq!(
            at(r"(-----BEGIN[ A-Z]{0,32}PRIVATE KEY-----[A-Z]+)", &["PRIVATE KEY"]),
            Some(10 + 32 + 16)
        );
        assert_eq!(at(r"(?i)(?:airtable)[a-z]{0,30}key", &["airtable"]), Some(8));
        assert_eq!(at(r"(?i:ghp_|npm_)[a-z]{36}", &["ghp_", "npm_"]), Some(4));
        assert_eq!(at(r"(?i:eleven[_\-]?labs)[a-z]{3}", &["elevenlabs"]), None);
        assert_eq!(at(r"\b(SK[0-9a-f]{32})\b", &["twilio"]), None);
        assert_eq!(at(r"x+secret", &["secret"]), None);
    }

    fn secrets(set: &RuleSet, haystack: &[u8]) -> Vec<String> {
        let mut cache = set.new_cache();
        let mut out = Vec::new();
        set.scan(haystack, &mut cache, |m| {
            out.push(String::from_utf8_lossy(&haystack[m.secret]).into_owned())
        });
        out
    }

    const DEMO: &str = r#"
[[rules]]
id = "demo"
description = "demo"
keywords = ["dm_"]
regex = '''\b(dm_[a-z0-9]{12,})\b'''
window = 20
severity = "high"
examples = ["dm_q8w2e7r4t9y1"]
"#;

    #[test]
    fn a_match_longer_than_the_window_is_not_cut_short() {
        let set = rule_set(DEMO);
        let long = format!("x dm_{}", "k3m9p2q7w5".repeat(40));
        assert_eq!(secrets(&set, long.as_bytes()), vec![long[2..].to_string()]);
    }

    #[test]
    fn every_occurrence_is_reported_once() {
        let set = rule_set(DEMO);
        let text = "dm_q8w2e7r4t9y1 dm_z5x7c2v9b4n6\ndm_q8w2e7r4t9y1";
        assert_eq!(secrets(&set, text.as_bytes()).len(), 3);
    }

    #[test]
    fn a_run_of_keyword_hits_makes_one_window_per_lane_and_loses_nothing() {
        // `dm_dm_dm_…`: a keyword hit every three bytes, as `AAAA…` in base64 data is for
        // a keyword of `A`s. Each lane grows one window instead of one per hit.
        let set = rule_set(DEMO);
        let run = "dm_".repeat(100_000);
        let text = format!("{run} dm_q8w2e7r4t9y1 {run} dm_z5x7c2v9b4n6\n");
        let mut cache = set.new_cache();
        set.collect_windows(text.as_bytes(), &mut cache);
        assert!(cache.windows[0].len() <= 2 * prefilter::LANES, "{} windows", cache.windows[0].len());
        assert_eq!(secrets(&set, text.as_bytes()), ["dm_q8w2e7r4t9y1", "dm_z5x7c2v9b4n6"]);
    }

    #[test]
    fn word_boundaries_see_outside_the_window() {
        // The window starts right at the keyword; `\b` must still see the `a` before it.
        let set = rule_set(DEMO);
        assert!(secrets(&set, b"aaaaaaaaaaaaaaaadm_q8w2e7r4t9y1").is_empty());
    }

    #[test]
    fn bad_regex_names_file_and_rule() {
        let rules = parse_rule_file(&DEMO.replace("{12,}", "{12,"), "test.toml", Strictness::User).unwrap();
        let err = RuleSet::new(rules).unwrap_err().to_string();
        assert!(err.starts_with("test.toml: rule `demo`: invalid regex"), "{err}");
    }

    #[test]
    fn missing_secret_group_is_an_error() {
        let rules =
            parse_rule_file(&DEMO.replace("window = 20", "secret_group = 2"), "t.toml", Strictness::User)
                .unwrap();
        let err = RuleSet::new(rules).unwrap_err().to_string();
        assert!(err.contains("secret_group 2 does not exist"), "{err}");
    }

    #[test]
    fn windows_widen_to_token_edges() {
        let text = b"a = \"tok_abcdef\" + x";
        assert_eq!(widen_to_token_edges(text, 8..10), 5..15);
        assert_eq!(widen_to_token_edges(text, 0..1), 0..1);
    }

    #[test]
    fn windows_merge() {
        let mut w = vec![5..10, 0..3, 2..6, 20..30, 30..31];
        merge_windows(&mut w);
        assert_eq!(w, vec![0..10, 20..31]);
    }
}
