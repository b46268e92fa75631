//! What a run wrote, computed from the files themselves, and the on-call
//! questions they answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eventlog::ParsedRecord;
use eventlog_appender::read;

use crate::load::{LoadReport, MetricSample};

/// The services of the main job, which are also their files' prefixes.
pub const SERVICES: [&str; 2] = ["checkout", "payments"];
/// The dead-letter file both services share, beside the rotated files.
pub const DEAD_LETTER_FILE: &str = "dead_letter.jsonl";
/// The steps whose durations the summary compares.
pub const STEPS: [&str; 4] = ["auth", "cart", "payment", "fulfilment"];

/// What a run wrote, computed from the files themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Records in the rotated files.
    pub records: u64,
    /// Records in the rotated files, by service.
    pub by_service: BTreeMap<String, u64>,
    /// Records in the dead-letter file.
    pub dead_letters: u64,
    /// Records by `event_type`, all files.
    pub by_type: BTreeMap<String, u64>,
    /// Schema violations counted by the layers.
    pub violations: u64,
    /// Values the redactors changed.
    pub redactions: u64,
    /// Records lost (layers and appenders), by any reason.
    pub dropped: u64,
    /// The log files, rotated and active.
    pub files: Vec<PathBuf>,
    /// How many of them are gzip-compressed.
    pub compressed: usize,
    /// `http_request_completed` records, by service and status code.
    pub served: BTreeMap<(String, u64), u64>,
    /// Requests with records in both services, all under one `trace_id`.
    pub traced_across: u64,
    /// Requests whose records carry more than one `trace_id` (a broken chain).
    pub split_traces: u64,
    /// `user_login_attempt` records with `result = failure`.
    pub failed_logins: u64,
    /// `payment_failed` records by `error_type`.
    pub payment_failures: BTreeMap<String, u64>,
    /// p95 of `duration_ms` per step, from checkout's span-close records.
    pub step_p95_ms: BTreeMap<String, f64>,
    /// The first request (by id) with a `payment_failed` record.
    pub failed_payment_request: Option<String>,
    /// What the load generator saw.
    pub load: LoadReport,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Records exported over OTLP, when an endpoint was configured.
    pub exported: Option<u64>,
    /// The HTML report, once written.
    pub report: Option<PathBuf>,
    /// Events the layers' limits suppressed (counted, summed up in records).
    pub suppressed: u64,
    /// `events_suppressed` records: by suppressed event and reason, the
    /// summaries and the events they sum up.
    pub suppression_summaries: BTreeMap<String, (u64, u64)>,
    /// The services' `/metrics` samples, read before they stopped.
    pub metrics: Vec<MetricSample>,
    /// Each service's logger health over the whole run.
    pub health: Vec<(&'static str, eventlog::Health)>,
}

impl Summary {
    /// The figures one event adds to, by its name.
    fn count_event(&mut self, record: &ParsedRecord, name: &str, service: String) {
        let field = |f: &str| record.metadata(f).and_then(serde_json::Value::as_str);
        match name {
            "user_login_attempt" if field("result") == Some("failure") => {
                self.failed_logins += 1;
            }
            "http_request_completed" => {
                let status = record
                    .metadata("http.response.status_code")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or_default();
                *self.served.entry((service, status)).or_default() += 1;
            }
            eventlog::SUPPRESSED_EVENT => {
                let rule = format!(
                    "{} ({})",
                    field("suppressed_event").unwrap_or("?"),
                    field("reason").unwrap_or("?")
                );
                let n = record
                    .metadata("suppressed")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or_default();
                let entry = self.suppression_summaries.entry(rule).or_default();
                entry.0 += 1;
                entry.1 += n;
            }
            "payment_failed" => {
                let reason = field("error_type").unwrap_or("unknown").to_owned();
                *self.payment_failures.entry(reason).or_default() += 1;
                if let Some(req) = record.request_id()
                    && self
                        .failed_payment_request
                        .as_deref()
                        .is_none_or(|first| req < first)
                {
                    self.failed_payment_request = Some(req.to_owned());
                }
            }
            _ => {}
        }
    }
}

