//! Rolling files: the file writer itself, its builder, rotation by size and
//! time, and the active-file symlink.

use std::borrow::Cow;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::clock::{Clock, SystemClock};
use crate::error::RollingFileError;
use crate::fault::FileFaults;
use crate::file::open_new;
use crate::maintenance::{self, Job, Maintenance, Retention};
use crate::naming;
use crate::non_blocking::sink::{Sink, count_lines};
use crate::non_blocking::{Guard, NonBlocking, NonBlockingBuilder};
use crate::rotation::{Rotation, TimeZone};
use crate::stats::{Counter, WriterStats};

/// Taken names skipped (1 ms each) before opening a file fails.
const MAX_COLLISIONS: u32 = 1000;

fn truncate_to_millis(t: SystemTime) -> SystemTime {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    UNIX_EPOCH + Duration::from_millis(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// A log file that rotates by size and/or time, compresses what it rotates and
/// deletes what retention no longer wants.
///
/// Build one with [`RollingFile::builder`]. [`RollingFileBuilder::build`]
/// returns this blocking writer (it implements [`io::Write`]; wrap it in a
/// `Mutex` to get a [`MakeWriter`](tracing_subscriber::fmt::MakeWriter)), and
/// [`RollingFileBuilder::build_non_blocking`] puts it behind a worker thread
/// and returns a [`NonBlocking`] writer plus its [`Guard`].
///
/// # Files
///
/// Every file is named `<prefix>.<stamp>.<suffix>`, e.g.
/// `app.20261125T085007.123Z.jsonl`: `<stamp>` is the UTC time the file was
/// opened (for a time rotation, the start of its period) with milliseconds.
/// Stamps only increase: if the name is taken (two rotations in one
/// millisecond, or a clock stepped back) the stamp moves on by 1 ms, so
/// names are unique and sort as text in the order files were written.
/// Retention also accepts a `.<n>` counter before the suffix. Compressed
/// files add `.gz`. A new file is opened at every start,
/// so a restart never appends to an old file; files a crashed run left
/// uncompressed are compressed at start-up.
///
/// The **active file** is reachable under a stable name through a
/// **symlink**, `<prefix>.<suffix>` (e.g. `logs/app.jsonl`), updated
/// atomically at each rotation (unix only; the link is skipped if a regular
/// file already has that name). `tail -F logs/app.jsonl` follows rotations.
///
/// Rotation happens between writes, and a write is split only at line ends,
/// so a line is never split across files. A single line longer than
/// `max_bytes` gets a file of its own.
///
/// # Faults
///
/// If the active file disappears (its directory or the file was removed),
/// the next write recreates the directory and opens a new file
/// ([`WriterStatsSnapshot::reopens`](crate::WriterStatsSnapshot::reopens)). If the next
/// file cannot be opened at rotation, writing continues in the current file
/// and rotation is retried on the next write
/// ([`WriterStatsSnapshot::rotation_errors`](crate::WriterStatsSnapshot::rotation_errors)).
///
/// A write adds whole lines or nothing: when the OS takes part of a line and
/// then fails (a full disk takes what fits), the torn piece is cut off again
/// (the file is truncated back to its last line end, which frees the space it
/// took) and the error is returned, so the caller retries the line whole. If
/// the cut itself fails, the next write tries again, or else starts a new
/// file, leaving the piece as the unterminated last line of the old one.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// use eventlog_appender::RollingFile;
///
/// let dir = tempfile::tempdir()?;
/// let mut file = RollingFile::builder().directory(dir.path()).prefix("api").build()?;
/// file.write_all(b"{\"event_name\":\"user_login_attempt\"}\n")?;
/// let path = file.path().expect("a file is open").to_owned();
/// drop(file);
/// let name = path.file_name().unwrap().to_str().unwrap();
/// assert!(name.starts_with("api.") && name.ends_with(".jsonl"));
/// assert_eq!(std::fs::read_to_string(&path)?, "{\"event_name\":\"user_login_attempt\"}\n");
/// # Ok(()) }
/// ```
// Four independent flags (two options, the counting mode, one write state),
// not a state machine in disguise.
#[allow(clippy::struct_excessive_bools)]
pub struct RollingFile {
    dir: PathBuf,
    prefix: String,
    suffix: String,
    rotation: Rotation,
    zone: TimeZone,
    max_bytes: Option<u64>,
    mode: u32,
    symlink: bool,
    fsync: bool,
    clock: Arc<dyn Clock>,
    stats: WriterStats,
    /// Whether `io::Write` counts lines and bytes itself (blocking use); the
    /// non-blocking worker counts them otherwise.
    counts_writes: bool,
    active: Option<Active>,
    next_rotation: Option<SystemTime>,
    /// Stamp of the newest file opened, to keep names increasing.
    last_stamp: Option<SystemTime>,
    /// The last write ended inside a line (a write without a final newline):
    /// the line must be finished in the same file before any rotation.
    mid_line: bool,
    /// The active file ends with a torn piece that could not be cut off: the
    /// size to truncate it back to. The next write retries the cut, or else
    /// starts a new file, before writing anything.
    torn: Option<u64>,
    faults: Option<Arc<dyn FileFaults>>,
    maintenance: Option<Maintenance>,
}

#[derive(Debug)]
struct Active {
    file: File,
    path: PathBuf,
    size: u64,
}

impl fmt::Debug for RollingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollingFile")
            .field("dir", &self.dir)
            .field("prefix", &self.prefix)
            .field("suffix", &self.suffix)
            .field("rotation", &self.rotation)
            .field("max_bytes", &self.max_bytes)
            .field("active", &self.active.as_ref().map(|a| &a.path))
            .finish_non_exhaustive()
    }
}

