//! Hostile configuration: every setter of both builders at `0`, `MAX` and
//! absurd values either clamps (as its doc says) or fails the build with a
//! typed error; it never panics the caller or kills the worker later.

use std::io::Write;
use std::time::Duration;

use eventlog_appender::{NonBlocking, NonBlockingError, RollingFile, RollingFileError};
use eventlog_tests::files::json_lines;

fn invalid_option(err: &NonBlockingError) -> &'static str {
    match err {
        NonBlockingError::InvalidOption { option, .. } => option,
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}

#[test]
fn capacity_usize_max_is_a_typed_error_not_a_panic() {
    let err = NonBlocking::builder()
        .capacity(usize::MAX)
        .build(std::io::sink())
        .unwrap_err();
    assert_eq!(invalid_option(&err), "capacity");
    assert_eq!(
        err.to_string(),
        format!("invalid capacity `{}`: must be at most 1 GiB", usize::MAX)
    );
}

#[test]
fn capacity_32_gib_is_a_typed_error_not_an_allocation_abort() {
    let err = NonBlocking::builder()
        .capacity(32 << 30)
        .build(std::io::sink())
        .unwrap_err();
    assert_eq!(invalid_option(&err), "capacity");
    // Through the rolling file too, before any file is created.
    let dir = tempfile::tempdir().unwrap();
    let err = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().capacity(32 << 30))
        .build_non_blocking()
        .unwrap_err();
    assert!(
        matches!(
            err,
            RollingFileError::NonBlocking(NonBlockingError::InvalidOption {
                option: "capacity",
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn thread_name_with_nul_is_a_typed_error_not_a_panic() {
    let err = NonBlocking::builder()
        .thread_name("a\0b")
        .build(std::io::sink())
        .unwrap_err();
    assert_eq!(invalid_option(&err), "thread_name");
    assert_eq!(
        err.to_string(),
        "invalid thread_name `a\\0b`: must not contain a NUL byte"
    );
}

#[test]
fn flush_timeout_duration_max_neither_panics_in_flush_nor_aborts_on_guard_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().flush_timeout(Duration::MAX))
        .build_non_blocking()
        .unwrap();
    writer.write_all(b"{\"n\":1}\n").unwrap();
    guard.flush().unwrap();
    writer.flush().unwrap();
    writer.write_all(b"{\"n\":2}\n").unwrap();
    drop(guard); // waits without a limit, and the disk answers
    let ns: Vec<_> = json_lines(dir.path(), "app")
        .iter()
        .map(|v| v["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, [1, 2]);
    // `shutdown` with an unrepresentable timeout means "no limit" too.
    let (writer, guard) = NonBlocking::builder().build(Vec::new()).unwrap();
    writer.send(b"x\n");
    assert_eq!(guard.shutdown(Duration::MAX).unwrap().lines_written, 1);
}

#[test]
fn flush_interval_duration_max_keeps_the_worker_alive() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .non_blocking(NonBlocking::builder().flush_interval(Duration::MAX))
        .build_non_blocking()
        .unwrap();
    for n in 0..3 {
        writer
            .write_all(format!("{{\"n\":{n}}}\n").as_bytes())
            .unwrap();
        guard.flush().unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!((stats.lines_written, stats.dropped()), (3, 0), "{stats:?}");
    assert_eq!(json_lines(dir.path(), "app").len(), 3);
}

#[test]
fn durations_and_retries_are_clamped_to_their_documented_bounds() {
    let b = format!(
        "{:?}",
        NonBlocking::builder()
            .flush_interval(Duration::MAX)
            .retry_backoff(Duration::MAX)
            .retries(u32::MAX)
    );
    assert!(b.contains("flush_interval: 3600s"), "{b}");
    assert!(b.contains("retry_backoff: 10s"), "{b}");
    assert!(b.contains("retries: 100"), "{b}");
    let b = format!(
        "{:?}",
        NonBlocking::builder().flush_interval(Duration::ZERO)
    );
    assert!(b.contains("flush_interval: 1ms"), "{b}");
}

#[test]
fn empty_directory_is_a_typed_error_not_the_working_directory() {
    let err = RollingFile::builder().directory("").build().unwrap_err();
    assert!(
        matches!(
            &err,
            RollingFileError::InvalidOption {
                option: "directory",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn prefix_too_long_for_the_compressed_name_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    // `<prefix>.<stamp>.jsonl` fits in 255 bytes, `….jsonl.gz.tmp` would not:
    // every compression would fail.
    let err = RollingFile::builder()
        .directory(dir.path())
        .prefix("p".repeat(225))
        .compress(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, RollingFileError::InvalidOption { option: "prefix", value, .. } if value.len() == 225),
        "{err:?}"
    );
    // The longest accepted pair still rotates and compresses.
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .prefix("p".repeat(221))
        .suffix("jsonl")
        .compress(true)
        .max_bytes(10)
        .build()
        .unwrap();
    file.write_all(b"{\"n\":1}\n{\"n\":2}\n").unwrap();
    let stats = file.stats();
    drop(file);
    let s = stats.snapshot();
    assert_eq!((s.compressions, s.compression_errors), (1, 0), "{s:?}");
}

#[test]
fn suffix_naming_compressed_or_temporary_files_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    for suffix in ["gz", "jsonl.gz", "tmp", "log.tmp"] {
        let err = RollingFile::builder()
            .directory(dir.path())
            .suffix(suffix)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, RollingFileError::InvalidOption { option: "suffix", value, .. } if value == suffix),
            "{suffix}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Every setter at 0, MAX and anything: build errs with a typed error that
// names a bad setting, or works and a line written then flushed is on disk.
// `PROPTEST_CASES=N` raises the case count (256 by default).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use eventlog_appender::{Backpressure, Rotation, TimeZone};
use proptest::prelude::*;

const GIB: usize = 1 << 30;

fn sizes() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(usize::MAX),
        Just(GIB),
        Just(GIB + 1),
        1..8192usize,
        any::<usize>(),
    ]
}

/// Sizes, mostly ones a queue accepts, so that most builds succeed and the
/// line's way to disk is checked too.
fn capacities() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 1..(1usize << 20), 1 => sizes()]
}

/// Names, mostly plausible ones (any letters of Unicode), sometimes hostile.
fn mostly_names(plain: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![3 => Just(plain.to_owned()), 3 => "\\PC{1,16}", 1 => names()]
}

fn durations() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        (0u64..3_000).prop_map(Duration::from_millis),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

fn counts() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(u64::MAX), 1..10_000u64, any::<u64>()]
}

