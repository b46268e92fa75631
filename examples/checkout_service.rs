//! The main job: two HTTP services writing real event logs, under load.
//!
//! ```text
//! cargo run --release --example checkout_service [-- --requests 2000 --workers 16 --seed 42 --logs logs --max-file-bytes 524288]
//! ```
//!
//! A checkout service and the payments service it calls, both axum on
//! loopback behind `eventlog_http::ServerLayer`, checkout calling payments
//! through reqwest with `eventlog_http::ClientMiddleware`. A load generator
//! sends `--requests` requests, `--workers` at a time, each with an
//! `X-Request-ID` (some with a caller's `traceparent`). Each request goes
//! through `#[instrument]`ed steps (auth, cart, payment, fulfilment) with
//! seeded random outcomes and emits all five categories of events, checked
//! against `examples/events.toml`; payments' records carry checkout's
//! `trace_id` and `request_id`. Passwords, card numbers and bearer tokens
//! come out redacted; a few records break the schema on purpose and land in
//! `logs/dead_letter.jsonl`. Each service writes through its own
//! non-blocking rolling appender (`logs/checkout.*`, `logs/payments.*`,
//! rotated by size, gzip-compressed) and, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, to an OpenTelemetry collector. At
//! exit it prints a summary computed from the files, and the `eventlog`
//! command that answers each question.

// The summary is the program's output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use eventlog_examples::checkout::{self, Config};

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("checkout_service: {e}");
            return ExitCode::from(2);
        }
    };
    match checkout::run(&config) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("checkout_service: {e}");
            ExitCode::FAILURE
        }
    }
}
