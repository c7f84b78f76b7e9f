// EventShop operator console. Served by the gateway under /dashboard/, so every API call below is same-origin.
// Live data arrives by push (/dashboard/api/live, server-sent events read through fetch, which can send the token);
// the page itself never polls. Reads on demand (a saga's messages, a search page) follow a push that changed something.
"use strict";

const TOKEN_KEY = "eventshop.dashboard.token";
const TERMINAL = ["Completed", "Cancelled"];
const FORWARD = ["Debiting", "Crediting", "Accruing", "Completed"];
const BACKWARD = ["ReversingPoints", "ReversingCredit", "Refunding", "Cancelled"];
// Known states in the order a saga moves through them; unknown states the API reports are shown after these.
const STATES = ["Debiting", "Crediting", "Accruing", "ReversingPoints", "ReversingCredit", "Refunding", "Completed", "Cancelled", "CompensationFailed"];
const COMPENSATING = ["ReversingPoints", "ReversingCredit", "Refunding"];
const CHART_MINUTES = 10;
const EMPTY_ORDER = "00000000-0000-0000-0000-000000000000";

const $ = (id) => document.getElementById(id);
const state = {
  token: null, devToken: false, config: { devTokens: false, traceUrl: null },
  live: null, reconnect: null, snapshot: null, rendered: {},
  samples: [], search: { query: {}, offset: 0, total: 0 }, batch: null, sagaKey: null,
};

// ---- authentication -------------------------------------------------------------------------------------------------

class AuthError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function loadConfig() {
  try {
    const response = await fetch("/dashboard/api/config", { headers: { Accept: "application/json" } });
    if (response.ok) state.config = await response.json();
  } catch {
    // unreachable: no development tokens, no trace links; the live connection reports the outage
  }
}

async function obtainToken() {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    state.token = saved;
    return true;
  }
  // Development only (the dashboard says so in its config): the gateway issues tokens; elsewhere the operator signs in.
  if (!state.config.devTokens) return false;
  try {
    const response = await fetch("/dev/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ subject: "dashboard", roles: ["operator"] }),
    });
    if (response.ok) {
      state.token = (await response.json()).accessToken;
      state.devToken = true;
      return true;
    }
  } catch {
    // the gateway is unreachable: the live connection reports it
  }
  return false;
}

function showSignIn(message) {
  state.token = null;
  state.devToken = false;
  sessionStorage.removeItem(TOKEN_KEY);
  stopLive();
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("token-error").textContent = message || "";
  setLive("off");
  setStatus("Waiting for an operator sign-in.");
}

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${state.token}`, Accept: "application/json", ...extra };
}

// One request with the operator's token; a development token that expired is replaced once.
async function request(method, path, body) {
  if (!state.token && !(await obtainToken())) throw new AuthError(401, "");
  const init = () => ({
    method,
    headers: authHeaders(body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let response = await fetch(path, init());
  if (response.status === 401 && state.devToken) {
    state.token = null;
    if (await obtainToken()) response = await fetch(path, init());
  }
  if (response.status === 401) throw new AuthError(401, "The token was rejected (expired or not signed for this environment).");
  if (response.status === 403) throw new AuthError(403, "The token is valid but lacks the operator role.");
  return response;
}

async function api(path) {
  const response = await request("GET", path);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${path}: ${await problemText(response)}`);
  return response.json();
}

// "409 Saga has ended: The saga of order … is Cancelled" from a problem details answer (RFC 9457), or the status alone.
async function problemText(response) {
  let text = `HTTP ${response.status}`;
  try {
    const problem = await response.json();
    const errors = problem.errors ? Object.entries(problem.errors).map(([field, messages]) => `${field} ${messages.join(", ")}`).join("; ") : "";
    text = [`${response.status} ${problem.title || ""}`.trim(), problem.detail, errors].filter(Boolean).join(": ");
  } catch {
    // no body
  }
  return text;
}

// ---- formatting -----------------------------------------------------------------------------------------------------

const pad = (n, width = 2) => String(n).padStart(width, "0");

function formatTime(iso, withMillis = false) {
  if (!iso) return "";
  const d = new Date(iso);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` + (withMillis ? `.${pad(d.getMilliseconds(), 3)}` : "");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

function formatAge(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

const formatMoney = (value) => (typeof value === "number" ? value.toFixed(2) : String(value ?? ""));
// "urn:message:EventShop.Contracts.Accounts:DebitCustomer" or "EventShop.Contracts.Accounts.DebitCustomer, EventShop.Contracts" -> "DebitCustomer"
const shortType = (name) => String(name || "").split(",")[0].split(":").pop().split(".").pop();

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined) node.append(child);
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

function fragment(nodes) {
  const f = document.createDocumentFragment();
  f.append(...nodes);
  return f;
}

function timeCell(iso, withMillis = false) {
  return el("time", { datetime: iso, title: iso, text: formatTime(iso, withMillis) });
}

function stateBadge(name) {
  const kind = name === "Completed" ? "ok" : name === "Cancelled" || name === "CompensationFailed" ? "failed"
    : COMPENSATING.includes(name) ? "compensating" : "active";
  return el("span", { class: `state state-${kind}`, "data-state": name, text: name });
}

function orderLink(orderId) {
  return el("a", { href: `#order/${orderId}`, class: "order-id", "data-order-id": orderId, text: orderId });
}

