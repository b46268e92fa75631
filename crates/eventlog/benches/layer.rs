//! Per-event cost of the eventlog layer, side by side with its peers.
//!
//! ```text
//! cargo bench -p eventlog --bench layer
//! ```
//!
//! Workload (the same for every contender): an INFO event with six fields
//! (`event_name`, a string id, an f64, a string, a u64, a bool) and a
//! message, inside two nested spans with three fields each, written to a
//! discarding writer. Contenders:
//!
//! - `floor`: a registry with a layer that does nothing (the dispatch cost);
//! - `eventlog`: this crate's layer, default envelope (promoted ids, span block);
//! - `fmt_json`: `tracing_subscriber::fmt::layer().json()` (current span + span list);
//! - `json_subscriber`: json-subscriber 0.3 (flattened event, current span, span list).
//!
//! Groups: `event` (one event in nested spans), `redaction` (the same event
//! with redaction off, on with no secret, and on with a password field),
//! `schema` (no schema, the recommended schema with a valid event, and with
//! a violating one),
//! `span_lifecycle` (a new span
//! with three fields, entered, exited and closed), `span_close_event` (the
//! same with a timing record at close). After criterion's report the bench
//! prints each median and its ratio to `fmt_json` and to `floor`.

// A bench prints its results table.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use eventlog_tests::workload::{emit_event, in_two_spans};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;

/// A layer that does nothing: what dispatch alone costs.
struct Nothing;

impl<S: Subscriber> Layer<S> for Nothing {}

/// The same event with one secret in it: a password field.
fn emit_event_with_secret() {
    tracing::info!(
        event_name = "order_placed",
        order_id = "ord_1001",
        amount = 72.49,
        currency = "USD",
        items = 2u64,
        password = "hunter2",
        "order placed"
    );
}

fn span_lifecycle() {
    let span = tracing::info_span!(
        "step",
        step = "charge",
        attempt = 2u64,
        region = "eu-west-1"
    );
    let entered = span.enter();
    black_box(&entered);
    drop(entered);
    drop(span);
}

/// Runs `bench` under `subscriber`, inside the two nested spans.
fn in_spans<S>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, subscriber: S, bench: fn())
where
    S: Subscriber + Send + Sync + 'static,
{
    tracing::subscriber::with_default(subscriber, || {
        in_two_spans(|| g.bench_function(id, |b| b.iter(bench)));
    });
}

fn eventlog_layer() -> eventlog::EventLayer {
    eventlog::layer()
        .service("checkout")
        .environment("bench")
        .version("1.0.0")
        .writer(std::io::sink)
}

fn fmt_json<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::io::sink)
}

fn json_subscriber<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    json_subscriber::fmt::layer()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(std::io::sink)
}

fn registry() -> tracing_subscriber::Registry {
    tracing_subscriber::registry()
}

/// The four contenders of the `event` and `span_lifecycle` groups.
fn bench_peers(c: &mut Criterion, group: &str, workload: fn()) {
    let mut g = c.benchmark_group(group);
    in_spans(&mut g, "floor", registry().with(Nothing), workload);
    in_spans(
        &mut g,
        "eventlog",
        registry().with(eventlog_layer()),
        workload,
    );
    in_spans(&mut g, "fmt_json", registry().with(fmt_json()), workload);
    in_spans(
        &mut g,
        "json_subscriber",
        registry().with(json_subscriber()),
        workload,
    );
    g.finish();
}

fn bench_redaction(c: &mut Criterion) {
    let mut g = c.benchmark_group("redaction");
    let off = eventlog_layer().redactor(eventlog::Redactor::none());
    in_spans(&mut g, "off", registry().with(off), emit_event);
    in_spans(
        &mut g,
        "default_no_secret",
        registry().with(eventlog_layer()),
        emit_event,
    );
    in_spans(
        &mut g,
        "default_one_secret",
        registry().with(eventlog_layer()),
        emit_event_with_secret,
    );
    g.finish();
}

/// The workload event with the recommended schema's required fields broken.
fn emit_violating_event() {
    tracing::info!(
        event_name = "order_placed",
        order_id = "ord_1001",
        currency = "usd",
        items = 2u64,
        gift = false,
        "order placed"
    );
}

fn bench_schema(c: &mut Criterion) {
    let mut g = c.benchmark_group("schema");
    in_spans(
        &mut g,
        "none",
        registry().with(eventlog_layer()),
        emit_event,
    );
    let schema = || eventlog_layer().schema(eventlog::Schema::recommended());
    in_spans(
        &mut g,
        "recommended_valid",
        registry().with(schema()),
        emit_event,
    );
    in_spans(
        &mut g,
        "recommended_violation",
        registry().with(schema()),
        emit_violating_event,
    );
    g.finish();
}

fn bench_span_close_event(c: &mut Criterion) {
    let mut g = c.benchmark_group("span_close_event");
    in_spans(&mut g, "floor", registry().with(Nothing), span_lifecycle);
    let eventlog = eventlog_layer().close_events(true);
    in_spans(
        &mut g,
        "eventlog",
        registry().with(eventlog),
        span_lifecycle,
    );
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::sink);
    in_spans(&mut g, "fmt_json", registry().with(fmt), span_lifecycle);
    g.finish();
}

/// Where criterion wrote its estimates: `$CRITERION_HOME`, else
/// `<target>/criterion` next to this executable's `<target>/<profile>/deps/`.
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median (ns) criterion measured for `group/id`, if it ran.
fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Prints the second and third contenders of `group` relative to the first.
fn print_overhead(group: &str, ids: [&str; 3]) {
    let [Some(base), Some(a), Some(b)] = ids.map(|id| median_ns(group, id)) else {
        return;
    };
    let pct = |v: f64| (v / base - 1.0) * 100.0;
    println!(
        "{group}: {} {base:.0} ns, {} {a:.0} ns ({:+.1} %), {} {b:.0} ns ({:+.1} %)",
        ids[0],
        ids[1],
        pct(a),
        ids[2],
        pct(b)
    );
}

fn print_ratios() {
    let groups: [(&str, &[&str]); 3] = [
        (
            "event",
            &["floor", "eventlog", "fmt_json", "json_subscriber"],
        ),
        (
            "span_lifecycle",
            &["floor", "eventlog", "fmt_json", "json_subscriber"],
        ),
        ("span_close_event", &["floor", "eventlog", "fmt_json"]),
    ];
    print_overhead(
        "redaction",
        ["off", "default_no_secret", "default_one_secret"],
    );
    print_overhead(
        "schema",
        ["none", "recommended_valid", "recommended_violation"],
    );
    println!("\n| group | contender | median | vs fmt_json | vs floor |");
    println!("|---|---|---|---|---|");
    for (group, ids) in groups {
        let fmt = median_ns(group, "fmt_json");
        let floor = median_ns(group, "floor");
        for id in ids {
            let Some(ns) = median_ns(group, id) else {
                continue;
            };
            let ratio =
                |base: Option<f64>| base.map_or("-".to_owned(), |b| format!("{:.3}×", ns / b));
            println!(
                "| {group} | {id} | {ns:.0} ns | {} | {} |",
                ratio(fmt),
                ratio(floor)
            );
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    bench_peers(&mut c, "event", emit_event);
    bench_redaction(&mut c);
    bench_schema(&mut c);
    bench_peers(&mut c, "span_lifecycle", span_lifecycle);
    bench_span_close_event(&mut c);
    c.final_summary();
    print_ratios();
}
