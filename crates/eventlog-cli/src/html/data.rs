//! What the HTML page embeds: the records aggregated once, here, into
//! counts the page can filter and re-slice in the browser without the
//! records themselves.
//!
//! ```text
//! records ─ add() ─> cube       (bucket, event_type, level, service, event) -> count
//!                    errors     (bucket, service, event, error_type)        -> count
//!                    latency    (series, bucket, log bin)                  -> count, and every value for exact percentiles
//!                    health     schema violations by event and kind, drops by output and reason
//!                    samples    the first records (the table, the trace view)
//! ```
//!
//! The page embeds the counts as runs (see [`runs`]): a key's counts in
//! position order, gaps as one negative number, so a million records'
//! aggregates stay within the page's 2 MB. Latency over time is kept for
//! the busiest series that fit [`LATENCY_BYTES`]; every series keeps its
//! exact whole-range percentiles.
//!
//! Time buckets start at 100 ms and widen by whole steps (0.5 s, 1 s,
//! 5 s, …, 1 week, each a multiple of the one before) as
//! soon as the records span more than [`MAX_BUCKETS`] of them, so one pass
//! suffices and memory stays bounded by the bucket count, not the records.

use std::collections::BTreeMap;

// FxHash: the maps are keyed by small integer arrays and short names, once
// per record (SipHash was a tenth of a report's instructions).
use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use super::funnel::{Funnel, FunnelBuilder, FunnelBy};
use crate::aggregate::quantile_cont;
use crate::view::{FieldRef, RecordView};

/// Bucket widths in milliseconds, from 100 ms (a short run) to a week;
/// each divides the next, so counts re-key exactly.
const WIDTHS_MS: [i64; 14] = [
    100,
    500,
    1_000,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
    21_600_000,
    86_400_000,
    604_800_000,
];

/// At most this many buckets between the first record and the last.
pub(crate) const MAX_BUCKETS: i64 = 240;

/// At most this many distinct values per dimension; the rest share
/// [`OTHER`], counted, so a field with a million values cannot grow the page.
const MAX_VALUES: usize = 400;

/// The value standing for everything past [`MAX_VALUES`].
const OTHER: &str = "(other)";

/// Records the page lists in full in its table, spread over the files.
const MAX_SAMPLES: usize = 400;

/// Traces the page holds whole for its trace view: those with an error
/// first, then the first ones seen.
const MAX_TRACES: usize = 25;

/// Records held per trace.
const MAX_TRACE_RECORDS: usize = 200;

/// Recent traces remembered while waiting to see whether they fail.
const RECENT_TRACES: usize = 256;

/// At most this many latency series; names past it share [`OTHER`] (per
/// kind and service), counted, so a million span names cannot grow the
/// page or the memory.
const MAX_SERIES: usize = 2_000;

/// Values kept for exact percentiles, over all series.
const MAX_LATENCY_VALUES: usize = 4_000_000;

/// Latency histogram bins: 8 per doubling from 1 µs, as in HDR-style
/// log histograms, so a bin's width is at most 9 % of its value.
const BINS_PER_DOUBLING: f64 = 8.0;
const SMALLEST_MS: f64 = 0.001;

/// Bins per time bucket in a latency position (`bucket * BIN_STRIDE +
/// bin`); values past the last bin (about 2^64 µs) share it.
pub(crate) const BIN_STRIDE: i64 = 512;

/// The embedded latency cells' budget, in bytes of JSON: series are kept
/// over time busiest first while they fit (about 1 MB: the rest of a
/// million records' page takes under 0.5 MB).
const LATENCY_BYTES: usize = 1_000_000;

/// Distinct values of one dimension, in first-seen order.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
struct Dictionary {
    values: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
    #[serde(skip)]
    other: Option<u32>,
}

impl Dictionary {
    fn id(&mut self, value: &str) -> u32 {
        if let Some(&id) = self.index.get(value) {
            return id;
        }
        if self.values.len() >= MAX_VALUES {
            if let Some(other) = self.other {
                return other;
            }
            let other = self.push(OTHER);
            self.other = Some(other);
            return other;
        }
        self.push(value)
    }

    /// For each of `other`'s values, its id here (added if new).
    fn absorb(&mut self, other: &Dictionary) -> Vec<i64> {
        other.values.iter().map(|v| i64::from(self.id(v))).collect()
    }

    fn push(&mut self, value: &str) -> u32 {
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.to_owned());
        self.index.insert(value.to_owned(), id);
        id
    }
}

/// One latency series: what it measures, where, and its values.
#[derive(Debug, Serialize)]
pub(crate) struct Series {
    /// `span` (a span's close record, `duration_ms`) or `event`
    /// (`metadata.duration_ms` / `metadata.latency_ms` of an event).
    pub(crate) kind: &'static str,
    /// The span's or the event's name.
    pub(crate) name: String,
    /// Index into the services: a series is one name in one service.
    pub(crate) service: u32,
    /// Index into the event names and the types, as its first record
    /// had them (for a span, its close record's), for the page's filters.
    pub(crate) event: u32,
    #[serde(rename = "type")]
    pub(crate) event_type: u32,
    /// The field measured.
    pub(crate) field: &'static str,
    pub(crate) count: u64,
    /// Exact (linear interpolation between closest ranks, as DuckDB's
    /// `quantile_cont`) over every value, whatever the page's filters.
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
    /// Whether its distribution over time is embedded (the busiest series
    /// that fit [`LATENCY_BYTES`]); without it a time range cannot
    /// re-slice its percentiles.
    pub(crate) over_time: bool,
    #[serde(skip)]
    values: Vec<f64>,
}

