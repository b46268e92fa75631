//! Schema checks on parsed output: violations, policies, loading, export.

use eventlog::testing::Capture;
use eventlog::{
    EventSpec, EventType, FieldSpec, FieldType, Policy, Schema, SchemaError, SchemaFormat,
    UnknownEvents,
};
use serde_json::json;
use tracing_subscriber::prelude::*;

use crate::support::{only, run_with};

fn shop() -> Schema {
    Schema::builder()
        .version(7)
        .unknown_events(UnknownEvents::Reject)
        .event(
            EventSpec::new("user_login_attempt")
                .event_type(EventType::USER_ACTION)
                .field(
                    FieldSpec::new("result", FieldType::String)
                        .required()
                        .one_of(["success", "failure"]),
                )
                .field(FieldSpec::new("attempt_count", FieldType::U64))
                .require_context("user_id"),
        )
        .event(
            EventSpec::new("order_placed")
                .event_type(EventType::BUSINESS)
                .field(
                    FieldSpec::new("order_id", FieldType::String)
                        .required()
                        .prefix("ord_")
                        .max_len(12),
                )
                .field(FieldSpec::new("amount", FieldType::F64).required())
                .field(FieldSpec::new("currency", FieldType::String).pattern("^[A-Z]{3}$"))
                .field(FieldSpec::new("placed_at", FieldType::Timestamp)),
        )
        .build()
        .unwrap()
}

fn errors(r: &eventlog::ParsedRecord) -> Vec<String> {
    r.get("schema_errors")
        .map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Two events that pass `shop()`, inside a `req` span with the required `user_id`.
fn emit_valid_events() {
    let _s = tracing::info_span!("req", user_id = "u-1").entered();
    tracing::info!(
        event_name = "user_login_attempt",
        result = "success",
        attempt_count = 1u64
    );
    tracing::info!(
        event_name = "order_placed",
        order_id = "ord_1",
        amount = 9.5,
        currency = "EUR",
        placed_at = "2026-11-25T09:00:00Z"
    );
}

#[test]
fn valid_records_carry_the_version_and_no_errors() {
    let records = run_with(eventlog::layer().schema(shop()), emit_valid_events);
    for r in &records {
        assert_eq!(r.get("schema_version").unwrap(), 7);
        assert!(r.get("schema_errors").is_none(), "{r:?}");
    }
    assert_eq!(
        only(&records, "user_login_attempt").event_type(),
        Some("user_action"),
        "type from the schema"
    );
}

/// Five events that between them break `shop()` in every way.
fn emit_each_violation_kind() {
    tracing::info!(event_name = "user_login_attempt", attempt_count = -1i64);
    tracing::info!(event_name = "user_login_attempt", result = "maybe");
    tracing::info!(
        event_name = "order_placed",
        event_type = "log",
        order_id = "x-1234567890123",
        amount = "lots",
        placed_at = "yesterday"
    );
    tracing::info!(event_name = "OrderPlaced");
    tracing::info!(message = "no name at all");
}

#[test]
fn each_violation_kind_is_reported_precisely() {
    let layer = eventlog::layer().schema(shop());
    let stats = layer.stats();
    let records = run_with(layer, emit_each_violation_kind);
    assert_eq!(
        errors(&records[0]),
        [
            "missing required field `result`",
            "field `attempt_count` should be u64, found integer",
            "missing required context `user_id`",
        ]
    );
    assert_eq!(
        errors(&records[1]),
        [
            "field `result` is `maybe`, expected one of success, failure",
            "missing required context `user_id`",
        ]
    );
    assert_eq!(
        errors(&records[2]),
        [
            "event_type is `log`, the schema says `business`",
            "field `order_id` is longer than 12 characters",
            "field `order_id` is not starting with `ord_`",
            "field `amount` should be f64, found string",
            "field `placed_at` should be timestamp, found string",
        ]
    );
    assert_eq!(
        errors(&records[3]),
        [
            "event name `OrderPlaced` is not object_action",
            "event `OrderPlaced` is not in the schema"
        ]
    );
    assert_eq!(errors(&records[4]), ["event has no event_name"]);
    assert_eq!(stats.snapshot().violations, 13);
}

/// `Schema::check_json` over the lines read back finds exactly what the
/// layer found when it wrote them (`schema_errors`), valid lines included.
#[test]
fn lines_read_back_are_checked_as_when_they_were_written() {
    let records = run_with(eventlog::layer().schema(shop()).close_events(true), || {
        emit_each_violation_kind();
        emit_valid_events();
        tracing::info!(
            event_name = "order_placed",
            order_id = "ord_1",
            amount = f64::NAN,
            currency = "EUR"
        );
        tracing::info!(
            event_name = "order_placed",
            order_id = "ord_2",
            amount = 3u64,
            currency = "eur"
        );
    });
    // Nine events and the `req` span's close record (undeclared: unchecked).
    assert_eq!(records.len(), 10);
    assert!(
        records
            .iter()
            .any(|r| r.event_name() == Some("req_completed"))
    );
    let schema = shop();
    for r in &records {
        let line = serde_json::Value::Object(r.as_map().clone());
        let found: Vec<String> = schema
            .check_json(&line)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found, errors(r), "{line}");
    }
    // Valid records stay valid, the rest keep their errors.
    assert_eq!(records.iter().filter(|r| errors(r).is_empty()).count(), 4);
    assert_eq!(
        schema.check_json(&json!("not an object"))[0].kind(),
        "missing_event_name"
    );
}

