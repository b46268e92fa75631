//! Finding the files and reading their lines: plain or gzip-compressed
//! (told apart by their first bytes, not their names), directories
//! expanded, every file read once even when a symlink (the appender's
//! active `checkout.jsonl`) points at another one given.
//!
//! ```text
//! paths ─ collect ─▶ [Input] ─ open_lines ─▶ Lines (capped) ─▶ Line { bytes, text, record }
//!          │ dirs: event names, plain beside its .gz read once      │ invalid UTF-8, over-long: noted
//! ```
//!
//! Nothing here trusts the input: a line is at most `--max-line-bytes`
//! (longer ones are skipped and reported, so `/dev/zero` or a gzip bomb
//! cannot exhaust memory), invalid UTF-8 is reported with its file and
//! line while the line's bytes are kept as they are, and a FIFO with no
//! writer says on stderr that it waits.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::filter::Prefilter;
use crate::keys::Renames;
use crate::outcome::CliError;

/// The largest `--max-line-bytes` accepted.
pub(crate) const MAX_MAX_LINE: usize = 1 << 30;
/// Bytes read from a file at a time.
const READ_BUFFER: usize = 64 << 10;
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
}

/// Whether a file found in a directory holds event lines by its name:
/// `*.jsonl`, `*.jsonl.gz`, `*.json`, `*.log` and their `.gz` forms (in
/// any case). The rest of the name may be any bytes, UTF-8 or not.
fn looks_like_events(name: &OsStr) -> bool {
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
                    eprintln!(
                        "eventlog: {shown}: a FIFO with no writer yet: waiting for one (Ctrl-C to stop)"
                    );
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

/// A file's lines, decompressed when its first bytes are gzip's magic
/// (whatever its name); also says whether it was.
pub(crate) fn open_lines(path: &Path) -> io::Result<(Box<dyn BufRead>, bool)> {
    reader_of(open_file(path)?)
}

/// An open file's lines, decompressed when it starts with gzip's magic.
pub(crate) fn reader_of(file: File) -> io::Result<(Box<dyn BufRead>, bool)> {
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let gzip = loop {
        match reader.fill_buf() {
            Ok(head) => break head.starts_with(&[0x1f, 0x8b]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    Ok(if gzip {
        // Multi-member: concatenated gzip files are one stream.
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        (
            Box::new(BufReader::with_capacity(READ_BUFFER, decoder)),
            true,
        )
    } else {
        (Box::new(reader), false)
    })
}

/// What [`Lines::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next<'a> {
    /// A whole line (its `\n` removed), 1-based number.
    Line(u64, &'a [u8]),
    /// Line `number` passed the cap: reported as soon as it does, then
    /// skipped to its end without being kept.
    TooLong(u64),
    /// Nothing more for now: the end of the file, or of what a growing file
    /// holds so far (an unfinished line is kept for the next call).
    End,
}

/// Splits a reader into lines of at most `cap` bytes, with constant memory
/// whatever the input (a line without end is skipped, not gathered).
#[derive(Debug)]
pub(crate) struct Lines<R> {
    reader: R,
    cap: usize,
    buf: Vec<u8>,
    /// Lines started so far.
    number: u64,
    /// `buf` holds the line returned last: clear it before reading on.
    returned: bool,
    /// Inside a line that passed the cap: drop bytes until its `\n`.
    skipping: bool,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, cap: usize) -> Self {
        Lines {
            reader,
            cap,
            buf: Vec::new(),
            number: 0,
            returned: false,
            skipping: false,
        }
    }

    /// The number of the last line returned or reported.
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// The reader.
    pub(crate) fn reader(&self) -> &R {
        &self.reader
    }

    /// The reader back, with whatever it had buffered.
    pub(crate) fn into_inner(self) -> R {
        self.reader
    }

    /// The next line, an over-long one, or the end of what is there.
    pub(crate) fn next(&mut self) -> io::Result<Next<'_>> {
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
                return Ok(Next::End);
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(available.len());
            let piece = available.get(..take).unwrap_or_default();
            if self.skipping {
                self.reader.consume(take + usize::from(newline.is_some()));
                if newline.is_some() {
                    self.skipping = false;
                }
                continue;
            }
            if self.buf.len().saturating_add(take) > self.cap {
                self.buf.clear();
                self.number += 1;
                self.reader.consume(take + usize::from(newline.is_some()));
                self.skipping = newline.is_none();
                return Ok(Next::TooLong(self.number));
            }
            self.buf.extend_from_slice(piece);
            self.reader.consume(take + usize::from(newline.is_some()));
            if newline.is_some() {
                self.number += 1;
                self.returned = true;
                return Ok(Next::Line(self.number, &self.buf));
            }
        }
    }

    /// The last line when the input is complete but does not end with a
    /// newline; `None` if there is none (or it was over the cap, and
    /// already reported).
    pub(crate) fn rest(&mut self) -> Option<Next<'_>> {
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
        Some(Next::Line(self.number, &self.buf))
    }
}

