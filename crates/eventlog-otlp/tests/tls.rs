//! OTLP over TLS (issue 15), against a real TLS terminator (stunnel) in
//! front of a real collector (rotel), with certificates made at test time:
//! a valid chain over gRPC and HTTP, a wrong CA, an expired certificate,
//! mutual TLS required (with and without a client certificate), the CA and
//! client files from `OTEL_EXPORTER_OTLP_*` and the system roots from
//! `SSL_CERT_FILE` (in a child process), and an outage behind TLS.

use std::process::Command;
use std::time::Duration;

use eventlog_otlp::{OtlpGuardError, OtlpOutput, OtlpOutputBuilder, Protocol};
use eventlog_tests::collector::Collector;
use eventlog_tests::tls::{Certs, ServerCert, Terminator};
use serde_json::Value;

use crate::support::emit_numbered;
use tracing_subscriber::prelude::*;

const N: u64 = 50;

fn backend_port(collector: &Collector, protocol: Protocol) -> u16 {
    match protocol {
        Protocol::HttpProtobuf => collector.http_port,
        _ => collector.grpc_port,
    }
}

fn tls_endpoint(tls: &Terminator, protocol: Protocol) -> String {
    match protocol {
        Protocol::HttpProtobuf => tls.endpoint("/v1/logs"),
        _ => tls.endpoint(""),
    }
}

fn seqs(records: &[Value]) -> Vec<u64> {
    let mut seen: Vec<u64> = records
        .iter()
        .filter_map(|r| r["attributes"]["seq"].as_u64())
        .collect();
    seen.sort_unstable();
    seen
}

/// A valid chain: every record arrives once, over the protocol given.
fn delivers_over_tls(protocol: Protocol, require_client_cert: bool) {
    let collector = Collector::start();
    let certs = Certs::new();
    let tls = Terminator::start(
        &certs,
        backend_port(&collector, protocol),
        ServerCert::Valid,
        require_client_cert,
    );
    let mut builder = OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(tls_endpoint(&tls, protocol))
        .tls_ca_certificate(&certs.ca);
    if require_client_cert {
        builder = builder.tls_client_certificate(&certs.client_cert, &certs.client_key);
    }
    let (otlp, guard, stats) = emit_numbered(builder, N);
    let report = guard.shutdown(Duration::from_secs(20)).unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}, {:?}\n{}",
            otlp.stats(),
            otlp.last_error(),
            tls.log()
        )
    });
    assert_eq!((report.exported, report.dropped()), (N, 0), "{report:?}");
    assert_eq!(stats.snapshot().dropped(), 0);
    let received = collector.wait_until(Duration::from_secs(10), |r| r.len() as u64 >= N);
    assert_eq!(seqs(&received), (0..N).collect::<Vec<_>>());
}

#[test]
fn grpc_over_tls_with_a_ca_file_delivers_every_record_once() {
    delivers_over_tls(Protocol::Grpc, false);
}

#[cfg(feature = "http")]
#[test]
fn http_over_tls_with_a_ca_file_delivers_every_record_once() {
    delivers_over_tls(Protocol::HttpProtobuf, false);
}

#[test]
fn grpc_with_mutual_tls_required_and_given_delivers() {
    delivers_over_tls(Protocol::Grpc, true);
}

#[cfg(feature = "http")]
#[test]
fn http_with_mutual_tls_required_and_given_delivers() {
    delivers_over_tls(Protocol::HttpProtobuf, true);
}

/// A handshake the collector side refuses: nothing is delivered, every
/// record is accounted for (dropped at shutdown, counted in the layer too),
/// `last_error` says why, and shutdown returns within its timeout.
fn refused(
    protocol: Protocol,
    server: ServerCert,
    trust_other_ca: bool,
    require_client_cert: bool,
    why: &[&str],
) {
    let collector = Collector::start();
    let certs = Certs::new();
    let tls = Terminator::start(
        &certs,
        backend_port(&collector, protocol),
        server,
        require_client_cert,
    );
    let ca = if trust_other_ca {
        &certs.other_ca
    } else {
        &certs.ca
    };
    let builder = OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(tls_endpoint(&tls, protocol))
        .timeout(Duration::from_secs(2))
        .tls_ca_certificate(ca);
    let (otlp, guard, stats) = emit_numbered(builder, N);
    // Retried (a handshake failure is a connection failure), never delivered.
    let flushed = otlp.flush_within(Duration::from_secs(2));
    assert!(
        matches!(
            flushed,
            Err(OtlpGuardError::Timeout {
                pending_records: N,
                ..
            })
        ),
        "{flushed:?}: {:?}",
        otlp.stats()
    );
    let last_error = otlp.last_error().expect("a failed export leaves a reason");
    let lower = last_error.to_lowercase();
    assert!(
        why.iter().any(|w| lower.contains(w)),
        "last_error {last_error:?} names none of {why:?}; stunnel said:\n{}",
        tls.log()
    );
    let result = guard.shutdown(Duration::from_millis(500));
    assert!(
        matches!(
            result,
            Err(OtlpGuardError::Timeout {
                pending_records: N,
                ..
            })
        ),
        "{result:?}"
    );
    let s = otlp.stats();
    assert_eq!(
        (s.emitted, s.exported, s.dropped_shutdown),
        (N, 0, N),
        "{s:?}"
    );
    assert!(s.failed_exports > 0, "{s:?}");
    assert_eq!(stats.snapshot().dropped_shutdown, N);
    assert!(collector.records().is_empty(), "nothing got through");
}

