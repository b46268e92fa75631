use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventlog_appender::{Backpressure, LineDropReason, NonBlocking, RollingFile};
use eventlog_tests::files::json_lines;

#[test]
fn oversized_line_in_block_mode_is_dropped_not_deadlocked() {
    let dir = tempfile::tempdir().unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(crate::util::reporting(
            NonBlocking::builder()
                .capacity(64)
                .backpressure(Backpressure::BLOCK)
                .on_drop(move |r| sink.lock().unwrap().push(*r)),
        ))
        .build_non_blocking()
        .unwrap();
    writer.write_all(b"{\"ok\":1}\n").unwrap();
    writer
        .write_all(format!("{{\"big\":\"{}\"}}\n", "x".repeat(100)).as_bytes())
        .unwrap();
    writer.write_all(b"{\"ok\":2}\n").unwrap();
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.dropped_oversized, 1);
    assert_eq!(stats.dropped(), 1);
    let lines = json_lines(dir.path(), "app");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["ok"], 1);
    assert_eq!(lines[1]["ok"], 2);
    let report = &lines[2];
    assert_eq!(report["level"], "WARN");
    assert_eq!(report["event_name"], eventlog::DROP_REPORT_EVENT);
    assert_eq!(report["event_type"], "system_event");
    assert_eq!(report["metadata"]["dropped"], 1);
    assert_eq!(report["metadata"]["reason"], "oversized");
    assert_eq!(report["metadata"]["output"], "file");
    assert_eq!(report["metadata"]["total_dropped"], 1);
    assert!(report["timestamp"].as_str().unwrap().ends_with('Z'));
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        (reports[0].reason, reports[0].count),
        (LineDropReason::Oversized, 1)
    );
}

#[test]
fn without_a_self_report_formatter_only_the_callback_fires() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(0u64));
    let counter = Arc::clone(&seen);
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .suffix("log")
        .non_blocking(
            NonBlocking::builder()
                .capacity(16)
                .on_drop(move |r| *counter.lock().unwrap() += r.count),
        )
        .build_non_blocking()
        .unwrap();
    writer
        .write_all(b"plain text line that is too long\n")
        .unwrap();
    writer.write_all(b"short\n").unwrap();
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!((stats.dropped(), stats.self_reports), (1, 0));
    assert_eq!(*seen.lock().unwrap(), 1);
    let file = eventlog_tests::files::appender_files(dir.path(), "app");
    assert_eq!(std::fs::read_to_string(&file[0]).unwrap(), "short\n");
}

#[test]
fn a_panicking_callback_does_not_stop_the_writer() {
    let (mut writer, guard) = crate::util::reporting(NonBlocking::builder())
        .capacity(8)
        .on_drop(|_| panic!("alerting failed"))
        .build(Vec::new())
        .unwrap();
    writer.write_all(b"too long for eight\n").unwrap();
    guard.flush().unwrap();
    writer.write_all(b"fits\n").unwrap();
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    // "fits" plus the self-report line.
    assert_eq!((stats.lines_written, stats.dropped()), (2, 1));
}

#[test]
fn a_panicking_or_unterminated_self_report_formatter_does_not_stop_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = Arc::clone(&calls);
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .suffix("log")
        .non_blocking(
            NonBlocking::builder()
                .capacity(16)
                .self_report(move |r, out| {
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    assert!(n > 0, "formatter bug");
                    // No final newline: the writer adds it.
                    out.extend_from_slice(format!("dropped {}", r.count).as_bytes());
                }),
        )
        .build_non_blocking()
        .unwrap();
    writer.write_all(b"first line that is too long\n").unwrap();
    guard.flush().unwrap();
    writer.write_all(b"ok\n").unwrap();
    writer.write_all(b"second line that is too long\n").unwrap();
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!((stats.dropped(), stats.self_reports), (2, 1), "{stats:?}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    let file = eventlog_tests::files::appender_files(dir.path(), "app");
    assert_eq!(
        std::fs::read_to_string(&file[0]).unwrap(),
        "ok\ndropped 1\n"
    );
}
