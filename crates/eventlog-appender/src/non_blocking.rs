//! The non-blocking writer: a byte-bounded queue, one worker thread that
//! writes in batches, the flush [`Guard`], and the per-event [`LineWriter`].
//!
//! Callers append each line to one shared `pending` buffer under a short
//! mutex (a `memcpy`, no allocation). The worker swaps `pending` with its own
//! emptied buffer (double buffering, so both are reused forever) and writes
//! the whole batch with one `write` call while callers keep appending.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tracing_subscriber::fmt::MakeWriter;

use crate::clock;
use crate::error::{GuardError, NonBlockingError};
use crate::stats::{Counter, DropReason, DropReport, Stats, StatsSnapshot};

/// Where the worker writes: any `io::Write`, or a [`RollingFile`](crate::RollingFile).
pub(crate) trait Sink: Send {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    fn flush(&mut self) -> io::Result<()>;
    /// Finishes background work (compression) by `deadline` (`None`: no
    /// limit); whether it did.
    fn close(&mut self, deadline: Option<Instant>) -> bool {
        let _ = deadline;
        true
    }
}

struct WriterSink<W>(W);

impl<W: Write + Send> Sink for WriterSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// What a caller does when the queue is full.
///
/// There is no silent default in the sense that both choices are explicit
/// trade-offs: [`Backpressure::DROP_NEWEST`] (the default) keeps the promise
/// that the caller never waits, and counts and self-reports what it drops;
/// [`Backpressure::BLOCK`] never drops for lack of room but makes callers wait
/// while the queue is full.
///
/// ```
/// use eventlog_appender::Backpressure;
///
/// assert_ne!(Backpressure::BLOCK, Backpressure::DROP_NEWEST);
/// assert_eq!(Backpressure::default(), Backpressure::DROP_NEWEST);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Backpressure(Policy);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum Policy {
    Block,
    #[default]
    DropNewest,
}

impl Backpressure {
    /// Wait until the worker has made room. Callers wait only while the queue
    /// is full; nothing is dropped for lack of room.
    pub const BLOCK: Backpressure = Backpressure(Policy::Block);
    /// Never wait: a line that does not fit is dropped and counted
    /// ([`DropReason::QueueFull`]).
    pub const DROP_NEWEST: Backpressure = Backpressure(Policy::DropNewest);
}

/// The largest [`NonBlockingBuilder::capacity`]: 1 GiB.
pub(crate) const MAX_CAPACITY: usize = 1 << 30;
/// [`NonBlockingBuilder::flush_interval`] is clamped to this range.
const MIN_FLUSH_INTERVAL: Duration = Duration::from_millis(1);
const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(3600);
/// [`NonBlockingBuilder::retry_backoff`], and every doubled pause, stay at or below this.
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(10);
/// [`NonBlockingBuilder::retries`] is clamped to this.
const MAX_RETRIES: u32 = 100;

/// `now + timeout`, or `None` (no deadline) when that instant cannot be
/// represented, e.g. for `Duration::MAX`.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

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

