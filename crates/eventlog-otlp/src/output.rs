//! `OtlpOutput`, its builder, its guard and its counters.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eventlog::{Deployment, DropReason, MetricSource, Output, Record, Stats};

use crate::config::{Lookup, Protocol, Resolved, TransportSettings, process_env};
use crate::mapping::is_own_target;
use crate::metrics::{MAX_METRICS_INTERVAL, MIN_METRICS_INTERVAL, MetricsExporter, Sources};
use crate::queue::{Entry, Queue, Shared, add, deadline_after};
use crate::stats::OtlpStats;
use crate::transport::Transport;
use crate::worker::{LoopSettings, MAX_BATCH_BYTES, Worker};
use crate::{OtlpError, OtlpGuardError};

/// The byte budget of the queue unless configured otherwise: 64 MiB. A
/// record counts its text plus its memory (~150 B, 16 B per attribute):
/// ~450 B for an event with a few fields, ~650 B for the bench event (six
/// fields, two spans, three correlation ids), so the default holds about
/// 100,000–150,000 records, close to two minutes of 1,000 events/s while
/// the collector is unreachable.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_MAX_QUEUE_BYTES, 64 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_QUEUE_BYTES: usize = 64 << 20;
/// Records per export request unless configured otherwise.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_MAX_BATCH, 2048);
/// ```
pub const DEFAULT_MAX_BATCH: usize = 2048;
/// Longest time a record waits in the queue before an export starts,
/// unless configured otherwise.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_BATCH_DELAY, std::time::Duration::from_millis(200));
/// ```
pub const DEFAULT_BATCH_DELAY: Duration = Duration::from_millis(200);
/// The longest [`batch_delay`](OtlpOutputBuilder::batch_delay): a longer
/// one (`Duration::MAX` included) is clamped to it. Flush and shutdown
/// export at once whatever the delay.
///
/// ```
/// assert_eq!(eventlog_otlp::MAX_BATCH_DELAY, std::time::Duration::from_secs(3600));
/// ```
pub const MAX_BATCH_DELAY: Duration = Duration::from_secs(3600);
/// The shortest batch delay: a shorter one (zero included) is raised to
/// it, so idle export threads wake at most once a millisecond.
const MIN_BATCH_DELAY: Duration = Duration::from_millis(1);
/// Export requests in flight at once unless configured otherwise.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_CONCURRENT_EXPORTS, 4);
/// ```
pub const DEFAULT_CONCURRENT_EXPORTS: usize = 4;
/// The most [`concurrent_exports`](OtlpOutputBuilder::concurrent_exports):
/// each is a thread with its own runtime and connection, and a larger
/// value is clamped to this one.
///
/// ```
/// assert_eq!(eventlog_otlp::MAX_CONCURRENT_EXPORTS, 64);
/// ```
pub const MAX_CONCURRENT_EXPORTS: usize = 64;
/// How long dropping the guard waits for the queue to drain, unless configured otherwise.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_SHUTDOWN_TIMEOUT, std::time::Duration::from_secs(5));
/// ```
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

const INITIAL_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Exports every record to an OpenTelemetry collector over OTLP.
///
/// An [`Output`] for [`eventlog::EventLayer::output`]: `emit` copies the
/// record into a queue bounded in bytes and returns at once; dedicated
/// export threads batch, map ([crate docs](crate#the-mapping)) and export. Cheap
/// to clone; every clone feeds the same queue.
///
/// ```
/// use eventlog_otlp::OtlpOutput;
/// use tracing_subscriber::prelude::*;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // No collector listens on port 9: records wait in the queue.
/// let (otlp, guard) = OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
/// let layer = eventlog::layer().without_writer().output(otlp.clone());
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(event_name = "order_placed", amount = 72.49);
/// });
/// assert_eq!(otlp.stats().emitted, 1);
/// assert_eq!(otlp.stats().queued, 1);
/// // Shutting down gives up after its timeout and says what was lost.
/// let err = guard.shutdown(std::time::Duration::from_millis(50)).unwrap_err();
/// assert!(matches!(err, eventlog_otlp::OtlpGuardError::Timeout { pending_records: 1, .. }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OtlpOutput {
    shared: Arc<Shared>,
    flush_timeout: Duration,
}

/// Configures an [`OtlpOutput`]; see [`OtlpOutput::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct OtlpOutputBuilder {
    transport: TransportSettings,
    max_queue_bytes: usize,
    max_batch: usize,
    batch_delay: Duration,
    retry: bool,
    concurrent_exports: usize,
    shutdown_timeout: Duration,
    deployment: Option<Deployment>,
    stats: Option<Stats>,
    metrics_interval: Option<Duration>,
    metric_sources: Sources,
}

