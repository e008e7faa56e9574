//! Text for people: one block per finding, coloured when asked.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::ReportOptions;
use crate::{
    finding::Finding,
    sink::{FindingSink, ScanSummary},
};
use secretgate_patterns::Severity;

/// Writes findings as readable text.
pub struct TextWriter<W: Write> {
    out: W,
    options: ReportOptions,
}

impl<W: Write> TextWriter<W> {
    /// A text writer.
    pub fn new(out: W, options: ReportOptions) -> Self {
        TextWriter { out, options }
    }

    fn style(&self, style: Style) -> (String, String) {
        if self.options.color {
            (style.render().to_string(), style.render_reset().to_string())
        } else {
            (String::new(), String::new())
        }
    }
}

/// `text` with control characters escaped (`\u{1b}`, `\n`): a file name, an author or a
/// secret from an untrusted repository must not move the cursor, clear a line or forge a
/// finding on the reader's terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Critical | Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

impl<W: Write> FindingSink for TextWriter<W> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let (bold, reset) = self.style(Style::new().bold());
        let (sev, sev_reset) = self.style(severity_style(f.severity));
        let (dim, dim_reset) = self.style(Style::new().dimmed());
        let decoded = if f.decoded.is_empty() { String::new() } else { format!(" ({})", f.decoded_chain()) };
        writeln!(
            self.out,
            "{bold}{}:{}:{}{reset}  {sev}{}{sev_reset} ({}){decoded}",
            printable(&f.path),
            f.line,
            f.column,
            f.rule_id,
            f.severity.as_str()
        )?;
        writeln!(self.out, "    {}", f.description)?;
        writeln!(self.out, "    secret:      {}", printable(&f.display_secret(self.options.show_secrets)))?;
        if !f.decoded.is_empty() {
            writeln!(
                self.out,
                "    decoded:     {} (the location is the encoded text's)",
                f.decoded_chain()
            )?;
        }
        if let Some(commit) = &f.commit {
            let who = match (&f.author, &f.email) {
                (Some(a), Some(e)) => format!(" by {} <{}>", printable(a), printable(e)),
                (Some(a), None) => format!(" by {}", printable(a)),
                _ => String::new(),
            };
            let when = f.date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default();
            writeln!(self.out, "    commit:      {commit}{who}{when}")?;
        }
        writeln!(self.out, "    {dim}fingerprint: {}{dim_reset}", printable(&f.fingerprint))?;
        if let Some(revoke) = &f.revoke {
            writeln!(self.out, "    revoke:      {revoke}")?;
        }
        writeln!(self.out)
    }

    fn finish(&mut self, _summary: &ScanSummary) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("config/app.env"), "config/app.env");
        assert_eq!(printable("evil\u{1b}[2K\rok.txt"), "evil\\u{1b}[2K\\rok.txt");
        assert_eq!(printable("a\nb\u{9b}"), "a\\nb\\u{9b}");
    }
}
