//! SIGALRM-style timeouts: a signal interrupts one blocking call.
//!
//! APUE's datagram client (figure 16.19) arms `alarm(20)` around `recvfrom`,
//! with a do-nothing handler installed by `sigaction` without `SA_RESTART`, so
//! the call fails with `EINTR` when time is up. [`with_deadline`] does the same,
//! with three fixes:
//!
//! - the timer is a POSIX timer on the monotonic clock (`alarm` counts whole
//!   seconds of wall-clock time), aimed at the calling thread
//!   (`SIGEV_THREAD_ID`), so a thread or a forked child each time their own
//!   calls and the signal cannot land on a thread that is not waiting;
//! - once due, it fires again every [`REFIRE`], so a signal that lands just
//!   before the call blocks (the race APUE warns about) cannot leave the call
//!   blocked for good;
//! - an `EINTR` before the deadline (another signal) restarts the call.
//!
//! The timer is deleted when the guard drops, on every path.

use std::io;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{
    SaFlags, SigAction, SigEvent, SigHandler, SigSet, SigevNotify, Signal, sigaction,
};
use nix::sys::timer::{Expiration, Timer, TimerSetTimeFlags};
use nix::time::ClockId;
use nix::unistd::gettid;

/// How often the timer fires again after the deadline, until the guard drops.
pub(crate) const REFIRE: Duration = Duration::from_millis(10);

/// The error a timed-out call returns: kind `TimedOut`.
pub fn timed_out() -> io::Error {
    io::Error::from(io::ErrorKind::TimedOut)
}

extern "C" fn on_alarm(_signal: libc::c_int) {}

/// Installs the do-nothing SIGALRM handler, without `SA_RESTART`, once per process.
#[allow(unsafe_code)]
fn install_handler() -> io::Result<()> {
    static INSTALLED: OnceLock<nix::Result<()>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let action = SigAction::new(
            SigHandler::Handler(on_alarm),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler does nothing, so it is async-signal-safe; the
        // previous action (SIGALRM's default, which kills) is not needed.
        unsafe { sigaction(Signal::SIGALRM, &action) }.map(|_| ())
    });
    result.map_err(io::Error::from)
}

/// A SIGALRM aimed at this thread at a deadline; disarmed when dropped.
#[derive(Debug)]
pub struct Alarm {
    deadline: Instant,
    _timer: Timer,
}

impl Alarm {
    /// Arms SIGALRM for `deadline`, then every [`REFIRE`] until dropped.
    ///
    /// # Errors
    /// `TimedOut` when the deadline has passed; the OS error when the handler
    /// or the timer cannot be set up.
    pub fn arm(deadline: Instant) -> io::Result<Alarm> {
        install_handler()?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out());
        }
        let event = SigEvent::new(SigevNotify::SigevThreadId {
            signal: Signal::SIGALRM,
            thread_id: gettid().as_raw(),
            si_value: 0,
        });
        let mut timer = Timer::new(ClockId::CLOCK_MONOTONIC, event)?;
        let expiration = Expiration::IntervalDelayed(remaining.into(), REFIRE.into());
        timer.set(expiration, TimerSetTimeFlags::empty())?;
        Ok(Alarm {
            deadline,
            _timer: timer,
        })
    }

    /// Whether the deadline has passed, i.e. an `EINTR` now means "timed out".
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Runs `call`, a blocking call, until it returns, or fails with
    /// `TimedOut` once the deadline has passed; see [`with_deadline`].
    ///
    /// # Errors
    /// `call`'s own error, or `TimedOut`.
    pub fn run<T>(&self, mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
        loop {
            match call() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if self.expired() {
                        return Err(timed_out());
                    }
                }
                done => return done,
            }
        }
    }
}

/// Runs `call`, a blocking call, until it returns, or fails with `TimedOut`
/// once `deadline` has passed.
///
/// `call` must report `EINTR` as `ErrorKind::Interrupted` (as raw system calls
/// do) rather than retry it (as `read_exact` and `read_to_end` do).
///
/// # Errors
/// `call`'s own error, or `TimedOut`.
pub fn with_deadline<T>(deadline: Instant, call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    Alarm::arm(deadline)?.run(call)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::thread;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn interrupts_a_blocked_call_at_the_deadline() {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 8];
        let err = with_deadline(start + ms(200), || a.recv(&mut buf)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let took = start.elapsed();
        assert!(took >= ms(200) && took < ms(1500), "took {took:?}");
    }

    #[test]
    fn returns_the_result_when_it_comes_in_time() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let sender = thread::spawn(move || {
            thread::sleep(ms(50));
            b.send(b"up").unwrap();
        });
        let mut buf = [0u8; 8];
        let n =
            with_deadline(Instant::now() + Duration::from_secs(5), || a.recv(&mut buf)).unwrap();
        assert_eq!(&buf[..n], b"up");
        sender.join().unwrap();
    }

    #[test]
    fn a_passed_deadline_times_out_at_once() {
        let err = with_deadline(Instant::now(), || Ok(())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn threads_time_their_own_calls() {
        let waiters: Vec<_> = [100u64, 300]
            .into_iter()
            .map(|limit| {
                thread::spawn(move || {
                    let (a, _b) = UnixDatagram::pair().unwrap();
                    let start = Instant::now();
                    let mut buf = [0u8; 1];
                    let err = with_deadline(start + ms(limit), || a.recv(&mut buf)).unwrap_err();
                    (err.kind(), start.elapsed(), limit)
                })
            })
            .collect();
        for waiter in waiters {
            let (kind, took, limit) = waiter.join().unwrap();
            assert_eq!(kind, io::ErrorKind::TimedOut);
            assert!(
                took >= ms(limit) && took < ms(limit + 1000),
                "{limit}: took {took:?}"
            );
        }
    }

    #[test]
    fn no_alarm_is_left_behind() {
        let (a, b) = UnixDatagram::pair().unwrap();
        b.send(b"x").unwrap();
        let mut buf = [0u8; 1];
        with_deadline(Instant::now() + ms(20), || a.recv(&mut buf)).unwrap();
        a.set_read_timeout(Some(ms(200))).unwrap();
        let start = Instant::now();
        let err = a.recv(&mut buf).unwrap_err();
        assert_eq!(
            err.kind(),
            io::ErrorKind::WouldBlock,
            "a stray SIGALRM interrupted the read"
        );
        assert!(start.elapsed() >= ms(190));
    }
}
