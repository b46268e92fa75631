//! Generated hostile events through every layout mode: field and span names
//! from all of Unicode (through callsites built at run time, as `log`
//! bridges and dynamic instrumentation make them), values of every kind,
//! spans recorded late, several layers stacked.
//!
//! Every line must be valid JSON with no duplicate key at any depth, the
//! layer must never panic, and the counts must close: every emitted record
//! is written, dead-lettered or counted as dropped.
//!
//! CI runs `HOSTILE_CASES` (default 400) cases of `EVENTS_PER_CASE` events
//! each, about 100 000 events. The large run (1 M+ events) is
//!
//! ```text
//! EVENTLOG_HOSTILE_CASES=4000 cargo nextest run -p eventlog --test layer hostile
//! ```

use std::sync::OnceLock;

use eventlog::testing::Capture;
use eventlog::{Envelope, Key, Policy, Redactor, Schema, Stats};
use proptest::prelude::*;
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value};
use tracing_core::metadata::Kind;
use tracing_core::span::{Attributes, Record as SpanValues};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

use crate::support::assert_no_duplicate_keys;

const EVENTS_PER_CASE: usize = 256;
const FIELDS: usize = 4;

fn cases() -> u32 {
    std::env::var("EVENTLOG_HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

/// A callsite made at run time, with any name and field names.
struct DynCallsite {
    meta: OnceLock<Metadata<'static>>,
}

impl Callsite for DynCallsite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.meta.get().unwrap()
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Registers a callsite named `name` with `fields` (leaked: callsites live
/// for the process, as the macros' statics do).
fn callsite(
    name: &str,
    fields: &[String; FIELDS],
    level: Level,
    kind: Kind,
) -> &'static Metadata<'static> {
    let names: Vec<&'static str> = fields.iter().map(|f| leak(f)).collect();
    let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    let site: &'static DynCallsite = Box::leak(Box::new(DynCallsite {
        meta: OnceLock::new(),
    }));
    let meta = Metadata::new(
        leak(name),
        "hostile",
        level,
        Some(file!()),
        Some(line!()),
        Some(module_path!()),
        FieldSet::new(names, Identifier(site)),
        kind,
    );
    assert!(site.meta.set(meta).is_ok());
    tracing_core::callsite::register(site);
    site.meta.get().unwrap()
}

#[derive(Debug)]
struct Failure(String, Option<Box<Failure>>);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|e| e as _)
    }
}

#[derive(Debug)]
#[allow(dead_code)] // Read through Debug.
struct Nested {
    name: String,
    password: Option<String>,
    bytes: Vec<u8>,
}

/// One generated value of each kind `tracing` records.
#[derive(Debug)]
enum Generated {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Debug(tracing::field::DebugValue<Nested>),
    Error(&'static (dyn std::error::Error + 'static)),
}

impl Generated {
    fn as_value(&self) -> &dyn Value {
        match self {
            Generated::Str(s) => s,
            Generated::I64(v) => v,
            Generated::U64(v) => v,
            Generated::F64(v) => v,
            Generated::Bool(v) => v,
            Generated::Debug(v) => v,
            Generated::Error(e) => e,
        }
    }
}

/// Text from all of Unicode, biased towards what breaks encoders: control
/// characters, quotes, backslashes, line and paragraph separators, BOMs,
/// astral-plane characters, the empty string.
fn text(rng: &mut fastrand::Rng) -> String {
    const NASTY: [char; 10] = [
        '"', '\\', '\n', '\r', '\u{0}', '\u{7f}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{1b}',
    ];
    let len = match rng.u8(0..8) {
        0 => 0,
        1 => rng.usize(64..300),
        _ => rng.usize(1..24),
    };
    (0..len)
        .map(|_| match rng.u8(0..6) {
            0 => NASTY[rng.usize(..NASTY.len())],
            1 => char::from(rng.u8(0x20..0x7f)),
            _ => loop {
                if let Some(c) = char::from_u32(rng.u32(0..0x11_0000)) {
                    break c;
                }
            },
        })
        .collect()
}

/// One value of a kind `tracing` records, drawn from `rng`.
fn value(rng: &mut fastrand::Rng) -> Generated {
    match rng.u8(0..9) {
        0..=2 => Generated::Str(text(rng)),
        3 => Generated::I64(rng.i64(..)),
        4 => Generated::U64(rng.u64(..)),
        5 => Generated::F64(match rng.u8(0..5) {
            0 => f64::NAN,
            1 => f64::NEG_INFINITY,
            2 => -0.0,
            _ => f64::from_bits(rng.u64(..)),
        }),
        6 => Generated::Bool(rng.bool()),
        7 => Generated::Debug(tracing::field::debug(Nested {
            name: text(rng),
            password: rng.bool().then(|| text(rng)),
            bytes: (0..rng.usize(0..8)).map(|_| rng.u8(..)).collect(),
        })),
        _ => {
            let inner = rng.bool().then(|| Box::new(Failure(text(rng), None)));
            Generated::Error(Box::leak(Box::new(Failure(text(rng), inner))))
        }
    }
}