/// One record as the table and the trace view show it.
#[derive(Debug, Serialize)]
pub(crate) struct Sample {
    /// Milliseconds since the Unix epoch.
    pub(crate) t: i64,
    pub(crate) timestamp: String,
    pub(crate) level: String,
    pub(crate) event_type: String,
    pub(crate) service: String,
    pub(crate) event: String,
    pub(crate) message: String,
    pub(crate) trace_id: String,
    pub(crate) request_id: String,
    pub(crate) span: String,
    pub(crate) span_id: String,
    pub(crate) duration_ms: Option<f64>,
}

/// Everything the page embeds.
#[derive(Debug, Serialize)]
pub(crate) struct PageData {
    /// What the page says it aggregated.
    pub(crate) records: u64,
    /// Records without a valid timestamp (counted, not charted).
    pub(crate) untimed: u64,
    /// Records carrying `metadata.sample_rate` (a sampler kept them), and
    /// every record but the `events_suppressed` summaries weighted by
    /// `1 / sample_rate` (1 without one), rounded: what was emitted
    /// before sampling, estimated. The charts count records as written.
    pub(crate) sampled_records: u64,
    pub(crate) estimated_events: u64,
    /// Milliseconds since the epoch of the first and last record.
    pub(crate) first_ms: i64,
    pub(crate) last_ms: i64,
    /// Width of a time bucket, in milliseconds; bucket `b` starts at
    /// `b * bucket_ms` since the epoch.
    pub(crate) bucket_ms: i64,
    /// [`BIN_STRIDE`]: a latency position is `bucket * bin_stride + bin`.
    pub(crate) bin_stride: i64,
    pub(crate) types: Vec<String>,
    pub(crate) levels: Vec<String>,
    pub(crate) services: Vec<String>,
    pub(crate) events: Vec<String>,
    pub(crate) error_types: Vec<String>,
    /// `[bucket, type, level, service, event, count]`, embedded as
    /// [`runs`] of `[type, level, service, event]` over buckets.
    #[serde(serialize_with = "cube_runs")]
    pub(crate) cube: Vec<[i64; 6]>,
    /// `[bucket, service, event, error_type, count]` for records at ERROR
    /// or of the `error` category, embedded as [`runs`] of
    /// `[service, event, error_type]` over buckets.
    #[serde(serialize_with = "error_runs")]
    pub(crate) errors: Vec<[i64; 5]>,
    pub(crate) series: Vec<Series>,
    /// `[series, bucket, bin, count]` of the series kept over time;
    /// bin `k` holds values in `[0.001 ms · 2^(k/8), 0.001 ms · 2^((k+1)/8))`.
    /// Embedded as [`runs`] of `[series]` over `bucket * BIN_STRIDE + bin`.
    #[serde(serialize_with = "latency_runs")]
    pub(crate) latency: Vec<[i64; 4]>,
    /// Schema violations: `[event, kind, count]` (kinds with names elided).
    pub(crate) violations: Vec<(String, String, u64)>,
    /// Records that carry `schema_errors`.
    pub(crate) violating_records: u64,
    /// From the self-report records: `[output, reason, dropped]`.
    pub(crate) drops: Vec<(String, String, u64)>,
    pub(crate) samples: Vec<Sample>,
    /// Every record the page holds of a few whole traces, by trace id.
    pub(crate) traces: BTreeMap<String, Vec<Sample>>,
    /// With `--funnel`: how far ids got through its steps.
    pub(crate) funnel: Option<Funnel>,
    /// With `--tz` other than UTC: where the page shows its times.
    pub(crate) zone: Option<PageZone>,
}

/// The zone the page shows times in, as offsets the script applies: the
/// zone's rules are resolved here (jiff and the system's tz database), so
/// the page needs no time zone data of the browser's.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct PageZone {
    pub(crate) name: String,
    /// `(since, offset)`: from `since` (ms since the epoch) the zone is
    /// `offset` seconds ahead of UTC; in time order, the first at the
    /// first record.
    pub(crate) offsets: Vec<(i64, i32)>,
}

/// The aggregation in progress.
#[derive(Debug, Default)]
pub(crate) struct PageBuilder {
    records: u64,
    untimed: u64,
    sampled: u64,
    weighted: f64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    width_step: usize,
    types: Dictionary,
    levels: Dictionary,
    services: Dictionary,
    events: Dictionary,
    error_types: Dictionary,
    cube: HashMap<[i64; 5], i64>,
    errors: HashMap<[i64; 4], i64>,
    series: Vec<Series>,
    /// `(kind, service)` → name → index into `series`, looked up by `&str`.
    series_index: HashMap<(&'static str, u32), HashMap<String, usize>>,
    latency: HashMap<[i64; 3], i64>,
    latency_values: usize,
    /// [`LATENCY_BYTES`] unless set (smaller in tests).
    latency_budget: Option<usize>,
    violations: BTreeMap<(String, String), u64>,
    violating_records: u64,
    drops: BTreeMap<(String, String), u64>,
    samples: Vec<Sample>,
    /// Keep every `stride`-th record in `samples`; doubled (and every other
    /// sample let go) whenever `samples` is full, so they stay spread.
    stride: u64,
    /// Traces kept whole (an error in them, or among the first seen).
    traces: BTreeMap<String, Vec<Sample>>,
    /// Recent traces not (yet) kept, oldest first.
    recent: std::collections::VecDeque<(String, Vec<Sample>)>,
    funnel: Option<FunnelBuilder>,
}

fn text<'a>(record: &RecordView<'a>, key: &str) -> &'a str {
    record.str_of(key).unwrap_or_default()
}

impl PageBuilder {
    /// Also follows each `by` id through `steps` (event names).
    pub(crate) fn with_funnel(steps: Vec<String>, by: FunnelBy) -> Self {
        Self {
            funnel: Some(FunnelBuilder::new(steps, by)),
            ..Self::default()
        }
    }

