//! One service of the main job, as a real HTTP server on loopback: its own
//! eventlog layer (schema, redaction, span timing), its own rotated files,
//! and its own tokio runtime, every thread of which writes through that
//! layer.
//!
//! Two services in one process need two subscribers, so neither is the
//! global default: each runtime thread takes its service's dispatcher as
//! the thread's default when it starts (the pattern of
//! `tests/e2e/stacks.rs`), and the server task runs only there.
//!
//! Each service also serves the library's `/metrics` and `/health`
//! (`eventlog::MetricsServer`) on a loopback port of its own: the layer's
//! counters, the file writer's (adapted with a closure) and, when OTLP is
//! configured, the exporter's.

use std::error::Error;
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use eventlog::{HealthCheck, Metric, MetricsServer, OutputStatus};
use eventlog_appender::{Backpressure, NonBlockingBuilder, RollingFile, WriterStats};
use eventlog_http::ServerLayer;
use tracing_subscriber::prelude::*;

/// What a service is given to start.
#[derive(Debug)]
pub struct ServiceSpec<'a> {
    /// Its name: the records' `service`, and its files' prefix.
    pub name: &'static str,
    /// Where its files go.
    pub logs: &'a Path,
    /// Size at which its file rotates.
    pub max_file_bytes: u64,
    /// The event schema it checks records against.
    pub schema: eventlog::Schema,
    /// The shared dead-letter file (opened for appending: a line is one write).
    pub dead_letter: Arc<File>,
    /// Its log-storm guard.
    pub limits: eventlog::Limits,
}

/// What a stopped service reports.
#[derive(Debug, Clone, Default)]
pub struct ServiceReport {
    /// The logger's health over the whole run (file and OTLP outputs included).
    pub health: eventlog::Health,
    /// The layer's counts.
    pub layer: eventlog::StatsSnapshot,
    /// Lines the file writer lost after the layer handed them over.
    pub lost_on_disk: u64,
    /// Records exported over OTLP, when an endpoint was configured.
    pub exported: Option<u64>,
}

/// A running service.
#[derive(Debug)]
pub struct Service {
    addr: SocketAddr,
    dispatch: tracing::Dispatch,
    stats: eventlog::Stats,
    /// `/metrics` and `/health`; stopped with the service.
    metrics: MetricsServer,
    /// The health over the whole run, looked at once, at the end.
    health: HealthCheck,
    runtime: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    files: eventlog_appender::Guard,
    otlp: Option<eventlog_otlp::OtlpGuard>,
}

