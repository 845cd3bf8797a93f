//! This host's uptime line, its figures read from `/proc` and utmp and
//! written byte for byte as procps-ng 4.0.2's `uptime` prints it (the rules
//! are in [`protocol::line`](crate::protocol::line)), in about 10 us instead
//! of the 2-3 ms of running the program.
//!
//! - [`proc`]: the seconds since boot and the loads.
//! - [`utmp`]: the logged-in users.
//! - [`clock`]: the local time of day; [`locale`]: the decimal separator.

pub mod clock;
pub mod locale;
pub mod proc;
pub mod utmp;

use std::fmt;

use proc::UptimeError;

use crate::oserror::describe;
use crate::protocol::line::{Sample, write_line};

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

/// Builds this host's uptime lines; the locale is looked up once.
#[derive(Clone, Debug)]
pub struct LineBuilder {
    radix: String,
}

impl LineBuilder {
    /// A builder for the locale the environment selects.
    pub fn from_environment() -> LineBuilder {
        LineBuilder {
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
        write_line(&sample, &self.radix, out);
        Ok(())
    }
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