    /// A builder like this one, empty (a scan's part per unit).
    pub(crate) fn empty_like(&self) -> Self {
        Self {
            funnel: self
                .funnel
                .as_ref()
                .map(|f| FunnelBuilder::new(f.steps().to_vec(), f.by())),
            ..Self::default()
        }
    }

    fn width(&self) -> i64 {
        WIDTHS_MS
            .get(self.width_step)
            .copied()
            .unwrap_or(604_800_000)
    }

    /// Counts one record.
    pub(crate) fn add(&mut self, record: &RecordView<'_>) {
        self.records += 1;
        if let Some((sampled, weight)) = record.sampling_weight() {
            self.sampled += u64::from(sampled);
            self.weighted += weight;
        }
        let Some(t) = record.timestamp() else {
            self.untimed += 1;
            return;
        };
        let ms = t.as_millisecond();
        self.first_ms = Some(self.first_ms.map_or(ms, |f| f.min(ms)));
        self.last_ms = Some(self.last_ms.map_or(ms, |l| l.max(ms)));
        self.widen();
        let bucket = ms.div_euclid(self.width());

        let level = text(record, "level");
        let event_type = match text(record, "event_type") {
            "" => "log",
            other => other,
        };
        let service = text(record, "service");
        let event = text(record, "event_name");
        let key = [
            bucket,
            i64::from(self.types.id(event_type)),
            i64::from(self.levels.id(level)),
            i64::from(self.services.id(service)),
            i64::from(self.events.id(event)),
        ];
        *self.cube.entry(key).or_default() += 1;

        if level.eq_ignore_ascii_case("error") || event_type == "error" {
            let error_type = record
                .lookup("metadata.error_type")
                .and_then(FieldRef::as_str)
                .unwrap_or("(none)");
            let key = [
                key[0],
                key[3],
                key[4],
                i64::from(self.error_types.id(error_type)),
            ];
            *self.errors.entry(key).or_default() += 1;
        }
        self.add_latency(record, key);
        self.add_health(record, event);
        self.keep_sample(record, ms);
        self.keep_trace(record, ms, level);
        if let Some(funnel) = &mut self.funnel
            && let Some(id) = record.str_of(funnel.by().key())
        {
            funnel.add(id, event, ms);
        }
    }

    fn keep_sample(&mut self, record: &RecordView<'_>, ms: i64) {
        let stride = self.stride.max(1);
        if !(self.records - 1).is_multiple_of(stride) {
            return;
        }
        if self.samples.len() >= MAX_SAMPLES {
            self.thin_samples();
            if !(self.records - 1).is_multiple_of(self.stride) {
                return;
            }
        }
        self.samples.push(sample(record, ms));
    }

    /// Every other sample goes: those left are every (2 × stride)-th.
    fn thin_samples(&mut self) {
        let mut i = 0;
        self.samples.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        self.stride = self.stride.max(1) * 2;
    }

    fn keep_trace(&mut self, record: &RecordView<'_>, ms: i64, level: &str) {
        let trace = text(record, "trace_id");
        if trace.is_empty() {
            return;
        }
        if let Some(kept) = self.traces.get_mut(trace) {
            if kept.len() < MAX_TRACE_RECORDS {
                kept.push(sample(record, ms));
            }
            return;
        }
        let mut entry = self.take_recent(trace);
        if entry.1.len() < MAX_TRACE_RECORDS {
            entry.1.push(sample(record, ms));
        }
        self.offer_trace(entry, level.eq_ignore_ascii_case("error"));
    }

    /// The records held of a recent trace not kept (yet), or none.
    fn take_recent(&mut self, trace: &str) -> (String, Vec<Sample>) {
        // A trace's records come close together: look from the newest.
        let position = self.recent.iter().rposition(|(id, _)| id == trace);
        match position.and_then(|p| self.recent.remove(p)) {
            Some(entry) => entry,
            None => (trace.to_owned(), Vec::new()),
        }
    }

    /// What this builder remembers of a recent trace (taken out of
    /// `recent`), with `records` after it.
    fn joined(&mut self, trace: &str, records: Vec<Sample>) -> (String, Vec<Sample>) {
        let mut entry = self.take_recent(trace);
        entry.1.extend(records);
        entry.1.truncate(MAX_TRACE_RECORDS);
        entry
    }

    /// Keeps a trace whole, or remembers it as recent.
    fn offer_trace(&mut self, entry: (String, Vec<Sample>), failed: bool) {
        // An error keeps its trace (room is made by letting an error-free
        // early one go); so do the first traces, until the page has enough.
        let early = self.traces.len() < MAX_TRACES / 5;
        if failed || early {
            if self.traces.len() >= MAX_TRACES && failed {
                let calm = self
                    .traces
                    .iter()
                    .find(|(_, records)| records.iter().all(|r| r.level != "ERROR"))
                    .map(|(id, _)| id.clone());
                if let Some(calm) = calm {
                    self.traces.remove(&calm);
                }
            }
            if self.traces.len() < MAX_TRACES {
                self.traces.insert(entry.0, entry.1);
                return;
            }
        }
        if self.recent.len() >= RECENT_TRACES {
            self.recent.pop_front();
        }
        self.recent.push_back(entry);
    }

