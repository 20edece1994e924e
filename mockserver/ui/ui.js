// The mockserver inspector: reads and steers the mock through its JSON control plane (/__mock__/*).
// Plain DOM code, no framework. Every piece of data is put on the page as text, never as HTML.
"use strict";

const FAMILIES = [
  ["authentications", "authenticationID", "Authentications"],
  ["destinations", "destinationID", "Destinations"],
  ["sources", "sourceID", "Sources"],
  ["tasks", "taskID", "Tasks (v1 and v2)"],
  ["transformations", "transformationID", "Transformations"],
];
const JOURNAL_PAGE = 50;
const INDEX_PAGE = 20;
const POLL_MS = 2000;
const MAX_MEMBERS = 3000; // JSON members drawn per body; the rest is summarised
const SECRET_KEY = /(api[-_]?key|password|secret|token|private[-_]?key|authorization|credentials?)$/i;
const CREDS = "mockserver-inspector-credentials";

const state = {
  appID: null,
  apps: [],
  dump: null,
  journal: { offset: 0, anchor: null, total: 0, topSeq: null, open: new Set(), ops: new Set() },
  index: { name: null, records: [], page: 0 },
  clock: null,
  polling: false,
};

// --- small DOM helpers ------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function shortID(id) {
  return typeof id === "string" && id.length > 12 ? id.slice(0, 8) + "…" : String(id);
}

// --- talking to the control plane -------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(CREDS) || "null");
  } catch {
    return null;
  }
}

// Controls act on the application on view: on an open server the application's header scopes the
// clock, the run policy and the faults to it (saved credentials, when given, do the same).
const SCOPED = new Set(["clock", "runs", "faults"]);

