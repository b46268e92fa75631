//! Reading the files back: an appender's files in write order, and the
//! lines of any file, plain or gzip-compressed, in bounded memory.
//!
//! ```text
//!  LogFiles::new(dir, prefix).list() ─▶ [LogFile]   rotated + active, oldest first
//!        (the symlink, .tmp files and other prefixes left out)
//!                                          │ path()
//!  open(path) / FileLines::from_file ─▶ FileLines ─ next_line ─▶ Line { file, number, bytes }
//!        gzip told by its first bytes        │                  or ReadError (too long: go on;
//!                                            └ LineReader<R>      I/O, cut-short gzip: stop)
//!                                              any BufRead, growing files too
//! ```
//!
//! The writer owns the names and the compression, so it owns reading them
//! back: [`LogFiles`] knows `<prefix>.<stamp>[.<n>].<suffix>[.gz]` as
//! retention does, and a file being compressed (both `x.jsonl` and
//! `x.jsonl.gz` present) is listed once.
//!
//! Nothing here trusts the bytes. A line is at most
//! [`FileLines::max_line_bytes`] long ([`DEFAULT_MAX_LINE_BYTES`] unless
//! set): a longer one is skipped without being kept and reported as
//! [`ReadError::TooLong`], so neither `/dev/zero` nor a gzip bomb can
//! exhaust memory. Invalid UTF-8 is reported with its file and line by
//! [`Line::text`], while [`Line::bytes`] keeps the line as it is. A line
//! ends at `\n` (a `\r` before it is dropped); a last line without one is
//! still read, and [`Line::is_terminated`] says so (see the crate docs:
//! only a crash leaves one).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! # let logs = tmp.path().join("logs");
//! use eventlog_appender::{RollingFile, read};
//! use std::io::Write;
//!
//! let mut file = RollingFile::builder().directory(&logs).prefix("checkout").build()?;
//! file.write_all(b"{\"n\":1}\n{\"n\":2}\n")?;
//! file.flush()?;
//!
//! let mut texts = Vec::new();
//! for log_file in read::LogFiles::new(&logs, "checkout").list()? {
//!     let mut lines = read::open(log_file.path())?;
//!     while let Some(line) = lines.next_line() {
//!         texts.push(line?.text()?.to_owned());
//!     }
//! }
//! assert_eq!(texts, ["{\"n\":1}", "{\"n\":2}"]);
//! # Ok(()) }
//! ```

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::naming;

/// The longest line read unless set otherwise (16 MiB): far above any line
/// a logger writes, far below what exhausts memory.
///
/// ```
/// assert_eq!(eventlog_appender::read::DEFAULT_MAX_LINE_BYTES, 16 << 20);
/// ```
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// Bytes read from a file at a time.
const READ_BUFFER: usize = 64 << 10;

/// gzip's first two bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reading failed, or a line could not be read as it is.
///
/// [`TooLong`](ReadError::TooLong) and [`InvalidUtf8`](ReadError::InvalidUtf8)
/// concern one line, and reading goes on after them; the others end the file.
///
/// ```
/// use eventlog_appender::read::ReadError;
///
/// let err = ReadError::TooLong { path: "logs/app.jsonl".into(), line: 3, max: 1024 };
/// assert_eq!(err.to_string(), "logs/app.jsonl:3: line longer than 1024 bytes: skipped");
/// assert!(!err.is_fatal());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The directory could not be listed.
    #[error("cannot list {}", .dir.display())]
    List {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file could not be opened (or its first bytes read).
    #[error("cannot open {}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Reading stopped: an I/O error, or compressed data that is not gzip.
    /// Lines up to `line` were read.
    #[error("{}: stopped reading after line {line}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The last line read whole (0: none).
        line: u64,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A compressed file ends in the middle of its gzip stream (it was cut
    /// short, or is still being written by something other than the
    /// appender, which renames a `.gz` into place only once it is whole).
    #[error("{}: compressed data cut short after line {line}", .path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The last line read whole (0: none).
        line: u64,
    },
    /// Line `line` is longer than the cap: it was skipped.
    #[error("{}:{line}: line longer than {max} bytes: skipped", .path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The cap, in bytes.
        max: usize,
    },
    /// Line `line` is not valid UTF-8 from byte `at` on.
    #[error("{}:{line}: invalid UTF-8 at byte {at}", .path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The offset, in the line, of the first invalid byte.
        at: usize,
    },
}

impl ReadError {
    /// Whether the error ends the file (`false` for one bad line).
    ///
    /// ```
    /// use eventlog_appender::read::ReadError;
    ///
    /// assert!(ReadError::Truncated { path: "a.jsonl.gz".into(), line: 7 }.is_fatal());
    /// assert!(!ReadError::InvalidUtf8 { path: "a.jsonl".into(), line: 1, at: 0 }.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ReadError::TooLong { .. } | ReadError::InvalidUtf8 { .. }
        )
    }
}

