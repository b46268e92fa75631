//! What every command shares: how it reads (`Settings`), the files it
//! could not read named on stderr, and writing the answer.

use std::io::Write as _;
use std::path::PathBuf;

use crate::filter;
use crate::input;
use crate::outcome::{CliError, Outcome};
use crate::scan;
use crate::view::RecordView;

/// Names on stderr the files that could not be read (and those that went
/// away while reading a directory); `outcome`, or `Incomplete` if any
/// file could not be read.
pub(crate) fn after_reading(read: &input::ReadSummary, outcome: Outcome) -> Outcome {
    for file in &read.vanished {
        eprintln!(
            "eventlog: {}: gone before it could be read (rotated or deleted by retention meanwhile): skipped",
            file.display()
        );
    }
    for (file, why) in &read.unreadable {
        eprintln!("eventlog: {}: {why}", file.display());
    }
    if read.unreadable.is_empty() {
        outcome
    } else {
        Outcome::Incomplete
    }
}

/// How every command reads: renamed keys, the line cap, the threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings<'a> {
    pub(crate) renames: &'a eventlog::KeyRenames,
    pub(crate) max_line: usize,
    pub(crate) threads: usize,
    /// `--tz`: how times are shown.
    pub(crate) zone: &'a crate::zone::Zone,
}

impl<'a> Settings<'a> {
    pub(crate) fn reading(
        self,
        prefilter: &'a filter::Prefilter,
        quiet: bool,
    ) -> input::Reading<'a> {
        input::Reading {
            renames: self.renames,
            prefilter,
            max_line: self.max_line,
            quiet,
            blocks: &crate::blocks::EVERY_BLOCK,
        }
    }
}

pub(crate) type Out<'a> = std::io::BufWriter<std::io::StdoutLock<'a>>;

pub(crate) fn write_json(out: &mut Out<'_>, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| CliError::Output(e.into()))?;
    writeln!(out).map_err(CliError::Output)
}

/// A task whose parts are one accumulator, merged in any order.
pub(crate) struct Accumulate<'f, A, F> {
    pub(crate) new: F,
    pub(crate) add: fn(&mut A, &RecordView<'_>, &filter::Filter),
    pub(crate) filter: &'f filter::Filter,
}

impl<A: Send, F: Fn() -> A + Sync> scan::Task for Accumulate<'_, A, F> {
    type Part = A;
    fn part(&self) -> A {
        (self.new)()
    }
    fn line(&self, part: &mut A, line: &scan::ScanLine<'_>) {
        (self.add)(part, &line.record, self.filter);
    }
}

/// Every record of `paths` through `task` on every core, every line
/// looked at (no prefilter: the counts of lines are exact); the parts
/// merged with `merge`. Returns what reading cost.
pub(crate) fn read_records<A: Send>(
    settings: Settings<'_>,
    paths: &[PathBuf],
    task: &impl scan::Task<Part = A>,
    mut merge: impl FnMut(A),
) -> Result<input::ReadSummary, CliError> {
    let found = input::collect(paths)?;
    let everything = filter::Prefilter::default();
    Ok(scan::scan(
        found,
        settings.reading(&everything, false),
        settings.threads,
        task,
        |part| {
            merge(part);
            std::ops::ControlFlow::Continue(())
        },
    ))
}

/// Writes `result` as one JSON object, or as `text` renders it.
pub(crate) fn write_result(
    out: &mut Out<'_>,
    json: bool,
    result: &impl serde::Serialize,
    text: impl FnOnce() -> String,
) -> Result<Outcome, CliError> {
    if json {
        write_json(out, result)?;
    } else {
        write!(out, "{}", text()).map_err(CliError::Output)?;
    }
    Ok(Outcome::Done)
}
