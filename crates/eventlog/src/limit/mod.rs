//! Rate limits and sampling: which captured events reach the outputs, and
//! the summaries of those that do not.
//!
//! ```text
//! layer::emit: Record ─> Limiter::decide ─┬─ Keep             ─> schema check, outputs
//!                                         ├─ Sampled(p)       ─> metadata.sample_rate = p, then the same
//!                                         └─ Suppressed       ─> Stats::suppressed; its key's slot counts it
//!                      slots whose window ended ─> summary ─> events_suppressed record ─> every output
//! ```
//!
//! - `config`: what users build ([`Limits`], [`Budget`], [`Rate`], [`BudgetKey`], [`LimitError`]);
//! - `bucket`: the token bucket, one atomic per key;
//! - `table`: the bounded, lock-free key table (buckets and pending summaries);
//! - `summary`: the `events_suppressed` record;
//! - `clock`: the time source (each event's timestamp, or a test's [`ManualClock`]).

mod bucket;
mod clock;
mod config;
mod summary;
mod table;

use std::hash::Hasher as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHasher};
use tracing_core::Level;

pub use clock::ManualClock;
pub use config::{
    Budget, BudgetKey, LimitError, Limits, LimitsBuilder, MAX_KEYS, MAX_SUMMARY_WINDOW, Rate,
};
pub use summary::{SUPPRESSED_EVENT, suppressed_fields};

use self::bucket::Cell;
use self::clock::Clock;
use self::config::{KeyBy, RuleSpec};
use self::summary::{Summary, emit_summary};
use self::table::{Example, Meta, Reason, Slot, Table};
use crate::encode::layout::Layout;
use crate::event_type::EventType;
use crate::fields::Value;
use crate::record::Record;
use crate::stats::Stats;

/// What the limiter decided for one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Passes as it is.
    Keep,
    /// Passes, drawn by a sampler with this probability.
    Sampled(f64),
    /// Does not reach the outputs; counted.
    Suppressed,
}

/// One compiled rule.
#[derive(Debug)]
struct Rule {
    /// The bucket and what keys it.
    budget: Option<(Cell, KeyBy)>,
    /// Keep when a draw is below `threshold` (of 2^64); `rate` is the probability.
    sample: Option<(u64, f64)>,
    always_keep: bool,
    /// Names the event or the error / security type, so the default
    /// keep-always exemptions do not apply.
    explicit: bool,
}

impl Rule {
    fn compile(spec: &RuleSpec, explicit: bool) -> Rule {
        Rule {
            budget: spec.budget.as_ref().map(|b| (Cell::of(b), b.key.0.clone())),
            // p = 1 keeps everything: no draw, no `sample_rate`.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            sample: spec
                .sample
                .filter(|p| *p < 1.0)
                .map(|p| ((p * 18_446_744_073_709_551_616.0) as u64, p)),
            always_keep: spec.always_keep,
            explicit,
        }
    }

    fn key_by(&self) -> &KeyBy {
        self.budget.as_ref().map_or(&KeyBy::EventName, |(_, k)| k)
    }
}

/// The compiled limits of one layer: rules, key table, sampler, clock.
#[derive(Debug)]
pub(crate) struct Limiter {
    by_name: FxHashMap<Box<str>, usize>,
    by_type: Vec<(&'static str, usize)>,
    default: Option<usize>,
    rules: Vec<Rule>,
    keep_errors: bool,
    keep_security: bool,
    table: Table,
    window: Duration,
    window_ns: u64,
    clock: Clock,
    /// Seeds key hashes, so which values collide differs per layer.
    seed: u64,
    /// The sampler's state: a SplitMix64 counter, one `fetch_add` per draw.
    draws: AtomicU64,
    /// The earliest time a pending summary is due (`u64::MAX`: none).
    next_due: AtomicU64,
}

impl Limiter {
    /// Compiles the code's limits and a schema's per-event rules (the
    /// code's rule for an event name wins over the schema's); `None` when
    /// neither limits anything.
    pub(crate) fn new(
        limits: Option<&Limits>,
        schema_rules: &[(String, RuleSpec)],
    ) -> Option<Limiter> {
        if limits.is_none() && schema_rules.is_empty() {
            return None;
        }
        let config = limits.map_or_else(LimitsBuilder::new, |l| l.0.clone());
        let mut rules = Vec::new();
        let mut by_name = FxHashMap::default();
        for (name, spec) in schema_rules.iter().chain(&config.events) {
            by_name.insert(name.as_str().into(), rules.len());
            rules.push(Rule::compile(spec, true));
        }
        let mut by_type = Vec::new();
        for (event_type, spec) in &config.types {
            let explicit = *event_type == EventType::ERROR || *event_type == EventType::SECURITY;
            by_type.push((event_type.as_str(), rules.len()));
            rules.push(Rule::compile(spec, explicit));
        }
        let limits_default = config.default.budget.is_some() || config.default.sample.is_some();
        let default = limits_default.then(|| {
            rules.push(Rule::compile(&config.default, false));
            rules.len() - 1
        });
        let window = config.window;
        Some(Limiter {
            by_name,
            by_type,
            default,
            table: Table::new(config.max_keys, rules.len()),
            rules,
            keep_errors: config.keep_errors,
            keep_security: config.keep_security,
            window,
            window_ns: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            clock: config.clock,
            seed: config.seed.unwrap_or_else(|| fastrand::u64(..)),
            draws: AtomicU64::new(config.seed.unwrap_or_else(|| fastrand::u64(..))),
            next_due: AtomicU64::new(u64::MAX),
        })
    }

