//! `eventlog report`: volume and errors over time, in buckets, so a spike
//! or a quiet gap shows at a glance.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::filter::{Filter, level_rank};
use crate::view::RecordView;

/// Bucket widths `--bucket auto` chooses from, in seconds.
const WIDTHS: [i64; 12] = [
    1,
    5,
    10,
    30,
    60,
    300,
    600,
    1800,
    3600,
    6 * 3600,
    86_400,
    7 * 86_400,
];

/// The widest of [`WIDTHS`].
// A constant index into a constant array: out of bounds would not compile.
#[allow(clippy::indexing_slicing)]
const WIDEST: i64 = WIDTHS[WIDTHS.len() - 1];

/// At most this many buckets in a report, whatever `--bucket` says.
const MAX_BUCKETS: i64 = 100_000;

/// At most this many buckets with `--bucket auto`.
const AUTO_BUCKETS: i64 = 40;

/// Counts of one second, merged into buckets at the end (so the width can
/// be chosen once the time range is known, in one pass over the files).
#[derive(Debug, Default, Clone)]
struct Counts {
    records: u64,
    warnings: u64,
    errors: u64,
    error_types: BTreeMap<String, u64>,
    /// Records carrying `metadata.sample_rate`, and every record weighted
    /// by `1 / sample_rate` (1 without one).
    sampled: u64,
    weighted: f64,
}

impl Counts {
    fn merge(&mut self, other: &Counts) {
        self.records += other.records;
        self.sampled += other.sampled;
        self.weighted += other.weighted;
        self.warnings += other.warnings;
        self.errors += other.errors;
        for (k, n) in &other.error_types {
            *self.error_types.entry(k.clone()).or_insert(0) += n;
        }
    }
}

/// One bucket of the report.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Bucket {
    /// Its start, RFC 3339 UTC.
    pub(crate) start: String,
    pub(crate) records: u64,
    pub(crate) warnings: u64,
    /// Records at ERROR level or of the `error` category.
    pub(crate) errors: u64,
    /// `metadata.error_type` of those errors, largest first.
    pub(crate) error_types: Vec<(String, u64)>,
    /// With sampled records in the files: the bucket's records re-weighted
    /// by `1 / sample_rate`, rounded (an estimate of what was emitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) estimated_records: Option<u64>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) bucket_seconds: i64,
    pub(crate) buckets: Vec<Bucket>,
    /// Records without a valid timestamp (not in any bucket).
    pub(crate) untimed: u64,
    /// Lines over `--max-line-bytes`, skipped (so in no bucket).
    pub(crate) too_long_lines: u64,
    /// Records carrying `metadata.sample_rate` (a sampler kept them).
    pub(crate) sampled_records: u64,
    /// The zone bucket starts are shown in (`--tz`), for the text's header.
    #[serde(skip)]
    pub(crate) zone: String,
}

/// Accumulates per-second counts.
#[derive(Debug, Default)]
pub(crate) struct Reporter {
    seconds: BTreeMap<i64, Counts>,
    untimed: u64,
}

impl Reporter {
    /// Adds `other`'s seconds (another part of the files) to these.
    pub(crate) fn merge(&mut self, other: Reporter) {
        self.untimed += other.untimed;
        for (second, counts) in other.seconds {
            self.seconds.entry(second).or_default().merge(&counts);
        }
    }

    pub(crate) fn add(&mut self, record: &RecordView<'_>, filter: &Filter) {
        if !filter.matches(record) {
            return;
        }
        let Some(t) = record.timestamp() else {
            self.untimed += 1;
            return;
        };
        let c = self.seconds.entry(t.as_second()).or_default();
        c.records += 1;
        if let Some((sampled, weight)) = record.sampling_weight() {
            c.sampled += u64::from(sampled);
            c.weighted += weight;
        }
        let level = record.str_of("level").and_then(level_rank);
        let is_error = level == Some(4) || record.str_of("event_type") == Some("error");
        if is_error {
            c.errors += 1;
            if let Some(e) = record
                .get("metadata")
                .and_then(|m| m.get_key("error_type"))
                .and_then(crate::view::FieldRef::as_str)
            {
                *c.error_types.entry(e.to_owned()).or_insert(0) += 1;
            }
        } else if level == Some(3) {
            c.warnings += 1;
        }
    }

