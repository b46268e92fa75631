//! `eventlog stats`: what the files hold, counted.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::filter::Filter;
use crate::input::ReadSummary;
use crate::view::{FieldRef, RecordView};

/// The counts `stats` prints (and writes as JSON with `--json`).
#[derive(Debug, Default, Serialize)]
pub(crate) struct Stats {
    pub(crate) files: usize,
    pub(crate) gzip_files: usize,
    /// Every non-empty line read.
    pub(crate) lines: u64,
    /// Lines that are not JSON objects.
    pub(crate) invalid_lines: u64,
    /// Lines holding invalid UTF-8 (read with U+FFFD in its place).
    pub(crate) invalid_utf8_lines: u64,
    /// Lines over `--max-line-bytes`, skipped (counted in `lines`).
    pub(crate) too_long_lines: u64,
    /// Records that passed the filter and were counted.
    pub(crate) records: u64,
    pub(crate) first: Option<String>,
    pub(crate) last: Option<String>,
    pub(crate) by_level: BTreeMap<String, u64>,
    pub(crate) by_type: BTreeMap<String, u64>,
    pub(crate) by_event: BTreeMap<String, u64>,
    /// `metadata.error_type` of records that have one.
    pub(crate) by_error_type: BTreeMap<String, u64>,
    pub(crate) by_service: BTreeMap<String, u64>,
    /// Counted only with `--distinct` (a set of every id costs memory).
    pub(crate) distinct_traces: Option<usize>,
    pub(crate) distinct_requests: Option<usize>,
    pub(crate) distinct_users: Option<usize>,
    /// Records the layer annotated with `schema_errors` when writing them.
    pub(crate) with_schema_errors: u64,
    /// `duration_ms` of span-close records, by span name.
    pub(crate) durations_ms: BTreeMap<String, Durations>,
    /// Counts of each `--by` key's values (records without the key are not counted).
    pub(crate) by_key: BTreeMap<String, BTreeMap<String, u64>>,
    /// Records that carry `metadata.sample_rate` (kept by a sampler with
    /// that probability, in (0, 1]).
    pub(crate) sampled_records: u64,
    /// With sampled records: each event's count re-weighted, every record
    /// standing for `1 / sample_rate` (others for 1), rounded; the
    /// `events_suppressed` summaries are not events and are left out.
    /// An estimate of what the service emitted before sampling.
    pub(crate) estimated_by_event: BTreeMap<String, u64>,
    /// Events the layer's limits kept from every output, from the
    /// `events_suppressed` summaries' `suppressed` counts, by their
    /// `reason` (`rate_limited`, `sampled`): exact, not estimated.
    pub(crate) suppressed_by_reason: BTreeMap<String, u64>,
    /// Files that could not be read to the end, with the reason.
    pub(crate) unreadable: Vec<(String, String)>,
    /// Files of a directory gone before their turn (rotated or deleted
    /// meanwhile), skipped.
    pub(crate) vanished: Vec<String>,
}

/// Span durations: count and nearest-rank percentiles, in milliseconds.
#[derive(Debug, Default, Serialize, PartialEq)]
pub(crate) struct Durations {
    pub(crate) count: usize,
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) max: f64,
}

/// The nearest-rank percentile `p` (0–100) of sorted `values`.
fn percentile(sorted: &[f64], p: usize) -> f64 {
    let rank = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted
        .get(rank.min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

impl Durations {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Durations {
            count: values.len(),
            p50: percentile(&values, 50),
            p95: percentile(&values, 95),
            max: values.last().copied().unwrap_or(0.0),
        }
    }
}

/// Accumulates [`Stats`] record by record.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    stats: Stats,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    traces: HashSet<String>,
    requests: HashSet<String>,
    users: HashSet<String>,
    durations: BTreeMap<String, Vec<f64>>,
    /// Each event's records weighted by `1 / sample_rate`.
    weighted: BTreeMap<String, f64>,
    /// The `--by` keys.
    keys: Vec<String>,
    /// `--distinct`: collect the ids.
    distinct: bool,
}

