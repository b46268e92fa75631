//! The layer's counters in the Prometheus text format, for whoever watches
//! the pipeline (the health verdict is in `health`).
//!
//! ```text
//! Stats ─ snapshot ─> StatsSnapshot::prometheus_text ─> "eventlog_records_emitted_total 12\n…"
//! ```

use std::fmt::Write as _;

use crate::stats::StatsSnapshot;

impl StatsSnapshot {
    /// Every counter in the Prometheus text exposition format (version
    /// 0.0.4), one `# HELP`, `# TYPE` and sample per metric; drops carry a
    /// `reason` label named as [`DropReason::as_str`](crate::DropReason::as_str)
    /// writes it. Metric names start with `eventlog_` and counters end in
    /// `_total`.
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
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, help: &str, samples: &[(Option<&str>, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (reason, value) in samples {
                let _ = match reason {
                    Some(reason) => writeln!(out, "{name}{{reason=\"{reason}\"}} {value}"),
                    None => writeln!(out, "{name} {value}"),
                };
            }
        };
        metric(
            "eventlog_records_emitted_total",
            "Records built and handed to the outputs, once per record.",
            &[(None, self.emitted)],
        );
        metric(
            "eventlog_records_accepted_total",
            "Records an output accepted, once per output per record.",
            &[(None, self.accepted)],
        );
        metric(
            "eventlog_records_dropped_total",
            "Records lost, by reason.",
            &[
                (Some("queue_full"), self.dropped_queue_full),
                (Some("io"), self.dropped_io),
                (Some("policy"), self.dropped_policy),
                (Some("shutdown"), self.dropped_shutdown),
                (Some("rejected"), self.dropped_rejected),
                (Some("oversized"), self.dropped_oversized),
            ],
        );
        metric(
            "eventlog_records_filtered_total",
            "Records an output does not take by design (not a loss).",
            &[(None, self.filtered)],
        );
        metric(
            "eventlog_events_suppressed_total",
            "Events the rate limits or sampling kept from every output (not a loss).",
            &[(None, self.suppressed)],
        );
        metric(
            "eventlog_budget_overflow_total",
            "Events whose budget key shared the overflow bucket.",
            &[(None, self.budget_overflow)],
        );
        metric(
            "eventlog_records_dead_lettered_total",
            "Records sent to the dead-letter output.",
            &[(None, self.dead_lettered)],
        );
        metric(
            "eventlog_schema_violations_total",
            "Schema violations (a record can have several).",
            &[(None, self.violations)],
        );
        metric(
            "eventlog_redactions_total",
            "Values the redactor changed or dropped.",
            &[(None, self.redactions)],
        );
        metric(
            "eventlog_invalid_traceparents_total",
            "traceparent span fields that did not parse.",
            &[(None, self.invalid_traceparents)],
        );
        metric(
            "eventlog_internal_errors_total",
            "Callbacks that failed (a bug in the stack or in a value's Debug).",
            &[(None, self.internal_errors)],
        );
        out
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
