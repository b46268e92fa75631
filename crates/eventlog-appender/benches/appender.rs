//! eventlog-appender against `tracing_appender::non_blocking` +
//! `tracing_appender::rolling::never`, in one run, on the same 250-byte lines.
//!
//! - criterion: caller-side cost per line (both writers in blocking mode, to a
//!   file, the queue drained between chunks of 50,000 lines outside the timing);
//! - a timed loop: caller-side latency percentiles (p50 / p99 / p99.9), same chunks;
//! - sustained throughput until every line is on disk (lines/s);
//! - lossy mode: lines dropped when 2 threads emit 1,000,000 lines each with the
//!   same memory budget (tracing-appender's default 128,000 lines ≈ 32 MB),
//!   with where the time went: callers' and worker's CPU during the burst (Linux
//!   `schedstat`), lines drained during and after it, lines per `write` call;
//! - the same burst emitted through `tracing_subscriber::fmt().json()`;
//! - the ceiling: one thread writing through a `BufWriter` to a file;
//! - rotation's compression, off the hot path: one gzip stream per file (as
//!   before blocks) against blocked gzip + index at 1, 2 and 4 MiB blocks,
//!   on envelope-like lines: MB/s of input and compressed size
//!   (`EVENTLOG_BENCH=compression` runs this table alone).
//!
//! Run with `cargo bench -p eventlog-appender`; takes about a minute.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    missing_docs
)]

use std::cell::Cell;
use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use eventlog_appender::{Backpressure, Guard, NonBlocking, RollingFile, Rotation};
use tracing_appender::non_blocking::WorkerGuard;

const LINE_LEN: usize = 250;
/// tracing-appender's default queue: 128,000 lines.
const THEIR_LINES: usize = 128_000;
/// The same budget in bytes for ours: 128,000 × 250 B = 32 MB.
const BUDGET_BYTES: usize = THEIR_LINES * LINE_LEN;

/// Line counts: the real ones under `cargo bench`, small ones when
/// `cargo test --benches` runs this once as a smoke test (no `--bench` flag).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    sustained_lines: usize,
    lossy_lines_per_thread: usize,
    latency_samples: usize,
    /// Lines written between drains: well under both queues (128,000 lines), so
    /// the caller-side numbers measure the enqueue path, not backpressure (the
    /// sustained table measures that).
    chunk: u64,
}

fn sizes() -> Sizes {
    static SIZES: OnceLock<Sizes> = OnceLock::new();
    *SIZES.get_or_init(|| {
        if std::env::args().any(|a| a == "--bench") {
            Sizes {
                sustained_lines: 2_000_000,
                lossy_lines_per_thread: 1_000_000,
                latency_samples: 500_000,
                chunk: 50_000,
            }
        } else {
            Sizes {
                sustained_lines: 20_000,
                lossy_lines_per_thread: 20_000,
                latency_samples: 20_000,
                chunk: 5_000,
            }
        }
    })
}

fn line() -> Vec<u8> {
    let mut l = String::from(
        "{\"timestamp\":\"2026-11-25T08:50:07.123456Z\",\"level\":\"INFO\",\"event_name\":\"order_placed\",\
         \"event_type\":\"business\",\"service\":\"checkout\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\
         \"metadata\":{\"order_id\":\"ord_42\",\"amount\":72.49,\"currency\":\"USD\",\"items\":2,\"pad\":\""
    )
    .into_bytes();
    l.resize(LINE_LEN - 4, b'x');
    l.extend_from_slice(b"\"}}\n");
    assert_eq!(l.len(), LINE_LEN);
    l
}

fn ours(dir: &Path, backpressure: Backpressure) -> (NonBlocking, Guard) {
    RollingFile::builder()
        .directory(dir)
        .prefix("ours")
        .rotation(Rotation::NEVER)
        .symlink(false)
        .non_blocking(
            NonBlocking::builder()
                .capacity(BUDGET_BYTES)
                .backpressure(backpressure),
        )
        .build_non_blocking()
        .unwrap()
}

fn theirs(dir: &Path, lossy: bool) -> (tracing_appender::non_blocking::NonBlocking, WorkerGuard) {
    let file = tracing_appender::rolling::never(dir, "theirs.log");
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(lossy)
        .buffered_lines_limit(THEIR_LINES)
        .finish(file)
}

