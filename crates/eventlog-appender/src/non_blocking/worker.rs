//! The worker thread: takes the queued batch, writes it to the [`Sink`] in
//! slices of whole lines, retries failures, finishes torn lines, and
//! announces drops.
//!
//! ```text
//!  loop:  wait (batch_bytes queued · interval · flush · blocked caller · close)
//!         swap pending <─> batch ─> finish the carry (rest of a torn line) first
//!         write ≤ SLICE, at line ends ─┬─ ok ────> count, release the bytes to callers
//!                                      ├─ error ─> back off, retry
//!                                      └─ out of retries ─> drop (Io); a torn line's
//!                                                           rest becomes the carry
//!         flush the sink ─> report drops (callback, self-report line) ─> wake waiters
//!  close: report the last drops, flush, Sink::close(deadline); ExitSignal wakes all
//! ```

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::non_blocking::queue::{MAX_KEPT_LINE_BUFFER, Shared, State, WorkerState};
use crate::non_blocking::sink::{Sink, count_lines};
use crate::stats::{Counter, DropReport, LineDropReason};

/// Called on the worker thread with each [`DropReport`].
pub(super) type DropCallback = Arc<dyn Fn(&DropReport) + Send + Sync>;
/// Appends a self-report line for a report.
pub(super) type SelfReport = Arc<dyn Fn(&DropReport, &mut Vec<u8>) + Send + Sync>;

/// [`NonBlockingBuilder::retry_backoff`](crate::NonBlockingBuilder::retry_backoff),
/// and every doubled pause, stay at or below this.
pub(super) const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(10);

pub(super) struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) sink: Box<dyn Sink>,
    pub(super) flush_interval: Duration,
    pub(super) retries: u32,
    pub(super) retry_backoff: Duration,
    pub(super) self_report: Option<SelfReport>,
    pub(super) on_drop: Option<DropCallback>,
    /// Reused buffer for self-report lines.
    pub(super) report: Vec<u8>,
    /// Drops already given to the callback but not yet in a self-report line,
    /// indexed like [`LineDropReason::ALL`].
    pub(super) unannounced: [u64; 4],
    /// The rest of a torn line: the sink took the start of a line, then kept
    /// failing. It is written before anything else, so no later line is ever
    /// glued to the torn piece. Empty when the sink is at a line start.
    pub(super) carry: Vec<u8>,
    pub(super) carry_kind: CarryKind,
}

/// What finishing the [`Worker::carry`] completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CarryKind {
    /// A queued line: counted written once finished, dropped if never.
    Line,
    /// A self-report line.
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
        self.0.stats.record_drop(LineDropReason::Shutdown, lost);
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

impl Worker {
    pub(super) fn run(mut self, mut batch: Vec<u8>) {
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
            shared.stats.record_drop(LineDropReason::Io, 1);
        }
        if !self.sink.close(close_deadline) {
            shared.lock().close_unfinished = true;
        }
    }

    /// Whether something a failing sink left over waits for a retry: the rest
    /// of a torn line, drops not yet announced.
    fn has_backlog(&self) -> bool {
        !self.carry.is_empty()
            || self.shared.stats.has_unreported()
            || (self.self_report.is_some() && self.unannounced.iter().any(|&n| n > 0))
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
            stats.record_drop(LineDropReason::Io, lines);
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
        stats.record_drop(LineDropReason::Io, lost);
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
        for (i, reason) in LineDropReason::ALL.into_iter().enumerate() {
            let count = stats.take_unreported(reason);
            if count > 0 {
                let report = DropReport::new(reason, count, stats.dropped());
                if let Some(callback) = &self.on_drop {
                    // A panicking callback must not take the writer down with it.
                    let _ = catch_unwind(AssertUnwindSafe(|| callback(&report)));
                }
                self.unannounced[i] = self.unannounced[i].saturating_add(count);
            }
            let Some(format) = &self.self_report else {
                continue;
            };
            if self.unannounced[i] == 0 || !self.carry.is_empty() {
                continue;
            }
            let report = DropReport::new(reason, self.unannounced[i], stats.dropped());
            self.report.clear();
            let formatted = catch_unwind(AssertUnwindSafe(|| format(&report, &mut self.report)));
            if formatted.is_err() || self.report.is_empty() {
                // A formatter that panics (or writes nothing) cannot report;
                // the drops stay counted in the stats.
                self.unannounced[i] = 0;
                continue;
            }
            if self.report.last() != Some(&b'\n') {
                self.report.push(b'\n');
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
