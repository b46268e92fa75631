//! `query --follow`: keeps reading a growing file, like `tail -f`, across
//! the appender's rotations, however fast they run.
//!
//! ```text
//!  logs/checkout.jsonl ─▶ checkout.<stamp₁>.jsonl   ◀── current: open handle + lines read
//!                          checkout.<stamp₂>.jsonl.gz ◀┐ queue: newer files, found by listing
//!                          checkout.<stamp₃>.jsonl    ◀┘ the directory, opened at once
//! ```
//!
//! Files are tracked by their open handle (their identity: device and
//! inode), never reopened by name: a file renamed, compressed or deleted
//! after it was opened is still read to its end through the handle. Names
//! are used only to find files and to order them: the appender names each
//! file `<prefix>.<stamp>[.<n>].<suffix>[.gz]` with a UTC stamp that only
//! increases, and its `read::LogFiles` lists them in write order, a plain
//! file and its `.gz` being one file (`read::LogFile` compares by place).
//!
//! The current file is complete once a newer one exists (the appender
//! writes its last line before it creates the next), so it is read to its
//! end *after* the newer file is seen, then the queue is read oldest
//! first: plain files through their handles, compressed ones decompressed
//! whole. Every file the directory listing shows is opened as soon as it
//! is seen (up to [`MAX_HELD`] at a time), so retention deleting it later
//! takes nothing away.
//!
//! What follow cannot promise: a file created, rotated, compressed *and*
//! deleted by retention between two looks at the directory (the follower
//! stalled, or retention keeps fewer files than rotate in
//! [`POLL`]) was never seen, so its lines cannot be printed. Such a gap is
//! detected, not silent: retention deletes oldest first, so a newer file
//! can only be gone if the newest file known is gone too; that is checked
//! at every look that finds new files, and stderr names where the gap is.
//! A file listed but deleted before it could be opened is named too. Any
//! gap makes the exit status 2. (Whether a file existed in such a gap is
//! unknowable, so a warning may be a false alarm; a loss is never silent.)
//!
//! A file not named by the appender (`app.log` rotated by logrotate) is
//! followed like `tail -F`: when its name refers to another file, the old
//! one is read to its end and the new one from its start; a file
//! truncated in place is read again from its start.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eventlog::{KeyRenames, ParsedRecord};
use eventlog_appender::read::{FileLines, LineReader, LogFile, LogFiles, Next, ReadError};

use crate::filter::{Filter, Prefilter};
use crate::input::{Notes, as_text, gz_of, stopped};
use crate::outcome::{CliError, Outcome};

/// How often a quiet file and its directory are looked at again.
const POLL: Duration = Duration::from_millis(100);
/// Files of the queue held open at once (the rest are opened in turn).
const MAX_HELD: usize = 256;
/// Lines read from the current file before the directory may be looked at.
const BATCH: usize = 4096;
/// Listings of the directory merged when new files appear (see `Follower::look`).
const LISTINGS: usize = 4;

/// A file opened for reading, told by content.
#[derive(Debug)]
enum Source {
    Plain(File),
    /// Complete: the appender renames a `.gz` into place once it is whole.
    Gzip(File),
}

/// Opens `path`, gzip or not by its first bytes.
fn open_source(path: &Path) -> io::Result<Source> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while let Some(rest) = magic.get_mut(got..)
        && !rest.is_empty()
    {
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(if got == 2 && magic == [0x1f, 0x8b] {
        Source::Gzip(file)
    } else {
        Source::Plain(file)
    })
}

/// Opens a file of the family under its plain name, or compressed.
fn open_either(plain: &Path) -> io::Result<(Source, PathBuf)> {
    match open_source(plain) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let gz = gz_of(plain);
            open_source(&gz).map(|s| (s, gz))
        }
        other => other.map(|s| (s, plain.to_owned())),
    }
}

/// A file handle that counts the bytes read through it.
#[derive(Debug)]
struct Counted {
    file: File,
    pos: u64,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Device and inode: which file a handle or a name is.
#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.len(), 0)
}

/// The plain file being read as it grows.
struct Current {
    shown: PathBuf,
    id: (u64, u64),
    lines: LineReader<BufReader<Counted>>,
}

impl Current {
    fn new(file: File, shown: PathBuf, cap: usize) -> io::Result<Current> {
        let id = identity(&file.metadata()?);
        Ok(Current {
            shown,
            id,
            lines: LineReader::new(BufReader::new(Counted { file, pos: 0 }), cap),
        })
    }
}

