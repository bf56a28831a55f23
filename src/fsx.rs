//! File-system primitives for everything aepact writes or locks: one atomic write
//! ([`write_atomic`]) and one exclusive file lock ([`FileLock`]).
//!
//! Lockfiles, saved plans (`plan --out`) and the emulator's state file all go through these, so
//! each gets the same crash safety and the same locking. Nothing here knows what the file is:
//! the functions return the [`io::Error`] (or a [`LockError`]), and each caller says in its own
//! words which file it could not write or lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Atomic write

/// Distinguishes temp files of one process's concurrent writes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces the file at `path` with `bytes` so that a crash at any instant leaves either the old
/// file or the new one, complete, never a mix or a truncated file.
///
/// Writes a temp file in the same directory (`.NAME.tmp.PID.N`, created exclusively), gives it
/// the old file's permissions, fsyncs it, renames it over `path` (atomic on POSIX file systems),
/// then fsyncs the directory so the rename itself survives a power loss. On error the temp file
/// is removed and the old file is untouched. A crash before the rename can leave a stray temp
/// file behind; it is never read, reused or removed.
///
/// Returns the I/O error; the caller names the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the path has no file name"))?
        .to_string_lossy();
    // A temp file left by a crashed process whose PID we now have is skipped, never reused
    // or removed.
    let (tmp, mut file) = {
        let mut attempt = 0;
        loop {
            let tmp = dir.join(format!(
                ".{name}.tmp.{}.{}",
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => break (tmp, file),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }
    };
    let result = (|| {
        file.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&tmp);
        return Err(err);
    }
    sync_dir(&dir)
}

/// Makes a rename in `dir` durable. Some platforms and file systems cannot open or fsync a
/// directory; that is not an error there.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        match File::open(dir).and_then(|d| d.sync_all()) {
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Exclusive lock

/// An exclusive advisory lock on a file, held until dropped (or until the process exits, however
/// it exits, so a crash never leaves a stale lock).
///
/// Advisory (`flock` on Unix, `LockFileEx` on Windows): it keeps aepact processes, and the
/// threads of one, apart; it does not stop other programs. The lock belongs to the open file
/// (the inode), not the path: if the path is replaced between the open and the lock, the lock
/// protects nothing, so both constructors check that the path still names the file they locked
/// and otherwise lock the new one.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

/// Why [`FileLock::acquire`] did not get the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The file could not be opened or locked.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Someone else still held the lock when the wait was over.
    #[error("the lock was still held after {waited:?}")]
    Busy { waited: Duration },
}

/// One try at a lock.
enum Attempt {
    Locked(FileLock),
    /// Held by someone else (only when not blocking).
    Held,
    /// The path names another file than the one locked: try again on the new one.
    Replaced,
}

impl FileLock {
    /// Locks the existing file at `path`, opened read-only, polling until `timeout` has passed
    /// (a zero timeout tries once).
    ///
    /// Returns [`LockError::Busy`] when another process (or another lock in this process) still
    /// holds it, and [`LockError::Io`] when the file cannot be opened or locked.
    pub fn acquire(path: &Path, timeout: Duration) -> Result<FileLock, LockError> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(5);
        loop {
            match attempt(path, OpenOptions::new().read(true), false)? {
                Attempt::Locked(lock) => return Ok(lock),
                Attempt::Replaced => continue,
                Attempt::Held => {}
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(LockError::Busy { waited });
            }
            std::thread::sleep(delay.min(timeout - waited));
            delay = (delay * 2).min(Duration::from_millis(100));
        }
    }

    /// Locks the file at `path`, creating it empty when it is missing, and waits as long as it
    /// takes: for a lock file kept beside data that is itself replaced by renames.
    ///
    /// Returns the I/O error when the file cannot be created, opened or locked.
    pub fn acquire_creating(path: &Path) -> io::Result<FileLock> {
        let mut open = OpenOptions::new();
        open.create(true).truncate(false).write(true);
        loop {
            if let Attempt::Locked(lock) = attempt(path, &open, true)? {
                return Ok(lock);
            }
        }
    }

    /// The path of the locked file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it explicit.
        let _ = self.file.unlock();
    }
}

/// Opens `path` with `open`, locks it (waiting for the lock when `block`), and checks that the
/// path still names the file locked.
fn attempt(path: &Path, open: &OpenOptions, block: bool) -> io::Result<Attempt> {
    let file = open.open(path)?;
    if block {
        file.lock()?;
    } else {
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(Attempt::Held),
            Err(fs::TryLockError::Error(err)) => return Err(err),
        }
    }
    Ok(if same_file(&file, path)? {
        Attempt::Locked(FileLock {
            file,
            path: path.to_owned(),
        })
    } else {
        Attempt::Replaced
    })
}

/// Whether `path` still names the open `file` (`false` when nothing is at `path` any more).
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let named = match fs::metadata(path) {
            Ok(named) => named,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(err) => return Err(err),
        };
        let open = file.metadata()?;
        Ok(open.dev() == named.dev() && open.ino() == named.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let err = write_atomic(&dir.path().join("missing/x.json"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(write_atomic(Path::new("/"), b"x").is_err(), "no file name");
    }

    #[test]
    fn a_lock_excludes_a_second_one_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.lock");
        let first = FileLock::acquire_creating(&path).unwrap();
        assert_eq!(first.path(), path);
        let err = FileLock::acquire(&path, Duration::from_millis(20)).unwrap_err();
        assert!(
            matches!(err, LockError::Busy { waited } if waited >= Duration::from_millis(20)),
            "{err:?}"
        );
        drop(first);
        let second = FileLock::acquire(&path, Duration::ZERO).unwrap();
        let waiter = std::thread::spawn(move || FileLock::acquire_creating(&path).map(drop));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "granted while held");
        drop(second);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn locking_a_missing_file_without_creating_it_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = FileLock::acquire(&dir.path().join("gone"), Duration::ZERO).unwrap_err();
        assert!(
            matches!(&err, LockError::Io(e) if e.kind() == io::ErrorKind::NotFound),
            "{err:?}"
        );
    }
}
