// Which of the others' feeds the page subscribes to, and when (static/js/media.js; docs/media.md,
// "Receiving the others"). No DOM, no Janus and no timers: media.js asks for the next batch, says how it
// went, and sets the timer this module asks for.
//
// Janus subscribes to a batch of feeds in one request and refuses the whole batch when one of them is gone
// (a member who left as we joined: 428 "No such feed"). Without a second try, every feed of that batch would
// stay unheard until the page joined again: a remote member would not hear the speaker. So a refused batch's
// feeds are tried again after RETRY_MS, each on its own (one gone feed no longer holds the others back),
// at most MAX_ATTEMPTS times; a feed that leaves meanwhile is dropped.

export const RETRY_MS = 1000;
export const MAX_ATTEMPTS = 5;

export function createSubscriptions() {
  const pending = [];           // feeds to subscribe in the next batch
  const waiting = new Set();    // feeds refused once, to try again when the timer fires
  const subscribed = new Set(); // feeds on the subscriber connection
  const attempts = new Map();   // feed -> refused attempts so far
  const alone = new Set();      // feeds tried again: each in a batch of its own
  let inFlight = null;          // the batch Janus has not answered yet

  const known = (feed) => pending.includes(feed) || waiting.has(feed) || subscribed.has(feed)
    || (inFlight !== null && inFlight.includes(feed));

  return {
    /** Janus tells of a publisher: true if the feed is new to the page (false if already on its way). */
    add(feed) {
      if (known(feed)) { return false; }
      attempts.delete(feed); alone.delete(feed);  // a feed given up and told of again starts over
      pending.push(feed);
      return true;
    },

    /** The feed left: it is forgotten wherever it was. */
    remove(feed) {
      const i = pending.indexOf(feed);
      if (i >= 0) { pending.splice(i, 1); }
      waiting.delete(feed); subscribed.delete(feed); attempts.delete(feed); alone.delete(feed);
    },

    /** The next batch to ask Janus for, or null (one at a time; nothing to ask). */
    next() {
      if (inFlight !== null || !pending.length) { return null; }
      if (alone.has(pending[0])) {
        inFlight = pending.splice(0, 1);
      } else {  // every feed not yet refused, together; the refused ones stay queued, one batch each
        inFlight = pending.filter((f) => !alone.has(f));
        const rest = pending.filter((f) => alone.has(f));
        pending.length = 0;
        pending.push(...rest);
      }
      return inFlight;
    },

    /** Janus subscribed the batch in flight. */
    done() {
      if (inFlight === null) { return; }
      for (const feed of inFlight) { subscribed.add(feed); attempts.delete(feed); alone.delete(feed); }
      inFlight = null;
    },

    /** Janus refused the batch in flight: how long until ``retry`` should be called, or null (none left to
     * try again: each has had its MAX_ATTEMPTS). */
    failed() {
      if (inFlight === null) { return null; }
      for (const feed of inFlight) {
        const n = (attempts.get(feed) || 0) + 1;
        attempts.set(feed, n);
        if (n < MAX_ATTEMPTS) { waiting.add(feed); alone.add(feed); }
      }
      inFlight = null;
      return waiting.size ? RETRY_MS : null;
    },

    /** The timer fired: the refused feeds still present go back into the queue. */
    retry() {
      for (const feed of waiting) { pending.push(feed); }
      waiting.clear();
    },

    subscribed(feed) { return subscribed.has(feed); },
    busy() { return inFlight !== null; },

    /** The page left the room: nothing is subscribed any more. */
    clear() {
      pending.length = 0; waiting.clear(); subscribed.clear(); attempts.clear(); alone.clear(); inFlight = null;
    },
  };
}
