// How the live room's event payloads change its state (static/js/live-state.js).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  applyPayload, applyTally, clockOffset, elapsedText, moved, withComment,
} from "../../static/js/live-state.js";

const MEETING = 7;

// The shape of a snapshot (ecabinet/live/service/snapshots.py), small.
function state() {
  return {
    meeting_id: MEETING,
    seq: 10,
    meeting: { status: "in_session", paused: false, current_item_id: 1, item_started_at: null,
               consent_adopted: false, floor: null },
    items: [
      { item_id: 1, position: 1, title: "Budget", outcome: null },
      { item_id: 2, position: 2, title: "Roads", outcome: null },
      { item_id: 3, position: 3, title: "Schools", outcome: null },
    ],
    attendance: { quorum: { present: 1, eligible: 3, required: 2, reached: false }, present: [] },
    queues: { 1: [], 2: [], 3: [] },
    comments: [{ comment_id: 5, item_id: 1, author: "A", body: "first", hidden: false }],
    consent_block: [2, 3],
    online: [],
  };
}

describe("applyPayload", () => {
  test("the meeting state is replaced", () => {
    const s = state();
    const meeting = { ...s.meeting, current_item_id: 2, paused: true };
    applyPayload(s, { meeting });
    assert.equal(s.meeting, meeting);
  });

  test("attendance is replaced", () => {
    const s = state();
    const attendance = { quorum: { present: 2, eligible: 3, required: 2, reached: true }, present: [] };
    applyPayload(s, { attendance });
    assert.equal(s.attendance, attendance);
  });

  test("a speaker queue replaces its item's, and the floor comes with it", () => {
    const s = state();
    const requests = [{ request_id: 9, user_id: 4, name: "B", status: "waiting" }];
    const meeting = { ...s.meeting, floor: { name: "B", item_id: 2 } };
    applyPayload(s, { queue: { item_id: 2, requests }, meeting });
    assert.deepEqual(s.queues[2], requests);
    assert.deepEqual(s.queues[1], []);
    assert.equal(s.meeting.floor.name, "B");
  });

  test("a new comment is added; a known one (hidden by the chair) replaced", () => {
    const s = state();
    applyPayload(s, { comment: { comment_id: 6, item_id: 1, author: "B", body: "second", hidden: false } });
    assert.deepEqual(s.comments.map((c) => c.comment_id), [5, 6]);
    applyPayload(s, { comment: { comment_id: 5, item_id: 1, author: "A", body: "", hidden: true } });
    assert.deepEqual(s.comments.map((c) => [c.comment_id, c.hidden]), [[5, true], [6, false]]);
  });

  test("consent outcomes mark their items and clear the consent block", () => {
    const s = state();
    applyPayload(s, { outcomes: { 2: "adopted_by_consent", 3: "adopted_by_consent" },
                      meeting: { ...s.meeting, consent_adopted: true } });
    assert.deepEqual(s.items.map((i) => i.outcome), [null, "adopted_by_consent", "adopted_by_consent"]);
    assert.deepEqual(s.consent_block, []);
    assert.equal(s.meeting.consent_adopted, true);
  });

  test("a closed ballot's outcome marks its item", () => {
    const s = state();
    applyPayload(s, { ballot: { ballot_id: 4, item_id: 1, status: "closed", item_outcome: "adopted_by_vote" } });
    assert.equal(s.items[0].outcome, "adopted_by_vote");
    applyPayload(s, { ballot: { ballot_id: 5, item_id: 2, status: "open" } });
    assert.equal(s.items[1].outcome, null);
  });

  test("an empty payload (a redacted event) changes nothing", () => {
    const s = state();
    const before = structuredClone(s);
    applyPayload(s, {});
    assert.deepEqual(s, before);
  });

  test("odd payloads and states never throw, and change nothing they cannot", () => {
    const payloads = [
      undefined, null, 0, "x", [], { meeting: null }, { meeting: "paused" }, { meeting: [] },
      { attendance: 3 }, { queue: null }, { queue: {} }, { queue: { item_id: 1, requests: "x" } },
      { comment: "x" }, { comment: [] }, { outcomes: "x" }, { outcomes: [] }, { outcomes: null },
      { ballot: null }, { ballot: "x" }, { resync: true },
    ];
    for (const payload of payloads) {
      const s = state();
      const before = structuredClone(s);
      assert.doesNotThrow(() => applyPayload(s, payload), JSON.stringify(payload));
      assert.deepEqual(s, before, JSON.stringify(payload));
    }
    const full = { meeting: {}, attendance: {}, queue: { item_id: 1, requests: [] }, comment: { comment_id: 1 },
                   outcomes: { 1: "adopted" }, ballot: { item_id: 1, item_outcome: "adopted_by_vote" } };
    for (const broken of [undefined, null, "x", [], {}, { items: "x", queues: null, comments: 5 },
                          { items: [null, 3, { item_id: 1 }] }]) {
      assert.doesNotThrow(() => applyPayload(broken, full), JSON.stringify(broken));
    }
  });
});

