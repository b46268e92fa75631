//! `gen-events`: a seeded generator of realistic eventlog records, for the
//! query benchmark (`scripts/bench-queries`, issue 18).
//!
//! ```text
//! gen-events --seed 18 --bytes 1GiB --out events.jsonl [--gz-dir gz --parts 17 [--whole-gz]]
//! ```
//!
//! Writes records in the layer's real envelope (version 1, keys in
//! envelope order): 43 event names with a Zipf-like skew, 8 services, 7
//! days in time order, traces of 2–8 events, metadata of 3–8 fields with
//! `duration_ms` on every event and a failure `reason` on failure events,
//! span-close records with their span and top-level `duration_ms`. The
//! same seed and size give the same bytes: the random numbers come from a
//! SplitMix64 written here, not from a crate whose algorithm may change.
//!
//! `--gz-dir` also writes the same records as `--parts` gzip files named
//! as the appender names rotated files (`events.<stamp>.jsonl.gz`, the
//! stamp being the file's first record), so `eventlog` reads them as one
//! rotated set, oldest first. They are compressed as the appender
//! compresses rotated files (`eventlog_appender::blocks`: gzip members of
//! 1 MiB, the block index in `<file>.gz.idx`); `--whole-gz` writes one
//! gzip stream per file and no index instead, as before blocks.

#![forbid(unsafe_code)]
// A command-line tool prints its usage and errors.
#![allow(clippy::print_stderr)]
// Random draws below small bounds (list lengths, counts under 2^32) and
// millisecond floats: every cast here is exact or meant to round.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// The first record's time: 7 days of records follow it.
const START_SECONDS: i64 = 1_795_478_400; // 2026-11-24T00:00:00Z
const WEEK_MICROS: i64 = 7 * 86_400 * 1_000_000;
/// About how long a line is, to spread the lines over the week before
/// knowing how many there will be.
const MEAN_LINE: u64 = 540;
/// Traces in flight at once: their events interleave, as on a real server.
const IN_FLIGHT: usize = 24;

/// SplitMix64: tiny, fast, and fixed forever (same seed, same bytes).
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Cumulative Zipf weights (exponent `s`) over `n` ranks.
fn zipf(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(s);
            acc
        })
        .collect();
    for c in &mut cdf {
        *c /= acc;
    }
    cdf
}

fn draw(rng: &mut Rng, cdf: &[f64]) -> usize {
    let u = rng.unit();
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}

/// One of the 43 events: its name, category, level and its own metadata fields.
struct EventKind {
    name: &'static str,
    category: &'static str,
    level: &'static str,
    /// Besides `duration_ms` (and `reason` on failures): 2–7 more fields.
    fields: &'static [&'static str],
    failure: bool,
}

const fn ev(
    name: &'static str,
    category: &'static str,
    level: &'static str,
    fields: &'static [&'static str],
    failure: bool,
) -> EventKind {
    EventKind {
        name,
        category,
        level,
        fields,
        failure,
    }
}

