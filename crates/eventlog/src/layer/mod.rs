//! The `tracing_subscriber::Layer` that turns spans and events into records.
//!
//! ```text
//! on_new_span / on_record ─> SpanState in the span's extensions (ids, promoted, fields)   scope
//! on_event / on_close     ─> Scratch (per thread) ─> Record                               callbacks
//!                         ─> schema check ─> Policy ─> every Output ─> Stats               emit
//! ```
//!
//! - `event_layer`: the [`EventLayer`] type, its setters and entry points;
//! - `callbacks`: the `impl Layer`, thin: each callback fetches its span and
//!   delegates;
//! - `scope`: per-span state and the scope a span gives the records beneath
//!   it (ids, promoted values, pre-encoded JSON), resolved once per span;
//! - `emit`: building the [`Record`](crate::Record), then schema check,
//!   policy, outputs and counts;
//! - `policy`: what a record that broke the schema does.

mod callbacks;
mod emit;
mod event_layer;
mod policy;
mod scope;

pub use event_layer::{DEFAULT_CLOSE_SUFFIX, DEFAULT_MAX_VALUE_BYTES, EventLayer, layer};
pub use policy::Policy;
pub(crate) use scope::SpanState;
