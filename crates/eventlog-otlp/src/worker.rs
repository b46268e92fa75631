//! The export thread: takes batches off the queue, encodes and exports
//! them, puts failed ones back, and backs off while the collector is
//! unreachable.
//!
//! ```text
//! loop:  wait (batch full · batch delay · flush · shutdown)
//!        take ≤ max_batch ──> encode ──> transport.export ──┬─ ok ─────────> release bytes, count
//!                                                           ├─ transient ──> put back at the front, back off
//!                                                           └─ permanent ──> drop, count, report later
//! ```
//!
//! The thread owns a current-thread tokio runtime, so it works whatever
//! runtime, if any, the application runs, and shutting down never waits
//! on the application's runtime. It runs with a no-op `tracing`
//! dispatcher, so the transport's own diagnostics cannot come back
//! through the layer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eventlog::DropReason;

use crate::mapping::{Pending, resource};
use crate::proto::{PartialSuccess, RequestWriter, resource_bytes};
use crate::queue::{Entry, Shared, add, deadline_after};
use crate::transport::{ExportFailure, Transport};

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

pub(crate) struct Worker {
    pub(crate) shared: Arc<Shared>,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) transport: Transport,
    pub(crate) settings: LoopSettings,
}

/// Counts the thread out when dropped, on every path out of `run`.
struct Exit(Arc<Shared>);

impl Drop for Exit {
    fn drop(&mut self) {
        let mut q = self.0.lock();
        q.running = q.running.saturating_sub(1);
        drop(q);
        self.0.progress.notify_all();
    }
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
        // However the loop ends, even by a panic (a bug), the guard and
        // flushers learn this thread stopped; the guard then counts what
        // it left behind.
        let _exit = Exit(Arc::clone(&self.shared));
        self.export_loop();
    }

    fn export_loop(mut self) {
        let mut writer: Option<RequestWriter> = None;
        let mut backoff: Option<(Instant, Duration)> = None;

        while let Next::Export(batch) = self.next(backoff.map(|(until, _)| until)) {
            // A panic while encoding or sending (a bug here or in the
            // transport's crates) fails this batch, counted as rejected
            // with the reason in `last_error`; the thread goes on.
            let Worker {
                shared,
                runtime,
                transport,
                ..
            } = &mut self;
            let attempt = std::panic::catch_unwind(AssertUnwindSafe(|| {
                #[cfg(test)]
                if shared
                    .panic_next_export
                    .swap(false, std::sync::atomic::Ordering::Relaxed)
                {
                    panic!("injected by the test");
                }
                // The resource is known once the first record brought the
                // layer's deployment (or the builder set one).
                let writer = writer.get_or_insert_with(|| {
                    let deployment = shared.deployment.get().cloned().unwrap_or_default();
                    RequestWriter::new(resource_bytes(&resource(&deployment, &shared.resource_env)))
                });
                let records: Vec<&Pending> = batch.iter().map(|e| &e.pending).collect();
                let body = writer.request(&records);
                drop(records);
                runtime.block_on(transport.export(body))
            }));
            let result = attempt.unwrap_or_else(|panic| {
                // The writer may hold a half-written request.
                writer = None;
                Err(ExportFailure::panicked(panic.as_ref()))
            });
            backoff = self.settle(batch, result, backoff);
        }
        let Worker {
            runtime, transport, ..
        } = self;
        // The transport first (it holds the connection), then the runtime.
        drop(transport);
        drop(runtime);
    }

    /// Waits for the next batch, or for the end.
    fn next(&self, backoff_until: Option<Instant>) -> Next {
        let shared = &*self.shared;
        let mut tick = deadline_after(self.settings.batch_delay);
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
                tick = deadline_after(self.settings.batch_delay);
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
        result: Result<PartialSuccess, ExportFailure>,
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
            Ok(partial) => {
                shared.export_succeeded();
                shared.release(&mut q, bytes);
                // A partial success names how many records the collector
                // refused, not which: count them as rejected, the rest as
                // exported (reports first, since they are ours).
                let rejected = usize::try_from(partial.rejected)
                    .unwrap_or(usize::MAX)
                    .min(records);
                add(&shared.counters.exported, (records - rejected) as u64);
                add(&shared.counters.drop_reports, reports as u64);
                if rejected > 0 {
                    shared.set_last_error(format!(
                        "the collector rejected {} of {records} records: {}",
                        partial.rejected, partial.message
                    ));
                    // Counted before the reports below, so this batch's
                    // rejections are reported at once.
                    shared.lost(rejected, DropReason::Rejected);
                }
                // Tell the collector about earlier drops, now that it
                // listens: one report per reason.
                let counters = &shared.counters;
                for (counter, reason) in [
                    (&counters.unreported_rejected, DropReason::Rejected),
                    (&counters.unreported_oversized, DropReason::Oversized),
                    (&counters.unreported_queue_full, DropReason::QueueFull),
                ] {
                    let unreported = counter.swap(0, std::sync::atomic::Ordering::Relaxed);
                    if unreported > 0 {
                        let total = shared.dropped_so_far();
                        let pending = Pending::drop_report(unreported, total, reason.as_str());
                        let bytes = pending.budget_bytes();
                        q.bytes += bytes;
                        q.entries.push_front(Entry {
                            pending,
                            bytes,
                            report: true,
                        });
                    }
                }
                if q.entries.is_empty() {
                    q.flush_wanted = false;
                }
                drop(q);
                shared.progress.notify_all();
                shared.recycle(batch);
                None
            }
            Err(err) if self.settings.retry && err.transient => {
                shared.export_failed();
                add(&shared.counters.failed_exports, 1);
                shared.set_last_error(err.message);
                // Back at the front, in order: nothing is lost until the
                // byte budget is spent.
                while let Some(e) = batch.pop() {
                    q.entries.push_front(e);
                }
                drop(q);
                let step = backoff.map_or(self.settings.initial_backoff, |(_, d)| {
                    d.saturating_mul(2).min(self.settings.max_backoff)
                });
                // ±25 % jitter, so many processes do not retry in step.
                let jitter = step.mul_f64(0.75 + fastrand::f64() * 0.5);
                // The collector's own `Retry-After`, when it gave one, wins.
                let wait = err.retry_after.unwrap_or(jitter);
                Some((deadline_after(wait), step))
            }
            Err(err) => {
                shared.export_failed();
                add(&shared.counters.failed_exports, 1);
                shared.set_last_error(err.message);
                shared.release(&mut q, bytes);
                drop(q);
                shared.lost(records, DropReason::Rejected);
                shared.progress.notify_all();
                shared.recycle(batch);
                None
            }
        }
    }
}
