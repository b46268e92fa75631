//! `eventlog report --html` in a real headless Chromium: a fixture with
//! known answers (a planted error spike, a planted drop, known latencies,
//! violations and a self-reported drop), the page opened from disk, each
//! panel's numbers read from the DOM and checked against counts computed
//! here from the fixture, a drag across the volume chart, a screenshot.

// Small counts and pixel sizes, cast for arithmetic.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use eventlog_tests::browser::Browser;
use serde_json::{Value, json};

use crate::eventlog;

/// Two hours of records; the minutes of the planted anomalies.
const START: i64 = 1_764_583_200; // 2025-12-01T10:00:00Z
const MINUTES: i64 = 120;
const SPIKE_MINUTE: i64 = 70;
const DROP_FROM_MINUTE: i64 = 100;

fn ts(second: i64, millis: i64) -> String {
    jiff::Timestamp::from_millisecond(second * 1000 + millis)
        .unwrap()
        .to_string()
}

/// The fixture's records, as the layer writes them.
fn fixture() -> Vec<Value> {
    let mut records = Vec::new();
    for minute in 0..MINUTES {
        let t = START + minute * 60;
        for i in 0..6 {
            let trace = format!("{:032x}", minute * 10 + i + 1);
            records.push(json!({
                "timestamp": ts(t, i * 10_000), "level": "INFO", "event_name": "checkout_started",
                "event_type": "user_action", "service": "checkout", "trace_id": trace,
                "span_id": "00f067aa0ba902b7", "request_id": format!("req_{minute}_{i}"),
                "metadata": { "items": 2 }, "span": { "name": "handle_request" }
            }));
            // The span's close record: duration known, i.e. 1..=6 ms plus the minute.
            records.push(json!({
                "timestamp": ts(t, i * 10_000 + 500), "level": "INFO", "event_name": "payment_completed",
                "event_type": "system_event", "service": "payments", "trace_id": trace,
                "span_id": "00f067aa0ba902b8", "request_id": format!("req_{minute}_{i}"),
                "span": { "name": "payment" }, "duration_ms": (i + 1) as f64 + minute as f64 / 100.0
            }));
            // A steady event that stops: the planted drop.
            if minute < DROP_FROM_MINUTE {
                for k in 0..4 {
                    records.push(json!({
                        "timestamp": ts(t, i * 10_000 + 600 + k), "level": "INFO",
                        "event_name": "payment_captured", "event_type": "business", "service": "payments",
                        "trace_id": trace, "metadata": { "amount": 10.5 }
                    }));
                }
            }
        }
        // One error a minute, and the planted spike.
        let errors = if minute == SPIKE_MINUTE { 60 } else { 1 };
        for k in 0..errors {
            records.push(json!({
                "timestamp": ts(t, 45_000 + k), "level": "ERROR", "event_name": "email_delivery_failed",
                "event_type": "error", "service": "notifications", "message": "smtp timed out",
                "metadata": { "error_type": if k % 2 == 0 { "smtp_timeout" } else { "smtp_refused" } }
            }));
        }
    }
    for k in 0..3 {
        records.push(json!({
            "timestamp": ts(START + 30 * 60, 100 + k), "level": "INFO", "event_name": "order_placed",
            "event_type": "business", "service": "checkout", "metadata": { "currency": "usd" },
            "schema_errors": ["field `currency` does not match `^[A-Z]{3}$`"]
        }));
    }
    records.push(json!({
        "timestamp": ts(START + 90 * 60, 0), "level": "WARN", "event_name": "log_records_dropped",
        "event_type": "system_event", "service": "checkout",
        "metadata": { "output": "file", "reason": "queue_full", "dropped": 7, "total_dropped": 7 }
    }));
    records.sort_by(|a, b| a["timestamp"].as_str().cmp(&b["timestamp"].as_str()));
    records
}

