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
//! increases, so name order is write order, and a plain file and its
//! `.gz` are one file.
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

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::filter::{Filter, Prefilter};
use crate::input::{Lines, Next, Notes, as_text, gz_of, parse_line, reader_of, trim_cr};
use crate::keys::Renames;
use crate::outcome::{CliError, Outcome};

/// How often a quiet file and its directory are looked at again.
const POLL: Duration = Duration::from_millis(100);
/// Files of the queue held open at once (the rest are opened in turn).
const MAX_HELD: usize = 256;
/// Lines read from the current file before the directory may be looked at.
const BATCH: usize = 4096;
/// Listings of the directory merged when new files appear (see `Follower::look`).
const LISTINGS: usize = 4;
/// Length of the appender's stamp, `20261125T085007.123Z`.
const STAMP_LEN: usize = 20;

/// A file's place in the appender's sequence: its stamp (fixed width, so
/// text order is time order) and its collision counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    stamp: String,
    n: u32,
}

/// `YYYYMMDDTHHMMSS.mmmZ`.
fn is_stamp(s: &str) -> bool {
    s.len() == STAMP_LEN
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'.',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

/// `<stamp>` or `<stamp>.<n>`.
fn parse_key(s: &str) -> Option<Key> {
    let stamp = s.get(..STAMP_LEN)?;
    let tail = s.get(STAMP_LEN..)?;
    let n = if tail.is_empty() {
        0
    } else {
        let digits = tail.strip_prefix('.')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()?
    };
    is_stamp(stamp).then(|| Key {
        stamp: stamp.to_owned(),
        n,
    })
}

/// The files of one rolling log: `<dir>/<prefix>.<stamp>[.<n>].<suffix>[.gz]`.
#[derive(Debug)]
struct Family {
    dir: PathBuf,
    prefix: String,
    suffix: String,
}

impl Family {
    /// The family of a file the appender named, its key and its plain
    /// name; `None` for any other name.
    fn of(file: &Path) -> Option<(Family, Key, PathBuf)> {
        let dir = file.parent()?;
        let name = file.file_name()?.to_str()?;
        let plain = name.strip_suffix(".gz").unwrap_or(name);
        // The prefix may hold dots: the stamp is the first part after a dot
        // that parses as one.
        for (dot, _) in plain.match_indices('.') {
            let (Some(prefix), Some(rest)) = (plain.get(..dot), plain.get(dot + 1..)) else {
                continue;
            };
            let Some(after) = rest.get(STAMP_LEN..).and_then(|a| a.strip_prefix('.')) else {
                continue;
            };
            if prefix.is_empty() || !rest.get(..STAMP_LEN).is_some_and(is_stamp) {
                continue;
            }
            let suffix = match after.split_once('.') {
                Some((digits, suffix))
                    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    suffix
                }
                _ => after,
            };
            if suffix.is_empty() {
                continue;
            }
            let family = Family {
                dir: dir.to_owned(),
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            };
            let key = family.key_of(OsStr::new(plain))?.0;
            return Some((family, key, dir.join(plain)));
        }
        None
    }

    /// The key of a name of this family, and its plain name (without `.gz`).
    fn key_of<'n>(&self, name: &'n OsStr) -> Option<(Key, &'n str)> {
        let name = name.to_str()?;
        let plain = name.strip_suffix(".gz").unwrap_or(name);
        let key = plain
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('.')?
            .strip_suffix(self.suffix.as_str())?
            .strip_suffix('.')?;
        Some((parse_key(key)?, plain))
    }

    /// The family's files now, by key, under their plain names.
    fn list(&self) -> io::Result<BTreeMap<Key, PathBuf>> {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some((key, plain)) = self.key_of(&name) {
                files.insert(key, self.dir.join(plain));
            }
        }
        Ok(files)
    }
}

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
    lines: Lines<BufReader<Counted>>,
}

impl Current {
    fn new(file: File, shown: PathBuf, cap: usize) -> io::Result<Current> {
        let id = identity(&file.metadata()?);
        Ok(Current {
            shown,
            id,
            lines: Lines::new(BufReader::new(Counted { file, pos: 0 }), cap),
        })
    }
}

