//! What a commit (or the index) changes, as blob pairs: for each path, the new blob and the
//! blob that each parent had there.

use std::collections::{HashMap, HashSet};

use gix::{bstr::BString, prelude::*, ObjectId};

use super::{Context, Error};

/// One path whose content a commit (or the index) changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobChange {
    /// The path, as git stores it (bytes; not necessarily UTF-8).
    pub path: BString,
    /// The new content.
    pub new: ObjectId,
    /// What each parent held at this path: `None` where the path was absent (or not a
    /// blob). One entry per parent; a root commit has one `None`.
    pub old: Vec<Option<ObjectId>>,
}

/// The changes of the index against `HEAD` (the empty tree before the first commit): what
/// `git commit` is about to record. Submodules and deletions are left out.
pub fn staged(repo: &gix::Repository) -> Result<Vec<BlobChange>, Error> {
    use gix::diff::index::ChangeRef;
    use gix::index::entry::Mode;
    let index = repo.open_index().context(|| "reading the index".into())?;
    let head_tree = repo.head_tree_id_or_empty().context(|| "reading HEAD".into())?;
    if index.is_sparse() {
        let mut changes = staged_in_sparse_index(repo, &index, head_tree.detach())?;
        add_merge_heads(repo, &mut changes)?;
        return Ok(changes);
    }
    let mut changes = Vec::new();
    let mut deleted = Vec::new();
    repo.tree_index_status(
        &head_tree,
        &index,
        None,
        gix::status::tree_index::TrackRenames::Disabled,
        |change, _, _| {
            match change {
                ChangeRef::Addition { location, entry_mode, id, .. } if entry_mode != Mode::COMMIT => {
                    changes.push(BlobChange {
                        path: location.into_owned(),
                        new: id.into_owned(),
                        old: vec![None],
                    });
                }
                ChangeRef::Modification {
                    location,
                    previous_id,
                    previous_entry_mode,
                    entry_mode,
                    id,
                    ..
                } if entry_mode != Mode::COMMIT => {
                    let old = (previous_entry_mode != Mode::COMMIT).then(|| previous_id.into_owned());
                    changes.push(BlobChange {
                        path: location.into_owned(),
                        new: id.into_owned(),
                        old: vec![old],
                    });
                }
                ChangeRef::Deletion { id, entry_mode, .. } if entry_mode != Mode::COMMIT => {
                    deleted.push(id.into_owned());
                }
                _ => {}
            }
            Ok::<_, gix::Error>(std::ops::ControlFlow::Continue(()))
        },
    )
    .context(|| "comparing the index with HEAD".into())?;
    pair_renames(repo, &mut changes, &[deleted], true)?;
    add_merge_heads(repo, &mut changes)?;
    Ok(changes)
}

/// While a merge is being concluded (`git commit` or `git merge --continue` after a
/// conflict), the commit will have the merged branches as parents too: what a change takes
/// from one of them is not new, as in a pushed merge commit. Each change gains, per
/// `MERGE_HEAD` commit, the blob that commit holds at its path; a change equal to one of
/// them adds nothing and is dropped.
fn add_merge_heads(repo: &gix::Repository, changes: &mut Vec<BlobChange>) -> Result<(), Error> {
    let heads = merge_heads(repo);
    if heads.is_empty() || changes.is_empty() {
        return Ok(());
    }
    use gix::bstr::ByteSlice;
    use gix::index::entry::Mode;
    for head in heads {
        let tree = repo.find_commit(head).ok().and_then(|commit| commit.tree_id().ok()).ok_or_else(|| {
            Error::Read {
                context: format!("reading MERGE_HEAD {head}"),
                message: "not a commit in this repository".into(),
            }
        })?;
        let files =
            repo.index_from_tree(&tree).context(|| format!("reading the tree of MERGE_HEAD {head}"))?;
        for change in changes.iter_mut() {
            let at_head = files
                .entry_by_path(change.path.as_bstr())
                .filter(|entry| entry.mode != Mode::COMMIT && entry.mode != Mode::DIR)
                .map(|entry| entry.id);
            change.old.push(at_head);
        }
    }
    changes.retain(|change| !change.old.contains(&Some(change.new)));
    Ok(())
}

