//! `query --follow`: keeps reading a growing file, like `tail -f`, and
//! follows the appender's rotation: when the active-file symlink
//! (`logs/checkout.jsonl`) moves to a new file, the old one is read to its
//! end (the open handle still reads it after it is compressed and
//! removed), then the new one from its start.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::CliError;
use crate::filter::Filter;
use crate::input::{open_lines, parse_line};
use crate::keys::Renames;

/// How often a quiet file is looked at again.
const POLL: Duration = Duration::from_millis(100);

struct Followed {
    target: PathBuf,
    file: File,
    /// Bytes read so far.
    pos: u64,
    /// A line not yet ended by `\n`.
    partial: Vec<u8>,
}

impl Followed {
    fn open(path: &Path) -> Result<Self, CliError> {
        let target = std::fs::canonicalize(path).map_err(|e| CliError::io(path, e))?;
        let file = File::open(&target).map_err(|e| CliError::io(&target, e))?;
        Ok(Followed {
            target,
            file,
            pos: 0,
            partial: Vec::new(),
        })
    }

    /// Reads what was appended since the last call; calls `line` for each
    /// complete line. Returns whether anything was read.
    fn read_new<W: Write>(&mut self, sink: &mut Sink<'_, W>) -> Result<bool, CliError> {
        let len = self
            .file
            .metadata()
            .map_err(|e| CliError::io(&self.target, e))?
            .len();
        if len < self.pos {
            // Truncated in place: start over.
            self.pos = 0;
            self.partial.clear();
        }
        if len == self.pos {
            return Ok(false);
        }
        self.file
            .seek(SeekFrom::Start(self.pos))
            .map_err(|e| CliError::io(&self.target, e))?;
        let mut chunk = Vec::new();
        let read = (&mut self.file)
            .take(len - self.pos)
            .read_to_end(&mut chunk)
            .map_err(|e| CliError::io(&self.target, e))?;
        self.pos += read as u64;
        self.partial.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = self.partial[start..].iter().position(|&b| b == b'\n') {
            if !sink.line(&self.partial[start..start + end]) {
                return Ok(true);
            }
            start += end + 1;
        }
        self.partial.drain(..start);
        Ok(read > 0)
    }
}

/// The name a rotated file is known by, without a `.gz` of compression.
fn plain_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    Some(name.strip_suffix(".gz").unwrap_or(name).to_owned())
}

/// Files of the same directory and extension whose names sort strictly
/// between `old` and `new`: the appender's names carry a UTC timestamp, so
/// these were active between the two, oldest first. A file already
/// compressed is found under its `.gz` name.
fn rotated_between(old: &Path, new: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(old_name), Some(new_name)) =
        (new.parent(), plain_name(old), plain_name(new))
    else {
        return Vec::new();
    };
    let extension = Path::new(&old_name).extension().map(ToOwned::to_owned);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !p.is_symlink())
        .filter_map(|p| plain_name(&p).map(|n| (n, p)))
        .filter(|(n, _)| {
            *n > old_name
                && *n < new_name
                && Path::new(n).extension().map(ToOwned::to_owned) == extension
        })
        .collect();
    found.sort();
    // A plain file and its `.gz` (mid-compression): the plain one is whole.
    found.dedup_by(|b, a| a.0 == b.0);
    found.into_iter().map(|(_, p)| p).collect()
}

/// Every line of a rotated file, plain or gzip (by content). A file
/// compressed between listing and opening is read under its `.gz` name.
fn read_whole<W: Write>(path: &Path, sink: &mut Sink<'_, W>) {
    let opened = open_lines(path).or_else(|_| {
        let mut gz = path.as_os_str().to_owned();
        gz.push(".gz");
        open_lines(Path::new(&gz))
    });
    let Ok((reader, _)) = opened else {
        return;
    };
    for line in std::io::BufRead::split(reader, b'\n') {
        let Ok(line) = line else { return };
        if !sink.line(&line) {
            return;
        }
    }
}

/// Where matching lines go.
struct Sink<'a, W> {
    out: &'a mut W,
    renames: &'a Renames,
    filter: &'a Filter,
    limit: Option<u64>,
    printed: u64,
    failed: Option<std::io::Error>,
}

impl<W: Write> Sink<'_, W> {
    /// Prints `bytes` if it is a matching record; whether to go on.
    fn line(&mut self, bytes: &[u8]) -> bool {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches('\r');
        if let Ok(record) = parse_line(text, self.renames)
            && self.filter.matches(&record)
        {
            // Flushed at once: someone is watching.
            if let Err(e) = writeln!(self.out, "{text}").and_then(|()| self.out.flush()) {
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

    fn result(&mut self) -> Result<(), CliError> {
        self.failed
            .take()
            .map_or(Ok(()), |e| Err(CliError::Output(e)))
    }
}

/// Prints every line of `path` that matches, then every new one as it is
/// written, until `limit` matches were printed or stdout closes.
pub(crate) fn follow(
    out: &mut impl Write,
    path: &Path,
    renames: &Renames,
    filter: &Filter,
    limit: Option<u64>,
) -> Result<(), CliError> {
    let mut current = Followed::open(path)?;
    let mut sink = Sink {
        out,
        renames,
        filter,
        limit,
        printed: 0,
        failed: None,
    };
    loop {
        let progressed = current.read_new(&mut sink)?;
        if sink.done() {
            return sink.result();
        }
        if progressed {
            continue;
        }
        // Quiet: has the name moved to another file (rotation)?
        if let Ok(target) = std::fs::canonicalize(path)
            && target != current.target
        {
            // Whatever the old file got last, the files rotated since
            // (several, when it rotates faster than we poll), then the new one.
            current.read_new(&mut sink)?;
            for between in rotated_between(&current.target, &target) {
                if sink.done() {
                    break;
                }
                read_whole(&between, &mut sink);
            }
            if sink.done() {
                return sink.result();
            }
            current = Followed::open(path)?;
            continue;
        }
        std::thread::sleep(POLL);
    }
}
