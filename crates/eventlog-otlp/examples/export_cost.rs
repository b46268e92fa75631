//! The bench workload (`eventlog_tests::workload`) exported to
//! a running collector by one export thread, for counting the export
//! thread's instructions per record with callgrind (wall-clock figures on
//! a shared 2-core machine swing by ±20 %; instruction counts repeat).
//!
//! ```text
//! ROTEL_AGENT=$(./scripts/install-collector)
//! $ROTEL_AGENT start --otlp-grpc-endpoint 127.0.0.1:14317 --otlp-http-endpoint 127.0.0.1:14318 --exporter blackhole &
//! cargo build --release -p eventlog-otlp --all-features --example export_cost
//! valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/cg.%p \
//!   target/release/examples/export_cost grpc http://127.0.0.1:14317 20000
//! ```
//!
//! The `eventlog-otlp-0` thread's total (`callgrind_annotate` on the
//! file ending in `-02`, or the "Collected" line) divided by the record
//! count is the export cost per record: encoding, the transport and its
//! runtime. Records go in chunks of one batch, each flushed before the
//! next, so nothing is dropped and every batch is full.

// An example prints its usage and result.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::time::Duration;

use eventlog_otlp::{OtlpOutput, Protocol};
use eventlog_tests::workload::{emit_event, in_two_spans};
use tracing_subscriber::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let protocol = match args.next().as_deref() {
        Some("grpc") => Protocol::Grpc,
        Some("http") => Protocol::HttpProtobuf,
        _ => {
            eprintln!("usage: export_cost <grpc|http> <endpoint> [records]");
            std::process::exit(2);
        }
    };
    let endpoint = args.next().unwrap_or_else(|| match protocol {
        Protocol::HttpProtobuf => "http://127.0.0.1:4318/v1/logs".into(),
        _ => "http://127.0.0.1:4317".into(),
    });
    let records: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let (otlp, guard) = match OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .concurrent_exports(1)
        .build()
    {
        Ok(built) => built,
        Err(e) => {
            eprintln!("export_cost: {e}");
            std::process::exit(1);
        }
    };
    let batch = eventlog_otlp::DEFAULT_MAX_BATCH as u64;
    let layer = eventlog::layer()
        .service("checkout")
        .environment("bench")
        .without_writer()
        .output(otlp.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        in_two_spans(|| {
            let mut sent = 0;
            while sent < records {
                let chunk = batch.min(records - sent);
                for _ in 0..chunk {
                    emit_event();
                }
                sent += chunk;
                if let Err(e) = otlp.flush_within(Duration::from_secs(60)) {
                    eprintln!("export_cost: the collector did not accept a batch: {e}");
                    std::process::exit(1);
                }
            }
        });
    });
    match guard.shutdown(Duration::from_secs(60)) {
        Ok(stats) => println!(
            "exported {} of {} records, dropped {}",
            stats.exported,
            stats.emitted,
            stats.dropped()
        ),
        Err(e) => {
            eprintln!("export_cost: {e}");
            std::process::exit(1);
        }
    }
}
