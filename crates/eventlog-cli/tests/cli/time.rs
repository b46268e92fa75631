//! `--tz` (display only: the files and the lines printed from them stay
//! UTC) and the times `--since` / `--until` take: relative (`15m`,
//! `-15m`), named days, and dates and times read in `--tz`.

use std::process::{Command, Output};

use jiff::Timestamp;
use serde_json::Value;

use super::{eventlog, json_lines, path, stdout};

/// A winter and a summer record of one request (Paris is +01:00, then
/// +02:00), an error in the winter one.
const RECORDS: &str = concat!(
    r#"{"timestamp":"2026-12-01T09:30:00.250Z","level":"ERROR","event_name":"payment_failed","request_id":"req_1","metadata":{"error_type":"card_declined"}}"#,
    "\n",
    r#"{"timestamp":"2026-12-01T10:15:00Z","level":"INFO","event_name":"order_placed","request_id":"req_1"}"#,
    "\n",
    r#"{"timestamp":"2026-07-01T09:30:00Z","level":"INFO","event_name":"order_placed","request_id":"req_2"}"#,
    "\n",
);

fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.jsonl");
    std::fs::write(&f, text).unwrap();
    (dir, f)
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn instant(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn without_tz_times_stay_utc_and_with_it_show_the_zones_offset() {
    let (_d, f) = file(RECORDS);
    let f = path(&f);
    let utc = json(&eventlog(&["stats", f, "--json"]));
    assert_eq!(utc["first"], "2026-07-01T09:30:00Z");
    assert_eq!(utc["last"], "2026-12-01T10:15:00Z");
    let paris = json(&eventlog(&["stats", f, "--json", "--tz", "Europe/Paris"]));
    assert_eq!(paris["first"], "2026-07-01T11:30:00+02:00");
    assert_eq!(paris["last"], "2026-12-01T11:15:00+01:00");
    // The same instants, only shown otherwise.
    assert_eq!(instant(&paris["first"]), instant(&utc["first"]));
    assert_eq!(instant(&paris["last"]), instant(&utc["last"]));
    // `--tz UTC` is the default, `Z` and all.
    assert_eq!(json(&eventlog(&["stats", f, "--json", "--tz", "UTC"])), utc);
    // `local` is the system's zone: TZ here.
    let local = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(["stats", f, "--json", "--tz", "local"])
        .env("TZ", "Asia/Kolkata")
        .output()
        .unwrap();
    assert_eq!(json(&local)["last"], "2026-12-01T15:45:00+05:30");
    let text = stdout(&eventlog(&["stats", f, "--tz", "+05:30"]));
    assert!(
        text.contains("time         2026-07-01T15:00:00+05:30 … 2026-12-01T15:45:00+05:30"),
        "{text}"
    );

    // Lines printed as they are in the files are not changed.
    let lines = eventlog(&["query", f, "--tz", "Europe/Paris"]);
    assert_eq!(stdout(&lines), RECORDS);
}

#[test]
fn report_query_buckets_and_trace_show_times_in_the_zone() {
    let (_d, f) = file(RECORDS);
    let f = path(&f);
    let winter = ["--since", "2026-11-01T00:00:00Z"];
    let mut args = vec!["report", f, "--bucket", "1h", "--json"];
    args.extend(winter);
    let r = json(&eventlog(&args));
    assert_eq!(r["buckets"][0]["start"], "2026-12-01T09:00:00Z");
    args.extend(["--tz", "Europe/Paris"]);
    let r = json(&eventlog(&args));
    let starts: Vec<&str> = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        ["2026-12-01T10:00:00+01:00", "2026-12-01T11:00:00+01:00"]
    );
    let text = stdout(&eventlog(&[
        "report",
        f,
        "--bucket",
        "1h",
        "--since",
        "2026-11-01T00:00:00Z",
        "--tz",
        "Europe/Paris",
    ]));
    let mut rows = text.lines().skip(1);
    assert!(
        rows.next().unwrap().starts_with("bucket (Europe/Paris) "),
        "{text}"
    );
    let first: Vec<&str> = rows.next().unwrap().split_whitespace().collect();
    assert_eq!(
        first.get(..4).unwrap(),
        ["2026-12-01T10:00:00+01:00", "1", "0", "1"],
        "{text}"
    );
    // Without --tz the text is as before.
    let text = stdout(&eventlog(&[
        "report",
        f,
        "--bucket",
        "1h",
        "--since",
        "2026-11-01T00:00:00Z",
    ]));
    assert!(
        text.lines().nth(1).unwrap().starts_with("bucket (UTC) "),
        "{text}"
    );
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .starts_with("2026-12-01T09:00:00 "),
        "{text}"
    );

    // query --every: CSV stays UTC unless --tz is given.
    let csv = |tz: &[&str]| {
        let mut a = vec!["query", f, "--every", "1d", "--format", "csv"];
        a.extend(tz);
        stdout(&eventlog(&a))
    };
    assert_eq!(
        csv(&[]),
        "bucket,count\n2026-07-01T00:00:00Z,1\n2026-12-01T00:00:00Z,2\n"
    );
    assert_eq!(
        csv(&["--tz", "America/New_York"]),
        "bucket,count\n2026-06-30T20:00:00-04:00,1\n2026-11-30T19:00:00-05:00,2\n"
    );

    // trace's timeline says when it starts, in the zone.
    let text = stdout(&eventlog(&["trace", "req_1", f, "--tz", "Europe/Paris"]));
    assert!(
        text.starts_with("req_1: 2 records over 2699750.000 ms, from 2026-12-01T10:30:00.25+01:00"),
        "{text}"
    );
    // trace --json prints the lines as they are.
    let records = json_lines(&eventlog(&[
        "trace",
        "req_1",
        f,
        "--json",
        "--tz",
        "Europe/Paris",
    ]));
    assert_eq!(records[0]["timestamp"], "2026-12-01T09:30:00.250Z");
}

