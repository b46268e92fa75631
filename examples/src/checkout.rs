//! A simulated checkout service writing real event logs: the main job.
//!
//! ```text
//! worker threads ─ handle_request (root span: request_id, session_id, user_id, traceparent)
//!                    ├─ auth        user_login_attempt, account_locked, password_reset_requested
//!                    ├─ cart        checkout_started, cart_priced
//!                    ├─ payment     timeout_occurred, payment_failed, payment_captured
//!                    └─ fulfilment  order_placed, refund_processed
//!   eventlog layer (examples/events.toml, redaction, span timing)
//!     ├─ logs/checkout.*.jsonl[.gz]   eventlog-appender: rotated by size, gzip
//!     ├─ logs/dead_letter.jsonl       records that broke the schema
//!     └─ OTLP collector               when OTEL_EXPORTER_OTLP_ENDPOINT is set
//! ```
//!
//! Outcomes are random but seeded: the same seed gives the same events.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use eventlog::ParsedRecord;
use eventlog_appender::{Backpressure, NonBlockingBuilder, RollingFile, read};
use tracing::field::Empty;
use tracing::{Span, error, info, instrument, warn};
use tracing_subscriber::prelude::*;

/// The password every simulated login sends (it must never reach a log).
pub const PASSWORD: &str = "hunter2-correct-horse";
/// The card number every simulated payment uses (only its last four may appear).
pub const CARD: &str = "4111 1111 1111 1111";
/// The bearer token every simulated request carries.
pub const TOKEN: &str = "tok_9f8e7d6c5b4a39281706";
/// The prefix of the files the service writes under its log directory.
pub const FILE_PREFIX: &str = "checkout";
/// The dead-letter file, beside the rotated files.
pub const DEAD_LETTER_FILE: &str = "dead_letter.jsonl";
/// The steps whose durations the summary compares.
pub const STEPS: [&str; 4] = ["auth", "cart", "payment", "fulfilment"];

/// How a run is shaped.
#[derive(Debug, Clone)]
pub struct Config {
    /// Requests to simulate.
    pub requests: u64,
    /// Worker threads handling them.
    pub workers: u64,
    /// Seed of every random outcome.
    pub seed: u64,
    /// Where the files go (files of earlier runs with the same names are replaced).
    pub logs: PathBuf,
    /// Size at which the log file rotates.
    pub max_file_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            requests: 2_000,
            workers: 4,
            seed: 42,
            logs: PathBuf::from("logs"),
            max_file_bytes: 512 * 1024,
        }
    }
}

impl Config {
    /// Reads `--requests N --workers N --seed N --logs DIR --max-file-bytes N`.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut config = Self::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{flag}: `{value}` is not a number"))
            };
            match flag.as_str() {
                "--requests" => config.requests = number()?,
                "--workers" => config.workers = number()?.max(1),
                "--seed" => config.seed = number()?,
                "--max-file-bytes" => config.max_file_bytes = number()?,
                "--logs" => config.logs = PathBuf::from(&value),
                other => return Err(format!("unknown flag {other} (see the example's docs)")),
            }
        }
        Ok(config)
    }
}

/// What a run wrote, computed from the files themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Records in the rotated files.
    pub records: u64,
    /// Records in the dead-letter file.
    pub dead_letters: u64,
    /// Records by `event_type`, all files.
    pub by_type: BTreeMap<String, u64>,
    /// Schema violations counted by the layer.
    pub violations: u64,
    /// Values the redactor changed.
    pub redactions: u64,
    /// Records lost (layer and appender), by any reason.
    pub dropped: u64,
    /// The log files, rotated and active.
    pub files: Vec<PathBuf>,
    /// How many of them are gzip-compressed.
    pub compressed: usize,
    /// `user_login_attempt` records with `result = failure`.
    pub failed_logins: u64,
    /// `payment_failed` records by `error_type`.
    pub payment_failures: BTreeMap<String, u64>,
    /// p95 of `duration_ms` per step, from the span-close records.
    pub step_p95_ms: BTreeMap<String, f64>,
    /// The first request (by id) with a `payment_failed` record.
    pub failed_payment_request: Option<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Records exported over OTLP, when an endpoint was configured.
    pub exported: Option<u64>,
}

