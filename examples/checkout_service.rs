//! The main job: a small checkout service writing real event logs.
//!
//! ```text
//! cargo run --release --example checkout_service [-- --requests 2000 --workers 4 --seed 42 --logs logs --max-file-bytes 524288]
//! ```
//!
//! Concurrent requests, each in a root span with `request_id` (some continue
//! a caller's `traceparent`), go through `#[instrument]`ed steps (auth, cart,
//! payment, fulfilment) with seeded random outcomes, and emit all five
//! categories of events checked against `examples/events.toml`. Passwords,
//! card numbers and bearer tokens come out redacted; a few records break
//! the schema on purpose and land in `logs/dead_letter.jsonl`. Records go
//! through the non-blocking rolling appender into `./logs` (rotated by size,
//! gzip-compressed) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, to an
//! OpenTelemetry collector. At exit it prints a summary computed from the
//! files, and the `jq` command that answers each question.

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
