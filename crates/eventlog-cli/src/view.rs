//! One record as every query module reads it, whichever parser read the
//! line: the lazy scan ([`LazyRecord`]) for the lines it vouches for, the
//! full parser's map for the rest. One lookup rule for both, so an answer
//! never depends on which parser a line went through.

use std::borrow::Cow;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::lazy::{LazyRecord, Raw};

/// A value as a query compares it: strings as they are, other scalars as
/// their JSON text (`2`, `true`, `72.49`).
pub(crate) fn as_text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// A record, lazily scanned or fully parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RecordView<'a> {
    Lazy(LazyRecord<'a>),
    Full(&'a Map<String, Value>),
}

/// One value of a record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldRef<'a> {
    Lazy(Raw<'a>),
    Full(&'a Value),
}

impl<'a> FieldRef<'a> {
    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            FieldRef::Lazy(r) => r.as_str(),
            FieldRef::Full(v) => v.as_str(),
        }
    }

    /// As a query compares it: strings as they are, other values as their
    /// JSON text (`2`, `true`, `72.49`).
    pub(crate) fn as_text(self) -> Cow<'a, str> {
        match self {
            FieldRef::Lazy(r) => r.as_text(),
            FieldRef::Full(v) => as_text(v),
        }
    }

    /// A number's value; `None` for anything else.
    pub(crate) fn as_f64(self) -> Option<f64> {
        match self {
            FieldRef::Lazy(r) => r.as_f64(),
            FieldRef::Full(v) => v.as_f64(),
        }
    }

    fn is_object(self) -> bool {
        match self {
            FieldRef::Lazy(r) => r.is_object(),
            FieldRef::Full(v) => v.is_object(),
        }
    }

    /// The value of `key` in this object.
    /// Whether the value's text may hold `needle` (a key about to be looked
    /// up): a byte search in the line for a scanned value, rather than a
    /// walk of its object; always `true` for a parsed one.
    pub(crate) fn may_contain(self, needle: &str) -> bool {
        match self {
            FieldRef::Lazy(r) => {
                memchr::memmem::find(r.raw_text().as_bytes(), needle.as_bytes()).is_some()
            }
            FieldRef::Full(_) => true,
        }
    }

    pub(crate) fn get_key(self, key: &str) -> Option<FieldRef<'a>> {
        self.get(key)
    }

    fn get(self, key: &str) -> Option<FieldRef<'a>> {
        match self {
            FieldRef::Lazy(r) => r.get(key).map(FieldRef::Lazy),
            FieldRef::Full(v) => v.get(key).map(FieldRef::Full),
        }
    }

    /// The value, owned (for `--fields` output).
    pub(crate) fn to_value(self) -> Value {
        match self {
            FieldRef::Lazy(r) => r.to_value(),
            FieldRef::Full(v) => v.clone(),
        }
    }
}

