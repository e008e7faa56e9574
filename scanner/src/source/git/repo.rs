//! Opening a repository the way git's hooks expect, and reading commit metadata.

use std::path::Path;

use gix::{bstr::ByteSlice, ObjectId};

use super::{Context, Error};

/// Opens the repository at or above `dir`, honouring `GIT_DIR`, `GIT_WORK_TREE` and
/// `GIT_INDEX_FILE` as git sets them for hooks (`git commit <path>` points
/// `GIT_INDEX_FILE` at a temporary index, and that index is what gets committed).
pub fn discover(dir: &Path) -> Result<gix::Repository, Error> {
    // gix walks `..` components lexically (`../x.git` would be looked for in `../.git`).
    let absolute = std::fs::canonicalize(dir);
    let mut repo = gix::discover_with_environment_overrides(absolute.as_deref().unwrap_or(dir))
        .map_err(|err| Error::Open { path: dir.display().to_string(), message: super::with_causes(&err) })?;
    // Tree and blob reads jump around packs; a bounded delta-base cache pays for itself.
    repo.object_cache_size_if_unset(4 << 20);
    Ok(repo)
}

/// Who made a commit and what it says, for attributing findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitInfo {
    /// The commit id, full hex.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// Author time in seconds since the epoch (for ordering).
    pub time: i64,
    /// The first line of the message.
    pub summary: String,
}

/// Reads a commit's author, date and summary.
pub fn commit_info(repo: &gix::Repository, id: ObjectId) -> Result<CommitInfo, Error> {
    let commit = repo.find_commit(id).context(|| format!("reading commit {id}"))?;
    let author = commit.author().context(|| format!("reading the author of commit {id}"))?;
    let time = author.time().unwrap_or_default();
    let message = commit.message_raw_sloppy();
    let summary = message.lines().next().unwrap_or_default().to_str_lossy().trim().to_string();
    Ok(CommitInfo {
        id: id.to_string(),
        author: author.name.to_str_lossy().into_owned(),
        email: author.email.to_str_lossy().into_owned(),
        date: time.format_or_unix(gix::date::time::format::ISO8601_STRICT),
        time: time.seconds,
        summary,
    })
}

/// Every reference's target peeled to a commit; references to trees or blobs are left out.
pub fn ref_commit_tips(repo: &gix::Repository, keep: impl Fn(&str) -> bool) -> Result<Vec<ObjectId>, Error> {
    Ok(ref_tips(repo, keep)?.commits)
}

/// Trees and blobs that references point at directly, each with the reference's name.
pub type RefContents = Vec<(String, ObjectId)>;

/// What the references of a repository point to.
pub struct RefTips {
    /// Their targets peeled to commits, sorted, without duplicates.
    pub commits: Vec<ObjectId>,
    /// References whose target peels to a tree or a blob (`git tag key $(git hash-object -w
    /// key.asc)`), by name: content that no commit holds.
    pub contents: RefContents,
    /// The names of references whose target object is missing from the repository.
    pub missing: Vec<String>,
}

/// The commits `keep`'s references point to, and the references whose object is missing.
/// Symbolic references that lead nowhere (`origin/HEAD` after its branch went) are left out.
pub fn ref_tips(repo: &gix::Repository, keep: impl Fn(&str) -> bool) -> Result<RefTips, Error> {
    let mut tips = RefTips { commits: Vec::new(), contents: Vec::new(), missing: Vec::new() };
    let platform = repo.references().context(|| "listing references".into())?;
    for reference in platform.all().context(|| "listing references".into())? {
        let Ok(mut reference) = reference else { continue };
        let name = reference.name().as_bstr().to_str_lossy().into_owned();
        if !keep(&name) {
            continue;
        }
        let direct = reference.target().try_id().map(|id| id.to_owned());
        let Ok(id) = reference.peel_to_id() else {
            if direct.is_some_and(|id| !repo.has_object(id)) {
                tips.missing.push(name);
            }
            continue;
        };
        match peel(repo, id.detach())? {
            Peeled::Commit(commit) => tips.commits.push(commit),
            Peeled::Content(content) => tips.contents.push((name, content)),
            Peeled::Missing => tips.missing.push(name),
        }
    }
    tips.commits.sort();
    tips.commits.dedup();
    Ok(tips)
}

/// What an object is once its tags are peeled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peeled {
    /// A commit: its history is what a reference brings.
    Commit(ObjectId),
    /// A tree or a blob: content that a reference holds with no commit around it.
    Content(ObjectId),
    /// Absent from the repository.
    Missing,
}

/// Peels tags down to what they finally point at.
pub fn peel(repo: &gix::Repository, id: ObjectId) -> Result<Peeled, Error> {
    let Some(object) = repo.try_find_object(id).context(|| format!("reading object {id}"))? else {
        return Ok(Peeled::Missing);
    };
    let object = object.peel_tags_to_end().context(|| format!("peeling tag {id}"))?;
    Ok(match object.kind {
        gix::object::Kind::Commit => Peeled::Commit(object.id),
        _ => Peeled::Content(object.id),
    })
}

/// Peels tags down to a commit; `None` if the object is absent or is not (a tag of) a commit.
pub fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<Option<ObjectId>, Error> {
    Ok(match peel(repo, id)? {
        Peeled::Commit(commit) => Some(commit),
        _ => None,
    })
}

/// The text of the file `name` at the root of `commit`'s tree, if there is one.
pub fn committed_file(repo: &gix::Repository, commit: ObjectId, name: &str) -> Option<String> {
    let tree = repo.find_commit(commit).ok()?.tree().ok()?;
    let entry = tree.find_entry(name)?;
    let object = entry.object().ok()?;
    Some(String::from_utf8_lossy(&object.data).into_owned())
}

/// Whether one of `commits` holds `secret` in its file at `path`. The hooks ask it of what
/// the other side already has: a rebased branch re-adds, against its new base, the lines
/// it added before, and a force push of it exposes nothing the remote did not hold.
pub fn file_holds(repo: &gix::Repository, commits: &[ObjectId], path: &str, secret: &[u8]) -> bool {
    if secret.is_empty() {
        return false;
    }
    commits.iter().any(|&commit| {
        let Some(entry) = repo
            .find_commit(commit)
            .ok()
            .and_then(|commit| commit.tree().ok())
            .and_then(|tree| tree.lookup_entry_by_path(path).ok().flatten())
        else {
            return false;
        };
        entry.mode().is_blob()
            && repo
                .find_blob(entry.object_id())
                .is_ok_and(|blob| memchr::memmem::find(&blob.data, secret).is_some())
    })
}
