//! Integration tests of the eventlog layer, on parsed output.
//!
//! One binary, one module per area; helpers in `support`.

mod bad_input;
mod correlation;
mod envelope;
mod ids;
mod interop;
mod outputs;
mod properties;
mod support;
mod timing;