#[test]
fn dead_letters_go_to_their_writer_only() {
    let dead = Capture::new();
    let main = Capture::new();
    let layer = eventlog::layer()
        .schema(shop())
        .schema_policy(Policy::dead_letter(dead.clone()))
        .writer(main.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(
            event_name = "order_placed",
            order_id = "ord_1",
            amount = 1.0
        );
        tracing::info!(event_name = "order_placed", order_id = "ord_2");
    });
    let main = main.records();
    let dead = dead.records();
    assert_eq!(main.len(), 1);
    assert_eq!(main[0].metadata("order_id").unwrap(), "ord_1");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].metadata("order_id").unwrap(), "ord_2");
    assert_eq!(errors(&dead[0]), ["missing required field `amount`"]);
    let s = stats.snapshot();
    assert_eq!(
        (s.emitted, s.accepted, s.dead_lettered, s.violations),
        (2, 1, 1, 1)
    );
}

#[test]
fn the_drop_policy_drops_and_counts() {
    let layer = eventlog::layer().schema(shop()).schema_policy(Policy::Drop);
    let stats = layer.stats();
    let records = run_with(layer, || {
        tracing::info!(
            event_name = "order_placed",
            order_id = "ord_1",
            amount = 1.0
        );
        tracing::info!(event_name = "surprise_event");
    });
    assert_eq!(records.len(), 1);
    let s = stats.snapshot();
    assert_eq!((s.emitted, s.accepted, s.dropped_policy), (2, 1, 1));
}

#[test]
#[should_panic(expected = "schema violation in `order_placed`: missing required field `amount`")]
fn the_panic_policy_panics_with_the_message() {
    let layer = eventlog::layer()
        .schema(shop())
        .schema_policy(Policy::Panic);
    run_with(layer, || {
        tracing::info!(event_name = "order_placed", order_id = "ord_1");
    });
}

#[test]
fn unknown_events_follow_the_schema_setting() {
    let warn = Schema::builder()
        .unknown_events(UnknownEvents::Warn)
        .build()
        .unwrap();
    let allow = Schema::builder().build().unwrap();
    let layer = eventlog::layer()
        .schema(warn.clone())
        .schema_policy(Policy::Drop);
    let records = run_with(layer, || tracing::info!(event_name = "never_declared"));
    assert_eq!(
        errors(&records[0]),
        ["event `never_declared` is not in the schema"],
        "warn never drops"
    );
    assert_eq!(
        warn.violation_counts(),
        [("never_declared".to_owned(), "unknown_event", 1)]
    );
    let records = run_with(eventlog::layer().schema(allow), || {
        tracing::info!(event_name = "never_declared");
    });
    assert!(records[0].get("schema_errors").is_none());
}

