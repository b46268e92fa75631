//! Helpers shared by the end-to-end tests in `tests/e2e`.

#![forbid(unsafe_code)]
// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod secrets;

use std::io::Read;
use std::path::Path;

/// Every line of every file the appender owns in `dir`, decompressing
/// rotated ones, and how many files were compressed.
///
/// # Panics
///
/// On anything unexpected: an unreadable file, a file that is neither
/// `.jsonl` nor `.gz`, invalid UTF-8. These are test helpers.
pub fn read_lines(dir: &Path) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut compressed = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // The stable name is a symlink to the active file: read files once.
        if path.symlink_metadata().unwrap().file_type().is_symlink() {
            continue;
        }
        let mut text = String::new();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let extension = path.extension().unwrap().to_string_lossy().into_owned();
        if extension == "gz" {
            compressed += 1;
            flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
                .read_to_string(&mut text)
                .unwrap();
        } else {
            assert_eq!(extension, "jsonl", "unexpected file {name}");
            text = std::fs::read_to_string(&path).unwrap();
        }
        lines.extend(text.lines().map(str::to_owned));
    }
    (lines, compressed)
}
