//! The host lists driven by bytes, for the fuzz target `host_list`
//! (feature `fuzzing`).

/// A host list (`-f FILE`): words, never empty, never holding a comment.
pub fn host_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for host in crate::hosts::listed(text) {
        assert!(!host.is_empty() && !host.contains('#'), "{host:?}");
        assert!(!host.contains(char::is_whitespace), "{host:?}");
    }
}
