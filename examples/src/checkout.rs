//! The main job: a checkout service and the payments service it calls, two
//! real HTTP services on loopback, under load from their own generator.
//!
//! ```text
//! load generator ── POST /checkout (X-Request-ID, Authorization, some traceparent) ──┐
//!                                                                                    v
//! checkout (axum + ServerLayer)  incoming_request ─ handle_request
//!   logs/checkout.*                 ├─ auth        user_login_attempt, account_locked, password_reset_requested
//!                                   ├─ cart        checkout_started, cart_priced
//!                                   ├─ payment     reqwest + ClientMiddleware ── POST /orders/{order_id}/charge ──┐
//!                                   │              http_client_request_completed                                  │
//!                                   └─ fulfilment  order_placed, refund_processed                                 │
//!                                 http_request_completed                                                          v
//! payments (axum + ServerLayer)  incoming_request ─ capture   timeout_occurred, payment_failed, payment_captured
//!   logs/payments.*               http_request_completed        (same trace_id and request_id as checkout's)
//!
//! both: examples/events.toml, redaction, span timing; logs/dead_letter.jsonl; OTLP when configured
//! ```
//!
//! Outcomes are random but seeded per request: the same seed gives the same
//! events, whatever the interleaving.

use std::error::Error;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use eventlog_http::{ClientMiddleware, RequestId};
use reqwest_middleware::ClientWithMiddleware;
use tracing::field::Empty;
use tracing::{Span, info, instrument, warn};

use crate::service::{Service, ServiceSpec};
use crate::simulation::Request;
use crate::summary::{self, Summary};
use crate::{load, payments};

pub use crate::payments::CARD;
pub use crate::simulation::TOKEN;
pub use crate::summary::{DEAD_LETTER_FILE, SERVICES, STEPS};

/// The HTML report the run writes beside its files.
pub const REPORT_FILE: &str = "report.html";

/// The password every simulated login sends (it must never reach a log).
pub const PASSWORD: &str = "hunter2-correct-horse";

/// How a run is shaped.
#[derive(Debug, Clone)]
pub struct Config {
    /// Requests the load generator sends.
    pub requests: u64,
    /// Requests in flight at once.
    pub workers: u64,
    /// Seed of every random outcome.
    pub seed: u64,
    /// Where the files go (files of earlier runs with the same names are replaced).
    pub logs: PathBuf,
    /// Size at which a service's log file rotates.
    pub max_file_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            requests: 2_000,
            workers: 16,
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
                "--workers" => config.workers = number()?.clamp(1, 1024),
                "--seed" => config.seed = number()?,
                "--max-file-bytes" => config.max_file_bytes = number()?,
                "--logs" => config.logs = PathBuf::from(&value),
                other => return Err(format!("unknown flag {other} (see the example's docs)")),
            }
        }
        Ok(config)
    }
}

/// Runs both services under load, reads their `/metrics`, waits until every
/// record is on disk (and exported), and summarises the files.
pub fn run(config: &Config) -> Result<Summary, Box<dyn Error>> {
    let start = Instant::now();
    std::fs::create_dir_all(&config.logs).map_err(|e| format!("{}: {e}", config.logs.display()))?;
    remove_previous_run(&config.logs)?;
    let schema =
        eventlog::Schema::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("events.toml"))?;
    let dead_letter = Arc::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(config.logs.join(DEAD_LETTER_FILE))?,
    );
    let spec = |name| -> Result<ServiceSpec<'_>, eventlog::LimitError> {
        Ok(ServiceSpec {
            name,
            logs: &config.logs,
            max_file_bytes: config.max_file_bytes,
            schema: schema.clone(),
            dead_letter: Arc::clone(&dead_letter),
            limits: limits()?,
        })
    };

    let seed = config.seed;
    let payments = Service::start(spec("payments")?, || payments::app(seed))?;
    payments.in_service(|| info!(event_name = "service_started", "payments service up"));
    let payments_url = format!("http://{}", payments.addr());
    let checkout = Service::start(spec("checkout")?, || app(seed, payments_url))?;
    checkout.in_service(|| {
        info!(event_name = "service_started", "checkout service up");
        info!(
            event_name = "config_updated",
            key = "payment.retry_limit",
            value = "3"
        );
        info!(event_name = "job_started", job_name = "simulate_traffic");
    });

    let load = load::run(
        checkout.addr(),
        config.requests,
        config.workers,
        config.seed,
    )?;

    checkout.in_service(|| {
        #[allow(clippy::cast_precision_loss)] // Milliseconds of a short run.
        let duration_ms = start.elapsed().as_micros() as f64 / 1000.0;
        info!(
            event_name = "job_completed",
            job_name = "simulate_traffic",
            duration_ms,
            items = config.requests
        );
    });
    let metrics = load::metrics(&[
        ("checkout", checkout.metrics_addr()),
        ("payments", payments.metrics_addr()),
    ])?;
    // Callers first: checkout's client to payments goes with checkout.
    let checkout = checkout.stop()?;
    let payments = payments.stop()?;

    let mut summary = summary::summarize(&config.logs)?;
    summary.load = load;
    summary.metrics = metrics;
    for (service, report) in [("checkout", checkout), ("payments", payments)] {
        summary.health.push((service, report.health.clone()));
        summary.violations += report.layer.violations;
        summary.redactions += report.layer.redactions;
        summary.suppressed += report.layer.suppressed;
        // The layer counts what the appender refused at the queue; the
        // appender alone knows what it lost later, on the disk.
        summary.dropped += report.layer.dropped() + report.lost_on_disk;
        if let Some(n) = report.exported {
            *summary.exported.get_or_insert(0) += n;
        }
    }
    // The page an on-call person opens first: every panel from these files.
    let report = config.logs.join(REPORT_FILE);
    eventlog_cli::write_html_report(
        std::slice::from_ref(&config.logs),
        &report,
        &["checkout_started", "payment_captured", "order_placed"],
        eventlog_cli::FunnelBy::Request,
    )?;
    summary.report = Some(report);
    summary.elapsed = start.elapsed();
    Ok(summary)
}

