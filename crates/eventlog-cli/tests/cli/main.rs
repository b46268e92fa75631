//! The `eventlog` binary over real files: the layer writing through
//! eventlog-appender (rotated, gzip-compressed, with its active-file
//! symlink), then each command's output parsed and compared with what the
//! test emitted.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use eventlog_appender::{Backpressure, NonBlockingBuilder, RollingFile};
use serde_json::Value;
use tracing_subscriber::prelude::*;

// One area per file under tests/cli/.
mod appender_names;
mod blocks;
mod completions;
mod follow;
mod hostile;
mod line_cap;
mod progress;
mod query_language;
mod report_html;
mod sampling;
mod stdin;
mod time;

const REQUESTS: usize = 120;
const ERROR_TYPES: [&str; 2] = ["card_declined", "fraud_suspected"];

const SCHEMA: &str = r#"
version = 2
unknown_events = "warn"

[events.user_login_attempt]
type = "user_action"
fields.result = { type = "enum", enum = ["success", "failure"], required = true }

[events.order_placed]
type = "business"
fields.amount   = { type = "f64", required = true }
fields.currency = { type = "string", pattern = "^[A-Z]{3}$" }

[events.payment_failed]
type = "error"
fields.error_type = { type = "string", required = true }
"#;

/// What the fixture emitted, counted as it emitted it.
#[derive(Debug, Default)]
struct Emitted {
    records: u64,
    by_event: BTreeMap<String, u64>,
    /// Request ids of `payment_failed` records, by error type.
    failed_by_type: BTreeMap<String, BTreeSet<String>>,
    failed_logins: u64,
    per_request: BTreeMap<String, u64>,
}

struct Fixture {
    _dir: tempfile::TempDir,
    logs: PathBuf,
    schema: PathBuf,
    emitted: Emitted,
}

fn request_id(i: usize) -> String {
    format!("req_{i:03}")
}

/// Writes the logs once for every test.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let schema = dir.path().join("events.toml");
        std::fs::write(&schema, SCHEMA).unwrap();
        let (writer, guard) = RollingFile::builder()
            .directory(&logs)
            .prefix("checkout")
            .max_bytes(16 * 1024)
            .compress(true)
            .keep(10_000)
            .non_blocking(NonBlockingBuilder::new().backpressure(Backpressure::BLOCK))
            .build_non_blocking()
            .unwrap();
        let layer = eventlog::layer()
            .service("checkout")
            .schema(eventlog::Schema::from_file(&schema).unwrap())
            .close_events(true)
            .writer(writer);
        let mut e = Emitted::default();
        let count = |e: &mut Emitted, name: &str, req: &str| {
            e.records += 1;
            *e.by_event.entry(name.to_owned()).or_default() += 1;
            *e.per_request.entry(req.to_owned()).or_default() += 1;
        };
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for i in 0..REQUESTS {
                let req = request_id(i);
                let user = format!("user_{}", i % 7);
                let span =
                    tracing::info_span!("request", request_id = %req, user_id = %user).entered();
                let result = if i % 4 == 0 { "failure" } else { "success" };
                tracing::info!(event_name = "user_login_attempt", result);
                count(&mut e, "user_login_attempt", &req);
                if result == "failure" {
                    e.failed_logins += 1;
                }
                if i % 5 == 0 {
                    let error_type = ERROR_TYPES[i % 2];
                    tracing::error!(event_name = "payment_failed", error_type, "payment failed");
                    count(&mut e, "payment_failed", &req);
                    e.failed_by_type
                        .entry(error_type.to_owned())
                        .or_default()
                        .insert(req.clone());
                } else {
                    // One lowercase currency: the only schema violation.
                    let currency = if i == 7 { "usd" } else { "USD" };
                    tracing::info!(event_name = "order_placed", amount = 10.5, currency);
                    count(&mut e, "order_placed", &req);
                }
                drop(span);
                // The span's close record, with its duration.
                count(&mut e, "request_completed", &req);
            }
        });
        guard.shutdown(std::time::Duration::from_secs(30)).unwrap();
        Fixture {
            _dir: dir,
            logs,
            schema,
            emitted: e,
        }
    })
}

