//! The secret corpus (issue 13): every detector with positive and negative
//! examples, run through a real subscriber in every place a value can
//! travel (event field, span field, `Debug` output, message, error chain,
//! event name, a value cut by the length cap), asserting on the parsed
//! output that no secret survives anywhere in any line and that realistic
//! non-secret text passes byte for byte.
//!
//! The tables are data: `POSITIVES` (one row per shape) and `NEGATIVES`
//! (realistic text that must not be touched). Run with `--nocapture` to see
//! the counts.

use std::collections::BTreeSet;
use std::fmt;

use eventlog::ParsedRecord;
use eventlog::testing::Capture;
use eventlog::{EventLayer, Redactor};
use eventlog_tests::secrets::{KNOWN_FALSE_POSITIVES, NEGATIVES, POSITIVES};
use serde_json::Value;
use tracing_subscriber::prelude::*;

/// Where a value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    EventField,
    SpanField,
    Debug,
    Message,
    ErrorChain,
    EventName,
}

const PLACES: [Place; 6] = [
    Place::EventField,
    Place::SpanField,
    Place::Debug,
    Place::Message,
    Place::ErrorChain,
    Place::EventName,
];

/// An error whose source says `text`: `request failed: <text>`.
#[derive(Debug)]
struct Failure(Cause);

#[derive(Debug)]
struct Cause(&'static str);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request failed")
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl std::error::Error for Cause {}

/// Emits `text` in `place`, tagged `case`.
fn emit(place: Place, case: usize, text: &'static str) {
    let case = case as u64;
    match place {
        Place::EventField => tracing::info!(event_name = "corpus", case, value = text),
        Place::SpanField => {
            let _s = tracing::info_span!("corpus_span", value = text).entered();
            tracing::info!(event_name = "corpus", case);
        }
        Place::Debug => tracing::info!(event_name = "corpus", case, value = ?text),
        Place::Message => tracing::info!(event_name = "corpus", case, "{}", text),
        Place::ErrorChain => {
            let failure = Failure(Cause(text));
            tracing::error!(
                event_name = "corpus",
                case,
                error = &failure as &(dyn std::error::Error + 'static)
            );
        }
        Place::EventName => tracing::info!(event_name = text, case),
    }
}

/// What `place` should show for an untouched `text`, read from `record`.
fn shown(place: Place, record: &ParsedRecord) -> Option<String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    match place {
        Place::EventField | Place::Debug => s(record.metadata("value")),
        Place::SpanField => s(record.span_field("value")),
        Place::Message => record.message().map(str::to_owned),
        Place::ErrorChain => s(record.metadata("error")),
        Place::EventName => record.event_name().map(str::to_owned),
    }
}

fn expected(place: Place, text: &str) -> String {
    match place {
        Place::Debug => format!("{text:?}"),
        Place::ErrorChain => format!("request failed: {text}"),
        _ => text.to_owned(),
    }
}

/// Runs `f` under `layer`; every line parsed (panics on invalid JSON).
fn run_lines(layer: EventLayer, f: impl FnOnce()) -> Vec<(String, Value)> {
    run_capture(layer, f)
        .lines()
        .into_iter()
        .map(|line| {
            let v = serde_json::from_str(&line).unwrap();
            (line, v)
        })
        .collect()
}

fn run_capture(layer: EventLayer, f: impl FnOnce()) -> Capture {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(layer.writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, f);
    capture
}

/// Every string in a JSON value, keys included.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => out.push(v.to_string()),
    }
}

/// The leaks of `secrets` in `lines`: (secret, line).
fn leaks(lines: &[(String, Value)], secrets: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (line, value) in lines {
        let mut all = Vec::new();
        strings(value, &mut all);
        for secret in secrets {
            if all.iter().any(|s| s.contains(secret)) || line.contains(secret) {
                found.push(((*secret).to_owned(), line.clone()));
            }
        }
    }
    found
}

