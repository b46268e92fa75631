//! Structured, schema-checked event logs for [`tracing`].
//!
//! `eventlog` is a `tracing_subscriber` layer that writes every event as one
//! JSON record with a fixed envelope — UTC timestamp, `event_name`,
//! `event_type`, deployment context, W3C `trace_id` / `span_id`, correlation
//! ids promoted from spans, and the event's own fields under `metadata` — so
//! the people on call can answer "what happened to this request?" with a
//! query instead of reading source code.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let capture = eventlog::testing::Capture::new(); // or a file, stdout, an appender
//! let subscriber = tracing_subscriber::registry()
//!     .with(eventlog::layer().service("checkout").writer(capture.clone()));
//!
//! tracing::subscriber::with_default(subscriber, || {
//!     let _request = tracing::info_span!("checkout", request_id = "req-42", user_id = "u-7").entered();
//!     tracing::info!(event_name = "order_placed", order_id = "o-1", amount = 72.49, "order placed");
//! });
//!
//! let line = &capture.lines()[0];
//! let record: serde_json::Value = serde_json::from_str(line)?;
//! assert_eq!(record["event_name"], "order_placed");
//! assert_eq!(record["service"], "checkout");
//! assert_eq!(record["request_id"], "req-42");
//! assert_eq!(record["user_id"], "u-7");
//! assert_eq!(record["metadata"]["amount"], 72.49);
//! assert_eq!(record["span"]["name"], "checkout");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a record flows
//!
//! Each name is a module of this crate; the arrows are the order of work.
//! The `layer` modules drive the others, and the import graph has no
//! cycle (`scripts/module-edges crates/eventlog/src` lists its edges): the
//! schema knows no outputs, the record knows neither schema nor layer.
//!
//! ```text
//!  tracing event / span
//!          │
//!  layer::callbacks ──── impl Layer: fetch the span, delegate
//!          │
//!  layer::scope ──────── per-span state and the cached scope (ids, promoted
//!          │             values, pre-encoded span JSON), built once per span
//!  capture (+ redact) ── the event's fields into per-thread buffers,
//!          │             secrets removed before anything reads them
//!  record ────────────── Record: the borrowed view every output receives, its
//!          │             values in `fields`; written as JSON by `encode` (primitives,
//!          │             the compiled Layout, span pre-encoding, the line encoder)
//!  limit ─────────────── rate limits and sampling: keep, keep with `sample_rate`,
//!          │             or suppress (counted; `events_suppressed` summaries)
//!  schema ────────────── check only: Record -> [Violation]
//!          │
//!  layer::emit ───────── Policy (layer::policy), then every output, counted in stats
//!          │
//!  output ────────────── Output trait, JsonOutput -> any MakeWriter
//! ```
//!
//! Beside the flow: `envelope` (key names and order), `deployment`,
//! `trace` (W3C ids), `event_type` and `violation` (vocabulary shared by
//! record and schema), `filter` ([`EventFilter`]), `propagation`
//! ([`current_context`], headers for the next service), `self_report`
//! ([`DropReporter`]: an output's losses, in the layer's envelope), `health`
//! ([`Stats::health`], [`HealthCheck`]: ok or degraded, with reasons), `metrics`
//! ([`Metric`], [`MetricSource`], [`prometheus_text`]), `server` (`MetricsServer`,
//! with the `metrics-server` feature), `parsed`
//! ([`ParsedRecord`]: a line read back, renamed keys moved back), `testing`;
//! and the shared tricks, one module each: `reuse` (the boxed per-thread
//! buffer), `cache` (per-thread caches keyed by a `'static` address), `words`
//! (overlapping-word compares and byte tests).
//!
//! # The record
//!
//! The envelope is documented on [`Record`]; key names are configurable with
//! an [`Envelope`]. Every line is valid JSON whatever the field values:
//! control characters are escaped (no log-line injection), `NaN` and
//! infinities become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`,
//! strings longer than [`EventLayer::max_value_bytes`] are cut with a
//! `…[truncated]` marker, and a field name used twice is written as
//! `name_2` rather than as a duplicate key.
//!
//! # Traces and correlation
//!
//! Each root span gets a fresh W3C trace id (or continues the caller's, from
//! a `traceparent` span field); child spans and threads inherit it. Fields
//! named `correlation_id`, `request_id`, `user_id` and `session_id` on any
//! span in scope are written at the top level of every event beneath it.
//! [`current_context`] gives the headers for the next hop.
//!
//! # Rate limits and sampling
//!
//! One hot callsite in a retry loop can write most of a service's log.
//! [`EventLayer::limits`] takes [`Limits`]: token buckets per event name,
//! callsite or field value ([`Budget`], [`BudgetKey`]), sampling per event
//! name or type, and keep-always rules (ERROR and `security` events by
//! default, and events a schema marks `always_keep`); a schema file can
//! declare `rate = "100/s"`, `burst`, `sample` and `always_keep` per event.
//! Nothing is lost silently: suppressed events are counted in
//! [`StatsSnapshot::suppressed`] and summarised, per key and window, by an
//! [`SUPPRESSED_EVENT`] record through the same outputs; kept samples
//! carry `metadata.sample_rate`.
//!
//! # Records of the `log` crate
//!
//! Libraries that log with the `log` crate reach the layer through
//! `tracing-log`'s `LogTracer` (or tracing-subscriber's `tracing-log`
//! feature, which `fmt().init()` turns on). Their records keep their own
//! target, level and location (`target` key, and `file` / `line` with
//! [`EnvelopeBuilder::code_location`]), carry the ids and correlation fields
//! of the span they are logged in, and the bridge's `log.*` bookkeeping
//! fields stay out of `metadata`:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! tracing_log::LogTracer::init()?; // once per process: `log` records become events
//! let capture = eventlog::testing::Capture::new();
//! let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
//! tracing::subscriber::with_default(subscriber, || {
//!     let _request = tracing::info_span!("checkout", request_id = "r-1").entered();
//!     log::warn!(target: "payments::gateway", "card declined");
//! });
//! let record = &capture.records()[0];
//! assert_eq!(record.str("target"), Some("payments::gateway"));
//! assert_eq!(record.str("level"), Some("WARN"));
//! assert_eq!(record.request_id(), Some("r-1"));
//! assert!(record.get("metadata").is_none()); // no `log.target`, `log.file`, …
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | enables | requires |
//! |---|---|---|
//! | `opentelemetry` | `EventLayer::with_opentelemetry`: ids from `tracing-opentelemetry` spans | `tracing-opentelemetry` 0.34, `opentelemetry` 0.33 |
//! | `metrics-server` | `MetricsServer`: a std-only HTTP endpoint for `GET /metrics` and `GET /health` | nothing (std only) |
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88. Raising it is a minor-version change.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod callsite;
mod capture;
mod deployment;
mod encode;
mod envelope;
mod error;
mod event_type;
mod fields;
mod filter;
mod health;
mod layer;
mod limit;
mod metrics;
mod otel;
mod output;
mod parsed;
mod propagation;
mod record;
mod redact;
mod reuse;
mod schema;
mod self_report;
#[cfg(feature = "metrics-server")]
mod server;
mod stats;
pub mod testing;
mod trace;
mod violation;
mod words;