/// Called on the worker thread with each [`DropReport`].
type DropCallback = Arc<dyn Fn(&DropReport) + Send + Sync>;

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
    self_report: bool,
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
            .field("self_report", &self.self_report)
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
    /// | [`self_report`](Self::self_report) | `true` |
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
    ///      retry_backoff: 10ms, self_report: true, on_drop: None, \
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
            self_report: true,
            on_drop: None,
            thread_name: Cow::Borrowed("eventlog-appender"),
        }
    }

    /// Bytes of lines the queue may hold, counting the batch being written.
    /// The queue's two buffers each reserve this much address space; resident
    /// memory grows with use up to twice this in the worst case, and is then
    /// reused, never reallocated. A line longer than this is dropped
    /// ([`DropReason::Oversized`]) in every policy, since it could never fit.
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
    /// of a torn line, a `log_events_dropped` line), so writing resumes by
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
    /// makes them return [`GuardError::Timeout`] unless the worker is already
    /// done, and a timeout too long to be represented as an instant
    /// (`Duration::MAX`) waits without limit.
    pub const fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// How many times a failed batch is retried before its lines are dropped
    /// ([`DropReason::Io`]). Clamped to at most 100, so a dead disk cannot
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

    /// Whether the worker writes a `log_events_dropped` JSON line after lines
    /// were dropped, so readers of the file see the gap:
    ///
    /// ```json
    /// {"timestamp":"2026-11-25T08:50:07.123456Z","level":"WARN","event_name":"log_events_dropped","event_type":"system_event","message":"12 log lines dropped: the queue was full","metadata":{"dropped":12,"reason":"queue_full","total_dropped":12}}
    /// ```
    ///
    /// Turn it off when the output is not JSON Lines.
    pub const fn self_report(mut self, enabled: bool) -> Self {
        self.self_report = enabled;
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
    /// use eventlog_appender::{DropReason, NonBlocking};
    ///
    /// let seen = Arc::new(AtomicU64::new(0));
    /// let counter = Arc::clone(&seen);
    /// let (mut writer, guard) = NonBlocking::builder()
    ///     .capacity(16)
    ///     .on_drop(move |report| {
    ///         assert_eq!(report.reason, DropReason::Oversized);
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
        self.spawn(Box::new(WriterSink(writer)), Stats::default())
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
        stats: Stats,
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

/// Per-thread line buffers larger than this are freed after use.
const MAX_KEPT_LINE_BUFFER: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkerState {
    /// Writing, or about to look at the queue: nobody needs to wake it.
    Busy,
    /// Sleeping until the interval ends, or until woken because a batch,
    /// a flush or a blocked caller is due.
    Waiting,
}

#[derive(Debug)]
struct State {
    pending: Vec<u8>,
    pending_lines: u64,
    /// Bytes of the batch the worker is writing; they still count against capacity.
    in_flight: usize,
    worker: WorkerState,
    /// Callers waiting for room (block policy).
    blocked: usize,
    flush_requested: u64,
    flush_done: u64,
    closed: bool,
    /// When the worker must give up finishing background work after close;
    /// `None`: no limit (or not closed).
    close_deadline: Option<Instant>,
    worker_alive: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the worker.
    work: Condvar,
    /// Wakes blocked callers.
    room: Condvar,
    /// Wakes flush and shutdown waiters.
    done: Condvar,
    capacity: usize,
    batch_bytes: usize,
    backpressure: Backpressure,
    stats: Stats,
    /// `pending.len() + in_flight`, mirrored outside the lock so that, when the
    /// queue is full, drop-newest callers give up without touching the mutex
    /// (which would otherwise starve the worker of the lock it needs to swap).
    used: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the buffers consistent (plain
        // appends and swaps), so carrying on beats losing every later line.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_worker(&self, state: &mut State) {
        if state.worker != WorkerState::Busy {
            state.worker = WorkerState::Busy;
            self.work.notify_one();
        }
    }

    /// Queues one line whole, or counts it dropped.
    /// Queues `line`, or counts it dropped and says why.
    fn enqueue(&self, line: &[u8]) -> Result<(), DropReason> {
        if line.is_empty() {
            return Ok(());
        }
        if line.len() > self.capacity {
            self.stats.record_drop(DropReason::Oversized, 1);
            return Err(DropReason::Oversized);
        }
        if self.backpressure == Backpressure::DROP_NEWEST
            && self.used.load(Ordering::Relaxed) + line.len() > self.capacity
        {
            // A stale read only errs by a batch: at worst a line is dropped just
            // as the worker frees room, which the lock path below would also do
            // a moment earlier.
            self.stats.record_drop(DropReason::QueueFull, 1);
            return Err(DropReason::QueueFull);
        }
        let mut state = self.lock();
        loop {
            if state.closed {
                drop(state);
                self.stats.record_drop(DropReason::Shutdown, 1);
                return Err(DropReason::Shutdown);
            }
            if state.pending.len() + state.in_flight + line.len() <= self.capacity {
                break;
            }
            if self.backpressure == Backpressure::DROP_NEWEST {
                drop(state);
                self.stats.record_drop(DropReason::QueueFull, 1);
                return Err(DropReason::QueueFull);
            }
            self.wake_worker(&mut state);
            state.blocked += 1;
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.blocked -= 1;
        }
        state.pending.extend_from_slice(line);
        state.pending_lines += 1;
        self.used
            .store(state.pending.len() + state.in_flight, Ordering::Relaxed);
        // The only wake-up on the caller's path, once per `batch_bytes`: a futex
        // call per line would cost more than the copy itself.
        if state.pending.len() >= self.batch_bytes {
            self.wake_worker(&mut state);
        }
        drop(state);
        self.stats.add(Counter::LinesQueued, 1);
        Ok(())
    }

    /// Waits until every line queued before the call is written (or counted dropped).
    fn flush(&self, timeout: Duration) -> Result<(), GuardError> {
        let deadline = deadline_after(timeout);
        let mut state = self.lock();
        state.flush_requested += 1;
        let ticket = state.flush_requested;
        self.wake_worker(&mut state);
        while state.flush_done < ticket {
            if !state.worker_alive {
                return Err(GuardError::WorkerStopped);
            }
            state = self.wait_done(state, deadline, timeout)?;
        }
        Ok(())
    }

    fn wait_done<'a>(
        &self,
        state: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<MutexGuard<'a, State>, GuardError> {
        let Some(deadline) = deadline else {
            return Ok(self
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner));
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(GuardError::Timeout {
                timeout,
                pending_bytes: state.pending.len() + state.in_flight,
            });
        }
        Ok(self
            .done
            .wait_timeout(state, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0)
    }

    /// Closes the queue and waits for the worker to write everything and exit.
    fn shutdown(&self, timeout: Duration) -> Result<(), GuardError> {
        let deadline = deadline_after(timeout);
        let mut state = self.lock();
        if !state.closed {
            state.closed = true;
            state.close_deadline = deadline;
        }
        self.wake_worker(&mut state);
        self.room.notify_all();
        while state.worker_alive {
            state = self.wait_done(state, deadline, timeout)?;
        }
        Ok(())
    }
}