/// Bytes in the files whose name starts with `prefix`.
fn bytes_on_disk(dir: &Path, prefix: &str) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

/// Waits until `expected` bytes are in the files: "until everything is flushed".
/// tracing-appender's guard gives up after 1 s, so its drop alone does not prove it.
fn wait_for_bytes(dir: &Path, prefix: &str, expected: u64) {
    let start = Instant::now();
    while bytes_on_disk(dir, prefix) < expected {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{prefix}: lines never arrived"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

fn fresh_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `iters` lines, timing only the writes: every `chunk` lines the clock
/// stops while `drain` waits for the queue to empty.
fn timed_chunks(iters: u64, mut write: impl FnMut(), mut drain: impl FnMut()) -> Duration {
    let Sizes { chunk, .. } = sizes();
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(chunk);
        let start = Instant::now();
        for _ in 0..n {
            write();
        }
        total += start.elapsed();
        drain();
        left -= n;
    }
    total
}

fn criterion_caller_cost(c: &mut Criterion, root: &Path) {
    let line = line();
    let mut group = c.benchmark_group("caller_cost_per_line");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));

    let dir = fresh_dir(root, "criterion-ours");
    let (mut writer, guard) = ours(&dir, Backpressure::BLOCK);
    group.bench_function("eventlog_appender", |b| {
        b.iter_custom(|iters| {
            timed_chunks(
                iters,
                || writer.write_all(black_box(&line)).unwrap(),
                || guard.flush().unwrap(),
            )
        });
    });
    drop(guard);
    let _ = fs::remove_dir_all(&dir);

    let dir = fresh_dir(root, "criterion-theirs");
    let (mut writer, guard) = theirs(&dir, false);
    let sent = Cell::new(0u64);
    group.bench_function("tracing_appender", |b| {
        b.iter_custom(|iters| {
            timed_chunks(
                iters,
                || {
                    writer.write_all(black_box(&line)).unwrap();
                    sent.set(sent.get() + 1);
                },
                || wait_for_bytes(&dir, "theirs", sent.get() * LINE_LEN as u64),
            )
        });
    });
    drop(guard);
    let _ = fs::remove_dir_all(&dir);
    group.finish();
}

#[derive(Debug, Clone, Copy)]
struct Percentiles {
    p50: u64,
    p99: u64,
    p999: u64,
}

