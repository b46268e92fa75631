//! The queue between callers and the worker: one `pending` buffer bounded in
//! bytes, the wake-ups around it, and what a caller does when it is full.
//!
//! ```text
//!  callers ── enqueue(line): a memcpy ─> pending ── swap ─> the worker's batch
//!     │       under a short lock          used = pending + in flight ≤ capacity
//!     └─ full: Backpressure::BLOCK waits on `room`; DROP_NEWEST counts the drop
//!  flush, shutdown ── wake the worker, wait on `done`
//! ```
//!
//! Callers append each line to one shared `pending` buffer under a short
//! mutex (a `memcpy`, no allocation). The worker swaps `pending` with its own
//! emptied buffer (double buffering, so both are reused forever) and writes
//! the whole batch while callers keep appending.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::GuardError;
use crate::stats::{Counter, LineDropReason, WriterStats};

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
pub struct Backpressure(WhenFull);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum WhenFull {
    Block,
    #[default]
    DropNewest,
}

impl Backpressure {
    /// Wait until the worker has made room. Callers wait only while the queue
    /// is full; nothing is dropped for lack of room.
    pub const BLOCK: Backpressure = Backpressure(WhenFull::Block);
    /// Never wait: a line that does not fit is dropped and counted
    /// ([`LineDropReason::QueueFull`]).
    pub const DROP_NEWEST: Backpressure = Backpressure(WhenFull::DropNewest);
}

/// `now + timeout`, or `None` (no deadline) when that instant cannot be
/// represented, e.g. for `Duration::MAX`.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Reused line buffers (a caller thread's, the worker's carry) larger than
/// this are freed after use.
pub(super) const MAX_KEPT_LINE_BUFFER: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WorkerState {
    /// Writing, or about to look at the queue: nobody needs to wake it.
    Busy,
    /// Sleeping until the interval ends, or until woken because a batch,
    /// a flush or a blocked caller is due.
    Waiting,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) pending: Vec<u8>,
    pub(super) pending_lines: u64,
    /// Bytes of the batch the worker is writing; they still count against capacity.
    pub(super) in_flight: usize,
    pub(super) worker: WorkerState,
    /// Callers waiting for room (block policy).
    pub(super) blocked: usize,
    pub(super) flush_requested: u64,
    pub(super) flush_done: u64,
    pub(super) closed: bool,
    /// When the worker must give up finishing background work after close;
    /// `None`: no limit (or not closed).
    pub(super) close_deadline: Option<Instant>,
    /// The worker closed its sink with background work (compression) still
    /// running at the deadline: shutdown must not report success.
    pub(super) close_unfinished: bool,
    pub(super) worker_alive: bool,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Wakes the worker.
    pub(super) work: Condvar,
    /// Wakes blocked callers.
    pub(super) room: Condvar,
    /// Wakes flush and shutdown waiters.
    pub(super) done: Condvar,
    pub(super) capacity: usize,
    pub(super) batch_bytes: usize,
    pub(super) backpressure: Backpressure,
    pub(super) stats: WriterStats,
    /// `pending.len() + in_flight`, mirrored outside the lock so that, when the
    /// queue is full, drop-newest callers give up without touching the mutex
    /// (which would otherwise starve the worker of the lock it needs to swap).
    pub(super) used: AtomicUsize,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the buffers consistent (plain
        // appends and swaps), so carrying on beats losing every later line.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn wake_worker(&self, state: &mut State) {
        if state.worker != WorkerState::Busy {
            state.worker = WorkerState::Busy;
            self.work.notify_one();
        }
    }

    /// Queues one line whole, or counts it dropped.
    /// Queues `line`, or counts it dropped and says why.
    pub(super) fn enqueue(&self, line: &[u8]) -> Result<(), LineDropReason> {
        if line.is_empty() {
            return Ok(());
        }
        if line.len() > self.capacity {
            self.stats.record_drop(LineDropReason::Oversized, 1);
            return Err(LineDropReason::Oversized);
        }
        if self.backpressure == Backpressure::DROP_NEWEST
            && self.used.load(Ordering::Relaxed) + line.len() > self.capacity
        {
            // A stale read only errs by a batch: at worst a line is dropped just
            // as the worker frees room, which the lock path below would also do
            // a moment earlier.
            self.stats.record_drop(LineDropReason::QueueFull, 1);
            return Err(LineDropReason::QueueFull);
        }
        let mut state = self.lock();
        loop {
            if state.closed {
                drop(state);
                self.stats.record_drop(LineDropReason::Shutdown, 1);
                return Err(LineDropReason::Shutdown);
            }
            if state.pending.len() + state.in_flight + line.len() <= self.capacity {
                break;
            }
            if self.backpressure == Backpressure::DROP_NEWEST {
                drop(state);
                self.stats.record_drop(LineDropReason::QueueFull, 1);
                return Err(LineDropReason::QueueFull);
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
    pub(super) fn flush(&self, timeout: Duration) -> Result<(), GuardError> {
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
    pub(super) fn shutdown(&self, timeout: Duration) -> Result<(), GuardError> {
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
        if state.close_unfinished {
            // Every line is on disk; a rotated file is still being
            // compressed (it stays whole, uncompressed, if the process ends).
            return Err(GuardError::Timeout {
                timeout,
                pending_bytes: 0,
            });
        }
        Ok(())
    }
}
