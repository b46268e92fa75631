//! A per-layer filter that chooses which *events* a layer writes without
//! hiding the *spans* their context comes from.
//!
//! ```text
//! span callsite  ─> always enabled for the layer (ids, request_id … are kept);
//!                   the inner filter's verdict only decides its close record
//! event callsite ─> the inner filter decides, as with `with_filter`
//! ```
//!
//! A plain `with_filter(LevelFilter::WARN)` filters spans too: the layer
//! never sees an INFO `request` span, so a WARN event inside it has no
//! `trace_id`, `span_id` or `request_id`.
//! [`EventLayer::with_event_filter`](crate::EventLayer::with_event_filter)
//! wraps the filter in an [`EventFilter`], which keeps every span.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Metadata};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};

/// Ties an [`EventFilter`] to the layer it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FilterKey(u64);

thread_local! {
    /// The verdict of the filter on the span being created, read by its
    /// layer right after (`Filtered` calls the filter's `on_new_span`, then
    /// the layer's, on the same thread).
    static SPAN_VERDICT: Cell<Option<(FilterKey, u64, bool)>> = const { Cell::new(None) };
}

/// Whether the filter `key` left the span `id` out; consumes the verdict.
pub(crate) fn filtered_out(key: FilterKey, id: &Id) -> bool {
    match SPAN_VERDICT.take() {
        Some((k, span, out)) if k == key && span == id.into_u64() => out,
        _ => false,
    }
}

/// A per-layer filter over events only: every span stays visible to the
/// layer, so filtered records keep their ids and correlation fields.
///
/// Made by [`EventLayer::with_event_filter`](crate::EventLayer::with_event_filter);
/// see there for an example.
/// The inner filter decides:
///
/// - which events the layer writes (exactly as with `with_filter`);
/// - whether a span's close record (`<span>_completed`, with
///   [`EventLayer::close_events`](crate::EventLayer::close_events)) is written: only for spans the inner
///   filter enables.
///
/// Spans are never hidden, so this filter reports no maximum level: an
/// `EnvFilter` or `LevelFilter` inside it does not lower the global level
/// hint, and INFO spans are created even if every event below WARN is
/// filtered out. That is the cost of keeping the context: one span
/// creation per `#[instrument]`ed call.
#[derive(Debug)]
pub struct EventFilter<F> {
    inner: F,
    key: FilterKey,
}

impl<F> EventFilter<F> {
    /// Wraps `inner`; only [`EventLayer::with_event_filter`](crate::EventLayer::with_event_filter)
    /// makes one, so the layer knows its key.
    pub(crate) fn new(inner: F) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self {
            inner,
            key: FilterKey(NEXT.fetch_add(1, Ordering::Relaxed)),
        }
    }

    /// The filter that decides which events pass.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    /// Ties this filter's verdicts to the layer it wraps.
    pub(crate) fn key(&self) -> FilterKey {
        self.key
    }
}

impl<S, F: Filter<S>> Filter<S> for EventFilter<F> {
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        meta.is_span() || self.inner.enabled(meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        // The inner filter still sees span callsites: an `EnvFilter` with
        // span directives (`[request{id=7}]=debug`) registers them here.
        let inner = self.inner.callsite_enabled(meta);
        if meta.is_span() {
            Interest::always()
        } else {
            inner
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        self.inner.event_enabled(event, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Spans of every level are wanted, so no hint may lower the global
        // maximum below TRACE.
        None
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let out = !self.inner.enabled(attrs.metadata(), &ctx);
        self.inner.on_new_span(attrs, id, ctx);
        SPAN_VERDICT.set(Some((self.key, id.into_u64(), out)));
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }
}
