//! The envelope: every key, its order, its type, renaming and static fields.

use eventlog::{Envelope, Key};
use serde_json::json;

use crate::support::{only, run, run_with};

fn full_layer() -> eventlog::EventLayer {
    eventlog::layer()
        .service("checkout")
        .environment("production")
        .region("eu-west-1")
        .version("1.4.2")
        .host("web-1")
        .close_events(true)
}

#[test]
fn every_key_is_present_in_envelope_order() {
    let records = run_with(full_layer(), || {
        let _s = tracing::info_span!(
            "checkout",
            request_id = "r-1",
            correlation_id = "c-1",
            user_id = "u-1",
            session_id = "s-1",
            step = "cart"
        )
        .entered();
        tracing::info!(
            event_name = "order_placed",
            event_type = "business",
            order_id = "o-1",
            amount = 72.49,
            "order placed"
        );
    });
    let order = only(&records, "order_placed");
    assert_eq!(
        order.keys(),
        [
            "timestamp",
            "level",
            "event_name",
            "event_type",
            "message",
            "target",
            "service",
            "environment",
            "region",
            "version",
            "host",
            "trace_id",
            "span_id",
            "correlation_id",
            "request_id",
            "user_id",
            "session_id",
            "metadata",
            "span",
        ]
    );
    assert_eq!(order.str("level"), Some("INFO"));
    assert_eq!(order.event_type(), Some("business"));
    assert_eq!(order.message(), Some("order placed"));
    assert_eq!(
        order.get("metadata").unwrap(),
        &json!({"order_id": "o-1", "amount": 72.49})
    );
    assert_eq!(
        order.get("span").unwrap(),
        &json!({"name": "checkout", "fields": {"step": "cart"}})
    );

    let closed = only(&records, "checkout_completed");
    assert_eq!(closed.keys().last(), Some(&"duration_ms"));
}

#[test]
fn timestamps_are_rfc3339_utc_with_microseconds() {
    let before = std::time::SystemTime::now();
    let records = run(|| tracing::info!(event_name = "tick"));
    let after = std::time::SystemTime::now();
    let ts = records[0].str("timestamp").unwrap();
    // 2026-11-25T08:47:36.123456Z
    assert_eq!(ts.len(), 27, "{ts}");
    assert!(ts.ends_with('Z'));
    let bytes = ts.as_bytes();
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        assert_eq!(bytes[i], c, "{ts}");
    }
    // Compare with the clock: parse date and time back.
    let n = |r: std::ops::Range<usize>| ts[r].parse::<u64>().unwrap();
    let (y, mo, d) = (n(0..4), n(5..7), n(8..10));
    let secs_of_day = n(11..13) * 3600 + n(14..16) * 60 + n(17..19);
    let days = days_from_civil(y, mo, d);
    let micros = (days * 86_400 + secs_of_day) * 1_000_000 + n(20..26);
    let epoch_micros = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as u64
    };
    assert!(
        epoch_micros(before) <= micros && micros <= epoch_micros(after),
        "{ts}"
    );
}

/// Days since 1970-01-01 (the inverse of the encoder's conversion, written
/// independently from the proleptic Gregorian rules).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let is_leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut days = (1970..y)
        .map(|y| if is_leap(y) { 366 } else { 365 })
        .sum::<u64>();
    let month_days = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += month_days[..(m - 1) as usize].iter().sum::<u64>();
    days + d - 1
}

#[test]
fn levels_and_derived_event_types() {
    let records = run(|| {
        tracing::trace!(event_name = "a_traced");
        tracing::debug!(event_name = "a_debugged");
        tracing::info!(event_name = "a_informed");
        tracing::warn!(event_name = "a_warned");
        tracing::error!(event_name = "a_failed");
        tracing::error!(event_name = "access_denied", event_type = "security");
    });
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.str("level").unwrap(), r.event_type().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("TRACE", "log"),
            ("DEBUG", "log"),
            ("INFO", "log"),
            ("WARN", "log"),
            ("ERROR", "error"),
            ("ERROR", "security")
        ]
    );
}

#[test]
fn event_names_come_from_fields_or_the_macro_name() {
    let records = run(|| {
        tracing::info!(event = "user_login_attempt", result = "failure");
        tracing::info!(name: "cache_evicted", entries = 3);
        tracing::info!(event_name = "order_placed", event = "shadowed");
        tracing::info!(plain = true);
    });
    assert_eq!(records[0].event_name(), Some("user_login_attempt"));
    assert_eq!(records[0].metadata("result").unwrap(), "failure");
    assert_eq!(records[1].event_name(), Some("cache_evicted"));
    assert_eq!(records[2].event_name(), Some("order_placed"));
    assert_eq!(
        records[2].metadata("event").unwrap(),
        "shadowed",
        "the other name is kept, not lost"
    );
    assert_eq!(
        records[3].event_name(),
        None,
        "tracing's generated name is not an event name"
    );
    assert!(records[3].get("event_name").is_none());
}