// ---- rendering ------------------------------------------------------------------------------------------------------

// Replaces a region only when its data changed, so a push does not steal keyboard focus or scroll.
function renderInto(id, data, build) {
  const key = JSON.stringify(data);
  if (state.rendered[id] === key) return;
  state.rendered[id] = key;
  $(id).replaceChildren(build(data));
}

function table(caption, columns, rows, emptyText, rowAttributes = (row) => ({ "data-order-id": row.orderId, class: row.rowClass })) {
  if (rows.length === 0) return el("p", { class: "empty", text: emptyText });
  return el("div", { class: "table-wrap" },
    el("table", {},
      el("caption", { class: "visually-hidden", text: caption }),
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.class, text: c.title })))),
      el("tbody", {}, rows.map((row) => el("tr", rowAttributes(row),
        columns.map((c) => el("td", { class: c.class, "data-label": c.title }, c.cell(row))))))));
}

function inFlightCount(counts) {
  return Object.entries(counts).filter(([s]) => !TERMINAL.includes(s)).reduce((sum, [, n]) => sum + n, 0);
}

function renderCounts(counts, stuck) {
  const names = [...STATES.filter((s) => s !== "CompensationFailed" || counts[s]), ...Object.keys(counts).filter((s) => !STATES.includes(s)).sort()];
  const inFlight = inFlightCount(counts);
  renderInto("counts", { counts, stuck }, () => {
    const summary = [
      el("li", { class: "count count-summary", "data-state": "InFlight" },
        el("span", { class: "count-label", text: "In flight" }), el("span", { class: "count-value", text: String(inFlight) })),
      el("li", { class: `count count-summary ${stuck > 0 ? "count-alert" : ""}`, "data-state": "Stuck" },
        el("span", { class: "count-label", text: "Stuck" }), el("span", { class: "count-value", text: String(stuck) })),
    ];
    const items = [...summary, ...names.map((name) => el("li", { class: `count ${COMPENSATING.includes(name) ? "count-compensating" : ""}`, "data-state": name },
      el("span", { class: "count-label", text: name }),
      el("span", { class: "count-value", text: String(counts[name] || 0) })))];
    return fragment(items);
  });
  $("stuck-badge").textContent = String(stuck);
  $("inflight-badge").textContent = String(inFlight);
  $("failed-badge").textContent = String(counts.Cancelled || 0);
}

const idColumn = { title: "Order", class: "col-id", cell: (s) => orderLink(s.orderId) };
const partiesColumn = { title: "Customer → merchant", cell: (s) => `${s.customerId} → ${s.merchantId}` };
const totalColumn = { title: "Total", class: "num", cell: (s) => formatMoney(s.total) };
const lastChangeColumn = {
  title: "Last change",
  cell: (s) => el("span", {}, timeCell(s.updatedAt), el("span", { class: "age", "data-since": s.updatedAt, text: ` (${formatAge(s.updatedAt)})` })),
};

function renderStuck(sagas, items) {
  const bySaga = new Map(items.map((i) => [i.orderId, i]));
  const withoutSaga = items.filter((i) => i.kind !== "saga").map((i) => ({ orderId: i.orderId, kind: i.kind, budgetSeconds: i.budgetSeconds }));
  const rows = [...sagas.map((s) => ({ ...s, budgetSeconds: bySaga.get(s.orderId)?.budgetSeconds })), ...withoutSaga];
  renderInto("stuck", rows, () => table("Stuck sagas and orders", [
    { title: "Order", class: "col-id", cell: (s) => (s.kind === "orders-unavailable" ? "Orders did not answer" : orderLink(s.orderId)) },
    { title: "State", cell: (s) => (s.state ? stateBadge(s.state) : el("span", { class: "tag", text: s.kind === "order-without-saga" ? "no saga" : s.kind })) },
    { title: "Customer → merchant", cell: (s) => (s.customerId ? `${s.customerId} → ${s.merchantId}` : "—") },
    { title: "Budget", class: "num", cell: (s) => (s.budgetSeconds ? `${Math.round(s.budgetSeconds)} s` : "—") },
    { title: "Last change", cell: (s) => (s.updatedAt ? lastChangeColumn.cell(s) : "—") },
  ], rows, "Nothing is stuck."));
}

