//! A non-blocking, rotating, self-cleaning file writer for `tracing` and
//! [eventlog](https://github.com/eventlog-rs/eventlog) JSON event logs.
//!
//! Logging must never hold up user-facing work, and event logs grow fast.
//! This crate gives you:
//!
//! - [`NonBlocking`]: a writer whose callers only copy a line into a queue
//!   bounded in **bytes**; one worker thread writes whole batches. When the
//!   queue is full, callers either wait or drop the line, as you choose
//!   ([`Backpressure`]); nothing is lost silently: every drop is counted in
//!   [`Stats`], reported to an optional callback, and announced in the log
//!   itself by a `log_events_dropped` line. A [`Guard`] flushes on drop.
//! - [`RollingFile`]: files that rotate by size and/or time ([`Rotation`]),
//!   are gzip-compressed off the hot path, and are deleted by count, age or
//!   total size, touching only files they own.
//!
//! It speaks bytes and [`MakeWriter`](tracing_subscriber::fmt::MakeWriter), so it
//! serves the eventlog layer and a plain `tracing_subscriber::fmt` layer alike.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! # let logs = tmp.path().join("logs");
//! use eventlog_appender::{RollingFile, Rotation};
//!
//! let (writer, _guard) = RollingFile::builder()
//!     .directory(&logs)
//!     .prefix("checkout")
//!     .max_bytes(64 << 20)
//!     .rotation(Rotation::HOURLY)
//!     .compress(true)
//!     .keep(30)
//!     .build_non_blocking()?;
//! let subscriber = tracing_subscriber::fmt().json().with_writer(writer.clone()).finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(event_name = "order_placed", order_id = 42, "order placed");
//! });
//! _guard.flush()?;
//! assert_eq!(writer.stats().snapshot().lines_written, 1);
//! # Ok(()) }
//! ```
//!
//! # What it promises
//!
//! - **The caller never does I/O.** It copies the line into a shared buffer
//!   under a short lock (no allocation once warm: buffers are reused), and
//!   with [`Backpressure::DROP_NEWEST`] it never waits either.
//! - **A line is never split**, neither between threads (each event, `write`
//!   call or `write!` is queued whole) nor between files (rotation happens at
//!   line ends).
//! - **Nothing is lost silently.** A line that is not written is counted by
//!   [`DropReason`]; see [`StatsSnapshot`].
//! - **Memory is bounded** by [`NonBlockingBuilder::capacity`].
//! - **Shutdown writes everything queued**: dropping the [`Guard`], or
//!   [`Guard::shutdown`] with a timeout and a typed [`GuardError`].
//! - **Faults do not panic.** A failed write (disk full, directory removed,
//!   permission lost) is retried with backoff, then its lines are dropped
//!   with [`DropReason::Io`]; a vanished directory is recreated. Bad
//!   configuration is a [`RollingFileError`] at build time.
//!
//! # Files on disk
//!
//! `logs/app.20261125T085007.123Z.jsonl`, then `….jsonl.gz` once rotated and
//! compressed; `logs/app.jsonl` is a symlink to the file being written. See
//! [`RollingFile`] for the naming rules.
//!
//! # Feature flags
//!
//! - `local-time`: [`TimeZone::local`], rotation at local midnight or hour
//!   (requires the `jiff` crate). Off by default; UTC and fixed offsets need nothing.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod error;
mod fault;
mod maintenance;
mod naming;
mod non_blocking;
mod rolling;
mod rotation;
mod stats;

#[doc(hidden)]
pub use clock::Clock;
pub use error::{GuardError, NonBlockingError, RollingFileError};
#[doc(hidden)]
pub use fault::FileFaults;
pub use non_blocking::{Backpressure, Guard, LineWriter, NonBlocking, NonBlockingBuilder};
pub use rolling::{RollingFile, RollingFileBuilder};
pub use rotation::{Rotation, TimeZone};
pub use stats::{DropReason, DropReport, Stats, StatsSnapshot};