async function api(path, { method = "GET", body, params } = {}) {
  const url = new URL(path, window.location.href);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, String(value));
  }
  const headers = { accept: "application/json" };
  const creds = credentials();
  if (creds && creds.app) headers["x-algolia-application-id"] = creds.app;
  else if (SCOPED.has(path) && state.appID) headers["x-algolia-application-id"] = state.appID;
  if (creds && creds.key) headers["x-algolia-api-key"] = creds.key;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, `the mock did not answer (${err.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const message = data && typeof data.message === "string" ? data.message : response.statusText;
  if (response.status === 403 || response.status === 401) {
    throw new ApiError(
      response.status,
      `The control plane refused ${method} ${url.pathname} (${response.status}): ${message}. ` +
        "Give the application ID and API key this server was started with under Credentials."
    );
  }
  if (!response.ok) throw new ApiError(response.status, `${method} ${url.pathname} answered ${response.status}: ${message}`);
  return data;
}

function showAlert(message) {
  const box = $("alert");
  box.textContent = message;
  box.hidden = !message;
}

function announce(message) {
  $("live").textContent = message;
}

async function guard(action) {
  try {
    await action();
    showAlert("");
    return true;
  } catch (err) {
    showAlert(err.message);
    if (err.status === 403 || err.status === 401) openCredentials(true);
    return false;
  }
}

// --- secrets ----------------------------------------------------------------------------------
function masked(value) {
  if (Array.isArray(value)) return value.map(masked);
  if (value && typeof value === "object") {
    const out = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && inner !== null && typeof inner !== "object" ? "***" : masked(inner);
    }
    return out;
  }
  return value;
}

// --- JSON drawn as nested members, one of which may be highlighted ---------------------------
function samePath(a, b) {
  return a.length === b.length && a.every((part, i) => String(part) === String(b[i]));
}

function jsonView(value, target) {
  const budget = { left: MAX_MEMBERS };
  const root = h("div", { class: "json" });
  root.append(member(null, masked(value), [], target, true, budget));
  return root;
}

function member(key, value, path, target, last, budget) {
  const div = h("div", { class: "m" });
  if (typeof key === "string") div.append(h("span", { class: "k" }, JSON.stringify(key)), ": ");
  budget.left -= 1;
  if (value !== null && typeof value === "object") {
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
    const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) div.append(open + close);
    else {
      const inner = h("div", { class: "in" });
      for (let i = 0; i < entries.length; i++) {
        if (budget.left <= 0) {
          inner.append(h("div", { class: "m muted" }, `… ${entries.length - i} more`));
          break;
        }
        const [k, v] = entries[i];
        inner.append(member(isArray ? i : k, v, [...path, k], target, i === entries.length - 1, budget));
      }
      div.append(open, inner, close);
    }
  } else {
    const kind = value === null ? "null" : typeof value;
    div.append(h("span", { class: `v ${kind}` }, JSON.stringify(value)));
  }
  if (!last) div.append(",");
  if (target && samePath(path, target)) {
    div.classList.add("hl");
    div.setAttribute("data-highlight", path.join("."));
  }
  return div;
}

// "body.input.url: must be a URI" -> {where: "body", path: ["input", "url"], text}
function parseLocation(message) {
  const match = /^(body|query|path)((?:\.[^.[\s:]+|\[\d+\])*)\s*:\s*/.exec(message || "");
  if (!match) return null;
  const path = [];
  for (const part of match[2].matchAll(/\.([^.[\s:]+)|\[(\d+)\]/g)) {
    path.push(part[1] !== undefined ? part[1] : Number(part[2]));
  }
  return { where: match[1], path, location: match[1] + match[2], text: message.slice(match[0].length) };
}

// The deepest part of ``path`` that exists in ``value`` (a missing field highlights its parent).
function existingPath(value, path) {
  const found = [];
  let node = value;
  for (const part of path) {
    if (node === null || typeof node !== "object" || !(part in node)) break;
    node = node[part];
    found.push(part);
  }
  return found;
}

// --- applications -----------------------------------------------------------------------------
function countsText(counts) {
  const parts = [];
  for (const [family] of FAMILIES) if (counts[family]) parts.push(`${counts[family]} ${family}`);
  if (counts.runs) parts.push(`${counts.runs} runs`);
  if (counts.indexes) parts.push(`${counts.indexes} indexes`);
  if (counts.synonyms) parts.push(`${counts.synonyms} synonyms`);
  if (counts.rules) parts.push(`${counts.rules} rules`);
  return parts.length ? parts.join(" · ") : "empty";
}

async function loadApps() {
  const data = await api("apps");
  state.apps = data.applications;
  const list = $("app-list");
  list.replaceChildren();
  if (!state.apps.length) list.append(h("li", { class: "muted" }, "No application has data yet."));
  for (const app of state.apps) {
    const current = app.appID === state.appID;
    list.append(
      h(
        "li",
        { class: current ? "current" : null },
        h(
          "a",
          {
            href: `?appID=${encodeURIComponent(app.appID)}`,
            "aria-current": current ? "page" : null,
            onclick: (event) => {
              event.preventDefault();
              selectApp(app.appID, true);
            },
          },
          app.appID
        ),
        h("span", { class: "counts" }, countsText(app.counts))
      )
    );
  }
}

function selectApp(appID, push) {
  if (push) history.pushState({}, "", `?appID=${encodeURIComponent(appID)}`);
  state.appID = appID;
  state.journal.offset = 0;
  state.journal.anchor = null;
  state.journal.open.clear();
  state.index.name = null;
  $("app-title").textContent = appID;
  document.title = `${appID} · mockserver inspector`;
  refreshAll();
}

// --- resources --------------------------------------------------------------------------------
function resourceIndex(dump) {
  const byID = new Map();
  for (const [family, idField] of FAMILIES) {
    for (const record of dump[family] || []) byID.set(record[idField], { family, record });
  }
  return byID;
}

function references(record, ownField) {
  const refs = [];
  const visit = (object, prefix) => {
    for (const [key, value] of Object.entries(object)) {
      if (key === ownField || key === "appID" || key === "runID") continue;
      if (/ID$/.test(key) && typeof value === "string") refs.push([prefix + key, value]);
      if (/IDs$/.test(key) && Array.isArray(value)) value.forEach((v, i) => refs.push([`${prefix}${key}[${i}]`, v]));
    }
  };
  visit(record, "");
  if (record.input && typeof record.input === "object") visit(record.input, "input.");
  return refs;
}

function label(record, byID) {
  if (record.name) return record.name;
  if (record.taskID && record.sourceID) {
    const end = (id) => (byID && byID.get(id) ? byID.get(id).record.name || shortID(id) : shortID(id));
    return `${end(record.sourceID)} → ${end(record.destinationID)}`;
  }
  return "(unnamed)";
}

function refLink(id, byID) {
  const target = byID.get(id);
  if (!target) return h("span", { class: "missing" }, `${shortID(id)} (not found)`);
  return h("a", { href: `#res-${id}`, onclick: (e) => jumpTo(e, id) }, `${label(target.record, byID)} (${target.family.slice(0, -1)})`);
}

