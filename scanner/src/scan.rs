//! The scan of one buffer: size and binary checks, the engine, then location and inline
//! suppression, ending in [`Finding`]s.

use std::{collections::HashSet, ops::Range, sync::Arc};

use secretgate_patterns::{gitleaks::PathRule, Rule};

use crate::{
    config::DEFAULT_MAX_FILE_SIZE,
    decode::{
        stage::{scan_decoded, DecodeScratch, DecodedMatch},
        DecodeOptions, MAX_DEPTH,
    },
    engine::{self, RawMatch, RuleSet, ScanCache},
    finding::{fingerprint, Finding},
    locate::{end_position, LineLocator},
    sink::{ScanSummary, SkipReason},
    suppress::{
        criteria::{Allowlists, MatchContext, Verdict},
        inline::MarkedLines,
    },
};

/// How many leading bytes are searched for a NUL to call an input binary (git's own
/// heuristic looks at the first 8000 bytes).
pub const DEFAULT_BINARY_SNIFF: usize = 8000;

/// How an input is named in its findings.
#[derive(Debug, Clone, Copy)]
pub struct InputName<'a> {
    /// Shown in reports: the path as given or walked.
    pub display: &'a str,
    /// Used in fingerprints: stable however the input was reached (see
    /// [`crate::paths::fingerprint_path`]).
    pub fingerprint: &'a str,
}

impl<'a> InputName<'a> {
    /// A name used both ways (standard input, a blob).
    pub fn same(name: &'a str) -> Self {
        InputName { display: name, fingerprint: name }
    }

    /// The path allowlists judge: `None` for the empty name, a blob scanned before it is
    /// traced to its paths (the history sweep), whose findings are judged by path later.
    pub fn path(&self) -> Option<&'a str> {
        Some(self.fingerprint).filter(|path| !path.is_empty())
    }
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A rule does not compile.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// Two rules share an id.
    #[error(transparent)]
    Rules(#[from] secretgate_patterns::Error),
    /// A rule to disable does not exist.
    #[error("cannot disable rule `{0}`: no rule has that id (see `secretgate rules list`)")]
    UnknownDisabledRule(String),
    /// An allowlist names a rule that does not exist.
    #[error(
        "an allowlist's target_rules names `{0}`, but no rule has that id (see `secretgate rules list`)"
    )]
    UnknownTargetRule(String),
    /// The size limit is zero.
    #[error("the maximum input size must be at least 1 byte")]
    ZeroSizeLimit,
    /// A path rule's regex does not compile.
    #[error("path rule `{id}`: the path regex does not compile: {message}")]
    PathRule {
        /// The rule.
        id: String,
        /// Why.
        message: String,
    },
    /// The decoding depth is too deep.
    #[error("decode depth {0} is too deep: at most {MAX_DEPTH} (0 turns decoding off)")]
    DecodeDepth(u8),
}

/// Builds a [`Scanner`]; settings are frozen by [`ScannerBuilder::build`].
#[derive(Debug, Clone)]
pub struct ScannerBuilder {
    rules: Vec<Rule>,
    disabled: Vec<String>,
    max_input_size: u64,
    binary_sniff: usize,
    allowlists: Arc<Allowlists>,
    decode: DecodeOptions,
    path_rules: Vec<PathRule>,
}

impl ScannerBuilder {
    /// A builder over `rules` with default limits.
    pub fn new(rules: Vec<Rule>) -> Self {
        ScannerBuilder {
            rules,
            disabled: Vec::new(),
            max_input_size: DEFAULT_MAX_FILE_SIZE,
            binary_sniff: DEFAULT_BINARY_SNIFF,
            allowlists: Arc::default(),
            decode: DecodeOptions::default(),
            path_rules: Vec::new(),
        }
    }

    /// Rules that report files by their path alone (gitleaks rules with a `path` and no
    /// `regex`).
    pub fn path_rules(&mut self, rules: impl IntoIterator<Item = PathRule>) -> &mut Self {
        self.path_rules.extend(rules);
        self
    }

    /// What to decode before matching (on by default: every encoding, depth 2);
    /// [`DecodeOptions::off`] matches text only as written.
    pub fn decode(&mut self, options: DecodeOptions) -> &mut Self {
        self.decode = options;
        self
    }

    /// Allowlists judged on every match, and rules limited to some paths.
    pub fn allowlists(&mut self, allowlists: Arc<Allowlists>) -> &mut Self {
        self.allowlists = allowlists;
        self
    }

    /// Adds rules (a team's own) to the set.
    pub fn add_rules(&mut self, rules: impl IntoIterator<Item = Rule>) -> &mut Self {
        self.rules.extend(rules);
        self
    }