fn latency(mut write: impl FnMut(&[u8]), mut drain: impl FnMut(), line: &[u8]) -> Percentiles {
    let Sizes {
        latency_samples,
        chunk,
        ..
    } = sizes();
    let mut samples = Vec::with_capacity(latency_samples);
    // Warm up: grow the queue's buffers and the page cache's file once.
    for _ in 0..chunk {
        write(line);
    }
    drain();
    while samples.len() < latency_samples {
        for _ in 0..chunk {
            let start = Instant::now();
            write(black_box(line));
            samples.push(start.elapsed().as_nanos() as u64);
        }
        drain();
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Percentiles {
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
    }
}

fn table_latency(root: &Path) -> (Percentiles, Percentiles) {
    let Sizes {
        latency_samples,
        chunk,
        ..
    } = sizes();
    let line = line();
    let dir = fresh_dir(root, "latency");
    let (mut writer, guard) = ours(&dir, Backpressure::BLOCK);
    let o = latency(
        |l| writer.write_all(l).unwrap(),
        || guard.flush().unwrap(),
        &line,
    );
    drop(guard);
    let (mut writer, guard) = theirs(&dir, false);
    let sent = Cell::new(0u64);
    let t = latency(
        |l| {
            writer.write_all(l).unwrap();
            sent.set(sent.get() + 1);
        },
        || wait_for_bytes(&dir, "theirs", sent.get() * LINE_LEN as u64),
        &line,
    );
    drop(guard);
    let _ = fs::remove_dir_all(&dir);
    println!(
        "\ncaller-side latency per line, {latency_samples} lines in chunks of {chunk} \
         (queue drained between chunks, untimed), ns:"
    );
    println!("                      p50      p99    p99.9");
    println!(
        "  eventlog-appender {:>6} {:>8} {:>8}",
        o.p50, o.p99, o.p999
    );
    println!(
        "  tracing-appender  {:>6} {:>8} {:>8}",
        t.p50, t.p99, t.p999
    );
    (o, t)
}

/// Lines per second for `sustained_lines` written by one thread, until on disk.
fn table_sustained(root: &Path) -> (f64, f64, f64) {
    let Sizes {
        sustained_lines, ..
    } = sizes();
    let line = line();
    let expected = (sustained_lines * LINE_LEN) as u64;

    // The ceiling first, before the others' dirty pages slow the disk down.
    let dir = fresh_dir(root, "ceiling");
    let start = Instant::now();
    let mut writer = BufWriter::new(File::create(dir.join("raw.log")).unwrap());
    for _ in 0..sustained_lines {
        writer.write_all(&line).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    let ceiling = sustained_lines as f64 / start.elapsed().as_secs_f64();
    let _ = fs::remove_dir_all(&dir);

    let dir = fresh_dir(root, "sustained-ours");
    let start = Instant::now();
    let (mut writer, guard) = ours(&dir, Backpressure::BLOCK);
    for _ in 0..sustained_lines {
        writer.write_all(&line).unwrap();
    }
    let stats = guard.shutdown(Duration::from_secs(120)).unwrap();
    wait_for_bytes(&dir, "ours", expected);
    let ours_rate = sustained_lines as f64 / start.elapsed().as_secs_f64();
    assert_eq!(stats.lines_written, sustained_lines as u64);
    let _ = fs::remove_dir_all(&dir);

    let dir = fresh_dir(root, "sustained-theirs");
    let start = Instant::now();
    let (mut writer, guard) = theirs(&dir, false);
    for _ in 0..sustained_lines {
        writer.write_all(&line).unwrap();
    }
    drop(guard);
    wait_for_bytes(&dir, "theirs", expected);
    let their_rate = sustained_lines as f64 / start.elapsed().as_secs_f64();
    let _ = fs::remove_dir_all(&dir);

    println!("\nsustained throughput, 1 thread, {sustained_lines} lines until all on disk:");
    println!("  eventlog-appender   {:>6.2} M lines/s", ours_rate / 1e6);
    println!("  tracing-appender    {:>6.2} M lines/s", their_rate / 1e6);
    println!("  BufWriter ceiling   {:>6.2} M lines/s", ceiling / 1e6);
    (ours_rate, their_rate, ceiling)
}

/// Write system calls this process has made so far (`syscw` in
/// `/proc/self/io`), to show how many lines a worker writes per call;
/// `None` without procfs.
fn write_calls() -> Option<u64> {
    fs::read_to_string("/proc/self/io")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("syscw:"))?
        .trim()
        .parse()
        .ok()
}

/// CPU time the thread at `task` (a `/proc` task directory) has run so far,
/// from its `schedstat`; `None` without procfs.
fn cpu_time(task: &Path) -> Option<Duration> {
    let stat = fs::read_to_string(task.join("schedstat")).ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
}

/// CPU time run so far by this process's threads called `name` (a worker).
fn worker_cpu(name: &str) -> Option<Duration> {
    // The kernel keeps the first 15 bytes of a thread's name.
    let name = &name[..name.len().min(15)];
    let mut total = Duration::ZERO;
    for task in fs::read_dir("/proc/self/task").ok()? {
        let task = task.ok()?.path();
        if fs::read_to_string(task.join("comm")).ok()?.trim_end() == name {
            total += cpu_time(&task)?;
        }
    }
    Some(total)
}

/// One writer's lossy burst: what was dropped, and where the time went.
#[derive(Debug, Clone, Copy)]
struct Burst {
    dropped: u64,
    /// The callers' wall time, from the first line until both threads are done.
    wall: Duration,
    /// Both callers' CPU time during the burst.
    callers_cpu: Option<Duration>,
    /// The worker's CPU time during the burst.
    worker_cpu: Option<Duration>,
    /// Lines on disk when the burst ended: what the worker drained meanwhile.
    drained_during: u64,
    /// From the end of the burst until every accepted line is on disk.
    after: Duration,
    write_calls: Option<u64>,
}

/// 2 threads write `lossy_lines_per_thread` lines each through `writer`, flat
/// out; returns their wall time and their summed CPU time.
fn lossy_burst<W: Write + Clone + Send>(writer: &W, line: &[u8]) -> (Duration, Option<Duration>) {
    let Sizes {
        lossy_lines_per_thread,
        ..
    } = sizes();
    let this_thread = Path::new("/proc/thread-self");
    let start = Instant::now();
    let cpu = thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut writer = writer.clone();
                s.spawn(move || {
                    let before = cpu_time(this_thread);
                    for _ in 0..lossy_lines_per_thread {
                        writer.write_all(line).unwrap();
                    }
                    cpu_time(this_thread)?.checked_sub(before?)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum::<Option<Duration>>()
    });
    (start.elapsed(), cpu)
}

/// Runs one lossy burst against a fresh writer from `build`, whose worker
/// thread is called `worker`, and whose lines land in files named `prefix*`.
/// `finish` stops the writer and returns the lines it dropped.
fn measure_burst<W: Write + Clone + Send, G>(
    dir: &Path,
    prefix: &str,
    worker: &str,
    (writer, guard): (W, G),
    finish: impl FnOnce(W, G) -> u64,
) -> Burst {
    let line = line();
    let len = LINE_LEN as u64;
    let calls = write_calls();
    let worker_before = worker_cpu(worker);
    let (wall, callers_cpu) = lossy_burst(&writer, &line);
    let worker_during = worker_cpu(worker)
        .zip(worker_before)
        .map(|(b, a)| b.saturating_sub(a));
    // Both workers write straight to the file (no user-space buffer behind
    // the queue), so its size is what they drained.
    let drained_during = bytes_on_disk(dir, prefix) / len;
    let end = Instant::now();
    let dropped = finish(writer, guard);
    let total = (2 * sizes().lossy_lines_per_thread) as u64;
    // Every line not dropped reaches the disk (ours adds self-report lines).
    wait_for_bytes(dir, prefix, (total - dropped) * len);
    Burst {
        dropped,
        wall,
        callers_cpu,
        worker_cpu: worker_during,
        drained_during,
        after: end.elapsed(),
        write_calls: write_calls().zip(calls).map(|(b, a)| b - a),
    }
}

/// Lines dropped when 2 threads emit `lossy_lines_per_thread` each, flat out,
/// and how fast each worker drained its queue during and after the burst: the
/// lines a worker saves are what it writes while the callers run, so its rate
/// per CPU-second and its share of the CPU decide the drops.
fn table_lossy(root: &Path) -> (u64, u64) {
    let Sizes {
        lossy_lines_per_thread,
        ..
    } = sizes();
    let total = (2 * lossy_lines_per_thread) as u64;

    let dir = fresh_dir(root, "lossy-ours");
    let ours = measure_burst(
        &dir,
        "ours",
        "eventlog-appender",
        ours(&dir, Backpressure::DROP_NEWEST),
        |_, guard| guard.shutdown(Duration::from_secs(120)).unwrap().dropped(),
    );
    let _ = fs::remove_dir_all(&dir);

    let dir = fresh_dir(root, "lossy-theirs");
    let theirs = measure_burst(
        &dir,
        "theirs",
        "tracing-appender",
        theirs(&dir, true),
        |writer, guard| {
            let dropped = writer.error_counter().dropped_lines() as u64;
            drop(guard);
            dropped
        },
    );
    let _ = fs::remove_dir_all(&dir);

    let pct = |d: u64| d as f64 * 100.0 / total as f64;
    let per_s = |lines: u64, d: Duration| lines as f64 / d.as_secs_f64().max(1e-9) / 1e6;
    let ms = |d: Option<Duration>| d.map_or("n/a".into(), |d| format!("{} ms", d.as_millis()));
    println!(
        "\nlossy mode, 2 threads × {lossy_lines_per_thread} lines flat out, \
         same budget: {BUDGET_BYTES} B / {THEIR_LINES} lines:"
    );
    println!("                      dropped            delivered   burst");
    for (name, b) in [("eventlog-appender", ours), ("tracing-appender ", theirs)] {
        println!(
            "  {name} {:>8} ({:>5.1} %) {:>9}   {:>4} ms",
            b.dropped,
            pct(b.dropped),
            total - b.dropped,
            b.wall.as_millis()
        );
    }
    println!(
        "  where it went: CPU during the burst (callers, worker), lines the worker \
         drained during it (per wall second, per worker CPU-second) and after it:"
    );
    println!(
        "                      callers   worker    in burst   M/s  M/CPU-s     after   M/s  lines/write"
    );
    for (name, b) in [("eventlog-appender", ours), ("tracing-appender ", theirs)] {
        let after = (total - b.dropped).saturating_sub(b.drained_during);
        let per_cpu = b.worker_cpu.map_or("n/a".into(), |c| {
            format!("{:.2}", per_s(b.drained_during, c))
        });
        let per_call = b.write_calls.map_or("n/a".into(), |c| {
            format!("{:.0}", (total - b.dropped) as f64 / c.max(1) as f64)
        });
        println!(
            "  {name} {:>9} {:>8} {:>9} {:>6.2} {:>8} {:>9} {:>5.2} {:>11}",
            ms(b.callers_cpu),
            ms(b.worker_cpu),
            b.drained_during,
            per_s(b.drained_during, b.wall),
            per_cpu,
            after,
            per_s(after, b.after),
            per_call,
        );
    }
    (ours.dropped, theirs.dropped)
}

/// 2 threads emit events through a fmt JSON layer writing to `writer`.
fn fmt_burst<W>(writer: W) -> Duration
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let Sizes {
        lossy_lines_per_thread,
        ..
    } = sizes();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .finish(),
    );
    let start = Instant::now();
    thread::scope(|s| {
        for t in 0..2u64 {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for seq in 0..lossy_lines_per_thread as u64 {
                        tracing::info!(
                            event_name = "order_placed",
                            order_id = "ord_42",
                            amount = 72.49,
                            currency = "USD",
                            thread = t,
                            seq,
                            trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                            "order placed"
                        );
                    }
                });
            });
        }
    });
    start.elapsed()
}

