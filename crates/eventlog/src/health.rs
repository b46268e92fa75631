//! The logger's health for a readiness probe: ok, or degraded with typed
//! reasons, judged on what changed since the previous look.
//!
//! ```text
//! Stats ──────────── snapshot ──┐
//! OutputHealth (OTLP, appender) ┼─> HealthCheck::health ─> Health { verdict, reasons }
//! thresholds (builder) ─────────┘        (since the previous call)
//! ```
//!
//! The core crate knows no output: an output reports through the small
//! [`OutputHealth`] trait (the OTLP output implements it; the appender,
//! which does not depend on this crate, is adapted with a closure).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::stats::{Stats, StatsSnapshot};

/// The default of [`HealthCheckBuilder::unreachable_after`]: 30 s.
///
/// ```
/// assert_eq!(eventlog::DEFAULT_UNREACHABLE_AFTER.as_secs(), 30);
/// ```
pub const DEFAULT_UNREACHABLE_AFTER: Duration = Duration::from_secs(30);

/// The verdict of a [`Health`].
///
/// ```
/// assert_eq!(eventlog::Verdict::Degraded.as_str(), "degraded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing in the interval calls for attention.
    Ok,
    /// At least one [`HealthReason`] holds.
    Degraded,
}

impl Verdict {
    /// `"ok"` or `"degraded"`, as the `/health` body writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a [`Health`] is degraded.
///
/// ```
/// let reason = eventlog::HealthReason::Dropping { reason: "queue_full", count: 3 };
/// assert_eq!(reason.kind(), "dropping");
/// assert_eq!(reason.to_string(), "3 records dropped (queue_full)");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HealthReason {
    /// Records were lost for this reason (a [`DropReason::as_str`](crate::DropReason::as_str)
    /// name) in the interval, more than [`HealthCheckBuilder::tolerated_drops`].
    Dropping {
        /// The drop reason's name, as the `reason` label of
        /// `eventlog_records_dropped_total` writes it.
        reason: &'static str,
        /// Records dropped for it in the interval.
        count: u64,
    },
    /// Callbacks failed in the interval ([`StatsSnapshot::internal_errors`]).
    InternalErrors {
        /// Failures in the interval.
        count: u64,
    },
    /// Schema violations per emitted record in the interval went over
    /// [`HealthCheckBuilder::violation_rate`].
    ViolationRate {
        /// Violations per emitted record (a record can have several, so it
        /// may exceed 1).
        rate: f64,
        /// The configured threshold.
        threshold: f64,
    },
    /// An output has not delivered for longer than
    /// [`HealthCheckBuilder::unreachable_after`] (its exports keep failing).
    Unreachable {
        /// The name the output was registered under.
        output: String,
        /// How long it has been failing.
        failing_for: Duration,
    },
    /// An output's writes failed with I/O errors in the interval (disk
    /// full, directory gone, permission lost).
    IoErrors {
        /// The name the output was registered under.
        output: String,
        /// I/O errors in the interval.
        count: u64,
    },
}

impl HealthReason {
    /// A short snake_case name of the reason's kind: `dropping`,
    /// `internal_errors`, `violation_rate`, `unreachable`, `io_errors`.
    pub fn kind(&self) -> &'static str {
        match self {
            HealthReason::Dropping { .. } => "dropping",
            HealthReason::InternalErrors { .. } => "internal_errors",
            HealthReason::ViolationRate { .. } => "violation_rate",
            HealthReason::Unreachable { .. } => "unreachable",
            HealthReason::IoErrors { .. } => "io_errors",
        }
    }

    fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let finite =
            |v: f64| serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into);
        match self {
            HealthReason::Dropping { reason, count } => {
                json!({"kind": self.kind(), "reason": reason, "count": count})
            }
            HealthReason::InternalErrors { count } => json!({"kind": self.kind(), "count": count}),
            HealthReason::ViolationRate { rate, threshold } => {
                json!({"kind": self.kind(), "rate": finite(*rate), "threshold": finite(*threshold)})
            }
            HealthReason::Unreachable {
                output,
                failing_for,
            } => json!({
                "kind": self.kind(),
                "output": output,
                "failing_for_seconds": failing_for.as_secs_f64(),
            }),
            HealthReason::IoErrors { output, count } => {
                json!({"kind": self.kind(), "output": output, "count": count})
            }
        }
    }
}