#[test]
fn the_corpus_is_sound() {
    let mut shapes = BTreeSet::new();
    for p in POSITIVES {
        assert!(shapes.insert(p.shape), "shape `{}` twice", p.shape);
        for s in p.secrets {
            assert!(p.text.contains(s), "`{}` does not hold `{s}`", p.shape);
        }
    }
    // Redaction off, every secret reaches the output in every place: the
    // leak check below can fail.
    for place in PLACES {
        let lines = run_lines(eventlog::layer().redactor(Redactor::none()), || {
            for (case, p) in POSITIVES.iter().enumerate() {
                emit(place, case, p.text);
            }
        });
        for p in POSITIVES {
            assert!(
                !leaks(&lines, p.secrets).is_empty(),
                "{place:?}: `{}` does not travel there",
                p.shape
            );
        }
    }
}

#[test]
fn no_secret_of_the_corpus_survives_in_any_place() {
    let mut failures = Vec::new();
    for place in PLACES {
        let lines = run_lines(eventlog::layer(), || {
            for (case, p) in POSITIVES.iter().enumerate() {
                emit(place, case, p.text);
            }
        });
        assert_eq!(lines.len(), POSITIVES.len(), "{place:?}");
        for p in POSITIVES {
            for (secret, line) in leaks(&lines, p.secrets) {
                failures.push(format!("{place:?} {}: `{secret}` in {line}", p.shape));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_secret_of_the_corpus_survives_a_cut_inside_it() {
    let pad = "x".repeat(24);
    let mut failures = Vec::new();
    for p in POSITIVES {
        for secret in p.secrets {
            let Some(at) = p.text.find(secret) else {
                continue;
            };
            // The cap falls in the middle of the secret.
            let cap = pad.len() + 1 + at + secret.len() / 2;
            let text = format!("{pad} {}", p.text);
            let lines = run_lines(eventlog::layer().max_value_bytes(cap), || {
                tracing::info!(event_name = "cut", value = text.as_str(), dbg = ?text, "{text}");
                let _s = tracing::info_span!("cut_span", value = text.as_str()).entered();
                tracing::info!(event_name = "cut_in_span");
            });
            // Neither the secret nor the half of it before the cut survives.
            let half = secret.get(..secret.len() / 2).unwrap_or_default();
            let mut probes = vec![*secret];
            if half.len() >= 6 {
                probes.push(half);
            }
            for (probe, line) in leaks(&lines, &probes) {
                failures.push(format!("{}: `{probe}` in {line}", p.shape));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn realistic_text_passes_byte_for_byte_in_every_place() {
    let mut false_positives = Vec::new();
    for place in PLACES {
        let records = run_capture(eventlog::layer(), || {
            for (case, text) in NEGATIVES.iter().enumerate() {
                emit(place, case, text);
            }
        })
        .records();
        assert_eq!(records.len(), NEGATIVES.len(), "{place:?}");
        for record in &records {
            let case = record.metadata("case").and_then(Value::as_u64).unwrap();
            let text = NEGATIVES[usize::try_from(case).unwrap()];
            let want = expected(place, text);
            let got = shown(place, record);
            if got.as_deref() != Some(want.as_str()) {
                false_positives.push(format!("{place:?}: {want:?} became {got:?}"));
            }
        }
    }
    assert!(
        false_positives.is_empty(),
        "{} false positives:\n{}",
        false_positives.len(),
        false_positives.join("\n")
    );
}

#[test]
fn known_false_positives_are_what_they_are_listed_as() {
    let records = run_capture(eventlog::layer(), || {
        for (case, (text, _)) in KNOWN_FALSE_POSITIVES.iter().enumerate() {
            emit(Place::EventField, case, text);
        }
    })
    .records();
    for (record, (_, becomes)) in records.iter().zip(KNOWN_FALSE_POSITIVES) {
        assert_eq!(shown(Place::EventField, record).as_deref(), Some(*becomes));
    }
}

#[test]
#[allow(clippy::print_stderr)] // The counts the closing note reports.
fn corpus_counts() {
    let detectors: BTreeSet<_> = POSITIVES.iter().map(|p| p.detector).collect();
    eprintln!(
        "secret corpus: {} shapes ({} secrets) over {} detectors, {} realistic negatives, {} known false positives, {} places plus the cut",
        POSITIVES.len(),
        POSITIVES.iter().map(|p| p.secrets.len()).sum::<usize>(),
        detectors.len(),
        NEGATIVES.len(),
        KNOWN_FALSE_POSITIVES.len(),
        PLACES.len(),
    );
    // Every built-in detector has positives here.
    for d in eventlog::Detector::ALL {
        assert!(detectors.contains(d.name()), "no positive for {}", d.name());
    }
}
