//! The env file on disk: where it really is, the lock beside it, reading it, and replacing it crash-safely.
//!
//! Replacing: a temporary file `.{name}.kommo-env.tmp` in the same directory gets the old file's permission bits
//! and owner, the new text, an fsync, then is renamed over the file, and the directory is fsynced. A crash at any
//! point leaves either the old file or the new one, never a mix. The temporary file is prepared *before* Kommo is
//! asked, so a directory or owner that would stop the write stops the command before a token is spent.
//!
//! Locking: an exclusive advisory lock (`flock` on Unix) on `.{name}.kommo-env.lock` beside the file, held from
//! the read to the rename. The env file itself is not locked: it is replaced by rename, so a lock on it would
//! lock the old inode only.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::fail::{Exit, Failure, Result};

/// Test hook: `before-rename` aborts the process after the temporary file is written and flushed, before the
/// rename (what a crash or a kill at the worst moment does).
pub const CRASH_HOOK: &str = "KOMMO_ENV_TEST_CRASH";
/// Test hook: hold the lock this many milliseconds after taking it (to make races reproducible).
pub const HOLD_HOOK: &str = "KOMMO_ENV_TEST_HOLD_LOCK_MS";

/// The env file: as the user named it (for messages) and where it really is (symlinks followed).
#[derive(Debug, Clone)]
pub struct Target {
    pub shown: String,
    pub path: PathBuf,
    dir: PathBuf,
    name: OsString,
}

fn io_fail(exit: Exit, what: &str, path: &Path, e: &io::Error) -> Failure {
    Failure::new(exit, format!("{what} {}: {e}", path.display()))
}

impl Target {
    /// Resolve `given`: a symlink is followed so the link stays and its target is updated; a file that does not
    /// exist yet must be in an existing directory.
    pub fn resolve(given: &Path) -> Result<Target> {
        let shown = given.display().to_string();
        let path = match fs::canonicalize(given) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let name = given
                    .file_name()
                    .ok_or_else(|| Failure::bad(format!("{shown}: not a file name")))?;
                let parent = match given.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let dir = fs::canonicalize(parent).map_err(|e| {
                    Failure::bad(format!("{shown}: its directory cannot be used: {e}"))
                })?;
                dir.join(name)
            }
            Err(e) => return Err(io_fail(Exit::BadInput, "cannot open", given, &e)),
        };
        let name = path
            .file_name()
            .ok_or_else(|| Failure::bad(format!("{shown}: not a file name")))?
            .to_os_string();
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        Ok(Target {
            shown,
            path,
            dir,
            name,
        })
    }

    fn beside(&self, suffix: &str) -> PathBuf {
        let name = self.name.to_string_lossy();
        self.dir.join(format!(
            ".{}.kommo-env.{suffix}",
            name.trim_start_matches('.')
        ))
    }

    /// The lock file's path.
    pub fn lock_path(&self) -> PathBuf {
        self.beside("lock")
    }

    /// The temporary file's path.
    pub fn tmp_path(&self) -> PathBuf {
        self.beside("tmp")
    }

    /// The file's text, or `None` when it does not exist. Not UTF-8 is a bad file.
    pub fn read(&self) -> Result<Option<String>> {
        let mut bytes = Vec::new();
        match File::open(&self.path) {
            Ok(mut f) => f
                .read_to_end(&mut bytes)
                .map_err(|e| io_fail(Exit::BadInput, "cannot read", &self.path, &e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_fail(Exit::BadInput, "cannot read", &self.path, &e)),
        };
        String::from_utf8(bytes).map(Some).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            Failure::bad(format!("{}: line {line}: not UTF-8 text", self.shown))
        })
    }

    /// The file's metadata, if it exists.
    pub fn metadata(&self) -> Option<fs::Metadata> {
        fs::metadata(&self.path).ok()
    }
}

/// The exclusive lock, released when dropped.
pub struct Lock {
    _file: File,
}

/// Whether the lock was free or had to be waited for.
pub enum Locking {
    Free(Lock),
    Busy(PendingLock),
}

