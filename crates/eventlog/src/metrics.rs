//! The logger's counters as metrics: one small model ([`Metric`]) that
//! the Prometheus text ([`prometheus_text`]), the `/metrics` endpoint and
//! `eventlog-otlp`'s OTLP metrics all render, so the names agree.
//!
//! ```text
//! Stats ─────────────┐
//! OtlpOutput ────────┼─ MetricSource::collect ─> [Metric] ─┬─> prometheus_text ─> "eventlog_records_emitted_total 12\n…"
//! a closure (appender)┘                                    └─> OTLP Sum / Gauge (eventlog-otlp)
//! ```
//!
//! # Names
//!
//! A metric has one OpenTelemetry name, dotted (`eventlog.records.dropped`);
//! its Prometheus name replaces the dots with underscores and adds `_total`
//! to counters (`eventlog_records_dropped_total`), which is also what an
//! OpenTelemetry collector's Prometheus exporter makes of the OTLP one.
//! Labels are OTLP attributes of the same name (`reason`).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::stats::{Stats, StatsSnapshot};

/// Whether a [`Metric`] only goes up or moves both ways.
///
/// ```
/// assert_eq!(eventlog::MetricKind::Counter.as_str(), "counter");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A monotonic, cumulative count since the process started
    /// (Prometheus `counter`, OTLP `Sum` with `is_monotonic` and cumulative
    /// temporality).
    Counter,
    /// A value now (Prometheus `gauge`, OTLP `Gauge`): a queue's depth.
    Gauge,
}

impl MetricKind {
    /// The Prometheus `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        }
    }
}

/// One value of a [`Metric`], with at most one label.
///
/// ```
/// let m = eventlog::Metric::counter("eventlog.records.dropped", "Lost.").labeled("reason", "io", 1);
/// assert_eq!(m.points[0].label, Some(("reason", "io")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Point {
    /// The label (OTLP attribute) name and value, if any.
    pub label: Option<(&'static str, &'static str)>,
    /// The value.
    pub value: u64,
}

/// One metric: a name, its help text, kind, unit and values.
///
/// A metric has one OpenTelemetry name, dotted (`eventlog.records.dropped`);
/// its Prometheus name replaces the dots with underscores and adds `_total`
/// to counters (`eventlog_records_dropped_total`), which is also what an
/// OpenTelemetry collector's Prometheus exporter makes of the OTLP one.
/// Labels are OTLP attributes of the same name (`reason`).
///
/// ```
/// use eventlog::{Metric, MetricKind};
///
/// let m = Metric::counter("eventlog.file.lines.dropped", "Lines the file writer lost, by reason.")
///     .unit("{line}")
///     .labeled("reason", "io", 2);
/// assert_eq!(m.prometheus_name(), "eventlog_file_lines_dropped_total");
/// assert_eq!((m.kind, m.points[0].value), (MetricKind::Counter, 2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metric {
    /// The OpenTelemetry name: lowercase, dot-separated, starting with a
    /// namespace (`eventlog.`); [`prometheus_name`](Self::prometheus_name)
    /// derives the Prometheus one.
    pub name: &'static str,
    /// One line of help (Prometheus `# HELP`, OTLP `description`).
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: MetricKind,
    /// The UCUM unit (`By`, `{record}`), OTLP's `unit`; not in the
    /// Prometheus name.
    pub unit: &'static str,
    /// Its values.
    pub points: Vec<Point>,
}

impl Metric {
    /// A counter with no value yet.
    pub fn counter(name: &'static str, help: &'static str) -> Self {
        Self::new(name, help, MetricKind::Counter)
    }

    /// A gauge with no value yet.
    ///
    /// ```
    /// let m = eventlog::Metric::gauge("eventlog.otlp.queue.bytes", "Bytes queued.").unit("By").value(7);
    /// assert_eq!(m.prometheus_name(), "eventlog_otlp_queue_bytes");
    /// ```
    pub fn gauge(name: &'static str, help: &'static str) -> Self {
        Self::new(name, help, MetricKind::Gauge)
    }

