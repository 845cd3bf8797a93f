//! The manual beyond the options, kept beside each command line: sections of
//! preformatted text, shown by `--help` and rendered into the man pages.

/// The sections as `--help` shows them: `Title:` and the text indented.
pub fn plain(sections: &[(&str, &str)]) -> String {
    sections
        .iter()
        .map(|(title, body)| {
            let mut title = title.to_lowercase();
            title[..1].make_ascii_uppercase();
            let body: Vec<String> = body.lines().map(|l| format!("  {l}")).collect();
            format!("{title}:\n{}", body.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_indented_text() {
        let text = plain(&[
            ("EXIT STATUS", "0  fine\n1  not"),
            ("FILES", "/etc/services"),
        ]);
        assert_eq!(
            text,
            "Exit status:\n  0  fine\n  1  not\n\nFiles:\n  /etc/services"
        );
    }
}
