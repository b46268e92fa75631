//! End-to-end tests across the workspace's crates, on real files.
//!
//! One binary, one module per area.

// Tests unwrap to fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rolling_files;