function renderInFlight(items) {
  renderInto("inflight", items, () => table("Sagas in flight", [
    idColumn,
    { title: "State", cell: (s) => stateBadge(s.state) },
    partiesColumn,
    totalColumn,
    lastChangeColumn,
    { title: "Step deadline", cell: (s) => (s.stepDeadline ? timeCell(s.stepDeadline) : "—") },
  ], items, "No order is being placed right now."));
}

function renderFailed(items) {
  renderInto("failed", items, () => table("Cancelled sagas with their failure reason", [
    idColumn,
    partiesColumn,
    totalColumn,
    { title: "Failure reason", class: "reason", cell: (s) => s.failureReason || "—" },
    { title: "Code", cell: (s) => s.failureCode || "—" },
    { title: "Cancelled at", cell: (s) => timeCell(s.updatedAt) },
  ], items, "No failed orders."));
}

function renderFailures(failures, count) {
  $("failures-badge").textContent = String(count);
  const unavailable = failures?.unavailable || [];
  $("failures-unavailable").hidden = unavailable.length === 0;
  $("failures-unavailable").textContent = unavailable.length ? `Not answering, so the list may be incomplete: ${unavailable.join(", ")}.` : "";
  const groups = failures?.groups || [];
  renderInto("failure-groups", groups, () => (groups.length < 1 ? fragment([]) : table("Failed messages by service, type and error", [
    { title: "Service", cell: (g) => g.service },
    { title: "Message", cell: (g) => g.messageType },
    { title: "Error", class: "reason", cell: (g) => g.error },
    { title: "Count", class: "num", cell: (g) => String(g.count) },
    { title: "", cell: (g) => el("button", { type: "button", class: "small", "data-action": "retry-group", onclick: () => retryGroup(g), text: `Retry all ${g.count}…` }) },
  ], groups, "", (g) => ({ "data-group": g.key }))));
  const items = failures?.items || [];
  renderInto("failures", items, () => table("Failed messages, newest first", [
    { title: "Service", cell: (f) => f.service },
    {
      title: "Message", cell: (f) => el("details", { class: "failure-detail", ontoggle: (event) => loadFailureDetail(event.currentTarget, f) },
        el("summary", {}, f.messageType, el("span", { class: "muted", text: ` (${f.source})` }))),
    },
    { title: "Order", class: "col-id", cell: (f) => (f.orderId ? orderLink(f.orderId) : "—") },
    { title: "Error", class: "reason", cell: (f) => f.error },
    { title: "Failed at", cell: (f) => (f.failedAt ? timeCell(f.failedAt) : "—") },
    { title: "Attempts", class: "num", cell: (f) => String(f.attempts) },
    {
      title: "Actions", cell: (f) => el("span", { class: "row-actions" },
        el("button", { type: "button", class: "small", "data-action": "retry", onclick: () => retryFailure(f), text: "Retry…" }),
        el("button", { type: "button", class: "small danger", "data-action": "discard", onclick: () => discardFailure(f), text: "Discard…" })),
    },
  ], items, "No failed messages.", (f) => ({ "data-failure-id": f.id, "data-order-id": f.orderId || undefined })));
}

// The message itself (headers, MassTransit's fault headers among them, and body), read when the operator opens it.
async function loadFailureDetail(details, failure) {
  if (!details.open || details.dataset.loaded) return;
  details.dataset.loaded = "true";
  let text;
  try {
    const detail = await api(`/api/failures/${encodeURIComponent(failure.id)}`);
    if (detail === null) text = "No longer there: retried, discarded or delivered meanwhile.";
    else {
      let body = detail.body;
      try {
        body = JSON.parse(detail.body);
      } catch {
        // not JSON: shown as it is
      }
      text = JSON.stringify({ messageId: detail.messageId, queue: detail.queue, headers: detail.headers, body }, null, 2);
    }
  } catch (error) {
    text = `Could not read the message: ${error.message}`;
  }
  details.append(el("pre", { class: "message-body", text }));
}

// ---- live stream ----------------------------------------------------------------------------------------------------

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function setLive(mode) {
  $("live-indicator").dataset.live = mode;
}

function stopLive() {
  clearTimeout(state.reconnect);
  if (state.live) state.live.abort();
  state.live = null;
}

function scheduleReconnect(seconds) {
  clearTimeout(state.reconnect);
  state.reconnect = setTimeout(connectLive, seconds * 1000);
}

