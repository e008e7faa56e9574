//! The keyword prefilter: one Aho-Corasick automaton over the keywords of every rule.
//!
//! Contract: a keyword hit is only a *candidate*; the rule's regex decides. But a rule whose
//! keyword does not occur within its window of a match never matches there: a rule's
//! examples must each contain one of its keywords, which a test checks for every rule.
//!
//! Semantics: ASCII case-insensitive, standard match semantics with *overlapping*
//! iteration. A non-overlapping leftmost search would let one keyword hide another: with
//! keywords `sk_` and `sk_live_`, the text `sk_live_...` reports only one of them and the
//! other keyword's rules would never run; with `xox` and `oxb-` in `xoxb-`, the second one
//! starts inside the first. Overlapping iteration reports every keyword at every position.
//!
//! Kind: a DFA of our own. aho-corasick builds the keyword trie with its failure links (its
//! contiguous NFA, the cheapest of its automata to build: start-up counts in a pre-commit
//! hook), and [`Table`] asks it, once per state and byte class, where the byte leads after
//! following failure links: that is the full DFA, laid out for this loop (a step is a
//! column lookup, an add and a load; one comparison tells whether any lane is on a match).
//! The library's own DFA searches ~2.5x faster than its NFA (PERF.md: ~400 MB/s against
//! ~150 MB/s); this table walks another 15-20% faster than the library's DFA
//! (`next_state`) on the benchmark tree, in half its memory. A DFA step
//! is one dependent load (the next state depends on the previous one), so a single walk
//! leaves the CPU waiting on memory. [`Prefilter::for_each_hit`] splits the
//! buffer into [`LANES`] stretches and walks them in lock step: the loads of different
//! lanes overlap. Each lane after the first starts `longest keyword - 1` bytes early and
//! reports nothing there, so a keyword that straddles a lane boundary is seen exactly once,
//! by the lane where it ends. Hits therefore do not come in offset order.

use aho_corasick::{
    automaton::{Automaton, StateID},
    nfa::contiguous::NFA,
    Anchored, MatchKind,
};

/// The keyword automaton, plus, for each distinct keyword, the rules it triggers.
#[derive(Debug, Clone)]
pub struct Prefilter {
    table: Table,
    rules_by_keyword: Vec<Vec<u32>>,
    longest: usize,
    /// The distinct keywords, folded to lower case, in keyword-index order.
    #[cfg(test)]
    keywords: Vec<String>,
}

/// Lanes walked in lock step; see the module documentation.
pub(crate) const LANES: usize = 4;

/// Below this many bytes per lane, one plain walk is as fast.
const MIN_LANE: usize = 256;

/// A keyword occurrence: its byte span and the rules it may start.
#[derive(Debug, Clone, Copy)]
pub struct KeywordHit {
    /// Start of the keyword in the haystack.
    pub start: usize,
    /// End (exclusive) of the keyword in the haystack.
    pub end: usize,
    /// Index of the distinct keyword; see [`Prefilter::rules_of`].
    pub keyword: usize,
}

