use std::fs;
use std::io::Write;
use std::time::Duration;

use eventlog_appender::{RollingFile, Rotation};
use eventlog_tests::files::appender_files;

use crate::util::{BEFORE_NINE, ManualClock, names};

/// Foreign files that share the directory and must survive every retention.
fn plant_foreign_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let paths = vec![
        dir.join("notes.txt"),
        dir.join("api.20200101T000000.000Z.jsonl"),
        dir.join("app.20200101T000000.000Z.txt"),
        dir.join("app.backup.jsonl"),
    ];
    for p in &paths {
        fs::write(p, b"keep me\n").unwrap();
    }
    paths
}

fn assert_foreign_intact(paths: &[std::path::PathBuf]) {
    for p in paths {
        assert_eq!(
            fs::read_to_string(p).unwrap(),
            "keep me\n",
            "{}",
            p.display()
        );
    }
}

#[test]
fn keep_retains_the_newest_files() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = plant_foreign_files(dir.path());
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::MINUTELY)
        .keep(2)
        .clock(clock.shared())
        .build()
        .unwrap();
    for minute in 0..6 {
        writeln!(file, "{{\"minute\":{minute}}}").unwrap();
        clock.advance(Duration::from_secs(60));
    }
    let stats = file.stats();
    drop(file);
    // Active (minute 5) plus the two newest rotated (minutes 3 and 4).
    assert_eq!(
        names(&appender_files(dir.path(), "app")),
        [
            "app.20261125T090200.000Z.jsonl",
            "app.20261125T090300.000Z.jsonl",
            "app.20261125T090400.000Z.jsonl",
        ]
    );
    assert_eq!(stats.snapshot().retention_deletions, 3);
    assert_foreign_intact(&foreign);
}

#[test]
fn max_age_deletes_files_whose_last_line_is_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = plant_foreign_files(dir.path());
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::HOURLY)
        .max_age(Duration::from_secs(2 * 3600))
        .clock(clock.shared())
        .build()
        .unwrap();
    // Files opened at 08:59:59.5, 09:00, 10:00, 11:00 and 12:00.
    for _ in 0..5 {
        writeln!(file, "{{}}").unwrap();
        clock.advance(Duration::from_secs(3600));
    }
    // Now 13:59:59.5, and this line opens the 13:00 file. The 08:59 file ended at 09:00 (≈5 h ago): gone; the
    // 09:00 file ended at 10:00 (≈4 h): gone; the 10:00 file ended at
    // 11:00 (≈3 h): gone; the 11:00 file ended at 12:00 (1:59:59.5 ago): kept.
    writeln!(file, "{{}}").unwrap();
    drop(file);
    assert_eq!(
        names(&appender_files(dir.path(), "app")),
        [
            "app.20261125T110000.000Z.jsonl",
            "app.20261125T120000.000Z.jsonl",
            "app.20261125T130000.000Z.jsonl",
        ]
    );
    assert_foreign_intact(&foreign);
}

#[test]
fn max_total_bytes_deletes_oldest_until_within_budget() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = plant_foreign_files(dir.path());
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::NEVER)
        .max_bytes(100)
        .max_total_bytes(350)
        .clock(clock.shared())
        .build()
        .unwrap();
    let line = format!("{{\"pad\":\"{}\"}}\n", "p".repeat(89)); // 100 bytes: one per file
    for _ in 0..8 {
        file.write_all(line.as_bytes()).unwrap();
        clock.advance(Duration::from_millis(10));
    }
    drop(file);
    let remaining = appender_files(dir.path(), "app");
    let total: u64 = remaining
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 350, "{total}");
    assert_eq!(remaining.len(), 3, "{:?}", names(&remaining));
    // The newest three files survive.
    assert_eq!(names(&remaining)[2], "app.20261125T085959.570Z.jsonl");
    assert_foreign_intact(&foreign);
}

#[test]
fn retention_applies_to_files_of_an_earlier_run_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = plant_foreign_files(dir.path());
    for hour in 1..=5 {
        let name = format!("app.20261125T0{hour}0000.000Z.jsonl.gz");
        fs::write(dir.path().join(name), b"old").unwrap();
    }
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let file = RollingFile::builder()
        .directory(dir.path())
        .keep(2)
        .clock(clock.shared())
        .build()
        .unwrap();
    drop(file);
    assert_eq!(
        names(&appender_files(dir.path(), "app")),
        [
            "app.20261125T040000.000Z.jsonl.gz",
            "app.20261125T050000.000Z.jsonl.gz",
            "app.20261125T085959.500Z.jsonl",
        ]
    );
    assert_foreign_intact(&foreign);
}
