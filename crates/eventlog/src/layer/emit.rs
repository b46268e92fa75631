//! Emitting a record: schema check, then the policy, then every output,
//! counting each step in [`Stats`](crate::Stats).

use std::time::SystemTime;

use tracing_core::{Level, Metadata};

use super::event_layer::EventLayer;
use super::policy::Policy;
use super::scope::SpanScope;
use crate::capture::Scratch;
use crate::encode::record::Encoding;
use crate::encode::span::SpanFields;
use crate::event_type::EventType;
use crate::fields::{NO_FIELDS, StoredValue};
use crate::limit::{Limiter, Verdict};
use crate::record::Record;
use crate::stats::DropReason;

/// The `metadata` field a sampled record carries: the probability it was
/// kept with, so counts can be re-weighted (each kept record stands for
/// `1 / sample_rate` events).
pub(crate) const SAMPLE_RATE: &str = "sample_rate";

impl EventLayer {
    /// Builds the record from the captured event, lets the limits (if
    /// any) decide, then checks and emits it.
    ///
    /// Inlined, so a layer without limits pays one branch: the record is
    /// built straight into `emit_checked`'s argument, as before limits
    /// existed (callgrind, `per_event`: a call here cost 35 instructions).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn emit_event<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        parts: &RecordParts<'a>,
        scope: Option<&'a SpanScope>,
        explicit_type: bool,
        close: bool,
    ) {
        match &self.limiter {
            None => {
                let record = self.record(scratch, parts, scope);
                self.emit_checked(record, explicit_type, close);
            }
            Some(limiter) => {
                self.emit_limited(limiter, scratch, parts, scope, explicit_type, close);
            }
        }
    }

    /// [`emit_event`](Self::emit_event) under limits.
    ///
    /// The record is built once more for a sampled event, after
    /// `sample_rate` joins its fields: the record only borrows them.
    #[inline(never)]
    fn emit_limited<'a>(
        &'a self,
        limiter: &'a Limiter,
        scratch: &'a mut Scratch,
        parts: &RecordParts<'a>,
        scope: Option<&'a SpanScope>,
        explicit_type: bool,
        close: bool,
    ) {
        let mut record = self.record(&mut *scratch, parts, scope);
        let event_type = self.resolved_type(&record, explicit_type);
        let p = match limiter.decide(&record, event_type, &self.stats, &|r| self.emit(r)) {
            // Inlined: the record is checked where it is, not moved.
            Verdict::Keep => return self.check_and_emit(&mut record, explicit_type, close),
            Verdict::Suppressed => return,
            Verdict::Sampled(p) => p,
        };
        scratch
            .fields
            .push_reserved(SAMPLE_RATE, StoredValue::F64(p));
        let record = self.record(scratch, parts, scope);
        self.emit_checked(record, explicit_type, close);
    }

    /// The record's category as the schema check will see it: its own, or
    /// the one its schema declares.
    fn resolved_type<'r>(&'r self, record: &Record<'r>, explicit_type: bool) -> &'r str {
        match &self.schema {
            Some(schema) if !explicit_type => schema
                .declared_type(schema.lookup(record.event_name))
                .unwrap_or(record.event_type),
            _ => record.event_type,
        }
    }

    /// Writes every pending suppression summary through the outputs.
    pub(super) fn write_pending_summaries(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.write_pending(SystemTime::now(), &self.layout, &|r| self.emit(r));
        }
    }

    /// Applies the schema (if any) to `record`, then the policy, then emits.
    pub(super) fn emit_checked<'a>(
        &'a self,
        mut record: Record<'a>,
        explicit_type: bool,
        close: bool,
    ) {
        self.check_and_emit(&mut record, explicit_type, close);
    }

    /// [`emit_checked`](Self::emit_checked)'s body, inlined into both
    /// callers. By reference: after the limits read a record, moving it
    /// here cost a 52-instruction `memcpy` (callgrind, `per_event`).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn check_and_emit<'a>(&'a self, record: &mut Record<'a>, explicit_type: bool, close: bool) {
        let Some(schema) = &self.schema else {
            self.emit(record);
            return;
        };
        let index = schema.lookup(record.event_name);
        record.schema_version = Some(schema.version());
        if !explicit_type && let Some(declared) = schema.declared_type(index) {
            record.event_type = declared;
        }
        if close && index.is_none() {
            self.emit(record);
            return;
        }
        let mut violations = Vec::new();
        let warning_only = schema.check(index, &*record, &mut violations);
        if violations.is_empty() {
            self.emit(record);
            return;
        }
        self.stats.record_violations(violations.len());
        schema.count(record.event_name.unwrap_or("<unnamed>"), &violations);
        let record = Record {
            schema_errors: &violations,
            ..*record
        };
        if warning_only {
            self.emit(&record);
            return;
        }
        match &self.policy {
            Policy::Annotate => self.emit(&record),
            Policy::DeadLetter(output) => {
                self.stats.record_emitted();
                self.stats.record_dead_lettered();
                if let Err(reason) = output.emit(&record) {
                    self.stats.record_dropped(reason);
                }
            }
            Policy::Drop => {
                self.stats.record_emitted();
                self.stats.record_dropped(DropReason::Policy);
            }
            Policy::Panic => {
                let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
                #[allow(clippy::panic)] // The policy's whole point, for tests.
                {
                    panic!(
                        "schema violation in `{}`: {}",
                        record.event_name.unwrap_or("<unnamed>"),
                        messages.join("; ")
                    );
                }
            }
        }
    }

    fn emit(&self, record: &Record<'_>) {
        self.stats.record_emitted();
        for output in self.all_outputs() {
            match output.emit(record) {
                Ok(()) => self.stats.record_accepted(),
                Err(reason) => self.stats.record_dropped(reason),
            }
        }
    }

    /// Builds the record from the captured event and its span's scope.
    ///
    /// The scope's promoted values are used as they are (pre-encoded)
    /// unless the event recorded promoted values of its own: then both are
    /// merged in the scratch, the event's winning.
    pub(super) fn record<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        parts: &RecordParts<'a>,
        scope: Option<&'a SpanScope>,
    ) -> Record<'a> {
        let own_promoted = !scratch.promoted.is_empty();
        if own_promoted && let Some(scope) = scope {
            for p in &scope.promoted {
                scratch.promote_from(p.key, scope.text.text(p.text), usize::MAX);
            }
            scratch.promoted.sort_unstable_by_key(|p| p.key);
        }
        let scratch: &'a Scratch = scratch;
        let own_fields = scope.and_then(|scope| scope.fields.as_deref());
        let text = |r| scratch.fields.text(r);
        let (promoted, promoted_text) = match scope {
            Some(scope) if !own_promoted => (&scope.promoted[..], &scope.text),
            _ => (&scratch.promoted[..], &scratch.fields),
        };
        Record {
            metadata: parts.metadata,
            timestamp: parts.timestamp,
            level: *parts.metadata.level(),
            // A `log` record's own target and location win over the
            // `tracing-log` callsite's (target `log`, no file).
            target: scratch.log_target.map_or(parts.metadata.target(), text),
            target_clean: parts.clean_target && scratch.log_target.is_none(),
            file: scratch.log_file.map(text).or(parts.metadata.file()),
            line: scratch.log_line.or(parts.metadata.line()),
            event_name: scratch.event_name.map(text).or(parts.default_name),
            event_type: scratch
                .event_type
                .map_or_else(|| default_event_type(*parts.metadata.level()), text),
            message: scratch.message.map(text),
            trace: scope.and_then(|scope| scope.trace),
            promoted,
            promoted_text,
            fields: &scratch.fields,
            span_name: parts.span_name,
            span_fields: own_fields.map_or(&NO_FIELDS, SpanFields::fields),
            duration: parts.duration,
            schema_version: None,
            schema_errors: &[],
            encoding: Encoding::new(&self.layout, scope.map(|scope| &scope.json), own_promoted),
        }
    }
}

pub(super) struct RecordParts<'a> {
    pub(super) metadata: &'static Metadata<'static>,
    pub(super) timestamp: SystemTime,
    pub(super) default_name: Option<&'a str>,
    /// The callsite's target needs no JSON escaping.
    pub(super) clean_target: bool,
    pub(super) span_name: Option<&'a str>,
    pub(super) duration: Option<std::time::Duration>,
}

pub(super) fn default_event_type(level: Level) -> &'static str {
    if level == Level::ERROR {
        EventType::ERROR.as_str()
    } else {
        EventType::LOG.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_default_to_the_error_category_and_the_rest_to_log() {
        assert_eq!(default_event_type(Level::ERROR), "error");
        for level in [Level::WARN, Level::INFO, Level::DEBUG, Level::TRACE] {
            assert_eq!(default_event_type(level), "log", "{level}");
        }
    }
}
