//! [`NonBlockingBuilder`]: the writer's settings, checked and clamped, and
//! `spawn`, which assembles the pipeline and starts the worker thread.
//!
//! ```text
//!  NonBlockingBuilder ── validate ─> reserve two buffers of `capacity` bytes
//!                     ── spawn ────> Shared (the queue) ─┬─> NonBlocking (callers)
//!                                                        ├─> Worker, on its own thread ─> Sink
//!                                                        └─> Guard (flush, shutdown)
//! ```

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::error::NonBlockingError;
use crate::non_blocking::guard::Guard;
use crate::non_blocking::queue::{Backpressure, Shared, State, WorkerState};
use crate::non_blocking::sink::{Sink, WriterSink};
use crate::non_blocking::worker::{CarryKind, DropCallback, MAX_RETRY_BACKOFF, SelfReport, Worker};
use crate::non_blocking::writer::NonBlocking;
use crate::stats::{DropReport, WriterStats};

/// The largest [`NonBlockingBuilder::capacity`]: 1 GiB.
pub(crate) const MAX_CAPACITY: usize = 1 << 30;
/// [`NonBlockingBuilder::flush_interval`] is clamped to this range.
const MIN_FLUSH_INTERVAL: Duration = Duration::from_millis(1);
const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(3600);
/// [`NonBlockingBuilder::retries`] is clamped to this.
const MAX_RETRIES: u32 = 100;

/// `value` within `min..=max`, usable in `const` setters.
const fn clamp_duration(value: Duration, min: Duration, max: Duration) -> Duration {
    if value.as_nanos() < min.as_nanos() {
        min
    } else if value.as_nanos() > max.as_nanos() {
        max
    } else {
        value
    }
}

/// Configures a [`NonBlocking`] writer.
///
/// Used directly with [`build`](Self::build) for any `io::Write`, or handed to
/// [`RollingFileBuilder::non_blocking`](crate::RollingFileBuilder::non_blocking).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// use std::time::Duration;
/// use eventlog_appender::{Backpressure, NonBlocking};
///
/// let file = tempfile::NamedTempFile::new()?;
/// let (mut writer, guard) = NonBlocking::builder()
///     .capacity(1 << 20)
///     .backpressure(Backpressure::BLOCK)
///     .flush_interval(Duration::from_millis(50))
///     .build(file.reopen()?)?;
/// writer.write_all(b"hello\n")?;
/// guard.flush()?;
/// assert_eq!(std::fs::read_to_string(file.path())?, "hello\n");
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct NonBlockingBuilder {
    capacity: usize,
    batch_bytes: usize,
    flush_interval: Duration,
    backpressure: Backpressure,
    flush_timeout: Duration,
    retries: u32,
    retry_backoff: Duration,
    self_report: Option<SelfReport>,
    on_drop: Option<DropCallback>,
    thread_name: Cow<'static, str>,
}

impl fmt::Debug for NonBlockingBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonBlockingBuilder")
            .field("capacity", &self.capacity)
            .field("batch_bytes", &self.batch_bytes)
            .field("flush_interval", &self.flush_interval)
            .field("backpressure", &self.backpressure)
            .field("flush_timeout", &self.flush_timeout)
            .field("retries", &self.retries)
            .field("retry_backoff", &self.retry_backoff)
            .field(
                "self_report",
                &self
                    .self_report
                    .as_ref()
                    .map(|_| "Fn(&DropReport, &mut Vec<u8>)"),
            )
            .field("on_drop", &self.on_drop.as_ref().map(|_| "Fn(&DropReport)"))
            .field("thread_name", &self.thread_name)
            .finish()
    }
}