/// Why a new file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Time,
    Size,
}

/// Cuts `file` back to `len` bytes (the file is in append mode, so writing
/// goes on from there).
fn truncate(file: &mut File, faults: Option<&dyn FileFaults>, len: u64) -> io::Result<()> {
    if let Some(faults) = faults {
        faults.truncate()?;
    }
    file.set_len(len)
}

/// Whether the open file has been unlinked (its directory or itself removed):
/// writes to it would succeed and vanish.
fn vanished(file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        file.metadata().is_ok_and(|m| m.nlink() == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        false
    }
}

impl RollingFile {
    /// A builder with the defaults listed on [`RollingFileBuilder::new`].
    ///
    /// ```
    /// let builder = eventlog_appender::RollingFile::builder();
    /// # let _ = builder;
    /// ```
    pub const fn builder() -> RollingFileBuilder {
        RollingFileBuilder::new()
    }

    /// The file being written now, `None` only while a vanished file could not
    /// be reopened yet.
    pub fn path(&self) -> Option<&Path> {
        self.active.as_ref().map(|a| a.path.as_path())
    }

    /// The directory holding the files.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let file = eventlog_appender::RollingFile::builder().directory(dir.path()).build()?;
    /// assert_eq!(file.directory(), dir.path());
    /// # Ok(()) }
    /// ```
    pub fn directory(&self) -> &Path {
        &self.dir
    }

    /// The counters of this file (rotations, compressions, retention, bytes).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// let dir = tempfile::tempdir()?;
    /// let mut file = eventlog_appender::RollingFile::builder().directory(dir.path()).build()?;
    /// file.write_all(b"one\ntwo\n")?;
    /// let s = file.stats().snapshot();
    /// assert_eq!((s.lines_written, s.bytes_written), (2, 8));
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> WriterStats {
        self.stats.clone()
    }