function jumpTo(event, id) {
  event.preventDefault();
  const target = $(`res-${id}`);
  if (!target) return;
  target.hidden = false;
  target.open = true;
  target.querySelector("summary").focus();
  target.scrollIntoView({ block: "nearest" });
}

function renderResources() {
  const dump = state.dump || {};
  const byID = resourceIndex(dump);
  const usedBy = new Map();
  for (const [family, idField] of FAMILIES) {
    for (const record of dump[family] || []) {
      for (const [, id] of references(record, idField)) {
        if (!usedBy.has(id)) usedBy.set(id, []);
        usedBy.get(id).push(record[idField]);
      }
    }
  }
  const box = $("res-families");
  const wasOpen = new Set([...box.querySelectorAll("details.res[open]")].map((d) => d.id));
  box.replaceChildren();
  for (const [family, idField, title] of FAMILIES) {
    const records = dump[family] || [];
    const list = h("ul", { class: "res-list" });
    for (const record of records) {
      const id = record[idField];
      const refs = references(record, idField);
      const users = usedBy.get(id) || [];
      const details = h(
        "details",
        { id: `res-${id}`, class: "res", "data-search": JSON.stringify(record).toLowerCase() },
        h(
          "summary",
          {},
          h("span", { class: "name" }, label(record, byID)),
          record.type ? h("span", { class: "tag" }, record.type) : null,
          family === "tasks" && record.cron ? h("span", { class: "tag" }, `cron ${record.cron}`) : null,
          family === "tasks" && record.enabled === false ? h("span", { class: "tag warn" }, "disabled") : null,
          h("code", { class: "id" }, id)
        ),
        refs.length
          ? h("p", { class: "refs" }, "References: ", refs.flatMap(([field, ref], i) => [i ? ", " : "", `${field} → `, refLink(ref, byID)]))
          : null,
        users.length
          ? h("p", { class: "refs" }, "Used by: ", users.flatMap((user, i) => [i ? ", " : "", refLink(user, byID)]))
          : null,
        jsonView(record, null)
      );
      details.open = wasOpen.has(details.id);
      list.append(h("li", {}, details));
    }
    box.append(
      h(
        "section",
        { class: "family", "data-family": family },
        h("h3", {}, title, " ", h("span", { class: "count" }, String(records.length))),
        records.length ? list : h("p", { class: "muted" }, "None.")
      )
    );
  }
  filterResources();
}

function filterResources() {
  const query = $("res-search").value.trim().toLowerCase();
  for (const family of document.querySelectorAll("#res-families .family")) {
    let shown = 0;
    for (const item of family.querySelectorAll("details.res")) {
      const match = !query || item.dataset.search.includes(query);
      item.parentElement.hidden = !match;
      if (match) shown += 1;
    }
    family.hidden = Boolean(query) && shown === 0;
  }
}

// --- journal ----------------------------------------------------------------------------------
function journalFilters() {
  const status = $("jr-status").value.trim();
  return {
    appID: state.appID,
    operationId: $("jr-op").value.trim(),
    status: status,
    rejected: $("jr-rejected").checked ? "true" : "",
  };
}

async function loadJournal() {
  const j = state.journal;
  const data = await api("journal", {
    params: { ...journalFilters(), order: "desc", limit: JOURNAL_PAGE, offset: j.offset, before: j.anchor },
  });
  j.total = data.total;
  if (j.offset === 0 && j.anchor === null) j.topSeq = data.calls.length ? data.calls[0].seq : null;
  for (const call of data.calls) if (call.operation_id) j.ops.add(call.operation_id);
  $("jr-ops").replaceChildren(...[...j.ops].sort().map((op) => h("option", { value: op })));
  renderJournal(data.calls);
  $("jr-new").hidden = true;
}

