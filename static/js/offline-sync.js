// The rules of notes made offline, without any browser API so that they are tested under Node
// (tests/js/offline-sync.test.mjs): the queue of changes and how it is folded, the tablet's own copy of
// the annotations as changes are made, the batches sent back and what their answers mean.
//
// A change is { client_id, op: "create" | "update" | "delete", document_id, local_id, annotation_id,
// data, changed_at, sent }. ``client_id`` makes it idempotent on the server (the same change sent twice
// is stored once); ``local_id`` names the annotation on the tablet ("c-…" until the server gave it a
// number); ``changed_at`` (ms) decides conflicts: the last change wins, and a losing change comes back
// so that the tablet keeps it for the reader instead of dropping it.
//
// A member's position on an agenda item set offline is a change of its own: { client_id, op: "position",
// item_id, meeting_id, local_id: "p-<item>", data: { position, comment }, changed_at, label, title }. It
// carries the whole position (not a difference), so two set before the next sync are one, the later.

export const LOCAL_PREFIX = "c-";
export const POSITION_PREFIX = "p-";

/** A random id of 22 URL-safe characters; ``random(n)`` returns n random bytes (crypto.getRandomValues). */
export function newClientId(random) {
  const bytes = random(16);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let out = "";
  for (const b of bytes) { out += alphabet[b % 64]; }
  return out;
}

export function isLocalId(id) { return typeof id === "string" && id.startsWith(LOCAL_PREFIX); }

/** The server's id of an annotation named on the tablet, or null while the server has not numbered it. */
export function serverId(id, idMap = {}) {
  if (typeof id === "number") { return id; }
  if (typeof id === "string" && /^\d+$/.test(id)) { return Number(id); }
  return idMap[id] ?? null;
}

/** The fields the server needs to make (or bring back) an annotation. */
export function annotationData(a) {
  const data = { kind: a.kind || "note", color: a.color || "yellow", page: a.page || a.placed_page || 1,
    body: a.body || "", shared: Boolean(a.shared) };
  for (const key of ["quote", "prefix", "suffix"]) { if (a[key]) { data[key] = a[key]; } }
  if (a.rects && a.rects.length) { data.rects = a.rects; }
  if (a.point) { data.point = a.point; }
  if (a.strokes) { data.strokes = a.strokes; }
  return data;
}

/**
 * Add a change to the queue, folding it into an earlier change of the same annotation that has not
 * been sent yet: a create then an edit is one create, a create then a deletion is nothing, an edit then
 * an edit is the later one, an edit then a deletion is the deletion. A change already sent (its answer
 * may have been lost) is never altered: its client id would then name two different changes.
 */
export function enqueue(queue, change) {
  const out = queue.slice();
  for (let i = out.length - 1; i >= 0; i -= 1) {
    const earlier = out[i];
    if (earlier.local_id !== change.local_id || earlier.document_id !== change.document_id) { continue; }
    if (earlier.sent) { break; }
    if (earlier.op === "position" && change.op === "position") {
      out.splice(i, 1);  // the later position replaces the earlier, at the end of the queue
      break;
    }
    if (earlier.op === "create" && change.op === "update") {
      out[i] = { ...earlier, data: { ...earlier.data, ...change.data }, changed_at: change.changed_at };
      return out;
    }
    if (earlier.op === "create" && change.op === "delete") {
      out.splice(i, 1);
      return out;
    }
    if (earlier.op === "update" && (change.op === "update" || change.op === "delete")) {
      out[i] = { ...change, data: change.op === "update" ? { ...earlier.data, ...change.data } : change.data,
        client_id: change.client_id };
      return out;
    }
    break;
  }
  out.push({ ...change, sent: false });
  return out;
}

/** The tablet's copy of a document's annotations after a change made offline. */
export function applyLocal(annotations, change, author = "") {
  const at = new Date(change.changed_at).toISOString();
  if (change.op === "create") {
    const d = change.data || {};
    return annotations.concat([{ id: change.local_id, kind: d.kind || "note", color: d.color || "yellow",
      page: d.page, placed_page: d.page, version: d.version ?? null, quote: d.quote || "", prefix: d.prefix || "",
      suffix: d.suffix || "", rects: d.rects || [], point: d.point || null, strokes: d.strokes || null,
      page_changed: false, body: d.body || "", shared: Boolean(d.shared), mine: true, author, updated_at: at,
      pending: true }]);
  }
  if (change.op === "update") {
    return annotations.map((a) => (String(a.id) === String(change.local_id)
      ? { ...a, ...pick(change.data || {}, ["body", "color", "shared", "page"]), updated_at: at, pending: true } : a));
  }
  if (change.op === "delete") { return annotations.filter((a) => String(a.id) !== String(change.local_id)); }
  return annotations;
}