    /// Opens a new file stamped `stamp`, recreating the directory if it vanished.
    ///
    /// Stamps only move forward: a stamp at or before the previous file's (two
    /// rotations in one millisecond, or a clock stepped back) becomes the
    /// previous one plus 1 ms, so names are unique and sort in write order.
    fn open_file(&mut self, stamp: SystemTime) -> io::Result<Active> {
        let mut stamp = truncate_to_millis(stamp);
        if let Some(last) = self.last_stamp
            && stamp <= last
        {
            stamp = last + Duration::from_millis(1);
        }
        let mut created_dir = false;
        let mut tries = 0;
        while tries <= MAX_COLLISIONS {
            let name = naming::file_name(&self.prefix, stamp, 0, &self.suffix);
            let path = self.dir.join(&name);
            let taken = self.dir.join(format!("{name}.{}", naming::GZ)).exists();
            let opened = if taken {
                Err(io::ErrorKind::AlreadyExists.into())
            } else {
                open_new(&path, self.mode)
            };
            match opened {
                Ok(file) => {
                    self.last_stamp = Some(stamp);
                    return Ok(Active {
                        file,
                        path,
                        size: 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    tries += 1;
                    stamp += Duration::from_millis(1);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && !created_dir => {
                    created_dir = true;
                    fs::create_dir_all(&self.dir)?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("log file names for {MAX_COLLISIONS} consecutive milliseconds are taken"),
        ))
    }

    /// Makes `active` the file being written: symlink, next time boundary.
    fn activate(&mut self, active: Active, now: SystemTime) -> Option<Active> {
        self.next_rotation = self.rotation.bounds(now, self.zone).map(|(_, next)| next);
        if self.symlink {
            self.update_symlink(&active.path);
        }
        self.active.replace(active)
    }

    #[cfg(unix)]
    fn update_symlink(&self, target: &Path) {
        let Some(target_name) = target.file_name() else {
            return;
        };
        let link = self.dir.join(format!("{}.{}", self.prefix, self.suffix));
        // Never replace a regular file a user (or another tool) put there.
        if fs::symlink_metadata(&link).is_ok_and(|m| !m.file_type().is_symlink()) {
            return;
        }
        let tmp = self
            .dir
            .join(format!(".{}.{}.link", self.prefix, self.suffix));
        let _ = fs::remove_file(&tmp);
        // The link is a convenience for readers; a failure leaves the data intact.
        if std::os::unix::fs::symlink(target_name, &tmp).is_ok() && fs::rename(&tmp, &link).is_err()
        {
            let _ = fs::remove_file(&tmp);
        }
    }

    #[cfg(not(unix))]
    fn update_symlink(&self, _target: &Path) {}

    /// Closes the active file and opens the next. On failure the current file
    /// stays active and `false` is returned.
    fn rotate(&mut self, now: SystemTime, cause: Cause) -> bool {
        let stamp = match cause {
            Cause::Time => self
                .rotation
                .bounds(now, self.zone)
                .map_or(now, |(start, _)| start),
            Cause::Size => now,
        };
        let Ok(next) = self.open_file(stamp) else {
            self.stats.add(Counter::RotationErrors, 1);
            return false;
        };
        let active_path = next.path.clone();
        let old = self.activate(next, now);
        self.stats.add(Counter::Rotations, 1);
        if let Some(old) = old {
            if self.fsync {
                let _ = old.file.sync_all();
            }
            drop(old.file);
            if let Some(m) = &self.maintenance {
                m.send(Job {
                    rotated: Some(old.path),
                    active: active_path,
                    startup: false,
                });
            }
        }
        true
    }

    /// Ensures a file is open that still exists on disk; `true` if it had to
    /// open a new one because the previous one vanished.
    fn ensure_active(&mut self, now: SystemTime) -> io::Result<bool> {
        let mut replaced = false;
        if let Some(active) = &self.active {
            if !vanished(&active.file) {
                return Ok(false);
            }
            self.active = None;
            self.stats.add(Counter::Reopens, 1);
            replaced = true;
        }
        if !replaced && self.mid_line {
            // Nothing was open (an earlier reopen failed) while mid-line.
            replaced = true;
        }
        let active = self.open_file(now)?;
        self.activate(active, now);
        Ok(replaced)
    }

    /// Cuts a torn piece a failed truncation left at the end of the active
    /// file, or else starts a new file, leaving the piece as the unterminated
    /// last line of the old one. `false` if neither worked: nothing may be
    /// written, or it would be glued to the piece.
    fn repair_torn(&mut self, line_end: u64, now: SystemTime) -> bool {
        let cut = match &mut self.active {
            Some(active) => truncate(&mut active.file, self.faults.as_deref(), line_end).is_ok(),
            None => true,
        };
        if cut {
            if let Some(active) = &mut self.active {
                active.size = line_end;
            }
        } else if !self.rotate(now, Cause::Size) {
            return false;
        }
        self.torn = None;
        true
    }

    /// Writes a prefix of `buf` that ends at a line end (or all of it), rotating
    /// first when time or size says so.
    fn write_some(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        if let Some(line_end) = self.torn
            && !self.repair_torn(line_end, now)
        {
            self.stats.add(Counter::RotationErrors, 1);
            return Err(io::Error::other(
                "the log file ends with a torn line that can be neither cut off nor left behind",
            ));
        }
        // Mid-line (the OS took part of a line last time), nothing may rotate
        // until the line is finished in the same file.
        if !self.mid_line
            && self.next_rotation.is_some_and(|next| now >= next)
            && self.active.is_some()
        {
            self.rotate(now, Cause::Time);
        }
        if self.ensure_active(now)? && self.mid_line {
            // The start of this line vanished with the old file: drop its tail
            // rather than begin the new file with a broken line.
            self.mid_line = false;
            return Ok(buf
                .iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |end| end + 1));
        }
        let first_line_end = || {
            buf.iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |end| end + 1)
        };
        let mut len = buf.len();
        if self.mid_line {
            len = first_line_end();
        } else if let Some(max) = self.max_bytes {
            let size = self.active.as_ref().map_or(0, |a| a.size);
            if size.saturating_add(len as u64) > max {
                let room = usize::try_from(max.saturating_sub(size))
                    .unwrap_or(usize::MAX)
                    .min(len);
                len = match buf[..room].iter().rposition(|&b| b == b'\n') {
                    Some(end) => end + 1,
                    // Not even one line fits: start a new file, unless this one is empty.
                    None if size > 0 && self.rotate(now, Cause::Size) => {
                        return self.write_some(buf);
                    }
                    // Rotation failed: keep writing here rather than lose lines.
                    None if size > 0 => len,
                    // A line longer than `max_bytes` on its own: it gets the file alone.
                    None => first_line_end(),
                };
            }
        }
        let n = self.write_whole(&buf[..len])?;
        if n > 0 {
            self.mid_line = buf[n - 1] != b'\n';
        }
        if self.counts_writes {
            self.stats.add(Counter::BytesWritten, n as u64);
            self.stats
                .add(Counter::LinesWritten, count_lines(&buf[..n]));
        }
        Ok(n)
    }

    /// Writes all of `buf` to the active file, or fails having added only
    /// whole lines of it; returns how many bytes those are.
    ///
    /// The OS may take part of a buffer and then fail (a full disk takes what
    /// fits). Writing goes on until all of `buf` is in or a write fails; a
    /// torn piece is then cut off again (the file truncated back to its last
    /// line end, which also frees the space the piece took), so the caller
    /// retries whole lines and no line is ever glued to half of another. If
    /// even the cut fails, the piece is remembered in `torn` and dealt with
    /// before the next write.
    fn write_whole(&mut self, buf: &[u8]) -> io::Result<usize> {
        let faults = self.faults.as_deref();
        let active = self
            .active
            .as_mut()
            .ok_or_else(|| io::Error::other("no active log file"))?;
        let mut n = 0;
        let mut error = None;
        while n < buf.len() {
            let result = match faults {
                None => active.file.write(&buf[n..]),
                Some(faults) => faults.write(buf.len() - n).and_then(|allowed| {
                    match allowed.min(buf.len() - n) {
                        0 => Ok(0),
                        allowed => active.file.write(&buf[n..n + allowed]),
                    }
                }),
            };
            match result {
                Ok(0) => {
                    error = Some(io::Error::from(io::ErrorKind::WriteZero));
                    break;
                }
                Ok(k) => n += k.min(buf.len() - n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        active.size += n as u64;
        let Some(error) = error else {
            return Ok(n);
        };
        let whole = buf[..n]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if whole < n {
            // Measured, not trusted: the piece is the last `n - whole` bytes.
            let size = active.file.metadata().map_or(active.size, |m| m.len());
            let line_end = size.saturating_sub((n - whole) as u64);
            if truncate(&mut active.file, faults, line_end).is_ok() {
                active.size = line_end;
            } else {
                active.size = size;
                self.torn = Some(line_end);
            }
            n = whole;
        }
        if n == 0 { Err(error) } else { Ok(n) }
    }

    fn flush_file(&mut self) -> io::Result<()> {
        if let Some(active) = &mut self.active {
            active.file.flush()?;
            if self.fsync {
                active.file.sync_data()?;
            }
        }
        Ok(())
    }

    /// Stops the maintenance thread after its queued work, waiting until
    /// `deadline` (forever if `None`). Returns whether it finished.
    fn close(&mut self, deadline: Option<Instant>) -> bool {
        if self.fsync
            && let Some(active) = &self.active
        {
            let _ = active.file.sync_all();
        }
        self.maintenance
            .take()
            .is_none_or(|mut m| m.close(deadline))
    }
}

impl Write for RollingFile {
    /// Writes whole lines: a buffer holding several lines may be written in
    /// parts (at line ends, around a rotation), never split inside a line,
    /// unless it does not end with a newline.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.write_some(buf);
        if result.is_err() && self.counts_writes {
            self.stats.add(Counter::WriteErrors, 1);
        }
        result
    }

    /// Flushes, and with [`fsync`](RollingFileBuilder::fsync) syncs the data to disk.
    fn flush(&mut self) -> io::Result<()> {
        self.flush_file()
    }
}

impl Drop for RollingFile {
    /// Waits for queued compression and retention to finish.
    fn drop(&mut self) {
        self.close(None);
    }
}

impl Sink for RollingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_some(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_file()
    }

    fn close(&mut self, deadline: Option<Instant>) -> bool {
        RollingFile::close(self, deadline)
    }
}

/// Configures and builds a [`RollingFile`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use eventlog_appender::{Backpressure, NonBlocking, RollingFile, Rotation};
///
/// let dir = tempfile::tempdir()?;
/// let (writer, _guard) = RollingFile::builder()
///     .directory(dir.path().join("logs"))
///     .prefix("checkout")
///     .max_bytes(64 << 20)
///     .rotation(Rotation::HOURLY)
///     .compress(true)
///     .keep(30)
///     .max_age(Duration::from_secs(7 * 86_400))
///     .max_total_bytes(1 << 30)
///     .non_blocking(NonBlocking::builder().backpressure(Backpressure::BLOCK))
///     .build_non_blocking()?;
/// # let _ = writer;
/// assert!(dir.path().join("logs").is_dir());
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `build` or `build_non_blocking` is called"]
pub struct RollingFileBuilder {
    directory: Option<PathBuf>,
    prefix: Cow<'static, str>,
    suffix: Cow<'static, str>,
    rotation: Rotation,
    time_zone: TimeZone,
    max_bytes: Option<u64>,
    compress: bool,
    block_bytes: usize,
    retention: Retention,
    mode: u32,
    symlink: bool,
    fsync: bool,
    non_blocking: NonBlockingBuilder,
    clock: Option<Arc<dyn Clock>>,
    faults: Option<Arc<dyn FileFaults>>,
}

impl fmt::Debug for RollingFileBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollingFileBuilder")
            .field("directory", &self.directory)
            .field("prefix", &self.prefix)
            .field("suffix", &self.suffix)
            .field("rotation", &self.rotation)
            .field("time_zone", &self.time_zone)
            .field("max_bytes", &self.max_bytes)
            .field("compress", &self.compress)
            .field("compress_block_bytes", &self.block_bytes)
            .field("retention", &self.retention)
            .field("mode", &format_args!("{:o}", self.mode))
            .field("symlink", &self.symlink)
            .field("fsync", &self.fsync)
            .field("non_blocking", &self.non_blocking)
            .finish_non_exhaustive()
    }
}

impl Default for RollingFileBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Default directory.
const DEFAULT_DIRECTORY: &str = "logs";

/// Longest `prefix` + `suffix`, in bytes: the longest name created,
/// `<prefix>.<stamp>.<suffix>.gz.tmp`, adds 2 dots, the stamp and 7 bytes,
/// and must fit in the usual 255-byte limit on a file name.
const MAX_PREFIX_AND_SUFFIX: usize = 255 - 2 - crate::clock::STAMP_LEN - 7;

impl RollingFileBuilder {
    /// A builder with these defaults:
    ///
    /// | setting | default |
    /// |---|---|
    /// | [`directory`](Self::directory) | `logs` (relative to the working directory) |
    /// | [`prefix`](Self::prefix) | `app` |
    /// | [`suffix`](Self::suffix) | `jsonl` |
    /// | [`rotation`](Self::rotation) | [`Rotation::DAILY`] |
    /// | [`time_zone`](Self::time_zone) | [`TimeZone::UTC`] |
    /// | [`max_bytes`](Self::max_bytes) | none (no size rotation) |
    /// | [`compress`](Self::compress) | `false` |
    /// | [`compress_block_bytes`](Self::compress_block_bytes) | 1 MiB ([`blocks::DEFAULT_BLOCK_BYTES`](crate::blocks::DEFAULT_BLOCK_BYTES)) |
    /// | [`keep`](Self::keep) | none (keep every rotated file) |
    /// | [`max_age`](Self::max_age) | none |
    /// | [`max_total_bytes`](Self::max_total_bytes) | none |
    /// | [`mode`](Self::mode) | `0o640` (unix) |
    /// | [`symlink`](Self::symlink) | `true` (unix) |
    /// | [`fsync`](Self::fsync) | `false` |
    /// | [`non_blocking`](Self::non_blocking) | [`NonBlockingBuilder::new`]'s defaults |
    ///
    /// ```
    /// use eventlog_appender::RollingFileBuilder;
    ///
    /// // The documented defaults, checked through `Debug` so this table stays true.
    /// let b = format!("{:?}", RollingFileBuilder::new());
    /// for default in [
    ///     "directory: None", // meaning `logs`
    ///     "prefix: \"app\"",
    ///     "suffix: \"jsonl\"",
    ///     "rotation: Rotation(Daily)",
    ///     "time_zone: TimeZone(Utc)",
    ///     "max_bytes: None",
    ///     "compress: false",
    ///     "compress_block_bytes: 1048576",
    ///     "retention: Retention { keep: None, max_age: None, max_total_bytes: None }",
    ///     "mode: 640",
    ///     "symlink: true",
    ///     "fsync: false",
    /// ] {
    ///     assert!(b.contains(default), "{default} not in {b}");
    /// }
    /// assert_eq!(b, format!("{:?}", RollingFileBuilder::default()));
    /// ```
    pub const fn new() -> RollingFileBuilder {
        RollingFileBuilder {
            directory: None,
            prefix: Cow::Borrowed("app"),
            suffix: Cow::Borrowed("jsonl"),
            rotation: Rotation::DAILY,
            time_zone: TimeZone::UTC,
            max_bytes: None,
            compress: false,
            block_bytes: crate::blocks::DEFAULT_BLOCK_BYTES,
            retention: Retention {
                keep: None,
                max_age: None,
                max_total_bytes: None,
            },
            mode: 0o640,
            symlink: true,
            fsync: false,
            non_blocking: NonBlockingBuilder::new(),
            clock: None,
            faults: None,
        }
    }