    /// Turns off the rules with these ids.
    pub fn disable_rules(&mut self, ids: impl IntoIterator<Item = String>) -> &mut Self {
        self.disabled.extend(ids);
        self
    }

    /// Inputs larger than this are skipped and counted.
    pub fn max_input_size(&mut self, bytes: u64) -> &mut Self {
        self.max_input_size = bytes;
        self
    }

    /// How many leading bytes to search for a NUL byte; 0 turns binary detection off.
    pub fn binary_sniff(&mut self, bytes: usize) -> &mut Self {
        self.binary_sniff = bytes;
        self
    }

    /// Compiles the rules.
    pub fn build(&self) -> Result<Scanner, BuildError> {
        if self.max_input_size == 0 {
            return Err(BuildError::ZeroSizeLimit);
        }
        if self.decode.depth > MAX_DEPTH {
            return Err(BuildError::DecodeDepth(self.decode.depth));
        }
        let ids: HashSet<&str> = self.rules.iter().map(|r| r.id.as_str()).collect();
        if let Some(unknown) = self.disabled.iter().find(|id| !ids.contains(id.as_str())) {
            return Err(BuildError::UnknownDisabledRule(unknown.clone()));
        }
        if let Some(unknown) = self.allowlists.named_rules().find(|id| !ids.contains(id)) {
            return Err(BuildError::UnknownTargetRule(unknown.to_string()));
        }
        secretgate_patterns::load::check_unique(&self.rules)?;
        let rules = self.rules.iter().filter(|r| !self.disabled.contains(&r.id)).cloned().collect();
        let path_rules = self
            .path_rules
            .iter()
            .filter(|r| !self.disabled.contains(&r.id))
            .map(|rule| {
                regex_automata::meta::Regex::new(&rule.path)
                    .map(|regex| (rule.clone(), regex))
                    .map_err(|err| BuildError::PathRule { id: rule.id.clone(), message: err.to_string() })
            })
            .collect::<Result<_, _>>()?;
        Ok(Scanner {
            rules: RuleSet::new(rules)?,
            max_input_size: self.max_input_size,
            binary_sniff: self.binary_sniff,
            allowlists: Arc::clone(&self.allowlists),
            decode: self.decode,
            path_rules,
        })
    }
}

/// The compiled rules and the input limits. Immutable; share it behind an `Arc` and give
/// each thread its own [`Worker`].
#[derive(Debug)]
pub struct Scanner {
    rules: RuleSet,
    max_input_size: u64,
    binary_sniff: usize,
    allowlists: Arc<Allowlists>,
    decode: DecodeOptions,
    path_rules: Vec<(PathRule, regex_automata::meta::Regex)>,
}

/// Per-thread state for scanning: the engine's caches and reusable buffers.
#[derive(Debug)]
pub struct Worker {
    cache: ScanCache,
    raw: Vec<RawMatch>,
    accepted: Vec<RawMatch>,
    decoded: Vec<DecodedMatch>,
    decode_scratch: DecodeScratch,
    /// Where watched rules' keywords occur in the last input (not in text decoded from it).
    watched: Vec<(u32, Range<usize>)>,
}

impl Worker {
    /// The plain matches the last [`Scanner::scan_input`] reported, sorted by position.
    pub fn last_matches(&self) -> &[RawMatch] {
        &self.accepted
    }

    /// The matches in decoded text the last [`Scanner::scan_input`] reported, sorted by
    /// position; after [`Scanner::scan_matches`], all it found, before markers and allowlists.
    pub fn last_decoded(&self) -> &[DecodedMatch] {
        &self.decoded
    }

    /// Records, for each rule `i` (index in [`Scanner::rules`]) with `rules[i]`, where its
    /// keywords occur in each input.
    pub fn watch_rules(&mut self, rules: Vec<bool>) {
        self.cache.watch(rules);
    }

    /// The watched rules' keyword occurrences in the last input scanned (not in text
    /// decoded from it), as (rule, byte range).
    pub fn watched_keywords(&self) -> &[(u32, Range<usize>)] {
        &self.watched
    }
}

impl Scanner {
    /// The compiled rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The allowlists judged during the scan; a [`crate::suppress::Suppressor`] judges
    /// them again once a finding's commit is known.
    pub fn allowlists(&self) -> &Arc<Allowlists> {
        &self.allowlists
    }

    /// What is decoded before matching.
    pub fn decode_options(&self) -> &DecodeOptions {
        &self.decode
    }

    /// The size limit, in bytes.
    pub fn max_input_size(&self) -> u64 {
        self.max_input_size
    }

