// The ordering of the live room's numbered events on a tablet (static/js/live-sequence.js).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  HandshakeJoin, MAX_BUFFER, RoomSequence, connectRetryDelay, isSeq, joinRetryDelay, retryRefusedConnections,
} from "../../static/js/live-sequence.js";

const MEETING = 7;

function event(seq, payload = {}, meetingId = MEETING) {
  return { meeting_id: meetingId, seq, type: "meeting.update", item_id: null, payload };
}

function snapshot(seq) {
  return { meeting_id: MEETING, seq, server_now: "2026-01-01T08:00:00+00:00", items: [] };
}

// A sequence whose callbacks only record what they were asked.
function room(options = {}) {
  const joins = [];
  const applied = [];
  const snapshots = [];
  const sequence = new RoomSequence({
    meetingId: MEETING,
    join: (from, ticket) => joins.push({ from, ticket }),
    applySnapshot: (s) => snapshots.push(s.seq),
    applyEvent: (e) => applied.push(e.seq),
    ...options,
  });
  const lastJoin = () => joins[joins.length - 1];
  const answer = (ack) => sequence.joined(lastJoin().ticket, { ok: true, ...ack });
  return { sequence, joins, applied, snapshots, lastJoin, answer };
}

// Connected and joined at `seq` through a snapshot.
function joinedAt(seq, options) {
  const r = room(options);
  r.sequence.connected();
  assert.equal(r.answer({ snapshot: snapshot(seq) }), "applied");
  return r;
}

describe("joining", () => {
  test("the first join asks for a snapshot, which sets the number", () => {
    const r = room();
    assert.equal(r.sequence.lastSeq, null);
    assert.equal(r.sequence.connected(), true);
    assert.deepEqual(r.joins.map((j) => j.from), [null]);
    assert.equal(r.sequence.joining, true);
    assert.equal(r.answer({ snapshot: snapshot(4) }), "applied");
    assert.deepEqual(r.snapshots, [4]);
    assert.equal(r.sequence.lastSeq, 4);
    assert.equal(r.sequence.joining, false);
  });

  test("nothing is joined before the socket connects; events that come first wait for the join", () => {
    const r = room();
    assert.equal(r.sequence.event(event(3)), "buffered");
    assert.equal(r.sequence.sync({ meeting_id: MEETING, seq: 3 }), "ignored");
    assert.equal(r.sequence.retry(), false);
    assert.equal(r.joins.length, 0);
    r.sequence.connected();
    r.answer({ snapshot: snapshot(2) });
    assert.deepEqual(r.applied, [3]);
  });

  test("events arriving before the first snapshot are applied after it", () => {
    const r = room();
    r.sequence.connected();
    assert.equal(r.sequence.event(event(5)), "buffered");
    assert.equal(r.sequence.event(event(6)), "buffered");
    assert.equal(r.sequence.event(event(4)), "buffered");
    r.answer({ snapshot: snapshot(4) });
    assert.deepEqual(r.applied, [5, 6]);
    assert.equal(r.sequence.lastSeq, 6);
    assert.equal(r.sequence.buffered, 0);
    assert.equal(r.joins.length, 1);
  });

  test("a snapshot behind the tablet's number replaces it (the server is the reference)", () => {
    const r = joinedAt(10);
    r.sequence.disconnected();
    r.sequence.connected();
    assert.equal(r.lastJoin().from, 10);
    r.answer({ snapshot: snapshot(3) });
    assert.equal(r.sequence.lastSeq, 3);
    assert.equal(r.sequence.event(event(4)), "applied");
  });
});

