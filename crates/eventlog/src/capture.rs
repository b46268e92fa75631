//! Field capture: turning `tracing`'s visitor calls into stored, typed fields.
//!
//! One `Visit` implementation forwards every call as a `Raw` value to a
//! `Capture`; the event and span captures decide where each field goes
//! (envelope slot, promoted correlation value, metadata, span fields).

use std::cell::Cell;
use std::fmt;

use tracing_core::field::{Field as TracingField, Visit};

use crate::envelope::Envelope;
use crate::fields::{FieldBuf, Promoted, StoredValue, TRUNCATION_MARKER, TextRef};
use crate::redact::{KeyOutcome, Redactor};
use crate::reuse::{Slot, with_reused};
use crate::trace::TraceContext;

/// A value as `tracing` handed it over, before it is copied anywhere.
#[derive(Clone, Copy)]
pub(crate) enum Raw<'v> {
    Str(&'v str),
    Debug(&'v dyn fmt::Debug),
    Error(&'v (dyn std::error::Error + 'static)),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
}

/// Where visited fields go.
pub(crate) trait Capture {
    fn capture(&mut self, name: &'static str, value: Raw<'_>);
}

/// Adapts any [`Capture`] to `tracing`'s [`Visit`].
pub(crate) struct Visitor<'c, C>(pub(crate) &'c mut C);

impl<C: Capture> Visit for Visitor<'_, C> {
    fn record_str(&mut self, field: &TracingField, value: &str) {
        self.0.capture(field.name(), Raw::Str(value));
    }
    fn record_debug(&mut self, field: &TracingField, value: &dyn fmt::Debug) {
        self.0.capture(field.name(), Raw::Debug(value));
    }
    fn record_error(&mut self, field: &TracingField, value: &(dyn std::error::Error + 'static)) {
        self.0.capture(field.name(), Raw::Error(value));
    }
    fn record_i64(&mut self, field: &TracingField, value: i64) {
        self.0.capture(field.name(), Raw::I64(value));
    }
    fn record_u64(&mut self, field: &TracingField, value: u64) {
        self.0.capture(field.name(), Raw::U64(value));
    }
    fn record_i128(&mut self, field: &TracingField, value: i128) {
        self.0.capture(field.name(), Raw::I128(value));
    }
    fn record_u128(&mut self, field: &TracingField, value: u128) {
        self.0.capture(field.name(), Raw::U128(value));
    }
    fn record_f64(&mut self, field: &TracingField, value: f64) {
        self.0.capture(field.name(), Raw::F64(value));
    }
    fn record_bool(&mut self, field: &TracingField, value: bool) {
        self.0.capture(field.name(), Raw::Bool(value));
    }
}

/// Displays an error with its chain of sources: `outer: inner: root`.
struct ErrorChain<'e>(&'e (dyn std::error::Error + 'static));

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}

/// Displays a number the way JSON writes it, for promoted values that must be text.
struct Plain<T>(T);

impl<T: fmt::Display> fmt::Debug for Plain<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FieldBuf {
    /// Stores a value, copying text into the arena; numbers stay numbers.
    pub(crate) fn store(&mut self, raw: Raw<'_>, cap: usize) -> StoredValue {
        match raw {
            Raw::I64(v) => StoredValue::I64(v),
            Raw::U64(v) => StoredValue::U64(v),
            Raw::I128(v) => StoredValue::I128(v),
            Raw::U128(v) => StoredValue::U128(v),
            Raw::F64(v) => StoredValue::F64(v),
            Raw::Bool(v) => StoredValue::Bool(v),
            text => StoredValue::Str(self.store_text(text, cap)),
        }
    }

    /// Stores any value as text (for slots that are always strings).
    pub(crate) fn store_text(&mut self, raw: Raw<'_>, cap: usize) -> TextRef {
        match raw {
            Raw::Str(s) => self.push_text(s, cap),
            Raw::Debug(d) => self.push_debug(d, cap),
            Raw::Error(e) => self.push_debug(&ErrorChain(e), cap),
            Raw::I64(v) => self.push_debug(&Plain(v), cap),
            Raw::U64(v) => self.push_debug(&Plain(v), cap),
            Raw::I128(v) => self.push_debug(&Plain(v), cap),
            Raw::U128(v) => self.push_debug(&Plain(v), cap),
            Raw::F64(v) => self.push_debug(&Plain(v), cap),
            Raw::Bool(v) => self.push_debug(&Plain(v), cap),
        }
    }
}