async function connectLive() {
  stopLive();
  const controller = new AbortController();
  state.live = controller;
  const orderId = currentOrderId();
  const path = `/dashboard/api/live${orderId ? `?orderId=${encodeURIComponent(orderId)}` : ""}`;
  try {
    const response = await request("GET", path);
    if (!response.ok || !response.body) throw new Error(await problemText(response));
    if (state.live !== controller) return;
    setLive("on");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    controller.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!(await onLiveEvent(block))) return;
      }
    }
  } catch (error) {
    if (controller.signal.aborted || state.live !== controller) return;
    if (error instanceof AuthError) {
      showSignIn(error.message);
      return;
    }
    setStatus(`Live updates interrupted: ${error.message}. Reconnecting…`, true);
  }
  if (state.live !== controller) return;
  setLive("off");
  scheduleReconnect(3);
}

// Returns false when the stream is to be left (the token expired).
async function onLiveEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (name === "expired") {
    stopLive();
    if (state.devToken) {
      state.token = null;
      if (await obtainToken()) {
        connectLive();
        return false;
      }
    }
    showSignIn("The token has expired: sign in again.");
    return false;
  }
  if (name === "snapshot") onSnapshot(JSON.parse(data.join("\n")));
  return true;
}

function onSnapshot(snapshot) {
  const previous = state.snapshot;
  state.snapshot = snapshot;
  $("sign-in").hidden = true;
  $("sign-out").hidden = state.devToken;
  const unavailable = snapshot.unavailable || [];
  setStatus(`Updated ${formatTime(new Date().toISOString())} · live${state.devToken ? " · development token" : ""}` +
    (unavailable.length ? ` · not answering: ${unavailable.join(", ")}` : ""), unavailable.length > 0);

  addSample(snapshot);
  renderCounts(snapshot.counts, snapshot.stuck);
  renderStuck(snapshot.stuckSagas, snapshot.stuckItems);
  renderInFlight(snapshot.inFlight);
  renderFailed(snapshot.cancelled);
  renderFailures(snapshot.failures, snapshot.failureCount);
  renderChart();

  const changed = (part) => !previous || JSON.stringify(previous[part]) !== JSON.stringify(snapshot[part]);
  if (!currentOrderId() && (changed("counts") || changed("recent"))) runSearch();
  if (state.batch && changed("failures")) refreshBatch();
  if (currentOrderId()) onSagaChanged(snapshot.saga);
}

// ---- chart ----------------------------------------------------------------------------------------------------------

const SERIES = [
  { key: "inFlight", label: "In flight" },
  { key: "stuck", label: "Stuck" },
  { key: "failures", label: "Failed messages" },
  { key: "completedPerMinute", label: "Completed / min" },
  { key: "cancelledPerMinute", label: "Cancelled / min" },
];

function addSample(snapshot) {
  const now = Date.now();
  state.samples.push({
    t: now, inFlight: inFlightCount(snapshot.counts), stuck: snapshot.stuck, failures: snapshot.failureCount,
    completed: snapshot.counts.Completed || 0, cancelled: snapshot.counts.Cancelled || 0,
  });
  state.samples = state.samples.filter((s) => s.t >= now - (CHART_MINUTES + 1) * 60_000);
}

// The value a counter had at time t: the latest sample at or before it (values hold until the next push).
function valueAt(samples, key, t) {
  let value = samples[0][key];
  for (const s of samples) {
    if (s.t > t) break;
    value = s[key];
  }
  return value;
}

function chartPoints(now) {
  const samples = state.samples;
  if (samples.length === 0) return [];
  const start = Math.max(samples[0].t, now - CHART_MINUTES * 60_000);
  const points = [];
  for (let t = start; t <= now; t += Math.max(5_000, (now - start) / 120)) points.push(t);
  if (points[points.length - 1] !== now) points.push(now);
  return points.map((t) => {
    const since = Math.max(samples[0].t, t - 60_000);
    const minutes = Math.max((t - since) / 60_000, 1 / 60);
    // Over the first minute the rate is scaled from what has been seen so far.
    const perMinute = (key) => Math.max(0, valueAt(samples, key, t) - valueAt(samples, key, since)) / Math.max(minutes, 1);
    return {
      t, inFlight: valueAt(samples, "inFlight", t), stuck: valueAt(samples, "stuck", t), failures: valueAt(samples, "failures", t),
      completedPerMinute: perMinute("completed"), cancelledPerMinute: perMinute("cancelled"),
    };
  });
}

