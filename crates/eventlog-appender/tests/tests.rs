//! Integration tests for eventlog-appender: real files, real threads, no sleeps.
//!
//! One binary (as ripgrep does); each module covers one area.

// This whole binary is test code: helpers and scenario functions shared by
// several `#[test]`s panic on unexpected failures just like the tests do, and
// clippy's test exemption only covers `#[test]` functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

// Helpers: a manual clock, reading every file a writer owns (gunzipping).
mod util;

// Many threads through size rotation: nothing lost, duplicated or split.
mod concurrency;
// Size and time rotation boundaries, names and the active-file symlink.
mod rotation;
// Gzip of rotated files, start-up cleanup.
mod compression;
// Deleting by count, age and total bytes; foreign files untouched.
mod retention;
// Faults: ENOSPC on a real tmpfs then space freed, a read-only mount, vanished
// directories, injected short writes / EIO / failed truncations (rotation under
// two threads), SIGKILL of a writing child. Counted, no panic, no torn line.
mod faults;
// Hostile builder settings: typed errors or documented clamps, never a panic.
mod config;
// Guard drop, flush, shutdown timeout, writes after shutdown.
mod shutdown;
// Drop accounting: callback and the self-report line (eventlog's `log_records_dropped`).
mod drops;
// `tracing_subscriber::fmt().json()` writing through the non-blocking writer.
mod interop;