/// Per-thread buffers for one event; reused so capture allocates nothing
/// once they have grown to the working size.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The event's metadata fields, and the text arena for every other
    /// string of the record (message, name, promoted values).
    pub(crate) fields: FieldBuf,
    pub(crate) event_name: Option<TextRef>,
    event_alias: Option<TextRef>,
    pub(crate) event_type: Option<TextRef>,
    pub(crate) message: Option<TextRef>,
    pub(crate) promoted: Vec<Promoted>,
    /// A `log` record's own target, file and line (`tracing-log`'s
    /// `log.target`, `log.file`, `log.line` fields).
    pub(crate) log_target: Option<TextRef>,
    pub(crate) log_file: Option<TextRef>,
    pub(crate) log_line: Option<u32>,
}

thread_local! {
    static SCRATCH: Slot<Scratch> = const { Cell::new(None) };
}

/// Scratch above this many bytes of text is released after use, so one
/// huge event does not pin its memory for the thread's lifetime.
const KEEP_SCRATCH_BYTES: usize = 64 * 1024;

impl Scratch {
    /// Runs `f` with this thread's scratch buffers.
    ///
    /// An event emitted while formatting a field (re-entry) finds no
    /// scratch and gets a fresh one (see [`crate::reuse`]).
    pub(crate) fn with<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
        with_reused(
            &SCRATCH,
            |scratch| scratch.fields.text_capacity() <= KEEP_SCRATCH_BYTES,
            |scratch| {
                scratch.clear();
                f(scratch)
            },
        )
    }

    fn clear(&mut self) {
        self.fields.clear();
        self.event_name = None;
        self.event_alias = None;
        self.event_type = None;
        self.message = None;
        self.promoted.clear();
        self.log_target = None;
        self.log_file = None;
        self.log_line = None;
    }

    /// Adds a promoted value from a span unless a nearer one is already set.
    pub(crate) fn promote_from(&mut self, key: usize, value: &str, cap: usize) {
        if self.promoted.iter().all(|p| p.key != key) {
            let text = self.fields.push_text(value, cap);
            self.promoted.push(Promoted { key, text });
        }
    }

    /// Resolves `event` vs `event_name` once all fields are seen: the
    /// explicit `event_name` wins and `event` stays in metadata.
    pub(crate) fn finish_capture(&mut self) {
        match (self.event_name, self.event_alias.take()) {
            (None, alias) => self.event_name = alias,
            (Some(_), Some(alias)) => self.keep_alias(alias),
            (Some(_), None) => {}
        }
        self.promoted.sort_unstable_by_key(|p| p.key);
    }

    /// `event` beside `event_name`: rare, and out of line, so that
    /// `finish_capture` saves no registers for it (callgrind, `per_event`:
    /// inlined, it cost 6 instructions on every event).
    #[cold]
    #[inline(never)]
    fn keep_alias(&mut self, alias: TextRef) {
        self.fields.push("event", StoredValue::Str(alias));
    }
}

/// Redaction while capturing: the shared settings of both captures.
pub(crate) struct Capturing<'s> {
    pub(crate) envelope: &'s Envelope,
    pub(crate) redactor: &'s Redactor,
    pub(crate) cap: usize,
    /// Values the redactor changed or dropped.
    pub(crate) redactions: u64,
}

/// Replacements at most this long are never cut by the value cap (so a
/// tiny cap still shows `[REDACTED]` or a whole pseudonym).
const SHORT_REPLACEMENT: usize = 64;

