//! `eventlog stats`: counts by event, category, level, service and any key.

use std::path::PathBuf;

use super::shared::{Out, Settings, after_reading, read_records, write_result};
use crate::filter::Filter;
use crate::outcome::{CliError, Outcome};
use crate::stats;

pub(crate) fn stats_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    (top, by): (usize, Vec<String>),
    json: bool,
) -> Result<Outcome, CliError> {
    let mut counter = stats::Counter::new(by);
    let read = read_records(settings, paths, |record| counter.add(record, filter))?;
    let outcome = after_reading(&read, Outcome::Done);
    let stats = counter.finish(read);
    write_result(out, json, &stats, || stats.render(top))?;
    Ok(outcome)
}
