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
//! Kind: a DFA. It takes a few milliseconds to build for a few hundred keywords (paid once
//! per process, kept warm in the daemon) and searches ~2.5x faster than the NFA the default
//! heuristic picks for this many patterns (PERF.md: ~400 MB/s against ~150 MB/s).
//!
//! Walk: a DFA step is one dependent load (the next state depends on the previous one), so
//! a single walk leaves the CPU waiting on memory. [`Prefilter::for_each_hit`] splits the
//! buffer into [`LANES`] stretches and walks them in lock step: the loads of different
//! lanes overlap. Each lane after the first starts `longest keyword - 1` bytes early and
//! reports nothing there, so a keyword that straddles a lane boundary is seen exactly once,
//! by the lane where it ends. Hits therefore do not come in offset order.

use aho_corasick::{
    automaton::{Automaton, StateID},
    dfa::DFA,
    Anchored, MatchKind, StartKind,
};

/// The automaton plus, for each distinct keyword, the rules it triggers.
#[derive(Debug, Clone)]
pub struct Prefilter {
    automaton: DFA,
    rules_by_keyword: Vec<Vec<u32>>,
    longest: usize,
}

/// Lanes walked in lock step; see the module documentation.
const LANES: usize = 4;

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
        let automaton = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&keywords)?;
        let longest = keywords.iter().map(String::len).max().unwrap_or(0);
        Ok(Prefilter { automaton, rules_by_keyword, longest })
    }

    /// Calls `on_hit` for every keyword occurrence in `haystack`, overlapping ones included,
    /// in no particular order.
    pub fn for_each_hit(&self, haystack: &[u8], mut on_hit: impl FnMut(KeywordHit)) {
        let dfa = &self.automaton;
        let Ok(start) = dfa.start_state(Anchored::No) else { return };
        let lane_len = haystack.len() / LANES;
        if lane_len < MIN_LANE.max(self.longest) {
            self.walk(start, haystack, 0, haystack.len(), 0, &mut on_hit);
            return;
        }
        // Lane i reports keywords ending in its stretch [i * lane_len, next stretch); it
        // starts walking `longest - 1` bytes early so that its state there is right.
        let overlap = self.longest.saturating_sub(1);
        let mut pos = [0usize; LANES];
        let mut report_from = [0usize; LANES];
        let mut sid = [start; LANES];
        for lane in 0..LANES {
            report_from[lane] = lane * lane_len;
            pos[lane] = report_from[lane].saturating_sub(overlap);
        }
        // Lock step while every lane has bytes left: lane 0, with no overlap, has the
        // fewest (exactly `lane_len`).
        // Every lane steps, then one branch asks whether any landed on a match (rare): the
        // lanes' loads stay independent of each other's reports.
        let lanes: [&[u8]; LANES] = std::array::from_fn(|lane| &haystack[pos[lane]..pos[lane] + lane_len]);
        #[allow(clippy::needless_range_loop)] // `step` indexes every lane at once
        for step in 0..lane_len {
            let mut special = false;
            for lane in 0..LANES {
                sid[lane] = dfa.next_state(Anchored::No, sid[lane], lanes[lane][step]);
                special |= dfa.is_special(sid[lane]);
            }
            if special {
                for lane in 0..LANES {
                    let at = pos[lane] + step;
                    if dfa.is_special(sid[lane]) && at >= report_from[lane] {
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
        mut sid: StateID,
        haystack: &[u8],
        from: usize,
        to: usize,
        report_from: usize,
        on_hit: &mut impl FnMut(KeywordHit),
    ) {
        for (at, &byte) in haystack.iter().enumerate().take(to).skip(from) {
            sid = self.automaton.next_state(Anchored::No, sid, byte);
            if self.automaton.is_special(sid) && at >= report_from {
                self.report(sid, at + 1, on_hit);
            }
        }
    }

    /// Reports every keyword that ends at `end` in state `sid`.
    #[inline]
    fn report(&self, sid: StateID, end: usize, on_hit: &mut impl FnMut(KeywordHit)) {
        let dfa = &self.automaton;
        if !dfa.is_match(sid) {
            return;
        }
        for index in 0..dfa.match_len(sid) {
            let keyword = dfa.match_pattern(sid, index);
            let len = dfa.pattern_len(keyword);
            on_hit(KeywordHit { start: end - len, end, keyword: keyword.as_usize() });
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
        self.automaton.memory_usage()
    }

    /// The same hits as [`Prefilter::for_each_hit`], found one at a time by the library's
    /// own overlapping search: the reference the lane walk is tested against.
    #[cfg(test)]
    fn reference_hits(&self, haystack: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut state = aho_corasick::automaton::OverlappingState::start();
        let input = aho_corasick::Input::new(haystack);
        let mut hits = Vec::new();
        loop {
            self.automaton.try_find_overlapping(&input, &mut state).unwrap();
            let Some(found) = state.get_match() else { break };
            hits.push((found.start(), found.end(), found.pattern().as_usize()));
        }
        hits.sort_unstable();
        hits
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
        /// The lane walk finds exactly what a plain overlapping search finds, whatever the
        /// buffer length and wherever keywords straddle lane boundaries.
        #[test]
        fn lanes_find_what_one_walk_finds(text in proptest::collection::vec(proptest::sample::select(b"abkSK_ey-xo".to_vec()), 0..3000)) {
            let keywords: Vec<String> = ["sk_", "sk_ab", "xoxb-", "ab", "eyj", "k_a"].map(String::from).to_vec();
            let prefilter = Prefilter::new([(0, keywords.as_slice())]).unwrap();
            let mut hits = Vec::new();
            prefilter.for_each_hit(&text, |hit| hits.push((hit.start, hit.end, hit.keyword)));
            hits.sort_unstable();
            proptest::prop_assert_eq!(hits, prefilter.reference_hits(&text));
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
