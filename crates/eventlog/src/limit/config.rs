//! The limits as configured in code: [`Rate`], [`Budget`], [`BudgetKey`],
//! [`LimitsBuilder`] and its typed [`LimitError`]; checked by
//! [`LimitsBuilder::build`] into [`Limits`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::clock::{Clock, ManualClock};
use crate::event_type::EventType;

/// The longest summary window; longer ones are clamped to it.
pub const MAX_SUMMARY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The most keys a layer keeps buckets for; larger `max_keys` are clamped
/// to it. The key table is allocated whole when the layer gets its limits,
/// at about 128 bytes per key (8 MiB here).
pub const MAX_KEYS: usize = 1 << 16;

/// An event rate: `count` events per `period`.
///
/// Parsed from the schema file's `rate = "100/s"`: `<count>/<unit>` or
/// `<count>/<n><unit>`, units `ms`, `s`, `m` (`min`), `h`, `d`.
///
/// A rate of 0 is refused when the limits are built ([`LimitError::ZeroRate`]);
/// a rate faster than one event per nanosecond is clamped to that (no limit
/// in practice).
///
/// ```
/// use std::time::Duration;
/// use eventlog::Rate;
///
/// let rate: Rate = "100/s".parse()?;
/// assert_eq!(rate, Rate::per_second(100));
/// assert_eq!("5/10m".parse::<Rate>()?, Rate::new(5, Duration::from_secs(600)));
/// assert_eq!(Rate::per_minute(30).to_string(), "30/60s");
/// assert!("abc".parse::<Rate>().is_err());
/// # Ok::<(), eventlog::LimitError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    count: u64,
    period: Duration,
}

impl Rate {
    /// `count` events per `period`.
    pub const fn new(count: u64, period: Duration) -> Self {
        Self { count, period }
    }

    /// `count` events per second.
    pub const fn per_second(count: u64) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` events per minute.
    pub const fn per_minute(count: u64) -> Self {
        Self::new(count, Duration::from_secs(60))
    }

    /// `count` events per hour.
    pub const fn per_hour(count: u64) -> Self {
        Self::new(count, Duration::from_secs(3600))
    }

    /// How many events per [`period`](Self::period).
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// The period of the rate.
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// Nanoseconds between two events at this rate, at least 1; `None` for
    /// a zero count or period.
    pub(crate) fn interval_ns(&self) -> Option<u64> {
        if self.count == 0 || self.period.is_zero() {
            return None;
        }
        let period = u64::try_from(self.period.as_nanos()).unwrap_or(u64::MAX);
        Some((period / self.count).max(1))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let period = self.period;
        if period == Duration::from_secs(1) {
            write!(f, "{}/s", self.count)
        } else if period.subsec_nanos() == 0 {
            write!(f, "{}/{}s", self.count, period.as_secs())
        } else {
            write!(f, "{}/{}ms", self.count, period.as_millis())
        }
    }
}

impl FromStr for Rate {
    type Err = LimitError;

    fn from_str(text: &str) -> Result<Self, LimitError> {
        let bad = || LimitError::BadRate {
            text: text.to_owned(),
        };
        let (count, per) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        let per = per.trim();
        let digits = per.bytes().take_while(u8::is_ascii_digit).count();
        let (n, unit) = per.split_at(digits);
        let n: u32 = if n.is_empty() {
            1
        } else {
            n.parse().map_err(|_| bad())?
        };
        let unit = match unit {
            "ms" => Duration::from_millis(1),
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            "d" | "day" => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        Ok(Rate::new(count, unit.checked_mul(n).ok_or_else(bad)?))
    }
}

/// What a budget's buckets are keyed by: one bucket per distinct value.
///
/// A closed set that may grow: a newtype with constants, plus
/// [`BudgetKey::field`].
///
/// ```
/// use eventlog::BudgetKey;
///
/// assert_eq!(BudgetKey::EVENT_NAME.as_str(), "event_name");
/// assert_eq!(BudgetKey::CALLSITE.as_str(), "callsite");
/// assert_eq!(BudgetKey::field("user_id").as_str(), "user_id");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetKey(pub(crate) KeyBy);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyBy {
    EventName,
    Callsite,
    Field(String),
}

impl BudgetKey {
    /// One bucket per event name (the default); unnamed events get one per
    /// callsite.
    pub const EVENT_NAME: Self = Self(KeyBy::EventName);
    /// One bucket per `tracing` callsite (a line of source code).
    pub const CALLSITE: Self = Self(KeyBy::Callsite);

    /// One bucket per value of the event's field `name` (`user_id`,
    /// `route`), read from the event or, for a promoted field, from its
    /// span. Events without the field share one bucket. Values are read
    /// after redaction, so a secret never becomes a key.
    pub fn field(name: impl Into<String>) -> Self {
        Self(KeyBy::Field(name.into()))
    }

