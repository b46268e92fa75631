//! A real OTLP collector (rotel) for the OTLP output's tests and bench:
//! started on free loopback ports, with a Python logs processor that
//! appends one JSON line per received record to a file, stopped with
//! SIGTERM by pid. A metrics processor in the same module appends one JSON
//! line per received metric data point to a second file ([`Collector::metric_points`]).
//!
//! The `rotel-agent` binary comes from `ROTEL_AGENT`, else from the
//! workspace's `scripts/install-collector`; when neither works the test
//! fails, naming what was tried: it never skips.
//!
//! ```
//! use std::net::TcpStream;
//! use eventlog_tests::collector::Collector;
//!
//! let mut collector = Collector::start();
//! assert!(TcpStream::connect(("127.0.0.1", collector.grpc_port)).is_ok());
//! assert_eq!(collector.endpoint("grpc"), collector.grpc_endpoint());
//! assert!(collector.endpoint("http/protobuf").ends_with("/v1/logs"));
//! // Export to `grpc_endpoint()` or `http_endpoint()`, then read what arrived
//! // with `records()` or `wait_until(timeout, predicate)`.
//! assert!(collector.records().is_empty(), "nothing exported yet");
//! collector.stop();
//! ```

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const PROCESSOR: &str = r#"
import json, os

OUT = os.environ["EVENTLOG_OTLP_TEST_OUT"]

def _plain(v, depth=0):
    # rotel hands attribute values as objects with a `.value`; unwrap them.
    if depth > 4:
        return repr(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    inner = getattr(v, "value", None)
    if inner is not None and inner is not v:
        return _plain(inner, depth + 1)
    return repr(v)

def _kind(v):
    v = _plain(v)
    return {bool: "bool", int: "int", float: "double", str: "string"}.get(type(v), "other")

def _describe(o):
    return type(o).__name__ + ":" + ",".join(a for a in dir(o) if not a.startswith("__"))

def _unwrap(v):
    # A complex enum's tuple variant (MetricData_Sum(Sum), NumberDataPointValue_AsInt(int)).
    for attr in ("_0", "value"):
        inner = getattr(v, attr, None)
        if inner is not None and inner is not v:
            return inner
    try:
        return v[0]
    except BaseException:
        return v

def process_metrics(resource_metrics):
    try:
        resource = {}
        res = getattr(resource_metrics, "resource", None)
        if res is not None:
            for kv in res.attributes:
                resource[kv.key] = _plain(kv.value)
        lines = []
        for sm in resource_metrics.scope_metrics:
            scope = sm.scope.name if getattr(sm, "scope", None) is not None else None
            version = sm.scope.version if getattr(sm, "scope", None) is not None else None
            for m in sm.metrics:
                data = m.data
                kind = type(data).__name__
                inner = _unwrap(data)
                points = getattr(inner, "data_points", None)
                if points is None:
                    raise RuntimeError("no data points: " + _describe(data) + " / " + _describe(inner))
                for p in points:
                    attrs = {}
                    for kv in p.attributes:
                        attrs[kv.key] = _plain(kv.value)
                    value = _unwrap(p.value)
                    lines.append(json.dumps({
                        "name": m.name,
                        "description": m.description,
                        "unit": m.unit,
                        "kind": kind,
                        "is_monotonic": getattr(inner, "is_monotonic", None),
                        "temporality": str(getattr(inner, "aggregation_temporality", None)),
                        "attributes": attrs,
                        "value": value if isinstance(value, (int, float)) else repr(value),
                        "start": p.start_time_unix_nano,
                        "time": p.time_unix_nano,
                        "scope": scope,
                        "scope_version": version,
                        "resource": resource,
                    }))
        if lines:
            with open(OUT + ".metrics", "a") as f:
                f.write("\n".join(lines) + "\n")
    except BaseException as e:
        try:
            with open(OUT + ".errors", "a") as f:
                f.write("metrics: " + repr(e) + "\n")
        except BaseException:
            pass

def process_logs(resource_logs):
    # An exception escaping this function crashes rotel: catch everything.
    try:
        resource = {}
        res = getattr(resource_logs, "resource", None)
        if res is not None:
            for kv in res.attributes:
                resource[kv.key] = _plain(kv.value)
        lines = []
        for sl in resource_logs.scope_logs:
            scope = sl.scope.name if getattr(sl, "scope", None) is not None else None
            for lr in sl.log_records:
                attrs = {}
                types = {}
                for kv in lr.attributes:
                    attrs[kv.key] = _plain(kv.value)
                    types[kv.key] = _kind(kv.value)
                lines.append(json.dumps({
                    "time": lr.time_unix_nano,
                    "observed": lr.observed_time_unix_nano,
                    "severity_number": _plain(lr.severity_number),
                    "severity_text": lr.severity_text,
                    "event_name": lr.event_name,
                    "body": _plain(lr.body),
                    "attributes": attrs,
                    "types": types,
                    "trace_id": bytes(lr.trace_id).hex() if lr.trace_id else "",
                    "span_id": bytes(lr.span_id).hex() if lr.span_id else "",
                    "flags": lr.flags,
                    "scope": scope,
                    "resource": resource,
                }))
        if lines:
            with open(OUT, "a") as f:
                f.write("\n".join(lines) + "\n")
    except BaseException as e:
        try:
            with open(OUT + ".errors", "a") as f:
                f.write(repr(e) + "\n")
        except BaseException:
            pass
"#;

/// The `rotel-agent` binary: `ROTEL_AGENT`, else installed by the
/// workspace's `scripts/install-collector`. Panics (never skips) if neither works.
pub fn agent() -> &'static Path {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT.get_or_init(|| {
        if let Some(path) = std::env::var_os("ROTEL_AGENT").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "ROTEL_AGENT={} is not a file: install the collector with scripts/install-collector",
                path.display()
            );
            return path;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-collector");
        let out = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("no OTLP collector: cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "no OTLP collector: {} failed ({}); the OTLP tests need rotel (pip install rotel==0.0.1a15)",
            script.display(),
            out.status
        );
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(path.is_file(), "install-collector printed {}, which is not a file", path.display());
        path
    })
}

