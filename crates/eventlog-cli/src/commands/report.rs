//! `eventlog report`: volume and errors per time bucket, spikes marked.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::shared::{Accumulate, Out, Settings, after_reading, read_records, write_result};
use crate::filter::Filter;
use crate::outcome::{CliError, Outcome};
use crate::{html, report};

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
    let mut report = reporter.finish(width, settings.zone)?;
    report.too_long_lines = read.too_long_lines;
    write_result(out, json, &report, || report.render())?;
    Ok(outcome)
}

/// The HTML page of the records under `paths` that pass `filter`, with
/// the number of records it holds and what reading cost.
pub(crate) fn html_page(
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    funnel: Option<(Vec<String>, html::FunnelBy)>,
) -> Result<(String, u64, crate::input::ReadSummary), CliError> {
    let mut builder = match funnel {
        Some((steps, by)) => {
            html::check_steps(&steps).map_err(|expected| CliError::BadArgument {
                arg: "--funnel",
                value: steps.join(","),
                expected,
            })?;
            html::PageBuilder::with_funnel(steps, by)
        }
        None => html::PageBuilder::default(),
    };
    // Every core reads its share; the parts merge in read order, so the
    // funnel's per-id progress and the kept traces join across them.
    let template = builder.empty_like();
    let task = Accumulate {
        new: || template.empty_like(),
        add: |part: &mut html::PageBuilder, record, filter| {
            if filter.matches(record) {
                part.add(record);
            }
        },
        filter,
    };
    let read = read_records(settings, paths, &task, |part| builder.merge(part))?;
    let mut data = builder.finish();
    // Times on the page in `--tz`: the offsets over the records' range
    // (from a bucket before the first, as the charts start there).
    let first = jiff::Timestamp::from_millisecond(
        data.first_ms.div_euclid(data.bucket_ms.max(1)) * data.bucket_ms.max(1),
    );
    let last = jiff::Timestamp::from_millisecond(data.last_ms.saturating_add(data.bucket_ms));
    if let (Ok(first), Ok(last)) = (first, last) {
        data.zone = settings
            .zone
            .offsets(first, last)
            .map(|offsets| html::PageZone {
                name: settings.zone.name().to_owned(),
                offsets,
            });
    }
    let title = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let text = html::render(&data, &title).map_err(|e| CliError::Output(e.into()))?;
    Ok((text, data.records, read))
}

/// `report --html FILE [--funnel a,b,c]`: the page, written to FILE (or
/// stdout for `-`), its path and size said on stdout.
pub(crate) fn html_report_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    page: &Path,
    funnel: Option<(Vec<String>, html::FunnelBy)>,
) -> Result<Outcome, CliError> {
    let (text, records, read) = html_page(settings, paths, filter, funnel)?;
    let outcome = after_reading(&read, Outcome::Done);
    if page == Path::new("-") {
        out.write_all(text.as_bytes()).map_err(CliError::Output)?;
        return Ok(outcome);
    }
    std::fs::write(page, &text).map_err(|e| CliError::io(page, e))?;
    writeln!(
        out,
        "report: {} ({records} records, {} KB)",
        page.display(),
        text.len().div_ceil(1024)
    )
    .map_err(CliError::Output)?;
    Ok(outcome)
}
