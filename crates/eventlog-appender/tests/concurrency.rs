use std::collections::HashSet;
use std::io::Write;
use std::thread;
use std::time::Duration;

use eventlog_appender::{Backpressure, NonBlocking, RollingFile};
use eventlog_tests::files::json_lines;

use crate::util::line;

const THREADS: usize = 4;

/// Runs `THREADS` threads writing `per_thread` lines each, then checks the files
/// hold exactly the lines not counted as dropped, each once and intact.
fn run(backpressure: Backpressure, capacity: usize, max_bytes: u64, per_thread: usize) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let (writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .max_bytes(max_bytes)
        .compress(true)
        .non_blocking(crate::util::reporting(
            NonBlocking::builder()
                .capacity(capacity)
                .backpressure(backpressure),
        ))
        .build_non_blocking()
        .unwrap();
    thread::scope(|s| {
        for t in 0..THREADS {
            let mut writer = writer.clone();
            s.spawn(move || {
                for seq in 0..per_thread {
                    writer.write_all(line(t, seq).as_bytes()).unwrap();
                }
            });
        }
    });
    let stats = guard.shutdown(Duration::from_secs(30)).unwrap();
    let lines = json_lines(dir.path(), "app");
    let mut seen = HashSet::new();
    let mut reported = 0;
    let mut reports = Vec::new();
    for value in &lines {
        if value["event_name"] == eventlog::DROP_REPORT_EVENT {
            reported += value["metadata"]["dropped"].as_u64().unwrap();
            reports.push(value["metadata"].clone());
            continue;
        }
        let key = (
            value["thread"].as_u64().unwrap(),
            value["seq"].as_u64().unwrap(),
        );
        assert!(
            key.0 < THREADS as u64 && key.1 < per_thread as u64,
            "{key:?}"
        );
        assert!(seen.insert(key), "duplicate line {key:?}");
    }
    let total = (THREADS * per_thread) as u64;
    assert_eq!(seen.len() as u64, total - stats.dropped(), "{stats:?}");
    assert_eq!(stats.lines_queued, total - stats.dropped());
    assert_eq!(stats.dropped(), stats.dropped_queue_full, "{stats:?}");
    assert_eq!(
        reported,
        stats.dropped(),
        "self-reports must add up to the drops: {reports:?} {stats:?}"
    );
    assert_eq!(stats.lines_written, lines.len() as u64);
    // Every line is accounted for exactly once.
    assert_eq!(
        stats.lines_written - stats.self_reports + stats.dropped(),
        total
    );
    assert_eq!(stats.self_reports, reports.len() as u64);
    // Rotation by size really happened (files hold at most `max_bytes`).
    assert!(
        stats.rotations >= (stats.bytes_written / max_bytes).saturating_sub(1),
        "{stats:?}"
    );
    assert_eq!(stats.compressions, stats.rotations, "{stats:?}");
    stats.dropped()
}

#[test]
fn block_mode_keeps_every_line_through_size_rotation() {
    // A queue of 64 KiB against ~5 MB of lines: callers block often.
    let dropped = run(Backpressure::BLOCK, 64 << 10, 256 << 10, 5_000);
    assert_eq!(dropped, 0);
}

#[test]
fn drop_newest_loses_exactly_what_it_counts() {
    // A queue that holds ~16 lines: drops are certain, and must all be accounted for.
    let dropped = run(Backpressure::DROP_NEWEST, 4 << 10, 4 << 10, 5_000);
    assert!(dropped > 0);
}