#[test]
fn typed_values_stay_typed() {
    let records = run(|| {
        tracing::info!(
            event_name = "typed",
            i = -3i64,
            u = 7u64,
            f = 0.25f64,
            b = true,
            big = u128::MAX,
            s = "text",
            d = ?vec![1, 2],
            disp = %"shown",
        );
    });
    let m = records[0].get("metadata").unwrap();
    assert_eq!(
        m,
        &json!({"i": -3, "u": 7, "f": 0.25, "b": true, "big": u128::MAX as f64, "s": "text", "d": "[1, 2]", "disp": "shown"})
    );
    // serde_json reads integers above u64 as floats; the line has the exact digits.
    let exact: serde_json::Number = serde_json::from_str(&u128::MAX.to_string()).unwrap();
    assert_eq!(m["big"].as_f64(), exact.as_f64());
}

#[test]
fn keys_can_be_renamed_and_static_fields_added() {
    let envelope = Envelope::builder()
        .rename(Key::Timestamp, "@timestamp")
        .rename(Key::Level, "severity")
        .rename(Key::Metadata, "fields")
        .promote_as("request_id", "http.request_id")
        .static_field("team", "payments")
        .static_field("tier", 1)
        .build()
        .unwrap();
    let layer = eventlog::layer().service("api").envelope(envelope);
    let records = run_with(layer, || {
        let _s = tracing::info_span!("req", request_id = "r-9").entered();
        tracing::info!(event_name = "renamed", n = 1);
    });
    let r = &records[0];
    let keys = r.keys();
    assert_eq!(keys[0], "@timestamp");
    assert_eq!(keys[1], "severity");
    assert!(
        !keys.contains(&"timestamp") && !keys.contains(&"level") && !keys.contains(&"metadata")
    );
    assert_eq!(r.get("team").unwrap(), "payments");
    assert_eq!(r.get("tier").unwrap(), 1);
    assert_eq!(r.get("http.request_id").unwrap(), "r-9");
    assert_eq!(r.get("fields").unwrap(), &json!({"n": 1}));
    let service = keys.iter().position(|k| *k == "service").unwrap();
    let team = keys.iter().position(|k| *k == "team").unwrap();
    assert_eq!(
        team,
        service + 2,
        "static fields follow the deployment context: {keys:?}"
    );
}

#[test]
fn fields_named_like_envelope_keys_never_duplicate_keys() {
    let records = run_with(eventlog::layer().service("svc"), || {
        let _s =
            tracing::info_span!("s", name = "span-field-called-name", trace_id = "fake").entered();
        tracing::info!(
            event_name = "clash",
            timestamp = "fake",
            level = "fake",
            service = "fake",
            metadata = "fake",
            span = "fake",
            trace_id = "fake",
            duration_ms = 1.0,
            "real message"
        );
        tracing::info!(event_name = "twice", a = 1, a = 2);
    });
    // `run_with` has already parsed every line for duplicate keys; check the
    // values went where they belong.
    let clash = only(&records, "clash");
    assert_eq!(clash.get("service").unwrap(), "svc");
    assert_eq!(clash.metadata("timestamp").unwrap(), "fake");
    assert_eq!(clash.metadata("level").unwrap(), "fake");
    assert_eq!(clash.metadata("trace_id").unwrap(), "fake");
    assert_ne!(clash.get("trace_id").unwrap(), "fake");
    assert_eq!(clash.message(), Some("real message"));
    assert_eq!(clash.span_field("name").unwrap(), "span-field-called-name");
    let twice = only(&records, "twice");
    assert_eq!(twice.get("metadata").unwrap(), &json!({"a": 1, "a_2": 2}));
}

#[test]
fn span_block_can_be_turned_off() {
    let envelope = Envelope::builder().span_block(false).build().unwrap();
    let records = run_with(eventlog::layer().envelope(envelope), || {
        let _s = tracing::info_span!("s", step = 1).entered();
        tracing::info!(event_name = "no_span_block");
    });
    assert!(records[0].get("span").is_none());
    assert!(records[0].get("trace_id").is_some());
}

#[test]
fn deployment_context_comes_from_the_environment_and_code_wins() {
    let env = eventlog::Deployment::from_resource_attributes(
        "service.name=from-env,deployment.environment.name=staging,cloud.region=us-east-1,service.version=9,host.name=h",
    )
    .unwrap();
    let layer = eventlog::layer().deployment(env).service("from-code");
    let records = run_with(layer, || tracing::info!(event_name = "deployed"));
    let r = &records[0];
    assert_eq!(r.get("service").unwrap(), "from-code");
    assert_eq!(r.get("environment").unwrap(), "staging");
    assert_eq!(r.get("region").unwrap(), "us-east-1");
    assert_eq!(r.get("version").unwrap(), "9");
    assert_eq!(r.get("host").unwrap(), "h");
}
