// SPDX-License-Identifier: Apache-2.0
// The operator console: live figures from /metrics (polled every second, charted as inline SVG), the
// serving model, a user lookup (admin) and the audit log and transparency report (overseer).
"use strict";

const $ = (id) => document.getElementById(id);
const HISTORY = 60;
const series = { events: [], feeds: [], p50: [], p99: [], errors: [] };
let previous = null;

// Prometheus text → { name or name{labels}: value }.
function parseMetrics(text) {
  const values = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return values;
}

const FEED = 'method="GET",route="/v1/users/{user}/feed"';

function feedBuckets(values) {
  const buckets = [];
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith(`foryou_http_request_duration_seconds_bucket{${FEED},le=`)) {
      const bound = key.match(/le="([^"]+)"/)[1];
      buckets.push({ le: bound === "+Inf" ? Infinity : Number(bound), count: value });
    }
  }
  return buckets.sort((a, b) => a.le - b.le);
}

// The q-quantile of the requests between two snapshots of a cumulative histogram (the bucket's bound).
function quantile(now, before, q) {
  const counts = now.map((bucket, index) => ({ le: bucket.le, count: bucket.count - ((before[index] || {}).count || 0) }));
  const total = counts.length ? counts[counts.length - 1].count : 0;
  if (total <= 0) return null;
  const rank = q * total;
  const hit = counts.find((bucket) => bucket.count >= rank);
  return hit ? hit.le * 1000 : null;
}

function sum(values, prefix, filter = () => true) {
  return Object.entries(values).filter(([key]) => key.startsWith(prefix) && filter(key)).reduce((total, [, value]) => total + value, 0);
}

function push(list, value) {
  list.push(value);
  if (list.length > HISTORY) list.shift();
}

