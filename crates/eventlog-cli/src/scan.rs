//! The query engine's reading: every core scanning its share of the
//! files, each line looked at through the lazy scanner, partial answers
//! merged in read order.
//!
//! ```text
//! Found ─ plan ─▶ [Unit]: a big plain file in ranges cut at line ends; a gzip file,
//!   │                     a FIFO or a small file whole
//!   └─ workers (one per core) take units in turn:
//!        lines ─ blank? ─ UTF-8 ─ prefilter (memmem) ─ Scanner::scan ─▶ RecordView::Lazy
//!                                                         └ fallback: ParsedRecord ─▶ RecordView::Full
//!        Task::line(part, line)          one Part per unit
//!   main thread: parts merged in unit order (Task's merge), notes printed with true line numbers
//! ```
//!
//! Memory stays bounded: a worker holds one read buffer (grown only for a
//! line longer than it, up to `--max-line-bytes`), and at most a few
//! units' parts wait to be merged. Lines keep the meaning `input` gives
//! them: the same caps, the same counts, the same notes on stderr.

use std::io::{self, BufRead as _, BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use eventlog::{ParseError, ParsedRecord};

use crate::input::{Found, Notes, ReadSummary, Reading, as_text, gz_of, open_file};
use crate::lazy::Scanner;
use crate::progress::Counted;
use crate::view::RecordView;

/// Plain files bigger than this are cut into ranges read in parallel.
const SPLIT_ABOVE: u64 = 8 << 20;
/// The largest range: small enough to share a file among the cores
/// evenly, big enough that a range's setup is nothing.
const RANGE: u64 = 32 << 20;
/// The smallest range.
const MIN_RANGE: u64 = 1 << 20;
/// A worker's read buffer (grown for a longer line).
const BUFFER: usize = 1 << 20;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What a command computes: a `Part` per unit, filled line by line on a
/// worker, then merged on the main thread in read order.
pub(crate) trait Task: Sync {
    type Part: Send;
    fn part(&self) -> Self::Part;
    fn line(&self, part: &mut Self::Part, line: &ScanLine<'_>);
    /// Whether the part needs no more lines (`query --limit N` has N):
    /// the rest of the unit is not read.
    fn full(&self, _part: &Self::Part) -> bool {
        false
    }
}

/// A line that parsed as a record and passed the prefilter.
#[derive(Debug)]
pub(crate) struct ScanLine<'a> {
    /// As they are in the file (without the line end).
    pub(crate) bytes: &'a [u8],
    /// The bytes as text (invalid UTF-8 read as U+FFFD).
    pub(crate) text: &'a str,
    pub(crate) record: RecordView<'a>,
    /// Read order over all files: sorts like the lines were read.
    pub(crate) seq: u64,
}

/// How many threads read: every core unless `--threads` says otherwise.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Where a unit's bytes come from.
#[derive(Debug)]
enum Source {
    /// `[start, end)` of a regular plain file: the lines starting there.
    #[cfg(unix)]
    Range {
        file: Arc<std::fs::File>,
        start: u64,
        /// `None`: to the end, however long the file has grown.
        end: Option<u64>,
    },
    /// A whole file, plain or gzip (told by content), read as a stream.
    Whole(Mutex<Option<std::fs::File>>),
    /// Gzip members `[offset, offset + len)` of an indexed file (see `blocks`).
    #[cfg(unix)]
    Members {
        file: Arc<std::fs::File>,
        offset: u64,
        len: u64,
    },
    /// Members the index proved cannot match: only their lines are counted.
    Skipped { lines: u64, first: bool },
}

#[derive(Debug)]
struct Unit {
    /// Index into the inputs: line numbers run on across a file's units.
    input: usize,
    path: PathBuf,
    source: Source,
}

/// One problem met in a line of a range, numbered within the range until
/// the merge knows where the range starts.
#[derive(Debug)]
enum Note {
    InvalidUtf8 { line: u64, at: usize },
    TooLong { line: u64 },
}

/// A unit's partial answer and what reading it cost.
#[derive(Debug)]
struct Done<P> {
    unit: usize,
    part: P,
    lines: u64,
    /// Every line of the unit, blank ones too: where the next range's numbers start.
    physical: u64,
    invalid_lines: u64,
    invalid_utf8: u64,
    too_long: u64,
    gzip: bool,
    notes: Vec<Note>,
    /// Why it stopped early: after which (unit-local) line, and the reason.
    stopped: Option<(u64, String)>,
    opened: Result<(), String>,
}

/// Opens every input in order (a FIFO waits for its writer here, as it
/// did), and cuts big plain files into ranges.
fn plan(
    found: &Found,
    (threads, reading): (usize, Reading<'_>),
    summary: &mut ReadSummary,
    savings: &crate::blocks::Savings,
) -> Vec<Unit> {
    let mut units = Vec::new();
    for (index, input) in found.inputs.iter().enumerate() {
        let mut path = input.path.clone();
        let opened = if input.stdin {
            crate::input::open_stdin()
        } else {
            open_file(&input.path)
        };
        let opened = opened.or_else(|e| {
            if input.listed && e.kind() == io::ErrorKind::NotFound {
                // Compressed since the listing: the same lines under `.gz`.
                path = gz_of(&input.path);
                open_file(&path)
            } else {
                Err(e)
            }
        });
        let file = match opened {
            Ok(file) => file,
            Err(e) => {
                summary.note_unopened(input, &e);
                continue;
            }
        };
        summary.files += 1;
        // Only the path as given is shown, as before.
        let shown = input.path.clone();
        // Stdin is a stream even when it is a file (`< file` may start
        // mid-file): read whole, on one thread.
        #[cfg(unix)]
        if !input.stdin
            && let Some((size, ranges)) = ranges_of(&file, threads)
        {
            let file = Arc::new(file);
            let count = ranges.len();
            for (i, start) in ranges.into_iter().enumerate() {
                let end = (i + 1 < count).then(|| start + size);
                units.push(Unit {
                    input: index,
                    path: shown.clone(),
                    source: Source::Range {
                        file: Arc::clone(&file),
                        start,
                        end,
                    },
                });
            }
            continue;
        }
        #[cfg(unix)]
        if let Some(pieces) = indexed(&file, &path, reading, savings) {
            let file = Arc::new(file);
            for (i, piece) in pieces.into_iter().enumerate() {
                let source = match piece {
                    crate::blocks::Piece::Member { offset, len } => Source::Members {
                        file: Arc::clone(&file),
                        offset,
                        len,
                    },
                    crate::blocks::Piece::Skipped { lines } => Source::Skipped {
                        lines,
                        first: i == 0,
                    },
                };
                units.push(Unit {
                    input: index,
                    path: shown.clone(),
                    source,
                });
            }
            continue;
        }
        units.push(Unit {
            input: index,
            path: shown,
            source: Source::Whole(Mutex::new(Some(file))),
        });
    }
    units
}

/// The size and starts of a big regular plain file's ranges (at least
/// four per thread), or `None` to read it whole.
#[cfg(unix)]
fn ranges_of(file: &std::fs::File, threads: usize) -> Option<(u64, Vec<u64>)> {
    use std::os::unix::fs::FileExt as _;
    let meta = file.metadata().ok()?;
    if threads < 2 || !meta.is_file() || meta.len() <= SPLIT_ABOVE {
        return None;
    }
    let mut head = [0u8; 2];
    if file.read_exact_at(&mut head, 0).is_err() || head == GZIP_MAGIC {
        return None;
    }
    let size = (meta.len() / (threads as u64 * 4)).clamp(MIN_RANGE, RANGE);
    Some((
        size,
        (0..meta.len().div_ceil(size)).map(|i| i * size).collect(),
    ))
}

/// The pieces of a gzip file with a usable block index (regular files,
/// default key names only: the index knows the default names).
#[cfg(unix)]
fn indexed(
    file: &std::fs::File,
    path: &Path,
    reading: Reading<'_>,
    savings: &crate::blocks::Savings,
) -> Option<Vec<crate::blocks::Piece>> {
    use std::os::unix::fs::FileExt as _;
    if !reading.renames.is_empty() || !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = [0u8; 2];
    if file.read_exact_at(&mut head, 0).is_err() || head != GZIP_MAGIC {
        return None;
    }
    crate::blocks::pieces(path, file, reading.blocks, reading.max_line, savings)
}

/// A range read through `pread`, so ranges of one file share its handle.
#[cfg(unix)]
struct RangeReader<'a> {
    file: &'a std::fs::File,
    at: u64,
}

#[cfg(unix)]
impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt as _;
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// Reads every unit on `threads` workers and hands each unit's part to
/// `merge` in read order; `merge` may stop the reading early.
pub(crate) fn scan<T: Task>(
    mut found: Found,
    reading: Reading<'_>,
    threads: usize,
    task: &T,
    mut merge: impl FnMut(T::Part) -> ControlFlow<()>,
) -> ReadSummary {
    let mut summary = ReadSummary {
        unreadable: std::mem::take(&mut found.unreadable),
        ..ReadSummary::default()
    };
    let threads = threads.max(1);
    let savings = crate::blocks::Savings::default();
    let units = plan(&found, (threads, reading), &mut summary, &savings);
    // Drawn only on a terminal, and erased when it drops at the end.
    let progress = crate::progress::Progress::start(total_bytes(&units));
    let notes = Mutex::new(Notes {
        quiet: reading.quiet,
        ..Notes::default()
    });
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Units merged so far: a worker runs at most `AHEAD` units ahead of
    // the merge, so parts waiting for their turn stay few.
    let ahead = threads * 2;
    let merged = (Mutex::new(0usize), Condvar::new());
    let (send, receive) = std::sync::mpsc::channel::<Done<T::Part>>();
    std::thread::scope(|s| {
        for _ in 0..threads.min(units.len()) {
            let send = send.clone();
            let (units, next, stop, merged, notes) = (&units, &next, &stop, &merged, &notes);
            let counter = Arc::clone(progress.counter());
            s.spawn(move || {
                let mut worker = Worker::new(reading, counter);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(unit) = units.get(i) else { return };
                    {
                        let (count, turn) = merged;
                        let mut done = count
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        while i >= *done + ahead && !stop.load(Ordering::Relaxed) {
                            done = turn
                                .wait(done)
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let done = worker.unit(i, unit, task, stop, notes);
                    if send.send(done).is_err() {
                        return;
                    }
                }
            });
        }
        drop(send);
        let mut waiting = std::collections::BTreeMap::new();
        let mut turn = 0usize;
        let mut bases: std::collections::HashMap<usize, u64> = std::collections::HashMap::new();
        for done in receive {
            waiting.insert(done.unit, done);
            while let Some(done) = waiting.remove(&turn) {
                let Some(unit) = units.get(turn) else { break };
                let base = bases.get(&unit.input).copied().unwrap_or(0);
                bases.insert(unit.input, base + done.physical);
                let flow = absorb(
                    &mut summary,
                    (unit, base),
                    done,
                    (&notes, reading.max_line),
                    &mut merge,
                );
                turn += 1;
                {
                    let (count, wake) = &merged;
                    *count
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = turn;
                    wake.notify_all();
                }
                if flow.is_break() {
                    // No part after a break reaches `merge`, even one
                    // already waiting here.
                    stop.store(true, Ordering::Relaxed);
                    merged.1.notify_all();
                    break;
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        merged.1.notify_all();
    });
    drop(progress);
    let notes = notes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    notes.finish(reading.max_line);
    savings.explain();
    summary.invalid_utf8_lines = notes.invalid_utf8;
    summary.too_long_lines = notes.too_long;
    summary
}

/// The bytes the units hold (compressed ones as stored), if all are known:
/// a pipe's or a FIFO's are not.
fn total_bytes(units: &[Unit]) -> Option<u64> {
    let mut total = 0u64;
    for unit in units {
        total += match &unit.source {
            #[cfg(unix)]
            Source::Range { file, start, end } => match end {
                Some(end) => end - start,
                None => file.metadata().ok()?.len().saturating_sub(*start),
            },
            #[cfg(unix)]
            Source::Members { len, .. } => *len,
            Source::Skipped { .. } => 0,
            Source::Whole(file) => {
                let file = file
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let meta = file.as_ref()?.metadata().ok()?;
                if !meta.is_file() {
                    return None;
                }
                meta.len()
            }
        };
    }
    Some(total)
}

/// One unit's part merged: its counts added, its notes printed with the
/// file's true line numbers.
fn absorb<P>(
    summary: &mut ReadSummary,
    (unit, base): (&Unit, u64),
    done: Done<P>,
    (notes, cap): (&Mutex<Notes>, usize),
    merge: &mut impl FnMut(P) -> ControlFlow<()>,
) -> ControlFlow<()> {
    if let Err(why) = done.opened {
        summary.unreadable.push((unit.path.clone(), why));
        return ControlFlow::Continue(());
    }
    summary.lines += done.lines;
    summary.invalid_lines += done.invalid_lines;
    summary.gzip_files += usize::from(done.gzip);
    {
        let mut n = notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for note in &done.notes {
            match *note {
                Note::InvalidUtf8 { line, at } => n.invalid_utf8(&unit.path, base + line, at),
                Note::TooLong { line } => n.too_long(&unit.path, base + line, cap),
            }
        }
        // Problems past the first few of a range were counted, not listed.
        let listed = |k: fn(&Note) -> bool| done.notes.iter().filter(|x| k(x)).count() as u64;
        n.invalid_utf8 += done.invalid_utf8 - listed(|x| matches!(x, Note::InvalidUtf8 { .. }));
        n.too_long += done.too_long - listed(|x| matches!(x, Note::TooLong { .. }));
    }
    if let Some((line, why)) = done.stopped {
        summary.unreadable.push((
            unit.path.clone(),
            why.replace("\u{0}LINE\u{0}", &(base + line).to_string()),
        ));
    }
    merge(done.part)
}

/// A worker's reusable state.
struct Worker<'r> {
    reading: Reading<'r>,
    buf: Vec<u8>,
    scanner: Scanner,
    /// Bytes read from the files, for the progress bar.
    read: Arc<std::sync::atomic::AtomicU64>,
}

/// Where line numbers in a unit's notes go: printed at once (a whole file
/// knows its numbers) or kept for the merge (a range does not).
enum NoteSink<'n> {
    Now(&'n Mutex<Notes>, &'n Path),
    Later,
}

impl<'r> Worker<'r> {
    fn new(reading: Reading<'r>, read: Arc<std::sync::atomic::AtomicU64>) -> Self {
        Worker {
            reading,
            buf: vec![0; BUFFER],
            scanner: Scanner::default(),
            read,
        }
    }

    fn unit<T: Task>(
        &mut self,
        index: usize,
        unit: &Unit,
        task: &T,
        stop: &AtomicBool,
        notes: &Mutex<Notes>,
    ) -> Done<T::Part> {
        let mut done = Done {
            unit: index,
            part: task.part(),
            lines: 0,
            physical: 0,
            invalid_lines: 0,
            invalid_utf8: 0,
            too_long: 0,
            gzip: false,
            notes: Vec::new(),
            stopped: None,
            opened: Ok(()),
        };
        let seq_base = (index as u64) << 32;
        match &unit.source {
            #[cfg(unix)]
            Source::Range { file, start, end } => {
                let mut reader = RangeReader {
                    file,
                    at: start.saturating_sub(1),
                };
                // Mid-line: the line belongs to the range before.
                let mut skip_first = false;
                if *start > 0 {
                    let mut before = [0u8; 1];
                    match reader.read(&mut before) {
                        Ok(1) => skip_first = before[0] != b'\n',
                        Ok(_) => return done,
                        Err(e) => {
                            done.stopped = Some((
                                0,
                                format!("stopped reading after line \u{0}LINE\u{0}: {e}"),
                            ));
                            return done;
                        }
                    }
                }
                let limit = end.map(|e| e - start);
                let reader = Counted {
                    inner: reader,
                    read: Arc::clone(&self.read),
                };
                self.lines(
                    reader,
                    skip_first,
                    limit,
                    seq_base,
                    task,
                    &mut done,
                    stop,
                    &NoteSink::Later,
                );
            }
            #[cfg(unix)]
            Source::Members { file, offset, len } => {
                self.members((file, *offset, *len), seq_base, task, &mut done, stop);
            }
            Source::Skipped { lines, first } => {
                (done.gzip, done.lines, done.physical) = (*first, *lines, *lines);
            }
            Source::Whole(file) => {
                let Some(file) = file
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
                else {
                    return done;
                };
                let file = Counted {
                    inner: file,
                    read: Arc::clone(&self.read),
                };
                let mut reader = BufReader::with_capacity(BUFFER, file);
                let head = loop {
                    match reader.fill_buf() {
                        Ok(head) => break head.starts_with(&GZIP_MAGIC),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            done.opened = Err(format!("cannot open: {e}"));
                            return done;
                        }
                    }
                };
                done.gzip = head;
                let sink = NoteSink::Now(notes, &unit.path);
                if head {
                    let gz = flate2::bufread::MultiGzDecoder::new(reader);
                    self.lines(gz, false, None, seq_base, task, &mut done, stop, &sink);
                } else {
                    // Read straight into the worker's buffer: through the
                    // BufReader every byte would be copied twice.
                    let head = io::Cursor::new(reader.buffer().to_vec());
                    let plain = head.chain(reader.into_inner());
                    self.lines(plain, false, None, seq_base, task, &mut done, stop, &sink);
                }
            }
        }
        done
    }

    /// Members `[offset, offset + len)` of an indexed gzip file: inflated
    /// on this worker while others take the file's other members.
    #[cfg(unix)]
    fn members<T: Task>(
        &mut self,
        (file, offset, len): (&std::fs::File, u64, u64),
        seq_base: u64,
        task: &T,
        done: &mut Done<T::Part>,
        stop: &AtomicBool,
    ) {
        // The file's gzip count is taken once, from its first unit.
        done.gzip = offset == 0;
        let range = Counted {
            inner: RangeReader { file, at: offset }.take(len),
            read: Arc::clone(&self.read),
        };
        let gz = flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, range));
        self.lines(
            gz,
            false,
            None,
            seq_base,
            task,
            done,
            stop,
            &NoteSink::Later,
        );
    }

    /// Splits `reader` into lines (at most `max_line` bytes each, a longer
    /// one counted and skipped without being kept) and looks at each.
    /// `limit`: only lines starting before this many bytes.
    #[allow(clippy::too_many_arguments)]
    fn lines<T: Task>(
        &mut self,
        mut reader: impl Read,
        mut skip_first: bool,
        limit: Option<u64>,
        seq_base: u64,
        task: &T,
        done: &mut Done<T::Part>,
        stop: &AtomicBool,
        sink: &NoteSink<'_>,
    ) {
        let max = self.reading.max_line;
        let gz = done.gzip;
        // `buf[from..filled]` is unread; `offset` is where `buf[from]` is
        // in the unit's bytes.
        let (mut from, mut filled, mut offset) = (0usize, 0usize, 0u64);
        let mut skipping = false;
        let mut eof = false;
        let mut since_check = 0u32;
        loop {
            let chunk = self.buf.get(from..filled).unwrap_or_default();
            if let Some(nl) = memchr::memchr(b'\n', chunk) {
                let start = offset;
                let (line_from, line_to) = (from, from + nl);
                from += nl + 1;
                offset += nl as u64 + 1;
                if skip_first {
                    skip_first = false;
                    continue;
                }
                if skipping {
                    // The end of a line over the cap, counted when it passed it.
                    skipping = false;
                    continue;
                }
                if limit.is_some_and(|l| start >= l) {
                    return;
                }
                done.physical += 1;
                if line_to - line_from > max {
                    self.too_long(done, sink);
                    continue;
                }
                self.one(line_from, line_to, seq_base, task, done, sink);
                if task.full(&done.part) {
                    return;
                }
                since_check += 1;
                if since_check >= 4096 {
                    since_check = 0;
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                }
                continue;
            }
            // No line end in what is buffered.
            if eof {
                let rest = filled - from;
                if rest > 0 && !skip_first && !skipping && limit.is_none_or(|l| offset < l) {
                    done.physical += 1;
                    if rest > max {
                        self.too_long(done, sink);
                    } else {
                        self.one(from, filled, seq_base, task, done, sink);
                    }
                }
                return;
            }
            if limit.is_some_and(|l| offset >= l) && !skip_first {
                return;
            }
            let pending = filled - from;
            if (skipping || skip_first) && pending > 0 {
                // Inside a line to skip: drop what is buffered.
                offset += pending as u64;
                from = filled;
            } else if pending > max {
                // Past the cap: reported now, skipped to its end.
                done.physical += 1;
                self.too_long(done, sink);
                skipping = true;
                offset += pending as u64;
                from = filled;
            }
            // Keep the partial line, read more after it.
            self.buf.copy_within(from..filled, 0);
            filled -= from;
            from = 0;
            if filled == self.buf.len() {
                let grown = (self.buf.len() * 2).min(max.saturating_add(BUFFER));
                self.buf.resize(grown.max(self.buf.len() + 1), 0);
            }
            let into = self.buf.get_mut(filled..).unwrap_or_default();
            match reader.read(into) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let why = if gz && e.kind() == io::ErrorKind::UnexpectedEof {
                        "compressed data cut short".to_owned()
                    } else {
                        e.to_string()
                    };
                    done.stopped = Some((
                        done.physical,
                        format!("stopped reading after line \u{0}LINE\u{0}: {why}"),
                    ));
                    return;
                }
            }
        }
    }

    fn too_long<P>(&self, done: &mut Done<P>, sink: &NoteSink<'_>) {
        done.lines += 1;
        match sink {
            NoteSink::Now(notes, path) => {
                notes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .too_long(path, done.physical, self.reading.max_line);
            }
            NoteSink::Later => {
                done.too_long += 1;
                if done.notes.len() < 32 {
                    done.notes.push(Note::TooLong {
                        line: done.physical,
                    });
                }
            }
        }
    }

    /// One line within the cap.
    fn one<T: Task>(
        &mut self,
        from: usize,
        to: usize,
        seq_base: u64,
        task: &T,
        done: &mut Done<T::Part>,
        sink: &NoteSink<'_>,
    ) {
        let raw = self.buf.get(from..to).unwrap_or_default();
        let bytes = raw.strip_suffix(b"\r").unwrap_or(raw);
        if bytes.first() != Some(&b'{') && bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        done.lines += 1;
        let (text, invalid_utf8) = as_text(bytes);
        if let Some(at) = invalid_utf8 {
            match sink {
                NoteSink::Now(notes, path) => {
                    notes
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .invalid_utf8(path, done.physical, at);
                }
                NoteSink::Later => {
                    done.invalid_utf8 += 1;
                    if done.notes.len() < 32 {
                        done.notes.push(Note::InvalidUtf8 {
                            line: done.physical,
                            at,
                        });
                    }
                }
            }
        }
        if !self.reading.prefilter.may_match(&text) {
            return;
        }
        let seq = seq_base | done.physical;
        let full: Result<ParsedRecord, ParseError>;
        let record = if self.reading.renames.is_empty()
            && let Ok(lazy) = self.scanner.scan(&text)
        {
            RecordView::Lazy(lazy)
        } else {
            full = ParsedRecord::parse_renamed(&text, self.reading.renames);
            let Ok(r) = &full else {
                done.invalid_lines += 1;
                return;
            };
            RecordView::Full(r.as_map())
        };
        task.line(
            &mut done.part,
            &ScanLine {
                bytes,
                text: &text,
                record,
                seq,
            },
        );
    }
}

