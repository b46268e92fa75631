use std::fs;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventlog_appender::{
    Backpressure, FileFaults, NonBlocking, RollingFile, RollingFileError, WriterStatsSnapshot,
};
use eventlog_tests::files::{appender_files, json_lines};

use crate::util::line;

/// Retries that fail fast: the faults below are permanent until the test clears them.
fn builder() -> eventlog_appender::NonBlockingBuilder {
    crate::util::reporting(
        NonBlocking::builder()
            .retries(2)
            .retry_backoff(Duration::from_millis(1))
            .backpressure(Backpressure::BLOCK),
    )
}

#[test]
#[cfg(target_os = "linux")]
fn disk_full_is_counted_not_panicked() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let (mut writer, guard) = builder().build(full).unwrap();
    for seq in 0..100 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    guard.flush().unwrap();
    let stats = writer.stats().snapshot();
    assert_eq!(stats.lines_queued, 100);
    assert_eq!(stats.lines_written, 0);
    assert_eq!(stats.dropped_io, 100, "{stats:?}");
    // At least one batch: the first try and two retries all failed with ENOSPC.
    assert!(stats.write_errors >= 3, "{stats:?}");
    // The self-report could not be written either; it is kept for later, not lost.
    assert_eq!(stats.self_reports, 0);
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.dropped(), 100);
}

#[test]
fn directory_removed_mid_run_is_recreated() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let (mut writer, guard) = RollingFile::builder()
        .directory(&dir)
        .non_blocking(builder())
        .build_non_blocking()
        .unwrap();
    for seq in 0..10 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    guard.flush().unwrap();
    fs::remove_dir_all(&dir).unwrap();
    for seq in 10..20 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.reopens, 1, "{stats:?}");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    let seqs: Vec<u64> = json_lines(&dir, "app")
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (10..20).collect::<Vec<_>>());
}

/// The directory is replaced by a regular file: opening anything in it fails
/// (for root too). Lines are retried, then dropped and counted; once the file is
/// gone, writing recovers in a recreated directory.
fn file_in_place_of_directory_then_recovery() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let (mut writer, guard) = RollingFile::builder()
        .directory(&dir)
        .non_blocking(builder())
        .build_non_blocking()
        .unwrap();
    writer.write_all(line(0, 0).as_bytes()).unwrap();
    guard.flush().unwrap();
    fs::remove_dir_all(&dir).unwrap();
    fs::write(&dir, b"squatter").unwrap();
    for seq in 1..6 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    guard.flush().unwrap();
    let during = writer.stats().snapshot();
    assert_eq!(during.dropped_io, 5, "{during:?}");
    assert!(during.write_errors >= 3, "{during:?}");

    fs::remove_file(&dir).unwrap();
    for seq in 6..9 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(stats.dropped_io, 5, "{stats:?}");
    let lines = json_lines(&dir, "app");
    let seqs: Vec<u64> = lines.iter().filter_map(|v| v["seq"].as_u64()).collect();
    assert_eq!(seqs, [6, 7, 8]);
    // The gap is announced in the recovered file.
    let report = lines
        .iter()
        .find(|v| v["event_name"] == eventlog::DROP_REPORT_EVENT)
        .unwrap();
    assert_eq!(report["metadata"]["dropped"], 5);
    assert_eq!(report["metadata"]["reason"], "io");
}

#[test]
fn file_where_the_directory_should_be_is_counted_then_recovers() {
    file_in_place_of_directory_then_recovery();
}

#[test]
#[cfg(unix)]
fn read_only_directory_delays_rotation_without_losing_lines() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    if !crate::util::permissions_are_enforced(root.path()) {
        // Running as root (or with CAP_DAC_OVERRIDE): clearing write bits denies
        // nothing, so exercise a fault that binds root too.
        println!(
            "permissions not enforced for this user: testing a file in place of the directory instead"
        );
        file_in_place_of_directory_then_recovery();
        return;
    }
    let dir = root.path().join("logs");
    let (mut writer, guard) = RollingFile::builder()
        .directory(&dir)
        .max_bytes(600)
        .non_blocking(builder())
        .build_non_blocking()
        .unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    for seq in 0..10 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
        guard.flush().unwrap();
    }
    let during = writer.stats().snapshot();
    assert!(during.rotation_errors > 0, "{during:?}");
    assert_eq!(during.rotations, 0);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    for seq in 10..20 {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(5)).unwrap();
    assert!(stats.rotations > 0, "{stats:?}");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    let seqs: Vec<u64> = json_lines(&dir, "app")
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..20).collect::<Vec<_>>());
}

