//! Finding the files and reading their lines, for every command: the
//! paths given, directories expanded, every file read once even when a
//! symlink (the appender's active `checkout.jsonl`) points at another one
//! given.
//!
//! ```text
//! paths ─ collect ─▶ [Input] ─ open_lines ─▶ read::FileLines ─▶ Line { bytes, record: ParsedRecord }
//!          │ dirs: event names, write order,        (eventlog_appender)   │ invalid UTF-8, over-long:
//!          │ plain beside its .gz read once                               │ noted on stderr
//! ```
//!
//! Reading itself is the appender's `read` module (plain or gzip told by
//! content, lines capped at `--max-line-bytes` so `/dev/zero` or a gzip
//! bomb cannot exhaust memory, invalid UTF-8 found with its file and line)
//! and parsing is `eventlog::ParsedRecord`. What is left here is the
//! command line's part: sizes as arguments, which files a directory
//! holds, notes on stderr, the prefilter, and a FIFO with no writer saying
//! on stderr that it waits.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use eventlog::{KeyRenames, ParseError, ParsedRecord};
use eventlog_appender::read::{FileLines, LogFiles, ReadError};

use crate::filter::Prefilter;
use crate::outcome::CliError;

/// The largest `--max-line-bytes` accepted.
pub(crate) const MAX_MAX_LINE: usize = 1 << 30;
/// How long opening a FIFO may block before stderr says it waits for a writer.
const FIFO_NOTICE: Duration = Duration::from_millis(500);
/// Lines reported on stderr for each problem (invalid UTF-8, too long); the
/// rest are counted.
const MAX_NOTES: u64 = 10;

/// Parses a size: bytes, or with a `KiB`/`MiB`/`GiB` (or `K`/`M`/`G`) suffix.
pub(crate) fn parse_size(arg: &'static str, text: &str) -> Result<usize, CliError> {
    let bad = || CliError::BadArgument {
        arg,
        value: text.to_owned(),
        expected: "a size from 1 byte to 1GiB: bytes, or with a KiB, MiB or GiB suffix (64KiB, 16MiB)",
    };
    let digits = text
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = text.trim().get(digits.len()..).ok_or_else(bad)?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad()),
    };
    let n: usize = digits.parse().map_err(|_| bad())?;
    let bytes = n.checked_mul(1 << shift).ok_or_else(bad)?;
    if bytes == 0 || bytes > MAX_MAX_LINE {
        return Err(bad());
    }
    Ok(bytes)
}

/// `16 MiB`, `512 KiB`, `100 bytes`.
pub(crate) fn show_size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// One input file.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// As the user will recognise it (the path given, or found in a directory).
    pub(crate) path: PathBuf,
    /// Found in a directory: if it is gone when its turn comes (rotated,
    /// compressed or deleted by retention meanwhile) that is a warning, and
    /// its compressed form is read if it has one.
    pub(crate) listed: bool,
    /// The process's standard input (`-`): a stream, read once, on one
    /// thread, never looked at twice (`--since-last` refuses it).
    pub(crate) stdin: bool,
}

/// How standard input is named on stderr and in reports.
pub(crate) const STDIN_NAME: &str = "<stdin>";

/// Whether a path given on the command line means standard input.
pub(crate) fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// Standard input as a file of its own (a duplicate of its descriptor),
/// so the readers that take a `File` read it like any stream. Nothing
/// else in the process reads stdin, so no bytes sit in std's buffer.
pub(crate) fn open_stdin() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle as _;
        Ok(File::from(io::stdin().as_handle().try_clone_to_owned()?))
    }
}

/// Whether standard input holds something to read when no path is given:
/// a pipe, a FIFO, a socket or a regular file (`< file`), as ripgrep
/// decides. A terminal is not, and neither is `/dev/null` or another
/// device (cron, CI and `ssh host cmd` give those), so scripts that
/// never meant to pipe anything keep reading `logs/`.
pub(crate) fn stdin_has_input() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        open_stdin().and_then(|f| f.metadata()).is_ok_and(|m| {
            let t = m.file_type();
            t.is_file() || t.is_fifo() || t.is_socket()
        })
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal as _;
        !io::stdin().is_terminal()
    }
}

