//! Figures written into a Markdown file between two marker lines, the prose
//! around them kept.

use std::path::Path;

/// The lines around a block of figures.
#[derive(Clone, Copy, Debug)]
pub struct Markers {
    /// The line before the figures.
    pub begin: &'static str,
    /// The line after them.
    pub end: &'static str,
}

/// Puts `figures` between `markers` in the file at `path`; a file without
/// them gets them at its end.
///
/// # Errors
/// The file cannot be read or written.
pub fn write_between(path: &Path, markers: Markers, figures: &str) -> std::io::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let Markers { begin, end } = markers;
    let block = format!("{begin}\n{figures}{end}");
    let updated = match (text.find(begin), text.find(end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{block}{}", &text[..b], &text[e + end.len()..])
        }
        _ => format!(
            "{text}{}{block}\n",
            if text.is_empty() || text.ends_with('\n') {
                ""
            } else {
                "\n"
            }
        ),
    };
    std::fs::write(path, updated)
}
