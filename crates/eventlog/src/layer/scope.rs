//! Span scope: what a span contributes to every record beneath it, kept in
//! the span's extensions and resolved once per span, not per event.
//!
//! ```text
//! on_new_span ─> SpanState { ids, and per layer a SpanContext { promoted values,
//!                own fields, timing } }  (span extension, shared by eventlog layers)
//! on_record   ─> updates it (and retires its SpanScope)
//! on_event    ─> scope_of: the current span's SpanScope: ids, promoted values merged up
//!                the scope, span fields, all pre-encoded (encode::span); built once, shared
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tracing::dispatcher::WeakDispatch;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::capture::SpanPromoted;
use crate::encode::layout::Layout;
use crate::encode::span::{SpanFields, SpanJson};
use crate::fields::{FieldBuf, Promoted};
use crate::trace::TraceContext;

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

    /// The first layer's context: the one [`current_context`](crate::current_context) reads.
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
    /// none. Shared with its [`SpanScope`] instead of copied into it.
    pub(crate) fields: Option<Arc<SpanFields>>,
    pub(crate) timing: Option<Timing>,
    /// The layer's event filter left this span out
    /// ([`EventLayer::with_event_filter`](crate::EventLayer::with_event_filter)):
    /// its context is kept, its close record is not written.
    pub(crate) filtered_out: bool,
    /// What records directly beneath this span carry, resolved at the
    /// first one and dropped whenever this span's data changes.
    pub(crate) scope: Option<Arc<SpanScope>>,
    /// A descendant's [`SpanScope`] copied promoted values from this span, so
    /// changing them later must retire every scope ([`retire_scopes`]).
    pub(crate) lent: AtomicBool,
}

/// Bumped whenever a span whose promoted values were inherited changes
/// them: a [`SpanScope`] from an older generation is rebuilt before use.
static SCOPE_GENERATION: AtomicU64 = AtomicU64::new(0);

/// The generation a new [`SpanScope`] is valid for.
pub(crate) fn scope_generation() -> u64 {
    // Relaxed is enough: a stale value only makes a scope be rebuilt once
    // more, and the values themselves are read under the spans' locks.
    SCOPE_GENERATION.load(Ordering::Relaxed)
}

