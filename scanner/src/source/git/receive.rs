//! The server side of a push: the ref updates git hands `pre-receive`, the quarantine that
//! holds the pushed objects until the hook accepts them, and the scan of the new commits.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use gix::ObjectId;

use super::{
    history::{self, Progress, Selection, SweepOptions},
    repo, Error,
};
use std::{collections::HashMap, sync::Arc};

use crate::{
    suppress::{allowlist::PathAllowlist, Suppressor},
    Finding, ScanSummary, Scanner,
};

/// One line of git's pre-receive input: `<old> <new> <ref>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefUpdate {
    /// What the ref points at now; all zeros when it is created.
    pub old: String,
    /// What it will point at; all zeros when it is deleted.
    pub new: String,
    /// The ref's full name.
    pub name: String,
}

/// Parses git's pre-receive standard input; a malformed line is an error naming it.
pub fn parse_pre_receive(input: &str) -> Result<Vec<RefUpdate>, Error> {
    Ok(super::hook_input::<3>(input, "pre-receive", "<old> <new> <ref>", &[0, 1])?
        .into_iter()
        .map(|[old, new, name]| RefUpdate { old: old.into(), new: new.into(), name: name.into() })
        .collect())
}

/// Where a push's objects wait while hooks run: git's quarantine directory and the
/// repository's own object directories.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quarantine {
    /// `GIT_QUARANTINE_PATH` (or `GIT_OBJECT_DIRECTORY`): the pushed objects.
    pub objects: Option<PathBuf>,
    /// `GIT_ALTERNATE_OBJECT_DIRECTORIES`: the repository's objects (and its alternates).
    pub alternates: Vec<PathBuf>,
}

impl Quarantine {
    /// Reads the quarantine from git's environment, as a `pre-receive` hook sees it.
    pub fn from_env() -> Self {
        let objects = std::env::var_os("GIT_QUARANTINE_PATH")
            .or_else(|| std::env::var_os("GIT_OBJECT_DIRECTORY"))
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let alternates = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES")
            .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        Quarantine { objects, alternates }
    }
}

/// A repository opened to see a push's quarantined objects, read-only. Keeps the temporary
/// directory that makes the view alive.
pub struct PushView {
    /// The repository, its object store layered over the quarantine.
    pub repo: gix::Repository,
    layer: Option<tempfile::TempDir>,
}

impl Drop for PushView {
    fn drop(&mut self) {
        if let (Some(layer), Some(open)) =
            (&self.layer, OPEN_LAYERS.lock().unwrap_or_else(|e| e.into_inner()).as_mut())
        {
            open.retain(|path| path != layer.path());
        }
    }
}

/// The temporary object directories of the views still open; `None` once they were closed.
/// A process that exits while a scan is still running (the hook, when the daemon answers
/// while the hook's own scan is under way, or its scan ran past the budget) never drops
/// that scan's view, so the directory would stay in the temporary directory for good.
static OPEN_LAYERS: Mutex<Option<Vec<PathBuf>>> = Mutex::new(Some(Vec::new()));

/// Removes the temporary object directories of every view still open, and makes any later
/// [`open_push`] fail: for a process about to exit while scans may still be running.
pub fn close_push_views() {
    let open = OPEN_LAYERS.lock().unwrap_or_else(|e| e.into_inner()).take();
    for layer in open.into_iter().flatten() {
        let _ = std::fs::remove_dir_all(layer);
    }
}

/// Opens `repo_dir` so that the objects of the push waiting in `quarantine` are visible.
/// gix reads neither `GIT_OBJECT_DIRECTORY` nor `GIT_ALTERNATE_OBJECT_DIRECTORIES`, so the
/// view is an object directory of our own, outside the repository, whose `info/alternates`
/// lists the quarantine first and then the repository's stores. Nothing is written inside
/// the repository or the quarantine.
pub fn open_push(repo_dir: &Path, quarantine: &Quarantine) -> Result<PushView, Error> {
    let mut repo = gix::open(repo_dir).map_err(|err| Error::Open {
        path: repo_dir.display().to_string(),
        message: super::one_line(&err.to_string()),
    })?;
    repo.object_cache_size_if_unset(4 << 20);
    let Some(objects) = &quarantine.objects else {
        return Ok(PushView { repo, layer: None });
    };
    let mut stores = vec![objects.clone(), repo.common_dir().join("objects")];
    stores.extend(quarantine.alternates.iter().cloned());
    let stores = with_alternates(stores);
    // Made and listed under the lock, so that `close_push_views` cannot miss it.
    let mut listed = OPEN_LAYERS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(open) = listed.as_mut() else {
        return Err(Error::Input("the process is exiting; no scan may start".into()));
    };
    let layer = tempfile::Builder::new()
        .prefix("secretgate-odb-")
        .tempdir()
        .map_err(|err| Error::Input(format!("cannot create a temporary object directory: {err}")))?;
    open.push(layer.path().to_path_buf());
    // The view owns the directory from here: an error drops it, which unlists and removes it.
    let dir = layer.path().to_path_buf();
    let mut view = PushView { repo, layer: Some(layer) };
    // Written under the lock too: once `close_push_views` has removed the directory, a
    // write here would make it again, and nothing would remove it.
    let written = std::fs::create_dir_all(dir.join("info")).and_then(|()| {
        let list: String = stores.iter().map(|p| format!("{}\n", p.display())).collect();
        std::fs::write(dir.join("info/alternates"), list)
    });
    drop(listed);
    written.map_err(|err| Error::Input(format!("cannot write the temporary object directory: {err}")))?;
    let odb = gix::odb::at(&dir, view.repo.object_hash())
        .map_err(|err| Error::Open { path: objects.display().to_string(), message: err.to_string() })?;
    view.repo.objects = odb.into();
    // The new store starts without the object cache the repository had.
    view.repo.object_cache_size_if_unset(4 << 20);
    Ok(view)
}