    /// The name written as `key_by` in summaries.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            KeyBy::EventName => "event_name",
            KeyBy::Callsite => "callsite",
            KeyBy::Field(name) => name,
        }
    }
}

/// A token bucket: events pass at `rate`, with bursts of up to `burst`
/// events, one bucket per [`BudgetKey`] value.
///
/// | setting | default |
/// |---|---|
/// | burst | the rate's count (`100/s` → 100), at least 1 |
/// | key | [`BudgetKey::EVENT_NAME`] |
///
/// ```
/// use eventlog::{Budget, BudgetKey, Rate};
///
/// let budget = Budget::new(Rate::per_second(10)).burst(50).key(BudgetKey::field("user_id"));
/// assert_eq!(budget.rate(), Rate::per_second(10));
/// assert_eq!(budget.burst_size(), 50);
/// assert_eq!(Budget::new(Rate::per_minute(30)).burst_size(), 30);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Budget {
    pub(crate) rate: Rate,
    pub(crate) burst: Option<u64>,
    pub(crate) key: BudgetKey,
}

impl Budget {
    /// A budget of `rate`, default burst, keyed by event name.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            burst: None,
            key: BudgetKey::EVENT_NAME,
        }
    }

    /// Up to `events` pass at once after a quiet period (0 is refused at
    /// build time: [`LimitError::ZeroBurst`]).
    #[must_use]
    pub fn burst(mut self, events: u64) -> Self {
        self.burst = Some(events);
        self
    }

    /// What the buckets are keyed by.
    #[must_use]
    pub fn key(mut self, key: BudgetKey) -> Self {
        self.key = key;
        self
    }

    /// The rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// The burst: as set, or the rate's count (at least 1).
    pub fn burst_size(&self) -> u64 {
        self.burst.unwrap_or(self.rate.count.max(1))
    }
}

/// What applies to one event name or type: a budget, a sampling
/// probability, or "keep always".
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleSpec {
    pub(crate) budget: Option<Budget>,
    pub(crate) sample: Option<f64>,
    pub(crate) always_keep: bool,
}

/// Limits were configured with a value that cannot work.
///
/// ```
/// use eventlog::{Budget, LimitError, Limits, Rate};
///
/// let err = Limits::builder().budget(Budget::new(Rate::per_second(0))).build().unwrap_err();
/// assert!(matches!(&err, LimitError::ZeroRate { rule } if rule == "every event"));
/// assert_eq!(err.to_string(), "the rate of every event is zero: use a sampling probability of 0 to suppress every event");
/// let err = Limits::builder().sample("cache_hit", f64::NAN).build().unwrap_err();
/// assert_eq!(err.to_string(), "the sampling probability of event `cache_hit` is NaN, expected a number from 0 to 1");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A rate of zero events (or over a zero period). To suppress every
    /// event of a kind, sample it with probability 0 instead; its
    /// summaries still count it.
    #[error("the rate of {rule} is zero: use a sampling probability of 0 to suppress every event")]
    ZeroRate {
        /// The rule: `every event`, `event `name``, `type `log``.
        rule: String,
    },
    /// A burst of zero: the bucket could never pass an event. Give at least 1.
    #[error("the burst of {rule} is zero: its bucket could never pass an event")]
    ZeroBurst {
        /// The rule.
        rule: String,
    },
    /// A sampling probability that is NaN or outside 0 ..= 1.
    #[error("the sampling probability of {rule} is {value}, expected a number from 0 to 1")]
    Probability {
        /// The rule.
        rule: String,
        /// The value given.
        value: f64,
    },
    /// A rate's text is not `<count>/<unit>` (`100/s`, `5/10m`).
    #[error("rate `{text}` is not `<count>/<unit>` (units ms, s, m, h, d; e.g. `100/s`)")]
    BadRate {
        /// The text given.
        text: String,
    },
    /// A summary window of zero. Give one of at least a millisecond.
    #[error("the summary window is zero")]
    ZeroWindow,
    /// `max_keys` of zero: field- and name-keyed budgets need at least one.
    #[error("max_keys is zero: budgets need at least one key")]
    ZeroKeys,
}