    /// `key` is the record's cube key: `[bucket, type, level, service, event]`.
    fn add_latency(&mut self, record: &RecordView<'_>, key: [i64; 5]) {
        let event = text(record, "event_name");
        let measured = if let Some(ms) = record.get("duration_ms").and_then(FieldRef::as_f64) {
            let span = record
                .lookup("span.name")
                .and_then(FieldRef::as_str)
                .unwrap_or("(none)");
            Some(("span", span, "duration_ms", ms))
        } else {
            [
                ("duration_ms", "metadata.duration_ms"),
                ("latency_ms", "metadata.latency_ms"),
            ]
            .into_iter()
            .find_map(|(field, path)| {
                let ms = record.lookup(path)?.as_f64()?;
                Some(("event", event, field, ms))
            })
        };
        let Some((kind, name, field, ms)) = measured else {
            return;
        };
        if !ms.is_finite() || ms < 0.0 {
            return;
        }
        let bucket = key[0];
        let [event_type, service, event] =
            [key[1], key[3], key[4]].map(|k| u32::try_from(k).unwrap_or(0));
        let id = self.series_id(kind, name, field, [service, event, event_type]);
        let Some(series) = self.series.get_mut(id) else {
            return;
        };
        series.count += 1;
        if self.latency_values < MAX_LATENCY_VALUES {
            series.values.push(ms);
            self.latency_values += 1;
        }
        let key = [i64::try_from(id).unwrap_or(i64::MAX), bucket, bin(ms)];
        *self.latency.entry(key).or_default() += 1;
    }

    /// The index of the series `(kind, name)` in `service` (added if new,
    /// with its `[service, event, type]`).
    fn series_id(
        &mut self,
        kind: &'static str,
        name: &str,
        field: &'static str,
        [service, event, event_type]: [u32; 3],
    ) -> usize {
        let next = self.series.len();
        let names = self.series_index.entry((kind, service)).or_default();
        if let Some(&id) = names.get(name) {
            return id;
        }
        let name = if next >= MAX_SERIES {
            if let Some(&id) = names.get(OTHER) {
                return id;
            }
            OTHER
        } else {
            name
        };
        names.insert(name.to_owned(), next);
        self.series.push(Series {
            kind,
            name: name.to_owned(),
            service,
            event,
            event_type,
            field,
            count: 0,
            p50: 0.0,
            p95: 0.0,
            p99: 0.0,
            max: 0.0,
            over_time: false,
            values: Vec::new(),
        });
        next
    }

