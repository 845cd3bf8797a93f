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

/// Whether `error` says descriptors or memory ran out (`EMFILE`, `ENFILE`,
/// `ENOBUFS`, `ENOMEM`): the next call would meet it too, so a server
/// pauses before accepting again.
pub fn out_of_resources(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
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

    #[test]
    fn running_out_is_told_from_other_errors() {
        assert!(out_of_resources(&io::Error::from_raw_os_error(
            libc::EMFILE
        )));
        assert!(out_of_resources(&io::Error::from_raw_os_error(
            libc::ENOMEM
        )));
        assert!(!out_of_resources(&io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
        assert!(!out_of_resources(&io::Error::other("odd")));
    }
}
