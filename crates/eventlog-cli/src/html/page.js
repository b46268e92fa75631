// eventlog report: every panel drawn from the aggregates embedded above,
// re-drawn when a filter or the time range changes. No network, no library.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("eventlog-data").textContent);
  // Counts come as runs (data.rs, `runs`): [key…, first, items…], an item
  // n > 0 the count at the current position, -k a gap of k positions.
  function expand(rows, k, cell) {
    for (const row of rows) {
      const key = row.slice(0, k);
      let at = row[k];
      for (let i = k + 1; i < row.length; i++) {
        const v = row[i];
        if (v < 0) at -= v;
        else { cell(key, at, v); at++; }
      }
    }
  }
  const cube = [], errors = [];
  expand(D.cube, 4, ([t, l, s, e], b, n) => cube.push([b, t, l, s, e, n]));
  expand(D.errors, 3, ([s, e, k], b, n) => errors.push([b, s, e, k, n]));
  D.cube = cube; D.errors = errors;
  // Latency cells by series: [bucket, bin, count].
  const STRIDE = D.bin_stride;
  const LAT = D.series.map(() => []);
  expand(D.latency, 1, ([i], at, n) => { if (LAT[i]) LAT[i].push([Math.floor(at / STRIDE), at % STRIDE, n]); });
  const PALETTE = ["#2e90fa", "#12b76a", "#f79009", "#7a5af8", "#f04438", "#06aed4", "#ee46bc", "#667085", "#a6ef67", "#fdb022", "#155eef", "#875bf7"];
  const DIMS = { type: [1, D.types], level: [2, D.levels], service: [3, D.services] };
  const bucketMs = D.bucket_ms;
  const allBuckets = D.cube.map((r) => r[0]);
  const B0 = allBuckets.length ? Math.min(...allBuckets) : 0;
  const B1 = allBuckets.length ? Math.max(...allBuckets) : 0;
  const state = { from: B0, to: B1, service: -1, event: -1, type: -1, level: -1, stack: "type", series: 0, trace: "" };
  const $ = (id) => document.getElementById(id);
  const fmt = (n) => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(2));
  // Times in the zone of --tz (its offsets resolved by eventlog, so no
  // browser time zone data is needed), else UTC.
  const ZONE = D.zone;
  const zoneName = ZONE ? ZONE.name : "UTC";
  function offsetAt(ms) {
    if (!ZONE) return 0;
    let off = ZONE.offsets[0][1];
    for (const [since, o] of ZONE.offsets) { if (since <= ms) off = o; else break; }
    return off;
  }
  function offsetText(s) {
    if (!ZONE) return "Z";
    const a = Math.abs(s), pad = (n) => String(Math.floor(n)).padStart(2, "0");
    return (s < 0 ? "-" : "+") + pad(a / 3600) + ":" + pad((a % 3600) / 60);
  }
  const iso = (ms) => { const off = offsetAt(ms); return new Date(ms + off * 1000).toISOString().slice(0, -1) + offsetText(off); };
  const time = (b) => iso(b * bucketMs).replace("T", " ").replace(/\.000(Z|[+-]\d\d:\d\d)$/, "$1");
  // Axis labels: as much of the time as the range needs.
  const span = (B1 - B0 + 1) * bucketMs;
  const tick = (b) => {
    const at = iso(b * bucketMs);
    return span < 60e3 ? at.slice(11, 21) : span < 86400e3 ? at.slice(11, 19) : at.slice(5, 16).replace("T", " ");
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const colour = (i) => PALETTE[i % PALETTE.length];

  function passes(r) {
    return (state.type < 0 || r[1] === state.type) && (state.level < 0 || r[2] === state.level) &&
      (state.service < 0 || r[3] === state.service) && (state.event < 0 || r[4] === state.event);
  }
  const inRange = (b) => b >= state.from && b <= state.to;

  // ---------------------------------------------------------------- filters
  function fillSelect(id, values, key) {
    const el = $(id);
    el.innerHTML = '<option value="-1">all</option>' + values.map((v, i) => `<option value="${i}">${esc(v || "(none)")}</option>`).join("");
    el.addEventListener("change", () => { state[key] = +el.value; draw(); });
  }
  fillSelect("f-service", D.services, "service");
  fillSelect("f-event", D.events, "event");
  fillSelect("f-type", D.types, "type");
  fillSelect("f-level", D.levels, "level");
  $("f-stack").addEventListener("change", (e) => { state.stack = e.target.value; draw(); });
  $("f-reset").addEventListener("click", () => { state.from = B0; state.to = B1; draw(); });

  // ---------------------------------------------------------------- charts
  const W = 1000, H = 180, PAD = 36;
  function x(b) { return PAD + ((b - B0) / Math.max(1, B1 - B0 + 1)) * (W - PAD - 4); }
  const barW = () => Math.max(1, (W - PAD - 4) / Math.max(1, B1 - B0 + 1) - 1);
  function axis(max) {
    let s = `<line x1="${PAD}" y1="${H - 16}" x2="${W}" y2="${H - 16}" stroke="#e4e7ec"/>`;
    s += `<text x="${PAD - 4}" y="12" text-anchor="end">${fmt(max)}</text><text x="${PAD - 4}" y="${H - 16}" text-anchor="end">0</text>`;
    const ticks = Math.min(5, B1 - B0 + 1);
    const seen = new Set();
    for (let i = 0; i <= ticks; i++) {
      const b = Math.round(B0 + ((B1 + 1 - B0) * i) / ticks);
      if (seen.has(b)) continue;
      seen.add(b);
      s += `<text x="${x(b)}" y="${H - 3}" text-anchor="${i === 0 ? "start" : i === ticks ? "end" : "middle"}">${esc(tick(b))}</text>`;
    }
    return s;
  }
  function selection() {
    if (state.from === B0 && state.to === B1) return "";
    return `<rect class="selection" x="${x(state.from)}" y="0" width="${x(state.to + 1) - x(state.from)}" height="${H - 16}" fill="rgba(46,144,250,0.18)"/>`;
  }
  // A drag on a time chart selects buckets; every panel follows.
  function brushable(svg) {
    let start = null;
    const bucketAt = (evt) => {
      const box = svg.getBoundingClientRect();
      const px = ((evt.clientX - box.left) / box.width) * W;
      const b = B0 + Math.floor(((px - PAD) / (W - PAD - 4)) * (B1 - B0 + 1));
      return Math.min(B1, Math.max(B0, b));
    };
    svg.addEventListener("mousedown", (e) => { start = bucketAt(e); e.preventDefault(); });
    svg.addEventListener("mouseup", (e) => {
      if (start === null) return;
      const end = bucketAt(e);
      state.from = Math.min(start, end); state.to = Math.max(start, end); start = null;
      draw();
    });
  }

  function volume() {
    const [slot, names] = DIMS[state.stack];
    const per = new Map();
    let max = 0;
    for (const r of D.cube) {
      if (!passes(r)) continue;
      let m = per.get(r[0]);
      if (!m) per.set(r[0], (m = new Map()));
      m.set(r[slot], (m.get(r[slot]) || 0) + r[5]);
    }
    for (const m of per.values()) max = Math.max(max, [...m.values()].reduce((a, b) => a + b, 0));
    let bars = "";
    const used = new Set();
    for (const [b, m] of per) {
      let y = H - 16;
      const total = [...m.values()].reduce((a, c) => a + c, 0);
      for (const [k, n] of [...m.entries()].sort((a, c) => a[0] - c[0])) {
        const h = max ? (n / max) * (H - 30) : 0;
        y -= h; used.add(k);
        bars += `<rect x="${x(b)}" y="${y}" width="${barW()}" height="${h}" fill="${colour(k)}"><title>${esc(time(b))} ${esc(names[k] || "(none)")}: ${n}</title></rect>`;
      }
      bars += `<rect class="bucket" data-bucket="${b}" data-count="${total}" x="${x(b)}" y="0" width="${barW()}" height="0"/>`;
    }
    $("volume-chart").innerHTML = axis(max) + bars + anomalyMarks() + selection();
    $("volume-legend").innerHTML = [...used].sort((a, b) => a - b).map((k) => `<span style="--c:${colour(k)}">${esc(names[k] || "(none)")}</span>`).join("");
  }

  function errorRows() {
    return D.errors.filter((r) => (state.service < 0 || r[1] === state.service) && (state.event < 0 || r[2] === state.event));
  }
  function errorsPanel() {
    const totals = new Map(), errs = new Map(), types = new Map();
    for (const r of D.cube) if (passes(r)) totals.set(r[0], (totals.get(r[0]) || 0) + r[5]);
    for (const r of errorRows()) {
      errs.set(r[0], (errs.get(r[0]) || 0) + r[4]);
      if (inRange(r[0])) types.set(r[3], (types.get(r[3]) || 0) + r[4]);
    }
    const all = [...totals.values()].reduce((a, b) => a + b, 0);
    const allErr = [...errs.values()].reduce((a, b) => a + b, 0);
    const overall = all ? allErr / all : 0;
    const max = Math.max(0, ...errs.values());
    let s = axis(max);
    const spikes = [];
    for (const [b, n] of errs) {
      const h = max ? (n / max) * (H - 30) : 0;
      const share = n / (totals.get(b) || 1);
      // The text report's rule: at least 3 errors, twice the overall share.
      const spike = n >= 3 && overall > 0 && share >= 2 * overall;
      if (spike) spikes.push(b);
      s += `<rect class="err${spike ? " spike" : ""}" data-bucket="${b}" data-count="${n}" x="${x(b)}" y="${H - 16 - h}" width="${barW()}" height="${h}" fill="${spike ? "#d92d20" : "#fda29b"}"><title>${esc(time(b))}: ${n} errors (${(share * 100).toFixed(1)} %)</title></rect>`;
      if (spike) s += `<text x="${x(b) + barW() / 2}" y="${Math.max(10, H - 20 - h)}" text-anchor="middle" fill="#d92d20">▲</text>`;
    }
    // The error rate (errors / records in the bucket) as a line on its own
    // scale, the right-hand axis.
    const rates = [...totals.keys()].sort((p, q) => p - q).map((b) => [b, (errs.get(b) || 0) / totals.get(b)]);
    const maxRate = Math.max(0, ...rates.map(([, r]) => r));
    if (rates.length && maxRate > 0) {
      const y = (r) => H - 16 - (r / maxRate) * (H - 30);
      const points = rates.map(([b, r]) => `${(x(b) + barW() / 2).toFixed(1)},${y(r).toFixed(1)}`).join(" ");
      s += `<polyline class="rate" data-max-rate="${maxRate}" data-points="${rates.length}" points="${points}" fill="none" stroke="#b42318" stroke-width="1.5"/>`;
      s += `<text x="${W - 2}" y="12" text-anchor="end" fill="#b42318">${(maxRate * 100).toFixed(1)} % of records</text>`;
    }
    $("errors-chart").innerHTML = s + selection();
    const rows = [...types.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    $("errors-types").innerHTML = rows.length ? `<tr><th>error_type</th><th class="n">errors</th></tr>` + rows.map(([k, n]) => `<tr data-error-type="${esc(D.error_types[k])}" data-count="${n}"><td>${esc(D.error_types[k])}</td><td class="n">${fmt(n)}</td></tr>`).join("") : "";
    $("errors-note").textContent = `Bars: errors per bucket; line: the error rate (right-hand scale). ${fmt(allErr)} errors of ${fmt(all)} records (${(overall * 100).toFixed(2)} %); ▲ marks ${spikes.length} spike bucket(s): at least 3 errors and twice the overall share.`;
    $("errors-chart").dataset.spikes = spikes.join(",");
  }

  function countsByEvent(from, to) {
    const m = new Map();
    for (const r of D.cube) if (passes(r) && r[0] >= from && r[0] <= to) m.set(r[4], (m.get(r[4]) || 0) + r[5]);
    return m;
  }
  function topEvents() {
    let from = state.from, to = state.to, label;
    if (from === B0 && to === B1) {
      // No range chosen: the second half against the first.
      const mid = Math.floor((B0 + B1 + 1) / 2);
      from = mid; label = `the second half of the files (${time(mid)} on) against the first half`;
    } else {
      label = `the selected range against the ${to - from + 1} bucket(s) before it`;
    }
    const len = to - from + 1;
    const now = countsByEvent(from, to), before = countsByEvent(from - len, from - 1);
    const keys = new Set([...now.keys(), ...before.keys()]);
    const rows = [...keys].map((k) => [k, now.get(k) || 0, before.get(k) || 0]).sort((a, b) => b[1] - a[1] || b[2] - a[2]).slice(0, 25);
    $("top-table").innerHTML = `<tr><th>event</th><th class="n">now</th><th class="n">before</th><th class="n">change</th><th></th></tr>` + rows.map(([k, n, p]) => {
      const tag = p === 0 && n > 0 ? '<span class="tag new">new</span>' : n === 0 && p > 0 ? '<span class="tag gone">vanished</span>' : "";
      const change = p ? `${n >= p ? "+" : ""}${(((n - p) / p) * 100).toFixed(0)} %` : "";
      return `<tr data-event="${esc(D.events[k])}" data-count="${n}" data-before="${p}"><td>${esc(D.events[k] || "(none)")}</td><td class="n">${fmt(n)}</td><td class="n">${fmt(p)}</td><td class="n">${change}</td><td>${tag}</td></tr>`;
    }).join("");
    $("top-note").textContent = `Counts of ${label}.`;
  }

  // Per event name: each bucket against the median of the 6 before it.
  function anomalies() {
    const per = new Map();
    for (const r of D.cube) {
      if (!passes(r)) continue;
      let m = per.get(r[4]);
      if (!m) per.set(r[4], (m = new Map()));
      m.set(r[0], (m.get(r[0]) || 0) + r[5]);
    }
    const found = [];
    for (const [e, m] of per) {
      const series = [];
      for (let b = B0; b <= B1; b++) series.push(m.get(b) || 0);
      for (let i = 6; i < series.length; i++) {
        const base = series.slice(i - 6, i).sort((a, b) => a - b);
        const median = (base[2] + base[3]) / 2, n = series[i];
        if (n >= 3 * median + 5) found.push({ event: e, bucket: B0 + i, n, median, kind: "spike" });
        // The last bucket may be cut short by the end of the files: no drop there.
        else if (median >= 10 && n <= median / 3 && B0 + i < B1) found.push({ event: e, bucket: B0 + i, n, median, kind: "drop" });
      }
    }
    return found;
  }
  let lastAnomalies = [];
  function anomalyMarks() {
    lastAnomalies = anomalies();
    return lastAnomalies.map((a) => `<line x1="${x(a.bucket) + barW() / 2}" x2="${x(a.bucket) + barW() / 2}" y1="0" y2="${H - 16}" stroke="${a.kind === "spike" ? "#d92d20" : "#dc6803"}" stroke-dasharray="3 3"/>`).join("");
  }
  function anomaliesPanel() {
    const rows = lastAnomalies.filter((a) => inRange(a.bucket)).slice(0, 30);
    $("anomalies-table").innerHTML = rows.length ? `<tr><th>bucket</th><th>event</th><th></th><th class="n">count</th><th class="n">baseline</th></tr>` + rows.map((a) =>
      `<tr data-event="${esc(D.events[a.event])}" data-kind="${a.kind}" data-bucket="${a.bucket}" data-count="${a.n}"><td>${esc(time(a.bucket))}</td><td>${esc(D.events[a.event])}</td><td><span class="tag ${a.kind}">${a.kind}</span></td><td class="n">${fmt(a.n)}</td><td class="n">${fmt(a.median)}</td></tr>`).join("") : '<tr><td class="empty">No event left its baseline.</td></tr>';
  }

  // Percentiles: exact over every value when the whole range is shown,
  // else from the 8-per-doubling histogram (within 9 %), marked ≈.
  function histogramQuantile(bins, q) {
    const total = bins.reduce((a, [, n]) => a + n, 0);
    let seen = 0;
    for (const [k, n] of bins) {
      seen += n;
      if (seen >= q * total) return 0.001 * Math.pow(2, (k + 0.5) / 8);
    }
    return 0;
  }
  // A series is one span or event name in one service: the service, event
  // and type filters pick series whole, so their percentiles stay exact.
  const seriesPasses = (s) => (state.service < 0 || s.service === state.service) &&
    (state.event < 0 || s.event === state.event) && (state.type < 0 || s.type === state.type);
  function latency() {
    const whole = state.from === B0 && state.to === B1;
    const rows = D.series.map((s, i) => {
      if (!seriesPasses(s)) return [i, 0, 0, 0, 0, ""];
      if (whole) return [i, s.count, s.p50, s.p95, s.p99, ""];
      if (!s.over_time) return [i, s.count, s.p50, s.p95, s.p99, "*"];
      const bins = new Map();
      for (const [b, k, n] of LAT[i]) if (inRange(b)) bins.set(k, (bins.get(k) || 0) + n);
      const sorted = [...bins.entries()].sort((a, b) => a[0] - b[0]);
      const n = sorted.reduce((a, [, c]) => a + c, 0);
      return [i, n, histogramQuantile(sorted, 0.5), histogramQuantile(sorted, 0.95), histogramQuantile(sorted, 0.99), "≈"];
    }).filter((r) => r[1] > 0).sort((a, b) => b[4] - a[4]);
    $("latency-table").innerHTML = `<tr><th>${""}</th><th>name</th><th>service</th><th class="n">count</th><th class="n">p50 ms</th><th class="n">p95 ms</th><th class="n">p99 ms</th></tr>` + rows.map(([i, n, p50, p95, p99, approx]) => {
      const s = D.series[i];
      return `<tr data-series="${esc(s.kind + ":" + s.name)}" data-index="${i}" data-service="${esc(D.services[s.service] || "")}" data-count="${n}" data-basis="${approx === "≈" ? "histogram" : approx === "*" ? "whole-range" : "exact"}" data-p50="${p50}" data-p95="${p95}" data-p99="${p99}" style="cursor:pointer${i === state.series ? ";background:#eff8ff" : ""}"><td>${s.kind}</td><td>${esc(s.name)} <small>${s.field}</small></td><td>${esc(D.services[s.service] || "(none)")}</td><td class="n">${fmt(n)}</td><td class="n">${approx}${p50.toFixed(2)}</td><td class="n">${approx}${p95.toFixed(2)}</td><td class="n">${approx}${p99.toFixed(2)}</td></tr>`;
    }).join("");
    for (const tr of $("latency-table").querySelectorAll("tr[data-series]")) {
      tr.addEventListener("click", () => { state.series = +tr.dataset.index; draw(); });
    }
    const kept = D.series.filter((s) => s.over_time).length;
    const dropped = D.series.length - kept;
    $("latency-note").textContent = `Exact percentiles (as DuckDB's quantile_cont) over the whole range; with a time range chosen, ≈ from the histogram (bins under 9 % wide). Each row is one name in one service; the level filter does not split them.` +
      (dropped ? ` The distribution over time is kept for the ${fmt(kept)} busiest of ${fmt(D.series.length)} series (the page's size budget); the other ${fmt(dropped)} show their whole-range numbers under a time range, marked *.` : "");
    heatmap();
  }
  function heatmap() {
    const cells = (LAT[state.series] || []).map(([b, k, n]) => [state.series, b, k, n]);
    if (!cells.length) {
      $("latency-heat").innerHTML = "";
      const s = D.series[state.series];
      $("latency-heat-note").textContent = s && !s.over_time ? `The distribution over time of ${s.kind} ${s.name} is not on the page (only the busiest series fit its size budget); its whole-range percentiles above are exact.` : "";
      return;
    }
    const lo = Math.min(...cells.map((r) => r[2])), hi = Math.max(...cells.map((r) => r[2]));
    const max = Math.max(...cells.map((r) => r[3]));
    const rowH = (H - 30) / Math.max(1, hi - lo + 1);
    let s = axis(0).replace(/>0</, ">" + (0.001 * Math.pow(2, lo / 8)).toFixed(2) + " ms<").replace(new RegExp(">" + fmt(0) + "<"), ">" + (0.001 * Math.pow(2, (hi + 1) / 8)).toFixed(1) + " ms<");
    for (const [, b, k, n] of cells) {
      const a = 0.15 + 0.85 * (n / max);
      s += `<rect x="${x(b)}" y="${H - 16 - (k - lo + 1) * rowH}" width="${barW()}" height="${Math.max(1, rowH)}" fill="rgba(122,90,248,${a.toFixed(2)})"><title>${esc(time(b))}: ${n} at ~${(0.001 * Math.pow(2, (k + 0.5) / 8)).toFixed(2)} ms</title></rect>`;
    }
    const series = D.series[state.series];
    $("latency-heat").innerHTML = s + selection();
    $("latency-heat-note").textContent = `Distribution over time of ${series.kind} ${series.name} in ${D.services[series.service] || "(none)"} (${series.field}), darker = more; click a row to switch.`;
  }

  function health() {
    $("health-violations").innerHTML = D.violations.length ? `<tr><th>event</th><th>violation</th><th class="n">count</th></tr>` + D.violations.map(([e, k, n]) => `<tr data-event="${esc(e)}" data-kind="${esc(k)}" data-count="${n}"><td>${esc(e || "(none)")}</td><td>${esc(k)}</td><td class="n">${fmt(n)}</td></tr>`).join("") : '<tr><td class="empty">No schema violation.</td></tr>';
    $("health-drops").innerHTML = D.drops.length ? `<tr><th>output</th><th>reason</th><th class="n">dropped</th></tr>` + D.drops.map(([o, r, n]) => `<tr data-output="${esc(o)}" data-reason="${esc(r)}" data-count="${n}"><td>${esc(o)}</td><td>${esc(r)}</td><td class="n">${fmt(n)}</td></tr>`).join("") : '<tr><td class="empty">No self-reported drop.</td></tr>';
    $("health-note").textContent = `${fmt(D.violating_records)} records carry schema_errors (annotated or dead-lettered); drops come from the ${"log_records_dropped"} records the outputs wrote.`;
  }

  function sampleMatches(s) {
    const b = Math.floor(s.t / bucketMs);
    return inRange(b) && (state.service < 0 || s.service === D.services[state.service]) && (state.event < 0 || s.event === D.events[state.event]) &&
      (state.type < 0 || (s.event_type || "log") === D.types[state.type]) && (state.level < 0 || s.level === D.levels[state.level]);
  }
  function records() {
    let matching = 0;
    for (const r of D.cube) if (passes(r) && inRange(r[0])) matching += r[5];
    const rows = D.samples.filter(sampleMatches);
    $("records-count").textContent = fmt(matching);
    $("records-count").dataset.count = matching;
    $("records-note").textContent = `${fmt(matching)} records match; the page holds ${fmt(D.samples.length)} of the ${fmt(D.records)} records in full, spread evenly over the files, ${fmt(rows.length)} of them match and are listed.`;
    $("records-table").innerHTML = `<tr><th>time (${esc(zoneName)})</th><th>level</th><th>service</th><th>event</th><th>request / trace</th><th>message</th></tr>` + rows.slice(0, 100).map((s) =>
      `<tr data-event="${esc(s.event)}"><td>${esc((ZONE ? iso(s.t) : s.timestamp).replace("T", " ").slice(0, 23))}</td><td class="lvl-${esc(s.level)}">${esc(s.level)}</td><td>${esc(s.service)}</td><td>${esc(s.event)}</td><td>${s.trace_id ? `<a class="trace" data-trace="${esc(s.trace_id)}">${esc(s.request_id || s.trace_id.slice(0, 12))}</a>` : ""}</td><td>${esc(s.message)}</td></tr>`).join("");
    for (const a of $("records-table").querySelectorAll("a.trace")) {
      a.addEventListener("click", () => { state.trace = a.dataset.trace; trace(); $("trace").scrollIntoView(); });
    }
  }

  // The records of one trace: spans as bars (close records carry their
  // duration), events as ticks, in time order.
  function trace() {
    const recs = (D.traces[state.trace] || []).slice().sort((a, b) => a.t - b.t);
    if (!recs.length) { $("trace-chart").innerHTML = ""; $("trace-note").textContent = "No trace held; pick a linked request in the table below."; return; }
    const starts = recs.map((s) => s.t - (s.duration_ms || 0));
    const t0 = Math.min(...starts), t1 = Math.max(...recs.map((s) => s.t));
    const span = Math.max(1, t1 - t0);
    const rowH = 18, w = W - 260;
    let s = "";
    recs.forEach((r, i) => {
      const y = i * rowH + 4;
      const end = 250 + ((r.t - t0) / span) * w;
      const label = `${r.service} · ${r.event || r.span}`;
      s += `<text x="0" y="${y + 11}" fill="#1d2330">${esc(label.slice(0, 40))}</text>`;
      if (r.duration_ms) {
        const start = 250 + ((r.t - r.duration_ms - t0) / span) * w;
        s += `<rect class="span" x="${start}" y="${y}" width="${Math.max(2, end - start)}" height="${rowH - 6}" fill="#84caff"><title>${esc(r.span)} ${r.duration_ms} ms</title></rect>`;
      } else {
        s += `<rect class="event" x="${end - 2}" y="${y}" width="4" height="${rowH - 6}" fill="${r.level === "ERROR" ? "#d92d20" : "#7a5af8"}"><title>${esc(r.event)} ${esc(r.message)}</title></rect>`;
      }
    });
    const svg = $("trace-chart");
    svg.setAttribute("viewBox", `0 0 ${W} ${recs.length * rowH + 8}`);
    svg.innerHTML = s;
    svg.dataset.records = recs.length;
    $("trace-note").textContent = `${recs.length} records of trace ${state.trace} over ${(span).toFixed(1)} ms (the page holds ${Object.keys(D.traces).length} traces whole, those with an error first; eventlog trace ${recs[0].request_id || state.trace} prints any).`;
  }

  // Ids are counted by when they took the first step, so the time range
  // selects them; the median gaps and the paths are over every id. The
  // other filters do not apply: one journey crosses services and events.
  function funnel() {
    const F = D.funnel;
    if (!F) return;
    $("funnel").hidden = false;
    const whole = state.from === B0 && state.to === B1;
    const reached = F.steps.map((s) => (whole ? s.reached : 0));
    if (!whole) for (const row of F.starts) if (inRange(row[0])) row.slice(1).forEach((n, i) => { reached[i] += n; });
    const steps = F.steps.map((s, i) => ({ ...s, reached: reached[i] }));
    $("funnel-by").textContent = whole ? `per ${F.by}, over all records` : `per ${F.by}, ids whose first step is in the selected range`;
    const first = steps.length ? steps[0].reached : 0;
    $("funnel-table").innerHTML = `<tr><th>step</th><th>event</th><th class="n">reached</th><th class="n">of the first</th><th class="n">lost from the step before</th><th class="n">median time from the step before</th></tr>` + steps.map((s, i) => {
      const prev = i ? steps[i - 1].reached : s.reached;
      const pct = first ? ((s.reached / first) * 100).toFixed(1) + " %" : "";
      const lost = i ? `${fmt(prev - s.reached)} (${prev ? (((prev - s.reached) / prev) * 100).toFixed(1) : "0.0"} %)` : "";
      const median = s.median_ms_from_previous === null ? "" : `${s.median_ms_from_previous.toFixed(1)} ms`;
      return `<tr data-event="${esc(s.event)}" data-reached="${s.reached}" data-median-ms="${s.median_ms_from_previous === null ? "" : s.median_ms_from_previous}"><td>${i + 1}</td><td>${esc(s.event)}</td><td class="n">${fmt(s.reached)}</td><td class="n">${pct}</td><td class="n">${lost}</td><td class="n">${median}</td></tr>`;
    }).join("");
    $("funnel-paths").innerHTML = F.paths.map(([path, n]) => `<tr data-path="${esc(path.join(" > "))}" data-count="${n}"><td>${esc(path.join(" → "))}</td><td class="n">${fmt(n)}</td></tr>`).join("");
    $("funnel-note").textContent = `${fmt(F.ids)} ids with records${F.untracked ? `; ${fmt(F.untracked)} records of ids past the cap were not followed` : ""}. A step counts when its event comes after the step before. The time range picks ids by their first step; median times and paths are over every id; the service, event, type and level filters do not apply (a journey crosses them).`;
  }

  function draw() {
    $("range").textContent = state.from === B0 && state.to === B1 ? `all of ${time(B0)} … ${time(B1 + 1)}` : `${time(state.from)} … ${time(state.to + 1)}`;
    $("range").dataset.from = state.from; $("range").dataset.to = state.to;
    volume(); errorsPanel(); topEvents(); anomaliesPanel(); funnel(); latency(); health(); records(); trace();
  }

  for (const id of ["volume-chart", "errors-chart", "latency-heat"]) brushable($(id));
  $("meta").textContent = `${fmt(D.records)} records${D.untimed ? ` (${fmt(D.untimed)} without a timestamp, not charted)` : ""}, ${time(B0)} … ${time(B1 + 1)}, in buckets of ${bucketMs >= 3600e3 ? bucketMs / 3600e3 + " h" : bucketMs >= 60e3 ? bucketMs / 60e3 + " min" : bucketMs / 1e3 + " s"}.` +
    (D.sampled_records ? ` ${fmt(D.sampled_records)} of them carry sample_rate: about ${fmt(D.estimated_events)} events before sampling (charts count records as written).` : "");
  $("meta").dataset.estimated = D.estimated_events;
  $("meta").dataset.sampled = D.sampled_records;
  // The trace view starts on the first request that failed, else the first one.
  const held = Object.entries(D.traces);
  const failed = held.find(([, recs]) => recs.some((r) => r.level === "ERROR")) || held[0];
  if (failed) state.trace = failed[0];
  // The heat map starts on the busiest series kept over time.
  const busiest = D.series.findIndex((s) => s.over_time);
  if (busiest >= 0 && !(D.series[0] || {}).over_time) state.series = busiest;
  window.eventlogReport = { state, draw, buckets: [B0, B1] };
  draw();
  // Milliseconds from navigation to the first full draw, for measuring.
  window.eventlogReport.drawnMs = performance.now();
})();
