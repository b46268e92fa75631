//! Helpers shared by the workspace's tests, benches and examples, and the
//! cross-crate end-to-end tests in `tests/e2e`.
//!
//! A dev-dependency only: no library crate depends on it for real.
//!
//! - [`workload`]: the per-event workload every bench and instruction count runs;
//! - [`collector`]: a real OTLP collector (rotel) on free loopback ports;
//! - [`tls`]: a real TLS terminator (stunnel) in front of the collector, with certificates made at test time;
//! - [`files`]: an appender's files read back, rotated `.gz` ones decompressed;
//! - [`browser`]: a real headless Chromium over the DevTools protocol (console errors, network requests, mouse drags, screenshots);
//! - [`secrets`]: the secret corpus the redaction tests hold every output to.

#![forbid(unsafe_code)]
// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod browser;
pub mod collector;
pub mod files;
pub mod secrets;
pub mod tls;
pub mod workload;