impl fmt::Display for HealthReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HealthReason::Dropping { reason, count } => {
                write!(f, "{count} records dropped ({reason})")
            }
            HealthReason::InternalErrors { count } => write!(f, "{count} internal errors"),
            HealthReason::ViolationRate { rate, threshold } => write!(
                f,
                "{rate:.4} schema violations per record, over the threshold {threshold}"
            ),
            HealthReason::Unreachable {
                output,
                failing_for,
            } => write!(
                f,
                "output `{output}` has failed to deliver for {:.1} s",
                failing_for.as_secs_f64()
            ),
            HealthReason::IoErrors { output, count } => {
                write!(f, "output `{output}` had {count} I/O errors")
            }
        }
    }
}

/// Whether records were lost since the previous look, how many, and why
/// the pipeline is degraded if it is.
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
/// assert_eq!(health.verdict(), eventlog::Verdict::Degraded);
/// assert_eq!(health.dropped, 1);
/// assert_eq!(
///     health.reasons,
///     [eventlog::HealthReason::Dropping { reason: "queue_full", count: 1 }]
/// );
/// assert!(stats.health().is_healthy(), "nothing lost since the last look");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// Schema violations in the interval.
    pub violations: u64,
    /// Why the pipeline is degraded; empty when it is ok.
    pub reasons: Vec<HealthReason>,
}

impl Health {
    /// No reason holds: with the default thresholds, no record dropped
    /// and no callback failed in the interval.
    pub fn is_healthy(&self) -> bool {
        self.reasons.is_empty()
    }

    /// [`Verdict::Ok`] when no reason holds, else [`Verdict::Degraded`].
    pub fn verdict(&self) -> Verdict {
        if self.reasons.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Degraded
        }
    }

    /// The verdict, the interval's counts and the reasons as one JSON
    /// object (the `/health` body):
    /// `{"status":"degraded","emitted":…,"dropped":…,"internal_errors":…,
    /// "suppressed":…,"violations":…,"reasons":[{"kind":"dropping","reason":"queue_full","count":1}]}`.
    /// A rate that is not a finite number is written as `null`.
    ///
    /// ```
    /// let stats = eventlog::Stats::new();
    /// stats.record_dropped(eventlog::DropReason::Rejected);
    /// let body: serde_json::Value = serde_json::from_str(&stats.health().to_json())?;
    /// assert_eq!(body["status"], "degraded");
    /// assert_eq!(body["reasons"][0]["kind"], "dropping");
    /// assert_eq!(body["reasons"][0]["reason"], "rejected");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json(&self) -> String {
        let reasons: Vec<_> = self.reasons.iter().map(HealthReason::to_json).collect();
        serde_json::json!({
            "status": self.verdict().as_str(),
            "emitted": self.emitted,
            "dropped": self.dropped,
            "internal_errors": self.internal_errors,
            "suppressed": self.suppressed,
            "violations": self.violations,
            "reasons": reasons,
        })
        .to_string()
    }
}

/// What an output says about its own delivery, for [`HealthCheck`].
///
/// ```
/// use std::time::Instant;
/// let status = eventlog::OutputStatus::new().failing_since(Some(Instant::now())).io_errors(2);
/// assert_eq!(status.io_errors, 2);
/// assert!(status.failing_since.is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OutputStatus {
    /// When the output's current run of failed deliveries began (the
    /// first failure after the last success); `None` while delivering.
    pub failing_since: Option<Instant>,
    /// I/O errors so far (a cumulative count; the check looks at its
    /// change since the previous look).
    pub io_errors: u64,
}

impl OutputStatus {
    /// Delivering, no I/O error.
    pub const fn new() -> Self {
        OutputStatus {
            failing_since: None,
            io_errors: 0,
        }
    }

    /// Sets [`failing_since`](Self::failing_since).
    #[must_use]
    pub const fn failing_since(mut self, since: Option<Instant>) -> Self {
        self.failing_since = since;
        self
    }

    /// Sets [`io_errors`](Self::io_errors).
    #[must_use]
    pub const fn io_errors(mut self, count: u64) -> Self {
        self.io_errors = count;
        self
    }
}

