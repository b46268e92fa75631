//! `query`'s aggregations, projections, filters and windows (issue 18),
//! over real files written here; every answer is parsed (JSON lines or
//! CSV) and compared with what the test computes from the records it
//! wrote. The last test holds the parallel reader to the single-threaded
//! one on a file big enough to be read in ranges, hostile lines included.

// Record numbers and counts far below 2^52: the casts are exact.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{eventlog, json_lines, path, stdout};

const SERVICES: [&str; 3] = ["checkout", "payments", "search"];
const REASONS: [&str; 3] = ["card_declined", "timeout", "fraud_suspected"];
const RECORDS: usize = 600;

/// The fixture's records, as written: one every 7 s from 2026-11-24T00:00:00Z.
struct Written {
    _dir: tempfile::TempDir,
    file: PathBuf,
    records: Vec<Value>,
}

fn record(i: usize) -> Value {
    let failed = i.is_multiple_of(4);
    let mut metadata = json!({"duration_ms": (i * 37 % 1000) as f64 / 4.0, "attempt": i % 3});
    if failed {
        metadata["reason"] = json!(REASONS[i % 3]);
    }
    let seconds = 1_795_478_400 + 7 * i as i64;
    json!({
        "timestamp": jiff::Timestamp::from_second(seconds).unwrap().to_string(),
        "level": if failed { "WARN" } else { "INFO" },
        "event_name": if failed { "payment_failed" } else { "order_placed" },
        "event_type": if failed { "error" } else { "business" },
        "service": SERVICES[i % SERVICES.len()],
        "trace_id": format!("{:032x}", i / 3),
        "user_id": format!("user_{}", i % 11),
        "metadata": metadata,
    })
}

fn written() -> Written {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let records: Vec<Value> = (0..RECORDS).map(record).collect();
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for r in &records {
        writeln!(f, "{r}").unwrap();
    }
    f.flush().unwrap();
    Written {
        _dir: dir,
        file,
        records,
    }
}

fn str_at<'a>(r: &'a Value, pointer: &str) -> Option<&'a str> {
    r.pointer(pointer).and_then(Value::as_str)
}

/// Parses CSV without quoted commas (the test's values hold none).
fn csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect());
    (lines.next().unwrap(), lines.collect())
}

