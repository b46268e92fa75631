//! Hostile configuration: every setter of both builders at `0`, `MAX` and
//! absurd values either clamps (as its doc says) or fails the build with a
//! typed error; it never panics the caller or kills the worker later.

use std::io::Write;
use std::time::Duration;

use eventlog_appender::{NonBlocking, NonBlockingError, RollingFile, RollingFileError};

use crate::util::json_lines;

fn invalid_option(err: &NonBlockingError) -> &'static str {
    match err {
        NonBlockingError::InvalidOption { option, .. } => option,
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}

#[test]
fn capacity_usize_max_is_a_typed_error_not_a_panic() {
    let err = NonBlocking::builder()
        .capacity(usize::MAX)
        .build(std::io::sink())
        .unwrap_err();
    assert_eq!(invalid_option(&err), "capacity");
    assert_eq!(
        err.to_string(),
        format!("invalid capacity `{}`: must be at most 1 GiB", usize::MAX)
    );
}

#[test]
fn capacity_32_gib_is_a_typed_error_not_an_allocation_abort() {
    let err = NonBlocking::builder()
        .capacity(32 << 30)
        .build(std::io::sink())
        .unwrap_err();
    assert_eq!(invalid_option(&err), "capacity");
    // Through the rolling file too, before any file is created.
    let dir = tempfile::tempdir().unwrap();
    let err = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().capacity(32 << 30))
        .build_non_blocking()
        .unwrap_err();
    assert!(
        matches!(
            err,
            RollingFileError::NonBlocking(NonBlockingError::InvalidOption {
                option: "capacity",
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn thread_name_with_nul_is_a_typed_error_not_a_panic() {
    let err = NonBlocking::builder()
        .thread_name("a\0b")
        .build(std::io::sink())
        .unwrap_err();
    assert_eq!(invalid_option(&err), "thread_name");
    assert_eq!(
        err.to_string(),
        "invalid thread_name `a\\0b`: must not contain a NUL byte"
    );
}

#[test]
fn flush_timeout_duration_max_neither_panics_in_flush_nor_aborts_on_guard_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().flush_timeout(Duration::MAX))
        .build_non_blocking()
        .unwrap();
    writer.write_all(b"{\"n\":1}\n").unwrap();
    guard.flush().unwrap();
    writer.flush().unwrap();
    writer.write_all(b"{\"n\":2}\n").unwrap();
    drop(guard); // waits without a limit, and the disk answers
    let ns: Vec<_> = json_lines(dir.path(), "app")
        .iter()
        .map(|v| v["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, [1, 2]);
    // `shutdown` with an unrepresentable timeout means "no limit" too.
    let (writer, guard) = NonBlocking::builder().build(Vec::new()).unwrap();
    writer.send(b"x\n");
    assert_eq!(guard.shutdown(Duration::MAX).unwrap().lines_written, 1);
}

#[test]
fn flush_interval_duration_max_keeps_the_worker_alive() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().flush_interval(Duration::MAX))
        .build_non_blocking()
        .unwrap();
    for n in 0..3 {
        writer
            .write_all(format!("{{\"n\":{n}}}\n").as_bytes())
            .unwrap();
        guard.flush().unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!((stats.lines_written, stats.dropped()), (3, 0), "{stats:?}");
    assert_eq!(json_lines(dir.path(), "app").len(), 3);
}

#[test]
fn durations_and_retries_are_clamped_to_their_documented_bounds() {
    let b = format!(
        "{:?}",
        NonBlocking::builder()
            .flush_interval(Duration::MAX)
            .retry_backoff(Duration::MAX)
            .retries(u32::MAX)
    );
    assert!(b.contains("flush_interval: 3600s"), "{b}");
    assert!(b.contains("retry_backoff: 10s"), "{b}");
    assert!(b.contains("retries: 100"), "{b}");
    let b = format!(
        "{:?}",
        NonBlocking::builder().flush_interval(Duration::ZERO)
    );
    assert!(b.contains("flush_interval: 1ms"), "{b}");
}

#[test]
fn empty_directory_is_a_typed_error_not_the_working_directory() {
    let err = RollingFile::builder().directory("").build().unwrap_err();
    assert!(
        matches!(
            &err,
            RollingFileError::InvalidOption {
                option: "directory",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn prefix_too_long_for_the_compressed_name_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    // `<prefix>.<stamp>.jsonl` fits in 255 bytes, `….jsonl.gz.tmp` would not:
    // every compression would fail.
    let err = RollingFile::builder()
        .directory(dir.path())
        .prefix("p".repeat(225))
        .compress(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, RollingFileError::InvalidOption { option: "prefix", value, .. } if value.len() == 225),
        "{err:?}"
    );
    // The longest accepted pair still rotates and compresses.
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .prefix("p".repeat(221))
        .suffix("jsonl")
        .compress(true)
        .max_bytes(10)
        .build()
        .unwrap();
    file.write_all(b"{\"n\":1}\n{\"n\":2}\n").unwrap();
    let stats = file.stats();
    drop(file);
    let s = stats.snapshot();
    assert_eq!((s.compressions, s.compression_errors), (1, 0), "{s:?}");
}

#[test]
fn suffix_naming_compressed_or_temporary_files_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    for suffix in ["gz", "jsonl.gz", "tmp", "log.tmp"] {
        let err = RollingFile::builder()
            .directory(dir.path())
            .suffix(suffix)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, RollingFileError::InvalidOption { option: "suffix", value, .. } if value == suffix),
            "{suffix}: {err:?}"
        );
    }
}
