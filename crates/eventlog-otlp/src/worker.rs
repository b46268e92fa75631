//! The export thread: takes batches off the queue, exports them, puts
//! failed ones back, and backs off while the collector is unreachable.
//!
//! ```text
//! loop:  wait (batch full · batch delay · flush · shutdown)
//!        take ≤ max_batch ──> map ──> exporter.export ──┬─ ok ─────────> release bytes, count
//!                                                       ├─ transient ──> put back at the front, back off
//!                                                       └─ permanent ──> drop, count, report later
//! ```
//!
//! The thread owns its async runtime (gRPC) or none (HTTP uses a blocking
//! client), so it works whatever runtime, if any, the application runs, and
//! shutting down never waits on the application's runtime. It runs with a
//! no-op `tracing` dispatcher, so the transport's own diagnostics cannot
//! come back through the layer.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use eventlog::DropReason;
use opentelemetry::InstrumentationScope;
use opentelemetry::logs::{Logger as _, LoggerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLogRecord, SdkLoggerProvider};

use crate::mapping::{Mapper, Pending, resource};
use crate::queue::{Entry, Shared, add};

/// How the export thread drives the exporter's futures.
pub(crate) enum Driver {
    /// A current-thread tokio runtime owned by the export thread (gRPC).
    #[cfg(feature = "grpc")]
    Tokio(tokio::runtime::Runtime),
    /// No runtime: the HTTP exporter's client blocks, so a parking loop
    /// polls its future.
    #[cfg(feature = "http")]
    Park,
}

