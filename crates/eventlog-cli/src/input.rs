//! Finding the files and reading their lines: plain or gzip-compressed
//! (told apart by their first bytes, not their names), directories
//! expanded, every file read once even when a symlink (the appender's
//! active `checkout.jsonl`) points at another one given.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::CliError;
use crate::filter::Prefilter;
use crate::keys::Renames;

/// One input file.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// As the user will recognise it (the path given, or found in a directory).
    pub(crate) path: PathBuf,
}

/// Whether a file found in a directory holds event lines by its name:
/// `*.jsonl`, `*.jsonl.gz`, `*.json`, `*.log` and their `.gz` forms.
fn looks_like_events(name: &str) -> bool {
    let path = Path::new(name);
    let ext = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
    };
    let inner = match ext(path).as_deref() {
        Some("gz") => path.file_stem().map(Path::new),
        _ => Some(path),
    };
    inner
        .and_then(ext)
        .is_some_and(|e| matches!(e.as_str(), "jsonl" | "json" | "log"))
}

/// A file's lines, decompressed when its first bytes are gzip's magic
/// (whatever its name); also says whether it was.
pub(crate) fn open_lines(path: &Path) -> std::io::Result<(Box<dyn BufRead>, bool)> {
    let mut reader = BufReader::new(File::open(path)?);
    let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        // Multi-member: concatenated gzip files are one stream.
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        (Box::new(BufReader::new(decoder)), true)
    } else {
        (Box::new(reader), false)
    })
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

/// The files to read, in order: each path as given; a directory's event
/// files sorted by name (rotated files carry a UTC timestamp in their
/// names, so this is oldest first). A file reached twice (through a
/// symlink, or given twice) is read once.
pub(crate) fn collect(paths: &[PathBuf]) -> Result<Vec<Input>, CliError> {
    let mut found: Vec<PathBuf> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| CliError::io(path, e))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| CliError::io(path, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(looks_like_events)
                        && p.is_file()
                })
                .collect();
            entries.sort();
            found.extend(entries);
        } else {
            found.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut inputs = Vec::new();
    for path in found {
        let real = std::fs::canonicalize(&path).map_err(|e| CliError::io(&path, e))?;
        if !seen.insert(real) {
            continue;
        }
        inputs.push(Input { path });
    }
    if inputs.is_empty() {
        return Err(CliError::NoInput(
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    Ok(inputs)
}

/// A line as read: its text, and the record if it parses as a JSON object.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    pub(crate) file: &'a Path,
    /// 1-based.
    pub(crate) number: u64,
    pub(crate) text: &'a str,
    pub(crate) record: Result<Map<String, Value>, String>,
}

/// What reading cost: lines, bytes, files that could not be read to the end.
#[derive(Debug, Default)]
pub(crate) struct ReadSummary {
    pub(crate) files: usize,
    pub(crate) gzip_files: usize,
    pub(crate) lines: u64,
    pub(crate) invalid_lines: u64,
    /// Files that stopped early (a truncated gzip stream, an I/O error),
    /// with the reason; their lines up to there were read.
    pub(crate) unreadable: Vec<(PathBuf, String)>,
}

/// How lines are read: renamed keys, and which lines are worth parsing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub(crate) renames: &'a Renames,
    pub(crate) prefilter: &'a Prefilter,
}

/// Calls `each` for every non-empty line of every input that passes the
/// prefilter, in order.
pub(crate) fn for_each_line(
    inputs: &[Input],
    reading: Reading<'_>,
    mut each: impl FnMut(Line<'_>),
) -> ReadSummary {
    let mut summary = ReadSummary::default();
    for input in inputs {
        summary.files += 1;
        let reader = match open_lines(&input.path) {
            Ok((reader, gzip)) => {
                summary.gzip_files += usize::from(gzip);
                reader
            }
            Err(e) => {
                summary.unreadable.push((input.path.clone(), e.to_string()));
                continue;
            }
        };
        read_lines(input, reader, reading, &mut summary, &mut each);
    }
    summary
}

fn read_lines(
    input: &Input,
    mut reader: Box<dyn BufRead>,
    reading: Reading<'_>,
    summary: &mut ReadSummary,
    each: &mut impl FnMut(Line<'_>),
) {
    let mut buf = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                summary.unreadable.push((input.path.clone(), e.to_string()));
                break;
            }
        }
        number += 1;
        // Invalid UTF-8 is a broken line, not a reason to stop reading.
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        if !reading.prefilter.may_match(text) {
            continue;
        }
        let record = parse_line(text, reading.renames);
        if record.is_err() {
            summary.invalid_lines += 1;
        }
        each(Line {
            file: &input.path,
            number,
            text,
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
        for yes in [
            "checkout.jsonl",
            "checkout.20261125T085007.123Z.jsonl.gz",
            "app.log",
            "x.json",
        ] {
            assert!(looks_like_events(yes), "{yes}");
        }
        for no in ["notes.txt", "checkout.jsonl.tmp", "image.gz"] {
            assert!(!looks_like_events(no), "{no}");
        }
    }
}
