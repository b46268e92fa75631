//! The `layer` bench's workload (`eventlog_tests::workload`) in a plain loop, for counting instructions:
//! wall-clock medians on a shared 2-core machine swing by ±20 %, while
//! callgrind's counts repeat to the instruction.
//!
//! ```text
//! cargo build --release -p eventlog --example per_event
//! for c in floor eventlog eventlog_no_redaction eventlog_schema eventlog_limited eventlog_suppressed fmt_json json_subscriber; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/per_event $c 20000 2>&1 | grep refs
//! done
//! ```
//!
//! Per event = (contender's total − `floor`'s total) / 20 000. `floor` is
//! the registry with no layer; the layer bench's do-nothing layer adds
//! about 150 instructions on top. `eventlog_limited` has a budget that
//! every event passes (the limiter's cost on the kept path);
//! `eventlog_suppressed` one that passes the first event only (the cost of
//! a suppressed event: captured, counted, never encoded or written).

// An example prints its usage.
#![allow(clippy::print_stderr)]

use eventlog::{Budget, Limits, Rate};
use eventlog_tests::workload::{emit_event, in_two_spans};
use tracing_subscriber::prelude::*;

/// A budget for every event, keyed by event name, with a burst of one
/// second's worth.
fn limits(rate: Rate) -> Limits {
    match Limits::builder().budget(Budget::new(rate)).build() {
        Ok(limits) => limits,
        Err(error) => panic!("{error}"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let contender = args.next().unwrap_or_default();
    let events: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let run = || {
        in_two_spans(|| {
            for _ in 0..events {
                emit_event();
            }
        });
    };
    let eventlog = || {
        eventlog::layer()
            .service("checkout")
            .environment("bench")
            .version("1.0.0")
            .writer(std::io::sink)
    };
    let registry = tracing_subscriber::registry();
    match contender.as_str() {
        "floor" => tracing::subscriber::with_default(registry, run),
        "eventlog" => tracing::subscriber::with_default(registry.with(eventlog()), run),
        "eventlog_no_redaction" => tracing::subscriber::with_default(
            registry.with(eventlog().redactor(eventlog::Redactor::none())),
            run,
        ),
        "eventlog_schema" => tracing::subscriber::with_default(
            registry.with(eventlog().schema(eventlog::Schema::recommended())),
            run,
        ),
        "eventlog_limited" => tracing::subscriber::with_default(
            registry.with(eventlog().limits(limits(Rate::per_second(1_000_000)))),
            run,
        ),
        "eventlog_suppressed" => tracing::subscriber::with_default(
            registry.with(eventlog().limits(limits(Rate::per_hour(1)))),
            run,
        ),
        "fmt_json" => tracing::subscriber::with_default(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::sink),
            ),
            run,
        ),
        "json_subscriber" => tracing::subscriber::with_default(
            registry.with(
                json_subscriber::fmt::layer()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(std::io::sink),
            ),
            run,
        ),
        _ => eprintln!(
            "usage: per_event <floor|eventlog|eventlog_no_redaction|eventlog_schema|eventlog_limited|eventlog_suppressed|fmt_json|json_subscriber> [events]"
        ),
    }
}