/// Where matching lines go.
struct Sink<'a, W> {
    out: &'a mut W,
    renames: &'a Renames,
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
        let bytes = trim_cr(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        let (text, invalid) = as_text(bytes);
        if let Some(at) = invalid {
            self.notes.invalid_utf8(file, number, at);
        }
        if self.prefilter.may_match(&text)
            && let Ok(record) = parse_line(&text, self.renames)
            && self.filter.matches(&record)
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
    family: Option<Family>,
    current: Option<Current>,
    /// Newer files, oldest first.
    queue: BTreeMap<Key, Queued>,
    /// The newest file known, under its plain name.
    newest: Option<(Key, PathBuf)>,
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
                Ok(Next::Line(n, bytes)) => {
                    if !self.sink.line(&cur.shown, n, bytes) {
                        return false;
                    }
                }
                Ok(Next::TooLong(n)) => self.sink.notes.too_long(&cur.shown, n, self.cap),
                Ok(Next::End) => {
                    let counted = cur.lines.reader().get_ref();
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
                    lines: Lines::new(BufReader::new(Counted { file, pos: 0 }), self.cap),
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
            && let Some(Next::Line(n, bytes)) = cur.lines.rest()
        {
            self.sink.line(&cur.shown, n, bytes);
        }
    }

    /// Every line of a compressed (so complete) file.
    fn read_whole(&mut self, file: File, shown: &Path) {
        let lines = reader_of(file).map(|(reader, _)| Lines::new(reader, self.cap));
        let mut lines = match lines {
            Ok(lines) => lines,
            Err(e) => return self.gap(&format!("{}: cannot read: {e}", shown.display())),
        };
        loop {
            match lines.next() {
                Ok(Next::Line(n, bytes)) => {
                    if !self.sink.line(shown, n, bytes) {
                        return;
                    }
                }
                Ok(Next::TooLong(n)) => self.sink.notes.too_long(shown, n, self.cap),
                Ok(Next::End) => break,
                Err(e) => {
                    let number = lines.number();
                    return self.gap(&format!(
                        "{}: stopped reading after line {number}: {e}",
                        shown.display()
                    ));
                }
            }
        }
        if let Some(Next::Line(n, bytes)) = lines.rest() {
            self.sink.line(shown, n, bytes);
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
        let is_new =
            |k: &Key, newest: &Option<(Key, PathBuf)>| newest.as_ref().is_none_or(|(n, _)| k > n);
        // The directory unreadable for a moment: the next look tries again.
        let Ok(mut listing) = family.list() else {
            return;
        };
        // Only files up to the newest of this first listing are taken now:
        // each was created before that one, so it existed when the first
        // listing ended. A name created or removed while the directory is
        // read may be missing from that listing (POSIX leaves it
        // unspecified; ext4 does skip some), but a file's names change at
        // most twice more before retention (compressed to `.gz`, plain
        // removed), so one of the next three listings shows it. Newer files
        // wait for the next look.
        let Some(bound) = listing
            .keys()
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
        let fresh: Vec<(Key, PathBuf)> = listing
            .into_iter()
            .filter(|(k, _)| is_new(k, &self.newest) && *k <= bound)
            .collect();
        // Retention deletes oldest first: a newer file can only be gone
        // unseen if the newest one known is gone too.
        if let Some((_, plain)) = &self.newest
            && !plain.exists()
            && !gz_of(plain).exists()
        {
            let first = fresh
                .first()
                .map(|(_, p)| p.display().to_string())
                .unwrap_or_default();
            let message = format!(
                "files between {} and {first} may have been deleted (by retention?) before they were found: their records are missing",
                plain.display()
            );
            self.gap(&message);
        }
        for (key, plain) in fresh {
            self.newest = Some((key.clone(), plain.clone()));
            self.queue.insert(
                key,
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
    pub(crate) renames: &'a Renames,
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
    if let Some((family, key, plain)) = Family::of(&target) {
        follower.family = Some(family);
        follower.newest = Some((key, plain.clone()));
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
    follower.sink.notes.finish();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appender_names_are_a_family() {
        let (f, key, plain) =
            Family::of(Path::new("/l/my.app.20261125T085007.123Z.jsonl")).unwrap();
        assert_eq!((f.prefix.as_str(), f.suffix.as_str()), ("my.app", "jsonl"));
        assert_eq!(key.stamp, "20261125T085007.123Z");
        assert_eq!(plain, Path::new("/l/my.app.20261125T085007.123Z.jsonl"));
        let of = |n: &str| f.key_of(OsStr::new(n)).map(|(k, p)| (k.n, p.to_owned()));
        assert_eq!(
            of("my.app.20261125T085007.124Z.002.jsonl.gz"),
            Some((2, "my.app.20261125T085007.124Z.002.jsonl".to_owned()))
        );
        for foreign in [
            "my.app.jsonl",
            "my.app.20261125T085007.124Z.jsonl.gz.tmp",
            "other.20261125T085007.124Z.jsonl",
            "my.app.20261125T085007.124Z.log",
            "my.app.2026112xT085007.124Z.jsonl",
            "my.app.20261125T085007.124Z..jsonl",
            ".my.app.jsonl.link",
        ] {
            assert_eq!(of(foreign), None, "{foreign}");
        }
        let (_, key, plain) = Family::of(Path::new("d/x.20261125T085007.123Z.007.log.gz")).unwrap();
        assert_eq!(key.n, 7);
        assert_eq!(plain, Path::new("d/x.20261125T085007.123Z.007.log"));
        for other in [
            "app.log",
            "x.20261125T085007.123Z",
            "20261125T085007.123Z.jsonl",
            "é",
        ] {
            assert!(Family::of(Path::new(other)).is_none(), "{other}");
        }
    }

    proptest::proptest! {
        /// Any name: parsed or not, never a panic. An appender name with any
        /// prefix (dots and all of Unicode) is a family whose key
        /// round-trips, compressed or not.
        #[test]
        fn any_name_parses_or_not(
            name in "\\PC{0,60}",
            prefix in "[^/\\x00]{1,30}",
            stamp in "[0-9]{8}T[0-9]{6}\\.[0-9]{3}Z",
        ) {
            let _ = Family::of(Path::new(&name));
            for built in [format!("{prefix}.{stamp}.jsonl"), format!("{prefix}.{stamp}.jsonl.gz")] {
                let file = Path::new(&built);
                let (family, key, _) = Family::of(file).expect("an appender name");
                let again = family.key_of(file.file_name().unwrap()).map(|(k, _)| k);
                proptest::prop_assert_eq!(again, Some(key));
            }
        }
    }
}