/// Where matching lines go.
struct Sink<'a, W> {
    out: &'a mut W,
    renames: &'a KeyRenames,
    filter: &'a Filter,
    prefilter: Prefilter,
    limit: Option<u64>,
    printed: u64,
    failed: Option<io::Error>,
    notes: Notes,
}

impl<W: Write> Sink<'_, W> {
    /// Prints `bytes` (as they are) if it is a matching record; whether to go on.
    fn line(&mut self, file: &Path, number: u64, bytes: &[u8]) -> bool {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        let (text, invalid) = as_text(bytes);
        if let Some(at) = invalid {
            self.notes.invalid_utf8(file, number, at);
        }
        if self.prefilter.may_match(&text)
            && let Ok(record) = ParsedRecord::parse_renamed(&text, self.renames)
            && self
                .filter
                .matches(&crate::view::RecordView::Full(record.as_map()))
        {
            // Flushed at once: someone is watching.
            let written = self
                .out
                .write_all(bytes)
                .and_then(|()| self.out.write_all(b"\n"))
                .and_then(|()| self.out.flush());
            if let Err(e) = written {
                self.failed = Some(e);
                return false;
            }
            self.printed += 1;
        }
        !self.done()
    }

    fn done(&self) -> bool {
        self.failed.is_some() || self.limit.is_some_and(|l| self.printed >= l)
    }
}

/// A file found newer than the current one, held open when it could be.
#[derive(Debug)]
struct Queued {
    plain: PathBuf,
    opened: Option<(Source, PathBuf)>,
}

struct Follower<'a, W> {
    sink: Sink<'a, W>,
    cap: usize,
    /// As given (for `tail -F` mode).
    path: PathBuf,
    family: Option<LogFiles>,
    current: Option<Current>,
    /// Newer files, oldest first.
    queue: BTreeMap<LogFile, Queued>,
    /// The newest file known.
    newest: Option<LogFile>,
    last_look: Instant,
    /// Gaps reported: files or parts of files whose lines are missing.
    gaps: u64,
}