impl Service {
    /// Starts the router `app` makes behind [`ServerLayer`] on a loopback
    /// port, and the library's metrics endpoint on another.
    pub fn start(
        spec: ServiceSpec<'_>,
        app: impl FnOnce() -> Router,
    ) -> Result<Self, Box<dyn Error>> {
        let layer = eventlog::layer()
            .service(spec.name)
            .environment("demo")
            .region("eu-west-1")
            .version(env!("CARGO_PKG_VERSION"))
            .schema(spec.schema)
            .schema_policy(eventlog::Policy::dead_letter(spec.dead_letter))
            .limits(spec.limits)
            .close_events(true);
        // Lines the file writer loses are reported in the file itself, in the
        // layer's envelope (`log_records_dropped`).
        let reporter = layer.drop_reporter("file");
        let (file, files) = RollingFile::builder()
            .directory(spec.logs)
            .prefix(spec.name)
            .max_bytes(spec.max_file_bytes)
            .compress(true)
            .keep(10_000)
            .non_blocking(
                NonBlockingBuilder::new()
                    .backpressure(Backpressure::BLOCK)
                    .self_report(move |r, out| {
                        reporter.write(r.reason.as_str(), r.count, r.total, out);
                    }),
            )
            .build_non_blocking()?;
        let disk = file.stats();
        let mut layer = layer.writer(file);
        let stats = layer.stats();
        let mut otlp = None;
        let mut otlp_output = None;
        if otlp_configured() {
            let (output, guard) = eventlog_otlp::OtlpOutput::builder()
                .stats(stats.clone())
                .build()?;
            layer = layer.output(output.clone());
            otlp_output = Some(output);
            otlp = Some(guard);
        }
        let mut metrics = MetricsServer::builder()
            .source(stats.clone())
            .source(file_metrics(disk.clone()))
            .health(health_check(&stats, &disk, otlp_output.as_ref()));
        if let Some(output) = otlp_output.clone() {
            metrics = metrics.source(output);
        }
        let metrics = metrics.start()?;
        let health = health_check(&stats, &disk, otlp_output.as_ref());
        // INFO and up, for the whole subscriber: hyper's and reqwest's debug
        // lines (no event name, no schema) stay out, at no cost per call.
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_subscriber::filter::LevelFilter::INFO)
                .with(layer),
        );

        let for_threads = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(spec.name)
            // Each thread's default for its whole life: the guard is never
            // dropped, the thread's end drops the dispatcher with it.
            .on_thread_start(move || {
                std::mem::forget(tracing::dispatcher::set_default(&for_threads));
            })
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let app = app().layer(ServerLayer::new());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = runtime.spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Self {
            addr,
            dispatch,
            stats,
            metrics,
            health,
            runtime,
            stop,
            server,
            files,
            otlp,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where its `/metrics` and `/health` are served.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// Runs `f` with the service's subscriber as the default, for records
    /// outside any request (start-up, the end of the job).
    pub fn in_service<T>(&self, f: impl FnOnce() -> T) -> T {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Stops taking requests, finishes the open ones, and waits until every
    /// record is on disk (and exported).
    pub fn stop(self) -> Result<ServiceReport, Box<dyn Error>> {
        let _ = self.stop.send(());
        self.runtime.block_on(self.server)??;
        self.runtime.shutdown_timeout(Duration::from_secs(10));
        drop(self.dispatch);
        let disk = self.files.shutdown(Duration::from_secs(30))?;
        let exported = match self.otlp {
            Some(g) => Some(g.shutdown(Duration::from_secs(30))?.exported),
            None => None,
        };
        drop(self.metrics);
        Ok(ServiceReport {
            health: self.health.health(),
            layer: self.stats.snapshot(),
            lost_on_disk: disk.dropped_io + disk.dropped_shutdown,
            exported,
        })
    }
}

/// The health of a service's logging: the layer's drops and internal
/// errors, the file writer's I/O errors, and the collector, when there is
/// one, unreachable for 30 s.
fn health_check(
    stats: &eventlog::Stats,
    disk: &WriterStats,
    otlp: Option<&eventlog_otlp::OtlpOutput>,
) -> HealthCheck {
    let disk = disk.clone();
    let mut check = HealthCheck::builder(stats.clone()).output("file", move || {
        OutputStatus::new().io_errors(disk.snapshot().write_errors)
    });
    if let Some(output) = otlp {
        check = check.output("otlp", output.clone());
    }
    check.build()
}

/// The file writer's counters as metrics (`eventlog-appender` does not
/// depend on `eventlog`, so a closure adapts them).
fn file_metrics(disk: WriterStats) -> impl Fn(&mut Vec<Metric>) + Send + Sync + 'static {
    move |out: &mut Vec<Metric>| {
        let s = disk.snapshot();
        out.push(
            Metric::counter(
                "eventlog.file.lines.written",
                "Lines the file writer wrote.",
            )
            .unit("{line}")
            .value(s.lines_written),
        );
        out.push(
            Metric::counter(
                "eventlog.file.bytes.written",
                "Bytes the file writer wrote.",
            )
            .unit("By")
            .value(s.bytes_written),
        );
        out.push(
            Metric::counter(
                "eventlog.file.lines.dropped",
                "Lines the file writer lost, by reason.",
            )
            .unit("{line}")
            .labeled("reason", "queue_full", s.dropped_queue_full)
            .labeled("reason", "oversized", s.dropped_oversized)
            .labeled("reason", "io", s.dropped_io)
            .labeled("reason", "shutdown", s.dropped_shutdown),
        );
        out.push(
            Metric::counter("eventlog.file.write_errors", "Failed write or flush calls.")
                .unit("{error}")
                .value(s.write_errors),
        );
        out.push(
            Metric::counter("eventlog.file.rotations", "Files rotated.")
                .unit("{file}")
                .value(s.rotations),
        );
    }
}

fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|e| !e.is_empty()))
}
