//! The `tracing_subscriber::Layer` that turns spans and events into records.
//!
//! ```text
//! on_new_span / on_record ─> SpanContext in the span's extensions (ids, promoted, fields)
//! on_event / on_close     ─> Scratch (per thread) ─> Record ─> every Output ─> Stats
//! ```
//!
//! The `impl Layer` is thin: each callback fetches its span and delegates.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use tracing::dispatcher::WeakDispatch;
use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::capture::{Capturing, EventCapture, Scratch, SpanCapture, Visitor};
use crate::context::{
    LayerKey, Scope, SpanContext, SpanFields, SpanState, Timing, retire_scopes, scope_generation,
};
use crate::deployment::Deployment;
use crate::encode::JsonBuf;
use crate::envelope::Envelope;
use crate::envelope::Layout;
use crate::event_type::EventType;
use crate::filter::EventFilter;
use crate::output::JsonOutput;
use crate::output::Output;
use crate::policy::Policy;
use crate::record::{FieldBuf, NO_FIELDS, PreEncoded, Record, StoredValue};
use crate::redact::Redactor;
use crate::schema::Schema;
use crate::stats::{DropReason, Stats};
use crate::trace::TraceContext;

/// Strings longer than this many bytes are cut, with a visible marker,
/// unless [`EventLayer::max_value_bytes`] says otherwise.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 16 * 1024;

/// The suffix of span-close record names unless configured otherwise.
pub const DEFAULT_CLOSE_SUFFIX: &str = "_completed";

/// A layer writing every event as a structured record; see [`layer`].
///
/// Register it in a `tracing_subscriber::registry()` like any layer. It
/// composes with `EnvFilter`, per-layer filters and other layers (a `fmt`
/// layer for humans beside it, `tracing-opentelemetry` for traces, more
/// eventlog layers with their own writers), and it never filters events for
/// the rest of the stack. To filter what one eventlog layer writes, use
/// [`EventLayer::with_event_filter`] rather than `with_filter`: it keeps the
/// spans the records' ids come from.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::EnvFilter::new("info"))
///     .with(eventlog::layer().service("checkout").environment("test").writer(capture.clone()));
///
/// tracing::subscriber::with_default(subscriber, || {
///     let _request = tracing::info_span!("request", request_id = "r-1").entered();
///     tracing::info!(event_name = "order_placed", amount = 72.49, currency = "USD", "order placed");
///     tracing::debug!(event_name = "filtered_out");
/// });
///
/// let records = capture.records();
/// assert_eq!(records.len(), 1);
/// let order = &records[0];
/// assert_eq!(order.event_name(), Some("order_placed"));
/// assert_eq!(order.get("service").unwrap(), "checkout");
/// assert_eq!(order.get("request_id").unwrap(), "r-1");
/// assert_eq!(order.metadata("amount").unwrap(), 72.49);
/// assert_eq!(order.get("trace_id").unwrap().as_str().unwrap().len(), 32);
/// ```
pub struct EventLayer {
    layout: Layout,
    writer: Option<Box<dyn Output>>,
    outputs: Vec<Box<dyn Output>>,
    stats: Stats,
    max_value_bytes: usize,
    close_suffix: Option<String>,
    redactor: Redactor,
    schema: Option<Schema>,
    policy: Policy,
    otel: bool,
    dispatch: OnceLock<WeakDispatch>,
    /// Finds this layer's context among other eventlog layers' in a span.
    key: LayerKey,
    /// Set by [`EventLayer::with_event_filter`]: the filter whose verdict on
    /// each span decides whether its close record is written.
    pub(crate) event_filter: Option<crate::filter::FilterKey>,
}

impl std::fmt::Debug for EventLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLayer")
            .field("layout", &self.layout)
            .field("writer", &self.writer.is_some())
            .field("outputs", &self.outputs.len())
            .field("max_value_bytes", &self.max_value_bytes)
            .field("close_suffix", &self.close_suffix)
            .field("otel", &self.otel)
            .finish_non_exhaustive()
    }
}

