//! Typed errors: what failed and the path or value at fault.

use std::path::PathBuf;
use std::time::Duration;

/// Building a [`RollingFile`](crate::RollingFile) failed.
///
/// Each variant carries the offending path or value. Build errors are the only
/// errors the appender returns for configuration: after a successful build,
/// runtime failures are counted in [`WriterStats`](crate::WriterStats), never panics.
///
/// ```
/// use eventlog_appender::{RollingFile, RollingFileError};
///
/// let dir = tempfile::tempdir().unwrap();
/// let file = dir.path().join("not-a-dir");
/// std::fs::write(&file, b"").unwrap();
/// let err = RollingFile::builder().directory(&file).build().unwrap_err();
/// assert!(matches!(err, RollingFileError::NotADirectory { .. }));
/// assert_eq!(err.to_string(), format!("log directory {} is not a directory", file.display()));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RollingFileError {
    /// The log directory did not exist and could not be created. Check the
    /// parent directory exists and is writable by this process.
    #[error("cannot create log directory {}", .path.display())]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The log directory path exists but is a file (or something else).
    #[error("log directory {} is not a directory", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The first log file could not be created: the directory is not writable.
    #[error("cannot create log file {}", .path.display())]
    CreateFile {
        /// The file that could not be created.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A builder option has a value that cannot work; the message says why.
    #[error("invalid {option} `{value}`: {reason}")]
    InvalidOption {
        /// The builder method, e.g. `prefix`.
        option: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A background thread (compression and retention) could not be started.
    #[error("cannot spawn thread `{name}`")]
    SpawnThread {
        /// The thread's name.
        name: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The non-blocking writer on top of the file could not be built.
    #[error(transparent)]
    NonBlocking(#[from] NonBlockingError),
}

/// Building a [`NonBlocking`](crate::NonBlocking) writer failed.
///
/// ```
/// use eventlog_appender::{NonBlocking, NonBlockingError};
///
/// let err = NonBlocking::builder().capacity(0).build(std::io::sink()).unwrap_err();
/// assert!(matches!(err, NonBlockingError::InvalidOption { option: "capacity", .. }));
/// assert_eq!(err.to_string(), "invalid capacity `0`: must be at least 1 byte");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NonBlockingError {
    /// A builder option has a value that cannot work; the message says why.
    #[error("invalid {option} `{value}`: {reason}")]
    InvalidOption {
        /// The builder method, e.g. `capacity`.
        option: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The worker thread could not be started.
    #[error("cannot spawn thread `{name}`")]
    SpawnThread {
        /// The thread's name.
        name: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The system refused to reserve the queue's buffers (two of
    /// [`capacity`](crate::NonBlockingBuilder::capacity) bytes each). Lower
    /// the capacity.
    #[error("cannot reserve two queue buffers of {bytes} bytes")]
    OutOfMemory {
        /// The capacity asked for.
        bytes: usize,
        /// The allocator's refusal.
        #[source]
        source: std::collections::TryReserveError,
    },
}

/// [`Guard::flush`](crate::Guard::flush) or [`Guard::shutdown`](crate::Guard::shutdown) did not complete.
///
/// ```
/// use eventlog_appender::GuardError;
/// use std::time::Duration;
///
/// let err = GuardError::Timeout { timeout: Duration::from_millis(250), pending_bytes: 4096 };
/// assert_eq!(err.to_string(), "log writer did not finish within 250ms (4096 bytes still queued)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The worker did not finish within the timeout: the disk is slow or stuck,
    /// or a rotated file was still being compressed (`pending_bytes` is then
    /// 0: every line is on disk, and a file whose compression did not finish
    /// stays whole and uncompressed). The worker keeps going in the
    /// background; `pending_bytes` may still be written later, or lost if the
    /// process exits now. Raise the timeout if this happens on healthy disks.
    #[error("log writer did not finish within {timeout:?} ({pending_bytes} bytes still queued)")]
    Timeout {
        /// The timeout that expired.
        timeout: Duration,
        /// Bytes queued or being written when it expired.
        pending_bytes: usize,
    },
    /// The worker thread is gone (it was shut down before, or it panicked).
    /// Nothing more can be written; lines sent now count as dropped with
    /// [`LineDropReason::Shutdown`](crate::LineDropReason::Shutdown).
    #[error("log writer worker has stopped")]
    WorkerStopped,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_failed() {
        let err = RollingFileError::CreateFile {
            path: PathBuf::from("/ro/app.jsonl"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(err.to_string(), "cannot create log file /ro/app.jsonl");
        assert!(std::error::Error::source(&err).is_some());
        let err = RollingFileError::InvalidOption {
            option: "prefix",
            value: "a/b".into(),
            reason: "must not contain a path separator",
        };
        assert_eq!(
            err.to_string(),
            "invalid prefix `a/b`: must not contain a path separator"
        );
        assert_eq!(
            GuardError::WorkerStopped.to_string(),
            "log writer worker has stopped"
        );
    }
}
