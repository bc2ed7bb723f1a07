// i2server's built-in UI: every action goes through the JSON API (api() below), live
// changes arrive over /api/ccp4i2/events/. Pages are rendered by the server; this script
// only wires buttons, forms, uploads and live updates. No build step, no dependencies.
"use strict";

const API = "/api/ccp4i2";

// The one place API requests are made. Credentials travel as the sign-in cookie
// (/ui/login/, HttpOnly: this script never sees the token), sent by the browser itself.
async function api(method, path, body, opts) {
  const headers = { Accept: "application/json" };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(API + path, { method, headers, body: payload, signal: opts && opts.signal });
  } catch (e) {
    throw new Error("The server cannot be reached. Check that it is running and your network connection, then try again.");
  }
  let data = null;
  const text = await resp.text();
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!resp.ok || (data && data.success === false)) {
    throw new Error(humanError(resp.status, data));
  }
  return data;
}

// An API error body in words a scientist understands.
function humanError(status, data) {
  let msg = "";
  if (data) {
    if (typeof data.detail === "string") msg = data.detail;
    else if (typeof data.error === "string") msg = data.error;
    else if (data.data && typeof data.data.error === "string") msg = data.data.error;
    else if (typeof data === "object") {
      msg = Object.entries(data)
        .filter(([k]) => k !== "success" && k !== "status")
        .map(([k, v]) => (k === "non_field_errors" ? "" : k.replace(/_/g, " ") + ": ") + (Array.isArray(v) ? v.join(" ") : typeof v === "string" ? v : ""))
        .filter((s) => s.trim()).join("; ");
    }
  }
  msg = msg.replace(/^Error setting parameter: /, "");
  if (status === 401) return "You are not signed in (or the sign-in has expired): open Sign in / out at the top of the page, then try again.";
  if (status === 503) return msg || "The server is busy or still starting; try again in a moment.";
  if (status === 404) return msg || "That no longer exists: it may have been deleted. Reload the page.";
  if (status === 413) return "The file is too large for this server.";
  if (status >= 500) return "The server failed to do this (the details are in its log). Try again; if it keeps happening, ask whoever runs the server.";
  return msg || "The request was refused (" + status + ").";
}

function toast(text, isError) {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  t.className = isError ? "show error" : "show";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ""; }, isError ? 9000 : 4000);
}

// A confirmation dialog listing what an action does; resolves true on "confirm".
function confirmDialog(title, lines, confirmLabel) {
  return new Promise((resolve) => {
    const d = document.createElement("dialog");
    d.setAttribute("aria-labelledby", "dlg-title");
    const h = document.createElement("h2"); h.id = "dlg-title"; h.textContent = title; d.appendChild(h);
    const ul = document.createElement("ul");
    for (const l of lines) { const li = document.createElement("li"); li.textContent = l; ul.appendChild(li); }
    d.appendChild(ul);
    const bar = document.createElement("div"); bar.className = "actions";
    const no = document.createElement("button"); no.type = "button"; no.textContent = "Keep it";
    const yes = document.createElement("button"); yes.type = "button"; yes.className = "danger"; yes.textContent = confirmLabel;
    bar.append(no, yes); d.appendChild(bar);
    document.body.appendChild(d);
    const done = (v) => { d.close(); d.remove(); resolve(v); };
    no.onclick = () => done(false); yes.onclick = () => done(true);
    d.addEventListener("cancel", (e) => { e.preventDefault(); done(false); });
    d.showModal(); no.focus();
  });
}

async function busy(button, work) {
  if (button) button.disabled = true;
  try { return await work(); }
  catch (e) { toast(e.message, true); }
  finally { if (button) button.disabled = false; }
}

// ---------- projects page ----------
async function createProject(form) {
  const name = form.querySelector("[name=name]").value.trim();
  if (!name) return;
  const p = await api("POST", "/projects/", { name, directory: "__default__" });
  location.href = "/ui/projects/" + p.id + "/";
}