/// An output that reports its delivery to a [`HealthCheck`].
///
/// `eventlog-otlp`'s `OtlpOutput` implements it; any
/// `Fn() -> OutputStatus` does too, which adapts outputs that do not
/// depend on this crate (the appender's `WriterStats`):
///
/// ```
/// use eventlog::{OutputHealth, OutputStatus};
///
/// let disk_errors = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(4));
/// let source = {
///     let errors = disk_errors.clone();
///     move || OutputStatus::new().io_errors(errors.load(std::sync::atomic::Ordering::Relaxed))
/// };
/// assert_eq!(source.output_status().io_errors, 4);
/// ```
pub trait OutputHealth: Send + Sync {
    /// The output's status now.
    fn output_status(&self) -> OutputStatus;
}

impl<F> OutputHealth for F
where
    F: Fn() -> OutputStatus + Send + Sync,
{
    fn output_status(&self) -> OutputStatus {
        self()
    }
}

/// What the previous look saw.
#[derive(Debug, Default)]
struct Last {
    stats: Option<StatsSnapshot>,
    io_errors: Vec<u64>,
}

struct Inner {
    stats: Stats,
    tolerated_drops: u64,
    violation_rate: Option<f64>,
    unreachable_after: Duration,
    outputs: Vec<(String, Box<dyn OutputHealth>)>,
    last: Mutex<Last>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheck")
            .field("tolerated_drops", &self.tolerated_drops)
            .field("violation_rate", &self.violation_rate)
            .field("unreachable_after", &self.unreachable_after)
            .field(
                "outputs",
                &self.outputs.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Judges the layer's [`Stats`] and the registered outputs against
/// thresholds, since the previous look: a readiness probe's answer.
///
/// Cheap to clone; clones share the "previous look", so one probe (the
/// `/health` route, say) should own it. [`Stats::health`] is a check with
/// the defaults and no output.
///
/// ```
/// use std::time::{Duration, Instant};
/// use eventlog::{HealthCheck, HealthReason, OutputStatus};
///
/// let stats = eventlog::Stats::new();
/// let failing_since = Instant::now();
/// let check = HealthCheck::builder(stats.clone())
///     .unreachable_after(Duration::from_secs(30))
///     .output("otlp", move || OutputStatus::new().failing_since(Some(failing_since)))
///     .build();
/// assert!(check.health_at(failing_since + Duration::from_secs(29)).is_healthy());
/// let later = check.health_at(failing_since + Duration::from_secs(31));
/// assert!(matches!(&later.reasons[..], [HealthReason::Unreachable { output, .. }] if output == "otlp"));
/// ```
#[derive(Debug, Clone)]
pub struct HealthCheck(Arc<Inner>);

/// Configures a [`HealthCheck`]; see [`HealthCheck::builder`].
#[must_use]
pub struct HealthCheckBuilder {
    stats: Stats,
    tolerated_drops: u64,
    violation_rate: Option<f64>,
    unreachable_after: Duration,
    outputs: Vec<(String, Box<dyn OutputHealth>)>,
}

impl fmt::Debug for HealthCheckBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheckBuilder")
            .field("tolerated_drops", &self.tolerated_drops)
            .field("violation_rate", &self.violation_rate)
            .field("unreachable_after", &self.unreachable_after)
            .finish_non_exhaustive()
    }
}

impl HealthCheck {
    /// A builder over `stats` with the defaults:
    ///
    /// | setting | default | bounds |
    /// |---|---|---|
    /// | [`tolerated_drops`](HealthCheckBuilder::tolerated_drops) | 0: any drop degrades | `u64::MAX`: drops never degrade |
    /// | [`violation_rate`](HealthCheckBuilder::violation_rate) | off | NaN: off; below 0: clamped to 0 (any violation degrades); `f64::INFINITY`: never |
    /// | [`unreachable_after`](HealthCheckBuilder::unreachable_after) | [`DEFAULT_UNREACHABLE_AFTER`] (30 s) | `Duration::ZERO`: the first failure degrades; `Duration::MAX`: never |
    ///
    /// Internal errors always degrade.
    ///
    /// ```
    /// let check = eventlog::HealthCheck::builder(eventlog::Stats::new()).build();
    /// assert_eq!(check.tolerated_drops(), 0);
    /// assert_eq!(check.violation_rate(), None);
    /// assert_eq!(check.unreachable_after(), eventlog::DEFAULT_UNREACHABLE_AFTER);
    /// assert!(check.health().is_healthy());
    /// ```
    pub fn builder(stats: Stats) -> HealthCheckBuilder {
        HealthCheckBuilder {
            stats,
            tolerated_drops: 0,
            violation_rate: None,
            unreachable_after: DEFAULT_UNREACHABLE_AFTER,
            outputs: Vec::new(),
        }
    }