#[test]
fn category_rules_apply_to_every_event_of_the_category() {
    let records = run_with(
        eventlog::layer()
            .schema(Schema::recommended())
            .service("svc"),
        || {
            tracing::error!(event_name = "payment_failed", order_id = "ord_1");
            tracing::error!(
                event_name = "payment_failed",
                error_type = "card_declined",
                "card declined"
            );
            tracing::warn!(
                event_name = "access_denied",
                actor = "u-1",
                action = "read",
                resource = "/admin",
                result = "denied"
            );
        },
    );
    assert_eq!(
        errors(&records[0]),
        [
            "missing required field `error_type`",
            "missing required context `message`"
        ]
    );
    assert!(records[1].get("schema_errors").is_none());
    assert!(records[2].get("schema_errors").is_none());
    assert_eq!(records[2].event_type(), Some("security"));
}

#[test]
fn toml_json_and_code_give_the_same_schema() {
    let toml = r#"
version = 7
unknown_events = "reject"

[events.user_login_attempt]
type = "user_action"
required_context = ["user_id"]
fields.result = { type = "enum", enum = ["success", "failure"], required = true }
fields.attempt_count = { type = "u64" }

[events.order_placed]
type = "business"
fields.order_id = { type = "string", required = true, prefix = "ord_", max_len = 12 }
fields.amount = { type = "f64", required = true }
fields.currency = { type = "string", pattern = "^[A-Z]{3}$" }
fields.placed_at = { type = "timestamp" }
"#;
    let json = r#"{
  "version": 7,
  "unknown_events": "reject",
  "events": {
    "user_login_attempt": {
      "type": "user_action",
      "required_context": ["user_id"],
      "fields": {
        "result": {"type": "enum", "enum": ["success", "failure"], "required": true},
        "attempt_count": {"type": "u64"}
      }
    },
    "order_placed": {
      "type": "business",
      "fields": {
        "order_id": {"type": "string", "required": true, "prefix": "ord_", "max_len": 12},
        "amount": {"type": "f64", "required": true},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "placed_at": {"type": "timestamp"}
      }
    }
  }
}"#;
    let from_toml = Schema::from_str(toml, SchemaFormat::Toml)
        .unwrap()
        .to_builder();
    let from_json = Schema::from_str(json, SchemaFormat::Json)
        .unwrap()
        .to_builder();
    assert_eq!(from_toml, shop().to_builder());
    assert_eq!(from_json, shop().to_builder());
    // The recommended schema survives builder round trips too.
    let recommended = Schema::recommended();
    assert_eq!(
        recommended.to_builder().build().unwrap().to_builder(),
        recommended.to_builder()
    );
    assert_eq!(
        Schema::from_str(eventlog::RECOMMENDED_TOML, SchemaFormat::Toml)
            .unwrap()
            .to_builder(),
        recommended.to_builder()
    );
}