#[test]
fn unusable_directories_are_typed_build_errors() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("plain-file");
    fs::write(&file, b"").unwrap();
    let err = RollingFile::builder().directory(&file).build().unwrap_err();
    assert!(
        matches!(&err, RollingFileError::NotADirectory { path } if *path == file),
        "{err}"
    );

    let below_file = file.join("logs");
    let err = RollingFile::builder()
        .directory(&below_file)
        .build_non_blocking()
        .unwrap_err();
    assert!(
        matches!(&err, RollingFileError::CreateDirectory { path, .. } if *path == below_file),
        "{err}"
    );

    #[cfg(target_os = "linux")]
    {
        // Not even root may create directories in /proc.
        let err = RollingFile::builder()
            .directory("/proc/eventlog-appender-test")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, RollingFileError::CreateDirectory { .. }),
            "{err}"
        );
    }

    let err = RollingFile::builder()
        .directory(root.path())
        .prefix("a/b")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid prefix `a/b`: must not contain a path separator"
    );
    let err = RollingFile::builder()
        .directory(root.path())
        .max_bytes(0)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid max_bytes `0`: must be at least 1 byte"
    );
    assert!(appender_files(root.path(), "app").is_empty());
}

/// Lines of thread 0 in `lines`, and the drops the self-reports announce (by reason).
fn seqs_and_reported(lines: &[serde_json::Value]) -> (Vec<u64>, u64) {
    let mut seqs = Vec::new();
    let mut reported = 0;
    for v in lines {
        if v["event_name"] == eventlog::DROP_REPORT_EVENT {
            assert_eq!(v["metadata"]["reason"], "io", "{v}");
            reported += v["metadata"]["dropped"].as_u64().unwrap();
        } else {
            seqs.push(v["seq"].as_u64().unwrap());
        }
    }
    (seqs, reported)
}

/// Issue #13: on a full disk the OS takes part of a batch; the rest of the
/// torn line must never be glued to a later line. A 1 MiB tmpfs, filled but
/// for 40 KiB, then freed.
#[test]
fn full_disk_then_space_freed_never_tears_a_line() {
    crate::util::on_tmpfs(
        module_path!(),
        "full_disk_then_space_freed_never_tears_a_line",
        "1m",
        |mnt| {
            let logs = mnt.join("logs");
            let (mut writer, guard) = RollingFile::builder()
                .directory(&logs)
                .non_blocking(builder())
                .build_non_blocking()
                .unwrap();
            let ballast = crate::util::fill_leaving(&mnt.join("ballast"), 40 << 10);
            // 250 KB of lines against 40 KiB of room.
            for seq in 0..1000 {
                writer.write_all(line(0, seq).as_bytes()).unwrap();
            }
            guard.flush().unwrap();
            let during = writer.stats().snapshot();
            assert!(
                during.lines_written > 0 && during.dropped_io > 0,
                "{during:?}"
            );
            assert_eq!(during.lines_written + during.dropped_io, 1000, "{during:?}");
            // Space comes back: writing resumes by itself.
            fs::remove_file(ballast).unwrap();
            for seq in 1000..1100 {
                writer.write_all(line(0, seq).as_bytes()).unwrap();
            }
            let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
            // Every line on disk is whole JSON (json_lines panics otherwise).
            let lines = json_lines(&logs, "app");
            let (seqs, reported) = seqs_and_reported(&lines);
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
            assert_eq!(&seqs[seqs.len() - 100..], (1000..1100).collect::<Vec<_>>());
            assert_eq!(seqs.len() as u64 + stats.dropped_io, 1100, "{stats:?}");
            assert_eq!(reported, stats.dropped_io, "{stats:?}");
            assert_eq!(
                stats.lines_written,
                seqs.len() as u64 + stats.self_reports,
                "{stats:?}"
            );
        },
    );
}

// ---------------------------------------------------------------------------
// Injected faults: what a real filesystem cannot produce on demand.

/// xorshift64*: a failing schedule replays from its seed.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What each write (and truncation) suffers, in percent, until `heal`.
#[derive(Debug)]
struct Schedule {
    rng: Mutex<Rng>,
    short: u64,
    eio: u64,
    interrupted: u64,
    zero: u64,
    truncate_fails: u64,
    healed: AtomicBool,
    injected: AtomicU64,
    truncations_failed: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Full,
    Short(usize),
    Eio,
    Interrupted,
    Zero,
}

