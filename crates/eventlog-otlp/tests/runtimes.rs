//! Export and shutdown from every kind of caller: no runtime (the other
//! tests), a current-thread and a multi-thread tokio runtime. The output
//! owns its runtime, so shutting down never waits on the caller's
//! (opentelemetry-rust #2583 deadlocks a current-thread runtime).

use std::time::{Duration, Instant};

use eventlog_otlp::OtlpOutput;
use eventlog_tests::collector::Collector;
use tracing_subscriber::prelude::*;

async fn export_and_shut_down() {
    const N: usize = 100;
    let collector = Collector::start();
    // Built inside the caller's runtime: the exporter must not bind to it.
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .build()
        .unwrap();
    let layer = eventlog::layer().without_writer().output(otlp);
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    for seq in 0..N {
        tracing::info!(event_name = "job_completed", seq);
        if seq % 10 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let start = Instant::now();
    // Blocking on the runtime thread on purpose: this is what a guard drop does.
    let report = guard
        .shutdown(Duration::from_secs(10))
        .expect("no deadlock, nothing lost");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(report.exported, N as u64);
    let received = collector.wait_until(Duration::from_secs(10), |r| r.len() >= N);
    assert_eq!(received.len(), N);
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_runtime_exports_and_shuts_down() {
    export_and_shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_runtime_exports_and_shuts_down() {
    export_and_shut_down().await;
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_the_guard_inside_a_runtime_does_not_deadlock() {
    let collector = Collector::start();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .build()
        .unwrap();
    let layer = eventlog::layer().without_writer().output(otlp.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(event_name = "job_completed", seq = 0_u64);
    });
    drop(guard);
    assert_eq!(otlp.stats().exported, 1);
    assert_eq!(
        collector
            .wait_until(Duration::from_secs(10), |r| !r.is_empty())
            .len(),
        1
    );
}