function renderChart() {
  const now = Date.now();
  const points = chartPoints(now);
  const width = 560, height = 180, left = 36, bottom = 20, top = 8, right = 8;
  const max = Math.max(4, ...points.flatMap((p) => SERIES.map((s) => p[s.key])));
  const x = (t) => left + ((t - (now - CHART_MINUTES * 60_000)) / (CHART_MINUTES * 60_000)) * (width - left - right);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const grid = [0, 0.5, 1].map((f) => [
    svg("line", { x1: left, x2: width - right, y1: y(max * f), y2: y(max * f), class: "grid" }),
    svg("text", { x: left - 4, y: y(max * f) + 4, class: "axis", "text-anchor": "end" }, document.createTextNode(formatAxis(max * f))),
  ]);
  const ticks = [0, 5, 10].map((m) => svg("text", { x: x(now - m * 60_000), y: height - 4, class: "axis", "text-anchor": m === 0 ? "end" : m === 10 ? "start" : "middle" },
    document.createTextNode(m === 0 ? "now" : `−${m} min`)));
  const lines = points.length < 1 ? [] : SERIES.map((s) => svg("polyline", {
    points: points.map((p) => `${x(p.t).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(" "),
    class: `series series-${s.key}`, "data-series": s.key,
  }));
  $("chart-plot").replaceChildren(svg("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Sagas in flight, stuck, failed messages and completions over the last 10 minutes",
  }, grid, ticks, lines));
  const latest = points[points.length - 1] || {};
  renderInto("chart-legend", SERIES.map((s) => formatAxis(latest[s.key] ?? 0)), () => fragment(SERIES.map((s) =>
    el("li", { "data-series": s.key },
      el("span", { class: `swatch series-${s.key}` }),
      el("span", { class: "legend-label", text: s.label }),
      el("span", { class: "legend-value", text: formatAxis(latest[s.key] ?? 0) })))));
}

function formatAxis(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

// ---- saga search ----------------------------------------------------------------------------------------------------

function readSearchForm() {
  const query = {};
  const text = (id) => $(id).value.trim();
  if ($("filter-state").value) query.state = $("filter-state").value;
  if (text("filter-customer")) query.customerId = text("filter-customer");
  if (text("filter-merchant")) query.merchantId = text("filter-merchant");
  if (text("filter-failure-code")) query.failureCode = text("filter-failure-code");
  if ($("filter-from").value) query.from = new Date($("filter-from").value).toISOString();
  if ($("filter-to").value) query.to = new Date($("filter-to").value).toISOString();
  if (text("filter-order")) query.orderId = text("filter-order");
  return query;
}

async function runSearch() {
  const { query, offset } = state.search;
  const pageSize = Number($("page-size").value);
  const parameters = new URLSearchParams({ ...query, limit: String(pageSize), offset: String(offset) });
  try {
    const response = await request("GET", `/api/sagas?${parameters}`);
    if (!response.ok) {
      $("search-error").textContent = await problemText(response);
      return;
    }
    const page = await response.json();
    $("search-error").textContent = "";
    state.search.total = page.total;
    renderInto("search-results", page.items, (items) => table("Sagas matching the filters, newest change first", [
      idColumn,
      { title: "State", cell: (s) => stateBadge(s.state) },
      partiesColumn,
      totalColumn,
      { title: "Code", cell: (s) => s.failureCode || "—" },
      { title: "Created", cell: (s) => timeCell(s.createdAt) },
      lastChangeColumn,
    ], items, "No saga matches."));
    const pages = Math.max(1, Math.ceil(page.total / pageSize));
    $("page-info").textContent = `Page ${Math.floor(offset / pageSize) + 1} of ${pages} · ${page.total} sagas`;
    $("page-previous").disabled = offset === 0;
    $("page-next").disabled = offset + pageSize >= page.total;
  } catch (error) {
    if (error instanceof AuthError) showSignIn(error.message);
    else $("search-error").textContent = `Could not search: ${error.message}`;
  }
}

// ---- the saga page --------------------------------------------------------------------------------------------------

function currentOrderId() {
  const match = /^#order\/([0-9a-fA-F-]{32,36})$/.exec(location.hash);
  return match ? match[1] : null;
}

function remainingSteps(current) {
  for (const path of [FORWARD, BACKWARD]) {
    const at = path.indexOf(current);
    if (at >= 0) return path.slice(at + 1);
  }
  return [];
}

function onSagaChanged(saga) {
  const orderId = currentOrderId();
  if (!saga) {
    $("detail-title").textContent = `Order ${orderId}`;
    renderInto("detail-summary", null, () => el("p", { class: "error", text: "No saga with this order id (yet)." }));
    return;
  }
  renderDetail(saga);
  // The messages, ledger and audit trail change only with the saga: read them again only then.
  const key = `${saga.orderId}|${saga.state}|${saga.updatedAt}|${saga.stepAttempts}`;
  if (key !== state.sagaKey) {
    state.sagaKey = key;
    loadSagaExtras(saga);
  }
}

function renderDetail(saga) {
  $("detail-title").textContent = `Order ${saga.orderId}`;
  renderInto("detail-summary", saga, () => fragment([
    ["State", stateBadge(saga.state)],
    ["Failure code", saga.failureCode || "—"],
    ["Customer", saga.customerId],
    ["Merchant", saga.merchantId],
    ["Total", formatMoney(saga.total)],
    ["Failure reason", saga.failureReason || "—"],
    ["Step attempts", String(saga.stepAttempts ?? 0)],
    ["Step deadline", saga.stepDeadline ? timeCell(saga.stepDeadline) : "—"],
    ["Created", timeCell(saga.createdAt, true)],
    ["Last change", timeCell(saga.updatedAt, true)],
    ["Trace", el("span", { id: "trace" }, "…")],
  ].map(([term, value]) => el("div", {
    class: term === "Failure reason" && saga.failureReason ? "summary-item reason" : "summary-item", "data-term": term,
  }, el("dt", { text: term }), el("dd", {}, value)))));
  const remaining = remainingSteps(saga.state);
  renderInto("remaining", remaining, () => (remaining.length
    ? fragment(remaining.map((s) => el("li", { class: COMPENSATING.includes(s) ? "compensation" : undefined }, stateBadge(s))))
    : el("li", { class: "empty", text: saga.state === "CompensationFailed" ? "Waiting for an operator: retry the compensation." : "None: the saga has ended." })));
  const history = (saga.history || []).map((h) => ({
    ...h, rowClass: COMPENSATING.includes(h.toState) ? "compensation" : h.toState === "Cancelled" ? "failure" : undefined,
  }));
  renderInto("history", history, () => table(`Every transition of order ${saga.orderId}, oldest first`, [
    { title: "At", cell: (h) => timeCell(h.at, true) },
    { title: "Event", class: "event", cell: (h) => h.event },
    { title: "From", cell: (h) => stateBadge(h.fromState) },
    { title: "To", cell: (h) => el("span", {}, stateBadge(h.toState), h.rowClass === "compensation" ? el("span", { class: "tag", text: "compensation" }) : null) },
    { title: "Detail", class: "detail", cell: (h) => h.detail || "" },
  ], history, "No transitions recorded yet."));
}

async function loadSagaExtras(saga) {
  const orderId = saga.orderId;
  try {
    const [recording, customerLedger, merchantLedger, order, points, audit] = await Promise.all([
      api(`/api/sagas/${orderId}/messages`),
      api(`/api/accounts/${encodeURIComponent(saga.customerId)}/ledger`).catch(() => null),
      api(`/api/accounts/${encodeURIComponent(saga.merchantId)}/ledger`).catch(() => null),
      api(`/api/orders/${orderId}`).catch(() => null),
      api(`/api/points/${encodeURIComponent(saga.customerId)}`).catch(() => null),
      api(`/api/audit?orderId=${orderId}&limit=50`).catch(() => null),
    ]);
    if (currentOrderId() !== orderId) return;
    renderTimeline(recording?.messages || []);
    renderTrace(recording?.messages || []);
    const entries = [
      ...(customerLedger || []).filter((e) => e.orderId === orderId).map((e) => ({ ...e, account: saga.customerId })),
      ...(merchantLedger || []).filter((e) => e.orderId === orderId).map((e) => ({ ...e, account: saga.merchantId })),
    ].filter((e) => e.orderId !== EMPTY_ORDER).sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    renderInto("ledger", entries, () => table("Ledger entries of this order in the customer's and the merchant's accounts", [
      { title: "At", cell: (e) => timeCell(e.createdAt, true) },
      { title: "Account", cell: (e) => e.account },
      { title: "Entry", cell: (e) => e.type },
      { title: "Amount", class: "num", cell: (e) => formatMoney(e.amount) },
    ], entries, customerLedger === null ? "The ledgers could not be read." : "No ledger entry for this order (yet)."));
    $("points").textContent = [
      order ? `Order ${order.status}${order.pointsAccrued != null ? `, ${order.pointsAccrued} points accrued` : ", no points accrued"}.` : "The order could not be read.",
      points ? `${points.customerId} holds ${points.balance} points (${points.status}).` : "",
    ].filter(Boolean).join(" ");
    const auditItems = audit?.items || [];
    renderInto("audit", auditItems, () => table("Operator actions on this order, newest first", [
      { title: "At", cell: (a) => timeCell(a.at) },
      { title: "Who", cell: (a) => a.subject },
      { title: "Action", cell: (a) => a.action },
      { title: "Detail", class: "detail", cell: (a) => a.detail || "" },
    ], auditItems, "No operator action on this order.", () => ({})));
  } catch (error) {
    if (error instanceof AuthError) showSignIn(error.message);
    else $("timeline").replaceChildren(el("p", { class: "error", text: `Could not read the saga's messages: ${error.message}` }));
  }
}

function changedFields(before, after) {
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])]
    .filter((k) => !["updatedAt", "stepToken"].includes(k) && JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k]));
  return keys.map((k) => `${k}: ${JSON.stringify(before?.[k] ?? null)} → ${JSON.stringify(after?.[k] ?? null)}`);
}