    fn new(name: &'static str, help: &'static str, kind: MetricKind) -> Self {
        Metric {
            name,
            help,
            kind,
            unit: "",
            points: Vec::new(),
        }
    }

    /// Sets the unit.
    #[must_use]
    pub fn unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }

    /// Adds an unlabelled value.
    #[must_use]
    pub fn value(mut self, value: u64) -> Self {
        self.points.push(Point { label: None, value });
        self
    }

    /// Adds a value with one label.
    #[must_use]
    pub fn labeled(mut self, label: &'static str, label_value: &'static str, value: u64) -> Self {
        self.points.push(Point {
            label: Some((label, label_value)),
            value,
        });
        self
    }

    /// The OpenTelemetry name as exported: `name` if it is a valid
    /// instrument name (an ASCII letter, then at most 254 of ASCII letters,
    /// digits, `_`, `.`, `-`, `/`), else a documented clamp: every other
    /// character becomes `_`, a name not starting with a letter gets `m_`
    /// before it, and it is cut to 255 bytes. A collector never sees a
    /// name it must refuse, and a scrape never breaks on one.
    ///
    /// ```
    /// let m = |name| eventlog::Metric::gauge(name, "").otel_name().into_owned();
    /// assert_eq!(m("eventlog.queue.depth"), "eventlog.queue.depth");
    /// assert_eq!(m("files écrits"), "files__crits");
    /// assert_eq!(m("9 lives"), "m_9_lives");
    /// assert_eq!(m(""), "m_");
    /// ```
    pub fn otel_name(&self) -> Cow<'static, str> {
        otel_name(self.name)
    }

    /// The Prometheus name: the [`otel_name`](Self::otel_name) with `.`,
    /// `-` and `/` as `_` (so only `[A-Za-z0-9_]`, starting with a
    /// letter); counters end in `_total`.
    pub fn prometheus_name(&self) -> String {
        let mut name = self.otel_name().replace(['.', '-', '/'], "_");
        if self.kind == MetricKind::Counter && !name.ends_with("_total") {
            name.push_str("_total");
        }
        name
    }
}

/// Longest OpenTelemetry instrument name.
const MAX_NAME_BYTES: usize = 255;

fn otel_name(name: &'static str) -> Cow<'static, str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/');
    let starts_well = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if starts_well && name.len() <= MAX_NAME_BYTES && name.chars().all(allowed) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len().min(MAX_NAME_BYTES) + 2);
    if !starts_well {
        out.push_str("m_");
    }
    for c in name.chars() {
        if out.len() >= MAX_NAME_BYTES {
            break;
        }
        out.push(if allowed(c) { c } else { '_' });
    }
    Cow::Owned(out)
}

/// A label's name as exported (Prometheus label, OTLP attribute key):
/// `key` if it is `[A-Za-z_][A-Za-z0-9_]*`, else every other character
/// as `_`, with `_` before a leading digit, and `_` for an empty key.
///
/// ```
/// assert_eq!(eventlog::metric_label_name("reason"), "reason");
/// assert_eq!(eventlog::metric_label_name("raison d'être"), "raison_d__tre");
/// assert_eq!(eventlog::metric_label_name("2xx"), "_2xx");
/// assert_eq!(eventlog::metric_label_name(""), "_");
/// ```
pub fn metric_label_name(key: &'static str) -> Cow<'static, str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let starts_well = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if starts_well && key.chars().all(allowed) {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len() + 1);
    if !starts_well {
        out.push('_');
    }
    out.extend(key.chars().map(|c| if allowed(c) { c } else { '_' }));
    Cow::Owned(out)
}

