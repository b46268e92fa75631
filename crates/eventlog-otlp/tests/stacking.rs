//! DESIGN.md's own stack: `eventlog::layer()` writing a file and
//! `eventlog_otlp::layer()` exporting, in one registry, plus a warnings-only
//! layer behind `with_event_filter`. Issue #13, item 2: two eventlog layers
//! panicked at the first span (reproduced on `dab172c`).

use std::time::Duration;

use eventlog_tests::collector::Collector;
use serde_json::Value;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

use crate::end_to_end::emit_workload;

#[test]
fn the_file_layer_and_the_otlp_layer_in_one_registry_agree_on_every_id() {
    const N: usize = 200;
    let collector = Collector::start();
    let file = eventlog::testing::Capture::new();
    let warnings = eventlog::testing::Capture::new();
    let (otlp, guard) = eventlog_otlp::layer()
        .endpoint(collector.grpc_endpoint())
        .service("checkout")
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(LevelFilter::DEBUG)
        .with(eventlog::layer().service("checkout").writer(file.clone()))
        .with(otlp)
        .with(
            eventlog::layer()
                .writer(warnings.clone())
                .with_event_filter(LevelFilter::WARN),
        );
    tracing::subscriber::with_default(subscriber, || emit_workload(N));
    let report = guard.shutdown(Duration::from_secs(20)).expect("exported");
    assert_eq!((report.emitted, report.exported), (N as u64, N as u64));

    let received = collector.wait_until(Duration::from_secs(20), |r| r.len() >= N);
    assert_eq!(received.len(), N, "{}", collector.log());
    let parse = |c: &eventlog::testing::Capture| -> Vec<Value> {
        c.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (lines, warned) = (parse(&file), parse(&warnings));
    assert_eq!(lines.len(), N);
    // ERROR and WARN are two of the workload's five kinds.
    assert_eq!(warned.len(), N * 2 / 5);
    let seq = |v: &Value, fields: &str| v[fields]["seq"].as_u64().unwrap();
    for otlp in &received {
        let n = seq(otlp, "attributes");
        let line = lines.iter().find(|l| seq(l, "metadata") == n).unwrap();
        assert_eq!(otlp["trace_id"], line["trace_id"], "seq {n}");
        assert_eq!(otlp["span_id"], line["span_id"], "seq {n}");
        assert_eq!(otlp["attributes"]["request_id"], "req-42");
        if let Some(w) = warned.iter().find(|w| seq(w, "metadata") == n) {
            assert_eq!(w["trace_id"], line["trace_id"], "seq {n}");
            assert_eq!(w["request_id"], "req-42");
        }
    }
}