function renderTimeline(messages) {
  const rows = messages.map((m) => {
    const type = shortType(m.messageType);
    const compensation = COMPENSATING.includes(m.toState) || /Fault|Timeout|Cancel/.test(type);
    return { ...m, type, compensation };
  });
  renderInto("timeline", rows, () => table("Messages the saga consumed and sent, oldest first", [
    { title: "At", cell: (m) => timeCell(m.at, true) },
    { title: "Consumed", class: "event", cell: (m) => el("span", {}, m.type, m.compensation ? el("span", { class: "tag", text: "compensation" }) : null) },
    { title: "State before → after", cell: (m) => el("span", {}, stateBadge(m.fromState), " → ", stateBadge(m.toState)) },
    { title: "Sent", cell: (m) => el("ul", { class: "sent" }, (m.sent || []).map((s) => el("li", {}, shortType(s.messageType),
      s.destination ? el("span", { class: "muted", text: ` → ${String(s.destination).split("/").pop()}` }) : null))) },
    {
      title: "Changed", class: "detail", cell: (m) => {
        const changes = changedFields(m.stateBefore, m.stateAfter);
        return changes.length ? el("details", {}, el("summary", { text: `${changes.length} field${changes.length > 1 ? "s" : ""}` }),
          el("ul", {}, changes.map((c) => el("li", { text: c })))) : "—";
      },
    },
  ], rows, "No message recorded for this saga (the recording expired, or it was not recorded).",
  (m) => ({ class: m.compensation ? "compensation" : undefined, "data-message-type": m.type })));
}