    /// A worker for one thread.
    pub fn worker(&self) -> Worker {
        Worker {
            cache: self.rules.new_cache(),
            raw: Vec::new(),
            accepted: Vec::new(),
            decoded: Vec::new(),
            decode_scratch: DecodeScratch::default(),
            watched: Vec::new(),
        }
    }

    /// Why an input of `len` bytes starting with `head` is not to be scanned, if so. UTF-16
    /// text is text (see [`Scanner::text`]).
    pub fn skip_reason(&self, len: u64, head: &[u8]) -> Option<SkipReason> {
        if len > self.max_input_size {
            return Some(SkipReason::TooLarge);
        }
        let sniff = &head[..head.len().min(self.binary_sniff)];
        memchr::memchr(0, sniff).filter(|_| !crate::utf16::is_utf16(head)).map(|_| SkipReason::Binary)
    }

    /// What the rules read of an input that [`Scanner::skip_reason`] lets through: the
    /// input itself, or UTF-16 text as UTF-8 (line for line).
    pub fn text<'a>(&self, input: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        match crate::utf16::to_utf8(input) {
            Some(utf8) => std::borrow::Cow::Owned(utf8),
            None => std::borrow::Cow::Borrowed(input),
        }
    }

    /// [`Scanner::text`] for an input the caller owns: no copy unless it is UTF-16.
    pub fn into_text(&self, input: Vec<u8>) -> Vec<u8> {
        crate::utf16::to_utf8(&input).unwrap_or(input)
    }

    /// Scans one input named `path` and appends its findings to `out`; counts it (or why
    /// it was skipped) in `summary`.
    pub fn scan_input(
        &self,
        haystack: &[u8],
        name: InputName,
        worker: &mut Worker,
        summary: &mut ScanSummary,
        out: &mut Vec<Finding>,
    ) {
        self.scan_path(name, summary, out);
        self.scan_input_where(haystack, name, worker, summary, out, |_, _| true)
    }

    /// Whether any rule flags files by their path alone.
    pub fn has_path_rules(&self) -> bool {
        !self.path_rules.is_empty()
    }

    /// Findings of the rules that flag a file by its path alone (whatever it holds, binary
    /// or large). [`Scanner::scan_input`] applies them; sources that scan an input in parts
    /// call this once per input.
    pub fn scan_path(&self, name: InputName, summary: &mut ScanSummary, out: &mut Vec<Finding>) {
        for (rule, regex) in &self.path_rules {
            if !name.fingerprint.is_empty() && regex.is_match(name.fingerprint) {
                out.push(path_finding(rule, name));
                summary.findings += 1;
            }
        }
    }

    /// Like [`Scanner::scan_input`], but reports only the matches whose secret spans a line
    /// that `keep(first_line, last_line)` accepts (1-based). Git sources pass "touches an
    /// added line": the rules still see the whole input, so a multi-line secret that is only
    /// partly new is found.
    pub fn scan_input_where(
        &self,
        haystack: &[u8],
        name: InputName,
        worker: &mut Worker,
        summary: &mut ScanSummary,
        out: &mut Vec<Finding>,
        keep: impl Fn(usize, usize) -> bool,
    ) {
        if let Some(reason) = self.skip_reason(haystack.len() as u64, haystack) {
            summary.skip(reason, haystack.len() as u64);
            return;
        }
        summary.inputs += 1;
        summary.bytes += haystack.len() as u64;
        let text = self.text(haystack);
        let haystack = &*text;
        let mut lines = LineLocator::new(haystack);
        let mut matches = std::mem::take(&mut worker.accepted);
        matches.clear();
        self.scan_matches(haystack, name, worker, summary, &mut matches, |m| {
            let (line, column) = lines.locate(m.secret.start);
            let (end_line, _) = end_position(haystack, m.secret.clone(), (line, column));
            keep(line, end_line) || header_line(haystack, m, line).is_some_and(|header| keep(header, header))
        });
        let mut locator = LineLocator::new(haystack);
        for m in &matches {
            out.push(self.finding(haystack, name, m, &mut locator));
            summary.findings += 1;
        }
        worker.accepted = matches;

        // Matches in decoded text, located at their encoded span; the worker keeps those
        // reported.
        let mut decoded = std::mem::take(&mut worker.decoded);
        let mut locator = LineLocator::new(haystack);
        let mut lines = MarkedLines::new(haystack);
        decoded.retain(|m| {
            let finding = self.decoded_finding(haystack, name, m, &mut locator);
            if !keep(finding.line, finding.end_line) || !self.decoded_allowed(&mut lines, name, m, summary) {
                return false;
            }
            out.push(finding);
            summary.findings += 1;
            true
        });
        worker.decoded = decoded;
    }

    /// Whether a match in decoded text survives inline markers and allowlists (counted in
    /// `summary` when it does not).
    pub fn decoded_allowed(
        &self,
        lines: &mut MarkedLines,
        name: InputName,
        m: &DecodedMatch,
        summary: &mut ScanSummary,
    ) -> bool {
        let (line, marked) = lines.around(m.origin.clone());
        if marked {
            summary.suppressed += 1;
            return false;
        }
        if !self.allowlists.is_empty() {
            let ctx = MatchContext {
                path: name.path(),
                secret: &m.secret,
                whole: None,
                line: Some(line),
                commit: None,
            };
            if self.allowlists.judge(&self.rules.rules()[m.rule].rule.id, &ctx) == Verdict::Allowed {
                summary.allowlisted += 1;
                return false;
            }
        }
        true
    }

    /// The engine's plain matches in `haystack` that survive everything but location:
    /// generic matches yielding to specific ones (plain or decoded), `keep` (called in order
    /// of position), inline markers and allowlists. Sorted by position; appended to `out`.
    /// Matches in decoded text are left in the worker for [`Scanner::scan_input_where`]. No
    /// size or binary check and no input counted: sources that scan parts of an input (the
    /// history sweep's delta-aware scan) call this on each part and build findings with
    /// [`Scanner::findings_from_matches`].
    pub fn scan_matches(
        &self,
        haystack: &[u8],
        name: InputName,
        worker: &mut Worker,
        summary: &mut ScanSummary,
        out: &mut Vec<RawMatch>,
        mut keep: impl FnMut(&RawMatch) -> bool,
    ) {
        let Worker { cache, raw, decoded, decode_scratch, watched, .. } = worker;
        raw.clear();
        decoded.clear();
        self.rules.scan(haystack, cache, |m| raw.push(m));
        watched.clear();
        watched.extend_from_slice(cache.watched_keywords());
        let rules = self.rules.rules();
        if !self.allowlists.is_empty() {
            // A rule limited to other paths did not match here at all: it must not hide a
            // generic match of the same bytes either.
            raw.retain(|m| self.allowlists.rule_applies_to_path(&rules[m.rule].rule.id, name.path()));
        }
        self.drop_duplicate_matches(raw);
        let is_generic = |rule: usize| rules[rule].rule.generic;
        let stage =
            scan_decoded(&self.rules, haystack, &self.decode, decode_scratch, cache, is_generic, decoded);
        summary.decode_capped += u64::from(stage.capped);
        if !self.allowlists.is_empty() {
            decoded.retain(|m| self.allowlists.rule_applies_to_path(&rules[m.rule].rule.id, name.path()));
        }
        if raw.is_empty() && decoded.is_empty() {
            return;
        }
        self.drop_decoded_duplicates(haystack, raw, decoded);
        raw.sort_unstable_by_key(|m| (m.secret.start, m.rule));
        let mut lines = MarkedLines::new(haystack);
        for m in raw.iter() {
            if !keep(m) {
                continue;
            }
            let rule_id = &self.rules.rules()[m.rule].rule.id;
            let (line, marked) = lines.around(m.whole.clone());
            if marked {
                summary.suppressed += 1;
                continue;
            }
            if !self.allowlists.is_empty() {
                let ctx = MatchContext {
                    path: name.path(),
                    secret: &haystack[m.secret.clone()],
                    whole: Some(&haystack[m.whole.clone()]),
                    line: Some(line),
                    commit: None,
                };
                if self.allowlists.judge(rule_id, &ctx) == Verdict::Allowed {
                    summary.allowlisted += 1;
                    continue;
                }
            }
            out.push(m.clone());
        }
    }

    /// Findings for plain `matches` and `decoded` ones (each sorted by position) in
    /// `haystack`.
    pub fn findings_from_matches(
        &self,
        haystack: &[u8],
        name: InputName,
        matches: &[RawMatch],
        decoded: &[DecodedMatch],
        out: &mut Vec<Finding>,
    ) {
        let mut locator = LineLocator::new(haystack);
        out.extend(matches.iter().map(|m| self.finding(haystack, name, m, &mut locator)));
        let mut locator = LineLocator::new(haystack);
        out.extend(decoded.iter().map(|m| self.decoded_finding(haystack, name, m, &mut locator)));
    }

    /// Drops matches in decoded text that add nothing: one that a plain match already
    /// reports (the same rule, or the same secret, inside the same encoded span: an
    /// escaped literal whose token needed no unescaping), a generic one where anything
    /// was found in plain text, and repeats of one secret reached through two chains
    /// (a base64 value inside an escaped literal), keeping the shortest chain. Then drops
    /// plain generic matches inside an encoded span where a specific rule matched.
    ///
    /// Every step sorts and sweeps: a file can hold a hundred thousand encoded secrets,
    /// and comparing every pair would hang the scan.
    fn drop_decoded_duplicates(
        &self,
        haystack: &[u8],
        plain: &mut Vec<RawMatch>,
        decoded: &mut Vec<DecodedMatch>,
    ) {
        let generic = |rule: usize| self.rules.rules()[rule].rule.generic;
        let overlaps = |a: &Range<usize>, b: &Range<usize>| a.start < b.end && b.start < a.end;

        // 1. Against plain matches: decoded origins in increasing start, plain matches
        //    in increasing start; `active` holds the plain matches that may still overlap.
        if !plain.is_empty() {
            let mut by_start: Vec<&RawMatch> = plain.iter().collect();
            by_start.sort_unstable_by_key(|p| p.whole.start);
            decoded.sort_by_key(|d| d.origin.start);
            let (mut next, mut active): (usize, Vec<&RawMatch>) = (0, Vec::new());
            decoded.retain(|d| {
                while next < by_start.len() && by_start[next].whole.start < d.origin.end {
                    active.push(by_start[next]);
                    next += 1;
                }
                active.retain(|p| p.whole.end > d.origin.start);
                // A specific plain match holding the very text that string escapes alone
                // decode to the match (a service account's key, `\n` and all) reports that
                // credential already. Base64 and the rest are another matter: a token inside
                // a Docker `auth` is worth naming as the token it is.
                let unescaped = d.chain.as_slice().iter().all(|e| *e == crate::decode::Encoding::Escape);
                !active.iter().any(|p| {
                    overlaps(&p.whole, &d.origin)
                        && (generic(d.rule)
                            || p.rule == d.rule
                            || haystack[p.secret.clone()] == d.secret[..]
                            || (unescaped
                                && !generic(p.rule)
                                && p.secret.start <= d.origin.start
                                && d.origin.end <= p.secret.end))
                })
            });
        }

        // 2. Repeats of one secret under one rule: sorted together, overlapping origins
        //    form a cluster, and the cluster keeps its shortest chain.
        decoded.sort_by(|a, b| (a.rule, &a.secret, a.origin.start).cmp(&(b.rule, &b.secret, b.origin.start)));
        let mut kept: Vec<DecodedMatch> = Vec::with_capacity(decoded.len());
        let mut cluster_end = 0;
        for d in decoded.drain(..) {
            match kept.last_mut() {
                Some(last)
                    if last.rule == d.rule && last.secret == d.secret && d.origin.start < cluster_end =>
                {
                    cluster_end = cluster_end.max(d.origin.end);
                    if d.chain.as_slice().len() < last.chain.as_slice().len() {
                        *last = d;
                    }
                }
                _ => {
                    cluster_end = d.origin.end;
                    kept.push(d);
                }
            }
        }
        kept.sort_by_key(|d| (d.origin.start, d.rule));
        *decoded = kept;

        // 3. The other way round: a generic match on the encoded text itself
        //    (`token: <base64>`) yields to the precise rule that matched what it decodes
        //    to. The specific origins are merged into sorted, disjoint spans first.
        let mut spans: Vec<Range<usize>> =
            decoded.iter().filter(|d| !generic(d.rule)).map(|d| d.origin.clone()).collect();
        if spans.is_empty() || !plain.iter().any(|p| generic(p.rule)) {
            return;
        }
        spans.sort_unstable_by_key(|s| s.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for span in spans {
            match merged.last_mut() {
                Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
                _ => merged.push(span),
            }
        }
        plain.retain(|p| {
            if !generic(p.rule) {
                return true;
            }
            let after = merged.partition_point(|s| s.start < p.secret.end);
            !after.checked_sub(1).is_some_and(|i| overlaps(&merged[i], &p.secret))
        });
    }

    /// Drops matches of generic rules whose secret overlaps a specific rule's secret, and
    /// all but the first rule's match of one secret (two generic name shapes can read the
    /// same assignment; a provider's rule and the PEM rule both read a service account's
    /// key): one credential is one finding, under its most precise name. Rules come in
    /// file order, providers before the catch-alls.
    fn drop_duplicate_matches(&self, raw: &mut Vec<RawMatch>) {
        let is_generic = |m: &RawMatch| self.rules.rules()[m.rule].rule.generic;
        // One secret: the same bytes for generic rules; for specific ones the same start
        // (the PEM rule may end a key where a provider's rule ends its JSON string).
        let key = |m: &RawMatch| match is_generic(m) {
            true => (m.secret.start, m.secret.end, true),
            false => (m.secret.start, 0, false),
        };
        let mut first_rule: std::collections::HashMap<(usize, usize, bool), usize> =
            std::collections::HashMap::new();
        for m in raw.iter() {
            let rule = first_rule.entry(key(m)).or_insert(m.rule);
            *rule = (*rule).min(m.rule);
        }
        let specific: Vec<_> = raw.iter().filter(|m| !is_generic(m)).map(|m| m.secret.clone()).collect();
        raw.retain(|m| {
            first_rule[&key(m)] == m.rule
                && !(is_generic(m)
                    && specific.iter().any(|s| s.start < m.secret.end && m.secret.start < s.end))
        });
        // A value read under two headers (its table's, and a data row above it that reads
        // as one) is one match: the first found, under the table's own header.
        if raw.iter().any(|m| m.anchor.is_some()) {
            raw.sort_by_key(|m| (m.secret.start, m.rule, m.secret.end));
            raw.dedup_by(|later, kept| later.rule == kept.rule && later.secret == kept.secret);
        }
    }

    fn finding(&self, haystack: &[u8], name: InputName, m: &RawMatch, locator: &mut LineLocator) -> Finding {
        let mut finding = self.finding_at(
            haystack,
            name,
            m.rule,
            m.secret.clone(),
            &haystack[m.secret.clone()],
            Vec::new(),
            locator,
        );
        finding.header_line = header_line(haystack, m, finding.line);
        finding
    }

    /// A finding of rule `rule` for `secret`, located at `span` of `haystack`.
    #[allow(clippy::too_many_arguments)]
    fn finding_at(
        &self,
        haystack: &[u8],
        name: InputName,
        rule: usize,
        span: Range<usize>,
        secret: &[u8],
        decoded: Vec<crate::decode::Encoding>,
        locator: &mut LineLocator,
    ) -> Finding {
        let rule = &self.rules.rules()[rule].rule;
        let (line, column) = locator.locate(span.start);
        let (end_line, end_column) = end_position(haystack, span, (line, column));
        Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            severity: rule.severity,
            path: name.display.to_string(),
            line,
            column,
            end_line,
            end_column,
            secret: String::from_utf8_lossy(secret).into_owned(),
            fingerprint: fingerprint(name.fingerprint, &rule.id, secret),
            commit: None,
            author: None,
            email: None,
            date: None,
            revoke: rule.revoke.clone(),
            decoded,
            header_line: None,
        }
    }

    /// A finding for a secret in decoded text: located at the encoded span it came from,
    /// fingerprinted from the decoded secret exactly as a plain finding is, so a credential
    /// is recognised whether it was written plainly or encoded.
    fn decoded_finding(
        &self,
        haystack: &[u8],
        name: InputName,
        m: &DecodedMatch,
        locator: &mut LineLocator,
    ) -> Finding {
        let chain = m.chain.as_slice().to_vec();
        self.finding_at(haystack, name, m.rule, m.origin.clone(), &m.secret, chain, locator)
    }
}