/// Retires every [`SpanScope`] built so far (rare: a promoted value changed on
/// a span that descendants already inherited from).
pub(crate) fn retire_scopes() {
    SCOPE_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// What one span gives every record directly beneath it, resolved once
/// and shared by reference count instead of being gathered per event: its
/// ids, the promoted values from it and its ancestors (nearest wins), its
/// own fields, and the JSON for all of them as this layer writes it.
#[derive(Debug, Default)]
pub(crate) struct SpanScope {
    pub(crate) generation: u64,
    pub(crate) trace: Option<TraceContext>,
    /// Sorted by envelope index; text in `text`.
    pub(crate) promoted: Vec<Promoted>,
    pub(crate) text: FieldBuf,
    /// The span's own fields, shared with its [`SpanContext`].
    pub(crate) fields: Option<Arc<SpanFields>>,
    /// All of the above as this layer writes it (`encode::span`): what
    /// most records copy in two pieces.
    pub(crate) json: SpanJson,
}

impl SpanScope {
    /// Adds a promoted value unless a nearer span already gave one.
    pub(crate) fn promote(&mut self, key: usize, value: &str, cap: usize) {
        if self.promoted.iter().all(|p| p.key != key) {
            let text = self.text.push_text(value, cap);
            self.promoted.push(Promoted { key, text });
        }
    }
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

/// What span-scope resolution reads of a layer: which context in a span is
/// its own, how it writes lines, its value cap, and the dispatch to ask
/// `tracing-opentelemetry` for ids. The resolution itself is provided, so
/// it runs on the layer directly (and on a stand-in in the tests).
pub(super) trait Scoping {
    fn key(&self) -> LayerKey;
    fn layout(&self) -> &Layout;
    fn cap(&self) -> usize;
    fn dispatch(&self) -> &OnceLock<WeakDispatch>;

    /// The span's trace context, taking it from `tracing-opentelemetry`
    /// the first time it is available there.
    fn trace_of<S>(&self, span: &SpanRef<'_, S>) -> Option<TraceContext>
    where
        S: for<'a> LookupSpan<'a>,
    {
        let (trace, pending) = {
            let ext = span.extensions();
            let state = ext.get::<SpanState>()?;
            (state.trace, state.otel_pending)
        };
        if pending {
            return Some(self.resolve_otel(span).unwrap_or(trace));
        }
        Some(trace)
    }

    /// Takes the span's ids from `tracing-opentelemetry` and caches them.
    fn resolve_otel<S>(&self, span: &SpanRef<'_, S>) -> Option<TraceContext>
    where
        S: for<'a> LookupSpan<'a>,
    {
        // Extensions must not be held here: tracing-opentelemetry locks them.
        let dispatch = self.dispatch().get().and_then(WeakDispatch::upgrade)?;
        let otel = crate::otel::trace_of(&span.id(), &dispatch)?;
        if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
            state.set_trace(otel);
            state.otel_pending = false;
        }
        Some(otel)
    }

    /// What `span` gives the records directly beneath it: its cached
    /// [`SpanScope`], or a fresh one (first record in the span, or its data
    /// changed since).
    fn scope_of<S>(&self, span: &SpanRef<'_, S>) -> Option<Arc<SpanScope>>
    where
        S: for<'a> LookupSpan<'a>,
    {
        let generation = scope_generation();
        let cached = |cx: &SpanContext| {
            cx.scope
                .as_ref()
                .filter(|scope| scope.generation == generation)
                .cloned()
        };
        let pending = {
            let ext = span.extensions();
            let state = ext.get::<SpanState>()?;
            let cx = state.layer(self.key())?;
            if !state.otel_pending
                && let Some(scope) = cached(cx)
            {
                return Some(scope);
            }
            state.otel_pending
        };
        if pending {
            // Taking the ids from OpenTelemetry retires the scope; until
            // they exist there, the cached one stays good.
            self.resolve_otel(span);
            if let Some(scope) = span
                .extensions()
                .get::<SpanState>()
                .and_then(|state| state.layer(self.key()))
                .and_then(cached)
            {
                return Some(scope);
            }
        }
        let scope = Arc::new(self.build_scope(span, generation)?);
        if let Some(cx) = span
            .extensions_mut()
            .get_mut::<SpanState>()
            .and_then(|state| state.layer_mut(self.key()))
        {
            cx.scope = Some(Arc::clone(&scope));
        }
        Some(scope)
    }

    /// Resolves a span's [`SpanScope`]: its own values, then promoted values
    /// from ancestors (nearest first) until every promoted key is found,
    /// marking each ancestor read so a later change there retires it.
    fn build_scope<S>(&self, span: &SpanRef<'_, S>, generation: u64) -> Option<SpanScope>
    where
        S: for<'a> LookupSpan<'a>,
    {
        let cap = self.cap();
        let mut scope = SpanScope {
            generation,
            ..SpanScope::default()
        };
        {
            let ext = span.extensions();
            let state = ext.get::<SpanState>()?;
            let cx = state.layer(self.key())?;
            scope.trace = Some(state.trace);
            scope.fields.clone_from(&cx.fields);
            for p in &cx.promoted {
                scope.promote(p.key, &p.value, cap);
            }
        }
        let wanted = self.layout().envelope().promoted_len();
        let mut ancestor = span.parent();
        while let Some(span) = ancestor {
            if scope.promoted.len() >= wanted {
                break;
            }
            if let Some(cx) = span
                .extensions()
                .get::<SpanState>()
                .and_then(|state| state.layer(self.key()))
            {
                cx.lent.store(true, Ordering::Relaxed);
                for p in &cx.promoted {
                    scope.promote(p.key, &p.value, cap);
                }
            }
            ancestor = span.parent();
        }
        scope.promoted.sort_unstable_by_key(|p| p.key);
        scope.json = SpanJson::new(
            self.layout(),
            scope.trace,
            &scope.promoted,
            &scope.text,
            span.name(),
            scope.fields.as_deref(),
        );
        Some(scope)
    }
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing)]
mod tests {
    use tracing_subscriber::Registry;

    use super::*;
    use crate::deployment::Deployment;
    use crate::envelope::Envelope;

    /// A stand-in for the layer: uncapped, no OpenTelemetry.
    struct Layer {
        key: LayerKey,
        layout: Layout,
        dispatch: OnceLock<WeakDispatch>,
    }

    impl Scoping for Layer {
        fn key(&self) -> LayerKey {
            self.key
        }
        fn layout(&self) -> &Layout {
            &self.layout
        }
        fn cap(&self) -> usize {
            usize::MAX
        }
        fn dispatch(&self) -> &OnceLock<WeakDispatch> {
            &self.dispatch
        }
    }

    fn context(promoted: &[(usize, &'static str, &str)]) -> SpanContext {
        SpanContext {
            promoted: promoted
                .iter()
                .map(|&(key, field, value)| SpanPromoted {
                    key,
                    field,
                    value: value.to_owned(),
                })
                .collect(),
            fields: None,
            timing: None,
            filtered_out: false,
            scope: None,
            lent: AtomicBool::new(false),
        }
    }

    #[test]
    fn a_promoted_value_from_a_nearer_span_wins_and_is_capped() {
        let mut scope = SpanScope::default();
        scope.promote(1, "near-value", 4);
        scope.promote(1, "far", usize::MAX);
        scope.promote(0, "other", usize::MAX);
        let got: Vec<_> = scope
            .promoted
            .iter()
            .map(|p| (p.key, scope.text.text(p.text).to_owned()))
            .collect();
        assert_eq!(
            got,
            [
                (1, format!("near{}", crate::fields::TRUNCATION_MARKER)),
                (0, "other".to_owned())
            ]
        );
    }

    #[test]
    fn each_layer_finds_its_own_context_and_new_ids_retire_every_scope() {
        let (first, second, third) = (LayerKey::unique(), LayerKey::unique(), LayerKey::unique());
        let mut state = SpanState::new(TraceContext::root(), false, first, context(&[]));
        state.join(second, context(&[(0, "request_id", "r-2")]));
        assert!(state.layer(first).is_some_and(|cx| cx.promoted.is_empty()));
        assert_eq!(state.layer(second).unwrap().promoted[0].value, "r-2");
        assert!(state.layer(third).is_none());
        assert!(state.layer_mut(third).is_none());
        for key in [first, second] {
            state.layer_mut(key).unwrap().scope = Some(Arc::new(SpanScope::default()));
        }
        let new = TraceContext::root();
        state.set_trace(new);
        assert_eq!(state.trace, new);
        assert!(state.layer(first).unwrap().scope.is_none());
        assert!(state.layer(second).unwrap().scope.is_none());
    }

    #[test]
    fn retiring_scopes_moves_the_generation_on() {
        let before = scope_generation();
        retire_scopes();
        assert!(scope_generation() > before);
    }

    #[test]
    fn nested_entries_count_as_one_busy_stretch() {
        let mut timing = Timing::new();
        timing.enter();
        timing.enter();
        timing.exit();
        assert!(timing.entered.is_some(), "still inside the outer entry");
        timing.exit();
        assert!(timing.entered.is_none());
        assert_eq!(timing.depth, 0);
        // An unbalanced exit neither underflows nor starts a stretch.
        timing.exit();
        assert_eq!(timing.depth, 0);
        assert!(timing.entered.is_none());
    }

    /// `build_scope` over a real registry (no eventlog layer in it): span
    /// state is put into the extensions by hand, as `on_new_span` would.
    #[test]
    fn a_scope_merges_promoted_values_up_the_spans_nearest_first() {
        let key = LayerKey::unique();
        let envelope = Envelope::builder().build().unwrap();
        let request = envelope.promoted_index("request_id").unwrap();
        let user = envelope.promoted_index("user_id").unwrap();
        let layout = Layout::new(envelope, Deployment::new().service("svc"));
        let scoping = Layer {
            key,
            layout,
            dispatch: OnceLock::new(),
        };
        let root_trace = TraceContext::root();
        let child_trace = root_trace.child();
        let registry = Registry::default();
        tracing::subscriber::with_default(registry, || {
            let outer = tracing::info_span!("outer");
            let inner = tracing::info_span!(parent: &outer, "inner");
            tracing::dispatcher::get_default(|d| {
                let registry = d.downcast_ref::<Registry>().unwrap();
                let outer_ref = registry.span(&outer.id().unwrap()).unwrap();
                outer_ref.extensions_mut().insert(SpanState::new(
                    root_trace,
                    false,
                    key,
                    context(&[(request, "request_id", "r-outer"), (user, "user_id", "u-1")]),
                ));
                let inner_ref = registry.span(&inner.id().unwrap()).unwrap();
                inner_ref.extensions_mut().insert(SpanState::new(
                    child_trace,
                    false,
                    key,
                    context(&[(request, "request_id", "r-inner")]),
                ));
                let scope = scoping.build_scope(&inner_ref, 42).unwrap();
                assert_eq!(scope.generation, 42);
                assert_eq!(scope.trace, Some(child_trace));
                let promoted: Vec<_> = scope
                    .promoted
                    .iter()
                    .map(|p| (p.key, scope.text.text(p.text)))
                    .collect();
                let mut expected = vec![(request, "r-inner"), (user, "u-1")];
                expected.sort_unstable();
                assert_eq!(promoted, expected);
                // The outer span lent a value: changing it must retire scopes.
                let ext = outer_ref.extensions();
                let lent = ext.get::<SpanState>().unwrap().layer(key).unwrap();
                assert!(lent.lent.load(Ordering::Relaxed));
                // The head is the JSON members every record beneath copies.
                let head = format!("{{\"_\":0{}}}", String::from_utf8_lossy(scope.json.head()));
                let head: serde_json::Value = serde_json::from_str(&head).unwrap();
                assert_eq!(head["service"], "svc");
                assert_eq!(head["request_id"], "r-inner");
                assert_eq!(head["user_id"], "u-1");
                assert_eq!(head["trace_id"], child_trace.trace_id().to_string());
                let block = format!("{{\"_\":0{}}}", String::from_utf8_lossy(scope.json.block()));
                let block: serde_json::Value = serde_json::from_str(&block).unwrap();
                assert_eq!(block["span"]["name"], "inner");
            });
        });
    }
}