/// One file of a rolling file: rotated (maybe compressed) or active.
///
/// Files compare by their place in the write order: the UTC stamp of their
/// name, then its collision counter. A plain file and its compressed form
/// are the same file.
///
/// ```
/// use eventlog_appender::read::LogFiles;
/// use std::path::Path;
///
/// let (files, first) = LogFiles::of(Path::new("logs/app.20261125T085007.123Z.jsonl")).unwrap();
/// let (_, again) = LogFiles::of(Path::new("logs/app.20261125T085007.123Z.jsonl.gz")).unwrap();
/// let (_, next) = LogFiles::of(Path::new("logs/app.20261125T085007.123Z.002.jsonl")).unwrap();
/// assert_eq!(first, again);
/// assert!(first < next);
/// assert!(again.is_compressed() && !first.is_compressed());
/// assert_eq!(next.counter(), 2);
/// assert_eq!(again.plain_path(), Path::new("logs/app.20261125T085007.123Z.jsonl"));
/// ```
#[derive(Debug, Clone)]
pub struct LogFile {
    path: PathBuf,
    plain: PathBuf,
    stamp: SystemTime,
    counter: u32,
}

impl LogFile {
    /// The file to read: the plain name, or the compressed one when only
    /// that exists.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    ///
    /// let (_, file) = LogFiles::of(Path::new("logs/app.20261125T085007.123Z.jsonl.gz")).unwrap();
    /// assert_eq!(file.path(), Path::new("logs/app.20261125T085007.123Z.jsonl.gz"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name without `.gz`: what the file was called while written.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    ///
    /// let (_, file) = LogFiles::of(Path::new("logs/app.20261125T085007.123Z.jsonl.gz")).unwrap();
    /// assert_eq!(file.plain_path(), Path::new("logs/app.20261125T085007.123Z.jsonl"));
    /// ```
    pub fn plain_path(&self) -> &Path {
        &self.plain
    }

    /// Whether [`path`](Self::path) is the compressed name (by name; the
    /// content decides how [`open`] reads it).
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    ///
    /// let (_, file) = LogFiles::of(Path::new("app.20261125T085007.123Z.jsonl")).unwrap();
    /// assert!(!file.is_compressed());
    /// ```
    pub fn is_compressed(&self) -> bool {
        self.path != self.plain
    }

    /// When the file was opened, from its name (UTC, millisecond precision).
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let (_, file) = LogFiles::of(Path::new("app.20261125T085007.123Z.jsonl")).unwrap();
    /// assert_eq!(file.stamp(), UNIX_EPOCH + Duration::from_millis(1_795_596_607_123));
    /// ```
    pub fn stamp(&self) -> SystemTime {
        self.stamp
    }

    /// The collision counter of its name (0 when absent): files opened in
    /// the same millisecond.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    ///
    /// let (_, file) = LogFiles::of(Path::new("app.20261125T085007.123Z.jsonl")).unwrap();
    /// assert_eq!(file.counter(), 0);
    /// ```
    pub fn counter(&self) -> u32 {
        self.counter
    }

    fn order(&self) -> (SystemTime, u32, &Path) {
        (self.stamp, self.counter, &self.plain)
    }
}

impl PartialEq for LogFile {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}

impl Eq for LogFile {}

impl PartialOrd for LogFile {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LogFile {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order().cmp(&other.order())
    }
}

/// The files one rolling file writes in a directory:
/// `<prefix>.<stamp>[.<n>].<suffix>[.gz]`, as
/// [`RollingFileBuilder`](crate::RollingFileBuilder) names them.
///
/// ```
/// use eventlog_appender::read::LogFiles;
///
/// let dir = tempfile::tempdir()?;
/// for name in [
///     "app.20261125T090000.000Z.jsonl",        // active
///     "app.20261125T085959.500Z.jsonl.gz",     // rotated and compressed
///     "app.20261125T085959.500Z.001.jsonl",    // rotated in the same millisecond
///     "app.20261125T085959.500Z.001.jsonl.gz", // ... and being compressed
///     "app.20261125T085959.000Z.jsonl.gz.tmp", // a compression under way
///     "api.20261125T085959.000Z.jsonl",        // another prefix
///     "notes.txt",
/// ] {
///     std::fs::write(dir.path().join(name), "")?;
/// }
/// # #[cfg(unix)]
/// std::os::unix::fs::symlink("app.20261125T090000.000Z.jsonl", dir.path().join("app.jsonl"))?;
///
/// let names: Vec<_> = LogFiles::new(dir.path(), "app")
///     .list()?
///     .iter()
///     .map(|f| f.path().file_name().unwrap().to_str().unwrap().to_owned())
///     .collect();
/// assert_eq!(names, [
///     "app.20261125T085959.500Z.jsonl.gz",
///     "app.20261125T085959.500Z.001.jsonl",
///     "app.20261125T090000.000Z.jsonl",
/// ]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFiles {
    dir: PathBuf,
    prefix: String,
    suffix: String,
}