describe("events in order", () => {
  test("each next event is applied once, in order", () => {
    const r = joinedAt(10);
    for (const seq of [11, 12, 13]) { assert.equal(r.sequence.event(event(seq)), "applied"); }
    assert.deepEqual(r.applied, [11, 12, 13]);
    assert.equal(r.sequence.lastSeq, 13);
    assert.equal(r.joins.length, 1);
  });

  test("a duplicate is ignored", () => {
    const r = joinedAt(10);
    r.sequence.event(event(11));
    assert.equal(r.sequence.event(event(11)), "duplicate");
    assert.deepEqual(r.applied, [11]);
    assert.equal(r.joins.length, 1);
  });

  test("a stale event is ignored", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.event(event(3)), "stale");
    assert.equal(r.sequence.event(event(0)), "stale");
    assert.deepEqual(r.applied, []);
    assert.equal(r.sequence.lastSeq, 10);
    assert.equal(r.joins.length, 1);
  });

  test("events of another meeting are ignored", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.event(event(11, {}, 8)), "ignored");
    assert.equal(r.sequence.event(event(50, {}, 8)), "ignored");
    assert.equal(r.sequence.event({ ...event(11), meeting_id: String(MEETING) }), "ignored");
    assert.deepEqual(r.applied, []);
    assert.equal(r.joins.length, 1);
  });

  test("an event that asks for a resync asks for a snapshot and is not applied", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.event(event(11, { resync: true })), "resync");
    assert.deepEqual(r.applied, []);
    assert.deepEqual(r.lastJoin().from, null);
    assert.equal(r.sequence.event(event(12)), "buffered");
    assert.equal(r.sequence.event(event(13)), "buffered");
    r.answer({ snapshot: snapshot(12) });
    assert.deepEqual(r.snapshots, [10, 12]);
    assert.deepEqual(r.applied, [13]);
    assert.equal(r.sequence.lastSeq, 13);
  });

  test("the snapshot a resync asked for is still asked for after a reconnection or a failed join", () => {
    const r = joinedAt(10);
    r.sequence.event(event(11, { resync: true }));
    r.sequence.disconnected();
    r.sequence.connected();
    assert.equal(r.lastJoin().from, null);
    r.sequence.joinFailed(r.lastJoin().ticket);
    r.sequence.retry();
    assert.equal(r.lastJoin().from, null);
    r.answer({ snapshot: snapshot(11) });
    r.sequence.event(event(13));
    assert.equal(r.lastJoin().from, 11);
  });

  test("an event is taken before it is applied: an error while applying it does not apply it twice", () => {
    let fail = true;
    const seen = [];
    const r = joinedAt(10, {
      applyEvent: (e) => {
        seen.push(e.seq);
        if (fail) { fail = false; throw new Error("render failed"); }
      },
    });
    assert.throws(() => r.sequence.event(event(11)), /render failed/);
    assert.equal(r.sequence.lastSeq, 11);
    assert.equal(r.sequence.event(event(11)), "duplicate");
    assert.equal(r.sequence.event(event(12)), "applied");
    assert.deepEqual(seen, [11, 12]);
  });
});

