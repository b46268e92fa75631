//! `eventlog query`: the matching lines as they are in the files, their
//! count, chosen fields of them, or aggregations over them.

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::PathBuf;

use serde_json::Value;

use super::shared::{Out, Settings, after_reading};
use crate::aggregate::{Groups, Spec, Table};
use crate::filter::Filter;
use crate::format::{Format, colour, write_table};
use crate::input;
use crate::outcome::{CliError, Outcome};
use crate::scan::{self, ScanLine, Task};

/// What `query` prints besides the filter.
#[derive(Debug, Default)]
pub(crate) struct Ask {
    /// Records (or rows) printed at most.
    pub(crate) limit: Option<u64>,
    /// Only how many records match.
    pub(crate) count: bool,
    pub(crate) spec: Spec,
    /// `--fields`: these values of each record instead of the line.
    pub(crate) fields: Vec<String>,
    /// `--sort COLUMN[:desc]`, in order.
    pub(crate) sort: Vec<(String, bool)>,
    /// `--format`; `None`: a table for aggregations, JSON lines otherwise.
    pub(crate) format: Option<Format>,
}

/// Matching lines, as they are, at most `limit` per unit (the merge cuts the rest).
struct Lines<'a> {
    filter: &'a Filter,
    limit: Option<u64>,
    count: bool,
}

impl Task for Lines<'_> {
    type Part = (u64, Vec<u8>);
    fn part(&self) -> Self::Part {
        (0, Vec::new())
    }
    fn full(&self, (matched, _): &Self::Part) -> bool {
        self.limit.is_some_and(|l| *matched >= l)
    }
    fn line(&self, (matched, out): &mut Self::Part, line: &ScanLine<'_>) {
        if self.limit.is_some_and(|l| *matched >= l) || !self.filter.matches(&line.record) {
            return;
        }
        *matched += 1;
        if !self.count {
            out.extend_from_slice(line.bytes);
            out.push(b'\n');
        }
    }
}

/// `--fields`: one row of values per matching record.
struct Rows<'a> {
    filter: &'a Filter,
    fields: &'a [String],
    /// Without `--sort`, no unit needs more rows than the limit.
    limit: Option<u64>,
}

impl Task for Rows<'_> {
    type Part = Vec<Vec<Value>>;
    fn part(&self) -> Self::Part {
        Vec::new()
    }
    fn full(&self, rows: &Self::Part) -> bool {
        self.limit.is_some_and(|l| rows.len() as u64 >= l)
    }
    fn line(&self, rows: &mut Self::Part, line: &ScanLine<'_>) {
        if self.limit.is_some_and(|l| rows.len() as u64 >= l) || !self.filter.matches(&line.record)
        {
            return;
        }
        rows.push(
            self.fields
                .iter()
                .map(|f| {
                    line.record
                        .lookup(f)
                        .map_or(Value::Null, crate::view::FieldRef::to_value)
                })
                .collect(),
        );
    }
}

/// Aggregations: groups per unit, merged.
struct Aggregate<'a> {
    filter: &'a Filter,
    spec: &'a Spec,
}

impl Task for Aggregate<'_> {
    type Part = Groups;
    fn part(&self) -> Groups {
        Groups::default()
    }
    fn line(&self, groups: &mut Groups, line: &ScanLine<'_>) {
        if self.filter.matches(&line.record) {
            groups.add(self.spec, &line.record);
        }
    }
}

