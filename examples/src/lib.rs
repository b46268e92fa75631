//! Shared code for the eventlog examples.
//!
//! The examples themselves live beside this crate (`examples/*.rs`) and run
//! with `cargo run --example <name>` from the workspace root.

#![forbid(unsafe_code)]

pub mod checkout;