    fn add_health(&mut self, record: &RecordView<'_>, event: &str) {
        if let Some(errors) = record.get("schema_errors") {
            // Rare: such records are decoded in full.
            if let serde_json::Value::Array(errors) = errors.to_value() {
                self.violating_records += 1;
                for error in errors.iter().filter_map(serde_json::Value::as_str) {
                    *self
                        .violations
                        .entry((event.to_owned(), violation_kind(error)))
                        .or_default() += 1;
                }
            }
        }
        if event == eventlog::DROP_REPORT_EVENT {
            let field = |k: &str| {
                record
                    .lookup(&format!("metadata.{k}"))
                    .map(|v| v.as_text().into_owned())
                    .unwrap_or_default()
            };
            let dropped = record
                .lookup("metadata.dropped")
                .and_then(FieldRef::as_f64)
                .filter(|n| n.is_finite() && *n >= 0.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // Finite, non-negative.
            let dropped = dropped.map_or(0, |n| n as u64);
            *self
                .drops
                .entry((field("output"), field("reason")))
                .or_default() += dropped;
        }
    }

    /// Moves to wider buckets while the records span too many.
    fn widen(&mut self) {
        let (Some(first), Some(last)) = (self.first_ms, self.last_ms) else {
            return;
        };
        let mut step = self.width_step;
        while step + 1 < WIDTHS_MS.len() {
            let w = WIDTHS_MS.get(step).copied().unwrap_or(604_800_000);
            if last.div_euclid(w) - first.div_euclid(w) < MAX_BUCKETS {
                break;
            }
            step += 1;
        }
        self.widen_to(step);
    }

    /// Re-keys every count to the buckets of `WIDTHS_MS[step]` (never narrower).
    fn widen_to(&mut self, step: usize) {
        let old = self.width();
        if step <= self.width_step {
            return;
        }
        self.width_step = step.min(WIDTHS_MS.len() - 1);
        let factor = self.width() / old;
        if factor > 1 {
            rekey(&mut self.cube, 0, factor);
            rekey(&mut self.errors, 0, factor);
            rekey(&mut self.latency, 1, factor);
        }
    }

    /// Adds `other`'s counts (records read after this builder's): the
    /// answer is the one a single builder reading both would give, but
    /// for which records the table and the trace view hold (spread and
    /// chosen the same way, not the very same ones).
    pub(crate) fn merge(&mut self, mut other: PageBuilder) {
        self.records += other.records;
        self.untimed += other.untimed;
        self.sampled += other.sampled;
        self.weighted += other.weighted;
        for ms in [other.first_ms, other.last_ms].into_iter().flatten() {
            self.first_ms = Some(self.first_ms.map_or(ms, |f| f.min(ms)));
            self.last_ms = Some(self.last_ms.map_or(ms, |l| l.max(ms)));
        }
        self.widen_to(other.width_step);
        self.widen();
        other.widen_to(self.width_step);

        let types = self.types.absorb(&other.types);
        let levels = self.levels.absorb(&other.levels);
        let services = self.services.absorb(&other.services);
        let events = self.events.absorb(&other.events);
        let error_types = self.error_types.absorb(&other.error_types);
        let at = |map: &[i64], id: i64| {
            usize::try_from(id)
                .ok()
                .and_then(|i| map.get(i))
                .copied()
                .unwrap_or(0)
        };
        add_remapped(
            &mut self.cube,
            other.cube,
            [
                None,
                Some(&types),
                Some(&levels),
                Some(&services),
                Some(&events),
            ],
        );
        add_remapped(
            &mut self.errors,
            other.errors,
            [None, Some(&services), Some(&events), Some(&error_types)],
        );
        let mut series_map = Vec::with_capacity(other.series.len());
        for series in other.series {
            let id = |map: &[i64], id: u32| u32::try_from(at(map, i64::from(id))).unwrap_or(0);
            let dims = [
                id(&services, series.service),
                id(&events, series.event),
                id(&types, series.event_type),
            ];
            let mine = self.series_id(series.kind, &series.name, series.field, dims);
            series_map.push(i64::try_from(mine).unwrap_or(i64::MAX));
            let room = MAX_LATENCY_VALUES.saturating_sub(self.latency_values);
            if let Some(target) = self.series.get_mut(mine) {
                target.count += series.count;
                let taken = series.values.len().min(room);
                target
                    .values
                    .extend_from_slice(series.values.get(..taken).unwrap_or_default());
                self.latency_values += taken;
            }
        }
        add_remapped(
            &mut self.latency,
            other.latency,
            [Some(&series_map), None, None],
        );
        for (k, n) in other.violations {
            *self.violations.entry(k).or_default() += n;
        }
        self.violating_records += other.violating_records;
        for (k, n) in other.drops {
            *self.drops.entry(k).or_default() += n;
        }

        self.stride = self.stride.max(other.stride).max(1);
        self.samples.extend(other.samples);
        while self.samples.len() > MAX_SAMPLES {
            self.thin_samples();
        }

        for (id, records) in other.traces {
            self.merge_trace(&id, records);
        }
        for (id, records) in other.recent {
            if self.traces.contains_key(&id) {
                self.merge_trace(&id, records);
                continue;
            }
            let entry = self.joined(&id, records);
            if self.recent.len() >= RECENT_TRACES {
                self.recent.pop_front();
            }
            self.recent.push_back(entry);
        }

        if let (Some(mine), Some(theirs)) = (&mut self.funnel, other.funnel) {
            mine.merge(theirs);
        }
    }

    /// A trace `other` kept whole: joined to what this builder holds of it.
    fn merge_trace(&mut self, id: &str, records: Vec<Sample>) {
        if let Some(kept) = self.traces.get_mut(id) {
            kept.extend(records);
            kept.truncate(MAX_TRACE_RECORDS);
            return;
        }
        let entry = self.joined(id, records);
        let failed = entry
            .1
            .iter()
            .any(|r| r.level.eq_ignore_ascii_case("error"));
        self.offer_trace(entry, failed);
    }

    /// The page's data: percentiles computed, maps flattened and sorted.
    pub(crate) fn finish(mut self) -> PageData {
        let bucket_ms = self.width();
        for series in &mut self.series {
            series.values.sort_by(f64::total_cmp);
            series.p50 = quantile_cont(&series.values, 0.50).unwrap_or(0.0);
            series.p95 = quantile_cont(&series.values, 0.95).unwrap_or(0.0);
            series.p99 = quantile_cont(&series.values, 0.99).unwrap_or(0.0);
            series.max = series.values.last().copied().unwrap_or(0.0);
        }
        let mut cube: Vec<[i64; 6]> = self
            .cube
            .into_iter()
            .map(|(k, n)| [k[0], k[1], k[2], k[3], k[4], n])
            .collect();
        cube.sort_unstable();
        let mut errors: Vec<[i64; 5]> = self
            .errors
            .into_iter()
            .map(|(k, n)| [k[0], k[1], k[2], k[3], n])
            .collect();
        errors.sort_unstable();
        let mut latency: Vec<[i64; 4]> = self
            .latency
            .into_iter()
            .map(|(k, n)| [k[0], k[1], k[2], n])
            .collect();
        latency.sort_unstable();
        let latency = keep_over_time(
            &mut self.series,
            latency,
            self.latency_budget.unwrap_or(LATENCY_BYTES),
        );
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // A sum of weights of at least 1: finite, not negative.
        let estimated_events = self.weighted.round() as u64;
        PageData {
            records: self.records,
            untimed: self.untimed,
            sampled_records: self.sampled,
            estimated_events,
            first_ms: self.first_ms.unwrap_or_default(),
            last_ms: self.last_ms.unwrap_or_default(),
            bucket_ms,
            bin_stride: BIN_STRIDE,
            types: self.types.values,
            levels: self.levels.values,
            services: self.services.values,
            events: self.events.values,
            error_types: self.error_types.values,
            cube,
            errors,
            series: self.series,
            latency,
            violations: self
                .violations
                .into_iter()
                .map(|((e, k), n)| (e, k, n))
                .collect(),
            violating_records: self.violating_records,
            drops: self
                .drops
                .into_iter()
                .map(|((o, r), n)| (o, r, n))
                .collect(),
            samples: self.samples,
            traces: self.traces,
            funnel: self.funnel.map(|f| f.finish(bucket_ms)),
            zone: None,
        }
    }
}

/// Keeps the cells of the busiest series while their runs fit `budget`
/// bytes ([`LATENCY_BYTES`]), and marks those series `over_time`. `cells` are sorted.
fn keep_over_time(series: &mut [Series], cells: Vec<[i64; 4]>, budget: usize) -> Vec<[i64; 4]> {
    let mut by_series: Vec<&[[i64; 4]]> = vec![&[]; series.len()];
    for run in cells.chunk_by(|a, b| a[0] == b[0]) {
        if let Some(slot) = run
            .first()
            .and_then(|c| usize::try_from(c[0]).ok())
            .and_then(|i| by_series.get_mut(i))
        {
            *slot = run;
        }
    }
    let mut order: Vec<usize> = (0..series.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(series.get(i).map_or(0, |s| s.count)), i));
    let mut spent = 0usize;
    let mut kept = vec![false; series.len()];
    for i in order {
        let cells = by_series.get(i).copied().unwrap_or_default();
        let bytes: usize = runs(cells.iter().map(latency_cell))
            .iter()
            .map(|row| json_len(row))
            .sum();
        if spent + bytes > budget {
            // The N busiest, as the page says: none after the first left out.
            break;
        }
        spent += bytes;
        if let Some(k) = kept.get_mut(i) {
            *k = true;
        }
    }
    for (s, k) in series.iter_mut().zip(&kept) {
        s.over_time = *k;
    }
    cells
        .into_iter()
        .filter(|c| {
            usize::try_from(c[0])
                .ok()
                .and_then(|i| kept.get(i))
                .copied()
                .unwrap_or(false)
        })
        .collect()
}