/// The fixture as each service would write it: one file per service in
/// `dir/logs` (so the page's parts, one per file, are merged: a trace
/// crosses two of them).
fn write_fixture(dir: &Path) -> (std::path::PathBuf, Vec<Value>) {
    let records = fixture();
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for r in &records {
        let text = files
            .entry(r["service"].as_str().unwrap().to_owned())
            .or_default();
        let _ = writeln!(text, "{r}");
    }
    assert!(files.len() >= 3);
    for (service, text) in files {
        std::fs::write(logs.join(format!("{service}.jsonl")), text).unwrap();
    }
    (logs, records)
}

fn quantile_cont(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = q * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

fn millis(record: &Value) -> i64 {
    record["timestamp"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond()
}

/// `eventlog report --html DIR/NAME ARGS…`, which must succeed; the page.
fn write_page(dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let page = dir.join(name);
    let mut all = vec!["report", "--html", page.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = eventlog(&all);
    assert!(out.status.success(), "{out:?}");
    page
}

/// Chromium with `page` open, its load free of errors.
fn open_page(page: &Path) -> Browser {
    let mut browser = Browser::launch();
    browser.open_file(page);
    assert_eq!(browser.errors(), Vec::<String>::new());
    browser
}

/// Rows of a table as the DOM holds them: each row's `data-*` attributes.
fn rows(browser: &mut Browser, table: &str) -> Vec<BTreeMap<String, String>> {
    let rows = browser.eval(&format!(
        "[...document.querySelectorAll('#{table} tr')].filter(tr => Object.keys(tr.dataset).length).map(tr => ({{...tr.dataset}}))"
    ));
    serde_json::from_value(rows).unwrap()
}

// One page load (a browser start costs seconds), checked panel by panel.
#[allow(clippy::too_many_lines)]
#[test]
fn the_html_report_shows_the_fixtures_answers_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, records) = write_fixture(dir.path());
    let page = dir.path().join("report.html");
    let out = eventlog(&[
        "report",
        "--html",
        page.to_str().unwrap(),
        logs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    // It says where the page is.
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.starts_with(&format!("report: {}", page.display())),
        "{said}"
    );
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 2 * 1024 * 1024, "{size} bytes");

    let mut browser = open_page(&page);
    assert_eq!(
        browser.requests(),
        Vec::<String>::new(),
        "a self-contained page"
    );

    // Every record counted.
    let count = |b: &mut Browser| -> u64 {
        b.eval("+document.getElementById('records-count').dataset.count")
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(&mut browser), records.len() as u64);
    let bucket_ms = browser
        .eval("JSON.parse(document.getElementById('eventlog-data').textContent).bucket_ms")
        .as_i64()
        .unwrap();
    // Two hours in at most 240 buckets.
    assert_eq!(bucket_ms, 30_000);
    let bucket = |second: i64| (second * 1000).div_euclid(bucket_ms);

    // Errors: the planted spike is the one marked.
    let spikes = browser.eval("document.getElementById('errors-chart').dataset.spikes");
    let spike_bucket = bucket(START + SPIKE_MINUTE * 60 + 45);
    assert_eq!(spikes, spike_bucket.to_string());
    let error_types = rows(&mut browser, "errors-types");
    let smtp_timeout = records
        .iter()
        .filter(|r| r["metadata"]["error_type"] == "smtp_timeout")
        .count();
    assert_eq!(error_types[0]["errorType"], "smtp_timeout");
    assert_eq!(error_types[0]["count"], smtp_timeout.to_string());

    // Anomalies: the spike and the drop, each at its bucket.
    let anomalies = rows(&mut browser, "anomalies-table");
    let has = |event: &str, kind: &str, bucket: i64| {
        anomalies
            .iter()
            .any(|a| a["event"] == event && a["kind"] == kind && a["bucket"] == bucket.to_string())
    };
    assert!(
        has("email_delivery_failed", "spike", spike_bucket),
        "{anomalies:?}"
    );
    assert!(
        has(
            "payment_captured",
            "drop",
            bucket(START + DROP_FROM_MINUTE * 60)
        ),
        "{anomalies:?}"
    );

    // Latency: exact percentiles of the span's durations.
    let durations: Vec<f64> = records
        .iter()
        .filter_map(|r| r["duration_ms"].as_f64())
        .collect();
    let latency = rows(&mut browser, "latency-table");
    let payment = latency
        .iter()
        .find(|r| r["series"] == "span:payment")
        .unwrap();
    assert_eq!(payment["count"], durations.len().to_string());
    for (key, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        let shown: f64 = payment[key].parse().unwrap();
        let want = quantile_cont(durations.clone(), q);
        assert!((shown - want).abs() < 1e-9, "{key}: {shown} vs {want}");
    }

    // The error rate line: one point per bucket with records, its top the
    // largest share of errors in a bucket, computed here from the records.
    let mut per_bucket: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for r in &records {
        let counts = per_bucket
            .entry(millis(r).div_euclid(bucket_ms))
            .or_default();
        counts.0 += 1;
        counts.1 += u64::from(r["level"] == "ERROR" || r["event_type"] == "error");
    }
    let max_rate = per_bucket
        .values()
        .map(|&(n, e)| e as f64 / n as f64)
        .fold(0.0, f64::max);
    let line = browser.eval(
        "(() => { const l = document.querySelector('#errors-chart polyline.rate'); return [+l.dataset.points, +l.dataset.maxRate]; })()",
    );
    assert_eq!(line[0].as_u64(), Some(per_bucket.len() as u64));
    assert!(
        (line[1].as_f64().unwrap() - max_rate).abs() < 1e-12,
        "{line}"
    );

    // The service filter picks latency series whole: only payments' span,
    // its percentiles still exact.
    let services =
        browser.eval("JSON.parse(document.getElementById('eventlog-data').textContent).services");
    let payments = services
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s == "payments")
        .unwrap();
    let select = |b: &mut Browser, id: &str, value: i64| {
        b.eval(&format!(
            "(() => {{ const el = document.getElementById('{id}'); el.value = '{value}'; el.dispatchEvent(new Event('change')); }})()"
        ));
    };
    select(&mut browser, "f-service", payments as i64);
    let filtered = rows(&mut browser, "latency-table");
    assert!(!filtered.is_empty());
    assert!(
        filtered.iter().all(|r| r["service"] == "payments"),
        "{filtered:?}"
    );
    assert_eq!(filtered[0]["p99"], payment["p99"]);
    select(&mut browser, "f-service", -1);

    // Health: the three violations and the self-reported drop.
    let violations = rows(&mut browser, "health-violations");
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0]["event"], "order_placed");
    assert_eq!(violations[0]["count"], "3");
    let drops = rows(&mut browser, "health-drops");
    assert_eq!(
        (
            drops[0]["output"].as_str(),
            drops[0]["reason"].as_str(),
            drops[0]["count"].as_str()
        ),
        ("file", "queue_full", "7")
    );

    // Top events (second half against the first): payment_captured fell.
    let top = rows(&mut browser, "top-table");
    let captured = top
        .iter()
        .find(|r| r["event"] == "payment_captured")
        .unwrap();
    let (now, before): (u64, u64) = (
        captured["count"].parse().unwrap(),
        captured["before"].parse().unwrap(),
    );
    assert!(now < before, "{captured:?}");

    // A drag across the volume chart selects a range; the counts follow.
    let shot = browser.screenshot();
    let chart = browser.eval(
        "(() => { const r = document.getElementById('volume-chart').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()",
    );
    let [left, top_px, width, height] = [0, 1, 2, 3].map(|i| chart[i].as_f64().unwrap());
    let y = top_px + height / 2.0;
    browser.drag((left + width * 0.30, y), (left + width * 0.55, y));
    let range = browser.eval(
        "[+document.getElementById('range').dataset.from, +document.getElementById('range').dataset.to]",
    );
    let (from, to) = (range[0].as_i64().unwrap(), range[1].as_i64().unwrap());
    assert!(
        from > bucket(START) && to > from && to < bucket(START + MINUTES * 60),
        "{range}"
    );
    let inside = records
        .iter()
        .filter(|r| (from..=to).contains(&millis(r).div_euclid(bucket_ms)))
        .count() as u64;
    assert_eq!(count(&mut browser), inside);
    assert!(inside < records.len() as u64);

    // The trace view: back to all time, a linked request from the table,
    // all of its records.
    browser.eval("document.getElementById('f-reset').click()");
    assert_eq!(count(&mut browser), records.len() as u64);
    let trace = browser.eval(
        "(() => { const a = document.querySelector('#records-table a.trace'); a.click(); return a.dataset.trace; })()",
    );
    let of_trace = records.iter().filter(|r| r["trace_id"] == trace).count();
    assert!(of_trace >= 2);
    let shown = browser.eval("+document.getElementById('trace-chart').dataset.records");
    assert_eq!(shown.as_u64(), Some(of_trace as u64), "{trace}");
    assert_eq!(browser.errors(), Vec::<String>::new());

    // Every panel has ink in the screenshot taken before the drag.
    let panels = browser.eval(
        "[...document.querySelectorAll('main section')].filter(s => !s.hidden).map(s => { const r = s.getBoundingClientRect(); return [s.id, r.left + scrollX, r.top + scrollY, r.width, r.height]; })",
    );
    for panel in panels.as_array().unwrap() {
        let id = panel[0].as_str().unwrap();
        let [x, y, w, h] = [1, 2, 3, 4].map(|i| panel[i].as_f64().unwrap() as u32);
        // Below the heading: the panel's own content.
        let ink = shot.ink(
            x + 2,
            y + 34,
            w.saturating_sub(4),
            h.saturating_sub(36),
            [255, 255, 255],
        );
        assert!(ink > 500, "panel {id} looks blank ({ink} pixels)");
    }
    if let Some(path) = std::env::var_os("EVENTLOG_REPORT_SCREENSHOT") {
        std::fs::write(path, &shot.png).unwrap();
    }
}

