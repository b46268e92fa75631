//! Integration tests of the eventlog layer, on parsed output.
//!
//! One binary, one module per area; helpers in `support`.

// Tests compare exact floats on purpose and unwrap to fail loudly.
#![allow(
    clippy::float_cmp,
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::type_complexity
)]

mod bad_input;
mod correlation;
mod differential;
mod envelope;
mod from_env;
mod hostile;
mod ids;
mod interop;
mod limits;
mod log_records;
#[cfg(feature = "metrics-server")]
mod metrics_server;
mod outputs;
mod properties;
mod redaction;
mod schema;
mod secret_corpus;
mod setters;
mod stacking;
mod support;
mod timing;
