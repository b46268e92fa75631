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
//!   [`WriterStats`], reported to an optional callback, and, given a
//!   formatter ([`NonBlockingBuilder::self_report`]; with eventlog, the
//!   layer's `log_records_dropped` record), announced in the log itself. A
//!   [`Guard`] flushes on drop.
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
//! - **A line is never torn by a failing disk.** When the OS takes only part
//!   of a write and then fails (a full disk), the rolling file cuts the torn
//!   piece off again and the line is retried whole or dropped whole; with any
//!   other sink, the rest of the torn line is written before anything else.
//!   No line is ever glued to half of another. The one torn line a reader can
//!   meet is an unterminated **last** line of a file: after a crash (SIGKILL,
//!   power loss) in the middle of a write, or when even cutting the piece
//!   off failed (the writer then goes on in a new file). Readers should skip
//!   a last line without a final newline.
//! - **Nothing is lost silently.** A line that is not written is counted by
//!   [`LineDropReason`]; see [`WriterStatsSnapshot`].
//! - **Memory is bounded** by [`NonBlockingBuilder::capacity`], and so is what
//!   a crash can lose: lines queued but not yet written, at most `capacity`
//!   bytes (a SIGKILL loses nothing the worker has handed to the OS).
//! - **Shutdown writes everything queued**: dropping the [`Guard`], or
//!   [`Guard::shutdown`] with a timeout and a typed [`GuardError`].
//! - **Faults do not panic.** A failed write (disk full, I/O error, directory
//!   removed, permission lost) is retried with backoff, then its lines are
//!   dropped with [`LineDropReason::Io`] and announced by a self-report
//!   line once the disk takes writes again; writing resumes by itself. A
//!   vanished directory is recreated; an unwritable one delays rotation
//!   (lines go on in the current file).
//! - **Bad configuration never panics later.** Every setter either clamps to
//!   the bound its documentation gives or makes the build fail with a typed
//!   [`NonBlockingError`] / [`RollingFileError`]; the worker thread does not
//!   panic on any setting.
//!
//! # Files on disk
//!
//! `logs/app.20261125T085007.123Z.jsonl`, then `….jsonl.gz` once rotated and
//! compressed, with its block index `….jsonl.gz.idx`; `logs/app.jsonl` is a
//! symlink to the file being written. See [`RollingFile`] for the naming rules.
//!
//! # Compressed files help their readers
//!
//! A rotated file is compressed as independent gzip members of about 1 MiB
//! each ([`RollingFileBuilder::compress_block_bytes`]), cut at line ends,
//! and a small sidecar index records, per member, where it is, its lines,
//! its time range, the levels, event names and types its lines hold, and a
//! Bloom filter of their ids (format version 1, checksummed: see
//! [`blocks`]). The `eventlog` command skips members that cannot match a
//! query and inflates the rest in parallel. The `.gz` stays one ordinary
//! gzip file for `zcat`, DuckDB or [`read::open`]; a file without an
//! index, or with one that does not match it, is simply read whole.
//!
//! # Reading the files back
//!
//! [`read`] lists a writer's files in write order and reads their lines,
//! compressed or not, in bounded memory: what the `eventlog` command, the
//! tests and anyone checking what reached the disk use.
//!
//! # Feature flags
//!
//! - `local-time`: `TimeZone::local`, rotation at local midnight or hour
//!   (requires the `jiff` crate). Off by default; UTC and fixed offsets need nothing.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod blocks;
mod clock;
mod error;
mod extract;
mod fault;
mod file;
mod maintenance;
mod naming;
mod non_blocking;
pub mod read;
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
pub use stats::{DropReport, LineDropReason, WriterStats, WriterStatsSnapshot};
