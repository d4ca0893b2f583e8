// The order of a meeting's numbered room events (ecabinet/live/service/numbering.py): each event carries
// the meeting's next number; a tablet applies them in order, each once, and when it sees a gap it joins
// again with the last number it applied, so the server sends what it missed or a fresh snapshot
// (ecabinet/live/service/snapshots.py). No DOM here, and no socket but the ones handed in: live.js connects
// the callbacks.

/** A number the server can have given: a whole number, not negative, exactly representable. */
export function isSeq(value) {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

// Events kept while a join is under way. Beyond this the oldest are dropped: the gap they leave makes
// the next join fetch them, so memory stays bounded during a long outage.
export const MAX_BUFFER = 500;

function bySeq(a, b) { return a.seq - b.seq; }
function byEventSeq(a, b) { return a.event.seq - b.event.seq; }

/**
 * The sequence of one meeting's room events on one tablet.
 *
 * options.meetingId      the meeting of this room; events and syncs of other meetings are ignored
 * options.join(from, t)  send a join with last_seq `from` (null: a snapshot is wanted); its answer comes
 *                        back as joined(t, answer), or joinFailed(t) when it failed or timed out
 * options.applySnapshot(snapshot), options.applyEvent(event)
 *                        change the state; never called for an event already applied or out of order
 *
 * Only one join is under way at a time: the events arriving meanwhile are kept and applied after its
 * answer, those it already covered dropped. An answer to an older join (before a reconnection) is ignored.
 */
export class RoomSequence {
  constructor(options) {
    this.meetingId = options.meetingId;
    this._join = options.join;
    this._applySnapshot = options.applySnapshot;
    this._applyEvent = options.applyEvent;
    this._maxBuffer = options.maxBuffer || MAX_BUFFER;
    this._lastSeq = null;
    this._online = false;
    this._ticket = 0;
    this._pending = null;  // the ticket of the join under way
    this._buffer = [];  // { event, asked }: asked once a join was sent after it arrived
    this._announced = null;  // the latest number a `sync` announced while a join was under way
    this._snapshotOwed = false;  // a resync event, or a replay with a hole, was seen
    this.failures = 0;  // joins failed in a row
  }

  /** The number of the last event applied; null until the first snapshot. */
  get lastSeq() { return this._lastSeq; }

  /** Whether a join is under way. */
  get joining() { return this._pending !== null; }

  /** How many events wait for the join under way. */
  get buffered() { return this._buffer.length; }

  /** The number the next join asks from (null: a snapshot), as a handshake's join carries it. */
  get joinFrom() { return this._snapshotOwed ? null : this._lastSeq; }

  /**
   * The socket (re)connected: join, from the last number applied. The events that arrived on this
   * connection before it was confirmed (the server sends them as soon as the handshake's join put the
   * tablet in its room) are kept for the join's answer.
   */
  connected() {
    this._online = true;
    this._announced = null;
    return this._request();
  }

  /** The socket is gone: the answer to a join under way will never come, and the next join brings all. */
  disconnected() {
    this._online = false;
    this._pending = null;
    this._buffer = [];
    this._announced = null;
  }

  /**
   * A room event. Returns what was done with it: "applied", "resync" (it asked for a fresh snapshot),
   * "buffered" (a join is under way, or the connection is not confirmed yet: kept for the join's
   * answer), "gap" (a join was asked for), "duplicate", "stale" or "ignored" (another meeting, no
   * usable number, or not joined yet).
   */
  event(ev) {
    if (!this._ours(ev)) { return "ignored"; }
    if (this._pending !== null || !this._online) { this._keep(ev); return "buffered"; }
    if (this._lastSeq === null) { return "ignored"; }  // no state to apply it to: the next join brings it
    if (ev.seq <= this._lastSeq) { return ev.seq === this._lastSeq ? "duplicate" : "stale"; }
    if (ev.seq !== this._lastSeq + 1) {
      this._keep(ev);
      this._request();
      return "gap";
    }
    if (this._step(ev) === "resync") {
      this._requestSnapshot();
      return "resync";
    }
    if (this._buffer.length) { this._drain(); }
    return "applied";
  }

  /**
   * The server's latest number, announced after an outage of the message queue between its instances:
   * a tablet behind it joins now rather than at its next event. Returns "behind" (a join was asked for),
   * "current", "ahead", "pending" (checked when the join under way is answered) or "ignored".
   */
  sync(message) {
    if (!this._ours(message)) { return "ignored"; }
    if (this._pending !== null) {
      // The join under way may have been answered before the server knew this number.
      if (this._announced === null || message.seq > this._announced) { this._announced = message.seq; }
      return "pending";
    }
    if (this._lastSeq === null) { return "ignored"; }
    if (message.seq === this._lastSeq) { return "current"; }
    // Ahead: events broadcast after the server read its number can arrive before the announcement.
    if (message.seq < this._lastSeq) { return "ahead"; }
    this._request();
    return "behind";
  }

  /**
   * The answer to join `ticket`. Returns "applied" (a snapshot or events were applied: render), "stale"
   * (the answer to an older join, ignored) or "failed" (an answer without a usable snapshot or events).
   */
  joined(ticket, answer) {
    if (ticket !== this._pending) { return "stale"; }
    this._pending = null;
    const snapshot = answer && answer.snapshot;
    if (snapshot && typeof snapshot === "object" && isSeq(snapshot.seq)) {
      // The server's state is the reference, even behind the number this tablet had (a restored database).
      this._lastSeq = snapshot.seq;
      this._snapshotOwed = false;
      this._applySnapshot(snapshot);
    } else if (answer && Array.isArray(answer.events) && this._lastSeq !== null) {
      const events = answer.events.filter(this._ours, this).sort(bySeq);
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        if (ev.seq <= this._lastSeq) { continue; }
        if (ev.seq !== this._lastSeq + 1) {
          // The replay itself has a hole: asking the same again would bring the same hole.
          this.failures = 0;
          this._requestSnapshot();
          return "applied";
        }
        if (this._step(ev) === "resync") {
          this.failures = 0;
          this._requestSnapshot();  // the kept events wait for the snapshot
          return "applied";
        }
      }
    } else {
      this.failures += 1;
      return "failed";
    }
    this.failures = 0;
    this._drain();
    return "applied";
  }

  /** Join `ticket` failed (refused, timed out). Returns whether it was the join under way. */
  joinFailed(ticket) {
    if (ticket !== this._pending) { return false; }
    this._pending = null;
    this.failures += 1;
    return true;
  }

  /** Try again after a failed join, unless one is under way, succeeded since, or the socket is gone. */
  retry() {
    if (!this._online || this._pending !== null || this.failures === 0) { return false; }
    return this._request();
  }

  _ours(message) {
    return !!message && typeof message === "object" && message.meeting_id === this.meetingId && isSeq(message.seq);
  }

  _keep(ev) {
    this._buffer.push({ event: ev, asked: false });
    if (this._buffer.length > this._maxBuffer) { this._buffer.shift(); }
  }

  // A join from the last number applied, or for a snapshot while one is owed.
  _request() {
    if (!this._online) { return false; }
    this._ticket += 1;
    this._pending = this._ticket;
    this._buffer.forEach(function (kept) { kept.asked = true; });
    this._join(this._snapshotOwed ? null : this._lastSeq, this._ticket);
    return true;
  }

  // Owed until one is applied: a reconnection or a retry before then must not ask for events only.
  _requestSnapshot() {
    this._snapshotOwed = true;
    return this._request();
  }

  // The next event in order: its number is taken before it is applied, so that an error while applying
  // it cannot make it apply twice. An event marked `resync` (an agenda edit: a change the events do not
  // describe) is not applied: the caller asks for a snapshot.
  _step(ev) {
    this._lastSeq = ev.seq;
    if (ev.payload && ev.payload.resync) { return "resync"; }
    this._applyEvent(ev);
    return "applied";
  }

  // The events kept during a join, after its answer: the next ones in order are applied, the ones it
  // covered dropped; a gap before an event that arrived during the join, or a number announced meanwhile
  // and not reached, asks again.
  _drain() {
    const kept = this._buffer.sort(byEventSeq);
    this._buffer = [];
    for (let i = 0; i < kept.length; i++) {
      const ev = kept[i].event;
      if (ev.seq <= this._lastSeq) { continue; }
      if (ev.seq !== this._lastSeq + 1) {
        // It arrived before the join was sent, so the answer would have reached it: the server does not
        // have that number (its numbering went back, a restored database). Asking again would loop.
        if (kept[i].asked) { continue; }
        this._buffer = kept.slice(i);
        this._request();
        return;
      }
      if (this._step(ev) === "resync") {
        this._buffer = kept.slice(i + 1);
        this._requestSnapshot();
        return;
      }
    }
    const announced = this._announced;
    this._announced = null;
    if (announced !== null && announced > this._lastSeq) { this._request(); }
  }
}