fn ok(args: &[&str]) -> std::process::Output {
    let out = eventlog(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    out
}

#[test]
fn by_two_keys_is_a_cross_tab_with_absent_values_as_null() {
    let w = written();
    let out = ok(&[
        "query",
        path(&w.file),
        "--by",
        "service,metadata.reason",
        "--format",
        "jsonl",
    ]);
    let mut expected: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
    for r in &w.records {
        let key = (
            str_at(r, "/service").unwrap().to_owned(),
            str_at(r, "/metadata/reason").map(str::to_owned),
        );
        *expected.entry(key).or_default() += 1;
    }
    let rows = json_lines(&out);
    let got: BTreeMap<(String, Option<String>), u64> = rows
        .iter()
        .map(|r| {
            let keys: Vec<&str> = r.keys().map(String::as_str).collect();
            assert_eq!(keys, ["service", "metadata.reason", "count"]);
            (
                (
                    r["service"].as_str().unwrap().to_owned(),
                    r["metadata.reason"].as_str().map(str::to_owned),
                ),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    // Largest count first.
    let counts: Vec<u64> = rows.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|p| p[0] >= p[1]), "{counts:?}");
}

/// The `(n − 1)p` linear interpolation, written the R-7 way (1-based
/// `h = (n − 1)p + 1`) so it is not the code under test.
fn r7(values: &[f64], p: f64) -> f64 {
    let mut x = values.to_vec();
    x.sort_by(f64::total_cmp);
    let h = (x.len() - 1) as f64 * p + 1.0;
    let lo = h.floor() as usize;
    let below = x[lo - 1];
    let above = x[(lo).min(x.len() - 1)];
    below + (h - h.floor()) * (above - below)
}

#[test]
fn percentiles_are_quantile_cont_per_group() {
    let w = written();
    let out = ok(&[
        "query",
        path(&w.file),
        "--event",
        "order_placed",
        "--by",
        "service",
        "--percentiles",
        "metadata.duration_ms",
        "--p",
        "50,90,99.9",
        "--format",
        "csv",
    ]);
    let (header, rows) = csv(&stdout(&out));
    assert_eq!(header, ["service", "count", "p50", "p90", "p99.9"]);
    assert_eq!(rows.len(), SERVICES.len());
    for row in rows {
        let values: Vec<f64> = w
            .records
            .iter()
            .filter(|r| str_at(r, "/event_name") == Some("order_placed"))
            .filter(|r| str_at(r, "/service") == Some(row[0].as_str()))
            .map(|r| r["metadata"]["duration_ms"].as_f64().unwrap())
            .collect();
        assert_eq!(row[1], values.len().to_string());
        for (i, p) in [0.5, 0.9, 0.999].into_iter().enumerate() {
            let got: f64 = row[2 + i].parse().unwrap();
            let want = r7(&values, p);
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{row:?} p{p}: {got} vs {want}"
            );
        }
    }
    // By hand: 1, 2, 4, 8 → the median halfway between 2 and 4.
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("four.jsonl");
    std::fs::write(
        &small,
        [1, 8, 2, 4]
            .map(|d| format!("{{\"metadata\":{{\"duration_ms\":{d}}}}}\n"))
            .concat(),
    )
    .unwrap();
    let out = ok(&[
        "query",
        path(&small),
        "--percentiles",
        "duration_ms",
        "--p",
        "0,50,75,100",
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        json_lines(&out)[0],
        json!({"count": 4, "p0": 1.0, "p50": 3.0, "p75": 5.0, "p100": 8.0})
            .as_object()
            .unwrap()
            .clone()
    );
}

#[test]
fn every_buckets_by_time_and_count_distinct_counts_values() {
    let w = written();
    let out = ok(&[
        "query",
        path(&w.file),
        "--every",
        "10m",
        "--count-distinct",
        "user_id,trace_id",
        "--format",
        "jsonl",
    ]);
    let rows = json_lines(&out);
    let mut expected: BTreeMap<i64, (u64, BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (i, r) in w.records.iter().enumerate() {
        let bucket = (1_795_478_400 + 7 * i as i64) / 600 * 600;
        let e = expected.entry(bucket).or_default();
        e.0 += 1;
        e.1.insert(str_at(r, "/user_id").unwrap().to_owned());
        e.2.insert(str_at(r, "/trace_id").unwrap().to_owned());
    }
    assert_eq!(rows.len(), expected.len());
    for (row, (bucket, (n, users, traces))) in rows.iter().zip(&expected) {
        assert_eq!(
            row["bucket"],
            jiff::Timestamp::from_second(*bucket).unwrap().to_string()
        );
        assert_eq!(row["count"], *n);
        assert_eq!(row["distinct(user_id)"], users.len());
        assert_eq!(row["distinct(trace_id)"], traces.len());
    }
}

#[test]
fn fields_sort_and_limit_make_rows() {
    let w = written();
    let out = ok(&[
        "query",
        path(&w.file),
        "--event",
        "payment_failed",
        "--fields",
        "timestamp,metadata.duration_ms,service",
        "--sort",
        "metadata.duration_ms:desc",
        "--limit",
        "5",
        "--format",
        "csv",
    ]);
    let (header, rows) = csv(&stdout(&out));
    assert_eq!(header, ["timestamp", "metadata.duration_ms", "service"]);
    let mut failed: Vec<&Value> = w
        .records
        .iter()
        .filter(|r| str_at(r, "/event_name") == Some("payment_failed"))
        .collect();
    failed.sort_by(|a, b| {
        b["metadata"]["duration_ms"]
            .as_f64()
            .unwrap()
            .total_cmp(&a["metadata"]["duration_ms"].as_f64().unwrap())
    });
    let got: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    let want: Vec<f64> = failed[..5]
        .iter()
        .map(|r| r["metadata"]["duration_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(got, want);
    // Unsorted with a limit: the first records in file order, as JSON lines.
    let out = ok(&[
        "query",
        path(&w.file),
        "--fields",
        "trace_id,missing",
        "--limit",
        "2",
    ]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["trace_id"], w.records[1]["trace_id"]);
    assert_eq!(rows[1]["missing"], Value::Null);
    // A table: aligned, no colour when stdout is not a terminal.
    let out = ok(&["query", path(&w.file), "--by", "event_type"]);
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["event_type", "count"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["business", "450"]
    );
    assert_eq!(lines[1].len(), lines[0].len());
}

fn count(file: &Path, filters: &[&str]) -> u64 {
    let mut args = vec!["query", path(file), "--count"];
    args.extend_from_slice(filters);
    let out = eventlog(&args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    stdout(&out).trim().parse().unwrap()
}

#[test]
fn filters_compare_numbers_match_patterns_lists_and_presence() {
    let w = written();
    let n = |f: &dyn Fn(&Value) -> bool| w.records.iter().filter(|r| f(r)).count() as u64;
    let ms = |r: &Value| r["metadata"]["duration_ms"].as_f64().unwrap();
    let f = &w.file;
    assert_eq!(
        count(f, &["--where", "metadata.duration_ms>200"]),
        n(&|r| ms(r) > 200.0)
    );
    assert_eq!(
        count(f, &["--where", "duration_ms<=12.5"]),
        n(&|r| ms(r) <= 12.5)
    );
    assert_eq!(
        count(
            f,
            &[
                "--where",
                "metadata.duration_ms>=100",
                "--where",
                "metadata.duration_ms<150"
            ]
        ),
        n(&|r| (100.0..150.0).contains(&ms(r)))
    );
    assert_eq!(
        count(f, &["--where", "reason~^(card|fraud)"]),
        n(&|r| str_at(r, "/metadata/reason")
            .is_some_and(|s| s.starts_with("card") || s.starts_with("fraud")))
    );
    assert_eq!(
        count(f, &["--where", "service!~out"]),
        n(&|r| !str_at(r, "/service").unwrap().contains("out"))
    );
    assert_eq!(
        count(f, &["--where", "service in (checkout, search)"]),
        n(&|r| ["checkout", "search"].contains(&str_at(r, "/service").unwrap()))
    );
    assert_eq!(
        count(f, &["--where", "metadata.attempt not in (0,1)"]),
        n(&|r| r["metadata"]["attempt"] == 2)
    );
    assert_eq!(
        count(f, &["--exists", "metadata.reason"]),
        (RECORDS / 4) as u64
    );
    assert_eq!(
        count(f, &["--missing", "reason"]),
        (RECORDS - RECORDS / 4) as u64
    );
    // A bad operand is a clear error naming the flag.
    for bad in ["duration_ms>fast", "reason~(", "service in ()"] {
        let out = eventlog(&["query", path(f), "--where", bad]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--where"),
            "{out:?}"
        );
    }
}

#[test]
fn a_window_after_the_files_end_says_so_and_since_last_counts_from_the_newest() {
    let w = written();
    // The records are of 2026-11-24: "the last 10 minutes" before now hold none.
    let out = eventlog(&["query", path(&w.file), "--count", "--since", "10m"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).trim(), "0");
    let err = String::from_utf8_lossy(&out.stderr);
    let newest = str_at(&w.records[RECORDS - 1], "/timestamp").unwrap();
    assert!(err.contains("the files end before the window"), "{err}");
    assert!(err.contains("back from now"), "{err}");
    assert!(err.contains(newest), "{err}");
    assert!(err.contains("--since-last"), "{err}");
    // 10 minutes back from the newest record: 600 s / 7 s per record, and the newest.
    let out = ok(&["query", path(&w.file), "--count", "--since-last", "10m"]);
    assert_eq!(stdout(&out).trim(), (600 / 7 + 1).to_string());
    let out = eventlog(&[
        "query",
        path(&w.file),
        "--since-last",
        "2026-11-24T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// A file over the size read in ranges, with every kind of line the
/// reader must not miscount: escapes, invalid JSON, blank and CRLF lines,
/// invalid UTF-8, a line over the cap. Any number of threads gives the
/// same answers as one.
#[test]
fn any_number_of_threads_gives_the_single_threads_answers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let mut records = 0u64;
    let mut failed = 0u64;
    for i in 0..40_000usize {
        let mut r = record(i);
        match i % 997 {
            1 => r["message"] = json!("quote \" and tab\t and é"),
            2 => {
                writeln!(f, "{{\"not\": json").unwrap();
                continue;
            }
            3 => {
                writeln!(f, "   ").unwrap();
                continue;
            }
            4 => r["message"] = json!("x".repeat(300)),
            _ => {}
        }
        let line = r.to_string();
        if i % 1999 == 5 {
            // Invalid UTF-8 inside a string: read as U+FFFD, still a record.
            let (a, b) = line.split_once("user_").unwrap();
            f.write_all(a.as_bytes()).unwrap();
            f.write_all(b"us\xffer_").unwrap();
            f.write_all(b.as_bytes()).unwrap();
            f.write_all(b"\n").unwrap();
        } else if i % 501 == 6 {
            write!(f, "{line}\r\n").unwrap();
        } else {
            writeln!(f, "{line}").unwrap();
        }
        records += 1;
        failed += u64::from(str_at(&r, "/event_name") == Some("payment_failed"));
    }
    // Over the cap given below.
    writeln!(f, "{{\"long\":\"{}\"}}", "y".repeat(5000)).unwrap();
    f.flush().unwrap();
    drop(f);
    assert!(std::fs::metadata(&file).unwrap().len() > 9 << 20);
    let run = |threads: &str, args: &[&str]| {
        let mut all = vec!["--threads", threads, "--max-line-bytes", "4KiB"];
        all.extend_from_slice(args);
        let out = eventlog(&all);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?}",
            out.status
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let f = path(&file);
    let one = run("1", &["stats", f, "--json", "--distinct"]);
    let s: Value = serde_json::from_str(&one.0).unwrap();
    assert_eq!(s["records"], records);
    assert_eq!(s["too_long_lines"], 1);
    assert_eq!(s["by_event"]["payment_failed"], failed);
    for threads in ["2", "3", "8"] {
        for args in [
            &["stats", f, "--json", "--distinct"][..],
            &["query", f, "--event", "payment_failed"],
            &[
                "query",
                f,
                "--by",
                "service,metadata.reason",
                "--format",
                "csv",
            ],
            &[
                "query",
                f,
                "--percentiles",
                "duration_ms",
                "--by",
                "service",
                "--format",
                "csv",
            ],
            &["query", f, "--where", "message~quote", "--count"],
            &["query", f, "--fields", "trace_id", "--limit", "7"],
            &["trace", &format!("{:032x}", 4000 / 3), f, "--json"],
        ] {
            let single = run("1", args);
            let (out, err) = run(threads, args);
            // Not printed whole: megabytes.
            assert!(
                out == single.0,
                "{threads} threads: {args:?}: stdout differs"
            );
            assert_eq!(err, single.1, "{threads} threads: {args:?}");
        }
    }
}

/// A list flag given with no key, a width out of range and a bad funnel
/// are typed errors naming their flag (exit 2), never a silent default.
#[test]
fn empty_keys_huge_widths_and_bad_funnels_are_refused_by_name() {
    let w = written();
    let file = w.file.to_str().unwrap();
    let page = w.file.with_extension("html");
    let page = page.to_str().unwrap();
    let steps_33 = vec!["e"; 33].join(",");
    let cases: [(&[&str], &str); 9] = [
        (&["query", file, "--by", ""], "--by"),
        (&["query", file, "--by", ","], "--by"),
        (&["query", file, "--fields", ""], "--fields"),
        (&["query", file, "--count-distinct", ""], "--count-distinct"),
        (
            &["query", file, "--by", "service", "--every", "0s"],
            "--every",
        ),
        (
            &[
                "query",
                file,
                "--by",
                "service",
                "--every",
                "99999999999999d",
            ],
            "--every",
        ),
        (
            &["report", "--html", page, "--funnel", "", file],
            "--funnel",
        ),
        (
            &["report", "--html", page, "--funnel", "a,,b", file],
            "--funnel",
        ),
        (
            &["report", "--html", page, "--funnel", &steps_33, file],
            "--funnel",
        ),
    ];
    for (args, flag) in cases {
        let out = eventlog(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Items left empty among real ones are skipped, as before.
    let out = ok(&["query", file, "--by", "service,", "--format", "jsonl"]);
    assert!(out.status.success());
    // The widest width and the most steps are taken.
    assert!(
        ok(&["query", file, "--by", "service", "--every", "366d"])
            .status
            .success()
    );
    let steps_32 = vec!["e"; 32].join(",");
    assert!(
        ok(&["report", "--html", page, "--funnel", &steps_32, file])
            .status
            .success()
    );
}
