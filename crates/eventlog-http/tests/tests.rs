//! eventlog-http against real parts: axum and hyper servers on loopback,
//! reqwest (through reqwest-middleware) and hyper's client, on the
//! current-thread and multi-thread tokio runtimes.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Per area, each test written once and run on both runtime flavours.
mod chained;
mod hostile;
mod server_axum;
mod server_hyper;
mod support;
