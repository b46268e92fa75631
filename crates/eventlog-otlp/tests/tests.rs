//! Integration tests for eventlog-otlp, against a real collector (rotel).
//!
//! One binary; a module per area. Every test that needs a collector starts
//! its own on free ports and fails (never skips) if none can be installed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    missing_docs,
    unreachable_pub
)]

// Bad configuration: an error at build or a documented clamp, never a panic later.
mod bad_config;
// OTEL_EXPORTER_OTLP_* variables: read, checked, logs-specific first, code wins.
mod config_env;
// Records reach the collector exactly once, mapped as documented, over each transport.
mod end_to_end;
// Collector outages: nothing lost with the defaults, drops counted and reported past the budget.
mod outage;
// The output's part in the logger's health: unreachable while exports fail.
mod health;
// The logger's counters as OTLP metrics, received by rotel.
mod metrics;
// Redaction carries over; the exporter's own diagnostics are never exported.
mod policies;
// No runtime, current-thread and multi-thread tokio runtimes, without deadlock at shutdown.
mod runtimes;
// The secret corpus through the OTLP output.
mod secrets;
// DESIGN.md's stack: a file layer and the OTLP layer in one registry.
mod stacking;
// https:// endpoints through a real TLS terminator (stunnel) in front of rotel.
#[cfg(feature = "tls")]
mod tls;
// Helpers shared by the modules.
mod support;
// HTTP on the wire: headers, gzip, Retry-After, partial success.
mod wire;