async function renameProject(btn) {
  const name = window.prompt("New name for project “" + btn.dataset.name + "”:", btn.dataset.name);
  if (!name || name === btn.dataset.name) return;
  await api("PATCH", "/projects/" + btn.dataset.id + "/", { name: name.trim() });
  toast("Renamed to " + name);
  setTimeout(() => location.reload(), 300);
}

async function deleteProject(btn) {
  const p = await api("GET", "/projects/" + btn.dataset.id + "/");
  const ok = await confirmDialog("Delete project “" + btn.dataset.name + "”?", [
    btn.dataset.jobs + " job(s) with all their files, parameters and reports",
    "the project directory " + (p.directory || "") + " and everything in it",
    "This cannot be undone.",
  ], "Delete project");
  if (!ok) return;
  toast("Deleting project " + btn.dataset.name + "…");
  await api("DELETE", "/projects/" + btn.dataset.id + "/");
  const row = btn.closest("tr"); if (row) row.remove();
  toast("Project " + btn.dataset.name + " deleted");
}

// ---------- task chooser ----------
function filterTasks(q) {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  for (const li of document.querySelectorAll("#task-groups li[data-search]")) {
    const hay = li.dataset.search.toLowerCase();
    li.hidden = !words.every((w) => hay.includes(w));
  }
  for (const g of document.querySelectorAll(".task-group")) {
    g.hidden = !g.querySelector("li:not([hidden])");
  }
}

async function createTask(btn) {
  const r = await api("POST", "/projects/" + btn.dataset.project + "/create_task/", { task_name: btn.dataset.task });
  location.href = "/ui/jobs/" + r.data.new_job.id + "/";
}

// ---------- job page ----------
function jobEl() { return document.getElementById("job"); }

function setStatus(status, label) {
  const job = jobEl(); if (!job) return;
  const old = job.dataset.status;
  job.dataset.status = String(status);
  const slot = document.getElementById("job-status");
  if (slot) {
    slot.innerHTML = "";
    const b = document.createElement("span");
    b.className = "badge status-" + label.toLowerCase().replace(/ /g, "-");
    b.dataset.status = status; b.textContent = label; slot.appendChild(b);
  }
  updateActions();
  if (old !== String(status)) refreshJobParts(status);
}

function updateActions() {
  const job = jobEl(); if (!job) return;
  const s = job.dataset.status;
  for (const b of job.querySelectorAll(".actions [data-when]")) {
    b.hidden = !b.dataset.when.split(" ").includes(s);
  }
}

const TERMINAL = ["4", "5", "6", "10"];

async function refreshJobParts(status) {
  const job = jobEl(); if (!job) return;
  const s = String(status);
  if (["2", "3", "7"].includes(s) || TERMINAL.includes(s)) {
    const log = document.getElementById("log-section"); if (log) log.hidden = false;
  }
  if (s !== "1") {
    for (const el of job.querySelectorAll("#params input, #params select, #params button")) el.disabled = true;
    // The parameters are settled: make room for the log and the results.
    const params = document.getElementById("params-section"); if (params) params.open = false;
  }
  await refreshResults();
}

// Queue position while waiting; outputs, KPIs and report once ended (a server fragment).
async function refreshResults() {
  const job = jobEl(); if (!job) return;
  clearTimeout(refreshResults.timer);
  const r = await fetch("/ui/jobs/" + job.dataset.job + "/results/");
  if (r.ok) document.getElementById("results").innerHTML = await r.text();
  // The place in the queue changes without a status event: look again while waiting.
  if (job.dataset.status === "2") refreshResults.timer = setTimeout(refreshResults, 5000);
}

function appendLog(line) {
  const pre = document.getElementById("log-tail"); if (!pre) return;
  pre.textContent += line + "\n";
  // Keep the last 400 lines.
  const lines = pre.textContent.split("\n");
  if (lines.length > 400) pre.textContent = lines.slice(-400).join("\n");
  pre.scrollTop = pre.scrollHeight;
}

function follow(query, onJob, onLog) {
  if (!window.EventSource) return;
  const es = new EventSource(API + "/events/?" + query);
  es.addEventListener("job", (e) => { try { onJob(JSON.parse(e.data)); } catch (_) {} });
  if (onLog) es.addEventListener("log", (e) => { try { onLog(JSON.parse(e.data)); } catch (_) {} });
  window.addEventListener("pagehide", () => es.close());
  return es;
}

