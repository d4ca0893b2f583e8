// Offline packs on every page (docs/offline.md): at launch, expired packs are deleted before anything
// else, with or without a network; online, the changes made offline are sent and the device checks in
// (the server says what it must delete); offline, a banner says since when, and what needs the network
// is disabled with the reason. On a meeting page, the "Take offline" panel downloads the pack.
import * as store from "./offline-store.js";
import { acknowledge, merged, nextBatch, wire } from "./offline-sync.js";
import { refreshPositions, setUpPositions } from "./offline-positions.js";

const holder = document.querySelector("script[data-offline-strings]");
const text = holder ? JSON.parse(holder.dataset.offlineStrings) : {};
const SINCE_KEY = "ecabinet-offline-since";
// Links that need the server: the meeting room, ballots, downloads and the board book.
const NEEDS_NETWORK = 'a[href$="/room"], a[href$="/console"], a[href*="/ballots"], a[href$="/download"], '
  + 'a[href$="/annotated"], a[href*="/board-book"], a[href$="/calendar.ics"], [data-action="take"]';

function fill(template, values) {
  return (template || "").replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function postJSON(url, body, token = csrfToken()) {
  const response = await fetch(url, { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
    body: JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  return { ok: response.ok, status: response.status, data };
}

export function megabytes(bytes) {
  return `${(bytes / 1048576).toLocaleString(document.documentElement.lang || "vi", { maximumFractionDigits: 1 })} MB`;
}

// --- the banner and what needs the network ------------------------------------------------------------

function isOffline() { return !navigator.onLine; }

function showOffline() {
  let since = Number(localStorage.getItem(SINCE_KEY));
  if (!since) { since = Date.now(); localStorage.setItem(SINCE_KEY, String(since)); }
  let banner = document.querySelector("[data-offline-banner]");
  if (!banner) {
    banner = document.createElement("p");
    banner.className = "offline-banner";
    banner.setAttribute("role", "status");
    banner.dataset.offlineBanner = "";
    const main = document.getElementById("main") || document.body;
    main.prepend(banner);
  }
  const when = new Date(since).toLocaleString(document.documentElement.lang || "vi",
    { hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit" });
  banner.textContent = fill(text.banner, { since: when });
  banner.hidden = false;
  // Votes, the meeting room and every form need the server: disabled, with the reason.
  for (const el of document.querySelectorAll('form[method="post"] button, form[method="post"] input[type="submit"]')) {
    if (el.closest("[data-works-offline]")) { continue; }
    if (!el.disabled) { el.dataset.offlineDisabled = ""; el.disabled = true; el.title = text.needsNetwork || ""; }
  }
  for (const link of document.querySelectorAll(NEEDS_NETWORK)) {
    if (link.tagName === "BUTTON") {
      if (!link.disabled) { link.dataset.offlineDisabled = ""; link.disabled = true; link.title = text.needsNetwork || ""; }
      continue;
    }
    if (!link.hasAttribute("aria-disabled")) {
      link.dataset.offlineDisabled = "";
      link.setAttribute("aria-disabled", "true");
      link.title = text.needsNetwork || "";
      link.addEventListener("click", blockWhileOffline);
    }
  }
  document.documentElement.classList.add("is-offline");
}

function blockWhileOffline(event) { if (isOffline()) { event.preventDefault(); } }

function showOnline() {
  localStorage.removeItem(SINCE_KEY);
  const banner = document.querySelector("[data-offline-banner]");
  if (banner) { banner.hidden = true; }
  for (const el of document.querySelectorAll("[data-offline-disabled]")) {
    delete el.dataset.offlineDisabled;
    if (el.tagName === "A") { el.removeAttribute("aria-disabled"); } else { el.disabled = false; }
    el.removeAttribute("title");
  }
  document.documentElement.classList.remove("is-offline");
}

// --- sync and check-in ----------------------------------------------------------------------------------

let syncing = null;

/** Send the queued changes, then check in. Safe to call often: one run at a time. */
export function syncNow() {
  if (!syncing) { syncing = run().finally(() => { syncing = null; }); }
  return syncing;
}

async function run() {
  const device = await store.device();
  if (!device || isOffline()) { return null; }
  const holdings = [];
  const versions = await store.heldVersions();
  for (const record of await store.packs()) {
    const held = (await store.heldDocumentIds()).filter((id) => record.documents.includes(id));
    holdings.push({ meeting: record.meeting_id, documents: held,
      versions: held.filter((id) => versions[id]).map((id) => ({ document: id, version: versions[id] })) });
  }
  let answer;
  let fresh;
  try {
    fresh = await (await fetch("/offline/token", { credentials: "same-origin", cache: "no-store" })).json();
    answer = await postJSON("/offline/check-in", { device: device.id, holdings }, fresh.csrf);
  } catch { return null; }  // the network is not really back
  if (!answer.ok || !answer.data) { return null; }
  const result = answer.data;
  const token = result.csrf || fresh.csrf;
  if (result.wipe && result.wipe !== "signed_out") {
    await store.wipe();
    return result;
  }
  // The member's positions as the server holds them at the check-in (changed on another device,
  // say); the answers to the changes sent next come after, and are newer.
  for (const positions of Object.values(result.positions || {})) {
    await store.keepPositions(Object.fromEntries(Object.entries(positions).map(([k, v]) => [Number(k), v])));
  }
  // Also when the device's sign-in has ended: signed in again, the notes made before are still the
  // member's own and are sent (refused harmlessly while signed out) before the rest goes.
  await sendQueue(device, token);
  if (result.wipe === "signed_out") {
    // The sign-in is over: everything goes but the changes not yet sent, kept for the next sign-in.
    await store.wipe({ keepQueue: true });
    return result;
  }
  for (const meetingId of result.delete_meetings) { await store.deletePack(meetingId); }
  for (const documentId of result.delete_documents) { await store.deleteDocument(documentId); }
  for (const [meetingId, iso] of Object.entries(result.expires)) {
    await store.setExpiry(Number(meetingId), Date.parse(iso));
  }
  for (const documentId of result.refresh_documents || []) { await refresh(documentId); }
  return result;
}

/** A newer version was uploaded: the reader's new copy, its notes and its viewer page replace the old. */
async function refresh(documentId) {
  const record = await store.documentRecord(documentId);
  if (!record) { return; }
  const file = await fetch(`/documents/${documentId}/file`, { credentials: "same-origin" });
  const page = await fetch(`/documents/${documentId}`, { credentials: "same-origin" });
  const notes = await fetch(`/documents/${documentId}/annotations`, { headers: { Accept: "application/json" } });
  if (!file.ok || !page.ok || !notes.ok) { return; }
  const data = await notes.json();
  await store.putDocument(documentId, record.meeting_id, { ...record.meta, version: data.version },
    await file.arrayBuffer());
  await store.putAnnotations(documentId, data.annotations);
  await (await caches.open(store.PAGES_CACHE + record.meeting_id)).put(`/documents/${documentId}`, page);
}

async function sendQueue(device, token) {
  let queue = await store.queue();
  let idMap = {};
  const touched = new Set();
  while (queue.length) {
    const batch = nextBatch(queue, idMap);
    if (!batch.length) { break; }
    const sentIds = new Set(batch.map((c) => c.client_id));
    queue = queue.map((c) => (sentIds.has(c.client_id) ? { ...c, sent: true } : c));
    await store.saveQueue(queue);
    const answer = await postJSON(`/offline/devices/${device.id}/changes`, { changes: batch.map(wire) }, token);
    if (!answer.ok || !answer.data) { return; }
    const folded = acknowledge(queue, answer.data.results, idMap);
    batch.forEach((c) => { if (c.document_id) { touched.add(c.document_id); } });
    queue = folded.queue;
    idMap = folded.idMap;
    await store.addConflicts(folded.conflicts);
    await store.keepPositions(folded.positions);
    await store.saveQueue(queue);
  }
  // The tablet's copies again from the server, with whatever is still queued on top.
  for (const documentId of touched) {
    try {
      const response = await fetch(`/documents/${documentId}/annotations`, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        await store.putAnnotations(documentId, merged(data.annotations, queue, documentId));
      }
    } catch { /* next time */ }
  }
}

// --- taking a meeting offline ---------------------------------------------------------------------------

async function ensureDevice() {
  const existing = await store.device();
  if (existing) { return existing; }
  const answer = await postJSON("/offline/devices", { label: navigator.userAgent.slice(0, 200) });
  if (!answer.ok) { throw new Error((answer.data && answer.data.error) || String(answer.status)); }
  return store.saveDevice(answer.data.device, answer.data.key);
}

async function take(panel) {
  const status = panel.querySelector('[data-role="status"]');
  const progress = panel.querySelector('[data-role="progress"]');
  const meetingId = Number(panel.dataset.meeting);
  const started = performance.now();
  const device = await ensureDevice();
  const response = await fetch(`${panel.dataset.manifest}?device=${device.id}`, { headers: { Accept: "application/json" } });
  const manifest = await response.json();
  if (!response.ok) { throw new Error(manifest.error || String(response.status)); }
  progress.hidden = false;
  const total = manifest.documents.length;
  let size = 0;
  const held = [];
  const pages = [manifest.meeting.url, ...manifest.items.map((i) => i.url), ...manifest.documents.map((d) => d.viewer)];
  for (const [index, doc] of manifest.documents.entries()) {
    status.textContent = fill(panel.dataset.textTaking, { done: index + 1, total });
    const file = await fetch(doc.file, { credentials: "same-origin" });
    if (!file.ok) { continue; }
    size += await store.putDocument(doc.id, meetingId, { title: doc.title, version: doc.version, pages: doc.pages },
      await file.arrayBuffer());
    const notes = await fetch(doc.annotations, { headers: { Accept: "application/json" } });
    if (notes.ok) {
      const list = (await notes.json()).annotations;
      await store.putAnnotations(doc.id, list);
      size += JSON.stringify(list).length;
    }
    held.push(doc.id);
    progress.value = Math.round(((index + 1) / Math.max(total, 1)) * 90);
  }
  // The pages to open offline (the meeting, its items, each document's viewer), then the app's files.
  const cache = await caches.open(store.PAGES_CACHE + meetingId);
  for (const url of pages) {
    const page = await fetch(url, { credentials: "same-origin" });
    if (page.ok) { size += Number(page.headers.get("Content-Length") || 0); await cache.put(url, page); }
  }
  const assets = await caches.open(store.ASSETS_CACHE);
  await assets.addAll(manifest.assets || []);
  progress.value = 100;
  await store.putPack(meetingId, { meeting: manifest.meeting, items: manifest.items,
    documents: manifest.documents.map((d) => ({ id: d.id, title: d.title, viewer: d.viewer })) },
  Date.parse(manifest.expires_at), held, size);
  await postJSON(`/offline/devices/${device.id}/meetings/${meetingId}`, { documents: held, size });
  panel.dataset.seconds = ((performance.now() - started) / 1000).toFixed(1);
  panel.dataset.size = String(size);
  await showHeld(panel);
}

async function showHeld(panel) {
  const status = panel.querySelector('[data-role="status"]');
  const record = await store.pack(Number(panel.dataset.meeting));
  const remove = panel.querySelector('[data-action="remove"]');
  if (!record) {
    status.textContent = panel.dataset.textNone;
    if (remove) { remove.hidden = true; }
    return;
  }
  const until = new Date(record.expires_at).toLocaleString(document.documentElement.lang || "vi",
    { hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric" });
  status.textContent = fill(panel.dataset.textHeld, { count: record.documents.length, size: megabytes(record.size), until });
  panel.dataset.held = "true";
  if (remove) { remove.hidden = false; }
}

function setUpPanel(panel) {
  const button = panel.querySelector('[data-action="take"]');
  if (!button) { return; }
  if (!store.supported()) { panel.querySelector('[data-role="status"]').textContent = panel.dataset.textUnsupported; button.disabled = true; return; }
  button.addEventListener("click", async () => {
    if (isOffline()) { return; }
    button.disabled = true;
    panel.dataset.held = "";
    try {
      await take(panel);
    } catch (error) {
      panel.querySelector('[data-role="status"]').textContent = fill(panel.dataset.textFailed, { reason: error.message });
    } finally {
      button.disabled = false;
    }
  });
  panel.querySelector('[data-action="remove"]').addEventListener("click", async () => {
    await store.deletePack(Number(panel.dataset.meeting));
    panel.querySelector('[data-role="status"]').textContent = panel.dataset.textRemoved;
    panel.querySelector('[data-action="remove"]').hidden = true;
    syncNow();
  });
  showHeld(panel).catch(() => {});
}

// --- launch ----------------------------------------------------------------------------------------------

// --- changes that did not win: kept and shown, never dropped -----------------------------------------------

async function showConflicts() {
  const list = await store.conflicts();
  let box = document.querySelector("[data-offline-conflicts]");
  if (!list.length) { if (box) { box.remove(); } return; }
  if (!box) {
    box = document.createElement("section");
    box.className = "offline-conflicts";
    box.dataset.offlineConflicts = "";
    box.setAttribute("role", "status");
    (document.getElementById("main") || document.body).prepend(box);
  }
  const title = document.createElement("p");
  title.textContent = fill(text.conflicts, { n: list.length });
  const items = list.map((c) => {
    const li = document.createElement("li");
    const body = c.op === "position" ? fill(text.positionConflict, { item: c.title, position: c.label })
      : (c.data && (c.data.body || c.data.quote)) || "";
    li.textContent = `${body || c.op}${c.message ? ` (${c.message})` : ""}`;
    return li;
  });
  const ul = document.createElement("ul");
  ul.append(...items);
  const done = document.createElement("button");
  done.type = "button";
  done.className = "btn";
  done.textContent = text.conflictsDone || "OK";
  done.addEventListener("click", async () => { await store.clearConflicts(); box.remove(); });
  box.replaceChildren(title, ul, done);
}

async function launch() {
  if (!store.supported()) { return; }
  await store.expireAtLaunch();
  document.documentElement.dataset.offlineReady = "true";
  const panel = document.querySelector("[data-offline-panel]");
  if (panel) { setUpPanel(panel); }
  const device = await store.device();
  const mine = device && document.querySelector(`[data-device="${device.id}"] [data-this-device]`);
  if (mine) { mine.hidden = false; }
  await setUpPositions(text).catch(() => {});  // before the banner disables the forms that need the server
  if (isOffline()) { showOffline(); } else { await syncNow(); await refreshPositions(); }
  if (panel) { await showHeld(panel); }
  if (await store.device()) { await showConflicts(); }
  document.documentElement.dataset.offlineSynced = "true";
}

window.addEventListener("offline", () => { showOffline(); refreshPositions().catch(() => {}); });
window.addEventListener("online", () => {
  showOnline();
  syncNow().then(() => showConflicts()).then(() => refreshPositions()).catch(() => {});
});
export const launched = launch().catch(() => { document.documentElement.dataset.offlineReady = "error"; });
