//! [`Guard`]: flushes and stops the worker, and carries its outcome.
//!
//! ```text
//!  Guard::flush ── ticket ─> Shared ── wake ─> Worker: writes what was queued, flushes the sink
//!               <─ done ──────────────────────  (flush_done reaches the ticket)
//!  Guard::shutdown, drop ── close ─> Worker: writes the rest, closes the sink, exits
//!               <─ done (worker gone), join
//! ```

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::GuardError;
use crate::non_blocking::queue::Shared;
use crate::stats::{WriterStats, WriterStatsSnapshot};

/// Flushes and stops the worker when dropped.
///
/// Keep it alive as long as logging goes on, usually for all of `main`.
/// **Binding it to `_` drops it at once** (`let _ = …` keeps nothing), which
/// stops the writer immediately; bind it to a name such as `_guard`.
///
/// Dropping waits up to the [flush timeout](crate::NonBlockingBuilder::flush_timeout)
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
    pub(super) shared: Arc<Shared>,
    pub(super) handle: Option<JoinHandle<()>>,
    pub(super) timeout: Duration,
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
    /// (and synced, with `fsync`), or counted as dropped, up to the flush
    /// timeout ([`NonBlockingBuilder::flush_timeout`](crate::NonBlockingBuilder::flush_timeout)).
    pub fn flush(&self) -> Result<(), GuardError> {
        self.flush_within(self.timeout)
    }

    /// [`flush`](Self::flush) with its own timeout; on timeout the lines
    /// stay queued and the worker goes on writing them.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// let file = tempfile::NamedTempFile::new()?;
    /// let (mut writer, guard) = eventlog_appender::NonBlocking::builder().build(file.reopen()?)?;
    /// writer.write_all(b"hello\n")?;
    /// guard.flush_within(std::time::Duration::from_secs(5))?;
    /// assert_eq!(std::fs::read_to_string(file.path())?, "hello\n");
    /// # Ok(()) }
    /// ```
    pub fn flush_within(&self, timeout: Duration) -> Result<(), GuardError> {
        self.shared.flush(timeout)
    }

    /// The live counters.
    pub fn stats(&self) -> WriterStats {
        self.shared.stats.clone()
    }

    /// Writes everything queued, finishes compression and retention, and stops
    /// the worker, waiting at most `timeout`. Returns the final counters.
    ///
    /// Lines sent after this are dropped
    /// ([`LineDropReason::Shutdown`](crate::LineDropReason::Shutdown)). On timeout the
    /// worker goes on in the background, detached.
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
    pub fn shutdown(mut self, timeout: Duration) -> Result<WriterStatsSnapshot, GuardError> {
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
            // background, and its drops are counted in `WriterStats`.
            let _ = self.stop(self.timeout);
        }
    }
}