impl Schedule {
    fn new(seed: u64) -> Arc<Schedule> {
        let mut rng = Rng::new(seed);
        // Each seed gets its own mix, from gentle to hostile.
        let short = 5 + rng.below(40);
        let eio = rng.below(30);
        Arc::new(Schedule {
            short,
            eio,
            interrupted: rng.below(10),
            zero: rng.below(5),
            truncate_fails: rng.below(60),
            rng: Mutex::new(rng),
            healed: AtomicBool::new(false),
            injected: AtomicU64::new(0),
            truncations_failed: AtomicU64::new(0),
        })
    }

    fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }

    fn fate(&self, len: usize) -> Fate {
        if self.healed.load(Ordering::SeqCst) {
            return Fate::Full;
        }
        let mut rng = self.rng.lock().unwrap();
        let roll = rng.below(100);
        let fate = if roll < self.eio {
            Fate::Eio
        } else if roll < self.eio + self.interrupted {
            Fate::Interrupted
        } else if roll < self.eio + self.interrupted + self.zero {
            Fate::Zero
        } else if roll < self.eio + self.interrupted + self.zero + self.short && len > 1 {
            Fate::Short(1 + usize::try_from(rng.below(len as u64 - 1)).unwrap())
        } else {
            Fate::Full
        };
        if fate != Fate::Full {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        fate
    }
}

fn eio() -> io::Error {
    io::Error::from_raw_os_error(5)
}

impl FileFaults for Schedule {
    fn write(&self, len: usize) -> io::Result<usize> {
        match self.fate(len) {
            Fate::Full => Ok(len),
            Fate::Short(n) => Ok(n),
            Fate::Eio => Err(eio()),
            Fate::Interrupted => Err(io::ErrorKind::Interrupted.into()),
            Fate::Zero => Ok(0),
        }
    }

    fn truncate(&self) -> io::Result<()> {
        if self.healed.load(Ordering::SeqCst) {
            return Ok(());
        }
        if self.rng.lock().unwrap().below(100) < self.truncate_fails {
            self.injected.fetch_add(1, Ordering::Relaxed);
            self.truncations_failed.fetch_add(1, Ordering::Relaxed);
            return Err(eio());
        }
        Ok(())
    }
}

/// Any `io::Write` (a pipe, a socket) failing by the schedule, into a shared buffer.
struct FaultyWriter {
    out: Arc<Mutex<Vec<u8>>>,
    schedule: Arc<Schedule>,
}

impl Write for FaultyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match self.schedule.fate(buf.len()) {
            Fate::Full => buf.len(),
            Fate::Short(n) => n,
            Fate::Eio => return Err(eio()),
            Fate::Interrupted => return Err(io::ErrorKind::Interrupted.into()),
            Fate::Zero => 0,
        };
        self.out.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Faults injected by the tests of this module, for the closing report.
static INJECTED: AtomicU64 = AtomicU64::new(0);

/// What a reader found: whole lines by `(thread, seq)`, drops the
/// self-reports announce, and torn remnants (unterminated file ends).
#[derive(Debug, Default)]
struct Found {
    lines: Vec<(u64, u64)>,
    reported: u64,
    remnants: Vec<Vec<u8>>,
    whole: Vec<Vec<u8>>,
}

impl Found {
    /// Reads one file's bytes; an unterminated end is a remnant, every other
    /// line must be whole JSON.
    fn read(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                self.remnants.push(rest.to_vec());
                break;
            };
            let line = &rest[..end];
            let v: serde_json::Value = serde_json::from_slice(line).unwrap_or_else(|e| {
                panic!(
                    "torn or glued line {:?}: {e}",
                    String::from_utf8_lossy(line)
                )
            });
            if v["event_name"] == eventlog::DROP_REPORT_EVENT {
                assert_eq!(v["metadata"]["reason"], "io", "{v}");
                self.reported += v["metadata"]["dropped"].as_u64().unwrap();
            } else {
                self.lines
                    .push((v["thread"].as_u64().unwrap(), v["seq"].as_u64().unwrap()));
            }
            self.whole.push(line.to_vec());
            rest = &rest[end + 1..];
        }
    }

    /// Each thread's lines in order, none twice; their count plus the drops
    /// is what was sent; every drop announced.
    fn check(&self, threads: u64, sent: u64, stats: &WriterStatsSnapshot) {
        for t in 0..threads {
            let seqs: Vec<u64> = self
                .lines
                .iter()
                .filter(|l| l.0 == t)
                .map(|l| l.1)
                .collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "thread {t}: {seqs:?}");
        }
        assert_eq!(self.lines.len() as u64 + stats.dropped(), sent, "{stats:?}");
        assert_eq!(stats.dropped(), stats.dropped_io, "{stats:?}");
        assert_eq!(self.reported, stats.dropped_io, "{stats:?}");
        assert_eq!(
            stats.lines_written,
            self.lines.len() as u64 + stats.self_reports,
            "{stats:?}"
        );
    }
}