fn values_of(rng: &mut fastrand::Rng) -> [Generated; FIELDS] {
    [value(rng), value(rng), value(rng), value(rng)]
}

/// A field name: any Unicode, or a name that collides with the envelope.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>().prop_map(|s| s.chars().take(16).collect()),
        2 => prop::sample::select(vec![
            "message", "event_name", "event", "event_type", "timestamp", "level", "metadata",
            "span", "trace_id", "span_id", "request_id", "user_id", "session_id", "correlation_id",
            "traceparent", "password", "card", "token", "name_2", "", "é", "café", "número",
            "contraseña", "пароль", "密码", "🔑", "a.b", "a\"b", "a\\b", "a\nb", "\u{0}",
        ]).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
    ]
}

fn span_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| s.chars().take(24).collect()),
        field_name()
    ]
}

fn names() -> impl Strategy<Value = [String; FIELDS]> {
    [field_name(), field_name(), field_name(), field_name()]
}

/// What one case runs: a few callsites, spans over them, events in them.
#[derive(Debug)]
struct Batch {
    mode: usize,
    span_names: [String; 2],
    span_fields: [[String; FIELDS]; 2],
    event_fields: Vec<([String; FIELDS], u8)>,
    /// Seeds the values of the batch's events (drawn in the run: 1 000
    /// values per case through proptest's strategies cost more than the
    /// events themselves in a debug build).
    seed: u64,
    cap: usize,
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        0..MODES,
        [span_name(), span_name()],
        [names(), names()],
        proptest::collection::vec((names(), 0u8..5), 1..6),
        any::<u64>(),
        prop_oneof![Just(usize::MAX), 0usize..64],
    )
        .prop_map(
            |(mode, span_names, span_fields, event_fields, seed, cap)| Batch {
                mode,
                span_names,
                span_fields,
                event_fields,
                seed,
                cap,
            },
        )
}

const LEVELS: [Level; 5] = [
    Level::TRACE,
    Level::DEBUG,
    Level::INFO,
    Level::WARN,
    Level::ERROR,
];

/// Layout modes: each builds the stack and says what it expects.
const MODES: usize = 9;

struct Stack {
    dispatch: tracing::Dispatch,
    /// Each layer's main output, dead-letter output, stats, filter and
    /// whether it writes close records.
    layers: Vec<(Capture, Option<Capture>, Stats, LevelFilter, bool)>,
}

fn layer_with(
    mode: usize,
    cap: usize,
    main: &Capture,
    dead: &Capture,
) -> (eventlog::EventLayer, bool) {
    let base = eventlog::layer().max_value_bytes(cap).writer(main.clone());
    match mode {
        0 => (base, false),
        1 => (base.redactor(Redactor::none()), false),
        2 => {
            let envelope = Envelope::builder()
                .rename(Key::Timestamp, "@timestamp")
                .rename(Key::Level, "severity")
                .rename(Key::Metadata, "fields")
                .promote("tenant")
                .static_field("team", "payments")
                .span_block(false)
                .build()
                .unwrap();
            (base.envelope(envelope), false)
        }
        3 => (base.close_events(true), true),
        4 => (base.schema(Schema::recommended()), false),
        5 => (
            base.schema(Schema::recommended())
                .schema_policy(Policy::dead_letter(dead.clone())),
            false,
        ),
        6 => (
            base.schema(Schema::recommended())
                .schema_policy(Policy::Drop),
            false,
        ),
        _ => (
            base.close_events(true).service("svc").environment("env"),
            true,
        ),
    }
}

fn stack(batch: &Batch) -> Stack {
    let (main, dead) = (Capture::new(), Capture::new());
    if batch.mode < 7 {
        let (layer, close_events) = layer_with(batch.mode, batch.cap, &main, &dead);
        let stats = layer.stats();
        let dead = (batch.mode == 5).then_some(dead);
        return Stack {
            dispatch: tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
            layers: vec![(main, dead, stats, LevelFilter::TRACE, close_events)],
        };
    }
    // Stacked: two layers, the second behind an event filter, or a third
    // with its own envelope.
    let (second, third) = (Capture::new(), Capture::new());
    let (first, _) = layer_with(7, batch.cap, &main, &dead);
    let (b, _) = layer_with(1, batch.cap, &second, &dead);
    let (c, _) = layer_with(2, batch.cap, &third, &dead);
    let stats = (first.stats(), b.stats(), c.stats());
    let dispatch = if batch.mode == 7 {
        tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(first)
                .with(b.with_event_filter(LevelFilter::WARN))
                .with(c),
        )
    } else {
        tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(first)
                .with(b.with_filter(LevelFilter::INFO))
                .with(c.with_event_filter(LevelFilter::DEBUG)),
        )
    };
    let second_filter = if batch.mode == 7 {
        LevelFilter::WARN
    } else {
        LevelFilter::INFO
    };
    let third_filter = if batch.mode == 7 {
        LevelFilter::TRACE
    } else {
        LevelFilter::DEBUG
    };
    Stack {
        dispatch,
        layers: vec![
            (main, None, stats.0, LevelFilter::TRACE, true),
            (second, None, stats.1, second_filter, false),
            (third, None, stats.2, third_filter, false),
        ],
    }
}

