//! JSON (an array of findings) and JSON Lines (one finding per line).

use std::io::{self, Write};

use super::{presented, ReportOptions};
use crate::{
    finding::Finding,
    sink::{FindingSink, ScanSummary},
};

/// Writes findings as JSON or JSON Lines.
pub struct JsonWriter<W: Write> {
    out: W,
    options: ReportOptions,
    lines: bool,
    written: usize,
}

impl<W: Write> JsonWriter<W> {
    /// A writer of a JSON array, or of JSON Lines when `lines`.
    pub fn new(out: W, options: ReportOptions, lines: bool) -> Self {
        JsonWriter { out, options, lines, written: 0 }
    }
}

impl<W: Write> FindingSink for JsonWriter<W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.lines {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        let shown = presented(finding, &self.options);
        if self.lines {
            serde_json::to_writer(&mut self.out, &shown)?;
        } else {
            self.out.write_all(if self.written == 0 { b"\n  " } else { b",\n  " })?;
            serde_json::to_writer(&mut self.out, &shown)?;
        }
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self, _summary: &ScanSummary) -> io::Result<()> {
        if !self.lines {
            self.out.write_all(if self.written == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}