impl<W: Write> Follower<'_, W> {
    fn gap(&mut self, message: &str) {
        self.gaps += 1;
        eprintln!("eventlog: --follow: {message}");
    }

    /// Reads lines of the current file; whether it reached the end of
    /// what the file holds now.
    fn read_current(&mut self) -> bool {
        let Some(cur) = &mut self.current else {
            return true;
        };
        for _ in 0..BATCH {
            match cur.lines.next() {
                Ok(Next::Line { number, bytes }) => {
                    if !self.sink.line(&cur.shown, number, bytes) {
                        return false;
                    }
                }
                Ok(Next::TooLong { number }) => {
                    self.sink.notes.too_long(&cur.shown, number, self.cap);
                }
                Ok(Next::End) => {
                    let counted = cur.lines.get_ref().get_ref();
                    let truncated = counted.file.metadata().is_ok_and(|m| m.len() < counted.pos);
                    if truncated {
                        self.restart_current();
                        return false;
                    }
                    return true;
                }
                Err(e) => {
                    let message = format!(
                        "{}: stopped reading after line {}: {e}",
                        cur.shown.display(),
                        cur.lines.number()
                    );
                    self.current = None;
                    self.gap(&message);
                    return true;
                }
            }
        }
        false
    }

    /// The current file shrank (truncated in place): read it from its start.
    fn restart_current(&mut self) {
        let Some(cur) = self.current.take() else {
            return;
        };
        eprintln!(
            "eventlog: --follow: {} was truncated: reading it from its start",
            cur.shown.display()
        );
        let mut file = cur.lines.into_inner().into_inner().file;
        match file.seek(SeekFrom::Start(0)) {
            Ok(_) => {
                self.current = Some(Current {
                    shown: cur.shown,
                    id: cur.id,
                    lines: LineReader::new(BufReader::new(Counted { file, pos: 0 }), self.cap),
                });
            }
            Err(e) => self.gap(&format!(
                "{}: cannot read it again: {e}",
                cur.shown.display()
            )),
        }
    }

    /// The current file is complete: its last line, if it has no newline.
    fn finish_current(&mut self) {
        if let Some(mut cur) = self.current.take()
            && let Some(Next::Line { number, bytes }) = cur.lines.rest()
        {
            self.sink.line(&cur.shown, number, bytes);
        }
    }

    /// Every line of a compressed (so complete) file.
    fn read_whole(&mut self, file: File, shown: &Path) {
        let mut lines = match FileLines::from_file(file, shown) {
            Ok(lines) => lines.max_line_bytes(self.cap),
            Err(e) => return self.gap(&format!("{}: cannot read: {e}", shown.display())),
        };
        while let Some(item) = lines.next_line() {
            match item {
                Ok(line) => {
                    if !self.sink.line(shown, line.number(), line.bytes()) {
                        return;
                    }
                }
                Err(ReadError::TooLong { line, .. }) => {
                    self.sink.notes.too_long(shown, line, self.cap);
                }
                Err(e) => return self.gap(&format!("{}: {}", shown.display(), stopped(&e))),
            }
        }
    }

    /// Moves on to the oldest queued file: the next plain one becomes the
    /// current file, compressed ones on the way are read whole.
    fn advance(&mut self) {
        self.finish_current();
        while !self.sink.done()
            && let Some((_, queued)) = self.queue.pop_first()
        {
            let opened = match queued.opened {
                Some(opened) => Ok(opened),
                None => open_either(&queued.plain),
            };
            match opened {
                Ok((Source::Plain(file), shown)) => match Current::new(file, shown, self.cap) {
                    Ok(current) => {
                        self.current = Some(current);
                        break;
                    }
                    Err(e) => self.gap(&format!("{}: cannot read: {e}", queued.plain.display())),
                },
                Ok((Source::Gzip(file), shown)) => self.read_whole(file, &shown),
                Err(e) => self.lost(&queued.plain, &e),
            }
        }
        self.hold();
    }

    fn lost(&mut self, plain: &Path, e: &io::Error) {
        let why = if e.kind() == io::ErrorKind::NotFound {
            "deleted (by retention?) before it could be opened".to_owned()
        } else {
            format!("cannot be opened: {e}")
        };
        self.gap(&format!(
            "{} was {why}: its records are missing",
            plain.display()
        ));
    }

    /// Opens queued files not held yet, up to [`MAX_HELD`].
    fn hold(&mut self) {
        let mut held = self.queue.values().filter(|q| q.opened.is_some()).count();
        let mut gone = Vec::new();
        for (key, queued) in &mut self.queue {
            if held >= MAX_HELD {
                break;
            }
            if queued.opened.is_none() {
                match open_either(&queued.plain) {
                    Ok(opened) => {
                        queued.opened = Some(opened);
                        held += 1;
                    }
                    Err(e) => gone.push((key.clone(), e)),
                }
            }
        }
        for (key, e) in gone {
            if let Some(queued) = self.queue.remove(&key) {
                self.lost(&queued.plain, &e);
            }
        }
    }

    /// Looks for files newer than the newest known and queues them.
    fn look(&mut self) {
        self.last_look = Instant::now();
        let Some(family) = &self.family else {
            return self.look_at_path();
        };
        let is_new = |k: &LogFile, newest: &Option<LogFile>| newest.as_ref().is_none_or(|n| k > n);
        // The directory unreadable for a moment: the next look tries again.
        let Ok(first) = family.list() else {
            return;
        };
        let mut listing: BTreeSet<LogFile> = first.into_iter().collect();
        // Only files up to the newest of this first listing are taken now:
        // each was created before that one, so it existed when the first
        // listing ended. A name created or removed while the directory is
        // read may be missing from that listing (POSIX leaves it
        // unspecified; ext4 does skip some), but a file's names change at
        // most twice more before retention (compressed to `.gz`, plain
        // removed), so one of the next three listings shows it. Newer files
        // wait for the next look.
        let Some(bound) = listing
            .iter()
            .next_back()
            .filter(|k| is_new(k, &self.newest))
            .cloned()
        else {
            return;
        };
        for _ in 1..LISTINGS {
            if let Ok(again) = family.list() {
                listing.extend(again);
            }
        }
        let fresh: Vec<LogFile> = listing
            .into_iter()
            .filter(|k| is_new(k, &self.newest) && *k <= bound)
            .collect();
        // Retention deletes oldest first: a newer file can only be gone
        // unseen if the newest one known is gone too.
        if let Some(newest) = &self.newest
            && let plain = newest.plain_path()
            && !plain.exists()
            && !gz_of(plain).exists()
        {
            let first = fresh
                .first()
                .map(|f| f.plain_path().display().to_string())
                .unwrap_or_default();
            let message = format!(
                "files between {} and {first} may have been deleted (by retention?) before they were found: their records are missing",
                plain.display()
            );
            self.gap(&message);
        }
        for file in fresh {
            self.newest = Some(file.clone());
            let plain = file.plain_path().to_owned();
            self.queue.insert(
                file,
                Queued {
                    plain,
                    opened: None,
                },
            );
        }
        self.hold();
    }

    /// `tail -F` for a name the appender did not give: has it moved to
    /// another file?
    fn look_at_path(&mut self) {
        // Not there for a moment (being rotated): the next look tries again.
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return;
        };
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.id == identity(&meta))
        {
            return;
        }
        // The old file is read to its end first.
        while !self.read_current() && !self.sink.done() {}
        self.finish_current();
        match File::open(&self.path).and_then(|f| Current::new(f, self.path.clone(), self.cap)) {
            Ok(current) => self.current = Some(current),
            Err(e) => eprintln!(
                "eventlog: --follow: {}: cannot open the new file: {e}",
                self.path.display()
            ),
        }
    }

    fn run(&mut self) {
        loop {
            let at_end = self.read_current();
            if self.sink.done() {
                return;
            }
            // Queued files were found after the current file's last write,
            // and it has been read to its end since: it is complete.
            if at_end && !self.queue.is_empty() {
                self.advance();
                continue;
            }
            if !at_end && self.last_look.elapsed() < POLL {
                continue;
            }
            self.look();
            if at_end && self.queue.is_empty() {
                std::thread::sleep(POLL);
            }
        }
    }
}