/**
 * The join a tablet carries in its connection's handshake (Socket.IO's `auth`). The server decides it as
 * it decides the join event and answers with a "joined" message before it confirms the connection
 * (ecabinet/live/events.py), so a reconnecting tablet is back in its room after one round trip, and an
 * instance taking over the tablets of one that died makes one transaction for each, not two.
 *
 * auth(from)         the handshake's auth for a connection attempt that joins from `from` (null: a
 *                    snapshot); each attempt gets its own number, which the answer echoes
 * answered(message)  the "joined" message: kept when it answers the latest attempt
 * take(from)         the sequence's join on "connect": the kept answer when it answers a join from
 *                    `from`, once; null otherwise, and the join is then sent as an event
 */
export class HandshakeJoin {
  constructor(meetingId) {
    this.meetingId = meetingId;
    this._attempt = 0;
    this._from = null;
    this._answer = null;
  }

  auth(from) {
    this._attempt += 1;
    this._from = isSeq(from) ? from : null;
    this._answer = null;
    return { join: { meeting_id: this.meetingId, last_seq: this._from }, attempt: this._attempt };
  }

  answered(message) {
    if (!message || typeof message !== "object" || message.attempt !== this._attempt) { return false; }
    if (!message.answer || typeof message.answer !== "object") { return false; }
    this._answer = message.answer;
    return true;
  }

