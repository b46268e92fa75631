//! A real headless Chromium, driven over the Chrome DevTools Protocol, for
//! the tests of pages the project writes (the HTML report).
//!
//! The binary comes from `CHROMIUM` (set by `./scripts/test`, which installs
//! Debian's `chromium` when it is missing), else `chromium` on `PATH`; with
//! neither, [`Browser::launch`] panics with what to do. Every console
//! message of level error, every uncaught exception and every network
//! request the page makes is recorded, so a test can assert there were none.
//!
//! ```text
//! chromium --headless --remote-debugging-port=0 ── stderr: "DevTools listening on ws://…"
//!    └─ one websocket: Target.createTarget → attachToTarget (flatten) → a session
//!         Runtime / Log / Network / Page events collected while waiting for replies
//! ```

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long any one command may take before the test fails.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running headless Chromium with one page open.
pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("pid", &self.child.id())
            .field("session", &self.session)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// A decoded screenshot: RGBA pixels, row by row.
#[derive(Debug, Clone)]
pub struct Screenshot {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` RGBA pixels.
    pub rgba: Vec<u8>,
    /// The PNG as Chromium sent it.
    pub png: Vec<u8>,
}

impl Screenshot {
    /// Pixels in the rectangle (CSS pixels at scale 1) that differ from
    /// `background` by more than a small tolerance.
    pub fn ink(&self, x: u32, y: u32, width: u32, height: u32, background: [u8; 3]) -> u64 {
        let mut n = 0;
        for row in y..(y + height).min(self.height) {
            for col in x..(x + width).min(self.width) {
                let i = ((row * self.width + col) * 4) as usize;
                let px = &self.rgba[i..i + 3];
                let far = px.iter().zip(background).any(|(&a, b)| a.abs_diff(b) > 24);
                n += u64::from(far);
            }
        }
        n
    }
}

/// The browser binary the tests use.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    for dir in std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no Chromium: run ./scripts/test (it installs Debian's chromium), or \
         `export CHROMIUM=$(./scripts/install-browser)`"
    )
}

impl Browser {
    /// Starts Chromium headless with a fresh profile and the network
    /// features that phone home turned off, and opens a blank page.
    ///
    /// # Panics
    ///
    /// If Chromium is missing or does not start: a test that needs a
    /// browser fails, it never skips.
    pub fn launch() -> Self {
        let binary = chromium();
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                "--window-size=1280,2400",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let url = devtools_url(stderr, &binary);
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("DevTools named {url}"));
        let tcp =
            TcpStream::connect(address).unwrap_or_else(|e| panic!("DevTools at {address}: {e}"));
        let handle = tcp.try_clone().expect("a second handle");
        let (socket, _) = tungstenite::client(url.as_str(), tcp)
            .unwrap_or_else(|e| panic!("DevTools websocket {url}: {e}"));
        // After the handshake, reads time out instead of hanging a test.
        handle
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("a read timeout");
        let mut browser = Self {
            child,
            socket,
            session: String::new(),
            next_id: 1,
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.browser_call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = browser.browser_call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        attached["sessionId"]
            .as_str()
            .expect("a session id")
            .clone_into(&mut browser.session);
        for domain in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            browser.call(domain, json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": 2400, "deviceScaleFactor": 1, "mobile": false }),
        );
        browser
    }

    /// Opens `path` (a local file) and waits for its `load` event and for
    /// the page's scripts to settle.
    pub fn open_file(&mut self, path: &Path) {
        let url = format!(
            "file://{}",
            path.canonicalize().expect("an existing file").display()
        );
        self.open(&url);
    }

    /// Opens `url` and waits for its `load` event.
    pub fn open(&mut self, url: &str) {
        let seen = self.events.len();
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for_event(seen, "Page.loadEventFired");
        // Two animation frames: whatever `load` handlers drew is painted.
        self.eval(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
        );
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns
    /// its value as JSON.
    ///
    /// # Panics
    ///
    /// If the expression throws.
    pub fn eval(&mut self, expression: &str) -> Value {
        let reply = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(exception) = reply.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        reply["result"].get("value").cloned().unwrap_or(Value::Null)
    }

    /// Presses the left button at `from`, moves to `to` in steps, releases:
    /// a drag, as a user's mouse makes it (CSS pixels of the viewport).
    pub fn drag(&mut self, from: (f64, f64), to: (f64, f64)) {
        let mouse = |kind: &str, (x, y): (f64, f64), buttons: u8| json!({ "type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1 });
        self.call("Input.dispatchMouseEvent", mouse("mouseMoved", from, 0));
        self.call("Input.dispatchMouseEvent", mouse("mousePressed", from, 1));
        for step in 1..=8 {
            let t = f64::from(step) / 8.0;
            let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            self.call("Input.dispatchMouseEvent", mouse("mouseMoved", at, 1));
        }
        self.call("Input.dispatchMouseEvent", mouse("mouseReleased", to, 0));
        self.eval(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
        );
    }

    /// A screenshot of the whole page, decoded.
    pub fn screenshot(&mut self) -> Screenshot {
        self.capture(json!({ "format": "png", "captureBeyondViewport": true }))
    }

    /// A screenshot of the page's top `width` × `height` CSS pixels.
    pub fn screenshot_top(&mut self, width: u32, height: u32) -> Screenshot {
        self.capture(json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
        }))
    }

    fn capture(&mut self, params: Value) -> Screenshot {
        let reply = self.call("Page.captureScreenshot", params);
        let png = base64::engine::general_purpose::STANDARD
            .decode(reply["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a buffer size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf[..info.buffer_size()].to_vec(),
            png::ColorType::Rgb => buf[..info.buffer_size()]
                .chunks(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            other => panic!("screenshot colour type {other:?}"),
        };
        Screenshot {
            width: info.width,
            height: info.height,
            rgba,
            png,
        }
    }

    /// Console errors, uncaught exceptions and error log entries so far.
    pub fn errors(&mut self) -> Vec<String> {
        self.drain();
        self.events
            .iter()
            .filter_map(|e| match e["method"].as_str()? {
                "Runtime.exceptionThrown" => Some(e["params"]["exceptionDetails"].to_string()),
                "Runtime.consoleAPICalled" if e["params"]["type"] == "error" => {
                    Some(e["params"]["args"].to_string())
                }
                "Log.entryAdded" if e["params"]["entry"]["level"] == "error" => {
                    Some(e["params"]["entry"].to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// The URL of every network request the page made, but the pages it
    /// was told to open.
    pub fn requests(&mut self) -> Vec<String> {
        self.drain();
        let opened: Vec<String> = self
            .events
            .iter()
            .filter(|e| e["method"] == "Page.frameNavigated")
            .filter_map(|e| e["params"]["frame"]["url"].as_str().map(str::to_owned))
            .collect();
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter_map(|e| e["params"]["request"]["url"].as_str())
            .filter(|url| !opened.iter().any(|o| o == url))
            .map(str::to_owned)
            .collect()
    }

    /// A command to the page's session; its `result`.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method });
        message["params"] = params;
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            assert!(
                Instant::now() < deadline,
                "{method}: no reply in {REPLY_TIMEOUT:?}"
            );
            let Some(reply) = self.read() else { continue };
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
            self.events.push(reply);
        }
    }

    fn wait_for_event(&mut self, after: usize, method: &str) {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        while !self.events[after..].iter().any(|e| e["method"] == method) {
            assert!(
                Instant::now() < deadline,
                "no {method} in {REPLY_TIMEOUT:?}"
            );
            if let Some(event) = self.read() {
                self.events.push(event);
            }
        }
    }

    /// Reads what is waiting, without blocking for more.
    fn drain(&mut self) {
        while let Some(event) = self.read() {
            self.events.push(event);
        }
    }

    /// One message, or `None` after the short read timeout.
    fn read(&mut self) -> Option<Value> {
        match self.socket.read() {
            Ok(Message::Text(text)) => serde_json::from_str(&text).ok(),
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("DevTools connection: {e}"),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads Chromium's stderr until it names its DevTools websocket; the rest
/// of stderr is drained on a thread so the browser never blocks on it.
fn devtools_url(stderr: std::process::ChildStderr, binary: &Path) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line
                .split_once("DevTools listening on ")
                .map(|(_, u)| u.trim().to_owned())
            {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(Ok(url));
                }
            } else if tx.is_some() {
                seen.push(line);
            }
        }
        if let Some(tx) = tx {
            let _ = tx.send(Err(seen.join("\n")));
        }
    });
    match rx.recv_timeout(REPLY_TIMEOUT) {
        Ok(Ok(url)) => url,
        Ok(Err(stderr)) => panic!(
            "{} exited before DevTools listened:\n{stderr}",
            binary.display()
        ),
        Err(
            std::sync::mpsc::RecvTimeoutError::Timeout
            | std::sync::mpsc::RecvTimeoutError::Disconnected,
        ) => panic!(
            "{} did not open DevTools in {REPLY_TIMEOUT:?}",
            binary.display()
        ),
    }
}
