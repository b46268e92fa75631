use std::fs;
use std::io::Write;
use std::time::Duration;

use eventlog_appender::{Backpressure, NonBlocking, RollingFile, RollingFileError};

use crate::util::{files, json_lines, line};

/// Retries that fail fast: the faults below are permanent until the test clears them.
fn builder() -> eventlog_appender::NonBlockingBuilder {
    NonBlocking::builder()
        .retries(2)
        .retry_backoff(Duration::from_millis(1))
        .backpressure(Backpressure::BLOCK)
}

#[test]
#[cfg(target_os = "linux")]
fn disk_full_is_counted_not_panicked() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let (mut writer, guard) = builder().build(full).unwrap();
    for seq in 0..100 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    guard.flush().unwrap();
    let stats = writer.stats().snapshot();
    assert_eq!(stats.lines_queued, 100);
    assert_eq!(stats.lines_written, 0);
    assert_eq!(stats.dropped_io, 100, "{stats:?}");
    // At least one batch: the first try and two retries all failed with ENOSPC.
    assert!(stats.write_errors >= 3, "{stats:?}");
    // The self-report could not be written either; it is kept for later, not lost.
    assert_eq!(stats.self_reports, 0);
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.dropped(), 100);
}

#[test]
fn directory_removed_mid_run_is_recreated() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let (mut writer, guard) = RollingFile::builder()
        .directory(&dir)
        .non_blocking(builder())
        .build_non_blocking()
        .unwrap();
    for seq in 0..10 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    guard.flush().unwrap();
    fs::remove_dir_all(&dir).unwrap();
    for seq in 10..20 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.reopens, 1, "{stats:?}");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    let seqs: Vec<u64> = json_lines(&dir, "app")
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (10..20).collect::<Vec<_>>());
}

/// The directory is replaced by a regular file: opening anything in it fails
/// (for root too). Lines are retried, then dropped and counted; once the file is
/// gone, writing recovers in a recreated directory.
fn file_in_place_of_directory_then_recovery() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let (mut writer, guard) = RollingFile::builder()
        .directory(&dir)
        .non_blocking(builder())
        .build_non_blocking()
        .unwrap();
    writer.write_all(line(0, 0).as_bytes()).unwrap();
    guard.flush().unwrap();
    fs::remove_dir_all(&dir).unwrap();
    fs::write(&dir, b"squatter").unwrap();
    for seq in 1..6 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    guard.flush().unwrap();
    let during = writer.stats().snapshot();
    assert_eq!(during.dropped_io, 5, "{during:?}");
    assert!(during.write_errors >= 3, "{during:?}");

    fs::remove_file(&dir).unwrap();
    for seq in 6..9 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.dropped_io, 5, "{stats:?}");
    let lines = json_lines(&dir, "app");
    let seqs: Vec<u64> = lines.iter().filter_map(|v| v["seq"].as_u64()).collect();
    assert_eq!(seqs, [6, 7, 8]);
    // The gap is announced in the recovered file.
    let report = lines
        .iter()
        .find(|v| v["event_name"] == "log_events_dropped")
        .unwrap();
    assert_eq!(report["metadata"]["dropped"], 5);
    assert_eq!(report["metadata"]["reason"], "io_error");
}

#[test]
fn file_where_the_directory_should_be_is_counted_then_recovers() {
    file_in_place_of_directory_then_recovery();
}

#[test]
#[cfg(unix)]
fn read_only_directory_delays_rotation_without_losing_lines() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    if !crate::util::permissions_are_enforced(root.path()) {
        // Running as root (or with CAP_DAC_OVERRIDE): clearing write bits denies
        // nothing, so exercise a fault that binds root too.
        println!(
            "permissions not enforced for this user: testing a file in place of the directory instead"
        );
        file_in_place_of_directory_then_recovery();
        return;
    }
    let dir = root.path().join("logs");
    let (mut writer, guard) = RollingFile::builder()
        .directory(&dir)
        .max_bytes(600)
        .non_blocking(builder())
        .build_non_blocking()
        .unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    for seq in 0..10 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
        guard.flush().unwrap();
    }
    let during = writer.stats().snapshot();
    assert!(during.rotation_errors > 0, "{during:?}");
    assert_eq!(during.rotations, 0);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    for seq in 10..20 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert!(stats.rotations > 0, "{stats:?}");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    let seqs: Vec<u64> = json_lines(&dir, "app")
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..20).collect::<Vec<_>>());
}

