use std::io::{self, Write};
use std::sync::mpsc;
use std::time::Duration;

use eventlog_appender::{GuardError, NonBlocking, RollingFile};
use eventlog_tests::files::json_lines;

use crate::util::line;

#[test]
fn everything_queued_is_on_disk_after_the_guard_drops() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .compress(true)
        .max_bytes(1 << 20)
        // An interval far longer than the test: only the guard can write these lines.
        .non_blocking(
            NonBlocking::builder()
                .capacity(64 << 20)
                .flush_interval(Duration::from_secs(3600)),
        )
        .build_non_blocking()
        .unwrap();
    for seq in 0..20_000 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    drop(guard);
    let seqs: Vec<u64> = json_lines(dir.path(), "app")
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..20_000).collect::<Vec<_>>());
    let stats = writer.stats().snapshot();
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    assert!(
        stats.compressions > 0 && stats.compressions == stats.rotations,
        "{stats:?}"
    );
}

#[test]
fn flush_makes_lines_visible_without_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().flush_interval(Duration::from_secs(3600)))
        .build_non_blocking()
        .unwrap();
    for round in 0..3 {
        writer.write_all(line(0, round).as_bytes()).unwrap();
        guard.flush().unwrap();
        assert_eq!(json_lines(dir.path(), "app").len(), round + 1);
    }
    // `io::Write::flush` on the writer handle waits too.
    writer.write_all(line(0, 3).as_bytes()).unwrap();
    writer.flush().unwrap();
    assert_eq!(json_lines(dir.path(), "app").len(), 4);
}

/// A sink that blocks every write until the test releases it.
struct Gate(mpsc::Receiver<()>);

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.recv().map_err(|_| io::Error::other("gate closed"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn shutdown_reports_a_timeout_with_what_is_still_queued() {
    let (open, gate) = mpsc::channel();
    let (mut writer, guard) = NonBlocking::builder().build(Gate(gate)).unwrap();
    writer.write_all(b"stuck\n").unwrap();
    let start = std::time::Instant::now();
    let result = guard.shutdown(Duration::from_millis(50));
    // Bounded by the timeout given, not by the guard's default flush timeout (5 s).
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    match result {
        Err(GuardError::Timeout {
            timeout,
            pending_bytes,
        }) => {
            assert_eq!(timeout, Duration::from_millis(50));
            assert_eq!(pending_bytes, 6);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // The worker finishes in the background once the disk answers.
    open.send(()).unwrap();
    drop(open);
    writer.write_all(b"after shutdown\n").unwrap();
    assert_eq!(writer.stats().snapshot().dropped_shutdown, 1);
}

#[test]
fn flush_after_shutdown_is_a_typed_error() {
    let (mut writer, guard) = NonBlocking::builder().build(io::sink()).unwrap();
    let stats = guard.stats();
    guard.shutdown(Duration::from_secs(5)).unwrap();
    let err = writer.flush().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(stats.snapshot().lines_written, 0);
}

#[test]
fn drop_newest_never_waits_on_a_stuck_disk() {
    let (open, gate) = mpsc::channel();
    let (mut writer, guard) = NonBlocking::builder()
        .capacity(1000)
        .backpressure(eventlog_appender::Backpressure::DROP_NEWEST)
        .build(Gate(gate))
        .unwrap();
    // The sink never returns while these run: a waiting caller would hang here.
    for seq in 0..1000 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = writer.stats().snapshot();
    // At most 1000 bytes fit; everything else was dropped at once.
    assert!(
        stats.lines_queued <= (1000 / line(0, 0).len()) as u64,
        "{stats:?}"
    );
    assert_eq!(
        stats.lines_queued + stats.dropped_queue_full,
        1000,
        "{stats:?}"
    );
    drop(open); // the disk "fails": the gate closes and the worker can finish
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.dropped(), 1000 - stats.lines_written.min(1000));
}

// Found while testing `eventlog query --follow` (#13): the worker ignored
// whether compression finished by the shutdown deadline, so when it gave
// up at the deadline and exited before the guard's own wait expired,
// `shutdown` said Ok while a rotated file was still being compressed
// (before the fix this test failed whenever the worker won that race).
#[test]
fn shutdown_is_a_timeout_while_compression_is_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .compress(true)
        .max_bytes(16 << 20)
        .non_blocking(NonBlocking::builder().capacity(64 << 20))
        .build_non_blocking()
        .unwrap();
    // Just over one file: its compression (16 MiB, several hundred ms at
    // the least in a test build) starts as the second file opens.
    let mut written = 0;
    let mut seq = 0;
    while written < (16 << 20) + 4096 {
        let l = line(0, seq);
        writer.write_all(l.as_bytes()).unwrap();
        written += l.len();
        seq += 1;
    }
    guard.flush().unwrap();
    match guard.shutdown(Duration::from_millis(1)) {
        Err(GuardError::Timeout { pending_bytes, .. }) => assert_eq!(pending_bytes, 0),
        other => panic!("expected a timeout while compressing, got {other:?}"),
    }
}