/// Whether a file found in a directory holds event lines by its name:
/// `*.jsonl`, `*.jsonl.gz`, `*.json`, `*.log` and their `.gz` forms (in
/// any case), and tracing-appender's date-suffixed names
/// (`app.log.2026-12-01`, `…-13`, `…-13-05`, `.gz` or not). The rest of
/// the name may be any bytes, UTF-8 or not.
fn looks_like_events(name: &OsStr) -> bool {
    if name
        .to_str()
        .and_then(crate::dated::parse)
        .is_some_and(|d| d.date_last)
    {
        return true;
    }
    let path = Path::new(name);
    let is = |p: &Path, ext: &str| {
        p.extension()
            .and_then(OsStr::to_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    let inner = if is(path, "gz") {
        path.file_stem().map(Path::new)
    } else {
        Some(path)
    };
    inner.is_some_and(|p| ["jsonl", "json", "log"].iter().any(|e| is(p, e)))
}

/// `path` with `.gz` added.
pub(crate) fn gz_of(path: &Path) -> PathBuf {
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    PathBuf::from(gz)
}

/// Opens `path` for reading. A FIFO blocks until a writer opens it: if it
/// still waits after [`FIFO_NOTICE`], stderr says so (once).
pub(crate) fn open_file(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
            let (opened, wait) = std::sync::mpsc::channel::<()>();
            let shown = path.display().to_string();
            let notice = std::thread::spawn(move || {
                if wait.recv_timeout(FIFO_NOTICE) == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                {
                    crate::progress::note(&format!(
                        "eventlog: {shown}: a FIFO with no writer yet: waiting for one (Ctrl-C to stop)"
                    ));
                }
            });
            let file = File::open(path);
            drop(opened);
            let _ = notice.join();
            return file;
        }
    }
    File::open(path)
}

/// Problems met inside lines, reported on stderr as they are met (the first
/// [`MAX_NOTES`] of each kind, then counted) unless the command reports
/// them itself (`validate`).
#[derive(Debug, Default)]
pub(crate) struct Notes {
    pub(crate) quiet: bool,
    pub(crate) invalid_utf8: u64,
    pub(crate) too_long: u64,
}

impl Notes {
    pub(crate) fn invalid_utf8(&mut self, file: &Path, line: u64, at: usize) {
        self.invalid_utf8 += 1;
        if !self.quiet && self.invalid_utf8 <= MAX_NOTES {
            crate::progress::note(&format!(
                "eventlog: {}:{line}: invalid UTF-8 at byte {at} (read as U+FFFD, printed as it is)",
                file.display()
            ));
        }
    }

    pub(crate) fn too_long(&mut self, file: &Path, line: u64, cap: usize) {
        self.too_long += 1;
        if !self.quiet && self.too_long <= MAX_NOTES {
            crate::progress::note(&format!(
                "eventlog: {}:{line}: line longer than {} (--max-line-bytes): skipped",
                file.display(),
                show_size(cap)
            ));
        }
    }

    /// Says how many more were counted than shown, and how many lines
    /// over the cap (`cap` bytes) were skipped in all: one line in a fixed
    /// form, for scripts whose stdout holds only records (`query`, `trace`).
    pub(crate) fn finish(&self, cap: usize) {
        if self.quiet {
            return;
        }
        if self.invalid_utf8 > MAX_NOTES {
            eprintln!(
                "eventlog: … {} more lines with invalid UTF-8 not listed",
                self.invalid_utf8 - MAX_NOTES
            );
        }
        if self.too_long > 0 {
            let unlisted = self.too_long.saturating_sub(MAX_NOTES);
            eprintln!(
                "eventlog: {} {} longer than {} (--max-line-bytes) skipped{}",
                self.too_long,
                if self.too_long == 1 { "line" } else { "lines" },
                show_size(cap),
                if unlisted > 0 {
                    format!(" ({unlisted} not listed above)")
                } else {
                    String::new()
                }
            );
        }
    }
}