impl Capturing<'_> {
    /// Stores field `name` into `buf` after redaction; `None` if a rule
    /// drops it. `as_text` stores numbers as text too (promoted values).
    fn store(
        &mut self,
        buf: &mut FieldBuf,
        name: &'static str,
        value: Raw<'_>,
        as_text: bool,
    ) -> Option<StoredValue> {
        let facts = self.redactor.key_facts_static(name);
        if let Some(rule) = facts.rule() {
            self.redactions += 1;
            // The rule sees the whole value; only its result is cut.
            let outcome = if let Raw::Str(s) = value {
                self.redactor.apply_key(rule, s)
            } else {
                let r = buf.store_text(value, usize::MAX);
                let outcome = self.redactor.apply_key(rule, buf.text(r));
                buf.truncate_text(r);
                outcome
            };
            return match outcome {
                KeyOutcome::Replace(text) => Some(StoredValue::Str(
                    buf.push_text(&text, self.cap.max(SHORT_REPLACEMENT)),
                )),
                KeyOutcome::Drop => None,
                KeyOutcome::Keep => Some(StoredValue::Str(buf.store_text(value, self.cap))),
            };
        }
        let is_text = matches!(value, Raw::Str(_) | Raw::Debug(_) | Raw::Error(_));
        if !is_text {
            if facts.card()
                && let Some(masked) = self.card_number(value)
            {
                self.redactions += 1;
                return Some(StoredValue::Str(buf.push_text(&masked, usize::MAX)));
            }
            return Some(if as_text {
                StoredValue::Str(buf.store_text(value, self.cap))
            } else {
                buf.store(value, self.cap)
            });
        }
        Some(StoredValue::Str(self.store_scanned(buf, value)))
    }

    /// An integer's redacted form if it is a card number.
    fn card_number(&self, value: Raw<'_>) -> Option<String> {
        let mut digits = itoa::Buffer::new();
        let digits = match value {
            Raw::I64(v) if v > 0 => digits.format(v),
            Raw::U64(v) => digits.format(v),
            Raw::I128(v) if v > 0 => digits.format(v),
            Raw::U128(v) => digits.format(v),
            _ => return None,
        };
        self.redactor.redact_card_number(digits)
    }

    /// Stores text and runs the value detectors over it: over the whole
    /// text first, then the cap cuts it, so a secret straddling the cut is
    /// still found whole.
    #[inline]
    fn store_scanned(&mut self, buf: &mut FieldBuf, value: Raw<'_>) -> TextRef {
        if let Raw::Str(s) = value {
            if s.len() <= self.cap {
                // The common case: a string under the cap.
                return match self.redactor.scan(s) {
                    None => buf.push_text(s, usize::MAX),
                    Some(clean) => {
                        self.redactions += 1;
                        buf.push_text(&clean, usize::MAX)
                    }
                };
            }
            return self.push_scanned(buf, s);
        }
        self.store_scanned_formatted(buf, value)
    }

    /// [`store_scanned`](Self::store_scanned) for `Debug` and error values.
    fn store_scanned_formatted(&mut self, buf: &mut FieldBuf, value: Raw<'_>) -> TextRef {
        let r = buf.store_text(value, usize::MAX);
        let text = buf.text(r);
        if text.len() > self.cap {
            // Rare: formatted past the cap. Scan a copy, then store it cut.
            let whole = text.to_owned();
            buf.truncate_text(r);
            return self.push_scanned(buf, &whole);
        }
        match self.redactor.scan(text) {
            Some(clean) => {
                self.redactions += 1;
                buf.truncate_text(r);
                buf.push_text(&clean, usize::MAX)
            }
            None => r,
        }
    }

    /// Scans `text` whole, stores it cut to the cap, and scans the cut
    /// piece again: a cut can make a shape that was not there whole (the
    /// first 16 digits of a 19-digit run may pass Luhn).
    fn push_scanned(&mut self, buf: &mut FieldBuf, text: &str) -> TextRef {
        let scanned = self.redactor.scan(text);
        let changed = scanned.is_some();
        let clean = scanned.as_deref().unwrap_or(text);
        if clean.len() <= self.cap {
            self.redactions += u64::from(changed);
            return buf.push_text(clean, usize::MAX);
        }
        let mut end = self.cap;
        while !clean.is_char_boundary(end) {
            end -= 1;
        }
        let kept = clean.get(..end).unwrap_or_default();
        let rescanned = self.redactor.scan(kept);
        self.redactions += u64::from(changed || rescanned.is_some());
        buf.push_concat(&[rescanned.as_deref().unwrap_or(kept), TRUNCATION_MARKER])
    }
}

/// Captures an event's fields into the scratch.
pub(crate) struct EventCapture<'s> {
    pub(crate) scratch: &'s mut Scratch,
    pub(crate) with: Capturing<'s>,
    /// The callsite's field names are distinct: no duplicate check needed.
    pub(crate) unique_names: bool,
    /// The callsite is `tracing-log`'s: its `log.*` fields are the `log`
    /// record's target, module, file and line.
    pub(crate) from_log: bool,
}