/// How deep alternates may chain, as in git.
const MAX_ALTERNATE_DEPTH: usize = 5;

/// `stores` and every object directory their `info/alternates` lead to, canonical, each
/// once. A relative alternate is relative to the object directory that lists it (forks
/// sharing a pool write `../../pool.git/objects`); gix would resolve one met through our
/// own layer against the wrong directory, so the whole chain is listed flat.
fn with_alternates(stores: Vec<PathBuf>) -> Vec<PathBuf> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut all: Vec<PathBuf> = Vec::new();
    let mut next: Vec<PathBuf> = stores.iter().map(|p| canonical(p)).collect();
    for _ in 0..=MAX_ALTERNATE_DEPTH {
        let mut found = Vec::new();
        for store in next.drain(..) {
            if all.contains(&store) {
                continue;
            }
            if let Ok(list) = std::fs::read_to_string(store.join("info/alternates")) {
                let listed = list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
                found.extend(listed.map(|l| canonical(&store.join(l))));
            }
            all.push(store);
        }
        if found.is_empty() {
            break;
        }
        next = found;
    }
    all
}

/// What scanning a push found.
#[derive(Debug, Default)]
pub struct PushScan {
    /// Secrets on lines the new commits add.
    pub findings: Vec<Finding>,
    /// Blobs and bytes scanned.
    pub summary: ScanSummary,
    /// New commits scanned.
    pub commits: u64,
}

/// Scans the commits a push brings: reachable from the new tips and from no existing ref
/// (refs are not updated yet while `pre-receive` runs), each against its parents, reporting
/// secrets on the lines they add. Deletions bring nothing; tags are peeled to their commit,
/// and a ref to a new tree or blob brings all of it.
pub fn scan_push(
    view: &PushView,
    updates: &[RefUpdate],
    scanner: &Scanner,
    allowlist: &PathAllowlist,
    threads: usize,
    progress: &Progress,
) -> Result<PushScan, Error> {
    let repo = &view.repo;
    let mut tips = Vec::new();
    let mut pushed = Vec::new();
    let mut contents = Vec::new();
    for update in updates {
        let new = ObjectId::from_hex(update.new.as_bytes())
            .map_err(|_| Error::Input(format!("`{}` is not an object id", update.new)))?;
        if new.is_null() {
            continue;
        }
        match repo::peel(repo, new)? {
            repo::Peeled::Commit(commit) => {
                tips.push(commit);
                let old = ObjectId::from_hex(update.old.as_bytes()).ok().filter(|old| !old.is_null());
                let old = old.map(|old| repo::peel_to_commit(repo, old)).transpose()?.flatten();
                pushed.push(PushedRef { tip: commit, old });
            }
            // Whole, even when the server had the object: a pack may carry objects no ref
            // reaches, which no scan saw (a client other than git's can send a blob alone
            // and name it with a tag in a later push).
            repo::Peeled::Content(root) => contents.push((update.name.clone(), root)),
            // git checks that a push is complete before `pre-receive`: a missing object is
            // a broken view, not a clean push.
            repo::Peeled::Missing => {
                return Err(Error::Input(format!("{} points at {new}, which cannot be read", update.name)))
            }
        }
    }
    if tips.is_empty() && contents.is_empty() {
        return Ok(PushScan::default());
    }
    let hidden = repo::ref_commit_tips(repo, |_| true)?;
    let brought = refs_bringing(repo, &pushed, &hidden)?;
    let selection = Selection { revision: None, since: None, tips: Some((tips, hidden)), contents };
    let output = history::sweep(
        repo,
        scanner,
        allowlist,
        &selection,
        SweepOptions { threads, delta_aware: true },
        progress,
    )?;
    let (mut findings, mut summary) = (output.findings, output.summary);
    // Each finding is judged by the refs that bring its commit, each by its own history: a
    // force-pushed rebase re-adds what the ref held before (nothing new is exposed), and a
    // bare repository has no work tree, so a ref's ignore file and baseline are its tip's.
    // The finding goes only if every ref bringing it lets it go: one ref's ignore file does
    // not let a secret onto another branch pushed beside it.
    let mut suppressors: HashMap<ObjectId, Suppressor> = HashMap::new();
    let mut kept = Vec::with_capacity(findings.len());
    for finding in findings.drain(..) {
        let refs = finding
            .commit
            .as_deref()
            .and_then(|commit| ObjectId::from_hex(commit.as_bytes()).ok())
            .map(|commit| brought.refs_of(commit))
            .unwrap_or_default();
        if refs.is_empty() {
            // Content a ref points at directly: no commit, no ignore file governs it.
            kept.push(finding);
            continue;
        }
        let held = |r: &PushedRef| {
            r.old.is_some_and(|old| repo::file_holds(repo, &[old], &finding.path, finding.secret.as_bytes()))
        };
        if refs.iter().all(|&i| held(&pushed[i])) {
            summary.findings = summary.findings.saturating_sub(1);
            continue;
        }
        let mut verdicts = Vec::with_capacity(refs.len());
        for &i in &refs {
            let tip = pushed[i].tip;
            let suppressor = match suppressors.entry(tip) {
                std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                    Suppressor::committed(Arc::clone(scanner.allowlists()), &tip.to_string(), |name| {
                        repo::committed_file(repo, tip, name)
                    })
                    .map_err(|err| Error::Input(err.to_string()))?,
                ),
            };
            verdicts.push(suppressor.check(&finding));
        }
        if verdicts.iter().all(Option::is_some) {
            verdicts[0].expect("checked above").count_in(&mut summary);
        } else {
            kept.push(finding);
        }
    }
    let findings = kept;
    Ok(PushScan { findings, summary, commits: output.commits })
}

