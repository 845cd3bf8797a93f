//! Remote bytes on a terminal: shown, never obeyed.
//!
//! A hostile daemon could send escape sequences that move the cursor,
//! rewrite the screen or set the window title. On a terminal, control
//! characters (C0, DEL, C1), bidirectional overrides and bytes that are not
//! UTF-8 are shown escaped (`\x1b`, `\u{202e}`, `\xff`); `--raw` turns this off.

use std::fmt::Write as _;

/// `bytes` as shown: with `safe`, escaped for a terminal (line breaks
/// too), else as they are (not UTF-8: replaced).
pub(crate) fn shown(bytes: &[u8], safe: bool) -> String {
    if safe {
        escape(bytes, false)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `bytes` made safe for a terminal; with `newlines`, line breaks stay.
pub fn escape(bytes: &[u8], newlines: bool) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' if newlines => text.push('\n'),
                '\n' => text.push_str("\\n"),
                '\t' => text.push_str("\\t"),
                '\r' => text.push_str("\\r"),
                '\\' => text.push_str("\\\\"),
                c if (c as u32) < 0x80 && c.is_control() => {
                    let _ = write!(text, "\\x{:02x}", c as u32);
                }
                c if c.is_control() || is_bidi_control(c) => {
                    let _ = write!(text, "\\u{{{:x}}}", c as u32);
                }
                c => text.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    text
}

/// Characters that reorder the text around them (the "Trojan Source" ones).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bad_utf8_are_shown() {
        assert_eq!(escape(b"up 1 min\n", true), "up 1 min\n");
        assert_eq!(escape(b"up 1 min\n", false), "up 1 min\\n");
        assert_eq!(
            escape(b"\x1b]0;pwned\x07\x1b[2J", true),
            "\\x1b]0;pwned\\x07\\x1b[2J"
        );
        assert_eq!(escape(b"a\tb\rc\\d\x7f", true), "a\\tb\\rc\\\\d\\x7f");
        assert_eq!(
            escape("\u{9b}31m caf\u{e9} \u{202e}txt".as_bytes(), true),
            "\\u{9b}31m caf\u{e9} \\u{202e}txt"
        );
        assert_eq!(escape(b"\xff\xfeok\xc3", true), "\\xff\\xfeok\\xc3");
    }
}