fn eventlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json_lines(o: &Output) -> Vec<serde_json::Map<String, Value>> {
    stdout(o)
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            Value::Object(m) => m,
            other => panic!("{other}"),
        })
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_fixture_rotated_compressed_and_kept_its_symlink() {
    let f = fixture();
    let names: Vec<String> = std::fs::read_dir(&f.logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .filter(|n| Path::new(n).extension().is_some_and(|e| e == "gz"))
            .count()
            >= 2,
        "{names:?}"
    );
    assert!(
        f.logs
            .join("checkout.jsonl")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn stats_count_every_record_once_across_rotated_files_and_the_symlink() {
    let f = fixture();
    let out = eventlog(&["stats", path(&f.logs), "--json", "--distinct"]);
    assert!(out.status.success(), "{out:?}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["records"], f.emitted.records);
    assert_eq!(s["lines"], f.emitted.records);
    assert_eq!(s["invalid_lines"], 0);
    assert!(s["gzip_files"].as_u64().unwrap() >= 2, "{s}");
    for (event, n) in &f.emitted.by_event {
        assert_eq!(s["by_event"][event], *n, "{event}");
    }
    for (error_type, reqs) in &f.emitted.failed_by_type {
        assert_eq!(s["by_error_type"][error_type], reqs.len(), "{error_type}");
    }
    assert_eq!(s["distinct_requests"], REQUESTS);
    assert_eq!(s["distinct_traces"], REQUESTS);
    assert_eq!(s["distinct_users"], 7);
    assert_eq!(s["with_schema_errors"], 1);
    assert_eq!(s["by_service"]["checkout"], f.emitted.records);
    let timing = &s["durations_ms"]["request"];
    assert_eq!(timing["count"], REQUESTS, "{s}");
    let (p50, p95, max) = (
        timing["p50"].as_f64().unwrap(),
        timing["p95"].as_f64().unwrap(),
        timing["max"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p95 && p95 <= max, "{timing}");

    // --by counts any key's values.
    let out = eventlog(&[
        "stats",
        path(&f.logs),
        "--json",
        "--by",
        "user_id",
        "--by",
        "result",
    ]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let users = s["by_key"]["user_id"].as_object().unwrap();
    assert_eq!(users.len(), 7);
    assert_eq!(
        users.values().map(|n| n.as_u64().unwrap()).sum::<u64>(),
        f.emitted.records
    );
    assert_eq!(s["by_key"]["result"]["failure"], f.emitted.failed_logins);
    assert_eq!(
        s["by_key"]["result"]["success"],
        REQUESTS as u64 - f.emitted.failed_logins
    );

    // A filter narrows what is counted.
    let out = eventlog(&["stats", path(&f.logs), "--json", "--level", "error"]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["records"], f.emitted.by_event["payment_failed"]);

    // The human form names the same figures.
    let text = stdout(&eventlog(&["stats", path(&f.logs)]));
    assert!(
        text.contains(&format!("{} records", f.emitted.records)),
        "{text}"
    );
}

#[test]
fn query_selects_by_event_field_level_and_id() {
    let f = fixture();
    let logs = path(&f.logs);
    let out = eventlog(&[
        "query",
        logs,
        "--event",
        "payment_failed",
        "--where",
        "error_type=card_declined",
    ]);
    assert!(out.status.success(), "{out:?}");
    let records = json_lines(&out);
    let reqs: BTreeSet<String> = records
        .iter()
        .map(|r| {
            assert_eq!(r["event_name"], "payment_failed");
            assert_eq!(r["metadata"]["error_type"], "card_declined");
            r["request_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(reqs, f.emitted.failed_by_type["card_declined"]);
    assert_eq!(reqs.len(), records.len(), "each record once");

    let count = |args: &[&str]| -> u64 {
        let mut all = vec!["query", logs, "--count"];
        all.extend_from_slice(args);
        stdout(&eventlog(&all)).trim().parse().unwrap()
    };
    assert_eq!(
        count(&["--where", "metadata.result=failure"]),
        f.emitted.failed_logins
    );
    assert_eq!(
        count(&[
            "--where",
            "result!=failure",
            "--event",
            "user_login_attempt"
        ]),
        REQUESTS as u64 - f.emitted.failed_logins
    );
    assert_eq!(
        count(&["--type", "error", "--level", "warn"]),
        f.emitted.by_event["payment_failed"]
    );
    assert_eq!(
        count(&["--id", &request_id(5)]),
        f.emitted.per_request[&request_id(5)]
    );
    assert_eq!(
        count(&["--since", "2000-01-01T00:00:00Z"]),
        f.emitted.records
    );
    assert_eq!(count(&["--until", "2000-01-01T00:00:00Z"]), 0);

    let limited = eventlog(&["query", logs, "--limit", "3"]);
    assert_eq!(json_lines(&limited).len(), 3);

    // Nothing matched: exit 1, like grep.
    let none = eventlog(&["query", logs, "--event", "no_such_event"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty());
}

/// `--limit` over many scan units, where the first is slow (one big gzip
/// file) and the small ones after it finish first and wait to be merged:
/// a part merged after the limit was reached printed one line more each
/// (found by CI: `--limit 3` printed 6 lines).
#[test]
fn limit_holds_when_later_parts_finish_first() {
    let dir = tempfile::tempdir().unwrap();
    let line = |i: usize| {
        format!(
            r#"{{"timestamp":"2026-01-01T00:00:00Z","level":"INFO","event_name":"thing_done","seq":{i}}}"#
        )
    };
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.path().join("a.jsonl.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    for i in 0..200_000 {
        writeln!(gz, "{}", line(i)).unwrap();
    }
    gz.finish().unwrap();
    for f in 0..16 {
        std::fs::write(
            dir.path().join(format!("b{f:02}.jsonl")),
            line(1_000_000 + f) + "\n",
        )
        .unwrap();
    }
    for limit in [1usize, 3] {
        let out = eventlog(&[
            "query",
            path(dir.path()),
            "--limit",
            &limit.to_string(),
            "--threads",
            "2",
        ]);
        assert!(out.status.success(), "{out:?}");
        let seqs: Vec<u64> = json_lines(&out)
            .iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect();
        // The first lines in reading order, and no more.
        assert_eq!(seqs, (0..limit as u64).collect::<Vec<_>>());
    }
}

#[test]
fn trace_gives_one_requests_records_in_time_order() {
    let f = fixture();
    let req = request_id(10);
    let out = eventlog(&["trace", &req, path(&f.logs), "--json"]);
    assert!(out.status.success(), "{out:?}");
    let records = json_lines(&out);
    assert_eq!(records.len() as u64, f.emitted.per_request[&req]);
    let times: Vec<&str> = records
        .iter()
        .map(|r| {
            assert_eq!(r["request_id"], req.as_str());
            r["timestamp"].as_str().unwrap()
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted);
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["user_login_attempt", "payment_failed", "request_completed"]
    );

    // By trace id too, with the same records.
    let trace_id = records[0]["trace_id"].as_str().unwrap();
    let by_trace = eventlog(&["trace", trace_id, path(&f.logs), "--json"]);
    assert_eq!(json_lines(&by_trace), records);

    let text = stdout(&eventlog(&["trace", &req, path(&f.logs)]));
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(&format!("{req}: 3 records")), "{text}");
    assert!(
        text.contains("payment_failed [request] error_type="),
        "{text}"
    );

    let none = eventlog(&["trace", "req_999", path(&f.logs)]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn validate_passes_clean_files_and_names_the_line_of_each_violation() {
    let f = fixture();
    let logs = path(&f.logs);
    let envelope_only = eventlog(&["validate", logs, "--json"]);
    assert!(envelope_only.status.success(), "{envelope_only:?}");
    let r: Value = serde_json::from_slice(&envelope_only.stdout).unwrap();
    assert_eq!(r["valid"], f.emitted.records);
    assert_eq!(r["errors"], 0);

    let out = eventlog(&["validate", logs, "--schema", path(&f.schema), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["errors"], 1);
    assert_eq!(r["valid"], f.emitted.records - 1);
    assert_eq!(r["by_kind"]["constraint"], 1);
    let problem = &r["examples"][0];
    // The named line is the lowercase-currency order.
    let file = problem["file"].as_str().unwrap();
    let line = problem["line"].as_u64().unwrap();
    let text = read_file_lines(Path::new(file));
    let record: Value = serde_json::from_str(&text[usize::try_from(line).unwrap() - 1]).unwrap();
    assert_eq!(record["request_id"], request_id(7).as_str());
    assert_eq!(record["metadata"]["currency"], "usd");
}

/// A file's lines, gzip or not (independently of the tool).
fn read_file_lines(path: &Path) -> Vec<String> {
    use std::io::Read as _;
    let bytes = std::fs::read(path).unwrap();
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    };
    text.lines().map(str::to_owned).collect()
}

#[test]
fn broken_lines_and_truncated_files_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"timestamp":"2026-12-01T10:00:00.000001Z","level":"INFO","event_name":"order_placed","event_type":"business","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","metadata":{"amount":1.5}}"#;
    let broken = dir.path().join("broken.jsonl");
    let mut file = std::fs::File::create(&broken).unwrap();
    writeln!(file, "{good}").unwrap();
    writeln!(file, "not json at all").unwrap();
    writeln!(file, r#"{{"level":"INFO","event_name":"x_y"}}"#).unwrap();
    writeln!(file, "{}", good.replace("4bf92f35", "XYZ")).unwrap();
    file.write_all(b"\xff\xfe invalid utf-8\n").unwrap();
    drop(file);

    let out = eventlog(&["validate", path(&broken), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["lines"], 5);
    assert_eq!(r["valid"], 1);
    assert_eq!(r["by_kind"]["invalid_json"], 2);
    // Line 5 is both: invalid UTF-8, and not JSON.
    assert_eq!(r["by_kind"]["invalid_utf8"], 1);
    assert_eq!(r["by_kind"]["missing_timestamp"], 1);
    assert_eq!(r["by_kind"]["bad_id"], 1);
    let lines: Vec<u64> = r["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4, 5, 5]);

    // A gzip file cut in half: the lines before the cut are read, the
    // file is reported, stats still answer, with exit status 2.
    let f = fixture();
    let gz = std::fs::read_dir(&f.logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "gz"))
        .unwrap();
    let bytes = std::fs::read(&gz).unwrap();
    let cut = dir.path().join("cut.jsonl.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = eventlog(&["stats", path(&cut), "--json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("eventlog: {}: ", path(&cut))),
        "{err}"
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["unreadable"].as_array().unwrap().len(), 1, "{s}");
    let whole = read_file_lines(&gz).len() as u64;
    let read = s["records"].as_u64().unwrap();
    assert!(read > 0 && read < whole, "{read} of {whole}");
    assert_eq!(eventlog(&["validate", path(&cut)]).status.code(), Some(2));
}

#[test]
fn schema_prints_json_schema_and_bad_input_is_a_clear_error() {
    let f = fixture();
    let out = eventlog(&["schema", path(&f.schema)]);
    assert!(out.status.success(), "{out:?}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["$schema"].as_str().unwrap().contains("2020-12"), "{s}");

    for (args, says) in [
        (vec!["stats", "/no/such/dir"], "/no/such/dir"),
        (
            vec!["query", path(&f.logs), "--where", "oops"],
            "--where \"oops\"",
        ),
        (
            vec!["query", path(&f.logs), "--since", "soon"],
            "--since \"soon\"",
        ),
        (
            vec!["query", path(&f.logs), "--level", "loud"],
            "--level \"loud\"",
        ),
        (
            vec!["validate", path(&f.logs), "--schema", "/no/schema.toml"],
            "cannot load the schema",
        ),
    ] {
        let out = eventlog(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("eventlog: ") && err.contains(says),
            "{args:?}: {err}"
        );
    }
    let empty = tempfile::tempdir().unwrap();
    let out = eventlog(&["stats", path(empty.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no event files"));
}

#[test]
fn renamed_envelope_keys_are_read_with_key() {
    use eventlog::{Envelope, Key};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("renamed.jsonl");
    let envelope = Envelope::builder()
        .rename(Key::Timestamp, "@timestamp")
        .rename(Key::Level, "severity")
        .promote_as("request_id", "req")
        .build()
        .unwrap();
    let layer = eventlog::layer()
        .envelope(envelope)
        .writer(std::sync::Mutex::new(std::fs::File::create(&file).unwrap()));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("request", request_id = "req_1").entered();
        tracing::info!(event_name = "order_placed", amount = 1.5);
        tracing::warn!(event_name = "cache_missed");
    });
    let keys = [
        "--key",
        "timestamp=@timestamp",
        "--key",
        "level=severity",
        "--key",
        "request_id=req",
    ];
    let run = |args: &[&str], renamed: bool| {
        let mut all: Vec<&str> = args.to_vec();
        if renamed {
            all.extend_from_slice(&keys);
        }
        eventlog(&all)
    };
    let f = path(&file);
    // Without --key the files do not read as the envelope.
    assert_eq!(run(&["validate", f], false).status.code(), Some(1));
    let ok = run(&["validate", f, "--json"], true);
    assert!(ok.status.success(), "{ok:?}");
    let r: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(r["valid"], 2);

    let s: Value =
        serde_json::from_slice(&run(&["stats", f, "--json", "--distinct"], true).stdout).unwrap();
    assert_eq!(s["by_level"]["INFO"], 1);
    assert_eq!(s["by_level"]["WARN"], 1);
    assert_eq!(s["distinct_requests"], 1);
    // Lines come out as they are in the file, renamed keys and all.
    let out = run(&["trace", "req_1", f, "--json"], true);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l.contains_key("@timestamp") && l["req"] == "req_1")
    );
    let bad = eventlog(&["stats", f, "--key", "nope=x"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn report_buckets_volume_and_marks_the_error_spike() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spike.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    // Minute 0: 20 fine records; minute 1: none; minute 2: 10 records, 6 errors.
    let line = |second: u32, level: &str, error_type: Option<&str>| {
        let meta =
            error_type.map_or_else(|| "{}".to_owned(), |e| format!(r#"{{"error_type":"{e}"}}"#));
        format!(
            r#"{{"timestamp":"2026-12-01T10:{:02}:{:02}.000001Z","level":"{level}","event_name":"payment_processed","event_type":"business","metadata":{meta}}}"#,
            second / 60,
            second % 60
        )
    };
    for s in 0..20 {
        writeln!(out, "{}", line(s * 2, "INFO", None)).unwrap();
    }
    for s in 0..10 {
        let (level, e) = if s < 6 {
            ("ERROR", Some(if s < 4 { "timeout" } else { "declined" }))
        } else {
            ("WARN", None)
        };
        writeln!(out, "{}", line(120 + s, level, e)).unwrap();
    }
    drop(out);
    let f = path(&file);
    let r: Value =
        serde_json::from_slice(&eventlog(&["report", f, "--bucket", "1m", "--json"]).stdout)
            .unwrap();
    assert_eq!(r["bucket_seconds"], 60);
    let rows: Vec<(String, u64, u64, u64)> = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start"].as_str().unwrap().to_owned(),
                b["records"].as_u64().unwrap(),
                b["warnings"].as_u64().unwrap(),
                b["errors"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-12-01T10:00:00Z".to_owned(), 20, 0, 0),
            ("2026-12-01T10:01:00Z".to_owned(), 0, 0, 0),
            ("2026-12-01T10:02:00Z".to_owned(), 10, 4, 6),
        ]
    );
    assert_eq!(
        r["buckets"][2]["error_types"],
        serde_json::json!([["timeout", 4], ["declined", 2]])
    );

    let text = stdout(&eventlog(&["report", f, "--bucket", "1m"]));
    let spike: Vec<&str> = text.lines().filter(|l| l.contains("T10:02:00!")).collect();
    assert_eq!(spike.len(), 1, "{text}");
    assert!(spike[0].contains("timeout 4, declined 2"), "{text}");
    assert!(!text.contains("T10:00:00!"), "{text}");

    // Filters apply; auto picks 5 s buckets for these ~2 minutes.
    let r: Value =
        serde_json::from_slice(&eventlog(&["report", f, "--json", "--level", "error"]).stdout)
            .unwrap();
    let total: u64 = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["records"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 6);
    let r: Value = serde_json::from_slice(&eventlog(&["report", f, "--json"]).stdout).unwrap();
    assert_eq!(r["bucket_seconds"], 5);
    assert_eq!(
        eventlog(&["report", f, "--bucket", "soon"]).status.code(),
        Some(2)
    );
}

/// `query --follow` on the active-file symlink while the appender writes
/// and rotates (many times between two polls): every matching record is
/// printed once, in order, and `--limit` ends it.
#[test]
fn follow_prints_new_records_across_rotations() {
    use std::io::BufRead as _;
    const N: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let (writer, guard) = RollingFile::builder()
        .directory(&logs)
        .prefix("checkout")
        .max_bytes(8 * 1024)
        .compress(true)
        .keep(10_000)
        .non_blocking(NonBlockingBuilder::new().backpressure(Backpressure::BLOCK))
        .build_non_blocking()
        .unwrap();
    let layer = eventlog::layer().service("checkout").writer(writer);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let active = logs.join("checkout.jsonl");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(event_name = "service_started");
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !active.exists() {
        assert!(std::time::Instant::now() < deadline, "no active file");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args([
            "query",
            path(&active),
            "--follow",
            "--event",
            "order_placed",
            "--limit",
            &N.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map(Result::unwrap)
            .collect::<Vec<String>>()
    });
    // Start writing once it has the active file open (Linux: its fds).
    let target = std::fs::canonicalize(&active).unwrap();
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_dir(&fds)
        .unwrap()
        .filter_map(Result::ok)
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == target))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "--follow never opened {target:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tracing::dispatcher::with_default(&dispatch, || {
        for seq in 0..N {
            tracing::info!(event_name = "order_placed", seq, padding = "x".repeat(200));
            tracing::info!(event_name = "cache_warmed", seq);
            if seq % 50 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(150));
            }
        }
    });
    drop(dispatch);
    guard.shutdown(std::time::Duration::from_secs(30)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("--follow did not print {N} records within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let lines = reader.join().unwrap();
    let seqs: Vec<u64> = lines
        .iter()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            assert_eq!(r["event_name"], "order_placed");
            r["metadata"]["seq"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(seqs, (0..N).collect::<Vec<_>>());
    let rotated = std::fs::read_dir(&logs).unwrap().count();
    assert!(
        rotated > 10,
        "only {rotated} files: rotation was not exercised"
    );
}

#[test]
fn follow_needs_one_file() {
    let f = fixture();
    for args in [
        vec!["query", path(&f.logs), "--follow"],
        vec!["query", path(&f.schema), path(&f.schema), "--follow"],
    ] {
        let out = eventlog(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--follow"));
    }
}