#[test]
fn the_funnel_counts_each_session_through_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("app.jsonl");
    let mut lines = String::new();
    let mut push = |session: usize, second: i64, event: &str| {
        let record = json!({
            "timestamp": ts(START + second, 0), "level": "INFO", "event_name": event,
            "event_type": "user_action", "service": "shop", "session_id": format!("sess_{session}"),
        });
        let _ = writeln!(lines, "{record}");
    };
    // 10 sessions start; 7 pay (session s after 10 + s seconds); 4 of those
    // place the order 5 s later. Session 9 pays before it starts: no step 2.
    for s in 0..10 {
        let start = s as i64 * 100;
        if s == 9 {
            push(s, start - 1, "payment_captured");
        }
        push(s, start, "checkout_started");
        if s < 7 {
            push(s, start + 10 + s as i64, "payment_captured");
            if s < 4 {
                push(s, start + 15 + s as i64, "order_placed");
            }
        }
    }
    std::fs::write(&logs, lines).unwrap();
    let page = write_page(
        dir.path(),
        "report.html",
        &[
            "--funnel",
            "checkout_started,payment_captured,order_placed",
            "--funnel-by",
            "session",
            logs.to_str().unwrap(),
        ],
    );

    let mut browser = open_page(&page);
    let steps = rows(&mut browser, "funnel-table");
    let reached: Vec<&str> = steps.iter().map(|s| s["reached"].as_str()).collect();
    assert_eq!(reached, ["10", "7", "4"]);
    // Medians of 10..=16 s and of 5 s, in milliseconds.
    assert_eq!(steps[1]["medianMs"], "13000");
    assert_eq!(steps[2]["medianMs"], "5000");
    // A time range picks the sessions that started in it: sessions 0..=4
    // start in the first 401 s; all five pay, four place the order.
    let bucket_ms = browser
        .eval("JSON.parse(document.getElementById('eventlog-data').textContent).bucket_ms")
        .as_i64()
        .unwrap();
    let bucket = |second: i64| (second * 1000).div_euclid(bucket_ms);
    browser.eval(&format!(
        "(() => {{ const r = window.eventlogReport; r.state.from = {}; r.state.to = {}; r.draw(); }})()",
        bucket(START),
        bucket(START + 401)
    ));
    let ranged = rows(&mut browser, "funnel-table");
    let reached_in: Vec<&str> = ranged.iter().map(|s| s["reached"].as_str()).collect();
    assert_eq!(reached_in, ["5", "5", "4"]);
    assert_eq!(browser.errors(), Vec::<String>::new());
    browser.eval("document.getElementById('f-reset').click()");

    let paths = rows(&mut browser, "funnel-paths");
    let count = |path: &str| {
        paths
            .iter()
            .find(|p| p["path"] == path)
            .map(|p| p["count"].clone())
    };
    assert_eq!(
        count("checkout_started > payment_captured > order_placed").as_deref(),
        Some("4")
    );
    assert_eq!(
        count("checkout_started > payment_captured").as_deref(),
        Some("3")
    );
    assert_eq!(
        count("payment_captured > checkout_started").as_deref(),
        Some("1")
    );
}