impl LogFiles {
    /// The files of `prefix` in `dir`, with the default suffix `jsonl`.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    ///
    /// assert_eq!(LogFiles::new("logs", "app"), LogFiles::new("logs", "app").suffix("jsonl"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        LogFiles {
            dir: dir.into(),
            prefix: prefix.into(),
            suffix: "jsonl".to_owned(),
        }
    }

    /// The suffix the writer was given
    /// ([`RollingFileBuilder::suffix`](crate::RollingFileBuilder::suffix)).
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    ///
    /// let (files, _) = LogFiles::of(Path::new("d/app.20261125T085007.123Z.log")).unwrap();
    /// assert_eq!(files, LogFiles::new("d", "app").suffix("log"));
    /// ```
    #[must_use]
    pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
        self.suffix = suffix.into();
        self
    }

    /// The directory.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    ///
    /// assert_eq!(LogFiles::new("logs", "app").dir(), std::path::Path::new("logs"));
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stable name, `<dir>/<prefix>.<suffix>`: the symlink to the
    /// active file (see [`RollingFileBuilder::symlink`](crate::RollingFileBuilder::symlink)).
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    ///
    /// assert_eq!(LogFiles::new("logs", "app").symlink_path(), std::path::Path::new("logs/app.jsonl"));
    /// ```
    pub fn symlink_path(&self) -> PathBuf {
        self.dir.join(format!("{}.{}", self.prefix, self.suffix))
    }

    /// The files a file belongs to, if a rolling file named it (whatever
    /// its prefix and suffix), and that file; `None` for any other name,
    /// such as the stable-name symlink `app.jsonl`.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    /// use std::path::Path;
    ///
    /// let (files, file) = LogFiles::of(Path::new("logs/my.app.20261125T085007.123Z.jsonl")).unwrap();
    /// assert_eq!(files, LogFiles::new("logs", "my.app"));
    /// assert_eq!(file.path(), Path::new("logs/my.app.20261125T085007.123Z.jsonl"));
    /// assert!(LogFiles::of(Path::new("logs/my.app.jsonl")).is_none());
    /// ```
    pub fn of(path: &Path) -> Option<(LogFiles, LogFile)> {
        let name = path.file_name()?.to_str()?;
        let (prefix, suffix) = naming::family_of(name)?;
        let files = LogFiles {
            dir: path.parent().map(Path::to_owned).unwrap_or_default(),
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
        };
        let file = files.file(name)?;
        Some((files, file))
    }

    /// The file named `name` in the directory, if it is one of these files.
    fn file(&self, name: &str) -> Option<LogFile> {
        let owned = naming::parse(name, &self.prefix, &self.suffix)?;
        let plain_name = if owned.compressed {
            name.strip_suffix(naming::GZ)?.strip_suffix('.')?
        } else {
            name
        };
        Some(LogFile {
            path: self.dir.join(name),
            plain: self.dir.join(plain_name),
            stamp: owned.stamp,
            counter: owned.n,
        })
    }

    /// The files now in the directory, in write order (oldest first, the
    /// active file last). Symlinks (the stable name), temporary files of a
    /// compression under way and names of other writers are left out; a
    /// file present both plain and compressed (being compressed) is listed
    /// once, under its plain name.
    ///
    /// ```
    /// use eventlog_appender::read::LogFiles;
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("app.20261125T085007.123Z.jsonl"), "")?;
    /// std::fs::write(dir.path().join("app.20261125T085007.123Z.jsonl.gz"), "")?;
    /// let files = LogFiles::new(dir.path(), "app").list()?;
    /// assert_eq!(files.len(), 1);
    /// assert!(!files[0].is_compressed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn list(&self) -> Result<Vec<LogFile>, ReadError> {
        let failed = |source| ReadError::List {
            dir: self.dir.clone(),
            source,
        };
        let mut files: BTreeSet<LogFile> = BTreeSet::new();
        for entry in std::fs::read_dir(&self.dir).map_err(failed)? {
            let entry = entry.map_err(failed)?;
            let Some(file) = entry.file_name().to_str().and_then(|n| self.file(n)) else {
                continue;
            };
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                continue;
            }
            // Plain and compressed are one file: the plain one is kept.
            match files.take(&file) {
                Some(known) if !known.is_compressed() => files.insert(known),
                _ => files.insert(file),
            };
        }
        Ok(files.into_iter().collect())
    }
}

/// What [`LineReader::next`] found.
///
/// ```
/// use eventlog_appender::read::{LineReader, Next};
///
/// let mut lines = LineReader::new(&b"{}\n"[..], 16);
/// assert!(matches!(lines.next()?, Next::Line { number: 1, bytes: b"{}" }));
/// assert_eq!(lines.next()?, Next::End);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole line, its line end removed.
    Line {
        /// 1-based.
        number: u64,
        /// The line as it is, without `\n` or `\r\n`.
        bytes: &'a [u8],
    },
    /// Line `number` passed the cap: reported as soon as it does, then
    /// skipped to its end without being kept.
    TooLong {
        /// 1-based.
        number: u64,
    },
    /// Nothing more for now: the end of the input, or of what a growing
    /// file holds so far (an unfinished line is kept for the next call;
    /// [`LineReader::rest`] takes it once the input is complete).
    End,
}

