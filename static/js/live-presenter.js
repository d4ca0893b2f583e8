// What the meeting screen shows, and the presenter's page turns: pure logic, no DOM (live.js renders).
// A tablet that follows the chair shows the current item and, when a document is presented, that document
// at the presenter's page; a tablet browsing freely shows the item and document its reader chose.

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function documentsOf(documents, itemId) {
  const list = isObject(documents) && itemId !== null && itemId !== undefined ? documents[String(itemId)] : null;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/**
 * The item, document and page to show.
 * view: {following, shownItemId, chosen: {itemId: documentId}}; room: {currentItemId, presenter, documents}.
 * Returns {itemId, documentId (or null: the item has none), page (or null: wherever the reader is),
 * presented (the presenter's document is the one shown)}.
 */
export function target(view, room) {
  const following = !!(view && view.following);
  const itemId = following ? (room.currentItemId ?? null) : (view.shownItemId ?? null);
  const docs = documentsOf(room.documents, itemId);
  const p = isObject(room.presenter) ? room.presenter : null;
  // The presenter leads only the tablets that follow, and only on the item under discussion.
  if (following && p && p.item_id === itemId && docs.some((d) => d.document_id === p.document_id)) {
    return { itemId, documentId: p.document_id, page: Number.isInteger(p.page) ? p.page : 1, presented: true };
  }
  const chosen = isObject(view.chosen) ? view.chosen[String(itemId)] : undefined;
  const doc = docs.find((d) => d.document_id === chosen) || docs[0] || null;
  return { itemId, documentId: doc ? doc.document_id : null, page: null, presented: false };
}

/**
 * The banner of a tablet browsing freely: the position of the item the chair is on, when it is not the
 * one shown; null when there is nothing to say (following, no current item, or the same item).
 */
export function movedTo(view, currentItemId, items) {
  if (!view || view.following || currentItemId === null || currentItemId === undefined) { return null; }
  if (view.shownItemId === currentItemId) { return null; }
  const item = (Array.isArray(items) ? items : []).find((i) => isObject(i) && i.item_id === currentItemId);
  return item ? item.position : null;
}

/**
 * Coalesces a presenter's page turns: the first turn after a quiet interval is sent at once; turns within
 * `interval` ms of the last one sent wait, and only the latest is sent when the interval ends. A turn to
 * the page last sent is not sent again. `schedule(fn, ms)` and `now()` are injectable for tests.
 */
export class PageCoalescer {
  constructor({ send, interval = 300, now = () => Date.now(), schedule = (fn, ms) => setTimeout(fn, ms) }) {
    this.send = send;
    this.interval = interval;
    this.now = now;
    this.schedule = schedule;
    this.lastSentAt = -Infinity;
    this.lastSent = null;
    this.pending = null;
    this.timer = false;
  }

  push(page) {
    this.pending = page;
    if (this.timer) { return; }
    const wait = this.lastSentAt + this.interval - this.now();
    if (wait <= 0) { this.flush(); return; }
    this.timer = true;
    this.schedule(() => { this.timer = false; this.flush(); }, wait);
  }

  flush() {
    const page = this.pending;
    this.pending = null;
    if (page === null || page === this.lastSent) { return; }
    this.lastSent = page;
    this.lastSentAt = this.now();
    this.send(page);
  }

  /** Forget what was sent (a new document is shared: its first turn goes out whatever its number). */
  reset() {
    this.lastSent = null;
    this.pending = null;
  }
}

/** How many pages to turn, and which way, to go from `current` to `wanted` (0: stay). */
export function pageSteps(current, wanted) {
  if (!Number.isInteger(current) || !Number.isInteger(wanted) || wanted < 1) { return 0; }
  return wanted - current;
}
