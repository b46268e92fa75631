//! Rate limits and sampling (#17): budgets keep a storm within bounds,
//! nothing is suppressed silently, kept samples can be re-weighted, and
//! bad configuration is a typed error. Time is a `ManualClock`, so every
//! count is exact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use eventlog::testing::{Capture, ManualClock};
use eventlog::{
    Budget, BudgetKey, DropReason, EventType, LimitError, Limits, Output, ParsedRecord, Rate,
    Record, SUPPRESSED_EVENT, Schema, SchemaError, SchemaFormat,
};
use proptest::prelude::*;
use tracing_subscriber::prelude::*;

fn clock() -> ManualClock {
    ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
}

/// The summaries among `records`, and the sum of their counts.
fn summaries(records: &[ParsedRecord]) -> (Vec<&ParsedRecord>, u64) {
    let found: Vec<_> = records
        .iter()
        .filter(|r| r.event_name() == Some(SUPPRESSED_EVENT))
        .collect();
    let sum = found
        .iter()
        .map(|r| r.metadata("suppressed").unwrap().as_u64().unwrap())
        .sum();
    (found, sum)
}

/// Counts records by name and keeps the summaries as JSON lines: for runs
/// too large to keep every line.
#[derive(Clone, Default)]
struct Tally(Arc<Mutex<(HashMap<String, u64>, Vec<String>)>>);

impl Output for Tally {
    fn emit(&self, record: &Record<'_>) -> Result<(), DropReason> {
        let mut tally = self.0.lock().unwrap();
        let name = record.event_name().unwrap_or("-").to_owned();
        if name == SUPPRESSED_EVENT {
            let mut line = Vec::new();
            record.write_json(&mut line);
            tally.1.push(String::from_utf8(line).unwrap());
        }
        *tally.0.entry(name).or_insert(0) += 1;
        Ok(())
    }
}

impl Tally {
    fn count(&self, name: &str) -> u64 {
        self.0.lock().unwrap().0.get(name).copied().unwrap_or(0)
    }

    fn summaries(&self) -> Vec<ParsedRecord> {
        let tally = self.0.lock().unwrap();
        tally
            .1
            .iter()
            .map(|l| ParsedRecord::parse(l).unwrap())
            .collect()
    }
}

#[test]
fn a_storm_on_two_threads_stays_within_budget_and_every_suppressed_event_is_summarised() {
    let clock = clock();
    let limits = Limits::builder()
        .event_budget(
            "payment_retried",
            Budget::new(Rate::per_second(100)).burst(50),
        )
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for attempt in 0..500_000u64 {
                        tracing::warn!(event_name = "payment_retried", attempt);
                        if attempt % 1000 == 0 {
                            tracing::info!(event_name = "order_placed", attempt);
                        }
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let before_drop = stats.snapshot();
    drop(dispatch); // The layer goes: its last summaries are written.
    let records = capture.records();
    let retried = records
        .iter()
        .filter(|r| r.event_name() == Some("payment_retried"))
        .count() as u64;
    let orders = records
        .iter()
        .filter(|r| r.event_name() == Some("order_placed"))
        .count();
    let s = stats.snapshot();
    // The clock stood still: the burst, and not one more.
    assert_eq!(retried, 50);
    assert_eq!(retried + s.suppressed, 1_000_000);
    assert_eq!(before_drop.suppressed, s.suppressed);
    assert_eq!(orders, 1000, "other event names are unaffected");
    let (found, sum) = summaries(&records);
    assert_eq!(sum, s.suppressed);
    assert_eq!(found.len(), 1, "one key, one window");
    let summary = found[0];
    assert_eq!(summary.metadata("key").unwrap(), "payment_retried");
    assert_eq!(summary.metadata("key_by").unwrap(), "event_name");
    assert_eq!(summary.metadata("reason").unwrap(), "rate_limited");
    assert_eq!(summary.metadata("window_ms").unwrap(), 60_000);
    assert_eq!(summary.level(), Some(tracing::Level::WARN));
    assert_eq!(summary.event_type(), Some("system_event"));
    assert!(summary.metadata("example.attempt").unwrap().is_u64());
    assert_eq!(
        summary.metadata("first_suppressed").unwrap(),
        "2027-01-15T08:00:00.000000Z"
    );
    assert_eq!(
        s.emitted,
        50 + 1000 + 1,
        "suppressed events are never emitted"
    );
    assert_eq!(s.dropped(), 0, "suppressed is not dropped");
}

#[test]
fn a_budget_refills_with_time_and_summarises_once_per_window() {
    let clock = clock();
    let limits = Limits::builder()
        .budget(Budget::new(Rate::per_second(10)))
        .summary_window(Duration::from_secs(1))
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _step in 0..50 {
            for n in 0..100u64 {
                tracing::info!(event_name = "cache_refreshed", n);
            }
            clock.advance(Duration::from_millis(100));
        }
    });
    let records = capture.records();
    let kept = records
        .iter()
        .filter(|r| r.event_name() == Some("cache_refreshed"))
        .count() as u64;
    // A burst of 10, then one token per 100 ms.
    assert_eq!(kept, 10 + 49);
    assert_eq!(stats.snapshot().suppressed, 5000 - kept);
    let (found, sum) = summaries(&records);
    assert_eq!(sum, 5000 - kept);
    let counts: Vec<u64> = found
        .iter()
        .map(|r| r.metadata("suppressed").unwrap().as_u64().unwrap())
        .collect();
    assert_eq!(counts, [981, 990, 990, 990, 990], "one summary per window");
    let firsts: Vec<&str> = found
        .iter()
        .map(|r| r.metadata("first_suppressed").unwrap().as_str().unwrap())
        .collect();
    assert_eq!(firsts[1], "2027-01-15T08:00:01.000000Z");
    assert_eq!(
        found[1].metadata("last_suppressed").unwrap(),
        "2027-01-15T08:00:01.900000Z"
    );
}

