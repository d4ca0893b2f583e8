// Which of the others' feeds the page subscribes to (static/js/media-subscriptions.js): Janus refuses a whole
// batch when one of its feeds is gone, and no feed of such a batch may stay unheard.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { MAX_ATTEMPTS, RETRY_MS, createSubscriptions } from "../../static/js/media-subscriptions.js";

describe("subscribing to the others' feeds", () => {
  test("the feeds Janus tells of go in one batch, one batch at a time, each feed once", () => {
    const s = createSubscriptions();
    assert.equal(s.add(1), true);
    assert.equal(s.add(2), true);
    assert.equal(s.add(1), false);
    assert.deepEqual(s.next(), [1, 2]);
    assert.equal(s.add(3), true);
    assert.equal(s.next(), null, "Janus has not answered the first batch");
    assert.equal(s.add(2), false, "already in flight");
    s.done();
    assert.equal(s.subscribed(1), true);
    assert.equal(s.add(1), false, "already subscribed");
    assert.deepEqual(s.next(), [3]);
    s.done();
    assert.equal(s.next(), null);
  });

  test("a refused batch is tried again after a moment, each feed on its own, and the others get through", () => {
    const s = createSubscriptions();
    s.add(1); s.add(2); s.add(3);
    assert.deepEqual(s.next(), [1, 2, 3]);
    assert.equal(s.failed(), RETRY_MS);
    assert.equal(s.subscribed(1), false);
    assert.equal(s.next(), null, "nothing before the timer");
    s.add(4);                                  // a newcomer meanwhile is not held back
    assert.deepEqual(s.next(), [4]);
    s.done();
    s.retry();
    assert.deepEqual(s.next(), [1]);
    s.done();
    assert.deepEqual(s.next(), [2]);
    assert.equal(s.failed(), RETRY_MS);        // 2 is the one that is gone
    assert.deepEqual(s.next(), [3]);
    s.done();
    assert.equal(s.subscribed(1) && s.subscribed(3) && s.subscribed(4), true);
    assert.equal(s.subscribed(2), false);
  });

  test("a feed that keeps being refused is given up after MAX_ATTEMPTS", () => {
    const s = createSubscriptions();
    s.add(7);
    for (let i = 1; i < MAX_ATTEMPTS; i += 1) {
      assert.deepEqual(s.next(), [7]);
      assert.equal(s.failed(), RETRY_MS, `attempt ${i}`);
      s.retry();
    }
    assert.deepEqual(s.next(), [7]);
    assert.equal(s.failed(), null, "no more tries");
    s.retry();
    assert.equal(s.next(), null);
    assert.equal(s.add(7), true, "Janus telling of it again starts over");
    assert.deepEqual(s.next(), [7]);
    assert.equal(s.failed(), RETRY_MS);
  });

  test("a feed that leaves is dropped wherever it is, and clearing forgets everything", () => {
    const s = createSubscriptions();
    s.add(1); s.add(2);
    s.remove(2);
    assert.deepEqual(s.next(), [1]);
    assert.equal(s.failed(), RETRY_MS);
    s.remove(1);                               // left while waiting to be tried again
    s.retry();
    assert.equal(s.next(), null);
    s.add(3);
    s.next();
    s.clear();
    assert.equal(s.busy(), false);
    assert.equal(s.next(), null);
    assert.equal(s.add(3), true);
  });

  test("answers that come with no batch in flight change nothing", () => {
    const s = createSubscriptions();
    s.done();
    assert.equal(s.failed(), null);
    s.add(1);
    assert.deepEqual(s.next(), [1]);
  });
});