    /// Drops tolerated per reason per interval.
    pub fn tolerated_drops(&self) -> u64 {
        self.0.tolerated_drops
    }

    /// The violation-rate threshold, after the clamp (`None`: off).
    pub fn violation_rate(&self) -> Option<f64> {
        self.0.violation_rate
    }

    /// How long an output may fail before it counts as unreachable.
    pub fn unreachable_after(&self) -> Duration {
        self.0.unreachable_after
    }

    /// The health since the previous call (since the start, the first time).
    ///
    /// ```
    /// let stats = eventlog::Stats::new();
    /// let check = eventlog::HealthCheck::builder(stats.clone()).build();
    /// stats.record_emitted();
    /// assert_eq!(check.health().emitted, 1);
    /// assert_eq!(check.health().emitted, 0, "counted from the previous look");
    /// ```
    pub fn health(&self) -> Health {
        self.health_at(Instant::now())
    }

    /// [`health`](Self::health) as if the time were `now` (for tests and
    /// for callers with their own clock): an output failing since before
    /// `now` by more than [`unreachable_after`](Self::unreachable_after) is
    /// unreachable; one failing since after `now` is not.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let since = Instant::now();
    /// let check = eventlog::HealthCheck::builder(eventlog::Stats::new())
    ///     .unreachable_after(Duration::ZERO)
    ///     .output("collector", move || eventlog::OutputStatus::new().failing_since(Some(since)))
    ///     .build();
    /// assert!(!check.health_at(since).is_healthy());
    /// ```
    pub fn health_at(&self, now: Instant) -> Health {
        let inner = &*self.0;
        let snapshot = inner.stats.snapshot();
        let statuses: Vec<OutputStatus> = inner
            .outputs
            .iter()
            .map(|(_, o)| o.output_status())
            .collect();
        let mut last = inner.last.lock().unwrap_or_else(PoisonError::into_inner);
        let mut health = judge(
            &snapshot,
            &last.stats.unwrap_or_default(),
            inner.tolerated_drops,
            inner.violation_rate,
        );
        last.stats = Some(snapshot);
        last.io_errors.resize(statuses.len(), 0);
        for (((name, _), status), seen) in inner
            .outputs
            .iter()
            .zip(&statuses)
            .zip(last.io_errors.iter_mut())
        {
            if let Some(since) = status.failing_since {
                let failing_for = now.saturating_duration_since(since);
                if failing_for >= inner.unreachable_after {
                    health.reasons.push(HealthReason::Unreachable {
                        output: name.clone(),
                        failing_for,
                    });
                }
            }
            let count = delta(status.io_errors, *seen);
            *seen = status.io_errors;
            if count > 0 {
                health.reasons.push(HealthReason::IoErrors {
                    output: name.clone(),
                    count,
                });
            }
        }
        health
    }
}

impl HealthCheckBuilder {
    /// Records dropped per reason in an interval that do not yet degrade
    /// (default 0: any drop does; `u64::MAX`: none ever does).
    ///
    /// ```
    /// let stats = eventlog::Stats::new();
    /// let check = eventlog::HealthCheck::builder(stats.clone()).tolerated_drops(1).build();
    /// stats.record_dropped(eventlog::DropReason::QueueFull);
    /// assert!(check.health().is_healthy());
    /// ```
    pub fn tolerated_drops(mut self, per_interval: u64) -> Self {
        self.tolerated_drops = per_interval;
        self
    }