describe("gaps", () => {
  test("a gap asks for the missed events once, from the last number applied", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.event(event(13)), "gap");
    assert.equal(r.joins.length, 2);
    assert.equal(r.lastJoin().from, 10);
    // More events, even with gaps of their own, while that join is under way: no second join.
    assert.equal(r.sequence.event(event(14)), "buffered");
    assert.equal(r.sequence.event(event(16)), "buffered");
    assert.equal(r.sequence.sync({ meeting_id: MEETING, seq: 16 }), "pending");
    assert.equal(r.sequence.retry(), false);
    assert.equal(r.joins.length, 2);
    assert.equal(r.sequence.buffered, 3);
    assert.deepEqual(r.applied, []);
  });

  test("the missed events, then the ones kept meanwhile, are applied in order", () => {
    const r = joinedAt(10);
    r.sequence.event(event(13));
    r.sequence.event(event(15));
    r.sequence.event(event(14));
    r.sequence.event(event(14));  // duplicate while waiting
    r.sequence.event(event(12));  // already in the replay
    assert.equal(r.answer({ events: [event(11), event(12)] }), "applied");
    assert.deepEqual(r.applied, [11, 12, 13, 14, 15]);
    assert.equal(r.sequence.lastSeq, 15);
    assert.equal(r.sequence.buffered, 0);
    assert.equal(r.joins.length, 2);
  });

  test("a replay that overlaps the kept events applies each once", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    r.sequence.event(event(13));
    r.answer({ events: [event(11), event(12), event(13)] });
    assert.deepEqual(r.applied, [11, 12, 13]);
  });

  test("a snapshot answering the gap is applied, then the kept events after it", () => {
    const r = joinedAt(10);
    r.sequence.event(event(300));
    r.sequence.event(event(301));
    r.sequence.event(event(302));
    r.answer({ snapshot: snapshot(301) });
    assert.deepEqual(r.snapshots, [10, 301]);
    assert.deepEqual(r.applied, [302]);
    assert.equal(r.sequence.lastSeq, 302);
  });

  test("a gap still left among the kept events asks again, keeping the later ones", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    r.sequence.event(event(15));
    r.answer({ events: [event(11)] });
    assert.deepEqual(r.applied, [11, 12]);
    assert.equal(r.joins.length, 3);
    assert.equal(r.lastJoin().from, 12);
    assert.equal(r.sequence.buffered, 1);
    r.answer({ events: [event(13), event(14)] });
    assert.deepEqual(r.applied, [11, 12, 13, 14, 15]);
    assert.equal(r.joins.length, 3);
  });

  test("a replay with a hole of its own asks for a snapshot rather than the same replay", () => {
    const r = joinedAt(10);
    r.sequence.event(event(14));
    r.answer({ events: [event(11), event(13)] });
    assert.deepEqual(r.applied, [11]);
    assert.equal(r.lastJoin().from, null);
    r.answer({ snapshot: snapshot(13) });
    assert.deepEqual(r.applied, [11, 14]);
  });

  test("a resync inside a replay asks for a snapshot; the kept events wait for it", () => {
    const r = joinedAt(10);
    r.sequence.event(event(14));
    r.answer({ events: [event(11), event(12, { resync: true }), event(13)] });
    assert.deepEqual(r.applied, [11]);
    assert.equal(r.lastJoin().from, null);
    assert.equal(r.sequence.joining, true);
    r.answer({ snapshot: snapshot(13) });
    assert.deepEqual(r.applied, [11, 14]);
    assert.equal(r.sequence.lastSeq, 14);
  });

  test("the events kept during a join are bounded; the next join brings the dropped ones", () => {
    const r = joinedAt(10, { maxBuffer: 3 });
    for (let seq = 12; seq <= 16; seq++) { r.sequence.event(event(seq)); }
    assert.equal(r.sequence.buffered, 3);
    r.answer({ events: [event(11)] });
    assert.deepEqual(r.applied, [11]);
    assert.equal(r.lastJoin().from, 11);
    r.answer({ events: [event(12), event(13)] });
    assert.deepEqual(r.applied, [11, 12, 13, 14, 15, 16]);
  });

  test("kept events the server does not have (its numbering went back) are dropped, not asked for forever", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.event(event(15)), "gap");
    assert.equal(r.answer({ events: [] }), "applied");
    assert.equal(r.joins.length, 2);
    assert.equal(r.sequence.buffered, 0);
    assert.equal(r.sequence.lastSeq, 10);
    assert.equal(r.sequence.event(event(11)), "applied");
  });

  test("kept events beyond a snapshot that should have had them are dropped", () => {
    const r = joinedAt(10);
    r.sequence.disconnected();
    r.sequence.connected();
    r.sequence.event(event(40));
    r.sequence.retry();
    r.answer({ snapshot: snapshot(5) });
    // It arrived while that join was under way, perhaps after its answer was made: asked for once more.
    assert.equal(r.joins.length, 3);
    assert.equal(r.lastJoin().from, 5);
    r.answer({ events: [] });
    assert.equal(r.joins.length, 3);
    assert.equal(r.sequence.buffered, 0);
    assert.equal(r.sequence.lastSeq, 5);
    assert.deepEqual(r.applied, []);
  });

  test("the default bound is generous", () => {
    assert.ok(MAX_BUFFER >= 100);
    const r = joinedAt(0);
    r.sequence.event(event(2));
    for (let seq = 3; seq < MAX_BUFFER + 50; seq++) { r.sequence.event(event(seq)); }
    assert.equal(r.sequence.buffered, MAX_BUFFER);
  });
});