/// In rank order: the first is the most frequent.
const EVENTS: [EventKind; 43] = [
    ev(
        "http_request_completed",
        "system_event",
        "INFO",
        &["http.route", "http.method", "status_code", "bytes"],
        false,
    ),
    ev(
        "cache_lookup",
        "system_event",
        "DEBUG",
        &["cache", "hit", "key_bytes"],
        false,
    ),
    ev(
        "db_query_executed",
        "system_event",
        "DEBUG",
        &["table", "rows", "statement"],
        false,
    ),
    ev(
        "user_session_refreshed",
        "user_action",
        "INFO",
        &["client", "ttl_s"],
        false,
    ),
    ev(
        "product_viewed",
        "user_action",
        "INFO",
        &["product_id", "category", "position", "client"],
        false,
    ),
    ev(
        "search_performed",
        "user_action",
        "INFO",
        &["query_len", "results", "page", "client"],
        false,
    ),
    ev(
        "cart_item_added",
        "business",
        "INFO",
        &["product_id", "quantity", "amount", "currency"],
        false,
    ),
    ev(
        "inventory_checked",
        "system_event",
        "DEBUG",
        &["product_id", "warehouse", "available"],
        false,
    ),
    ev(
        "user_login_attempt",
        "user_action",
        "INFO",
        &["result", "method", "client"],
        false,
    ),
    ev(
        "price_quoted",
        "business",
        "INFO",
        &["product_id", "amount", "currency"],
        false,
    ),
    ev(
        "payment_authorized",
        "business",
        "INFO",
        &["amount", "currency", "provider", "card_brand"],
        false,
    ),
    ev(
        "order_placed",
        "business",
        "INFO",
        &["order_id", "amount", "currency", "items", "coupon"],
        false,
    ),
    ev(
        "queue_message_published",
        "system_event",
        "DEBUG",
        &["queue", "bytes", "partition"],
        false,
    ),
    ev(
        "queue_message_consumed",
        "system_event",
        "DEBUG",
        &["queue", "lag_ms", "partition"],
        false,
    ),
    ev(
        "payment_failed",
        "error",
        "WARN",
        &["amount", "currency", "provider", "card_brand"],
        true,
    ),
    ev(
        "email_sent",
        "system_event",
        "INFO",
        &["template", "provider"],
        false,
    ),
    ev(
        "recommendation_served",
        "system_event",
        "INFO",
        &["model", "items", "position"],
        false,
    ),
    ev(
        "shipment_created",
        "business",
        "INFO",
        &["order_id", "carrier", "warehouse"],
        false,
    ),
    ev(
        "user_logout",
        "user_action",
        "INFO",
        &["client", "session_s"],
        false,
    ),
    ev(
        "http_request_failed",
        "error",
        "ERROR",
        &["http.route", "http.method", "status_code"],
        true,
    ),
    ev(
        "cart_item_removed",
        "business",
        "INFO",
        &["product_id", "quantity"],
        false,
    ),
    ev(
        "coupon_applied",
        "business",
        "INFO",
        &["coupon", "discount"],
        false,
    ),
    ev(
        "db_query_failed",
        "error",
        "ERROR",
        &["table", "statement"],
        true,
    ),
    ev(
        "feature_flag_evaluated",
        "system_event",
        "DEBUG",
        &["flag", "variant"],
        false,
    ),
    ev(
        "rate_limit_exceeded",
        "security",
        "WARN",
        &["limit", "window_s", "client"],
        true,
    ),
    ev(
        "order_cancelled",
        "business",
        "INFO",
        &["order_id", "amount", "currency"],
        false,
    ),
    ev(
        "refund_issued",
        "business",
        "INFO",
        &["order_id", "amount", "currency", "provider"],
        false,
    ),
    ev(
        "password_reset_requested",
        "security",
        "INFO",
        &["method", "client"],
        false,
    ),
    ev(
        "cache_evicted",
        "system_event",
        "DEBUG",
        &["cache", "entries"],
        false,
    ),
    ev(
        "job_started",
        "system_event",
        "INFO",
        &["job", "attempt"],
        false,
    ),
    ev(
        "job_completed",
        "system_event",
        "INFO",
        &["job", "attempt", "items"],
        false,
    ),
    ev("job_failed", "error", "ERROR", &["job", "attempt"], true),
    ev(
        "webhook_delivered",
        "system_event",
        "INFO",
        &["endpoint", "status_code", "attempt"],
        false,
    ),
    ev(
        "webhook_failed",
        "error",
        "WARN",
        &["endpoint", "status_code", "attempt"],
        true,
    ),
    ev(
        "user_signed_up",
        "user_action",
        "INFO",
        &["method", "client", "referrer"],
        false,
    ),
    ev("mfa_challenge_sent", "security", "INFO", &["method"], false),
    ev(
        "mfa_challenge_failed",
        "security",
        "WARN",
        &["method", "attempt"],
        true,
    ),
    ev(
        "account_locked",
        "security",
        "WARN",
        &["attempts", "window_s"],
        false,
    ),
    ev(
        "config_reloaded",
        "system_event",
        "INFO",
        &["source", "keys"],
        false,
    ),
    ev(
        "certificate_expiring",
        "security",
        "WARN",
        &["domain", "days_left"],
        false,
    ),
    ev(
        "disk_space_low",
        "system_event",
        "WARN",
        &["mount", "free_pct"],
        false,
    ),
    ev(
        "dependency_unavailable",
        "error",
        "ERROR",
        &["dependency", "attempt"],
        true,
    ),
    ev(
        "service_started",
        "system_event",
        "INFO",
        &["build", "pid"],
        false,
    ),
];