async function runJob(btn) {
  const id = jobEl().dataset.job;
  const r = await api("POST", "/jobs/" + id + "/run/");
  setStatus(r.status || 2, r.status === 3 ? "Running" : "Queued");
}

async function cancelJob() {
  const id = jobEl().dataset.job;
  await api("POST", "/jobs/" + id + "/cancel/");
  toast("Cancelling the job…");
}

async function cloneJob() {
  const id = jobEl().dataset.job;
  const r = await api("POST", "/jobs/" + id + "/clone/");
  const nj = (r && r.data && (r.data.new_job || r.data)) || r;
  location.href = "/ui/jobs/" + nj.id + "/";
}

async function deleteJob(btn) {
  const job = jobEl(); const id = job.dataset.job;
  const deps = await api("GET", "/jobs/" + id + "/dependent_jobs/");
  const list = Array.isArray(deps) ? deps : [];
  const lines = ["job " + btn.dataset.number + " with its files, parameters and report"];
  if (list.length) lines.push(list.length + " job(s) that depend on it: " + list.map((d) => d.number).join(", "));
  lines.push("This cannot be undone.");
  if (!(await confirmDialog("Delete job " + btn.dataset.number + "?", lines, "Delete"))) return;
  await api("DELETE", "/jobs/" + id + "/");
  location.href = "/ui/projects/" + job.dataset.project + "/";
}

function valueOf(input) {
  const k = input.dataset.kind;
  if (k === "bool") return input.checked;
  if (k === "int") return input.value === "" ? null : parseInt(input.value, 10);
  if (k === "float") return input.value === "" ? null : parseFloat(input.value);
  return input.value;
}

function message(el, text, ok) {
  const id = el.getAttribute("aria-describedby");
  const m = id && document.getElementById(id);
  if (m) { m.textContent = text; m.className = ok ? "msg ok" : "msg"; }
  el.setAttribute("aria-invalid", ok || !text ? "false" : "true");
}

async function setParameter(input) {
  const id = jobEl().dataset.job;
  try {
    await api("POST", "/jobs/" + id + "/set_parameter/", { object_path: input.dataset.path, value: valueOf(input) });
    message(input, "saved", true);
  } catch (e) {
    message(input, e.message, false);
  }
}

async function pickFile(select) {
  const fs = select.closest("fieldset.file");
  const opt = select.selectedOptions[0];
  if (!opt || !opt.value) return;
  const value = { dbFileId: opt.value, baseName: opt.dataset.name, relPath: opt.dataset.rel, project: fs.dataset.projectUuid };
  if (opt.dataset.subType) value.subType = parseInt(opt.dataset.subType, 10);
  if (opt.dataset.content) value.contentFlag = parseInt(opt.dataset.content, 10);
  const msg = fs.querySelector(".msg");
  try {
    await api("POST", "/jobs/" + jobEl().dataset.job + "/set_parameter/", { object_path: fs.dataset.path, value });
    fs.querySelector(".current-name").textContent = opt.dataset.name;
    msg.textContent = "saved"; msg.className = "msg ok";
  } catch (e) { msg.textContent = e.message; msg.className = "msg"; }
}

// MTZ column labels and types, read from the file's header in the browser (the header is
// at the offset stored in bytes 4-8, as 80-character records; columns are "COLUMN label type …").
async function mtzColumns(file) {
  const head = new DataView(await file.slice(0, 12).arrayBuffer());
  if (String.fromCharCode(head.getUint8(0), head.getUint8(1), head.getUint8(2)) !== "MTZ") return null;
  const le = (new Uint8Array(await file.slice(8, 12).arrayBuffer())[0] & 0xf0) === 0x40;
  const pos = (head.getInt32(4, le) - 1) * 4;
  if (pos <= 0 || pos >= file.size) return null;
  const text = new TextDecoder("latin1").decode(await file.slice(pos, Math.min(file.size, pos + 800000)).arrayBuffer());
  const cols = [];
  for (let i = 0; i + 80 <= text.length; i += 80) {
    const rec = text.slice(i, i + 80);
    if (rec.startsWith("COLUMN")) {
      const parts = rec.slice(6).trim().split(/\s+/);
      if (parts.length >= 2 && parts[1] !== "H") cols.push({ label: parts[0], type: parts[1] });
    }
    if (rec.startsWith("END")) break;
  }
  return cols;
}

