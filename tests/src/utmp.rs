//! utmp files made up for a test: glibc's x86_64 layout.

/// A utmp record: `ut_type` at 0, `ut_line` at 8, `ut_user` (32 bytes) at
/// 44, 384 bytes in all.
pub fn record(kind: i16, user: &str) -> Vec<u8> {
    let mut r = vec![0u8; 384];
    r[..2].copy_from_slice(&kind.to_ne_bytes());
    r[44..44 + user.len()].copy_from_slice(user.as_bytes());
    r[8..13].copy_from_slice(b"pts/0");
    r
}

/// `n` logged-in users (`USER_PROCESS` records named `user0`, `user1`, ...).
pub fn users(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| record(7, &format!("user{i}")))
        .collect()
}