/// A new event layer with the defaults, writing JSON lines to stdout.
///
/// | setting | default |
/// |---|---|
/// | writer | stdout, one JSON line per record |
/// | deployment context | from `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`; `host` from the kernel |
/// | envelope | [`Envelope::default`] (default key names, promoted `correlation_id`, `request_id`, `user_id`, `session_id`) |
/// | longest string value | [`DEFAULT_MAX_VALUE_BYTES`] |
/// | span-close records | off |
/// | redaction | [`Redactor::default`] |
/// | schema | none (set one with [`EventLayer::schema`]; violations then follow [`Policy::Annotate`]) |
///
/// A malformed OpenTelemetry variable is ignored here and counted in
/// [`StatsSnapshot::config_errors`](crate::StatsSnapshot::config_errors);
/// pass [`Deployment::from_env`] to [`EventLayer::deployment`] to get the
/// error instead.
///
/// ```
/// let layer = eventlog::layer();
/// assert_eq!(layer.stats().snapshot().events, 0);
/// ```
pub fn layer() -> EventLayer {
    EventLayer::new()
}

impl Default for EventLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLayer {
    /// Same as [`layer`].
    pub fn new() -> Self {
        let stats = Stats::new();
        let env = Deployment::from_env().unwrap_or_else(|_| {
            stats.record_config_error();
            Deployment::new()
        });
        let mut deployment = env;
        if deployment.host_name().is_none()
            && let Some(host) = Deployment::system_host()
        {
            deployment = deployment.host(host);
        }
        Self {
            layout: Layout::new(Envelope::default(), deployment),
            writer: Some(Box::new(JsonOutput::new(std::io::stdout))),
            outputs: Vec::new(),
            stats,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            close_suffix: None,
            redactor: Redactor::default(),
            schema: None,
            policy: Policy::Annotate,
            otel: false,
            dispatch: OnceLock::new(),
            key: LayerKey::unique(),
            event_filter: None,
        }
    }

    fn with_deployment(mut self, f: impl FnOnce(Deployment) -> Deployment) -> Self {
        let deployment = f(self.layout.deployment().clone());
        self.layout = Layout::new(self.layout.envelope().clone(), deployment);
        self
    }

    /// Sets the service name (wins over `OTEL_SERVICE_NAME`).
    #[must_use]
    pub fn service(self, name: impl Into<String>) -> Self {
        self.with_deployment(|d| d.service(name))
    }

    /// Sets the environment (wins over `deployment.environment.name`).
    #[must_use]
    pub fn environment(self, name: impl Into<String>) -> Self {
        self.with_deployment(|d| d.environment(name))
    }

    /// Sets the region (wins over `cloud.region`).
    #[must_use]
    pub fn region(self, name: impl Into<String>) -> Self {
        self.with_deployment(|d| d.region(name))
    }

    /// Sets the version (wins over `service.version`).
    #[must_use]
    pub fn version(self, version: impl Into<String>) -> Self {
        self.with_deployment(|d| d.version(version))
    }

    /// Sets the host (wins over `host.name` and the kernel's host name).
    #[must_use]
    pub fn host(self, name: impl Into<String>) -> Self {
        self.with_deployment(|d| d.host(name))
    }

    /// Replaces the whole deployment context.
    ///
    /// ```
    /// # fn main() -> Result<(), eventlog::ConfigError> {
    /// let layer = eventlog::layer().deployment(eventlog::Deployment::from_env()?.service("api"));
    /// # let _ = layer; Ok(()) }
    /// ```
    #[must_use]
    pub fn deployment(self, deployment: Deployment) -> Self {
        self.with_deployment(|_| deployment)
    }

    /// Sets the layout of every line (key names, promoted fields, static fields).
    #[must_use]
    pub fn envelope(mut self, envelope: Envelope) -> Self {
        self.layout = Layout::new(envelope, self.layout.deployment().clone());
        self
    }

