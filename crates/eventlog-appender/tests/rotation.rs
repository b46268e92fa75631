use std::fs;
use std::io::Write;
use std::time::Duration;

use eventlog_appender::{RollingFile, Rotation, TimeZone};
use eventlog_tests::files::{appender_files, read};

use crate::util::{BEFORE_NINE, ManualClock, names};

#[test]
fn size_rotation_splits_only_at_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .max_bytes(100)
        .rotation(Rotation::NEVER)
        .clock(clock.shared())
        .build()
        .unwrap();
    let line = |i: usize| format!("{{\"i\":{i:03},\"pad\":\"aaaaaaaaaa\"}}\n"); // 30 bytes
    // One write of seven lines, then single lines.
    let burst: String = (0..7).map(line).collect();
    file.write_all(burst.as_bytes()).unwrap();
    for i in 7..10 {
        file.write_all(line(i).as_bytes()).unwrap();
    }
    let big = format!("{{\"big\":\"{}\"}}\n", "b".repeat(240));
    file.write_all(big.as_bytes()).unwrap();
    file.write_all(line(10).as_bytes()).unwrap();
    let stats = file.stats().snapshot();
    drop(file);

    let paths = appender_files(dir.path(), "app");
    let contents: Vec<String> = paths.iter().map(|p| read(p)).collect();
    // 3 lines (90 bytes) per file, the oversized line alone, then the last line.
    let expected = vec![
        (0..3).map(line).collect::<String>(),
        (3..6).map(line).collect(),
        (6..9).map(line).collect(),
        line(9),
        big,
        line(10),
    ];
    assert_eq!(contents, expected, "{:?}", names(&paths));
    assert_eq!(stats.rotations, 5);
    assert_eq!(stats.lines_written, 12);
    // Same instant for every file: stamps step 1 ms so names stay unique and ordered.
    assert_eq!(
        names(&paths),
        [
            "app.20261125T085959.500Z.jsonl",
            "app.20261125T085959.501Z.jsonl",
            "app.20261125T085959.502Z.jsonl",
            "app.20261125T085959.503Z.jsonl",
            "app.20261125T085959.504Z.jsonl",
            "app.20261125T085959.505Z.jsonl",
        ]
    );
}

#[test]
fn time_rotation_starts_a_file_per_period_on_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_millis(BEFORE_NINE); // 08:59:59.500Z
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::HOURLY)
        .clock(clock.shared())
        .build()
        .unwrap();
    file.write_all(b"{\"n\":1}\n").unwrap();
    clock.advance(Duration::from_millis(499)); // 08:59:59.999: same hour
    file.write_all(b"{\"n\":2}\n").unwrap();
    clock.advance(Duration::from_millis(1)); // 09:00:00.000: new hour
    file.write_all(b"{\"n\":3}\n").unwrap();
    clock.advance(Duration::from_secs(3 * 3600 + 17)); // 12:00:00.017: skips empty hours
    file.write_all(b"{\"n\":4}\n").unwrap();
    assert_eq!(file.stats().snapshot().rotations, 2);
    #[cfg(unix)]
    {
        let link = fs::read_link(dir.path().join("app.jsonl")).unwrap();
        assert_eq!(link.to_str().unwrap(), "app.20261125T120000.000Z.jsonl");
    }
    drop(file);
    let paths = appender_files(dir.path(), "app");
    assert_eq!(
        names(&paths),
        [
            "app.20261125T085959.500Z.jsonl",
            "app.20261125T090000.000Z.jsonl",
            "app.20261125T120000.000Z.jsonl",
        ]
    );
    let contents: Vec<String> = paths.iter().map(|p| read(p)).collect();
    assert_eq!(
        contents,
        ["{\"n\":1}\n{\"n\":2}\n", "{\"n\":3}\n", "{\"n\":4}\n"]
    );
}

