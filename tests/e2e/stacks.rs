//! The stack a service really runs, under every tokio flavour: `EnvFilter`,
//! a `fmt` layer for humans, an eventlog layer writing rotated files and a
//! second one writing only warnings and errors to files of its own, with
//! `#[instrument]`ed async handlers whose work hops between tasks and
//! threads. Every record must carry the ids of the request it belongs to,
//! never another's, and both outputs must agree on them.

use std::collections::HashMap;
use std::path::Path;

use eventlog_appender::{Backpressure, NonBlockingBuilder, RollingFile};
use eventlog_tests::files::read_lines;
use tracing::Instrument;
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::prelude::*;

const REQUESTS: usize = 200;

#[tracing::instrument(skip_all, fields(request_id = %format!("req_{n:04}"), user_id = tracing::field::Empty))]
async fn handle(n: usize) {
    tracing::info!(event_name = "request_received", n);
    tokio::task::yield_now().await;
    tracing::Span::current().record("user_id", format!("user_{n}").as_str());
    // Work on another task (another thread on the multi-thread runtime).
    tokio::spawn(
        tracing::instrument::WithSubscriber::with_current_subscriber(
            async move {
                tokio::task::yield_now().await;
                tracing::warn!(event_name = "payment_retried", n);
            }
            .instrument(tracing::info_span!("payment", attempt = 2)),
        ),
    )
    .await
    .unwrap();
    tracing::debug!(event_name = "below_the_env_filter", n);
    if n.is_multiple_of(4) {
        tracing::error!(event_name = "request_failed", n, error_type = "timeout");
    }
}

fn files(dir: &Path, prefix: &str) -> (eventlog_appender::NonBlocking, eventlog_appender::Guard) {
    RollingFile::builder()
        .directory(dir)
        .prefix(prefix.to_owned())
        .max_bytes(16 * 1024)
        .compress(true)
        .keep(10_000)
        .non_blocking(NonBlockingBuilder::new().backpressure(Backpressure::BLOCK))
        .build_non_blocking()
        .unwrap()
}

fn run_under(mut runtime: tokio::runtime::Builder) {
    let dir = tempfile::tempdir().unwrap();
    let (all_dir, warn_dir) = (dir.path().join("all"), dir.path().join("warn"));
    let (all, all_guard) = files(&all_dir, "events");
    let (warn, warn_guard) = files(&warn_dir, "warnings");
    let all_layer = eventlog::layer()
        .service("stack")
        .close_events(true)
        .writer(all);
    let warn_layer = eventlog::layer().service("stack").writer(warn);
    let (all_stats, warn_stats) = (all_layer.stats(), warn_layer.stats());
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::sink),
        )
        .with(all_layer)
        .with(warn_layer.with_event_filter(LevelFilter::WARN));
    let dispatch = tracing::Dispatch::new(subscriber);
    // Not set globally (tests share the process), so every thread of the
    // runtime gets it as its default, as `init()` would give it globally:
    // tracing-subscriber's registry releases a closed span's parent through
    // the thread's default dispatcher, and a span dropped on a thread
    // without one would keep its parent open for ever.
    let for_workers = dispatch.clone();
    let runtime = runtime
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&for_workers)))
        .enable_all()
        .build()
        .unwrap();
    let default = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(async {
        let tasks: Vec<_> = (0..REQUESTS)
            .map(|n| {
                let dispatch = dispatch.clone();
                // `handle(n)` is called inside the task, so its span is made
                // under the task's dispatcher.
                let task = async move { handle(n).await };
                tokio::spawn(tracing::instrument::WithSubscriber::with_subscriber(
                    task, dispatch,
                ))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    drop(runtime);
    drop(default);
    drop(dispatch);
    all_guard
        .shutdown(std::time::Duration::from_secs(10))
        .unwrap();
    warn_guard
        .shutdown(std::time::Duration::from_secs(10))
        .unwrap();

    let parse = |dir: &Path| -> Vec<serde_json::Value> {
        let (lines, _) = read_lines(dir);
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (all, warn) = (parse(&all_dir), parse(&warn_dir));
    let failed = REQUESTS.div_ceil(4);
    let count = |records: &[serde_json::Value], name: &str| {
        records.iter().filter(|r| r["event_name"] == name).count()
    };
    assert_eq!(count(&all, "request_received"), REQUESTS);
    assert_eq!(count(&all, "payment_retried"), REQUESTS);
    assert_eq!(count(&all, "request_failed"), failed);
    assert_eq!(count(&all, "below_the_env_filter"), 0);
    assert_eq!(count(&all, "handle_completed"), REQUESTS);
    assert_eq!(count(&all, "payment_completed"), REQUESTS);
    assert_eq!(count(&warn, "payment_retried"), REQUESTS);
    assert_eq!(count(&warn, "request_failed"), failed);
    assert_eq!(warn.len(), REQUESTS + failed, "only warnings and errors");

    // Each record belongs to its own request: the request id matches the
    // number the handler logged, and the trace is the request's.
    let mut trace_of_request: HashMap<String, String> = HashMap::new();
    for r in all.iter().chain(&warn) {
        let Some(n) = r["metadata"]["n"].as_u64() else {
            continue;
        };
        let request_id = format!("req_{n:04}");
        assert_eq!(r["request_id"], request_id.as_str(), "{r}");
        let trace = r["trace_id"].as_str().unwrap().to_owned();
        assert_eq!(trace.len(), 32);
        let known = trace_of_request
            .entry(request_id)
            .or_insert_with(|| trace.clone());
        assert_eq!(*known, trace, "one trace per request: {r}");
        if r["event_name"] != "request_received" {
            // Recorded after the first event, with `Span::record`.
            assert_eq!(r["user_id"], format!("user_{n}").as_str(), "{r}");
        }
        if r["event_name"] == "payment_retried" {
            assert_eq!(r["span"]["name"], "payment");
        }
    }
    assert_eq!(trace_of_request.len(), REQUESTS);
    let (a, w) = (all_stats.snapshot(), warn_stats.snapshot());
    assert_eq!(
        (a.emitted, a.accepted, a.dropped()),
        (all.len() as u64, all.len() as u64, 0)
    );
    assert_eq!(
        (w.emitted, w.accepted, w.dropped()),
        (warn.len() as u64, warn.len() as u64, 0)
    );
}

#[test]
fn the_full_stack_on_a_current_thread_runtime() {
    run_under(tokio::runtime::Builder::new_current_thread());
}

#[test]
fn the_full_stack_on_a_multi_thread_runtime() {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.worker_threads(2);
    run_under(runtime);
}
