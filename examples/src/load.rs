//! The load generator: the outside world calling checkout. It writes no
//! records of its own (it stands for browsers and mobile apps); it sends
//! what they would: a request id, a bearer token, and for some requests a
//! caller's `traceparent`.

use std::error::Error;
use std::net::SocketAddr;

use crate::simulation::{Request, TOKEN};

/// What the callers saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Responses by status code.
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// Requests whose response echoed a different `X-Request-ID`.
    pub id_mismatches: u64,
}

/// Sends requests `0..requests` to `checkout`'s `POST /checkout`,
/// `concurrency` at a time, and waits for every answer.
pub fn run(
    checkout: SocketAddr,
    requests: u64,
    concurrency: u64,
    seed: u64,
) -> Result<LoadReport, Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://{checkout}/checkout");
        let callers: Vec<_> = (0..concurrency.max(1))
            .map(|caller| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    let mut n = caller;
                    while n < requests {
                        let req = Request::new(seed, n);
                        let mut call = client
                            .post(&url)
                            .header("x-request-id", &req.id)
                            .header("authorization", format!("Bearer {TOKEN}"));
                        if let Some(tp) = &req.traceparent {
                            call = call.header("traceparent", tp);
                        }
                        let res = call.send().await?;
                        let echoed = res
                            .headers()
                            .get("x-request-id")
                            .map(|v| v.as_bytes().to_vec());
                        answers.push((
                            res.status().as_u16(),
                            echoed.as_deref() == Some(req.id.as_bytes()),
                        ));
                        n += concurrency.max(1);
                    }
                    Ok::<_, reqwest::Error>(answers)
                })
            })
            .collect();
        let mut report = LoadReport::default();
        for caller in callers {
            for (status, echoed) in caller.await?? {
                *report.statuses.entry(status).or_default() += 1;
                report.id_mismatches += u64::from(!echoed);
            }
        }
        Ok(report)
    })
}

/// One sample of a service's `/metrics`: `(service, metric{labels}, value)`.
pub type MetricSample = (String, String, f64);

/// Each service's `/metrics`, read over HTTP as a scraper would, and the
/// `eventlog_*` samples in it.
pub fn metrics(services: &[(&str, SocketAddr)]) -> Result<Vec<MetricSample>, Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut samples = Vec::new();
        for (service, addr) in services {
            let text = client
                .get(format!("http://{addr}/metrics"))
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            for line in text.lines().filter(|l| l.starts_with("eventlog_")) {
                if let Some((name, value)) = line.rsplit_once(' ')
                    && let Ok(value) = value.parse::<f64>()
                {
                    samples.push(((*service).to_owned(), name.to_owned(), value));
                }
            }
        }
        Ok(samples)
    })
}