/// Names from all of Unicode, with the ones that must be refused.
fn names() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("a/b".to_owned()),
        Just("a\\b".to_owned()),
        Just("a\0b".to_owned()),
        Just("gz".to_owned()),
        Just("log.tmp".to_owned()),
        Just("p".repeat(226)),
        Just("x".repeat(100_000)),
        "\\PC{1,24}",
        any::<String>(),
    ]
}

#[derive(Debug, Clone)]
struct QueueSettings {
    capacity: usize,
    batch_bytes: usize,
    flush_interval: Duration,
    flush_timeout: Duration,
    retries: u32,
    retry_backoff: Duration,
    block: bool,
    self_report: bool,
    thread_name: String,
}

fn queue_settings() -> impl Strategy<Value = QueueSettings> {
    (
        capacities(),
        capacities(),
        durations(),
        durations(),
        prop_oneof![Just(0), Just(u32::MAX), any::<u32>()],
        durations(),
        any::<bool>(),
        any::<bool>(),
        mostly_names("eventlog-appender"),
    )
        .prop_map(
            |(
                capacity,
                batch_bytes,
                flush_interval,
                flush_timeout,
                retries,
                retry_backoff,
                block,
                self_report,
                thread_name,
            )| QueueSettings {
                capacity,
                batch_bytes,
                flush_interval,
                flush_timeout,
                retries,
                retry_backoff,
                block,
                self_report,
                thread_name,
            },
        )
}

impl QueueSettings {
    fn builder(&self) -> eventlog_appender::NonBlockingBuilder {
        let builder = NonBlocking::builder();
        let builder = if self.self_report {
            let reporter = eventlog::layer().drop_reporter("file");
            builder.self_report(move |r, out| {
                reporter.write(r.reason.as_str(), r.count, r.total, out);
            })
        } else {
            builder
        };
        builder
            .capacity(self.capacity)
            .batch_bytes(self.batch_bytes)
            .flush_interval(self.flush_interval)
            .flush_timeout(self.flush_timeout)
            .retries(self.retries)
            .retry_backoff(self.retry_backoff)
            .backpressure(if self.block {
                Backpressure::BLOCK
            } else {
                Backpressure::DROP_NEWEST
            })
            .thread_name(self.thread_name.clone())
    }

