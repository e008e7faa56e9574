//! Which commits are new: those reachable from the pushed tips and from no ref the other side
//! already has. Shared by `pre-push` (client) and `pre-receive` (server).

use gix::ObjectId;

use super::{repo, Context, Error};

/// One line of git's pre-push input: `<local ref> <local oid> <remote ref> <remote oid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushUpdate {
    /// The local ref being pushed (`(delete)` for a deletion).
    pub local_ref: String,
    /// What is pushed; all zeros for a deletion.
    pub local: ObjectId,
    /// The ref updated on the remote.
    pub remote_ref: String,
    /// What the remote has now; all zeros when the ref is new there.
    pub remote: ObjectId,
}

/// Parses git's pre-push standard input. Blank lines are ignored; anything else malformed
/// is an error naming the line.
pub fn parse_pre_push(input: &str) -> Result<Vec<PushUpdate>, Error> {
    let shape = "<local ref> <local oid> <remote ref> <remote oid>";
    let oid = |hex: &str| ObjectId::from_hex(hex.as_bytes()).expect("checked by hook_input");
    Ok(super::hook_input::<4>(input, "pre-push", shape, &[1, 3])?
        .into_iter()
        .map(|[local_ref, local, remote_ref, remote]| PushUpdate {
            local_ref: local_ref.to_string(),
            local: oid(local),
            remote_ref: remote_ref.to_string(),
            remote: oid(remote),
        })
        .collect())
}

/// Tips and the commits to leave out for a client-side push to `remote` (the name or URL
/// git passes the hook): everything that remote's tracking refs reach, and what its refs
/// point at now (when we have those commits).
///
/// Only the pushed-to remote's own tracking refs count: a commit that `origin` has is new
/// to a freshly added `public` remote, and a push there must scan it. A URL that no
/// configured remote has (`git push https://host/fork.git`), or no remote at all (a hook
/// run by hand), tells nothing about what the other side has: then every remote-tracking
/// ref counts, as the best guess that does not rescan all of history.
pub fn pre_push_range(
    repo: &gix::Repository,
    updates: &[PushUpdate],
    remote: Option<&str>,
) -> Result<PushRange, Error> {
    let mut tips = Vec::new();
    for update in updates.iter().filter(|u| !u.local.is_null()) {
        if let Some(commit) = repo::peel_to_commit(repo, update.local)? {
            tips.push(commit);
        }
    }
    let mirrors = remote.and_then(|remote| tracking_refs(repo, remote));
    let (mut hidden, mut held) = match &mirrors {
        Some(patterns) => {
            let tips = repo::ref_commit_tips(repo, |name| patterns.iter().any(|p| p.matches(name)))?;
            (tips.clone(), tips)
        }
        // A guess at what an unknown remote has is good enough to skip rescanning history,
        // not to excuse a secret: `held` stays empty.
        None => (repo::ref_commit_tips(repo, |name| name.starts_with("refs/remotes/"))?, Vec::new()),
    };
    for update in updates.iter().filter(|u| !u.remote.is_null()) {
        // A force push names a remote commit we may not have: then it hides nothing.
        if let Some(commit) = repo::peel_to_commit(repo, update.remote)? {
            hidden.push(commit);
            held.push(commit);
        }
    }
    Ok(PushRange { tips, hidden, held })
}

/// What a client-side push brings, from [`pre_push_range`].
#[derive(Debug, Default)]
pub struct PushRange {
    /// The pushed commits.
    pub tips: Vec<ObjectId>,
    /// Commits whose history is taken as already on the remote (not scanned).
    pub hidden: Vec<ObjectId>,
    /// Commits known to be on the remote itself (its tracking refs, the refs pushed over):
    /// a secret one of them holds in the same file exposes nothing new.
    pub held: Vec<ObjectId>,
}

/// The trees and blobs the push sends under a ref of their own (through tags or not), by
/// the name the remote will know them by: content no commit holds, scanned whole.
pub fn pushed_contents(repo: &gix::Repository, updates: &[PushUpdate]) -> Result<repo::RefContents, Error> {
    let mut contents = Vec::new();
    for update in updates.iter().filter(|u| !u.local.is_null()) {
        if let repo::Peeled::Content(root) = repo::peel(repo, update.local)? {
            contents.push((update.remote_ref.clone(), root));
        }
    }
    Ok(contents)
}

/// Which refs mirror a remote: a fetch refspec's destination, a prefix when it ends in `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TrackingRefs {
    name: String,
    prefix: bool,
}

impl TrackingRefs {
    fn matches(&self, name: &str) -> bool {
        if self.prefix {
            name.starts_with(&self.name)
        } else {
            name == self.name
        }
    }
}

/// The tracking refs of the configured remote named `remote`, or of every configured remote
/// whose URL is `remote`; `None` when no configured remote matches.
fn tracking_refs(repo: &gix::Repository, remote: &str) -> Option<Vec<TrackingRefs>> {
    use gix::remote::Direction;
    let same_url = |url: Option<&gix::Url>| {
        url.is_some_and(|url| {
            url.to_bstring().to_string().trim_end_matches('/') == remote.trim_end_matches('/')
        })
    };
    let names: Vec<String> = repo.remote_names().into_iter().map(|name| name.to_string()).collect();
    let mut patterns = Vec::new();
    let mut matched = false;
    for name in &names {
        let Some(Ok(configured)) = repo.try_find_remote(name.as_str()) else { continue };
        if name != remote
            && !same_url(configured.url(Direction::Push))
            && !same_url(configured.url(Direction::Fetch))
        {
            continue;
        }
        matched = true;
        let before = patterns.len();
        for spec in configured.refspecs(Direction::Fetch) {
            let spec = spec.to_ref();
            let Some(destination) = spec.destination().map(|d| d.to_string()) else { continue };
            patterns.push(match destination.split_once('*') {
                Some((prefix, _)) => TrackingRefs { name: prefix.to_string(), prefix: true },
                None => TrackingRefs { name: destination, prefix: false },
            });
        }
        if patterns.len() == before {
            patterns.push(TrackingRefs { name: format!("refs/remotes/{name}/"), prefix: true });
        }
    }
    matched.then_some(patterns)
}

/// The commits reachable from `tips` but not from `hidden`, oldest first.
pub fn new_commits(
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
) -> Result<Vec<ObjectId>, Error> {
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let walk = repo
        .rev_walk(tips.iter().copied())
        .with_hidden(hidden.iter().copied())
        .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
        .all()
        .context(|| "walking the pushed commits".into())?;
    let mut commits = Vec::new();
    for info in walk {
        commits.push(info.context(|| "walking the pushed commits".into())?.id);
    }
    commits.reverse();
    Ok(commits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_pre_push_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let input =
            format!("refs/heads/main {a} refs/heads/main {zero}\n\n(delete) {zero} refs/heads/old {a}\n");
        let updates = parse_pre_push(&input).unwrap();
        assert_eq!(updates.len(), 2);
        assert!(updates[0].remote.is_null() && !updates[0].local.is_null());
        assert!(updates[1].local.is_null());
        assert_eq!(updates[1].remote_ref, "refs/heads/old");
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = parse_pre_push("refs/heads/main deadbeef").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let err = parse_pre_push(&format!("a {} b nothex", "0".repeat(40))).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