impl Driver {
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        match self {
            #[cfg(feature = "grpc")]
            Driver::Tokio(rt) => rt.block_on(fut),
            #[cfg(feature = "http")]
            Driver::Park => park_on(fut),
        }
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` to completion on this thread, parking between polls.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
fn park_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// Most budget bytes in one request. Collectors refuse larger messages
/// (gRPC's default limit is 4 MiB), and a refused batch must not be
/// retried for ever; the budget estimate runs above the encoded size.
pub(crate) const MAX_BATCH_BYTES: usize = 3 << 20;

/// Retry and timing settings of the loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoopSettings {
    pub(crate) batch_delay: Duration,
    pub(crate) retry: bool,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

/// Whether a failed export may succeed later. The exporter's error is a
/// string (`OTelSdkError::InternalFailure`); it names the gRPC code or the
/// HTTP status, and the OTLP specification says which ones are final.
pub(crate) fn is_transient(message: &str) -> bool {
    if let Some(rest) = message.split("gRPC code: ").nth(1) {
        let code = rest
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default();
        return !matches!(
            code,
            "InvalidArgument"
                | "Unauthenticated"
                | "PermissionDenied"
                | "NotFound"
                | "AlreadyExists"
                | "FailedPrecondition"
                | "Unimplemented"
        );
    }
    if let Some(rest) = message.split("status code: ").nth(1) {
        let status: u16 = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        return !(400..500).contains(&status) || matches!(status, 408 | 429);
    }
    // Network errors and anything unrecognised: keep the data and retry;
    // the byte budget bounds what that can cost.
    !message.contains("already shut down") && !message.contains("shutdown")
}

pub(crate) struct Worker {
    pub(crate) shared: Arc<Shared>,
    pub(crate) driver: Driver,
    pub(crate) exporter: opentelemetry_otlp::LogExporter,
    pub(crate) settings: LoopSettings,
}

enum Next {
    Export(Vec<Entry>),
    Stop,
}

impl Worker {
    pub(crate) fn run(self) {
        // Nothing this thread does (tonic, hyper, the SDK) may reach the
        // application's subscriber: that would export the exporter's own
        // diagnostics through itself, or recurse. `export_loop` consumes
        // `self`, so the runtime and the exporter are dropped (and h2 logs
        // its connection teardown) while the no-op dispatcher is current.
        let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        self.export_loop();
    }

    fn export_loop(mut self) {
        let provider = SdkLoggerProvider::builder().build();
        let logger = provider.logger("eventlog-otlp");
        let scope = InstrumentationScope::builder("eventlog-otlp")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let mut mapper = Mapper::default();
        let mut resource_set = false;
        let mut backoff: Option<(Instant, Duration)> = None;

        while let Next::Export(batch) = self.next(backoff.map(|(until, _)| until)) {
            if !resource_set {
                let deployment = self.shared.deployment.get().cloned().unwrap_or_default();
                self.exporter.set_resource(&resource(&deployment));
                resource_set = true;
            }
            let records: Vec<SdkLogRecord> = batch
                .iter()
                .map(|e| {
                    let mut r = logger.create_log_record();
                    mapper.fill(&e.pending, &mut r);
                    r
                })
                .collect();
            let pairs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
                records.iter().map(|r| (r, &scope)).collect();
            let result: OTelSdkResult = self
                .driver
                .block_on(self.exporter.export(LogBatch::new(&pairs)));
            drop(pairs);
            drop(records);
            backoff = self.settle(batch, result, backoff);
        }
        let _ = self.exporter.shutdown_with_timeout(Duration::from_secs(1));
        drop(provider);
        let Worker {
            shared,
            driver,
            exporter,
            ..
        } = self;
        // Exporter first (it holds the connection), then the runtime.
        drop(exporter);
        #[allow(clippy::drop_non_drop)] // Only the tokio driver has a destructor.
        drop(driver);
        let mut q = shared.lock();
        q.running = q.running.saturating_sub(1);
        drop(q);
        shared.progress.notify_all();
    }

    /// Waits for the next batch, or for the end.
    fn next(&self, backoff_until: Option<Instant>) -> Next {
        let shared = &*self.shared;
        let mut tick = Instant::now() + self.settings.batch_delay;
        let mut q = shared.lock();
        loop {
            if q.abandoned {
                return Next::Stop;
            }
            let now = Instant::now();
            if let Some(deadline) = q.closing {
                if q.entries.is_empty() {
                    return Next::Stop;
                }
                if now >= deadline {
                    let lost = q.entries.iter().filter(|e| !e.report).count();
                    q.entries.clear();
                    let all = q.bytes;
                    shared.release(&mut q, all);
                    drop(q);
                    shared.lost(lost, DropReason::Shutdown);
                    return Next::Stop;
                }
            }
            let backing_off = backoff_until.filter(|until| *until > now);
            if backing_off.is_none() && !q.entries.is_empty() {
                let ready = q.entries.len() >= shared.max_batch
                    || q.bytes >= MAX_BATCH_BYTES
                    || q.closing.is_some()
                    || q.flush_wanted
                    || now >= tick;
                if ready {
                    break;
                }
            }
            if q.entries.is_empty() && now >= tick {
                tick = now + self.settings.batch_delay;
            }
            let mut until = backing_off.unwrap_or(tick);
            if let Some(deadline) = q.closing {
                until = until.min(deadline);
            }
            let wait = until
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            q = match shared.wake.wait_timeout(q, wait) {
                Ok((q, _)) => q,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        let mut n = 0;
        let mut bytes = 0;
        for e in &q.entries {
            if n == shared.max_batch || (n > 0 && bytes + e.bytes > MAX_BATCH_BYTES) {
                break;
            }
            n += 1;
            bytes += e.bytes;
        }
        let batch: Vec<Entry> = q.entries.drain(..n).collect();
        q.in_flight += batch.len();
        Next::Export(batch)
    }

    /// Accounts for an export's result; returns the backoff to apply.
    fn settle(
        &self,
        mut batch: Vec<Entry>,
        result: OTelSdkResult,
        backoff: Option<(Instant, Duration)>,
    ) -> Option<(Instant, Duration)> {
        let shared = &*self.shared;
        let bytes: usize = batch.iter().map(|e| e.bytes).sum();
        let records = batch.iter().filter(|e| !e.report).count();
        let reports = batch.len() - records;
        let mut q = shared.lock();
        q.in_flight = q.in_flight.saturating_sub(batch.len());
        if q.abandoned {
            return None;
        }
        match result {
            Ok(()) => {
                shared.release(&mut q, bytes);
                add(&shared.counters.exported, records as u64);
                add(&shared.counters.drop_reports, reports as u64);
                // Tell the collector about earlier drops, now that it listens.
                let unreported = shared
                    .counters
                    .unreported
                    .swap(0, std::sync::atomic::Ordering::Relaxed);
                if unreported > 0 {
                    let pending = Pending::drop_report(unreported, "queue_full or rejected");
                    let bytes = pending.budget_bytes();
                    q.bytes += bytes;
                    q.entries.push_front(Entry {
                        pending,
                        bytes,
                        report: true,
                    });
                }
                if q.entries.is_empty() {
                    q.flush_wanted = false;
                }
                drop(q);
                shared.progress.notify_all();
                shared.recycle(batch);
                None
            }
            Err(err) if self.settings.retry && is_transient(&err.to_string()) => {
                add(&shared.counters.failed_exports, 1);
                // Back at the front, in order: nothing is lost until the
                // byte budget is spent.
                while let Some(e) = batch.pop() {
                    q.entries.push_front(e);
                }
                drop(q);
                let step = backoff.map_or(self.settings.initial_backoff, |(_, d)| {
                    (d * 2).min(self.settings.max_backoff)
                });
                // ±25 % jitter, so many processes do not retry in step.
                let jitter = step.mul_f64(0.75 + fastrand::f64() * 0.5);
                Some((Instant::now() + jitter, step))
            }
            Err(_) => {
                add(&shared.counters.failed_exports, 1);
                shared.release(&mut q, bytes);
                drop(q);
                shared.lost(records, DropReason::Io(std::io::ErrorKind::InvalidData));
                shared.progress.notify_all();
                shared.recycle(batch);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_told_apart() {
        for transient in [
            "TonicLogsClient export failed with gRPC code: Unavailable: transport error",
            "TonicLogsClient export failed with gRPC code: DeadlineExceeded",
            "TonicLogsClient export failed with gRPC code: ResourceExhausted",
            "HTTP export failed with status code: 503",
            "HTTP export failed with status code: 429",
            "HTTP export failed: network error",
        ] {
            assert!(is_transient(transient), "{transient}");
        }
        for permanent in [
            "TonicLogsClient export failed with gRPC code: InvalidArgument",
            "TonicLogsClient export failed with gRPC code: Unauthenticated",
            "HTTP export failed with status code: 400",
            "HTTP export failed with status code: 413",
        ] {
            assert!(!is_transient(permanent), "{permanent}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn park_on_runs_a_future_without_a_runtime() {
        assert_eq!(park_on(async { 40 + 2 }), 42);
    }
}