/// An input's lines (a file's, or stdin's, or with `gz` the file's `.gz`
/// form), as [`open_lines`] reads them, the bytes read added to `read`.
fn open_input(
    input: &Input,
    gz: bool,
    max_line: usize,
    read: &std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> io::Result<FileLines> {
    let file = match (input.stdin, gz) {
        (true, _) => open_stdin()?,
        (false, false) => open_file(&input.path)?,
        (false, true) => open_file(&gz_of(&input.path))?,
    };
    let counted = crate::progress::Counted {
        inner: file,
        read: std::sync::Arc::clone(read),
    };
    let lines = FileLines::from_reader(counted, &input.path).map_err(|e| match e {
        ReadError::Open { source, .. } => source,
        other => io::Error::other(other),
    })?;
    Ok(lines.max_line_bytes(max_line))
}

/// What the inputs hold, in bytes as stored, if every size is known.
fn total_bytes(inputs: &[Input]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |sum, i| {
        let meta = std::fs::metadata(&i.path)
            .ok()
            .filter(|m| m.is_file() && !i.stdin)?;
        Some(sum + meta.len())
    })
}

/// A file's lines, decompressed when its first bytes are gzip's magic
/// (whatever its name), at most `max_line` bytes each.
pub(crate) fn open_lines(path: &Path, max_line: usize) -> io::Result<FileLines> {
    let lines = FileLines::from_file(open_file(path)?, path).map_err(|e| match e {
        ReadError::Open { source, .. } => source,
        other => io::Error::other(other),
    })?;
    Ok(lines.max_line_bytes(max_line))
}

/// A line's bytes as text: borrowed if valid UTF-8, else the lossy text
/// and the byte offset of the first invalid sequence.
pub(crate) fn as_text(bytes: &[u8]) -> (Cow<'_, str>, Option<usize>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), None),
        Err(e) => (String::from_utf8_lossy(bytes), Some(e.valid_up_to())),
    }
}

/// Why a file stopped being read, for stderr (the path is said before).
pub(crate) fn stopped(e: &ReadError) -> String {
    match e {
        ReadError::Read { line, source, .. } => {
            format!("stopped reading after line {line}: {source}")
        }
        ReadError::Truncated { line, .. } => {
            format!("stopped reading after line {line}: compressed data cut short")
        }
        other => other.to_string(),
    }
}

/// Where a file found in a directory goes in the reading order: an
/// appender's files by their place in its write order (stamp, then
/// collision counter), tracing-appender's by the date in their names,
/// other files by name.
fn reading_order(path: &Path) -> (PathBuf, Option<(SystemTime, u32)>) {
    if let Some((files, file)) = LogFiles::of(path) {
        // One group per writer, named as its symlink.
        return (files.symlink_path(), Some((file.stamp(), file.counter())));
    }
    let dated = path
        .file_name()
        .and_then(OsStr::to_str)
        .and_then(crate::dated::parse);
    match dated {
        // One group per prefix and suffix.
        Some(d) => (path.with_file_name(d.family), Some((d.start, 0))),
        None => (path.to_owned(), None),
    }
}

/// What [`collect`] found besides the inputs.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) inputs: Vec<Input>,
    /// Entries of a directory that could not be looked at, with the reason.
    pub(crate) unreadable: Vec<(PathBuf, String)>,
}

