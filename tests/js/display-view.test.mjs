import test from "node:test";
import assert from "node:assert/strict";

import { elapsed, fill, itemLines, needsFetch, participation, pollDelay, statusKey } from "../../static/js/display-view.js";

const text = { item: "Mục %(number)s/%(total)s", withheld: "Một mục không hiển thị", noItem: "Chưa có mục" };

test("elapsed time reads as minutes and seconds, then hours", () => {
  const start = "2026-12-06T01:00:00+00:00";
  assert.equal(elapsed(start, Date.parse("2026-12-06T01:12:05Z")), "12:05");
  assert.equal(elapsed(start, Date.parse("2026-12-06T02:02:05Z")), "1:02:05");
  assert.equal(elapsed(start, Date.parse("2026-12-06T00:59:00Z")), "0:00"); // a clock behind: never negative
  assert.equal(elapsed(null, 0), "");
  assert.equal(elapsed("not a date", 0), "");
});

test("a stopped item's time stops at the adjournment", () => {
  const t = elapsed("2026-12-06T01:00:00Z", Date.parse("2026-12-06T05:00:00Z"), "2026-12-06T01:30:00Z");
  assert.equal(t, "30:00");
});

test("the meeting's state in words, paused included", () => {
  assert.equal(statusKey({ status: "in_session", paused: false }), "inSession");
  assert.equal(statusKey({ status: "in_session", paused: true }), "paused");
  assert.equal(statusKey({ status: "adjourned" }), "adjourned");
  assert.equal(statusKey({ status: "published" }), "notStarted");
  assert.equal(statusKey(null), "notStarted");
});

test("a ping asks again only for a newer event, or one it cannot place", () => {
  assert.equal(needsFetch(10, 11), true);
  assert.equal(needsFetch(10, 10), false);
  assert.equal(needsFetch(10, 9), false);
  assert.equal(needsFetch(10, null), true); // a revocation
  assert.equal(needsFetch(null, 3), true); // nothing shown yet
  assert.equal(needsFetch(5000, 2), true); // the numbering started again
});

test("the screen asks often only while a vote is open", () => {
  assert.equal(pollDelay({ item: { vote: { status: "open" } } }), 2000);
  assert.equal(pollDelay({ item: { vote: { status: "closed" } } }), 30000);
  assert.equal(pollDelay(null), 30000);
});

test("participation is a bounded percentage", () => {
  assert.equal(participation({ voted: 7, eligible: 14 }), 50);
  assert.equal(participation({ voted: 3, eligible: 0 }), 0);
  assert.equal(participation({ voted: 20, eligible: 14 }), 100);
  assert.equal(participation(null), 0);
});

test("a withheld item shows its title alone, or not even that", () => {
  assert.deepEqual(itemLines({ number: 3, title: "Nhân sự", withheld: true }, 5, text),
    { number: "Mục 3/5", title: "Nhân sự", presenter: "" });
  assert.deepEqual(itemLines({ number: 3, title: null, withheld: true }, 5, text),
    { number: "Mục 3/5", title: "Một mục không hiển thị", presenter: "" });
  assert.deepEqual(itemLines({ number: 1, title: "Tờ trình", presenter: "Bộ trưởng", ministry: "Bộ Tài chính",
    withheld: false }, 5, text), { number: "Mục 1/5", title: "Tờ trình", presenter: "Bộ trưởng — Bộ Tài chính" });
  assert.equal(itemLines(null, 5, text).title, "Chưa có mục");
});

test("fill puts values in their places and leaves nothing raw", () => {
  assert.equal(fill("%(voted)s / %(eligible)s", { voted: 2, eligible: 14 }), "2 / 14");
  assert.equal(fill("%(missing)s!", {}), "!");
});
