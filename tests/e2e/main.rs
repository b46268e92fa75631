//! End-to-end tests across the workspace's crates, on real files.
//!
//! One binary, one module per area.

// Tests unwrap to fail loudly; an end-to-end test reads as one story.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod browser;
mod checkout_service;
mod generator;
mod rolling_files;
mod stacks;