/// A latency cell as a run's `(key, position, count)`.
fn latency_cell(c: &[i64; 4]) -> ([i64; 1], i64, i64) {
    (
        [c[0]],
        c[1].saturating_mul(BIN_STRIDE)
            .saturating_add(c[2].clamp(0, BIN_STRIDE - 1)),
        c[3],
    )
}

/// Counts as the page embeds them: one row per key, `[key…, first,
/// items…]`, `first` the position of the key's first count; an item
/// `n > 0` is the count at the current position (the next one follows
/// it), `-k` skips `k` positions that hold none. Counts below 1 are not
/// stored. Cells in any order; a position given twice adds up.
///
/// `[2, 7, 5, 3, -4, 1]`: key 2 has 5 at position 7, 3 at 8 and 1 at 13.
pub(crate) fn runs<const K: usize>(
    cells: impl Iterator<Item = ([i64; K], i64, i64)>,
) -> Vec<Vec<i64>> {
    let mut cells: Vec<([i64; K], i64, i64)> = cells.filter(|c| c.2 > 0).collect();
    cells.sort_unstable();
    let mut rows: Vec<Vec<i64>> = Vec::new();
    let mut at = 0i64;
    let mut last: Option<[i64; K]> = None;
    for (key, position, n) in cells {
        if last != Some(key) {
            let mut row = key.to_vec();
            row.push(position);
            rows.push(row);
            last = Some(key);
            at = position;
        }
        let Some(row) = rows.last_mut() else { continue };
        if position < at {
            // The same position again: add to the count just written.
            if let Some(prev) = row.last_mut() {
                *prev = prev.saturating_add(n);
            }
            continue;
        }
        if position > at {
            row.push(at.saturating_sub(position));
        }
        row.push(n);
        at = position.saturating_add(1);
    }
    rows
}

/// Bytes of `row` as a JSON array of integers.
fn json_len(row: &[i64]) -> usize {
    let digits = |n: i64| -> usize {
        let sign = usize::from(n < 0);
        let mut m = n.unsigned_abs();
        let mut d = 1;
        while m >= 10 {
            m /= 10;
            d += 1;
        }
        sign + d
    };
    // Brackets, and a comma between two numbers.
    1 + row.iter().map(|&n| digits(n) + 1).sum::<usize>().max(1)
}

fn cube_runs<S: serde::Serializer>(cells: &[[i64; 6]], s: S) -> Result<S::Ok, S::Error> {
    runs(cells.iter().map(|c| ([c[1], c[2], c[3], c[4]], c[0], c[5]))).serialize(s)
}

fn error_runs<S: serde::Serializer>(cells: &[[i64; 5]], s: S) -> Result<S::Ok, S::Error> {
    runs(cells.iter().map(|c| ([c[1], c[2], c[3]], c[0], c[4]))).serialize(s)
}

fn latency_runs<S: serde::Serializer>(cells: &[[i64; 4]], s: S) -> Result<S::Ok, S::Error> {
    runs(cells.iter().map(latency_cell)).serialize(s)
}

/// Adds `from`'s counts to `into`, each key's slot `i` translated through
/// `maps[i]` (another builder's dictionary ids to this one's) where given.
fn add_remapped<const N: usize>(
    into: &mut HashMap<[i64; N], i64>,
    from: HashMap<[i64; N], i64>,
    maps: [Option<&[i64]>; N],
) {
    for (mut key, n) in from {
        for (slot, map) in key.iter_mut().zip(maps) {
            if let Some(map) = map {
                *slot = usize::try_from(*slot)
                    .ok()
                    .and_then(|i| map.get(i))
                    .copied()
                    .unwrap_or(0);
            }
        }
        *into.entry(key).or_default() += n;
    }
}

/// Re-keys counts to buckets `factor` times wider (the bucket is at `slot`).
fn rekey<const N: usize>(map: &mut HashMap<[i64; N], i64>, slot: usize, factor: i64) {
    let old = std::mem::take(map);
    for (mut key, n) in old {
        if let Some(b) = key.get_mut(slot) {
            *b = b.div_euclid(factor);
        }
        *map.entry(key).or_default() += n;
    }
}

/// The histogram bin of `ms`.
fn bin(ms: f64) -> i64 {
    if ms <= SMALLEST_MS {
        return 0;
    }
    // A finite, positive ratio: its log is finite, the cast saturates.
    #[allow(clippy::cast_possible_truncation)]
    let k = ((ms / SMALLEST_MS).log2() * BINS_PER_DOUBLING).floor() as i64;
    k.clamp(0, BIN_STRIDE - 1)
}

