//! Health counters: a cloneable live handle ([`WriterStats`]) and a plain copy of it
//! ([`WriterStatsSnapshot`]), plus the reasons a line can be dropped.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a line was not written.
///
/// ```
/// use eventlog_appender::LineDropReason;
///
/// assert_eq!(LineDropReason::QueueFull.as_str(), "queue_full");
/// assert_eq!(LineDropReason::Io.to_string(), "io");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineDropReason {
    /// The queue was full and the policy is [`Backpressure::DROP_NEWEST`](crate::Backpressure::DROP_NEWEST).
    QueueFull,
    /// The line alone is larger than the whole queue capacity, so it can never
    /// fit; it is dropped in every policy (a blocking caller would wait forever).
    Oversized,
    /// The sink kept failing (disk full, directory gone, permission lost) after
    /// every retry, and the batch holding the line was given up.
    Io,
    /// The line was written after the [`Guard`](crate::Guard) shut the writer down.
    Shutdown,
}

impl LineDropReason {
    /// Every reason, in the order of [`WriterStatsSnapshot`]'s fields.
    pub(crate) const ALL: [LineDropReason; 4] = [
        LineDropReason::QueueFull,
        LineDropReason::Oversized,
        LineDropReason::Io,
        LineDropReason::Shutdown,
    ];

    /// The snake_case name used in self-report lines (`metadata.reason`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LineDropReason::QueueFull => "queue_full",
            LineDropReason::Oversized => "oversized",
            LineDropReason::Io => "io",
            LineDropReason::Shutdown => "shutdown",
        }
    }

    const fn index(self) -> usize {
        match self {
            LineDropReason::QueueFull => 0,
            LineDropReason::Oversized => 1,
            LineDropReason::Io => 2,
            LineDropReason::Shutdown => 3,
        }
    }
}

impl fmt::Display for LineDropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the drop callback receives: lines dropped for one reason since the
/// previous report.
///
/// Reports are aggregated by the worker thread (at most one per reason per
/// batch), never raised per line on the caller's thread.
///
/// ```
/// use eventlog_appender::{LineDropReason, DropReport};
///
/// let report = DropReport::new(LineDropReason::QueueFull, 3, 10);
/// assert_eq!((report.reason, report.count, report.total), (LineDropReason::QueueFull, 3, 10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropReport {
    /// Why the lines were dropped.
    pub reason: LineDropReason,
    /// Lines dropped for this reason since the previous report.
    pub count: u64,
    /// Lines dropped for any reason since the writer was built.
    pub total: u64,
}

impl DropReport {
    /// A report; public so applications can unit-test their callbacks.
    pub const fn new(reason: LineDropReason, count: u64, total: u64) -> DropReport {
        DropReport {
            reason,
            count,
            total,
        }
    }
}

/// A plain copy of the counters at one moment.
///
/// All counts start at zero and saturate instead of wrapping. For the
/// non-blocking writer a "line" is one queued unit: one event's output, one
/// `write` call or one `write!`. The blocking [`RollingFile`](crate::RollingFile)
/// counts newlines instead.
///
/// Every line handed to the writer ends up in exactly one of
/// `lines_written` or a `dropped_*` counter (self-report lines are counted
/// in `lines_written` and `self_reports` too).
///
/// ```
/// use eventlog_appender::WriterStatsSnapshot;
///
/// let s = WriterStatsSnapshot::default();
/// assert_eq!(s.dropped(), 0);
/// assert_eq!(s.lines_written, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterStatsSnapshot {
    /// Lines accepted into the queue (non-blocking writer).
    pub lines_queued: u64,
    /// Lines handed to the file (or sink) successfully, self-reports included.
    pub lines_written: u64,
    /// Bytes handed to the file (or sink) successfully.
    pub bytes_written: u64,
    /// Lines dropped because the queue was full ([`LineDropReason::QueueFull`]).
    pub dropped_queue_full: u64,
    /// Lines dropped because they exceed the queue capacity ([`LineDropReason::Oversized`]).
    pub dropped_oversized: u64,
    /// Lines dropped after write errors outlasted the retries ([`LineDropReason::Io`]).
    pub dropped_io: u64,
    /// Lines written after shutdown ([`LineDropReason::Shutdown`]).
    pub dropped_shutdown: u64,
    /// Failed write or flush calls (each retry counts).
    pub write_errors: u64,
    /// Files closed and replaced by a new one (by size or time).
    pub rotations: u64,
    /// Failed attempts to open the next file; writing goes on in the current one.
    pub rotation_errors: u64,
    /// Times the active file vanished (file or directory removed) and was reopened.
    pub reopens: u64,
    /// Rotated files compressed.
    pub compressions: u64,
    /// Rotated files that could not be compressed (left uncompressed).
    pub compression_errors: u64,
    /// Old files deleted by retention.
    pub retention_deletions: u64,
    /// Old files retention failed to delete.
    pub retention_errors: u64,
    /// Self-report lines written (see [`NonBlockingBuilder::self_report`](crate::NonBlockingBuilder::self_report)).
    pub self_reports: u64,
}

impl WriterStatsSnapshot {
    /// Lines dropped for any reason.
    pub const fn dropped(&self) -> u64 {
        self.dropped_queue_full
            .saturating_add(self.dropped_oversized)
            .saturating_add(self.dropped_io)
            .saturating_add(self.dropped_shutdown)
    }

