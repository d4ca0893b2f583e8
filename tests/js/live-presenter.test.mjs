import test from "node:test";
import assert from "node:assert/strict";

import { PageCoalescer, movedTo, pageSteps, target } from "../../static/js/live-presenter.js";

const documents = { 1: [{ document_id: 10 }, { document_id: 11 }], 2: [{ document_id: 20 }], 3: [] };
const items = [{ item_id: 1, position: 1 }, { item_id: 2, position: 2 }, { item_id: 3, position: 3 }];

test("following shows the current item's first document", () => {
  const t = target({ following: true, shownItemId: 1, chosen: {} }, { currentItemId: 2, presenter: null, documents });
  assert.deepEqual(t, { itemId: 2, documentId: 20, page: null, presented: false });
});

test("an item without documents shows none", () => {
  const t = target({ following: true }, { currentItemId: 3, presenter: null, documents });
  assert.equal(t.documentId, null);
});

test("following opens the presented document at the presenter's page", () => {
  const presenter = { item_id: 1, document_id: 11, page: 4 };
  const t = target({ following: true, chosen: {} }, { currentItemId: 1, presenter, documents });
  assert.deepEqual(t, { itemId: 1, documentId: 11, page: 4, presented: true });
});

test("browsing keeps the reader's own item and document, whatever is presented", () => {
  const presenter = { item_id: 1, document_id: 11, page: 4 };
  const t = target({ following: false, shownItemId: 1, chosen: { 1: 10 } }, { currentItemId: 1, presenter, documents });
  assert.deepEqual(t, { itemId: 1, documentId: 10, page: null, presented: false });
});

test("a presented document of another item, or one this reader may not open, does not lead", () => {
  const t = target({ following: true }, { currentItemId: 2, presenter: { item_id: 1, document_id: 11, page: 2 }, documents });
  assert.equal(t.documentId, 20);
  const hidden = target({ following: true }, { currentItemId: 1, presenter: { item_id: 1, document_id: 99, page: 2 }, documents });
  assert.equal(hidden.documentId, 10);
});

test("the banner names the chair's item only while browsing another one", () => {
  assert.equal(movedTo({ following: true, shownItemId: 1 }, 2, items), null);
  assert.equal(movedTo({ following: false, shownItemId: 1 }, 2, items), 2);
  assert.equal(movedTo({ following: false, shownItemId: 2 }, 2, items), null);
  assert.equal(movedTo({ following: false, shownItemId: 1 }, null, items), null);
  assert.equal(movedTo({ following: false, shownItemId: 1 }, 99, items), null);  // an item this reader may not see
});

function clock() {
  const c = { t: 0, timers: [] };
  c.now = () => c.t;
  c.schedule = (fn, ms) => { c.timers.push({ at: c.t + ms, fn }); };
  c.advance = (ms) => {
    c.t += ms;
    const due = c.timers.filter((x) => x.at <= c.t);
    c.timers = c.timers.filter((x) => x.at > c.t);
    due.forEach((x) => x.fn());
  };
  return c;
}

test("the first turn goes at once; a burst sends only its latest page at the end of the interval", () => {
  const c = clock();
  const sent = [];
  const q = new PageCoalescer({ send: (p) => sent.push([c.t, p]), interval: 300, now: c.now, schedule: c.schedule });
  q.push(2);
  assert.deepEqual(sent, [[0, 2]]);
  c.advance(50); q.push(3);
  c.advance(50); q.push(4);
  c.advance(50); q.push(5);
  assert.deepEqual(sent, [[0, 2]]);
  c.advance(150);
  assert.deepEqual(sent, [[0, 2], [300, 5]]);
  c.advance(1000); q.push(6);
  assert.deepEqual(sent, [[0, 2], [300, 5], [1300, 6]]);
});

test("at most one turn per interval however fast the pages turn", () => {
  const c = clock();
  const sent = [];
  const q = new PageCoalescer({ send: (p) => sent.push(c.t), interval: 250, now: c.now, schedule: c.schedule });
  for (let i = 1; i <= 100; i++) { q.push(i); c.advance(10); }
  c.advance(1000);
  for (let i = 1; i < sent.length; i++) { assert.ok(sent[i] - sent[i - 1] >= 250); }
  assert.ok(sent.length <= 6);
});

test("a turn back to the page last sent is not sent again; reset forgets it", () => {
  const c = clock();
  const sent = [];
  const q = new PageCoalescer({ send: (p) => sent.push(p), interval: 300, now: c.now, schedule: c.schedule });
  q.push(2);
  c.advance(100); q.push(3);
  c.advance(100); q.push(2);
  c.advance(200);
  assert.deepEqual(sent, [2]);
  q.reset();
  c.advance(400); q.push(2);
  assert.deepEqual(sent, [2, 2]);
});

test("page steps", () => {
  assert.equal(pageSteps(1, 4), 3);
  assert.equal(pageSteps(5, 2), -3);
  assert.equal(pageSteps(3, 3), 0);
  assert.equal(pageSteps(NaN, 3), 0);
  assert.equal(pageSteps(1, 0), 0);
});
