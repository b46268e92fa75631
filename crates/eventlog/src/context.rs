//! Span context: what a span contributes to every record beneath it, and
//! how that context leaves the process (`traceparent`, `X-Request-ID`).
//!
//! ```text
//! on_new_span ─> SpanState { ids, and per layer a SpanContext { promoted values,
//!                own fields, timing } }  (span extension, shared by eventlog layers)
//! on_record   ─> updates it (and retires its Scope)
//! on_event    ─> the current span's Scope: ids, promoted values merged up
//!                the scope, span fields, all pre-encoded; built once, shared
//! current_context() ─> PropagationContext ─> headers for the next service
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use crate::capture::SpanPromoted;
use crate::record::{FieldBuf, Promoted};
use crate::trace::{SpanId, TraceContext, TraceId};

/// Identifies one [`EventLayer`](crate::EventLayer) among several in a
/// subscriber, so each finds its own [`SpanContext`] in a span's
/// [`SpanState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerKey(u64);

impl LayerKey {
    /// A key no other layer in the process has.
    pub(crate) fn unique() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The one extension eventlog stores in a span, shared by every eventlog
/// layer of the subscriber.
///
/// The span's ids are decided once, by the first layer that sees the span,
/// so a file, a second file and the OTLP output all give its records the
/// same `trace_id` / `span_id`. What depends on a layer's configuration
/// (promoted keys, redaction, value cap, pre-encoded JSON, timing) is kept
/// per layer.
#[derive(Debug)]
pub(crate) struct SpanState {
    pub(crate) trace: TraceContext,
    /// The ids should be taken from `tracing-opentelemetry` when they
    /// become available there (some layer asked for it).
    pub(crate) otel_pending: bool,
    /// The first layer's context: a subscriber usually has one layer, and
    /// finding it costs one comparison.
    first: (LayerKey, SpanContext),
    rest: Vec<(LayerKey, SpanContext)>,
}

impl SpanState {
    pub(crate) fn new(
        trace: TraceContext,
        otel_pending: bool,
        key: LayerKey,
        cx: SpanContext,
    ) -> Self {
        Self {
            trace,
            otel_pending,
            first: (key, cx),
            rest: Vec::new(),
        }
    }

    /// Adds the context of a second (third, …) layer.
    pub(crate) fn join(&mut self, key: LayerKey, cx: SpanContext) {
        self.rest.push((key, cx));
    }

    /// The context `key`'s layer keeps for this span.
    #[inline]
    pub(crate) fn layer(&self, key: LayerKey) -> Option<&SpanContext> {
        if self.first.0 == key {
            return Some(&self.first.1);
        }
        self.rest.iter().find(|(k, _)| *k == key).map(|(_, cx)| cx)
    }

    /// The context `key`'s layer keeps for this span, to change it.
    #[inline]
    pub(crate) fn layer_mut(&mut self, key: LayerKey) -> Option<&mut SpanContext> {
        if self.first.0 == key {
            return Some(&mut self.first.1);
        }
        self.rest
            .iter_mut()
            .find(|(k, _)| *k == key)
            .map(|(_, cx)| cx)
    }

    /// The first layer's context: the one [`current_context`] reads.
    pub(crate) fn primary(&self) -> &SpanContext {
        &self.first.1
    }

    /// Gives the span new ids; every layer's cached scope carried the old
    /// ones.
    pub(crate) fn set_trace(&mut self, trace: TraceContext) {
        self.trace = trace;
        self.first.1.scope = None;
        for (_, cx) in &mut self.rest {
            cx.scope = None;
        }
    }
}

/// What one layer keeps per span, inside the span's [`SpanState`].
#[derive(Debug)]
pub(crate) struct SpanContext {
    /// Promoted fields recorded on this span.
    pub(crate) promoted: Vec<SpanPromoted>,
    /// This span's other fields, for the `span` block; `None` when it has
    /// none. Shared with its [`Scope`] instead of copied into it.
    pub(crate) fields: Option<Arc<SpanFields>>,
    pub(crate) timing: Option<Timing>,
    /// The layer's event filter left this span out
    /// ([`EventLayer::with_event_filter`](crate::EventLayer::with_event_filter)):
    /// its context is kept, its close record is not written.
    pub(crate) filtered_out: bool,
    /// What records directly beneath this span carry, resolved at the
    /// first one and dropped whenever this span's data changes.
    pub(crate) scope: Option<Arc<Scope>>,
    /// A descendant's [`Scope`] copied promoted values from this span, so
    /// changing them later must retire every scope ([`retire_scopes`]).
    pub(crate) lent: AtomicBool,
}

/// Bumped whenever a span whose promoted values were inherited changes
/// them: a [`Scope`] from an older generation is rebuilt before use.
static SCOPE_GENERATION: AtomicU64 = AtomicU64::new(0);

/// The generation a new [`Scope`] is valid for.
pub(crate) fn scope_generation() -> u64 {
    // Relaxed is enough: a stale value only makes a scope be rebuilt once
    // more, and the values themselves are read under the spans' locks.
    SCOPE_GENERATION.load(Ordering::Relaxed)
}

/// Retires every [`Scope`] built so far (rare: a promoted value changed on
/// a span that descendants already inherited from).
pub(crate) fn retire_scopes() {
    SCOPE_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// What one span gives every record directly beneath it, resolved once
/// and shared by reference count instead of being gathered per event: its
/// ids, the promoted values from it and its ancestors (nearest wins), its
/// own fields, and the JSON for all of them as this layer writes it.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    pub(crate) generation: u64,
    pub(crate) trace: Option<TraceContext>,
    /// Sorted by envelope index; text in `text`.
    pub(crate) promoted: Vec<Promoted>,
    pub(crate) text: FieldBuf,
    /// The span's own fields, shared with its [`SpanContext`].
    pub(crate) fields: Option<Arc<SpanFields>>,
    /// The deployment context and static fields, then the ids, then
    /// `,"request_id":…` for every promoted value: what most records copy
    /// in one piece.
    pub(crate) head_json: Vec<u8>,
    /// `,"span":{…}`, or empty when the envelope has no span block.
    pub(crate) span_json: Vec<u8>,
}

impl Scope {
    /// Adds a promoted value unless a nearer span already gave one.
    pub(crate) fn promote(&mut self, key: usize, value: &str, cap: usize) {
        if self.promoted.iter().all(|p| p.key != key) {
            let text = self.text.push_text(value, cap);
            self.promoted.push(Promoted { key, text });
        }
    }
}

/// A span's own (non-promoted) fields, and the same as a JSON object,
/// refreshed whenever they change, so each record copies bytes instead of
/// re-encoding them.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanFields {
    pub(crate) fields: FieldBuf,
    pub(crate) json: Vec<u8>,
}