/// Splits any reader into lines of at most `max` bytes, with constant
/// memory whatever the input: a line without end is skipped, not gathered.
///
/// The building block of [`FileLines`], for inputs that grow while they are
/// read (following a file): [`next`](Self::next) says [`Next::End`] at the
/// end of what is there, and may find more lines later.
///
/// ```
/// use eventlog_appender::read::{LineReader, Next};
///
/// let mut lines = LineReader::new(&b"ab\r\nabcdefgh\nxyz"[..], 4);
/// assert_eq!(lines.next()?, Next::Line { number: 1, bytes: b"ab" });
/// assert_eq!(lines.next()?, Next::TooLong { number: 2 });
/// assert_eq!(lines.next()?, Next::End);
/// assert_eq!(lines.rest(), Some(Next::Line { number: 3, bytes: b"xyz" }));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    max: usize,
    buf: Vec<u8>,
    /// Lines started so far.
    number: u64,
    /// `buf` holds the line returned last: clear it before reading on.
    returned: bool,
    /// Inside a line that passed the cap: drop bytes until its `\n`.
    skipping: bool,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `reader`, each at most `max` bytes (at least 1).
    ///
    /// ```
    /// use eventlog_appender::read::{LineReader, Next};
    ///
    /// let mut lines = LineReader::new(&b"a\n"[..], 0);
    /// assert_eq!(lines.next()?, Next::Line { number: 1, bytes: b"a" });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(reader: R, max: usize) -> Self {
        LineReader {
            reader,
            max: max.max(1),
            buf: Vec::new(),
            number: 0,
            returned: false,
            skipping: false,
        }
    }

    /// The number of the last line returned or reported (0 before any).
    ///
    /// ```
    /// use eventlog_appender::read::LineReader;
    ///
    /// let mut lines = LineReader::new(&b"a\nb\n"[..], 10);
    /// lines.next()?;
    /// assert_eq!(lines.number(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The reader.
    ///
    /// ```
    /// use eventlog_appender::read::LineReader;
    ///
    /// let lines = LineReader::new(&b"a\n"[..], 10);
    /// assert_eq!(*lines.get_ref(), &b"a\n"[..]);
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader back, with whatever it had buffered.
    ///
    /// ```
    /// use eventlog_appender::read::LineReader;
    ///
    /// let lines = LineReader::new(&b"a\n"[..], 10);
    /// assert_eq!(lines.into_inner(), &b"a\n"[..]);
    /// ```
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// The next line, an over-long one, or the end of what is there.
    ///
    /// ```
    /// use eventlog_appender::read::{LineReader, Next};
    ///
    /// let mut lines = LineReader::new(&b"\n{}\n"[..], 10);
    /// assert_eq!(lines.next()?, Next::Line { number: 1, bytes: b"" });
    /// assert_eq!(lines.next()?, Next::Line { number: 2, bytes: b"{}" });
    /// assert_eq!(lines.next()?, Next::End);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    // Not an `Iterator`: each line borrows the reader's buffer, and `End`
    // is not the end of a growing file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> io::Result<Next<'_>> {
        Ok(match self.step()? {
            Step::Line(number) => Next::Line {
                number,
                bytes: self.current(),
            },
            Step::TooLong(number) => Next::TooLong { number },
            Step::End => Next::End,
        })
    }

    /// [`next`](Self::next) without the borrow: the line is [`current`](Self::current).
    fn step(&mut self) -> io::Result<Step> {
        if self.returned {
            self.buf.clear();
            self.returned = false;
        }
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(Step::End);
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(available.len());
            let used = take + usize::from(newline.is_some());
            if self.skipping {
                self.reader.consume(used);
                if newline.is_some() {
                    self.skipping = false;
                }
                continue;
            }
            if self.buf.len().saturating_add(take) > self.max {
                self.buf.clear();
                self.number += 1;
                self.reader.consume(used);
                self.skipping = newline.is_none();
                return Ok(Step::TooLong(self.number));
            }
            self.buf
                .extend_from_slice(available.get(..take).unwrap_or_default());
            self.reader.consume(used);
            if newline.is_some() {
                self.number += 1;
                self.returned = true;
                return Ok(Step::Line(self.number));
            }
        }
    }

    /// The line [`step`](Self::step) or [`rest_step`](Self::rest_step) found.
    fn current(&self) -> &[u8] {
        trim_cr(&self.buf)
    }

    /// The last line, once the input is complete and does not end with a
    /// newline; `None` if there is none (or it was over the cap, and
    /// already reported).
    ///
    /// ```
    /// use eventlog_appender::read::{LineReader, Next};
    ///
    /// let mut lines = LineReader::new(&b"a\nb"[..], 10);
    /// lines.next()?;
    /// assert_eq!(lines.next()?, Next::End);
    /// assert_eq!(lines.rest(), Some(Next::Line { number: 2, bytes: b"b" }));
    /// assert_eq!(lines.rest(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rest(&mut self) -> Option<Next<'_>> {
        let number = self.rest_step()?;
        Some(Next::Line {
            number,
            bytes: self.current(),
        })
    }

    /// [`rest`](Self::rest) without the borrow: the line's number.
    fn rest_step(&mut self) -> Option<u64> {
        if self.returned {
            self.buf.clear();
            self.returned = false;
        }
        if self.skipping {
            self.skipping = false;
            return None;
        }
        if self.buf.is_empty() {
            return None;
        }
        self.number += 1;
        self.returned = true;
        Some(self.number)
    }
}

