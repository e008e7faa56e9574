//! `secretgate install` and `secretgate uninstall`: secretgate's hooks in a repository's hooks
//! directory (`core.hooksPath` when set).

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use secretgate_scanner::source::git::repo;

use crate::{
    cli::{InstallArgs, UninstallArgs},
    ExitStatus,
};

/// The hooks secretgate installs, and the command each runs.
const HOOKS: [(&str, &str); 2] = [("pre-commit", "pre-commit"), ("pre-push", "pre-push")];

/// The line that marks a hook as ours, so that `uninstall` removes only what `install` wrote.
const MARKER: &str = "# secretgate-managed-hook";

const BACKUP_SUFFIX: &str = ".secretgate-backup";

pub fn install(args: InstallArgs) -> Result<ExitStatus> {
    let dir = hooks_dir(args.repo.as_deref())?;
    fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the hooks directory {}", dir.display()))?;
    let exe = std::env::current_exe().context("cannot find secretgate's own path")?;
    // Refuse before writing anything: a half-installed pair is worse than none.
    let mut foreign = Vec::new();
    for (hook, _) in HOOKS {
        let path = dir.join(hook);
        let is_foreign = is_foreign(&path)?;
        if is_foreign && !args.force {
            bail!(
                "{} exists and was not written by secretgate; rerun with --force to replace it (it is kept as {hook}{BACKUP_SUFFIX})",
                path.display()
            );
        }
        let backup = dir.join(format!("{hook}{BACKUP_SUFFIX}"));
        if is_foreign && exists(&backup)? {
            bail!("{} exists already; move it away first", backup.display());
        }
        foreign.push(is_foreign);
    }
    for ((hook, command), is_foreign) in HOOKS.into_iter().zip(foreign) {
        let path = dir.join(hook);
        if is_foreign {
            let backup = dir.join(format!("{hook}{BACKUP_SUFFIX}"));
            fs::rename(&path, &backup).with_context(|| format!("cannot back up {}", path.display()))?;
            eprintln!(
                "secretgate: kept the previous {hook} hook as {}; it runs after secretgate",
                backup.display()
            );
            if reads_its_own_name(&backup) {
                eprintln!(
                    "secretgate: warning: that hook finds its own name or directory from $0 (as husky 4 and \
                     overcommit do), and under its new name it may fail or do nothing: call `secretgate {command}` \
                     from that hook manager instead, and `secretgate uninstall`"
                );
            }
        }
        write_hook(&path, &script(&exe, command))?;
        eprintln!("secretgate: installed {}", path.display());
    }
    Ok(ExitStatus::Clean)
}

pub fn uninstall(args: UninstallArgs) -> Result<ExitStatus> {
    let dir = hooks_dir(args.repo.as_deref())?;
    let mut removed = 0;
    for (hook, _) in HOOKS {
        let path = dir.join(hook);
        if !exists(&path)? || is_foreign(&path)? {
            continue;
        }
        fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        removed += 1;
        let backup = dir.join(format!("{hook}{BACKUP_SUFFIX}"));
        if exists(&backup)? {
            fs::rename(&backup, &path).with_context(|| format!("cannot restore {}", backup.display()))?;
            eprintln!("secretgate: removed {} and restored the hook it replaced", path.display());
        } else {
            eprintln!("secretgate: removed {}", path.display());
        }
    }
    if removed == 0 {
        eprintln!("secretgate: no secretgate hooks in {}", dir.display());
    }
    Ok(ExitStatus::Clean)
}

/// The hooks directory: `core.hooksPath` (relative to the work tree root, as git reads it)
/// or `hooks` in the common git directory, which every linked worktree shares (git never
/// runs hooks from `.git/worktrees/<name>/hooks`).
fn hooks_dir(repo_path: Option<&Path>) -> Result<PathBuf> {
    let repo = repo::discover(repo_path.unwrap_or(Path::new(".")))?;
    let configured =
        repo.config_snapshot().trusted_path("core.hooksPath").context("cannot read core.hooksPath")?;
    Ok(match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repo.workdir().unwrap_or(repo.git_dir()).join(path),
        None => repo.common_dir().join("hooks"),
    })
}

/// Whether `path` holds a hook secretgate did not write. A symbolic link that leads nowhere
/// is somebody's hook too: writing through it would fail or land elsewhere.
fn is_foreign(path: &Path) -> Result<bool> {
    if !exists(path)? {
        return Ok(false);
    }
    match fs::read(path) {
        Ok(bytes) => Ok(!String::from_utf8_lossy(&bytes).lines().any(|line| line.trim() == MARKER)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Whether a hook script looks itself up through its own path (`$0`, `basename`, Bash's
/// `BASH_SOURCE`, Ruby's `__FILE__`/`$PROGRAM_NAME`): such a hook breaks when it runs
/// under another name.
fn reads_its_own_name(path: &Path) -> bool {
    fs::read(path).is_ok_and(|bytes| {
        let text = String::from_utf8_lossy(&bytes);
        ["$0", "basename", "BASH_SOURCE", "__FILE__", "$PROGRAM_NAME"].iter().any(|mark| text.contains(mark))
    })
}

/// Whether `path` names anything, a dangling symbolic link included.
fn exists(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err).with_context(|| format!("cannot inspect {}", path.display())),
    }
}

/// The hook script: runs the installing binary, or `secretgate` from `PATH` if it moved,
/// and says so in plain words when neither is there. A hook `install --force` put aside
/// runs after secretgate passes, with the same arguments (and, for pre-push, the same
/// standard input), so a linter or a hook manager installed before keeps working.
fn script(exe: &Path, command: &str) -> String {
    let exe = exe.display().to_string().replace('\'', r"'\''");
    let run = if command == "pre-push" {
        // Both need git's list of refs: it is read once and handed to each.
        "    input=$(mktemp) || exit 1\n    trap 'rm -f \"$input\"' EXIT\n    trap 'exit 1' HUP INT TERM\n    \
         cat >\"$input\"\n    \"$sg\" pre-push \"$@\" <\"$input\" && \"$backup\" \"$@\" <\"$input\"\n    exit $?\n"
            .to_string()
    } else {
        format!("    \"$sg\" {command} \"$@\" || exit $?\n    exec \"$backup\" \"$@\"\n")
    };
    format!(
        "#!/bin/sh\n{MARKER}\n# Written by `secretgate install`; `secretgate uninstall` removes it.\n\
         installed='{exe}'\nsg=\"$installed\"\n[ -x \"$sg\" ] || sg=secretgate\n\
         if ! command -v \"$sg\" >/dev/null 2>&1; then\n    \
         echo \"secretgate: cannot run the {command} hook: secretgate is neither at $installed nor on PATH.\" >&2\n    \
         echo \"secretgate: install it again (then run \\`secretgate install\\`), or remove this hook: $0\" >&2\n    \
         exit 1\nfi\n\
         backup=\"$0{BACKUP_SUFFIX}\"\n\
         if [ -x \"$backup\" ]; then\n{run}fi\n\
         exec \"$sg\" {command} \"$@\"\n"
    )
}

fn write_hook(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}