/// Runs the batch; returns how many events of each level were emitted.
fn run(batch: &Batch, dispatch: &tracing::Dispatch) -> [u64; 5] {
    let span_sites: Vec<_> = (0..2)
        .map(|i| {
            callsite(
                &batch.span_names[i],
                &batch.span_fields[i],
                Level::INFO,
                Kind::SPAN,
            )
        })
        .collect();
    let event_sites: Vec<_> = batch
        .event_fields
        .iter()
        .map(|(fields, level)| callsite("event", fields, LEVELS[usize::from(*level)], Kind::EVENT))
        .collect();
    let mut rng = fastrand::Rng::with_seed(batch.seed);
    let mut emitted = [0u64; 5];
    tracing::dispatcher::with_default(dispatch, || {
        let values = |meta: &'static Metadata<'static>,
                      values: &[Generated; FIELDS],
                      f: &mut dyn FnMut(&tracing_core::field::ValueSet<'_>)| {
            let fields: Vec<_> = meta.fields().iter().collect();
            let pairs = [
                (&fields[0], Some(values[0].as_value())),
                (&fields[1], Some(values[1].as_value())),
                (&fields[2], Some(values[2].as_value())),
                (&fields[3], Some(values[3].as_value())),
            ];
            f(&meta.fields().value_set(&pairs));
        };
        let open = |meta, v: &[Generated; FIELDS]| {
            let mut id = None;
            // As the macros do: `enabled` first, which per-layer filters
            // rely on.
            assert!(dispatch.enabled(meta));
            values(meta, v, &mut |set| {
                id = Some(dispatch.new_span(&Attributes::new(meta, set)));
            });
            id.unwrap()
        };
        let outer = open(span_sites[0], &values_of(&mut rng));
        dispatch.enter(&outer);
        let inner = open(span_sites[1], &values_of(&mut rng));
        dispatch.enter(&inner);
        for i in 0..EVENTS_PER_CASE {
            let meta = event_sites[i % event_sites.len()];
            let v = values_of(&mut rng);
            if dispatch.enabled(meta) {
                values(meta, &v, &mut |set| Event::dispatch(meta, set));
            }
            emitted[LEVELS.iter().position(|l| l == meta.level()).unwrap()] += 1;
            if i == EVENTS_PER_CASE / 2 {
                // A late record on the outer span retires scopes mid-batch.
                values(span_sites[0], &values_of(&mut rng), &mut |set| {
                    dispatch.record(&outer, &SpanValues::new(set));
                });
            }
        }
        dispatch.exit(&inner);
        dispatch.try_close(inner);
        dispatch.exit(&outer);
        dispatch.try_close(outer);
    });
    emitted
}

fn check(batch: &Batch) -> Result<(), TestCaseError> {
    let stack = stack(batch);
    let emitted = run(batch, &stack.dispatch);
    for (main, dead, stats, filter, close_events) in &stack.layers {
        let lines = main.lines();
        let dead_lines = dead.as_ref().map(Capture::lines).unwrap_or_default();
        for line in lines.iter().chain(&dead_lines) {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| TestCaseError::fail(format!("invalid JSON ({e}): {line:?}")))?;
            prop_assert!(value.is_object());
            assert_no_duplicate_keys(line);
        }
        let passed: u64 = LEVELS
            .iter()
            .zip(emitted)
            .filter(|(level, _)| filter >= *level)
            .map(|(_, n)| n)
            .sum();
        let s = stats.snapshot();
        // Close records: two INFO spans, from layers that asked for them.
        let closes = if *close_events { 2 } else { 0 };
        let records = passed + closes;
        prop_assert_eq!(s.emitted, records, "mode {}", batch.mode);
        prop_assert_eq!(
            s.emitted,
            s.accepted + s.dropped() + s.dead_lettered,
            "mode {}: {:?}",
            batch.mode,
            s
        );
        prop_assert_eq!(lines.len() as u64, s.accepted, "mode {}", batch.mode);
        prop_assert_eq!(
            dead_lines.len() as u64,
            s.dead_lettered,
            "mode {}",
            batch.mode
        );
        prop_assert_eq!(s.internal_errors, 0);
    }
    Ok(())
}

#[test]
fn hostile_events_in_every_layout_mode_give_valid_lines_and_close_the_counts() {
    let config = ProptestConfig {
        cases: cases(),
        // Shrinking a 256-event batch takes long; the failure message
        // carries the mode and the line.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&batch(), |batch| check(&batch));
    if let Err(e) = result {
        panic!("{e}");
    }
}
