//! `OTEL_EXPORTER_OTLP_*` variables, read in a child process (setting the
//! environment of the test process itself would race with other tests).

use std::process::Command;

use eventlog_otlp::OtlpOutput;
use eventlog_tests::collector::Collector;
use tracing_subscriber::prelude::*;

/// Runs in the child only: builds with the child's environment and prints
/// the outcome. In a normal test run it does nothing.
#[test]
fn child_builds_from_its_environment() {
    let Some(case) = std::env::var_os("EVENTLOG_OTLP_ENV_CASE") else {
        return;
    };
    if case == "resource" {
        // Export one event with the layer's defaults (deployment from the
        // environment) to the collector the parent started.
        let endpoint = std::env::var("EVENTLOG_OTLP_ENV_COLLECTOR").unwrap();
        let (otlp, guard) = OtlpOutput::builder().endpoint(endpoint).build().unwrap();
        let layer = eventlog::layer().without_writer().output(otlp);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::info!(event_name = "order_placed", seq = 0_u64);
        });
        let stats = guard.shutdown(std::time::Duration::from_secs(10)).unwrap();
        println!("RESULT exported {}", stats.exported);
        return;
    }
    if case == "disabled" {
        // Issue 15: switched off by OTEL_SDK_DISABLED / OTEL_LOGS_EXPORTER.
        let (otlp, guard) = OtlpOutput::builder()
            .endpoint("http://127.0.0.1:9")
            .build()
            .unwrap();
        let layer = eventlog::layer().without_writer().output(otlp.clone());
        let stats = layer.stats();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for seq in 0..5_u64 {
                tracing::info!(event_name = "order_placed", seq);
            }
        });
        let shut = guard.shutdown(std::time::Duration::from_millis(100));
        let s = stats.snapshot();
        println!(
            "RESULT filtered {} emitted {} dropped {} shutdown {}",
            s.filtered,
            otlp.stats().emitted,
            s.dropped(),
            shut.is_ok()
        );
        return;
    }
    let builder = if case == "code_endpoint" {
        OtlpOutput::builder().endpoint("http://127.0.0.1:9")
    } else {
        OtlpOutput::builder()
    };
    match builder.build() {
        Ok((_otlp, guard)) => {
            drop(guard.shutdown(std::time::Duration::ZERO));
            println!("RESULT ok");
        }
        Err(e) => println!("RESULT err {e}"),
    }
}

/// The child's verdict for `case` under `env`.
fn build_with(case: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "config_env::child_builds_from_its_environment",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("EVENTLOG_OTLP_ENV_CASE", case);
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_SERVICE_NAME",
        "OTEL_SDK_DISABLED",
        "OTEL_LOGS_EXPORTER",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest may print `test … ... ` on the same line first.
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, verdict)| verdict));
    line.unwrap_or_else(|| {
        panic!(
            "no verdict from the child: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
    .to_owned()
}

#[test]
fn otel_sdk_disabled_and_logs_exporter_none_switch_the_output_off() {
    let off = "filtered 5 emitted 0 dropped 0 shutdown true";
    assert_eq!(
        build_with("disabled", &[("OTEL_SDK_DISABLED", "true")]),
        off
    );
    assert_eq!(
        build_with("disabled", &[("OTEL_LOGS_EXPORTER", "none")]),
        off
    );
    // On: the records are handed to the output (nothing listens on port 9).
    let on = build_with("disabled", &[("OTEL_SDK_DISABLED", "false")]);
    assert!(on.starts_with("filtered 0 emitted 5 "), "{on}");
    let bad = build_with("env", &[("OTEL_LOGS_EXPORTER", "console")]);
    assert!(
        bad.starts_with("err OTEL_LOGS_EXPORTER=\"console\" is not valid"),
        "{bad}"
    );
}

#[test]
fn otel_exporter_variables_are_read_checked_and_ranked() {
    // A malformed generic endpoint is a typed error naming the variable.
    let got = build_with("env", &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
    assert_eq!(
        got,
        "err invalid OTLP endpoint `collector:4317` (from OTEL_EXPORTER_OTLP_ENDPOINT): the scheme must be http or https"
    );
    // The logs-specific variable wins over the generic one.
    let got = build_with(
        "env",
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "bad"),
        ],
    );
    assert_eq!(got, "ok");
    // Code wins over the environment.
    let got = build_with("code_endpoint", &[("OTEL_EXPORTER_OTLP_ENDPOINT", "bad")]);
    assert_eq!(got, "ok");
    // Malformed timeout and protocol values are errors, logs-specific first.
    let got = build_with("code_endpoint", &[("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")]);
    assert_eq!(
        got,
        "err OTEL_EXPORTER_OTLP_TIMEOUT=\"soon\" is not valid: expected a positive number of milliseconds"
    );
    let got = build_with(
        "code_endpoint",
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
        ],
    );
    assert!(
        got.starts_with("err OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=\"0\""),
        "{got}"
    );
    // Headers: well-formed ones build; a pair without `=` names its
    // variable, with what may be a credential masked.
    let got = build_with(
        "code_endpoint",
        &[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%3Dcret,tenant=a")],
    );
    assert_eq!(got, "ok");
    let got = build_with(
        "code_endpoint",
        &[("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key")],
    );
    assert_eq!(
        got,
        "err OTEL_EXPORTER_OTLP_LOGS_HEADERS=\"***\" is not valid: expected `key=value` pairs separated by commas"
    );
    let got = build_with(
        "code_endpoint",
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
    );
    assert_eq!(
        got,
        "err OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\" is not valid: expected `grpc` or `http/protobuf`"
    );
    let got = build_with(
        "code_endpoint",
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
    );
    assert!(
        got.starts_with("err OTEL_EXPORTER_OTLP_COMPRESSION=\"zstd\""),
        "{got}"
    );
    // The protocol variable picks HTTP (which then needs the `http` feature).
    let got = build_with(
        "env",
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        ],
    );
    if cfg!(feature = "http") {
        assert_eq!(got, "ok");
    } else {
        assert!(got.contains("needs the `http` feature"), "{got}");
    }
}

#[test]
fn resource_merges_otel_resource_attributes_and_service_name() {
    let collector = Collector::start();
    let endpoint = collector.grpc_endpoint();
    let got = build_with(
        "resource",
        &[
            ("EVENTLOG_OTLP_ENV_COLLECTOR", endpoint.as_str()),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=payments,service.name=from-attributes,deployment.environment.name=staging",
            ),
            ("OTEL_SERVICE_NAME", "from-env"),
        ],
    );
    assert_eq!(got, "exported 1");
    let received = collector.wait_until(std::time::Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(received.len(), 1);
    let resource = &received[0]["resource"];
    assert_eq!(resource["team"], "payments", "{resource}");
    assert_eq!(resource["service.name"], "from-env", "{resource}");
    assert_eq!(
        resource["deployment.environment.name"], "staging",
        "{resource}"
    );
}

/// On `dab172c` a gRPC endpoint with port 99999 (or -1) from the
/// environment was accepted, and every export failed later.
#[test]
fn env_endpoint_port_99999_or_minus_1_is_an_error_naming_the_variable() {
    for (var, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:99999"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://127.0.0.1:-1"),
    ] {
        let got = build_with("env", &[(var, value)]);
        assert_eq!(
            got,
            format!(
                "err invalid OTLP endpoint `{value}` (from {var}): the port must be a number from 1 to 65535"
            )
        );
    }
}