// A server numbering its events, and a connection that loses, repeats and delays some of them: the
// tablet ends at the server's number, having applied each event once and in order, with a bounded
// number of joins. Joins are answered at a later step, in order with the events, as on one socket.
describe("against a simulated server", () => {
  function random(seed) {
    let x = seed;
    return () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  }

  for (const seed of [1, 2, 3, 4, 5, 42, 1234, 99999]) {
    test(`seed ${seed}`, () => {
      const rand = random(seed);
      const resyncs = new Set();
      let server = 0;
      const asked = [];
      const view = [];  // what the tablet applied: ["snapshot", n] or ["event", n]
      const sequence = new RoomSequence({
        meetingId: MEETING,
        join: (from, ticket) => asked.push({ from, ticket }),
        applySnapshot: (s) => view.push(["snapshot", s.seq]),
        applyEvent: (e) => view.push(["event", e.seq]),
        maxBuffer: 20,
      });
      const answerFor = (from) => (from === null || from > server || server - from > 30
        ? { ok: true, snapshot: snapshot(server) }
        : { ok: true, events: Array.from({ length: server - from }, (_, i) => {
          const seq = from + i + 1;
          return event(seq, resyncs.has(seq) ? { resync: true } : {});
        }) });
      const inFlight = [];  // joins the server has answered, the answers not yet delivered
      let joins = 0;
      const deliver = () => {
        while (asked.length) { const j = asked.shift(); joins += 1; inFlight.push({ ...j, ack: answerFor(j.from) }); }
        if (inFlight.length && rand() < 0.5) { const j = inFlight.shift(); sequence.joined(j.ticket, j.ack); }
      };
      let inputs = 0;
      sequence.connected();
      for (let step = 0; step < 400; step++) {
        deliver();
        const roll = rand();
        if (roll < 0.02) {
          sequence.disconnected();
          inFlight.length = 0;
          asked.length = 0;
          sequence.connected();
          inputs += 1;
          continue;
        }
        server += 1;
        if (rand() < 0.03) { resyncs.add(server); }
        const ev = event(server, resyncs.has(server) ? { resync: true } : {});
        if (rand() < 0.1) { continue; }  // lost
        sequence.event(ev);
        inputs += 1;
        if (rand() < 0.05) { sequence.event(ev); inputs += 1; }  // repeated
        if (rand() < 0.05) { sequence.sync({ meeting_id: MEETING, seq: server }); inputs += 1; }
        // A number the server never reaches (as after a restored database): dropped, never asked for again.
        if (rand() < 0.05) { sequence.event(event(100000 + step)); inputs += 1; }
      }
      sequence.sync({ meeting_id: MEETING, seq: server });
      for (let i = 0; i < 100 && (asked.length || inFlight.length); i++) {
        while (asked.length || inFlight.length) {
          deliver();
          if (inFlight.length) { const j = inFlight.shift(); sequence.joined(j.ticket, j.ack); }
        }
      }
      assert.equal(sequence.joining, false);
      assert.equal(sequence.lastSeq, server);
      assert.ok(joins <= inputs + 1, `${joins} joins for ${inputs} inputs`);
      // Each event applied follows the number before it: the last snapshot, or the event before.
      let at = null;
      for (const [kind, n] of view) {
        if (kind === "event") { assert.equal(n, at + 1, JSON.stringify(view)); }
        at = n;
      }
      // No event whose change only a snapshot shows was applied as an event.
      assert.ok(view.every(([kind, n]) => kind === "snapshot" || !resyncs.has(n)));
    });
  }
});

describe("sync after an outage of the message queue", () => {
  const sync = (seq, meetingId = MEETING) => ({ meeting_id: meetingId, seq });

  test("behind: joins once, from the last number applied", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.sync(sync(12)), "behind");
    assert.equal(r.joins.length, 2);
    assert.equal(r.lastJoin().from, 10);
    assert.equal(r.sequence.sync(sync(12)), "pending");
    assert.equal(r.joins.length, 2);
    r.answer({ events: [event(11), event(12)] });
    assert.deepEqual(r.applied, [11, 12]);
    assert.equal(r.joins.length, 2);
  });

  test("equal: nothing to do", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.sync(sync(10)), "current");
    assert.equal(r.joins.length, 1);
  });

  test("ahead of the announcement (events overtook it): nothing to do", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.sync(sync(9)), "ahead");
    assert.equal(r.joins.length, 1);
    assert.equal(r.sequence.event(event(11)), "applied");
  });

  test("announced during a join whose answer falls short: joins again, once", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    assert.equal(r.sequence.sync(sync(14)), "pending");
    assert.equal(r.sequence.sync(sync(13)), "pending");
    r.answer({ events: [event(11)] });
    assert.deepEqual(r.applied, [11, 12]);
    assert.equal(r.joins.length, 3);
    assert.equal(r.lastJoin().from, 12);
    r.answer({ events: [event(13), event(14)] });
    assert.equal(r.sequence.lastSeq, 14);
    assert.equal(r.joins.length, 3);
  });

  test("announced during a join whose answer reaches it: no second join", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    r.sequence.sync(sync(12));
    r.answer({ events: [event(11), event(12)] });
    assert.equal(r.joins.length, 2);
  });

  test("another meeting's sync is ignored", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.sync(sync(99, 8)), "ignored");
    assert.equal(r.joins.length, 1);
  });
});

