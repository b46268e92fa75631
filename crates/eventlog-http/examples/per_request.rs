//! Serves N requests in memory through one contender, for instruction
//! counts that do not depend on the machine's load:
//!
//! ```text
//! cargo build --release -p eventlog-http --example per_request
//! for c in none eventlog_http tower_http_trace; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/per_request $c 20000 2>&1 | grep refs
//! done
//! ```
//!
//! Per request = (contender − `none`) / N. The workload and contenders are
//! the bench's (`benches/server.rs`).

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../benches/support/workload.rs"]
mod workload;

use std::hint::black_box;

use http::Request;
use tower::{Layer, Service};

use workload::{
    eventlog_subscriber, fmt_json_subscriber, handler, no_subscriber, serve, tower_http_trace,
};

fn run<S>(dispatch: &tracing::Dispatch, mut service: S, n: usize)
where
    S: Service<Request<String>>,
    S::Error: std::fmt::Debug,
{
    tracing::dispatcher::with_default(dispatch, || {
        for _ in 0..n {
            black_box(serve(&mut service));
        }
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let contender = args.next().unwrap_or_else(|| "eventlog_http".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    match contender.as_str() {
        "none" => run(&no_subscriber(), handler(), n),
        "eventlog_http" => run(
            &eventlog_subscriber(),
            eventlog_http::ServerLayer::new().layer(handler()),
            n,
        ),
        "tower_http_trace" => run(&fmt_json_subscriber(), tower_http_trace(handler()), n),
        other => panic!("unknown contender {other}: none, eventlog_http, tower_http_trace"),
    }
}