/// Builds [`Limits`]: budgets, sampling and keep-always rules. See
/// [`Limits`] for how an event finds its rule.
///
/// | setting | default |
/// |---|---|
/// | budgets, sampling | none: every event passes |
/// | keep always | `ERROR` events and `security` events ([`keep_errors`](Self::keep_errors), [`keep_security`](Self::keep_security)) |
/// | summary window | 60 s, at most [`MAX_SUMMARY_WINDOW`] |
/// | max keys | 1024 buckets, at most [`MAX_KEYS`] |
/// | sampling seed | random |
///
/// ```
/// use std::time::Duration;
/// use eventlog::{Budget, Limits, Rate};
///
/// let builder = Limits::builder();
/// assert!(builder.keeps_errors());
/// assert_eq!(builder.window(), Duration::from_secs(60));
/// assert_eq!(builder.keys(), 1024);
/// let limits = builder.budget(Budget::new(Rate::per_second(100))).build()?;
/// # let _ = limits;
/// # Ok::<(), eventlog::LimitError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct LimitsBuilder {
    pub(crate) default: RuleSpec,
    pub(crate) events: Vec<(String, RuleSpec)>,
    pub(crate) types: Vec<(EventType, RuleSpec)>,
    pub(crate) keep_errors: bool,
    pub(crate) keep_security: bool,
    pub(crate) window: Duration,
    pub(crate) max_keys: usize,
    pub(crate) seed: Option<u64>,
    pub(crate) clock: Clock,
}

impl Default for LimitsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LimitsBuilder {
    /// The defaults in the table above.
    pub fn new() -> Self {
        Self {
            default: RuleSpec::default(),
            events: Vec::new(),
            types: Vec::new(),
            keep_errors: true,
            keep_security: true,
            window: Duration::from_secs(60),
            max_keys: 1024,
            seed: None,
            clock: Clock::Event,
        }
    }

    fn event(&mut self, name: String) -> &mut RuleSpec {
        let i = if let Some(i) = self.events.iter().position(|(n, _)| *n == name) {
            i
        } else {
            self.events.push((name, RuleSpec::default()));
            self.events.len() - 1
        };
        &mut self.events[i].1
    }

    fn event_type(&mut self, event_type: EventType) -> &mut RuleSpec {
        let i = if let Some(i) = self.types.iter().position(|(t, _)| *t == event_type) {
            i
        } else {
            self.types.push((event_type, RuleSpec::default()));
            self.types.len() - 1
        };
        &mut self.types[i].1
    }

    /// A budget for every event without a rule of its own (by name or type).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.default.budget = Some(budget);
        self
    }

    /// A budget for the events named `name`.
    pub fn event_budget(mut self, name: impl Into<String>, budget: Budget) -> Self {
        self.event(name.into()).budget = Some(budget);
        self
    }

    /// A budget for the events of type `event_type` without a rule by name.
    pub fn type_budget(mut self, event_type: EventType, budget: Budget) -> Self {
        self.event_type(event_type).budget = Some(budget);
        self
    }

    /// Keeps each event named `name` with `probability` (0 ..= 1; NaN and
    /// values outside are refused at build time). Kept events carry
    /// `sample_rate` in `metadata`.
    pub fn sample(mut self, name: impl Into<String>, probability: f64) -> Self {
        self.event(name.into()).sample = Some(probability);
        self
    }

    /// Keeps each event of type `event_type` (without a rule by name) with
    /// `probability`.
    pub fn sample_type(mut self, event_type: EventType, probability: f64) -> Self {
        self.event_type(event_type).sample = Some(probability);
        self
    }

    /// Never samples or limits the events named `name`, whatever else applies.
    pub fn always_keep(mut self, name: impl Into<String>) -> Self {
        let rule = self.event(name.into());
        *rule = RuleSpec {
            always_keep: true,
            ..RuleSpec::default()
        };
        self
    }

    /// Whether `ERROR` events are exempt from the default and type rules
    /// (default `true`). A rule naming the event, or naming the `error`
    /// type, applies to them anyway: that is asking.
    pub fn keep_errors(mut self, keep: bool) -> Self {
        self.keep_errors = keep;
        self
    }

    /// Whether `security` events are exempt from the default and type
    /// rules (default `true`), like [`keep_errors`](Self::keep_errors).
    pub fn keep_security(mut self, keep: bool) -> Self {
        self.keep_security = keep;
        self
    }

    /// How long a summary gathers suppressed events of one key before it
    /// is written (default 60 s; clamped to [`MAX_SUMMARY_WINDOW`]; 0 is
    /// refused).
    pub fn summary_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The most keys with a bucket of their own (default 1024, clamped to
    /// [`MAX_KEYS`]; 0 is refused). The table is allocated at once, about
    /// 128 bytes per key, and never grows. Keys beyond share one bucket per rule,
    /// counted in [`StatsSnapshot::budget_overflow`](crate::StatsSnapshot::budget_overflow).
    pub fn max_keys(mut self, keys: usize) -> Self {
        self.max_keys = keys;
        self
    }

    /// Seeds the sampling, so a run can be repeated (tests).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Reads time from `clock` instead of each event's timestamp (tests).
    pub fn clock(mut self, clock: &ManualClock) -> Self {
        self.clock = Clock::Manual(clock.clone());
        self
    }

    /// Whether `ERROR` events are kept always.
    pub fn keeps_errors(&self) -> bool {
        self.keep_errors
    }

    /// The summary window, as set.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// `max_keys`, as set.
    pub fn keys(&self) -> usize {
        self.max_keys
    }

    /// Checks every value and builds the limits.
    pub fn build(mut self) -> Result<Limits, LimitError> {
        check_rule("every event", &self.default)?;
        for (name, rule) in &self.events {
            check_rule(&format!("event `{name}`"), rule)?;
        }
        for (event_type, rule) in &self.types {
            check_rule(&format!("type `{event_type}`"), rule)?;
        }
        if self.window.is_zero() {
            return Err(LimitError::ZeroWindow);
        }
        if self.max_keys == 0 {
            return Err(LimitError::ZeroKeys);
        }
        self.window = self.window.min(MAX_SUMMARY_WINDOW);
        self.max_keys = self.max_keys.min(MAX_KEYS);
        Ok(Limits(self))
    }
}

