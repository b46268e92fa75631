//! `eventlog trace`: one trace or request's records, in time order.

use std::io::Write as _;
use std::path::PathBuf;

use super::shared::{Out, Settings, after_reading};
use crate::filter;
use crate::input;
use crate::outcome::{CliError, Outcome};
use crate::scan;
use crate::trace;

/// Finds the id's records: the lazy view decides, the few that belong
/// are parsed in full for the timeline.
struct TraceTask<'a> {
    id: &'a str,
    renames: &'a eventlog::KeyRenames,
}

impl scan::Task for TraceTask<'_> {
    type Part = Vec<trace::Entry>;
    fn part(&self) -> Self::Part {
        Vec::new()
    }
    fn line(&self, part: &mut Self::Part, line: &scan::ScanLine<'_>) {
        if trace::belongs(&line.record, self.id)
            && let Ok(record) = eventlog::ParsedRecord::parse_renamed(line.text, self.renames)
        {
            part.push(trace::entry(line.seq, line.bytes, record.into_map()));
        }
    }
}

pub(crate) fn trace_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    id: &str,
    json: bool,
) -> Result<Outcome, CliError> {
    let found = input::collect(paths)?;
    let mut entries = Vec::new();
    let prefilter = filter::Prefilter::string_value(id);
    let task = TraceTask {
        id,
        renames: settings.renames,
    };
    let blocks = crate::blocks::BlockTest::id(id);
    let read = scan::scan(
        found,
        settings.reading(&prefilter, false).skipping(&blocks),
        settings.threads,
        &task,
        |mut part| {
            entries.append(&mut part);
            std::ops::ControlFlow::Continue(())
        },
    );
    trace::sort(&mut entries);
    if json {
        for e in &entries {
            out.write_all(&e.bytes)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(CliError::Output)?;
        }
    } else if !entries.is_empty() {
        write!(out, "{}", trace::render(id, &entries, settings.zone)).map_err(CliError::Output)?;
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