/// Reads every line the run wrote and computes the summary's file-based
/// figures: each service's files in write order (`eventlog_appender::read`),
/// each line a `ParsedRecord`.
pub fn summarize(logs: &Path) -> Result<Summary, Box<dyn Error>> {
    let mut summary = Summary::default();
    let mut durations: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    // request id -> (trace ids, services seen)
    let mut requests: HashMap<String, (BTreeSet<String>, BTreeSet<String>)> = HashMap::new();
    let files = SERVICES
        .iter()
        .map(|service| read::LogFiles::new(logs, *service).list())
        .collect::<Result<Vec<_>, _>>()?;
    for file in files.into_iter().flatten() {
        let mut lines = read::open(file.path())?;
        if lines.is_compressed() {
            summary.compressed += 1;
        }
        summary.files.push(file.path().to_owned());
        while let Some(line) = lines.next_line() {
            let record = ParsedRecord::parse(line?.text()?)?;
            summary.records += 1;
            let service = record.service().unwrap_or_default().to_owned();
            *summary.by_service.entry(service.clone()).or_default() += 1;
            if let (Some(request), Some(trace)) = (record.request_id(), record.trace_id()) {
                let seen = requests.entry(request.to_owned()).or_default();
                seen.0.insert(trace.to_string());
                seen.1.insert(service.clone());
            }
            let name = record.event_name().unwrap_or_default();
            let kind = record.event_type().unwrap_or("log");
            *summary.by_type.entry(kind.to_owned()).or_default() += 1;
            summary.count_event(&record, name, service);
            let span = record.span_name().unwrap_or_default();
            if name.ends_with("_completed")
                && record.service() == Some("checkout")
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
    summary.traced_across = requests
        .values()
        .filter(|(traces, services)| traces.len() == 1 && services.len() == SERVICES.len())
        .count() as u64;
    summary.split_traces = requests
        .values()
        .filter(|(traces, _)| traces.len() > 1)
        .count() as u64;
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
        writeln!(f, "  by service       {}", join(&self.by_service))?;
        writeln!(f, "  by category      {}", join(&self.by_type))?;
        let served: BTreeMap<String, u64> = self
            .served
            .iter()
            .map(|((service, status), n)| (format!("{service} {status}"), *n))
            .collect();
        writeln!(f, "  HTTP served      {}", join(&served))?;
        let requests: u64 = self.load.statuses.values().sum();
        writeln!(
            f,
            "  traced across    {} of {requests} requests reached payments, each under one trace_id in both services ({} split)",
            self.traced_across, self.split_traces
        )?;
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
        self.fmt_guards(f)?;
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
            "    eventlog query logs/ --event user_login_attempt --where result=failure --count"
        )?;
        writeln!(
            f,
            "  Why do payments fail?                    {}",
            join(&self.payment_failures)
        )?;
        writeln!(
            f,
            "    eventlog stats logs/ --event payment_failed                (the error types row)"
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
            "    eventlog stats logs/                                       (the span timing row)"
        )?;
        if let Some(req) = &self.failed_payment_request {
            let question = format!("What happened to {req}?");
            writeln!(f, "  {question:<41}its records, in time order")?;
            writeln!(
                f,
                "    eventlog trace {req} logs/                  (both services)"
            )?;
        }
        if let Some(report) = &self.report {
            writeln!(f)?;
            writeln!(f, "report: {}", report.display())?;
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

impl Summary {
    /// The limits' and the `/metrics` lines.
    fn fmt_guards(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<String> = self
            .suppression_summaries
            .iter()
            .map(|(rule, (records, n))| {
                format!("{rule}: {n} in {records} events_suppressed records")
            })
            .collect();
        writeln!(
            f,
            "  suppressed       {} (log storms held by the limits; {})",
            self.suppressed,
            if rules.is_empty() {
                "none".to_owned()
            } else {
                rules.join(", ")
            }
        )?;
        let metric = |service: &str, name: &str| {
            self.metrics
                .iter()
                .filter(|(s, m, _)| s == service && m.split('{').next() == Some(name))
                .map(|(_, _, v)| v)
                .sum::<f64>()
        };
        for service in SERVICES {
            if self.metrics.iter().any(|(s, _, _)| s == service) {
                writeln!(
                    f,
                    "  {service:<16} /metrics: emitted {}, accepted {}, suppressed {}, dropped {}, violations {}",
                    metric(service, "eventlog_records_emitted_total"),
                    metric(service, "eventlog_records_accepted_total"),
                    metric(service, "eventlog_events_suppressed_total"),
                    metric(service, "eventlog_records_dropped_total"),
                    metric(service, "eventlog_schema_violations_total"),
                )?;
            }
        }
        for (service, health) in &self.health {
            let reasons: Vec<String> = health.reasons.iter().map(ToString::to_string).collect();
            writeln!(
                f,
                "  {service:<16} health: {}{}",
                health.verdict(),
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", reasons.join("; "))
                }
            )?;
        }
        Ok(())
    }
}