impl Capture for EventCapture<'_> {
    fn capture(&mut self, name: &'static str, value: Raw<'_>) {
        let s = &mut *self.scratch;
        let w = &mut self.with;
        if !w.envelope.may_be_special(name) {
            if let Some(v) = w.store(&mut s.fields, name, value, false) {
                if self.unique_names {
                    s.fields.push_distinct(name, v);
                } else {
                    s.fields.push(name, v);
                }
            }
            return;
        }
        match name {
            "message" if s.message.is_none() => {
                s.message = Some(w.store_scanned(&mut s.fields, value));
            }
            // Names and types are data too (`event_name = %input`): scanned
            // like any value, so neither the record nor `schema_errors`
            // (which quote the name) can carry a secret.
            "event_name" if s.event_name.is_none() => {
                s.event_name = Some(w.store_scanned(&mut s.fields, value));
            }
            "event" if s.event_alias.is_none() => {
                s.event_alias = Some(w.store_scanned(&mut s.fields, value));
            }
            "event_type" if s.event_type.is_none() => {
                s.event_type = Some(w.store_scanned(&mut s.fields, value));
            }
            // Fields `tracing-log` adds for `log` records: the record's own
            // target and location, not its data. On other callsites a
            // `log.*` field is data like any other.
            n if self.from_log && n.starts_with("log.") => match (n, value) {
                ("log.target", Raw::Str(v)) => s.log_target = Some(s.fields.push_text(v, w.cap)),
                ("log.file", Raw::Str(v)) => s.log_file = Some(s.fields.push_text(v, w.cap)),
                ("log.line", Raw::U64(v)) => s.log_line = u32::try_from(v).ok(),
                _ => {}
            },
            n => match w.envelope.promoted_index(n) {
                Some(key) if s.promoted.iter().all(|p| p.key != key) => {
                    if let Some(StoredValue::Str(text)) = w.store(&mut s.fields, n, value, true) {
                        s.promoted.push(Promoted { key, text });
                    }
                }
                _ => {
                    if let Some(v) = w.store(&mut s.fields, n, value, false) {
                        s.fields.push(n, v);
                    }
                }
            },
        }
    }
}

/// A promoted value recorded on a span.
#[derive(Debug, Clone)]
pub(crate) struct SpanPromoted {
    /// Index in the envelope's promoted list.
    pub(crate) key: usize,
    pub(crate) field: &'static str,
    pub(crate) value: String,
}

/// Captures a span's fields (at creation and on `Span::record`), redacted
/// once there so events beneath it copy clean values.
pub(crate) struct SpanCapture<'s> {
    pub(crate) promoted: &'s mut Vec<SpanPromoted>,
    pub(crate) fields: &'s mut FieldBuf,
    pub(crate) with: Capturing<'s>,
    /// `Some(Ok)` for a valid `traceparent` field, `Some(Err(()))` for one
    /// that did not parse.
    pub(crate) traceparent: Option<Result<TraceContext, ()>>,
    /// A promoted value was set or dropped.
    pub(crate) promoted_changed: bool,
}

impl Capture for SpanCapture<'_> {
    fn capture(&mut self, name: &'static str, value: Raw<'_>) {
        if name == "traceparent" {
            let mut text = FieldBuf::default();
            let r = text.store_text(value, 256);
            self.traceparent = Some(text.text(r).parse().map_err(|_| ()));
        } else if let Some(key) = self.with.envelope.promoted_index(name) {
            self.promoted_changed = true;
            let mut text = FieldBuf::default();
            let Some(StoredValue::Str(r)) = self.with.store(&mut text, name, value, true) else {
                // Dropped by a redaction rule: forget any earlier value too.
                self.promoted.retain(|p| p.key != key);
                return;
            };
            let value = text.text(r).to_owned();
            match self.promoted.iter_mut().find(|p| p.key == key) {
                Some(p) => p.value = value,
                None => self.promoted.push(SpanPromoted {
                    key,
                    field: name,
                    value,
                }),
            }
        } else if let Some(v) = self.with.store(self.fields, name, value, false) {
            self.fields.set(name, v);
        }
    }
}