/// Something that has metrics to show: the layer's [`Stats`], an
/// `eventlog-otlp` output, or any `Fn(&mut Vec<Metric>)` (which is how an
/// output that does not depend on this crate, like the appender, is added).
///
/// ```
/// use eventlog::{Metric, MetricSource};
///
/// let lines_written = 12;
/// let file = move |out: &mut Vec<Metric>| {
///     out.push(Metric::counter("eventlog.file.lines.written", "Lines written to the file.").value(lines_written));
/// };
/// let mut metrics = Vec::new();
/// file.collect(&mut metrics);
/// eventlog::Stats::new().collect(&mut metrics);
/// assert!(eventlog::prometheus_text(&metrics).contains("\neventlog_file_lines_written_total 12\n"));
/// ```
pub trait MetricSource: Send + Sync {
    /// Appends this source's metrics, read now.
    fn collect(&self, out: &mut Vec<Metric>);
}

impl<F> MetricSource for F
where
    F: Fn(&mut Vec<Metric>) + Send + Sync,
{
    fn collect(&self, out: &mut Vec<Metric>) {
        self(out);
    }
}

impl MetricSource for Stats {
    fn collect(&self, out: &mut Vec<Metric>) {
        out.extend(self.snapshot().metrics());
    }
}

/// `metrics` in the Prometheus text exposition format (version 0.0.4):
/// per metric a `# HELP`, a `# TYPE` and one sample per point. Label
/// values and help are escaped as the format asks (`\\`, `\"`, `\n`; a
/// carriage return becomes a space); names and label names are clamped to
/// the format's characters ([`Metric::prometheus_name`]).
///
/// ```
/// let text = eventlog::prometheus_text(&[eventlog::Metric::gauge("eventlog.queue.depth", "Queued.").value(3)]);
/// assert_eq!(text, "# HELP eventlog_queue_depth Queued.\n# TYPE eventlog_queue_depth gauge\neventlog_queue_depth 3\n");
/// ```
pub fn prometheus_text(metrics: &[Metric]) -> String {
    let mut out = String::with_capacity(128 * metrics.len());
    for m in metrics {
        let name = m.prometheus_name();
        let help = m
            .help
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', " ");
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {}", m.kind.as_str());
        for p in &m.points {
            let _ = match p.label {
                Some((key, value)) => {
                    let key = metric_label_name(key);
                    let value = value
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n")
                        .replace('\r', " ");
                    writeln!(out, "{name}{{{key}=\"{value}\"}} {}", p.value)
                }
                None => writeln!(out, "{name} {}", p.value),
            };
        }
    }
    out
}

impl StatsSnapshot {
    /// Every counter as a [`Metric`] (names in the README's table); drops
    /// carry a `reason` label named as
    /// [`DropReason::as_str`](crate::DropReason::as_str) writes it.
    ///
    /// ```
    /// let metrics = eventlog::Stats::new().snapshot().metrics();
    /// assert_eq!(metrics[0].name, "eventlog.records.emitted");
    /// assert!(metrics.iter().all(|m| m.kind == eventlog::MetricKind::Counter));
    /// ```
    pub fn metrics(&self) -> Vec<Metric> {
        const RECORD: &str = "{record}";
        vec![
            Metric::counter(
                "eventlog.records.emitted",
                "Records built and handed to the outputs, once per record.",
            )
            .unit(RECORD)
            .value(self.emitted),
            Metric::counter(
                "eventlog.records.accepted",
                "Records an output accepted, once per output per record.",
            )
            .unit(RECORD)
            .value(self.accepted),
            Metric::counter("eventlog.records.dropped", "Records lost, by reason.")
                .unit(RECORD)
                .labeled("reason", "queue_full", self.dropped_queue_full)
                .labeled("reason", "io", self.dropped_io)
                .labeled("reason", "policy", self.dropped_policy)
                .labeled("reason", "shutdown", self.dropped_shutdown)
                .labeled("reason", "rejected", self.dropped_rejected)
                .labeled("reason", "oversized", self.dropped_oversized),
            Metric::counter(
                "eventlog.records.filtered",
                "Records an output does not take by design (not a loss).",
            )
            .unit(RECORD)
            .value(self.filtered),
            Metric::counter(
                "eventlog.events.suppressed",
                "Events the rate limits or sampling kept from every output (not a loss).",
            )
            .unit("{event}")
            .value(self.suppressed),
            Metric::counter(
                "eventlog.budget.overflow",
                "Events whose budget key shared the overflow bucket.",
            )
            .unit("{event}")
            .value(self.budget_overflow),
            Metric::counter(
                "eventlog.records.dead_lettered",
                "Records sent to the dead-letter output.",
            )
            .unit(RECORD)
            .value(self.dead_lettered),
            Metric::counter(
                "eventlog.schema.violations",
                "Schema violations (a record can have several).",
            )
            .unit("{violation}")
            .value(self.violations),
            Metric::counter(
                "eventlog.redactions",
                "Values the redactor changed or dropped.",
            )
            .unit("{value}")
            .value(self.redactions),
            Metric::counter(
                "eventlog.invalid_traceparents",
                "traceparent span fields that did not parse.",
            )
            .unit("{field}")
            .value(self.invalid_traceparents),
            Metric::counter(
                "eventlog.internal_errors",
                "Callbacks that failed (a bug in the stack or in a value's Debug).",
            )
            .unit("{error}")
            .value(self.internal_errors),
        ]
    }

