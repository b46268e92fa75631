//! The `impl Layer` callbacks: each fetches its span and delegates.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::emit::RecordParts;
use super::event_layer::EventLayer;
use super::scope::{Scoping, SpanContext, SpanState, Timing, retire_scopes};
use crate::capture::{Capturing, EventCapture, Scratch, SpanCapture, Visitor};
use crate::encode::span::{SpanFields, span_fields};
use crate::event_type::EventType;
use crate::fields::{FieldBuf, StoredValue};
use crate::trace::TraceContext;

impl EventLayer {
    fn capturing(&self) -> Capturing<'_> {
        Capturing {
            envelope: self.layout.envelope(),
            redactor: &self.redactor,
            cap: self.max_value_bytes,
            redactions: 0,
        }
    }

    fn capture_span(&self, state: &mut SpanState, values: &SpanValues<'_>) {
        let span_id = state.trace.span_id();
        let Some(cx) = state.layer_mut(self.key) else {
            return;
        };
        // Dropped first, so the fields it shares are taken back uncopied.
        cx.scope = None;
        let mut own = cx
            .fields
            .take()
            .map(|f| {
                Arc::try_unwrap(f)
                    .map_or_else(|shared| shared.fields().clone(), SpanFields::into_fields)
            })
            .unwrap_or_default();
        let mut capture = SpanCapture {
            promoted: &mut cx.promoted,
            fields: &mut own,
            with: self.capturing(),
            traceparent: None,
            promoted_changed: false,
        };
        values.record(&mut Visitor(&mut capture));
        self.stats.record_redactions(capture.with.redactions);
        if capture.promoted_changed && cx.lent.load(Ordering::Relaxed) {
            retire_scopes();
        }
        let traceparent = capture.traceparent;
        own.compact();
        cx.fields = span_fields(own);
        match traceparent {
            // A root that learns its caller's trace after creation joins it;
            // spans created before keep the ids they were given.
            Some(Ok(tp)) => {
                state.set_trace(TraceContext::new(tp.trace_id(), span_id, tp.flags()));
            }
            Some(Err(())) => self.stats.record_invalid_traceparent(),
            None => {}
        }
    }
}

impl<S> Layer<S> for EventLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            self.stats.record_internal_error();
            return;
        };
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<SpanState>().map(|state| state.trace));
        let mut promoted = Vec::new();
        let mut fields = FieldBuf::default();
        let mut capture = SpanCapture {
            promoted: &mut promoted,
            fields: &mut fields,
            with: self.capturing(),
            traceparent: None,
            promoted_changed: false,
        };
        attrs.record(&mut Visitor(&mut capture));
        self.stats.record_redactions(capture.with.redactions);
        let inherited = || parent.map_or_else(TraceContext::root, |p| p.child());
        let trace = match capture.traceparent {
            Some(Ok(caller)) => caller.child(),
            Some(Err(())) => {
                self.stats.record_invalid_traceparent();
                inherited()
            }
            None => inherited(),
        };
        let cx = SpanContext {
            promoted,
            fields: span_fields(fields),
            timing: self.close_suffix.is_some().then(Timing::new),
            filtered_out: self
                .event_filter
                .is_some_and(|filter| crate::filter::filtered_out(filter, id)),
            scope: None,
            lent: AtomicBool::new(false),
        };
        let mut ext = span.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>() {
            // Another eventlog layer saw the span first and chose its ids.
            state.otel_pending |= self.otel;
            state.join(self.key, cx);
        } else {
            ext.insert(SpanState::new(trace, self.otel, self.key, cx));
        }
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            self.stats.record_internal_error();
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>() {
            // A value's `Debug` (or a bug of ours) must not unwind through
            // the span's lock: poisoned, it makes every later callback on the
            // span panic, and the one in the span's drop aborts the process.
            // The record is lost and counted; the span keeps its context.
            let captured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.capture_span(state, values);
            }));
            if captured.is_err() {
                self.stats.record_internal_error();
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.close_suffix.is_none() {
            return;
        }
        if let Some(span) = ctx.span(id)
            && let Some(timing) = span
                .extensions_mut()
                .get_mut::<SpanState>()
                .and_then(|state| state.layer_mut(self.key))
                .and_then(|cx| cx.timing.as_mut())
        {
            timing.enter();
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.close_suffix.is_none() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            // Resolve OpenTelemetry ids while its data is still there: its
            // layer may drop them in `on_close` before ours runs.
            if self.otel {
                let _ = self.trace_of(&span);
            }
            if let Some(timing) = span
                .extensions_mut()
                .get_mut::<SpanState>()
                .and_then(|state| state.layer_mut(self.key))
                .and_then(|cx| cx.timing.as_mut())
            {
                timing.exit();
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let timestamp = SystemTime::now();
        let metadata = event.metadata();
        let span = ctx.event_span(event);
        let scope = span.as_ref().and_then(|span| self.scope_of(span));
        let facts = crate::callsite::facts(metadata);
        Scratch::with(|scratch| {
            let mut capture = EventCapture {
                scratch: &mut *scratch,
                with: self.capturing(),
                unique_names: facts.unique_names,
                from_log: facts.from_log,
            };
            // Capturing runs the values' `Debug` and `Display` (user code)
            // and the redactor: a panic there loses this record, counted in
            // `internal_errors`, and never reaches the caller.
            let captured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                event.record(&mut Visitor(&mut capture));
            }));
            if captured.is_err() {
                self.stats.record_internal_error();
                return;
            }
            self.stats.record_redactions(capture.with.redactions);
            scratch.finish_capture();
            let parts = RecordParts {
                metadata,
                timestamp,
                default_name: facts.explicit_name,
                clean_target: facts.clean_target,
                span_name: span.as_ref().map(SpanRef::name),
                duration: None,
            };
            let explicit_type = scratch.event_type.is_some();
            self.emit_event(scratch, &parts, scope.as_deref(), explicit_type, false);
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(suffix) = &self.close_suffix else {
            return;
        };
        let Some(span) = ctx.span(&id) else {
            self.stats.record_internal_error();
            return;
        };
        let timestamp = SystemTime::now();
        let Some(timing) = span
            .extensions()
            .get::<SpanState>()
            .and_then(|state| state.layer(self.key))
            .filter(|cx| !cx.filtered_out)
            .map(|cx| cx.timing)
        else {
            return;
        };
        let scope = self.scope_of(&span);
        Scratch::with(|scratch| {
            let duration = timing.map(|t| {
                let total = t.created.elapsed();
                let busy = t.busy.min(total);
                // Whole microseconds, so values print as `0.057`, not `0.057006999…`.
                #[allow(clippy::cast_precision_loss)]
                let ms = |d: std::time::Duration| d.as_micros() as f64 / 1000.0;
                scratch.fields.push("busy_ms", StoredValue::F64(ms(busy)));
                scratch
                    .fields
                    .push("idle_ms", StoredValue::F64(ms(total.saturating_sub(busy))));
                total
            });
            scratch.event_name = Some(scratch.fields.push_concat(&[span.name(), suffix]));
            let system = scratch
                .fields
                .push_text(EventType::SYSTEM_EVENT.as_str(), usize::MAX);
            scratch.event_type = Some(system);
            let parts = RecordParts {
                metadata: span.metadata(),
                timestamp,
                default_name: None,
                clean_target: false,
                span_name: Some(span.name()),
                duration,
            };
            self.emit_event(scratch, &parts, scope.as_deref(), true, true);
        });
    }
}