async function chooseUpload(input) {
  const fs = input.closest("fieldset.file");
  const file = input.files[0];
  const box = fs.querySelector(".columns");
  const list = fs.querySelector(".column-list");
  const go = fs.querySelector("[data-action=upload-file]");
  list.innerHTML = ""; box.hidden = true; go.hidden = !file;
  if (!file || fs.dataset.mtz !== "true") return;
  const cols = await mtzColumns(file).catch(() => null);
  if (!cols) { fs.querySelector(".msg").textContent = "This does not look like an MTZ file."; return; }
  for (const c of cols) {
    const id = input.id + "-col-" + c.label.replace(/[^A-Za-z0-9_-]/g, "_");
    const l = document.createElement("label"); l.className = "check"; l.htmlFor = id;
    const cb = document.createElement("input"); cb.type = "checkbox"; cb.id = id; cb.value = c.label;
    l.append(cb, " " + c.label + " (" + c.type + ")");
    list.appendChild(l);
  }
  box.hidden = false;
}

function uploadWithProgress(url, form, progress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("POST", API + url);
    x.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total); };
    x.onload = () => {
      let data = null; try { data = JSON.parse(x.responseText); } catch (_) {}
      if (x.status >= 200 && x.status < 300 && !(data && data.success === false)) resolve(data);
      else reject(new Error(humanError(x.status, data)));
    };
    x.onerror = () => reject(new Error("The upload was interrupted: the server cannot be reached."));
    x.send(form);
  });
}

async function uploadFile(btn) {
  const fs = btn.closest("fieldset.file");
  const input = fs.querySelector("input[type=file]");
  const file = input.files[0]; if (!file) return;
  const form = new FormData();
  form.append("object_path", fs.dataset.path);
  const chosen = [...fs.querySelectorAll(".column-list input:checked")].map((c) => c.value);
  if (chosen.length) form.append("column_selector", "/*/*/[" + chosen.join(",") + "]");
  form.append("file", file, file.name);
  const progress = fs.querySelector("progress"); progress.hidden = false; progress.value = 0;
  const msg = fs.querySelector(".msg");
  msg.textContent = "Uploading…"; msg.className = "msg";
  try {
    await uploadWithProgress("/jobs/" + jobEl().dataset.job + "/upload_file_param/", form, progress);
    progress.value = 100;
    fs.querySelector(".current-name").textContent = file.name + (chosen.length ? " [" + chosen.join(",") + "]" : "");
    msg.textContent = "uploaded"; msg.className = "msg ok";
  } catch (e) {
    msg.textContent = e.message; msg.className = "msg";
  }
}

// Lists: the API takes a list's items as one list (set_parameter with an array, as
// upstream's CList.set), so adding or removing an item sends the whole new list, built from
// the job's container as the API has it now (upstream's client does the same). Unset parts
// are left out (they stay unset).
function plainValue(node) {
  const v = node ? node._value : null;
  if (Array.isArray(v)) return v.map(plainValue);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, child] of Object.entries(v)) {
      const x = plainValue(child);
      if (x !== null && x !== undefined && !(typeof x === "object" && !Array.isArray(x) && !Object.keys(x).length)) out[k] = x;
    }
    return out;
  }
  return v === undefined ? null : v;
}

function findNode(node, path) {
  if (!node || typeof node !== "object") return null;
  if (node._objectPath === path) return node;
  const v = node._value;
  const kids = Array.isArray(v) ? v : v && typeof v === "object" ? Object.values(v) : [];
  for (const k of kids) { const f = findNode(k, path); if (f) return f; }
  return null;
}