/// A lock another process holds; [`PendingLock::wait`] blocks until it is ours.
pub struct PendingLock {
    file: File,
    path: PathBuf,
}

impl PendingLock {
    pub fn wait(self) -> Result<Lock> {
        self.file
            .lock()
            .map_err(|e| io_fail(Exit::BadInput, "cannot lock", &self.path, &e))?;
        hold_for_tests();
        Ok(Lock { _file: self.file })
    }
}

fn hold_for_tests() {
    if let Some(ms) = std::env::var(HOLD_HOOK)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Take the lock beside the file if it is free, or say it is busy.
pub fn lock(target: &Target) -> Result<Locking> {
    let path = target.lock_path();
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|e| {
        Failure::bad(format!(
            "cannot create the lock file {}: {e} (kommo-env replaces the env file by rename, so its directory must be writable)",
            path.display()
        ))
    })?;
    match file.try_lock() {
        Ok(()) => {
            hold_for_tests();
            Ok(Locking::Free(Lock { _file: file }))
        }
        Err(fs::TryLockError::WouldBlock) => Ok(Locking::Busy(PendingLock { file, path })),
        Err(fs::TryLockError::Error(e)) => Err(io_fail(Exit::BadInput, "cannot lock", &path, &e)),
    }
}

/// A temporary file beside the target, with the target's permissions and owner, ready to take the new text.
pub struct Staged {
    file: Option<File>,
    tmp: PathBuf,
    target: PathBuf,
    dir: PathBuf,
    renamed: bool,
}

/// Prepare the replacement of `target`. `like`: the existing file's metadata (its mode and owner are kept); a new
/// file gets mode 0600 (it holds secrets).
pub fn stage(target: &Target, like: Option<&fs::Metadata>) -> Result<Staged> {
    let tmp = target.tmp_path();
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&tmp).map_err(|e| {
        Failure::bad(format!(
            "cannot create {} beside the env file: {e} (its directory must be writable)",
            tmp.display()
        ))
    })?;
    let staged = Staged {
        file: Some(file),
        tmp,
        target: target.path.clone(),
        dir: target.dir.clone(),
        renamed: false,
    };
    if let (Some(like), Some(file)) = (like, staged.file.as_ref()) {
        keep_owner_and_mode(file, like).map_err(|e| {
            Failure::bad(format!(
                "{}: cannot keep the file's owner and permissions on its replacement: {e}; run kommo-env as the file's owner",
                target.shown
            ))
        })?;
    }
    Ok(staged)
}

#[cfg(unix)]
fn keep_owner_and_mode(file: &File, like: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mine = file.metadata()?;
    if (mine.uid(), mine.gid()) != (like.uid(), like.gid()) {
        std::os::unix::fs::fchown(file, Some(like.uid()), Some(like.gid()))?;
    }
    // After the chown: changing the owner may clear set-id bits.
    file.set_permissions(like.permissions())
}

#[cfg(not(unix))]
fn keep_owner_and_mode(file: &File, like: &fs::Metadata) -> io::Result<()> {
    file.set_permissions(like.permissions())
}

impl Staged {
    /// Write, flush, rename over the target, flush the directory.
    pub fn commit(mut self, text: &str) -> Result<()> {
        let mut file = self.file.take().expect("committed once");
        let tmp = self.tmp.clone();
        let not_saved = |what: &str, e: io::Error| {
            Failure::new(
                Exit::NotSaved,
                format!(
                    "could not save the new tokens ({what} {}: {e})",
                    tmp.display()
                ),
            )
        };
        file.write_all(text.as_bytes())
            .map_err(|e| not_saved("writing", e))?;
        file.sync_all().map_err(|e| not_saved("flushing", e))?;
        drop(file);
        if std::env::var(CRASH_HOOK).as_deref() == Ok("before-rename") {
            std::process::abort();
        }
        fs::rename(&self.tmp, &self.target).map_err(|e| not_saved("renaming", e))?;
        self.renamed = true;
        // The rename itself is durable once the directory is flushed (not possible everywhere: best effort).
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
