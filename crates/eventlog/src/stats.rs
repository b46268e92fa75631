//! Live counters: what the layer saw, wrote and lost, and why.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Why a record did not reach an output.
///
/// ```
/// use eventlog::DropReason;
///
/// assert_eq!(DropReason::QueueFull.as_str(), "queue_full");
/// assert_eq!(DropReason::Io(std::io::ErrorKind::StorageFull).as_str(), "io");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// A bounded queue between the caller and the output was full.
    QueueFull,
    /// Writing failed with this I/O error.
    Io(std::io::ErrorKind),
    /// A policy chose to drop it (for example a schema violation with `drop`).
    Policy,
    /// The output was already shut down.
    Shutdown,
    /// The receiving end refused it for good (an OTLP collector answering
    /// with a final status, or rejecting it in a partial success), or an
    /// export failed once with retries turned off.
    Rejected,
    /// It was larger than the output can ever take (a line larger than the
    /// appender's whole queue, a record larger than one OTLP request).
    Oversized,
    /// The output does not take records of this kind by design: it is not a
    /// loss and is not counted in [`StatsSnapshot::dropped`]. `eventlog-otlp`
    /// filters the records of its own network stack (`tonic`, `hyper`, …) so
    /// exporting cannot feed on itself.
    Filtered,
    /// The layer's [`Limits`](crate::Limits) suppressed it (a budget's
    /// bucket was empty, or the sampler did not draw it): policy, not a
    /// loss, counted in [`StatsSnapshot::suppressed`] and not in
    /// [`StatsSnapshot::dropped`]; every suppressed event is also counted
    /// in an `events_suppressed` summary record.
    Suppressed,
}

impl DropReason {
    /// A short snake_case name, as written in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::Io(_) => "io",
            DropReason::Policy => "policy",
            DropReason::Shutdown => "shutdown",
            DropReason::Rejected => "rejected",
            DropReason::Oversized => "oversized",
            DropReason::Filtered => "filtered",
            DropReason::Suppressed => "suppressed",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Io(kind) => write!(f, "io error: {kind}"),
            other => f.write_str(other.as_str()),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    emitted: AtomicU64,
    accepted: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_io: AtomicU64,
    dropped_policy: AtomicU64,
    dropped_shutdown: AtomicU64,
    dropped_rejected: AtomicU64,
    dropped_oversized: AtomicU64,
    filtered: AtomicU64,
    suppressed: AtomicU64,
    budget_overflow: AtomicU64,
    invalid_traceparents: AtomicU64,
    internal_errors: AtomicU64,
    config_errors: AtomicU64,
    redactions: AtomicU64,
    violations: AtomicU64,
    dead_lettered: AtomicU64,
    /// What [`Stats::health`](crate::Stats::health) saw last.
    last_health: Mutex<Option<StatsSnapshot>>,
}

/// Live, lock-free counters shared by the layer and its outputs.
///
/// Cheap to clone (one `Arc`); read it while the layer sits inside the
/// subscriber. Counters are relaxed atomics.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let layer = eventlog::layer().writer(capture.clone());
/// let stats = layer.stats();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(event_name = "cache_warmed", entries = 42);
/// });
/// let snap = stats.snapshot();
/// assert_eq!(snap.emitted, 1);
/// assert_eq!(snap.accepted, 1);
/// assert_eq!(snap.dropped(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Stats(Arc<Counters>);