fn hostile() -> eventlog_appender::NonBlockingBuilder {
    crate::util::reporting(NonBlocking::builder())
        .capacity(8 << 10)
        .flush_interval(Duration::from_millis(1))
        .retries(1)
        .retry_backoff(Duration::ZERO)
        .backpressure(Backpressure::BLOCK)
}

#[test]
fn injected_short_writes_and_eio_through_any_writer_never_tear_a_line() {
    const SEEDS: u64 = 48;
    const LINES: usize = 300;
    let mut injected = 0;
    for seed in 0..SEEDS {
        let schedule = Schedule::new(seed);
        let out = Arc::new(Mutex::new(Vec::new()));
        let (mut writer, guard) = hostile()
            .build(FaultyWriter {
                out: Arc::clone(&out),
                schedule: Arc::clone(&schedule),
            })
            .unwrap();
        for seq in 0..LINES {
            writer.write_all(line(0, seq).as_bytes()).unwrap();
            if seq % 50 == 49 {
                guard.flush().unwrap();
            }
        }
        guard.flush().unwrap();
        // The sink recovers: the rest of a torn line, then the gap's report.
        schedule.heal();
        writer.write_all(line(0, LINES).as_bytes()).unwrap();
        let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
        let mut found = Found::default();
        found.read(&out.lock().unwrap());
        assert!(found.remnants.is_empty(), "seed {seed}: {found:?}");
        found.check(1, LINES as u64 + 1, &stats);
        assert_eq!(found.lines.last(), Some(&(0, LINES as u64)), "seed {seed}");
        injected += schedule.injected.load(Ordering::Relaxed);
    }
    INJECTED.fetch_add(injected, Ordering::Relaxed);
    println!("{SEEDS} schedules, {injected} faults injected");
    assert!(injected > SEEDS * 10, "{injected}");
}

#[test]
fn injected_faults_in_the_rolling_file_with_rotation_under_two_writer_threads() {
    const SEEDS: u64 = 24;
    const LINES: usize = 300;
    let mut injected = 0;
    let mut remnants = 0;
    for seed in 0..SEEDS {
        let schedule = Schedule::new(seed);
        let dir = tempfile::tempdir().unwrap();
        let (writer, guard) = RollingFile::builder()
            .directory(dir.path())
            .max_bytes(4 << 10)
            .compress(seed % 2 == 0)
            .faults(Arc::clone(&schedule) as Arc<dyn FileFaults>)
            .non_blocking(hostile())
            .build_non_blocking()
            .unwrap();
        std::thread::scope(|s| {
            for t in 0..2 {
                let mut writer = writer.clone();
                s.spawn(move || {
                    for seq in 0..LINES {
                        writer.write_all(line(t, seq).as_bytes()).unwrap();
                    }
                });
            }
        });
        guard.flush().unwrap();
        schedule.heal();
        let mut last = writer.clone();
        last.write_all(line(0, LINES).as_bytes()).unwrap();
        let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
        let paths = appender_files(dir.path(), "app");
        let mut found = Found::default();
        for (i, path) in paths.iter().enumerate() {
            let before = found.remnants.len();
            found.read(eventlog_tests::files::read(path).as_bytes());
            // Only a failed cut leaves a remnant, always at the end of a
            // file that was then rotated: never in the newest file.
            if found.remnants.len() > before {
                assert!(
                    i + 1 < paths.len(),
                    "seed {seed}: remnant in the newest file"
                );
            }
        }
        let failed_cuts = schedule.truncations_failed.load(Ordering::Relaxed);
        assert!(found.remnants.len() as u64 <= failed_cuts, "seed {seed}");
        for remnant in &found.remnants {
            // The torn line was retried whole in the next file (or dropped).
            assert!(
                found.whole.iter().any(|w| w.starts_with(remnant)) || stats.dropped_io > 0,
                "seed {seed}: {:?}",
                String::from_utf8_lossy(remnant)
            );
        }
        found.check(2, 2 * LINES as u64 + 1, &stats);
        assert!(stats.rotations > 10, "seed {seed}: {stats:?}");
        injected += schedule.injected.load(Ordering::Relaxed);
        remnants += found.remnants.len();
    }
    INJECTED.fetch_add(injected, Ordering::Relaxed);
    println!("{SEEDS} schedules, {injected} faults injected, {remnants} remnants of failed cuts");
    assert!(injected > SEEDS * 10, "{injected}");
}