function sparkline(values) {
  const points = values.map((v, i) => [i, v === null ? 0 : v]);
  const maximum = Math.max(...points.map((p) => p[1]), 1e-9);
  const span = Math.max(points.length - 1, 1);
  const path = points.map(([i, v], index) => `${index ? "L" : "M"}${(i / span) * 100},${30 - (v / maximum) * 28}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 30");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
  line.setAttribute("d", path || "M0,30");
  svg.append(line);
  return svg;
}

function tile(id, label, value, unit, history) {
  const shown = value === null || value === undefined || Number.isNaN(value) ? "–" : (typeof value === "number" ? (Math.round(value * 100) / 100).toString() : value);
  const node = ForYou.element("div", { class: "tile", id: `tile-${id}`, "data-value": String(value ?? "") },
    ForYou.element("p", { class: "label", text: label }),
    ForYou.element("p", { class: "value", text: `${shown}${unit ? " " + unit : ""}` }));
  if (history) node.append(sparkline(history));
  return node;
}

async function poll() {
  try {
    const [metricsText, health] = await Promise.all([ForYou.call("GET", "/metrics"), ForYou.call("GET", "/healthz")]);
    const values = parseMetrics(metricsText);
    const snapshot = {
      at: performance.now(),
      events: values["foryou_events_ingested_total"] || 0,
      feeds: values["foryou_feed_requests_total"] || 0,
      errors: sum(values, "foryou_http_requests_total", (key) => /status="5\d\d"/.test(key)),
      rejected: values["foryou_events_rejected_total"] || 0,
      buckets: feedBuckets(values),
    };
    if (previous) {
      const seconds = Math.max((snapshot.at - previous.at) / 1000, 0.001);
      push(series.events, (snapshot.events - previous.events) / seconds);
      push(series.feeds, (snapshot.feeds - previous.feeds) / seconds);
      push(series.p50, quantile(snapshot.buckets, previous.buckets, 0.5));
      push(series.p99, quantile(snapshot.buckets, previous.buckets, 0.99));
      push(series.errors, snapshot.errors - previous.errors);
    }
    previous = snapshot;
    const last = (list) => (list.length ? list[list.length - 1] : null);
    $("tiles").replaceChildren(
      tile("events-rate", "events/s", last(series.events), "", series.events),
      tile("feeds-rate", "feed requests/s", last(series.feeds), "", series.feeds),
      tile("p50", "feed p50 (≤ bucket)", last(series.p50), "ms", series.p50),
      tile("p99", "feed p99 (≤ bucket)", last(series.p99), "ms", series.p99),
      tile("errors", "5xx responses/s", last(series.errors), "", series.errors),
      tile("events-total", "events learned from (since start)", snapshot.events, ""),
      tile("feeds-total", "feeds served (since start)", snapshot.feeds, ""),
      tile("rejected", "events rejected", snapshot.rejected, ""),
      tile("model", "model", health.model_version, ""),
      tile("sizes", "items / users", `${health.items} / ${health.users}`, ""),
    );
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (error) {
    $("status").textContent = error.message;
  }
}

function definitionList(entries) {
  return ForYou.element("dl", {}, ...entries.flatMap(([term, value]) => [ForYou.element("dt", { text: term }), ForYou.element("dd", { text: String(value ?? "–") })]));
}

async function loadModel() {
  try {
    const model = await ForYou.call("GET", "/v1/models/current");
    const p = model.provenance || {};
    const license = model.license;
    $("model").replaceChildren(definitionList([
      ["version", model.model_version], ["trained at", model.trained_at], ["model", model.description],
      ["trained on", `${model.events} positive events of ${model.users} users, ${model.items} items`],
      ["origin", `${p.origin || "local"}${p.from_scratch ? ", from scratch on local data" : ""}${p.hyperparameters_from ? `, hyperparameters of package ${p.hyperparameters_from}` : ""}`],
      ["jurisdiction of the data", p.jurisdiction], ["dataset SHA-256", p.dataset_sha256],
      ["unlearned", p.unlearned_users ? `${p.unlearned_users} erased users removed since training (trained as ${p.derived_from}); shared weights are refitted at the next training` : "none since training"],
      ["validation NDCG@10", p.validation_ndcg_at_10 === undefined || p.validation_ndcg_at_10 === null ? "– (too few users to hold out)" : `${p.validation_ndcg_at_10.toFixed(4)} on ${p.validation_users} users (last item held out)`],
      ["license", license ? `${license.licensee} from ${license.licensor}, ${license.jurisdictions.join(", ")}, until ${license.not_after}` : "none (trained here)"],
    ]));
  } catch (error) {
    $("model").replaceChildren(ForYou.element("p", { class: "hint", text: error.status === 404 ? "No model trained yet: feeds use the rules (rules-v1)." : error.message }));
  }
}

async function loadModels() {
  try {
    const list = await ForYou.call("GET", "/v1/models");
    const rows = list.models.map((m) => {
      const p = m.provenance || {};
      const license = m.license ? `${m.license.licensee}, ${m.license.jurisdictions.join(", ")}, until ${m.license.not_after}` : "local";
      const ndcg = p.validation_ndcg_at_10 === undefined || p.validation_ndcg_at_10 === null ? "–" : p.validation_ndcg_at_10.toFixed(4);
      return ForYou.element("tr", { "data-state": m.state },
        ForYou.element("td", { text: m.model_version }), ForYou.element("td", { class: m.state === "refused" ? "bad" : (m.state === "serving" ? "ok" : ""), text: m.state }),
        ForYou.element("td", { text: p.origin || "local" }), ForYou.element("td", { text: m.trained_at || "–" }), ForYou.element("td", { text: ndcg }),
        ForYou.element("td", { text: license }), ForYou.element("td", { text: m.refusal || "" }));
    });
    $("models").replaceChildren(rows.length ? ForYou.element("table", {},
      ForYou.element("thead", {}, ForYou.element("tr", {}, ...["model", "state", "origin", "trained at", "validation NDCG@10", "license", "refusal"].map((h) => ForYou.element("th", { text: h })))),
      ForYou.element("tbody", {}, ...rows)) : ForYou.element("p", { class: "hint", text: "No stored model." }));
  } catch (error) {
    $("models").replaceChildren(ForYou.element("p", { class: "hint", text: error.message }));
  }
}

// What an entry without a subject did, for the kinds an overseer looks for.
function auditSummary(entry) {
  const d = entry.details || {};
  if (entry.kind === "model.unlearned") return `${d.derived_from} → ${d.model_version}: ${d.users} erased user(s) unlearned, ${d.refitted_items} item vectors refitted`;
  return d.model_version || "";
}

async function loadOversight() {
  try {
    const audit = await ForYou.call("GET", "/v1/audit?limit=8");
    const rows = audit.latest.slice().reverse().map((line) => ForYou.element("tr", {},
      ForYou.element("td", { text: String(line.entry.sequence) }), ForYou.element("td", { text: line.entry.at }),
      ForYou.element("td", { text: line.entry.kind }), ForYou.element("td", { text: line.entry.actor }),
      ForYou.element("td", { text: line.entry.subject || auditSummary(line.entry) })));
    $("audit").replaceChildren(
      ForYou.element("p", { id: "audit-status", class: audit.intact ? "ok" : "bad",
        text: audit.intact ? `Audit log intact: ${audit.entries} entries, head ${audit.head_hash.slice(0, 16)}…` : `Audit log NOT intact: ${audit.problem}` }),
      ForYou.element("table", {}, ForYou.element("thead", {}, ForYou.element("tr", {}, ...["#", "at", "kind", "actor", "subject"].map((h) => ForYou.element("th", { text: h })))),
        ForYou.element("tbody", {}, ...rows)));
  } catch (error) {
    $("audit").replaceChildren(ForYou.element("p", { class: "hint", text: `Audit log: ${error.message}` }));
  }
  try {
    const report = await ForYou.call("GET", "/v1/transparency");
    $("transparency").replaceChildren(
      ForYou.element("h3", { text: `Transparency report (${report.jurisdiction}, ${report.model_origin})` }),
      ForYou.element("p", { text: report.summary }),
      ForYou.element("table", {}, ForYou.element("tbody", {}, ...report.parameters.map((p) => ForYou.element("tr", {},
        ForYou.element("th", { text: p.name }), ForYou.element("td", { text: p.value }), ForYou.element("td", { text: p.explanation }))))));
  } catch (error) {
    $("transparency").textContent = error.message;
  }
}

async function lookup(user) {
  const target = $("lookup");
  try {
    const path = encodeURIComponent(user);
    const [feed, data] = await Promise.all([
      ForYou.call("GET", `/v1/users/${path}/feed?count=10&preview=true`),
      ForYou.call("GET", `/v1/users/${path}/export`),
    ]);
    target.replaceChildren(
      ForYou.element("h3", { text: `Next feed of ${user} (model ${feed.model_version})` }),
      ForYou.element("ol", { class: "lookup-feed" }, ...feed.items.map((item) => ForYou.element("li", {},
        ForYou.element("strong", { text: item.item }), ` @${item.creator} ${(item.tags || []).map((t) => "#" + t).join(" ")} — ${item.reason} `,
        ForYou.element("span", { class: "hint", text: `[${item.source}: ${item.signals.map((s) => `${s.name} ${s.value.toFixed(2)}`).join(", ")}]` })))),
      ForYou.element("h3", { text: `Recent events (${data.events.length} in all)` }),
      ForYou.element("ol", { reversed: "" }, ...data.events.slice(-10).reverse().map((e) => ForYou.element("li", { text: `${e.at} ${e.type} ${e.item || e.creator || ""}${e.watch_ms !== undefined && e.watch_ms !== null ? ` (${e.watch_ms} ms)` : ""}` }))),
    );
  } catch (error) {
    target.replaceChildren(ForYou.element("p", { class: "bad", text: error.message }));
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  ForYou.setKey($("key-input").value);
  $("key-input").value = "";
  loadModel();
  loadModels();
  loadOversight();
});
$("lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const user = $("lookup-user").value.trim();
  if (user) lookup(user);
});

ForYou.key();
poll();
setInterval(poll, 1000);
loadModel();
loadModels();
loadOversight();
setInterval(() => { loadModel(); loadModels(); loadOversight(); }, 10000);