    /// Lines dropped for `reason`.
    ///
    /// ```
    /// use eventlog_appender::{LineDropReason, WriterStatsSnapshot};
    ///
    /// assert_eq!(WriterStatsSnapshot::default().dropped_by(LineDropReason::Io), 0);
    /// ```
    pub const fn dropped_by(&self, reason: LineDropReason) -> u64 {
        match reason {
            LineDropReason::QueueFull => self.dropped_queue_full,
            LineDropReason::Oversized => self.dropped_oversized,
            LineDropReason::Io => self.dropped_io,
            LineDropReason::Shutdown => self.dropped_shutdown,
        }
    }
}

/// One counter; the discriminant indexes [`Counters::values`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    LinesQueued,
    LinesWritten,
    BytesWritten,
    WriteErrors,
    Rotations,
    RotationErrors,
    Reopens,
    Compressions,
    CompressionErrors,
    RetentionDeletions,
    RetentionErrors,
    SelfReports,
}

const COUNTERS: usize = 12;

#[derive(Debug, Default)]
struct Counters {
    values: [AtomicU64; COUNTERS],
    dropped: [AtomicU64; 4],
    /// Drops not yet announced by a self-report / callback, per reason.
    unreported: [AtomicU64; 4],
}

/// Live counters, shared by the writer, its worker and the rolling file.
///
/// Cloning is cheap (one `Arc`); every clone sees the same counts. Updates use
/// relaxed atomics and saturate instead of wrapping.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// let dir = tempfile::tempdir()?;
/// let (mut writer, guard) = eventlog_appender::RollingFile::builder()
///     .directory(dir.path())
///     .build_non_blocking()?;
/// writeln!(writer, "{{\"n\":1}}")?;
/// guard.flush()?;
/// let stats = writer.stats();
/// assert_eq!(stats.snapshot().lines_written, 1);
/// assert_eq!(stats.dropped(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct WriterStats {
    inner: Arc<Counters>,
}

fn saturating_add(cell: &AtomicU64, n: u64) {
    // `fetch_update` never fails when the closure always returns `Some`.
    let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_add(n))
    });
}

impl WriterStats {
    /// A plain copy of every counter.
    pub fn snapshot(&self) -> WriterStatsSnapshot {
        let v = |c: Counter| self.inner.values[c as usize].load(Ordering::Relaxed);
        let d = |r: LineDropReason| self.inner.dropped[r.index()].load(Ordering::Relaxed);
        WriterStatsSnapshot {
            lines_queued: v(Counter::LinesQueued),
            lines_written: v(Counter::LinesWritten),
            bytes_written: v(Counter::BytesWritten),
            dropped_queue_full: d(LineDropReason::QueueFull),
            dropped_oversized: d(LineDropReason::Oversized),
            dropped_io: d(LineDropReason::Io),
            dropped_shutdown: d(LineDropReason::Shutdown),
            write_errors: v(Counter::WriteErrors),
            rotations: v(Counter::Rotations),
            rotation_errors: v(Counter::RotationErrors),
            reopens: v(Counter::Reopens),
            compressions: v(Counter::Compressions),
            compression_errors: v(Counter::CompressionErrors),
            retention_deletions: v(Counter::RetentionDeletions),
            retention_errors: v(Counter::RetentionErrors),
            self_reports: v(Counter::SelfReports),
        }
    }

    /// Lines dropped for any reason so far.
    pub fn dropped(&self) -> u64 {
        self.inner
            .dropped
            .iter()
            .fold(0u64, |acc, c| acc.saturating_add(c.load(Ordering::Relaxed)))
    }

    pub(crate) fn add(&self, counter: Counter, n: u64) {
        saturating_add(&self.inner.values[counter as usize], n);
    }

    pub(crate) fn record_drop(&self, reason: LineDropReason, n: u64) {
        if n == 0 {
            return;
        }
        saturating_add(&self.inner.dropped[reason.index()], n);
        saturating_add(&self.inner.unreported[reason.index()], n);
    }

    /// Whether any drop is not yet reported (the worker's idle check).
    pub(crate) fn has_unreported(&self) -> bool {
        self.inner
            .unreported
            .iter()
            .any(|c| c.load(Ordering::Relaxed) > 0)
    }

    /// Takes the drops not yet reported for `reason`, resetting them to zero.
    pub(crate) fn take_unreported(&self, reason: LineDropReason) -> u64 {
        self.inner.unreported[reason.index()].swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_saturate() {
        let stats = WriterStats::default();
        stats.add(Counter::BytesWritten, u64::MAX - 1);
        stats.add(Counter::BytesWritten, 5);
        assert_eq!(stats.snapshot().bytes_written, u64::MAX);
        stats.record_drop(LineDropReason::Io, u64::MAX);
        stats.record_drop(LineDropReason::QueueFull, 7);
        assert_eq!(stats.dropped(), u64::MAX);
        assert_eq!(stats.snapshot().dropped(), u64::MAX);
    }

    #[test]
    fn unreported_drops_are_taken_once() {
        let stats = WriterStats::default();
        stats.record_drop(LineDropReason::QueueFull, 3);
        stats.record_drop(LineDropReason::QueueFull, 2);
        assert_eq!(stats.take_unreported(LineDropReason::QueueFull), 5);
        assert_eq!(stats.take_unreported(LineDropReason::QueueFull), 0);
        assert_eq!(stats.snapshot().dropped_queue_full, 5);
        assert_eq!(stats.snapshot().dropped_by(LineDropReason::QueueFull), 5);
    }

    #[test]
    fn reasons_have_stable_names() {
        let names: Vec<_> = LineDropReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["queue_full", "oversized", "io", "shutdown"]);
    }
}
