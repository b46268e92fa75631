//! The layer's counters for whoever watches the pipeline: a health verdict
//! and the Prometheus text format. No HTTP server: serve the text from
//! your own `/metrics` route.
//!
//! ```text
//! Stats ─ snapshot ─┬─> StatsSnapshot::prometheus_text ─> "eventlog_records_emitted_total 12\n…"
//!                   └─> Stats::health (since the previous call) ─> Health
//! ```

use std::fmt::Write as _;
use std::sync::PoisonError;

use crate::stats::{Stats, StatsSnapshot};

/// Whether records were lost since the previous look, and how many.
///
/// Suppressed events are not a loss (the limits chose them, and the
/// summaries count them), so they never make the pipeline unhealthy.
///
/// ```
/// let stats = eventlog::Stats::new();
/// assert!(stats.health().is_healthy());
/// stats.record_dropped(eventlog::DropReason::QueueFull);
/// let health = stats.health();
/// assert!(!health.is_healthy());
/// assert_eq!(health.dropped, 1);
/// assert!(stats.health().is_healthy(), "nothing lost since the last look");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Health {
    /// Records dropped, for any reason, in the interval.
    pub dropped: u64,
    /// Callbacks that failed in the interval (see
    /// [`StatsSnapshot::internal_errors`]).
    pub internal_errors: u64,
    /// Records emitted in the interval.
    pub emitted: u64,
    /// Events the limits suppressed in the interval (policy, not a loss).
    pub suppressed: u64,
}

impl Health {
    /// No record dropped and no callback failed in the interval.
    pub fn is_healthy(&self) -> bool {
        self.dropped == 0 && self.internal_errors == 0
    }
}

impl StatsSnapshot {
    /// What changed between `earlier` and this snapshot (counters that went
    /// down, as after a restart, count from zero).
    ///
    /// ```
    /// let stats = eventlog::Stats::new();
    /// let before = stats.snapshot();
    /// stats.record_emitted();
    /// let health = stats.snapshot().health_since(&before);
    /// assert_eq!((health.emitted, health.dropped), (1, 0));
    /// assert!(health.is_healthy());
    /// ```
    pub fn health_since(&self, earlier: &StatsSnapshot) -> Health {
        let delta = |now: u64, then: u64| now.checked_sub(then).unwrap_or(now);
        Health {
            dropped: delta(self.dropped(), earlier.dropped()),
            internal_errors: delta(self.internal_errors, earlier.internal_errors),
            emitted: delta(self.emitted, earlier.emitted),
            suppressed: delta(self.suppressed, earlier.suppressed),
        }
    }

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

impl Stats {
    /// [`Health`] since the previous call on this handle or any clone of
    /// it (since the start, the first time): for a readiness probe or an
    /// alert that asks "is logging losing records right now?".
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let layer = eventlog::layer().writer(eventlog::testing::Capture::new());
    /// let stats = layer.stats();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_name = "cache_warmed");
    /// });
    /// let health = stats.health();
    /// assert!(health.is_healthy());
    /// assert_eq!(health.emitted, 1);
    /// assert_eq!(stats.health().emitted, 0, "counted from the previous look");
    /// ```
    pub fn health(&self) -> Health {
        let now = self.snapshot();
        let mut last = self
            .last_health()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let health = now.health_since(&last.unwrap_or_default());
        *last = Some(now);
        health
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::DropReason;

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

    #[test]
    fn health_counts_since_the_previous_look_and_suppression_is_not_a_loss() {
        let stats = Stats::new();
        stats.record_emitted();
        stats.record_dropped(DropReason::Suppressed);
        let first = stats.health();
        assert!(first.is_healthy());
        assert_eq!((first.emitted, first.suppressed), (1, 1));
        stats.clone().record_internal_error();
        let second = stats.health();
        assert!(!second.is_healthy());
        assert_eq!((second.emitted, second.internal_errors), (0, 1));
        // A counter that went down (another handle's restart) counts from zero.
        let later = StatsSnapshot {
            emitted: 2,
            ..StatsSnapshot::default()
        };
        let earlier = StatsSnapshot {
            emitted: 5,
            ..StatsSnapshot::default()
        };
        assert_eq!(later.health_since(&earlier).emitted, 2);
    }
}
