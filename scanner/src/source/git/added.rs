//! Which lines of a new blob are new: present in none of the old versions.

use gix::diff::blob::{sources::byte_lines, Algorithm, Diff, InternedInput};

/// The lines of a new version that its old versions did not have (1-based line numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddedLines {
    /// Every line (the file is new).
    All,
    /// Only these lines; `added[n - 1]` says whether line `n` is new.
    Some(Vec<bool>),
}

impl AddedLines {
    /// The lines of `new` missing from every one of `olds` (`None`: that side had no such
    /// file, so everything is new against it). A merge resolution's own lines are new
    /// against both parents; a line taken from either parent is not.
    pub fn between<'a>(new: &[u8], olds: impl IntoIterator<Item = Option<&'a [u8]>>) -> Self {
        let mut result = AddedLines::All;
        for old in olds {
            let Some(old) = old else { continue };
            let against = added_against(old, new);
            result = match result {
                AddedLines::All => AddedLines::Some(against),
                AddedLines::Some(mut lines) => {
                    for (line, also) in lines.iter_mut().zip(against) {
                        *line &= also;
                    }
                    AddedLines::Some(lines)
                }
            };
        }
        result
    }

    /// Whether nothing is new (only deletions).
    pub fn is_empty(&self) -> bool {
        match self {
            AddedLines::All => false,
            AddedLines::Some(lines) => !lines.contains(&true),
        }
    }

    /// The stretches of lines worth scanning: each run of added lines widened by `context`
    /// lines on both sides (enough to hold a multi-line secret that is only partly new),
    /// and by `bytes` bytes of the text whose lines start at `starts` (a table's header
    /// that far above an added row decides it, and an added header the rows that far
    /// below), merged. 1-based, inclusive; `None` means the whole input.
    pub fn regions(&self, context: usize, bytes: usize, starts: &[usize]) -> Option<Vec<(usize, usize)>> {
        let AddedLines::Some(lines) = self else { return None };
        let mut regions: Vec<(usize, usize)> = Vec::new();
        for (index, _) in lines.iter().enumerate().filter(|(_, added)| **added) {
            let line = index + 1;
            let mut first = line.saturating_sub(context).max(1);
            let mut last = (line + context).min(lines.len());
            if let Some(&start) = starts.get(index) {
                let from = start.saturating_sub(bytes);
                first = first.min(starts.partition_point(|&s| s <= from).max(1));
                let to = starts.get(line).map_or(usize::MAX, |&end| end.saturating_add(bytes));
                last = last.max(starts.partition_point(|&s| s < to).min(lines.len()));
            }
            match regions.last_mut() {
                Some((_, end)) if first <= *end + 1 => *end = (*end).max(last),
                _ => regions.push((first, last)),
            }
        }
        Some(regions)
    }

    /// Whether any line from `first` to `last` (1-based, inclusive) is new.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        match self {
            AddedLines::All => true,
            AddedLines::Some(lines) => {
                (first.max(1)..=last).any(|line| lines.get(line - 1).copied().unwrap_or(false))
            }
        }
    }
}

/// For each line of `new`, whether a line diff from `old` inserts it.
fn added_against(old: &[u8], new: &[u8]) -> Vec<bool> {
    let input = InternedInput::new(byte_lines(old), byte_lines(new));
    let diff = Diff::compute(Algorithm::Histogram, &input);
    (0..input.after.len() as u32).map(|line| diff.is_added(line)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_is_all_new() {
        assert_eq!(AddedLines::between(b"a\nb\n", [None]), AddedLines::All);
    }

    #[test]
    fn only_inserted_lines_are_new() {
        let added = AddedLines::between(b"a\nX\nb\nc\n", [Some(&b"a\nb\nc\n"[..])]);
        assert_eq!(added, AddedLines::Some(vec![false, true, false, false]));
        assert!(added.touches(2, 2) && !added.touches(3, 4) && added.touches(1, 3));
    }

    #[test]
    fn merge_keeps_lines_new_against_both_parents() {
        let ours = b"a\nours\nz\n";
        let theirs = b"a\ntheirs\nz\n";
        let merged = b"a\nours\ntheirs\nresolution\nz\n";
        let added = AddedLines::between(merged, [Some(&ours[..]), Some(&theirs[..])]);
        assert_eq!(added, AddedLines::Some(vec![false, false, false, true, false]));
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let added = AddedLines::between(b"a\r\nb\r\nnew", [Some(&b"a\r\nb\r\n"[..])]);
        assert_eq!(added, AddedLines::Some(vec![false, false, true]));
    }

    #[test]
    fn regions_widen_and_merge_runs_of_added_lines() {
        let mut lines = vec![false; 30];
        lines[2] = true; // line 3
        lines[5] = true; // line 6
        lines[25] = true; // line 26
        let regions = AddedLines::Some(lines.clone()).regions(2, 0, &[]).unwrap();
        assert_eq!(regions, vec![(1, 8), (24, 28)]);
        assert_eq!(AddedLines::All.regions(2, 0, &[]), None);
        // Ten bytes a line: 45 bytes reach four lines and a half further.
        let starts: Vec<usize> = (0..30).map(|i| i * 10).collect();
        let regions = AddedLines::Some(lines).regions(2, 45, &starts).unwrap();
        assert_eq!(regions, vec![(1, 11), (21, 30)]);
    }

    #[test]
    fn pure_deletion_adds_nothing() {
        let added = AddedLines::between(b"a\nc\n", [Some(&b"a\nb\nc\n"[..])]);
        assert!(added.is_empty());
    }
}