/// A ref update that brings commits: its new tip and its previous commit, if any.
struct PushedRef {
    tip: ObjectId,
    old: Option<ObjectId>,
}

/// For each new commit, which of the pushed refs reach it.
struct Bringers {
    /// Bits of `PushedRef` indexes, per new commit.
    refs: HashMap<ObjectId, Vec<u64>>,
    /// Every pushed ref has the same tip, so each brings every new commit: nothing walked.
    all: Option<usize>,
}

impl Bringers {
    /// The indexes of the pushed refs whose new history holds `commit`.
    fn refs_of(&self, commit: ObjectId) -> Vec<usize> {
        if let Some(n) = self.all {
            return (0..n).collect();
        }
        self.refs.get(&commit).map_or_else(Vec::new, |bits| {
            (0..bits.len() * 64).filter(|&i| bits[i / 64] & (1 << (i % 64)) != 0).collect()
        })
    }
}

/// Which pushed refs reach each new commit (reachable from a pushed tip and from no existing
/// ref), found in one walk: each commit passes its refs on to its parents, children first.
fn refs_bringing(
    repo: &gix::Repository,
    pushed: &[PushedRef],
    hidden: &[ObjectId],
) -> Result<Bringers, Error> {
    let words = pushed.len().div_ceil(64);
    let mut refs: HashMap<ObjectId, Vec<u64>> = HashMap::new();
    // One tip (the usual push): every new commit is that tip's history, as the sweep walks it.
    if pushed.iter().all(|r| r.tip == pushed[0].tip) {
        return Ok(Bringers { refs, all: Some(pushed.len()) });
    }
    let walk_failed =
        |err: &dyn std::fmt::Display| Error::Input(format!("cannot walk the pushed commits: {err}"));
    let walk = repo
        .rev_walk(pushed.iter().map(|r| r.tip))
        .with_hidden(hidden.iter().copied())
        .all()
        .map_err(|err| walk_failed(&err))?;
    let mut parents: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for info in walk {
        let info = info.map_err(|err| walk_failed(&err))?;
        parents.insert(info.id, info.parent_ids.to_vec());
    }
    // Children first: a commit's refs are complete once every new child has passed its own.
    let mut waiting: HashMap<ObjectId, usize> = HashMap::new();
    for parent in parents.values().flatten().filter(|p| parents.contains_key(*p)) {
        *waiting.entry(*parent).or_default() += 1;
    }
    for (i, r) in pushed.iter().enumerate() {
        if parents.contains_key(&r.tip) {
            refs.entry(r.tip).or_insert_with(|| vec![0; words])[i / 64] |= 1 << (i % 64);
        }
    }
    let mut ready: Vec<ObjectId> = parents.keys().filter(|c| !waiting.contains_key(*c)).copied().collect();
    while let Some(commit) = ready.pop() {
        let bits = refs.get(&commit).cloned().unwrap_or_else(|| vec![0; words]);
        for parent in parents[&commit].iter().filter(|p| parents.contains_key(*p)) {
            let to = refs.entry(*parent).or_insert_with(|| vec![0; words]);
            to.iter_mut().zip(&bits).for_each(|(to, from)| *to |= from);
            let left = waiting.get_mut(parent).expect("counted above");
            *left -= 1;
            if *left == 0 {
                ready.push(*parent);
            }
        }
    }
    Ok(Bringers { refs, all: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pre_receive_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let updates =
            parse_pre_receive(&format!("{zero} {a} refs/heads/new\n{a} {zero} refs/tags/v1\n")).unwrap();
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].name, "refs/heads/new");
        assert!(parse_pre_receive("x y").unwrap_err().to_string().contains("line 1"));
        assert!(parse_pre_receive(&format!("{zero} nothex refs/heads/x")).is_err());
    }
}