    /// The directory for log files; created (with parents) at build time.
    /// An empty path is an [`InvalidOption`](RollingFileError::InvalidOption)
    /// (give `.` for the working directory); a path that cannot be created
    /// (a NUL byte, too long, below a file) is a
    /// [`CreateDirectory`](RollingFileError::CreateDirectory) error.
    pub fn directory(mut self, directory: impl Into<PathBuf>) -> Self {
        self.directory = Some(directory.into());
        self
    }

    /// The first part of every file name. Retention only ever deletes files
    /// with this prefix and the suffix, so two writers may share a directory
    /// if their prefixes differ.
    ///
    /// Must be non-empty, not `.` or `..`, without `/`, `\\` or NUL, and
    /// prefix and suffix together at most 226 bytes, so that every name the
    /// writer creates (`<prefix>.<stamp>.<suffix>.gz.tmp` is the longest)
    /// fits the usual 255-byte limit; otherwise the build fails with
    /// [`RollingFileError::InvalidOption`].
    ///
    /// ```
    /// use eventlog_appender::{RollingFile, RollingFileError};
    ///
    /// let err = RollingFile::builder().prefix("../etc").build().unwrap_err();
    /// assert!(matches!(err, RollingFileError::InvalidOption { option: "prefix", .. }));
    /// ```
    pub fn prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The extension of file names, without the dot (`jsonl`, `log`). The same
    /// rules as for [`prefix`](Self::prefix) apply, and it must not start with
    /// a dot nor be or end in `gz` or `tmp` (the names of compressed and
    /// temporary files): otherwise [`RollingFileError::InvalidOption`].
    pub fn suffix(mut self, suffix: impl Into<Cow<'static, str>>) -> Self {
        self.suffix = suffix.into();
        self
    }

