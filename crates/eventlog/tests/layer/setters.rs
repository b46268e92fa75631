//! Every setter of the layer, the envelope and the deployment context with
//! hostile values: any Unicode, empty, huge, `0` and `usize::MAX`. Building
//! gives a typed error or a layer whose every line is valid JSON with
//! unique keys, and nothing panics. `OTEL_RESOURCE_ATTRIBUTES` garbage goes
//! through `Deployment::from_resource_attributes`, the parser `from_env`
//! uses.

use eventlog::testing::Capture;
use eventlog::{Deployment, Envelope, Key};
use proptest::prelude::*;
use tracing_subscriber::prelude::*;

use crate::support::assert_no_duplicate_keys;

const KEYS: [Key; 6] = [
    Key::Timestamp,
    Key::Level,
    Key::EventName,
    Key::Message,
    Key::Metadata,
    Key::TraceId,
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        1 => Just(String::new()),
        1 => "[\\x00-\\x1f\"\\\\]{1,8}",
        1 => prop::sample::select(vec![
            "timestamp", "level", "event_name", "metadata", "span", "trace_id", "request_id",
            "message", "service", "@timestamp", "é", "🔑",
        ]).prop_map(str::to_owned),
        1 => Just("x".repeat(100_000)),
    ]
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(usize::MAX),
        Just(usize::MAX - 1),
        any::<usize>(),
        0usize..100
    ]
}

#[derive(Debug)]
struct Config {
    deployment: [String; 5],
    suffix: String,
    renames: Vec<(usize, String)>,
    promoted: Vec<String>,
    promote_as: (String, String),
    static_field: (String, String),
    span_block: bool,
    max_value_bytes: usize,
}

fn config() -> impl Strategy<Value = Config> {
    (
        [hostile(), hostile(), hostile(), hostile(), hostile()],
        hostile(),
        proptest::collection::vec((0..KEYS.len(), hostile()), 0..3),
        proptest::collection::vec(hostile(), 0..3),
        (hostile(), hostile()),
        (hostile(), hostile()),
        any::<bool>(),
        size(),
    )
        .prop_map(
            |(
                deployment,
                suffix,
                renames,
                promoted,
                promote_as,
                static_field,
                span_block,
                max_value_bytes,
            )| Config {
                deployment,
                suffix,
                renames,
                promoted,
                promote_as,
                static_field,
                span_block,
                max_value_bytes,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_setter_value_gives_an_error_or_valid_lines(c in config()) {
        let mut envelope = Envelope::builder().span_block(c.span_block);
        for (key, name) in &c.renames {
            envelope = envelope.rename(KEYS[*key], name.clone());
        }
        envelope = envelope
            .promoted(c.promoted.iter().cloned())
            .promote_as(c.promote_as.0.clone(), c.promote_as.1.clone())
            .static_field(c.static_field.0.clone(), c.static_field.1.clone());
        // A collision is a typed error; that is the whole contract then.
        let Ok(envelope) = envelope.build() else { return Ok(()); };
        let [service, environment, region, version, host] = &c.deployment;
        let capture = Capture::new();
        let layer = eventlog::layer()
            .service(service.clone())
            .environment(environment.clone())
            .region(region.clone())
            .version(version.clone())
            .host(host.clone())
            .envelope(envelope)
            .max_value_bytes(c.max_value_bytes)
            .close_event_suffix(c.suffix.clone())
            .writer(capture.clone());
        let stats = layer.stats();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let span = tracing::info_span!("s", request_id = "r", tenant = tracing::field::Empty);
            let _s = span.enter();
            span.record("tenant", "t-1");
            tracing::info!(event_name = "x_done", value = "v", "m");
        });
        let lines = capture.lines();
        // The event and the span's close record.
        prop_assert_eq!(lines.len(), 2);
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
            prop_assert!(v.is_object());
            assert_no_duplicate_keys(line);
        }
        let s = stats.snapshot();
        prop_assert_eq!((s.emitted, s.accepted, s.dropped()), (2, 2, 0));
    }

    #[test]
    fn any_resource_attributes_parse_or_fail_typed(value in hostile(), pairs in proptest::collection::vec((hostile(), hostile()), 0..4)) {
        let _ = Deployment::from_resource_attributes(&value);
        let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Ok(d) = Deployment::from_resource_attributes(&joined.join(",")) {
            // Whatever parsed is usable.
            let capture = Capture::new();
            let layer = eventlog::layer().deployment(d).writer(capture.clone());
            tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
                tracing::info!(event_name = "x_done");
            });
            let line = &capture.lines()[0];
            assert_no_duplicate_keys(line);
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let _ = Deployment::from_pairs(refs);
    }
}