/// The same burst emitted through `tracing_subscriber::fmt().json()`, the way
/// applications produce lines: formatting slows both sides' callers equally.
fn table_lossy_fmt(root: &Path) -> (u64, u64) {
    let Sizes {
        lossy_lines_per_thread,
        ..
    } = sizes();
    let total = (2 * lossy_lines_per_thread) as u64;

    let dir = fresh_dir(root, "lossy-fmt-ours");
    let (writer, guard) = ours(&dir, Backpressure::DROP_NEWEST);
    let ours_burst = fmt_burst(writer);
    let ours_dropped = guard.shutdown(Duration::from_secs(120)).unwrap().dropped();
    let _ = fs::remove_dir_all(&dir);

    let dir = fresh_dir(root, "lossy-fmt-theirs");
    let (writer, guard) = theirs(&dir, true);
    let counter = writer.error_counter();
    let their_burst = fmt_burst(writer);
    let their_dropped = counter.dropped_lines() as u64;
    drop(guard);
    let _ = fs::remove_dir_all(&dir);

    let pct = |d: u64| d as f64 * 100.0 / total as f64;
    println!(
        "\nlossy mode, same burst through tracing_subscriber::fmt().json() (≈ 270-byte lines):"
    );
    println!("                      dropped            delivered   burst");
    for (name, dropped, burst) in [
        ("eventlog-appender", ours_dropped, ours_burst),
        ("tracing-appender ", their_dropped, their_burst),
    ] {
        println!(
            "  {name} {dropped:>8} ({:>5.1} %) {:>9}   {:>4} ms",
            pct(dropped),
            total - dropped,
            burst.as_millis()
        );
    }
    (ours_dropped, their_dropped)
}