/// Edge input: no records at all, and hostile names (markup, quotes,
/// Unicode, a 10 KB event name) in every panel's text and attributes.
#[test]
fn an_empty_file_and_hostile_names_give_a_page_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let hostile = dir.path().join("hostile.jsonl");
    let long = "é".repeat(5_000);
    let mut lines = String::new();
    for (i, name) in [
        "</script><img src=x onerror=alert(1)>",
        "\"quoted\" 'single' & <b>",
        "日本語_イベント",
        long.as_str(),
    ]
    .iter()
    .enumerate()
    {
        let record = json!({
            "timestamp": ts(START + i as i64, 0), "level": "ERROR", "event_name": name,
            "event_type": name, "service": name, "trace_id": format!("{:032x}", i + 1),
            "message": name, "metadata": { "error_type": name, "duration_ms": 1.5 },
            "schema_errors": [format!("field `{name}` is wrong")]
        });
        let _ = writeln!(lines, "{record}");
    }
    std::fs::write(&hostile, lines).unwrap();
    for (input, records) in [(&empty, 0u64), (&hostile, 4)] {
        let page = dir.path().join("page.html");
        let out = eventlog(&[
            "report",
            "--html",
            page.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        let mut browser = Browser::launch();
        browser.open_file(&page);
        assert_eq!(
            browser.errors(),
            Vec::<String>::new(),
            "{}",
            input.display()
        );
        assert_eq!(browser.requests(), Vec::<String>::new());
        let counted = browser.eval("+document.getElementById('records-count').dataset.count");
        assert_eq!(counted.as_u64(), Some(records));
        // No markup from the records became elements.
        assert_eq!(
            browser.eval("document.querySelectorAll('img, b').length"),
            0
        );
    }
}

/// More latency series than the page's budget holds over time: the
/// busiest keep their distribution over time, the rest their exact
/// whole-range numbers, and the page says which is which.
#[test]
fn latency_past_the_page_budget_keeps_the_busiest_over_time_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("many-series.jsonl");
    let mut text = String::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    // Series e{i} has 1 000 - 2 i values, over an hour, spread over bins.
    let mut counts = Vec::new();
    for i in 0..400u64 {
        let n = 1_000 - 2 * i;
        counts.push(n);
        for _ in 0..n {
            let ms = 0.01 * 2f64.powf(next(120) as f64 / 8.0);
            let t = ts(START + next(3_600) as i64, 0);
            writeln!(
                text,
                r#"{{"timestamp":"{t}","level":"INFO","event_name":"e{i}","service":"s","metadata":{{"duration_ms":{ms}}}}}"#
            )
            .unwrap();
        }
    }
    std::fs::write(&logs, text).unwrap();
    let page = write_page(dir.path(), "report.html", &[logs.to_str().unwrap()]);
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 2_000_000, "{size} bytes");

    let mut browser = open_page(&page);
    let kept: Vec<bool> = browser
        .eval("JSON.parse(document.getElementById('eventlog-data').textContent).series.map(s => s.over_time)")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect();
    let kept_count = kept.iter().filter(|k| **k).count();
    assert!(
        kept_count > 10 && kept_count < 400,
        "{kept_count} of 400 kept"
    );
    // Busiest first: e0 … e{kept-1} (series are in first-seen order here).
    assert!(kept[..kept_count].iter().all(|k| *k));
    let note = browser.eval("document.getElementById('latency-note').textContent");
    assert!(
        note.as_str()
            .unwrap()
            .contains(&format!("kept for the {kept_count} busiest of 400 series")),
        "{note}"
    );

    // A time range: kept series re-sliced from their histograms, the
    // others keep their whole-range count, marked as such.
    let [b0, b1] = [0, 1].map(|i| {
        browser
            .eval(&format!("window.eventlogReport.buckets[{i}]"))
            .as_i64()
            .unwrap()
    });
    browser.eval(&format!(
        "(() => {{ const r = window.eventlogReport; r.state.from = {}; r.state.to = {}; r.draw(); }})()",
        b0,
        b0 + (b1 - b0) / 2
    ));
    assert_eq!(browser.errors(), Vec::<String>::new());
    let table = rows(&mut browser, "latency-table");
    assert_eq!(table.len(), 400);
    for row in &table {
        let i: usize = row["series"].trim_start_matches("event:e").parse().unwrap();
        let count: u64 = row["count"].parse().unwrap();
        if kept[i] {
            assert_eq!(row["basis"], "histogram", "{row:?}");
            assert!(count < counts[i], "{row:?}: half the range");
        } else {
            assert_eq!(row["basis"], "whole-range", "{row:?}");
            assert_eq!(count, counts[i], "{row:?}");
        }
    }
    // A left-out series' heat map says why it is empty.
    let left_out = kept.iter().position(|k| !k).unwrap();
    browser.eval(&format!(
        "(() => {{ const r = window.eventlogReport; r.state.series = {left_out}; r.draw(); }})()"
    ));
    let heat = browser.eval("document.getElementById('latency-heat').childElementCount");
    assert_eq!(heat, json!(0));
    let why = browser.eval("document.getElementById('latency-heat-note').textContent");
    assert!(why.as_str().unwrap().contains("not on the page"), "{why}");
    assert_eq!(browser.errors(), Vec::<String>::new());
}