/// How `follow` reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Following<'a> {
    pub(crate) renames: &'a KeyRenames,
    pub(crate) filter: &'a Filter,
    pub(crate) limit: Option<u64>,
    pub(crate) max_line: usize,
}

/// Prints every line of `path` that matches, then every new one as it is
/// written, across rotations, until `limit` matches were printed or stdout
/// closes. [`Outcome::Incomplete`] if any records were missed (each gap is
/// named on stderr).
pub(crate) fn follow(
    out: &mut impl Write,
    path: &Path,
    how: Following<'_>,
) -> Result<Outcome, CliError> {
    let meta = std::fs::metadata(path).map_err(|e| CliError::io(path, e))?;
    if !meta.is_file() {
        return Err(CliError::BadArgument {
            arg: "--follow",
            value: path.display().to_string(),
            expected: "a regular file: the active file or its symlink, such as logs/checkout.jsonl (to read a pipe to its end, leave out --follow)",
        });
    }
    let target = std::fs::canonicalize(path).map_err(|e| CliError::io(path, e))?;
    let mut follower = Follower {
        sink: Sink {
            out,
            renames: how.renames,
            filter: how.filter,
            prefilter: how.filter.prefilter(),
            limit: how.limit,
            printed: 0,
            failed: None,
            notes: Notes::default(),
        },
        cap: how.max_line,
        path: path.to_owned(),
        family: None,
        current: None,
        queue: BTreeMap::new(),
        newest: None,
        last_look: Instant::now(),
        gaps: 0,
    };
    if let Some((family, file)) = LogFiles::of(&target) {
        let plain = file.plain_path().to_owned();
        follower.family = Some(family);
        follower.newest = Some(file);
        match open_either(&plain) {
            Ok((Source::Plain(file), shown)) => {
                follower.current = Some(
                    Current::new(file, shown, how.max_line).map_err(|e| CliError::io(&plain, e))?,
                );
            }
            Ok((Source::Gzip(file), shown)) => follower.read_whole(file, &shown),
            Err(e) if e.kind() == io::ErrorKind::NotFound => follower.lost(&plain, &e),
            Err(e) => return Err(CliError::io(&plain, e)),
        }
    } else {
        let file = File::open(&target).map_err(|e| CliError::io(path, e))?;
        follower.current = Some(
            Current::new(file, path.to_owned(), how.max_line).map_err(|e| CliError::io(path, e))?,
        );
    }
    follower.run();
    follower.sink.notes.finish(how.max_line);
    if let Some(e) = follower.sink.failed.take() {
        return Err(CliError::Output(e));
    }
    if follower.gaps > 0 {
        eprintln!(
            "eventlog: --follow: {} gaps: some records were not printed (see above)",
            follower.gaps
        );
        return Ok(Outcome::Incomplete);
    }
    Ok(Outcome::Done)
}