/// Runs the service with `config`, waits until every record is on disk (and
/// exported), and summarises the files.
pub fn run(config: &Config) -> Result<Summary, Box<dyn Error>> {
    let start = Instant::now();
    std::fs::create_dir_all(&config.logs)?;
    remove_previous_run(&config.logs)?;
    let schema =
        eventlog::Schema::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("events.toml"))?;
    let dead_letter = std::fs::File::create(config.logs.join(DEAD_LETTER_FILE))?;
    let layer = eventlog::layer()
        .service("checkout")
        .environment("demo")
        .region("eu-west-1")
        .version(env!("CARGO_PKG_VERSION"))
        .schema(schema)
        .schema_policy(eventlog::Policy::dead_letter(Mutex::new(dead_letter)))
        .close_events(true);
    // Lines the file writer loses are reported in the file itself, in the
    // layer's envelope (`log_records_dropped`).
    let reporter = layer.drop_reporter("file");
    let (file, guard) = RollingFile::builder()
        .directory(&config.logs)
        .prefix(FILE_PREFIX)
        .max_bytes(config.max_file_bytes)
        .compress(true)
        .keep(10_000)
        .non_blocking(
            NonBlockingBuilder::new()
                .backpressure(Backpressure::BLOCK)
                .self_report(move |r, out| {
                    reporter.write(r.reason.as_str(), r.count, r.total, out);
                }),
        )
        .build_non_blocking()?;
    let mut layer = layer.writer(file);
    let otlp_configured = [
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|e| !e.is_empty()));
    let mut otlp_guard = None;
    if otlp_configured {
        let (otlp, guard) = eventlog_otlp::OtlpOutput::builder().build()?;
        layer = layer.output(otlp);
        otlp_guard = Some(guard);
    }
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));

    tracing::dispatcher::with_default(&dispatch, || {
        info!(event_name = "service_started", "checkout service up");
        info!(
            event_name = "config_updated",
            key = "payment.retry_limit",
            value = "3"
        );
        info!(event_name = "job_started", job_name = "simulate_traffic");
    });
    let handles: Vec<_> = (0..config.workers)
        .map(|worker| {
            let dispatch = dispatch.clone();
            let (requests, workers, seed) = (config.requests, config.workers, config.seed);
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for id in (worker..requests).step_by(usize::try_from(workers).unwrap_or(1)) {
                        handle_request(&mut Request::new(seed, id));
                    }
                });
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a worker thread panicked")?;
    }
    tracing::dispatcher::with_default(&dispatch, || {
        #[allow(clippy::cast_precision_loss)] // Milliseconds of a short run.
        let duration_ms = start.elapsed().as_micros() as f64 / 1000.0;
        info!(
            event_name = "job_completed",
            job_name = "simulate_traffic",
            duration_ms,
            items = config.requests
        );
    });
    drop(dispatch);

    let appender = guard.shutdown(Duration::from_secs(30))?;
    let exported = match otlp_guard {
        Some(g) => Some(g.shutdown(Duration::from_secs(30)).map(|s| s.exported)?),
        None => None,
    };
    let layer_stats = stats.snapshot();
    let mut summary = summarize(&config.logs)?;
    summary.violations = layer_stats.violations;
    summary.redactions = layer_stats.redactions;
    // The layer counts what the appender refused at the queue; the appender
    // alone knows what it lost later, on the disk.
    summary.dropped = layer_stats.dropped() + appender.dropped_io + appender.dropped_shutdown;
    summary.exported = exported;
    summary.elapsed = start.elapsed();
    Ok(summary)
}

/// Deletes the files an earlier run left under our names, and only those.
fn remove_previous_run(logs: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(logs)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{FILE_PREFIX}.")) || name == DEAD_LETTER_FILE {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// One simulated request: its ids and its random outcomes.
struct Request {
    id: String,
    session: String,
    user: String,
    traceparent: Option<String>,
    rng: fastrand::Rng,
}

impl Request {
    fn new(seed: u64, n: u64) -> Self {
        // One generator per request: the same seed gives the same events
        // whatever thread handles the request.
        let mut rng = fastrand::Rng::with_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n);
        let traceparent = (rng.u8(..) < 64)
            .then(|| format!("00-{:032x}-{:016x}-01", rng.u128(1..), rng.u64(1..)));
        Self {
            id: format!("req_{n:06}"),
            session: format!("sess_{:04x}", rng.u16(..)),
            user: format!("user_{}", rng.u32(1000..1200)),
            traceparent,
            rng,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    /// Simulated work, so steps take measurable time.
    fn work(&mut self, micros: std::ops::Range<u64>) {
        std::thread::sleep(Duration::from_micros(self.rng.u64(micros)));
    }
}

#[instrument(
    name = "handle_request",
    skip_all,
    fields(request_id = %req.id, session_id = %req.session, user_id = Empty, traceparent = Empty, authorization = %format!("Bearer {TOKEN}"))
)]
fn handle_request(req: &mut Request) {
    if let Some(tp) = &req.traceparent {
        // An upstream service sent a W3C traceparent: continue its trace.
        Span::current().record("traceparent", tp.as_str());
    }
    if !auth(req) {
        return;
    }
    Span::current().record("user_id", req.user.as_str());
    if req.chance(0.03) {
        warn!(
            event_name = "access_denied",
            actor = %req.user,
            action = "apply_staff_discount",
            resource = "/checkout/discounts",
            result = "denied",
            "user tried a staff-only discount"
        );
        return;
    }
    let (items, total) = cart(req);
    let order_id = format!("ord_{}", &req.id[4..]);
    if payment(req, &order_id, total) {
        fulfilment(req, &order_id, items, total);
    }
}

