//! `eventlog validate`: every line is one envelope record (version 1, the
//! default key names), and with `--schema` every record passes the schema
//! as the layer would have checked it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use eventlog::{Schema, UnknownEvents};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::filter::level_rank;

/// One problem on one line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Problem {
    pub(crate) file: String,
    pub(crate) line: u64,
    /// `invalid_json`, `bad_timestamp`, … or a schema violation's kind.
    pub(crate) kind: String,
    pub(crate) message: String,
    /// Warnings (an unknown event under `unknown_events = "warn"`) do not
    /// fail validation.
    pub(crate) warning: bool,
}

/// What `validate` found.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) files: usize,
    pub(crate) lines: u64,
    pub(crate) valid: u64,
    pub(crate) errors: u64,
    pub(crate) warnings: u64,
    pub(crate) by_kind: BTreeMap<String, u64>,
    /// The first errors, in file order (`--examples` of them).
    pub(crate) examples: Vec<Problem>,
    /// The first few warnings.
    pub(crate) warning_examples: Vec<Problem>,
    /// Files that could not be read to their end, with the reason.
    pub(crate) unreadable: Vec<(String, String)>,
    /// Files of a directory gone before their turn (rotated or deleted
    /// meanwhile), skipped.
    pub(crate) vanished: Vec<String>,
}

/// Whether `id` is a valid W3C id for `key`, as the library parses them
/// (lowercase hex of the right length, not all zero).
fn is_valid_id(key: &str, id: &str) -> bool {
    match key {
        "trace_id" => id.parse::<eventlog::TraceId>().is_ok(),
        _ => id.parse::<eventlog::SpanId>().is_ok(),
    }
}

/// The envelope's own rules, as (kind, message) pairs.
pub(crate) fn envelope_problems(record: &Map<String, Value>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match record.get("timestamp") {
        None => out.push(("missing_timestamp", "no `timestamp`".to_owned())),
        Some(Value::String(t)) if t.ends_with('Z') && t.parse::<jiff::Timestamp>().is_ok() => {}
        Some(t) => out.push((
            "bad_timestamp",
            format!("`timestamp` {t} is not an RFC 3339 UTC time ending in Z"),
        )),
    }
    match record.get("level") {
        Some(Value::String(l)) if level_rank(l).is_some() && *l == l.to_ascii_uppercase() => {}
        None => out.push(("missing_level", "no `level`".to_owned())),
        Some(l) => out.push(("bad_level", format!("`level` {l} is not TRACE…ERROR"))),
    }
    match record.get("event_type") {
        None => {}
        Some(Value::String(t)) if eventlog::EventType::from_name(t).is_some() => {}
        Some(t) => {
            let names: Vec<&str> = eventlog::EventType::ALL
                .iter()
                .map(|c| c.as_str())
                .collect();
            out.push((
                "bad_event_type",
                format!("`event_type` {t} is not one of {}", names.join(", ")),
            ));
        }
    }
    for (key, len) in [("trace_id", 32), ("span_id", 16)] {
        match record.get(key) {
            None => {}
            Some(Value::String(id)) if is_valid_id(key, id) => {}
            Some(id) => out.push((
                "bad_id",
                format!("`{key}` {id} is not {len} lowercase hex digits (and not all zero)"),
            )),
        }
    }
    match record.get("metadata") {
        None | Some(Value::Object(_)) => {}
        Some(m) => out.push(("bad_metadata", format!("`metadata` {m} is not an object"))),
    }
    out
}

/// Warnings listed (the rest are counted by kind): errors come first.
const MAX_WARNING_EXAMPLES: usize = 3;