/// A violation's kind: its text with the quoted names elided, so
/// "field `currency` does not match" and "field `amount` does not match"
/// count together.
fn violation_kind(error: &str) -> String {
    let mut out = String::with_capacity(error.len());
    let mut quoted = false;
    for c in error.chars() {
        if c == '`' {
            if !quoted {
                out.push_str("`…`");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    let mut kind: String = out.chars().take(80).collect();
    if out.chars().count() > 80 {
        kind.push('…');
    }
    kind
}

fn sample(record: &RecordView<'_>, t: i64) -> Sample {
    let owned = |key: &str| text(record, key).to_owned();
    Sample {
        t,
        timestamp: owned("timestamp"),
        level: owned("level"),
        event_type: owned("event_type"),
        service: owned("service"),
        event: owned("event_name"),
        message: text(record, "message").chars().take(200).collect(),
        trace_id: owned("trace_id"),
        request_id: owned("request_id"),
        span: record
            .lookup("span.name")
            .and_then(FieldRef::as_str)
            .unwrap_or_default()
            .to_owned(),
        span_id: owned("span_id"),
        duration_ms: record.get("duration_ms").and_then(FieldRef::as_f64),
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing
)] // Exact values; small counts; a bad index fails the test.
mod tests {
    use super::*;
    use serde_json::Value;

    fn record(line: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(line).unwrap()
    }

    fn add(b: &mut PageBuilder, line: &str) {
        b.add(&RecordView::Full(&record(line)));
    }

    #[test]
    fn buckets_widen_and_keep_every_count() {
        let mut b = PageBuilder::default();
        // One record a minute for 10 days: far more than 240 one-second buckets.
        for minute in 0..(10 * 24 * 60) {
            let t = jiff::Timestamp::from_second(1_764_547_200 + minute * 60).unwrap();
            add(
                &mut b,
                &format!(
                    r#"{{"timestamp":"{t}","level":"INFO","event_name":"order_placed","event_type":"business","service":"shop"}}"#
                ),
            );
        }
        let data = b.finish();
        // 863 940 s between the first and last: one-hour buckets are the
        // first to give fewer than 240 (30 min would give 480).
        assert_eq!(data.bucket_ms, 3_600_000);
        let total: i64 = data.cube.iter().map(|r| r[5]).sum();
        assert_eq!(total, 10 * 24 * 60);
        let buckets: std::collections::BTreeSet<i64> = data.cube.iter().map(|r| r[0]).collect();
        assert_eq!(buckets.len(), 240);
    }

    #[test]
    fn a_dimension_past_its_cap_shares_one_value() {
        let mut b = PageBuilder::default();
        for i in 0..(MAX_VALUES + 50) {
            add(
                &mut b,
                &format!(
                    r#"{{"timestamp":"2026-12-01T00:00:00Z","event_name":"e_{i}","service":"s"}}"#
                ),
            );
        }
        let data = b.finish();
        assert_eq!(data.events.len(), MAX_VALUES + 1);
        assert_eq!(data.events.last().map(String::as_str), Some(OTHER));
        let other = data.events.len() as i64 - 1;
        let in_other: i64 = data
            .cube
            .iter()
            .filter(|r| r[4] == other)
            .map(|r| r[5])
            .sum();
        assert_eq!(in_other, 50);
    }

    /// What the page's `expand` does with embedded runs: `(key, position,
    /// count)` cells, `k` numbers of key per row.
    fn expand(rows: &Value, k: usize) -> Vec<(Vec<i64>, i64, i64)> {
        let mut cells = Vec::new();
        for row in rows.as_array().unwrap() {
            let row: Vec<i64> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            let key = row[..k].to_vec();
            let mut at = row[k];
            for &item in &row[k + 1..] {
                assert_ne!(item, 0, "a run item is a count or a skip");
                if item < 0 {
                    at -= item;
                } else {
                    cells.push((key.clone(), at, item));
                    at += 1;
                }
            }
        }
        cells
    }

    proptest::proptest! {
        /// Runs give back every cell with a count, sums for a position
        /// given twice, and nothing else; one row per key.
        #[test]
        fn runs_give_back_the_cells(
            cells in proptest::collection::vec(((0i64..4, -3i64..3), -50i64..50, -2i64..1_000), 0..200)
        ) {
            let rows = runs(cells.iter().map(|&((a, b), p, n)| ([a, b], p, n)));
            let mut want: BTreeMap<(Vec<i64>, i64), i64> = BTreeMap::new();
            for &((a, b), p, n) in &cells {
                if n > 0 {
                    *want.entry((vec![a, b], p)).or_default() += n;
                }
            }
            let value = serde_json::to_value(&rows).unwrap();
            let got: BTreeMap<(Vec<i64>, i64), i64> = expand(&value, 2)
                .into_iter()
                .map(|(k, p, n)| ((k, p), n))
                .collect();
            proptest::prop_assert_eq!(&got, &want);
            let keys: std::collections::BTreeSet<&[i64]> = rows.iter().map(|r| &r[..2]).collect();
            proptest::prop_assert_eq!(keys.len(), rows.len());
            for row in &rows {
                proptest::prop_assert_eq!(json_len(row), serde_json::to_string(row).unwrap().len());
            }
        }
    }

    #[test]
    fn latency_over_time_keeps_the_busiest_series_within_its_budget() {
        const BUDGET: usize = 20_000;
        let mut b = PageBuilder {
            latency_budget: Some(BUDGET),
            ..PageBuilder::default()
        };
        // 60 series over 60 one-minute buckets, values spread over bins:
        // more cells than the budget holds. Series s has 60 - s / 2 buckets.
        for minute in 0..60i64 {
            let t = jiff::Timestamp::from_second(1_764_547_200 + minute * 60).unwrap();
            for series in 0..60i64 {
                if minute < 60 - series / 2 {
                    let ms = 0.01 * (1.0 + ((minute * 7 + series) % 40) as f64) * 1.3;
                    add(
                        &mut b,
                        &format!(
                            r#"{{"timestamp":"{t}","event_name":"e{series}","service":"s","metadata":{{"duration_ms":{ms}}}}}"#
                        ),
                    );
                }
            }
        }
        let data = b.finish();
        let kept: Vec<bool> = data.series.iter().map(|s| s.over_time).collect();
        let kept_count = kept.iter().filter(|k| **k).count();
        assert!(
            kept_count > 0 && kept_count < kept.len(),
            "{kept_count} kept"
        );
        // The kept ones are the busiest (all cost alike per record here).
        let least_kept = data
            .series
            .iter()
            .filter(|s| s.over_time)
            .map(|s| s.count)
            .min()
            .unwrap();
        let most_left = data
            .series
            .iter()
            .filter(|s| !s.over_time)
            .map(|s| s.count)
            .max()
            .unwrap();
        assert!(least_kept >= most_left, "{least_kept} < {most_left}");
        // The budget counts each row; the array adds its brackets and commas.
        let wire = serde_json::to_string(&serde_json::to_value(&data).unwrap()["latency"]).unwrap();
        assert!(wire.len() <= BUDGET + kept_count + 1, "{}", wire.len());
        assert!(
            wire.len() > BUDGET * 9 / 10,
            "the budget is used: {}",
            wire.len()
        );
        // Every series keeps its exact count and percentiles.
        assert!(data.series.iter().all(|s| s.count > 0 && s.p99 >= s.p50));
        // Only kept series have cells, and all of theirs.
        for cell in &data.latency {
            assert!(kept[cell[0] as usize]);
        }
        for (i, s) in data.series.iter().enumerate().filter(|(_, s)| s.over_time) {
            let held: i64 = data
                .latency
                .iter()
                .filter(|c| c[0] == i as i64)
                .map(|c| c[3])
                .sum();
            assert_eq!(held as u64, s.count, "{}", s.name);
        }
    }

    #[test]
    fn latency_series_past_their_cap_share_one() {
        let mut b = PageBuilder::default();
        let names = MAX_SERIES + 30;
        for i in 0..names {
            add(
                &mut b,
                &format!(
                    r#"{{"timestamp":"2026-12-01T00:00:00Z","event_name":"e{i}","service":"s","metadata":{{"latency_ms":{i}}}}}"#
                ),
            );
        }
        let data = b.finish();
        assert_eq!(data.series.len(), MAX_SERIES + 1);
        let other = data.series.last().unwrap();
        assert_eq!((other.name.as_str(), other.count), (OTHER, 30));
        assert_eq!(
            data.series.iter().map(|s| s.count).sum::<u64>(),
            names as u64
        );
    }

    #[test]
    fn violation_kinds_elide_names() {
        assert_eq!(
            violation_kind("field `currency` is not matching `^[A-Z]{3}$`"),
            "field `…` is not matching `…`"
        );
    }

    /// Records of several services, errors, spans, funnel ids, violations
    /// and drop reports, from a fixed seed.
    fn mixed_records(n: u64) -> Vec<String> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let events = [
            "checkout_started",
            "payment_captured",
            "order_placed",
            "email_failed",
        ];
        (0..n)
            .map(|i| {
                let t = jiff::Timestamp::from_millisecond(1_764_547_200_000 + (i * 7_919) as i64 + next(5_000) as i64).unwrap();
                let mut event = events[next(4) as usize];
                let service = ["shop", "payments", "mail"][next(3) as usize];
                let level = if event == "email_failed" { "ERROR" } else { "INFO" };
                let extra = match next(6) {
                    0 => format!(r#","duration_ms":{}.5,"span":{{"name":"handle"}}"#, next(900)),
                    1 => format!(r#","metadata":{{"latency_ms":{},"error_type":"e{}"}}"#, next(50), next(3)),
                    2 => r#","schema_errors":["field `x` is missing"]"#.to_owned(),
                    3 => {
                        event = eventlog::DROP_REPORT_EVENT;
                        format!(r#","metadata":{{"output":"file","reason":"queue_full","dropped":{}}}"#, next(9))
                    }
                    _ => String::new(),
                };
                format!(
                    r#"{{"timestamp":"{t}","level":"{level}","event_name":"{event}","service":"{service}","session_id":"s{}","trace_id":"{:032x}"{extra}}}"#,
                    next(40),
                    next(60) + 1
                )
            })
            .collect()
    }

    #[test]
    fn parts_merged_in_read_order_give_one_builders_answer() {
        let steps = ["checkout_started", "payment_captured", "order_placed"].map(String::from);
        let lines = mixed_records(3_000);
        let answer = |cuts: &[usize]| {
            let template = PageBuilder::with_funnel(steps.to_vec(), FunnelBy::Session);
            let mut whole = template.empty_like();
            let mut bounds = vec![0];
            bounds.extend_from_slice(cuts);
            bounds.push(lines.len());
            for range in bounds.windows(2) {
                let mut part = template.empty_like();
                for line in &lines[range[0]..range[1]] {
                    add(&mut part, line);
                }
                whole.merge(part);
            }
            let mut data = serde_json::to_value(whole.finish()).unwrap();
            // Which records the table holds depends on the parts; the
            // traces held depend on it too.
            let held = data["samples"].as_array().unwrap().len();
            assert!(held > 0 && held <= MAX_SAMPLES, "{held}");
            data["samples"] = Value::Null;
            data["traces"] = Value::Null;
            data
        };
        let one = answer(&[]);
        assert!(expand(&one["cube"], 4).len() > 100);
        assert!(!one["series"].as_array().unwrap().is_empty());
        assert!(one["funnel"]["starts"].as_array().unwrap().len() > 10);
        // Latency cells sit in the same buckets as the counts.
        let buckets: std::collections::BTreeSet<i64> = expand(&one["cube"], 4)
            .iter()
            .map(|(_, bucket, _)| *bucket)
            .collect();
        let cells = expand(&one["latency"], 1);
        assert!(!cells.is_empty());
        for (series, position, _) in cells {
            let bucket = position.div_euclid(BIN_STRIDE);
            assert!(buckets.contains(&bucket), "{series:?} {position}");
        }
        for cuts in [&[1][..], &[1_500], &[10, 11, 2_999], &[700, 1_400, 2_100]] {
            let merged = answer(cuts);
            for (key, want) in one.as_object().unwrap() {
                // Compared key by key: a whole page would drown the message.
                assert!(merged[key] == *want, "cut at {cuts:?}: {key} differs");
            }
        }
    }
}
