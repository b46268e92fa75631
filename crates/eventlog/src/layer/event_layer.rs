//! The [`EventLayer`] type: its configuration, setters and entry points.

use std::sync::OnceLock;

use tracing::dispatcher::WeakDispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Filter, Layer};

use super::policy::Policy;
use super::scope::{LayerKey, Scoping};
use crate::deployment::Deployment;
use crate::encode::layout::Layout;
use crate::envelope::Envelope;
use crate::error::ConfigError;
use crate::filter::EventFilter;
use crate::limit::{Limiter, Limits};
use crate::output::{JsonOutput, Output};
use crate::redact::Redactor;
use crate::schema::Schema;
use crate::self_report::DropReporter;
use crate::stats::Stats;

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
    pub(super) layout: Layout,
    pub(super) writer: Option<Box<dyn Output>>,
    pub(super) outputs: Vec<Box<dyn Output>>,
    pub(super) stats: Stats,
    pub(super) max_value_bytes: usize,
    pub(super) close_suffix: Option<String>,
    pub(super) redactor: Redactor,
    pub(super) schema: Option<Schema>,
    pub(super) policy: Policy,
    pub(super) otel: bool,
    pub(super) dispatch: OnceLock<WeakDispatch>,
    /// Finds this layer's context among other eventlog layers' in a span.
    pub(super) key: LayerKey,
    /// Set by [`EventLayer::with_event_filter`]: the filter whose verdict on
    /// each span decides whether its close record is written.
    pub(super) event_filter: Option<crate::filter::FilterKey>,
    /// As given to [`EventLayer::limits`].
    pub(super) limits: Option<Limits>,
    /// `limits` and the schema's per-event limits, compiled.
    pub(super) limiter: Option<Limiter>,
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
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A new event layer with the defaults, writing JSON lines to stdout.
///
/// | setting | default |
/// |---|---|
/// | writer | stdout, one JSON line per record |
/// | deployment context | none but `host`, from the kernel ([`EventLayer::from_env`] adds `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`) |
/// | envelope | [`Envelope::default`] (default key names, promoted `correlation_id`, `request_id`, `user_id`, `session_id`) |
/// | longest string value | [`DEFAULT_MAX_VALUE_BYTES`] |
/// | span-close records | off |
/// | redaction | [`Redactor::default`] |
/// | schema | none (set one with [`EventLayer::schema`]; violations then follow [`Policy::Annotate`]) |
///
/// It reads no environment variable: what it does is the same wherever it
/// runs. Use [`EventLayer::from_env`] for the OpenTelemetry variables.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let layer = eventlog::layer().writer(capture.clone());
/// let stats = layer.stats();
/// assert_eq!(stats.snapshot().emitted, 0);
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(event_name = "order_placed", "placed");
/// });
/// let record = capture.expect_event("order_placed");
/// assert_eq!(record.get("level").unwrap(), "INFO");
/// assert_eq!(record.get("event_type").unwrap(), "log");
/// assert!(record.get("service").is_none(), "no deployment context unless set");
/// assert_eq!(stats.snapshot().emitted, 1);
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
    /// Same as [`layer`]: the defaults, no environment read.
    pub fn new() -> Self {
        let deployment = match Deployment::system_host() {
            Some(host) => Deployment::new().host(host),
            None => Deployment::new(),
        };
        Self {
            layout: Layout::new(Envelope::default(), deployment),
            writer: Some(Box::new(JsonOutput::new(std::io::stdout))),
            outputs: Vec::new(),
            stats: Stats::new(),
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            close_suffix: None,
            redactor: Redactor::default(),
            schema: None,
            policy: Policy::Annotate,
            otel: false,
            dispatch: OnceLock::new(),
            key: LayerKey::unique(),
            event_filter: None,
            limits: None,
            limiter: None,
        }
    }

    /// [`layer`] with the deployment context read from
    /// [`OTEL_SERVICE_NAME`](crate::OTEL_SERVICE_NAME) and
    /// [`OTEL_RESOURCE_ATTRIBUTES`](crate::OTEL_RESOURCE_ATTRIBUTES) (see
    /// [`Deployment::from_env`]); `host` from the kernel unless the
    /// attributes name one. Setters called afterwards win over the
    /// environment.
    ///
    /// A malformed variable (a resource attribute that is not `key=value`,
    /// a value that is not UTF-8) is an error naming it, never ignored.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// # fn main() -> Result<(), eventlog::ConfigError> {
    /// // Whatever the environment says, code wins.
    /// let capture = eventlog::testing::Capture::new();
    /// let layer = eventlog::EventLayer::from_env()?.service("checkout").writer(capture.clone());
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_name = "order_placed");
    /// });
    /// assert_eq!(capture.expect_event("order_placed").get("service").unwrap(), "checkout");
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<EventLayer, ConfigError> {
        let layer = Self::new();
        let host = layer.layout.deployment().clone();
        Ok(layer.deployment(Deployment::from_env()?.or(host)))
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
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let deployment = eventlog::Deployment::new().service("api").environment("prod");
    /// let layer = eventlog::layer().deployment(deployment).writer(capture.clone());
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_name = "request_served");
    /// });
    /// let record = capture.expect_event("request_served");
    /// assert_eq!(record.get("service").unwrap(), "api");
    /// assert_eq!(record.get("environment").unwrap(), "prod");
    /// assert!(record.get("host").is_none(), "replaced: the kernel's host name is gone too");
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
        self.compile_limits();
        self
    }

    /// Rate limits and sampling, applied before any output sees an event;
    /// see [`Limits`]. A schema's per-event `rate`, `burst`, `sample` and
    /// `always_keep` apply too, whichever setter comes first; for an event
    /// both name, the rule given here wins.
    ///
    /// Suppressed events are counted in [`StatsSnapshot::suppressed`](crate::StatsSnapshot::suppressed)
    /// and, per key and summary window, in one
    /// [`SUPPRESSED_EVENT`](crate::SUPPRESSED_EVENT) record written through
    /// the outputs, by the first event (of any key) after its window ends;
    /// the summaries still open are written by [`flush`](Self::flush) and
    /// when the layer is dropped. A sampled event that is kept carries
    /// `sample_rate` (the probability it was kept with) in `metadata`.
    ///
    /// ```
    /// use eventlog::{EventType, Limits};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let limits = Limits::builder().sample_type(EventType::LOG, 0.0).seed(1).build()?;
    /// let capture = eventlog::testing::Capture::new();
    /// let layer = eventlog::layer().limits(limits).writer(capture.clone());
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_name = "cache_hit");
    ///     tracing::error!(event_name = "cache_failed"); // ERROR: kept always
    /// });
    /// assert!(capture.events("cache_hit").is_empty());
    /// assert_eq!(capture.events("cache_failed").len(), 1);
    /// let summary = capture.expect_event(eventlog::SUPPRESSED_EVENT);
    /// assert_eq!(summary.metadata("reason").unwrap(), "sampled");
    /// assert_eq!(summary.metadata("suppressed").unwrap(), 1);
    /// # Ok::<(), eventlog::LimitError>(())
    /// ```
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self.compile_limits();
        self
    }

    fn compile_limits(&mut self) {
        let schema_rules = self
            .schema
            .as_ref()
            .map(Schema::limit_rules)
            .unwrap_or_default();
        self.limiter = Limiter::new(self.limits.as_ref(), &schema_rules);
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
    /// A span closes when its last handle is dropped, and
    /// `tracing-subscriber`'s registry releases a span's parent through the
    /// dropping thread's *default* dispatcher. With a global subscriber
    /// (`init()`) that always works; with a subscriber set per thread or
    /// per task (`with_default`, `WithSubscriber`), a child span dropped on
    /// a thread without that default keeps its parent open, and the
    /// parent's close record never comes: give every thread of the runtime
    /// the dispatcher (`tokio::runtime::Builder::on_thread_start`), as
    /// `tests/e2e/stacks.rs` does.
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

    /// Writes self-reports for an output named `output` in this layer's
    /// envelope and deployment context, as they are now: call it after
    /// [`envelope`](Self::envelope) and the deployment setters. See
    /// [`DropReporter`] for the shape and the appender's use.
    ///
    /// ```
    /// let layer = eventlog::layer().service("checkout").environment("prod");
    /// let mut line = Vec::new();
    /// layer.drop_reporter("file").write("queue_full", 3, 3, &mut line);
    /// let report: serde_json::Value = serde_json::from_slice(&line)?;
    /// assert_eq!(report["event_name"], eventlog::DROP_REPORT_EVENT);
    /// assert_eq!(report["environment"], "prod");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn drop_reporter(&self, output: &str) -> DropReporter {
        DropReporter::new(self.layout.clone(), output)
    }

    /// A handle on the layer's counters, readable while the layer is inside
    /// the subscriber.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Writes the pending suppression summaries (see [`limits`](Self::limits)),
    /// then flushes every output, the dead-letter output of
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
        self.write_pending_summaries();
        let mut first_error = None;
        for output in self.all_outputs().chain(self.dead_letter()) {
            if let Err(error) = output.flush() {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    #[inline]
    pub(super) fn all_outputs(&self) -> impl Iterator<Item = &dyn Output> {
        self.writer.iter().chain(&self.outputs).map(|o| &**o)
    }

    #[inline]
    pub(super) fn dead_letter(&self) -> Option<&dyn Output> {
        match &self.policy {
            Policy::DeadLetter(output) => Some(&**output),
            _ => None,
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

/// The last suppression summaries are written when the layer goes, so
/// the summaries' counts add up to [`StatsSnapshot::suppressed`](crate::StatsSnapshot::suppressed).
impl Drop for EventLayer {
    fn drop(&mut self) {
        self.write_pending_summaries();
    }
}

impl Scoping for EventLayer {
    #[inline]
    fn key(&self) -> LayerKey {
        self.key
    }

    #[inline]
    fn layout(&self) -> &Layout {
        &self.layout
    }

    #[inline]
    fn cap(&self) -> usize {
        self.max_value_bytes
    }

    #[inline]
    fn dispatch(&self) -> &OnceLock<WeakDispatch> {
        &self.dispatch
    }
}