function renderJournal(calls) {
  const j = state.journal;
  const list = $("jr-list");
  list.replaceChildren();
  if (!calls.length) list.append(h("li", { class: "muted empty" }, "No calls match."));
  for (const call of calls) list.append(h("li", {}, journalEntry(call)));
  const first = calls.length ? j.offset + 1 : 0;
  $("jr-range").textContent = `${first.toLocaleString("en")}–${(j.offset + calls.length).toLocaleString("en")} of ${j.total.toLocaleString("en")}`;
  $("jr-newer").disabled = j.offset === 0;
  $("jr-older").disabled = j.offset + JOURNAL_PAGE >= j.total;
}

function statusClass(status) {
  return status >= 500 ? "s5" : status >= 400 ? "s4" : "s2";
}

function journalEntry(call) {
  const rejected = call.status >= 400;
  const message = call.response && typeof call.response.message === "string" ? call.response.message : null;
  const details = h("details", { class: `call ${rejected ? "rejected" : ""}`, "data-seq": call.seq });
  details.open = state.journal.open.has(call.seq);
  details.addEventListener("toggle", () => {
    if (details.open) {
      state.journal.open.add(call.seq);
      if (!details.dataset.drawn) drawCall(details, call, message);
    } else state.journal.open.delete(call.seq);
  });
  details.append(
    h(
      "summary",
      {},
      h("span", { class: "seq" }, `#${call.seq}`),
      h("span", { class: `status ${statusClass(call.status)}` }, String(call.status)),
      h("span", { class: "method" }, call.method),
      h("span", { class: "path" }, call.path),
      h("span", { class: "op" }, call.operation_id || "no operation"),
      rejected && message ? h("span", { class: "msg-line" }, message) : null
    )
  );
  if (details.open) drawCall(details, call, message);
  return details;
}

function drawCall(details, call, message) {
  details.dataset.drawn = "1";
  const where = call.status >= 400 ? parseLocation(message) : null;
  const body = h("div", { class: "call-body" });
  if (call.status >= 400 && message) {
    body.append(
      h(
        "p",
        { class: "message" },
        where ? [h("strong", { class: "loc" }, where.location), ": ", where.text] : message
      )
    );
  }
  const targetIn = (section, value) => {
    if (!where || where.where !== section) return null;
    const found = existingPath(value, where.path);
    if (found.length < where.path.length) {
      const missing = where.path.slice(found.length).join(".");
      body.append(h("p", { class: "muted" }, `The request has no ${missing}; its parent is highlighted.`));
    }
    return found;
  };
  const request = h("div", { class: "pane" }, h("h4", {}, "Request"));
  request.append(h("p", { class: "line" }, h("code", {}, `${call.method} ${call.path}`)));
  if (Object.keys(call.query || {}).length) {
    const query = Object.fromEntries(Object.entries(call.query).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
    request.append(h("h5", {}, "Query"), jsonView(query, targetIn("query", query)));
  }
  if (call.body !== null && call.body !== undefined) {
    request.append(h("h5", {}, "Body"), jsonView(call.body, targetIn("body", call.body)));
  } else request.append(h("p", { class: "muted" }, "No body."));
  const answer = h("div", { class: "pane" }, h("h4", {}, `Answer ${call.status}`), jsonView(call.response, null));
  body.append(h("div", { class: "panes" }, request, answer));
  details.append(body);
}

function moveJournal(step) {
  const j = state.journal;
  if (step > 0 && j.anchor === null && j.topSeq !== null) j.anchor = j.topSeq + 1;
  j.offset = Math.max(0, j.offset + step * JOURNAL_PAGE);
  if (j.offset === 0) j.anchor = null;
  guard(loadJournal);
}

// --- indexes ----------------------------------------------------------------------------------
function renderIndexNames() {
  const names = Object.keys((state.dump && state.dump.indexes) || {}).sort();
  const select = $("ix-select");
  if (!names.includes(state.index.name)) state.index = { name: names[0] || null, records: [], page: 0 };
  select.replaceChildren(...names.map((n) => h("option", { value: n, selected: n === state.index.name }, n)));
  select.disabled = !names.length;
}

async function loadIndex() {
  const name = state.index.name;
  if (!name) {
    state.index.records = [];
  } else {
    const data = await api(`indexes/${encodeURIComponent(name)}`, { params: { appID: state.appID } });
    state.index.records = data.records;
  }
  renderIndex();
}

function renderIndex() {
  const { records, page, name } = state.index;
  const box = $("ix-records");
  box.replaceChildren();
  const pages = Math.max(1, Math.ceil(records.length / INDEX_PAGE));
  state.index.page = Math.min(page, pages - 1);
  const start = state.index.page * INDEX_PAGE;
  const shown = records.slice(start, start + INDEX_PAGE);
  if (!name) box.append(h("p", { class: "muted" }, "No fake index has records yet."));
  else if (!records.length) box.append(h("p", { class: "muted" }, "This index is empty."));
  else {
    const table = h("table", { class: "records" }, h("caption", { class: "visually-hidden" }, `Records of ${name}`));
    table.append(h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "objectID"), h("th", { scope: "col" }, "Record"))));
    const tbody = h("tbody");
    for (const record of shown) {
      const { objectID, ...rest } = record;
      tbody.append(h("tr", {}, h("td", {}, h("code", {}, String(objectID))), h("td", {}, h("code", { class: "compact" }, JSON.stringify(masked(rest))))));
    }
    table.append(tbody);
    box.append(table);
  }
  $("ix-range").textContent = records.length ? `${start + 1}–${start + shown.length} of ${records.length}` : "";
  $("ix-prev").disabled = state.index.page === 0;
  $("ix-next").disabled = state.index.page >= pages - 1;
}

