//! Signal state inherited from whoever started the process, reset.
//!
//! Ignored signals and the signal mask survive `exec`. A supervisor that
//! ignores SIGCHLD would have the kernel reap the fork server's children
//! (their slots never free, and a pid may be killed after it was reused);
//! one that ignores SIGTERM or blocks signals would make the daemon deaf to
//! them. So both programs start from the defaults: every disposition back
//! to `SIG_DFL`, but SIGPIPE ignored as the Rust runtime sets it (write
//! errors are handled where they happen), and nothing blocked.

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask,
};

/// Resets every signal's disposition and the signal mask.
///
/// Call it first in `main`, before any handler is installed or any thread started.
///
/// # Errors
/// The mask cannot be set (a disposition that cannot be changed is left).
#[allow(unsafe_code)]
pub fn reset_signals() -> nix::Result<()> {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    for signal in Signal::iterator() {
        let action = match signal {
            Signal::SIGKILL | Signal::SIGSTOP => continue,
            Signal::SIGPIPE => &ignore,
            _ => &default,
        };
        // SAFETY: SIG_DFL and SIG_IGN run no code of ours in a signal
        // context; no handler is installed yet that this could undo.
        let _ = unsafe { sigaction(signal, action) };
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
}
