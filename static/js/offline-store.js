// The tablet's offline store (docs/offline.md): IndexedDB (through idb) holding, encrypted with the
// device's AES-GCM key, each document's bytes, the reader's annotations and the changes not yet sent.
// The key is imported from the server's answer as a non-extractable CryptoKey: scripts can use it but
// never read it out. Each pack's expiry is kept in plain form, so that it is checked at launch before
// anything is decrypted, with or without a network.
import { openDB } from "/static/vendor/idb.js";
import { expired, withPositions } from "./offline-sync.js";

const DB_NAME = "ecabinet-offline";
export const PAGES_CACHE = "ecabinet-pack-";  // + meeting id: the pack's pages
export const ASSETS_CACHE = "ecabinet-assets"; // the app's scripts and styles (shared, nothing personal)
const STORES = ["meta", "packs", "docs", "annotations", "queue", "conflicts"];

let dbPromise = null;

export function supported() {
  return typeof indexedDB !== "undefined" && Boolean(globalThis.crypto && crypto.subtle) && "caches" in globalThis;
}

export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, 1, {
      upgrade(database) {
        for (const name of STORES) {
          if (!database.objectStoreNames.contains(name)) {
            database.createObjectStore(name, name === "queue" ? { keyPath: "seq", autoIncrement: true } : undefined);
          }
        }
      },
    });
  }
  return dbPromise;
}

// --- the device and its key ----------------------------------------------------------------------

export async function device() { return (await db()).get("meta", "device"); }

export async function saveDevice(id, keyBase64, userId) {
  const raw = Uint8Array.from(atob(keyBase64), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  raw.fill(0);
  const record = { id, key, user: userId, created_at: Date.now() };
  await (await db()).put("meta", record, "device");
  return record;
}

async function key() {
  const record = await device();
  if (!record) { throw new Error("no device key"); }
  return record.key;
}

async function seal(bytes) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await key(), bytes);
  return { iv, data };
}

async function unseal(record) {
  return crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv }, await key(), record.data);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
async function sealJSON(value) { return seal(encoder.encode(JSON.stringify(value))); }
async function unsealJSON(record) { return record ? JSON.parse(decoder.decode(await unseal(record))) : null; }

// --- packs, documents, annotations -------------------------------------------------------------------

/** A pack's record: ids and expiry in plain form (checked at launch), its titles and agenda encrypted. */
export async function putPack(meetingId, info, expiresAt, documentIds, size) {
  const sealed = await sealJSON(info);
  await (await db()).put("packs", { meeting_id: meetingId, expires_at: expiresAt, documents: documentIds, size,
    taken_at: Date.now(), info: sealed }, meetingId);
}

export async function packs() { return (await db()).getAll("packs"); }
export async function pack(meetingId) { return (await db()).get("packs", meetingId); }
export async function packInfo(record) { return unsealJSON(record.info); }

/** The positions the server answered ({item id: position or null}) into every pack holding those items. */
export async function keepPositions(positions) {
  if (!Object.keys(positions).length) { return; }
  const database = await db();
  for (const record of await database.getAll("packs")) {
    const info = await unsealJSON(record.info);
    if (!info || !(info.items || []).some((i) => Object.prototype.hasOwnProperty.call(positions, i.id))) { continue; }
    record.info = await sealJSON({ ...info, items: withPositions(info.items, positions) });
    await database.put("packs", record, record.meeting_id);
  }
}

export async function setExpiry(meetingId, expiresAt) {
  const database = await db();
  const record = await database.get("packs", meetingId);
  if (record) { record.expires_at = expiresAt; await database.put("packs", record, meetingId); }
}

export async function putDocument(documentId, meetingId, meta, bytes) {
  const sealed = await seal(bytes);
  // The version number stays in plain form: the check-in asks whether a newer one was uploaded.
  await (await db()).put("docs", { id: documentId, meeting_id: meetingId, meta: await sealJSON(meta),
    version: meta.version, iv: sealed.iv, data: sealed.data, size: sealed.data.byteLength }, documentId);
  return sealed.data.byteLength;
}

/** The document's bytes and facts, decrypted, when this tablet holds it in a pack not expired. */
export async function openDocument(documentId) {
  const record = await (await db()).get("docs", documentId);
  if (!record) { return null; }
  const held = await pack(record.meeting_id);
  if (expired(held, Date.now())) { return null; }
  return { bytes: await unseal(record), meta: await unsealJSON(record.meta), meeting_id: record.meeting_id };
}

export async function heldDocumentIds() { return (await db()).getAllKeys("docs"); }