#[test]
fn malformed_files_give_typed_errors_with_line_and_column() {
    let cases: &[(&str, SchemaFormat, &str)] = &[
        ("version = \n", SchemaFormat::Toml, "<string>:1:11: "),
        (
            "[events.order_placed]\nfields.amount = { type = \"money\" }\n",
            SchemaFormat::Toml,
            "<string>:2:26: field `amount` of `order_placed` has unknown type `money`",
        ),
        (
            "[events.OrderPlaced]\n",
            SchemaFormat::Toml,
            "<string>:1:9: event name `OrderPlaced` is not object_action",
        ),
        (
            "[events.order_placed]\nfields.id = { type = \"string\", pattern = \"(\" }\n",
            SchemaFormat::Toml,
            "<string>:2:32: pattern of field `id` of `order_placed` is invalid",
        ),
        (
            "[events.order_placed]\ntype = \"purchase\"\n",
            SchemaFormat::Toml,
            "<string>:2:9: event `order_placed` has unknown event type `purchase`",
        ),
        (
            "[events.order_placed]\nfields.kind = { type = \"enum\" }\n",
            SchemaFormat::Toml,
            "<string>:2:8: field `kind` of `order_placed` is an enum without values",
        ),
        (
            "unknown_events = \"sometimes\"\n",
            SchemaFormat::Toml,
            "<string>:1:1: unknown_events is `sometimes`",
        ),
        (
            "[events.order_placed]\ncolour = \"red\"\n",
            SchemaFormat::Toml,
            "<string>:2:1: unknown field `colour`",
        ),
        (
            "{\"events\": {\"a_b\": {}, \"a_b\": {}}}",
            SchemaFormat::Json,
            "<string>:1:28: `a_b` is declared twice",
        ),
        (
            "{\"events\": {\"order_placed\": {\"fields\": {\"x\": {\"type\": \"money\"}}}}}",
            SchemaFormat::Json,
            "<string>:1:55: field `x` of `order_placed` has unknown type `money`",
        ),
        (
            "{\"version\": \"three\"}",
            SchemaFormat::Json,
            "<string>:1:19: invalid type",
        ),
    ];
    for (text, format, want) in cases {
        let err = Schema::from_str(text, *format).unwrap_err().to_string();
        assert!(
            err.starts_with(want),
            "{text:?}\n got: {err}\nwant: {want}…"
        );
    }
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    assert!(
        matches!(Schema::from_file(&missing), Err(SchemaError::Read { path, .. }) if path == missing)
    );
    let yaml = dir.path().join("events.yaml");
    std::fs::write(&yaml, "").unwrap();
    assert!(matches!(
        Schema::from_file(&yaml),
        Err(SchemaError::Format { .. })
    ));
    let bad = dir.path().join("events.toml");
    std::fs::write(&bad, "[events.x_y]\nfields.a = { type = \"nope\" }\n").unwrap();
    let err = Schema::from_file(&bad).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:2:", bad.display())), "{err}");
}

#[test]
fn output_lines_validate_against_the_exported_json_schema() {
    let schema = Schema::recommended();
    let validator = jsonschema::validator_for(&schema.to_json_schema()).unwrap();
    let capture = Capture::new();
    let layer = eventlog::layer()
        .service("shop")
        .schema(schema)
        .writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("req", user_id = "u-1", request_id = "r-1").entered();
        tracing::info!(
            event_name = "user_login_attempt",
            result = "failure",
            failure_reason = "bad_password",
            attempt_count = 3u64
        );
        tracing::info!(
            event_name = "order_placed",
            order_id = "ord_1",
            amount = 72.49,
            currency = "USD",
            items = 2u64
        );
        tracing::error!(
            event_name = "payment_failed",
            error_type = "card_declined",
            "card declined"
        );
        // Deliberately broken: amount missing, currency lowercase.
        tracing::info!(
            event_name = "order_placed",
            order_id = "ord_2",
            currency = "usd"
        );
    });
    let lines: Vec<serde_json::Value> = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for line in &lines[..3] {
        let errors: Vec<String> = validator.iter_errors(line).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{line}: {errors:?}");
    }
    assert!(
        !validator.is_valid(&lines[3]),
        "the broken record must not validate"
    );
    // And without the annotation, the JSON Schema still catches it.
    let mut stripped = lines[3].clone();
    stripped.as_object_mut().unwrap().remove("schema_errors");
    assert!(!validator.is_valid(&stripped));
    assert_eq!(
        lines[3]["metadata"],
        json!({"order_id": "ord_2", "currency": "usd"})
    );
}