// --- runs -------------------------------------------------------------------------------------
function renderRuns() {
  const dump = state.dump || {};
  const byID = resourceIndex(dump);
  const byTask = new Map();
  for (const run of dump.runs || []) {
    if (!byTask.has(run.taskID)) byTask.set(run.taskID, []);
    byTask.get(run.taskID).push(run);
  }
  const box = $("runs-list");
  box.replaceChildren();
  if (!byTask.size) box.append(h("p", { class: "muted" }, "No task has run yet."));
  for (const [taskID, runs] of byTask) {
    runs.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    const task = byID.get(taskID);
    const title = task
      ? [refLink(taskID, byID), h("span", { class: "muted" }, ` · ${runs.length} run${runs.length === 1 ? "" : "s"}`)]
      : `task ${shortID(taskID)} (deleted)`;
    const line = h("ol", { class: "timeline" });
    for (const run of runs) {
      const events = (dump.events || {})[run.runID] || [];
      const outcome = run.outcome || run.status;
      line.append(
        h(
          "li",
          { class: `run ${outcome}` },
          h(
            "p",
            { class: "run-head" },
            h("span", { class: `tag ${outcome}` }, outcome),
            ` ${run.type || "run"} `,
            h("code", {}, shortID(run.runID)),
            ` · ${run.status}`,
            run.reasonCode ? ` · ${run.reasonCode}` : "",
            run.reason ? h("span", { class: "reason" }, ` · ${run.reason}`) : ""
          ),
          h("p", { class: "times muted" }, ["createdAt", "startedAt", "finishedAt"].filter((k) => run[k]).map((k) => `${k.replace("At", "")} ${run[k]}`).join(" → ")),
          events.length
            ? h("ul", { class: "events" }, events.map((e) => h("li", {}, h("span", { class: `tag ${e.status}` }, e.status), ` ${e.type}`, e.batchSize !== undefined ? ` · batch ${e.batchSize}` : "")))
            : null
        )
      );
    }
    box.append(h("section", { class: "task-runs" }, h("h3", {}, title), line));
  }
}