pub use deployment::{Deployment, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME};
pub use envelope::{DEFAULT_PROMOTED, ENVELOPE_VERSION, Envelope, EnvelopeBuilder, Key};
pub use error::ConfigError;
pub use event_type::EventType;
pub use fields::{Field, Value};
pub use filter::EventFilter;
pub use health::{
    DEFAULT_UNREACHABLE_AFTER, Health, HealthCheck, HealthCheckBuilder, HealthReason, OutputHealth,
    OutputStatus, Verdict,
};
pub use layer::{DEFAULT_CLOSE_SUFFIX, DEFAULT_MAX_VALUE_BYTES, EventLayer, Policy, layer};
pub use limit::{
    Budget, BudgetKey, LimitError, Limits, LimitsBuilder, MAX_KEYS, MAX_SUMMARY_WINDOW, Rate,
    SUPPRESSED_EVENT, suppressed_fields,
};
pub use metrics::{Metric, MetricKind, MetricSource, Point, metric_label_name, prometheus_text};
pub use output::{JsonOutput, Output};
pub use parsed::{KeyRenames, ParseError, ParsedRecord, parse_envelope_timestamp};
pub use propagation::{DEFAULT_HEADER_FIELDS, PropagationContext, current_context};
pub use record::Record;
pub use redact::{
    Action, DEFAULT_KEYS, Detector, HASH_KEY_ENV, HASH_PREFIX, REDACTED, RedactError, Redactor,
    RedactorBuilder,
};
pub use schema::{
    EventSpec, FieldSpec, Naming, RECOMMENDED_TOML, Schema, SchemaBuilder, SchemaError,
    SchemaFormat, UnknownEvents,
};
pub use self_report::{DROP_REPORT_EVENT, DropReporter, drop_report_fields};
#[cfg(feature = "metrics-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics-server")))]
pub use server::{
    DEFAULT_METRICS_ADDRESS, DEFAULT_REQUEST_TIMEOUT, MAX_CONNECTIONS, MAX_REQUEST_BYTES,
    MAX_REQUEST_TIMEOUT, MIN_REQUEST_TIMEOUT, MetricsServer, MetricsServerBuilder,
    MetricsServerError, PROMETHEUS_CONTENT_TYPE,
};
pub use stats::{DropReason, Stats, StatsSnapshot};
pub use trace::{ParseIdError, SpanId, TraceContext, TraceId};
pub use violation::{FieldType, Violation};