impl Default for OtlpOutputBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl OtlpOutputBuilder {
    /// A builder with the defaults:
    ///
    /// | setting | default | bounds | environment (code wins) |
    /// |---|---|---|---|
    /// | [`protocol`](Self::protocol) | gRPC | — | `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL` |
    /// | [`endpoint`](Self::endpoint) | `http://localhost:4317` (gRPC), `http://localhost:4318/v1/logs` (HTTP) | `http://`, a host, port 1–65535, no credentials: else an error | `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (as is), `OTEL_EXPORTER_OTLP_ENDPOINT` (HTTP adds `/v1/logs`) |
    /// | [`timeout`](Self::timeout) | 10 s per export | under 1 ms: an error; over [`MAX_TIMEOUT`](crate::MAX_TIMEOUT) (1 h): clamped | `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` (ms) |
    /// | [`gzip`](Self::gzip) | off | needs the `gzip` feature | `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION` |
    /// | [`header`](Self::header) | none | printable ASCII values, names not set by the exporter: else an error | `OTEL_EXPORTER_OTLP_LOGS_HEADERS`, `OTEL_EXPORTER_OTLP_HEADERS` (added) |
    /// | [`max_queue_bytes`](Self::max_queue_bytes) | [`DEFAULT_MAX_QUEUE_BYTES`] (64 MiB) | 0: an error | — |
    /// | [`max_batch`](Self::max_batch) | [`DEFAULT_MAX_BATCH`] (2048) | 0: an error | — |
    /// | [`batch_delay`](Self::batch_delay) | [`DEFAULT_BATCH_DELAY`] (200 ms) | clamped to 1 ms ..= [`MAX_BATCH_DELAY`] (1 h) | — |
    /// | [`retry`](Self::retry) | on | — | — |
    /// | [`concurrent_exports`](Self::concurrent_exports) | [`DEFAULT_CONCURRENT_EXPORTS`] (4) | 0: an error; over [`MAX_CONCURRENT_EXPORTS`] (64): clamped | — |
    /// | [`shutdown_timeout`](Self::shutdown_timeout) | [`DEFAULT_SHUTDOWN_TIMEOUT`] (5 s) | any (`Duration::MAX`: until drained) | — |
    /// | [`deployment`](Self::deployment) | the first record's | — | `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME` |
    /// | [`metrics_interval`](Self::metrics_interval) | off: no metrics exported | clamped to [`MIN_METRICS_INTERVAL`](crate::MIN_METRICS_INTERVAL) (100 ms) ..= [`MAX_METRICS_INTERVAL`](crate::MAX_METRICS_INTERVAL) (1 h) | — |
    /// | [`metric_source`](Self::metric_source) | none (this output's and the layer's counters only) | — | — |
    ///
    /// The environment is read by [`build`](Self::build), and a malformed
    /// value is an [`OtlpError`] there naming the variable; nothing is read
    /// or checked later, on the export threads. The SDK's batch variables
    /// (`OTEL_BLRP_*`) are not read: this output has its own queue.
    ///
    /// ```
    /// use eventlog_otlp::{OtlpOutputBuilder, DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE_BYTES};
    ///
    /// let b = OtlpOutputBuilder::new();
    /// assert_eq!(b.queue_bytes_limit(), DEFAULT_MAX_QUEUE_BYTES);
    /// assert_eq!(DEFAULT_MAX_QUEUE_BYTES, 64 << 20);
    /// assert_eq!(b.batch_limit(), DEFAULT_MAX_BATCH);
    /// assert!(b.retries());
    /// ```
    pub fn new() -> Self {
        Self {
            transport: TransportSettings::default(),
            max_queue_bytes: DEFAULT_MAX_QUEUE_BYTES,
            max_batch: DEFAULT_MAX_BATCH,
            batch_delay: DEFAULT_BATCH_DELAY,
            retry: true,
            concurrent_exports: DEFAULT_CONCURRENT_EXPORTS,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            deployment: None,
            stats: None,
            metrics_interval: None,
            metric_sources: Sources::default(),
        }
    }