/// The log-storm guard: a retry loop's warning keeps its first 10 per
/// request (and 1 a second after that); the rest are counted and summed
/// up in one `events_suppressed` record per request. Per request, so the
/// same seed gives the same records however fast the machine is.
fn limits() -> Result<eventlog::Limits, eventlog::LimitError> {
    use eventlog::{Budget, BudgetKey, Limits, Rate};
    Limits::builder()
        .event_budget(
            payments::RETRY_EVENT,
            Budget::new(Rate::per_second(1))
                .burst(10)
                .key(BudgetKey::field("request_id")),
        )
        .build()
}

/// Deletes the files an earlier run left under our names, and only those.
fn remove_previous_run(logs: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(logs)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = SERVICES
            .iter()
            .any(|service| name.starts_with(&format!("{service}.")));
        if ours || name == DEAD_LETTER_FILE || name == REPORT_FILE {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// What every checkout request shares.
#[derive(Clone)]
struct Checkout {
    seed: u64,
    payments: String,
    client: ClientWithMiddleware,
}

/// The checkout service's routes: `POST /checkout`, its payments calls to
/// `payments` (a base URL).
fn app(seed: u64, payments: String) -> Router {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ClientMiddleware::new())
        .build();
    Router::new()
        .route("/checkout", post(checkout))
        .with_state(Checkout {
            seed,
            payments,
            client,
        })
}

async fn checkout(
    State(app): State<Checkout>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
) -> StatusCode {
    // The outcomes follow from the request's number; an id the load
    // generator did not send is a request this simulation cannot play.
    let Some(n) = Request::number(request_id.as_str()) else {
        return StatusCode::BAD_REQUEST;
    };
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    handle_request(&app, &mut Request::new(app.seed, n), authorization).await
}

// The handler records the caller's `Authorization` header on its span, as
// real handlers sometimes do by mistake: the redactor keeps the token out.
#[instrument(
    name = "handle_request",
    skip_all,
    fields(session_id = %req.session, user_id = Empty, authorization = authorization)
)]
async fn handle_request(app: &Checkout, req: &mut Request, authorization: &str) -> StatusCode {
    if !auth(req).await {
        return StatusCode::UNAUTHORIZED;
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
        return StatusCode::FORBIDDEN;
    }
    let (items, total) = cart(req).await;
    let order_id = format!("ord_{:06}", req.n);
    match payment(app, &order_id, total).await {
        StatusCode::OK => {
            fulfilment(req, &order_id, items, total).await;
            StatusCode::OK
        }
        // Declined: the caller's problem. Anything else: ours.
        StatusCode::PAYMENT_REQUIRED => StatusCode::PAYMENT_REQUIRED,
        _ => StatusCode::BAD_GATEWAY,
    }
}

#[instrument(skip_all)]
async fn auth(req: &mut Request) -> bool {
    req.work(50..400).await;
    let failures = if req.chance(0.18) { req.pick(1..6) } else { 0 };
    for attempt in 1..=failures.min(4) {
        let reason = req.one_of(&["invalid_password", "unknown_user", "mfa_timeout"]);
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
async fn cart(req: &mut Request) -> (u64, f64) {
    req.work(100..600).await;
    let items = req.pick(1..6);
    info!(event_name = "checkout_started", items, "checkout started");
    #[allow(clippy::cast_precision_loss)] // Cents of a small basket.
    let total = (0..items).map(|_| req.pick(199..9_999)).sum::<u64>() as f64 / 100.0;
    info!(event_name = "cart_priced", total, "cart priced");
    (items, total)
}

/// Asks the payments service to charge the order; its answer's status.
#[instrument(skip_all, fields(order_id = %order_id))]
async fn payment(app: &Checkout, order_id: &str, amount: f64) -> StatusCode {
    let url = format!("{}/orders/{order_id}/charge", app.payments);
    match app
        .client
        .post(url)
        .body(format!("{amount:.2}"))
        .send()
        .await
    {
        Ok(res) => res.status(),
        // The client middleware wrote the error record.
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

#[instrument(skip_all, fields(order_id = %order_id))]
async fn fulfilment(req: &mut Request, order_id: &str, items: u64, amount: f64) {
    req.work(100..1_200).await;
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