  take(from) {
    const answer = this._answer;
    this._answer = null;
    return answer !== null && this._attempt > 0 && from === this._from ? answer : null;
  }
}

/**
 * How long to wait before joining again after a failed join, in milliseconds, or null when waiting
 * would not help (a refusal). `failures` counts the failures in a row (1 for the first); `answer` is the
 * server's answer, undefined when there was none (timed out). Doubles from about 1 s up to 30 s, with
 * jitter so that the tablets of a room do not all come back at the same moment.
 */
export function joinRetryDelay(failures, answer, random) {
  const error = answer && answer.error;
  if (answer && error !== "unavailable" && error !== "rate_limited") { return null; }
  const n = typeof failures === "number" && failures >= 1 ? Math.min(Math.floor(failures), 6) : 1;
  const ms = Math.min(30000, 1000 * Math.pow(2, n - 1));
  let jittered = Math.round(ms / 2 + (random || Math.random)() * ms / 2);
  const wait = answer && answer.retry_after;
  if (error === "rate_limited" && typeof wait === "number" && wait > 0) {
    // The server says when a token is back: asking sooner is refused again (and, repeated, disconnects).
    jittered = Math.max(jittered, Math.min(wait, 60) * 1000);
  }
  return jittered;
}

/**
 * How long to wait before connecting again after the server refused the connection, in milliseconds,
 * or null when trying again cannot help (the sign-in has ended, or the page's origin is not allowed).
 * socket.io-client retries on its own after a network failure, but not after a refusal: without this a
 * tablet refused once (a busy or restarting server answers "unavailable") would stay offline until
 * the page is reloaded. `failures` counts the refusals in a row; `reason` is the refusal's message.
 */
export function connectRetryDelay(failures, reason, random) {
  if (reason === "not_signed_in" || reason === "origin_not_allowed") { return null; }
  return joinRetryDelay(failures, { error: "unavailable" }, random);
}

/**
 * Keep a Socket.IO client asking after the server refused its connection, by connectRetryDelay, until it
 * gets in or the refusal says waiting cannot help. `onRefused(wait, reason)` hears each refusal (`wait`
 * null: given up). The live room, the room display and the benchmark's tablets all use it, so they
 * behave alike; `later` stands for setTimeout in tests.
 */
export function retryRefusedConnections(socket, onRefused, later) {
  let refusals = 0;
  const wait = later || setTimeout;
  socket.on("connect", () => { refusals = 0; });
  socket.on("connect_error", (err) => {
    if (socket.active) { return; }  // a network failure: the client tries again on its own
    refusals += 1;
    const reason = err && err.message;
    const delay = connectRetryDelay(refusals, reason);
    if (onRefused) { onRefused(delay, reason); }
    if (delay !== null) {
      wait(() => { if (!socket.connected && !socket.active) { socket.connect(); } }, delay);
    }
  });
}