impl Default for NonBlockingBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl NonBlockingBuilder {
    /// A builder with these defaults:
    ///
    /// | setting | default |
    /// |---|---|
    /// | [`capacity`](Self::capacity) | 8 MiB (≈ 32,000 lines of 250 bytes) |
    /// | [`batch_bytes`](Self::batch_bytes) | 1 MiB |
    /// | [`flush_interval`](Self::flush_interval) | 100 ms |
    /// | [`backpressure`](Self::backpressure) | [`Backpressure::DROP_NEWEST`] |
    /// | [`flush_timeout`](Self::flush_timeout) | 5 s |
    /// | [`retries`](Self::retries) | 3 |
    /// | [`retry_backoff`](Self::retry_backoff) | 10 ms, doubling |
    /// | [`self_report`](Self::self_report) | none |
    /// | [`on_drop`](Self::on_drop) | none |
    /// | [`thread_name`](Self::thread_name) | `eventlog-appender` |
    ///
    /// ```
    /// use eventlog_appender::NonBlockingBuilder;
    ///
    /// // The documented defaults, checked through `Debug` so this table stays true.
    /// let b = format!("{:?}", NonBlockingBuilder::new());
    /// assert_eq!(
    ///     b,
    ///     "NonBlockingBuilder { capacity: 8388608, batch_bytes: 1048576, flush_interval: 100ms, \
    ///      backpressure: Backpressure(DropNewest), flush_timeout: 5s, retries: 3, \
    ///      retry_backoff: 10ms, self_report: None, on_drop: None, \
    ///      thread_name: \"eventlog-appender\" }"
    /// );
    /// assert_eq!(b, format!("{:?}", NonBlockingBuilder::default()));
    /// ```
    pub const fn new() -> NonBlockingBuilder {
        NonBlockingBuilder {
            capacity: 8 << 20,
            batch_bytes: 1 << 20,
            flush_interval: Duration::from_millis(100),
            backpressure: Backpressure::DROP_NEWEST,
            flush_timeout: Duration::from_secs(5),
            retries: 3,
            retry_backoff: Duration::from_millis(10),
            self_report: None,
            on_drop: None,
            thread_name: Cow::Borrowed("eventlog-appender"),
        }
    }

    /// Bytes of lines the queue may hold, counting the batch being written.
    /// The queue's two buffers each reserve this much address space; resident
    /// memory grows with use up to twice this in the worst case, and is then
    /// reused, never reallocated. A line longer than this is dropped
    /// ([`LineDropReason::Oversized`](crate::LineDropReason::Oversized)) in every
    /// policy, since it could never fit.
    ///
    /// Must be at least 1 byte and at most 1 GiB (`1 << 30`); anything else is
    /// a [`NonBlockingError::InvalidOption`] at build. If the system refuses
    /// to reserve the two buffers, the build fails with
    /// [`NonBlockingError::OutOfMemory`] instead of aborting.
    ///
    /// ```
    /// use eventlog_appender::{NonBlocking, NonBlockingError};
    ///
    /// let err = NonBlocking::builder().capacity(usize::MAX).build(std::io::sink()).unwrap_err();
    /// assert!(matches!(err, NonBlockingError::InvalidOption { option: "capacity", .. }));
    /// ```
    pub const fn capacity(mut self, bytes: usize) -> Self {
        self.capacity = bytes;
        self
    }

    /// The worker starts writing as soon as this many bytes are queued (or
    /// half the capacity, if smaller), without waiting for the interval.
    /// Must be at least 1.
    pub const fn batch_bytes(mut self, bytes: usize) -> Self {
        self.batch_bytes = bytes;
        self
    }