/// The commits of `MERGE_HEAD` (one per line; several for an octopus merge), or none when
/// no merge is in progress or the file cannot be read.
fn merge_heads(repo: &gix::Repository) -> Vec<ObjectId> {
    let Ok(text) = std::fs::read_to_string(repo.git_dir().join("MERGE_HEAD")) else {
        return Vec::new();
    };
    text.lines().filter_map(|line| ObjectId::from_hex(line.trim().as_bytes()).ok()).collect()
}

/// [`staged`] for a sparse index (`git sparse-checkout --sparse-index`), which gix's index
/// diff does not take: entries are compared with `HEAD`'s by path. A directory entry
/// stands for a whole tree outside the checkout; where its tree is `HEAD`'s, nothing in it
/// changes, and where it is not, its files are compared one by one.
fn staged_in_sparse_index(
    repo: &gix::Repository,
    index: &gix::index::State,
    head_tree: ObjectId,
) -> Result<Vec<BlobChange>, Error> {
    use gix::bstr::{BStr, ByteSlice};
    use gix::index::entry::{Mode, Stage};
    let head = repo.index_from_tree(&head_tree).context(|| "reading HEAD's tree".into())?;
    let mut changes = Vec::new();
    let mut compare = |path: &BStr, mode: Mode, id: ObjectId| {
        if mode == Mode::COMMIT {
            return;
        }
        let old = head.entry_by_path(path);
        if old.is_some_and(|old| old.id == id) {
            return;
        }
        let old = old.filter(|old| old.mode != Mode::COMMIT).map(|old| old.id);
        changes.push(BlobChange { path: path.to_owned(), new: id, old: vec![old] });
    };
    let mut sparse_dirs: Vec<&BStr> = Vec::new();
    let head_tree_object = repo.find_tree(head_tree).ok();
    for entry in index.entries().iter().filter(|e| e.stage() == Stage::Unconflicted) {
        let path = entry.path(index);
        if entry.mode != Mode::DIR {
            compare(path, entry.mode, entry.id);
            continue;
        }
        let dir = path.strip_suffix(b"/").unwrap_or(path).as_bstr();
        sparse_dirs.push(dir);
        let unchanged = head_tree_object
            .clone()
            .and_then(|mut tree| tree.peel_to_entry_by_path(dir.to_str_lossy().as_ref()).ok().flatten())
            .is_some_and(|at_head| at_head.object_id() == entry.id);
        if unchanged {
            continue;
        }
        let files = repo.index_from_tree(&entry.id).context(|| format!("reading tree {}", entry.id))?;
        for file in files.entries() {
            let mut full = dir.to_owned();
            full.push(b'/');
            full.extend_from_slice(file.path(&files));
            compare(full.as_bstr(), file.mode, file.id);
        }
    }
    let in_sparse_dir = |path: &BStr| {
        sparse_dirs.iter().any(|dir| path.starts_with(dir) && path.get(dir.len()) == Some(&b'/'))
    };
    let deleted: Vec<ObjectId> = head
        .entries()
        .iter()
        .filter(|e| e.mode != Mode::COMMIT)
        .filter(|e| {
            let path = e.path(&head);
            index.entry_by_path(path).is_none() && !in_sparse_dir(path)
        })
        .map(|e| e.id)
        .collect();
    pair_renames(repo, &mut changes, &[deleted], true)?;
    Ok(changes)
}

