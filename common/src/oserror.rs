//! OS errors as users read them: `Connection refused`, not `Connection refused (os error 111)`.

use std::io;

use nix::errno::Errno;

/// The system's text for `error`, without Rust's `(os error N)` suffix.
pub fn describe(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => Errno::from_raw(code).desc().to_owned(),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_os_error_suffix() {
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(describe(&refused), "Connection refused");
        assert_eq!(describe(&io::Error::other("odd reply")), "odd reply");
    }
}
