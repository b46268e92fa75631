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

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{Request, Response};
use tower::{Layer, Service};
use tracing::Level;
use tracing_subscriber::prelude::*;

fn request() -> Request<String> {
    Request::get("/users/12345")
        .header("x-request-id", "req-7f3a2b9c")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("user-agent", "bench/1.0")
        .body(String::new())
        .unwrap()
}

fn handler()
-> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    tower::service_fn(|_req: Request<String>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(String::from("ok"))))
    })
}

fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the handler answers at once"),
    }
}

fn run<S>(dispatch: &tracing::Dispatch, mut service: S, n: usize)
where
    S: Service<Request<String>>,
    S::Error: std::fmt::Debug,
{
    tracing::dispatcher::with_default(dispatch, || {
        for _ in 0..n {
            now(std::future::poll_fn(|cx| service.poll_ready(cx))).unwrap();
            black_box(now(service.call(request())).unwrap());
        }
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let contender = args.next().unwrap_or_else(|| "eventlog_http".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    match contender.as_str() {
        "none" => run(
            &tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()),
            handler(),
            n,
        ),
        "eventlog_http" => run(
            &tracing::Dispatch::new(
                tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink)),
            ),
            eventlog_http::ServerLayer::new().layer(handler()),
            n,
        ),
        "tower_http_trace" => run(
            &tracing::Dispatch::new(
                tracing_subscriber::fmt()
                    .json()
                    .with_max_level(Level::INFO)
                    .with_writer(std::io::sink)
                    .finish(),
            ),
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(tower_http::trace::DefaultMakeSpan::new().level(Level::INFO))
                .on_response(tower_http::trace::DefaultOnResponse::new().level(Level::INFO))
                .layer(handler()),
            n,
        ),
        other => panic!("unknown contender {other}: none, eventlog_http, tower_http_trace"),
    }
}
