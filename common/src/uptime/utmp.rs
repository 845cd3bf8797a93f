//! Logged-in users, counted from utmp as procps 4.0.2 counts them: records of
//! type `USER_PROCESS` with a non-empty name. No de-duplication, no liveness
//! check; a missing or unreadable utmp counts 0 (many containers have none).

use std::fs::File;
use std::io::{self, Read};

/// The utmp file (`/var/run/utmp` links to it).
pub const UTMP: &str = "/run/utmp";

/// The size of a `struct utmp` on Linux (glibc, x86_64 and the others alike).
const RECORD: usize = 384;
/// Offset and value of `ut_type`, a native-endian `short`.
const TYPE_AT: usize = 0;
const USER_PROCESS: i16 = 7;
/// Offset of `ut_user`, 32 bytes.
const USER_AT: usize = 44;

/// How many records are read at a time.
const CHUNK: usize = 16;

/// The number of logged-in users in [`UTMP`].
pub(crate) fn count_users() -> u32 {
    File::open(UTMP).map_or(0, |file| count_in(file).unwrap_or(0))
}

/// Counts the user records in a utmp stream; a partial last record is ignored.
///
/// # Errors
/// Reading fails.
pub fn count_in(mut utmp: impl Read) -> io::Result<u32> {
    let mut buf = [0u8; RECORD * CHUNK];
    let mut users = 0;
    loop {
        let len = fill(&mut utmp, &mut buf)?;
        users += buf[..len]
            .chunks_exact(RECORD)
            .filter(|r| is_user(r))
            .count() as u32;
        if len < buf.len() {
            return Ok(users);
        }
    }
}

fn is_user(record: &[u8]) -> bool {
    let kind = i16::from_ne_bytes([record[TYPE_AT], record[TYPE_AT + 1]]);
    kind == USER_PROCESS && record[USER_AT] != 0
}

/// Reads until `buf` is full or the stream ends; how many bytes were read.
fn fill(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match source.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: i16, user: &str) -> Vec<u8> {
        let mut r = vec![0u8; RECORD];
        r[TYPE_AT..TYPE_AT + 2].copy_from_slice(&kind.to_ne_bytes());
        r[USER_AT..USER_AT + user.len()].copy_from_slice(user.as_bytes());
        r
    }

    #[test]
    fn counts_named_user_processes_only() {
        let mut utmp = Vec::new();
        for (kind, user) in [
            (7, "alice"),
            (7, "alice"),
            (7, ""),
            (8, "bob"),
            (2, "reboot"),
            (6, "LOGIN"),
            (7, "carol"),
        ] {
            utmp.extend(record(kind, user));
        }
        assert_eq!(count_in(&utmp[..]).unwrap(), 3);
        utmp.extend_from_slice(&record(7, "dave")[..100]);
        assert_eq!(
            count_in(&utmp[..]).unwrap(),
            3,
            "a partial record is ignored"
        );
    }

    #[test]
    fn many_records_across_chunks() {
        let utmp: Vec<u8> = (0..(CHUNK * 3 + 5))
            .flat_map(|_| record(USER_PROCESS, "u"))
            .collect();
        assert_eq!(count_in(&utmp[..]).unwrap(), (CHUNK * 3 + 5) as u32);
        assert_eq!(count_in(&[][..]).unwrap(), 0);
    }
}
