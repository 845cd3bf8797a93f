//! A fatal error: one line on the terminal or in the log, then exit status 1.

use std::fmt;

/// Why the daemon cannot start or go on.
#[derive(Debug)]
pub struct Fatal(String);

impl Fatal {
    /// A fatal error with this one-line reason.
    pub fn new(reason: impl Into<String>) -> Fatal {
        Fatal(reason.into())
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fatal {}
