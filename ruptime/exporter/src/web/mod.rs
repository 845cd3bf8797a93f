//! The web configuration: TLS, client certificates and basic
//! authentication from `--web.config.file` ([`config`], [`tls`], [`auth`]),
//! followed as the files change.
//!
//! As exporter-toolkit reads its file for every request, a change to the
//! file or to the certificates it names (a renewal) takes effect without a
//! restart: they are looked at (their size, time and inode) at most once a
//! [`LOOK_AGAIN`], and read again when one changed. A file broken at start
//! stops the start; broken later, it makes the exporter answer every
//! request with 500 until it is mended (over TLS as the file last said),
//! and say why once.

pub(crate) mod auth;
pub(crate) mod config;
pub(crate) mod tls;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use config::Settings;
use rustls::ServerConfig;

/// How often the files are looked at.
pub(crate) const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// What the web configuration says, ready to serve.
#[derive(Debug, Default)]
pub(crate) struct Web {
    /// What the file says.
    pub(crate) settings: Settings,
    /// The TLS server, when the file asks for one.
    pub(crate) tls: Option<Arc<ServerConfig>>,
}

impl Web {
    /// Reads the file at `path` and what it names.
    ///
    /// # Errors
    /// One line naming the file and what is wrong.
    pub(crate) fn read(path: &Path) -> Result<Web, String> {
        let text = fs::read_to_string(path).map_err(|e| {
            format!(
                "{}: {}",
                path.display(),
                ruptime_common::oserror::describe(&e)
            )
        })?;
        let named = |why: String| format!("{}: {why}", path.display());
        let settings = config::parse(&text, path).map_err(named)?;
        let tls = match &settings.tls {
            Some(tls) => Some(tls::server_config(tls).map_err(named)?),
            None => None,
        };
        Ok(Web { settings, tls })
    }

    /// The files it was read from.
    fn files(&self, path: &Path) -> Vec<PathBuf> {
        let mut files = vec![path.to_path_buf()];
        if let Some(tls) = &self.settings.tls {
            files.extend([tls.cert_file.clone(), tls.key_file.clone()]);
            files.extend(tls.client_ca_file.clone());
        }
        files
    }
}

/// What a file is now: enough to tell that it changed.
type Stamp = Option<(u64, u64, i64, i64, u64)>;

/// The stamp of each of `files`: the one in `taken` if it has the file,
/// else one taken now.
fn stamps(files: Vec<PathBuf>, taken: &[(PathBuf, Stamp)]) -> Vec<(PathBuf, Stamp)> {
    files
        .into_iter()
        .map(|file| {
            let was = taken.iter().find(|(f, _)| *f == file).map(|(_, s)| *s);
            let now = was.unwrap_or_else(|| stamp(&file));
            (file, now)
        })
        .collect()
}

fn stamp(path: &Path) -> Stamp {
    let meta = fs::metadata(path).ok()?;
    Some((
        meta.dev(),
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.size(),
    ))
}

/// The web configuration of the moment, read again when its files change.
#[derive(Debug)]
pub(crate) struct Followed {
    path: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    current: Result<Arc<Web>, String>,
    /// The last configuration read whole: how connections are made.
    last_good: Arc<Web>,
    stamps: Vec<(PathBuf, Stamp)>,
    looked: Instant,
}

impl Followed {
    /// The configuration of the file at `path` (none: plain HTTP, no
    /// authentication).
    ///
    /// # Errors
    /// The file cannot be read or is wrong: one line naming it.
    pub(crate) fn start(path: Option<PathBuf>) -> Result<Followed, String> {
        let web = match &path {
            Some(path) => Web::read(path)?,
            None => Web::default(),
        };
        let stamps = path
            .as_deref()
            .map(|p| stamps(web.files(p), &[]))
            .unwrap_or_default();
        let web = Arc::new(web);
        Ok(Followed {
            path,
            state: Mutex::new(State {
                current: Ok(Arc::clone(&web)),
                last_good: web,
                stamps,
                looked: Instant::now(),
            }),
        })
    }

    /// How a connection is made now: TLS or not, as the configuration read
    /// last says (a file broken since changes nothing here).
    pub(crate) fn transport(&self) -> Arc<Web> {
        let _ = self.current();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&state.last_good)
    }

    /// The configuration a request is answered by now, or why there is none
    /// (the file broke).
    pub(crate) fn current(&self) -> Result<Arc<Web>, String> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(path) = &self.path else {
            return state.current.clone();
        };
        let now = Instant::now();
        if now.duration_since(state.looked) < LOOK_AGAIN {
            return state.current.clone();
        }
        state.looked = now;
        if state.stamps.iter().all(|(file, was)| stamp(file) == *was) {
            return state.current.clone();
        }
        // The stamps taken before reading are kept, so that a file that
        // changes while it is read is read again next time.
        let before: Vec<(PathBuf, Stamp)> = state
            .stamps
            .iter()
            .map(|(file, _)| (file.clone(), stamp(file)))
            .collect();
        let read = Web::read(path);
        state.stamps = match &read {
            Ok(web) => stamps(web.files(path), &before),
            Err(_) => before,
        };
        state.current = match read {
            Ok(web) => {
                log::info!("{}: read again", path.display());
                let web = Arc::new(web);
                state.last_good = Arc::clone(&web);
                Ok(web)
            }
            Err(why) => {
                log::error!("{why}; turning every request away until it is mended");
                Err(why)
            }
        };
        state.current.clone()
    }
}
