//! `--max-line-bytes`: every line over the cap is skipped and counted, on
//! every command: the first ten named on stderr with file and line, then
//! one summary line in a fixed form; in the JSON of `stats`, `report` and
//! `validate` as a count. The same count whether a file is read whole, in
//! ranges on several threads, or from stdin.

use std::fmt::Write as _;
use std::process::Output;

use serde_json::Value;

use super::stdin::with_stdin;
use super::{eventlog, json_lines, path, stdout};

const CAP: &str = "200";

/// `n` records (request `req_1`), every `every`th followed by a line over the cap.
fn lines(n: usize, every: usize) -> (String, u64) {
    let mut text = String::new();
    let mut long = 0;
    for i in 0..n {
        writeln!(
            text,
            "{{\"timestamp\":\"2026-12-01T10:00:00Z\",\"level\":\"INFO\",\"event_name\":\"e\",\"request_id\":\"req_1\",\"metadata\":{{\"i\":{i}}}}}"
        )
        .unwrap();
        if i % every == 0 {
            writeln!(
                text,
                "{{\"request_id\":\"req_1\",\"pad\":\"{}\"}}",
                "x".repeat(300)
            )
            .unwrap();
            long += 1;
        }
    }
    (text, long)
}

/// The summary line's count, and the per-line notes.
fn skipped(out: &Output) -> (u64, Vec<String>) {
    let err = String::from_utf8_lossy(&out.stderr);
    let summary: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(" (--max-line-bytes) skipped"))
        .collect();
    assert_eq!(summary.len(), 1, "{err}");
    let n = summary[0]
        .strip_prefix("eventlog: ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    let notes = err
        .lines()
        .filter(|l| l.ends_with("line longer than 200 bytes (--max-line-bytes): skipped"))
        .map(str::to_owned)
        .collect();
    (n, notes)
}

#[test]
fn every_command_counts_the_lines_it_skips() {
    let (text, long) = lines(120, 10);
    assert_eq!(long, 12);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("long.jsonl");
    std::fs::write(&f, &text).unwrap();
    let f = path(&f);
    let cap = ["--max-line-bytes", CAP];

    let mut args = vec!["stats", f, "--json"];
    args.extend(cap);
    let out = eventlog(&args);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["too_long_lines"], long);
    assert_eq!(s["records"], 120);
    let (count, notes) = skipped(&out);
    assert_eq!(count, long);
    // The first ten, with their line numbers (2, 13, 24, …), then the summary.
    assert_eq!(notes.len(), 10);
    assert_eq!(
        notes[1],
        format!("eventlog: {f}:13: line longer than 200 bytes (--max-line-bytes): skipped")
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().last().unwrap(),
        "eventlog: 12 lines longer than 200 bytes (--max-line-bytes) skipped (2 not listed above)"
    );

    // query prints records only: the count is on stderr, in the same form.
    let mut args = vec!["query", f];
    args.extend(cap);
    let out = eventlog(&args);
    assert_eq!(json_lines(&out).len(), 120);
    assert_eq!(skipped(&out).0, long);
    let mut args = vec!["query", f, "--count"];
    args.extend(cap);
    let out = eventlog(&args);
    assert_eq!(stdout(&out).trim(), "120");
    assert_eq!(skipped(&out).0, long);
    let mut args = vec!["trace", "req_1", f, "--json"];
    args.extend(cap);
    let out = eventlog(&args);
    assert_eq!(json_lines(&out).len(), 120);
    assert_eq!(skipped(&out).0, long);

    let mut args = vec!["report", f, "--json"];
    args.extend(cap);
    let out = eventlog(&args);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["too_long_lines"], long, "{r}");
    assert_eq!(skipped(&out).0, long);

    // validate reports them itself, by kind and line: nothing on stderr.
    let mut args = vec!["validate", f, "--json"];
    args.extend(cap);
    let out = eventlog(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["by_kind"]["line_too_long"], long, "{v}");
    assert_eq!(v["examples"][0]["line"], 2, "{v}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // From stdin, the same.
    let out = with_stdin(
        &["stats", "--json", "--max-line-bytes", CAP],
        text.as_bytes(),
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["too_long_lines"], long);
    assert_eq!(skipped(&out).0, long);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("eventlog: <stdin>:2: line longer than 200 bytes"),
        "{err}"
    );

    // Under the cap nothing is said.
    let out = eventlog(&["stats", f, "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_file_read_in_ranges_counts_each_skipped_line_once() {
    // Over the size at which a plain file is cut into ranges.
    let (text, long) = lines(80_000, 7);
    assert!(text.len() > 9 << 20);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.jsonl");
    std::fs::write(&f, &text).unwrap();
    for threads in ["1", "4"] {
        let out = eventlog(&[
            "stats",
            path(&f),
            "--json",
            "--threads",
            threads,
            "--max-line-bytes",
            CAP,
        ]);
        let s: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(s["too_long_lines"], long, "{threads} threads");
        assert_eq!(s["records"], 80_000, "{threads} threads");
        assert_eq!(skipped(&out).0, long, "{threads} threads");
    }
}
