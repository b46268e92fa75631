//! The browser harness itself, against pages whose answers are known: it
//! sees what a page draws, what it does on a drag, and it catches the
//! errors and network requests a self-contained page must not have.

use eventlog_tests::browser::Browser;

/// A page with a bar chart drawn by script and a strip that counts the
/// bars a drag covers.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<style>body{margin:0;background:#fff} #chart{display:block}</style></head>
<body>
<canvas id="chart" width="400" height="100"></canvas>
<output id="covered">0</output>
<script>
const bars = [3, 9, 4, 7, 1, 8, 6, 2, 5, 10];
const c = document.getElementById('chart').getContext('2d');
c.fillStyle = '#3366cc';
bars.forEach((v, i) => c.fillRect(i * 40 + 5, 100 - v * 10, 30, v * 10));
let from = null;
const chart = document.getElementById('chart');
chart.addEventListener('mousedown', e => { from = e.offsetX; });
chart.addEventListener('mouseup', e => {
  const [a, b] = [Math.min(from, e.offsetX), Math.max(from, e.offsetX)];
  const inside = bars.filter((_, i) => i * 40 + 20 >= a && i * 40 + 20 <= b);
  document.getElementById('covered').textContent = inside.reduce((s, v) => s + v, 0);
});
</script></body></html>"#;

fn write(dir: &std::path::Path, name: &str, html: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

#[test]
fn a_self_contained_page_draws_answers_a_drag_and_makes_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let page = write(dir.path(), "page.html", PAGE);
    let mut browser = Browser::launch();
    browser.open_file(&page);
    assert_eq!(browser.errors(), Vec::<String>::new());
    assert_eq!(browser.requests(), Vec::<String>::new());

    // Bars 2..=4 (centres at x = 60, 100, 140): 9 + 4 + 7.
    browser.drag((50.0, 50.0), (150.0, 50.0));
    assert_eq!(
        browser.eval("document.getElementById('covered').textContent"),
        "20"
    );

    let shot = browser.screenshot();
    assert!(
        shot.width >= 400 && shot.height >= 100,
        "{}x{}",
        shot.width,
        shot.height
    );
    // The chart has ink (the bars), the page's empty right side none.
    assert!(shot.ink(0, 0, 400, 100, [255, 255, 255]) > 10_000);
    assert_eq!(shot.ink(600, 0, 400, 100, [255, 255, 255]), 0);
}

#[test]
fn the_harness_sees_an_exception_a_console_error_and_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let page = write(
        dir.path(),
        "bad.html",
        r#"<!doctype html><html><body>
<img src="http://127.0.0.1:9/tracker.png">
<script>console.error("drawn wrong"); undefinedFunction();</script>
</body></html>"#,
    );
    let mut browser = Browser::launch();
    browser.open_file(&page);
    let errors = browser.errors();
    assert!(
        errors.iter().any(|e| e.contains("drawn wrong")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("undefinedFunction")),
        "{errors:?}"
    );
    assert_eq!(browser.requests(), ["http://127.0.0.1:9/tracker.png"]);
}
