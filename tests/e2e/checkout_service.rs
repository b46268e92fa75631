//! The main job, run with a short budget: its files hold what it says.
//! Two real HTTP services on loopback (checkout calls payments), so this
//! is also the end-to-end test of eventlog-http's propagation.

use std::collections::{HashMap, HashSet};

use eventlog::ParsedRecord;
use eventlog_examples::checkout::{
    self, CARD, Config, DEAD_LETTER_FILE, PASSWORD, SERVICES, TOKEN,
};
use eventlog_tests::files;

#[test]
fn the_checkout_service_writes_checked_redacted_correlated_rotated_logs() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        requests: 400,
        workers: 4,
        seed: 7,
        logs: dir.path().to_owned(),
        max_file_bytes: 48 * 1024,
    };
    let summary = checkout::run(&config).unwrap();

    // Rotated files decompress, and every line parses as a record.
    let logs: Vec<_> = SERVICES
        .iter()
        .flat_map(|service| files::texts(dir.path(), service))
        .collect();
    assert!(
        summary.compressed >= 2,
        "several compressed files: {summary:?}"
    );
    let mut records = Vec::new();
    for (_, text) in &logs {
        assert!(
            !text.contains(PASSWORD) && !text.contains(CARD) && !text.contains(TOKEN),
            "a secret leaked"
        );
        for line in text.lines() {
            records.push(ParsedRecord::parse(line).unwrap());
        }
    }
    let dead_text = std::fs::read_to_string(dir.path().join(DEAD_LETTER_FILE)).unwrap();
    assert!(!dead_text.contains(PASSWORD) && !dead_text.contains(CARD));
    let dead: Vec<ParsedRecord> = dead_text
        .lines()
        .map(|l| ParsedRecord::parse(l).unwrap())
        .collect();

    // The schema holds except for the deliberate violations, which are dead-lettered.
    assert!(records.iter().all(|r| r.get("schema_errors").is_none()));
    assert!(!dead.is_empty(), "the run breaks the schema on purpose");
    for r in &dead {
        let errors = r.schema_errors();
        let deliberate = (r.event_name() == Some("order_placed")
            && r.metadata("currency").is_some_and(|c| c == "usd"))
            || (r.event_name() == Some("payment_captured") && r.metadata("amount").is_none());
        assert!(
            deliberate && !errors.is_empty(),
            "unexpected dead letter {r:?}"
        );
    }

    // All five categories appear.
    let kinds: HashSet<&str> = records
        .iter()
        .filter_map(ParsedRecord::event_type)
        .collect();
    for kind in [
        "user_action",
        "system_event",
        "business",
        "error",
        "security",
    ] {
        assert!(kinds.contains(kind), "no {kind} event");
    }

    // Every event of one request shares trace_id and request_id, in both
    // services: payments continued what checkout's client sent.
    let mut traces: HashMap<&str, HashSet<eventlog::TraceId>> = HashMap::new();
    for r in records.iter().chain(&dead) {
        if let Some(request) = r.request_id() {
            traces
                .entry(request)
                .or_default()
                .insert(r.trace_id().expect("a W3C trace id"));
        }
    }
    // Only the load generator's 400 requests: the /metrics scrapes go to
    // the library's endpoint, which logs nothing.
    let generated = traces.keys().filter(|id| !id.starts_with("req_")).count();
    assert_eq!(generated, 0, "{:?}", traces.keys().collect::<Vec<_>>());
    assert_eq!(
        traces.len() - generated,
        400,
        "every request logged something"
    );
    assert!(
        traces.values().all(|t| t.len() == 1),
        "one trace per request"
    );
    assert_eq!(summary.split_traces, 0);

    // One http_request_completed per request in checkout, one per charge in
    // payments, whose parent span is checkout's outgoing call.
    let served = |service: &str| -> Vec<&ParsedRecord> {
        records
            .iter()
            .filter(|r| {
                r.service() == Some(service)
                    && r.event_name() == Some("http_request_completed")
                    && r.span_field("url.path").and_then(|p| p.as_str()) != Some("/metrics")
            })
            .collect()
    };
    assert_eq!(served("checkout").len(), 400);
    assert_eq!(summary.load.statuses.values().sum::<u64>(), 400);
    assert_eq!(
        summary.load.id_mismatches, 0,
        "every response echoed its request id"
    );
    let calls: HashMap<&str, &ParsedRecord> = records
        .iter()
        .filter(|r| r.event_name() == Some("http_client_request_completed"))
        .map(|r| (r.request_id().unwrap(), r))
        .collect();
    let charges = served("payments");
    assert_eq!(charges.len(), calls.len(), "one charge per call");
    assert!(!charges.is_empty());
    for charge in &charges {
        let call = calls[charge.request_id().unwrap()];
        assert_eq!(charge.trace_id(), call.trace_id());
        assert_eq!(charge.span_field("parent_span_id"), call.get("span_id"));
        assert_eq!(
            charge.span_field("http.route").and_then(|v| v.as_str()),
            Some("/orders/{order_id}/charge")
        );
        // The allow-list: checkout's user and session ids stay in checkout.
        assert_eq!(charge.user_id(), None);
        assert_eq!(call.user_id().map(str::len).map(|n| n > 0), Some(true));
    }
    assert_eq!(summary.traced_across, charges.len() as u64);

    // The summary's figures equal what the files contain.
    assert_eq!(summary.records, records.len() as u64);
    assert_eq!(summary.dead_letters, dead.len() as u64);
    assert_eq!(
        summary.violations,
        dead.iter()
            .map(|r| r.schema_errors().len() as u64)
            .sum::<u64>()
    );
    let failed_logins = records
        .iter()
        .filter(|r| {
            r.event_name() == Some("user_login_attempt")
                && r.metadata("result").is_some_and(|v| v == "failure")
        })
        .count() as u64;
    assert_eq!(summary.failed_logins, failed_logins);
    assert!(failed_logins > 0);
    let payment_failures = records
        .iter()
        .filter(|r| r.event_name() == Some("payment_failed"))
        .count() as u64;
    assert_eq!(
        summary.payment_failures.values().sum::<u64>(),
        payment_failures
    );
    let by_type_total: u64 = summary.by_type.values().sum();
    assert_eq!(by_type_total, records.len() as u64 + dead.len() as u64);
    assert_eq!(summary.dropped, 0);
    assert!(
        summary.redactions >= 400,
        "at least the bearer token of every request"
    );
    assert_eq!(
        summary.step_p95_ms.len(),
        4,
        "p95 for auth, cart, payment, fulfilment"
    );

    // The storm: each request whose fraud check was down kept its first 10
    // retry warnings; the rest are counted, summed up once per request, and
    // the payments service's /metrics said the same.
    let mut retries: HashMap<&str, u64> = HashMap::new();
    for r in records
        .iter()
        .filter(|r| r.event_name() == Some("fraud_check_retried"))
    {
        *retries.entry(r.request_id().unwrap()).or_default() += 1;
    }
    assert!(!retries.is_empty(), "the run has a storm");
    assert!(retries.values().all(|&n| n == 10), "{retries:?}");
    let summaries: Vec<&ParsedRecord> = records
        .iter()
        .filter(|r| r.event_name() == Some(eventlog::SUPPRESSED_EVENT))
        .collect();
    assert_eq!(summaries.len(), retries.len(), "one summary per storm");
    let storm = eventlog_examples::payments::STORM_RETRIES;
    for summary_record in &summaries {
        assert_eq!(
            summary_record.metadata("suppressed"),
            Some(&(storm - 10).into())
        );
        let key = summary_record
            .metadata("key")
            .and_then(|k| k.as_str())
            .unwrap();
        assert!(retries.contains_key(key), "{key}");
    }
    assert_eq!(summary.suppressed, retries.len() as u64 * (storm - 10));
    let scraped: f64 = summary
        .metrics
        .iter()
        .filter(|(service, name, _)| {
            service == "payments" && name == "eventlog_events_suppressed_total"
        })
        .map(|(_, _, v)| v)
        .sum();
    // A counter's text is an integer: compare it as one.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let scraped = scraped as u64;
    assert_eq!(scraped, summary.suppressed);
    // The file writer's counters are on the same endpoint, and each
    // service's logging was healthy over the run (nothing lost).
    let written: f64 = summary
        .metrics
        .iter()
        .filter(|(_, name, _)| name == "eventlog_file_lines_written_total")
        .map(|(_, _, v)| v)
        .sum();
    assert!(written > 0.0, "{:?}", summary.metrics);
    let health: Vec<(&str, eventlog::Verdict)> = summary
        .health
        .iter()
        .map(|(s, h)| (*s, h.verdict()))
        .collect();
    assert_eq!(
        health,
        [
            ("checkout", eventlog::Verdict::Ok),
            ("payments", eventlog::Verdict::Ok)
        ],
        "{:?}",
        summary.health
    );

    // The report page: it opens from disk in a real browser, asks for
    // nothing, and counts every line the run wrote (the directory holds
    // both services' files and the dead letters).
    let report = summary.report.clone().expect("the run writes its report");
    assert_eq!(report, dir.path().join(checkout::REPORT_FILE));
    let mut browser = eventlog_tests::browser::Browser::launch();
    browser.open_file(&report);
    assert_eq!(browser.errors(), Vec::<String>::new());
    assert_eq!(browser.requests(), Vec::<String>::new());
    let counted = browser.eval("+document.getElementById('records-count').dataset.count");
    assert_eq!(
        counted.as_u64(),
        Some(summary.records + summary.dead_letters)
    );
    let funnel = browser.eval(
        "[...document.querySelectorAll('#funnel-table tr[data-reached]')].map(tr => +tr.dataset.reached)",
    );
    let placed = records
        .iter()
        .filter(|r| r.event_name() == Some("order_placed"))
        .count() as u64
        + dead
            .iter()
            .filter(|r| r.event_name() == Some("order_placed"))
            .count() as u64;
    let started = records
        .iter()
        .filter(|r| r.event_name() == Some("checkout_started"))
        .count() as u64;
    assert_eq!(funnel[0].as_u64(), Some(started), "{funnel}");
    assert_eq!(funnel[2].as_u64(), Some(placed), "{funnel}");
    // The README's picture: `EVENTLOG_REPORT_PNG=docs/report.png`.
    if let Some(png) = std::env::var_os("EVENTLOG_REPORT_PNG") {
        std::fs::write(png, browser.screenshot_top(1280, 1500).png).unwrap();
    }
    drop(browser);

    // The same seed gives the same events.
    let again = checkout::run(&config).unwrap();
    assert_eq!(
        (
            again.records,
            again.dead_letters,
            again.failed_logins,
            &again.payment_failures,
            again.suppressed
        ),
        (
            summary.records,
            summary.dead_letters,
            summary.failed_logins,
            &summary.payment_failures,
            summary.suppressed
        )
    );
}
