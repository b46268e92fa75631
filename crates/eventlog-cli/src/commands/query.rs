//! `eventlog query`: the matching lines as they are in the files, or their count.

use std::io::Write as _;
use std::path::PathBuf;

use super::shared::{Out, Settings, after_reading};
use crate::filter::Filter;
use crate::input;
use crate::outcome::{CliError, Outcome};

pub(crate) fn query_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    limit: Option<u64>,
    count: bool,
) -> Result<Outcome, CliError> {
    let found = input::collect(paths)?;
    let mut matched = 0u64;
    let mut failed: Option<std::io::Error> = None;
    let prefilter = filter.prefilter();
    let read = input::for_each_line(
        found,
        settings.reading(&prefilter, false),
        |line| {
            if limit.is_some_and(|l| matched >= l) || failed.is_some() {
                return;
            }
            if let Ok(record) = &line.record
                && filter.matches(record.as_map())
            {
                matched += 1;
                // The line's bytes as they are in the file.
                if !count
                    && let Err(e) = out
                        .write_all(line.bytes)
                        .and_then(|()| out.write_all(b"\n"))
                {
                    failed = Some(e);
                }
            }
        },
        |_, _| {},
    );
    if let Some(e) = failed {
        return Err(CliError::Output(e));
    }
    if count {
        writeln!(out, "{matched}").map_err(CliError::Output)?;
    }
    Ok(after_reading(
        &read,
        if matched == 0 {
            Outcome::Negative
        } else {
            Outcome::Done
        },
    ))
}
