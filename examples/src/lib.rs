//! Shared code for the eventlog examples.
//!
//! The examples themselves live beside this crate (`examples/*.rs`) and run
//! with `cargo run --example <name>` from the workspace root. The main job
//! (`checkout_service`) is the modules below: two HTTP services, their load
//! generator, and the summary of what they wrote.

#![forbid(unsafe_code)]

pub mod checkout;
pub mod load;
pub mod payments;
pub mod service;
pub mod simulation;
pub mod summary;