async function listItems(path) {
  const r = await api("GET", "/jobs/" + jobEl().dataset.job + "/container/");
  const node = findNode(r && r.data && r.data.result, path);
  if (!node || !Array.isArray(node._value)) throw new Error("This list is not in the job's parameters any more: reload the page.");
  return plainValue(node);
}

async function editList(btn, change) {
  const fs = btn.closest("fieldset.list");
  const msg = fs.querySelector(":scope > .msg");
  try {
    const items = change(await listItems(fs.dataset.path));
    await api("POST", "/jobs/" + jobEl().dataset.job + "/set_parameter/", { object_path: fs.dataset.path, value: items });
    // The form is drawn by the server from the saved parameters: draw it again, here.
    sessionStorage.setItem("i2server.focus", fs.dataset.path);
    location.reload();
  } catch (e) {
    if (msg) { msg.textContent = e.message; msg.className = "msg"; }
  }
}

const listAdd = (btn) => editList(btn, (items) => items.concat([null]));
const listRemove = (btn) => editList(btn, (items) => items.filter((_, i) => i !== parseInt(btn.dataset.index, 10)));

// ---------- project page ----------
async function refreshJobTree(section) {
  const r = await fetch("/ui/projects/" + section.dataset.liveProject + "/jobs/?page=" + (section.dataset.page || 1));
  if (r.ok) document.getElementById("job-tree").innerHTML = await r.text();
}

// ---------- wiring ----------
const ACTIONS = {
  "rename-project": renameProject,
  "delete-project": deleteProject,
  "create-task": createTask,
  "run-job": runJob,
  "cancel-job": cancelJob,
  "clone-job": cloneJob,
  "delete-job": deleteJob,
  "upload-file": uploadFile,
  "list-add": listAdd,
  "list-remove": listRemove,
};

document.addEventListener("click", (e) => {
  const btn = e.target.closest("button[data-action]");
  if (!btn || !ACTIONS[btn.dataset.action]) return;
  e.preventDefault();
  busy(btn, () => ACTIONS[btn.dataset.action](btn));
});

document.addEventListener("submit", (e) => {
  const f = e.target;
  if (f.dataset.action === "create-project") { e.preventDefault(); busy(f.querySelector("button"), () => createProject(f)); }
  if (f.id === "params") e.preventDefault();
});

document.addEventListener("change", (e) => {
  const t = e.target;
  if (t.dataset.action === "pick-file") pickFile(t);
  else if (t.dataset.action === "choose-upload") chooseUpload(t);
  else if (t.dataset.path && t.closest("#params")) setParameter(t);
});

document.addEventListener("DOMContentLoaded", () => {
  const search = document.getElementById("task-search");
  if (search) { search.addEventListener("input", () => filterTasks(search.value)); filterTasks(search.value); }

  const job = jobEl();
  if (job) {
    updateActions();
    // Back at the list just edited (the page was drawn again).
    const focus = sessionStorage.getItem("i2server.focus");
    if (focus) {
      sessionStorage.removeItem("i2server.focus");
      const fs = [...document.querySelectorAll("fieldset.list")].find((f) => f.dataset.path === focus);
      const target = fs && fs.querySelector("button[data-action=list-add]");
      if (fs) { fs.scrollIntoView({ block: "center" }); if (target) target.focus(); }
    }
    if (job.dataset.status === "2") refreshResults.timer = setTimeout(refreshResults, 5000);
    follow("job=" + job.dataset.job, (ev) => {
      if (String(ev.id) === job.dataset.job && String(ev.status) !== job.dataset.status) setStatus(ev.status, ev.status_label);
    }, (ev) => appendLog(ev.line));
  }

  const tree = document.querySelector("[data-live-project]");
  if (tree) {
    let pending = null;
    follow("project=" + tree.dataset.liveProject, (ev) => {
      const row = document.querySelector('#job-tree tr[data-job="' + ev.id + '"] .badge');
      if (row && row.dataset.status === String(ev.status)) return;
      // A new job or a changed status: redraw the table once the burst of events settles.
      clearTimeout(pending);
      pending = setTimeout(() => refreshJobTree(tree), 300);
    });
  }
});