/// Checks one rule's values, naming it in the error.
pub(crate) fn check_rule(rule: &str, spec: &RuleSpec) -> Result<(), LimitError> {
    if let Some(budget) = &spec.budget {
        check_budget(rule, budget)?;
    }
    if let Some(p) = spec.sample {
        check_probability(rule, p)?;
    }
    Ok(())
}

pub(crate) fn check_budget(rule: &str, budget: &Budget) -> Result<(), LimitError> {
    if budget.rate.interval_ns().is_none() {
        return Err(LimitError::ZeroRate {
            rule: rule.to_owned(),
        });
    }
    if budget.burst == Some(0) {
        return Err(LimitError::ZeroBurst {
            rule: rule.to_owned(),
        });
    }
    Ok(())
}

pub(crate) fn check_probability(rule: &str, p: f64) -> Result<(), LimitError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(LimitError::Probability {
            rule: rule.to_owned(),
            value: p,
        })
    }
}

/// Rate limits and sampling for an [`EventLayer`](crate::EventLayer),
/// applied after an event's fields are captured (and redacted) and before
/// any output sees it. Built with [`Limits::builder`]; a schema file's
/// `rate`, `burst`, `sample` and `always_keep` add to them.
///
/// ```text
/// event ─> rule: by event name, else by event type, else the default
///            ├─ keep always (the rule says so; ERROR and security events under the default or a type rule)
///            ├─ sample:  kept with probability p, carrying metadata.sample_rate = p
///            └─ budget:  the token bucket of its key (event name, callsite, or a field's value)
///       suppressed ─> Stats::suppressed, and one `events_suppressed` summary per key per window
/// ```
///
/// A kept sampled event carries `sample_rate`, the probability it was kept
/// with, in `metadata`: each such record stands for `1 / sample_rate`
/// events. In `metadata` rather than as an envelope key because it then
/// reaches every output unchanged — the JSON line, OTLP (as the
/// `metadata.sample_rate` attribute, as the self-report's counts do), the
/// CLI's `metadata.*` queries — with no new envelope key, version or
/// rename; an event's own field of that name is renamed `sample_rate_2`,
/// so the layer's value is always the one found.
///
/// Cost per event (callgrind, `per_event`): 2 instructions without limits,
/// about 180 (under 4 %) with a budget the event passes, and a suppressed
/// event costs 0.63× a written one (it is captured and counted, never
/// encoded). The buckets are atomics found without a lock; time is the
/// event's own timestamp at a millisecond's resolution, so limits read no
/// clock of their own.
///
/// ```
/// use eventlog::{Budget, Limits, Rate};
/// use tracing_subscriber::prelude::*;
///
/// let limits = Limits::builder()
///     .event_budget("payment_retried", Budget::new(Rate::per_second(2)))
///     .build()?;
/// let capture = eventlog::testing::Capture::new();
/// let layer = eventlog::layer().limits(limits).writer(capture.clone());
/// let stats = layer.stats();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     for attempt in 0..10 {
///         tracing::warn!(event_name = "payment_retried", attempt);
///     }
/// });
/// assert_eq!(capture.events("payment_retried").len(), 2); // the burst
/// assert_eq!(stats.snapshot().suppressed, 8);
/// let summary = capture.expect_event(eventlog::SUPPRESSED_EVENT);
/// assert_eq!(summary.metadata("suppressed").unwrap(), 8);
/// assert_eq!(summary.metadata("key").unwrap(), "payment_retried");
/// # Ok::<(), eventlog::LimitError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Limits(pub(crate) LimitsBuilder);

impl Limits {
    /// A builder with the defaults of [`LimitsBuilder::new`].
    pub fn builder() -> LimitsBuilder {
        LimitsBuilder::new()
    }
}