    /// Degrade when schema violations per emitted record in an interval go
    /// over `threshold` (off by default). Clamped: NaN turns the check off,
    /// a negative value counts as 0 (any violation degrades), and
    /// `f64::INFINITY` never degrades.
    ///
    /// ```
    /// let check = eventlog::HealthCheck::builder(eventlog::Stats::new()).violation_rate(-1.0).build();
    /// assert_eq!(check.violation_rate(), Some(0.0));
    /// let off = eventlog::HealthCheck::builder(eventlog::Stats::new()).violation_rate(f64::NAN).build();
    /// assert_eq!(off.violation_rate(), None);
    /// ```
    pub fn violation_rate(mut self, threshold: f64) -> Self {
        self.violation_rate = if threshold.is_nan() {
            None
        } else {
            Some(threshold.max(0.0))
        };
        self
    }

    /// How long an output's exports may keep failing before it counts as
    /// unreachable (default [`DEFAULT_UNREACHABLE_AFTER`]; `Duration::ZERO`:
    /// the first failure; `Duration::MAX`: never).
    ///
    /// ```
    /// let check = eventlog::HealthCheck::builder(eventlog::Stats::new())
    ///     .unreachable_after(std::time::Duration::MAX)
    ///     .build();
    /// assert_eq!(check.unreachable_after(), std::time::Duration::MAX);
    /// ```
    pub fn unreachable_after(mut self, after: Duration) -> Self {
        self.unreachable_after = after;
        self
    }

    /// Adds an output, under a name the reasons carry.
    ///
    /// ```
    /// let check = eventlog::HealthCheck::builder(eventlog::Stats::new())
    ///     .output("file", || eventlog::OutputStatus::new().io_errors(1))
    ///     .build();
    /// assert_eq!(check.health().reasons.len(), 1);
    /// assert!(check.health().is_healthy(), "no new I/O error since");
    /// ```
    pub fn output(mut self, name: impl Into<String>, output: impl OutputHealth + 'static) -> Self {
        self.outputs.push((name.into(), Box::new(output)));
        self
    }

    /// The check.
    pub fn build(self) -> HealthCheck {
        HealthCheck(Arc::new(Inner {
            stats: self.stats,
            tolerated_drops: self.tolerated_drops,
            violation_rate: self.violation_rate,
            unreachable_after: self.unreachable_after,
            outputs: self.outputs,
            last: Mutex::new(Last::default()),
        }))
    }
}

/// `now - then`, or `now` when the counter went down (a restart).
fn delta(now: u64, then: u64) -> u64 {
    now.checked_sub(then).unwrap_or(now)
}

/// The stats part of a health: counts since `earlier`, and the reasons.
fn judge(
    now: &StatsSnapshot,
    earlier: &StatsSnapshot,
    tolerated_drops: u64,
    violation_rate: Option<f64>,
) -> Health {
    let mut reasons = Vec::new();
    for (reason, n, then) in [
        (
            "queue_full",
            now.dropped_queue_full,
            earlier.dropped_queue_full,
        ),
        ("io", now.dropped_io, earlier.dropped_io),
        ("policy", now.dropped_policy, earlier.dropped_policy),
        ("shutdown", now.dropped_shutdown, earlier.dropped_shutdown),
        ("rejected", now.dropped_rejected, earlier.dropped_rejected),
        (
            "oversized",
            now.dropped_oversized,
            earlier.dropped_oversized,
        ),
    ] {
        let count = delta(n, then);
        if count > tolerated_drops {
            reasons.push(HealthReason::Dropping { reason, count });
        }
    }
    let internal_errors = delta(now.internal_errors, earlier.internal_errors);
    if internal_errors > 0 {
        reasons.push(HealthReason::InternalErrors {
            count: internal_errors,
        });
    }
    let emitted = delta(now.emitted, earlier.emitted);
    let violations = delta(now.violations, earlier.violations);
    if let Some(threshold) = violation_rate
        && violations > 0
    {
        #[allow(clippy::cast_precision_loss)] // A rate: 53 bits are plenty.
        let rate = violations as f64 / emitted.max(1) as f64;
        if rate > threshold {
            reasons.push(HealthReason::ViolationRate { rate, threshold });
        }
    }
    Health {
        dropped: delta(now.dropped(), earlier.dropped()),
        internal_errors,
        emitted,
        suppressed: delta(now.suppressed, earlier.suppressed),
        violations,
        reasons,
    }
}