impl Prefilter {
    /// Builds the automaton from `(rule index, keywords)` pairs. Keywords are folded to
    /// ASCII lower case and shared between the rules that name them.
    pub fn new<'a>(
        rules: impl IntoIterator<Item = (u32, &'a [String])>,
    ) -> Result<Self, aho_corasick::BuildError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut rules_by_keyword: Vec<Vec<u32>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule, rule_keywords) in rules {
            for keyword in rule_keywords {
                let folded = keyword.to_ascii_lowercase();
                let slot = *index.entry(folded.clone()).or_insert_with(|| {
                    keywords.push(folded);
                    rules_by_keyword.push(Vec::new());
                    keywords.len() - 1
                });
                if !rules_by_keyword[slot].contains(&rule) {
                    rules_by_keyword[slot].push(rule);
                }
            }
        }
        let table = Table::new(&automaton(&keywords)?, &keywords);
        let longest = keywords.iter().map(String::len).max().unwrap_or(0);
        Ok(Prefilter {
            table,
            rules_by_keyword,
            longest,
            #[cfg(test)]
            keywords,
        })
    }

    /// Calls `on_hit` for every keyword occurrence in `haystack`, overlapping ones included,
    /// in no particular order.
    pub fn for_each_hit(&self, haystack: &[u8], mut on_hit: impl FnMut(KeywordHit)) {
        let table = &self.table;
        let lane_len = haystack.len() / LANES;
        if lane_len < MIN_LANE.max(self.longest) {
            self.walk(table.start, haystack, 0, haystack.len(), 0, &mut on_hit);
            return;
        }
        // Lane i reports keywords ending in its stretch [i * lane_len, next stretch); it
        // starts walking `longest - 1` bytes early so that its state there is right.
        let overlap = self.longest.saturating_sub(1);
        let mut pos = [0usize; LANES];
        let mut report_from = [0usize; LANES];
        let mut sid = [table.start; LANES];
        for lane in 0..LANES {
            report_from[lane] = lane * lane_len;
            pos[lane] = report_from[lane].saturating_sub(overlap);
        }
        // Lock step while every lane has bytes left: lane 0, with no overlap, has the
        // fewest (exactly `lane_len`).
        // Every lane steps, then one branch asks whether any landed on a match (rare): the
        // lanes' loads stay independent of each other's reports. Match states have the
        // highest ids, so one OR over the lanes' states answers for all of them.
        let lanes: [&[u8]; LANES] = std::array::from_fn(|lane| &haystack[pos[lane]..pos[lane] + lane_len]);
        for (step, (((&b0, &b1), &b2), &b3)) in
            lanes[0].iter().zip(lanes[1]).zip(lanes[2]).zip(lanes[3]).enumerate()
        {
            sid = [
                table.next(sid[0], b0),
                table.next(sid[1], b1),
                table.next(sid[2], b2),
                table.next(sid[3], b3),
            ];
            if table.is_match(sid[0] | sid[1] | sid[2] | sid[3]) {
                for lane in 0..LANES {
                    let at = pos[lane] + step;
                    if table.is_match(sid[lane]) && at >= report_from[lane] {
                        self.report(sid[lane], at + 1, &mut on_hit);
                    }
                }
            }
        }
        for p in pos.iter_mut() {
            *p += lane_len;
        }
        for lane in 0..LANES {
            let end = if lane + 1 == LANES { haystack.len() } else { (lane + 1) * lane_len };
            self.walk(sid[lane], haystack, pos[lane], end, report_from[lane], &mut on_hit);
        }
    }

    /// Walks `haystack[from..to]` from state `sid`, reporting keywords ending at or after
    /// `report_from + 1`.
    fn walk(
        &self,
        mut sid: u32,
        haystack: &[u8],
        from: usize,
        to: usize,
        report_from: usize,
        on_hit: &mut impl FnMut(KeywordHit),
    ) {
        for (at, &byte) in haystack.iter().enumerate().take(to).skip(from) {
            sid = self.table.next(sid, byte);
            if self.table.is_match(sid) && at >= report_from {
                self.report(sid, at + 1, on_hit);
            }
        }
    }

    /// Reports every keyword that ends at `end` in match state `sid`.
    #[inline]
    fn report(&self, sid: u32, end: usize, on_hit: &mut impl FnMut(KeywordHit)) {
        for &(keyword, len) in self.table.matches(sid) {
            on_hit(KeywordHit { start: end - len as usize, end, keyword: keyword as usize });
        }
    }

    /// The rules that keyword `keyword` triggers.
    #[inline]
    pub fn rules_of(&self, keyword: usize) -> &[u32] {
        &self.rules_by_keyword[keyword]
    }

    /// The number of distinct keywords.
    pub fn keyword_count(&self) -> usize {
        self.rules_by_keyword.len()
    }

    /// Heap memory of the automaton, in bytes.
    pub fn memory_usage(&self) -> usize {
        self.table.memory_usage()
    }

    /// The same hits as [`Prefilter::for_each_hit`], found one at a time by the library's
    /// own overlapping search: the reference the lane walk is tested against.
    #[cfg(test)]
    fn reference_hits(&self, automaton: &NFA, haystack: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut state = aho_corasick::automaton::OverlappingState::start();
        let input = aho_corasick::Input::new(haystack);
        let mut hits = Vec::new();
        loop {
            automaton.try_find_overlapping(&input, &mut state).unwrap();
            let Some(found) = state.get_match() else { break };
            hits.push((found.start(), found.end(), found.pattern().as_usize()));
        }
        hits.sort_unstable();
        hits
    }
}

/// The Aho-Corasick automaton over `keywords` (ASCII case-insensitive, every match reported).
fn automaton(keywords: &[String]) -> Result<NFA, aho_corasick::BuildError> {
    NFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(keywords)
}