#[test]
fn a_wrong_ca_is_refused_with_a_clear_last_error_and_every_record_counted() {
    refused(
        Protocol::Grpc,
        ServerCert::Valid,
        true,
        false,
        &["unknownissuer", "unknown issuer", "certificate"],
    );
}

#[cfg(feature = "http")]
#[test]
fn a_wrong_ca_over_http_is_refused_with_a_clear_last_error() {
    refused(
        Protocol::HttpProtobuf,
        ServerCert::Valid,
        true,
        false,
        &["unknownissuer", "unknown issuer", "certificate"],
    );
}

#[test]
fn an_expired_server_certificate_is_refused() {
    refused(
        Protocol::Grpc,
        ServerCert::Expired,
        false,
        false,
        &["expired"],
    );
}

#[test]
fn mutual_tls_required_and_not_given_is_refused() {
    // The server asks for a certificate and closes the handshake without
    // one: the client sees the connection end (or a TLS alert), and under
    // load the export's own cancellation, which last_error then explains.
    refused(
        Protocol::Grpc,
        ServerCert::Valid,
        false,
        true,
        &[
            "certificate",
            "handshake",
            "closed",
            "reset",
            "eof",
            "connection",
            "transport",
        ],
    );
}

/// Runs in the child only: exports `N` events to `EVENTLOG_TLS_ENDPOINT`
/// with nothing set in code but the endpoint, and prints the outcome.
#[test]
fn child_exports_with_its_environment() {
    let Some(endpoint) = std::env::var_os("EVENTLOG_TLS_ENDPOINT") else {
        return;
    };
    let built = OtlpOutput::builder()
        .endpoint(endpoint.to_string_lossy())
        .timeout(Duration::from_secs(2))
        .build();
    let (otlp, guard) = match built {
        Ok(pair) => pair,
        Err(e) => {
            println!("RESULT err {e}");
            return;
        }
    };
    let layer = eventlog::layer().without_writer().output(otlp.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for seq in 0..N {
            tracing::info!(event_name = "order_placed", seq);
        }
    });
    let result = guard.shutdown(Duration::from_secs(5));
    println!(
        "RESULT exported {} last_error {:?} {result:?}",
        otlp.stats().exported,
        otlp.last_error()
    );
}

fn child(endpoint: &str, env: &[(&str, &std::path::Path)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "tls::child_exports_with_its_environment",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("EVENTLOG_TLS_ENDPOINT", endpoint);
    for var in [
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, result)| result.to_owned()))
        .unwrap_or_else(|| {
            panic!(
                "the child printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

#[test]
fn the_ca_and_client_files_come_from_the_otel_variables_and_system_roots_from_ssl_cert_file() {
    let collector = Collector::start();
    let certs = Certs::new();
    let tls = Terminator::start(&certs, collector.grpc_port, ServerCert::Valid, true);
    let endpoint = tls.endpoint("");
    let exported = format!("exported {N} last_error None Ok(");
    // CA and client identity from the logs-specific and generic variables.
    let got = child(
        &endpoint,
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", &certs.ca),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &certs.other_ca),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &certs.client_cert),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", &certs.client_key),
        ],
    );
    assert!(got.starts_with(&exported), "{got}");
    // No CA file: the system's roots, which SSL_CERT_FILE names.
    let got = child(
        &endpoint,
        &[
            ("SSL_CERT_FILE", &certs.ca),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &certs.client_cert),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &certs.client_key),
        ],
    );
    assert!(got.starts_with(&exported), "{got}");
    // The generic variable alone names the wrong CA: refused, said, counted.
    let got = child(
        &endpoint,
        &[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &certs.other_ca),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &certs.client_cert),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &certs.client_key),
        ],
    );
    assert!(got.starts_with("exported 0 last_error Some("), "{got}");
    // A certificate without its key is an error at build, naming the variable.
    let got = child(
        &endpoint,
        &[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &certs.client_cert)],
    );
    assert!(
        got.starts_with("err cannot use the OTLP client certificate")
            && got.contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
        "{got}"
    );
}

