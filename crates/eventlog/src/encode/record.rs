//! The record encoder: one [`Record`](crate::Record) as one JSON line, and
//! the opaque [`Encoding`] a record carries for it.
//!
//! ```text
//! Record ─ Encodable ─> Layout::encode ─┬─ open, timestamp, level, name, type, message, target, file, line
//!                                       ├─ head: the span's SpanJson, or fixed + ids + promoted
//!                                       ├─ metadata: fields::write_object
//!                                       ├─ span block: the span's SpanJson, or name only
//!                                       └─ duration, schema version and errors, `}\n`
//! ```
//!
//! The record holds an [`Encoding`], so this module cannot name the record
//! type without an import cycle: it reads the record through
//! [`Encodable`], which `record` implements. The encoder is generic over
//! it and every accessor is inlined, so the trait costs nothing per line.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::time::{Duration, SystemTime};

use tracing_core::Level;

use super::JsonBuf;
use super::fields::write_object;
use super::layout::{Layout, level_index};
use super::span::SpanJson;
use crate::envelope::Key;
use crate::fields::{FieldBuf, Promoted};
use crate::trace::TraceContext;
use crate::violation::Violation;
use crate::words::same_bytes;

/// What a record carries for its encoder, opaque to everything but this
/// module: the layer's [`Layout`] and the JSON its span already encoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Encoding<'a> {
    layout: &'a Layout,
    /// The record's span's bytes, encoded once per span.
    span: Option<&'a SpanJson>,
    /// The event recorded promoted values of its own (merged with the
    /// span's), so the span's pre-encoded head does not fit it.
    own_promoted: bool,
}

impl<'a> Encoding<'a> {
    /// How a record under `span` (if any) is written with `layout`.
    #[inline]
    pub(crate) fn new(layout: &'a Layout, span: Option<&'a SpanJson>, own_promoted: bool) -> Self {
        Self {
            layout,
            span,
            own_promoted,
        }
    }

    /// The layer's layout (promoted keys and deployment are read from it).
    #[inline]
    pub(crate) fn layout(&self) -> &'a Layout {
        self.layout
    }
}

/// What the line encoder reads of a record; implemented by
/// [`Record`](crate::Record), whose fields these return as they are.
pub(crate) trait Encodable {
    fn timestamp(&self) -> SystemTime;
    fn level(&self) -> Level;
    fn event_name(&self) -> Option<&str>;
    fn event_type(&self) -> &str;
    fn message(&self) -> Option<&str>;
    /// The target, and whether it needs no escaping.
    fn target(&self) -> (&str, bool);
    /// Source file and line.
    fn code_location(&self) -> (Option<&str>, Option<u32>);
    fn trace(&self) -> Option<TraceContext>;
    /// The promoted values and the arena holding their text.
    fn promoted(&self) -> (&[Promoted], &FieldBuf);
    /// The event's own fields (`metadata`).
    fn field_buf(&self) -> &FieldBuf;
    fn span_name(&self) -> Option<&str>;
    fn duration(&self) -> Option<Duration>;
    fn schema_version(&self) -> Option<u32>;
    fn schema_errors(&self) -> &[Violation];
    fn encoding(&self) -> &Encoding<'_>;
}

impl Layout {
    /// Appends `r` as one JSON line, `\n` included.
    // `level_index` is below 5, and there are five level strings.
    #[allow(clippy::indexing_slicing)]
    pub(crate) fn encode<R: Encodable + ?Sized>(&self, r: &R, out: &mut JsonBuf) {
        let e = &self.envelope;
        let encoding = r.encoding();
        out.raw(&self.open_json);
        out.timestamp(r.timestamp());
        out.raw(&self.level_json[level_index(r.level())]);
        if let Some(name) = r.event_name() {
            out.raw(e.comma_key(Key::EventName));
            out.str(name);
        }
        let event_type = r.event_type();
        // Compared without `memcmp`: its cost on the 3-byte `log` moved
        // with the binary's layout (+9 instructions per event, callgrind
        // `per_event`, when unrelated constants were added).
        let wanted = event_type.as_bytes();
        let same = |t: &str| match t.as_bytes() {
            short @ [_, _, _] => short == wanted,
            name => same_bytes(name, wanted),
        };
        if let Some((_, json)) = self.type_json.iter().find(|(t, _)| same(t)) {
            out.raw(json);
        } else {
            out.raw(e.comma_key(Key::EventType));
            out.str(event_type);
        }
        if let Some(message) = r.message() {
            out.raw(e.comma_key(Key::Message));
            out.str(message);
        }
        if e.target {
            out.raw(e.comma_key(Key::Target));
            match r.target() {
                // Checked once per callsite: most targets are module paths.
                (target, true) => out.clean_str(target),
                (target, false) => out.str(target),
            }
        }
        if e.code_location {
            let (file, line) = r.code_location();
            if let Some(file) = file {
                out.raw(e.comma_key(Key::File));
                out.str(file);
            }
            if let Some(line) = line {
                out.raw(e.comma_key(Key::Line));
                out.int(line);
            }
        }
        match encoding.span {
            Some(span) if !encoding.own_promoted => out.raw(span.head()),
            _ => {
                // No span, or the event recorded promoted values of its own.
                out.raw(&self.fixed_json);
                self.write_ids(r.trace(), out);
                let (promoted, text) = r.promoted();
                self.write_promoted(promoted, text, out);
            }
        }
        let fields = r.field_buf();
        if !fields.is_empty() {
            out.raw(e.comma_key(Key::Metadata));
            write_object(fields, out);
        }
        match encoding.span {
            Some(span) => out.raw(span.block()),
            // A span without eventlog's state (no scope): its name only.
            None => self.write_span_block(r.span_name(), &[], out),
        }
        if let Some(d) = r.duration() {
            out.raw(e.comma_key(Key::DurationMs));
            #[allow(clippy::cast_precision_loss)] // Exact below 2^53 µs (285 years).
            out.f64(d.as_micros() as f64 / 1000.0);
        }
        if let Some(version) = r.schema_version() {
            out.raw(e.comma_key(Key::SchemaVersion));
            out.int(version);
        }
        let errors = r.schema_errors();
        if !errors.is_empty() {
            out.raw(e.comma_key(Key::SchemaErrors));
            out.byte(b'[');
            for (i, v) in errors.iter().enumerate() {
                if i > 0 {
                    out.byte(b',');
                }
                out.str(&v.to_string());
            }
            out.byte(b']');
        }
        out.raw(b"}\n");
    }
}