/// The non-blocking writer handle: cheap to clone, safe to share.
///
/// Implements [`MakeWriter`] (each event gets a [`LineWriter`] that queues its
/// line whole) and [`io::Write`] (each `write` call, and each `write!` /
/// `writeln!`, is queued whole, so lines from several threads never mix). The
/// caller never does I/O: it copies the line into the queue, or, when the
/// queue is full, waits or drops according to [`Backpressure`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let (writer, guard) = eventlog_appender::RollingFile::builder()
///     .directory(dir.path())
///     .build_non_blocking()?;
/// let subscriber = tracing_subscriber::fmt().json().with_writer(writer.clone()).finish();
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order_id = 7, "order placed"));
/// guard.flush()?;
/// assert_eq!(writer.stats().snapshot().lines_written, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NonBlocking {
    shared: Arc<Shared>,
    flush_timeout: Duration,
}

impl fmt::Debug for NonBlocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonBlocking")
            .field("capacity", &self.shared.capacity)
            .field("backpressure", &self.shared.backpressure)
            .finish_non_exhaustive()
    }
}

impl NonBlocking {
    /// A builder with the defaults listed on [`NonBlockingBuilder::new`].
    pub const fn builder() -> NonBlockingBuilder {
        NonBlockingBuilder::new()
    }

    /// The live counters (shared with the guard and the rolling file).
    pub fn stats(&self) -> Stats {
        self.shared.stats.clone()
    }

    /// Queues `line` whole (or counts it dropped), exactly like `io::Write::write`
    /// but without needing `&mut`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (writer, guard) = eventlog_appender::NonBlocking::builder().build(Vec::new())?;
    /// writer.send(b"one\n");
    /// let stats = guard.shutdown(std::time::Duration::from_secs(5))?;
    /// assert_eq!((stats.lines_queued, stats.lines_written, stats.bytes_written), (1, 1, 4));
    /// # Ok(()) }
    /// ```
    pub fn send(&self, line: &[u8]) {
        let _ = self.shared.enqueue(line);
    }
}

impl Write for NonBlocking {
    /// Queues all of `buf` as one unit and reports it written; if it was
    /// dropped, the drop is counted in [`Stats`].
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.shared.enqueue(buf);
        Ok(buf.len())
    }

    /// Formats into a per-thread buffer first, so `write!` and `writeln!`
    /// (which call `write` once per piece) still queue one whole unit.
    fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        let mut line = self.make_writer();
        line.write_fmt(args)
    }

    /// Waits until everything queued so far is written (up to the flush
    /// timeout); `TimedOut` or `BrokenPipe` (worker stopped) otherwise.
    fn flush(&mut self) -> io::Result<()> {
        self.shared.flush(self.flush_timeout).map_err(|e| {
            let kind = match e {
                GuardError::Timeout { .. } => io::ErrorKind::TimedOut,
                _ => io::ErrorKind::BrokenPipe,
            };
            io::Error::new(kind, e)
        })
    }
}

