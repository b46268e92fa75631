//! `eventlog trace`: one trace or request's records, in time order.

use std::io::Write as _;
use std::path::PathBuf;

use super::shared::{Out, Settings, after_reading};
use crate::filter;
use crate::input;
use crate::outcome::{CliError, Outcome};
use crate::trace;

pub(crate) fn trace_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    id: &str,
    json: bool,
) -> Result<Outcome, CliError> {
    let found = input::collect(paths)?;
    let mut entries = Vec::new();
    let mut seq = 0;
    let prefilter = filter::Prefilter::string_value(id);
    let read = input::for_each_line(
        found,
        settings.reading(&prefilter, false),
        |line| {
            seq += 1;
            if let Ok(record) = line.record
                && trace::belongs(record.as_map(), id)
            {
                entries.push(trace::entry(seq, line.bytes, record.into_map()));
            }
        },
        |_, _| {},
    );
    trace::sort(&mut entries);
    if json {
        for e in &entries {
            out.write_all(&e.bytes)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(CliError::Output)?;
        }
    } else if !entries.is_empty() {
        write!(out, "{}", trace::render(id, &entries)).map_err(CliError::Output)?;
    }
    let outcome = if entries.is_empty() {
        eprintln!(
            "eventlog: no record of {id} (looked at trace_id, request_id, correlation_id, session_id)"
        );
        Outcome::Negative
    } else {
        Outcome::Done
    };
    Ok(after_reading(&read, outcome))
}
