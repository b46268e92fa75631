//! `eventlog validate`: every line against the envelope and, if given, a schema.

use std::path::{Path, PathBuf};

use super::shared::{Out, Settings, after_reading, write_result};
use crate::filter;
use crate::input;
use crate::outcome::{CliError, Outcome};
use crate::validate;

pub(crate) fn validate_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    schema: Option<&Path>,
    examples: usize,
    json: bool,
) -> Result<Outcome, CliError> {
    let loaded = schema.map(eventlog::Schema::from_file).transpose()?;
    let found = input::collect(paths)?;
    let validator = std::cell::RefCell::new(validate::Validator::new(
        loaded.as_ref(),
        examples,
        settings.max_line,
    ));
    let everything = filter::Prefilter::default();
    // Line problems are validation problems, in the report: nothing on stderr.
    let read = input::for_each_line(
        found,
        settings.reading(&everything, true),
        |line| validator.borrow_mut().line(&line),
        |file, number| validator.borrow_mut().too_long(file, number),
    );
    let outcome = after_reading(&read, Outcome::Done);
    let report = validator.into_inner().finish(read);
    write_result(out, json, &report, || report.render(schema))?;
    Ok(if outcome == Outcome::Incomplete {
        outcome
    } else if report.passed() {
        Outcome::Done
    } else {
        Outcome::Negative
    })
}