/// Files that cannot be used are typed errors at build, naming the file.
#[test]
fn unusable_certificate_files_are_errors_at_build() {
    let certs = Certs::new();
    let garbage = certs.dir().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = certs.dir().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let huge = certs.dir().join("huge.pem");
    std::fs::write(&huge, vec![b'A'; 5 << 20]).unwrap();
    let build = |b: OtlpOutputBuilder| b.endpoint("https://127.0.0.1:9").build().map(|_| ());
    let cases: [(&str, OtlpOutputBuilder, &str); 9] = [
        (
            "an empty path",
            OtlpOutput::builder().tls_ca_certificate(""),
            "CA certificate",
        ),
        (
            "a Unicode path that does not exist",
            OtlpOutput::builder().tls_ca_certificate(certs.dir().join("сертификат\u{202e}.pem")),
            "CA certificate",
        ),
        (
            "a directory",
            OtlpOutput::builder().tls_ca_certificate(certs.dir()),
            "CA certificate",
        ),
        (
            "a 5 MiB file",
            OtlpOutput::builder().tls_ca_certificate(&huge),
            "CA certificate",
        ),
        (
            "missing CA",
            OtlpOutput::builder().tls_ca_certificate(certs.dir().join("nope.pem")),
            "CA certificate",
        ),
        (
            "garbage CA",
            OtlpOutput::builder().tls_ca_certificate(&garbage),
            "CA certificate",
        ),
        (
            "empty CA",
            OtlpOutput::builder().tls_ca_certificate(&empty),
            "CA certificate",
        ),
        (
            "a key as the certificate",
            OtlpOutput::builder().tls_client_certificate(&certs.client_key, &certs.client_key),
            "client certificate",
        ),
        (
            "a key that is not the certificate's",
            OtlpOutput::builder().tls_client_certificate(&certs.client_cert, &certs.client_cert),
            "client key",
        ),
    ];
    for (case, builder, what_expected) in cases {
        match build(builder) {
            Err(eventlog_otlp::OtlpError::Tls { what, path, .. }) => {
                assert_eq!(what, what_expected, "{case}");
                assert!(
                    path.starts_with(certs.dir()) || path.as_os_str().is_empty(),
                    "{case}"
                );
            }
            other => panic!("{case}: {other:?}"),
        }
    }
}

/// The outage test behind TLS: the terminator stays up while the collector
/// behind it is stopped and restarted; nothing is lost, no duplicates.
#[test]
fn an_outage_behind_tls_loses_nothing() {
    let mut collector = Collector::not_started();
    let certs = Certs::new();
    let tls = Terminator::start(&certs, collector.grpc_port, ServerCert::Valid, false);
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(tls.endpoint(""))
        .tls_ca_certificate(&certs.ca)
        .build()
        .unwrap();
    let layer = eventlog::layer().without_writer().output(otlp.clone());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let send = |from: u64, to: u64| {
        tracing::dispatcher::with_default(&dispatch, || {
            for seq in from..to {
                tracing::info!(event_name = "order_placed", seq);
            }
        });
    };
    // The collector is down behind the terminator: the TLS handshake
    // works, the request does not. A flush makes the exporter try now.
    send(0, 500);
    let during = otlp.flush_within(Duration::from_secs(2));
    assert!(
        matches!(during, Err(OtlpGuardError::Timeout { .. })),
        "{during:?}"
    );
    assert!(otlp.stats().failed_exports > 0, "{:?}", otlp.stats());
    collector.restart();
    assert_eq!(
        otlp.flush_within(Duration::from_secs(30)),
        Ok(()),
        "{:?}",
        otlp.last_error()
    );
    // Stopped mid-stream.
    collector.stop();
    let failed_before = otlp.stats().failed_exports;
    send(500, 1_500);
    let during = otlp.flush_within(Duration::from_secs(2));
    assert!(
        matches!(during, Err(OtlpGuardError::Timeout { .. })),
        "{during:?}"
    );
    let s = otlp.stats();
    assert!(s.failed_exports > failed_before && s.queued > 0, "{s:?}");
    collector.restart();
    send(1_500, 2_000);
    let report = guard.shutdown(Duration::from_secs(60)).unwrap();
    assert_eq!(
        (report.exported, report.dropped()),
        (2_000, 0),
        "{report:?}"
    );
    assert!(report.failed_exports > 0, "{report:?}");
    let received = collector.wait_until(Duration::from_secs(20), |r| r.len() >= 2_000);
    // One output file across the restarts: every record once.
    assert_eq!(seqs(&received), (0..2_000).collect::<Vec<_>>());
}

/// The `tls` feature changes reqwest's features for the whole build:
/// another reqwest client in the process (one built without TLS features of
/// its own, as `opentelemetry-otlp`'s is) must still build, with no
/// process-wide rustls provider installed by anyone. (With reqwest's
/// `rustls-no-provider` it panicked.)
#[cfg(feature = "http")]
#[test]
fn another_reqwest_client_in_the_process_still_builds() {
    let (_otlp, guard) = OtlpOutput::builder()
        .endpoint("http://127.0.0.1:9")
        .build()
        .unwrap();
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let client = std::panic::catch_unwind(|| reqwest::Client::builder().build());
    assert!(
        matches!(client, Ok(Ok(_))),
        "a plain reqwest client did not build"
    );
    drop(guard.shutdown(Duration::ZERO));
}