    /// The collector URL. gRPC: `http://host:4317`; HTTP: the full logs
    /// URL, `http://host:4318/v1/logs`, used as is. Wins over
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` and `OTEL_EXPORTER_OTLP_ENDPOINT`.
    ///
    /// Checked by [`build`](Self::build) ([`OtlpError::Endpoint`]): the
    /// scheme is `http` or `https` (with the `tls` feature; see
    /// [`tls_ca_certificate`](Self::tls_ca_certificate)), the host is a name or an IP address (IPv6 in brackets, `[::1]`), the
    /// port, when given, a number from 1 to 65535; credentials in the URL
    /// (`user:pw@`) and fragments are refused.
    ///
    /// ```
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let err = OtlpOutput::builder().endpoint("localhost").build().unwrap_err();
    /// assert!(err.to_string().starts_with("invalid OTLP endpoint `localhost`"));
    /// for bad in ["http://127.0.0.1:99999", "http://127.0.0.1:-1", "http://127.0.0.1:0"] {
    ///     let err = OtlpOutput::builder().endpoint(bad).build().unwrap_err();
    ///     assert!(matches!(err, OtlpError::Endpoint { reason: "the port must be a number from 1 to 65535", .. }));
    /// }
    /// let err = OtlpOutput::builder().endpoint("http://u:pw@collector:4317").build().unwrap_err();
    /// assert!(!err.to_string().contains("pw"), "{err}");
    /// assert!(OtlpOutput::builder().endpoint("http://[::1]:9").build().is_ok());
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.transport.endpoint = Some(url.into());
        self
    }

    /// The wire protocol. Wins over `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL` and
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`.
    ///
    /// ```
    /// use eventlog_otlp::{OtlpOutput, Protocol};
    ///
    /// let built = OtlpOutput::builder().protocol(Protocol::HttpProtobuf).endpoint("http://127.0.0.1:9/v1/logs").build();
    /// assert_eq!(built.is_ok(), cfg!(feature = "http"));
    /// ```
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.transport.protocol = Some(protocol);
        self
    }

    /// Timeout of one export request (connecting included). Wins over
    /// `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT` and `OTEL_EXPORTER_OTLP_TIMEOUT`.
    ///
    /// Under 1 ms (zero included) is an [`OtlpError::Setting`] at
    /// [`build`](Self::build): every export would time out. Over
    /// [`MAX_TIMEOUT`](crate::MAX_TIMEOUT) (one hour, `Duration::MAX` included) is clamped to
    /// it. Shutdown never waits for it: an export still in flight at the
    /// shutdown deadline is abandoned and its records counted as lost.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let at = |t| OtlpOutput::builder().endpoint("http://127.0.0.1:9").timeout(t).build();
    /// assert!(at(Duration::from_secs(3)).is_ok());
    /// assert!(at(Duration::MAX).is_ok()); // clamped to an hour
    /// assert!(matches!(at(Duration::ZERO), Err(OtlpError::Setting { setting: "timeout", .. })));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.transport.timeout = Some(timeout);
        self
    }

    /// Compresses requests with gzip (feature `gzip`). Wins over
    /// `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION` and `OTEL_EXPORTER_OTLP_COMPRESSION`.
    ///
    /// ```
    /// let built = eventlog_otlp::OtlpOutput::builder().gzip(true).endpoint("http://127.0.0.1:9").build();
    /// assert_eq!(built.is_ok(), cfg!(feature = "gzip"));
    /// ```
    pub fn gzip(mut self, on: bool) -> Self {
        self.transport.gzip = Some(on);
        self
    }

    /// Adds a header (gRPC metadata) to every request, such as an API key.
    /// Headers from `OTEL_EXPORTER_OTLP_LOGS_HEADERS` /
    /// `OTEL_EXPORTER_OTLP_HEADERS` are added too; this one wins over a
    /// header of the same name (names are case-insensitive).
    ///
    /// Checked by [`build`](Self::build) ([`OtlpError::Header`], which
    /// never repeats the value): the name must be a header name, not one
    /// the exporter sets or HTTP/2 forbids (`content-type`,
    /// `content-encoding`, `content-length`, `transfer-encoding`,
    /// `connection`, `keep-alive`, `proxy-connection`, `upgrade`, `te`,
    /// `host`), and over gRPC lowercase letters, digits, `-`, `_`, `.`, not
    /// `grpc-…` or `…-bin`; the value printable ASCII (no control
    /// characters, no non-ASCII text, which gRPC servers refuse).
    ///
    /// ```
    /// let built = eventlog_otlp::OtlpOutput::builder()
    ///     .header("x-api-key", "secret")
    ///     .endpoint("http://127.0.0.1:9")
    ///     .build();
    /// assert!(built.is_ok());
    /// let bad = eventlog_otlp::OtlpOutput::builder().header("bad key", "v").build();
    /// assert!(bad.is_err());
    /// let bad = eventlog_otlp::OtlpOutput::builder().header("x-token", "café").build();
    /// assert!(matches!(bad, Err(eventlog_otlp::OtlpError::Header { .. })));
    /// ```
    pub fn header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.transport.headers.insert(key.into(), value.into());
        self
    }

    /// For an `https://` endpoint: trust the CA certificates in this PEM
    /// file instead of the system's roots. Wins over
    /// `OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE` / `OTEL_EXPORTER_OTLP_CERTIFICATE`.
    /// Read and checked by [`build`](Self::build) ([`OtlpError::Tls`]); with
    /// an `http://` endpoint it is an [`OtlpError::Setting`] (a plain
    /// endpoint would silently ignore it). Needs the `tls` feature for the
    /// `https://` endpoint itself.
    ///
    /// ```
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let err = OtlpOutput::builder()
    ///     .endpoint("http://127.0.0.1:4317")
    ///     .tls_ca_certificate("ca.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, OtlpError::Setting { .. }));
    /// ```
    pub fn tls_ca_certificate(mut self, pem_file: impl Into<std::path::PathBuf>) -> Self {
        self.transport.tls.ca = Some(pem_file.into());
        self
    }

    /// For an `https://` collector that requires mutual TLS: this client's
    /// certificate chain and its private key, two PEM files. Win over
    /// `OTEL_EXPORTER_OTLP_[LOGS_]CLIENT_CERTIFICATE` / `…_CLIENT_KEY`. Read
    /// and checked by [`build`](Self::build): a file that is missing, holds
    /// no certificate or no key, or a key that does not fit the certificate
    /// is an [`OtlpError::Tls`] naming the file.
    ///
    /// ```
    /// # #[cfg(feature = "tls")] {
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let cert = dir.path().join("client.pem");
    /// std::fs::write(&cert, "not a certificate")?;
    /// let err = OtlpOutput::builder()
    ///     .endpoint("https://collector:4317")
    ///     .tls_client_certificate(&cert, dir.path().join("client.key"))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, OtlpError::Tls { what: "client key", .. }), "{err}");
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tls_client_certificate(
        mut self,
        cert_pem_file: impl Into<std::path::PathBuf>,
        key_pem_file: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.transport.tls.client = Some((cert_pem_file.into(), key_pem_file.into()));
        self
    }

    /// The queue's budget in bytes (an estimate close to the encoded size:
    /// text plus a fixed cost per record and attribute). Records that
    /// arrive while it is spent are dropped and counted
    /// ([`DropReason::QueueFull`]); once one is refused, the next ones are
    /// refused without being copied until an export frees space, so a long
    /// outage costs callers next to nothing. A failed batch keeps its bytes
    /// until it is delivered.
    ///
    /// Zero is an [`OtlpError::Setting`] at [`build`](Self::build). Nothing
    /// is allocated up front, so any other value is accepted;
    /// `usize::MAX` means no budget (memory is the only limit during an
    /// outage).
    ///
    /// ```
    /// let b = eventlog_otlp::OtlpOutput::builder().max_queue_bytes(1 << 20);
    /// assert_eq!(b.queue_bytes_limit(), 1 << 20);
    /// assert!(eventlog_otlp::OtlpOutput::builder().max_queue_bytes(0).build().is_err());
    /// ```
    pub fn max_queue_bytes(mut self, bytes: usize) -> Self {
        self.max_queue_bytes = bytes;
        self
    }

    /// Records per export request. Larger batches suit gRPC (one request
    /// in flight per output).
    ///
    /// Zero is an [`OtlpError::Setting`] at [`build`](Self::build). A
    /// request also stops at 3 MiB of records whatever this says (a
    /// collector refuses larger messages), so `usize::MAX` means "as many
    /// as fit".
    ///
    /// ```
    /// let b = eventlog_otlp::OtlpOutput::builder().max_batch(512);
    /// assert_eq!(b.batch_limit(), 512);
    /// assert!(eventlog_otlp::OtlpOutput::builder().max_batch(0).build().is_err());
    /// ```
    pub fn max_batch(mut self, records: usize) -> Self {
        self.max_batch = records;
        self
    }

    /// Longest time a record waits before an export starts (a full batch,
    /// a flush and shutdown start one at once).
    ///
    /// Clamped to 1 ms ..= [`MAX_BATCH_DELAY`] (one hour): zero is 1 ms,
    /// `Duration::MAX` an hour.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder()
    ///     .endpoint("http://127.0.0.1:9")
    ///     .batch_delay(Duration::MAX) // an hour
    ///     .build()?;
    /// assert!(guard.shutdown(Duration::from_millis(10)).is_ok());
    /// # Ok(()) }
    /// ```
    pub fn batch_delay(mut self, delay: Duration) -> Self {
        self.batch_delay = delay.clamp(MIN_BATCH_DELAY, MAX_BATCH_DELAY);
        self
    }

    /// Retries failed exports with backoff (250 ms doubling to 2 s, with
    /// jitter) and keeps the records queued meanwhile; on by default.
    /// Failures the OTLP specification calls final (invalid argument,
    /// unauthenticated, HTTP 4xx but 408/429) drop the batch either way.
    /// Off: a batch whose export fails is dropped and counted.
    ///
    /// ```
    /// assert!(!eventlog_otlp::OtlpOutput::builder().retry(false).retries());
    /// ```
    pub fn retry(mut self, on: bool) -> Self {
        self.retry = on;
        self
    }

    /// How many export requests may be in flight at once; each has its own
    /// thread and connection. One request at a time is latency-bound
    /// (gRPC against some collectors stalls ~40 ms per request), so
    /// several keep the collector busy.
    ///
    /// Zero is an [`OtlpError::Setting`] at [`build`](Self::build); more
    /// than [`MAX_CONCURRENT_EXPORTS`] (64) is clamped to it.
    ///
    /// ```
    /// let b = eventlog_otlp::OtlpOutput::builder().concurrent_exports(1);
    /// assert_eq!(b.concurrent_exports_limit(), 1);
    /// let b = eventlog_otlp::OtlpOutput::builder().concurrent_exports(usize::MAX);
    /// assert_eq!(b.concurrent_exports_limit(), eventlog_otlp::MAX_CONCURRENT_EXPORTS);
    /// assert!(eventlog_otlp::OtlpOutput::builder().concurrent_exports(0).build().is_err());
    /// ```
    pub fn concurrent_exports(mut self, n: usize) -> Self {
        self.concurrent_exports = n.min(MAX_CONCURRENT_EXPORTS);
        self
    }

    /// How long dropping the [`OtlpGuard`] waits for the queue to drain
    /// (and how long [`Output::flush`] waits).
    ///
    /// Any value: `Duration::ZERO` drops what is queued at once (counted),
    /// `Duration::MAX` waits until the queue is drained, however long the
    /// collector takes (a guard dropped at exit then holds the process
    /// while the collector is down).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder()
    ///     .endpoint("http://127.0.0.1:9")
    ///     .shutdown_timeout(std::time::Duration::MAX)
    ///     .build()?;
    /// drop(guard); // nothing queued: returns at once
    /// # Ok(()) }
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The resource's deployment context (`service.name`, …). Without it,
    /// the first record's (the layer's) context is used. Either way,
    /// `OTEL_RESOURCE_ATTRIBUTES` fills the other resource attributes.
    ///
    /// ```
    /// let b = eventlog_otlp::OtlpOutput::builder().deployment(eventlog::Deployment::new().service("checkout"));
    /// # let _ = b;
    /// ```
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = Some(deployment);
        self
    }

    /// The layer's counters, so drops that happen after `emit` accepted a
    /// record (rejected by the collector, lost at shutdown) are counted
    /// there too. [`layer`](crate::layer) sets this.
    ///
    /// ```
    /// let layer = eventlog::layer().without_writer();
    /// let b = eventlog_otlp::OtlpOutput::builder().stats(layer.stats());
    /// # let _ = b;
    /// ```
    pub fn stats(mut self, stats: Stats) -> Self {
        self.stats = Some(stats);
        self
    }

    /// Exports the logger's own counters as OTLP metrics every `interval`
    /// (off by default; [`DEFAULT_METRICS_INTERVAL`](crate::DEFAULT_METRICS_INTERVAL)
    /// is OpenTelemetry's 60 s), and once more at shutdown: this output's
    /// [`OtlpStats`] ([`OtlpStats::metrics`]), the layer's
    /// [`Stats`] when [`stats`](Self::stats) is set (as
    /// [`layer`](crate::layer) does), and every
    /// [`metric_source`](Self::metric_source). Counters are monotonic
    /// cumulative `Sum`s, the queue's depth and bytes `Gauge`s, with the
    /// logs' resource, to the same collector over the same transport (gRPC
    /// `MetricsService/Export`; HTTP the logs URL with `/v1/logs` replaced
    /// by `/v1/metrics`). Clamped to [`MIN_METRICS_INTERVAL`](crate::MIN_METRICS_INTERVAL)
    /// ..= [`MAX_METRICS_INTERVAL`](crate::MAX_METRICS_INTERVAL).
    ///
    /// Metrics have their own thread and connection: a collector that is
    /// down delays no log batch, a failed metrics export is counted
    /// ([`OtlpStats::failed_metric_exports`]) and not retried (the next
    /// carries the same totals), and shutdown waits for the final export
    /// only until its own timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = eventlog_otlp::OtlpOutput::builder().metrics_interval(Duration::ZERO);
    /// assert_eq!(b.metrics_interval_setting(), Some(eventlog_otlp::MIN_METRICS_INTERVAL));
    /// assert_eq!(eventlog_otlp::OtlpOutput::builder().metrics_interval_setting(), None);
    /// ```
    pub fn metrics_interval(mut self, interval: Duration) -> Self {
        self.metrics_interval = Some(interval.clamp(MIN_METRICS_INTERVAL, MAX_METRICS_INTERVAL));
        self
    }

    /// Adds metrics to the OTLP metrics export (see
    /// [`metrics_interval`](Self::metrics_interval)): the appender's
    /// counters, say, through a closure.
    ///
    /// ```
    /// use eventlog::Metric;
    /// let lines = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    /// let b = eventlog_otlp::OtlpOutput::builder()
    ///     .metrics_interval(std::time::Duration::from_secs(60))
    ///     .metric_source(move |out: &mut Vec<Metric>| {
    ///         let n = lines.load(std::sync::atomic::Ordering::Relaxed);
    ///         out.push(Metric::counter("eventlog.file.lines.written", "Lines written.").value(n));
    ///     });
    /// # let _ = b;
    /// ```
    pub fn metric_source(mut self, source: impl MetricSource + 'static) -> Self {
        self.metric_sources.0.push(Arc::new(source));
        self
    }

    /// The metrics interval set, after the clamp (`None`: off).
    pub fn metrics_interval_setting(&self) -> Option<Duration> {
        self.metrics_interval
    }

    /// The configured byte budget.
    pub fn queue_bytes_limit(&self) -> usize {
        self.max_queue_bytes
    }

    /// The configured batch size.
    pub fn batch_limit(&self) -> usize {
        self.max_batch
    }

    /// The configured number of concurrent exports.
    pub fn concurrent_exports_limit(&self) -> usize {
        self.concurrent_exports
    }

    /// Whether failed exports are retried.
    pub fn retries(&self) -> bool {
        self.retry
    }

    /// Checks the settings, reads the environment, builds the exporter and
    /// starts the export thread. No connection is made yet: a collector
    /// that is down is not an error (records wait in the queue).
    ///
    /// ```
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let err = OtlpOutput::builder().max_batch(0).build().unwrap_err();
    /// assert!(matches!(err, OtlpError::Setting { setting: "max_batch", .. }));
    /// ```
    pub fn build(self) -> Result<(OtlpOutput, OtlpGuard), OtlpError> {
        self.build_with_env(&process_env)
    }

    /// [`build`](Self::build), reading variables through `env` instead of
    /// the process environment (tests give a map: setting the process
    /// environment races with other threads).
    pub(crate) fn build_with_env(
        self,
        env: Lookup<'_>,
    ) -> Result<(OtlpOutput, OtlpGuard), OtlpError> {
        for (setting, value) in [
            ("max_batch", self.max_batch),
            ("concurrent_exports", self.concurrent_exports),
            ("max_queue_bytes", self.max_queue_bytes),
        ] {
            if value == 0 {
                return Err(OtlpError::Setting {
                    setting,
                    value: "0".to_owned(),
                    reason: "must be at least 1",
                });
            }
        }
        let resolved = self.transport.resolve_with(env)?;
        let disabled = crate::config::exporter_disabled(env)?;
        // The setters clamp; a builder is only made through them. A disabled
        // output starts no export thread.
        let concurrent = if disabled {
            0
        } else {
            self.concurrent_exports.min(MAX_CONCURRENT_EXPORTS)
        };
        let batch_delay = self.batch_delay.clamp(MIN_BATCH_DELAY, MAX_BATCH_DELAY);
        let mut exporters = Vec::with_capacity(concurrent);
        for _ in 0..concurrent {
            exporters.push(build_transport(&resolved)?);
        }
        let metrics = match self.metrics_interval {
            Some(interval) if !disabled => Some((interval, build_transport(&resolved)?)),
            _ => None,
        };
        let timeout = resolved.timeout;
        let shared = Arc::new(Shared {
            queue: std::sync::Mutex::new(Queue {
                running: exporters.len(),
                ..Queue::default()
            }),
            wake: std::sync::Condvar::new(),
            progress: std::sync::Condvar::new(),
            counters: crate::queue::Counters::default(),
            full: std::sync::atomic::AtomicBool::new(false),
            max_bytes: self.max_queue_bytes,
            max_batch: self.max_batch,
            deployment: OnceLock::new(),
            resource_env: resolved.resource,
            stats: self.stats.clone(),
            spare: std::sync::Mutex::new(Vec::new()),
            last_error: std::sync::Mutex::new(None),
            failing_since: std::sync::Mutex::new(None),
            disabled,
            #[cfg(test)]
            panic_next_export: std::sync::atomic::AtomicBool::new(false),
        });
        if let Some(d) = self.deployment {
            let _ = shared.deployment.set(d);
        }
        let settings = LoopSettings {
            batch_delay,
            retry: self.retry,
            initial_backoff: INITIAL_BACKOFF,
            max_backoff: MAX_BACKOFF,
        };
        let mut threads = Vec::with_capacity(exporters.len());
        for (i, (runtime, transport)) in exporters.into_iter().enumerate() {
            let worker = Worker {
                shared: Arc::clone(&shared),
                runtime,
                transport,
                settings,
            };
            let spawned = std::thread::Builder::new()
                .name(format!("eventlog-otlp-{i}"))
                .spawn(move || worker.run());
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(e) => {
                    // Stop the threads already started before reporting.
                    drop(OtlpGuard {
                        shared: Arc::clone(&shared),
                        threads,
                        metrics: None,
                        timeout: Duration::ZERO,
                    });
                    return Err(OtlpError::Thread(e));
                }
            }
        }
        let mut guard = OtlpGuard {
            shared: Arc::clone(&shared),
            threads,
            metrics: None,
            timeout: self.shutdown_timeout,
        };
        if let Some((interval, exporter)) = metrics {
            guard.start_metrics(interval, exporter, timeout, self.stats, self.metric_sources)?;
        }
        Ok((
            OtlpOutput {
                shared,
                flush_timeout: self.shutdown_timeout,
            },
            guard,
        ))
    }
}

