//! Each command's glue: read the inputs through `input`, hand the records
//! to its I/O-free module (`stats`, `report`, `trace`, `validate`,
//! `filter`), write the answer. `main` parses the arguments and calls one
//! of these; `commands::shared` holds what they share (its own module, so
//! the commands import it and not their parent: no import cycle).
//!
//! ```text
//! main (clap) ─> commands::<name>(out, settings, paths, …) ─> input::for_each_line ─> stats / report / trace / validate
//!                                                              └─> write_result ─> stdout (JSON or text)
//! ```

mod generate;
mod query;
mod report;
mod shared;
mod stats;
mod trace;
mod validate;

pub(crate) use generate::{completions, man};
pub(crate) use query::{Ask, query_command};
pub(crate) use report::{html_page, html_report_command, report_command};
pub(crate) use shared::{Out, Settings};
pub(crate) use stats::stats_command;
pub(crate) use trace::trace_command;
pub(crate) use validate::validate_command;