describe("reconnecting", () => {
  test("after a reconnection the join starts from the last number applied", () => {
    const r = joinedAt(10);
    r.sequence.event(event(11));
    r.sequence.disconnected();
    assert.equal(r.sequence.joining, false);
    assert.equal(r.sequence.connected(), true);
    assert.equal(r.lastJoin().from, 11);
    r.answer({ events: [event(12), event(13)] });
    assert.deepEqual(r.applied, [11, 12, 13]);
  });

  test("the answer to a join sent before the disconnection is ignored", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    const before = r.lastJoin().ticket;
    r.sequence.disconnected();
    assert.equal(r.sequence.joined(before, { ok: true, events: [event(11), event(12)] }), "stale");
    assert.equal(r.sequence.joinFailed(before), false);
    assert.deepEqual(r.applied, []);
    r.sequence.connected();
    assert.notEqual(r.lastJoin().ticket, before);
    assert.equal(r.sequence.joined(before, { ok: true, snapshot: snapshot(50) }), "stale");
    assert.equal(r.sequence.lastSeq, 10);
    r.answer({ events: [event(11), event(12)] });
    assert.deepEqual(r.applied, [11, 12]);
  });

  test("no join is sent while disconnected; a gap then waits for the reconnection", () => {
    const r = joinedAt(10);
    r.sequence.disconnected();
    assert.equal(r.sequence.event(event(13)), "buffered");
    assert.equal(r.sequence.sync({ meeting_id: MEETING, seq: 20 }), "behind");
    assert.equal(r.joins.length, 1);
    assert.equal(r.sequence.joining, false);
  });

  test("a failed join is retried once asked to, and not while another is under way", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    assert.equal(r.sequence.joinFailed(r.lastJoin().ticket), true);
    assert.equal(r.sequence.failures, 1);
    assert.equal(r.sequence.joining, false);
    assert.equal(r.sequence.retry(), true);
    assert.equal(r.lastJoin().from, 10);
    assert.equal(r.sequence.retry(), false);
    assert.equal(r.sequence.joinFailed(r.lastJoin().ticket), true);
    assert.equal(r.sequence.failures, 2);
    r.sequence.retry();
    r.answer({ events: [event(11)] });
    assert.deepEqual(r.applied, [11, 12]);
    assert.equal(r.sequence.failures, 0);
    assert.equal(r.sequence.retry(), false);  // succeeded since: a late retry timer does nothing
    assert.equal(r.joins.length, 4);
  });

  test("a failed first join keeps the events that arrived meanwhile", () => {
    const r = room();
    r.sequence.connected();
    r.sequence.event(event(3));
    r.sequence.joinFailed(r.lastJoin().ticket);
    assert.equal(r.sequence.event(event(4)), "ignored");
    r.sequence.retry();
    assert.equal(r.lastJoin().from, null);
    r.answer({ snapshot: snapshot(2) });
    assert.deepEqual(r.applied, [3]);
  });
});

