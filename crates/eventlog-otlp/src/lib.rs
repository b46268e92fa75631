//! Export [`eventlog`] records to an OpenTelemetry collector over OTLP.
//!
//! Files on one machine stop being enough once a team has many services;
//! then events go to a collector and on to Loki, Elasticsearch, ClickHouse
//! or Kafka. [`OtlpOutput`] is an [`eventlog::Output`]: it receives the same
//! redacted, schema-checked [`Record`](eventlog::Record) as the JSON output,
//! so the file and the collector always agree, and exports it as an
//! OpenTelemetry log record, over gRPC (default) or HTTP/protobuf.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let capture = eventlog::testing::Capture::new(); // JSON lines, as usual
//! let (otlp, guard) = eventlog_otlp::OtlpOutput::builder()
//!     .endpoint("http://127.0.0.1:9") // your collector, e.g. http://127.0.0.1:4317
//!     .build()?;
//! let layer = eventlog::layer().service("checkout").writer(capture.clone()).output(otlp.clone());
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     tracing::info!(event_name = "order_placed", amount = 72.49, currency = "USD");
//! });
//! assert_eq!(capture.lines().len(), 1);
//! assert_eq!(otlp.stats().emitted, 1);
//! // At exit: export what is queued (here nothing listens, so it is counted as lost).
//! let lost = guard.shutdown(std::time::Duration::from_millis(10)).unwrap_err();
//! assert!(matches!(lost, eventlog_otlp::OtlpGuardError::Timeout { pending_records: 1, .. }));
//! # Ok(()) }
//! ```
//!
//! [`layer`] is the shortcut for programs that only export:
//! `let (layer, _guard) = eventlog_otlp::layer().endpoint("http://127.0.0.1:4317").build()?;`.
//!
//! # The mapping
//!
//! | record | OTLP log record |
//! |---|---|
//! | `timestamp` | `time_unix_nano` and `observed_time_unix_nano` |
//! | `level` | `severity_number` (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17) and `severity_text` (`"INFO"`, …) |
//! | `message`, else `event_name` | `body` (a string) |
//! | `event_name` | `event_name` |
//! | `trace_id`, `span_id`, trace flags | `trace_id`, `span_id`, `flags` |
//! | `event_type` | attribute `event.type` |
//! | `user_id`, `session_id` | attributes `user.id`, `session.id` (semantic conventions) |
//! | other correlation fields (`request_id`, `correlation_id`, …) | attributes of the same name |
//! | `metadata` (the event's fields) | one attribute per field, **flattened**, under the field's own name (`order_id`, `http.response.status_code`), so fields named after semantic conventions land as those attributes; a field named like one of the attributes in this table becomes `metadata.<name>` |
//! | `span` name / fields | attribute `span.name`; attributes `span.<field>` |
//! | `duration_ms` (span-close records) | attribute `duration_ms` (double) |
//! | file, line | attributes `code.file.path`, `code.line.number` |
//! | target | the instrumentation scope name (as `opentelemetry-appender-tracing` does) |
//! | `service`, `version`, `environment`, `region`, `host` | resource `service.name`, `service.version`, `deployment.environment.name`, `cloud.region`, `host.name`, merged with `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME` (the deployment wins); plus `telemetry.sdk.*` and `telemetry.distro.name` = `eventlog-otlp`, `telemetry.distro.version` |
//!
//! Types are kept: strings stay strings, integers `int`, floats `double`,
//! booleans `bool`. Integers outside the `i64` range (large `u64`, `i128`,
//! `u128`) are sent as their exact decimal string.
//!
//! # Delivery
//!
//! ```text
//! emit ─> queue (bounded in bytes) ─> export threads (4): encode ─> gRPC / HTTP ─> collector
//!                 ^                         │ transient failure: put back, back off
//!                 └─────────────────────────┘
//! ```
//!
//! - `emit` never blocks on the network: it copies the record and queues it.
//! - A failed batch goes back to the front of the queue; nothing is lost
//!   until the byte budget ([`OtlpOutputBuilder::max_queue_bytes`], 64 MiB by
//!   default) is spent. Past it, records are dropped, counted
//!   ([`OtlpStats`], the layer's [`Stats`](eventlog::Stats) as `QueueFull`),
//!   and reported to the collector as a `log_records_dropped` record
//!   ([`DROP_REPORT_EVENT`], the self-report every eventlog output writes)
//!   once it accepts records again: one per reason, with the attributes
//!   `metadata.output` (`otlp`), `metadata.reason` (`queue_full`,
//!   `rejected` for records the collector refused, `oversized`),
//!   `metadata.dropped` and `metadata.total_dropped`.
//! - A record larger than one export request carries (3 MiB: collectors
//!   refuse messages over 4 MiB) is refused at `emit`, counted and reported
//!   as `oversized`, instead of failing every batch it joins.
//! - [`OtlpGuard::shutdown`] (or dropping the guard) exports everything
//!   queued within a timeout and says how many records were lost.
//! - Each export thread owns its runtime and connection
//!   ([`OtlpOutputBuilder::concurrent_exports`]) and runs with a no-op `tracing`
//!   dispatcher, and records whose target is the exporter's own stack
//!   (`opentelemetry*`, `tonic`, `hyper*`, `h2`, `reqwest`, `tower*`) are not
//!   exported, so there is no feedback loop. It works from a plain `main`,
//!   a current-thread and a multi-thread tokio runtime alike.
//!
//! # Configuration
//!
//! Every setting and every variable this crate reads
//! (`OTEL_EXPORTER_OTLP_[LOGS_]{ENDPOINT,PROTOCOL,TIMEOUT,COMPRESSION,HEADERS}`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`) is checked by
//! [`OtlpOutputBuilder::build`]: a value that cannot work is an
//! [`OtlpError`] naming the setting or the variable (header values and URL
//! credentials masked), a value past a documented bound is clamped
//! ([`MAX_TIMEOUT`], [`MAX_BATCH_DELAY`], [`MAX_CONCURRENT_EXPORTS`]); the
//! table is in [`OtlpOutputBuilder::new`]. Nothing fails later: an export
//! thread survives a panic of its transport (that batch is counted as
//! rejected), and no deadline overflows.
//!
//! ```
//! use eventlog_otlp::{OtlpError, OtlpOutput};
//!
//! let err = OtlpOutput::builder().endpoint("http://127.0.0.1:99999").build().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "invalid OTLP endpoint `http://127.0.0.1:99999` (from the builder): the port must be a number from 1 to 65535"
//! );
//! let err = OtlpOutput::builder().max_batch(0).build().unwrap_err();
//! assert_eq!(err.to_string(), "invalid setting `max_batch` (0): must be at least 1");
//! ```
//!
//! # Features
//!
//! | feature | enables | requires |
//! |---|---|---|
//! | `grpc` (default) | OTLP/gRPC | tonic |
//! | `http` | OTLP/HTTP with protobuf bodies ([`Protocol::HttpProtobuf`]) | reqwest |
//! | `tls` | `https://` endpoints: system roots, a CA file, a client certificate for mTLS ([`OtlpOutputBuilder::tls_ca_certificate`]) | rustls on ring, rustls-native-certs; reqwest's `rustls` for HTTP (its own aws-lc provider, so no other reqwest client of the build needs a process-wide one) |
//! | `gzip` | [`OtlpOutputBuilder::gzip`] | tonic's `gzip`, flate2 |
//!
//! # The wire
//!
//! Export requests are written as OTLP protobuf straight from the queued
//! records, not through `opentelemetry_sdk`'s `LogRecord` and
//! `opentelemetry-proto`'s prost types: that path cost ~43,000
//! instructions per record on the export thread, this one a small
//! fraction of it (the figures are in the README). The tests decode every
//! request shape with `opentelemetry-proto`'s types and check what a real
//! collector received. Failures are classified by status code as the OTLP
//! specification says: gRPC `UNAVAILABLE`, `DEADLINE_EXCEEDED`,
//! `RESOURCE_EXHAUSTED` … and HTTP 408, 429, 502, 503, 504 and connection
//! errors are retried (HTTP `Retry-After` is honoured, up to 5 minutes);
//! other statuses drop the batch, counted as rejected. A partial success
//! counts the records the collector refused as rejected.
//! [`OtlpOutput::last_error`] says why the last export failed.
//!
//! # The logger's own metrics and health
//!
//! With [`OtlpOutputBuilder::metrics_interval`], the output exports its
//! counters ([`OtlpStats::metrics`]), the layer's `Stats` and any extra
//! [`eventlog::MetricSource`] as OTLP metrics to the same collector,
//! periodically and once at shutdown, on a thread of their own. The output
//! is also an [`eventlog::MetricSource`] (for `eventlog::MetricsServer`'s
//! `/metrics`) and an [`eventlog::OutputHealth`] (for a
//! [`eventlog::HealthCheck`]: unreachable while its exports keep failing).
//!
//! ```
//! use std::time::Duration;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = eventlog::layer().without_writer();
//! let (otlp, guard) = eventlog_otlp::OtlpOutput::builder()
//!     .endpoint("http://127.0.0.1:9") // nothing listens: the final export fails, counted
//!     .stats(layer.stats())
//!     .metrics_interval(Duration::from_secs(60))
//!     .build()?;
//! let check = eventlog::HealthCheck::builder(layer.stats()).output("otlp", otlp.clone()).build();
//! assert!(check.health().is_healthy());
//! let stats = guard.shutdown(Duration::from_millis(500))?;
//! assert_eq!((stats.metric_exports, stats.failed_metric_exports), (0, 1));
//! # Ok(()) }
//! ```
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, as the workspace.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "grpc", feature = "http")))]
compile_error!(
    "eventlog-otlp needs a transport: enable the `grpc` (default) or the `http` feature"
);

