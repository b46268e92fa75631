//! Per-request overhead of the server layer, side by side with tower-http.
//!
//! ```text
//! cargo bench -p eventlog-http --bench server
//! ```
//!
//! Workload (the same for every contender): a `GET /users/12345` with
//! `x-request-id`, `traceparent` and `user-agent` headers through a tower
//! service whose handler answers at once, polled in memory (no socket, no
//! runtime), with every line written to a discarding writer. Contenders:
//!
//! - `none`: the handler alone (the floor);
//! - `eventlog_http`: `ServerLayer::new()` + `eventlog::layer()`: the
//!   request span with its ten fields, one `http_request_completed` record;
//! - `tower_http_trace`: tower-http's `TraceLayer::new_for_http()` with its
//!   span and its response event at INFO (the defaults are DEBUG, which a
//!   production INFO filter would drop), + `fmt().json()`.
//!
//! After criterion's report the bench prints each median, its overhead over
//! `none`, and that overhead as a ratio to tower-http's.

// A bench prints its results table.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::panic)]

#[path = "support/workload.rs"]
mod workload;

use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;
use http::Request;
use tower::{Layer, Service};

use workload::{
    eventlog_subscriber, fmt_json_subscriber, handler, no_subscriber, serve, tower_http_trace,
};

const GROUP: &str = "server_request";

fn contender<S>(c: &mut Criterion, id: &str, dispatch: &tracing::Dispatch, mut service: S)
where
    S: Service<Request<String>>,
    S::Error: std::fmt::Debug,
{
    tracing::dispatcher::with_default(dispatch, || {
        c.benchmark_group(GROUP)
            .bench_function(id, |b| b.iter(|| black_box(serve(&mut service))));
    });
}

fn bench(c: &mut Criterion) {
    contender(c, "none", &no_subscriber(), handler());
    contender(
        c,
        "eventlog_http",
        &eventlog_subscriber(),
        eventlog_http::ServerLayer::new().layer(handler()),
    );
    contender(
        c,
        "tower_http_trace",
        &fmt_json_subscriber(),
        tower_http_trace(handler()),
    );
}

/// Where criterion wrote its estimates: `$CRITERION_HOME`, else
/// `<target>/criterion` next to this executable's `<target>/<profile>/deps/`.
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median (ns) criterion measured for `id`, if it ran.
fn median_ns(id: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(GROUP)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn print_ratios() {
    let (Some(none), Some(ours), Some(peer)) = (
        median_ns("none"),
        median_ns("eventlog_http"),
        median_ns("tower_http_trace"),
    ) else {
        return;
    };
    println!("\n| contender | median | overhead over none | overhead vs tower_http_trace |");
    println!("|---|---|---|---|");
    for (id, ns) in [
        ("none", none),
        ("eventlog_http", ours),
        ("tower_http_trace", peer),
    ] {
        println!(
            "| {id} | {ns:.0} ns | {:.0} ns | {:.2}× |",
            ns - none,
            (ns - none) / (peer - none)
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    bench(&mut c);
    c.final_summary();
    print_ratios();
}