/// A line's bytes as text: `Ok` if valid UTF-8, else the lossy text and
/// the byte offset of the first invalid sequence.
pub(crate) fn as_text(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Option<usize>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), None),
        Err(e) => (String::from_utf8_lossy(bytes), Some(e.valid_up_to())),
    }
}

/// Drops a line's `\r` of a CRLF ending.
pub(crate) fn trim_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
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
            eprintln!(
                "eventlog: {}:{line}: invalid UTF-8 at byte {at} (read as U+FFFD, printed as it is)",
                file.display()
            );
        }
    }

    pub(crate) fn too_long(&mut self, file: &Path, line: u64, cap: usize) {
        self.too_long += 1;
        if !self.quiet && self.too_long <= MAX_NOTES {
            eprintln!(
                "eventlog: {}:{line}: line longer than {} (--max-line-bytes): skipped",
                file.display(),
                show_size(cap)
            );
        }
    }

    /// Says how many more were counted than shown.
    pub(crate) fn finish(&self) {
        if self.quiet {
            return;
        }
        for (n, what) in [
            (self.invalid_utf8, "lines with invalid UTF-8"),
            (self.too_long, "lines over --max-line-bytes (skipped)"),
        ] {
            if n > MAX_NOTES {
                eprintln!("eventlog: … {} more {what} not listed", n - MAX_NOTES);
            }
        }
    }
}

/// A line's record: a JSON object, its renamed keys moved back; or why
/// the line is not one.
pub(crate) fn parse_line(text: &str, renames: &Renames) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut map)) => {
            renames.apply(&mut map);
            Ok(map)
        }
        Ok(other) => Err(format!("not a JSON object: {}", kind_of(&other))),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// What [`collect`] found besides the inputs.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) inputs: Vec<Input>,
    /// Entries of a directory that could not be looked at, with the reason.
    pub(crate) unreadable: Vec<(PathBuf, String)>,
}