    /// Every counter in the Prometheus text exposition format (version
    /// 0.0.4): [`prometheus_text`] of [`metrics`](Self::metrics). Metric
    /// names start with `eventlog_` and counters end in `_total`.
    ///
    /// ```
    /// let stats = eventlog::Stats::new();
    /// stats.record_emitted();
    /// stats.record_dropped(eventlog::DropReason::QueueFull);
    /// let text = stats.snapshot().prometheus_text();
    /// assert!(text.contains("\n# TYPE eventlog_records_emitted_total counter\neventlog_records_emitted_total 1\n"));
    /// assert!(text.contains("\neventlog_records_dropped_total{reason=\"queue_full\"} 1\n"));
    /// assert!(text.ends_with('\n'));
    /// ```
    pub fn prometheus_text(&self) -> String {
        prometheus_text(&self.metrics())
    }
}

#[cfg(test)]
mod tests {
    use crate::stats::DropReason;
    use crate::stats::Stats;

    /// `name{labels} value` lines as (series, value).
    fn samples(text: &str) -> Vec<(String, u64)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (series, value) = l.rsplit_once(' ').unwrap();
                (series.to_owned(), value.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn every_counter_is_one_well_formed_series() {
        let stats = Stats::new();
        for _ in 0..3 {
            stats.record_emitted();
        }
        stats.record_accepted();
        stats.record_dropped(DropReason::Io(std::io::ErrorKind::StorageFull));
        stats.record_dropped(DropReason::Suppressed);
        stats.record_dropped(DropReason::Filtered);
        let text = stats.snapshot().prometheus_text();
        let samples = samples(&text);
        let get = |series: &str| samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v);
        assert_eq!(get("eventlog_records_emitted_total"), Some(3));
        assert_eq!(get("eventlog_records_accepted_total"), Some(1));
        assert_eq!(
            get("eventlog_records_dropped_total{reason=\"io\"}"),
            Some(1)
        );
        assert_eq!(
            get("eventlog_records_dropped_total{reason=\"queue_full\"}"),
            Some(0)
        );
        assert_eq!(get("eventlog_events_suppressed_total"), Some(1));
        assert_eq!(get("eventlog_records_filtered_total"), Some(1));
        // Every series is declared once, with HELP and TYPE, before its samples.
        for (series, _) in &samples {
            let name = series.split('{').next().unwrap();
            assert!(
                name.starts_with("eventlog_") && name.ends_with("_total"),
                "{name}"
            );
            assert!(text.contains(&format!("# TYPE {name} counter\n")), "{name}");
            assert_eq!(
                text.matches(&format!("# HELP {name} ")).count(),
                1,
                "{name}"
            );
        }
        let dropped: u64 = samples
            .iter()
            .filter(|(s, _)| s.starts_with("eventlog_records_dropped_total"))
            .map(|(_, v)| v)
            .sum();
        assert_eq!(dropped, stats.snapshot().dropped());
    }
}
