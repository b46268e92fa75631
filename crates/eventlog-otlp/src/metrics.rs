//! The logger's own counters as OTLP metrics: a thread of its own, with
//! its own connection, exporting every source periodically and once more
//! at shutdown.
//!
//! ```text
//! every interval, and at shutdown:
//!   OtlpStats (this output) ─┐
//!   the layer's Stats ───────┼─ collect ─> [Metric] ─> ExportMetricsServiceRequest ─> collector
//!   extra MetricSources ─────┘                         (same resource, same transport)
//! ```
//!
//! Separate from the log export threads on purpose: a collector that is
//! down or hung delays only this thread, never a log batch, and shutdown
//! waits for the final export only until its own deadline.

use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use eventlog::{Metric, MetricSource};

use crate::mapping::resource;
use crate::proto::{metrics_request, resource_bytes};
use crate::queue::{Shared, add, deadline_after};
use crate::stats::OtlpStats;
use crate::transport::Transport;

/// The default of [`OtlpOutputBuilder::metrics_interval`](crate::OtlpOutputBuilder::metrics_interval):
/// 60 s, as OpenTelemetry's `OTEL_METRIC_EXPORT_INTERVAL`.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_METRICS_INTERVAL.as_secs(), 60);
/// ```
pub const DEFAULT_METRICS_INTERVAL: Duration = Duration::from_secs(60);

/// Shortest metrics interval; a shorter one is clamped to it.
///
/// ```
/// assert_eq!(eventlog_otlp::MIN_METRICS_INTERVAL.as_millis(), 100);
/// ```
pub const MIN_METRICS_INTERVAL: Duration = Duration::from_millis(100);

/// Longest metrics interval; a longer one is clamped to it.
///
/// ```
/// assert_eq!(eventlog_otlp::MAX_METRICS_INTERVAL.as_secs(), 3600);
/// ```
pub const MAX_METRICS_INTERVAL: Duration = Duration::from_secs(3600);

/// Extra metric sources of a builder (cloneable, printable).
#[derive(Clone, Default)]
pub(crate) struct Sources(pub(crate) Vec<Arc<dyn MetricSource>>);

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} metric sources", self.0.len())
    }
}

impl OtlpStats {
    /// These counters as [`Metric`]s, named `eventlog.otlp.*` (Prometheus
    /// `eventlog_otlp_*`; the README's table lists them): counters, and two
    /// gauges for the queue (`eventlog.otlp.queue.records`,
    /// `eventlog.otlp.queue.bytes`).
    ///
    /// ```
    /// let metrics = eventlog_otlp::OtlpStats::default().metrics();
    /// let text = eventlog::prometheus_text(&metrics);
    /// assert!(text.contains("\neventlog_otlp_records_dropped_total{reason=\"queue_full\"} 0\n"));
    /// assert!(text.contains("\n# TYPE eventlog_otlp_queue_bytes gauge\n"));
    /// ```
    pub fn metrics(&self) -> Vec<Metric> {
        const RECORD: &str = "{record}";
        vec![
            Metric::counter(
                "eventlog.otlp.records.emitted",
                "Records handed to the OTLP output.",
            )
            .unit(RECORD)
            .value(self.emitted),
            Metric::counter(
                "eventlog.otlp.records.exported",
                "Records the collector accepted.",
            )
            .unit(RECORD)
            .value(self.exported),
            Metric::counter(
                "eventlog.otlp.records.dropped",
                "Records the OTLP output lost, by reason.",
            )
            .unit(RECORD)
            .labeled("reason", "queue_full", self.dropped_queue_full)
            .labeled("reason", "rejected", self.dropped_rejected)
            .labeled("reason", "oversized", self.dropped_oversized)
            .labeled("reason", "shutdown", self.dropped_shutdown),
            Metric::counter(
                "eventlog.otlp.records.filtered",
                "Records of the exporter's own stack, never exported (not a loss).",
            )
            .unit(RECORD)
            .value(self.filtered),
            Metric::counter(
                "eventlog.otlp.exports.failed",
                "Log export requests that failed (each retried or dropped).",
            )
            .unit("{request}")
            .value(self.failed_exports),
            Metric::counter(
                "eventlog.otlp.drop_reports",
                "Drop-report records sent to the collector.",
            )
            .unit(RECORD)
            .value(self.drop_reports),
            Metric::counter(
                "eventlog.otlp.metric_exports",
                "Metrics export requests the collector accepted.",
            )
            .unit("{request}")
            .value(self.metric_exports),
            Metric::counter(
                "eventlog.otlp.metric_exports.failed",
                "Metrics export requests that failed (not retried: the next one carries the totals).",
            )
            .unit("{request}")
            .value(self.failed_metric_exports),
            Metric::gauge(
                "eventlog.otlp.queue.records",
                "Records queued or in flight now.",
            )
            .unit(RECORD)
            .value(self.queued),
            Metric::gauge(
                "eventlog.otlp.queue.bytes",
                "Bytes of the queue's budget in use now.",
            )
            .unit("By")
            .value(self.queued_bytes),
        ]
    }
}