    /// Buckets of `width` seconds (`None`: the smallest of [`WIDTHS`] that
    /// gives at most 40, or whole weeks), from the first record's bucket to
    /// the last's, empty ones included; an error if that is more than
    /// [`MAX_BUCKETS`] (records years apart in 1 s buckets).
    /// Bucket starts are cut in UTC and shown in `zone`.
    pub(crate) fn finish(
        self,
        width: Option<i64>,
        zone: &crate::zone::Zone,
    ) -> Result<Report, crate::outcome::CliError> {
        let (Some(&first), Some(&last)) = (self.seconds.keys().next(), self.seconds.keys().last())
        else {
            return Ok(Report {
                bucket_seconds: width.unwrap_or(WIDTHS[0]),
                buckets: Vec::new(),
                untimed: self.untimed,
                too_long_lines: 0,
                sampled_records: 0,
                zone: zone.name().to_owned(),
            });
        };
        let width = width.unwrap_or_else(|| {
            WIDTHS
                .into_iter()
                .find(|w| (last.div_euclid(*w) - first.div_euclid(*w)) < AUTO_BUCKETS)
                // Years of records: whole weeks, at most 40 of them.
                .unwrap_or_else(|| ((last - first) / AUTO_BUCKETS / WIDEST + 1) * WIDEST)
        });
        let mut merged: BTreeMap<i64, Counts> = BTreeMap::new();
        for (second, counts) in &self.seconds {
            merged
                .entry(second.div_euclid(width))
                .or_default()
                .merge(counts);
        }
        let (from, to) = (first.div_euclid(width), last.div_euclid(width));
        // Timestamps span ±10 000 years: no overflow.
        let count = to - from + 1;
        if count > MAX_BUCKETS {
            return Err(crate::outcome::CliError::BadArgument {
                arg: "--bucket",
                value: width_text(width),
                expected: "a width giving at most 100 000 buckets over the records' time range (wider buckets, or --since / --until)",
            });
        }
        let empty = Counts::default();
        let sampled_records: u64 = self.seconds.values().map(|c| c.sampled).sum();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // Sums of weights of at least 1 (or 0): finite, not negative.
        let estimate = |c: &Counts| (sampled_records > 0).then(|| c.weighted.round() as u64);
        let buckets = (from..=to)
            .map(|b| {
                let c = merged.get(&b).unwrap_or(&empty);
                let mut error_types: Vec<(String, u64)> =
                    c.error_types.iter().map(|(k, n)| (k.clone(), *n)).collect();
                error_types.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Bucket {
                    // Before the earliest time for a huge width: the earliest.
                    start: zone.show(
                        b.checked_mul(width)
                            .and_then(|s| Timestamp::from_second(s).ok())
                            .unwrap_or(Timestamp::MIN),
                    ),
                    records: c.records,
                    warnings: c.warnings,
                    errors: c.errors,
                    error_types,
                    estimated_records: estimate(c),
                }
            })
            .collect();
        Ok(Report {
            bucket_seconds: width,
            buckets,
            untimed: self.untimed,
            too_long_lines: 0,
            sampled_records,
            zone: zone.name().to_owned(),
        })
    }
}

/// `--bucket`: `auto`, or a width such as `10s`, `1m`, `1h`, `1d`.
pub(crate) fn parse_width(text: &str) -> Result<Option<i64>, crate::outcome::CliError> {
    parse_width_for("--bucket", text)
}

/// The widest bucket a flag takes: a year (a wider one would put every
/// record in one bucket starting in 1970).
pub(crate) const MAX_WIDTH: i64 = 366 * 86_400;

