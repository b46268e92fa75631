//! `eventlog trace ID`: every record of one request, in time order, as a
//! timeline the people on call can read.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::filter::{ID_KEYS, timestamp};
use crate::view::as_text;

/// One record of the timeline.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) at: Option<Timestamp>,
    /// Read order, to keep records of the same microsecond in order.
    pub(crate) seq: u64,
    /// The line as it is in the file.
    pub(crate) bytes: Vec<u8>,
    pub(crate) record: Map<String, Value>,
}

/// Whether `record` belongs to `id` (its trace, request, correlation or
/// session id).
pub(crate) fn belongs(record: &crate::view::RecordView<'_>, id: &str) -> bool {
    ID_KEYS.iter().any(|k| record.str_of(k) == Some(id))
}

/// Sorts by time (records without a valid timestamp last, in read order).
pub(crate) fn sort(entries: &mut [Entry]) {
    entries.sort_by(|a, b| match (a.at, b.at) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.seq.cmp(&b.seq)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.seq.cmp(&b.seq),
    });
}

fn str_of<'a>(record: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    record.get(key).and_then(Value::as_str)
}

/// The header and one line per record.
/// `zone`: where the first record's time is shown.
pub(crate) fn render(id: &str, entries: &[Entry], zone: &crate::zone::Zone) -> String {
    let mut out = String::new();
    let first = entries.iter().find_map(|e| e.at);
    let last = entries.iter().filter_map(|e| e.at).max();
    let mut ids = Vec::new();
    for key in ["trace_id", "request_id", "user_id", "session_id"] {
        let mut seen: Vec<&str> = entries
            .iter()
            .filter_map(|e| str_of(&e.record, key))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        if !seen.is_empty() {
            ids.push(format!("{key} {}", seen.join(", ")));
        }
    }
    let over = match (first, last) {
        (Some(f), Some(l)) => format!(
            " over {:.3} ms, from {}",
            l.duration_since(f).as_secs_f64() * 1000.0,
            zone.show(f)
        ),
        _ => String::new(),
    };
    let _ = writeln!(out, "{id}: {} records{over}", entries.len());
    if !ids.is_empty() {
        let _ = writeln!(out, "  {}", ids.join(" · "));
    }
    for e in entries {
        let offset = match (first, e.at) {
            (Some(f), Some(t)) => {
                format!("+{:>10.3} ms", t.duration_since(f).as_secs_f64() * 1000.0)
            }
            _ => format!("{:>14}", "?"),
        };
        let r = &e.record;
        let level = str_of(r, "level").unwrap_or("-");
        let name = str_of(r, "event_name").unwrap_or("-");
        let span = r
            .get("span")
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        let mut fields = String::new();
        if let Some(Value::Object(meta)) = r.get("metadata") {
            for (k, v) in meta {
                let _ = write!(fields, " {k}={}", as_text(v));
            }
        }
        if let Some(d) = r.get("duration_ms") {
            let _ = write!(fields, " duration_ms={d}");
        }
        let message = str_of(r, "message")
            .map(|m| format!("  \"{m}\""))
            .unwrap_or_default();
        let errors = match r.get("schema_errors") {
            Some(Value::Array(a)) if !a.is_empty() => format!("  (schema: {} errors)", a.len()),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {offset}  {level:<5}  {name}{span}{fields}{message}{errors}"
        );
    }
    out
}

/// Builds an entry from a matching record.
pub(crate) fn entry(seq: u64, bytes: &[u8], record: Map<String, Value>) -> Entry {
    Entry {
        at: timestamp(&record),
        seq,
        bytes: bytes.to_owned(),
        record,
    }
}