/// The files to read, in order: each path as given; a directory's event
/// files sorted by name (rotated files carry a UTC timestamp in their
/// names, so this is oldest first). A file reached twice (through a
/// symlink, or given twice) is read once, and so is a rotated file listed
/// both plain and compressed (the appender was compressing it).
pub(crate) fn collect(paths: &[PathBuf]) -> Result<Found, CliError> {
    let mut found = Found::default();
    let mut listed: Vec<Input> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| CliError::io(path, e))?;
        if !meta.is_dir() {
            listed.push(Input {
                path: path.clone(),
                listed: false,
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
        entries.sort();
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
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    for input in listed {
        // Gone since the listing: not a duplicate of anything.
        if let Ok(real) = std::fs::canonicalize(&input.path)
            && !seen.insert(real)
        {
            continue;
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
    /// As they are in the file (without the line end): what is printed.
    pub(crate) bytes: &'a [u8],
    /// Where the first invalid UTF-8 is, if any.
    pub(crate) invalid_utf8: Option<usize>,
    pub(crate) record: Result<Map<String, Value>, String>,
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

/// How lines are read: renamed keys, which lines are worth parsing, the cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub(crate) renames: &'a Renames,
    pub(crate) prefilter: &'a Prefilter,
    pub(crate) max_line: usize,
    /// The command reports line problems itself; nothing on stderr.
    pub(crate) quiet: bool,
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
    for input in &found.inputs {
        let opened = open_lines(&input.path).or_else(|e| {
            if input.listed && e.kind() == io::ErrorKind::NotFound {
                // Compressed since the listing: the same lines under `.gz`.
                open_lines(&gz_of(&input.path))
            } else {
                Err(e)
            }
        });
        let reader = match opened {
            Ok((reader, gzip)) => {
                summary.files += 1;
                summary.gzip_files += usize::from(gzip);
                reader
            }
            Err(e) if input.listed && e.kind() == io::ErrorKind::NotFound => {
                summary.vanished.push(input.path.clone());
                continue;
            }
            Err(e) => {
                summary
                    .unreadable
                    .push((input.path.clone(), format!("cannot open: {e}")));
                continue;
            }
        };
        let mut lines = Lines::new(reader, reading.max_line);
        read_lines(
            input,
            &mut lines,
            reading,
            (&mut summary, &mut notes),
            (&mut each, &mut too_long),
        );
    }
    notes.finish();
    summary.invalid_utf8_lines = notes.invalid_utf8;
    summary.too_long_lines = notes.too_long;
    summary
}

fn read_lines(
    input: &Input,
    lines: &mut Lines<Box<dyn BufRead>>,
    reading: Reading<'_>,
    (summary, notes): (&mut ReadSummary, &mut Notes),
    (each, too_long): (&mut impl FnMut(Line<'_>), &mut impl FnMut(&Path, u64)),
) {
    loop {
        let next = match lines.next() {
            Ok(Next::End) => match lines.rest() {
                Some(last) => last,
                None => break,
            },
            Ok(next) => next,
            Err(e) => {
                summary.unreadable.push((
                    input.path.clone(),
                    format!("stopped reading after line {}: {e}", lines.number()),
                ));
                break;
            }
        };
        let (number, bytes) = match next {
            Next::Line(number, bytes) => (number, trim_cr(bytes)),
            Next::TooLong(number) => {
                summary.lines += 1;
                notes.too_long(&input.path, number, reading.max_line);
                too_long(&input.path, number);
                continue;
            }
            Next::End => break,
        };
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
        let record = parse_line(&text, reading.renames);
        if record.is_err() {
            summary.invalid_lines += 1;
        }
        each(Line {
            file: &input.path,
            number,
            bytes,
            invalid_utf8,
            record,
        });
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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

    fn all(input: &[u8], cap: usize, chunk: usize) -> Vec<String> {
        // A reader handing out at most `chunk` bytes at a time.
        let reader = BufReader::with_capacity(chunk, input);
        let mut lines = Lines::new(reader, cap);
        let mut out = Vec::new();
        loop {
            match lines.next().unwrap() {
                Next::Line(n, b) => out.push(format!("{n}:{}", String::from_utf8_lossy(b))),
                Next::TooLong(n) => out.push(format!("{n}:too long")),
                Next::End => break,
            }
        }
        if let Some(Next::Line(n, b)) = lines.rest() {
            out.push(format!("{n}:{}:unended", String::from_utf8_lossy(b)));
        }
        out
    }

    #[test]
    fn lines_are_capped_and_numbered() {
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(
                all(b"ab\n\nabcdef\nxyz", 4, chunk),
                ["1:ab", "2:", "3:too long", "4:xyz:unended"],
                "{chunk}"
            );
            assert_eq!(all(b"abcd\nabcde", 4, chunk), ["1:abcd", "2:too long"]);
            assert!(all(b"", 4, chunk).is_empty());
        }
    }

    use proptest::prelude::{Just, ProptestConfig, prop_oneof};

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whatever the bytes, the cap and how they arrive: the lines are
        /// those of `split`, each at most `cap` long or reported as too long.
        #[test]
        fn lines_match_a_plain_split(
            input in proptest::collection::vec(prop_oneof![
                Just(b'\n'), Just(b'\r'), Just(0u8), Just(0xffu8), proptest::num::u8::ANY
            ], 0..200),
            cap in 1usize..20,
            chunk in 1usize..32,
        ) {
            let got = all(&input, cap, chunk);
            let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            let unended = !input.ends_with(b"\n") && !input.is_empty();
            if !unended {
                parts.pop();
            }
            let last = parts.len();
            let want: Vec<String> = parts.iter().enumerate().map(|(i, p)| {
                let n = i + 1;
                if p.len() > cap {
                    format!("{n}:too long")
                } else if unended && n == last {
                    format!("{n}:{}:unended", String::from_utf8_lossy(p))
                } else {
                    format!("{n}:{}", String::from_utf8_lossy(p))
                }
            }).collect();
            proptest::prop_assert_eq!(got, want);
        }

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