// --- controls ---------------------------------------------------------------------------------
async function loadControls() {
  const [clock, policy, faults] = await Promise.all([api("clock"), api("runs"), api("faults")]);
  state.clock = clock;
  $("clock-now").textContent = clock.now;
  $("clock-frozen").textContent = clock.frozen ? "frozen" : "running";
  $("clock-freeze").textContent = clock.frozen ? "Unfreeze" : "Freeze";
  $("policy-mode").value = policy.mode;
  $("policy-outcome").value = policy.outcome;
  $("policy-start").value = policy.start_after;
  $("policy-finish").value = policy.finish_after;
  $("policy-code").value = policy.reason_code || "";
  $("policy-reason").value = policy.reason || "";
  const list = $("fault-list");
  list.replaceChildren();
  for (const rule of faults.rules) {
    const parts = [rule.operation || "every operation", `→ ${rule.status}`];
    if (rule.message) parts.push(`“${rule.message}”`);
    if (rule.times) parts.push(`next ${rule.times} calls`);
    if (rule.rate !== undefined && rule.rate < 1) parts.push(`${Math.round(rule.rate * 100)}% of calls`);
    if (rule.latency) parts.push(`latency ${JSON.stringify(rule.latency)} s`);
    list.append(h("li", {}, parts.join(" ")));
  }
  if (faults.rateLimit) list.append(h("li", {}, `rate limit ${faults.rateLimit.limit} per ${faults.rateLimit.window} s`));
  if (!list.children.length) list.append(h("li", { class: "muted" }, "None."));
}

function numberOrNull(id) {
  const raw = $(id).value.trim();
  return raw === "" ? null : Number(raw);
}

function wireControls() {
  $("clock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = numberOrNull("clock-seconds");
    guard(async () => {
      await api("clock", { method: "POST", body: { advance: seconds } });
      announce(`Clock advanced by ${seconds} s`);
      await refreshAll();
    });
  });
  $("clock-freeze").addEventListener("click", () =>
    guard(async () => {
      await api("clock", { method: "POST", body: { freeze: !(state.clock && state.clock.frozen) } });
      await refreshAll();
    })
  );
  $("policy-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { mode: $("policy-mode").value, outcome: $("policy-outcome").value };
    const start = numberOrNull("policy-start");
    const finish = numberOrNull("policy-finish");
    if (start !== null) body.start_after = start;
    if (finish !== null) body.finish_after = finish;
    body.reason_code = $("policy-code").value.trim() || null;
    body.reason = $("policy-reason").value.trim() || null;
    guard(async () => {
      await api("runs", { method: "POST", body });
      announce(`Run policy: ${body.mode}, ${body.outcome}`);
      await loadControls();
    });
  });
  $("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { operation: $("fault-op").value.trim() || null, status: numberOrNull("fault-status") };
    const message = $("fault-message").value.trim();
    const times = numberOrNull("fault-times");
    if (message) body.message = message;
    if (times !== null) body.times = times;
    guard(async () => {
      await api("faults", { method: "POST", body });
      announce("Fault added");
      await loadControls();
    });
  });
  $("fault-clear").addEventListener("click", () =>
    guard(async () => {
      await api("faults", { method: "DELETE" });
      announce("Faults cleared");
      await loadControls();
    })
  );
  const reset = (body, what) => () => {
    if (!window.confirm(`Reset ${what}? This cannot be undone.`)) return;
    let narrower = "";
    guard(async () => {
      const answer = await api("reset", { method: "POST", body });
      // The server says what it reset: credentials of one application reset that one alone.
      const told = answer && typeof answer.message === "string" ? answer.message : `reset ${what}`;
      announce(told.charAt(0).toUpperCase() + told.slice(1));
      if (body.appID === undefined && answer && answer.reset !== "all") narrower = told;
      state.journal.offset = 0;
      state.journal.anchor = null;
      await refreshAll();
    }).then((done) => {
      if (done && narrower) showAlert(`Not everything was reset: ${narrower}.`);
    });
  };
  $("reset-app").addEventListener("click", () => reset({ appID: state.appID }, `application ${state.appID}`)());
  $("reset-all").addEventListener("click", reset({}, "everything"));
}

// --- credentials ------------------------------------------------------------------------------
function openCredentials(open) {
  $("creds").hidden = !open;
  $("creds-toggle").setAttribute("aria-expanded", String(open));
  if (open) $("creds-app").focus();
}

function wireCredentials() {
  const saved = credentials();
  if (saved) {
    $("creds-app").value = saved.app || "";
    $("creds-key").value = saved.key || "";
  }
  $("creds-toggle").addEventListener("click", () => openCredentials($("creds").hidden));
  $("creds").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(CREDS, JSON.stringify({ app: $("creds-app").value.trim(), key: $("creds-key").value }));
    openCredentials(false);
    announce("Credentials saved for this tab");
    refreshAll();
  });
  $("creds-forget").addEventListener("click", () => {
    sessionStorage.removeItem(CREDS);
    $("creds-app").value = "";
    $("creds-key").value = "";
    announce("Credentials forgotten");
  });
}

