//! The schema: events declared once, every record checked when it is emitted.
//!
//! ```text
//! Schema::builder() ─┐
//! events.toml ───────┼─> SchemaBuilder::build ─> Schema (compiled: index by name, regexes)
//! events.json ───────┘                              │
//!          EventLayer::on_event: Record ─> check ─> [] ok │ [Violation…] ─> Policy
//! ```
//!
//! A check is a hash lookup of the event name and a few comparisons per
//! declared field; nothing is allocated unless a violation is found.

mod check;
mod compiled;
mod json_schema;
mod load;
mod model;
mod plan;

pub use compiled::Schema;
pub use load::{RECOMMENDED_TOML, SchemaError, SchemaFormat};
pub use model::{EventSpec, FieldSpec, Naming, SchemaBuilder, UnknownEvents};
