//! The `eventlog` command (this crate's binary) and the library behind it:
//! answers questions about eventlog's JSON-lines files, rotated
//! and gzip-compressed ones included, without `jq`.
//!
//! ```text
//! eventlog stats    logs/                                  what the files hold, counted
//! eventlog query    logs/ --event payment_failed --where error_type=card_declined
//! eventlog report   logs/ --bucket 1m                      volume and errors over time
//! eventlog trace    req_000016 logs/                        one request's records as a timeline
//! eventlog validate logs/ --schema events.toml             envelope and schema, file:line for each problem
//! eventlog schema   events.toml                            the schema as JSON Schema
//! ```
//!
//! Paths are files or directories (their `*.jsonl`, `*.jsonl.gz`, `*.json`,
//! `*.log` files and tracing-appender's date-suffixed ones, oldest first);
//! `-` is stdin, read too when records are piped in and no path is given;
//! gzip is recognised by content. A file reached twice, such as the
//! appender's active-file symlink, is read once. Times print in UTC unless
//! `--tz` names a zone.
//!
//! Exit status: 0 on success; 1 when `query` or `trace` matched nothing or
//! `validate` found errors; 2 for bad arguments or unreadable input (a
//! file that could not be read to its end makes the status 2 after the
//! other files were read and the answer printed). A panic is a bug.

//!
//! As a library it gives programs the HTML report, as
//! `eventlog report --html` writes it: [`write_html_report`].
//!
//! ```no_run
//! let report = eventlog_cli::write_html_report(
//!     &["logs".into()],
//!     "logs/report.html".as_ref(),
//!     &["checkout_started", "payment_captured", "order_placed"],
//!     eventlog_cli::FunnelBy::Request,
//! )?;
//! println!("report: logs/report.html ({} records)", report.records);
//! # Ok::<(), eventlog_cli::ReportError>(())
//! ```

#![forbid(unsafe_code)]
// Input is hostile: no index or string slice may panic on it. Each module
// reads files, arguments or both, so the rule is crate-wide.
#![deny(clippy::indexing_slicing, clippy::string_slice)]
// A command line tool prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod aggregate;
mod blocks;
mod cli;
mod commands;
mod dated;
mod filter;
mod follow;
mod format;
mod html;
mod input;
mod keys;
mod lazy;
mod outcome;
mod progress;
mod report;
mod scan;
mod stats;
mod trace;
mod validate;
mod view;
mod zone;

use std::path::{Path, PathBuf};

pub use crate::html::FunnelBy;

/// Runs the `eventlog` command with the process's arguments (the binary's
/// `main`).
pub fn run_cli() -> std::process::ExitCode {
    cli::main()
}

/// What [`write_html_report`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HtmlReport {
    /// Records read (all of them are in the page's aggregates).
    pub records: u64,
    /// Size of the page.
    pub bytes: u64,
}

/// Why [`write_html_report`] failed: a path that cannot be read or
/// written, or bad input, in the words the command would print.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReportError(String);

/// Reads the records under `paths` (files or directories, as the command
/// takes them) and writes the self-contained HTML page to `page`, with a
/// funnel through `funnel` (event names, in order; empty for none) per
/// `funnel_by` id.
///
/// # Errors
///
/// [`ReportError`] when no path can be read or the page cannot be written.
pub fn write_html_report(
    paths: &[PathBuf],
    page: &Path,
    funnel: &[&str],
    funnel_by: FunnelBy,
) -> Result<HtmlReport, ReportError> {
    let renames = eventlog::KeyRenames::default();
    let zone = zone::Zone::default();
    let settings = commands::Settings {
        renames: &renames,
        max_line: 16 << 20,
        threads: 1,
        zone: &zone,
    };
    let funnel =
        (!funnel.is_empty()).then(|| (funnel.iter().map(|&s| s.to_owned()).collect(), funnel_by));
    let fail = |e: outcome::CliError| ReportError(e.to_string());
    let (text, records, _read) =
        commands::html_page(settings, paths, &filter::Filter::default(), funnel).map_err(fail)?;
    std::fs::write(page, &text).map_err(|e| fail(outcome::CliError::io(page, e)))?;
    Ok(HtmlReport {
        records,
        bytes: text.len() as u64,
    })
}
