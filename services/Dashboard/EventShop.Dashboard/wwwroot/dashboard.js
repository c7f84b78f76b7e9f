// EventShop saga dashboard. Served by the gateway under /dashboard/, so every API call below is same-origin.
"use strict";

const REFRESH_SECONDS = 5;
const TOKEN_KEY = "eventshop.dashboard.token";
const TERMINAL = ["Completed", "Cancelled"];
// Known states in the order a saga moves through them; unknown states the API reports are shown after these.
const STATES = ["Debiting", "Crediting", "Accruing", "ReversingPoints", "ReversingCredit", "Refunding", "Completed", "Cancelled"];
const COMPENSATING = ["ReversingPoints", "ReversingCredit", "Refunding"];

const $ = (id) => document.getElementById(id);
const state = { token: null, devToken: false, timer: null, busy: false, rendered: {} };

// ---- authentication -------------------------------------------------------------------------------------------------

class AuthError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function obtainToken() {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    state.token = saved;
    return true;
  }
  // Development only: the gateway issues tokens; elsewhere the route does not exist and the operator pastes one.
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
    // the gateway is unreachable: the refresh loop reports it
  }
  return false;
}

function showSignIn(message) {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("token-error").textContent = message || "";
  setStatus("Waiting for an operator token.");
}

async function api(path) {
  if (!state.token && !(await obtainToken()))
    throw new AuthError(401, "");
  let response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" } });
  if (response.status === 401 && state.devToken) {
    // A development token expired: fetch a fresh one once.
    state.token = null;
    if (await obtainToken())
      response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" } });
  }
  if (response.status === 401)
    throw new AuthError(401, "The token was rejected (expired or not signed for this environment).");
  if (response.status === 403)
    throw new AuthError(403, "The token is valid but lacks the operator role.");
  if (response.status === 404)
    return null;
  if (!response.ok)
    throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
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

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined) node.append(child);
  return node;
}

function timeCell(iso, withMillis = false) {
  return el("time", { datetime: iso, title: iso, text: formatTime(iso, withMillis) });
}

function stateBadge(name) {
  const kind = name === "Completed" ? "ok" : name === "Cancelled" ? "failed" : COMPENSATING.includes(name) ? "compensating" : "active";
  return el("span", { class: `state state-${kind}`, "data-state": name, text: name });
}

function orderLink(orderId) {
  return el("a", { href: `#order/${orderId}`, class: "order-id", "data-order-id": orderId, text: orderId });
}

// ---- rendering ------------------------------------------------------------------------------------------------------

// Replaces a region only when its data changed, so the every-few-seconds refresh does not steal keyboard focus or scroll.
function renderInto(id, data, build) {
  const key = JSON.stringify(data);
  if (state.rendered[id] === key) return;
  state.rendered[id] = key;
  $(id).replaceChildren(build(data));
}

function table(caption, columns, rows, emptyText) {
  if (rows.length === 0) return el("p", { class: "empty", text: emptyText });
  return el("div", { class: "table-wrap" },
    el("table", {},
      el("caption", { class: "visually-hidden", text: caption }),
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.class, text: c.title })))),
      el("tbody", {}, rows.map((row) => el("tr", { "data-order-id": row.orderId, class: row.rowClass },
        columns.map((c) => el("td", { class: c.class, "data-label": c.title }, c.cell(row))))))));
}

