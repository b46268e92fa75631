//! The README's "Logger health and metrics" set-up, as a program that runs:
//! the layer, a rotating file and an OTLP output (to `OTEL_EXPORTER_OTLP_ENDPOINT`,
//! by default a collector on localhost that need not be there), their counters
//! served on `/metrics` and judged on `/health`, then both read back once.
//!
//! ```text
//! cargo run --example health
//! ```

#![allow(clippy::print_stdout)] // A program that shows what it scraped.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use eventlog::{HealthCheck, Metric, MetricsServer, OutputStatus};
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("eventlog-health-{}", std::process::id()));
    let runtime = tokio::runtime::Runtime::new()?;
    // The gRPC exporter is built inside a runtime.
    let _enter = runtime.enter();

    // --- as in the README ---
    let layer = eventlog::layer().service("checkout");
    let stats = layer.stats();
    let (otlp, otlp_guard) = eventlog_otlp::OtlpOutput::builder()
        .stats(stats.clone())
        .metrics_interval(Duration::from_secs(60)) // OTLP metrics: every 60 s and once at shutdown
        .build()?;
    let (file, file_guard) = eventlog_appender::RollingFile::builder()
        .directory(&dir)
        .build_non_blocking()?;
    let disk = file.stats(); // the appender does not depend on eventlog: adapt it
    let check = HealthCheck::builder(stats.clone())
        .violation_rate(0.01) // > 1 violation per 100 records: degraded
        .unreachable_after(Duration::from_secs(30)) // the collector failing for 30 s: degraded
        .output("otlp", otlp.clone())
        .output("file", {
            let d = disk.clone();
            move || OutputStatus::new().io_errors(d.snapshot().write_errors)
        })
        .build();
    let server = MetricsServer::builder() // feature `metrics-server`; 127.0.0.1:0 by default
        .source(stats.clone())
        .source(otlp.clone())
        .source(move |out: &mut Vec<Metric>| {
            let s = disk.snapshot();
            out.push(
                Metric::counter("eventlog.file.lines.written", "Lines written.")
                    .value(s.lines_written),
            );
        })
        .health(check)
        .start()?; // GET /metrics, GET /health; dropping `server` stops it
    let layer = layer.writer(file).output(otlp);
    // --- end of the README's part ---

    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..10 {
            tracing::info!(event_name = "order_placed", order_id = i);
        }
    });
    for path in ["/metrics", "/health"] {
        let mut stream = std::net::TcpStream::connect(server.local_addr())?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        println!("GET http://{}{path}\n{body}", server.local_addr());
    }
    drop(server);
    drop(file_guard);
    drop(otlp_guard);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