/// What [`LineReader::step`] found.
enum Step {
    Line(u64),
    TooLong(u64),
    End,
}

/// Drops the `\r` of a CRLF line end.
fn trim_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// One line of a file, as [`FileLines::next_line`] hands it out: where it
/// is (file, number) and its bytes.
///
/// ```
/// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"{}\n"[..], "a.jsonl")?;
/// let line = lines.next_line().unwrap()?;
/// assert_eq!((line.number(), line.bytes(), line.text()?), (1, &b"{}"[..], "{}"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    file: &'a Path,
    number: u64,
    bytes: &'a [u8],
    terminated: bool,
}

impl<'a> Line<'a> {
    /// The file, as it was given to [`open`].
    ///
    /// ```
    /// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"a\n"[..], "mem.jsonl")?;
    /// assert_eq!(lines.next_line().unwrap()?.file(), std::path::Path::new("mem.jsonl"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file(&self) -> &'a Path {
        self.file
    }

    /// The 1-based line number.
    ///
    /// ```
    /// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"a\nb\n"[..], "mem.jsonl")?;
    /// lines.next_line();
    /// assert_eq!(lines.next_line().unwrap()?.number(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The line as it is in the file, without its line end.
    ///
    /// ```
    /// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"caf\xe9\r\n"[..], "mem.jsonl")?;
    /// assert_eq!(lines.next_line().unwrap()?.bytes(), b"caf\xe9");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The line as text, or [`ReadError::InvalidUtf8`] naming the file, the
    /// line and the first invalid byte.
    ///
    /// ```
    /// use eventlog_appender::read::{FileLines, ReadError};
    ///
    /// let mut lines = FileLines::from_reader(&b"ok\ncaf\xe9\n"[..], "mem.jsonl")?;
    /// assert_eq!(lines.next_line().unwrap()?.text()?, "ok");
    /// let err = lines.next_line().unwrap()?.text().unwrap_err();
    /// assert!(matches!(err, ReadError::InvalidUtf8 { line: 2, at: 3, .. }));
    /// assert_eq!(err.to_string(), "mem.jsonl:2: invalid UTF-8 at byte 3");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text(&self) -> Result<&'a str, ReadError> {
        std::str::from_utf8(self.bytes).map_err(|e| ReadError::InvalidUtf8 {
            path: self.file.to_owned(),
            line: self.number,
            at: e.valid_up_to(),
        })
    }

    /// Whether the line ended with a newline: only the last line of a file
    /// can lack one (after a crash mid-write, or while it is written).
    ///
    /// ```
    /// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"a\nb"[..], "mem.jsonl")?;
    /// assert!(lines.next_line().unwrap()?.is_terminated());
    /// assert!(!lines.next_line().unwrap()?.is_terminated());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// The lines of one whole file, decompressed when it is gzip; made by
/// [`open`].
///
/// ```
/// use eventlog_appender::read::{FileLines, ReadError};
///
/// let mut lines = FileLines::from_reader(&b"short\nmuch too long\nok\n"[..], "mem.jsonl")?
///     .max_line_bytes(8);
/// assert_eq!(lines.next_line().unwrap()?.text()?, "short");
/// assert!(matches!(lines.next_line(), Some(Err(ReadError::TooLong { line: 2, max: 8, .. }))));
/// assert_eq!(lines.next_line().unwrap()?.text()?, "ok");
/// assert!(lines.next_line().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FileLines {
    path: PathBuf,
    compressed: bool,
    lines: LineReader<Box<dyn BufRead + Send>>,
    done: bool,
}

impl std::fmt::Debug for FileLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLines")
            .field("path", &self.path)
            .field("compressed", &self.compressed)
            .field("line", &self.lines.number())
            .field("max_line_bytes", &self.lines.max)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Opens `path` and reads its lines: gzip (every member of it) when its
/// first bytes are gzip's magic, whatever its name; plain otherwise.
///
/// ```
/// use std::io::Write;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("rotated.jsonl"); // compressed, whatever the name says
/// let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path)?, flate2::Compression::fast());
/// gz.write_all(b"{\"n\":1}\n")?;
/// gz.finish()?;
///
/// let mut lines = eventlog_appender::read::open(&path)?;
/// assert!(lines.is_compressed());
/// assert_eq!(lines.next_line().unwrap()?.text()?, "{\"n\":1}");
/// assert!(lines.next_line().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open(path: impl AsRef<Path>) -> Result<FileLines, ReadError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: path.to_owned(),
        source,
    })?;
    FileLines::from_file(file, path)
}