/// The files to read, in order: each path as given (`-`: stdin, once); a
/// directory's event files oldest first (an appender's files in its write
/// order, the others by name). A file reached twice (through a
/// symlink, or given twice) is read once, and so is a rotated file listed
/// both plain and compressed (the appender was compressing it).
pub(crate) fn collect(paths: &[PathBuf]) -> Result<Found, CliError> {
    let mut found = Found::default();
    let mut listed: Vec<Input> = Vec::new();
    for path in paths {
        if is_stdin(path) {
            if !listed.iter().any(|i| i.stdin) {
                listed.push(Input {
                    path: PathBuf::from(STDIN_NAME),
                    listed: false,
                    stdin: true,
                });
            }
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| CliError::io(path, e))?;
        if !meta.is_dir() {
            listed.push(Input {
                path: path.clone(),
                listed: false,
                stdin: false,
            });
            continue;
        }
        let mut entries: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| CliError::io(path, e))? {
            match entry {
                Ok(e) if looks_like_events(&e.file_name()) => entries.push(e.path()),
                Ok(_) => {}
                Err(e) => found.unreadable.push((path.clone(), e.to_string())),
            }
        }
        entries.sort_by_cached_key(|e| reading_order(e));
        let names: std::collections::HashSet<PathBuf> = entries.iter().cloned().collect();
        for entry in entries {
            // Mid-compression both `x.jsonl` and `x.jsonl.gz` exist: the plain one is read.
            if entry.extension().is_some_and(|e| e == "gz")
                && names.contains(&entry.with_extension(""))
            {
                continue;
            }
            match std::fs::metadata(&entry) {
                // Subdirectories, FIFOs and devices in a directory are not log files.
                Ok(m) if !m.is_file() => continue,
                Ok(_) => {}
                // Rotated away since the listing: `for_each_line` decides.
                Err(e) if e.kind() == io::ErrorKind::NotFound && !entry.is_symlink() => {}
                Err(e) => {
                    let why = if entry.is_symlink() {
                        format!("a symlink to nothing readable: {e}")
                    } else {
                        e.to_string()
                    };
                    found.unreadable.push((entry, why));
                    continue;
                }
            }
            listed.push(Input {
                path: entry,
                listed: true,
                stdin: false,
            });
        }
    }
    // A directory's symlink to a file read anyway (the appender's active
    // `checkout.jsonl`, tracing-appender's `latest_symlink`) yields to it,
    // so that file is read in its place in time order, not first.
    let targets: std::collections::HashSet<PathBuf> = listed
        .iter()
        .filter(|i| i.listed && !i.path.is_symlink())
        .filter_map(|i| std::fs::canonicalize(&i.path).ok())
        .collect();
    let mut seen = std::collections::HashSet::new();
    for input in listed {
        // Gone since the listing: not a duplicate of anything.
        if !input.stdin
            && let Ok(real) = std::fs::canonicalize(&input.path)
        {
            let yields = input.listed && input.path.is_symlink() && targets.contains(&real);
            if yields || !seen.insert(real) {
                continue;
            }
        }
        found.inputs.push(input);
    }
    if found.inputs.is_empty() && found.unreadable.is_empty() {
        return Err(CliError::NoInput(
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    Ok(found)
}

/// A line as read: its bytes, its text, and the record if it parses as a
/// JSON object.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    pub(crate) file: &'a Path,
    /// 1-based.
    pub(crate) number: u64,
    /// Where the first invalid UTF-8 is, if any.
    pub(crate) invalid_utf8: Option<usize>,
    pub(crate) record: Result<ParsedRecord, ParseError>,
}

/// What reading cost: lines, bytes, files that could not be read to the end.
#[derive(Debug, Default)]
pub(crate) struct ReadSummary {
    pub(crate) files: usize,
    pub(crate) gzip_files: usize,
    pub(crate) lines: u64,
    pub(crate) invalid_lines: u64,
    /// Lines holding invalid UTF-8 (read with U+FFFD in their place).
    pub(crate) invalid_utf8_lines: u64,
    /// Lines over `--max-line-bytes`, skipped.
    pub(crate) too_long_lines: u64,
    /// Files that could not be opened, or stopped early (a truncated gzip
    /// stream, an I/O error), with the reason; lines up to there were read.
    pub(crate) unreadable: Vec<(PathBuf, String)>,
    /// Files of a directory that were gone when their turn came (rotated or
    /// deleted by retention while reading) and had no compressed form.
    pub(crate) vanished: Vec<PathBuf>,
}

impl ReadSummary {
    /// Notes why `input` could not be opened: gone since it was listed
    /// (rotated away, or deleted by retention), or unreadable.
    pub(crate) fn note_unopened(&mut self, input: &Input, e: &io::Error) {
        if input.listed && e.kind() == io::ErrorKind::NotFound {
            self.vanished.push(input.path.clone());
        } else {
            self.unreadable
                .push((input.path.clone(), format!("cannot open: {e}")));
        }
    }
}

/// How lines are read: renamed keys, which lines are worth parsing, the cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub(crate) renames: &'a KeyRenames,
    pub(crate) prefilter: &'a Prefilter,
    pub(crate) max_line: usize,
    /// The command reports line problems itself; nothing on stderr.
    pub(crate) quiet: bool,
    /// Which blocks of an indexed `.gz` may match (see `blocks`).
    pub(crate) blocks: &'a crate::blocks::BlockTest,
}