    /// Writes JSON lines to `make_writer` instead of stdout: a file, a
    /// `tracing_appender::non_blocking` writer, `eventlog-appender`'s
    /// rolling file, or [`testing::Capture`](crate::testing::Capture).
    #[must_use]
    pub fn writer<M>(mut self, make_writer: M) -> Self
    where
        M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.writer = Some(Box::new(JsonOutput::new(make_writer)));
        self
    }

    /// Writes no JSON lines; records go only to [`EventLayer::output`]s.
    #[must_use]
    pub fn without_writer(mut self) -> Self {
        self.writer = None;
        self
    }

    /// Adds an output that receives every record as well.
    #[must_use]
    pub fn output(mut self, output: impl Output) -> Self {
        self.outputs.push(Box::new(output));
        self
    }

    /// Cuts string values (and messages) longer than `bytes`, adding
    /// `…[truncated]`, so one huge value cannot make a huge line.
    #[must_use]
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// Sets the redaction rules (on by default with [`Redactor::default`]:
    /// secrets by field name — [`DEFAULT_KEYS`](crate::DEFAULT_KEYS) — and,
    /// in any text, card numbers, bearer and Basic credentials, JWTs, URL
    /// passwords, vendor tokens, private keys, `key=value` secrets and
    /// emails; the [`Redactor`] docs list every shape).
    /// `Redactor::none()` turns redaction off.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let redactor = eventlog::Redactor::builder().key("pin").build()?;
    /// let layer = eventlog::layer().redactor(redactor).writer(capture.clone());
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_name = "card_checked", pin = "1234", password = "hunter2", "for ana@example.com");
    /// });
    /// let r = capture.expect_event("card_checked");
    /// assert_eq!(r.metadata("pin").unwrap(), "[REDACTED]");
    /// assert_eq!(r.metadata("password").unwrap(), "[REDACTED]");
    /// assert_eq!(r.message(), Some("for a***@example.com"));
    /// # Ok::<(), eventlog::RedactError>(())
    /// ```
    #[must_use]
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Checks every record against `schema`: declared fields, types, enums,
    /// constraints, naming, required context. Records carry
    /// `schema_version`; what a violation does is the [`Policy`] (annotate by
    /// default). Records of undeclared events follow the schema's
    /// `unknown_events` setting; span-close records are checked only if
    /// their name is declared.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let layer = eventlog::layer().schema(eventlog::Schema::recommended()).writer(capture.clone());
    /// let stats = layer.stats();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_name = "order_placed", order_id = "o-1", amount = 10.0, currency = "usd");
    /// });
    /// let r = capture.expect_event("order_placed");
    /// assert_eq!(r.get("event_type").unwrap(), "business"); // from the schema
    /// assert_eq!(r.get("schema_version").unwrap(), 1);
    /// assert_eq!(r.get("schema_errors").unwrap()[0], "field `currency` is not matching `^[A-Z]{3}$`");
    /// assert_eq!(stats.snapshot().violations, 2); // and `service` is missing
    /// ```
    #[must_use]
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// What a record that breaks the schema does (default [`Policy::Annotate`]).
    #[must_use]
    pub fn schema_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Emits a record when each span closes, named `<span>_completed`, with
    /// `duration_ms` (wall time since creation) and `busy_ms` / `idle_ms`
    /// (time entered / not entered) in its metadata.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let layer = eventlog::layer().close_events(true).writer(capture.clone());
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info_span!("payment", attempt = 1).in_scope(|| {});
    /// });
    /// let done = capture.expect_event("payment_completed");
    /// assert!(done.get("duration_ms").unwrap().is_f64());
    /// assert!(done.metadata("busy_ms").unwrap().is_f64());
    /// ```
    #[must_use]
    pub fn close_events(mut self, on: bool) -> Self {
        self.close_suffix = on.then(|| DEFAULT_CLOSE_SUFFIX.to_owned());
        self
    }

    /// Turns span-close records on with another name suffix (`_finished`).
    #[must_use]
    pub fn close_event_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.close_suffix = Some(suffix.into());
        self
    }

    /// Takes `trace_id` / `span_id` from `tracing-opentelemetry`, so logs
    /// and exported traces share ids. Pass the `OpenTelemetryLayer` that
    /// goes in the same subscriber.
    ///
    /// The reference ties the two crates' versions: with a
    /// `tracing-opentelemetry` other than the release this feature tracks
    /// (0.34), the call does not compile, rather than losing ids at run time.
    ///
    /// ```
    /// use opentelemetry::trace::TracerProvider as _;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    /// let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("doc"));
    /// let capture = eventlog::testing::Capture::new();
    /// let events = eventlog::layer().with_opentelemetry(&otel).writer(capture.clone());
    /// let subscriber = tracing_subscriber::registry().with(otel).with(events);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _s = tracing::info_span!("work").entered();
    ///     tracing::info!(event_name = "work_started");
    /// });
    /// assert!(capture.expect_event("work_started").get("trace_id").is_some());
    /// ```
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    #[must_use]
    pub fn with_opentelemetry<S, T>(
        mut self,
        _layer: &tracing_opentelemetry::OpenTelemetryLayer<S, T>,
    ) -> Self {
        self.otel = true;
        self
    }

    /// A handle on the layer's counters, readable while the layer is inside
    /// the subscriber.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Flushes every output, the dead-letter output of
    /// [`Policy::DeadLetter`] included. Every output is flushed even if
    /// one fails; the first failure is returned.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// /// An output that counts its flushes.
    /// #[derive(Clone, Default)]
    /// struct Flushes(Arc<AtomicUsize>);
    /// impl eventlog::Output for Flushes {
    ///     fn emit(&self, _: &eventlog::Record<'_>) -> Result<(), eventlog::DropReason> {
    ///         Ok(())
    ///     }
    ///     fn flush(&self) -> std::io::Result<()> {
    ///         self.0.fetch_add(1, Ordering::Relaxed);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let (main, dead_letter) = (Flushes::default(), Flushes::default());
    /// let layer = eventlog::layer()
    ///     .without_writer()
    ///     .output(main.clone())
    ///     .schema(eventlog::Schema::recommended())
    ///     .schema_policy(eventlog::Policy::DeadLetter(Box::new(dead_letter.clone())));
    /// layer.flush()?;
    /// assert_eq!(main.0.load(Ordering::Relaxed), 1);
    /// assert_eq!(dead_letter.0.load(Ordering::Relaxed), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flush(&self) -> std::io::Result<()> {
        let mut first_error = None;
        for output in self.all_outputs().chain(self.dead_letter()) {
            if let Err(error) = output.flush() {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn all_outputs(&self) -> impl Iterator<Item = &dyn Output> {
        self.writer.iter().chain(&self.outputs).map(|o| &**o)
    }

    fn dead_letter(&self) -> Option<&dyn Output> {
        match &self.policy {
            Policy::DeadLetter(output) => Some(&**output),
            _ => None,
        }
    }

    /// Applies the schema (if any) to `record`, then the policy, then emits.
    fn emit_checked<'a>(&'a self, mut record: Record<'a>, explicit_type: bool, close: bool) {
        let Some(schema) = &self.schema else {
            self.emit(&record);
            return;
        };
        let index = schema.lookup(record.event_name);
        record.schema_version = Some(schema.version());
        if !explicit_type && let Some(declared) = schema.declared_type(index) {
            record.event_type = declared;
        }
        if close && index.is_none() {
            self.emit(&record);
            return;
        }
        let mut violations = Vec::new();
        let warning_only = schema.check(index, &record, &mut violations);
        if violations.is_empty() {
            self.emit(&record);
            return;
        }
        self.stats.record_violations(violations.len());
        schema.count(record.event_name.unwrap_or("<unnamed>"), &violations);
        let record = Record {
            schema_errors: &violations,
            ..record
        };
        if warning_only {
            self.emit(&record);
            return;
        }
        match &self.policy {
            Policy::Annotate => self.emit(&record),
            Policy::DeadLetter(output) => {
                self.stats.record_event();
                self.stats.record_dead_lettered();
                if let Err(reason) = output.emit(&record) {
                    self.stats.record_dropped(reason);
                }
            }
            Policy::Drop => {
                self.stats.record_event();
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
        self.stats.record_event();
        for output in self.all_outputs() {
            match output.emit(record) {
                Ok(()) => self.stats.record_written(),
                Err(reason) => self.stats.record_dropped(reason),
            }
        }
    }

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
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade)?;
        let otel = crate::otel::trace_of(&span.id(), &dispatch)?;
        if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
            state.set_trace(otel);
            state.otel_pending = false;
        }
        Some(otel)
    }

    /// What `span` gives the records directly beneath it: its cached
    /// [`Scope`], or a fresh one (first record in the span, or its data
    /// changed since).
    fn scope_of<S>(&self, span: &SpanRef<'_, S>) -> Option<Arc<Scope>>
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
            let cx = state.layer(self.key)?;
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
                .and_then(|state| state.layer(self.key))
                .and_then(cached)
            {
                return Some(scope);
            }
        }
        let scope = Arc::new(self.build_scope(span, generation)?);
        if let Some(cx) = span
            .extensions_mut()
            .get_mut::<SpanState>()
            .and_then(|state| state.layer_mut(self.key))
        {
            cx.scope = Some(Arc::clone(&scope));
        }
        Some(scope)
    }

    /// Resolves a span's [`Scope`]: its own values, then promoted values
    /// from ancestors (nearest first) until every promoted key is found,
    /// marking each ancestor read so a later change there retires it.
    fn build_scope<S>(&self, span: &SpanRef<'_, S>, generation: u64) -> Option<Scope>
    where
        S: for<'a> LookupSpan<'a>,
    {
        let cap = self.max_value_bytes;
        let mut scope = Scope {
            generation,
            ..Scope::default()
        };
        {
            let ext = span.extensions();
            let state = ext.get::<SpanState>()?;
            let cx = state.layer(self.key)?;
            scope.trace = Some(state.trace);
            scope.fields.clone_from(&cx.fields);
            for p in &cx.promoted {
                scope.promote(p.key, &p.value, cap);
            }
        }
        let wanted = self.layout.envelope().promoted_len();
        let mut ancestor = span.parent();
        while let Some(span) = ancestor {
            if scope.promoted.len() >= wanted {
                break;
            }
            if let Some(cx) = span
                .extensions()
                .get::<SpanState>()
                .and_then(|state| state.layer(self.key))
            {
                cx.lent.store(true, Ordering::Relaxed);
                for p in &cx.promoted {
                    scope.promote(p.key, &p.value, cap);
                }
            }
            ancestor = span.parent();
        }
        scope.promoted.sort_unstable_by_key(|p| p.key);
        // Sized up front: these are built once per span, and a default
        // buffer would start at 1 KiB.
        let promoted_len: usize = scope
            .promoted
            .iter()
            .map(|p| scope.text.text(p.text).len() + 24)
            .sum();
        let mut head = JsonBuf::with_capacity(self.layout.fixed_json().len() + 96 + promoted_len);
        head.raw(self.layout.fixed_json());
        self.layout.write_ids(scope.trace, &mut head);
        self.layout
            .write_promoted(&scope.promoted, &scope.text, &mut head);
        scope.head_json = head.into_vec();
        let fields_json = scope.fields.as_ref().map_or(&[][..], |f| &f.json[..]);
        let mut block = JsonBuf::with_capacity(span.name().len() + fields_json.len() + 32);
        self.layout
            .write_span_block(Some(span.name()), fields_json, &mut block);
        scope.span_json = block.into_vec();
        Some(scope)
    }

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
            .map(|f| Arc::try_unwrap(f).unwrap_or_else(|shared| (*shared).clone()))
            .unwrap_or_default();
        let mut capture = SpanCapture {
            promoted: &mut cx.promoted,
            fields: &mut own.fields,
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
        own.fields.compact();
        cx.fields = span_fields(own.fields);
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

    /// Builds the record from the captured event and its span's scope.
    ///
    /// The scope's promoted values are used as they are (pre-encoded)
    /// unless the event recorded promoted values of its own: then both are
    /// merged in the scratch, the event's winning.
    fn record<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        parts: &RecordParts<'a>,
        scope: Option<&'a Scope>,
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
            target: parts.metadata.target(),
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
            span_fields: own_fields.map_or(&NO_FIELDS, |f| &f.fields),
            span_json: own_fields.map_or(&[][..], |f| &f.json[..]),
            duration: parts.duration,
            schema_version: None,
            schema_errors: &[],
            layout: &self.layout,
            pre: scope.map(|scope| PreEncoded {
                head: (!own_promoted).then_some(&scope.head_json[..]),
                span: &scope.span_json,
            }),
        }
    }
}

