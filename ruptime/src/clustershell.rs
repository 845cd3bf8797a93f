//! ClusterShell's groups (`@group`, `@source:group`), from its configuration
//! read as `nodeset(1)` reads it, resolved on a thread of their own: a
//! source's `map` command that hangs, or a configuration file that never
//! ends (a FIFO), costs the run a usage error after [`LIMIT`], never a hang.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nodeset::{Parser, Resolver};

use crate::hosts::expand_with;

/// How long the group sources may take to answer for one set.
pub(crate) const LIMIT: Duration = Duration::from_secs(10);

/// The thread that resolves groups, and what it is asked.
pub(crate) struct Groups {
    asks: Sender<String>,
    answers: Receiver<Result<Vec<String>, String>>,
    /// A set went unanswered: the thread is stuck.
    stuck: bool,
    thread: Option<JoinHandle<()>>,
}

impl Groups {
    /// The groups of ClusterShell's configuration, read on the thread.
    pub(crate) fn from_config() -> Groups {
        Groups::spawn(|| {
            Resolver::from_config().map_err(|e| format!("ClusterShell's group configuration: {e}"))
        })
    }

    /// No groups: every `@group` is unknown (and no command runs).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn none() -> Groups {
        Groups::spawn(|| Ok(Resolver::default()))
    }

    fn spawn(read: impl FnOnce() -> Result<Resolver, String> + Send + 'static) -> Groups {
        let (asks, asked) = mpsc::channel::<String>();
        let (answer, answers) = mpsc::channel();
        let thread = thread::spawn(move || {
            let resolver = read();
            for word in asked {
                let hosts = match &resolver {
                    Ok(resolver) => expand_with(&Parser::with_resolver(resolver, None), &word),
                    Err(why) => Err(why.clone()),
                };
                if answer.send(hosts).is_err() {
                    return;
                }
            }
        });
        Groups {
            asks,
            answers,
            stuck: false,
            thread: Some(thread),
        }
    }

    /// The hosts `word`, a set that names groups, names.
    pub(crate) fn expand(&mut self, word: &str) -> Result<Vec<String>, String> {
        let unanswered = || {
            format!(
                "'{word}': ClusterShell's group sources gave no answer within {} s",
                LIMIT.as_secs()
            )
        };
        if self.stuck || self.asks.send(word.to_owned()).is_err() {
            return Err(unanswered());
        }
        match self.answers.recv_timeout(LIMIT) {
            Ok(hosts) => hosts,
            Err(RecvTimeoutError::Timeout) => {
                self.stuck = true;
                Err(unanswered())
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.stuck = true;
                Err(format!("'{word}': ClusterShell's group sources failed"))
            }
        }
    }
}

impl Drop for Groups {
    /// Ends the thread and waits for it, unless it is stuck (the run then
    /// ends with a usage error): fork mode forks only once it is gone.
    fn drop(&mut self) {
        // A sender whose receiver is gone: the thread's channel closes.
        self.asks = mpsc::channel().0;
        if let Some(thread) = self.thread.take().filter(|_| !self.stuck) {
            let _ = thread.join();
        }
    }
}