impl FileLines {
    /// The lines of a file already open (a FIFO, a file opened by handle),
    /// shown as `path` in errors.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("a.jsonl");
    /// std::fs::write(&path, "{}\n")?;
    /// let mut lines = eventlog_appender::read::FileLines::from_file(std::fs::File::open(&path)?, &path)?;
    /// assert_eq!(lines.next_line().unwrap()?.bytes(), b"{}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(file: File, path: impl Into<PathBuf>) -> Result<FileLines, ReadError> {
        Self::from_reader(file, path)
    }

    /// The lines of any byte source, decompressed if it starts with gzip's
    /// magic, shown as `path` in errors.
    ///
    /// ```
    /// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"{}\n"[..], "mem.jsonl")?;
    /// assert!(!lines.is_compressed());
    /// assert_eq!(lines.next_line().unwrap()?.bytes(), b"{}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_reader(
        reader: impl io::Read + Send + 'static,
        path: impl Into<PathBuf>,
    ) -> Result<FileLines, ReadError> {
        let path = path.into();
        let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
        let compressed = loop {
            match reader.fill_buf() {
                Ok(head) => break head.starts_with(&GZIP_MAGIC),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ReadError::Open { path, source }),
            }
        };
        let reader: Box<dyn BufRead + Send> = if compressed {
            // Multi-member: concatenated gzip files are one stream.
            let decoder = flate2::bufread::MultiGzDecoder::new(reader);
            Box::new(BufReader::with_capacity(READ_BUFFER, decoder))
        } else {
            Box::new(reader)
        };
        Ok(FileLines {
            path,
            compressed,
            lines: LineReader::new(reader, DEFAULT_MAX_LINE_BYTES),
            done: false,
        })
    }

    /// Sets the longest line read, in bytes (at least 1); a longer line is
    /// skipped and reported as [`ReadError::TooLong`].
    /// Default: [`DEFAULT_MAX_LINE_BYTES`].
    ///
    /// ```
    /// use eventlog_appender::read::FileLines;
    ///
    /// let mut lines = FileLines::from_reader(&b"abc\n"[..], "mem.jsonl")?.max_line_bytes(2);
    /// assert!(lines.next_line().unwrap().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_line_bytes(mut self, max: usize) -> Self {
        self.lines.max = max.max(1);
        self
    }

    /// The file, as given.
    ///
    /// ```
    /// let lines = eventlog_appender::read::FileLines::from_reader(&b""[..], "mem.jsonl")?;
    /// assert_eq!(lines.path(), std::path::Path::new("mem.jsonl"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is gzip (by its content).
    ///
    /// ```
    /// let lines = eventlog_appender::read::FileLines::from_reader(&[0x1f, 0x8b][..], "x.jsonl")?;
    /// assert!(lines.is_compressed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// The number of the last line read or reported (0 before any).
    ///
    /// ```
    /// let mut lines = eventlog_appender::read::FileLines::from_reader(&b"a\nb\n"[..], "m")?;
    /// lines.next_line();
    /// assert_eq!(lines.line_number(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn line_number(&self) -> u64 {
        self.lines.number()
    }

    /// The next line; a line over the cap as `Err(`[`ReadError::TooLong`]`)`
    /// (the next call goes on after it); an I/O error or a cut-short gzip
    /// stream as the last item; `None` at the end.
    ///
    /// ```
    /// use eventlog_appender::read::{FileLines, ReadError};
    ///
    /// let mut lines = FileLines::from_reader(&[0x1f, 0x8b, 8][..], "cut.jsonl.gz")?;
    /// assert!(matches!(lines.next_line(), Some(Err(ReadError::Truncated { line: 0, .. }))));
    /// assert!(lines.next_line().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_line(&mut self) -> Option<Result<Line<'_>, ReadError>> {
        if self.done {
            return None;
        }
        let (step, terminated) = match self.lines.step() {
            Ok(Step::End) => {
                self.done = true;
                (Step::Line(self.lines.rest_step()?), false)
            }
            Ok(step) => (step, true),
            Err(source) => {
                self.done = true;
                let line = self.lines.number();
                let path = self.path.clone();
                return Some(Err(
                    if self.compressed && source.kind() == io::ErrorKind::UnexpectedEof {
                        ReadError::Truncated { path, line }
                    } else {
                        ReadError::Read { path, line, source }
                    },
                ));
            }
        };
        Some(match step {
            Step::Line(number) => Ok(Line {
                file: &self.path,
                number,
                bytes: self.lines.current(),
                terminated,
            }),
            Step::TooLong(number) => Err(ReadError::TooLong {
                path: self.path.clone(),
                line: number,
                max: self.lines.max,
            }),
            Step::End => return None,
        })
    }
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Every item of a whole read, as text: `n:line`, `n:line:unended`,
    /// `n:too long`, or the error.
    fn all_of(mut lines: FileLines) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(item) = lines.next_line() {
            out.push(match item {
                Ok(l) if l.is_terminated() => {
                    format!("{}:{}", l.number(), String::from_utf8_lossy(l.bytes()))
                }
                Ok(l) => format!(
                    "{}:{}:unended",
                    l.number(),
                    String::from_utf8_lossy(l.bytes())
                ),
                Err(ReadError::TooLong { line, .. }) => format!("{line}:too long"),
                Err(e) => format!("error: {e}"),
            });
        }
        out
    }

    /// A reader handing out at most `chunk` bytes at a time.
    fn chunked(input: &[u8], cap: usize, chunk: usize) -> Vec<String> {
        let reader = BufReader::with_capacity(chunk, std::io::Cursor::new(input.to_vec()));
        let lines = FileLines {
            path: PathBuf::from("mem"),
            compressed: false,
            lines: LineReader::new(Box::new(reader), cap),
            done: false,
        };
        all_of(lines)
    }

    /// What a plain split says the lines of `input` are.
    fn split(input: &[u8], cap: usize) -> Vec<String> {
        let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        let unended = !input.ends_with(b"\n") && !input.is_empty();
        if !unended {
            parts.pop();
        }
        let last = parts.len();
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let n = i + 1;
                let text = String::from_utf8_lossy(trim_cr(p));
                if p.len() > cap {
                    format!("{n}:too long")
                } else if unended && n == last {
                    // An unended line over the cap was reported; an empty
                    // rest is no line at all.
                    format!("{n}:{text}:unended")
                } else {
                    format!("{n}:{text}")
                }
            })
            .collect()
    }

    #[test]
    fn lines_are_capped_numbered_and_lose_their_crlf() {
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(
                chunked(b"ab\r\n\nabcdef\nxyz", 4, chunk),
                ["1:ab", "2:", "3:too long", "4:xyz:unended"],
                "{chunk}"
            );
            assert_eq!(chunked(b"abcd\nabcde", 4, chunk), ["1:abcd", "2:too long"]);
            assert!(chunked(b"", 4, chunk).is_empty());
        }
    }

    #[test]
    fn compressed_files_are_told_by_content_and_every_member_is_read() {
        let two = [gz(b"{\"n\":1}\n"), gz(b"{\"n\":2}\n")].concat();
        let lines = FileLines::from_reader(std::io::Cursor::new(two), "x.log").unwrap();
        assert!(lines.is_compressed());
        assert_eq!(all_of(lines), ["1:{\"n\":1}", "2:{\"n\":2}"]);
        // Named `.gz` but plain: read as it is.
        let lines = FileLines::from_reader(&b"{}\n"[..], "x.jsonl.gz").unwrap();
        assert!(!lines.is_compressed());
        assert_eq!(all_of(lines), ["1:{}"]);
        // One byte of the magic is no magic.
        let lines = FileLines::from_reader(&[0x1f][..], "x").unwrap();
        assert!(!lines.is_compressed());
    }

    #[test]
    fn a_cut_short_gzip_stream_is_a_typed_error_after_its_whole_lines() {
        let whole = gz(&b"{\"n\":1}\n".repeat(20_000));
        let half = whole[..whole.len() / 2].to_vec();
        let mut lines = FileLines::from_reader(std::io::Cursor::new(half), "cut.gz").unwrap();
        let mut read = 0;
        let err = loop {
            match lines.next_line() {
                Some(Ok(l)) => {
                    assert_eq!(l.bytes(), b"{\"n\":1}");
                    read += 1;
                }
                Some(Err(e)) => break e,
                None => panic!("no error"),
            }
        };
        assert!(read > 0);
        assert!(
            matches!(&err, ReadError::Truncated { line, .. } if *line == read),
            "{err:?}"
        );
        assert!(err.is_fatal());
        assert!(lines.next_line().is_none());
        // Not gzip after the magic: a read error, not a panic.
        let bad = [&GZIP_MAGIC[..], &[0xff; 64]].concat();
        let lines = FileLines::from_reader(std::io::Cursor::new(bad), "bad.gz").unwrap();
        let got = all_of(lines);
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("error: bad.gz: "), "{got:?}");
    }

    #[test]
    fn a_gzip_bomb_is_read_in_bounded_memory() {
        // 64 MiB of zeros without a newline, in about 64 KiB: one line, too long.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 1 << 20);
        let mut lines = FileLines::from_reader(std::io::Cursor::new(bomb), "bomb.gz")
            .unwrap()
            .max_line_bytes(1 << 10);
        assert!(matches!(
            lines.next_line(),
            Some(Err(ReadError::TooLong { line: 1, .. }))
        ));
        assert!(lines.next_line().is_none());
        assert!(lines.lines.buf.capacity() <= 2 << 10);
    }

    #[test]
    fn invalid_utf8_is_reported_with_file_and_line() {
        let mut lines = FileLines::from_reader(&b"ok\n\xff\xfe\n"[..], "logs/a.jsonl").unwrap();
        assert!(lines.next_line().unwrap().unwrap().text().is_ok());
        let line = lines.next_line().unwrap().unwrap();
        assert_eq!(line.bytes(), b"\xff\xfe");
        let err = line.text().unwrap_err();
        assert!(!err.is_fatal());
        assert_eq!(err.to_string(), "logs/a.jsonl:2: invalid UTF-8 at byte 0");
    }

    #[test]
    fn files_are_listed_in_write_order_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "app.20261125T085959.500Z.002.jsonl",
            "app.20261125T085959.500Z.jsonl.gz",
            "app.20261125T090000.000Z.jsonl",
            "app.20261125T085959.500Z.002.jsonl.gz",
            "app.20261125T085959.500Z.001.jsonl.gz",
            "app.20261125T085000.000Z.log",
            "app.x.20261125T085000.000Z.jsonl",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            "app.20261125T090000.000Z.jsonl",
            dir.path().join("app.20261125T090000.001Z.jsonl"),
        )
        .unwrap();
        let listed: Vec<String> = LogFiles::new(dir.path(), "app")
            .list()
            .unwrap()
            .iter()
            .map(|f| f.path().file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            listed,
            [
                "app.20261125T085959.500Z.jsonl.gz",
                "app.20261125T085959.500Z.001.jsonl.gz",
                "app.20261125T085959.500Z.002.jsonl",
                "app.20261125T090000.000Z.jsonl",
            ]
        );
        let logs = LogFiles::new(dir.path(), "app")
            .suffix("log")
            .list()
            .unwrap();
        assert_eq!(logs.len(), 1);
        let missing = LogFiles::new(dir.path().join("nope"), "app").list();
        assert!(matches!(missing, Err(ReadError::List { .. })));
    }

    use proptest::prelude::{Just, ProptestConfig, prop_oneof};

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Whatever the bytes, the cap and how they arrive, plain or
        /// compressed (in one gzip member or several): the lines are those
        /// of a plain split, each at most `cap` long or reported as too long.
        #[test]
        fn lines_match_a_plain_split(
            input in proptest::collection::vec(prop_oneof![
                Just(b'\n'), Just(b'\r'), Just(0u8), Just(0xffu8), proptest::num::u8::ANY
            ], 0..200),
            cap in 1usize..20,
            chunk in 1usize..32,
            members in 1usize..4,
        ) {
            let want = split(&input, cap);
            proptest::prop_assert_eq!(&chunked(&input, cap, chunk), &want);
            let per = input.len().div_ceil(members).max(1);
            let compressed: Vec<u8> = input.chunks(per).flat_map(gz).collect();
            let compressed = if input.is_empty() { gz(b"") } else { compressed };
            let lines = FileLines::from_reader(std::io::Cursor::new(compressed), "mem.gz")
                .unwrap()
                .max_line_bytes(cap);
            proptest::prop_assert!(lines.is_compressed());
            proptest::prop_assert_eq!(all_of(lines), want);
        }

        /// Any name: a log file or not, never a panic. Every name a writer
        /// gives, with any prefix (dots and all of Unicode), compressed or
        /// not, is one of its files, in its place.
        #[test]
        fn any_name_is_a_log_file_or_not(
            name in "\\PC{0,60}",
            prefix in "[^/\\x00]{1,30}",
            millis in 0u64..253_402_300_799_000,
            n in 0u32..1000,
        ) {
            let _ = LogFiles::of(Path::new(&name));
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
            let plain = naming::file_name(&prefix, t, n, "jsonl");
            for built in [plain.clone(), format!("{plain}.gz")] {
                let (files, file) = LogFiles::of(Path::new(&built)).expect("a writer's name");
                proptest::prop_assert_eq!(files, LogFiles::new("", prefix.clone()));
                proptest::prop_assert_eq!((file.stamp(), file.counter()), (t, n));
                proptest::prop_assert_eq!(file.plain_path(), Path::new(&plain));
            }
        }

        /// A gzip stream cut anywhere: lines then `Truncated` (or `Read`),
        /// never a panic, never a line that was not written.
        #[test]
        fn a_gzip_stream_cut_anywhere_ends_with_a_typed_error(
            lines in proptest::collection::vec("[a-z]{0,12}", 1..40),
            cut in 0.0f64..1.0,
        ) {
            let text: String = lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect();
            let whole = gz(text.as_bytes());
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let at = ((whole.len() as f64) * cut) as usize;
            let at = at.clamp(2, whole.len() - 1);
            let mut read = FileLines::from_reader(std::io::Cursor::new(whole[..at].to_vec()), "cut.gz").unwrap();
            let mut seen = 0usize;
            let mut failed = false;
            while let Some(item) = read.next_line() {
                match item {
                    Ok(l) => {
                        proptest::prop_assert!(seen < lines.len());
                        let text = l.text().unwrap();
                        proptest::prop_assert!(lines[seen].starts_with(text));
                        seen += 1;
                    }
                    Err(e) => {
                        proptest::prop_assert!(e.is_fatal(), "{e}");
                        failed = true;
                        break;
                    }
                }
            }
            proptest::prop_assert!(failed, "a cut stream read as whole");
            proptest::prop_assert!(read.next_line().is_none());
        }
    }
}