    /// Time-based rotation; combine with [`max_bytes`](Self::max_bytes) for both.
    pub const fn rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// The zone where rotation periods start (file names stay UTC).
    pub const fn time_zone(mut self, zone: TimeZone) -> Self {
        self.time_zone = zone;
        self
    }

    /// Starts a new file before one would exceed this many bytes. Must be > 0.
    pub const fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// Gzips each rotated file on a background thread (`<name>.gz`), in
    /// independent gzip members with a block index beside it
    /// (`<name>.gz.idx`; see [`blocks`](crate::blocks)), which the
    /// `eventlog` command uses to skip what cannot match. Any gzip reader
    /// (`zcat`, DuckDB) reads the file whole.
    pub const fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// The uncompressed size a compressed file's blocks are cut at (after
    /// the line that reaches it), clamped to 4 KiB ..= 64 MiB. Smaller
    /// blocks let readers skip more, and cost ratio and index size.
    ///
    /// ```
    /// let b = eventlog_appender::RollingFile::builder().compress_block_bytes(1);
    /// assert!(format!("{b:?}").contains("compress_block_bytes: 4096"));
    /// ```
    pub const fn compress_block_bytes(mut self, bytes: usize) -> Self {
        self.block_bytes = if bytes < 4 << 10 {
            4 << 10
        } else if bytes > 64 << 20 {
            64 << 20
        } else {
            bytes
        };
        self
    }