pub(crate) fn query_command(
    out: &mut Out<'_>,
    settings: Settings<'_>,
    paths: &[PathBuf],
    filter: &Filter,
    ask: &Ask,
) -> Result<Outcome, CliError> {
    let found = input::collect(paths)?;
    let prefilter = filter.prefilter();
    let blocks = crate::blocks::BlockTest::of(filter);
    let reading = settings.reading(&prefilter, false).skipping(&blocks);
    let mut failed: Option<std::io::Error> = None;
    let (matched, read) = if ask.spec.is_some() {
        let mut groups = Groups::default();
        let task = Aggregate {
            filter,
            spec: &ask.spec,
        };
        let read = scan::scan(found, reading, settings.threads, &task, |part| {
            groups.merge(part);
            ControlFlow::Continue(())
        });
        let table = groups.into_table(&ask.spec, &ask.sort, ask.limit, settings.zone)?;
        write_table(out, &table, ask.format.unwrap_or(Format::Table), colour())?;
        (table.rows.len() as u64, read)
    } else if !ask.fields.is_empty() {
        // Sorted rows need them all; unsorted ones stop at the limit.
        let unit_limit = ask.limit.filter(|_| ask.sort.is_empty());
        let task = Rows {
            filter,
            fields: &ask.fields,
            limit: unit_limit,
        };
        let mut table = Table {
            columns: ask.fields.clone(),
            rows: Vec::new(),
        };
        let read = scan::scan(found, reading, settings.threads, &task, |mut part| {
            table.rows.append(&mut part);
            if unit_limit.is_some_and(|l| table.rows.len() as u64 >= l) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        sort_rows(&mut table, &ask.sort)?;
        if let Some(l) = ask.limit {
            table
                .rows
                .truncate(usize::try_from(l).unwrap_or(usize::MAX));
        }
        write_table(out, &table, ask.format.unwrap_or(Format::Jsonl), colour())?;
        (table.rows.len() as u64, read)
    } else {
        let task = Lines {
            filter,
            limit: ask.limit,
            count: ask.count,
        };
        let mut matched = 0u64;
        let read = scan::scan(found, reading, settings.threads, &task, |(n, bytes)| {
            let room = ask.limit.map_or(n, |l| n.min(l.saturating_sub(matched)));
            if !ask.count && failed.is_none() && room > 0 {
                let upto = if room == n {
                    bytes.len()
                } else {
                    // The first `room` lines of the part.
                    memchr::memchr_iter(b'\n', &bytes)
                        .nth(
                            usize::try_from(room)
                                .unwrap_or(usize::MAX)
                                .saturating_sub(1),
                        )
                        .map_or(0, |i| i + 1)
                };
                if let Err(e) = out.write_all(bytes.get(..upto).unwrap_or_default()) {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
            matched += room;
            if ask.limit.is_some_and(|l| matched >= l) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if let Some(e) = failed.take() {
            return Err(CliError::Output(e));
        }
        if ask.count {
            writeln!(out, "{matched}").map_err(CliError::Output)?;
        }
        (matched, read)
    };
    if matched == 0 {
        explain_window(filter, paths, settings);
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

/// Sorts projected rows by `--sort` columns.
fn sort_rows(table: &mut Table, sort: &[(String, bool)]) -> Result<(), CliError> {
    let mut order = Vec::new();
    for (name, desc) in sort {
        let i = table
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or(CliError::BadArgument {
                arg: "--sort",
                value: name.clone(),
                expected: "one of the --fields, with :asc or :desc",
            })?;
        order.push((i, *desc));
    }
    if !order.is_empty() {
        table.rows.sort_by(|a, b| {
            for &(i, desc) in &order {
                let o = crate::aggregate::compare(a.get(i), b.get(i));
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    Ok(())
}

/// Nothing matched a `--since` window the files end before: says so,
/// with what the window was relative to, rather than a bare 0.
fn explain_window(filter: &Filter, paths: &[PathBuf], settings: Settings<'_>) {
    let Some(since) = filter.since else {
        return;
    };
    // Read again, only now: the tails of the files (see `newest_record`).
    let Some(newest) = input::collect(paths)
        .ok()
        .and_then(|found| scan::newest_record(&found, settings.max_line))
    else {
        return;
    };
    if newest >= since {
        return;
    }
    let said = filter.since_said.as_deref().unwrap_or("");
    eprintln!(
        "eventlog: the files end before the window: --since {said} is {}, and the newest record is {}; --since-last counts back from the newest record instead",
        settings.zone.show(since),
        settings.zone.show(newest)
    );
}