#[instrument(skip_all)]
fn auth(req: &mut Request) -> bool {
    req.work(50..400);
    let failures = if req.chance(0.18) {
        req.rng.u64(1..6)
    } else {
        0
    };
    for attempt in 1..=failures.min(4) {
        let reason = ["invalid_password", "unknown_user", "mfa_timeout"][req.rng.usize(..3)];
        info!(
            event_name = "user_login_attempt",
            user_id = %req.user,
            result = "failure",
            failure_reason = reason,
            attempt_count = attempt,
            password = PASSWORD,
        );
    }
    if failures >= 4 {
        warn!(
            event_name = "account_locked",
            actor = %req.user,
            action = "login",
            resource = "account",
            result = "denied",
            failed_attempts = failures.min(4),
        );
        if req.chance(0.5) {
            info!(event_name = "password_reset_requested", user_id = %req.user, channel = "email");
        }
        return false;
    }
    info!(
        event_name = "user_login_attempt",
        user_id = %req.user,
        result = "success",
        attempt_count = failures + 1,
        password = PASSWORD,
    );
    true
}

#[instrument(skip_all)]
fn cart(req: &mut Request) -> (u64, f64) {
    req.work(100..600);
    let items = req.rng.u64(1..6);
    info!(event_name = "checkout_started", items, "checkout started");
    #[allow(clippy::cast_precision_loss)] // Cents of a small basket.
    let total = (0..items).map(|_| req.rng.u64(199..9_999)).sum::<u64>() as f64 / 100.0;
    info!(event_name = "cart_priced", total, "cart priced");
    (items, total)
}

#[instrument(skip_all, fields(order_id = %order_id))]
fn payment(req: &mut Request, order_id: &str, amount: f64) -> bool {
    for retry_attempt in 0..3u64 {
        req.work(300..2_500);
        if req.chance(0.10) {
            warn!(
                event_name = "timeout_occurred",
                error_type = "gateway_timeout",
                operation = "payment_gateway.charge",
                timeout_ms = 2_000.0,
                retry_attempt,
                "payment gateway timed out"
            );
            continue;
        }
        if req.chance(0.07) {
            let error_type =
                ["card_declined", "insufficient_funds", "fraud_suspected"][req.rng.usize(..3)];
            error!(
                event_name = "payment_failed",
                error_type, order_id, retry_attempt, "charging card {CARD} failed: {error_type}"
            );
            return false;
        }
        if req.chance(0.005) {
            // A deliberate schema violation: no amount (dead-lettered).
            info!(event_name = "payment_captured", currency = "USD");
        } else {
            info!(event_name = "payment_captured", amount, currency = "USD");
        }
        return true;
    }
    error!(
        event_name = "payment_failed",
        error_type = "retries_exhausted",
        order_id,
        retry_attempt = 3u64,
        "payment gave up after 3 timeouts"
    );
    false
}

#[instrument(skip_all, fields(order_id = %order_id))]
fn fulfilment(req: &mut Request, order_id: &str, items: u64, amount: f64) {
    req.work(100..1_200);
    // A deliberate schema violation now and then: a lowercase currency.
    let currency = if req.chance(0.01) { "usd" } else { "USD" };
    info!(
        event_name = "order_placed",
        order_id, amount, currency, items
    );
    if req.chance(0.03) {
        info!(
            event_name = "refund_processed",
            order_id,
            amount,
            currency = "USD",
            reason = "customer_request"
        );
    }
}