impl<'a> Reading<'a> {
    /// Skips the blocks of indexed files that `test` says cannot match.
    pub(crate) fn skipping(self, test: &'a crate::blocks::BlockTest) -> Self {
        Reading {
            blocks: test,
            ..self
        }
    }
}

/// Calls `each` for every non-empty line of every input that passes the
/// prefilter, in order, and `too_long` for each line over the cap.
pub(crate) fn for_each_line(
    found: Found,
    reading: Reading<'_>,
    mut each: impl FnMut(Line<'_>),
    mut too_long: impl FnMut(&Path, u64),
) -> ReadSummary {
    let mut summary = ReadSummary {
        unreadable: found.unreadable,
        ..ReadSummary::default()
    };
    let mut notes = Notes {
        quiet: reading.quiet,
        ..Notes::default()
    };
    let progress = crate::progress::Progress::start(total_bytes(&found.inputs));
    for input in &found.inputs {
        let read = progress.counter();
        let opened = open_input(input, false, reading.max_line, read).or_else(|e| {
            if input.listed && e.kind() == io::ErrorKind::NotFound {
                // Compressed since the listing: the same lines under `.gz`.
                open_input(input, true, reading.max_line, read)
            } else {
                Err(e)
            }
        });
        let mut lines = match opened {
            Ok(lines) => {
                summary.files += 1;
                summary.gzip_files += usize::from(lines.is_compressed());
                lines
            }
            Err(e) => {
                summary.note_unopened(input, &e);
                continue;
            }
        };
        read_lines(
            input,
            &mut lines,
            reading,
            (&mut summary, &mut notes),
            (&mut each, &mut too_long),
        );
    }
    drop(progress);
    notes.finish(reading.max_line);
    summary.invalid_utf8_lines = notes.invalid_utf8;
    summary.too_long_lines = notes.too_long;
    summary
}

fn read_lines(
    input: &Input,
    lines: &mut FileLines,
    reading: Reading<'_>,
    (summary, notes): (&mut ReadSummary, &mut Notes),
    (each, too_long): (&mut impl FnMut(Line<'_>), &mut impl FnMut(&Path, u64)),
) {
    while let Some(item) = lines.next_line() {
        let line = match item {
            Ok(line) => line,
            Err(ReadError::TooLong { line, .. }) => {
                summary.lines += 1;
                notes.too_long(&input.path, line, reading.max_line);
                too_long(&input.path, line);
                continue;
            }
            Err(e) => {
                summary.unreadable.push((input.path.clone(), stopped(&e)));
                break;
            }
        };
        let (number, bytes) = (line.number(), line.bytes());
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        summary.lines += 1;
        let (text, invalid_utf8) = as_text(bytes);
        if let Some(at) = invalid_utf8 {
            notes.invalid_utf8(&input.path, number, at);
        }
        if !reading.prefilter.may_match(&text) {
            continue;
        }
        let record = ParsedRecord::parse_renamed(&text, reading.renames);
        if record.is_err() {
            summary.invalid_lines += 1;
        }
        each(Line {
            file: &input.path,
            number,
            invalid_utf8,
            record,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_files_are_told_by_name() {
        use std::os::unix::ffi::OsStrExt as _;
        for yes in [
            "checkout.jsonl",
            "checkout.20261125T085007.123Z.jsonl.gz",
            "app.log",
            "x.json",
            "X.JSONL",
        ] {
            assert!(looks_like_events(OsStr::new(yes)), "{yes}");
        }
        assert!(looks_like_events(OsStr::from_bytes(b"caf\xe9.jsonl")));
        for no in [
            "notes.txt",
            "checkout.jsonl.tmp",
            "image.gz",
            ".gz",
            "jsonl",
        ] {
            assert!(!looks_like_events(OsStr::new(no)), "{no}");
        }
    }

    #[test]
    fn a_directory_is_read_in_write_order() {
        // Name order puts `.001` (the second file of that millisecond)
        // before the first; the appender's order does not.
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "app.20261125T085959.500Z.001.jsonl.gz",
            "app.20261125T085959.500Z.002.jsonl.gz",
            "app.20261125T085959.500Z.jsonl.gz",
            "app.20261125T090000.000Z.jsonl",
            "other.log",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let found = collect(&[dir.path().to_owned()]).unwrap();
        let got: Vec<_> = found
            .inputs
            .iter()
            .map(|i| i.path.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            got,
            [
                "app.20261125T085959.500Z.jsonl.gz",
                "app.20261125T085959.500Z.001.jsonl.gz",
                "app.20261125T085959.500Z.002.jsonl.gz",
                "app.20261125T090000.000Z.jsonl",
                "other.log",
            ]
        );
    }

    #[test]
    fn tracing_appenders_files_are_read_by_date_beside_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "app.log.2026-12-02",
            "app.log.2026-11-30.gz",
            "app.log.2026-12-01",
            "app.log",
            "svc.2026-12-01-09.jsonl",
            "svc.2026-12-01-10.jsonl.gz",
            "svc.2026-11-30-23.jsonl",
            "m.2026-12-01-13-05",
            "m.2026-12-01-13-04",
            "notes.2026-12-01.txt",
            "app.log.2026-12-01.tmp",
            "checkout.20261125T085959.500Z.jsonl",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        // tracing-appender's `latest_symlink` (eventlog's appender has one
        // too), named to sort first: read where its target is, not first.
        std::os::unix::fs::symlink("app.log.2026-12-02", dir.path().join("a.log")).unwrap();
        let found = collect(&[dir.path().to_owned()]).unwrap();
        let got: Vec<_> = found
            .inputs
            .iter()
            .map(|i| i.path.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            got,
            [
                "app.log",
                "app.log.2026-11-30.gz",
                "app.log.2026-12-01",
                "app.log.2026-12-02",
                "checkout.20261125T085959.500Z.jsonl",
                "m.2026-12-01-13-04",
                "m.2026-12-01-13-05",
                "svc.2026-11-30-23.jsonl",
                "svc.2026-12-01-09.jsonl",
                "svc.2026-12-01-10.jsonl.gz",
            ]
        );
    }

    use proptest::prelude::ProptestConfig;

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Sizes: any text is a size in range or a `BadArgument`, never a panic.
        #[test]
        fn any_size_text_is_parsed_or_refused(text in "\\PC*") {
            if let Ok(n) = parse_size("--max-line-bytes", &text) {
                proptest::prop_assert!((1..=MAX_MAX_LINE).contains(&n));
            }
        }
    }

    #[test]
    fn sizes() {
        let p = |s| parse_size("--max-line-bytes", s).ok();
        assert_eq!(p("100"), Some(100));
        assert_eq!(p("64KiB"), Some(64 << 10));
        assert_eq!(p("16M"), Some(16 << 20));
        assert_eq!(p("1gib"), Some(1 << 30));
        for bad in [
            "",
            "0",
            "2GiB",
            "-1",
            "1.5M",
            "MiB",
            "1 MiB x",
            "99999999999999999999999",
            "18446744073709551615K",
            "é",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(show_size(16 << 20), "16 MiB");
        assert_eq!(show_size(2048), "2 KiB");
        assert_eq!(show_size(1536), "1536 bytes");
    }
}