/// The export thread's runtime and connection.
fn build_transport(r: &Resolved) -> Result<(tokio::runtime::Runtime, Transport), OtlpError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(OtlpError::Thread)?;
    let transport = Transport::new(r, &runtime)?;
    Ok((runtime, transport))
}

impl OtlpOutput {
    /// A builder with the defaults; see [`OtlpOutputBuilder::new`].
    ///
    /// ```
    /// let b = eventlog_otlp::OtlpOutput::builder();
    /// assert!(b.retries());
    /// ```
    pub fn builder() -> OtlpOutputBuilder {
        OtlpOutputBuilder::new()
    }

    /// A copy of this output's counters.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (otlp, _guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// assert_eq!(otlp.stats(), eventlog_otlp::OtlpStats::default());
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> OtlpStats {
        self.shared.snapshot()
    }

    /// Why the last failed export failed (the gRPC status or HTTP status
    /// and the collector's message, or the connection error), or what the
    /// collector said when it rejected part of a batch. `None` until an
    /// export fails; it stays set after later successes, so a counter in
    /// [`stats`](Self::stats) that moved can be explained.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (otlp, _guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// assert_eq!(otlp.last_error(), None); // nothing was exported yet
    /// # Ok(()) }
    /// ```
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error()
    }

    /// Exports everything queued now and waits until the collector has
    /// accepted it (or every record is counted as dropped), at most
    /// `timeout`. On timeout the records stay queued and export goes on.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (otlp, _guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// otlp.flush_within(std::time::Duration::from_millis(10))?; // nothing queued
    /// # Ok(()) }
    /// ```
    pub fn flush_within(&self, timeout: Duration) -> Result<(), OtlpGuardError> {
        flush_within(&self.shared, timeout)
    }
}

