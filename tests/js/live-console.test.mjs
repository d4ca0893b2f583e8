// The chair console's words and states (static/js/live-console.js): the quorum with its rule, the course
// of the meeting and the steps valid in each state, the item's time stopping at the adjournment.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { courseOf, fmt, itemTime, quorumText, stepsOf } from "../../static/js/live-console.js";

const T = {
  quorum_line: "Có mặt %(present)s/%(eligible)s — cần %(required)s (%(rule)s)",
  rule_more_than_half: "quá nửa", rule_two_thirds: "hai phần ba", rule_fixed: "số lượng cố định",
};

describe("quorumText", () => {
  test("says the numbers and the rule in words", () => {
    assert.equal(quorumText({ present: 2, eligible: 25, required: 13, rule: "more_than_half" }, T),
                 "Có mặt 2/25 — cần 13 (quá nửa)");
    assert.equal(quorumText({ present: 9, eligible: 12, required: 8, rule: "two_thirds" }, T),
                 "Có mặt 9/12 — cần 8 (hai phần ba)");
  });
  test("an unknown rule falls back to words, never the code", () => {
    assert.equal(quorumText({ present: 1, eligible: 4, required: 3, rule: "weird" }, T), "Có mặt 1/4 — cần 3 (quá nửa)");
  });
  test("nothing without a quorum", () => { assert.equal(quorumText(null, T), ""); });
});

describe("the course and its steps", () => {
  test("the server's course and steps are used as sent", () => {
    const m = { status: "in_session", paused: true, course: "paused", steps: ["resume", "adjourn"] };
    assert.equal(courseOf(m), "paused");
    assert.deepEqual(stepsOf(m), ["resume", "adjourn"]);
  });
  test("derived the same way from an older payload", () => {
    assert.deepEqual(stepsOf({ status: "published", paused: false }), ["start"]);
    assert.deepEqual(stepsOf({ status: "draft", paused: false }), []);
    assert.deepEqual(stepsOf({ status: "in_session", paused: false }), ["pause", "adjourn"]);
    assert.deepEqual(stepsOf({ status: "in_session", paused: true }), ["resume", "adjourn"]);
    assert.equal(courseOf({ status: "closed", paused: false }), "adjourned");
    assert.deepEqual(stepsOf({ status: "adjourned", paused: false }), []);
  });
});

describe("itemTime", () => {
  const start = "2026-12-06T08:00:00+00:00";
  test("runs while the meeting is in session", () => {
    assert.equal(itemTime({ item_started_at: start, item_stopped_at: null }, Date.parse(start) + 125000), "2:05");
  });
  test("stops at the adjournment", () => {
    const m = { item_started_at: start, item_stopped_at: "2026-12-06T08:10:30+00:00" };
    assert.equal(itemTime(m, Date.parse(start) + 3600000), "10:30");
  });
  test("a dash without an item", () => { assert.equal(itemTime({ item_started_at: null }, 0), "–"); });
});

test("fmt keeps an unknown placeholder", () => {
  assert.equal(fmt("%(a)s and %(b)s", { a: 1 }), "1 and %(b)s");
});