const SERVICES: [&str; 8] = [
    "checkout",
    "catalog",
    "payments",
    "accounts",
    "search",
    "shipping",
    "notifications",
    "gateway",
];
const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-south-1"];
const REASONS: [&str; 9] = [
    "card_declined",
    "timeout",
    "insufficient_funds",
    "upstream_unavailable",
    "invalid_request",
    "fraud_suspected",
    "connection_reset",
    "quota_exceeded",
    "expired_card",
];
const SPANS: [&str; 6] = [
    "request", "checkout", "payment", "db_query", "render", "job",
];

/// A trace in flight: its ids and how many events it still has.
struct Trace {
    id: u128,
    request: u64,
    user: u64,
    session: u64,
    service: usize,
    left: u32,
}

fn new_trace(rng: &mut Rng) -> Trace {
    Trace {
        id: (u128::from(rng.next()) << 64) | u128::from(rng.next()),
        request: rng.next() >> 16,
        user: rng.below(50_000),
        session: rng.next() >> 20,
        service: rng.below(SERVICES.len() as u64) as usize,
        left: 2 + rng.below(7) as u32,
    }
}

/// `2026-11-24T00:00:00.000000Z` for microseconds since the epoch.
fn push_timestamp(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let us = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{us:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

/// The appender's file stamp, `20261124T000000.000Z`.
fn file_stamp(micros: i64) -> String {
    let mut t = String::new();
    push_timestamp(&mut t, micros);
    // 2026-11-24T00:00:00.000000Z → 20261124T000000.000Z
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    format!("{}T{}.{}Z", &digits[..8], &digits[8..14], &digits[14..17])
}

fn metadata_value(out: &mut String, rng: &mut Rng, field: &str) {
    let _ = match field {
        "http.route" => write!(
            out,
            "\"{}\"",
            rng.pick(&[
                "/api/cart",
                "/api/checkout",
                "/api/products/:id",
                "/api/search",
                "/api/login",
                "/api/orders/:id"
            ])
        ),
        "http.method" => write!(
            out,
            "\"{}\"",
            rng.pick(&["GET", "GET", "GET", "POST", "PUT", "DELETE"])
        ),
        "status_code" => write!(
            out,
            "{}",
            rng.pick(&[200, 200, 200, 201, 204, 400, 404, 500, 502, 503])
        ),
        "bytes" | "key_bytes" => write!(out, "{}", rng.below(65_536)),
        "cache" => write!(
            out,
            "\"{}\"",
            rng.pick(&["sessions", "products", "prices", "carts"])
        ),
        "hit" => write!(out, "{}", rng.below(4) != 0),
        "rows" | "items" | "entries" | "keys" | "results" => write!(out, "{}", rng.below(200)),
        "table" => write!(
            out,
            "\"{}\"",
            rng.pick(&["orders", "users", "products", "payments", "sessions"])
        ),
        "statement" => write!(
            out,
            "\"{}\"",
            rng.pick(&["select", "insert", "update", "delete"])
        ),
        "client" => write!(out, "\"{}\"", rng.pick(&["web", "ios", "android", "api"])),
        "amount" | "discount" => write!(out, "{}.{:02}", rng.below(500), rng.below(100)),
        "currency" => write!(out, "\"{}\"", rng.pick(&["USD", "EUR", "GBP", "INR"])),
        "product_id" | "order_id" => write!(
            out,
            "\"{}_{:08x}\"",
            &field[..field.len() - 3],
            rng.next() >> 32
        ),
        "result" => write!(
            out,
            "\"{}\"",
            rng.pick(&["success", "success", "success", "failure"])
        ),
        "quantity" | "attempt" | "attempts" | "position" | "page" => {
            write!(out, "{}", 1 + rng.below(5))
        }
        _ => write!(out, "\"{}_{}\"", field.replace('.', "_"), rng.below(12)),
    };
}

/// `duration_ms`: log-normal around a per-event median, 3 decimals.
fn push_duration(out: &mut String, rng: &mut Rng, median: f64) {
    // Box–Muller.
    let (u1, u2) = (rng.unit().max(1e-12), rng.unit());
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let ms = median * (0.8 * normal).exp();
    let thousandths = (ms * 1000.0).round() as u64;
    let _ = write!(out, "{}.{:03}", thousandths / 1000, thousandths % 1000);
}

#[allow(clippy::too_many_lines)]
fn record(
    out: &mut String,
    rng: &mut Rng,
    micros: i64,
    t: &Trace,
    kind_cdf: &[f64],
    reason_cdf: &[f64],
) {
    let kind = &EVENTS[draw(rng, kind_cdf)];
    let service = SERVICES[t.service];
    out.push_str("{\"timestamp\":\"");
    push_timestamp(out, micros);
    let _ = write!(
        out,
        "\",\"level\":\"{}\",\"event_name\":\"{}\",\"event_type\":\"{}\"",
        kind.level, kind.name, kind.category
    );
    if rng.below(3) == 0 {
        let _ = write!(
            out,
            ",\"message\":\"{} in {service}\"",
            kind.name.replace('_', " ")
        );
    }
    let _ = write!(
        out,
        ",\"service\":\"{service}\",\"environment\":\"production\",\"region\":\"{}\",\"version\":\"2.{}.{}\",\"host\":\"{service}-{:x}\"",
        REGIONS[t.service % REGIONS.len()],
        t.service + 3,
        t.service * 7 % 10,
        0x7a0 + t.service * 3 + (t.request % 3) as usize,
    );
    let _ = write!(
        out,
        ",\"trace_id\":\"{:032x}\",\"span_id\":\"{:016x}\",\"request_id\":\"req_{:012x}\",\"user_id\":\"user_{}\",\"session_id\":\"sess_{:011x}\"",
        t.id,
        rng.next(),
        t.request,
        t.user,
        t.session
    );
    out.push_str(",\"metadata\":{\"duration_ms\":");
    // Each event has its own typical duration, 0.5–400 ms.
    let median = 0.5 * 1.17f64.powi(i32::try_from(kind.name.len() * 7 % 43).unwrap_or(0));
    push_duration(out, rng, median);
    let mut fields = 1;
    if kind.failure {
        let _ = write!(out, ",\"reason\":\"{}\"", REASONS[draw(rng, reason_cdf)]);
        fields += 1;
    }
    // 3–8 fields in all: the event's own, then extras up to the drawn size.
    let want = 3 + rng.below(6) as usize;
    for field in kind.fields {
        if fields >= want && fields >= 3 {
            break;
        }
        let _ = write!(out, ",\"{field}\":");
        metadata_value(out, rng, field);
        fields += 1;
    }
    for extra in ["attempt_id", "tenant", "shard", "build", "feature"] {
        if fields >= want {
            break;
        }
        let _ = write!(out, ",\"{extra}\":");
        metadata_value(out, rng, extra);
        fields += 1;
    }
    out.push('}');
    if kind.name.ends_with("_completed") {
        let span = rng.pick(&SPANS);
        let _ = write!(
            out,
            ",\"span\":{{\"name\":\"{span}\",\"fields\":{{\"attempt\":{}}}}},\"duration_ms\":",
            1 + rng.below(3)
        );
        push_duration(out, rng, median * 1.5);
    }
    out.push_str("}\n");
}

fn parse_bytes(text: &str) -> Option<u64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

struct Args {
    seed: u64,
    bytes: u64,
    out: PathBuf,
    gz_dir: Option<PathBuf>,
    parts: usize,
    /// One gzip member per file and no index (the set before blocks).
    whole_gz: bool,
}

const USAGE: &str = "usage: gen-events [--seed N] [--bytes SIZE (1GiB)] --out FILE [--gz-dir DIR [--parts N (17)] [--whole-gz]]";

fn args() -> Result<Args, String> {
    let mut a = Args {
        seed: 18,
        bytes: 1 << 30,
        out: PathBuf::new(),
        gz_dir: None,
        parts: 17,
        whole_gz: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--bytes" => a.bytes = parse_bytes(&value()?).ok_or("--bytes: a size such as 1GiB")?,
            "--out" => a.out = value()?.into(),
            "--gz-dir" => a.gz_dir = Some(value()?.into()),
            "--parts" => a.parts = value()?.parse().map_err(|e| format!("--parts: {e}"))?,
            "--whole-gz" => a.whole_gz = true,
            _ => return Err(USAGE.to_owned()),
        }
    }
    if a.out.as_os_str().is_empty() || a.parts == 0 {
        return Err(USAGE.to_owned());
    }
    Ok(a)
}

/// Writes the records; returns where each line starts in the file
/// (every `--parts`-th boundary) and the micros of that line.
fn generate(a: &Args) -> std::io::Result<Vec<(u64, i64)>> {
    let mut rng = Rng(a.seed);
    let kind_cdf = zipf(EVENTS.len(), 1.1);
    let reason_cdf = zipf(REASONS.len(), 1.0);
    let lines = (a.bytes / MEAN_LINE).max(1);
    let step = (WEEK_MICROS / i64::try_from(lines).unwrap_or(i64::MAX)).max(1);
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&a.out)?);
    let mut traces: Vec<Trace> = (0..IN_FLIGHT).map(|_| new_trace(&mut rng)).collect();
    let mut micros = START_SECONDS * 1_000_000;
    let mut written = 0u64;
    let part = a.bytes.div_ceil(a.parts as u64);
    let mut cuts = vec![(0, micros)];
    let mut line = String::with_capacity(1024);
    while written < a.bytes {
        // 0 … 2 × step, so the mean gap spreads the lines over the week.
        micros += i64::try_from(rng.below(2 * step as u64 + 1)).unwrap_or(0);
        let slot = rng.below(IN_FLIGHT as u64) as usize;
        if written >= part * cuts.len() as u64 {
            cuts.push((written, micros));
        }
        line.clear();
        record(
            &mut line,
            &mut rng,
            micros,
            &traces[slot],
            &kind_cdf,
            &reason_cdf,
        );
        file.write_all(line.as_bytes())?;
        written += line.len() as u64;
        traces[slot].left -= 1;
        if traces[slot].left == 0 {
            traces[slot] = new_trace(&mut rng);
        }
    }
    file.flush()?;
    Ok(cuts)
}

