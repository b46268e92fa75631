//! Creating the files the crate writes: the active log file (rolling) and
//! the compressed copy of a rotated one (maintenance), both through
//! [`open_new`], so both get the same permission bits and never overwrite.
//!
//! ```text
//! rolling ─────┐
//!              ├─> file::open_new(path, mode): create-only, append mode, `mode` bits on unix
//! maintenance ─┘
//! ```

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `path` (which must not exist) with permission bits `mode` on unix,
/// in append mode: after the file is truncated, the next write lands at the
/// new end, whatever the file position was.
pub(crate) fn open_new(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}
