//! The pid file: locked before detaching, written once the daemon's pid is
//! known, removed at exit.
//!
//! The lock (`flock`) is held for the daemon's life, so a second daemon with
//! the same pid file stops with a clear message instead of overwriting it.
//!
//! Whoever can write the pid file's directory must not be able to make the
//! root daemon write elsewhere: the file is opened without following a
//! symbolic link (`O_NOFOLLOW`), without blocking on a FIFO, and refused
//! unless it is a regular file with one link, owned by the daemon's user.
//! At exit it is removed only if the path still names the file written.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use ruptime_common::oserror::describe;

use crate::fatal::Fatal;

/// How often [`PidFile::lock`] opens the path again when the file locked
/// was unlinked meanwhile.
const LOCK_TRIES: usize = 5;

/// A locked pid file, removed when dropped.
#[derive(Debug)]
pub(crate) struct PidFile {
    path: PathBuf,
    file: Flock<File>,
    /// The file's device and inode, to know it again at exit.
    identity: (u64, u64),
}

impl PidFile {
    /// Opens (creating it if needed) and locks the pid file at `path`.
    ///
    /// The path is made absolute first: the daemon changes to `/`.
    ///
    /// # Errors
    /// The file cannot be opened, or another process holds its lock.
    pub(crate) fn lock(path: &Path) -> Result<PidFile, Fatal> {
        let failed =
            |e: &io::Error| Fatal::new(format!("pid file {}: {}", path.display(), describe(e)));
        let path = std::path::absolute(path).map_err(|e| failed(&e))?;
        // A daemon that exits unlinks the file it locked: one that locked it
        // meanwhile holds a file nobody sees, so it opens the path again.
        for _ in 0..LOCK_TRIES {
            let locked = PidFile::lock_once(&path)?;
            let current = fs::symlink_metadata(&path).map(|m| (m.dev(), m.ino()));
            if current.is_ok_and(|identity| identity == locked.identity) {
                return Ok(locked);
            }
            // Not ours any more: its drop leaves the path alone.
            drop(locked);
        }
        Err(Fatal::new(format!(
            "pid file {} keeps being replaced; giving up",
            path.display()
        )))
    }

    /// Opens and locks the file at `path` once (see [`PidFile::lock`]).
    fn lock_once(path: &Path) -> Result<PidFile, Fatal> {
        let failed =
            |e: &io::Error| Fatal::new(format!("pid file {}: {}", path.display(), describe(e)));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => Fatal::new(format!(
                    "pid file {} is a symbolic link; refusing to follow it",
                    path.display()
                )),
                _ => failed(&e),
            })?;
        let identity = check_regular(&file).map_err(|why| {
            Fatal::new(format!("pid file {}: {why}; refusing it", path.display()))
        })?;
        let file =
            Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(mut file, errno)| {
                if errno == Errno::EWOULDBLOCK {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    Fatal::new(format!(
                        "pid file {} is locked by a running process (pid {})",
                        path.display(),
                        holder.trim()
                    ))
                } else {
                    failed(&io::Error::from(errno))
                }
            })?;
        Ok(PidFile {
            path: path.to_owned(),
            file,
            identity,
        })
    }

    /// Writes this process's pid, replacing what the file held.
    ///
    /// # Errors
    /// The write fails.
    pub(crate) fn write_pid(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        writeln!(*self.file, "{}", std::process::id())
    }
}

/// The device and inode of `file`, if it is a regular file with one link
/// owned by this process's user; else why not.
fn check_regular(file: &File) -> Result<(u64, u64), &'static str> {
    let meta = file.metadata().map_err(|_| "cannot be examined")?;
    if !meta.file_type().is_file() {
        return Err("not a regular file");
    }
    if meta.nlink() != 1 {
        return Err("has other hard links");
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err("owned by another user");
    }
    Ok((meta.dev(), meta.ino()))
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only the file written: not whatever was put at its path since.
        let same = fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_file() && (m.dev(), m.ino()) == self.identity);
        if same {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_locks_and_removes() {
        let dir = std::env::temp_dir().join(format!("ruptimed-pidfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ruptimed.pid");
        fs::write(&path, "stale contents that are longer\n").unwrap();
        let mut pid_file = PidFile::lock(&path).unwrap();
        pid_file.write_pid().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        let err = PidFile::lock(&path).unwrap_err().to_string();
        assert!(err.contains("is locked by a running process"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        drop(pid_file);
        assert!(!path.exists());
        fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn refuses_links_and_removes_only_its_own_file() {
        let dir = std::env::temp_dir().join(format!("ruptimed-pidlink-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let precious = dir.join("precious");
        fs::write(&precious, "precious\n").unwrap();
        let link = dir.join("link.pid");
        std::os::unix::fs::symlink(&precious, &link).unwrap();
        let err = PidFile::lock(&link).unwrap_err().to_string();
        assert!(
            err.contains("is a symbolic link; refusing to follow it"),
            "{err}"
        );
        let hard = dir.join("hard.pid");
        fs::hard_link(&precious, &hard).unwrap();
        let err = PidFile::lock(&hard).unwrap_err().to_string();
        assert!(err.contains("has other hard links"), "{err}");
        let err = PidFile::lock(&dir).unwrap_err().to_string();
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert_eq!(fs::read_to_string(&precious).unwrap(), "precious\n");
        // Swapped after the start: the replacement stays at exit.
        let path = dir.join("ruptimed.pid");
        let mut pid_file = PidFile::lock(&path).unwrap();
        pid_file.write_pid().unwrap();
        fs::remove_file(&path).unwrap();
        fs::write(&path, "someone else's\n").unwrap();
        drop(pid_file);
        assert_eq!(fs::read_to_string(&path).unwrap(), "someone else's\n");
        fs::remove_dir_all(&dir).unwrap();
    }
}