impl Stats {
    /// Fresh counters, all zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A plain copy of every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let c = &self.0;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            emitted: get(&c.emitted),
            accepted: get(&c.accepted),
            dropped_queue_full: get(&c.dropped_queue_full),
            dropped_io: get(&c.dropped_io),
            dropped_policy: get(&c.dropped_policy),
            dropped_shutdown: get(&c.dropped_shutdown),
            dropped_rejected: get(&c.dropped_rejected),
            dropped_oversized: get(&c.dropped_oversized),
            filtered: get(&c.filtered),
            suppressed: get(&c.suppressed),
            budget_overflow: get(&c.budget_overflow),
            invalid_traceparents: get(&c.invalid_traceparents),
            internal_errors: get(&c.internal_errors),
            config_errors: get(&c.config_errors),
            redactions: get(&c.redactions),
            violations: get(&c.violations),
            dead_lettered: get(&c.dead_lettered),
        }
    }

    /// Counts a record built from an event or a span close and handed to
    /// the outputs (once per record, whatever the number of outputs).
    pub fn record_emitted(&self) {
        bump(&self.0.emitted);
    }

    /// Counts a record an output accepted (its `emit` returned `Ok`).
    pub fn record_accepted(&self) {
        bump(&self.0.accepted);
    }

    /// Counts a record an output did not take, by reason
    /// ([`DropReason::Filtered`] in `filtered`, [`DropReason::Suppressed`]
    /// in `suppressed`, every other reason in its `dropped_*` counter).
    pub fn record_dropped(&self, reason: DropReason) {
        let c = &self.0;
        bump(match reason {
            DropReason::QueueFull => &c.dropped_queue_full,
            DropReason::Io(_) => &c.dropped_io,
            DropReason::Policy => &c.dropped_policy,
            DropReason::Shutdown => &c.dropped_shutdown,
            DropReason::Rejected => &c.dropped_rejected,
            DropReason::Oversized => &c.dropped_oversized,
            DropReason::Filtered => &c.filtered,
            DropReason::Suppressed => &c.suppressed,
        });
    }

    pub(crate) fn last_health(&self) -> &Mutex<Option<StatsSnapshot>> {
        &self.0.last_health
    }

    pub(crate) fn record_budget_overflow(&self) {
        bump(&self.0.budget_overflow);
    }

    pub(crate) fn record_invalid_traceparent(&self) {
        bump(&self.0.invalid_traceparents);
    }

    pub(crate) fn record_internal_error(&self) {
        bump(&self.0.internal_errors);
    }

    pub(crate) fn record_redactions(&self, n: u64) {
        if n > 0 {
            self.0.redactions.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_violations(&self, n: usize) {
        self.0
            .violations
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn record_dead_lettered(&self) {
        bump(&self.0.dead_lettered);
    }
}

fn bump(counter: &AtomicU64) {
    // A plain add: at a billion events a second it takes 584 years to wrap,
    // while a saturating compare-and-swap loop costs more under contention.
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A point-in-time copy of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Records built and handed to the outputs (events plus span-close
    /// records), once per record.
    pub emitted: u64,
    /// Records an output accepted, once per output per record. Accepted is
    /// not delivered: a queueing output (the appender's `NonBlocking`, OTLP)
    /// accepts into its queue and counts what it delivers in its own stats.
    pub accepted: u64,
    /// Records lost because a queue was full.
    pub dropped_queue_full: u64,
    /// Records lost to I/O errors.
    pub dropped_io: u64,
    /// Records dropped by a policy.
    pub dropped_policy: u64,
    /// Records that arrived after an output shut down.
    pub dropped_shutdown: u64,
    /// Records the receiving end refused for good ([`DropReason::Rejected`]).
    pub dropped_rejected: u64,
    /// Records too large for an output ([`DropReason::Oversized`]).
    pub dropped_oversized: u64,
    /// Records an output does not take by design ([`DropReason::Filtered`]);
    /// not a loss, not in [`dropped`](Self::dropped).
    pub filtered: u64,
    /// Events the layer's [`Limits`](crate::Limits) kept from every output
    /// ([`DropReason::Suppressed`]): policy, not a loss, not in
    /// [`dropped`](Self::dropped), and never emitted. Each is counted in
    /// exactly one `events_suppressed` summary, so the summaries' counts
    /// add up to this once they are written.
    pub suppressed: u64,
    /// Events whose budget key found no bucket of its own (more distinct
    /// keys than [`LimitsBuilder::max_keys`](crate::LimitsBuilder::max_keys)):
    /// they shared the rule's overflow bucket.
    pub budget_overflow: u64,
    /// `traceparent` span fields that did not parse and were ignored.
    pub invalid_traceparents: u64,
    /// Callbacks that could not find their span (a bug in the stack); the
    /// event is still written, without span context.
    pub internal_errors: u64,
    /// Malformed configuration the layer ignored. Always 0 now: the
    /// environment is read by [`EventLayer::from_env`](crate::EventLayer::from_env),
    /// which returns a malformed variable as an error instead.
    pub config_errors: u64,
    /// Values changed by the redactor (per-rule counts: [`Redactor::counts`](crate::Redactor::counts)).
    pub redactions: u64,
    /// Schema violations (a record can have several; per event and kind:
    /// [`Schema::violation_counts`](crate::Schema::violation_counts)).
    pub violations: u64,
    /// Records sent to the dead-letter output instead of the others.
    pub dead_lettered: u64,
}

impl StatsSnapshot {
    /// Every dropped record, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            .saturating_add(self.dropped_io)
            .saturating_add(self.dropped_policy)
            .saturating_add(self.dropped_shutdown)
            .saturating_add(self.dropped_rejected)
            .saturating_add(self.dropped_oversized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count() {
        let stats = Stats::new();
        stats.record_emitted();
        stats.record_emitted();
        stats.record_accepted();
        let s = stats.snapshot();
        assert_eq!((s.emitted, s.accepted), (2, 1));
    }

    #[test]
    fn drops_are_counted_by_reason() {
        let stats = Stats::new();
        stats.record_dropped(DropReason::QueueFull);
        stats.record_dropped(DropReason::Io(std::io::ErrorKind::StorageFull));
        stats.record_dropped(DropReason::Io(std::io::ErrorKind::BrokenPipe));
        stats.record_dropped(DropReason::Rejected);
        stats.record_dropped(DropReason::Oversized);
        stats.record_dropped(DropReason::Filtered);
        stats.record_dropped(DropReason::Suppressed);
        let s = stats.snapshot();
        assert_eq!(s.suppressed, 1);
        assert_eq!(
            (
                s.dropped_queue_full,
                s.dropped_io,
                s.dropped_rejected,
                s.dropped_oversized,
                s.filtered,
                s.dropped()
            ),
            (1, 2, 1, 1, 1, 5)
        );
        assert_eq!(DropReason::Rejected.to_string(), "rejected");
    }
}