/// Accumulates problems line by line.
#[derive(Debug)]
pub(crate) struct Validator<'a> {
    schema: Option<&'a Schema>,
    max_examples: usize,
    max_line: usize,
    report: Report,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(schema: Option<&'a Schema>, max_examples: usize, max_line: usize) -> Self {
        Validator {
            schema,
            max_examples,
            max_line,
            report: Report::default(),
        }
    }

    /// A line over `--max-line-bytes`, skipped unread.
    pub(crate) fn too_long(&mut self, file: &Path, number: u64) {
        let message = format!(
            "line longer than {} (--max-line-bytes): not checked",
            crate::input::show_size(self.max_line)
        );
        self.problem(file, number, "line_too_long", message, false);
    }

    fn problem(&mut self, file: &Path, line: u64, kind: &str, message: String, warning: bool) {
        let r = &mut self.report;
        if warning {
            r.warnings += 1;
        } else {
            r.errors += 1;
        }
        *r.by_kind.entry(kind.to_owned()).or_insert(0) += 1;
        let (list, max) = if warning {
            (
                &mut r.warning_examples,
                MAX_WARNING_EXAMPLES.min(self.max_examples),
            )
        } else {
            (&mut r.examples, self.max_examples)
        };
        if list.len() < max {
            list.push(Problem {
                file: file.display().to_string(),
                line,
                kind: kind.to_owned(),
                message,
                warning,
            });
        }
    }

    /// Checks one line (its record, or why it is not one).
    pub(crate) fn line(&mut self, line: &crate::input::Line<'_>) {
        let (file, number) = (line.file, line.number);
        let mut failed = false;
        if let Some(at) = line.invalid_utf8 {
            // JSON text is UTF-8: the record is checked as read (U+FFFD in place).
            let message = format!("invalid UTF-8 at byte {at}");
            self.problem(file, number, "invalid_utf8", message, false);
            failed = true;
        }
        let record = match &line.record {
            Ok(r) => r.as_map(),
            Err(why) => {
                self.problem(file, number, "invalid_json", why.to_string(), false);
                return;
            }
        };
        for (kind, message) in envelope_problems(record) {
            self.problem(file, number, kind, message, false);
            failed = true;
        }
        if let Some(schema) = self.schema {
            let warn_unknown = schema.unknown_events() == UnknownEvents::Warn;
            let line = Value::Object(record.clone());
            for v in schema.check_json(&line) {
                let warning = warn_unknown && v.kind() == "unknown_event";
                failed |= !warning;
                self.problem(file, number, v.kind(), v.to_string(), warning);
            }
        }
        if !failed {
            self.report.valid += 1;
        }
    }

    pub(crate) fn finish(mut self, read: crate::input::ReadSummary) -> Report {
        self.report.files = read.files;
        self.report.lines = read.lines;
        self.report.unreadable = read
            .unreadable
            .into_iter()
            .map(|(p, e)| (p.display().to_string(), e))
            .collect();
        self.report.vanished = read
            .vanished
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        self.report
    }
}

impl Report {
    /// Whether nothing failed (warnings allowed).
    pub(crate) fn passed(&self) -> bool {
        self.errors == 0 && self.unreadable.is_empty()
    }

    pub(crate) fn render(&self, schema: Option<&Path>) -> String {
        let mut out = String::new();
        let against = schema.map_or_else(
            || "the envelope".to_owned(),
            |p| format!("the envelope and {}", p.display()),
        );
        let _ = writeln!(
            out,
            "{}: {} lines in {} files checked against {against}: {} valid, {} errors, {} warnings",
            if self.passed() { "ok" } else { "FAILED" },
            self.lines,
            self.files,
            self.valid,
            self.errors,
            self.warnings
        );
        if !self.by_kind.is_empty() {
            let kinds: Vec<String> = self
                .by_kind
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(out, "  by kind: {}", kinds.join(", "));
        }
        for (list, total, tag) in [
            (&self.examples, self.errors, "error"),
            (&self.warning_examples, self.warnings, "warning"),
        ] {
            for p in list {
                let _ = writeln!(out, "  {}:{}: {tag}: {}", p.file, p.line, p.message);
            }
            let shown = list.len() as u64;
            if total > shown {
                let more = if tag == "error" {
                    " (--examples N lists more)"
                } else {
                    ""
                };
                let _ = writeln!(out, "  … {} more {tag}s{more}", total - shown);
            }
        }
        if !self.unreadable.is_empty() {
            // Each named on stderr.
            let _ = writeln!(out, "  {} files unreadable", self.unreadable.len());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(v: Value) -> Vec<&'static str> {
        let Value::Object(m) = v else { unreachable!() };
        envelope_problems(&m).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn envelope_rules() {
        let good = json!({
            "timestamp": "2026-12-01T10:00:00.123456Z", "level": "INFO",
            "event_name": "order_placed", "event_type": "business",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
            "metadata": {}
        });
        assert!(kinds(good).is_empty());
        assert_eq!(
            kinds(json!({"timestamp": "2026-12-01T10:00:00+01:00", "level": "info"})),
            ["bad_timestamp", "bad_level"]
        );
        assert_eq!(
            kinds(
                json!({"level": "INFO", "event_type": "misc", "trace_id": "ABC", "span_id": "0000000000000000", "metadata": 3})
            ),
            [
                "missing_timestamp",
                "bad_event_type",
                "bad_id",
                "bad_id",
                "bad_metadata"
            ]
        );
    }
}