/// A free loopback port (the OS picks; released before rotel binds it).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A running rotel, stopped (SIGTERM by pid) when dropped.
#[derive(Debug)]
pub struct Collector {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Count with rotel's own telemetry instead of the Python processor.
    counting: bool,
    /// The OTLP/gRPC port on 127.0.0.1.
    pub grpc_port: u16,
    /// The OTLP/HTTP port on 127.0.0.1.
    pub http_port: u16,
}

impl Collector {
    /// Starts rotel on fresh free ports.
    pub fn start() -> Self {
        let mut c = Self::not_started();
        for _attempt in 0..5 {
            if c.spawn() {
                return c;
            }
            // Someone took a port between our probe and rotel's bind.
            c.grpc_port = free_port();
            c.http_port = free_port();
        }
        panic!(
            "rotel-agent did not start on free ports after 5 attempts:\n{}",
            c.log()
        );
    }

    /// Reserved ports for a collector that is not started yet (the outage tests).
    pub fn not_started() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("processor.py"), PROCESSOR).expect("write processor");
        Collector {
            child: None,
            dir,
            counting: false,
            grpc_port: free_port(),
            http_port: free_port(),
        }
    }

    /// Starts rotel without the Python processor (its ceiling is ~45 k
    /// records/s), counting what it accepted with its own telemetry; read
    /// the count with [`Collector::accepted`] after [`Collector::stop`].
    pub fn start_counting() -> Self {
        let mut c = Self::not_started();
        c.counting = true;
        for _attempt in 0..5 {
            if c.spawn() {
                return c;
            }
            c.grpc_port = free_port();
            c.http_port = free_port();
        }
        panic!(
            "rotel-agent did not start on free ports after 5 attempts:\n{}",
            c.log()
        );
    }

    /// Log records rotel says it accepted (`rotel_receiver_accepted_log_records`,
    /// all protocols), as printed when it stopped.
    pub fn accepted(&self) -> u64 {
        let log = self.log();
        if !log.contains("rotel_receiver_accepted_log_records") {
            return 0;
        }
        let Some(block) = log.rsplit("rotel_receiver_accepted_log_records").next() else {
            return 0;
        };
        let block = block.split("Metric #").next().unwrap_or_default();
        block
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Value: "))
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .sum()
    }

    /// (Re)starts rotel on this collector's ports, appending to the same file.
    /// Panics if it does not come up within 10 s.
    pub fn restart(&mut self) {
        for _ in 0..50 {
            if self.spawn() {
                return;
            }
            // The old process may still hold the port for a moment.
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "rotel-agent did not restart on ports {}/{}",
            self.grpc_port, self.http_port
        );
    }

    /// Starts the process; true once it listens on both ports and is alive.
    fn spawn(&mut self) -> bool {
        assert!(self.child.is_none(), "collector already running");
        let log = std::fs::File::create(self.dir.path().join("rotel.log")).expect("log file");
        let mut child = Command::new(agent())
            .arg("start")
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{}", self.grpc_port))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{}", self.http_port))
            .arg("--exporter")
            .arg("blackhole")
            .args(if self.counting {
                vec![
                    "--enable-internal-telemetry".into(),
                    "--debug-log".into(),
                    "metrics".into(),
                    "--debug-log-verbosity".into(),
                    "detailed".into(),
                ]
            } else {
                vec![
                    std::ffi::OsString::from("--otlp-with-logs-processor"),
                    self.dir.path().join("processor.py").into(),
                    "--otlp-with-metrics-processor".into(),
                    self.dir.path().join("processor.py").into(),
                ]
            })
            .env("EVENTLOG_OTLP_TEST_OUT", self.out_path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log clone"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", agent().display()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !alive(&mut child) {
                let _ = child.wait();
                return false;
            }
            let up = |p: u16| TcpStream::connect(("127.0.0.1", p)).is_ok();
            if up(self.grpc_port) && up(self.http_port) && alive(&mut child) {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Stops rotel with SIGTERM by pid and waits for it to exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:<grpc_port>`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// The OTLP/HTTP logs endpoint, `http://127.0.0.1:<http_port>/v1/logs`.
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/logs", self.http_port)
    }

    /// The endpoint for the protocol named as in `OTEL_EXPORTER_OTLP_PROTOCOL`
    /// (`eventlog_otlp::Protocol::as_str`): `grpc` or `http/protobuf`.
    ///
    /// # Panics
    ///
    /// On any other name: this collector speaks only those two.
    pub fn endpoint(&self, protocol: &str) -> String {
        match protocol {
            "grpc" => self.grpc_endpoint(),
            "http/protobuf" => self.http_endpoint(),
            other => panic!("the test collector does not speak OTLP protocol {other:?}"),
        }
    }

    fn out_path(&self) -> PathBuf {
        self.dir.path().join("received.jsonl")
    }

    /// Every record received so far, one JSON object each.
    pub fn records(&self) -> Vec<Value> {
        let errors = self.out_path().with_extension("jsonl.errors");
        if let Ok(text) = std::fs::read_to_string(&errors) {
            panic!("the logs processor failed: {text}");
        }
        complete_lines(&self.out_path())
    }

    /// Every metric data point received so far, one JSON object each:
    /// `name`, `description`, `unit`, `kind` (`MetricData_Sum`,
    /// `MetricData_Gauge`, …), `is_monotonic`, `temporality`, `attributes`,
    /// `value`, `start`, `time`, `scope`, `scope_version`, `resource`.
    pub fn metric_points(&self) -> Vec<Value> {
        let errors = self.out_path().with_extension("jsonl.errors");
        if let Ok(text) = std::fs::read_to_string(&errors) {
            panic!("the processor failed: {text}");
        }
        complete_lines(&self.out_path().with_extension("jsonl.metrics"))
    }

    /// Polls (bounded) until `pred` holds on the received metric points; returns them.
    pub fn wait_for_metrics(
        &self,
        timeout: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let points = self.metric_points();
            if pred(&points) || Instant::now() >= deadline {
                return points;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Polls (bounded) until `pred` holds on the received records; returns them.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.records();
            if pred(&records) || Instant::now() >= deadline {
                return records;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The collector's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rotel.log")).unwrap_or_default()
    }
}

/// Alive and not a zombie: `try_wait` reaps an exited child, and
/// `/proc/PID/status` tells a zombie apart.
fn alive(child: &mut Child) -> bool {
    if !matches!(child.try_wait(), Ok(None)) {
        return false;
    }
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    !status
        .lines()
        .any(|l| l.starts_with("State:") && (l.contains('Z') || l.contains('X')))
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The JSON objects of `path`'s complete lines (none if it does not exist
/// yet): the processor may be writing right now, so a last line without
/// its newline does not count.
fn complete_lines(path: &std::path::Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
    complete
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad processor line {l}: {e}")))
        .collect()
}