/// [`parse_width`] for the flag `arg` (its name is in the error).
pub(crate) fn parse_width_for(
    arg: &'static str,
    text: &str,
) -> Result<Option<i64>, crate::outcome::CliError> {
    if text == "auto" {
        return Ok(None);
    }
    let bad = || crate::outcome::CliError::BadArgument {
        arg,
        value: text.to_owned(),
        expected: "auto, or a width from 1s to 366d such as 10s, 1m, 15m, 1h, 1d",
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    match n.checked_mul(unit) {
        Some(w) if (1..=MAX_WIDTH).contains(&w) => Ok(Some(w)),
        _ => Err(bad()),
    }
}

fn width_text(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl Report {
    /// A table with a bar per bucket; `!` marks buckets whose error share
    /// is at least twice the whole range's (and holds 3 errors or more).
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let total: u64 = self.buckets.iter().map(|b| b.records).sum();
        let errors: u64 = self.buckets.iter().map(|b| b.errors).sum();
        let max = self.buckets.iter().map(|b| b.records).max().unwrap_or(0);
        #[allow(clippy::cast_precision_loss)] // Shares for display.
        let share = |e: u64, n: u64| if n == 0 { 0.0 } else { e as f64 / n as f64 };
        let overall = share(errors, total);
        let _ = writeln!(
            out,
            "{} records in {} buckets of {}, {errors} errors ({:.1} %){}",
            total,
            self.buckets.len(),
            width_text(self.bucket_seconds),
            overall * 100.0,
            if self.untimed > 0 {
                format!(", {} without a timestamp", self.untimed)
            } else {
                String::new()
            }
        );
        if self.sampled_records > 0 {
            let estimated: u64 = self
                .buckets
                .iter()
                .filter_map(|b| b.estimated_records)
                .sum();
            let _ = writeln!(
                out,
                "{} records carry sample_rate: about {estimated} events before sampling (each weighted 1 / sample_rate; per bucket in --json)",
                self.sampled_records
            );
        }
        // Labels in UTC drop the `Z` the header says; with an offset they keep it.
        let labels: Vec<&str> = self
            .buckets
            .iter()
            .map(|b| b.start.trim_end_matches('Z'))
            .collect();
        let header = format!("bucket ({})", self.zone);
        let wide = labels
            .iter()
            .map(|l| l.chars().count() + 1)
            .chain([21, header.chars().count()])
            .max()
            .unwrap_or(21);
        let _ = writeln!(
            out,
            "{header:<wide$} {:>9} {:>7} {:>7} {:>7}  {:<20}  top error types",
            "records", "warn", "errors", "error%", "volume"
        );
        for (b, start) in self.buckets.iter().zip(labels) {
            let bar_len = (b.records * 20)
                .checked_div(max)
                .map_or(0, |n| usize::try_from(n).unwrap_or(20));
            let bar: String = "█".repeat(bar_len);
            let s = share(b.errors, b.records);
            let flag = if b.errors >= 3 && s >= 2.0 * overall && overall > 0.0 {
                '!'
            } else {
                ' '
            };
            let types: Vec<String> = b
                .error_types
                .iter()
                .take(3)
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let label = format!("{start}{flag}");
            let _ = writeln!(
                out,
                "{label:<wide$} {:>9} {:>7} {:>7} {:>6.1}%  {bar:<20}  {}",
                b.records,
                b.warnings,
                b.errors,
                s * 100.0,
                types.join(", ")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn add(r: &mut Reporter, v: Value) {
        let Value::Object(m) = v else { unreachable!() };
        r.add(&RecordView::Full(&m), &Filter::default());
    }

    #[test]
    fn seconds_merge_into_buckets_with_empty_ones_kept() {
        let mut r = Reporter::default();
        add(
            &mut r,
            json!({"timestamp": "2026-12-01T10:00:05Z", "level": "INFO"}),
        );
        add(
            &mut r,
            json!({"timestamp": "2026-12-01T10:00:59.9Z", "level": "WARN"}),
        );
        add(
            &mut r,
            json!({"timestamp": "2026-12-01T10:02:00Z", "level": "ERROR", "metadata": {"error_type": "timeout"}}),
        );
        add(
            &mut r,
            json!({"timestamp": "2026-12-01T10:02:30Z", "level": "INFO", "event_type": "error"}),
        );
        add(&mut r, json!({"level": "INFO"}));
        let report = r.finish(Some(60), &crate::zone::Zone::default()).unwrap();
        let rows: Vec<(&str, u64, u64, u64)> = report
            .buckets
            .iter()
            .map(|b| (b.start.as_str(), b.records, b.warnings, b.errors))
            .collect();
        assert_eq!(
            rows,
            [
                ("2026-12-01T10:00:00Z", 2, 1, 0),
                ("2026-12-01T10:01:00Z", 0, 0, 0),
                ("2026-12-01T10:02:00Z", 2, 0, 2)
            ]
        );
        assert_eq!(
            report.buckets.get(2).map(|b| b.error_types.as_slice()),
            Some([("timeout".to_owned(), 1)].as_slice())
        );
        assert_eq!(report.untimed, 1);
    }

    #[test]
    fn auto_width_keeps_at_most_forty_buckets() {
        let mut r = Reporter::default();
        add(&mut r, json!({"timestamp": "2026-12-01T10:00:00Z"}));
        add(&mut r, json!({"timestamp": "2026-12-01T11:30:00Z"}));
        let report = r.finish(None, &crate::zone::Zone::default()).unwrap();
        // 90 minutes: 5 minutes is the smallest width with ≤ 40 buckets.
        assert_eq!(report.bucket_seconds, 300);
        assert_eq!(report.buckets.len(), 19);
    }

    #[test]
    fn extreme_times_and_widths_neither_panic_nor_explode() {
        let ends = || {
            let mut r = Reporter::default();
            for t in [Timestamp::MIN, Timestamp::MAX] {
                add(&mut r, json!({"timestamp": t.to_string()}));
            }
            r
        };
        let auto = ends().finish(None, &crate::zone::Zone::default()).unwrap();
        assert!(auto.buckets.len() <= 41, "{}", auto.buckets.len());
        assert!(
            ends()
                .finish(Some(1), &crate::zone::Zone::default())
                .is_err(),
            "6e11 buckets refused"
        );
        let one = ends()
            .finish(Some(i64::MAX), &crate::zone::Zone::default())
            .unwrap();
        assert!(one.buckets.len() <= 2);
        assert_eq!(
            one.buckets.first().map(|b| b.start.as_str()),
            Some(Timestamp::MIN.to_string().as_str())
        );
    }

    proptest::proptest! {
        /// Any two times and any width: a report of at most `MAX_BUCKETS`
        /// buckets holding every record, or an error; never a panic.
        #[test]
        fn any_times_and_width(
            a in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            b in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            width in proptest::option::of(1..=i64::MAX),
        ) {
            let mut r = Reporter::default();
            for s in [a, b] {
                let t = Timestamp::from_second(s).unwrap();
                add(&mut r, json!({"timestamp": t.to_string()}));
            }
            if let Ok(report) = r.finish(width, &crate::zone::Zone::default()) {
                let n = report.buckets.len();
                proptest::prop_assert!(i64::try_from(n).unwrap() <= MAX_BUCKETS);
                if width.is_none() {
                    proptest::prop_assert!(n <= 41, "{n}");
                }
                let total: u64 = report.buckets.iter().map(|b| b.records).sum();
                proptest::prop_assert_eq!(total, 2);
            } else {
                proptest::prop_assert!(width.is_some(), "auto never fails");
            }
        }

        #[test]
        fn any_width_text_parses_or_is_refused(text in "\\PC*") {
            if let Ok(Some(w)) = parse_width(&text) {
                proptest::prop_assert!((1..=MAX_WIDTH).contains(&w));
            }
        }
    }

    #[test]
    fn widths_parse() {
        assert_eq!(parse_width("auto").unwrap(), None);
        assert_eq!(parse_width("10s").unwrap(), Some(10));
        assert_eq!(parse_width("15m").unwrap(), Some(900));
        assert_eq!(parse_width("2h").unwrap(), Some(7200));
        for bad in ["0s", "m", "5w", "-1m", "367d", "99999999999999d"] {
            assert!(parse_width(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_width("366d").unwrap(), Some(MAX_WIDTH));
        let named = parse_width_for("--every", "0s").unwrap_err().to_string();
        assert!(named.contains("--every"), "{named}");
        assert_eq!(width_text(900), "15m");
        assert_eq!(width_text(86_400), "1d");
        assert_eq!(width_text(7), "7s");
    }
}
