//! The `Record`: one event with its span context merged, as every output sees it.
//!
//! ```text
//! layer::emit ─ Record { what the event is: time, level, names, ids, fields (fields::FieldBuf) }
//!                  │ + encoding: encode::record::Encoding (opaque: the layout and the span's bytes)
//!                  └─> Output::emit(&Record) ─> write_json ─> encode (through encode::record::Encodable)
//! ```
//!
//! A record borrows everything from per-thread scratch buffers that the layer
//! fills while visiting the event's fields, so building one allocates nothing.
//! Its field values (`Value`, `Field`) and their text arena are the `fields`
//! module's; how it becomes a JSON line is `encode`'s, which reads it
//! through the `Encodable` trait implemented here, so `encode` never names
//! the record and the two modules import each other one way only.

use std::time::{Duration, SystemTime};

use tracing_core::{Level, Metadata};

use crate::encode::JsonBuf;
use crate::encode::record::{Encodable, Encoding};
use crate::fields::{Field, FieldBuf, Promoted, Value};
use crate::trace::TraceContext;
use crate::violation::Violation;

/// One event, with its span context merged in, ready for every output.
///
/// Built once per event by the layer, after redaction and schema checks, and
/// handed by reference to each [`Output`](crate::Output). It borrows
/// per-thread buffers, so outputs copy what they keep.
///
/// The JSON form (see [`Record::write_json`]) is the version-1 envelope, one
/// object per line, keys in this order, absent keys omitted:
///
/// | key | meaning |
/// |---|---|
/// | `timestamp` | UTC, RFC 3339 with microseconds and `Z` |
/// | `level` | `TRACE` … `ERROR` |
/// | `event_name` | `object_action` name from the `event_name` / `event` field or the macro's `name:` |
/// | `event_type` | `user_action`, `system_event`, `business`, `error`, `security` or `log` |
/// | `message` | the human text, if any |
/// | `service`, `environment`, `region`, `version`, `host` | deployment context |
/// | *static fields* | fields added with [`EnvelopeBuilder::static_field`](crate::EnvelopeBuilder::static_field) |
/// | `trace_id`, `span_id` | W3C ids, 32 / 16 lowercase hex |
/// | `correlation_id`, `request_id`, `user_id`, `session_id` | promoted from the nearest span (or the event) that recorded them |
/// | `metadata` | the event's own fields, as an object |
/// | `span` | `{"name": …, "fields": {…}}`: the current span and its non-promoted fields |
/// | `duration_ms` | on span-close events, a float |
/// | `schema_version` | the version of the schema the record was checked against |
/// | `schema_errors` | only when the record broke the schema and the policy annotates: short messages |
///
/// Every key can be renamed with an [`Envelope`](crate::Envelope).
#[derive(Debug)]
pub struct Record<'a> {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) timestamp: SystemTime,
    pub(crate) level: Level,
    pub(crate) target: &'a str,
    /// `target` is the callsite's and needs no JSON escaping (checked once
    /// per callsite), so the encoder copies it as it is.
    pub(crate) target_clean: bool,
    pub(crate) file: Option<&'a str>,
    pub(crate) line: Option<u32>,
    pub(crate) event_name: Option<&'a str>,
    pub(crate) event_type: &'a str,
    pub(crate) message: Option<&'a str>,
    pub(crate) trace: Option<TraceContext>,
    pub(crate) promoted: &'a [Promoted],
    pub(crate) promoted_text: &'a FieldBuf,
    pub(crate) fields: &'a FieldBuf,
    pub(crate) span_name: Option<&'a str>,
    pub(crate) span_fields: &'a FieldBuf,
    pub(crate) duration: Option<Duration>,
    pub(crate) schema_version: Option<u32>,
    pub(crate) schema_errors: &'a [Violation],
    /// Not what the record is, but how it is written: the layer's layout
    /// and the bytes its span already encoded.
    pub(crate) encoding: Encoding<'a>,
}

impl<'a> Record<'a> {
    /// The `tracing` metadata of the event (or of the span, for span-close
    /// records): target, level, file, line.
    pub fn metadata(&self) -> &'static Metadata<'static> {
        self.metadata
    }

    /// When the event happened (wall clock).
    pub fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    /// The event's level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The `tracing` target (usually the module path); for a record of the
    /// `log` crate (through `tracing-log`), the `log` record's own target,
    /// where [`metadata`](Self::metadata) says `log`.
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The source file of the event (for a `log` record, the `log`
    /// record's), if known.
    pub fn file(&self) -> Option<&'a str> {
        self.file
    }

