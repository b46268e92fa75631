//! How `query` prints rows: an aligned table (its header in bold on a
//! terminal, unless `NO_COLOR` is set), JSON lines (one object per row,
//! keys in column order) or CSV (RFC 4180 quoting).

use std::io::Write;

use serde_json::Value;

use crate::aggregate::Table;
use crate::outcome::CliError;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Table,
    Jsonl,
    Csv,
}

impl Format {
    pub(crate) fn parse(text: &str) -> Result<Self, CliError> {
        match text {
            "table" => Ok(Format::Table),
            "jsonl" | "json" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            _ => Err(CliError::BadArgument {
                arg: "--format",
                value: text.to_owned(),
                expected: "table, jsonl or csv",
            }),
        }
    }
}

/// A cell as text: strings as they are, null as nothing, the rest as JSON.
fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether stdout gets colour: a terminal, and `NO_COLOR` unset or empty
/// (<https://no-color.org>).
pub(crate) fn colour() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn write_table(
    out: &mut impl Write,
    table: &Table,
    format: Format,
    colour: bool,
) -> Result<(), CliError> {
    let e = CliError::Output;
    match format {
        Format::Jsonl => {
            for row in &table.rows {
                let object: serde_json::Map<String, Value> = table
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect();
                serde_json::to_writer(&mut *out, &object).map_err(|x| e(x.into()))?;
                writeln!(out).map_err(e)?;
            }
        }
        Format::Csv => {
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            writeln!(out, "{}", line(table.columns.clone())).map_err(e)?;
            for row in &table.rows {
                writeln!(out, "{}", line(row.iter().map(cell_text).collect())).map_err(e)?;
            }
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = table
                .rows
                .iter()
                .map(|r| r.iter().map(cell_text).collect())
                .collect();
            let width = |i: usize| {
                cells
                    .iter()
                    .filter_map(|r| r.get(i))
                    .chain(table.columns.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let widths: Vec<usize> = (0..table.columns.len()).map(width).collect();
            // Numbers right-aligned, like a spreadsheet.
            let numeric: Vec<bool> = (0..table.columns.len())
                .map(|i| {
                    table
                        .rows
                        .iter()
                        .filter_map(|r| r.get(i))
                        .all(|v| v.is_number() || v.is_null())
                })
                .collect();
            let mut header = String::new();
            for (i, c) in table.columns.iter().enumerate() {
                push_cell(
                    &mut header,
                    c,
                    widths.get(i).copied().unwrap_or(0),
                    numeric.get(i) == Some(&true),
                    i + 1 == widths.len(),
                );
            }
            if colour {
                writeln!(out, "\u{1b}[1m{header}\u{1b}[0m").map_err(e)?;
            } else {
                writeln!(out, "{header}").map_err(e)?;
            }
            for row in &cells {
                let mut line = String::new();
                for (i, c) in row.iter().enumerate() {
                    push_cell(
                        &mut line,
                        c,
                        widths.get(i).copied().unwrap_or(0),
                        numeric.get(i) == Some(&true),
                        i + 1 == row.len(),
                    );
                }
                writeln!(out, "{line}").map_err(e)?;
            }
        }
    }
    Ok(())
}

fn push_cell(line: &mut String, text: &str, width: usize, right: bool, last: bool) {
    let pad = width.saturating_sub(text.chars().count());
    if right {
        line.extend(std::iter::repeat_n(' ', pad));
        line.push_str(text);
    } else {
        line.push_str(text);
        if !last {
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    if !last {
        line.push_str("  ");
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line end.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            columns: vec!["reason".into(), "count".into()],
            rows: vec![
                vec![Value::from("card, declined"), Value::from(12)],
                vec![Value::Null, Value::from(3)],
            ],
        }
    }

    fn written(format: Format, colour: bool) -> String {
        let mut out = Vec::new();
        write_table(&mut out, &table(), format, colour).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_align_csv_quotes_jsonl_keeps_types() {
        assert_eq!(
            written(Format::Table, false),
            "reason          count\ncard, declined     12\n                    3\n"
        );
        assert!(written(Format::Table, true).starts_with("\u{1b}[1mreason"));
        assert_eq!(
            written(Format::Csv, false),
            "reason,count\n\"card, declined\",12\n,3\n"
        );
        assert_eq!(
            written(Format::Jsonl, false),
            "{\"reason\":\"card, declined\",\"count\":12}\n{\"reason\":null,\"count\":3}\n"
        );
    }
}