/// Envelope-like lines (varied names, ids, metadata), `bytes` of them.
fn envelopes(bytes: usize) -> Vec<u8> {
    const NAMES: [&str; 12] = [
        "http_request_completed",
        "order_placed",
        "payment_failed",
        "user_login_attempt",
        "cache_miss",
        "job_retry_attempted",
        "db_query_slow",
        "email_sent",
        "session_started",
        "inventory_reserved",
        "refund_issued",
        "user_signup_failed",
    ];
    let mut out = Vec::with_capacity(bytes + 1024);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut micros: u64 = 1_795_596_456_000_000;
    while out.len() < bytes {
        let r = next();
        micros += r % 2000;
        let name = NAMES[(r >> 8) as usize % NAMES.len()];
        let level = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"][(r >> 16) as usize % 6];
        let secs = micros / 1_000_000;
        writeln!(
            out,
            "{{\"timestamp\":\"2026-11-25T{:02}:{:02}:{:02}.{:06}Z\",\"level\":\"{level}\",\"event_name\":\"{name}\",\"event_type\":\"system_event\",\"service\":\"svc-{}\",\"trace_id\":\"{:016x}{:016x}\",\"span_id\":\"{:016x}\",\"request_id\":\"req_{:06}\",\"metadata\":{{\"duration_ms\":{}.{},\"items\":{},\"route\":\"/api/v1/{}\"}}}}",
            secs / 3600 % 24, secs / 60 % 60, secs % 60, micros % 1_000_000,
            r % 8, next(), next(), next(), r % 1_000_000, r % 900, r % 10, r % 7,
            NAMES[(r >> 24) as usize % NAMES.len()],
        )
        .unwrap();
    }
    out
}