    /// Keeps at most this many rotated files besides the active one, deleting
    /// the oldest first.
    pub const fn keep(mut self, files: usize) -> Self {
        self.retention.keep = Some(files);
        self
    }

    /// Deletes rotated files whose last line is older than this: a file ends
    /// when the next one starts.
    pub const fn max_age(mut self, max_age: Duration) -> Self {
        self.retention.max_age = Some(max_age);
        self
    }

    /// Deletes the oldest rotated files while all files of this writer (the
    /// active one included, compressed sizes as on disk) exceed this many
    /// bytes. Checked at each rotation; with [`max_bytes`](Self::max_bytes)
    /// the active file counts as full, so the total stays within the limit
    /// while it grows. Without it, the active file may take the total over
    /// the limit until the next rotation.
    pub const fn max_total_bytes(mut self, bytes: u64) -> Self {
        self.retention.max_total_bytes = Some(bytes);
        self
    }

    /// Permission bits of new files on unix (before the umask). Ignored elsewhere.
    pub const fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Maintains the `<prefix>.<suffix>` symlink to the active file (unix).
    pub const fn symlink(mut self, symlink: bool) -> Self {
        self.symlink = symlink;
        self
    }

    /// Syncs file data to disk after every batch (non-blocking) or every
    /// `flush()` (blocking), and before a rotated file is closed. Costs
    /// throughput; use it when losing the last second of logs on power loss matters.
    pub const fn fsync(mut self, fsync: bool) -> Self {
        self.fsync = fsync;
        self
    }