impl<'a> RecordView<'a> {
    /// Top-level `key`.
    pub(crate) fn get(&self, key: &str) -> Option<FieldRef<'a>> {
        match self {
            RecordView::Lazy(r) => r.get(key).map(FieldRef::Lazy),
            RecordView::Full(m) => m.get(key).map(FieldRef::Full),
        }
    }

    /// Top-level `key`'s value if it is a string.
    pub(crate) fn str_of(&self, key: &str) -> Option<&'a str> {
        match self {
            RecordView::Lazy(r) => r.str_of(key),
            RecordView::Full(m) => m.get(key).and_then(Value::as_str),
        }
    }

    /// What the record stands for before sampling: `None` for an
    /// `events_suppressed` summary (a count, not an event); else whether a
    /// sampler kept it and its weight, `1 / metadata.sample_rate` for a
    /// rate in (0, 1] and 1 otherwise (no rate, or one no sampler writes).
    pub(crate) fn sampling_weight(&self) -> Option<(bool, f64)> {
        if self.str_of("event_name") == Some(eventlog::SUPPRESSED_EVENT) {
            return None;
        }
        // Most records were not sampled: a byte search rules them out
        // before the metadata is walked.
        let rate = self
            .get("metadata")
            .filter(|m| m.may_contain("sample_rate"))
            .and_then(|m| m.get_key("sample_rate"))
            .and_then(FieldRef::as_f64)
            .filter(|p| *p > 0.0 && *p <= 1.0);
        Some(rate.map_or((false, 1.0), |p| (true, 1.0 / p)))
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The record's timestamp, if it has a valid one.
    pub(crate) fn timestamp(&self) -> Option<Timestamp> {
        parse_timestamp(self.str_of("timestamp")?)
    }

    /// The value at `path`: a top-level key, or dotted into nested objects
    /// (`metadata.error_type`, `span.fields.order_id`); a key that itself
    /// holds dots (`http.response.status_code`) matches whole first. A
    /// bare name found nowhere at the top is looked up in `metadata`, so
    /// `error_type` finds `metadata.error_type`.
    pub(crate) fn lookup(&self, path: &str) -> Option<FieldRef<'a>> {
        self.dotted(path).or_else(|| {
            let meta = self.get("metadata")?;
            if !meta.is_object() || path.starts_with("metadata.") {
                return None;
            }
            dotted_in(meta, path)
        })
    }

    fn dotted(&self, path: &str) -> Option<FieldRef<'a>> {
        if let Some(v) = self.get(path) {
            return Some(v);
        }
        for (i, _) in path.rmatch_indices('.') {
            let (Some(head), Some(rest)) = (path.get(..i), path.get(i + 1..)) else {
                continue;
            };
            if let Some(inner) = self.get(head).filter(|v| v.is_object())
                && let Some(v) = dotted_in(inner, rest)
            {
                return Some(v);
            }
        }
        None
    }
}

/// [`RecordView::dotted`] inside an object value.
fn dotted_in<'a>(obj: FieldRef<'a>, path: &str) -> Option<FieldRef<'a>> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    for (i, _) in path.rmatch_indices('.') {
        let (Some(head), Some(rest)) = (path.get(..i), path.get(i + 1..)) else {
            continue;
        };
        if let Some(inner) = obj.get(head).filter(|v| v.is_object())
            && let Some(v) = dotted_in(inner, rest)
        {
            return Some(v);
        }
    }
    None
}

/// Parses a timestamp as jiff does, with a fast path for the layer's own
/// form (`2026-11-25T08:47:36.123456Z`): the same instant jiff gives,
/// without its general parser on every line.
pub(crate) fn parse_timestamp(text: &str) -> Option<Timestamp> {
    fast_utc(text).or_else(|| text.parse().ok())
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with every field in range; `None`
/// sends anything else (offsets, leap seconds, odd forms) to jiff.
fn fast_utc(text: &str) -> Option<Timestamp> {
    let (secs, nanos) = eventlog::parse_envelope_timestamp(text)?;
    Timestamp::new(secs, i32::try_from(nanos).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_timestamp_is_jiffs() {
        for t in [
            "2026-11-25T08:47:36.123456Z",
            "2024-02-29T23:59:59Z",
            "1970-01-01T00:00:00.5Z",
            "2000-03-01T00:00:00.000000001Z",
            "9999-12-30T21:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
        ] {
            assert_eq!(fast_utc(t), t.parse::<Timestamp>().ok(), "{t}");
            assert!(fast_utc(t).is_some(), "{t}");
        }
        for t in [
            "2025-02-29T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T08:47:60Z",
            "2026-11-25T08:47:36.Z",
            "2026-11-25T08:47:36.1234567890Z",
            "2026-11-25T08:47:36+01:00",
            "2026-13-25T08:47:36Z",
        ] {
            assert_eq!(fast_utc(t), None, "{t}");
        }
    }

    proptest::proptest! {
        /// Any text: the fast path finds the instant jiff finds, or leaves it to jiff.
        #[test]
        fn any_timestamp_text_parses_as_jiff_parses_it(
            t in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?Z|\\PC{0,30}",
        ) {
            if let Some(fast) = fast_utc(&t) {
                proptest::prop_assert_eq!(Some(fast), t.parse::<Timestamp>().ok());
            }
            let _ = parse_timestamp(&t);
        }
    }
}
