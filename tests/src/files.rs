//! Reading an appender's files back, the way a test checks what reached
//! the disk: rotated `.gz` files decompressed, the stable-name symlink
//! skipped (it points at the active file, which is read once, by its own
//! name), every file's text whole.
//!
//! The one reader for the test code of the workspace (the appender's
//! tests, the end-to-end tests), a thin layer over the library reader,
//! `eventlog_appender::read`, that panics instead of returning errors.
//!
//! Which files there are is decided here, independently of the appender:
//! [`appender_files`] knows the file layout the appender documents, not
//! its naming code, so a test of the naming checks literal file names
//! rather than agreeing with the library.
//!
//! ```
//! use std::io::Write;
//! use eventlog_tests::files;
//!
//! let dir = tempfile::tempdir().unwrap();
//! // One rotated, compressed file, the active one and the stable-name symlink.
//! let rotated = dir.path().join("app.20261125T085959.500Z.jsonl.gz");
//! let mut gz = flate2::write::GzEncoder::new(
//!     std::fs::File::create(&rotated).unwrap(),
//!     flate2::Compression::fast(),
//! );
//! gz.write_all(b"{\"n\":1}\n").unwrap();
//! gz.finish().unwrap();
//! let active = dir.path().join("app.20261125T090000.000Z.jsonl");
//! std::fs::write(&active, "{\"n\":2}\n").unwrap();
//! # #[cfg(unix)]
//! std::os::unix::fs::symlink(&active, dir.path().join("app.jsonl")).unwrap();
//!
//! assert_eq!(files::appender_files(dir.path(), "app"), [rotated.clone(), active.clone()]);
//! assert_eq!(files::read(&rotated), "{\"n\":1}\n");
//! let numbers: Vec<_> = files::json_lines(dir.path(), "app").iter().map(|v| v["n"].clone()).collect();
//! assert_eq!(numbers, [1, 2]);
//! let (lines, compressed) = files::read_lines(dir.path());
//! assert_eq!((lines.len(), compressed), (2, 1));
//! ```

use std::path::{Path, PathBuf};

/// The regular files in `dir` named `prefix.<stamp>…` with an appender
/// suffix (`.jsonl`, `.jsonl.gz`, `.log`): the appender's own files, rotated
/// and active, sorted by name (which is time order). The stable-name
/// symlink and files of other prefixes are left out.
///
/// # Panics
///
/// If `dir` cannot be listed or holds a name that is not UTF-8.
pub fn appender_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let stamped = name
                .strip_prefix(&format!("{prefix}."))
                .is_some_and(|rest| rest.len() > 9 && rest.as_bytes()[8] == b'T');
            let ours = [".jsonl", ".jsonl.gz", ".log"]
                .iter()
                .any(|s| name.ends_with(s));
            stamped && ours && !std::fs::symlink_metadata(p).unwrap().is_symlink()
        })
        .collect();
    out.sort();
    out
}

/// The text of a file, gunzipped (every gzip member) if it is gzip, read
/// with `eventlog_appender::read::open`. Lines keep their `\n`; a `\r`
/// before one is dropped.
///
/// # Panics
///
/// If the file cannot be read, a `.gz` file is not gzip, a line is too
/// long or the text is not UTF-8.
pub fn read(path: &Path) -> String {
    let shown = path.display();
    let mut lines = eventlog_appender::read::open(path).unwrap_or_else(|e| panic!("{e}"));
    if path.extension().is_some_and(|e| e == "gz") {
        assert!(
            lines.is_compressed(),
            "{shown} is named .gz but is not gzip"
        );
    }
    let mut text = String::new();
    while let Some(line) = lines.next_line() {
        let line = line.unwrap_or_else(|e| panic!("{e}"));
        text.push_str(line.text().unwrap_or_else(|e| panic!("{e}")));
        if line.is_terminated() {
            text.push('\n');
        }
    }
    text
}

/// Each of [`appender_files`]`(dir, prefix)` with its text (see [`read`]), in name order.
///
/// # Panics
///
/// As [`appender_files`] and [`read`].
pub fn texts(dir: &Path, prefix: &str) -> Vec<(PathBuf, String)> {
    appender_files(dir, prefix)
        .into_iter()
        .map(|path| {
            let text = read(&path);
            (path, text)
        })
        .collect()
}

/// Every line of every file of `prefix` in `dir` (see [`appender_files`]),
/// each parsed as JSON, in file order.
///
/// # Panics
///
/// As [`texts`]; and if a file ends mid-line or a line is not JSON.
pub fn json_lines(dir: &Path, prefix: &str) -> Vec<serde_json::Value> {
    texts(dir, prefix)
        .iter()
        .flat_map(|(path, text)| {
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{} ends mid-line",
                path.display()
            );
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every line of every file in `dir`, a directory that holds one
/// appender's files and nothing else, decompressing rotated ones; and how
/// many files were compressed. The stable-name symlink and the block
/// indexes beside compressed files are skipped.
///
/// # Panics
///
/// On anything unexpected: an unreadable file, a file that is neither
/// `.jsonl` nor `.gz`, invalid UTF-8.
pub fn read_lines(dir: &Path) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut compressed = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // The stable name is a symlink to the active file: read files once.
        if path.symlink_metadata().unwrap().file_type().is_symlink() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // A rotated file's block index (eventlog-appender's `blocks`): no
        // records of its own, and never without its file.
        let index_of = name.strip_suffix(".idx").filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        });
        if let Some(gz) = index_of {
            assert!(dir.join(gz).is_file(), "{name} without {gz}");
            continue;
        }
        let extension = path.extension().unwrap().to_string_lossy().into_owned();
        if extension == "gz" {
            compressed += 1;
        } else {
            assert_eq!(extension, "jsonl", "unexpected file {name}");
        }
        lines.extend(read(&path).lines().map(str::to_owned));
    }
    (lines, compressed)
}