function renderTrace(messages) {
  const activity = messages.map((m) => m.headers?.["MT-Activity-Id"]).find(Boolean);
  const traceId = activity ? String(activity).split("-")[1] : null;
  const target = $("trace");
  if (!target) return;
  if (!traceId) {
    target.textContent = "—";
    return;
  }
  target.replaceChildren(state.config.traceUrl
    ? el("a", { href: state.config.traceUrl.replace("{traceId}", traceId), target: "_blank", rel: "noopener", class: "order-id", text: traceId })
    : el("code", { text: traceId, title: "No telemetry dashboard configured (Dashboard:TraceUrl)" }));
}

// ---- actions --------------------------------------------------------------------------------------------------------

// A modal confirmation; resolves to the reason (or "") when confirmed, null when the operator backed out.
function confirmAction(title, text, { reason = false, confirmLabel = "Confirm" } = {}) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = confirmLabel;
  $("confirm-reason-label").hidden = !reason;
  $("confirm-reason").required = reason;
  $("confirm-reason").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm" ? $("confirm-reason").value.trim() : null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    (reason ? $("confirm-reason") : $("confirm-back")).focus();
  });
}

function showResult(id, ok, text) {
  const box = $(id);
  box.hidden = false;
  box.classList.toggle("ok", ok);
  box.classList.toggle("error", !ok);
  box.textContent = text;
}

async function act(resultId, method, path, body, success) {
  try {
    const response = await request(method, path, body);
    if (response.ok) showResult(resultId, true, success(response.status === 204 ? null : await response.json().catch(() => null)));
    else showResult(resultId, false, `Refused: ${await problemText(response)}`);
    return response;
  } catch (error) {
    if (error instanceof AuthError) showResult(resultId, false, `Refused: ${error.message}`);
    else showResult(resultId, false, `Failed: ${error.message}`);
    return null;
  }
}

async function sagaAction(action) {
  const orderId = currentOrderId();
  const saga = state.snapshot?.saga;
  const what = action === "cancel"
    ? "The saga undoes what was done (the step in flight included) and ends Cancelled (CancelledByOperator)."
    : "The saga sends its current step's or compensation's command again.";
  if ((await confirmAction(action === "cancel" ? "Cancel this saga?" : "Retry the current step?",
    `Order ${orderId}${saga ? `, now ${saga.state}` : ""}. ${what} The action is recorded in the audit trail.`,
    { confirmLabel: action === "cancel" ? "Cancel saga" : "Retry step" })) === null) return;
  await act("action-result", "POST", `/api/sagas/${orderId}/${action}`, undefined,
    (answer) => `Accepted: ${action} of order ${orderId}${answer?.state ? ` (was ${answer.state})` : ""}. The page follows the saga live.`);
}

async function retryFailure(failure) {
  if ((await confirmAction("Retry this message?",
    `${failure.messageType} of ${failure.service}${failure.orderId ? ` for order ${failure.orderId}` : ""} goes back to ${failure.queue}; the receiver's inbox makes its effect happen once.`,
    { confirmLabel: "Retry" })) === null) return;
  await act("failure-action-result", "POST", `/api/failures/${encodeURIComponent(failure.id)}/retry`, undefined,
    () => `Retried: ${failure.messageType}${failure.orderId ? ` of order ${failure.orderId}` : ""} is back in ${failure.queue}.`);
}

