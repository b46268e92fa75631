//! A directory of files written by tracing-appender itself (daily, hourly,
//! minutely; prefix, prefix and suffix, suffix only; its latest-file
//! symlink; names in any script), with older, compressed siblings in the
//! same forms: every record read once, each appender's files in time order.

use std::io::Write as _;
use std::path::Path;

use tracing_appender::rolling::{RollingFileAppender, Rotation};

use super::{eventlog, json_lines, path};

/// The date tracing-appender put in `name` (a dot-separated part of
/// digits and dashes, 10, 13 or 16 long), and the name with `date` instead.
fn with_date(name: &str, date: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    let at = parts
        .iter()
        .rposition(|p| {
            [10, 13, 16].contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        })
        .unwrap_or_else(|| panic!("no date in {name}"));
    let mut parts = parts;
    parts[at] = date;
    parts.join(".")
}

fn line(family: &str, n: u32) -> String {
    format!(
        "{{\"timestamp\":\"2026-12-01T00:00:00Z\",\"event_name\":\"e\",\"metadata\":{{\"family\":\"{family}\",\"n\":{n}}}}}\n"
    )
}

fn gzip_to(path: &Path, text: &str) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

#[test]
fn tracing_appenders_files_are_read_in_time_order_beside_eventlogs() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path();
    let appenders: Vec<(&str, RollingFileAppender)> = vec![
        ("daily", tracing_appender::rolling::daily(logs, "app.log")),
        (
            "hourly",
            RollingFileAppender::builder()
                .rotation(Rotation::HOURLY)
                .filename_prefix("svc")
                .filename_suffix("jsonl")
                .build(logs)
                .unwrap(),
        ),
        (
            "minutely",
            RollingFileAppender::builder()
                .rotation(Rotation::MINUTELY)
                .filename_suffix("log")
                .build(logs)
                .unwrap(),
        ),
        (
            "unicode",
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("журнал 日志")
                .latest_symlink("журнал.log")
                .build(logs)
                .unwrap(),
        ),
    ];
    let mut expected = 0;
    for (family, mut appender) in appenders {
        // The newest records, written by the appender itself.
        for n in 10..13 {
            appender.write_all(line(family, n).as_bytes()).unwrap();
            expected += 1;
        }
        appender.flush().unwrap();
    }
    // The names it chose, each given older siblings: one gzip-compressed,
    // one plain, as logrotate or `gzip` would leave them.
    let written: Vec<String> = std::fs::read_dir(logs)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    assert_eq!(written.len(), 4, "{written:?}");
    // Its latest-file symlink, which a directory read must not read first.
    assert!(logs.join("журнал.log").is_symlink());
    for (family, form, older) in [
        ("daily", "app.log.", ["2020-01-01", "2020-01-02"]),
        ("hourly", "svc.", ["2020-01-01-09", "2020-01-01-10"]),
        ("minutely", "20", ["2020-01-01-09-59", "2020-01-01-10-00"]),
        ("unicode", "журнал 日志.", ["2020-01-01", "2020-01-02"]),
    ] {
        let name = written
            .iter()
            .find(|n| n.starts_with(form))
            .unwrap_or_else(|| panic!("{form}: {written:?}"));
        gzip_to(
            &logs.join(format!("{}.gz", with_date(name, older[0]))),
            &line(family, 1),
        );
        std::fs::write(logs.join(with_date(name, older[1])), line(family, 2)).unwrap();
        expected += 2;
    }
    // eventlog's own appender names, beside them.
    std::fs::write(
        logs.join("checkout.20261125T085959.500Z.jsonl"),
        line("eventlog", 1),
    )
    .unwrap();
    std::fs::write(
        logs.join("checkout.20261125T090000.000Z.jsonl"),
        line("eventlog", 2),
    )
    .unwrap();
    expected += 2;

    let out = eventlog(&["query", path(logs), "--threads", "1"]);
    assert!(out.status.success(), "{out:?}");
    let records = json_lines(&out);
    assert_eq!(
        records.len(),
        expected,
        "every record once (the symlink too): {records:?}"
    );
    for family in ["daily", "hourly", "minutely", "unicode", "eventlog"] {
        let order: Vec<u64> = records
            .iter()
            .filter(|r| r["metadata"]["family"] == family)
            .map(|r| r["metadata"]["n"].as_u64().unwrap())
            .collect();
        let want: Vec<u64> = if family == "eventlog" {
            vec![1, 2]
        } else {
            vec![1, 2, 10, 11, 12]
        };
        assert_eq!(order, want, "{family}");
    }
    let s: serde_json::Value =
        serde_json::from_slice(&eventlog(&["stats", path(logs), "--json"]).stdout).unwrap();
    assert_eq!(s["records"], expected);
    assert_eq!(s["gzip_files"], 4);
}