/// Compression throughput (MB/s of input) and size: whole-file gzip (one
/// member, the compressor before blocks) against blocked gzip + index.
fn table_compression() {
    let mb = if std::env::args().any(|a| a == "--bench") {
        64
    } else {
        2
    };
    let plain = envelopes(mb << 20);
    println!(
        "\ncompression of {} MB of envelope-like lines (best of 3, one thread):",
        plain.len() / 1_000_000
    );
    println!("  {:28} {:>9} {:>12} {:>8}", "", "MB/s", "bytes", "ratio");
    let best = |f: &dyn Fn() -> usize| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                let n = f();
                (t.elapsed(), n)
            })
            .min()
            .unwrap()
    };
    let (t, whole) = best(&|| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        gz.finish().unwrap().len()
    });
    let rate = |t: Duration| plain.len() as f64 / t.as_secs_f64() / 1e6;
    println!(
        "  {:28} {:>9.1} {:>12} {:>8.4}",
        "whole file, one member",
        rate(t),
        whole,
        1.0
    );
    for block in [1usize << 20, 2 << 20, 4 << 20] {
        let (t, n) = best(&|| {
            let mut gz = Vec::new();
            let index = eventlog_appender::blocks::compress(&plain[..], &mut gz, block).unwrap();
            gz.len() + index.to_bytes().len()
        });
        let mut gz = Vec::new();
        let index = eventlog_appender::blocks::compress(&plain[..], &mut gz, block).unwrap();
        let idx = index.to_bytes().len();
        println!(
            "  {:28} {:>9.1} {:>12} {:>8.4}   ({} blocks, index {} bytes = {:.2} % of the .gz)",
            format!("blocked {} MiB + index", block >> 20),
            rate(t),
            n,
            n as f64 / whole as f64,
            index.blocks().len(),
            idx,
            idx as f64 * 100.0 / gz.len() as f64,
        );
    }
}

fn main() {
    if std::env::var("EVENTLOG_BENCH").is_ok_and(|v| v == "compression") {
        table_compression();
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_caller_cost(&mut criterion, root.path());
    criterion.final_summary();

    let (o, t) = table_latency(root.path());
    let (ours_rate, their_rate, ceiling) = table_sustained(root.path());
    let (ours_dropped, their_dropped) = table_lossy(root.path());
    let (ours_fmt_dropped, their_fmt_dropped) = table_lossy_fmt(root.path());
    table_compression();

    println!("\nratios (targets in brackets):");
    println!(
        "  sustained vs tracing-appender  {:>6.1}×   [≥ 5×]",
        ours_rate / their_rate
    );
    println!(
        "  sustained vs BufWriter ceiling {:>6.1} %  [≥ 50 %]",
        ours_rate * 100.0 / ceiling
    );
    println!(
        "  p99 caller cost vs tracing-appender {:>5.2}×  [< 1×]",
        o.p99 as f64 / t.p99.max(1) as f64
    );
    println!(
        "  drops vs tracing-appender      {:>6.3}×   [≤ 0.33×]",
        ours_dropped as f64 / their_dropped.max(1) as f64
    );
    println!(
        "  drops vs tracing-appender, fmt {:>6.3}×   [≤ 0.33×]",
        ours_fmt_dropped as f64 / their_fmt_dropped.max(1) as f64
    );
}
