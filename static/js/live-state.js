// The live room's state and how the parts of a numbered event's payload change it (the payloads are built
// by ecabinet/live/service/numbering.py, the snapshot by snapshots.py). No DOM: live.js renders afterwards.
// A part of an unexpected shape is skipped rather than let it break the page.

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Apply one event's payload to the snapshot state (changed in place). */
export function applyPayload(state, payload) {
  if (!isObject(state) || !isObject(payload)) { return; }
  if (isObject(payload.meeting)) { state.meeting = payload.meeting; }
  if (isObject(payload.attendance)) { state.attendance = payload.attendance; }
  // The presented document and page; null when nothing is presented (stopped, or another item).
  if ("presenter" in payload) { state.presenter = isObject(payload.presenter) ? payload.presenter : null; }
  const queue = payload.queue;
  if (isObject(queue) && Array.isArray(queue.requests)) {
    if (!isObject(state.queues)) { state.queues = {}; }
    state.queues[queue.item_id] = queue.requests;
  }
  if (isObject(payload.comment)) { state.comments = withComment(state.comments, payload.comment); }
  const ballot = payload.ballot;
  if (isObject(ballot) && ballot.item_outcome) { setOutcome(state, ballot.item_id, ballot.item_outcome); }
  if (isObject(payload.outcomes)) {
    items(state).forEach(function (item) {
      const outcome = payload.outcomes[item.item_id];
      if (outcome) { item.outcome = outcome; }
    });
    state.consent_block = [];  // the consent block was adopted
  }
}

function items(state) {
  return Array.isArray(state.items) ? state.items.filter(isObject) : [];
}

function setOutcome(state, itemId, outcome) {
  items(state).forEach(function (item) { if (item.item_id === itemId) { item.outcome = outcome; } });
}

/** The comments with `comment` added, or replacing the one with its id (edited, hidden by the chair). */
export function withComment(comments, comment) {
  const list = Array.isArray(comments) ? comments : [];
  let found = false;
  const result = list.map(function (c) {
    if (isObject(c) && c.comment_id === comment.comment_id) { found = true; return comment; }
    return c;
  });
  if (!found) { result.push(comment); }
  return result;
}

/**
 * Apply a participation tally (`ballot.tally`, not numbered) to the known ballots (changed in place).
 * Its version only grows, so a late or repeated tally is ignored. Returns whether it changed anything.
 */
export function applyTally(ballots, tally, meetingId) {
  if (!isObject(ballots) || !isObject(tally) || tally.meeting_id !== meetingId) { return false; }
  if (typeof tally.version !== "number" || !Number.isFinite(tally.version)) { return false; }
  const b = Object.prototype.hasOwnProperty.call(ballots, tally.ballot_id) ? ballots[tally.ballot_id] : null;
  if (!isObject(b) || b.status !== "open" || (b.version || 0) >= tally.version) { return false; }
  b.voted = tally.voted;
  b.eligible = tally.eligible;
  b.running = tally.running;
  b.version = tally.version;
  return true;
}

/** The server's clock minus this tablet's, in milliseconds (0 when the server's time is unreadable). */
export function clockOffset(serverNow, localNow) {
  const server = typeof serverNow === "string" ? Date.parse(serverNow) : NaN;
  return Number.isFinite(server) && Number.isFinite(localNow) ? server - localNow : 0;
}

/** "m:ss" since `startIso` at the server time `now` (ms), or "–" without a readable start. */
export function elapsedText(startIso, now) {
  const start = typeof startIso === "string" ? Date.parse(startIso) : NaN;
  if (!Number.isFinite(start) || !Number.isFinite(now)) { return "–"; }
  const s = Math.max(0, Math.floor((now - start) / 1000));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

/** The ids with the one at `index` moved by `step` places (-1 up, 1 down), for the chair's reorder. */
export function moved(ids, index, step) {
  const result = ids.slice();
  if (index < 0 || index >= result.length) { return result; }
  const target = Math.max(0, Math.min(result.length - 1, index + step));
  const id = result.splice(index, 1)[0];
  result.splice(target, 0, id);
  return result;
}