// ---------------------------------------------------------------------------
// Real faults on a real filesystem: a tmpfs in a private mount namespace.

#[test]
fn rotation_under_two_writer_threads_on_a_full_disk() {
    crate::util::on_tmpfs(
        module_path!(),
        "rotation_under_two_writer_threads_on_a_full_disk",
        "1m",
        |mnt| {
            let logs = mnt.join("logs");
            let (writer, guard) = RollingFile::builder()
                .directory(&logs)
                .max_bytes(16 << 10)
                // No compression: it would free space behind the writer's back
                // (a retry then finds room), and the disk must stay full.
                .non_blocking(builder().capacity(64 << 10))
                .build_non_blocking()
                .unwrap();
            // Not a multiple of the 16 KiB files: the disk fills inside one.
            let ballast = crate::util::fill_leaving(&mnt.join("ballast"), 40 << 10);
            let burst = |from: usize, to: usize| {
                std::thread::scope(|s| {
                    for t in 0..2 {
                        let mut writer = writer.clone();
                        s.spawn(move || {
                            for seq in from..to {
                                writer.write_all(line(t, seq).as_bytes()).unwrap();
                            }
                        });
                    }
                });
            };
            // 200 KB from two threads against 40 KiB of room.
            burst(0, 400);
            guard.flush().unwrap();
            let during = writer.stats().snapshot();
            assert!(during.dropped_io > 0 && during.rotations > 0, "{during:?}");
            fs::remove_file(ballast).unwrap();
            burst(400, 500);
            let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
            let mut found = Found::default();
            for path in appender_files(&logs, "app") {
                found.read(eventlog_tests::files::read(&path).as_bytes());
            }
            assert!(found.remnants.is_empty(), "{:?}", found.remnants);
            found.check(2, 1000, &stats);
            for t in 0..2 {
                let after: Vec<u64> = found
                    .lines
                    .iter()
                    .filter(|l| l.0 == t && l.1 >= 400)
                    .map(|l| l.1)
                    .collect();
                assert_eq!(after, (400..500).collect::<Vec<_>>(), "thread {t}");
            }
        },
    );
}

fn run(cmd: &str, args: &[&std::ffi::OsStr]) {
    let status = std::process::Command::new(cmd).args(args).status().unwrap();
    assert!(status.success(), "{cmd} {args:?}: {status}");
}

/// A read-only mount binds root too (unlike clearing write bits): a bind
/// mount of the log directory over itself, remounted read-only, while the
/// active file stays open on the writable mount below.
#[test]
fn read_only_mount_delays_rotation_without_losing_lines() {
    crate::util::on_tmpfs(
        module_path!(),
        "read_only_mount_delays_rotation_without_losing_lines",
        "1m",
        |mnt| {
            let logs = mnt.join("logs");
            let (mut writer, guard) = RollingFile::builder()
                .directory(&logs)
                .max_bytes(600)
                .non_blocking(builder())
                .build_non_blocking()
                .unwrap();
            writer.write_all(line(0, 0).as_bytes()).unwrap();
            guard.flush().unwrap();
            let dir = logs.as_os_str();
            run("mount", &["--bind".as_ref(), dir, dir]);
            run("mount", &["-o".as_ref(), "remount,bind,ro".as_ref(), dir]);
            assert!(
                fs::write(logs.join("probe"), b"x").is_err(),
                "not read-only"
            );
            for seq in 1..10 {
                writer.write_all(line(0, seq).as_bytes()).unwrap();
                guard.flush().unwrap();
            }
            let during = writer.stats().snapshot();
            assert!(during.rotation_errors > 0, "{during:?}");
            assert_eq!((during.rotations, during.dropped()), (0, 0), "{during:?}");
            run("umount", &[dir]);
            for seq in 10..20 {
                writer.write_all(line(0, seq).as_bytes()).unwrap();
            }
            let stats = guard.shutdown(Duration::from_secs(10)).unwrap();
            assert!(stats.rotations > 0, "{stats:?}");
            assert_eq!(stats.dropped(), 0, "{stats:?}");
            let (seqs, _) = seqs_and_reported(&json_lines(&logs, "app"));
            assert_eq!(seqs, (0..20).collect::<Vec<_>>());
        },
    );
}