function pick(object, keys) {
  const out = {};
  for (const key of keys) { if (object[key] !== undefined && object[key] !== null) { out[key] = object[key]; } }
  return out;
}

/**
 * The next changes to send, in order, each naming the server's id of its annotation. It stops before a
 * change whose annotation the server has not numbered yet, unless that annotation's creation goes in
 * the same batch (the server answers a batch in order, so the id is known before the next batch).
 */
export function nextBatch(queue, idMap = {}, size = 100) {
  const batch = [];
  const creating = new Set();
  for (const change of queue) {
    if (batch.length >= size) { break; }
    if (change.op === "position") {
      batch.push(change);
      continue;
    }
    if (change.op === "create") {
      creating.add(change.local_id);
      batch.push({ ...change, annotation_id: null });
      continue;
    }
    const id = serverId(change.annotation_id ?? change.local_id, idMap);
    if (id === null) {
      if (creating.has(change.local_id)) { break; }
      // Made offline and created by no change still queued: its creation was refused or never kept.
      batch.push({ ...change, annotation_id: null, op: change.op === "delete" ? "delete" : "update" });
      continue;
    }
    batch.push({ ...change, annotation_id: id });
  }
  return batch;
}

/** What goes over the wire for a change. */
export function wire(change) {
  if (change.op === "position") {
    return { client_id: change.client_id, op: "position", item_id: change.item_id, changed_at: change.changed_at,
      data: { position: change.data.position, comment: change.data.comment || "" } };
  }
  const out = { client_id: change.client_id, op: change.op, document_id: change.document_id,
    changed_at: change.changed_at };
  if (change.annotation_id !== null && change.annotation_id !== undefined) { out.annotation_id = change.annotation_id; }
  if (change.op !== "delete" && change.data) { out.data = change.data; }
  return out;
}

/**
 * Fold the server's answers into the queue: acknowledged changes leave it, new server ids are noted
 * in ``idMap``, and every change that did not win (superseded by a later change elsewhere, made on an
 * annotation deleted before it, refused) is returned in ``conflicts`` with its own data: never lost.
 * ``positions`` is {item id: the position the server holds (or null)} for each position answered.
 */
export function acknowledge(queue, results, idMap = {}) {
  const byClient = new Map(results.map((r) => [r.client_id, r]));
  const map = { ...idMap };
  const conflicts = [];
  const remaining = [];
  const positions = {};
  for (const change of queue) {
    const result = byClient.get(change.client_id);
    if (!result) { remaining.push(change); continue; }
    if (result.annotation_id && isLocalId(change.local_id)) { map[change.local_id] = result.annotation_id; }
    if (change.op === "position" && result.outcome !== "refused") { positions[change.item_id] = result.position || null; }
    if (result.outcome !== "applied") {
      conflicts.push({ ...change, outcome: result.outcome, message: result.message || "",
        server: result.annotation || result.position || null });
    }
  }
  return { queue: remaining, idMap: map, conflicts, positions };
}

/** A position set offline on this item and not yet acknowledged (the latest), or null. */
export function pendingPosition(queue, itemId) {
  for (let i = queue.length - 1; i >= 0; i -= 1) {
    if (queue[i].op === "position" && queue[i].item_id === itemId) { return queue[i]; }
  }
  return null;
}

/**
 * The position to show on an item: the one set offline and waiting, else the one kept in the pack.
 * ``{ position, comment, pending }``, or null when neither.
 */
export function shownPosition(kept, queue, itemId) {
  const waiting = pendingPosition(queue, itemId);
  if (waiting) { return { position: waiting.data.position, comment: waiting.data.comment || "", pending: true }; }
  if (kept) { return { position: kept.position, comment: kept.comment || "", pending: false }; }
  return null;
}

/** A pack's agenda with the positions the server answered ({item id: position or null}) in place. */
export function withPositions(items, positions) {
  return items.map((item) => (Object.prototype.hasOwnProperty.call(positions, item.id)
    ? { ...item, mine: positions[item.id] } : item));
}

/** Last change wins, per annotation, by the time of the change: the one of two copies to keep. */
export function resolve(local, remote) {
  if (!local) { return remote; }
  if (!remote) { return local; }
  return Date.parse(local.updated_at) > Date.parse(remote.updated_at) ? local : remote;
}

/**
 * The tablet's copy after a sync: the server's annotations, with the changes still queued made again on
 * top (they are newer than anything the server could have sent back for them).
 */
export function merged(serverAnnotations, queue, documentId, author = "") {
  let list = serverAnnotations.slice();
  for (const change of queue) {
    if (change.document_id === documentId) { list = applyLocal(list, change, author); }
  }
  return list;
}

/** Whether a pack may still be opened: its expiry, kept in plain form, against the tablet's clock. */
export function expired(pack, now) {
  return !pack || !Number.isFinite(pack.expires_at) || pack.expires_at <= now;
}
