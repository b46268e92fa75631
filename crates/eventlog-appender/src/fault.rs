//! A seam for fault-injection tests: what a real filesystem cannot produce on
//! demand (EIO, a short write of an exact length, a failing truncation) is
//! injected into the rolling file's own writes. Hidden from the docs and not
//! for production use; without it the rolling file writes straight to its file.

use std::fmt;
use std::io;

/// Decides the fate of each write to, and truncation of, a rolling file's
/// active file. Set with the hidden `RollingFileBuilder::faults`.
#[doc(hidden)]
pub trait FileFaults: Send + Sync + fmt::Debug {
    /// Called before each write of `len` bytes: `Ok(n)` passes the first `n`
    /// bytes (at most `len`; `0` writes nothing) to the real file, `Err`
    /// fails the write without writing anything.
    fn write(&self, len: usize) -> io::Result<usize> {
        Ok(len)
    }

    /// Called before the active file is truncated back to its last line
    /// end: `Err` fails the truncation.
    fn truncate(&self) -> io::Result<()> {
        Ok(())
    }
}