describe("joining in the handshake", () => {
  // What live.js does: the handshake carries the join the sequence would send; the server's "joined"
  // message arrives before "connect", and the sequence's join on "connect" takes it.
  function tablet(r, handshake) {
    r.sequence._join = (from, ticket) => {
      r.joins.push({ from, ticket });
      const early = handshake.take(from);
      if (early) { r.sequence.joined(ticket, early); }
    };
  }

  test("a reconnection is answered by the handshake: no join is sent as an event", () => {
    const r = joinedAt(10);
    const handshake = new HandshakeJoin(MEETING);
    tablet(r, handshake);
    r.sequence.disconnected();
    const auth = handshake.auth(r.sequence.joinFrom);
    assert.deepEqual(auth, { join: { meeting_id: MEETING, last_seq: 10 }, attempt: 1 });
    // Before "connect": the answer, and room events broadcast once the server put the tablet in the room.
    assert.equal(handshake.answered({ attempt: 1, answer: { ok: true, events: [event(11), event(12)] } }), true);
    assert.equal(r.sequence.event(event(12)), "buffered");
    assert.equal(r.sequence.event(event(13)), "buffered");
    r.sequence.connected();
    assert.deepEqual(r.applied, [11, 12, 13]);
    assert.equal(r.sequence.joining, false);
    assert.equal(r.sequence.event(event(14)), "applied");
  });

  test("the first connection asks for a snapshot in its handshake", () => {
    const r = room();
    const handshake = new HandshakeJoin(MEETING);
    tablet(r, handshake);
    assert.deepEqual(handshake.auth(r.sequence.joinFrom).join, { meeting_id: MEETING, last_seq: null });
    handshake.answered({ attempt: 1, answer: { ok: true, snapshot: snapshot(5) } });
    r.sequence.event(event(6));
    r.sequence.connected();
    assert.deepEqual(r.snapshots, [5]);
    assert.deepEqual(r.applied, [6]);
  });

  test("an owed snapshot is asked for in the handshake too", () => {
    const r = joinedAt(10);
    r.sequence.event(event(11, { resync: true }));
    r.sequence.disconnected();
    assert.equal(r.sequence.joinFrom, null);
    assert.equal(new HandshakeJoin(MEETING).auth(r.sequence.joinFrom).join.last_seq, null);
  });

  test("an answer to an earlier attempt, or to another number, is not taken: the join is sent", () => {
    const handshake = new HandshakeJoin(MEETING);
    handshake.auth(10);
    handshake.auth(10);
    assert.equal(handshake.answered({ attempt: 1, answer: { ok: true, events: [] } }), false);
    assert.equal(handshake.take(10), null);
    handshake.answered({ attempt: 2, answer: { ok: true, events: [] } });
    assert.equal(handshake.take(11), null);
    handshake.answered({ attempt: 2, answer: { ok: true, events: [] } });
    assert.deepEqual(handshake.take(10), { ok: true, events: [] });
    assert.equal(handshake.take(10), null);  // once
  });

  test("a server that does not answer in the handshake: the join is sent as before", () => {
    const r = joinedAt(10);
    const handshake = new HandshakeJoin(MEETING);
    tablet(r, handshake);
    r.sequence.disconnected();
    handshake.auth(r.sequence.joinFrom);
    r.sequence.connected();
    assert.equal(r.sequence.joining, true);
    assert.equal(r.lastJoin().from, 10);
    r.answer({ events: [event(11)] });
    assert.deepEqual(r.applied, [11]);
  });

  test("a refusal in the handshake is handed over like a refused join", () => {
    const handshake = new HandshakeJoin(MEETING);
    handshake.auth(null);
    handshake.answered({ attempt: 1, answer: { ok: false, error: "not_found" } });
    assert.deepEqual(handshake.take(null), { ok: false, error: "not_found" });
  });

  test("odd messages are ignored without throwing", () => {
    const handshake = new HandshakeJoin(MEETING);
    assert.equal(handshake.take(null), null);  // no attempt yet
    handshake.auth(Number.NaN);
    for (const odd of [null, undefined, 3, "joined", [], {}, { attempt: "1" }, { attempt: 1 },
      { attempt: 1, answer: null }, { attempt: 1, answer: "ok" }]) {
      assert.equal(handshake.answered(odd), false);
    }
    assert.equal(handshake.take(null), null);
  });
});