#[test]
fn kept_samples_carry_sample_rate_and_reweighting_gives_the_true_total() {
    const N: u64 = 100_000;
    const P: f64 = 0.1;
    let limits = Limits::builder()
        .sample("cache_hit", P)
        .seed(17)
        .build()
        .unwrap();
    let tally = Tally::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let layer = eventlog::layer()
        .limits(limits)
        .without_writer()
        .output(tally.clone())
        .output(RateOf(seen.clone()));
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..N {
            tracing::info!(event_name = "cache_hit", n);
        }
    });
    let rates = seen.lock().unwrap();
    let kept = tally.count("cache_hit");
    assert_eq!(rates.len() as u64, kept);
    assert!(rates.iter().all(|r| *r == P), "every kept sample says 0.1");
    let estimate: f64 = rates.iter().map(|r| 1.0 / r).sum();
    // The estimate's standard deviation is sqrt(N p (1 - p)) / p; six of
    // them make a flake a one-in-a-billion event (and the seed fixes it).
    let sigma = (N as f64 * P * (1.0 - P)).sqrt() / P;
    assert!(
        (estimate - N as f64).abs() <= 6.0 * sigma,
        "estimate {estimate}, true {N}, sigma {sigma}"
    );
    let s = stats.snapshot();
    assert_eq!(kept + s.suppressed, N);
    let summaries = tally.summaries();
    let sum: u64 = summaries
        .iter()
        .map(|r| r.metadata("suppressed").unwrap().as_u64().unwrap())
        .sum();
    assert_eq!(sum, s.suppressed);
    assert!(
        summaries
            .iter()
            .all(|r| r.metadata("reason").unwrap() == "sampled")
    );
}

/// Keeps each record's `sample_rate`.
struct RateOf(Arc<Mutex<Vec<f64>>>);

impl Output for RateOf {
    fn emit(&self, record: &Record<'_>) -> Result<(), DropReason> {
        if record.event_name() == Some("cache_hit") {
            let rate = record.field("sample_rate").and_then(|v| v.as_f64());
            self.0.lock().unwrap().push(rate.unwrap_or(f64::NAN));
        }
        Ok(())
    }
}

#[test]
fn the_layers_sample_rate_wins_over_an_event_field_of_that_name() {
    let limits = Limits::builder()
        .sample("cache_hit", 0.5)
        .seed(3)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..64 {
            tracing::info!(event_name = "cache_hit", sample_rate = "the caller's");
        }
    });
    let kept = capture.events("cache_hit");
    assert!(!kept.is_empty());
    for record in kept {
        assert_eq!(record.metadata("sample_rate").unwrap(), 0.5);
        assert_eq!(record.metadata("sample_rate_2").unwrap(), "the caller's");
    }
}

