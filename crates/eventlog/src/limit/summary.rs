//! The `events_suppressed` summary: one record per key per window, written
//! through the layer's outputs in its envelope, so nothing is suppressed
//! silently.
//!
//! ```text
//! slot (pending count, first / last time, example) ─> FieldBuf ─> Record (WARN, system_event) ─> every Output
//! ```

use std::time::Duration;

use tracing_core::callsite::Callsite;
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Level, Metadata};

use super::clock::time_of;
use super::table::{Example, Reason};
use crate::encode::JsonBuf;
use crate::encode::layout::Layout;
use crate::encode::record::Encoding;
use crate::event_type::EventType;
use crate::fields::{FieldBuf, NO_FIELDS, StoredValue};
use crate::record::Record;

/// The `event_name` of every suppression summary.
///
/// ```
/// assert_eq!(eventlog::SUPPRESSED_EVENT, "events_suppressed");
/// ```
pub const SUPPRESSED_EVENT: &str = "events_suppressed";

/// The field names of a suppression summary's `metadata`.
///
/// ```
/// use eventlog::suppressed_fields as f;
///
/// assert_eq!(
///     [f::REASON, f::KEY_BY, f::KEY, f::SUPPRESSED, f::WINDOW_MS, f::FIRST, f::LAST, f::EVENT, f::EXAMPLE_PREFIX],
///     ["reason", "key_by", "key", "suppressed", "window_ms", "first_suppressed", "last_suppressed", "suppressed_event", "example."],
/// );
/// ```
pub mod suppressed_fields {
    /// `rate_limited` (a budget's bucket was empty) or `sampled` (not
    /// drawn by the sampler).
    pub const REASON: &str = "reason";
    /// What the key is: `event_name`, `callsite`, or the field's name.
    pub const KEY_BY: &str = "key_by";
    /// The key's value: the event name, `file:line`, the field's value
    /// (`<none>` when the event had no such field; `<overflow>` for the
    /// bucket keys beyond `max_keys` share).
    pub const KEY: &str = "key";
    /// How many events this summary covers.
    pub const SUPPRESSED: &str = "suppressed";
    /// The summary window, in milliseconds.
    pub const WINDOW_MS: &str = "window_ms";
    /// When the first of them was suppressed (RFC 3339, UTC).
    pub const FIRST: &str = "first_suppressed";
    /// When the last of them was suppressed.
    pub const LAST: &str = "last_suppressed";
    /// The first one's `event_name`, if it had one.
    pub const EVENT: &str = "suppressed_event";
    /// The first one's message and fields, each under this prefix
    /// (`example.message`, `example.order_id`), already redacted.
    pub const EXAMPLE_PREFIX: &str = "example.";
}

struct SummaryCallsite;

impl Callsite for SummaryCallsite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        &SUMMARY_METADATA
    }
}

static SUMMARY_CALLSITE: SummaryCallsite = SummaryCallsite;

/// The summary's `tracing` metadata (it has no callsite in user code; it
/// is never registered with `tracing`).
static SUMMARY_METADATA: Metadata<'static> = Metadata::new(
    SUPPRESSED_EVENT,
    "eventlog",
    Level::WARN,
    None,
    None,
    None,
    FieldSet::new(&[], tracing_core::identify_callsite!(&SUMMARY_CALLSITE)),
    Kind::EVENT,
);

/// What one summary says.
pub(crate) struct Summary<'a> {
    pub(crate) reason: Reason,
    pub(crate) key_by: &'a str,
    pub(crate) count: u64,
    pub(crate) window: Duration,
    pub(crate) last: u64,
    pub(crate) example: Option<&'a Example>,
    /// When the summary is written, ns.
    pub(crate) at: u64,
}

fn rfc3339(nanos: u64) -> String {
    let mut buf = JsonBuf::default();
    buf.timestamp(time_of(nanos));
    // `"2026-11-25T08:50:07.000000Z"`: the text inside the quotes.
    let bytes = buf.as_bytes();
    String::from_utf8_lossy(
        bytes
            .get(1..bytes.len().saturating_sub(1))
            .unwrap_or_default(),
    )
    .into_owned()
}

impl Summary<'_> {
    /// The summary's fields, in the order of [`suppressed_fields`].
    pub(crate) fn fields(&self) -> FieldBuf {
        use suppressed_fields as f;
        let mut buf = FieldBuf::default();
        let text = |buf: &mut FieldBuf, name: &'static str, s: &str| {
            let r = buf.push_text(s, usize::MAX);
            buf.push_distinct(name, StoredValue::Str(r));
        };
        text(&mut buf, f::REASON, self.reason.as_str());
        text(&mut buf, f::KEY_BY, self.key_by);
        let key = self.example.map_or("<unknown>", |e| e.key.as_str());
        text(&mut buf, f::KEY, key);
        buf.push_distinct(f::SUPPRESSED, StoredValue::U64(self.count));
        let window = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        buf.push_distinct(f::WINDOW_MS, StoredValue::U64(window));
        let first = self.example.map_or(self.last, |e| e.first.min(self.last));
        text(&mut buf, f::FIRST, &rfc3339(first));
        text(&mut buf, f::LAST, &rfc3339(self.last));
        if let Some(example) = self.example {
            if let Some(name) = &example.event_name {
                text(&mut buf, f::EVENT, name);
            }
            if let Some(message) = &example.message {
                let r = buf.push_text(message, usize::MAX);
                buf.push_named(&[f::EXAMPLE_PREFIX, "message"], StoredValue::Str(r));
            }
            for field in example.fields.iter() {
                let value = buf.store_value(field.value);
                buf.push_named(&[f::EXAMPLE_PREFIX, field.name], value);
            }
        }
        buf
    }

    /// The summary's message.
    pub(crate) fn message(&self) -> String {
        let event = self
            .example
            .and_then(|e| e.event_name.as_deref())
            .unwrap_or("unnamed");
        format!(
            "{} `{event}` events suppressed ({})",
            self.count,
            self.reason.as_str()
        )
    }
}

/// The summary as a record in `layout`'s envelope, handed to `emit`.
pub(crate) fn emit_summary(summary: &Summary<'_>, layout: &Layout, emit: &dyn Fn(&Record<'_>)) {
    let fields = summary.fields();
    let message = summary.message();
    let record = Record {
        metadata: &SUMMARY_METADATA,
        timestamp: time_of(summary.at),
        level: Level::WARN,
        target: "eventlog",
        target_clean: true,
        file: None,
        line: None,
        event_name: Some(SUPPRESSED_EVENT),
        event_type: EventType::SYSTEM_EVENT.as_str(),
        message: Some(&message),
        trace: None,
        promoted: &[],
        promoted_text: &NO_FIELDS,
        fields: &fields,
        span_name: None,
        span_fields: &NO_FIELDS,
        duration: None,
        schema_version: None,
        schema_errors: &[],
        encoding: Encoding::new(layout, None, false),
    };
    emit(&record);
}
