//! The secret corpus (shared with the core's corpus test, in
//! `eventlog_tests::secrets`) through the OTLP output to a real collector:
//! no secret of any shape reaches rotel, in an attribute, the body or a span
//! attribute, and realistic non-secret text arrives byte for byte. The same
//! records go to a JSON capture on the same layer, held to the same list.

use std::time::Duration;

use eventlog_tests::collector::Collector;
use eventlog_tests::secrets::{NEGATIVES, POSITIVES};
use serde_json::Value;
use tracing_subscriber::prelude::*;

use crate::support::capture_and_export;

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

#[test]
fn no_secret_of_the_corpus_reaches_the_collector_and_negatives_arrive_whole() {
    let collector = Collector::start();
    let (capture, layer, guard) = capture_and_export(&collector);
    let texts: Vec<&str> = POSITIVES
        .iter()
        .map(|p| p.text)
        .chain(NEGATIVES.iter().copied())
        .collect();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for (case, text) in texts.iter().enumerate() {
            let _span = tracing::info_span!("corpus", note = *text).entered();
            tracing::info!(event_name = "corpus_case", case, value = *text, "{}", text);
        }
    });
    let report = guard.shutdown(Duration::from_secs(20)).expect("exported");
    assert_eq!(report.exported, texts.len() as u64);
    let received = collector.wait_until(Duration::from_secs(20), |r| r.len() >= texts.len());
    assert_eq!(received.len(), texts.len(), "{}", collector.log());
    let lines: Vec<Value> = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let mut leaks = Vec::new();
    for (output, records) in [("otlp", &received), ("json", &lines)] {
        let mut all = Vec::new();
        for r in records {
            strings(r, &mut all);
        }
        for p in POSITIVES {
            for secret in p.secrets {
                if all.iter().any(|s| s.contains(secret)) {
                    leaks.push(format!("{output}: {} leaked {secret:?}", p.shape));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );

    // Negatives: the value attribute, the body and the span attribute of
    // their record hold the text unchanged.
    for (i, text) in NEGATIVES.iter().enumerate() {
        let case = (POSITIVES.len() + i) as u64;
        let r = received
            .iter()
            .find(|r| r["attributes"]["case"].as_u64() == Some(case))
            .unwrap_or_else(|| panic!("case {case} not received"));
        assert_eq!(r["attributes"]["value"], *text, "{r}");
        assert_eq!(r["body"], *text, "{r}");
        assert_eq!(r["attributes"]["span.note"], *text, "{r}");
    }
}