#[test]
fn errors_and_security_events_are_never_suppressed_by_default() {
    let clock = clock();
    let everything = || {
        Limits::builder()
            .budget(Budget::new(Rate::per_hour(1)))
            .sample_type(EventType::LOG, 0.0)
            .clock(&clock)
    };
    let capture = Capture::new();
    let layer = eventlog::layer()
        .limits(everything().build().unwrap())
        .writer(capture.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..1000 {
            tracing::error!(event_name = "payment_failed");
            tracing::warn!(event_name = "access_denied", event_type = "security");
            tracing::info!(event_name = "cache_hit");
            tracing::info!(event_name = "job_done", event_type = "system_event");
        }
    });
    assert_eq!(capture.events("payment_failed").len(), 1000);
    assert_eq!(capture.events("access_denied").len(), 1000);
    assert!(capture.events("cache_hit").is_empty(), "sampled at 0");
    assert_eq!(capture.events("job_done").len(), 1, "the default budget");
    assert_eq!(stats.snapshot().suppressed, 1000 + 999);

    // Asked: with keep_errors off, errors are limited like the rest.
    let capture = Capture::new();
    let limits = everything().keep_errors(false).build().unwrap();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..1000 {
            tracing::error!(event_name = "payment_failed");
            tracing::warn!(event_name = "access_denied", event_type = "security");
        }
    });
    assert_eq!(capture.events("payment_failed").len(), 1);
    assert_eq!(capture.events("access_denied").len(), 1000);
}

const LIMITED_SCHEMA: &str = r#"
version = 2

[events.audit_written]
type = "security"
always_keep = true

[events.payment_retried]
type = "system_event"
rate = "100/s"

[events.cache_hit]
sample = 0.0
"#;

#[test]
fn a_schema_file_declares_rates_sampling_and_always_keep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.toml");
    std::fs::write(&path, LIMITED_SCHEMA).unwrap();
    let schema = Schema::from_file(&path).unwrap();
    let spec = schema.event("payment_retried").unwrap();
    assert_eq!(spec.budget().unwrap().rate(), Rate::per_second(100));
    assert!(schema.event("audit_written").unwrap().is_always_kept());
    let clock = clock();
    // Code adds a budget for everything else, with keep-always turned off:
    // `always_keep` in the schema still wins.
    let limits = Limits::builder()
        .budget(Budget::new(Rate::per_hour(1)))
        .keep_security(false)
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer()
        .schema(schema)
        .limits(limits)
        .writer(capture.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..1000 {
            tracing::info!(event_name = "audit_written");
            tracing::info!(event_name = "payment_retried");
            tracing::info!(event_name = "cache_hit");
            tracing::info!(event_name = "user_login_attempt");
        }
    });
    assert_eq!(
        capture.events("audit_written").len(),
        1000,
        "always_keep: nothing suppressed"
    );
    assert_eq!(
        capture.events("payment_retried").len(),
        100,
        "burst = the rate's count"
    );
    assert!(capture.events("cache_hit").is_empty());
    assert_eq!(capture.events("user_login_attempt").len(), 1);
    let records = capture.records();
    let (found, sum) = summaries(&records);
    assert_eq!(sum, stats.snapshot().suppressed);
    assert_eq!(sum, 900 + 1000 + 999);
    let mut keys: Vec<_> = found
        .iter()
        .map(|r| r.metadata("key").unwrap().as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(keys, ["cache_hit", "payment_retried", "user_login_attempt"]);
}

