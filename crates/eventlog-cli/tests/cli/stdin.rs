//! Standard input: `-` as a path, and stdin read when records are piped
//! in and no path is given; plain or gzip, mixed with files, for every
//! command that reads records.

use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, Write as _};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::{eventlog, fixture, json_lines, path, request_id, stdout};

/// Runs the binary with `input` piped to its stdin (written on a thread of
/// its own, so a child that stops reading early cannot block the test).
pub(crate) fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // A child that stopped reading (an error) closes the pipe: not ours to judge.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Every record of the fixture, plain, in the order the files hold them.
fn all_lines() -> Vec<u8> {
    let out = eventlog(&["query", path(&fixture().logs), "--threads", "1"]);
    assert!(out.status.success(), "{out:?}");
    out.stdout
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn stdin_plain_or_gzip_dash_or_piped_counts_what_the_files_hold() {
    let f = fixture();
    let lines = all_lines();
    let gz = gzip(&lines);
    let from_files = json(&eventlog(&["stats", path(&f.logs), "--json"]));
    for (what, args, input) in [
        ("- plain", vec!["stats", "-", "--json"], &lines),
        ("- gzip", vec!["stats", "-", "--json"], &gz),
        ("piped, no path", vec!["stats", "--json"], &lines),
        ("piped gzip, no path", vec!["stats", "--json"], &gz),
    ] {
        let s = json(&with_stdin(&args, input));
        assert_eq!(s["records"], f.emitted.records, "{what}");
        assert_eq!(s["by_event"], from_files["by_event"], "{what}");
        assert_eq!(s["first"], from_files["first"], "{what}");
        assert_eq!(s["last"], from_files["last"], "{what}");
        assert_eq!(s["files"], 1, "{what}");
        assert_eq!(s["gzip_files"], u64::from(what.contains("gzip")), "{what}");
    }
}

#[test]
fn every_command_reads_stdin() {
    let f = fixture();
    let lines = all_lines();
    let count: u64 = stdout(&with_stdin(
        &["query", "--event", "payment_failed", "--count"],
        &lines,
    ))
    .trim()
    .parse()
    .unwrap();
    assert_eq!(count, f.emitted.by_event["payment_failed"]);

    let req = request_id(10);
    let traced = with_stdin(&["trace", &req, "-", "--json"], &lines);
    assert!(traced.status.success(), "{traced:?}");
    let records = json_lines(&traced);
    assert_eq!(records.len() as u64, f.emitted.per_request[&req]);
    assert!(records.iter().all(|r| r["request_id"] == req.as_str()));

    // The one violation of the fixture, named on stdin's line.
    let out = with_stdin(
        &["validate", "-", "--schema", path(&f.schema), "--json"],
        &gzip(&lines),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"], f.emitted.records, "{v}");
    assert_eq!(v["valid"], f.emitted.records - 1, "{v}");
    assert_eq!(v["by_kind"]["constraint"], 1, "{v}");
    assert_eq!(v["examples"][0]["file"], "<stdin>", "{v}");
    let line = usize::try_from(v["examples"][0]["line"].as_u64().unwrap()).unwrap();
    let named: Value =
        serde_json::from_slice(lines.split(|&b| b == b'\n').nth(line - 1).unwrap()).unwrap();
    assert_eq!(named["metadata"]["currency"], "usd");

    let r = json(&with_stdin(&["report", "--json"], &lines));
    let total: u64 = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["records"].as_u64().unwrap())
        .sum();
    assert_eq!(total, f.emitted.records, "{r}");

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let html = with_stdin(&["report", "--html", path(&page), "-"], &lines);
    assert!(html.status.success(), "{html:?}");
    let said = stdout(&html);
    let records: u64 = said
        .split_once(" (")
        .and_then(|(_, rest)| rest.split_once(' '))
        .map(|(n, _)| n.parse().unwrap())
        .unwrap();
    assert_eq!(records, f.emitted.records, "{said}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("<html"));
}

#[test]
fn dash_and_files_mix_in_the_order_given_and_dash_twice_reads_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.jsonl");
    std::fs::write(&file, "{\"event_name\":\"from_file\"}\n").unwrap();
    let piped = b"{\"event_name\":\"from_stdin\"}\n";
    let names = |out: &Output| -> Vec<String> {
        assert!(out.status.success(), "{out:?}");
        json_lines(out)
            .iter()
            .map(|r| r["event_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&with_stdin(&["query", "-", path(&file)], piped)),
        ["from_stdin", "from_file"]
    );
    assert_eq!(
        names(&with_stdin(&["query", path(&file), "-", "-"], piped)),
        ["from_file", "from_stdin"]
    );
}

#[test]
fn stdin_redirected_from_a_big_file_is_one_stream_from_where_it_stands() {
    // Over the size at which plain files are cut into ranges read in
    // parallel; stdin is read from its current offset, on one thread, so
    // a line consumed before the command started is not read again.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jsonl");
    let mut text = String::new();
    let n = 120_000u64;
    for i in 0..n {
        writeln!(
            text,
            "{{\"timestamp\":\"2026-12-01T10:00:00Z\",\"level\":\"INFO\",\"event_name\":\"e_{}\",\"metadata\":{{\"i\":{i},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}}}}",
            i % 3
        )
        .unwrap();
    }
    assert!(text.len() > 9 << 20);
    std::fs::write(&big, &text).unwrap();
    let mut stdin = std::fs::File::open(&big).unwrap();
    let first = text.find('\n').unwrap() + 1;
    let mut skipped = vec![0; first];
    stdin.read_exact(&mut skipped).unwrap();
    assert_eq!(stdin.stream_position().unwrap(), first as u64);
    let out = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(["stats", "--json", "--threads", "4"])
        .stdin(stdin)
        .output()
        .unwrap();
    let s = json(&out);
    assert_eq!(s["records"], n - 1, "{s}");
    assert_eq!(s["by_event"]["e_0"], n / 3 - 1, "{s}");
}

#[test]
fn no_path_and_nothing_piped_is_a_usage_error_or_reads_logs() {
    // `Command::output` gives the child /dev/null as stdin: a device, like
    // cron's or CI's, not something piped in.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .arg("stats")
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("eventlog: no path given, no ./logs here, and nothing piped to stdin"),
        "{err}"
    );
    // With ./logs there, that is read, as before.
    let f = fixture();
    let out = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(["stats", "--json"])
        .current_dir(f.logs.parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(json(&out)["records"], f.emitted.records);
}

#[test]
fn hostile_stdin_is_counted_or_named_never_a_panic() {
    // Garbage, invalid UTF-8, NUL, a line with no end.
    let out = with_stdin(
        &["stats", "-", "--json"],
        b"not json\n\xff\xfe{\"a\":1}\n\0\0\0\n{\"event_name\":\"ok\"}\n{\"trunc",
    );
    let s = json(&out);
    assert_eq!(s["records"], 1, "{s}");
    assert_eq!(s["invalid_lines"], 4, "{s}");
    assert_eq!(s["invalid_utf8_lines"], 1, "{s}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("eventlog: <stdin>:2: invalid UTF-8 at byte 0"),
        "{err}"
    );

    // A gzip stream cut short: what came before is counted, stdin named, exit 2.
    let mut lines = Vec::new();
    for i in 0..2000 {
        lines.extend_from_slice(format!("{{\"event_name\":\"e\",\"i\":{i}}}\n").as_bytes());
    }
    let gz = gzip(&lines);
    let out = with_stdin(&["stats", "--json"], gz.get(..gz.len() / 2).unwrap());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["records"].as_u64().unwrap() < 2000, "{s}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("eventlog: <stdin>: stopped reading after line")
            && err.contains("compressed data cut short"),
        "{err}"
    );

    // Empty stdin: nothing, not an error.
    let s = json(&with_stdin(&["stats", "--json"], b""));
    assert_eq!(
        (&s["records"], &s["lines"]),
        (&Value::from(0), &Value::from(0))
    );

    // What cannot work on a stream is refused by name.
    for (args, flag) in [
        (vec!["query", "-", "--since-last", "1h"], "--since-last"),
        (vec!["query", "-", "--follow"], "--follow"),
    ] {
        let out = with_stdin(&args, b"{}\n");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with(&format!("eventlog: {flag} ")), "{err}");
    }
}
