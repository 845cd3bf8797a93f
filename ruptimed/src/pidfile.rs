//! The pid file: locked before detaching, written once the daemon's pid is
//! known, removed at exit.
//!
//! The lock (`flock`) is held for the daemon's life, so a second daemon with
//! the same pid file stops with a clear message instead of overwriting it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use ruptime_common::oserror::describe;

use crate::fatal::Fatal;

/// A locked pid file, removed when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    file: Flock<File>,
}

impl PidFile {
    /// Opens (creating it if needed) and locks the pid file at `path`.
    ///
    /// The path is made absolute first: the daemon changes to `/`.
    ///
    /// # Errors
    /// The file cannot be opened, or another process holds its lock.
    pub fn lock(path: &Path) -> Result<PidFile, Fatal> {
        let failed =
            |e: &io::Error| Fatal::new(format!("pid file {}: {}", path.display(), describe(e)));
        let path = std::path::absolute(path).map_err(|e| failed(&e))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(&path)
            .map_err(|e| failed(&e))?;
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
        Ok(PidFile { path, file })
    }

    /// Writes this process's pid, replacing what the file held.
    ///
    /// # Errors
    /// The write fails.
    pub fn write_pid(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        writeln!(*self.file, "{}", std::process::id())
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
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
}