/// The collector counts as unreachable from the first failed export after
/// the last successful one (a partly rejected batch is a success: the
/// collector answered); the layer's own drops are in its `Stats`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use eventlog::OutputHealth as _;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (otlp, _guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
/// assert_eq!(otlp.output_status().failing_since, None, "nothing exported yet");
/// let check = eventlog::HealthCheck::builder(eventlog::Stats::new())
///     .output("otlp", otlp.clone())
///     .build();
/// assert!(check.health().is_healthy());
/// # Ok(()) }
/// ```
impl eventlog::OutputHealth for OtlpOutput {
    fn output_status(&self) -> eventlog::OutputStatus {
        eventlog::OutputStatus::new().failing_since(self.shared.failing_since())
    }
}

/// This output's counters ([`OtlpStats::metrics`]), for a `/metrics`
/// endpoint or another exporter.
///
/// ```
/// use eventlog::MetricSource as _;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (otlp, _guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
/// let mut metrics = Vec::new();
/// otlp.collect(&mut metrics);
/// assert!(metrics.iter().any(|m| m.name == "eventlog.otlp.records.exported"));
/// # Ok(()) }
/// ```
impl MetricSource for OtlpOutput {
    fn collect(&self, out: &mut Vec<eventlog::Metric>) {
        out.extend(self.shared.snapshot().metrics());
    }
}