function renderCounts(counts, stuck) {
  const names = [...STATES, ...Object.keys(counts).filter((s) => !STATES.includes(s)).sort()];
  const inFlight = names.filter((s) => !TERMINAL.includes(s)).reduce((sum, s) => sum + (counts[s] || 0), 0);
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

function fragment(nodes) {
  const f = document.createDocumentFragment();
  f.append(...nodes);
  return f;
}

const idColumn = { title: "Order", class: "col-id", cell: (s) => orderLink(s.orderId) };
const partiesColumn = { title: "Customer → merchant", cell: (s) => `${s.customerId} → ${s.merchantId}` };
const totalColumn = { title: "Total", class: "num", cell: (s) => formatMoney(s.total) };

function renderInFlight(id, items, emptyText) {
  renderInto(id, items, () => table(id === "stuck" ? "Stuck sagas" : "Sagas in flight", [
    idColumn,
    { title: "State", cell: (s) => stateBadge(s.state) },
    partiesColumn,
    totalColumn,
    { title: "Last change", cell: (s) => el("span", {}, timeCell(s.updatedAt), el("span", { class: "age", "data-since": s.updatedAt, text: ` (${formatAge(s.updatedAt)})` })) },
    { title: "Step deadline", cell: (s) => (s.stepDeadline ? timeCell(s.stepDeadline) : "—") },
  ], items, emptyText));
}

function renderFailed(items) {
  renderInto("failed", items, () => table("Cancelled sagas with their failure reason", [
    idColumn,
    partiesColumn,
    totalColumn,
    { title: "Failure reason", class: "reason", cell: (s) => s.failureReason || "—" },
    { title: "Cancelled at", cell: (s) => timeCell(s.updatedAt) },
  ], items, "No failed orders."));
}

function renderDetail(saga) {
  $("detail-title").textContent = `Order ${saga.orderId}`;
  renderInto("detail-summary", saga, () => fragment([
    ["State", stateBadge(saga.state)],
    ["Customer", saga.customerId],
    ["Merchant", saga.merchantId],
    ["Total", formatMoney(saga.total)],
    ["Failure reason", saga.failureReason || "—"],
    ["Step deadline", saga.stepDeadline ? timeCell(saga.stepDeadline) : "—"],
    ["Created", timeCell(saga.createdAt, true)],
    ["Last change", timeCell(saga.updatedAt, true)],
  ].map(([term, value]) => el("div", { class: term === "Failure reason" && saga.failureReason ? "summary-item reason" : "summary-item" },
    el("dt", { text: term }), el("dd", {}, value)))));
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

// ---- refresh loop ---------------------------------------------------------------------------------------------------

function currentOrderId() {
  const match = /^#order\/([0-9a-fA-F-]{32,36})$/.exec(location.hash);
  return match ? match[1] : null;
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function refresh() {
  if (state.busy || (!$("sign-in").hidden && !state.token)) return;
  state.busy = true;
  try {
    const stuckAfter = $("stuck-after").value;
    const overview = await api(`/api/sagas?stuck=true&stuckAfterSeconds=${stuckAfter}&limit=100`);
    renderCounts(overview.counts, overview.stuck);

    const orderId = currentOrderId();
    if (orderId) {
      const saga = await api(`/api/sagas/${orderId}`);
      if (saga) renderDetail(saga);
      else {
        $("detail-title").textContent = `Order ${orderId}`;
        renderInto("detail-summary", null, () => el("p", { class: "error", text: "No saga with this order id (yet)." }));
        renderInto("history", null, () => fragment([]));
      }
    } else {
      // The list API filters by one state: ask only for the states that have sagas right now, in parallel.
      const active = Object.keys(overview.counts).filter((s) => !TERMINAL.includes(s) && overview.counts[s] > 0);
      const [failed, ...inFlightByState] = await Promise.all([
        api("/api/sagas?state=Cancelled&limit=50"),
        ...active.map((s) => api(`/api/sagas?state=${encodeURIComponent(s)}&limit=100`)),
      ]);
      const inFlight = inFlightByState.flatMap((r) => r.items).sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
      renderInFlight("stuck", overview.items, "Nothing is stuck.");
      renderInFlight("inflight", inFlight, "No order is being placed right now.");
      renderFailed(failed.items);
      // Tables are only rebuilt when their data changes; the ages move on regardless.
      for (const age of document.querySelectorAll(".age[data-since]"))
        age.textContent = ` (${formatAge(age.dataset.since)})`;
    }
    $("sign-in").hidden = true;
    $("sign-out").hidden = state.devToken;
    setStatus(`Updated ${formatTime(new Date().toISOString())}${state.devToken ? " · development token" : ""}`);
  } catch (error) {
    if (error instanceof AuthError) showSignIn(error.message);
    else setStatus(`Could not refresh: ${error.message}. Retrying…`, true);
  } finally {
    state.busy = false;
  }
}

function schedule() {
  clearInterval(state.timer);
  state.timer = $("auto-refresh").checked
    ? setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_SECONDS * 1000)
    : null;
}

function route() {
  const orderId = currentOrderId();
  $("overview").hidden = orderId !== null;
  $("detail").hidden = orderId === null;
  state.rendered = {};
  if (orderId) {
    $("detail-title").textContent = `Order ${orderId}`;
    $("detail-summary").replaceChildren();
    $("history").replaceChildren(el("p", { class: "empty", text: "Loading…" }));
    $("detail-title").focus();
  }
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("refresh-seconds").textContent = String(REFRESH_SECONDS);
  $("auto-refresh").addEventListener("change", schedule);
  $("refresh-now").addEventListener("click", refresh);
  $("stuck-after").addEventListener("change", refresh);
  $("sign-out").addEventListener("click", () => showSignIn(""));
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
    sessionStorage.setItem(TOKEN_KEY, token);
    state.token = token;
    state.devToken = false;
    $("token-input").value = "";
    $("token-error").textContent = "";
    refresh();
  });
  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#order/${$("lookup-input").value.trim()}`;
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  window.addEventListener("hashchange", route);
  schedule();
  route();
});