impl StatsSnapshot {
    /// What changed between `earlier` and this snapshot (counters that went
    /// down, as after a restart, count from zero), judged with the default
    /// thresholds of [`HealthCheck::builder`].
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
        judge(self, earlier, 0, None)
    }
}

impl Stats {
    /// [`Health`] since the previous call on this handle or any clone of
    /// it (since the start, the first time), with the default thresholds
    /// and no output: for a readiness probe or an alert that asks "is
    /// logging losing records right now?". A [`HealthCheck`] adds outputs
    /// and thresholds.
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

    #[test]
    fn drops_are_reasons_by_drop_reason_since_the_previous_look() {
        let stats = Stats::new();
        let check = HealthCheck::builder(stats.clone()).build();
        stats.record_dropped(DropReason::QueueFull);
        stats.record_dropped(DropReason::QueueFull);
        stats.record_dropped(DropReason::Io(std::io::ErrorKind::StorageFull));
        stats.record_dropped(DropReason::Suppressed);
        stats.record_dropped(DropReason::Filtered);
        let health = check.health();
        assert_eq!(health.verdict(), Verdict::Degraded);
        assert_eq!(
            health.reasons,
            [
                HealthReason::Dropping {
                    reason: "queue_full",
                    count: 2
                },
                HealthReason::Dropping {
                    reason: "io",
                    count: 1
                },
            ]
        );
        assert_eq!((health.dropped, health.suppressed), (3, 1));
        assert_eq!(check.health().verdict(), Verdict::Ok);
    }

    #[test]
    fn tolerated_drops_at_zero_and_u64_max() {
        let stats = Stats::new();
        let strict = HealthCheck::builder(stats.clone())
            .tolerated_drops(0)
            .build();
        let lax = HealthCheck::builder(stats.clone())
            .tolerated_drops(u64::MAX)
            .build();
        stats.record_dropped(DropReason::Rejected);
        assert!(!strict.health().is_healthy());
        assert!(lax.health().is_healthy());
        assert_eq!(lax.health().dropped, 0);
    }

    #[test]
    fn internal_errors_always_degrade() {
        let stats = Stats::new();
        let check = HealthCheck::builder(stats.clone())
            .tolerated_drops(u64::MAX)
            .build();
        stats.record_internal_error();
        assert_eq!(
            check.health().reasons,
            [HealthReason::InternalErrors { count: 1 }]
        );
    }

    #[test]
    fn violation_rate_thresholds_and_their_clamps() {
        let stats = Stats::new();
        let make = |t: f64| {
            HealthCheck::builder(stats.clone())
                .violation_rate(t)
                .build()
        };
        let checks = [
            make(0.0),
            make(0.5),
            make(f64::INFINITY),
            make(f64::NAN),
            make(-3.0),
            make(f64::MIN_POSITIVE),
            make(f64::MAX),
        ];
        assert_eq!(checks[3].violation_rate(), None);
        assert_eq!(checks[4].violation_rate(), Some(0.0));
        // 4 records, 1 violation: a rate of 0.25.
        for _ in 0..4 {
            stats.record_emitted();
        }
        stats.record_violations(1);
        let degraded: Vec<bool> = checks.iter().map(|c| !c.health().is_healthy()).collect();
        assert_eq!(degraded, [true, false, false, false, true, true, false]);
        let reason = &make(0.1).health().reasons[0];
        assert_eq!(
            *reason,
            HealthReason::ViolationRate {
                rate: 0.25,
                threshold: 0.1
            }
        );
        // No violation: never a reason, whatever the threshold.
        let zero = make(0.0);
        stats.record_emitted();
        let _ = zero.health();
        stats.record_emitted();
        assert!(zero.health().is_healthy());
        // Violations with no record emitted in the interval: rate = violations.
        stats.record_violations(3);
        assert_eq!(
            zero.health().reasons,
            [HealthReason::ViolationRate {
                rate: 3.0,
                threshold: 0.0
            }]
        );
    }