    /// The rule for an event: by name, else by type, else the default.
    #[inline]
    fn rule_of(&self, name: Option<&str>, event_type: &str) -> Option<usize> {
        if !self.by_name.is_empty()
            && let Some(&i) = name.and_then(|n| self.by_name.get(n))
        {
            return Some(i);
        }
        self.by_type
            .iter()
            .find(|(t, _)| *t == event_type)
            .map(|&(_, i)| i)
            .or(self.default)
    }

    /// Decides whether `record` (of category `event_type`, as the schema
    /// resolved it) reaches the outputs; writes the summaries that are due
    /// through `emit` first.
    #[inline]
    pub(crate) fn decide(
        &self,
        record: &Record<'_>,
        event_type: &str,
        stats: &Stats,
        emit: &dyn Fn(&Record<'_>),
    ) -> Verdict {
        let t = self.clock.nanos(record.timestamp);
        if t >= self.next_due.load(Ordering::Relaxed) {
            self.write_due(t, record.encoding.layout(), emit);
        }
        let Some(index) = self.rule_of(record.event_name, event_type) else {
            return Verdict::Keep;
        };
        let Some(rule) = self.rules.get(index) else {
            return Verdict::Keep;
        };
        if rule.always_keep
            || (!rule.explicit
                && ((self.keep_errors && record.level == Level::ERROR)
                    || (self.keep_security && event_type == EventType::SECURITY.as_str())))
        {
            return Verdict::Keep;
        }
        let mut verdict = Verdict::Keep;
        if let Some((threshold, p)) = rule.sample {
            if self.draw() >= threshold {
                let meta = Meta::new(index, Reason::Sampled);
                self.suppress(meta, rule.key_by(), record, t, stats);
                return Verdict::Suppressed;
            }
            verdict = Verdict::Sampled(p);
        }
        if let Some((cell, key_by)) = &rule.budget {
            let meta = Meta::new(index, Reason::RateLimited);
            let (slot, overflow) = self.table.find(self.key_hash(key_by, record, meta), meta);
            if overflow {
                stats.record_budget_overflow();
            }
            if !bucket::take(&slot.tat, t, *cell) {
                self.count(slot, overflow, key_by, record, t, stats);
                return Verdict::Suppressed;
            }
        }
        verdict
    }

    /// One draw of the sampler: SplitMix64 over a shared counter.
    #[inline]
    fn draw(&self) -> u64 {
        let mut z = self
            .draws
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The hash of `record`'s key, seeded, for the rule and reason `meta`.
    #[inline]
    fn key_hash(&self, key_by: &KeyBy, record: &Record<'_>, meta: Meta) -> u64 {
        let mut h = FxHasher::default();
        h.write_u64(self.seed ^ u64::from(meta.bits()));
        match key_by {
            KeyBy::EventName => match record.event_name {
                Some(name) => h.write(name.as_bytes()),
                None => h.write_usize(std::ptr::from_ref(record.metadata) as usize),
            },
            KeyBy::Callsite => h.write_usize(std::ptr::from_ref(record.metadata) as usize),
            KeyBy::Field(name) => match field_value(record, name) {
                Some(Value::Str(s)) => {
                    h.write_u8(1);
                    h.write(s.as_bytes());
                }
                Some(Value::I64(v)) => h.write_i64(v),
                Some(Value::U64(v)) => h.write_u64(v),
                Some(Value::I128(v)) => h.write_i128(v),
                Some(Value::U128(v)) => h.write_u128(v),
                Some(Value::F64(v)) => h.write_u64(v.to_bits()),
                Some(Value::Bool(v)) => h.write_u8(2 + u8::from(v)),
                None => h.write_u8(0),
            },
        }
        h.finish()
    }

    /// Counts a sampled-out event in its key's slot.
    fn suppress(&self, meta: Meta, key_by: &KeyBy, record: &Record<'_>, t: u64, stats: &Stats) {
        let (slot, overflow) = self.table.find(self.key_hash(key_by, record, meta), meta);
        if overflow {
            stats.record_budget_overflow();
        }
        self.count(slot, overflow, key_by, record, t, stats);
    }

    /// Counts a suppressed event in `slot`; the first of a summary also
    /// leaves its key and fields as the example.
    #[inline]
    fn count(
        &self,
        slot: &Slot,
        overflow: bool,
        key_by: &KeyBy,
        record: &Record<'_>,
        t: u64,
        stats: &Stats,
    ) {
        stats.record_dropped(crate::stats::DropReason::Suppressed);
        slot.last.fetch_max(t, Ordering::Relaxed);
        if slot.pending.fetch_add(1, Ordering::AcqRel) == 0 {
            self.start_summary(slot, overflow, key_by, record, t);
        }
    }

    #[cold]
    #[inline(never)]
    fn start_summary(
        &self,
        slot: &Slot,
        overflow: bool,
        key_by: &KeyBy,
        record: &Record<'_>,
        t: u64,
    ) {
        let example = Example {
            key: if overflow {
                "<overflow>".to_owned()
            } else {
                key_text(key_by, record)
            },
            event_name: record.event_name.map(str::to_owned),
            message: record.message.map(str::to_owned),
            fields: record.fields.clone(),
            first: t,
        };
        let due = t.saturating_add(self.window_ns);
        slot.due.store(due, Ordering::Relaxed);
        slot.lock_example().get_or_insert_with(|| Box::new(example));
        self.next_due.fetch_min(due, Ordering::AcqRel);
    }

    /// Writes the summaries due at `t`, if this thread is the first to see
    /// them due.
    #[cold]
    #[inline(never)]
    fn write_due(&self, t: u64, layout: &Layout, emit: &dyn Fn(&Record<'_>)) {
        let due = self.next_due.load(Ordering::Acquire);
        if t < due
            || self
                .next_due
                .compare_exchange(due, u64::MAX, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.write_summaries(t, false, layout, emit);
    }

    /// Writes every pending summary, due or not (flush, and the layer's
    /// end), stamped `now` (or the manual clock's time).
    pub(crate) fn write_pending(
        &self,
        now: std::time::SystemTime,
        layout: &Layout,
        emit: &dyn Fn(&Record<'_>),
    ) {
        self.write_summaries(self.clock.nanos(now), true, layout, emit);
    }

    fn write_summaries(&self, t: u64, all: bool, layout: &Layout, emit: &dyn Fn(&Record<'_>)) {
        let mut next = u64::MAX;
        for slot in self.table.all() {
            if slot.pending.load(Ordering::Acquire) == 0 {
                continue;
            }
            let due = slot.due.load(Ordering::Relaxed);
            if !all && due > t {
                next = next.min(due);
                continue;
            }
            let mut example = slot.lock_example();
            if example.is_none() && !all {
                // Its first event is still storing the example: next time.
                next = next.min(t.saturating_add(1));
                continue;
            }
            let count = slot.pending.swap(0, Ordering::AcqRel);
            let example = example.take();
            let last = slot.last.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let Some(meta) = slot.meta() else {
                continue;
            };
            let key_by = self
                .rules
                .get(meta.rule())
                .map_or("event_name", |rule| key_by_name(rule.key_by()));
            let summary = Summary {
                reason: meta.reason(),
                key_by,
                count,
                window: self.window,
                last,
                example: example.as_deref(),
                at: t,
            };
            emit_summary(&summary, layout, emit);
        }
        self.next_due.fetch_min(next, Ordering::AcqRel);
    }
}

fn key_by_name(key_by: &KeyBy) -> &str {
    match key_by {
        KeyBy::EventName => "event_name",
        KeyBy::Callsite => "callsite",
        KeyBy::Field(name) => name,
    }
}

/// A field of the event, else a promoted value of that name (the span's
/// `user_id`).
#[inline]
fn field_value<'a>(record: &Record<'a>, name: &str) -> Option<Value<'a>> {
    record
        .field(name)
        .or_else(|| record.correlation_value(name).map(Value::Str))
}

/// The key's value as a summary writes it.
fn key_text(key_by: &KeyBy, record: &Record<'_>) -> String {
    let callsite = || match (record.metadata.file(), record.metadata.line()) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        _ => record.metadata.name().to_owned(),
    };
    match key_by {
        KeyBy::EventName => record.event_name.map_or_else(callsite, str::to_owned),
        KeyBy::Callsite => callsite(),
        KeyBy::Field(name) => match field_value(record, name) {
            None => "<none>".to_owned(),
            Some(Value::Str(s)) => s.to_owned(),
            Some(Value::I64(v)) => v.to_string(),
            Some(Value::U64(v)) => v.to_string(),
            Some(Value::I128(v)) => v.to_string(),
            Some(Value::U128(v)) => v.to_string(),
            Some(Value::F64(v)) => v.to_string(),
            Some(Value::Bool(v)) => v.to_string(),
        },
    }
}

pub(crate) use config::RuleSpec as SchemaRule;
pub(crate) use config::{check_budget, check_probability};
