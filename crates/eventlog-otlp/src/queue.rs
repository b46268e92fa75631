//! The bounded queue between callers and the export thread, and its counters.
//!
//! ```text
//! emit (caller) ── Pending ──> VecDeque (bounded in bytes) ──> export thread
//!                                   ^                             │
//!                                   └── failed batch, put back ───┘
//! ```
//!
//! A record's bytes stay counted from `emit` until the collector accepted
//! it, so a batch in flight or put back still holds its share of the budget.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use eventlog::{Deployment, DropReason, Stats};

use crate::config::ResourceEnv;
use crate::mapping::Pending;

/// `now + d`, saturating far in the future instead of panicking
/// (`Instant + Duration::MAX` panics): `d` is often the caller's.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    // ~30 years, as tokio's far future; then a day, in case the clock's
    // representation is narrow; `now` cannot be reached in practice.
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365 * 30)))
        .or_else(|| now.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(now)
}

/// One queued record.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) pending: Pending,
    pub(crate) bytes: usize,
    /// A drop report made by the export thread, not a caller's record.
    pub(crate) report: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    pub(crate) entries: VecDeque<Entry>,
    /// Bytes of every record not yet accepted by the collector (queued or in flight).
    pub(crate) bytes: usize,
    /// Records taken for export and not yet settled.
    pub(crate) in_flight: usize,
    /// A flush asked for an export now.
    pub(crate) flush_wanted: bool,
    /// Shutdown started: export what is left until `deadline`, take nothing new.
    pub(crate) closing: Option<Instant>,
    /// The guard gave up waiting: the export thread touches no counter any more.
    pub(crate) abandoned: bool,
    /// Export threads still running.
    pub(crate) running: usize,
}

/// Live counters, all relaxed atomics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) emitted: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_rejected: AtomicU64,
    pub(crate) dropped_oversized: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) filtered: AtomicU64,
    pub(crate) failed_exports: AtomicU64,
    pub(crate) drop_reports: AtomicU64,
    pub(crate) metric_exports: AtomicU64,
    pub(crate) failed_metric_exports: AtomicU64,
    /// Drops not yet reported to the collector: the budget was spent.
    pub(crate) unreported_queue_full: AtomicU64,
    /// Drops not yet reported to the collector: it refused them.
    pub(crate) unreported_rejected: AtomicU64,
    /// Drops not yet reported to the collector: too large for a request.
    pub(crate) unreported_oversized: AtomicU64,
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// State shared by the output handles, the guard and the export thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) queue: Mutex<Queue>,
    /// Wakes the export thread.
    pub(crate) wake: Condvar,
    /// Wakes flushers and the guard when the queue shrinks or the thread stops.
    pub(crate) progress: Condvar,
    pub(crate) counters: Counters,
    /// Set when `emit` refused a record for want of budget, cleared when an
    /// export frees bytes: while set, `emit` refuses at once, without
    /// copying the record (an outage costs callers nothing).
    pub(crate) full: AtomicBool,
    pub(crate) max_bytes: usize,
    pub(crate) max_batch: usize,
    /// The resource source: set by the builder, else by the first record.
    pub(crate) deployment: OnceLock<Deployment>,
    /// `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME`, read at build time.
    pub(crate) resource_env: ResourceEnv,
    /// The layer's counters, told about drops that happen after `emit`.
    pub(crate) stats: Option<Stats>,
    /// Buffers of exported records, for `emit` to reuse.
    pub(crate) spare: Mutex<Vec<Pending>>,
    /// Why the last failed (or partly rejected) export failed.
    pub(crate) last_error: Mutex<Option<String>>,
    /// When the current run of failed exports began; `None` after a success.
    pub(crate) failing_since: Mutex<Option<Instant>>,
    /// `OTEL_SDK_DISABLED=true` or `OTEL_LOGS_EXPORTER=none`: every record
    /// is refused as filtered, no export thread runs.
    pub(crate) disabled: bool,
    /// Tests only: the next export panics, to show the thread survives it.
    #[cfg(test)]
    pub(crate) panic_next_export: AtomicBool,
}

/// Most spare buffers kept (about two full batches per export thread).
const MAX_SPARE: usize = 16 * 1024;

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue consistent (every
        // update is a single push/pop plus counter changes), so keep going.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A buffer for the next record: a spare one if any.
    pub(crate) fn take_spare(&self) -> Pending {
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    /// Keeps the buffers of settled entries for reuse.
    pub(crate) fn recycle(&self, entries: impl IntoIterator<Item = Entry>) {
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        for e in entries {
            if spare.len() >= MAX_SPARE {
                break;
            }
            if !e.report && e.pending.reusable() {
                spare.push(e.pending);
            }
        }
    }

    /// Remembers why an export failed, for `last_error`.
    pub(crate) fn set_last_error(&self, message: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(message);
    }

    /// An export failed: the run of failures starts now unless it already had.
    pub(crate) fn export_failed(&self) {
        self.failing_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(Instant::now);
    }

    /// An export succeeded: the collector is reachable.
    pub(crate) fn export_succeeded(&self) {
        *self
            .failing_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(crate) fn failing_since(&self) -> Option<Instant> {
        *self
            .failing_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Releases budget bytes (under the queue lock).
    pub(crate) fn release(&self, q: &mut Queue, bytes: usize) {
        q.bytes = q.bytes.saturating_sub(bytes);
        self.full.store(false, Ordering::Relaxed);
    }

    /// Counts records lost after `emit` accepted them.
    pub(crate) fn lost(&self, n: usize, reason: DropReason) {
        let n64 = n as u64;
        if reason == DropReason::Shutdown {
            add(&self.counters.dropped_shutdown, n64);
        } else {
            add(&self.counters.dropped_rejected, n64);
            add(&self.counters.unreported_rejected, n64);
        }
        if let Some(stats) = &self.stats {
            for _ in 0..n {
                stats.record_dropped(reason);
            }
        }
    }

    /// Records lost for any reason so far (the drop report's `total_dropped`).
    pub(crate) fn dropped_so_far(&self) -> u64 {
        let c = &self.counters;
        [
            &c.dropped_queue_full,
            &c.dropped_rejected,
            &c.dropped_oversized,
            &c.dropped_shutdown,
        ]
        .iter()
        .fold(0u64, |sum, a| sum.saturating_add(a.load(Ordering::Relaxed)))
    }

    pub(crate) fn snapshot(&self) -> crate::stats::OtlpStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (queued, queued_bytes) = {
            let q = self.lock();
            ((q.entries.len() + q.in_flight) as u64, q.bytes as u64)
        };
        crate::stats::OtlpStats {
            emitted: get(&c.emitted),
            exported: get(&c.exported),
            queued,
            queued_bytes,
            dropped_queue_full: get(&c.dropped_queue_full),
            dropped_rejected: get(&c.dropped_rejected),
            dropped_oversized: get(&c.dropped_oversized),
            dropped_shutdown: get(&c.dropped_shutdown),
            filtered: get(&c.filtered),
            failed_exports: get(&c.failed_exports),
            drop_reports: get(&c.drop_reports),
            metric_exports: get(&c.metric_exports),
            failed_metric_exports: get(&c.failed_metric_exports),
        }
    }
}