    /// Queue settings used by [`build_non_blocking`](Self::build_non_blocking).
    pub fn non_blocking(mut self, non_blocking: NonBlockingBuilder) -> Self {
        self.non_blocking = non_blocking;
        self
    }

    /// Replaces the wall clock, so tests can drive time rotation and retention
    /// by age without sleeping. Not for production use.
    #[doc(hidden)]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Injects faults into writes to (and truncations of) the active file,
    /// for fault tests. Not for production use.
    #[doc(hidden)]
    pub fn faults(mut self, faults: Arc<dyn FileFaults>) -> Self {
        self.faults = Some(faults);
        self
    }

    fn directory_or_default(&self) -> &Path {
        self.directory
            .as_deref()
            .unwrap_or_else(|| Path::new(DEFAULT_DIRECTORY))
    }

    fn validate(&self) -> Result<(), RollingFileError> {
        let invalid = |option, value: &str, reason| {
            Err(RollingFileError::InvalidOption {
                option,
                value: value.to_owned(),
                reason,
            })
        };
        for (option, value) in [("prefix", &*self.prefix), ("suffix", &*self.suffix)] {
            if value.is_empty() {
                return invalid(option, value, "must not be empty");
            }
            if value.contains(['/', '\\', '\0']) || value == "." || value == ".." {
                return invalid(option, value, "must not contain a path separator");
            }
        }
        if self.suffix.starts_with('.') {
            return invalid("suffix", &self.suffix, "give it without the leading dot");
        }
        for taken in [naming::GZ, naming::TMP, naming::IDX] {
            if self.suffix == taken || self.suffix.ends_with(&format!(".{taken}")) {
                return invalid(
                    "suffix",
                    &self.suffix,
                    "must not end in `gz`, `tmp` or `idx`, the names of compressed, temporary and index files",
                );
            }
        }
        if self.prefix.len() + self.suffix.len() > MAX_PREFIX_AND_SUFFIX {
            let (option, value) = if self.prefix.len() >= self.suffix.len() {
                ("prefix", &*self.prefix)
            } else {
                ("suffix", &*self.suffix)
            };
            return invalid(
                option,
                value,
                "prefix and suffix together must be at most 226 bytes, for file names within 255",
            );
        }
        if self
            .directory
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            return invalid(
                "directory",
                "",
                "must not be empty (give `.` for the working directory)",
            );
        }
        if self.max_bytes == Some(0) {
            return invalid("max_bytes", "0", "must be at least 1 byte");
        }
        if self.mode > 0o7777 {
            return invalid(
                "mode",
                &format!("{:o}", self.mode),
                "must be permission bits (at most 0o7777)",
            );
        }
        Ok(())
    }