thread_local! {
    /// One reusable line buffer per thread, so a steady stream of events allocates nothing.
    static LINE_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The per-event writer [`NonBlocking`] hands to `tracing-subscriber`.
///
/// It collects one event's output in a reused per-thread buffer and queues it
/// whole when dropped (or on `flush`), so concurrent events never interleave
/// and a line is never split.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// use tracing_subscriber::fmt::MakeWriter;
///
/// let (writer, guard) = eventlog_appender::NonBlocking::builder().build(Vec::new())?;
/// {
///     let mut line = writer.make_writer();
///     line.write_all(b"{\"a\":")?;
///     line.write_all(b"1}\n")?;
/// } // queued here, as one line
/// let stats = guard.shutdown(std::time::Duration::from_secs(5))?;
/// assert_eq!((stats.lines_written, stats.bytes_written), (1, 8));
/// # Ok(()) }
/// ```
pub struct LineWriter<'a> {
    writer: &'a NonBlocking,
    buf: Vec<u8>,
}

impl fmt::Debug for LineWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineWriter")
            .field("buffered", &self.buf.len())
            .finish()
    }
}

impl Write for LineWriter<'_> {
    /// Buffers `buf` until the line is complete. A whole line written in one
    /// call (what `write_all` of a formatted event does) is queued at once,
    /// and a drop is reported to the caller as an error — `WouldBlock` for a
    /// full queue, `InvalidInput` for a line larger than the queue,
    /// `BrokenPipe` after shutdown — so a layer above (eventlog's JSON
    /// output) can count it in its own stats. It is counted here either way.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.buf.is_empty() && buf.last() == Some(&b'\n') {
            self.writer.shared.enqueue(buf).map_err(drop_error)?;
            return Ok(buf.len());
        }
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Queues what was written so far; it does not wait for the disk.
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let queued = self.writer.shared.enqueue(&self.buf);
        self.buf.clear();
        queued.map_err(drop_error)
    }
}

/// The `io::Error` a dropped line is reported as.
fn drop_error(reason: DropReason) -> io::Error {
    let kind = match reason {
        DropReason::QueueFull => io::ErrorKind::WouldBlock,
        DropReason::Oversized => io::ErrorKind::InvalidInput,
        DropReason::Shutdown => io::ErrorKind::BrokenPipe,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("line dropped: {}", reason.as_str()))
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
        let buf = std::mem::take(&mut self.buf);
        if buf.capacity() <= MAX_KEPT_LINE_BUFFER {
            // Fails only during thread teardown, when the buffer is simply freed.
            let _ = LINE_BUFFER.try_with(|slot| slot.set(buf));
        }
    }
}

impl<'a> MakeWriter<'a> for NonBlocking {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            writer: self,
            buf: LINE_BUFFER.try_with(Cell::take).unwrap_or_default(),
        }
    }
}

/// Flushes and stops the worker when dropped.
///
/// Keep it alive as long as logging goes on, usually for all of `main`.
/// **Binding it to `_` drops it at once** (`let _ = …` keeps nothing), which
/// stops the writer immediately; bind it to a name such as `_guard`.
///
/// Dropping waits up to the [flush timeout](NonBlockingBuilder::flush_timeout)
/// for queued lines, compression and retention; [`shutdown`](Guard::shutdown)
/// does the same with an explicit timeout and reports the outcome.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// let dir = tempfile::tempdir()?;
/// let (mut writer, guard) = eventlog_appender::RollingFile::builder()
///     .directory(dir.path())
///     .symlink(false)
///     .build_non_blocking()?;
/// for i in 0..1000 {
///     writeln!(writer, "{{\"i\":{i}}}")?;
/// }
/// drop(guard); // everything queued is on disk now
/// let file = std::fs::read_dir(dir.path())?.next().unwrap()?.path();
/// assert_eq!(std::fs::read_to_string(file)?.lines().count(), 1000);
/// # Ok(()) }
/// ```
#[must_use = "dropping the guard stops the writer at once: bind it to a name like `_guard`, not `_`"]
pub struct Guard {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    timeout: Duration,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("timeout", &self.timeout)
            .field("running", &self.handle.is_some())
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Waits until every line queued before this call is written to the file
    /// (and synced, with `fsync`), or counted as dropped, up to the flush timeout.
    pub fn flush(&self) -> Result<(), GuardError> {
        self.shared.flush(self.timeout)
    }