    /// The settings a build must refuse.
    fn invalid(&self) -> Vec<&'static str> {
        let mut bad = Vec::new();
        if self.capacity == 0 || self.capacity > GIB {
            bad.push("capacity");
        }
        if self.batch_bytes == 0 {
            bad.push("batch_bytes");
        }
        if self.thread_name.contains('\0') {
            bad.push("thread_name");
        }
        bad
    }

    /// Checks a build's outcome against the settings; `true` if it built.
    fn check_build<T>(&self, built: &Result<T, NonBlockingError>) -> bool {
        let bad = self.invalid();
        match built {
            Ok(_) => {
                assert!(bad.is_empty(), "built despite {bad:?}");
                true
            }
            Err(NonBlockingError::InvalidOption { option, .. }) => {
                assert!(bad.contains(option), "refused {option}, bad: {bad:?}");
                false
            }
            // Only a queue of hundreds of MiB may be refused memory.
            Err(NonBlockingError::OutOfMemory { bytes, .. }) if *bytes >= 256 << 20 => false,
            Err(e) => panic!("unexpected {e:?} for {self:?}"),
        }
    }
}

/// A sink the test reads back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const LINE: &[u8] = b"{\"event_name\":\"probe\",\"n\":1}\n";

/// After a successful build: the line is written and flushed. `flush` may
/// time out only with a short flush timeout; shutdown then writes it.
fn write_flush_and_check(
    settings: &QueueSettings,
    mut writer: NonBlocking,
    guard: eventlog_appender::Guard,
    read: impl FnOnce() -> Vec<u8>,
) {
    writer.write_all(LINE).unwrap();
    match guard.flush() {
        Ok(()) => {}
        Err(eventlog_appender::GuardError::Timeout { .. })
            if settings.flush_timeout < Duration::from_secs(10) => {}
        Err(e) => panic!("flush: {e:?} for {settings:?}"),
    }
    let stats = guard.shutdown(Duration::from_secs(60)).unwrap();
    let text = read();
    let lines: Vec<serde_json::Value> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let probes = lines.iter().filter(|v| v["event_name"] == "probe").count();
    if LINE.len() <= settings.capacity {
        assert_eq!(probes, 1, "{settings:?}: {lines:?}");
        assert_eq!((stats.lines_written, stats.dropped()), (1, 0), "{stats:?}");
    } else {
        assert_eq!(probes, 0);
        assert_eq!(stats.dropped_oversized, 1, "{stats:?}");
        let reports = usize::from(settings.self_report);
        assert_eq!(lines.len(), reports, "{lines:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn every_non_blocking_setter_builds_or_fails_typed(settings in queue_settings()) {
        let out = Shared::default();
        let built = settings.builder().build(out.clone());
        if settings.check_build(&built) {
            let (writer, guard) = built.unwrap();
            write_flush_and_check(&settings, writer, guard, || out.0.lock().unwrap().clone());
        }
    }
}

#[derive(Debug, Clone)]
struct FileSettings {
    directory: Dir,
    prefix: String,
    suffix: String,
    rotation: u8,
    offset: i32,
    max_bytes: Option<u64>,
    compress: bool,
    keep: Option<usize>,
    max_age: Option<Duration>,
    max_total_bytes: Option<u64>,
    mode: u32,
    symlink: bool,
    fsync: bool,
    queue: QueueSettings,
}

/// A directory under the case's own temporary directory, or a bad one.
#[derive(Debug, Clone)]
enum Dir {
    Empty,
    Nul,
    /// A component longer than any file system allows.
    TooLong,
    /// An existing regular file.
    File,
    /// `<tmp>/d/<name>`: any name without `/` (`..` just means `<tmp>`).
    Named(String),
}

fn file_settings() -> impl Strategy<Value = FileSettings> {
    let dir = prop_oneof![
        1 => Just(Dir::Empty),
        1 => Just(Dir::Nul),
        1 => Just(Dir::TooLong),
        1 => Just(Dir::File),
        24 => "[^/\u{0}]{1,40}".prop_map(Dir::Named),
    ];
    (
        (
            dir,
            mostly_names("app"),
            mostly_names("jsonl"),
            0u8..4,
            prop_oneof![Just(0), Just(i32::MAX), Just(i32::MIN), any::<i32>()],
            proptest::option::of(prop_oneof![6 => 1..(1u64 << 20), 1 => counts()]),
            any::<bool>(),
        ),
        (
            proptest::option::of(sizes()),
            proptest::option::of(durations()),
            proptest::option::of(counts()),
            prop_oneof![1 => Just(0), 1 => Just(0o640), 6 => 0..=0o7777u32, 1 => any::<u32>()],
            any::<bool>(),
            any::<bool>(),
            queue_settings(),
        ),
    )
        .prop_map(
            |(
                (directory, prefix, suffix, rotation, offset, max_bytes, compress),
                (keep, max_age, max_total_bytes, mode, symlink, fsync, queue),
            )| FileSettings {
                directory,
                prefix,
                suffix,
                rotation,
                offset,
                max_bytes,
                compress,
                keep,
                max_age,
                max_total_bytes,
                mode,
                symlink,
                fsync,
                queue,
            },
        )
}

fn bad_name(name: &str) -> bool {
    name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0'])
}

impl FileSettings {
    /// The `RollingFileError` variants (by name) a build may return.
    fn expected_errors(&self) -> Vec<&'static str> {
        let mut bad = Vec::new();
        if bad_name(&self.prefix) {
            bad.push("prefix");
        }
        let taken = ["gz", "tmp"]
            .iter()
            .any(|t| self.suffix == *t || self.suffix.ends_with(&format!(".{t}")));
        if bad_name(&self.suffix) || self.suffix.starts_with('.') || taken {
            bad.push("suffix");
        }
        if self.prefix.len() + self.suffix.len() > 226 {
            bad.extend(["prefix", "suffix"]);
        }
        if self.max_bytes == Some(0) {
            bad.push("max_bytes");
        }
        if self.mode > 0o7777 {
            bad.push("mode");
        }
        match self.directory {
            Dir::Empty => bad.push("directory"),
            Dir::Nul | Dir::TooLong => bad.push("CreateDirectory"),
            Dir::File => bad.push("NotADirectory"),
            Dir::Named(_) => {}
        }
        bad.extend(self.queue.invalid());
        bad
    }

    fn path(&self, case: &std::path::Path) -> std::path::PathBuf {
        match &self.directory {
            Dir::Empty => std::path::PathBuf::new(),
            Dir::Nul => case.join("a\0b"),
            Dir::TooLong => case.join("d".repeat(300)),
            Dir::File => {
                let file = case.join("file");
                std::fs::write(&file, b"").unwrap();
                file
            }
            Dir::Named(name) => case.join("d").join(name),
        }
    }

    fn builder(&self, directory: &std::path::Path) -> eventlog_appender::RollingFileBuilder {
        let rotation = [
            Rotation::NEVER,
            Rotation::MINUTELY,
            Rotation::HOURLY,
            Rotation::DAILY,
        ][usize::from(self.rotation)];
        let mut b = RollingFile::builder()
            .directory(directory)
            .prefix(self.prefix.clone())
            .suffix(self.suffix.clone())
            .rotation(rotation)
            .time_zone(TimeZone::fixed(self.offset).unwrap_or(TimeZone::UTC))
            .compress(self.compress)
            .mode(self.mode)
            .symlink(self.symlink)
            .fsync(self.fsync)
            .non_blocking(self.queue.builder());
        if let Some(v) = self.max_bytes {
            b = b.max_bytes(v);
        }
        if let Some(v) = self.keep {
            b = b.keep(v);
        }
        if let Some(v) = self.max_age {
            b = b.max_age(v);
        }
        if let Some(v) = self.max_total_bytes {
            b = b.max_total_bytes(v);
        }
        b
    }
}

