//! This host's uptime line, built from `/proc` and utmp byte for byte as
//! procps-ng 4.0.2's `uptime` prints it, in about 10 us instead of the 2-3 ms
//! of running the program.
//!
//! - [`format`]: every rule of the line.
//! - [`proc`]: the seconds since boot and the loads.
//! - [`utmp`]: the logged-in users.
//! - [`clock`]: the local time of day; [`locale`]: the decimal separator.

pub mod clock;
pub mod format;
pub mod locale;
pub mod proc;
pub mod utmp;

use std::fmt;

pub use format::Sample;
use proc::UptimeError;

use crate::oserror::describe;

/// Why no line could be built.
#[derive(Debug)]
pub enum ReportError {
    /// The seconds since boot are unknown.
    Uptime(UptimeError),
    /// The C library cannot give the local time.
    Clock,
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Uptime(UptimeError::Unreadable(e)) => {
                write!(
                    f,
                    "cannot get system uptime: {}: {}",
                    proc::UPTIME,
                    describe(e)
                )
            }
            ReportError::Uptime(UptimeError::Invalid) => {
                write!(
                    f,
                    "cannot get system uptime: {} holds no valid number",
                    proc::UPTIME
                )
            }
            ReportError::Clock => f.write_str("cannot get the local time"),
        }
    }
}

impl std::error::Error for ReportError {}

/// Builds uptime lines; the locale is looked up once.
#[derive(Clone, Debug)]
pub struct Reporter {
    radix: String,
}

impl Reporter {
    /// A reporter for the locale the environment selects.
    pub fn from_environment() -> Reporter {
        Reporter {
            radix: locale::decimal_separator(),
        }
    }

    /// Appends the line for `now` (seconds since the epoch) to `out`.
    ///
    /// # Errors
    /// `/proc/uptime` cannot be read or used, or the local time is unknown.
    pub fn write_line(&self, now: i64, out: &mut Vec<u8>) -> Result<(), ReportError> {
        let uptime = proc::uptime_seconds().map_err(ReportError::Uptime)?;
        let sample = Sample {
            clock: clock::time_of_day(now).ok_or(ReportError::Clock)?,
            uptime,
            users: u64::from(utmp::count_users()),
            loads: proc::loads(),
        };
        format::write_line(&sample, &self.radix, out);
        Ok(())
    }
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