/// The transitions of the keyword DFA, laid out for the walk.
///
/// aho-corasick builds the automaton; its states, and for each the state a byte leads to once
/// failure links are followed, are copied here because the walk is the hottest loop of a
/// scan and the library's DFA `next_state` (a byte-class lookup, a bounds check, a
/// transition, then a separate "special state" comparison) is about two instructions per
/// byte more than this needs. Here:
/// - a state id is its row's offset in `transitions` (premultiplied), so a step is one add
///   and one load;
/// - match states come last, from `first_match` on, which is a power of two above every
///   other state: the OR of any states is at least `first_match` exactly when one of
///   them is a match state, so one test covers all lanes.
#[derive(Debug, Clone)]
struct Table {
    /// Byte to column: bytes that occur in no keyword share column 0, and the two cases
    /// of a letter share one.
    columns: [u8; 256],
    /// `stride` entries per state; every entry is the id of a state.
    transitions: Vec<u32>,
    start: u32,
    first_match: u32,
    stride_shift: u32,
    /// Per match state, from `first_match` on: its range in `keywords_matched`.
    matches: Vec<std::ops::Range<u32>>,
    /// (keyword index, keyword length) of the keywords each match state reports.
    keywords_matched: Vec<(u32, u32)>,
}

impl Table {
    fn new(trie: &NFA, keywords: &[String]) -> Self {
        // Columns from the keywords' bytes: in an Aho-Corasick automaton a byte that no
        // keyword holds leads every state back to the start, like every other such byte.
        let mut columns = [0u8; 256];
        let mut representatives = vec![None];
        for byte in keywords.iter().flat_map(|k| k.bytes()) {
            let byte = byte.to_ascii_lowercase();
            if columns[usize::from(byte)] == 0 {
                let column = u8::try_from(representatives.len()).unwrap_or(u8::MAX);
                representatives.push(Some(byte));
                columns[usize::from(byte)] = column;
                columns[usize::from(byte.to_ascii_uppercase())] = column;
            }
        }
        representatives[0] = (0..=255u8).find(|&b| columns[usize::from(b)] == 0);
        let stride = representatives.len().next_power_of_two();
        let stride_shift = stride.trailing_zeros();

        // Every state reachable from the start, breadth first, numbered in that order, with
        // its transitions as those numbers. The library's state ids are offsets into its own
        // table, so a vector indexed by them finds a state's number (a hash map here cost a
        // third of a one-file scan's start-up).
        let Ok(start) = trie.start_state(Anchored::No) else {
            unreachable!("the NFA is built with unanchored starts")
        };
        let mut order = Vec::new();
        let mut number_of: Vec<u32> = Vec::new(); // by library id: 1 + number, 0 = not seen
        let number = |number_of: &mut Vec<u32>, order: &mut Vec<StateID>, state: StateID| {
            let at = state.as_usize();
            if at >= number_of.len() {
                number_of.resize(at + 1, 0);
            }
            if number_of[at] == 0 {
                order.push(state);
                number_of[at] = order.len() as u32;
            }
            number_of[at] - 1
        };
        number(&mut number_of, &mut order, start);
        let mut targets: Vec<u32> = Vec::new(); // `representatives.len()` per numbered state
        let mut next = 0;
        while next < order.len() {
            let state = order[next];
            next += 1;
            for byte in &representatives {
                let to = byte.map_or(start, |byte| trie.next_state(Anchored::No, state, byte));
                targets.push(number(&mut number_of, &mut order, to));
            }
        }
        // Rows: plain states first, match states from a power of two on.
        let plain = order.iter().filter(|&&state| !trie.is_match(state)).count();
        let first_match_row = plain.next_power_of_two();
        let (mut next_plain, mut next_match) = (0, first_match_row);
        let row_of: Vec<usize> = order
            .iter()
            .map(|&state| {
                let row = if trie.is_match(state) { &mut next_match } else { &mut next_plain };
                *row += 1;
                *row - 1
            })
            .collect();
        let rows = next_match;
        let mut transitions = vec![0u32; rows << stride_shift];
        for (state, targets) in targets.chunks_exact(representatives.len()).enumerate() {
            let row = &mut transitions[row_of[state] << stride_shift..][..representatives.len()];
            for (entry, &target) in row.iter_mut().zip(targets) {
                *entry = (row_of[target as usize] << stride_shift) as u32;
            }
        }
        let mut matches = Vec::with_capacity(rows - first_match_row);
        let mut keywords_matched = Vec::new();
        for &state in order.iter().filter(|&&state| trie.is_match(state)) {
            let from = keywords_matched.len() as u32;
            for index in 0..trie.match_len(state) {
                let keyword = trie.match_pattern(state, index);
                keywords_matched.push((keyword.as_u32(), trie.pattern_len(keyword) as u32));
            }
            matches.push(from..keywords_matched.len() as u32);
        }
        let table = Table {
            columns,
            transitions,
            start: (row_of[0] << stride_shift) as u32, // the start was numbered first
            first_match: (first_match_row << stride_shift) as u32,
            stride_shift,
            matches,
            keywords_matched,
        };
        // The layout `next` relies on: every entry starts a row, every column fits in one.
        debug_assert!(table.transitions.iter().all(|&to| to as usize + stride <= table.transitions.len()));
        debug_assert!(table.columns.iter().all(|&column| usize::from(column) < stride));
        table
    }