/// `--tz`: the page shows its times in that zone, with the offset each
/// instant had (here across the switch to summer time in Paris), and the
/// records keep their instants.
#[test]
fn the_page_shows_times_in_the_zone_of_tz_across_a_dst_switch() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("dst.jsonl");
    // Paris goes from +01:00 to +02:00 at 2026-03-29T01:00:00Z.
    let times = ["2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"];
    let mut text = String::new();
    for t in times {
        writeln!(
            text,
            "{{\"timestamp\":\"{t}\",\"level\":\"INFO\",\"event_name\":\"order_placed\"}}"
        )
        .unwrap();
    }
    std::fs::write(&logs, text).unwrap();
    let page = write_page(
        dir.path(),
        "report.html",
        &["--tz", "Europe/Paris", logs.to_str().unwrap()],
    );
    let mut browser = open_page(&page);
    let header = browser.eval("document.querySelector('#records-table th').textContent");
    assert_eq!(header, json!("time (Europe/Paris)"));
    let cells = browser.eval(
        "[...document.querySelectorAll('#records-table tr[data-event] td:first-child')].map(td => td.textContent)",
    );
    assert_eq!(
        cells,
        json!(["2026-03-29 01:30:00.000", "2026-03-29 03:30:00.000"])
    );
    let range = browser.eval("document.getElementById('range').textContent");
    let range = range.as_str().unwrap();
    assert!(
        range.starts_with("all of 2026-03-29 01:30:00+01:00"),
        "{range}"
    );
    assert!(range.contains("+02:00"), "{range}");
    // Without --tz the same page stays in UTC.
    let utc = write_page(dir.path(), "utc.html", &[logs.to_str().unwrap()]);
    browser.open_file(&utc);
    let header = browser.eval("document.querySelector('#records-table th').textContent");
    assert_eq!(header, json!("time (UTC)"));
    let range = browser.eval("document.getElementById('range').textContent");
    assert!(
        range
            .as_str()
            .unwrap()
            .starts_with("all of 2026-03-29 00:30:00Z"),
        "{range}"
    );
    assert_eq!(browser.errors(), Vec::<String>::new());
}
