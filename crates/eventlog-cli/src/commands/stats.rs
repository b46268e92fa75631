//! `eventlog stats`: counts by event, category, level, service and any key.

use std::path::PathBuf;

use super::shared::{Accumulate, Out, Settings, after_reading, read_records, write_result};
use crate::filter::Filter;
use crate::outcome::{CliError, Outcome};
use crate::stats;

pub(crate) fn stats_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    (top, by, distinct): (usize, Vec<String>, bool),
    json: bool,
) -> Result<Outcome, CliError> {
    let task = Accumulate {
        new: || stats::Counter::new(by.clone(), distinct),
        add: stats::Counter::add,
        filter,
    };
    let mut counter = stats::Counter::new(by.clone(), distinct);
    let read = read_records(settings, paths, &task, |part| counter.merge(part))?;
    let outcome = after_reading(&read, Outcome::Done);
    let stats = counter.finish(read, settings.zone);
    write_result(out, json, &stats, || stats.render(top))?;
    Ok(outcome)
}
