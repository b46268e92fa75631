//! `stats` over what a sampling and rate-limiting layer wrote: kept
//! samples re-weighted by `1 / sample_rate` give the emitted count within
//! the sampling error, and the `events_suppressed` summaries give the
//! suppressed counts exactly, by reason.

// Counts far below 2^52, as floats for the sampling error.
#![allow(clippy::cast_precision_loss)]

use std::sync::Mutex;

use eventlog::{Budget, Limits, Rate};
use serde_json::Value;
use tracing_subscriber::prelude::*;

use crate::{eventlog, path, stdout};

#[test]
#[allow(clippy::too_many_lines)] // One fixture, three commands' answers.
fn stats_reweights_kept_samples_and_counts_the_suppressed_by_reason() {
    const SAMPLED: u64 = 20_000;
    const P: f64 = 0.1;
    const LIMITED: u64 = 3_000;
    const PLAIN: u64 = 500;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let limits = Limits::builder()
        .sample("cache_hit", P)
        // 100 a second with a burst of 10: a tight loop keeps about 10.
        .event_budget(
            "retry_attempted",
            Budget::new(Rate::per_second(100)).burst(10),
        )
        .seed(18)
        .build()
        .unwrap();
    let layer = eventlog::layer()
        .limits(limits)
        .writer(Mutex::new(std::fs::File::create(&file).unwrap()));
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in 0..SAMPLED {
            tracing::info!(event_name = "cache_hit", n);
        }
        for n in 0..LIMITED {
            tracing::warn!(event_name = "retry_attempted", n);
        }
        for n in 0..PLAIN {
            tracing::info!(event_name = "order_placed", n);
        }
    });
    let suppressed = stats.snapshot().suppressed;

    let out = eventlog(&["stats", path(&file), "--json"]);
    assert!(out.status.success(), "{out:?}");
    let s: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let by_event = |k: &str| s["by_event"][k].as_u64().unwrap_or(0);
    let estimated = |k: &str| s["estimated_by_event"][k].as_u64().unwrap();
    let kept_samples = by_event("cache_hit");
    assert_eq!(s["sampled_records"].as_u64().unwrap(), kept_samples);
    // The estimate's standard deviation is sqrt(N (1 - p) / p).
    let sigma = (SAMPLED as f64 * (1.0 - P) / P).sqrt();
    let error = (estimated("cache_hit") as f64 - SAMPLED as f64).abs();
    assert!(
        error <= 6.0 * sigma,
        "{} vs {SAMPLED}",
        estimated("cache_hit")
    );
    assert!(kept_samples < SAMPLED / 5, "{kept_samples} kept");
    // Events the sampler does not touch count once, estimated or not.
    assert_eq!(estimated("order_placed"), PLAIN);
    assert_eq!(estimated("retry_attempted"), by_event("retry_attempted"));
    assert!(
        s["estimated_by_event"]
            .get(eventlog::SUPPRESSED_EVENT)
            .is_none()
    );
    // The summaries: every event kept out, by reason, exactly.
    let reasons = &s["suppressed_by_reason"];
    assert_eq!(reasons["sampled"].as_u64().unwrap(), SAMPLED - kept_samples);
    assert_eq!(
        reasons["rate_limited"].as_u64().unwrap(),
        LIMITED - by_event("retry_attempted")
    );
    assert_eq!(
        reasons["sampled"].as_u64().unwrap() + reasons["rate_limited"].as_u64().unwrap(),
        suppressed
    );

    // The report re-weights per bucket the same way.
    let out = eventlog(&["report", path(&file), "--json"]);
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(r["sampled_records"].as_u64().unwrap(), kept_samples);
    let buckets = r["buckets"].as_array().unwrap();
    let estimated_total: u64 = buckets
        .iter()
        .map(|b| b["estimated_records"].as_u64().unwrap())
        .sum();
    let records: u64 = buckets.iter().map(|b| b["records"].as_u64().unwrap()).sum();
    let summaries = by_event(eventlog::SUPPRESSED_EVENT);
    // Each bucket's estimate is rounded on its own: within half a record each.
    let exact: u64 = s["estimated_by_event"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(
        estimated_total.abs_diff(exact) <= buckets.len() as u64,
        "{estimated_total} vs {exact}"
    );
    assert!(
        estimated_total > records - summaries,
        "{estimated_total} <= {records}"
    );

    // The HTML page says the same estimate (the one `stats` gives, to
    // rounding), in a real browser.
    let page = dir.path().join("report.html");
    let out = eventlog(&["report", "--html", path(&page), path(&file)]);
    assert!(out.status.success(), "{out:?}");
    let mut browser = eventlog_tests::browser::Browser::launch();
    browser.open_file(&page);
    assert_eq!(browser.errors(), Vec::<String>::new());
    let shown: u64 = browser
        .eval("document.getElementById('meta').dataset.estimated")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(shown.abs_diff(exact) <= 1, "{shown} vs {exact}");
    let sampled = browser.eval("document.getElementById('meta').dataset.sampled");
    assert_eq!(sampled, serde_json::json!(kept_samples.to_string()));
    let meta = browser.eval("document.getElementById('meta').textContent");
    assert!(
        meta.as_str()
            .unwrap()
            .contains("of them carry sample_rate: about"),
        "{meta}"
    );

    // Without sampled records there is no estimate to print.
    let plain = dir.path().join("plain.jsonl");
    std::fs::write(
        &plain,
        "{\"timestamp\":\"2026-12-01T00:00:00Z\",\"event_name\":\"order_placed\"}\n",
    )
    .unwrap();
    let out = eventlog(&["stats", path(&plain), "--json"]);
    let s: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(s["sampled_records"], 0);
    assert_eq!(s["estimated_by_event"], serde_json::json!({}));
    let out = eventlog(&["report", path(&plain), "--json"]);
    let r: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(r["sampled_records"], 0);
    assert!(r["buckets"][0].get("estimated_records").is_none());
}