/// The line of the header of a value `m` read from a table, whose secret is on `line`.
fn header_line(haystack: &[u8], m: &RawMatch, line: usize) -> Option<usize> {
    let anchor = m.anchor.as_ref()?;
    let between = haystack.get(anchor.start..m.secret.start.max(anchor.start))?;
    Some(line - memchr::memchr_iter(b'\n', between).count())
}

/// The finding of a path rule: the file itself, at line 1, with no secret.
fn path_finding(rule: &PathRule, name: InputName) -> Finding {
    Finding {
        rule_id: rule.id.clone(),
        description: rule.description.clone(),
        severity: secretgate_patterns::Severity::High,
        path: name.display.to_string(),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
        secret: String::new(),
        fingerprint: fingerprint(name.fingerprint, &rule.id, b""),
        commit: None,
        author: None,
        email: None,
        date: None,
        revoke: None,
        decoded: Vec::new(),
        header_line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scanner() -> Scanner {
        ScannerBuilder::new(secretgate_patterns::builtin::rules().unwrap()).build().unwrap()
    }

    /// Pieces that make hostile input: keywords, quotes, escapes, newlines, NUL, bytes
    /// that are not UTF-8, and token characters.
    const PIECES: &[&[u8]] = &[
        b"ghp_",
        b"AKIA",
        b"-----BEGIN RSA PRIVATE KEY-----",
        b"-----END RSA PRIVATE KEY-----",
        b"password",
        b" = ",
        b"\"",
        b"'",
        b"\\",
        b"\n",
        b"\r\n",
        b"\0",
        b"\xff\xfe",
        b"\xc3\x28",
        b"eyJ",
        b".",
        b"postgres://",
        b":",
        b"@",
        b"xoxb-",
        b"Zq8LmW3xT5vN0pR7",
        b"0123",
        b"==",
        b"%",
        b"\t",
        b"Z2hwX2",
        b"\\u0041",
        b"%2F",
        b"0x6768",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Arbitrary bytes never panic the scan, and every finding points inside the input.
        #[test]
        fn any_input_gives_findings_inside_it(parts in proptest::collection::vec(0..PIECES.len(), 0..400)) {
            static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
            let scanner = SCANNER.get_or_init(scanner);
            let input: Vec<u8> = parts.iter().flat_map(|&i| PIECES[i].iter().copied()).collect();
            let mut worker = scanner.worker();
            let (mut summary, mut findings) = (ScanSummary::default(), Vec::new());
            scanner.scan_input(&input, InputName::same("fuzz"), &mut worker, &mut summary, &mut findings);
            let lines = input.iter().filter(|&&b| b == b'\n').count() + 1;
            for finding in &findings {
                prop_assert!(finding.line >= 1 && finding.end_line <= lines && finding.line <= finding.end_line);
                prop_assert!(finding.column >= 1);
            }
        }
    }

    /// A data row that reads as a header (`x,secret_key,api_token` under
    /// `id,note,api_token`) reads the table's values again: each is still one finding,
    /// under the table's own header.
    #[test]
    fn a_value_read_under_two_headers_is_one_finding() {
        let scanner = scanner();
        let value = |seed: &str| format!("{seed}8kLq2Zx9Wm4R");
        let text = format!("id,note,api_token\nx,secret_key,api_token\n1,{},{}\n", value("Kd"), value("Qp"));
        let mut worker = scanner.worker();
        let (mut summary, mut findings) = (ScanSummary::default(), Vec::new());
        scanner.scan_input(
            text.as_bytes(),
            InputName::same("t.csv"),
            &mut worker,
            &mut summary,
            &mut findings,
        );
        let found: Vec<(&str, usize, Option<usize>)> =
            findings.iter().map(|f| (f.secret.as_str(), f.line, f.header_line)).collect();
        assert_eq!(found, [(value("Kd").as_str(), 3, Some(2)), (value("Qp").as_str(), 3, Some(1))]);
    }

    fn github_token(random: &str) -> String {
        let check = crate::engine::checks::base62_6(crc32fast::hash(random.as_bytes()));
        format!("{}{random}{}", concat!("gh", "p_"), String::from_utf8_lossy(&check))
    }

    fn scan_with(scanner: &Scanner, input: &str) -> (Vec<Finding>, ScanSummary) {
        let mut worker = scanner.worker();
        let (mut summary, mut findings) = (ScanSummary::default(), Vec::new());
        scanner.scan_input(
            input.as_bytes(),
            InputName::same("x.yaml"),
            &mut worker,
            &mut summary,
            &mut findings,
        );
        (findings, summary)
    }

    fn base64(text: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn a_credential_plain_or_encoded_has_one_fingerprint_hash() {
        let scanner = scanner();
        let token = github_token("Zq8LmW3xT5vN0pR7sK2hJ9gF4dB6cY");
        let encoded = base64(&token);
        let (findings, _) = scan_with(
            &scanner,
            &format!(
                "plain: {token}
data:
  token: {encoded}
"
            ),
        );
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let (plain, decoded) = (&findings[0], &findings[1]);
        assert!(plain.decoded.is_empty());
        assert_eq!(decoded.decoded, vec![crate::decode::Encoding::Base64]);
        assert_eq!((decoded.line, decoded.column), (3, 10));
        assert_eq!(decoded.end_column, 10 + encoded.len());
        assert_eq!(plain.secret, decoded.secret);
        assert_eq!(plain.fingerprint, decoded.fingerprint);
    }

    #[test]
    fn a_token_seen_plainly_inside_an_escaped_literal_is_one_finding() {
        let scanner = scanner();
        let token = github_token("Zq8LmW3xT5vN0pR7sK2hJ9gF4dB6cY");
        let (findings, _) = scan_with(&scanner, &format!("{{\"cmd\": \"export T=\\\"{token}\\\"\\n\"}}\n"));
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].decoded.is_empty(), "the plain finding is kept");
    }

    #[test]
    fn decoding_can_be_turned_off_and_depth_is_bounded() {
        let token = github_token("Zq8LmW3xT5vN0pR7sK2hJ9gF4dB6cY");
        let input = format!("blob: {}\n", base64(&base64(&base64(&token))));
        let build = |options: DecodeOptions| {
            ScannerBuilder::new(secretgate_patterns::builtin::rules().unwrap())
                .decode(options)
                .build()
                .unwrap()
        };
        assert!(scan_with(&build(DecodeOptions::default()), &input).0.is_empty());
        assert!(scan_with(&build(DecodeOptions::off()), &input).0.is_empty());
        let (findings, _) = scan_with(&build(DecodeOptions { depth: 3, ..DecodeOptions::default() }), &input);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].decoded.len(), 3);
        let too_deep = ScannerBuilder::new(Vec::new())
            .decode(DecodeOptions { depth: 9, ..DecodeOptions::default() })
            .build();
        assert!(matches!(too_deep, Err(BuildError::DecodeDepth(9))));
    }

    #[test]
    fn the_decoded_bytes_cap_is_counted() {
        let token = github_token("Zq8LmW3xT5vN0pR7sK2hJ9gF4dB6cY");
        let input = format!("a: {}\nb: {}\n", base64(&"text ".repeat(40)), base64(&token));
        let scanner = ScannerBuilder::new(secretgate_patterns::builtin::rules().unwrap())
            .decode(DecodeOptions { max_bytes: 200, ..DecodeOptions::default() })
            .build()
            .unwrap();
        let (findings, summary) = scan_with(&scanner, &input);
        assert_eq!(summary.decode_capped, 1);
        assert_eq!(findings.len(), 1, "the span within the cap is still decoded");
    }

    #[test]
    fn many_encoded_secrets_in_one_file_are_handled_in_linear_time() {
        let scanner = scanner();
        let mut input = String::new();
        for i in 0..20_000 {
            // Digits spelled as unrelated letters: `012345` would be a placeholder.
            let suffix: String =
                format!("{i:08}").bytes().map(|d| b"KmQnBvCzLp"[usize::from(d - b'0')] as char).collect();
            let token = github_token(&format!("Zq8LmW3xT5vN0pR7sK2hJ9{suffix}"));
            input.push_str(&format!("token_{i}: {}\nplain_{i}: {token}\n", base64(&token)));
        }
        let started = std::time::Instant::now();
        let (findings, _) = scan_with(&scanner, &input);
        let lines: HashSet<usize> = findings.iter().map(|f| f.line).collect();
        let missing: Vec<usize> = (1..=40_000).filter(|l| !lines.contains(l)).collect();
        assert_eq!(findings.len(), 40_000, "missing lines {missing:?}");
        assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
    }

    /// The ids of the rules whose findings a scan of `input`, named `name`, reports.
    fn rules_found(input: &str, name: &str) -> Vec<String> {
        let scanner = scanner();
        let mut worker = scanner.worker();
        let (mut summary, mut findings) = (ScanSummary::default(), Vec::new());
        scanner.scan_input(input.as_bytes(), InputName::same(name), &mut worker, &mut summary, &mut findings);
        findings.into_iter().map(|f| f.rule_id).collect()
    }

    #[test]
    fn generic_matches_yield_to_specific_ones() {
        let random: String = "Zq8LmW3xT5vN0pR7sK2hJ9gF4dB6cY".into();
        let token = format!(
            "ghp_{random}{}",
            String::from_utf8_lossy(&crate::engine::checks::base62_6(crc32fast::hash(random.as_bytes())))
        );
        assert_eq!(rules_found(&format!("github_token = \"{token}\"\n"), "x.py"), vec!["github-pat-classic"]);
    }

    #[test]
    fn two_generic_rules_reading_one_assignment_report_it_once() {
        // `MASTER_KEY` is both a master key (generic-secret-unquoted) and a `…_KEY` name
        // (generic-key-assignment): one secret, one finding, under the first rule.
        let input = format!("MASTER_KEY={}\n", ["Qm7xT2pL9v", "Zk4RwN8sYcD3fH"].concat());
        assert_eq!(rules_found(&input, ".env"), vec!["generic-secret-unquoted"]);
    }

    #[test]
    fn a_service_account_key_is_reported_once() {
        // The provider's rule reads the JSON string; the PEM rule reads what its escapes
        // decode to. One key, one finding, under the provider's name.
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut line = || -> String {
            (0..64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    B64[(state % 64) as usize] as char
                })
                .collect()
        };
        let body: Vec<String> = (0..16).map(|_| line()).collect();
        let pem =
            format!("-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n", body.join("\\n"));
        let input = format!("{{\n  \"type\": \"service_account\",\n  \"private_key\": \"{pem}\"\n}}\n");
        assert_eq!(rules_found(&input, "sa.json"), vec!["gcp-service-account-private-key"]);
    }
}