impl EventLayer {
    /// Filters which events this layer writes, keeping the context of
    /// every span: the per-layer filter to use instead of
    /// [`Layer::with_filter`].
    ///
    /// `with_filter(LevelFilter::WARN)` hides INFO spans from this layer
    /// as well as INFO events, so a WARN event inside an INFO `request`
    /// span would lose its `trace_id`, `span_id` and `request_id`. Here
    /// `filter` decides only which events (and which spans' close records)
    /// are written; see [`EventFilter`]. Other layers and the global
    /// filter are unaffected, as with any per-layer filter.
    ///
    /// ```
    /// use tracing_subscriber::filter::LevelFilter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let all = eventlog::testing::Capture::new();
    /// let warnings = eventlog::testing::Capture::new();
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(eventlog::layer().writer(all.clone()))
    ///     .with(eventlog::layer().writer(warnings.clone()).with_event_filter(LevelFilter::WARN));
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _request = tracing::info_span!("request", request_id = "r-1").entered();
    ///     tracing::info!(event_name = "cart_viewed");
    ///     tracing::warn!(event_name = "payment_retried");
    /// });
    /// assert_eq!(all.records().len(), 2);
    /// let retried = warnings.expect_event("payment_retried");
    /// assert_eq!(warnings.records().len(), 1);
    /// assert_eq!(retried.str("request_id"), Some("r-1"));
    /// // Both files give the span the same ids.
    /// assert_eq!(retried.get("span_id"), all.expect_event("payment_retried").get("span_id"));
    /// ```
    pub fn with_event_filter<S, F>(
        mut self,
        filter: F,
    ) -> tracing_subscriber::filter::Filtered<Self, EventFilter<F>, S>
    where
        F: Filter<S>,
        S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let filter = EventFilter::new(filter);
        self.event_filter = Some(filter.key());
        Layer::<S>::with_filter(self, filter)
    }
}