/** {document id: version held} */
export async function heldVersions() {
  const out = {};
  for (const row of await (await db()).getAll("docs")) { out[row.id] = row.version; }
  return out;
}

/** A held document's record (meeting, encrypted facts), without decrypting its bytes. */
export async function documentRecord(documentId) {
  const row = await (await db()).get("docs", documentId);
  return row ? { meeting_id: row.meeting_id, meta: await unsealJSON(row.meta) } : null;
}

export async function putAnnotations(documentId, list) {
  await (await db()).put("annotations", await sealJSON(list), documentId);
}

export async function annotations(documentId) {
  return (await unsealJSON(await (await db()).get("annotations", documentId))) || [];
}

// --- the queue of changes made offline ------------------------------------------------------------------

/** The queue in order, decrypted (each entry keeps its ``seq``). */
export async function queue() {
  const rows = await (await db()).getAll("queue");
  const out = [];
  for (const row of rows) { out.push({ ...(await unsealJSON(row.sealed)), seq: row.seq }); }
  return out;
}

/** Replace the whole queue (it is small: a reader's notes of a trip). */
export async function saveQueue(changes) {
  const database = await db();
  const sealed = [];
  for (const change of changes) { const { seq, ...rest } = change; sealed.push({ sealed: await sealJSON(rest) }); } // eslint-disable-line no-unused-vars
  const tx = database.transaction("queue", "readwrite");
  await tx.store.clear();
  for (const row of sealed) { await tx.store.add(row); }
  await tx.done;
}

export async function addConflicts(list) {
  if (!list.length) { return; }
  const database = await db();
  for (const conflict of list) { await database.put("conflicts", await sealJSON(conflict), conflict.client_id); }
}

export async function clearConflicts() { await (await db()).clear("conflicts"); }

export async function conflicts() {
  const rows = await (await db()).getAll("conflicts");
  const out = [];
  for (const row of rows) { out.push(await unsealJSON(row)); }
  return out;
}

// --- deleting ---------------------------------------------------------------------------------------------

/** Delete one document (withdrawn, made confidential, no longer readable). */
export async function deleteDocument(documentId) {
  const database = await db();
  await database.delete("docs", documentId);
  await database.delete("annotations", documentId);
  const cacheNames = await caches.keys();
  for (const name of cacheNames.filter((n) => n.startsWith(PAGES_CACHE))) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (new URL(request.url).pathname === `/documents/${documentId}`) { await cache.delete(request); }
    }
  }
}

/** Delete a meeting's pack: its documents, their annotations, its pages. */
export async function deletePack(meetingId) {
  const database = await db();
  const record = await database.get("packs", meetingId);
  for (const id of (record && record.documents) || []) {
    await database.delete("docs", id);
    await database.delete("annotations", id);
  }
  for (const row of await database.getAll("docs")) {
    if (row.meeting_id === meetingId) { await database.delete("docs", row.id); await database.delete("annotations", row.id); }
  }
  await database.delete("packs", meetingId);
  await caches.delete(PAGES_CACHE + meetingId);
}

/**
 * Delete everything of the offline store. Changes not yet sent are kept with the key (``keepQueue``)
 * when the sign-in merely ended, so that they are sent after the next sign-in on this tablet.
 */
export async function wipe({ keepQueue = false } = {}) {
  const database = await db();
  for (const record of await database.getAll("packs")) { await caches.delete(PAGES_CACHE + record.meeting_id); }
  for (const name of (await caches.keys()).filter((n) => n.startsWith(PAGES_CACHE))) { await caches.delete(name); }
  const pending = keepQueue ? await database.count("queue") : 0;
  for (const name of STORES) {
    if (pending && (name === "queue" || name === "meta")) { continue; }
    await database.clear(name);
  }
  return pending;
}

/**
 * At launch, before anything else: delete every pack whose expiry has passed on this tablet's clock,
 * online or not; with no pack left and nothing to send, the key goes too. Returns the meetings deleted.
 */
export async function expireAtLaunch(now = Date.now()) {
  const database = await db();
  const gone = [];
  for (const record of await database.getAll("packs")) {
    if (expired(record, now)) { await deletePack(record.meeting_id); gone.push(record.meeting_id); }
  }
  if ((await database.count("packs")) === 0 && (await database.count("queue")) === 0) {
    await database.clear("docs");
    await database.clear("annotations");
    await database.clear("conflicts");
    if (gone.length) { await database.clear("meta"); }
    for (const name of (await caches.keys()).filter((n) => n.startsWith(PAGES_CACHE))) { await caches.delete(name); }
  }
  return gone;
}
