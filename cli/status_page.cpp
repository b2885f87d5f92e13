#include "cli/status_page.hpp"

namespace tether {

namespace {

// The page. Script and style are inline: the server's Content-Security-Policy allows them
// and connections to itself, nothing else. All text from the job is inserted with
// textContent, never as HTML.
constexpr const char* page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tether</title>
<style>
:root { --bg:#f4f5f7; --card:#fff; --ink:#1f2933; --muted:#6b7280; --line:#e5e7eb;
        --blue:#2563eb; --orange:#ea580c; --green:#16a34a; --red:#dc2626; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display:flex; align-items:baseline; gap:14px; padding:14px 22px; background:#111827;
         color:#f9fafb; flex-wrap:wrap; }
header h1 { margin:0; font-size:20px; letter-spacing:.5px; }
header .job { color:#d1d5db; }
header .conn { margin-left:auto; color:#9ca3af; font-size:12px; }
.pill { padding:2px 9px; border-radius:10px; font-size:12px; font-weight:600; color:#fff;
        background:var(--muted); }
.pill.training { background:var(--green); } .pill.finished { background:var(--blue); }
.pill.finishing { background:var(--orange); } .pill.offline { background:var(--red); }
main { padding:16px 22px; display:grid; gap:16px; grid-template-columns:repeat(2, minmax(0,1fr)); }
.wide { grid-column:1 / -1; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card h2 { margin:0 0 8px; font-size:13px; font-weight:600; color:var(--muted);
           text-transform:uppercase; letter-spacing:.6px; }
.stats { display:grid; grid-template-columns:repeat(auto-fit, minmax(100px,1fr)); gap:10px; }
.stat .v { font-size:20px; font-weight:600; font-variant-numeric:tabular-nums; }
.stat .k { font-size:12px; color:var(--muted); white-space:nowrap; overflow:hidden;
           text-overflow:ellipsis; }
canvas { width:100%; height:240px; display:block; }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { text-align:right; padding:4px 8px; border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:600; font-size:12px; }
th:first-child, td:first-child { text-align:left; }
.dot { display:inline-block; width:8px; height:8px; border-radius:4px; margin-right:6px;
       background:var(--green); }
.dot.down { background:var(--red); }
pre { margin:0; font-size:12px; white-space:pre-wrap; color:#374151; }
details summary { cursor:pointer; color:var(--muted); }
.empty { color:var(--muted); font-style:italic; }
@media (max-width: 800px) { main { grid-template-columns:1fr; } }
</style>
</head>
<body>
<header>
  <h1>tether</h1>
  <span class="pill" id="state">connecting</span>
  <span class="job" id="job"></span>
  <span class="conn" id="conn"></span>
</header>
<main>
  <section class="card wide"><div class="stats" id="stats"></div></section>
  <section class="card"><h2>Loss</h2><canvas id="loss"></canvas></section>
  <section class="card"><h2 id="acc-title">Test accuracy</h2><canvas id="acc"></canvas></section>
  <section class="card wide" id="sample-card" hidden><h2>Latest generated sample</h2><pre id="sample"></pre></section>
  <section class="card"><h2>Workers</h2><table id="workers"></table></section>
  <section class="card"><h2>Staleness of applied gradients (tau)</h2><canvas id="tau"></canvas></section>
  <section class="card"><h2>Parameter shards</h2><table id="shards"></table></section>
  <section class="card"><h2>Actors and nodes</h2><table id="actors"></table></section>
  <section class="card wide"><details><summary>Configuration</summary><pre id="config"></pre></details></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (x, d) => (x === null || x === undefined || !isFinite(x)) ? "\u2013" : Number(x).toFixed(d);
const num = (x) => (x === null || x === undefined) ? "\u2013" : Math.round(x).toLocaleString("en-US");

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function table(id, head, rows) {
  const t = $(id);
  t.replaceChildren();
  const tr = el("tr");
  head.forEach((h) => tr.appendChild(el("th", h)));
  t.appendChild(tr);
  rows.forEach((r) => {
    const row = el("tr");
    r.forEach((c) => row.appendChild(c instanceof Node ? wrap(c) : el("td", c)));
    t.appendChild(row);
  });
}
function wrap(node) { const td = el("td"); td.appendChild(node); return td; }
function alive(up, text) {
  const s = el("span"); s.appendChild(el("span", "", up ? "dot" : "dot down"));
  s.appendChild(document.createTextNode(text)); return s;
}

// A canvas sized for the device's pixels; returns the 2-D context and the CSS size.
function surface(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio);
  }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = "12px system-ui, sans-serif";
  return { g, w, h };
}

function niceTicks(lo, hi, n) {
  const span = hi - lo || 1, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
  return ticks;
}

// series: [{name, color, pts: [[x, y], ...]}]
function lineChart(canvas, series, xLabel, yFixed) {
  const { g, w, h } = surface(canvas);
  const pts = series.flatMap((s) => s.pts).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  if (pts.length === 0) {
    g.fillStyle = "#6b7280"; g.textAlign = "center";
    g.fillText("waiting for the first evaluation", w / 2, h / 2); return;
  }
  const L = 48, R = 20, T = 22, B = 40;
  let x0 = Math.min(0, ...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = yFixed ? yFixed[0] : Math.min(...pts.map((p) => p[1]));
  let y1 = yFixed ? yFixed[1] : Math.max(...pts.map((p) => p[1]));
  if (!yFixed) { const pad = (y1 - y0) * 0.08 || Math.abs(y1) * 0.1 || 1; y0 = Math.max(0, y0 - pad); y1 += pad; }
  if (x1 <= x0) x1 = x0 + 1;
  const X = (x) => L + (x - x0) / (x1 - x0) * (w - L - R);
  const Y = (y) => h - B - (y - y0) / (y1 - y0) * (h - T - B);
  g.strokeStyle = "#e5e7eb"; g.fillStyle = "#6b7280"; g.lineWidth = 1;
  g.textAlign = "right"; g.textBaseline = "middle";
  const yt = niceTicks(y0, y1, 5), yd = Math.max(0, -Math.floor(Math.log10((yt[1] - yt[0]) || 1)));
  yt.forEach((v) => { g.beginPath(); g.moveTo(L, Y(v)); g.lineTo(w - R, Y(v)); g.stroke();
                      g.fillText(v.toFixed(yd), L - 6, Y(v)); });
  g.textAlign = "center"; g.textBaseline = "top";
  const xt = niceTicks(x0, x1, 6), xd = Math.max(0, -Math.floor(Math.log10((xt[1] - xt[0]) || 1)));
  xt.forEach((v) => g.fillText(v.toFixed(xd), X(v), h - B + 6));
  g.fillText(xLabel, L + (w - L - R) / 2, h - 16);
  let lx = L + 4;
  series.forEach((s) => {
    const p = s.pts.filter((q) => Number.isFinite(q[0]) && Number.isFinite(q[1]));
    g.strokeStyle = s.color; g.fillStyle = s.color; g.lineWidth = 2;
    g.beginPath(); p.forEach((q, i) => i ? g.lineTo(X(q[0]), Y(q[1])) : g.moveTo(X(q[0]), Y(q[1])));
    g.stroke();
    p.forEach((q) => { g.beginPath(); g.arc(X(q[0]), Y(q[1]), 2.5, 0, 7); g.fill(); });
    g.fillRect(lx, 6, 14, 3); g.textAlign = "left"; g.textBaseline = "middle";
    g.fillStyle = "#374151"; g.fillText(s.name, lx + 18, 8);
    lx += 26 + g.measureText(s.name).width;
  });
}

function barChart(canvas, counts) {
  const { g, w, h } = surface(canvas);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) {
    g.fillStyle = "#6b7280"; g.textAlign = "center";
    g.fillText("no gradients applied yet", w / 2, h / 2); return;
  }
  const L = 48, R = 20, T = 14, B = 40, n = counts.length, max = Math.max(...counts);
  const bw = (w - L - R) / n;
  g.strokeStyle = "#e5e7eb"; g.fillStyle = "#6b7280"; g.textAlign = "right"; g.textBaseline = "middle";
  niceTicks(0, max, 4).forEach((v) => {
    const y = h - B - v / max * (h - T - B);
    g.beginPath(); g.moveTo(L, y); g.lineTo(w - R, y); g.stroke();
    g.fillText(v >= 1000 ? (v / 1000) + "k" : v, L - 6, y);
  });
  g.textAlign = "center"; g.textBaseline = "top";
  const every = Math.ceil(n / 20);
  counts.forEach((c, i) => {
    const bh = c / max * (h - T - B);
    g.fillStyle = "#2563eb"; g.fillRect(L + i * bw + bw * 0.12, h - B - bh, bw * 0.76, bh);
    if (i % every === 0) { g.fillStyle = "#6b7280"; g.fillText(i, L + (i + 0.5) * bw, h - B + 6); }
  });
  g.fillStyle = "#6b7280"; g.fillText("tau", L + (w - L - R) / 2, h - 16);
}

function stat(k, v) {
  const d = el("div", undefined, "stat");
  d.appendChild(el("div", v, "v")); d.appendChild(el("div", k, "k")); return d;
}

let last = null;
function render(s) {
  last = s;
  const p = s.progress, regression = s.dataset === "linreg", lm = s.dataset === "text";
  $("state").textContent = s.state; $("state").className = "pill " + s.state;
  $("job").textContent = [s.model, s.dataset, `${s.workers} workers, ${s.shards} shards`,
    s.consistency].filter((x) => x).join(" \u00b7 ");
  const restarts = Object.values(s.restarts).reduce((a, b) => a + b, 0);
  const st = s.staleness.histogram.length ? s.staleness.histogram.length - 1 : 0;
  $("stats").replaceChildren(
    stat("epoch", fmt(p.epoch, 2) + (s.epochs ? " / " + s.epochs : "")),
    stat("updates", num(p.updates)),
    stat("train loss", fmt(p.train_loss, 4)),
    lm ? stat("valid nats / bits per byte", fmt(p.valid_loss, 4) + " / " + fmt(p.valid_bits_per_byte, 4))
       : stat(regression ? "test loss" : "test accuracy", fmt(regression ? p.test_loss : p.test_accuracy, 4)),
    lm ? stat("tokens/s", num(p.tokens_per_sec)) : stat("samples/s", num(p.samples_per_sec)),
    stat("tau avg / max", fmt(p.mean_staleness, 2) + " / " + st),
    stat("clock lag / gap", p.clock_lag + " / " + p.max_clock_gap),
    stat("restarts", String(restarts)),
    stat("checkpoints", String(s.checkpoints.written)),
    stat("wall time", fmt(p.wall_seconds, 1) + " s"));

  const c = s.curve;
  lineChart($("loss"), [
    { name: "train loss", color: "#2563eb", pts: c.map((q) => [q.epoch, q.train_loss]) },
    { name: "test loss", color: "#ea580c", pts: c.map((q) => [q.epoch, q.test_loss]) }], "epoch");
  $("sample-card").hidden = !lm;
  if (lm) $("sample").textContent = p.sample || "(none yet)";
  if (lm) {
    $("acc-title").textContent = "Validation bits per byte";
    lineChart($("acc"), [{ name: "valid bits/byte", color: "#16a34a",
                           pts: c.map((q) => [q.epoch, q.valid_bits_per_byte]) }], "epoch");
  } else if (regression) {
    $("acc-title").textContent = "Test MSE";
    lineChart($("acc"), [{ name: "test MSE", color: "#16a34a",
                           pts: c.map((q) => [q.epoch, q.test_mse]) }], "epoch");
  } else {
    const acc = c.map((q) => q.test_accuracy).filter(Number.isFinite);
    const lo = acc.length ? Math.max(0, Math.floor(Math.min(...acc) * 10 - 0.5) / 10) : 0;
    lineChart($("acc"), [{ name: "test accuracy", color: "#16a34a",
                           pts: c.map((q) => [q.epoch, q.test_accuracy]) }], "epoch", [lo, 1]);
  }
  barChart($("tau"), s.staleness.histogram);

  table("workers", ["worker", "clock", "samples", "pull wait s", "step ms", "last loss"],
    s.worker.map((w) => [alive(w.alive, String(w.index)), num(w.clock), num(w.samples),
      fmt(w.blocked_seconds, 2), w.steps ? fmt(1000 * w.step_seconds_sum / w.steps, 2) : "\u2013",
      fmt(w.last_loss, 4)]));
  table("shards", ["shard", "parameters", "version", "gradients applied"],
    s.shard.map((x) => [String(x.index), num(x.range_begin) + " \u2013 " + num(x.range_end),
      num(x.version), num(x.applied)]));
  const nodes = new Map(s.nodes.map((n) => [n.name, n.up]));
  table("actors", ["actor", "node", "state"], s.actors.map((a) =>
    [a.role + (a.role === "worker" || a.role === "shard" ? " " + a.index : ""),
     alive(nodes.get(a.node) !== false, a.node), a.alive ? "running" : "stopped"]));
  $("config").textContent = Object.entries(s.config).map(([k, v]) => k + "=" + v).join("\n") ||
    "(none)";
}

async function poll() {
  try {
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    const headers = token ? { Authorization: "Bearer " + token } : {};
    const r = await fetch("status", { cache: "no-store", headers });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    $("conn").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("state").textContent = "offline"; $("state").className = "pill offline";
    $("conn").textContent = "cannot reach the job (" + e.message + "); retrying";
  } finally {
    setTimeout(poll, 1000);
  }
}
window.addEventListener("resize", () => { if (last) render(last); });
poll();
</script>
</body>
</html>
)html";

} // namespace

const std::string& status_page_html() {
  static const std::string html(page);
  return html;
}

} // namespace tether
