//! Promotion of correlation fields from spans and events.

use serde_json::json;

use crate::support::{only, run, run_with};

#[test]
fn promoted_fields_appear_on_every_event_beneath_the_span() {
    let records = run(|| {
        let _outer = tracing::info_span!(
            "request",
            request_id = "r-1",
            user_id = "u-1",
            correlation_id = "c-1"
        )
        .entered();
        let _inner = tracing::info_span!("step", session_id = "s-1", step = "auth").entered();
        tracing::info!(event_name = "deep");
    });
    let r = &records[0];
    assert_eq!(r.get("request_id").unwrap(), "r-1");
    assert_eq!(r.get("user_id").unwrap(), "u-1");
    assert_eq!(r.get("correlation_id").unwrap(), "c-1");
    assert_eq!(r.get("session_id").unwrap(), "s-1");
    assert_eq!(
        r.get("span").unwrap(),
        &json!({"name": "step", "fields": {"step": "auth"}})
    );
}

#[test]
fn the_nearest_span_wins_and_the_event_wins_over_spans() {
    let records = run(|| {
        let _outer =
            tracing::info_span!("outer", user_id = "outer-user", request_id = "r-outer").entered();
        let _inner = tracing::info_span!("inner", user_id = "inner-user").entered();
        tracing::info!(event_name = "from_spans");
        tracing::info!(event_name = "from_event", user_id = "event-user");
    });
    let spans = only(&records, "from_spans");
    assert_eq!(spans.get("user_id").unwrap(), "inner-user");
    assert_eq!(spans.get("request_id").unwrap(), "r-outer");
    let event = only(&records, "from_event");
    assert_eq!(event.get("user_id").unwrap(), "event-user");
    assert!(
        event.metadata("user_id").is_none(),
        "promoted, not repeated in metadata"
    );
}

#[test]
fn values_recorded_later_are_picked_up() {
    let records = run(|| {
        let outer = tracing::info_span!(
            "outer",
            user_id = tracing::field::Empty,
            step = tracing::field::Empty
        );
        let _o = outer.enter();
        let _inner = tracing::info_span!("inner").entered();
        tracing::info!(event_name = "before_login");
        outer.record("user_id", "u-late");
        outer.record("step", "authenticated");
        tracing::info!(event_name = "after_login");
        outer.record("user_id", "u-changed");
        tracing::info!(event_name = "after_change");
    });
    assert!(only(&records, "before_login").get("user_id").is_none());
    assert_eq!(
        only(&records, "after_login").get("user_id").unwrap(),
        "u-late"
    );
    assert_eq!(
        only(&records, "after_change").get("user_id").unwrap(),
        "u-changed"
    );
}

#[test]
fn span_fields_recorded_later_update_the_span_block() {
    let records = run(|| {
        let span = tracing::info_span!("job", state = "queued", attempt = 1);
        span.in_scope(|| tracing::info!(event_name = "job_queued"));
        span.record("state", "running");
        span.in_scope(|| tracing::info!(event_name = "job_progress"));
    });
    assert_eq!(
        only(&records, "job_queued").get("span").unwrap(),
        &json!({"name": "job", "fields": {"state": "queued", "attempt": 1}})
    );
    assert_eq!(
        only(&records, "job_progress").get("span").unwrap(),
        &json!({"name": "job", "fields": {"state": "running", "attempt": 1}})
    );
}

#[test]
fn non_string_correlation_values_are_written_as_text() {
    let records = run(|| {
        let _s = tracing::info_span!("req", user_id = 12345u64).entered();
        tracing::info!(event_name = "numeric_user");
    });
    assert_eq!(records[0].get("user_id").unwrap(), "12345");
}

#[test]
fn the_promoted_set_is_configurable() {
    let envelope = eventlog::Envelope::builder()
        .promoted(["tenant_id", "request_id"])
        .build()
        .unwrap();
    let records = run_with(eventlog::layer().envelope(envelope), || {
        let _s = tracing::info_span!(
            "req",
            tenant_id = "t-1",
            request_id = "r-1",
            user_id = "u-1"
        )
        .entered();
        tracing::info!(event_name = "custom_promotion");
    });
    let r = &records[0];
    assert_eq!(r.get("tenant_id").unwrap(), "t-1");
    assert_eq!(r.get("request_id").unwrap(), "r-1");
    assert!(r.get("user_id").is_none());
    assert_eq!(
        r.span_field("user_id").unwrap(),
        "u-1",
        "no longer promoted, so a span field"
    );
    let keys = r.keys();
    let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert!(
        pos("tenant_id") < pos("request_id"),
        "configured order: {keys:?}"
    );
}