#[test]
fn schema_limit_errors_name_the_file_line_and_value() {
    let cases = [
        ("[events.a_b]\nrate = \"abc\"\n", 2, "rate `abc` is not"),
        (
            "[events.a_b]\nrate = \"0/s\"\n",
            2,
            "the rate of event `a_b` is zero",
        ),
        (
            "[events.a_b]\nrate = \"5/s\"\nburst = 0\n",
            3,
            "the burst of event `a_b` is zero",
        ),
        ("[events.a_b]\nburst = 3\n", 2, "`burst` needs a `rate`"),
        (
            "[events.a_b]\nsample = 2.0\n",
            2,
            "is 2, expected a number from 0 to 1",
        ),
        ("[events.a_b]\nsample = -1.0\n", 2, "is -1, expected"),
        ("[events.a_b]\nsample = nan\n", 2, "is NaN, expected"),
        (
            "[events.a_b]\nalways_keep = true\nsample = 0.5\n",
            2,
            "`always_keep` cannot go with",
        ),
    ];
    for (text, line, message) in cases {
        let err = Schema::from_str(text, SchemaFormat::Toml).unwrap_err();
        assert!(
            matches!(&err, SchemaError::BadLimit { line: l, event, .. } if *l == line && event == "a_b"),
            "{text}: {err:?}"
        );
        assert!(err.to_string().contains(message), "{text}: {err}");
        assert!(
            err.to_string().starts_with(&format!("<string>:{line}:")),
            "{err}"
        );
    }
    // A burst that is not a number is the parser's error, still placed.
    let err = Schema::from_str(
        "[events.a_b]\nrate = \"1/s\"\nburst = -3\n",
        SchemaFormat::Toml,
    )
    .unwrap_err();
    assert!(
        matches!(err, SchemaError::Syntax { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn a_field_keyed_budget_with_a_million_distinct_values_stays_bounded() {
    const N: u64 = 1_000_000;
    let clock = clock();
    let limits = Limits::builder()
        .event_budget(
            "request_served",
            Budget::new(Rate::per_hour(1)).key(BudgetKey::field("user_id")),
        )
        .max_keys(1000)
        .clock(&clock)
        .build()
        .unwrap();
    let tally = Tally::default();
    let layer = eventlog::layer()
        .limits(limits)
        .without_writer()
        .output(tally.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for user in 0..N {
            tracing::info!(event_name = "request_served", user_id = user);
        }
    });
    let s = stats.snapshot();
    let kept = tally.count("request_served");
    // Every key with a bucket of its own passes once; the rest share the
    // overflow bucket, which passes once too.
    let own = N - s.budget_overflow;
    assert!(own <= 1000, "at most max_keys buckets: {own}");
    assert!(own >= 990, "{own}");
    assert_eq!(kept, own + 1);
    assert_eq!(kept + s.suppressed, N);
    let summaries = tally.summaries();
    let overflow: Vec<_> = summaries
        .iter()
        .filter(|r| r.metadata("key").unwrap() == "<overflow>")
        .collect();
    assert_eq!(overflow.len(), 1);
    assert_eq!(
        overflow[0].metadata("suppressed").unwrap().as_u64(),
        Some(s.budget_overflow - 1)
    );
    assert_eq!(overflow[0].metadata("key_by").unwrap(), "user_id");
    let sum: u64 = summaries
        .iter()
        .map(|r| r.metadata("suppressed").unwrap().as_u64().unwrap())
        .sum();
    assert_eq!(sum, s.suppressed);
}

#[test]
fn a_budget_keyed_by_a_span_field_gives_each_user_a_bucket() {
    let clock = clock();
    let limits = Limits::builder()
        .budget(
            Budget::new(Rate::per_hour(1))
                .burst(2)
                .key(BudgetKey::field("user_id")),
        )
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for user in ["u-1", "u-2", "u-3"] {
            let _request = tracing::info_span!("request", user_id = user).entered();
            for _ in 0..10 {
                tracing::info!(event_name = "page_viewed");
            }
        }
        for _ in 0..10 {
            tracing::info!(event_name = "page_viewed"); // No user: one shared bucket.
        }
    });
    let viewed = capture.events("page_viewed");
    assert_eq!(viewed.len(), 8);
    for user in ["u-1", "u-2", "u-3"] {
        assert_eq!(
            viewed.iter().filter(|r| r.user_id() == Some(user)).count(),
            2
        );
    }
    let records = capture.records();
    let (found, sum) = summaries(&records);
    assert_eq!(sum, 32);
    let mut keys: Vec<_> = found
        .iter()
        .map(|r| r.metadata("key").unwrap().as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(keys, ["<none>", "u-1", "u-2", "u-3"]);
}

#[test]
fn a_budget_keyed_by_callsite_limits_each_line_apart() {
    let clock = clock();
    let limits = Limits::builder()
        .budget(
            Budget::new(Rate::per_hour(1))
                .burst(3)
                .key(BudgetKey::CALLSITE),
        )
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..10 {
            tracing::info!(event_name = "job_done", line = "a");
            tracing::info!(event_name = "job_done", line = "b");
        }
    });
    let done = capture.events("job_done");
    assert_eq!(done.len(), 6);
    let records = capture.records();
    let (found, sum) = summaries(&records);
    assert_eq!((found.len(), sum), (2, 14));
    let key = found[0].metadata("key").unwrap().as_str().unwrap();
    assert!(
        key.starts_with("crates/eventlog/tests/layer/limits.rs:"),
        "{key}"
    );
}