    /// The live counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats.clone()
    }

    /// Writes everything queued, finishes compression and retention, and stops
    /// the worker, waiting at most `timeout`. Returns the final counters.
    ///
    /// Lines sent after this are dropped ([`DropReason::Shutdown`]). On
    /// timeout the worker goes on in the background, detached.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// let (mut writer, guard) = eventlog_appender::NonBlocking::builder().build(Vec::new())?;
    /// writer.write_all(b"last words\n")?;
    /// let stats = guard.shutdown(std::time::Duration::from_secs(5))?;
    /// assert_eq!(stats.lines_written, 1);
    /// writer.write_all(b"too late\n")?;
    /// assert_eq!(writer.stats().snapshot().dropped_shutdown, 1);
    /// # Ok(()) }
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> Result<StatsSnapshot, GuardError> {
        let result = self.stop(timeout);
        // On timeout the worker is left running, detached: `Drop` must not wait again.
        self.handle = None;
        result.map(|()| self.shared.stats.snapshot())
    }

    fn stop(&mut self, timeout: Duration) -> Result<(), GuardError> {
        self.shared.shutdown(timeout)?;
        match self.handle.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(GuardError::WorkerStopped),
            _ => Ok(()),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.handle.is_some() {
            // Nobody to tell: a timeout leaves the worker writing in the
            // background, and its drops are counted in `Stats`.
            let _ = self.stop(self.timeout);
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    sink: Box<dyn Sink>,
    flush_interval: Duration,
    retries: u32,
    retry_backoff: Duration,
    self_report: bool,
    on_drop: Option<DropCallback>,
    /// Reused buffer for self-report lines.
    report: Vec<u8>,
    /// Drops already given to the callback but not yet in a self-report line,
    /// indexed like [`DropReason::ALL`].
    unannounced: [u64; 4],
    /// The rest of a torn line: the sink took the start of a line, then kept
    /// failing. It is written before anything else, so no later line is ever
    /// glued to the torn piece. Empty when the sink is at a line start.
    carry: Vec<u8>,
    carry_kind: CarryKind,
}

/// What finishing the [`Worker::carry`] completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CarryKind {
    /// A queued line: counted written once finished, dropped if never.
    Line,
    /// A `log_events_dropped` line.
    Report,
    /// Only a newline that ends the torn piece (the rest could not be kept,
    /// memory being short): the torn line was counted dropped.
    Terminator,
}

/// Marks the worker gone however it exits (a panic included), so no caller
/// or flush waits for it forever.
struct ExitSignal<'a>(&'a Shared);

impl Drop for ExitSignal<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.worker_alive = false;
        state.closed = true;
        let lost = std::mem::take(&mut state.pending_lines);
        state.pending.clear();
        // Send later callers to the locked path, which sees `closed`.
        self.0.used.store(0, Ordering::Relaxed);
        drop(state);
        self.0.stats.record_drop(DropReason::Shutdown, lost);
        self.0.room.notify_all();
        self.0.done.notify_all();
    }
}

/// Bytes per write call when a batch is large: big enough that syscalls cost
/// nothing, small enough to hand memory back to callers often.
const SLICE: usize = 1 << 20;