    /// The source line of the event (for a `log` record, the `log`
    /// record's), if known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// The `object_action` event name, if the event has one.
    pub fn event_name(&self) -> Option<&'a str> {
        self.event_name
    }

    /// The event category (`user_action`, `system_event`, `business`,
    /// `error`, `security`, `log`, or whatever the `event_type` field said).
    pub fn event_type(&self) -> &'a str {
        self.event_type
    }

    /// The human-readable message, if any.
    pub fn message(&self) -> Option<&'a str> {
        self.message
    }

    /// The trace and span ids, absent for events outside any span.
    pub fn trace(&self) -> Option<TraceContext> {
        self.trace
    }

    /// Promoted correlation fields as `(output key, value)`, in the
    /// configured order.
    pub fn correlation(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let layout = self.encoding.layout();
        let text = self.promoted_text;
        self.promoted
            .iter()
            .map(move |p| (layout.promoted_key(p.key), text.text(p.text)))
    }

    /// The value of one promoted field, by output key (`"request_id"`).
    pub fn correlation_value(&self, key: &str) -> Option<&'a str> {
        self.correlation().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The event's own fields (the `metadata` object), in recording order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field<'a>> + 'a {
        self.fields.iter()
    }

    /// One of the event's own fields by name.
    pub fn field(&self, name: &str) -> Option<Value<'a>> {
        self.fields.get(name)
    }

    /// The name of the span the event happened in, if any.
    pub fn span_name(&self) -> Option<&'a str> {
        self.span_name
    }

    /// That span's own, non-promoted fields.
    pub fn span_fields(&self) -> impl ExactSizeIterator<Item = Field<'a>> + 'a {
        self.span_fields.iter()
    }

    /// How long the span lived, on span-close records.
    pub fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// The version of the schema the record was checked against, if any.
    pub fn schema_version(&self) -> Option<u32> {
        self.schema_version
    }

    /// How the record broke the schema (empty when it did not, or when no
    /// schema is set).
    pub fn schema_errors(&self) -> &'a [Violation] {
        self.schema_errors
    }

    /// The deployment context (service, environment, …) set on the layer.
    pub fn deployment(&self) -> &'a crate::deployment::Deployment {
        self.encoding.layout().deployment()
    }

    /// Appends this record as one JSON line (with the trailing `\n`) using
    /// the layer's envelope.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut buf = JsonBuf::append_to(std::mem::take(out));
        self.encode_json(&mut buf);
        *out = buf.into_vec();
    }

    /// [`write_json`](Self::write_json) into a reused line buffer.
    #[inline]
    pub(crate) fn encode_json(&self, out: &mut JsonBuf) {
        self.encoding.layout().encode(self, out);
    }
}

/// What the line encoder reads: the record's own fields, as they are.
impl Encodable for Record<'_> {
    #[inline]
    fn timestamp(&self) -> SystemTime {
        self.timestamp
    }
    #[inline]
    fn level(&self) -> Level {
        self.level
    }
    #[inline]
    fn event_name(&self) -> Option<&str> {
        self.event_name
    }
    #[inline]
    fn event_type(&self) -> &str {
        self.event_type
    }
    #[inline]
    fn message(&self) -> Option<&str> {
        self.message
    }
    #[inline]
    fn target(&self) -> (&str, bool) {
        (self.target, self.target_clean)
    }
    #[inline]
    fn code_location(&self) -> (Option<&str>, Option<u32>) {
        (self.file, self.line)
    }
    #[inline]
    fn trace(&self) -> Option<TraceContext> {
        self.trace
    }
    #[inline]
    fn promoted(&self) -> (&[Promoted], &FieldBuf) {
        (self.promoted, self.promoted_text)
    }
    #[inline]
    fn field_buf(&self) -> &FieldBuf {
        self.fields
    }
    #[inline]
    fn span_name(&self) -> Option<&str> {
        self.span_name
    }
    #[inline]
    fn duration(&self) -> Option<Duration> {
        self.duration
    }
    #[inline]
    fn schema_version(&self) -> Option<u32> {
        self.schema_version
    }
    #[inline]
    fn schema_errors(&self) -> &[Violation] {
        self.schema_errors
    }
    #[inline]
    fn encoding(&self) -> &Encoding<'_> {
        &self.encoding
    }
}
