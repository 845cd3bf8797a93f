//! The uptime line's grammar (procps-ng 4.0.2), for checking replies.

use std::sync::OnceLock;

use regex::Regex;

/// One uptime line, newline included, as `uptime` prints it.
pub fn line() -> &'static Regex {
    static LINE: OnceLock<Regex> = OnceLock::new();
    LINE.get_or_init(|| {
        Regex::new(concat!(
            r"^ \d\d:\d\d:\d\d up ",
            r"(\d+ days?, )?",
            r"([ \d]\d:\d\d|\d+ min), ",
            r"[ \d]\d+ users?,  ",
            r"load average: \d+[.,]\d\d, \d+[.,]\d\d, \d+[.,]\d\d\n$",
        ))
        .expect("the grammar is a valid regex")
    })
}

/// Panics unless `reply` is exactly one uptime line.
pub fn assert_line(reply: &[u8]) {
    let text = String::from_utf8_lossy(reply);
    assert!(line().is_match(&text), "not an uptime line: {text:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_form_and_refuses_others() {
        for good in [
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 10:00:00 up  1:05,  1 user,  load average: 1.00, 0.50, 0.25\n",
            " 23:59:59 up 1 day, 0 min,  2 users,  load average: 0,50, 0,25, 0,00\n",
            " 00:00:01 up 1000 days, 23:59, 10 users,  load average: 123.45, 0.00, 0.00\n",
            " 00:00:01 up 3 days,  1:00, 100 users,  load average: 0.00, 0.00, 0.00\n",
        ] {
            assert!(line().is_match(good), "{good:?}");
        }
        for bad in [
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02",
            "03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 6 min, 0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 6 min,  0 user,  load average: 0.2, 0.07, 0.02\n",
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n\n",
        ] {
            assert!(!line().is_match(bad), "{bad:?}");
        }
    }
}