describe("odd input never throws", () => {
  const odd = [
    undefined, null, 0, 1, "", "event", true, [], [1, 2], () => {}, Symbol("x"),
    {}, { meeting_id: MEETING }, { seq: 11 },
    { meeting_id: MEETING, seq: "11" }, { meeting_id: MEETING, seq: 11.5 }, { meeting_id: MEETING, seq: -1 },
    { meeting_id: MEETING, seq: NaN }, { meeting_id: MEETING, seq: Infinity }, { meeting_id: MEETING, seq: null },
    { meeting_id: MEETING, seq: 2 ** 53 }, { meeting_id: MEETING, seq: 1e300 }, { meeting_id: MEETING, seq: 11n },
    { meeting_id: MEETING, seq: { valueOf: () => 11 } }, { meeting_id: MEETING, seq: [11] },
    { meeting_id: MEETING, seq: true },
  ];

  test("events without a usable number are ignored, joined or not", () => {
    for (const state of ["idle", "joining", "joined"]) {
      const r = state === "idle" ? room() : state === "joining" ? room() : joinedAt(10);
      if (state === "joining") { r.sequence.connected(); }
      const joins = r.joins.length;
      for (const input of odd) {
        assert.doesNotThrow(() => r.sequence.event(input));
        assert.equal(r.sequence.event(input), "ignored");
        assert.doesNotThrow(() => r.sequence.sync(input));
        assert.equal(r.sequence.sync(input), "ignored");
      }
      assert.deepEqual(r.applied, []);
      assert.equal(r.sequence.buffered, 0);
      assert.equal(r.joins.length, joins);
    }
  });

  test("answers of an odd shape fail the join without throwing", () => {
    const answers = [
      undefined, null, 0, "ok", [], {}, { ok: true }, { snapshot: null }, { snapshot: "x" }, { snapshot: {} },
      { snapshot: { seq: "4" } }, { snapshot: { seq: -4 } }, { snapshot: { seq: 2 ** 60 } }, { events: "x" },
      { events: null }, { events: {} },
    ];
    for (const ack of answers) {
      const r = room();
      r.sequence.connected();
      assert.equal(r.sequence.joined(r.lastJoin().ticket, ack), "failed");
      assert.equal(r.sequence.lastSeq, null);
      assert.equal(r.sequence.joining, false);
      assert.equal(r.sequence.failures, 1);
    }
  });

  test("odd entries in a replay are skipped", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    r.answer({ events: [null, 3, "x", { seq: 11 }, event(11, {}, 8), { meeting_id: MEETING, seq: "11" }, event(11)] });
    assert.deepEqual(r.applied, [11, 12]);
  });

  test("odd tickets are ignored", () => {
    const r = joinedAt(10);
    r.sequence.event(event(12));
    for (const ticket of [undefined, null, "2", 0, -1, 99, NaN]) {
      assert.equal(r.sequence.joined(ticket, { ok: true, events: [event(11)] }), "stale");
      assert.equal(r.sequence.joinFailed(ticket), false);
    }
    assert.equal(r.sequence.joining, true);
  });

  test("numbers up to the largest exact one work; beyond it they are ignored", () => {
    const top = Number.MAX_SAFE_INTEGER;
    const r = joinedAt(top - 2);
    assert.equal(r.sequence.event(event(top - 1)), "applied");
    assert.equal(r.sequence.event(event(top)), "applied");
    assert.equal(r.sequence.event(event(top + 1)), "ignored");
    assert.equal(r.sequence.event(event(top + 2)), "ignored");
    assert.equal(r.sequence.sync({ meeting_id: MEETING, seq: top + 2 }), "ignored");
    assert.deepEqual(r.applied, [top - 1, top]);
    assert.equal(r.joins.length, 1);
  });

  test("payloads of any shape are handed to applyEvent: only a resync flag matters here", () => {
    const r = joinedAt(10);
    assert.equal(r.sequence.event({ meeting_id: MEETING, seq: 11 }), "applied");
    assert.equal(r.sequence.event({ meeting_id: MEETING, seq: 12, payload: null }), "applied");
    assert.equal(r.sequence.event({ meeting_id: MEETING, seq: 13, payload: "resync" }), "applied");
    assert.deepEqual(r.applied, [11, 12, 13]);
  });
});

describe("isSeq", () => {
  test("whole, non-negative, exact numbers only", () => {
    for (const ok of [0, 1, 42, Number.MAX_SAFE_INTEGER]) { assert.equal(isSeq(ok), true, String(ok)); }
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, "1", null, undefined, 1n, [1], {}]) {
      assert.equal(isSeq(bad), false, String(bad));
    }
  });
});

