//! The manual: the sections beyond the options (shown by `--help`), the man
//! page and the shell completions, all made from a program's clap
//! definition, so the documentation cannot drift from the options.
//!
//! Each program prints them with its hidden `--generate man|bash|zsh|fish`
//! flag (as ripgrep does); `make install` and the Debian package install
//! what it prints. The man page is written here rather than by
//! clap_mangen, which drops option arguments from the synopsis and shows
//! clap's own help texts: this one reads like a Debian man page under
//! `man -l`, in 80 columns.

use std::fmt::Write as _;
use std::io;

use clap::{Arg, Command, ValueEnum};
use clap_complete::Shell;

/// What `--generate` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// The man page (roff).
    Man,
    /// The bash completion script.
    Bash,
    /// The zsh completion script.
    Zsh,
    /// The fish completion script.
    Fish,
}

/// A program's manual: its command line and the text around it.
#[derive(Clone, Copy, Debug)]
pub struct Manual {
    /// The man page's section: `1` for a command, `8` for a daemon.
    pub section: &'static str,
    /// What the program is, for NAME: `ask hosts for their uptime`.
    pub summary: &'static str,
    /// The synopsis, one form per line, as the README shows it.
    pub synopsis: &'static str,
    /// The sections after OPTIONS: titles and preformatted text.
    pub sections: &'static [(&'static str, &'static str)],
}

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

/// Prints what `--generate` asks for of `command` on standard output.
///
/// # Errors
/// A one-line reason: standard output cannot be written.
pub fn print(what: Generate, command: Command, manual: &Manual) -> Result<(), String> {
    generate(what, command, manual, &mut io::stdout().lock())
        .map_err(|e| format!("--generate: {}", crate::oserror::describe(&e)))
}

/// Writes what `what` asks for of `command` to `out`.
///
/// # Errors
/// Writing fails.
fn generate(
    what: Generate,
    mut command: Command,
    manual: &Manual,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let name = command.get_name().to_owned();
    let shell = match what {
        Generate::Man => return out.write_all(man_page(&command, manual).as_bytes()),
        Generate::Bash => Shell::Bash,
        Generate::Zsh => Shell::Zsh,
        Generate::Fish => Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, name, out);
    Ok(())
}

/// Text for roff: backslashes escaped, a leading `.` or `'` kept literal,
/// and `-` written `\-` so that options copy and paste as typed.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The man page of `command`.
pub(crate) fn man_page(command: &Command, manual: &Manual) -> String {
    let mut command = command.clone();
    // Adds clap's own -h and -V, described below in plain words.
    command.build();
    let name = command.get_name();
    let version = command.get_version().unwrap_or_default();
    let mut page = String::new();
    let _ = writeln!(
        page,
        ".TH {} {} \"\" \"{name} {version}\"",
        name.to_uppercase(),
        manual.section
    );
    // No hyphenation, no justification: options stay whole.
    page.push_str(".nh\n.ad l\n");
    let _ = writeln!(
        page,
        ".SH NAME\n{} \\- {}",
        roff(name),
        roff(manual.summary)
    );
    page.push_str(".SH SYNOPSIS\n.nf\n");
    for line in manual.synopsis.lines() {
        let _ = writeln!(page, "{}", roff(line));
    }
    page.push_str(".fi\n.SH DESCRIPTION\n");
    let about = command
        .get_long_about()
        .or(command.get_about())
        .map(ToString::to_string)
        .unwrap_or_default();
    for paragraph in about.split("\n\n") {
        let _ = writeln!(page, ".PP\n{}", roff(&paragraph.replace('\n', " ")));
    }
    page.push_str(".SH OPTIONS\n");
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        let _ = writeln!(page, ".TP\n{}\n{}", heading(arg), roff(&help(arg)));
    }
    for (title, body) in manual.sections {
        let _ = writeln!(page, ".SH {title}\n.nf");
        for line in body.lines() {
            let _ = writeln!(page, "{}", roff(line));
        }
        page.push_str(".fi\n");
    }
    page
}

/// `\fB\-p\fR, \fB\-\-port\fR \fIPORT|SERVICE\fR`, or `\fIHOST\fR...`.
fn heading(arg: &Arg) -> String {
    let value = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| format!("\\fI{n}\\fR"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|_| arg.get_action().takes_values());
    if arg.is_positional() {
        let many = matches!(arg.get_num_args(), Some(r) if r.max_values() > 1);
        return format!(
            "{}{}",
            value.unwrap_or_default(),
            if many { "..." } else { "" }
        );
    }
    let mut flags = Vec::new();
    if let Some(short) = arg.get_short() {
        flags.push(format!("\\fB\\-{short}\\fR"));
    }
    if let Some(long) = arg.get_long() {
        flags.push(format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-")));
    }
    match value {
        Some(value) => format!("{} {value}", flags.join(", ")),
        None => flags.join(", "),
    }
}

/// The option's help, its choices and its default.
fn help(arg: &Arg) -> String {
    match arg.get_id().as_str() {
        "help" => return "Print the help, and exit".to_owned(),
        "version" => return "Print the version, and exit".to_owned(),
        _ => {}
    }
    let mut text = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string().replace('\n', " "))
        .unwrap_or_default();
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .collect();
    if !choices.is_empty() && arg.get_action().takes_values() {
        let _ = write!(text, " [one of: {}]", choices.join(", "));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && arg.get_action().takes_values() {
        let _ = write!(text, " [default: {}]", defaults.join(", "));
    }
    text
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

    #[test]
    fn roff_keeps_dashes_and_leading_dots_literal() {
        assert_eq!(roff("-p PORT"), "\\-p PORT");
        assert_eq!(roff(".hidden"), "\\&.hidden");
        assert_eq!(roff("a\\b"), "a\\eb");
    }
}