// --- loading and live updates -----------------------------------------------------------------
async function loadState() {
  const known = state.apps.some((app) => app.appID === state.appID);
  if (known) {
    const data = await api("state", { params: { appID: state.appID } });
    state.dump = data.applications[state.appID] || {};
  } else state.dump = {};
  renderResources();
  renderRuns();
  renderIndexNames();
}

async function refreshAll() {
  await guard(async () => {
    await loadApps();
    if (!state.appID) {
      const creds = credentials();
      const first = (creds && creds.app) || (state.apps[0] && state.apps[0].appID);
      if (!first) {
        $("app-title").textContent = "none yet";
        await Promise.all([loadJournal(), loadControls()]);
        state.dump = {};
        renderResources();
        renderRuns();
        renderIndexNames();
        renderIndex();
        return;
      }
      history.replaceState({}, "", `?appID=${encodeURIComponent(first)}`);
      state.appID = first;
      $("app-title").textContent = first;
      await loadApps();
    }
    await loadState();
    await Promise.all([loadJournal(), loadIndex(), loadControls()]);
  });
}

async function poll() {
  if (state.polling || document.hidden) return;
  state.polling = true;
  try {
    const j = state.journal;
    const data = await api("journal", { params: { ...journalFilters(), order: "desc", limit: 1 } });
    const top = data.calls.length ? data.calls[0].seq : null;
    if (top !== j.topSeq) {
      if (!state.appID) {
        await refreshAll(); // the first application with data: open on it
      } else if (j.offset === 0 && j.anchor === null) {
        await loadApps();
        await loadState();
        await Promise.all([loadJournal(), loadIndex()]);
      } else {
        $("jr-new").hidden = false;
      }
    }
    announce(`Live · updated ${new Date().toLocaleTimeString("en-GB")}`);
  } catch (err) {
    announce(`Not connected: ${err.message}`);
  } finally {
    state.polling = false;
  }
}

function wireKeys() {
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, select, textarea");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/") {
      event.preventDefault();
      $("res-search").focus();
    } else if (event.key === "j" || event.key === "k") {
      const summaries = [...document.querySelectorAll("#jr-list summary")];
      if (!summaries.length) return;
      const at = summaries.indexOf(document.activeElement);
      const next = event.key === "j" ? Math.min(summaries.length - 1, at + 1) : Math.max(0, at - 1);
      summaries[at === -1 ? 0 : next].focus();
      event.preventDefault();
    }
  });
}

function start() {
  wireCredentials();
  wireControls();
  wireKeys();
  $("res-search").addEventListener("input", filterResources);
  const reloadJournal = () => {
    state.journal.offset = 0;
    state.journal.anchor = null;
    guard(loadJournal);
  };
  $("jr-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    reloadJournal();
  });
  $("jr-op").addEventListener("change", reloadJournal);
  $("jr-status").addEventListener("change", reloadJournal);
  $("jr-rejected").addEventListener("change", reloadJournal);
  $("jr-newer").addEventListener("click", () => moveJournal(-1));
  $("jr-older").addEventListener("click", () => moveJournal(1));
  $("jr-new-btn").addEventListener("click", reloadJournal);
  $("ix-select").addEventListener("change", () => {
    state.index = { name: $("ix-select").value, records: [], page: 0 };
    guard(loadIndex);
  });
  $("ix-prev").addEventListener("click", () => {
    state.index.page -= 1;
    renderIndex();
  });
  $("ix-next").addEventListener("click", () => {
    state.index.page += 1;
    renderIndex();
  });
  window.addEventListener("popstate", () => {
    const appID = new URLSearchParams(window.location.search).get("appID");
    if (appID) selectApp(appID, false);
  });
  const appID = new URLSearchParams(window.location.search).get("appID");
  if (appID) {
    state.appID = appID;
    $("app-title").textContent = appID;
  }
  refreshAll().then(() => announce("Live"));
  setInterval(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