    /// The state after `byte` in state `sid`.
    #[inline(always)]
    fn next(&self, sid: u32, byte: u8) -> u32 {
        self.transitions[sid as usize + usize::from(self.columns[usize::from(byte)])]
    }

    /// Whether `sid` (or the OR of several states) holds a match state.
    #[inline(always)]
    fn is_match(&self, sid: u32) -> bool {
        sid >= self.first_match
    }

    /// The (keyword, length) pairs that match state `sid` reports.
    fn matches(&self, sid: u32) -> &[(u32, u32)] {
        let range = &self.matches[((sid - self.first_match) >> self.stride_shift) as usize];
        &self.keywords_matched[range.start as usize..range.end as usize]
    }

    fn memory_usage(&self) -> usize {
        self.transitions.len() * 4 + self.keywords_matched.len() * 8 + self.matches.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyword_inside_another_still_triggers_its_rules() {
        let short = vec!["sk_".to_string()];
        let long = vec!["sk_live_".to_string()];
        let prefilter = Prefilter::new([(0, short.as_slice()), (1, long.as_slice())]).unwrap();
        let mut rules = Vec::new();
        prefilter.for_each_hit(b"key = SK_LIVE_abc", |hit| {
            rules.extend_from_slice(prefilter.rules_of(hit.keyword))
        });
        rules.sort();
        assert_eq!(rules, vec![0, 1]);
    }

    proptest::proptest! {
        /// The lane walk over the copied table finds exactly what the library's own
        /// overlapping search finds, whatever the buffer length, wherever keywords straddle
        /// lane boundaries, in either case and among bytes that no keyword holds.
        #[test]
        fn lanes_find_what_one_walk_finds(text in proptest::collection::vec(proptest::sample::select(b"abkSK_ey-xoXB \xff".to_vec()), 0..3000)) {
            let keywords: Vec<String> = ["sk_", "sk_ab", "xoxb-", "ab", "eyj", "k_a"].map(String::from).to_vec();
            let prefilter = Prefilter::new([(0, keywords.as_slice())]).unwrap();
            let mut hits = Vec::new();
            prefilter.for_each_hit(&text, |hit| hits.push((hit.start, hit.end, hit.keyword)));
            hits.sort_unstable();
            proptest::prop_assert_eq!(hits, prefilter.reference_hits(&automaton(&prefilter.keywords).unwrap(), &text));
        }
    }

    proptest::proptest! {
        /// The same with the built-in rules' several hundred keywords, on text spliced from
        /// pieces of them (prefixes, case changes) and from other bytes.
        #[test]
        fn builtin_keywords_are_found_as_the_library_finds_them(
            pieces in proptest::collection::vec((0usize..10_000, 0usize..40, proptest::bool::ANY), 0..400)
        ) {
            static BUILTIN: std::sync::OnceLock<(Prefilter, NFA)> = std::sync::OnceLock::new();
            let (prefilter, reference) = BUILTIN.get_or_init(|| {
                let rules = secretgate_patterns::builtin::rules().unwrap();
                let prefilter = Prefilter::new(rules.iter().enumerate().map(|(i, r)| (i as u32, r.keywords.as_slice()))).unwrap();
                let reference = automaton(&prefilter.keywords).unwrap();
                (prefilter, reference)
            });
            let keywords = &prefilter.keywords;
            let mut text = Vec::new();
            for (pick, cut, upper) in pieces {
                let keyword = keywords[pick % keywords.len()].as_bytes();
                let piece = &keyword[..keyword.len().min(cut % (keyword.len() + 2))];
                text.extend(piece.iter().map(|b| if upper { b.to_ascii_uppercase() } else { *b }));
                text.push(b" =\n\"x\xc3"[pick % 6]);
            }
            let mut hits = Vec::new();
            prefilter.for_each_hit(&text, |hit| hits.push((hit.start, hit.end, hit.keyword)));
            hits.sort_unstable();
            proptest::prop_assert_eq!(hits, prefilter.reference_hits(reference, &text));
        }
    }

    #[test]
    fn shared_keywords_map_to_every_rule() {
        let a = vec!["token".to_string()];
        let b = vec!["TOKEN".to_string(), "secret".to_string()];
        let prefilter = Prefilter::new([(0, a.as_slice()), (1, b.as_slice())]).unwrap();
        assert_eq!(prefilter.keyword_count(), 2);
        let mut rules = Vec::new();
        prefilter.for_each_hit(b"my_Token", |hit| rules.extend_from_slice(prefilter.rules_of(hit.keyword)));
        assert_eq!(rules, vec![0, 1]);
    }
}