#[test]
fn daily_rotation_follows_the_configured_offset() {
    let dir = tempfile::tempdir().unwrap();
    // 2026-11-25T21:59:00Z is 23:59 at +02:00; midnight there is 22:00Z.
    let clock = ManualClock::at_millis(1_795_643_940_000);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::DAILY)
        .time_zone(TimeZone::fixed(2 * 3600).unwrap())
        .clock(clock.shared())
        .build()
        .unwrap();
    file.write_all(b"{\"day\":1}\n").unwrap();
    clock.advance(Duration::from_secs(60));
    file.write_all(b"{\"day\":2}\n").unwrap();
    drop(file);
    assert_eq!(
        names(&appender_files(dir.path(), "app")),
        [
            "app.20261125T215900.000Z.jsonl",
            "app.20261125T220000.000Z.jsonl"
        ]
    );
}

#[test]
fn size_and_time_rotation_combine() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::MINUTELY)
        .max_bytes(16)
        .clock(clock.shared())
        .build()
        .unwrap();
    file.write_all(b"{\"n\":1}\n{\"n\":2}\n").unwrap(); // 16 bytes: fits
    clock.advance(Duration::from_millis(100));
    file.write_all(b"{\"n\":3}\n").unwrap(); // 08:59:59.600: full, rotates by size
    clock.advance(Duration::from_millis(500)); // 09:00:00.100: rotates by time
    file.write_all(b"{\"n\":4}\n").unwrap();
    drop(file);
    let paths = appender_files(dir.path(), "app");
    let contents: Vec<String> = paths.iter().map(|p| read(p)).collect();
    assert_eq!(
        names(&paths),
        [
            "app.20261125T085959.500Z.jsonl",
            "app.20261125T085959.600Z.jsonl",
            "app.20261125T090000.000Z.jsonl",
        ]
    );
    assert_eq!(
        contents,
        ["{\"n\":1}\n{\"n\":2}\n", "{\"n\":3}\n", "{\"n\":4}\n"]
    );
}

#[test]
#[cfg(unix)]
fn new_files_get_the_configured_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = RollingFile::builder()
        .directory(dir.path())
        .build()
        .unwrap();
    let mode = fs::metadata(file.path().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    let file = RollingFile::builder()
        .directory(dir.path())
        .prefix("open")
        .mode(0o600)
        .build()
        .unwrap();
    let mode = fs::metadata(file.path().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
#[cfg(unix)]
fn symlink_never_replaces_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("app.jsonl"), b"precious\n").unwrap();
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .build()
        .unwrap();
    file.write_all(b"{}\n").unwrap();
    drop(file);
    assert_eq!(
        fs::read_to_string(dir.path().join("app.jsonl")).unwrap(),
        "precious\n"
    );
}

#[test]
fn fsync_mode_writes_and_rotates_normally() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .max_bytes(64)
        .fsync(true)
        .build_non_blocking()
        .unwrap();
    for i in 0..10 {
        writeln!(writer, "{{\"i\":{i},\"pad\":\"0123456789\"}}").unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!((stats.lines_written, stats.write_errors), (10, 0));
    let text: String = appender_files(dir.path(), "app")
        .iter()
        .map(|p| read(p))
        .collect();
    assert_eq!(text.lines().count(), 10);
    assert!(stats.rotations >= 3, "{stats:?}");
}

#[test]
fn a_line_written_in_pieces_is_finished_before_rotating() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::HOURLY)
        .max_bytes(10)
        .clock(clock.shared())
        .build()
        .unwrap();
    // The blocking writer used through a plain `Write` may get a line in pieces.
    file.write_all(b"{\"piece\":").unwrap();
    clock.advance(Duration::from_secs(1)); // 09:00:00.500: the hour turned
    file.write_all(b"\"one and two\"}\n").unwrap(); // and the file is over max_bytes
    file.write_all(b"{\"n\":2}\n").unwrap();
    drop(file);
    let contents: Vec<String> = appender_files(dir.path(), "app")
        .iter()
        .map(|p| read(p))
        .collect();
    assert_eq!(contents, ["{\"piece\":\"one and two\"}\n", "{\"n\":2}\n"]);
}