/// The metrics thread.
pub(crate) struct MetricsExporter {
    pub(crate) shared: Arc<Shared>,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) transport: Transport,
    pub(crate) interval: Duration,
    /// The per-request timeout of the transport settings.
    pub(crate) timeout: Duration,
    /// The layer's stats (when given), then the extra sources.
    pub(crate) sources: Vec<Arc<dyn MetricSource>>,
    /// The start of the cumulative counts (the output's build).
    pub(crate) start_ns: u64,
    /// The guard sends the final export's deadline (or hangs up).
    pub(crate) stop: Receiver<Instant>,
}

/// Nanoseconds since the Unix epoch (0 for a clock before it).
pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl MetricsExporter {
    pub(crate) fn run(mut self) {
        // As the log threads: nothing here may reach the application's subscriber.
        let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        loop {
            match self.stop.recv_timeout(self.interval) {
                Err(RecvTimeoutError::Timeout) => {
                    let deadline = deadline_after(self.timeout);
                    self.export(deadline);
                }
                Ok(deadline) => {
                    self.export(deadline);
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let MetricsExporter {
            runtime, transport, ..
        } = self;
        drop(transport);
        drop(runtime);
    }

    /// Collects every source now and sends one request, giving up at `deadline`.
    fn export(&mut self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            add(&self.shared.counters.failed_metric_exports, 1);
            return;
        }
        let mut metrics = self.shared.snapshot().metrics();
        for source in &self.sources {
            // A source is the caller's code (a closure over the appender's
            // counters, say): one that panics is left out of this export,
            // and the thread lives on to send the next.
            let mut theirs = Vec::new();
            let collected = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                source.collect(&mut theirs);
            }));
            match collected {
                Ok(()) => metrics.append(&mut theirs),
                Err(_panic) => self
                    .shared
                    .set_last_error("metrics export: a metric source panicked".to_owned()),
            }
        }
        let deployment = self.shared.deployment.get().cloned().unwrap_or_default();
        let resource = resource_bytes(&resource(&deployment, &self.shared.resource_env));
        let body = metrics_request(
            &resource,
            &metrics,
            self.start_ns,
            unix_nanos(SystemTime::now()),
        );
        let transport = &mut self.transport;
        let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.runtime
                .block_on(async { tokio::time::timeout(left, transport.export(body)).await })
        }));
        let counters = &self.shared.counters;
        match attempt {
            Ok(Ok(Ok(_))) => add(&counters.metric_exports, 1),
            Ok(Ok(Err(failure))) => {
                add(&counters.failed_metric_exports, 1);
                self.shared
                    .set_last_error(format!("metrics export: {}", failure.message));
            }
            Ok(Err(_elapsed)) => {
                add(&counters.failed_metric_exports, 1);
                self.shared.set_last_error(format!(
                    "metrics export: no answer within {} ms",
                    left.as_millis()
                ));
            }
            Err(_panic) => {
                add(&counters.failed_metric_exports, 1);
                self.shared
                    .set_last_error("metrics export: the export panicked".to_owned());
            }
        }
    }
}