#[test]
fn unusable_directories_are_typed_build_errors() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("plain-file");
    fs::write(&file, b"").unwrap();
    let err = RollingFile::builder().directory(&file).build().unwrap_err();
    assert!(
        matches!(&err, RollingFileError::NotADirectory { path } if *path == file),
        "{err}"
    );

    let below_file = file.join("logs");
    let err = RollingFile::builder()
        .directory(&below_file)
        .build_non_blocking()
        .unwrap_err();
    assert!(
        matches!(&err, RollingFileError::CreateDirectory { path, .. } if *path == below_file),
        "{err}"
    );

    #[cfg(target_os = "linux")]
    {
        // Not even root may create directories in /proc.
        let err = RollingFile::builder()
            .directory("/proc/eventlog-appender-test")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, RollingFileError::CreateDirectory { .. }),
            "{err}"
        );
    }

    let err = RollingFile::builder()
        .directory(root.path())
        .prefix("a/b")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid prefix `a/b`: must not contain a path separator"
    );
    let err = RollingFile::builder()
        .directory(root.path())
        .max_bytes(0)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid max_bytes `0`: must be at least 1 byte"
    );
    assert!(files(root.path(), "app").is_empty());
}

/// Lines of thread 0 in `lines`, and the drops the self-reports announce (by reason).
fn seqs_and_reported(lines: &[serde_json::Value]) -> (Vec<u64>, u64) {
    let mut seqs = Vec::new();
    let mut reported = 0;
    for v in lines {
        if v["event_name"] == "log_events_dropped" {
            assert_eq!(v["metadata"]["reason"], "io_error", "{v}");
            reported += v["metadata"]["dropped"].as_u64().unwrap();
        } else {
            seqs.push(v["seq"].as_u64().unwrap());
        }
    }
    (seqs, reported)
}

/// Issue #13: on a full disk the OS takes part of a batch; the rest of the
/// torn line must never be glued to a later line. A 1 MiB tmpfs, filled but
/// for 40 KiB, then freed.
#[test]
fn full_disk_then_space_freed_never_tears_a_line() {
    crate::util::on_tmpfs(
        module_path!(),
        "full_disk_then_space_freed_never_tears_a_line",
        "1m",
        |mnt| {
            let logs = mnt.join("logs");
            let (mut writer, guard) = RollingFile::builder()
                .directory(&logs)
                .non_blocking(builder())
                .build_non_blocking()
                .unwrap();
            let ballast = crate::util::fill_leaving(&mnt.join("ballast"), 40 << 10);
            // 250 KB of lines against 40 KiB of room.
            for seq in 0..1000 {
                writer.write_all(line(0, seq).as_bytes()).unwrap();
            }
            guard.flush().unwrap();
            let during = writer.stats().snapshot();
            assert!(
                during.lines_written > 0 && during.dropped_io > 0,
                "{during:?}"
            );
            assert_eq!(during.lines_written + during.dropped_io, 1000, "{during:?}");
            // Space comes back: writing resumes by itself.
            fs::remove_file(ballast).unwrap();
            for seq in 1000..1100 {
                writer.write_all(line(0, seq).as_bytes()).unwrap();
            }
            let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
            // Every line on disk is whole JSON (json_lines panics otherwise).
            let lines = json_lines(&logs, "app");
            let (seqs, reported) = seqs_and_reported(&lines);
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
            assert_eq!(&seqs[seqs.len() - 100..], (1000..1100).collect::<Vec<_>>());
            assert_eq!(seqs.len() as u64 + stats.dropped_io, 1100, "{stats:?}");
            assert_eq!(reported, stats.dropped_io, "{stats:?}");
            assert_eq!(
                stats.lines_written,
                seqs.len() as u64 + stats.self_reports,
                "{stats:?}"
            );
        },
    );
}