/// Asks for an export of everything queued and waits for the queue to drain.
fn flush_within(shared: &Shared, timeout: Duration) -> Result<(), OtlpGuardError> {
    let deadline = deadline_after(timeout);
    let mut q = shared.lock();
    let drained = |q: &crate::queue::Queue| q.entries.is_empty() && q.in_flight == 0;
    if drained(&q) {
        return Ok(());
    }
    q.flush_wanted = true;
    shared.wake.notify_one();
    loop {
        if drained(&q) {
            return Ok(());
        }
        if q.running == 0 {
            return Err(OtlpGuardError::WorkerStopped);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(OtlpGuardError::Timeout {
                timeout,
                pending_records: (q.entries.len() + q.in_flight) as u64,
            });
        }
        q = match shared.progress.wait_timeout(q, deadline - now) {
            Ok((q, _)) => q,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
}

impl Output for OtlpOutput {
    fn emit(&self, record: &Record<'_>) -> Result<(), DropReason> {
        let shared = &*self.shared;
        if shared.disabled || is_own_target(record.target()) {
            add(&shared.counters.filtered, 1);
            return Err(DropReason::Filtered);
        }
        add(&shared.counters.emitted, 1);
        if shared.full.load(Ordering::Relaxed) {
            add(&shared.counters.dropped_queue_full, 1);
            add(&shared.counters.unreported_queue_full, 1);
            return Err(DropReason::QueueFull);
        }
        if shared.deployment.get().is_none() {
            let _ = shared.deployment.set(record.deployment().clone());
        }
        let mut pending = shared.take_spare();
        pending.fill_from(record);
        let bytes = pending.budget_bytes();
        if bytes > MAX_BATCH_BYTES {
            // No request can carry it (collectors refuse messages over
            // 4 MiB), and a refused batch is retried: it would wedge the
            // queue. Refuse it now, counted and reported as oversized.
            add(&shared.counters.dropped_oversized, 1);
            add(&shared.counters.unreported_oversized, 1);
            shared.set_last_error(format!(
                "a record of about {bytes} bytes is larger than one export request carries ({MAX_BATCH_BYTES} bytes): refused"
            ));
            return Err(DropReason::Oversized);
        }
        let mut q = shared.lock();
        if q.closing.is_some() {
            drop(q);
            add(&shared.counters.dropped_shutdown, 1);
            return Err(DropReason::Shutdown);
        }
        if q.bytes.saturating_add(bytes) > shared.max_bytes {
            shared.full.store(true, Ordering::Relaxed);
            drop(q);
            add(&shared.counters.dropped_queue_full, 1);
            add(&shared.counters.unreported_queue_full, 1);
            return Err(DropReason::QueueFull);
        }
        q.bytes += bytes;
        q.entries.push_back(Entry {
            pending,
            bytes,
            report: false,
        });
        let full = q.entries.len() == shared.max_batch;
        drop(q);
        if full {
            shared.wake.notify_one();
        }
        Ok(())
    }

    /// Waits (up to the shutdown timeout) until the collector has accepted
    /// everything queued; `TimedOut` if it has not.
    fn flush(&self) -> std::io::Result<()> {
        self.flush_within(self.flush_timeout).map_err(|e| {
            let kind = match e {
                OtlpGuardError::Timeout { .. } => std::io::ErrorKind::TimedOut,
                _ => std::io::ErrorKind::BrokenPipe,
            };
            std::io::Error::new(kind, e)
        })
    }
}

/// Keeps the export thread alive; dropping it (or calling
/// [`shutdown`](OtlpGuard::shutdown)) exports everything queued within the
/// shutdown timeout.
///
/// Bind it to a named variable that lives as long as the program logs:
/// `let _guard = …` keeps it, while `let _ = …` drops it at once, which
/// shuts the output down.
///
/// Shutting down never needs the application's async runtime, so it is
/// safe from a current-thread tokio runtime (where
/// `opentelemetry_sdk`'s own shutdown deadlocks, its issue #2583).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
/// let stats = guard.shutdown(std::time::Duration::from_secs(1))?; // nothing queued: Ok
/// assert_eq!(stats.dropped(), 0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard shuts the OTLP output down at once"]
pub struct OtlpGuard {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// The metrics thread and the channel that asks for its final export.
    metrics: Option<(JoinHandle<()>, std::sync::mpsc::Sender<Instant>)>,
    timeout: Duration,
}

impl OtlpGuard {
    /// The output's counters.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// assert_eq!(guard.stats().exported, 0);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> OtlpStats {
        self.shared.snapshot()
    }

    /// Why the last failed export failed; see [`OtlpOutput::last_error`].
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// assert_eq!(guard.last_error(), None);
    /// # Ok(()) }
    /// ```
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error()
    }

    /// Exports everything queued now and waits for it, at most the
    /// output's shutdown timeout ([`OtlpOutputBuilder::shutdown_timeout`]);
    /// see [`flush_within`](Self::flush_within).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// guard.flush()?; // nothing queued
    /// # Ok(()) }
    /// ```
    pub fn flush(&self) -> Result<(), OtlpGuardError> {
        self.flush_within(self.timeout)
    }

    /// Exports everything queued now and waits until the collector has
    /// accepted it (or every record is counted as dropped), at most
    /// `timeout`; the same as [`OtlpOutput::flush_within`].
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// guard.flush_within(std::time::Duration::from_millis(10))?;
    /// # Ok(()) }
    /// ```
    pub fn flush_within(&self, timeout: Duration) -> Result<(), OtlpGuardError> {
        flush_within(&self.shared, timeout)
    }

    /// Stops taking records, exports everything queued, and stops the
    /// export thread, all within `timeout`. Records still queued then are
    /// dropped, counted ([`DropReason::Shutdown`]) and reported in the
    /// error.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (_otlp, guard) = eventlog_otlp::OtlpOutput::builder().endpoint("http://127.0.0.1:9").build()?;
    /// assert!(guard.shutdown(std::time::Duration::from_millis(100)).is_ok());
    /// # Ok(()) }
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> Result<OtlpStats, OtlpGuardError> {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> Result<OtlpStats, OtlpGuardError> {
        let deadline = deadline_after(timeout);
        let logs = self.stop_logs(timeout);
        // Logs first, so the final metrics carry the final counts.
        if self.stop_metrics(deadline) {
            // Re-read: the final metrics export counted itself.
            return logs.map(|_| self.shared.snapshot());
        }
        logs
    }

    /// Starts the metrics thread (see [`OtlpOutputBuilder::metrics_interval`]).
    fn start_metrics(
        &mut self,
        interval: Duration,
        (runtime, transport): (tokio::runtime::Runtime, Transport),
        timeout: Duration,
        stats: Option<Stats>,
        extra: Sources,
    ) -> Result<(), OtlpError> {
        // The layer's counters first, then the extra sources.
        let mut sources: Vec<Arc<dyn MetricSource>> = Vec::new();
        sources.extend(stats.map(|s| Arc::new(s) as Arc<dyn MetricSource>));
        sources.extend(extra.0);
        let (stop, stopped) = std::sync::mpsc::channel();
        let exporter = MetricsExporter {
            shared: Arc::clone(&self.shared),
            runtime,
            transport: transport.for_metrics(),
            interval,
            timeout,
            sources,
            start_ns: crate::metrics::unix_nanos(std::time::SystemTime::now()),
            stop: stopped,
        };
        let thread = std::thread::Builder::new()
            .name("eventlog-otlp-metrics".into())
            .spawn(move || exporter.run())
            .map_err(OtlpError::Thread)?;
        self.metrics = Some((thread, stop));
        Ok(())
    }

    /// Asks the metrics thread for its final export and waits for it until
    /// `deadline` (a little past it: the export itself gives up at
    /// `deadline`); a thread still busy then is left to finish alone.
    /// True when it had a metrics thread.
    fn stop_metrics(&mut self, deadline: Instant) -> bool {
        let Some((thread, stop)) = self.metrics.take() else {
            return false;
        };
        let _ = stop.send(deadline);
        let give_up = deadline
            .checked_add(Duration::from_millis(50))
            .unwrap_or(deadline);
        while !thread.is_finished() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(2));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
        true
    }

    fn stop_logs(&mut self, timeout: Duration) -> Result<OtlpStats, OtlpGuardError> {
        let shared = &*self.shared;
        let deadline = deadline_after(timeout);
        let mut q = shared.lock();
        if q.closing.is_none() {
            q.closing = Some(deadline);
        }
        shared.wake.notify_all();
        // A little past the deadline: the export thread drops what is left
        // at the deadline itself, then reports.
        let give_up = deadline
            .checked_add(Duration::from_millis(50))
            .unwrap_or(deadline);
        let all_finished = |threads: &[JoinHandle<()>]| threads.iter().all(JoinHandle::is_finished);
        while q.running > 0 {
            let now = Instant::now();
            if now >= give_up || all_finished(&self.threads) {
                break;
            }
            let wait = (give_up - now).min(Duration::from_millis(50));
            q = match shared.progress.wait_timeout(q, wait) {
                Ok((q, _)) => q,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        if q.running == 0 || all_finished(&self.threads) {
            // Every thread has stopped. Normally nothing is left; a thread
            // that died (a bug) may have left records: count them.
            let stranded = q.entries.iter().filter(|e| !e.report).count() + q.in_flight;
            q.entries.clear();
            q.in_flight = 0;
            let all = q.bytes;
            shared.release(&mut q, all);
            drop(q);
            if stranded > 0 {
                shared.lost(stranded, DropReason::Shutdown);
            }
            let mut panicked = false;
            for thread in self.threads.drain(..) {
                panicked |= thread.join().is_err();
            }
            if panicked {
                shared.set_last_error("an OTLP export thread panicked".to_owned());
                return Err(OtlpGuardError::WorkerStopped);
            }
            let stats = shared.snapshot();
            let lost = stats.dropped_shutdown;
            return if lost == 0 {
                Ok(stats)
            } else {
                Err(OtlpGuardError::Timeout {
                    timeout,
                    pending_records: lost,
                })
            };
        }
        // An export is still in flight: abandon the threads (each exits
        // after its export) and count everything not confirmed as lost.
        let lost = q.entries.iter().filter(|e| !e.report).count() + q.in_flight;
        q.abandoned = true;
        q.entries.clear();
        let all = q.bytes;
        shared.release(&mut q, all);
        drop(q);
        shared.lost(lost, DropReason::Shutdown);
        self.threads.clear();
        Err(OtlpGuardError::Timeout {
            timeout,
            pending_records: shared.counters.dropped_shutdown.load(Ordering::Relaxed),
        })
    }
}

impl Drop for OtlpGuard {
    fn drop(&mut self) {
        if !self.threads.is_empty() || self.metrics.is_some() {
            let _ = self.stop(self.timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;
    use tracing_subscriber::prelude::*;

    use super::*;
    use crate::config::tests::{assert_named, environments};

    /// A panic while encoding or sending fails that batch (counted as
    /// rejected, the reason in `last_error`); the thread lives on and
    /// handles the next batch, and shutdown reports a timeout, not
    /// `WorkerStopped`.
    #[test]
    fn a_panicking_export_costs_its_batch_not_the_thread() {
        let (otlp, guard) = OtlpOutput::builder()
            .endpoint("http://127.0.0.1:9")
            .concurrent_exports(1)
            .retry(false)
            .build()
            .unwrap();
        otlp.shared.panic_next_export.store(true, Ordering::Relaxed);
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(eventlog::layer().without_writer().output(otlp.clone())),
        );
        let emit = |n: u64| {
            tracing::dispatcher::with_default(&dispatch, || {
                for seq in 0..n {
                    tracing::info!(target: "app", event_name = "order_placed", seq);
                }
            });
        };
        emit(3);
        assert_eq!(
            otlp.flush_within(Duration::from_secs(10)),
            Ok(()),
            "{:?}",
            otlp.stats()
        );
        let s = otlp.stats();
        assert_eq!((s.dropped_rejected, s.failed_exports), (3, 1), "{s:?}");
        assert_eq!(
            otlp.last_error().as_deref(),
            Some("the export panicked: injected by the test")
        );
        // The same thread takes the next batch (refused: nothing listens).
        emit(2);
        assert_eq!(
            otlp.flush_within(Duration::from_secs(10)),
            Ok(()),
            "{:?}",
            otlp.stats()
        );
        let s = guard.shutdown(Duration::from_secs(1)).unwrap();
        assert_eq!((s.dropped_rejected, s.failed_exports), (5, 2), "{s:?}");
        assert!(
            otlp.last_error().unwrap().contains("gRPC"),
            "{:?}",
            otlp.last_error()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("EVENTLOG_OTLP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
        ))]

        /// Any environment (every variable this crate reads, with garbage)
        /// builds or is a typed error naming a variable that was set. What
        /// builds shuts down without a panic within its timeout, with every
        /// record counted; against the dead port 9, with a record queued.
        #[test]
        fn any_environment_builds_or_errs_and_shuts_down(env in environments()) {
            let lookup = |name: &str| env.get(name).cloned();
            let builder = OtlpOutput::builder().concurrent_exports(1);
            let resolved = builder.transport.resolve_with(&lookup);
            let built = builder.build_with_env(&lookup);
            assert_named(built.as_ref().map(|_| ()), &env);
            prop_assert_eq!(resolved.is_ok(), built.is_ok());
            if let (Ok(r), Ok((otlp, guard))) = (resolved, built) {
                // Only loopback: another host would mean a DNS lookup.
                let dead = ["http://127.0.0.1:9", "http://[::1]:9"]
                    .iter()
                    .any(|d| r.endpoint == *d || r.endpoint.starts_with(&format!("{d}/")));
                if dead {
                    let layer = eventlog::layer().without_writer().output(otlp.clone());
                    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
                        tracing::info!(target: "app", event_name = "order_placed", seq = 1_u64);
                    });
                }
                let queued = otlp.stats();
                prop_assert_eq!(queued.emitted, u64::from(dead), "{:?}", queued);
                let timeout = Duration::from_millis(20);
                let started = Instant::now();
                let result = guard.shutdown(timeout);
                prop_assert!(started.elapsed() < timeout + Duration::from_secs(3));
                let s = otlp.stats();
                prop_assert_eq!(s.emitted, s.exported + s.dropped(), "{:?}", s);
                match result {
                    Ok(_) => prop_assert_eq!(s.dropped_shutdown, 0),
                    Err(OtlpGuardError::Timeout { pending_records, .. }) => prop_assert_eq!(pending_records, s.dropped_shutdown),
                    Err(e) => prop_assert!(false, "{e:?}"),
                }
            }
        }
    }
}
