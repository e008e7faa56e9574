//! Opening a repository the way git's hooks expect, and reading commit metadata.

use std::path::Path;

use gix::{bstr::ByteSlice, ObjectId};

use super::{Context, Error};

/// Opens the repository at or above `dir`, honouring `GIT_DIR`, `GIT_WORK_TREE` and
/// `GIT_INDEX_FILE` as git sets them for hooks (`git commit <path>` points
/// `GIT_INDEX_FILE` at a temporary index, and that index is what gets committed).
pub fn discover(dir: &Path) -> Result<gix::Repository, Error> {
    let mut repo = gix::discover_with_environment_overrides(dir).map_err(|err| Error::Open {
        path: dir.display().to_string(),
        message: super::one_line(&err.to_string()),
    })?;
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
    let mut tips = Vec::new();
    let platform = repo.references().context(|| "listing references".into())?;
    for reference in platform.all().context(|| "listing references".into())? {
        let Ok(mut reference) = reference else { continue };
        if !keep(reference.name().as_bstr().to_str_lossy().as_ref()) {
            continue;
        }
        let Ok(id) = reference.peel_to_id() else { continue };
        if let Some(commit) = peel_to_commit(repo, id.detach())? {
            tips.push(commit);
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Peels tags down to a commit; `None` if the object is absent or is not (a tag of) a commit.
pub fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<Option<ObjectId>, Error> {
    let Some(object) = repo.try_find_object(id).context(|| format!("reading object {id}"))? else {
        return Ok(None);
    };
    let object = object.peel_tags_to_end().context(|| format!("peeling tag {id}"))?;
    Ok((object.kind == gix::object::Kind::Commit).then_some(object.id))
}

/// The text of the file `name` at the root of `commit`'s tree, if there is one.
pub fn committed_file(repo: &gix::Repository, commit: ObjectId, name: &str) -> Option<String> {
    let tree = repo.find_commit(commit).ok()?.tree().ok()?;
    let entry = tree.find_entry(name)?;
    let object = entry.object().ok()?;
    Some(String::from_utf8_lossy(&object.data).into_owned())
}
