//! `EventLayer::from_env` reads `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`
//! and makes a malformed value an error; `layer()` reads no environment.
//! Run in a child process: setting the environment of the test process
//! itself would race with other tests.

use std::ffi::OsStr;
use std::process::Command;

use eventlog::testing::Capture;
use tracing_subscriber::prelude::*;

/// Runs in the child only: prints, as one JSON line, what `from_env` and
/// `layer()` made of the child's environment. In a normal run it does
/// nothing.
#[test]
fn child_reads_its_environment() {
    if std::env::var_os("EVENTLOG_FROM_ENV_CHILD").is_none() {
        return;
    }
    let written = |layer: eventlog::EventLayer| {
        let capture = Capture::new();
        let layer = layer.host("h").writer(capture.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::info!(event_name = "order_placed");
        });
        let record = capture.expect_event("order_placed");
        serde_json::json!({
            "service": record.get("service"),
            "environment": record.get("environment"),
        })
    };
    let from_env = match eventlog::EventLayer::from_env() {
        Ok(layer) => serde_json::json!({"ok": written(layer)}),
        Err(e) => serde_json::json!({"err": format!("{e:?}")}),
    };
    let plain = written(eventlog::layer());
    println!(
        "RESULT {}",
        serde_json::json!({"from_env": from_env, "layer": plain})
    );
}

/// The child's verdict under `env` (all other `OTEL_*` variables removed).
fn child(env: &[(&str, &OsStr)]) -> serde_json::Value {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "from_env::child_reads_its_environment",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("EVENTLOG_FROM_ENV_CHILD", "1")
    .env_remove(eventlog::OTEL_SERVICE_NAME)
    .env_remove(eventlog::OTEL_RESOURCE_ATTRIBUTES);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no RESULT line in {stdout}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn from_env_takes_service_and_attributes_and_layer_ignores_them() {
    let got = child(&[
        (eventlog::OTEL_SERVICE_NAME, OsStr::new("from-env")),
        (
            eventlog::OTEL_RESOURCE_ATTRIBUTES,
            OsStr::new("service.name=from-attributes,deployment.environment.name=staging"),
        ),
    ]);
    assert_eq!(
        got["from_env"]["ok"],
        serde_json::json!({"service": "from-env", "environment": "staging"}),
        "{got}"
    );
    assert_eq!(
        got["layer"],
        serde_json::json!({"service": null, "environment": null}),
        "{got}"
    );
}

#[test]
fn a_malformed_resource_attribute_is_an_error_naming_the_entry() {
    for bad in ["region", "=x", "service.name=%FF"] {
        let got = child(&[(eventlog::OTEL_RESOURCE_ATTRIBUTES, OsStr::new(bad))]);
        let err = got["from_env"]["err"]
            .as_str()
            .unwrap_or_else(|| panic!("{bad}: {got}"));
        assert!(err.starts_with("ResourceAttribute"), "{bad}: {err}");
        // `layer()` is unaffected by the environment.
        assert_eq!(
            got["layer"]["service"],
            serde_json::Value::Null,
            "{bad}: {got}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_service_name_that_is_not_unicode_is_an_error_naming_the_variable() {
    use std::os::unix::ffi::OsStrExt;
    let got = child(&[(eventlog::OTEL_SERVICE_NAME, OsStr::from_bytes(b"svc\xff"))]);
    assert_eq!(
        got["from_env"]["err"], "NotUnicode { name: \"OTEL_SERVICE_NAME\" }",
        "{got}"
    );
}