fn add_counts(mine: &mut BTreeMap<String, u64>, theirs: BTreeMap<String, u64>) {
    for (k, n) in theirs {
        *mine.entry(k).or_insert(0) += n;
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else {
        map.insert(key.to_owned(), 1);
    }
}

impl Counter {
    /// A counter that also counts the values of each of `keys`, and the
    /// distinct ids if `distinct`.
    pub(crate) fn new(keys: Vec<String>, distinct: bool) -> Self {
        let mut counter = Counter::default();
        for key in &keys {
            counter.stats.by_key.insert(key.clone(), BTreeMap::new());
        }
        counter.keys = keys;
        counter.distinct = distinct;
        counter
    }

    /// Adds `other`'s counts (another part of the files) to these.
    pub(crate) fn merge(&mut self, other: Counter) {
        let (s, o) = (&mut self.stats, other.stats);
        s.records += o.records;
        s.with_schema_errors += o.with_schema_errors;
        for (mine, theirs) in [
            (&mut s.by_level, o.by_level),
            (&mut s.by_type, o.by_type),
            (&mut s.by_event, o.by_event),
            (&mut s.by_error_type, o.by_error_type),
            (&mut s.by_service, o.by_service),
        ] {
            add_counts(mine, theirs);
        }
        for (key, counts) in o.by_key {
            add_counts(s.by_key.entry(key).or_default(), counts);
        }
        self.traces.extend(other.traces);
        self.requests.extend(other.requests);
        self.users.extend(other.users);
        for (span, values) in other.durations {
            self.durations.entry(span).or_default().extend(values);
        }
        s.sampled_records += o.sampled_records;
        add_counts(&mut s.suppressed_by_reason, o.suppressed_by_reason);
        for (event, w) in other.weighted {
            *self.weighted.entry(event).or_default() += w;
        }
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub(crate) fn add(&mut self, record: &RecordView<'_>, filter: &Filter) {
        if !filter.matches(record) {
            return;
        }
        let s = &mut self.stats;
        s.records += 1;
        let str_of = |k: &str| record.str_of(k);
        bump(&mut s.by_level, str_of("level").unwrap_or("(none)"));
        bump(&mut s.by_type, str_of("event_type").unwrap_or("(none)"));
        let event = str_of("event_name").unwrap_or("(none)");
        bump(&mut s.by_event, event);
        let metadata = record.get("metadata");
        let number = |key: &str| {
            metadata
                .and_then(|m| m.get_key(key))
                .and_then(FieldRef::as_f64)
        };
        if event == eventlog::SUPPRESSED_EVENT {
            let reason = metadata
                .and_then(|m| m.get_key(eventlog::suppressed_fields::REASON))
                .and_then(FieldRef::as_str)
                .unwrap_or("(none)");
            let n = number(eventlog::suppressed_fields::SUPPRESSED)
                .filter(|n| n.is_finite() && *n >= 0.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // Finite and non-negative; the cast saturates.
            let n = n.map_or(0, |n| n as u64);
            let total = s.suppressed_by_reason.entry(reason.to_owned()).or_default();
            *total = total.saturating_add(n);
        } else if let Some((sampled, weight)) = record.sampling_weight() {
            s.sampled_records += u64::from(sampled);
            if let Some(w) = self.weighted.get_mut(event) {
                *w += weight;
            } else {
                self.weighted.insert(event.to_owned(), weight);
            }
        }
        if let Some(service) = str_of("service") {
            bump(&mut s.by_service, service);
        }
        if let Some(e) = metadata
            .and_then(|m| m.get_key("error_type"))
            .and_then(FieldRef::as_str)
        {
            bump(&mut s.by_error_type, e);
        }
        if record.contains_key("schema_errors") {
            s.with_schema_errors += 1;
        }
        if self.distinct {
            for (key, set) in [
                ("trace_id", &mut self.traces),
                ("request_id", &mut self.requests),
                ("user_id", &mut self.users),
            ] {
                if let Some(v) = str_of(key)
                    && !set.contains(v)
                {
                    set.insert(v.to_owned());
                }
            }
        }
        for key in &self.keys {
            if let Some(v) = record.lookup(key)
                && let Some(counts) = s.by_key.get_mut(key)
            {
                bump(counts, &v.as_text());
            }
        }
        if let Some(ms) = record.get("duration_ms").and_then(FieldRef::as_f64) {
            let span = record
                .get("span")
                .and_then(|s| s.get_key("name"))
                .and_then(FieldRef::as_str)
                .unwrap_or("(none)");
            if let Some(values) = self.durations.get_mut(span) {
                values.push(ms);
            } else {
                self.durations.insert(span.to_owned(), vec![ms]);
            }
        }
        if let Some(t) = record.timestamp() {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    /// The counts, times shown in `zone`.
    pub(crate) fn finish(mut self, read: ReadSummary, zone: &crate::zone::Zone) -> Stats {
        let s = &mut self.stats;
        s.files = read.files;
        s.gzip_files = read.gzip_files;
        s.lines = read.lines;
        s.invalid_lines = read.invalid_lines;
        s.invalid_utf8_lines = read.invalid_utf8_lines;
        s.too_long_lines = read.too_long_lines;
        s.vanished = read
            .vanished
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        s.first = self.first.map(|t| zone.show(t));
        s.last = self.last.map(|t| zone.show(t));
        if self.distinct {
            s.distinct_traces = Some(self.traces.len());
            s.distinct_requests = Some(self.requests.len());
            s.distinct_users = Some(self.users.len());
        }
        if s.sampled_records > 0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // Sums of weights of at least 1: finite and positive.
            let rounded = |w: f64| w.round() as u64;
            s.estimated_by_event = std::mem::take(&mut self.weighted)
                .into_iter()
                .map(|(event, w)| (event, rounded(w)))
                .collect();
        }
        s.durations_ms = std::mem::take(&mut self.durations)
            .into_iter()
            .map(|(span, values)| (span, Durations::of(values)))
            .collect();
        s.unreadable = read
            .unreadable
            .into_iter()
            .map(|(p, e)| (p.display().to_string(), e))
            .collect();
        self.stats
    }
}

/// `a 3, b 2, c 1`: largest first, then by name, at most `top`.
fn ranked(map: &BTreeMap<String, u64>, top: usize) -> String {
    let mut v: Vec<(&String, &u64)> = map.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut out = String::new();
    for (i, (k, n)) in v.iter().take(top).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{k} {n}");
    }
    if v.len() > top {
        let _ = write!(out, ", … ({} more)", v.len() - top);
    }
    out
}

impl Stats {
    /// The human summary.
    pub(crate) fn render(&self, top: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "files        {} ({} gzip-compressed), {} lines, {} records, {} invalid lines",
            self.files, self.gzip_files, self.lines, self.records, self.invalid_lines
        );
        if let (Some(first), Some(last)) = (&self.first, &self.last) {
            let span = match (first.parse::<Timestamp>(), last.parse::<Timestamp>()) {
                (Ok(f), Ok(l)) => format!(" ({:.3} s)", l.duration_since(f).as_secs_f64()),
                _ => String::new(),
            };
            let _ = writeln!(out, "time         {first} … {last}{span}");
        }
        let rows = [
            ("by level", &self.by_level),
            ("by category", &self.by_type),
            ("by service", &self.by_service),
            ("events", &self.by_event),
            ("error types", &self.by_error_type),
        ];
        for (name, map) in rows {
            if !map.is_empty() {
                let _ = writeln!(out, "{name:<12} {}", ranked(map, top));
            }
        }
        for (key, map) in &self.by_key {
            let values = if map.is_empty() {
                "(no record has it)".to_owned()
            } else {
                ranked(map, top)
            };
            let _ = writeln!(out, "by {key}: {values}");
        }
        if !self.durations_ms.is_empty() {
            let mut spans: Vec<(&String, &Durations)> = self.durations_ms.iter().collect();
            spans.sort_by(|a, b| b.1.p95.total_cmp(&a.1.p95).then_with(|| a.0.cmp(b.0)));
            let rows: Vec<String> = spans
                .iter()
                .take(top)
                .map(|(span, d)| {
                    format!(
                        "{span} p95 {:.2} ms (p50 {:.2}, max {:.2}, {} spans)",
                        d.p95, d.p50, d.max, d.count
                    )
                })
                .collect();
            let _ = writeln!(out, "span timing  {}", rows.join("; "));
        }
        if self.sampled_records > 0 {
            let total: u64 = self.estimated_by_event.values().sum();
            let _ = writeln!(
                out,
                "sampled      {} records carry sample_rate; about {total} events before sampling (each weighted 1 / sample_rate): {}",
                self.sampled_records,
                ranked(&self.estimated_by_event, top)
            );
        }
        if !self.suppressed_by_reason.is_empty() {
            let total: u64 = self.suppressed_by_reason.values().sum();
            let _ = writeln!(
                out,
                "suppressed   {total} events kept out by the limits ({}), from the events_suppressed summaries",
                ranked(&self.suppressed_by_reason, top)
            );
        }
        if let (Some(t), Some(r), Some(u)) = (
            self.distinct_traces,
            self.distinct_requests,
            self.distinct_users,
        ) {
            let _ = writeln!(out, "distinct     {t} traces, {r} requests, {u} users");
        }
        if self.with_schema_errors > 0 {
            let _ = writeln!(
                out,
                "schema       {} records carry schema_errors",
                self.with_schema_errors
            );
        }
        for (file, why) in &self.unreadable {
            let _ = writeln!(out, "unreadable   {file}: {why}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let d = Durations::of((1..=20).rev().map(f64::from).collect());
        assert_eq!(
            d,
            Durations {
                count: 20,
                p50: 10.0,
                p95: 19.0,
                max: 20.0
            }
        );
        assert_eq!(
            Durations::of(vec![4.0]),
            Durations {
                count: 1,
                p50: 4.0,
                p95: 4.0,
                max: 4.0
            }
        );
    }

    #[test]
    fn ranking_is_by_count_then_name_and_cut() {
        let map: BTreeMap<String, u64> = [("b", 2), ("a", 2), ("c", 5), ("d", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(ranked(&map, 10), "c 5, a 2, b 2, d 1");
        assert_eq!(ranked(&map, 2), "c 5, a 2, … (2 more)");
    }
}