/// Busy / idle accounting for span-close records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) created: Instant,
    pub(crate) busy: Duration,
    entered: Option<Instant>,
    depth: u32,
}

impl Timing {
    pub(crate) fn new() -> Self {
        Self {
            created: Instant::now(),
            busy: Duration::ZERO,
            entered: None,
            depth: 0,
        }
    }

    pub(crate) fn enter(&mut self) {
        if self.depth == 0 {
            self.entered = Some(Instant::now());
        }
        self.depth = self.depth.saturating_add(1);
    }

    pub(crate) fn exit(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0
            && let Some(t) = self.entered.take()
        {
            self.busy += t.elapsed();
        }
    }
}

/// The current span's trace ids and correlation fields, ready to send to
/// the next service so its events join the same trace.
///
/// Get it with [`current_context`]. On the receiving side, record the
/// `traceparent` value as a span field and the ids continue:
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     // Service A handles a request and calls service B.
///     let headers = {
///         let _req = tracing::info_span!("checkout", correlation_id = "c-77").entered();
///         tracing::info!(event_name = "payment_requested");
///         eventlog::current_context().expect("inside a span").headers()
///     };
///     // Service B receives the headers.
///     let get = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
///     let _req = tracing::info_span!(
///         "charge",
///         traceparent = get("traceparent").unwrap(),
///         correlation_id = get("x-correlation-id").unwrap(),
///     )
///     .entered();
///     tracing::info!(event_name = "payment_captured");
/// });
/// let a = capture.expect_event("payment_requested");
/// let b = capture.expect_event("payment_captured");
/// assert_eq!(a.get("trace_id"), b.get("trace_id"));
/// assert_eq!(b.get("correlation_id").unwrap(), "c-77");
/// assert_ne!(a.get("span_id"), b.get("span_id"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropagationContext {
    trace: TraceContext,
    correlation: Vec<(String, String)>,
}

/// Header names [`PropagationContext::headers`] uses for correlation fields.
const HEADER_NAMES: [(&str, &str); 4] = [
    ("request_id", "x-request-id"),
    ("correlation_id", "x-correlation-id"),
    ("session_id", "x-session-id"),
    ("user_id", "x-user-id"),
];

impl PropagationContext {
    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace.trace_id()
    }

    /// The current span's id (the parent id for the next service).
    pub fn span_id(&self) -> SpanId {
        self.trace.span_id()
    }

    /// The ids as a [`TraceContext`].
    pub fn trace(&self) -> TraceContext {
        self.trace
    }

    /// The W3C `traceparent` header value.
    pub fn traceparent(&self) -> String {
        self.trace.to_traceparent()
    }

    /// A promoted correlation field (nearest span wins), by field name.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.correlation
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// The `request_id`, if a span in scope recorded one.
    pub fn request_id(&self) -> Option<&str> {
        self.get("request_id")
    }

    /// The `correlation_id`, if a span in scope recorded one.
    pub fn correlation_id(&self) -> Option<&str> {
        self.get("correlation_id")
    }

    /// Every promoted correlation field in scope, as `(field, value)`.
    pub fn correlation(&self) -> impl Iterator<Item = (&str, &str)> {
        self.correlation
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Headers for an outgoing HTTP request or message: `traceparent`, and
    /// `x-request-id`, `x-correlation-id`, `x-session-id`, `x-user-id` for
    /// the fields that are set.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("traceparent", self.traceparent())];
        for (field, header) in HEADER_NAMES {
            if let Some(v) = self.get(field) {
                headers.push((header, v.to_owned()));
            }
        }
        headers
    }
}

/// The current span's propagation context, or `None` outside any span or
/// when the default subscriber is not a `tracing_subscriber::Registry` with
/// the eventlog layer in it.
///
/// See [`PropagationContext`] for a two-service example.
pub fn current_context() -> Option<PropagationContext> {
    // `Span::current` must run outside `get_default`, which does not nest.
    let span = tracing::Span::current();
    let id = span.id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(&id)?;
        let mut trace = None;
        let mut pending = false;
        let mut correlation: Vec<(String, String)> = Vec::new();
        for s in span.scope() {
            let ext = s.extensions();
            let Some(state) = ext.get::<SpanState>() else {
                continue;
            };
            if trace.is_none() {
                trace = Some(state.trace);
                pending = state.otel_pending;
            }
            let cx = state.primary();
            for p in &cx.promoted {
                if correlation.iter().all(|(k, _)| k != p.field) {
                    correlation.push((p.field.to_owned(), p.value.clone()));
                }
            }
        }
        let mut trace = trace?;
        if pending && let Some(otel) = crate::otel::trace_of(&id, dispatch) {
            trace = otel;
        }
        Some(PropagationContext { trace, correlation })
    })
}