/// The same lines as `--parts` gzip files, compressed on every core.
fn write_gz(a: &Args, dir: &std::path::Path, cuts: &[(u64, i64)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let data = std::fs::read(&a.out)?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> std::io::Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(start, micros)) = cuts.get(i) else {
                            return Ok(());
                        };
                        let end = cuts.get(i + 1).map_or(data.len() as u64, |c| c.0);
                        let name = dir.join(format!("events.{}.jsonl.gz", file_stamp(micros)));
                        // As the appender compresses a rotated file: gzip
                        // members of 1 MiB and the block index beside them
                        // (`--whole-gz`: one member, no index, as before).
                        let part = &data[start as usize..end as usize];
                        let mut out = std::io::BufWriter::new(std::fs::File::create(&name)?);
                        if a.whole_gz {
                            let mut gz = flate2::write::GzEncoder::new(
                                &mut out,
                                flate2::Compression::default(),
                            );
                            gz.write_all(part)?;
                            gz.finish()?;
                        } else {
                            let index = eventlog_appender::blocks::compress(
                                part,
                                &mut out,
                                eventlog_appender::blocks::DEFAULT_BLOCK_BYTES,
                            )?;
                            std::fs::write(
                                eventlog_appender::blocks::index_path(&name),
                                index.to_bytes(),
                            )?;
                        }
                        out.flush()?;
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a compressing thread panicked")))
        })
    })
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen-events: {e}");
            return ExitCode::from(2);
        }
    };
    let run = || -> std::io::Result<()> {
        let cuts = generate(&a)?;
        if let Some(dir) = &a.gz_dir {
            write_gz(&a, dir, &cuts)?;
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-events: {e}");
            ExitCode::from(2)
        }
    }
}