struct RecordParts<'a> {
    metadata: &'static Metadata<'static>,
    timestamp: SystemTime,
    default_name: Option<&'a str>,
    span_name: Option<&'a str>,
    duration: Option<std::time::Duration>,
}

/// A span's own fields with their JSON object for the `span` block, or
/// `None` when it has none.
fn span_fields(fields: FieldBuf) -> Option<Arc<SpanFields>> {
    if fields.is_empty() {
        return None;
    }
    // Sized to the fields: it lives as long as the span.
    let mut json = JsonBuf::with_capacity(fields.json_size_hint());
    fields.write_object(&mut json);
    Some(Arc::new(SpanFields {
        fields,
        json: json.into_vec(),
    }))
}

fn default_event_type(level: Level) -> &'static str {
    if level == Level::ERROR {
        EventType::ERROR.as_str()
    } else {
        EventType::LOG.as_str()
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
                span_name: span.as_ref().map(SpanRef::name),
                duration: None,
            };
            let explicit_type = scratch.event_type.is_some();
            let record = self.record(scratch, &parts, scope.as_deref());
            self.emit_checked(record, explicit_type, false);
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
                span_name: Some(span.name()),
                duration,
            };
            let record = self.record(scratch, &parts, scope.as_deref());
            self.emit_checked(record, true, true);
        });
    }
}