    #[test]
    fn an_output_failing_longer_than_the_threshold_is_unreachable() {
        let since = Instant::now();
        let failing = move || OutputStatus::new().failing_since(Some(since));
        let make = |after: Duration| {
            HealthCheck::builder(Stats::new())
                .unreachable_after(after)
                .output("otlp", failing)
                .output("delivering", OutputStatus::new)
                .build()
        };
        let thirty = make(Duration::from_secs(30));
        assert!(
            thirty
                .health_at(since + Duration::from_secs(29))
                .is_healthy()
        );
        assert_eq!(
            thirty.health_at(since + Duration::from_secs(30)).reasons,
            [HealthReason::Unreachable {
                output: "otlp".into(),
                failing_for: Duration::from_secs(30)
            }]
        );
        // Unreachable is a state, not an event: it holds at every look.
        assert!(
            !thirty
                .health_at(since + Duration::from_secs(31))
                .is_healthy()
        );
        // A clock behind the failure's start: not failing for any time yet.
        assert!(
            make(Duration::from_secs(1))
                .health_at(since.checked_sub(Duration::from_secs(5)).unwrap_or(since))
                .is_healthy()
        );
        assert!(!make(Duration::ZERO).health_at(since).is_healthy());
        let never = make(Duration::MAX);
        assert!(
            never
                .health_at(since + Duration::from_secs(86_400 * 365))
                .is_healthy()
        );
    }

    #[test]
    fn io_errors_count_since_the_previous_look_even_after_a_reset() {
        let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let source = {
            let errors = errors.clone();
            move || OutputStatus::new().io_errors(errors.load(std::sync::atomic::Ordering::Relaxed))
        };
        let check = HealthCheck::builder(Stats::new())
            .output("file", source)
            .build();
        assert!(check.health().is_healthy());
        errors.store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            check.health().reasons,
            [HealthReason::IoErrors {
                output: "file".into(),
                count: u64::MAX
            }]
        );
        assert!(check.health().is_healthy());
        // A counter that went down (a new writer) counts from zero.
        errors.store(2, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            check.health().reasons,
            [HealthReason::IoErrors {
                output: "file".into(),
                count: 2
            }]
        );
    }

    proptest::proptest! {
        /// An output named with anything (empty, quotes, control
        /// characters, 2 000 characters of any script) is named exactly
        /// in the JSON body, which parses.
        #[test]
        fn any_output_name_round_trips_through_the_json_body(
            name in "[\\s\\S]{0,40}|\\PC{0,2000}",
            errors in 1u64..=u64::MAX,
        ) {
            let check = HealthCheck::builder(Stats::new())
                .output(name.clone(), move || OutputStatus::new().io_errors(errors))
                .build();
            let body: serde_json::Value = serde_json::from_str(&check.health().to_json()).unwrap();
            proptest::prop_assert_eq!(&body["status"], "degraded");
            proptest::prop_assert_eq!(body["reasons"][0]["output"].as_str(), Some(name.as_str()));
            proptest::prop_assert_eq!(body["reasons"][0]["count"].as_u64(), Some(errors));
        }
    }

    #[test]
    fn the_json_body_parses_and_names_every_reason() {
        let health = Health {
            reasons: vec![
                HealthReason::Dropping {
                    reason: "io",
                    count: 1,
                },
                HealthReason::InternalErrors { count: 2 },
                HealthReason::ViolationRate {
                    rate: f64::INFINITY,
                    threshold: 0.0,
                },
                HealthReason::Unreachable {
                    output: "o\"tlp".into(),
                    failing_for: Duration::from_millis(1500),
                },
                HealthReason::IoErrors {
                    output: "file".into(),
                    count: 3,
                },
            ],
            ..Health::default()
        };
        let body: serde_json::Value = serde_json::from_str(&health.to_json()).unwrap();
        assert_eq!(body["status"], "degraded");
        let kinds: Vec<&str> = body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "dropping",
                "internal_errors",
                "violation_rate",
                "unreachable",
                "io_errors"
            ]
        );
        assert_eq!(body["reasons"][2]["rate"], serde_json::Value::Null);
        assert_eq!(body["reasons"][3]["output"], "o\"tlp");
        assert_eq!(body["reasons"][3]["failing_for_seconds"], 1.5);
        let ok: serde_json::Value = serde_json::from_str(&Health::default().to_json()).unwrap();
        assert_eq!(ok["status"], "ok");
        assert_eq!(ok["reasons"], serde_json::json!([]));
    }

    #[test]
    fn stats_health_counts_since_the_previous_look_and_suppression_is_not_a_loss() {
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