    /// The longest a queued line waits before the worker writes it. The
    /// worker checks the queue once per interval (callers wake it only when
    /// `batch_bytes` are queued), so an idle writer costs one wake-up per interval.
    /// At each wake-up it also retries what a failing disk left over (the rest
    /// of a torn line, a self-report line), so writing resumes by
    /// itself when the disk recovers.
    ///
    /// Clamped to between 1 ms (shorter would spin) and 1 hour.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eventlog_appender::NonBlocking;
    ///
    /// let b = NonBlocking::builder().flush_interval(Duration::MAX);
    /// assert!(format!("{b:?}").contains("flush_interval: 3600s"));
    /// ```
    pub const fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = clamp_duration(interval, MIN_FLUSH_INTERVAL, MAX_FLUSH_INTERVAL);
        self
    }

    /// What callers do when the queue is full.
    pub const fn backpressure(mut self, backpressure: Backpressure) -> Self {
        self.backpressure = backpressure;
        self
    }

    /// How long [`Guard::flush`], [`NonBlocking`]'s `io::Write::flush` and the
    /// guard's drop wait for the worker. Any value works: `Duration::ZERO`
    /// makes them return [`GuardError::Timeout`](crate::GuardError::Timeout)
    /// unless the worker is already done, and a timeout too long to be
    /// represented as an instant (`Duration::MAX`) waits without limit.
    pub const fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// How many times a failed batch is retried before its lines are dropped
    /// ([`LineDropReason::Io`](crate::LineDropReason::Io)). Clamped to at most 100, so a dead disk cannot
    /// hold the worker (and blocked callers) forever.
    pub const fn retries(mut self, retries: u32) -> Self {
        self.retries = if retries > MAX_RETRIES {
            MAX_RETRIES
        } else {
            retries
        };
        self
    }

    /// The pause before the first retry; it doubles at each further retry.
    /// Clamped to at most 10 s, and no doubled pause exceeds 10 s either.
    pub const fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = clamp_duration(backoff, Duration::ZERO, MAX_RETRY_BACKOFF);
        self
    }

    /// Writes a self-report line into the file after lines were dropped, so
    /// readers of the file see the gap: `format` appends the line (newline
    /// included) for a [`DropReport`]. Off by default: the appender writes
    /// any text, so it does not invent a line format of its own.
    ///
    /// With `eventlog`, the layer writes the report in its own envelope
    /// (renamed keys, service, environment), the shape every eventlog output
    /// reports losses in (`log_records_dropped`):
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// use eventlog_appender::{Backpressure, NonBlocking};
    ///
    /// let layer = eventlog::layer().service("checkout");
    /// let reporter = layer.drop_reporter("file");
    /// let file = tempfile::NamedTempFile::new()?;
    /// let (mut writer, guard) = NonBlocking::builder()
    ///     .capacity(64)
    ///     .self_report(move |r, out| reporter.write(r.reason.as_str(), r.count, r.total, out))
    ///     .build(file.reopen()?)?;
    /// writer.write_all(&[b'x'; 100])?; // larger than the whole queue: dropped
    /// guard.shutdown(std::time::Duration::from_secs(5))?;
    /// let text = std::fs::read_to_string(file.path())?;
    /// let report: serde_json::Value = serde_json::from_str(text.trim_end())?;
    /// assert_eq!(report["event_name"], eventlog::DROP_REPORT_EVENT);
    /// assert_eq!(report["service"], "checkout");
    /// assert_eq!(report["metadata"]["reason"], "oversized");
    /// assert_eq!(report["metadata"]["dropped"], 1);
    /// # Ok(()) }
    /// ```
    ///
    /// A line `format` leaves unfinished (no final newline) gets one; a
    /// panic in `format` is caught and the report skipped.
    pub fn self_report(
        mut self,
        format: impl Fn(&DropReport, &mut Vec<u8>) + Send + Sync + 'static,
    ) -> Self {
        self.self_report = Some(Arc::new(format));
        self
    }

    /// Calls `callback` on the worker thread after lines were dropped, once per
    /// reason per batch, so the application can alert. A panic in the callback
    /// is caught. With [`Backpressure::BLOCK`], do not log through this same
    /// writer from the callback: the worker would wait on its own queue.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
    /// use eventlog_appender::{LineDropReason, NonBlocking};
    ///
    /// let seen = Arc::new(AtomicU64::new(0));
    /// let counter = Arc::clone(&seen);
    /// let (mut writer, guard) = NonBlocking::builder()
    ///     .capacity(16)
    ///     .on_drop(move |report| {
    ///         assert_eq!(report.reason, LineDropReason::Oversized);
    ///         counter.fetch_add(report.count, Ordering::Relaxed);
    ///     })
    ///     .build(std::io::sink())?;
    /// writer.write_all(b"a line longer than sixteen bytes\n")?;
    /// guard.flush()?;
    /// assert_eq!(seen.load(Ordering::Relaxed), 1);
    /// # Ok(()) }
    /// ```
    pub fn on_drop(mut self, callback: impl Fn(&DropReport) + Send + Sync + 'static) -> Self {
        self.on_drop = Some(Arc::new(callback));
        self
    }

    /// The worker thread's name. Must not contain a NUL byte
    /// ([`NonBlockingError::InvalidOption`] at build); the OS may shorten it
    /// (Linux keeps 15 bytes).
    pub fn thread_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Starts the worker writing to `writer`, returning the writer handle and
    /// the guard that flushes on drop.
    pub fn build<W: Write + Send + 'static>(
        self,
        writer: W,
    ) -> Result<(NonBlocking, Guard), NonBlockingError> {
        self.spawn(Box::new(WriterSink(writer)), WriterStats::default())
    }

    /// Checks the options, so a rolling file can refuse them before it
    /// creates any file.
    pub(crate) fn validate(&self) -> Result<(), NonBlockingError> {
        for (option, value) in [
            ("capacity", self.capacity),
            ("batch_bytes", self.batch_bytes),
        ] {
            if value == 0 {
                return Err(NonBlockingError::InvalidOption {
                    option,
                    value: "0".into(),
                    reason: "must be at least 1 byte",
                });
            }
        }
        if self.capacity > MAX_CAPACITY {
            return Err(NonBlockingError::InvalidOption {
                option: "capacity",
                value: self.capacity.to_string(),
                reason: "must be at most 1 GiB",
            });
        }
        if self.thread_name.contains('\0') {
            return Err(NonBlockingError::InvalidOption {
                option: "thread_name",
                value: self.thread_name.escape_debug().to_string(),
                reason: "must not contain a NUL byte",
            });
        }
        Ok(())
    }

    pub(crate) fn spawn(
        self,
        sink: Box<dyn Sink>,
        stats: WriterStats,
    ) -> Result<(NonBlocking, Guard), NonBlockingError> {
        self.validate()?;
        // Both buffers are reserved whole up front (address space only: pages
        // are touched as lines arrive) so they never reallocate under the lock.
        let reserve = || {
            let mut buffer = Vec::new();
            buffer
                .try_reserve_exact(self.capacity)
                .map(|()| buffer)
                .map_err(|source| NonBlockingError::OutOfMemory {
                    bytes: self.capacity,
                    source,
                })
        };
        let pending = reserve()?;
        let batch = reserve()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending,
                pending_lines: 0,
                in_flight: 0,
                worker: WorkerState::Busy,
                blocked: 0,
                flush_requested: 0,
                flush_done: 0,
                closed: false,
                close_deadline: None,
                close_unfinished: false,
                worker_alive: true,
            }),
            work: Condvar::new(),
            room: Condvar::new(),
            done: Condvar::new(),
            capacity: self.capacity,
            batch_bytes: self.batch_bytes.min(self.capacity.div_ceil(2)),
            backpressure: self.backpressure,
            stats,
            used: AtomicUsize::new(0),
        });
        let worker = Worker {
            shared: Arc::clone(&shared),
            sink,
            flush_interval: self.flush_interval,
            retries: self.retries,
            retry_backoff: self.retry_backoff,
            self_report: self.self_report,
            on_drop: self.on_drop,
            report: Vec::new(),
            unannounced: [0; 4],
            carry: Vec::new(),
            carry_kind: CarryKind::Line,
        };
        let name = self.thread_name.into_owned();
        let handle = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || worker.run(batch))
            .map_err(|source| NonBlockingError::SpawnThread { name, source })?;
        Ok((
            NonBlocking {
                shared: Arc::clone(&shared),
                flush_timeout: self.flush_timeout,
            },
            Guard {
                shared,
                handle: Some(handle),
                timeout: self.flush_timeout,
            },
        ))
    }
}

impl NonBlocking {
    /// A builder with the defaults listed on [`NonBlockingBuilder::new`].
    pub const fn builder() -> NonBlockingBuilder {
        NonBlockingBuilder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn batch_threshold_never_exceeds_half_the_capacity() {
        let (writer, guard) = NonBlocking::builder()
            .capacity(100)
            .batch_bytes(1 << 20)
            .build(io::sink())
            .unwrap();
        assert_eq!(writer.shared.batch_bytes, 50);
        guard.shutdown(Duration::from_secs(5)).unwrap();
    }
}
