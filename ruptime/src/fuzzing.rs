//! The host lists driven by bytes, for the fuzz target `host_list`
//! (feature `fuzzing`).

/// A host list (`-f FILE`): words, never empty, never holding a comment;
/// each expanded as a host set names hosts that are never empty and hold
/// no white space, or is refused with a reason, and never panics.
pub fn host_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sets = crate::hosts::Sets::without_groups();
    for word in crate::hosts::listed(text) {
        assert!(!word.is_empty() && !word.contains('#'), "{word:?}");
        assert!(!word.contains(char::is_whitespace), "{word:?}");
        match sets.expand(word) {
            Ok(hosts) => {
                assert!(!hosts.is_empty(), "{word:?} named nothing");
                for host in hosts {
                    assert!(!host.is_empty(), "{word:?}");
                    assert!(!host.contains(char::is_whitespace), "{word:?}: {host:?}");
                }
            }
            Err(why) => assert!(!why.is_empty() && !why.contains('\n'), "{word:?}: {why:?}"),
        }
    }
}