describe("joinRetryDelay", () => {
  const middle = () => 0.5;

  test("doubles from about a second up to thirty", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => joinRetryDelay(n, undefined, () => 1));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  test("jitter keeps it between half and all of the step", () => {
    assert.equal(joinRetryDelay(3, undefined, () => 0), 2000);
    assert.equal(joinRetryDelay(3, undefined, () => 1), 4000);
    for (let i = 0; i < 100; i++) {
      const d = joinRetryDelay(2, undefined);
      assert.ok(d >= 1000 && d <= 2000, String(d));
    }
  });

  test("an unavailable database is retried", () => {
    assert.equal(joinRetryDelay(1, { ok: false, error: "unavailable", message: "…" }, middle), 750);
  });

  test("the rate limit is waited out", () => {
    assert.equal(joinRetryDelay(1, { ok: false, error: "rate_limited", retry_after: 5 }, middle), 5000);
    assert.equal(joinRetryDelay(6, { ok: false, error: "rate_limited", retry_after: 1 }, () => 1), 30000);
    assert.equal(joinRetryDelay(1, { ok: false, error: "rate_limited", retry_after: 1e9 }, middle), 60000);
    assert.equal(joinRetryDelay(1, { ok: false, error: "rate_limited", retry_after: "5" }, middle), 750);
  });

  test("a refusal is not retried", () => {
    for (const error of ["refused", "forbidden", "invalid", "not_found", "not_signed_in", undefined]) {
      assert.equal(joinRetryDelay(1, { ok: false, error }), null, String(error));
    }
  });

  test("odd counts never throw and give a delay", () => {
    for (const n of [undefined, null, 0, -3, 1.7, NaN, Infinity, "2", 1e300]) {
      const d = joinRetryDelay(n, undefined, middle);
      assert.ok(Number.isFinite(d) && d >= 500 && d <= 30000, `${String(n)}: ${d}`);
    }
  });
});

describe("connectRetryDelay", () => {
  test("a busy or restarting server's refusal is tried again, backing off with jitter", () => {
    assert.equal(connectRetryDelay(1, "unavailable", () => 1), 1000);
    assert.equal(connectRetryDelay(3, "unavailable", () => 0), 2000);
    assert.equal(connectRetryDelay(9, "unavailable", () => 1), 30000);
    // A reason the client does not know (a newer server, a proxy's page) is tried again too.
    for (const reason of [undefined, null, "", "xhr poll error", "server error", 42]) {
      const d = connectRetryDelay(2, reason);
      assert.ok(d >= 1000 && d <= 2000, `${String(reason)}: ${d}`);
    }
  });

  test("an ended sign-in or a refused origin is not tried again", () => {
    assert.equal(connectRetryDelay(1, "not_signed_in"), null);
    assert.equal(connectRetryDelay(1, "origin_not_allowed"), null);
  });
});

describe("retryRefusedConnections", () => {
  // A socket.io-client socket as far as the helper sees it: its events, whether it is active or connected.
  function fakeSocket() {
    const handlers = {};
    return {
      active: false, connected: false, connects: 0,
      on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
      fire(name, arg) { (handlers[name] || []).forEach((fn) => fn(arg)); },
      connect() { this.connects += 1; },
    };
  }

  test("a refused connection is asked again after the delay, longer each time, and reset once in", () => {
    const socket = fakeSocket();
    const timers = [];
    const heard = [];
    retryRefusedConnections(socket, (wait, reason) => heard.push([wait, reason]), (fn, ms) => timers.push({ fn, ms }));
    socket.fire("connect_error", new Error("unavailable"));
    socket.fire("connect_error", new Error("unavailable"));
    assert.equal(timers.length, 2);
    assert.ok(timers[0].ms >= 500 && timers[0].ms <= 1000 && timers[1].ms >= 1000 && timers[1].ms <= 2000);
    timers[0].fn();
    assert.equal(socket.connects, 1);
    assert.deepEqual(heard.map((h) => h[1]), ["unavailable", "unavailable"]);
    socket.fire("connect");
    socket.fire("connect_error", new Error("unavailable"));
    assert.ok(timers[2].ms <= 1000);  // counted from one again
  });

  test("a network failure is left to the client; a connection made meanwhile is not asked again", () => {
    const socket = fakeSocket();
    const timers = [];
    retryRefusedConnections(socket, null, (fn, ms) => timers.push({ fn, ms }));
    socket.active = true;
    socket.fire("connect_error", new Error("websocket error"));
    assert.equal(timers.length, 0);
    socket.active = false;
    socket.fire("connect_error", new Error("unavailable"));
    socket.connected = true;
    timers[0].fn();
    assert.equal(socket.connects, 0);
  });

  test("an ended sign-in gives up and says so; an error without a message is tried again", () => {
    const socket = fakeSocket();
    const timers = [];
    const heard = [];
    retryRefusedConnections(socket, (wait) => heard.push(wait), (fn, ms) => timers.push({ fn, ms }));
    socket.fire("connect_error", new Error("not_signed_in"));
    assert.deepEqual(heard, [null]);
    assert.equal(timers.length, 0);
    socket.fire("connect_error", undefined);
    assert.equal(timers.length, 1);
  });
});