mod config;
mod env;
mod error;
mod layer;
mod mapping;
mod metrics;
mod output;
mod proto;
mod queue;
mod stats;
mod tls;
mod transport;
mod worker;

pub use config::{
    DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, DEFAULT_TIMEOUT, MAX_TIMEOUT,
    OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    OTEL_EXPORTER_OTLP_LOGS_HEADERS, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_LOGS_EXPORTER, OTEL_SDK_DISABLED, Protocol,
};
#[allow(deprecated)]
pub use error::{OtlpError, OtlpGuardError, ShutdownError};
pub use layer::{OtlpLayerBuilder, layer};
pub use mapping::DROP_REPORT_EVENT;
pub use metrics::{DEFAULT_METRICS_INTERVAL, MAX_METRICS_INTERVAL, MIN_METRICS_INTERVAL};
pub use output::{
    DEFAULT_BATCH_DELAY, DEFAULT_CONCURRENT_EXPORTS, DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE_BYTES,
    DEFAULT_SHUTDOWN_TIMEOUT, MAX_BATCH_DELAY, MAX_CONCURRENT_EXPORTS, OtlpGuard, OtlpOutput,
    OtlpOutputBuilder,
};
pub use stats::OtlpStats;
pub use tls::{
    OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
    OTEL_EXPORTER_OTLP_CLIENT_KEY, OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
    OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
};