#[test]
fn flush_writes_the_pending_summaries() {
    let clock = clock();
    let limits = Limits::builder()
        .budget(Budget::new(Rate::per_hour(1)))
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..5 {
            tracing::info!(event_name = "cache_refreshed");
        }
    });
    assert!(
        summaries(&capture.records()).0.is_empty(),
        "the window is still open"
    );
    let layer = dispatch.downcast_ref::<eventlog::EventLayer>().unwrap();
    layer.flush().unwrap();
    let records = capture.records();
    let (found, sum) = summaries(&records);
    assert_eq!((found.len(), sum), (1, 4));
    drop(dispatch);
    assert_eq!(
        summaries(&capture.records()).0.len(),
        1,
        "nothing left to write at the end"
    );
}

#[test]
fn hostile_code_configuration_is_a_typed_error() {
    let every = |b: Budget| Limits::builder().budget(b).build();
    assert!(matches!(
        every(Budget::new(Rate::per_second(0))),
        Err(LimitError::ZeroRate { .. })
    ));
    assert!(matches!(
        every(Budget::new(Rate::new(5, Duration::ZERO))),
        Err(LimitError::ZeroRate { .. })
    ));
    assert!(matches!(
        every(Budget::new(Rate::per_second(5)).burst(0)),
        Err(LimitError::ZeroBurst { .. })
    ));
    assert!(every(Budget::new(Rate::per_second(u64::MAX)).burst(u64::MAX)).is_ok());
    for p in [f64::NAN, -1.0, 2.0, f64::INFINITY, -0.000_001] {
        let err = Limits::builder()
            .sample("événement_é", p)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, LimitError::Probability { rule, .. } if rule == "event `événement_é`"),
            "{err:?}"
        );
    }
    assert_eq!(
        Limits::builder()
            .summary_window(Duration::ZERO)
            .build()
            .unwrap_err(),
        LimitError::ZeroWindow
    );
    assert_eq!(
        Limits::builder().max_keys(0).build().unwrap_err(),
        LimitError::ZeroKeys
    );
    // Clamped, as documented.
    let huge = Limits::builder()
        .summary_window(Duration::MAX)
        .max_keys(usize::MAX);
    assert!(huge.build().is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any rate, burst, probability, window, key count and (Unicode) name
    /// either builds or is refused with the error the docs name; what
    /// builds runs without a panic, and counts add up.
    #[test]
    fn any_configuration_builds_or_is_refused_and_never_panics(
        count in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        period_ms in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        burst in prop_oneof![Just(None), Just(Some(0u64)), Just(Some(u64::MAX)), any::<Option<u64>>()],
        p in prop_oneof![Just(f64::NAN), Just(-1.0), Just(2.0), Just(0.0), Just(1.0), any::<f64>(), 0.0..=1.0f64],
        window_ms in prop_oneof![Just(0u64), Just(u64::MAX), 1..10_000u64],
        keys in prop_oneof![Just(0usize), Just(usize::MAX), 1..100usize],
        name in any::<String>(),
    ) {
        let mut budget = Budget::new(Rate::new(count, Duration::from_millis(period_ms)));
        if let Some(b) = burst {
            budget = budget.burst(b);
        }
        let built = Limits::builder()
            .event_budget(name.clone(), budget.clone())
            .sample(name.clone(), p)
            .summary_window(Duration::from_millis(window_ms))
            .max_keys(keys)
            .seed(1)
            .build();
        let expected = if count == 0 || period_ms == 0 {
            Some("zero_rate")
        } else if burst == Some(0) {
            Some("zero_burst")
        } else if !(0.0..=1.0).contains(&p) {
            Some("probability")
        } else if window_ms == 0 {
            Some("zero_window")
        } else if keys == 0 {
            Some("zero_keys")
        } else {
            None
        };
        let got = match &built {
            Ok(_) => None,
            Err(LimitError::ZeroRate { .. }) => Some("zero_rate"),
            Err(LimitError::ZeroBurst { .. }) => Some("zero_burst"),
            Err(LimitError::Probability { .. }) => Some("probability"),
            Err(LimitError::ZeroWindow) => Some("zero_window"),
            Err(LimitError::ZeroKeys) => Some("zero_keys"),
            Err(other) => panic!("unexpected {other:?}"),
        };
        prop_assert_eq!(got, expected);
        if let Ok(limits) = built {
            let capture = Capture::new();
            // No redaction: the name must reach the limiter as it is.
            let layer = eventlog::layer()
                .redactor(eventlog::Redactor::none())
                .limits(limits)
                .writer(capture.clone());
            let stats = layer.stats();
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::with_default(subscriber, || {
                for _ in 0..20 {
                    tracing::info!(event_name = name.as_str(), "storm");
                }
            });
            let records = capture.records();
            let written = records.iter().filter(|r| r.event_name() == Some(name.as_str())).count() as u64;
            let (_, sum) = summaries(&records);
            let s = stats.snapshot();
            prop_assert_eq!(written + s.suppressed, 20);
            prop_assert_eq!(sum, s.suppressed);
        }
    }

    /// Any `rate` text in a schema file loads or is a placed, typed error.
    #[test]
    fn any_schema_rate_text_loads_or_is_a_placed_error(
        rate in prop_oneof![any::<String>(), "[0-9]{1,22}/[0-9]{0,11}(ms|s|m|min|h|d|x|)", "[ 0-9/a-z.-]{0,12}"],
        burst in any::<Option<u32>>(),
    ) {
        let burst_line = burst.map(|b| format!("burst = {b}\n")).unwrap_or_default();
        let text = format!("[events.a_b]\nrate = {}\n{burst_line}", toml_string(&rate));
        match Schema::from_str(&text, SchemaFormat::Toml) {
            Ok(schema) => {
                let parsed: Rate = rate.parse().unwrap();
                prop_assert_eq!(schema.event("a_b").unwrap().budget().unwrap().rate(), parsed);
            }
            Err(SchemaError::BadLimit { line, .. }) => prop_assert!(line == 2 || line == 3),
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    // JSON's escapes are TOML's, but TOML also wants DEL escaped.
    serde_json::to_string(s)
        .unwrap()
        .replace('\u{7f}', "\\u007F")
}

#[test]
fn sampling_and_a_budget_on_one_event_are_summarised_apart_and_add_up() {
    const N: u64 = 10_000;
    let clock = clock();
    let limits = Limits::builder()
        .sample("search_ran", 0.5)
        .event_budget("search_ran", Budget::new(Rate::per_hour(10)))
        .seed(5)
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer().limits(limits).writer(capture.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..N {
            tracing::info!(event_name = "search_ran", n);
        }
    });
    let kept = capture.events("search_ran");
    assert_eq!(kept.len(), 10, "the burst, of the sampled half");
    assert!(
        kept.iter()
            .all(|r| r.metadata("sample_rate").unwrap() == 0.5)
    );
    let s = stats.snapshot();
    assert_eq!(kept.len() as u64 + s.suppressed, N);
    let records = capture.records();
    let (found, sum) = summaries(&records);
    assert_eq!(sum, s.suppressed);
    let by_reason = |reason: &str| -> u64 {
        found
            .iter()
            .filter(|r| r.metadata("reason").unwrap() == reason)
            .map(|r| r.metadata("suppressed").unwrap().as_u64().unwrap())
            .sum()
    };
    let (sampled, limited) = (by_reason("sampled"), by_reason("rate_limited"));
    assert_eq!(sampled + limited, s.suppressed);
    // Half are sampled out, within six standard deviations (50 here).
    assert!(sampled.abs_diff(N / 2) <= 300, "{sampled}");
}

#[test]
fn summaries_are_written_in_the_layers_envelope() {
    let clock = clock();
    let envelope = eventlog::Envelope::builder()
        .rename(eventlog::Key::Metadata, "fields")
        .rename(eventlog::Key::EventName, "event")
        .static_field("team", "payments")
        .build()
        .unwrap();
    let limits = Limits::builder()
        .budget(Budget::new(Rate::per_hour(1)))
        .clock(&clock)
        .build()
        .unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer()
        .service("checkout")
        .envelope(envelope)
        .limits(limits)
        .writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..3u64 {
            tracing::info!(event_name = "cart_viewed", n, "viewed");
        }
    });
    let lines = capture.lines();
    let summary: serde_json::Value = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == SUPPRESSED_EVENT)
        .unwrap();
    assert_eq!(summary["service"], "checkout");
    assert_eq!(summary["team"], "payments");
    assert_eq!(summary["level"], "WARN");
    assert_eq!(summary["fields"]["suppressed"], 2);
    assert_eq!(summary["fields"]["suppressed_event"], "cart_viewed");
    assert_eq!(summary["fields"]["example.message"], "viewed");
    assert_eq!(summary["fields"]["example.n"], 1);
    assert!(summary.get("metadata").is_none());
}