/// Where the write starting at `from` should end: about `SLICE` bytes on, at a
/// line end, so a rotation between two writes never splits a line.
fn slice_end(batch: &[u8], from: usize) -> usize {
    let target = from + SLICE;
    if target >= batch.len() {
        return batch.len();
    }
    if let Some(i) = batch[from..target].iter().rposition(|&b| b == b'\n') {
        return from + i + 1;
    }
    batch[target..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(batch.len(), |i| target + i + 1)
}

/// Newlines in `buf`: runs once per batch on failure paths and in blocking
/// mode, so a plain loop beats a dependency.
#[allow(clippy::naive_bytecount)]
pub(crate) fn count_lines(buf: &[u8]) -> u64 {
    buf.iter().filter(|&&b| b == b'\n').count() as u64
}

impl Worker {
    fn run(mut self, mut batch: Vec<u8>) {
        let shared = Arc::clone(&self.shared);
        let _exit = ExitSignal(&shared);
        let close_deadline = loop {
            let (lines, ticket) = {
                let mut state = self.wait_for_batch();
                std::mem::swap(&mut state.pending, &mut batch);
                state.in_flight = batch.len();
                (
                    std::mem::take(&mut state.pending_lines),
                    state.flush_requested,
                )
            };
            if !batch.is_empty() || !self.carry.is_empty() {
                self.write_batch(&batch, lines);
            }
            if self.sink.flush().is_err() {
                shared.stats.add(Counter::WriteErrors, 1);
            }
            self.report_drops();
            batch.clear();
            let mut state = shared.lock();
            state.in_flight = 0;
            shared.used.store(state.pending.len(), Ordering::Relaxed);
            let flushed = ticket > state.flush_done;
            state.flush_done = ticket;
            let blocked = state.blocked > 0;
            let finished = state.closed && state.pending.is_empty();
            let close_deadline = state.close_deadline;
            drop(state);
            if blocked {
                shared.room.notify_all();
            }
            if flushed {
                shared.done.notify_all();
            }
            if finished {
                break close_deadline;
            }
        };
        // Drops counted after the last batch's report (callers still running
        // while it was written) get their line now, before the file closes.
        self.report_drops();
        if self.sink.flush().is_err() {
            shared.stats.add(Counter::WriteErrors, 1);
        }
        if !self.carry.is_empty() && self.carry_kind == CarryKind::Line {
            // The disk never came back: the torn line's start is on disk, its
            // rest is lost with the process.
            shared.stats.record_drop(DropReason::Io, 1);
        }
        self.sink.close(close_deadline);
    }

    /// Whether something a failing sink left over waits for a retry: the rest
    /// of a torn line, drops not yet announced.
    fn has_backlog(&self) -> bool {
        !self.carry.is_empty()
            || self.shared.stats.has_unreported()
            || (self.self_report && self.unannounced.iter().any(|&n| n > 0))
    }

    /// Waits until a batch is due: enough bytes, the interval, a flush, a
    /// blocked caller or close. The worker wakes itself every interval rather
    /// than being woken per line, so a line waits at most about one interval.
    /// An interval with nothing queued still ends the wait when a failed
    /// write left a backlog, so it is retried without waiting for new lines.
    fn wait_for_batch(&self) -> MutexGuard<'_, State> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        let mut due = Instant::now().checked_add(self.flush_interval);
        loop {
            // Blocked callers with nothing pending only need to be scheduled:
            // the room is already there (nothing is in flight while we wait).
            let blocked = state.blocked > 0 && !state.pending.is_empty();
            if state.closed
                || state.flush_requested > state.flush_done
                || state.pending.len() >= shared.batch_bytes
                || blocked
            {
                break;
            }
            let now = Instant::now();
            if due.is_some_and(|due| now >= due) {
                if !state.pending.is_empty() || self.has_backlog() {
                    break;
                }
                due = now.checked_add(self.flush_interval);
            }
            state.worker = WorkerState::Waiting;
            state = match due {
                Some(due) => {
                    shared
                        .work
                        .wait_timeout(state, due - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                // The clock cannot represent the next tick: wait to be woken.
                None => shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
        state.worker = WorkerState::Busy;
        state
    }

    /// The pause after the `failures`-th failure in a row.
    fn backoff(&self, failures: u32) -> Duration {
        self.retry_backoff
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(MAX_RETRY_BACKOFF)
    }

    /// Writes `batch` fully, retrying failures with backoff; what still fails
    /// after the retries is dropped and counted.
    ///
    /// Writes go in slices of about [`SLICE`] ending at line ends, and each
    /// written slice is released from the queue's budget at once, so callers
    /// get room back while a large batch is still being written.
    ///
    /// The rest of a line torn by an earlier failure goes first; while it
    /// cannot be written, nothing else can be either (it would be glued to
    /// the torn piece), so the whole batch is dropped.
    fn write_batch(&mut self, batch: &[u8], lines: u64) {
        let stats = self.shared.stats.clone();
        if !self.finish_carry() {
            stats.record_drop(DropReason::Io, lines);
            return;
        }
        let mut written = 0;
        let mut released = 0;
        let mut failures = 0;
        while written < batch.len() {
            let end = slice_end(batch, written);
            match self.sink.write(&batch[written..end]) {
                Ok(n) if n > 0 => {
                    // A sink claiming more than it was given is taken at its
                    // word only up to what it was given.
                    let n = n.min(end - written);
                    written += n;
                    stats.add(Counter::BytesWritten, n as u64);
                    if written - released >= SLICE && written < batch.len() {
                        self.release(written - released);
                        released = written;
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                _ => {
                    stats.add(Counter::WriteErrors, 1);
                    failures += 1;
                }
            }
            if failures > self.retries {
                self.give_up(batch, written, lines);
                return;
            }
            std::thread::sleep(self.backoff(failures));
        }
        stats.add(Counter::LinesWritten, lines);
    }

    /// Counts the lines of `batch` from `written` on as dropped, except a line
    /// the sink took part of: its rest becomes the carry, finished first
    /// once the sink works again.
    fn give_up(&mut self, batch: &[u8], written: usize, lines: u64) {
        let stats = &self.shared.stats;
        let done = count_lines(&batch[..written]).min(lines);
        stats.add(Counter::LinesWritten, done);
        let mut lost = lines - done;
        let torn = written > 0 && batch[written - 1] != b'\n';
        if torn && lost > 0 {
            let rest = &batch[written..];
            let rest = &rest[..rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1)];
            self.carry.clear();
            if self.carry.try_reserve_exact(rest.len()).is_ok() {
                self.carry.extend_from_slice(rest);
                self.carry_kind = CarryKind::Line;
                lost -= 1;
            } else {
                self.carry.push(b'\n');
                self.carry_kind = CarryKind::Terminator;
            }
        }
        stats.record_drop(DropReason::Io, lost);
    }

    /// Writes the rest of a torn line, retrying like a batch; whether the
    /// sink is now at a line start. On failure what is left stays carried.
    fn finish_carry(&mut self) -> bool {
        let stats = self.shared.stats.clone();
        let mut written = 0;
        let mut failures = 0;
        while written < self.carry.len() {
            match self.sink.write(&self.carry[written..]) {
                Ok(n) if n > 0 => {
                    let n = n.min(self.carry.len() - written);
                    written += n;
                    stats.add(Counter::BytesWritten, n as u64);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                _ => {
                    stats.add(Counter::WriteErrors, 1);
                    failures += 1;
                }
            }
            if failures > self.retries {
                self.carry.drain(..written);
                return false;
            }
            std::thread::sleep(self.backoff(failures));
        }
        if !self.carry.is_empty() {
            match self.carry_kind {
                CarryKind::Line => stats.add(Counter::LinesWritten, 1),
                CarryKind::Report => {
                    stats.add(Counter::LinesWritten, 1);
                    stats.add(Counter::SelfReports, 1);
                }
                CarryKind::Terminator => {}
            }
        }
        self.carry.clear();
        if self.carry.capacity() > MAX_KEPT_LINE_BUFFER {
            self.carry = Vec::new();
        }
        true
    }

    /// Gives `bytes` of the batch in flight back to the budget.
    fn release(&self, bytes: usize) {
        let shared = &*self.shared;
        let mut state = shared.lock();
        state.in_flight -= bytes;
        shared
            .used
            .store(state.pending.len() + state.in_flight, Ordering::Relaxed);
        let blocked = state.blocked > 0;
        drop(state);
        if blocked {
            shared.room.notify_all();
        }
    }

    /// Announces drops since the last report: the callback once per drop, and
    /// a self-report line, retried after each batch until the sink takes it.
    ///
    /// A report the sink takes only part of is finished like a torn line
    /// (its rest carried); none is written while a torn line is unfinished.
    fn report_drops(&mut self) {
        let stats = self.shared.stats.clone();
        for (i, reason) in DropReason::ALL.into_iter().enumerate() {
            let count = stats.take_unreported(reason);
            if count > 0 {
                let report = DropReport::new(reason, count, stats.dropped());
                if let Some(callback) = &self.on_drop {
                    // A panicking callback must not take the writer down with it.
                    let _ = catch_unwind(AssertUnwindSafe(|| callback(&report)));
                }
                self.unannounced[i] = self.unannounced[i].saturating_add(count);
            }
            if !self.self_report || self.unannounced[i] == 0 || !self.carry.is_empty() {
                continue;
            }
            let report = DropReport::new(reason, self.unannounced[i], stats.dropped());
            self.report.clear();
            write_self_report(&mut self.report, &report, SystemTime::now());
            let mut written = 0;
            while written < self.report.len() {
                match self.sink.write(&self.report[written..]) {
                    Ok(n) if n > 0 => written += n.min(self.report.len() - written),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    _ => break,
                }
            }
            stats.add(Counter::BytesWritten, written as u64);
            if written == self.report.len() {
                stats.add(Counter::LinesWritten, 1);
                stats.add(Counter::SelfReports, 1);
                self.unannounced[i] = 0;
            } else {
                stats.add(Counter::WriteErrors, 1);
                if written > 0 {
                    // Torn: its rest goes first next time, and announces these drops.
                    self.carry.clear();
                    self.carry.extend_from_slice(&self.report[written..]);
                    self.carry_kind = CarryKind::Report;
                    self.unannounced[i] = 0;
                }
                // Otherwise kept for the next batch, once the sink works again.
            }
        }
    }
}

fn reason_text(reason: DropReason) -> &'static str {
    match reason {
        DropReason::QueueFull => "the queue was full",
        DropReason::Oversized => "each was larger than the whole queue",
        DropReason::Io => "writing failed after every retry",
        DropReason::Shutdown => "they arrived after shutdown",
    }
}

/// The `log_events_dropped` line, in the eventlog envelope (version 1) shape.
fn write_self_report(out: &mut Vec<u8>, report: &DropReport, now: SystemTime) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    clock::push_rfc3339(out, now);
    // Only fixed ASCII text and integers follow: nothing needs escaping.
    let _ = writeln!(
        out,
        "\",\"level\":\"WARN\",\"event_name\":\"log_events_dropped\",\"event_type\":\"system_event\",\
         \"message\":\"{count} log lines dropped: {text}\",\
         \"metadata\":{{\"dropped\":{count},\"reason\":\"{reason}\",\"total_dropped\":{total}}}}}",
        count = report.count,
        text = reason_text(report.reason),
        reason = report.reason.as_str(),
        total = report.total,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn self_report_is_an_envelope_line() {
        let mut out = Vec::new();
        let t = UNIX_EPOCH + Duration::from_micros(1_795_596_607_123_456);
        write_self_report(&mut out, &DropReport::new(DropReason::QueueFull, 12, 40), t);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"timestamp\":\"2026-11-25T08:50:07.123456Z\",\"level\":\"WARN\",\
             \"event_name\":\"log_events_dropped\",\"event_type\":\"system_event\",\
             \"message\":\"12 log lines dropped: the queue was full\",\
             \"metadata\":{\"dropped\":12,\"reason\":\"queue_full\",\"total_dropped\":40}}\n"
        );
    }

    #[test]
    fn slices_end_at_line_ends() {
        let line = [b'x'; 99]
            .iter()
            .copied()
            .chain([b'\n'])
            .collect::<Vec<u8>>();
        let batch: Vec<u8> = line.iter().copied().cycle().take(SLICE * 3).collect();
        let first = slice_end(&batch, 0);
        assert!(first <= SLICE && SLICE - first < 100, "{first}");
        assert_eq!(batch[first - 1], b'\n');
        assert_eq!(slice_end(&batch, batch.len() - 10), batch.len());
        // One line longer than a slice: the slice stretches to its end.
        let mut long = vec![b'y'; SLICE + 5];
        long.push(b'\n');
        long.extend_from_slice(&line);
        assert_eq!(slice_end(&long, 0), SLICE + 6);
        let unterminated = vec![b'z'; SLICE + 5];
        assert_eq!(slice_end(&unterminated, 0), SLICE + 5);
    }

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