/// Every line of every regular file in `dir` (gunzipped), owner-readable first.
fn read_dir_lines(dir: &std::path::Path) -> Vec<u8> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if !meta.is_file() {
            continue;
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        out.extend_from_slice(eventlog_tests::files::read(&path).as_bytes());
    }
    out
}

static CASE: AtomicUsize = AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn every_rolling_file_setter_builds_or_fails_typed(settings in file_settings()) {
        let root = tempfile::tempdir().unwrap();
        let case = root.path().join(format!("case{}", CASE.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir(&case).unwrap();
        let dir = settings.path(&case);
        let expected = settings.expected_errors();
        match settings.builder(&dir).build_non_blocking() {
            Ok((writer, guard)) => {
                assert!(expected.is_empty(), "built despite {expected:?}");
                let dir = dir.clone();
                write_flush_and_check(&settings.queue, writer, guard, || read_dir_lines(&dir));
            }
            Err(RollingFileError::InvalidOption { option, .. }) => {
                assert!(expected.contains(&option), "refused {option}, expected {expected:?}");
            }
            Err(RollingFileError::CreateDirectory { .. }) => {
                assert!(expected.contains(&"CreateDirectory"), "{expected:?}");
            }
            Err(RollingFileError::NotADirectory { .. }) => {
                assert!(expected.contains(&"NotADirectory"), "{expected:?}");
            }
            Err(RollingFileError::NonBlocking(e)) => {
                assert!(!settings.queue.check_build::<()>(&Err(e)));
            }
            Err(e) => panic!("unexpected {e:?} for {settings:?}"),
        }
    }
}

#[test]
fn directory_ending_in_a_dot_is_created_with_its_parents() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("new").join(".");
    let file = RollingFile::builder().directory(&dir).build().unwrap();
    assert!(root.path().join("new").is_dir());
    assert_eq!(file.directory(), root.path().join("new"));
}
