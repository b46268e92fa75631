//! One service of the main job, as a real HTTP server on loopback: its own
//! eventlog layer (schema, redaction, span timing), its own rotated files,
//! and its own tokio runtime, every thread of which writes through that
//! layer.
//!
//! Two services in one process need two subscribers, so neither is the
//! global default: each runtime thread takes its service's dispatcher as
//! the thread's default when it starts (the pattern of
//! `tests/e2e/stacks.rs`), and the server task runs only there.

use std::error::Error;
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use eventlog_appender::{Backpressure, NonBlockingBuilder, RollingFile};
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
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceReport {
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
    runtime: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    files: eventlog_appender::Guard,
    otlp: Option<eventlog_otlp::OtlpGuard>,
}

impl Service {
    /// Starts the router `app` makes (given the layer's counters, for a
    /// `/metrics` route) behind [`ServerLayer`] on a loopback port.
    pub fn start(
        spec: ServiceSpec<'_>,
        app: impl FnOnce(eventlog::Stats) -> Router,
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
        let mut layer = layer.writer(file);
        let mut otlp = None;
        if otlp_configured() {
            let (output, guard) = eventlog_otlp::OtlpOutput::builder().build()?;
            layer = layer.output(output);
            otlp = Some(guard);
        }
        let stats = layer.stats();
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
        let app = app(stats.clone()).layer(ServerLayer::new());
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
        Ok(ServiceReport {
            layer: self.stats.snapshot(),
            lost_on_disk: disk.dropped_io + disk.dropped_shutdown,
            exported,
        })
    }
}

/// The layer's counters as Prometheus text, for a `/metrics` route.
pub fn metrics_route<S: Clone + Send + Sync + 'static>(
    stats: eventlog::Stats,
) -> axum::routing::MethodRouter<S> {
    axum::routing::get(move || {
        let stats = stats.clone();
        async move { stats.snapshot().prometheus_text() }
    })
}

fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|e| !e.is_empty()))
}