// ---------------------------------------------------------------------------
// SIGKILL: the process dies with lines queued.

/// Set in the child the SIGKILL test spawns: the directory to write to.
const KILL_ENV: &str = "EVENTLOG_APPENDER_TEST_KILL_DIR";
/// The child's queue: what a SIGKILL may lose at most.
const KILL_CAPACITY: usize = 16 << 10;

/// The child: writes numbered lines until killed, telling the parent on
/// stdout after each one is queued.
fn write_until_killed(dir: &std::path::Path) -> ! {
    let (mut writer, _guard) = RollingFile::builder()
        .directory(dir)
        .max_bytes(64 << 10)
        .non_blocking(
            NonBlocking::builder()
                .capacity(KILL_CAPACITY)
                .flush_interval(Duration::from_millis(1))
                .backpressure(Backpressure::BLOCK),
        )
        .build_non_blocking()
        .unwrap();
    let mut stdout = io::stdout().lock();
    for seq in 0.. {
        writer.write_all(line(0, seq).as_bytes()).unwrap();
        // Fails once the parent is gone, ending the child.
        writeln!(stdout, "queued {seq}").unwrap();
        stdout.flush().unwrap();
    }
    unreachable!()
}

/// The parent kills the child at a different point each round, then reads
/// what is on disk: a contiguous run of whole lines from the first, at most
/// one torn line at the very end of the newest file (a write the kill cut
/// short; a reader skips an unterminated last line), and the loss within
/// what the queue could hold.
#[test]
fn sigkill_loses_at_most_what_the_queue_holds() {
    use std::io::BufRead;
    if let Some(dir) = std::env::var_os(KILL_ENV) {
        write_until_killed(std::path::Path::new(&dir));
    }
    let name = "faults::sigkill_loses_at_most_what_the_queue_holds";
    let max_lost = (KILL_CAPACITY / line(0, 0).len()) as u64;
    for round in 0..5u64 {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(KILL_ENV, dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = io::BufReader::new(child.stdout.take().unwrap()).lines();
        let target = 2_000 + round * 1_500;
        let mut reported = 0u64;
        let count = |reported: &mut u64, l: &str| {
            if let Some(n) = l.strip_prefix("queued ") {
                *reported = n.parse::<u64>().unwrap() + 1;
            }
        };
        for l in lines.by_ref() {
            count(&mut reported, &l.unwrap());
            if reported >= target {
                break;
            }
        }
        assert!(
            reported >= target,
            "the child stopped after {reported} lines"
        );
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success(), "{status}");
        // Reports written before the kill: a lower bound on what was queued.
        for l in lines {
            count(&mut reported, &l.unwrap());
        }
        let paths = appender_files(dir.path(), "app");
        let mut found = Found::default();
        for (i, path) in paths.iter().enumerate() {
            let before = found.remnants.len();
            found.read(&fs::read(path).unwrap());
            if found.remnants.len() > before {
                assert_eq!(
                    i + 1,
                    paths.len(),
                    "round {round}: a torn line inside the log"
                );
            }
        }
        let on_disk = found.lines.len() as u64;
        let seqs: Vec<u64> = found.lines.iter().map(|l| l.1).collect();
        assert_eq!(seqs, (0..on_disk).collect::<Vec<_>>(), "round {round}");
        assert!(on_disk > 0, "round {round}: nothing written");
        let lost = reported.saturating_sub(on_disk);
        assert!(
            lost <= max_lost,
            "round {round}: {lost} lines lost, the queue holds {max_lost}"
        );
        println!(
            "round {round}: {reported} queued, {on_disk} on disk, {lost} lost (at most {max_lost}), {} torn",
            found.remnants.len()
        );
    }
}