/// What a reference pointing straight at a tree or a blob brings: every file of the tree,
/// or the blob, all new. Each is named as `git show` takes it: `name:path` for a tree's
/// file, `name` for the blob itself.
pub fn content_changes(repo: &gix::Repository, name: &str, root: ObjectId) -> Result<Vec<BlobChange>, Error> {
    use gix::diff::tree::recorder::Change;
    let header = repo.find_header(root).context(|| format!("reading object {root}, the target of {name}"))?;
    if header.kind() == gix::object::Kind::Blob {
        return Ok(vec![BlobChange { path: name.into(), new: root, old: vec![None] }]);
    }
    let mut buf = Vec::new();
    let tree = repo.objects.find_tree_iter(&root, &mut buf).context(|| format!("reading tree {root}"))?;
    let mut recorder = gix::diff::tree::Recorder::default();
    let empty = gix::objs::TreeRefIter::from_bytes(&[], repo.object_hash());
    gix::diff::tree(empty, tree, &mut gix::diff::tree::State::default(), &repo.objects, &mut recorder)
        .context(|| format!("reading tree {root}, the target of {name}"))?;
    let mut changes: Vec<BlobChange> = recorder
        .records
        .into_iter()
        .filter_map(|change| match change {
            Change::Addition { entry_mode, oid, path, .. } if entry_mode.is_blob_or_symlink() => {
                let mut named = BString::from(format!("{name}:"));
                named.extend_from_slice(&path);
                Some(BlobChange { path: named, new: oid, old: vec![None] })
            }
            _ => None,
        })
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// A reusable differ of commits against their parents.
#[derive(Default)]
pub struct CommitDiffer {
    state: gix::diff::tree::State,
    commit_buf: Vec<u8>,
    old_buf: Vec<u8>,
    new_buf: Vec<u8>,
    similar_renames: bool,
}

impl CommitDiffer {
    /// A differ that also pairs a file moved *and edited* with the file it came from (see
    /// [`pair_renames`]), as the added-lines question needs. Without it only exact renames
    /// are paired: enough to know which blobs a commit introduces, and cheaper.
    pub fn pairing_similar_renames() -> Self {
        CommitDiffer { similar_renames: true, ..CommitDiffer::default() }
    }

    /// The changes `commit` makes against every parent (against the empty tree for a root
    /// commit). A path is listed only if it differs from *every* parent: a merge that takes
    /// a file from one side unchanged adds nothing there.
    pub fn changes(
        &mut self,
        repo: &gix::Repository,
        commit: ObjectId,
        out: &mut Vec<BlobChange>,
    ) -> Result<(), Error> {
        use gix::diff::tree::recorder::Change;
        let c = repo
            .objects
            .find_commit_iter(&commit, &mut self.commit_buf)
            .context(|| format!("reading commit {commit}"))?;
        let tree = c.clone().tree_id().context(|| format!("reading commit {commit}"))?;
        let parents: Vec<ObjectId> = c.parent_ids().collect();
        let parent_count = parents.len().max(1);
        let mut by_path: HashMap<BString, BlobChange> = HashMap::new();
        let mut deleted: Vec<Vec<ObjectId>> = Vec::with_capacity(parent_count);
        let parent_list: Vec<Option<ObjectId>> =
            if parents.is_empty() { vec![None] } else { parents.into_iter().map(Some).collect() };
        for (nth, parent) in parent_list.into_iter().enumerate() {
            let old_tree = match parent {
                // The parents of a shallow clone's oldest commits are absent: like git, treat
                // those commits as roots.
                Some(p) if !repo.has_object(p) => None,
                Some(p) => Some(
                    repo.objects
                        .find_commit_iter(&p, &mut self.old_buf)
                        .and_then(|mut c| c.tree_id())
                        .context(|| format!("reading commit {p}, parent of {commit}"))?,
                ),
                None => None,
            };
            let old_iter = match old_tree {
                Some(t) => repo
                    .objects
                    .find_tree_iter(&t, &mut self.old_buf)
                    .context(|| format!("reading tree {t}"))?,
                None => gix::objs::TreeRefIter::from_bytes(&[], repo.object_hash()),
            };
            let new_iter = repo
                .objects
                .find_tree_iter(&tree, &mut self.new_buf)
                .context(|| format!("reading tree {tree}"))?;
            let mut recorder = gix::diff::tree::Recorder::default();
            gix::diff::tree(old_iter, new_iter, &mut self.state, &repo.objects, &mut recorder)
                .context(|| format!("diffing commit {commit}"))?;
            let mut gone = Vec::new();
            for change in recorder.records {
                let (path, new, old) = match change {
                    Change::Addition { entry_mode, oid, path, .. } if entry_mode.is_blob_or_symlink() => {
                        (path, oid, None)
                    }
                    Change::Modification { previous_oid, previous_entry_mode, entry_mode, oid, path }
                        if entry_mode.is_blob_or_symlink() =>
                    {
                        (path, oid, previous_entry_mode.is_blob_or_symlink().then_some(previous_oid))
                    }
                    Change::Deletion { entry_mode, oid, .. } if entry_mode.is_blob_or_symlink() => {
                        gone.push(oid);
                        continue;
                    }
                    _ => continue,
                };
                if nth == 0 {
                    by_path.insert(path.clone(), BlobChange { path, new, old: vec![old] });
                } else if let Some(entry) = by_path.get_mut(&path) {
                    if entry.old.len() == nth {
                        entry.old.push(old);
                    }
                }
            }
            deleted.push(gone);
        }
        let start = out.len();
        out.extend(by_path.into_values().filter(|c| c.old.len() == parent_count));
        out[start..].sort_by(|a, b| a.path.cmp(&b.path));
        let mut mine = out.split_off(start);
        pair_renames(repo, &mut mine, &deleted, self.similar_renames)?;
        out.extend(mine);
        Ok(())
    }
}

/// Past this many (added, deleted) file pairs in one commit, only exact renames are paired:
/// a mass move is compared by ids alone (git's `diff.renameLimit` plays the same part).
const MAX_SIMILARITY_PAIRS: usize = 64 * 64;

/// Files larger than this are not compared for similarity.
const MAX_SIMILARITY_BLOB: usize = 1 << 20;

/// Pairs each added path with the deleted path it was moved from, per parent, so that only
/// what the move changed counts as new. A path added with exactly the content a deleted
/// path had is a rename: nothing in it is new. With `similar`, a path whose lines are at
/// least half found in one deleted file is that file moved and edited (`git mv` then a
/// fix), as git's rename detection at its default 50% would say; without this, every line
/// of an edited move would be "added" and an old secret in it would block the commit.
fn pair_renames(
    repo: &gix::Repository,
    changes: &mut [BlobChange],
    deleted: &[Vec<ObjectId>],
    similar: bool,
) -> Result<(), Error> {
    for change in changes.iter_mut() {
        for (old, gone) in change.old.iter_mut().zip(deleted) {
            if old.is_none() && gone.contains(&change.new) {
                *old = Some(change.new);
            }
        }
    }
    if !similar {
        return Ok(());
    }
    for (nth, gone) in deleted.iter().enumerate() {
        let unpaired: Vec<usize> = (0..changes.len()).filter(|&i| changes[i].old[nth].is_none()).collect();
        if unpaired.is_empty() || gone.is_empty() || unpaired.len() * gone.len() > MAX_SIMILARITY_PAIRS {
            continue;
        }
        let mut sources = Vec::with_capacity(gone.len());
        for &id in gone {
            if let Some(data) = small_blob(repo, id)? {
                sources.push((id, data));
            }
        }
        let source_lines: Vec<(ObjectId, HashSet<&[u8]>)> =
            sources.iter().map(|(id, data)| (*id, data.split(|&b| b == b'\n').collect())).collect();
        for index in unpaired {
            let Some(data) = small_blob(repo, changes[index].new)? else { continue };
            let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|line| !line.is_empty()).collect();
            let best = source_lines
                .iter()
                .map(|(id, set)| (lines.iter().filter(|line| set.contains(*line)).count(), *id))
                .max();
            if let Some((shared, id)) = best {
                if shared > 0 && shared * 2 >= lines.len() {
                    changes[index].old[nth] = Some(id);
                }
            }
        }
    }
    Ok(())
}

/// A blob's content, unless it is over [`MAX_SIMILARITY_BLOB`] or absent.
fn small_blob(repo: &gix::Repository, id: ObjectId) -> Result<Option<Vec<u8>>, Error> {
    let Some(header) = repo.try_find_header(id).context(|| format!("reading blob {id}"))? else {
        return Ok(None);
    };
    if header.size() as usize > MAX_SIMILARITY_BLOB {
        return Ok(None);
    }
    Ok(repo.try_find_object(id).context(|| format!("reading blob {id}"))?.map(|object| object.detach().data))
}
