// The rules of notes made offline (static/js/offline-sync.js): the queue folds changes not yet sent,
// batches name the server's ids, answers leave nothing silently lost, and the last change wins.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  acknowledge, annotationData, applyLocal, enqueue, expired, merged, newClientId, nextBatch, pendingPosition, resolve,
  serverId, shownPosition, wire, withPositions,
} from "../../static/js/offline-sync.js";

const DOC = 4;
let counter = 0;
function change(op, localId, data = {}, at = 1000 + counter) {
  counter += 1;
  return { client_id: `client-${counter}`, op, document_id: DOC, local_id: localId,
    annotation_id: typeof localId === "number" ? localId : null, data, changed_at: at };
}

describe("the queue", () => {
  test("a note made then edited offline is sent as one creation with the last text", () => {
    let q = enqueue([], change("create", "c-a", { kind: "note", page: 1, body: "first" }, 10));
    q = enqueue(q, change("update", "c-a", { body: "second" }, 20));
    assert.equal(q.length, 1);
    assert.equal(q[0].op, "create");
    assert.equal(q[0].data.body, "second");
    assert.equal(q[0].data.page, 1);
    assert.equal(q[0].changed_at, 20);
  });

  test("a note made then deleted offline is not sent at all", () => {
    let q = enqueue([], change("create", "c-b", { kind: "note", page: 1, body: "x" }));
    q = enqueue(q, change("delete", "c-b"));
    assert.deepEqual(q, []);
  });

  test("two edits of a server note are one, and an edit then a deletion is the deletion", () => {
    let q = enqueue([], change("update", 7, { body: "one" }, 10));
    q = enqueue(q, change("update", 7, { color: "green" }, 20));
    assert.equal(q.length, 1);
    assert.deepEqual({ body: q[0].data.body, color: q[0].data.color, at: q[0].changed_at },
      { body: "one", color: "green", at: 20 });
    q = enqueue(q, change("delete", 7, null, 30));
    assert.equal(q.length, 1);
    assert.equal(q[0].op, "delete");
  });

  test("a change already sent is never altered: its client id names one change", () => {
    let q = enqueue([], change("update", 7, { body: "one" }));
    q = q.map((c) => ({ ...c, sent: true }));
    q = enqueue(q, change("update", 7, { body: "two" }));
    assert.equal(q.length, 2);
    assert.equal(q[0].data.body, "one");
    assert.notEqual(q[0].client_id, q[1].client_id);
  });
});

describe("batches and answers", () => {
  test("a batch stops before an edit of a note whose creation is in it, then names the new id", () => {
    let q = enqueue([], change("create", "c-c", { kind: "note", page: 1, body: "x" }));
    q = q.map((c) => ({ ...c, sent: true }));
    q = enqueue(q, change("update", "c-c", { body: "y" }));
    const first = nextBatch(q);
    assert.deepEqual(first.map((c) => c.op), ["create"]);
    const folded = acknowledge(q, [{ client_id: first[0].client_id, outcome: "applied", annotation_id: 41 }]);
    assert.equal(folded.queue.length, 1);
    assert.equal(folded.idMap["c-c"], 41);
    const second = nextBatch(folded.queue, folded.idMap);
    assert.equal(second[0].annotation_id, 41);
    assert.deepEqual(wire(second[0]), { client_id: second[0].client_id, op: "update", document_id: DOC,
      changed_at: second[0].changed_at, annotation_id: 41, data: { body: "y" } });
  });

  test("a change that did not win comes back as a conflict with its own text", () => {
    const q = enqueue([], change("update", 9, { body: "mine" }));
    const folded = acknowledge(q, [{ client_id: q[0].client_id, outcome: "superseded", annotation_id: 9,
      annotation: { id: 9, body: "theirs" } }]);
    assert.deepEqual(folded.queue, []);
    assert.equal(folded.conflicts.length, 1);
    assert.equal(folded.conflicts[0].data.body, "mine");
    assert.equal(folded.conflicts[0].server.body, "theirs");
  });

  test("an unanswered change stays queued (sent again, stored once by its client id)", () => {
    const q = enqueue([], change("create", "c-d", { kind: "note", page: 2, body: "x" }));
    const folded = acknowledge(q, []);
    assert.equal(folded.queue.length, 1);
  });
});