async function discardFailure(failure) {
  const reason = await confirmAction("Discard this message?",
    `${failure.messageType} of ${failure.service}${failure.orderId ? ` for order ${failure.orderId}` : ""} is removed for good. Say why; the reason goes in the audit trail.`,
    { reason: true, confirmLabel: "Discard" });
  if (reason === null) return;
  await act("failure-action-result", "POST", `/api/failures/${encodeURIComponent(failure.id)}/discard`, { reason },
    () => `Discarded: ${failure.messageType}${failure.orderId ? ` of order ${failure.orderId}` : ""}.`);
}

async function retryGroup(group) {
  if ((await confirmAction("Retry the whole group?",
    `${group.count} × ${group.messageType} of ${group.service} (${group.error}) go back to the queues they failed on.`,
    { confirmLabel: `Retry ${group.count}` })) === null) return;
  const response = await act("failure-action-result", "POST", "/api/failures/retry", { group: group.key },
    (answer) => `Group retry started: ${answer?.retried ?? 0} retried, ${answer?.failed ?? 0} could not be sent back.`);
  if (response?.ok) {
    state.batch = response.headers.get("Location");
    refreshBatch();
  }
}

// Progress of the group retry the operator started: read again whenever the live failures change.
async function refreshBatch() {
  if (!state.batch) return;
  const progress = await api(state.batch).catch(() => null);
  const box = $("group-progress");
  box.hidden = !progress;
  if (!progress) return;
  box.replaceChildren(el("p", { class: "progress" },
    el("strong", { text: "Group retry " }),
    `${formatTime(progress.at)} by ${progress.subject}: `,
    el("span", { "data-progress": "retried", text: `${progress.retried} retried` }), ", ",
    el("span", { "data-progress": "failed", text: `${progress.failed} not sent back` }), ", ",
    el("span", { "data-progress": "failed-again", class: progress.failedAgain ? "error" : undefined, text: `${progress.failedAgain} failed again` }),
    el("progress", { max: String(Math.max(progress.retried, 1)), value: String(progress.retried - progress.failedAgain) })));
}

// ---- navigation -----------------------------------------------------------------------------------------------------

function route() {
  const orderId = currentOrderId();
  $("overview").hidden = orderId !== null;
  $("detail").hidden = orderId === null;
  state.rendered = {};
  state.sagaKey = null;
  if (orderId) {
    $("detail-title").textContent = `Order ${orderId}`;
    for (const id of ["detail-summary", "remaining", "ledger", "audit"]) $(id).replaceChildren();
    $("points").textContent = "";
    $("action-result").hidden = true;
    for (const id of ["timeline", "history"]) $(id).replaceChildren(el("p", { class: "empty", text: "Loading…" }));
    $("detail-title").focus();
  }
  if (!$("sign-in").hidden && !state.token) return;
  connectLive();
}

async function start() {
  await loadConfig();
  if (!(await obtainToken())) {
    showSignIn("");
    return;
  }
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const name of STATES) $("filter-state").append(el("option", { value: name, text: name }));
  $("sign-out").addEventListener("click", () => showSignIn(""));
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
    sessionStorage.setItem(TOKEN_KEY, token);
    state.token = token;
    state.devToken = false;
    $("token-input").value = "";
    $("token-error").textContent = "";
    setStatus("Connecting…");
    connectLive();
  });
  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#order/${$("lookup-input").value.trim()}`;
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.search = { query: readSearchForm(), offset: 0, total: 0 };
    runSearch();
  });
  $("search-form").addEventListener("reset", () => {
    state.search = { query: {}, offset: 0, total: 0 };
    setTimeout(() => runSearch());
  });
  $("page-previous").addEventListener("click", () => {
    state.search.offset = Math.max(0, state.search.offset - Number($("page-size").value));
    runSearch();
  });
  $("page-next").addEventListener("click", () => {
    state.search.offset += Number($("page-size").value);
    runSearch();
  });
  $("page-size").addEventListener("change", () => {
    state.search.offset = 0;
    runSearch();
  });
  $("action-retry-step").addEventListener("click", () => sagaAction("retry-step"));
  $("action-cancel").addEventListener("click", () => sagaAction("cancel"));
  // The chart's time axis moves on between pushes; the ages in the tables too. Nothing is fetched here.
  setInterval(() => {
    if (document.hidden || !state.snapshot) return;
    renderChart();
    for (const age of document.querySelectorAll(".age[data-since]")) age.textContent = ` (${formatAge(age.dataset.since)})`;
  }, 5000);
  window.addEventListener("hashchange", route);
  start();
});
