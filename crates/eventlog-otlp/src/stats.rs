//! The exporter's counters, as a plain copy: read by the output and its
//! guard, filled in by the queue (which is why they are not in `output`).

/// A copy of an [`OtlpOutput`](crate::OtlpOutput)'s counters.
///
/// Once the guard has shut down, `emitted == exported + dropped()`.
///
/// ```
/// let s = eventlog_otlp::OtlpStats::default();
/// assert_eq!(s.dropped(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtlpStats {
    /// Records handed to the output (its own diagnostics excluded).
    pub emitted: u64,
    /// Records the collector accepted.
    pub exported: u64,
    /// Records queued or in flight now.
    pub queued: u64,
    /// Bytes of the budget in use now.
    pub queued_bytes: u64,
    /// Records refused because the byte budget was spent.
    pub dropped_queue_full: u64,
    /// Records the collector rejected for good (or that failed with retry off).
    pub dropped_rejected: u64,
    /// Records larger than one export request may carry, refused at emit.
    pub dropped_oversized: u64,
    /// Records still queued at the shutdown deadline, or emitted after shutdown.
    pub dropped_shutdown: u64,
    /// Records from the exporter's own stack (`opentelemetry`, `tonic`,
    /// `hyper`, `h2`, `reqwest`, `tower` targets), never exported.
    pub filtered: u64,
    /// Export requests that failed (each retried or dropped).
    pub failed_exports: u64,
    /// Drop-report records sent to the collector.
    pub drop_reports: u64,
    /// Metrics export requests the collector accepted
    /// ([`OtlpOutputBuilder::metrics_interval`](crate::OtlpOutputBuilder::metrics_interval)).
    pub metric_exports: u64,
    /// Metrics export requests that failed or found no time left at
    /// shutdown (never retried: the next one carries the same totals).
    pub failed_metric_exports: u64,
}

impl OtlpStats {
    /// Every lost record, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            .saturating_add(self.dropped_rejected)
            .saturating_add(self.dropped_oversized)
            .saturating_add(self.dropped_shutdown)
    }
}