describe("the tablet's copy", () => {
  test("creations, edits and deletions made offline show at once", () => {
    let list = [{ id: 3, kind: "note", page: 1, body: "server", updated_at: "2026-01-01T00:00:00Z" }];
    list = applyLocal(list, change("create", "c-e", { kind: "note", page: 2, body: "new" }));
    list = applyLocal(list, change("update", 3, { body: "edited" }));
    assert.deepEqual(list.map((a) => [a.id, a.body]), [[3, "edited"], ["c-e", "new"]]);
    list = applyLocal(list, change("delete", "c-e"));
    assert.deepEqual(list.map((a) => a.id), [3]);
  });

  test("after a sync the server's list gets what is still queued on top", () => {
    const q = enqueue([], change("update", 3, { body: "still queued" }));
    const list = merged([{ id: 3, body: "server", updated_at: "2026-01-01T00:00:00Z" }], q, DOC);
    assert.equal(list[0].body, "still queued");
  });

  test("the last change wins", () => {
    const older = { id: 1, body: "old", updated_at: "2026-01-01T10:00:00Z" };
    const newer = { id: 1, body: "new", updated_at: "2026-01-01T11:00:00Z" };
    assert.equal(resolve(older, newer).body, "new");
    assert.equal(resolve(newer, older).body, "new");
    assert.equal(resolve(null, older).body, "old");
  });

  test("ids, the data sent and the expiry", () => {
    assert.equal(serverId(5), 5);
    assert.equal(serverId("12"), 12);
    assert.equal(serverId("c-x", { "c-x": 8 }), 8);
    assert.equal(serverId("c-y"), null);
    const id = newClientId((n) => new Uint8Array(n).map((_, i) => i * 7));
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    assert.deepEqual(annotationData({ kind: "pin", page: null, placed_page: 3, point: [0.1, 0.2], body: "b" }),
      { kind: "pin", color: "yellow", page: 3, body: "b", shared: false, point: [0.1, 0.2] });
    assert.equal(expired({ expires_at: 100 }, 99), false);
    assert.equal(expired({ expires_at: 100 }, 100), true);
    assert.equal(expired(undefined, 0), true);
  });
});

function position(itemId, value, comment = "", at = 1000 + counter) {
  counter += 1;
  return { client_id: `position-${counter}`, op: "position", item_id: itemId, meeting_id: 2, local_id: `p-${itemId}`,
    data: { position: value, comment }, changed_at: at, label: value, title: `${itemId}. Item` };
}

describe("positions set offline", () => {
  test("two positions on one item before a sync are one, the later; other items and notes are kept", () => {
    let q = enqueue([], change("create", "c-p", { kind: "note", page: 1, body: "note" }));
    q = enqueue(q, position(5, "agree", "", 10));
    q = enqueue(q, position(6, "speak", "", 11));
    q = enqueue(q, position(5, "object", "Chưa rõ kinh phí", 20));
    assert.deepEqual(q.map((c) => [c.op, c.item_id ?? c.local_id]), [["create", "c-p"], ["position", 6], ["position", 5]]);
    assert.deepEqual(pendingPosition(q, 5).data, { position: "object", comment: "Chưa rõ kinh phí" });
    assert.equal(pendingPosition(q, 7), null);
  });

  test("a position already sent is never altered: the next one is another change", () => {
    let q = enqueue([], position(5, "agree"));
    q = q.map((c) => ({ ...c, sent: true }));
    q = enqueue(q, position(5, "object"));
    assert.equal(q.length, 2);
    assert.equal(q[0].data.position, "agree");
  });

  test("a position goes in the batch as is, and over the wire with its item, not a document", () => {
    const q = enqueue(enqueue([], position(5, "speak", "Xin phát biểu", 42)),
      change("create", "c-q", { kind: "note", page: 1, body: "x" }));
    const batch = nextBatch(q);
    assert.deepEqual(batch.map((c) => c.op), ["position", "create"]);
    assert.deepEqual(wire(batch[0]), { client_id: batch[0].client_id, op: "position", item_id: 5, changed_at: 42,
      data: { position: "speak", comment: "Xin phát biểu" } });
  });

  test("the server's answers: applied leaves the queue, superseded and refused come back to the reader", () => {
    const applied = position(5, "agree");
    const lost = position(6, "object", "mine");
    const refused = position(7, "speak");
    const q = [applied, lost, refused].reduce(enqueue, []);
    const held = { item_id: 6, position: "agree", comment: "theirs", updated_at: "2026-01-01T00:00:00Z" };
    const folded = acknowledge(q, [
      { client_id: applied.client_id, outcome: "applied", item_id: 5, position: { item_id: 5, position: "agree" } },
      { client_id: lost.client_id, outcome: "superseded", item_id: 6, position: held },
      { client_id: refused.client_id, outcome: "refused", item_id: 7, message: "The meeting has started." }]);
    assert.deepEqual(folded.queue, []);
    assert.deepEqual(folded.conflicts.map((c) => [c.item_id, c.outcome, c.data.comment]),
      [[6, "superseded", "mine"], [7, "refused", ""]]);
    assert.equal(folded.conflicts[0].server.comment, "theirs");
    assert.equal(folded.conflicts[1].message, "The meeting has started.");
    assert.deepEqual(Object.keys(folded.positions).map(Number), [5, 6]);  // a refusal says nothing of the server's
    assert.equal(folded.positions[6].comment, "theirs");
  });

  test("the position shown: the one waiting, else the pack's; the pack takes the server's answers", () => {
    const kept = { item_id: 5, position: "agree", comment: "" };
    assert.deepEqual(shownPosition(kept, [], 5), { position: "agree", comment: "", pending: false });
    const q = enqueue([], position(5, "object", "Chưa rõ"));
    assert.deepEqual(shownPosition(kept, q, 5), { position: "object", comment: "Chưa rõ", pending: true });
    assert.equal(shownPosition(null, [], 5), null);
    const items = [{ id: 5, title: "A", mine: kept }, { id: 6, title: "B", mine: null }];
    const after = withPositions(items, { 5: null, 6: { item_id: 6, position: "speak", comment: "" } });
    assert.deepEqual(after.map((i) => i.mine && i.mine.position), [null, "speak"]);
    assert.equal(after[0].title, "A");
  });
});