#[test]
fn since_and_until_without_an_offset_are_read_in_the_zone() {
    let (_d, f) = file(RECORDS);
    let f = path(&f);
    let count = |args: &[&str]| -> u64 {
        let mut a = vec!["query", f, "--count"];
        a.extend(args);
        stdout(&eventlog(&a)).trim().parse().unwrap()
    };
    // 10:30 in Paris is 09:30 UTC: both December records; in UTC, only the later one.
    assert_eq!(
        count(&["--since", "2026-12-01T10:30", "--tz", "Europe/Paris"]),
        2
    );
    assert_eq!(count(&["--since", "2026-12-01T10:30"]), 0);
    assert_eq!(count(&["--since", "2026-12-01T10:00"]), 1);
    assert_eq!(count(&["--since", "2026-12-01 10:00:00"]), 1);
    // A date alone is its midnight; --until is exclusive.
    assert_eq!(
        count(&["--since", "2026-12-01", "--until", "2026-12-02"]),
        2
    );
    assert_eq!(
        count(&["--until", "2026-07-01T11:30", "--tz", "Europe/Paris"]),
        0
    );
    assert_eq!(
        count(&["--until", "2026-07-01T11:31", "--tz", "Europe/Paris"]),
        1
    );
    // An offset in the text wins over --tz.
    assert_eq!(
        count(&["--since", "2026-12-01T10:00:00Z", "--tz", "Asia/Tokyo"]),
        1
    );
}

#[test]
fn relative_times_named_days_and_now() {
    // One record now, one three days ago: whatever the time of day the
    // test runs at, `today`, `yesterday` and `-15m` keep the first only.
    let now = Timestamp::now();
    let old = now - jiff::SignedDuration::from_hours(72);
    let (_d, f) = file(&format!(
        "{{\"timestamp\":\"{now}\",\"event_name\":\"fresh\"}}\n{{\"timestamp\":\"{old}\",\"event_name\":\"old\"}}\n"
    ));
    let f = path(&f);
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["query", f];
        a.extend(args);
        let out = eventlog(&a);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        json_lines(&out)
            .iter()
            .map(|r| r["event_name"].as_str().unwrap().to_owned())
            .collect()
    };
    for since in ["today", "yesterday", "-15m", "15m", "2d", "-2d"] {
        for tz in ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "local"] {
            assert_eq!(
                names(&["--since", since, "--tz", tz]),
                ["fresh"],
                "{since} {tz}"
            );
        }
    }
    // `-15m` as the flag's own word, not only as `--since=-15m`.
    for until in ["-15m", "yesterday", "2d"] {
        assert_eq!(names(&["--until", until]), ["old"], "{until}");
    }
    assert_eq!(
        names(&["--since", "4d", "--until", "now"]),
        ["fresh", "old"]
    );
    assert!(names(&["--since", "now", "--until", "now"]).is_empty());
    // --since-last takes a span, with or without `-`, not a day name.
    assert_eq!(names(&["--since-last", "-1h"]), ["fresh"]);
    let out = eventlog(&["query", f, "--since-last", "today"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("eventlog: --since-last \"today\""));
}

#[test]
fn an_unknown_zone_or_time_is_a_typed_error_naming_it() {
    let (_d, f) = file(RECORDS);
    for zone in [
        "Mars/Olympus",
        "../../etc/passwd",
        "Europe/Pariś",
        "+99:00",
        "",
        "\u{202e}UTC",
    ] {
        let out = eventlog(&["stats", path(&f), "--tz", zone]);
        assert_eq!(out.status.code(), Some(2), "{zone}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err.lines().next().unwrap(),
            format!(
                "eventlog: --tz {zone:?}: no such time zone in the system's tz database: expected an IANA name such as Europe/Paris, UTC, local, or an offset such as +02:00"
            ),
            "{zone}"
        );
    }
    for time in [
        "tomorrow",
        "--5m",
        "2026-12-01T09:30[Mars/Olympus]",
        "2026-02-30",
    ] {
        let out = eventlog(&["stats", path(&f), &format!("--since={time}")]);
        assert_eq!(out.status.code(), Some(2), "{time}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with(&format!(
                "eventlog: --since {time:?}: expected an RFC 3339 time"
            )),
            "{err}"
        );
    }
}
