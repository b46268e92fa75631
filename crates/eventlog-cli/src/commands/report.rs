//! `eventlog report`: volume and errors per time bucket, spikes marked.

use std::path::PathBuf;

use super::shared::{Accumulate, Out, Settings, after_reading, read_records, write_result};
use crate::filter::Filter;
use crate::outcome::{CliError, Outcome};
use crate::report;

pub(crate) fn report_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    width: Option<i64>,
    json: bool,
) -> Result<Outcome, CliError> {
    let task = Accumulate {
        new: report::Reporter::default,
        add: report::Reporter::add,
        filter,
    };
    let mut reporter = report::Reporter::default();
    let read = read_records(settings, paths, &task, |part| reporter.merge(part))?;
    let outcome = after_reading(&read, Outcome::Done);
    let report = reporter.finish(width)?;
    write_result(out, json, &report, || report.render())?;
    Ok(outcome)
}