describe("withComment", () => {
  test("adds or replaces without changing the list given", () => {
    const list = [{ comment_id: 1, body: "a" }];
    const added = withComment(list, { comment_id: 2, body: "b" });
    assert.deepEqual(added.map((c) => c.comment_id), [1, 2]);
    assert.equal(list.length, 1);
    assert.deepEqual(withComment(list, { comment_id: 1, body: "c" }), [{ comment_id: 1, body: "c" }]);
    assert.deepEqual(withComment(undefined, { comment_id: 1 }), [{ comment_id: 1 }]);
  });
});

describe("applyTally", () => {
  function ballots() {
    return { 4: { ballot_id: 4, status: "open", version: 2, voted: 1, eligible: 5 },
             5: { ballot_id: 5, status: "closed", version: 1, voted: 5, eligible: 5 } };
  }
  const tally = (over) => ({ meeting_id: MEETING, ballot_id: 4, version: 3, voted: 2, eligible: 5,
                             running: null, ...over });

  test("a newer tally of an open ballot is applied", () => {
    const b = ballots();
    assert.equal(applyTally(b, tally(), MEETING), true);
    assert.deepEqual([b[4].voted, b[4].version], [2, 3]);
  });

  test("a late or repeated tally is ignored", () => {
    const b = ballots();
    assert.equal(applyTally(b, tally({ version: 2, voted: 0 }), MEETING), false);
    assert.equal(applyTally(b, tally({ version: 1, voted: 0 }), MEETING), false);
    assert.equal(b[4].voted, 1);
  });

  test("another meeting's, an unknown or closed ballot's tally is ignored", () => {
    const b = ballots();
    assert.equal(applyTally(b, tally({ meeting_id: 8 }), MEETING), false);
    assert.equal(applyTally(b, tally({ ballot_id: 99 }), MEETING), false);
    assert.equal(applyTally(b, tally({ ballot_id: 5, version: 9 }), MEETING), false);
    assert.deepEqual(b, ballots());
  });

  test("odd tallies never throw and change nothing", () => {
    const b = ballots();
    for (const t of [undefined, null, "x", [], {}, tally({ version: undefined }), tally({ version: "9" }),
                     tally({ version: NaN }), tally({ ballot_id: "__proto__" }), tally({ ballot_id: "toString" })]) {
      assert.doesNotThrow(() => applyTally(b, t, MEETING));
      assert.equal(applyTally(b, t, MEETING), false);
    }
    assert.equal(applyTally(null, tally(), MEETING), false);
    assert.deepEqual(b, ballots());
  });
});

describe("clock and timers", () => {
  test("the offset between the server's clock and the tablet's", () => {
    const local = Date.parse("2026-01-01T08:00:00Z");
    assert.equal(clockOffset("2026-01-01T08:00:05+00:00", local), 5000);
    assert.equal(clockOffset("2026-01-01T07:59:58.500000+00:00", local), -1500);
    for (const odd of [undefined, null, "", "yesterday", 12345, {}]) { assert.equal(clockOffset(odd, local), 0); }
    assert.equal(clockOffset("2026-01-01T08:00:05+00:00", NaN), 0);
  });

  test("elapsed time as m:ss", () => {
    const start = "2026-01-01T08:00:00+00:00";
    const at = (s) => Date.parse(start) + s * 1000;
    assert.equal(elapsedText(start, at(0)), "0:00");
    assert.equal(elapsedText(start, at(65.9)), "1:05");
    assert.equal(elapsedText(start, at(3600)), "60:00");
    assert.equal(elapsedText(start, at(-30)), "0:00");  // the tablet's clock a little behind
  });

  test("no readable start gives a dash", () => {
    for (const odd of [undefined, null, "", "soon", 5, {}]) { assert.equal(elapsedText(odd, Date.now()), "–"); }
    assert.equal(elapsedText("2026-01-01T08:00:00+00:00", NaN), "–");
  });
});

describe("moved", () => {
  test("one place up or down, without changing the list given", () => {
    const ids = [1, 2, 3, 4];
    assert.deepEqual(moved(ids, 2, -1), [1, 3, 2, 4]);
    assert.deepEqual(moved(ids, 0, 1), [2, 1, 3, 4]);
    assert.deepEqual(ids, [1, 2, 3, 4]);
  });

  test("at the ends, or out of range, nothing moves past the list", () => {
    assert.deepEqual(moved([1, 2, 3], 0, -1), [1, 2, 3]);
    assert.deepEqual(moved([1, 2, 3], 2, 1), [1, 2, 3]);
    assert.deepEqual(moved([1, 2, 3], 5, -1), [1, 2, 3]);
    assert.deepEqual(moved([], 0, 1), []);
  });
});

test("a presenter section replaces what is presented; null ends it", async () => {
  const { applyPayload } = await import("../../static/js/live-state.js");
  const state = { meeting: {}, presenter: null };
  applyPayload(state, { presenter: { document_id: 3, item_id: 1, page: 2 } });
  assert.deepEqual(state.presenter, { document_id: 3, item_id: 1, page: 2 });
  applyPayload(state, { meeting: { current_item_id: 2 } });
  assert.equal(state.presenter.page, 2);
  applyPayload(state, { meeting: { current_item_id: 2 }, presenter: null });
  assert.equal(state.presenter, null);
});