/// How far back `newest_record` reads each plain file.
const TAIL: u64 = 64 << 10;

/// The newest record's timestamp, for `--since-last`: looked for in the
/// last 64 KiB of each plain file and in the whole of the last compressed
/// one (files are written in time order, so the newest is at the end).
pub(crate) fn newest_record(found: &Found, max_line: usize) -> Option<jiff::Timestamp> {
    let mut newest: Option<jiff::Timestamp> = None;
    let mut scanner = Scanner::default();
    let mut keep = |line: &[u8], newest: &mut Option<jiff::Timestamp>| {
        let (text, _) = as_text(line);
        let t = match scanner.scan(&text) {
            Ok(r) => RecordView::Lazy(r).timestamp(),
            Err(_) => ParsedRecord::parse(&text)
                .ok()
                .and_then(|r| RecordView::Full(r.as_map()).timestamp()),
        };
        if let Some(t) = t
            && newest.is_none_or(|n| n < t)
        {
            *newest = Some(t);
        }
    };
    // Regular files only: a FIFO (or stdin) read here would lose its lines.
    let regular =
        |i: &crate::input::Input| !i.stdin && std::fs::metadata(&i.path).is_ok_and(|m| m.is_file());
    let last_gz = found.inputs.iter().rposition(|i| {
        regular(i) && crate::input::open_lines(&i.path, max_line).is_ok_and(|l| l.is_compressed())
    });
    for (i, input) in found.inputs.iter().enumerate() {
        if !regular(input) {
            continue;
        }
        let Ok(mut lines) = crate::input::open_lines(&input.path, max_line) else {
            continue;
        };
        if lines.is_compressed() {
            if Some(i) != last_gz {
                continue;
            }
            while let Some(Ok(line)) = lines.next_line() {
                keep(line.bytes(), &mut newest);
            }
            continue;
        }
        let Ok(mut file) = std::fs::File::open(&input.path) else {
            continue;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        let from = len.saturating_sub(TAIL);
        let mut tail = Vec::new();
        if std::io::Seek::seek(&mut file, io::SeekFrom::Start(from)).is_err()
            || file.take(TAIL).read_to_end(&mut tail).is_err()
        {
            continue;
        }
        let mut parts = tail.split(|&b| b == b'\n');
        if from > 0 {
            // Cut mid-line.
            parts.next();
        }
        for line in parts {
            keep(line.strip_suffix(b"\r").unwrap_or(line), &mut newest);
        }
    }
    newest
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    //! The block index end to end: the same answers with it as without it.
    use super::*;
    use crate::blocks::BlockTest;
    use crate::filter::{Condition, Filter};
    use proptest::prelude::*;
    use std::ops::ControlFlow;

    /// The lines a filter keeps, as a query prints them.
    struct Keep<'a>(&'a Filter);

    impl Task for Keep<'_> {
        type Part = Vec<Vec<u8>>;
        fn part(&self) -> Self::Part {
            Vec::new()
        }
        fn line(&self, part: &mut Self::Part, line: &ScanLine<'_>) {
            if self.0.matches(&line.record) {
                part.push(line.bytes.to_vec());
            }
        }
    }

    const NAMES: [&str; 5] = ["order_placed", "payment_failed", "cache_miss", "a_b", "z"];
    const LEVELS: [&str; 6] = ["INFO", "WARN", "ERROR", "DEBUG", "warning", "TRACE"];

    /// A record line: mostly the layer's envelope, some lines the index
    /// must not vouch for (escapes, odd timestamps, broken JSON, blank).
    fn line() -> impl Strategy<Value = String> {
        let record = (
            0u32..600,
            0usize..LEVELS.len(),
            0usize..NAMES.len(),
            any::<bool>(),
            0u8..20,
            proptest::option::of(0u8..20),
        )
            .prop_map(|(sec, level, name, error, trace, req)| {
                let req = req.map_or(String::new(), |r| format!(",\"request_id\":\"req_{r}\""));
                format!(
                    "{{\"timestamp\":\"2026-12-01T10:{:02}:{:02}.{:06}Z\",\"level\":\"{}\",\"event_name\":\"{}\",\"event_type\":\"{}\",\"trace_id\":\"t{trace}\"{req},\"metadata\":{{\"n\":{sec}}}}}",
                    sec / 60,
                    sec % 60,
                    (sec % 2) * 7,
                    LEVELS[level],
                    NAMES[name],
                    if error { "error" } else { "log" },
                )
            });
        prop_oneof![
            20 => record,
            1 => Just(String::new()),
            1 => Just("{\"event_name\":\"pay\\u006dent_failed\",\"level\":\"ERROR\"}".to_owned()),
            1 => Just("{\"timestamp\":\"2026-12-01T11:00:00+01:00\",\"event_name\":\"z\",\"level\":\"ERROR\",\"trace_id\":\"t3\"}".to_owned()),
            1 => Just("{\"event_name\":\"z\",\"event_name\":\"a_b\",\"level\":\"INFO\",\"level\":\"ERROR\"}".to_owned()),
            1 => Just("not json, payment_failed t3".to_owned()),
            1 => Just("{\"event_name\":\"a_b\",\"trace_id\":\"t\\\"1\"}".to_owned()),
        ]
    }

    fn filter() -> impl Strategy<Value = Filter> {
        (
            proptest::collection::vec(0usize..NAMES.len(), 0..3),
            proptest::option::of(any::<bool>()),
            proptest::option::of(0u8..5),
            proptest::option::of(0u32..620),
            proptest::option::of(0u32..620),
            proptest::option::of(0u8..22),
            any::<bool>(),
        )
            .prop_map(|(events, ty, level, since, until, id, cond)| {
                let at = |s: u32| {
                    format!("2026-12-01T10:{:02}:{:02}Z", s / 60 % 60, s % 60)
                        .parse()
                        .unwrap()
                };
                Filter {
                    events: events.into_iter().map(|i| NAMES[i].to_owned()).collect(),
                    types: ty
                        .map(|e| vec![if e { "error" } else { "log" }.to_owned()])
                        .unwrap_or_default(),
                    min_level: level,
                    since: since.map(at),
                    until: until.map(at),
                    ids: id
                        .map(|i| {
                            vec![if i < 20 {
                                format!("t{i}")
                            } else {
                                "req_3".to_owned()
                            }]
                        })
                        .unwrap_or_default(),
                    conditions: if cond {
                        vec![Condition::parse("n>100").unwrap()]
                    } else {
                        Vec::new()
                    },
                    ..Filter::default()
                }
            })
    }

    /// What a query over `dir` prints and counts, with or without its indexes.
    fn answer(dir: &Path, filter: &Filter, threads: usize) -> (Vec<Vec<u8>>, u64, u64) {
        let found = crate::input::collect(&[dir.to_owned()]).unwrap();
        let renames = eventlog::KeyRenames::default();
        let prefilter = filter.prefilter();
        let test = BlockTest::of(filter);
        let reading = Reading {
            renames: &renames,
            prefilter: &prefilter,
            max_line: 1 << 20,
            quiet: true,
            blocks: &test,
        };
        let mut kept = Vec::new();
        let read = scan(found, reading, threads, &Keep(filter), |mut part| {
            kept.append(&mut part);
            ControlFlow::Continue(())
        });
        (kept, read.lines, read.invalid_lines)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Random records in rotated, blocked files and a random filter:
        /// the same lines, in the same order, and the same counts, with
        /// the indexes and without them.
        #[test]
        fn indexed_and_unindexed_answers_are_the_same(
            files in proptest::collection::vec(proptest::collection::vec(line(), 0..80), 1..4),
            block in 64usize..2048,
            filter in filter(),
            threads in 1usize..4,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut skipped_any = false;
            for (i, lines) in files.iter().enumerate() {
                let text: String = lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect();
                let gz = dir.path().join(format!("app.20261201T10{i:02}00.000Z.jsonl.gz"));
                let mut out = Vec::new();
                let index = eventlog_appender::blocks::compress(text.as_bytes(), &mut out, block).unwrap();
                std::fs::write(&gz, &out).unwrap();
                std::fs::write(eventlog_appender::blocks::index_path(&gz), index.to_bytes()).unwrap();
                skipped_any |= index.blocks().iter().any(|b| b.is_known() && !BlockTest::of(&filter).may_match(b));
            }
            let with = answer(dir.path(), &filter, threads);
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                let p = entry.unwrap().path();
                if p.extension().is_some_and(|e| e == "idx") {
                    std::fs::remove_file(p).unwrap();
                }
            }
            let without = answer(dir.path(), &filter, threads);
            prop_assert_eq!(with, without);
            // Not every case skips; the property is only worth much if many do.
            let _ = skipped_any;
        }
    }
}