/// Reads every line the run wrote and computes the summary's file-based
/// figures: the appender's files in write order (`eventlog_appender::read`),
/// each line a `ParsedRecord`.
pub fn summarize(logs: &Path) -> Result<Summary, Box<dyn Error>> {
    let mut summary = Summary::default();
    let mut durations: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for file in read::LogFiles::new(logs, FILE_PREFIX).list()? {
        let mut lines = read::open(file.path())?;
        if lines.is_compressed() {
            summary.compressed += 1;
        }
        summary.files.push(file.path().to_owned());
        while let Some(line) = lines.next_line() {
            let record = ParsedRecord::parse(line?.text()?)?;
            summary.records += 1;
            let name = record.event_name().unwrap_or_default();
            let kind = record.event_type().unwrap_or("log");
            *summary.by_type.entry(kind.to_owned()).or_default() += 1;
            let field = |f: &str| record.metadata(f).and_then(serde_json::Value::as_str);
            match name {
                "user_login_attempt" if field("result") == Some("failure") => {
                    summary.failed_logins += 1;
                }
                "payment_failed" => {
                    let reason = field("error_type").unwrap_or("unknown").to_owned();
                    *summary.payment_failures.entry(reason).or_default() += 1;
                    if let Some(req) = record.request_id()
                        && summary
                            .failed_payment_request
                            .as_deref()
                            .is_none_or(|first| req < first)
                    {
                        summary.failed_payment_request = Some(req.to_owned());
                    }
                }
                _ => {}
            }
            let span = record.span_name().unwrap_or_default();
            if name.ends_with("_completed")
                && STEPS.contains(&span)
                && let Some(ms) = record.duration_ms()
            {
                durations.entry(span.to_owned()).or_default().push(ms);
            }
        }
    }
    let dead_letter = logs.join(DEAD_LETTER_FILE);
    if dead_letter.exists() {
        let mut lines = read::open(&dead_letter)?;
        while let Some(line) = lines.next_line() {
            let record = ParsedRecord::parse(line?.text()?)?;
            let kind = record.event_type().unwrap_or("log");
            *summary.by_type.entry(kind.to_owned()).or_default() += 1;
            summary.dead_letters += 1;
        }
    }
    for (step, mut values) in durations {
        values.sort_by(f64::total_cmp);
        let rank = (values.len() * 95).div_ceil(100).saturating_sub(1);
        summary
            .step_p95_ms
            .insert(step, values[rank.min(values.len() - 1)]);
    }
    Ok(summary)
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "checkout_service: {} records in {:.1} s",
            self.records + self.dead_letters,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "  by category      {}", join(&self.by_type))?;
        writeln!(
            f,
            "  schema           {} violations, {} records dead-lettered to {DEAD_LETTER_FILE}",
            self.violations, self.dead_letters
        )?;
        writeln!(
            f,
            "  redactions       {} values (passwords, card numbers, bearer tokens)",
            self.redactions
        )?;
        writeln!(f, "  dropped          {}", self.dropped)?;
        writeln!(
            f,
            "  files            {} ({} gzip-compressed)",
            self.files.len(),
            self.compressed
        )?;
        if let Some(n) = self.exported {
            writeln!(f, "  exported (OTLP)  {n}")?;
        }
        writeln!(f)?;
        writeln!(f, "Questions the files answer:")?;
        writeln!(
            f,
            "  How many logins failed?                  {}",
            self.failed_logins
        )?;
        writeln!(
            f,
            "    eventlog query logs/checkout.* --event user_login_attempt --where result=failure --count"
        )?;
        writeln!(
            f,
            "  Why do payments fail?                    {}",
            join(&self.payment_failures)
        )?;
        writeln!(
            f,
            "    eventlog stats logs/checkout.* --event payment_failed      (the error types row)"
        )?;
        let slowest = self.step_p95_ms.iter().max_by(|a, b| a.1.total_cmp(b.1));
        let steps: Vec<String> = self
            .step_p95_ms
            .iter()
            .map(|(k, v)| format!("{k} {v:.2} ms"))
            .collect();
        match slowest {
            Some((step, ms)) => writeln!(
                f,
                "  Which step is slowest (p95 duration)?    {step} ({ms:.2} ms; {})",
                steps.join(", ")
            )?,
            None => writeln!(
                f,
                "  Which step is slowest (p95 duration)?    (no span-close records)"
            )?,
        }
        writeln!(
            f,
            "    eventlog stats logs/checkout.*                             (the span timing row)"
        )?;
        if let Some(req) = &self.failed_payment_request {
            let question = format!("What happened to {req}?");
            writeln!(f, "  {question:<41}its records, in time order")?;
            writeln!(f, "    eventlog trace {req} logs/checkout.*")?;
        }
        Ok(())
    }
}

fn join(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