    /// Builds a blocking [`RollingFile`]: the caller's thread does the I/O.
    ///
    /// Creates the directory and the first file now, so an unwritable or
    /// non-directory path is an error here, never a panic later. To use it
    /// as a [`MakeWriter`](tracing_subscriber::fmt::MakeWriter), wrap it in a
    /// `Mutex` (tracing-subscriber implements `MakeWriter` for `Mutex<W>`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Mutex;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let file = eventlog_appender::RollingFile::builder().directory(dir.path().join("a/b")).build()?;
    /// assert!(file.path().unwrap().starts_with(dir.path().join("a/b")));
    /// let stats = file.stats();
    /// let subscriber = tracing_subscriber::fmt().json().with_writer(Mutex::new(file)).finish();
    /// tracing::subscriber::with_default(subscriber, || tracing::warn!("disk almost full"));
    /// assert_eq!(stats.snapshot().lines_written, 1);
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Result<RollingFile, RollingFileError> {
        self.build_file(true)
    }

    /// Builds the file behind a [`NonBlocking`] writer and returns it with the
    /// [`Guard`] that flushes it on drop.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// let dir = tempfile::tempdir()?;
    /// let (mut writer, guard) = eventlog_appender::RollingFile::builder()
    ///     .directory(dir.path())
    ///     .build_non_blocking()?;
    /// writer.write_all(b"{\"n\":1}\n")?;
    /// let stats = guard.shutdown(std::time::Duration::from_secs(5))?;
    /// assert_eq!(stats.lines_written, 1);
    /// # Ok(()) }
    /// ```
    pub fn build_non_blocking(self) -> Result<(NonBlocking, Guard), RollingFileError> {
        let non_blocking = self.non_blocking.clone();
        non_blocking.validate()?;
        let file = self.build_file(false)?;
        let stats = file.stats.clone();
        Ok(non_blocking.spawn(Box::new(file), stats)?)
    }

    fn build_file(self, counts_writes: bool) -> Result<RollingFile, RollingFileError> {
        self.validate()?;
        // Without `.` components: `create_dir_all("logs/new/.")` would never
        // create `new` (the parent of that path is `logs`).
        let dir: PathBuf = self.directory_or_default().components().collect();
        match fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(RollingFileError::NotADirectory { path: dir }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&dir).map_err(|source| RollingFileError::CreateDirectory {
                    path: dir.clone(),
                    source,
                })?;
            }
            Err(source) => return Err(RollingFileError::CreateDirectory { path: dir, source }),
        }
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let stats = WriterStats::default();
        let mut file = RollingFile {
            dir,
            prefix: self.prefix.into_owned(),
            suffix: self.suffix.into_owned(),
            rotation: self.rotation,
            zone: self.time_zone,
            max_bytes: self.max_bytes,
            mode: self.mode,
            symlink: self.symlink && cfg!(unix),
            fsync: self.fsync,
            clock,
            stats,
            counts_writes,
            active: None,
            next_rotation: None,
            last_stamp: None,
            mid_line: false,
            torn: None,
            faults: self.faults,
            maintenance: None,
        };
        let now = file.clock.now();
        let active = file
            .open_file(now)
            .map_err(|source| RollingFileError::CreateFile {
                path: file
                    .dir
                    .join(naming::file_name(&file.prefix, now, 0, &file.suffix)),
                source,
            })?;
        let active_path = active.path.clone();
        file.activate(active, now);
        if self.compress
            || self.retention.keep.is_some()
            || self.retention.max_age.is_some()
            || self.retention.max_total_bytes.is_some()
        {
            let name = format!("{}-maintenance", file.prefix);
            let config = maintenance::Config {
                dir: file.dir.clone(),
                prefix: file.prefix.clone(),
                suffix: file.suffix.clone(),
                compress: self.compress,
                block_bytes: self.block_bytes,
                retention: self.retention,
                max_bytes: self.max_bytes,
                mode: self.mode,
                clock: Arc::clone(&file.clock),
                stats: file.stats.clone(),
            };
            let maintenance = Maintenance::spawn(config, name.clone())
                .map_err(|source| RollingFileError::SpawnThread { name, source })?;
            maintenance.send(Job {
                rotated: None,
                active: active_path,
                startup: true,
            });
            file.maintenance = Some(maintenance);
        }
        Ok(file)
    }
}
