use std::thread;
use std::time::Duration;

use eventlog_appender::{Backpressure, NonBlocking, RollingFile};
use eventlog_tests::files::json_lines;
use tracing::Dispatch;

#[test]
fn fmt_json_layer_writes_whole_lines_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .max_bytes(8 << 10)
        .non_blocking(NonBlocking::builder().backpressure(Backpressure::BLOCK))
        .build_non_blocking()
        .unwrap();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(writer.clone())
        .finish();
    let dispatch = Dispatch::new(subscriber);
    thread::scope(|s| {
        for t in 0..4u64 {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for seq in 0..250u64 {
                        tracing::info!(
                            thread = t,
                            seq,
                            quote = "a \"quoted\" value",
                            "order placed"
                        );
                    }
                });
            });
        }
    });
    let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
    let lines = json_lines(dir.path(), "app");
    assert_eq!(lines.len(), 1000);
    assert_eq!(stats.lines_written, 1000);
    assert!(stats.rotations > 0);
    let mut seen = std::collections::HashSet::new();
    for v in &lines {
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["fields"]["message"], "order placed");
        assert_eq!(v["fields"]["quote"], "a \"quoted\" value");
        assert!(seen.insert((
            v["fields"]["thread"].as_u64().unwrap(),
            v["fields"]["seq"].as_u64().unwrap()
        )));
    }
}
