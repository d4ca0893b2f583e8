// Load driver for bench/bench_scaleout.py: many meetings at once, through HAProxy, with socket.io-client.
//
//   node scaleout.mjs CONFIG.json      → one JSON object on stdout; progress on stderr
//
// CONFIG (written by bench_scaleout.py):
//   url               the proxy's address (every tablet and chair goes through it)
//   meetings          [{ id, name, itemIds, chairCookie, cookies: [Cookie header per tablet] }]; each
//                     Cookie header holds the tablet's own sign-in session and HAProxy's ECSERVER cookie
//   instances         [{ name, masterPid, workerPid }]: HAProxy's server name (the ECSERVER value) and
//                     the gunicorn processes behind it, for CPU time and memory from /proc and for --kill
//   haproxyPid        the proxy's pid (its CPU time)
//   rounds, interval (s), warmupRounds, roundTimeout (s), connectConcurrency, userAgent, clkTck, pollingFirst
//   kill              null, or { failoverRounds, recoveryTimeout (s) }: after the measured rounds, SIGKILL
//                     the instance holding the most tablets that does not hold the plenary's chair, keep
//                     the chairs acting for failoverRounds rounds, and time the recovery
//   drivers           Node processes holding the tablets (default 1). With more, this process keeps the
//                     chairs and its share of every meeting's tablets and starts the others
//                     (`node scaleout.mjs CONFIG.json --helper K`), which report arrivals and each
//                     tablet's state to it every 20 ms; times are then wall-clock times
//                     (performance.timeOrigin + performance.now()), comparable between processes.
//
// Each tablet is a browser: socket.io-client with live.js's transports (WebSocket first, long-polling
// when it fails; `pollingFirst` in CONFIG starts with long-polling and then upgrades), its Origin, its
// User-Agent and a cookie jar that it keeps across reconnections (a browser's jar: the session cookie,
// and HAProxy's ECSERVER cookie, replaced when the proxy moves the tablet to another instance). On every
// "connect" it joins its meeting with the last event number it applied, as
// static/js/live.js does; it applies events in order, ignores duplicates, and on a gap (or a "sync"
// announcing a later number) joins again with its last number. In every meeting a chair's console moves
// the current item (chair.set_item) once per round; the chairs' actions are staggered over the round.
// Each tablet's agenda.current_item is timed from just before its chair's emit.
import { fork } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Socket as Engine, NodeWebSocket } from "engine.io-client";
import { io } from "socket.io-client";
import { HandshakeJoin, retryRefusedConnections } from "../../static/js/live-sequence.js";
import { logger, ms, percentile, procCpuMs as cpuOf, procMib, readConfig, report, sleep, stats, wallMs as now } from "./common.mjs";

const cfg = readConfig();
const HELPER = process.argv[3] === "--helper" ? Number(process.argv[4]) : null;
const DRIVERS = Math.max(1, cfg.drivers || 1);
// Times are wall-clock milliseconds (now()): the same clock in every driver process.
const started = now();
const log = logger("scaleout");
const sec = (v) => (v === null || v === undefined ? null : Math.round(v / 10) / 100);
const COOKIE = "ECSERVER";
const procCpuMs = (pid) => cpuOf(pid, cfg.clkTck);

// --- processes: CPU time and memory (common.mjs reads /proc) ----------------------------------------
function sampleInstances() {
  const out = {};
  for (const inst of cfg.instances) {
    out[inst.name] = { cpu_ms: procCpuMs(inst.workerPid), rss_mib: procMib(inst.workerPid, "VmRSS"),
                       hwm_mib: procMib(inst.workerPid, "VmHWM") };
  }
  return out;
}

// --- a browser's cookie jar, kept across reconnections -----------------------------------------------
// engine.io-client keeps cookies in Node only with withCredentials, in a jar of each engine (a new one
// per reconnection). A browser keeps its jar: each engine here takes its tablet's jar instead.
class Jar {
  constructor(header) {
    this._cookies = new Map();
    for (const part of (header || "").split(";")) {
      const i = part.indexOf("=");
      if (i > 0) this._cookies.set(part.slice(0, i).trim(), { value: part.slice(i + 1).trim() });
    }
  }

  get(name) {
    return this._cookies.get(name)?.value ?? null;
  }

  parseCookies(values) {
    if (!values) return;
    for (const line of Array.isArray(values) ? values : [values]) {
      const [pair, ...attrs] = String(line).split(";");
      const i = pair.indexOf("=");
      if (i <= 0) continue;
      const name = pair.slice(0, i).trim();
      let gone = false;
      for (const attr of attrs) {
        const [k, v = ""] = attr.split("=");
        const key = k.trim().toLowerCase();
        if (key === "max-age" && !(Number.parseInt(v, 10) > 0)) gone = true;
        if (key === "expires" && !(new Date(v.trim()).getTime() > Date.now())) gone = true;
      }
      if (gone) this._cookies.delete(name);
      else this._cookies.set(name, { value: pair.slice(i + 1).trim().replace(/^"(.*)"$/, "$1") });
    }
  }

  get cookies() {
    return this._cookies.entries();
  }

  header() {
    return [...this._cookies].map(([k, c]) => `${k}=${c.value}`).join("; ");
  }

  addCookies(xhr) {
    const header = this.header();
    if (header) {
      xhr.setDisableHeaderCheck(true);
      xhr.setRequestHeader("cookie", header);
    }
  }

  appendCookies(headers) {
    for (const [k, c] of this._cookies) headers.append("cookie", `${k}=${c.value}`);
  }
}

// In Node the WebSocket transport sends the jar's cookies but does not read the 101 answer's: a browser
// does (HAProxy's ECSERVER cookie names the instance a redispatched tablet now talks to).
const createWebSocket = NodeWebSocket.prototype.createSocket;
NodeWebSocket.prototype.createSocket = function createSocket(uri, protocols, opts) {
  const sock = createWebSocket.call(this, uri, protocols, opts);
  const jar = this.socket?._cookieJar;
  if (jar) sock.on("upgrade", (res) => jar.parseCookies(res.headers["set-cookie"]));
  return sock;
};

const engineOpen = Engine.prototype._open;
Engine.prototype._open = function open() {
  if (this.opts.tabletJar) this._cookieJar = this.opts.tabletJar;
  return engineOpen.call(this);
};

// --- one meeting: its tablets, its chair, its actions --------------------------------------------------
class Room {
  constructor(spec, index) {
    Object.assign(this, spec);
    this.index = index;
    this.tablets = [];
    this.chair = null;
    this.actions = new Map(); // seq → { tEmit, phase, times: Float64Array, via: Uint8Array (1 live, 2 replay) }
    this.latestAcked = 0; // the meeting's last event number acknowledged to its chair
    this.moves = 0;
    this.failedActions = [];
  }

  action(seq) {
    let rec = this.actions.get(seq);
    if (!rec) {
      rec = { tEmit: null, phase: null, times: new Float64Array(this.cookies.length).fill(NaN),
              via: new Uint8Array(this.cookies.length), count: 0, duplicates: 0 };
      this.actions.set(seq, rec);
    }
    return rec;
  }

  arrived(index, seq, time, via) {
    if (index < 0) return;
    const rec = this.action(seq);
    if (rec.via[index]) {
      rec.duplicates += 1;
      return;
    }
    rec.times[index] = time;
    rec.via[index] = via;
    rec.count += 1;
  }

  async act(phase) {
    const chair = this.chair;
    const item = this.itemIds[(this.moves + 2) % this.itemIds.length];
    this.moves += 1;
    // A chair whose instance was killed acts once it is back (a person waits for the console to return).
    const waitStart = now();
    while (!chair.socket.connected && now() - waitStart < (cfg.roundTimeout || 20) * 1000) await sleep(0.05);
    const waited = now() - waitStart;
    const tEmit = now();
    try {
      const ack = await chair.socket.timeout((cfg.roundTimeout || 20) * 1000)
        .emitWithAck("chair.set_item", { meeting_id: this.id, item_id: item });
      if (!ack?.ok) throw new Error(`refused: ${JSON.stringify(ack).slice(0, 160)}`);
      const rec = this.action(ack.seq);
      Object.assign(rec, { tEmit, tAck: now(), phase, waited });
      this.latestAcked = Math.max(this.latestAcked, ack.seq);
      return ack.seq;
    } catch (err) {
      this.failedActions.push(`${phase}: ${String(err.message || err).slice(0, 160)}`);
      return null;
    }
  }

  joined() {
    return this.tablets.filter((t) => t.joins > 0).length;
  }
}

class Tablet {
  constructor(room, index, cookie) {
    Object.assign(this, { room, index });
    this.jar = new Jar(cookie);
    this.lastSeq = null;
    this.pending = new Map();
    this.joins = 0;
    this.joining = false;
    this.rejoinWanted = false;
    this.gaps = 0;
    this.duplicates = 0;
    this.drops = 0;
    this.lastDrop = null;
    this.joinedAt = null;
    this.firstJoin = null;
    this.errors = [];
    this.snapshotsAfterFirst = 0;
    this.eventJoins = 0; // joins sent as an event: no usable answer came with the handshake
  }

  server() {
    return this.jar.get(COOKIE);
  }

  connected() {
    return !!this.socket?.connected;
  }

  transport() {
    return this.socket?.io?.engine?.transport?.name || "(closed)";
  }

  errorCount() {
    return this.errors.length;
  }

  // What the process holding the chairs needs to know of a tablet held by a helper process.
  state() {
    return { lastSeq: this.lastSeq, joins: this.joins, joinedAt: this.joinedAt, joining: this.joining,
             connected: this.connected(), server: this.server(), firstJoin: this.firstJoin, gaps: this.gaps,
             duplicates: this.duplicates, lastDropAt: this.lastDrop?.at ?? null, errors: this.errors.length,
             errorSample: this.errors[0] ?? null, snapshotsAfterFirst: this.snapshotsAfterFirst,
             eventJoins: this.eventJoins, transport: this.transport() };
  }

  touch() {
    if (HELPER !== null && this.index >= 0) dirty.add(this);
  }

  start() {
    const url = cfg.url;
    // As live.js: each connection's handshake carries the join, from the last number applied.
    this.handshake = new HandshakeJoin(this.room.id);
    this.online = false;
    this.socket = io(url, {
      forceNew: true, // one engine.io connection per tablet, as one browser tab
      // live.js's order: WebSocket first, long-polling where a network refuses it (--polling-first)
      transports: cfg.pollingFirst ? ["polling", "websocket"] : ["websocket", "polling"],
      withCredentials: true,
      tabletJar: this.jar,
      extraHeaders: { Origin: url, "User-Agent": cfg.userAgent },
      // socket.io-client's defaults, and live.js's reconnectionDelayMax
      reconnection: true, reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0.5,
      timeout: 20000,
      perMessageDeflate: { threshold: 0 }, // a browser offers compression and compresses what it sends
      auth: (send) => send(this.handshake.auth(this.lastSeq)),
    });
    this.socket.on("joined", (message) => this.handshake.answered(message));
    this.socket.on("connect", () => {
      this.online = true;
      this.touch();
      this.join();
    });
    // As live.js: a connection the server refused (busy, restarting) is asked again after a pause;
    // socket.io-client only retries network failures on its own.
    retryRefusedConnections(this.socket, (wait, reason) => {
      this.errors.push(`connection refused: ${String(reason).slice(0, 120)}`);
      this.touch();
    });
    this.socket.io.on("upgrade", () => this.touch());
    this.socket.on("event", (ev) => this.onEvent(ev));
    this.socket.on("sync", (s) => {
      if (s?.meeting_id === this.room.id && this.lastSeq !== null && s.seq > this.lastSeq) this.requestJoin();
    });
    this.socket.on("disconnect", (reason) => {
      this.online = false;
      this.drops += 1;
      this.lastDrop = { reason, at: now() };
      this.touch();
    });
    return new Promise((resolve) => {
      this.onFirstJoin = resolve;
    });
  }

  requestJoin() {
    if (this.joining) this.rejoinWanted = true;
    else this.join();
  }

  async join() {
    if (this.joining) {
      this.rejoinWanted = true;
      return;
    }
    this.joining = true;
    try {
      let ack = this.handshake.take(this.lastSeq);
      if (ack === null) {
        this.eventJoins += 1;
        ack = await this.socket.timeout(60000).emitWithAck("join", { meeting_id: this.room.id, last_seq: this.lastSeq });
      }
      if (!ack?.ok) throw new Error(`join refused: ${JSON.stringify(ack).slice(0, 160)}`);
      if (ack.snapshot) {
        if (this.lastSeq !== null) this.snapshotsAfterFirst += 1;
        this.lastSeq = Math.max(this.lastSeq ?? 0, ack.snapshot.seq);
      }
      for (const ev of ack.events || []) this.apply(ev, 2);
      this.drain();
      this.joins += 1;
      this.joinedAt = now();
      this.joinedServer = this.server();
      if (this.onFirstJoin) {
        this.onFirstJoin(true);
        this.onFirstJoin = null;
      }
    } catch (err) {
      this.errors.push(String(err.message || err).slice(0, 160));
      // A join without an answer (the instance died meanwhile) is tried again on the next connect;
      // on a live socket, after a pause.
      if (this.socket.connected) setTimeout(() => this.requestJoin(), 1000);
    } finally {
      this.joining = false;
      this.touch();
      if (this.rejoinWanted) {
        this.rejoinWanted = false;
        if (this.socket.connected) this.join();
      }
    }
  }

  onEvent(ev) {
    if (!ev || typeof ev.seq !== "number") return;
    if (this.lastSeq === null || this.joining || !this.online) {
      // Before (or during) a join's answer, or before the connection is confirmed (events the room sent
      // once the handshake's join put the tablet in it): kept until the answer says where it stands.
      this.pending.set(ev.seq, ev);
      if (this.lastSeq !== null) this.drain();
      return;
    }
    if (ev.seq <= this.lastSeq) {
      this.duplicates += 1;
      this.touch();
      return;
    }
    if (ev.seq > this.lastSeq + 1) {
      this.gaps += 1;
      this.touch();
      this.pending.set(ev.seq, ev);
      this.requestJoin();
      return;
    }
    this.apply(ev, 1);
    this.drain();
  }

  apply(ev, via) {
    if (ev.seq <= (this.lastSeq ?? 0)) return;
    this.lastSeq = ev.seq;
    this.touch();
    if (ev.type !== "agenda.current_item" || this.index < 0) return;
    if (HELPER === null) this.room.arrived(this.index, ev.seq, now(), via);
    else arrivals.push([this.room.index, this.index, ev.seq, now(), via]);
  }

  drain() {
    while (this.pending.has(this.lastSeq + 1)) {
      const ev = this.pending.get(this.lastSeq + 1);
      this.pending.delete(this.lastSeq + 1);
      this.apply(ev, 1);
    }
    for (const seq of this.pending.keys()) if (seq <= this.lastSeq) this.pending.delete(seq);
  }
}

// A tablet held by a helper process, as its batches describe it.
class RemoteTablet {
  constructor(room, index, driver) {
    Object.assign(this, { room, index, driver });
    Object.assign(this, { lastSeq: null, joins: 0, joinedAt: null, joining: false, firstJoin: null, gaps: 0,
                          duplicates: 0, lastDrop: null, snapshotsAfterFirst: 0, eventJoins: 0 });
    this.s = { connected: false, server: null, errors: 0, errorSample: null, transport: "(closed)" };
  }

  update(state) {
    const { lastDropAt, ...rest } = state;
    this.s = rest;
    for (const k of ["lastSeq", "joins", "joinedAt", "joining", "firstJoin", "gaps", "duplicates",
                     "snapshotsAfterFirst", "eventJoins"]) this[k] = state[k];
    this.lastDrop = lastDropAt === null ? null : { at: lastDropAt };
  }

  server() { return this.s.server; }
  connected() { return this.s.connected; }
  transport() { return this.s.transport; }
  errorCount() { return this.s.errors; }
}

const dirty = new Set(); // helper: tablets whose state changed since the last batch
const arrivals = []; // helper: [room, tablet, seq, time, via] since the last batch

const eld = monitorEventLoopDelay({ resolution: 10 });

function spread(tablets) {
  const out = {};
  for (const inst of cfg.instances) out[inst.name] = 0;
  for (const t of tablets) {
    const name = t.server() || "(none)";
    out[name] = (out[name] || 0) + 1;
  }
  return out;
}

// Which driver process holds tablet i of a meeting: every meeting is spread over all of them.
const driverOf = (room, i) => (i + room.index) % DRIVERS;

// The tablets (and, in the main process, the chairs) this process holds; the others' as RemoteTablets.
function buildTablets(rooms) {
  const queue = [];
  const me = HELPER ?? 0;
  for (const room of rooms) {
    if (HELPER === null) {
      room.chair = new Tablet(room, -1, room.chairCookie);
      queue.push(room.chair);
    }
    room.cookies.forEach((cookie, i) => {
      const d = driverOf(room, i);
      if (d === me) {
        const t = new Tablet(room, i, cookie);
        room.tablets.push(t);
        queue.push(t);
      } else {
        room.tablets.push(new RemoteTablet(room, i, d));
      }
    });
  }
  // Tablets arrive interleaved across meetings, as people do in many rooms at once.
  queue.sort((a, b) => a.index - b.index || a.room.index - b.room.index);
  return queue;
}

async function connectQueue(queue) {
  let next = 0;
  let done = 0;
  const failures = [];
  const t0 = now();
  const progress = setInterval(() => {
    if (HELPER === null) {
      log(`  ${done}/${queue.length} joined here, ${failures.length} failed, ${Math.round((now() - t0) / 1000)} s`);
    }
  }, 5000);
  const worker = async () => {
    while (next < queue.length) {
      const t = queue[next++];
      const s = now();
      const ok = await Promise.race([t.start(), sleep(cfg.joinTimeout || 60).then(() => false)]);
      if (ok) {
        t.firstJoin = now() - s;
        done += 1;
      } else {
        failures.push(t.errors[0] || "no join within the time limit");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.round((cfg.connectConcurrency || 50) / DRIVERS)) }, worker));
  clearInterval(progress);
  return { seconds: (now() - t0) / 1000, failures, queue };
}

// --- helper processes ----------------------------------------------------------------------------------
const helpers = [];

function startHelpers(rooms) {
  for (let k = 1; k < DRIVERS; k++) {
    const child = fork(new URL(import.meta.url).pathname, [process.argv[2], "--helper", String(k)],
                       { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const helper = { k, child, waiting: new Map() };
    child.on("message", (msg) => {
      if (msg.type === "batch") {
        for (const [r, i, seq, time, via] of msg.arrivals) rooms[r].arrived(i, seq, time, via);
        for (const [r, i, state] of msg.states) rooms[r].tablets[i].update(state);
      } else if (helper.waiting.has(msg.type)) {
        helper.waiting.get(msg.type)(msg);
        helper.waiting.delete(msg.type);
      }
    });
    child.on("exit", (code) => { if (code) log(`helper ${k} exited with ${code}`); });
    helpers.push(helper);
  }
}

function ask(helper, cmd, answer) {
  return new Promise((resolve) => {
    helper.waiting.set(answer, resolve);
    helper.child.send({ cmd });
  });
}

async function connectAll(rooms) {
  const queue = buildTablets(rooms);
  startHelpers(rooms);
  const t0 = now();
  const [local, ...remote] = await Promise.all([connectQueue(queue), ...helpers.map((h) => ask(h, "connect", "connected"))]);
  await sleep(0.1); // the helpers' last batches
  return { seconds: (now() - t0) / 1000, failures: [...local.failures, ...remote.flatMap((r) => r.failures)] };
}

async function clientUsage(since) {
  // This process's CPU and event-loop lag since `since`, and each helper's since its last "mark".
  const own = process.cpuUsage(since);
  const rows = [{ driver: 0, cpu_ms: ms((own.user + own.system) / 1000), loop_lag_max_ms: ms(eld.max / 1e6),
                  loop_lag_p99_ms: ms(eld.percentile(99) / 1e6),
                  rss_mib: Math.round(process.memoryUsage().rss / 1048576) }];
  for (const h of helpers) rows.push((await ask(h, "report", "report")).usage);
  return rows;
}

async function helperMain() {
  const rooms = cfg.meetings.map((spec, i) => new Room(spec, i));
  const queue = buildTablets(rooms);
  eld.enable();
  let since = process.cpuUsage();
  const flush = () => {
    if (!arrivals.length && !dirty.size) return;
    const states = [...dirty].map((t) => [t.room.index, t.index, t.state()]);
    dirty.clear();
    process.send({ type: "batch", arrivals: arrivals.splice(0), states });
  };
  const timer = setInterval(flush, 20);
  process.on("disconnect", () => process.exit(1)); // the main driver is gone
  process.on("message", async (msg) => {
    if (msg.cmd === "connect") {
      const res = await connectQueue(queue);
      flush();
      process.send({ type: "connected", failures: res.failures });
    } else if (msg.cmd === "mark") {
      since = process.cpuUsage();
      eld.reset();
    } else if (msg.cmd === "report") {
      const used = process.cpuUsage(since);
      process.send({ type: "report", usage: { driver: HELPER, cpu_ms: ms((used.user + used.system) / 1000),
                                               loop_lag_max_ms: ms(eld.max / 1e6),
                                               loop_lag_p99_ms: ms(eld.percentile(99) / 1e6),
                                               rss_mib: Math.round(process.memoryUsage().rss / 1048576) } });
    } else if (msg.cmd === "close") {
      clearInterval(timer);
      for (const t of queue) t.socket?.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
}

async function runRound(rooms, phase) {
  // Every meeting acts once; the chairs' emits are spread over 80 % of the round.
  const interval = (cfg.interval || 2) * 1000;
  const t0 = now();
  const acts = rooms.map(async (room, i) => {
    const at = (i / rooms.length) * interval * 0.8;
    const wait = at - (now() - t0);
    if (wait > 0) await sleep(wait / 1000);
    return room.act(phase);
  });
  const seqs = await Promise.all(acts);
  const rest = interval - (now() - t0);
  if (rest > 0) await sleep(rest / 1000);
  return seqs;
}

async function waitDelivered(rooms, phases, timeoutS) {
  const deadline = now() + timeoutS * 1000;
  while (now() < deadline) {
    let missing = 0;
    for (const room of rooms) {
      const expected = room.joined();
      for (const rec of room.actions.values()) if (phases.includes(rec.phase) && rec.count < expected) missing += 1;
    }
    if (!missing) return true;
    await sleep(0.05);
  }
  return false;
}

function meetingReport(room, phases) {
  const lat = [];
  let expected = 0;
  let received = 0;
  let replayed = 0;
  let duplicates = 0;
  const joined = room.tablets.filter((t) => t.joins > 0);
  for (const rec of room.actions.values()) {
    if (!phases.includes(rec.phase) || rec.tEmit === null) continue;
    expected += joined.length;
    duplicates += rec.duplicates;
    for (const t of joined) {
      const v = rec.via[t.index];
      if (!v) continue;
      received += 1;
      if (v === 2) replayed += 1;
      else lat.push(rec.times[t.index] - rec.tEmit);
    }
  }
  return { meeting: room.name, tablets: room.cookies.length, joined: joined.length, actions: [...room.actions.values()]
    .filter((r) => phases.includes(r.phase) && r.tEmit !== null).length, expected, received, replayed, duplicates,
           lost: expected - received, latency_ms: stats(lat), samples: lat };
}

async function main() {
  const out = { meetings: cfg.meetings.length, tablets: cfg.meetings.reduce((n, m) => n + m.cookies.length, 0) };
  const rooms = cfg.meetings.map((spec, i) => new Room(spec, i));
  const all = () => rooms.flatMap((r) => r.tablets);
  eld.enable();
  try {
    const cpu0 = sampleInstances();
    const proxy0 = procCpuMs(cfg.haproxyPid);
    const client0 = process.cpuUsage();
    const joined = await connectAll(rooms);
    const tablets = all();
    const joinTimes = tablets.filter((t) => t.firstJoin !== null).map((t) => t.firstJoin);
    const cpu1 = sampleInstances();
    out.setup = {
      connect_and_join_s: Math.round(joined.seconds * 10) / 10,
      joined: tablets.filter((t) => t.joins > 0).length,
      chairs_joined: rooms.filter((r) => r.chair.joins > 0).length,
      failures: joined.failures.length, failure_samples: [...new Set(joined.failures)].slice(0, 5),
      per_tablet_ms: stats(joinTimes),
      transports: tablets.reduce((acc, t) => {
        const name = t.transport();
        acc[name] = (acc[name] || 0) + 1;
        return acc;
      }, {}),
      instance_cpu_s: Object.fromEntries(cfg.instances.map((i) => [i.name, sec(cpu1[i.name].cpu_ms - cpu0[i.name].cpu_ms)])),
    };
    out.spread = { tablets: spread(tablets), chairs: spread(rooms.map((r) => r.chair)),
                   plenary_chair: rooms[0].chair.server() };
    log(`${out.setup.joined}/${tablets.length} tablets joined in ${out.setup.connect_and_join_s} s; ` +
        `spread ${JSON.stringify(out.spread.tablets)}; transports ${JSON.stringify(out.setup.transports)}`);
    // Wait for the upgrades to finish (a polling tablet upgrades within a moment of its handshake).
    for (let i = 0; i < 100 && tablets.some((t) => t.transport() === "polling"); i++) await sleep(0.1);
    await sleep(1);

    for (let r = 0; r < (cfg.warmupRounds ?? 1); r++) await runRound(rooms, "warmup");
    await waitDelivered(rooms, ["warmup"], cfg.roundTimeout || 20);
    const cpuRounds0 = sampleInstances();
    const proxyRounds0 = procCpuMs(cfg.haproxyPid);
    const clientRounds0 = process.cpuUsage();
    eld.reset();
    for (const h of helpers) h.child.send({ cmd: "mark" });
    const roundRows = [];
    for (let r = 0; r < cfg.rounds; r++) {
      const t = now();
      const seqs = await runRound(rooms, "measured");
      roundRows.push({ round: r + 1, acted: seqs.filter((s) => s !== null).length, wall_ms: ms(now() - t) });
      log(`round ${r + 1}/${cfg.rounds}: ${roundRows.at(-1).acted}/${rooms.length} meetings acted`);
    }
    out.all_delivered = await waitDelivered(rooms, ["measured"], cfg.roundTimeout || 20);
    const cpuRounds1 = sampleInstances();
    const usage = await clientUsage(clientRounds0);
    out.rounds = roundRows;
    // Per driver process and round: its CPU, and the worst delay of its event loop (a timer's lateness).
    out.client = { drivers: DRIVERS,
                   cpu_ms_per_round: ms(Math.max(...usage.map((u) => u.cpu_ms)) / Math.max(1, cfg.rounds)),
                   loop_lag_max_ms: Math.max(...usage.map((u) => u.loop_lag_max_ms)),
                   loop_lag_p99_ms: Math.max(...usage.map((u) => u.loop_lag_p99_ms)), per_driver: usage };
    out.instances = Object.fromEntries(cfg.instances.map((inst) => {
      const a = cpuRounds0[inst.name];
      const b = cpuRounds1[inst.name];
      return [inst.name, { tablets: out.spread.tablets[inst.name] || 0,
                           cpu_s_joins: out.setup.instance_cpu_s[inst.name],
                           cpu_s_rounds: sec(b.cpu_ms - a.cpu_ms),
                           cpu_ms_per_round: ms((b.cpu_ms - a.cpu_ms) / Math.max(1, cfg.rounds)),
                           cpu_s_total: sec(b.cpu_ms - cpu0[inst.name].cpu_ms),
                           rss_mib: b.rss_mib, peak_rss_mib: b.hwm_mib }];
    }));
    out.haproxy_cpu_s = { total: sec(procCpuMs(cfg.haproxyPid) - proxy0),
                          rounds: sec(procCpuMs(cfg.haproxyPid) - proxyRounds0) };
    const client1 = process.cpuUsage(client0);
    out.client.main_cpu_s_total = Math.round((client1.user + client1.system) / 1e4) / 100;
    out.client.rss_mib = usage.reduce((n, u) => n + u.rss_mib, 0);
    out.per_meeting = rooms.map((room) => meetingReport(room, ["measured"]));

    if (cfg.kill) out.failover = await failover(rooms);

    // Every tablet holds the current state: its meeting's last number.
    await sleep(0.5);
    const behind = tablets.filter((t) => t.lastSeq !== t.room.latestAcked);
    out.final = { tablets_current: tablets.length - behind.length, tablets: tablets.length,
                  behind_samples: behind.slice(0, 5).map((t) => `${t.room.name}#${t.index}: ${t.lastSeq} < ${t.room.latestAcked}`),
                  gaps_detected: tablets.reduce((n, t) => n + t.gaps, 0),
                  duplicates_ignored: tablets.reduce((n, t) => n + t.duplicates, 0),
                  snapshots_on_rejoin: tablets.reduce((n, t) => n + t.snapshotsAfterFirst, 0),
                  joins_by_event: tablets.reduce((n, t) => n + t.eventJoins, 0),
                  failed_chair_actions: rooms.flatMap((r) => r.failedActions.map((f) => `${r.name}: ${f}`)).slice(0, 10),
                  failed_chair_action_count: rooms.reduce((n, r) => n + r.failedActions.length, 0),
                  join_errors: tablets.reduce((n, t) => n + t.errorCount(), 0),
                  spread_after: spread(tablets) };
  } catch (err) {
    out.error = String(err.stack || err).slice(0, 600);
    log(`error: ${out.error}`);
  } finally {
    for (const room of rooms) {
      if (room.chair) room.chair.socket?.close();
      for (const t of room.tablets) t.socket?.close();
    }
    for (const h of helpers) if (h.child.connected) h.child.send({ cmd: "close" });
  }
  out.elapsed_s = Math.round((now() - started) / 100) / 10;
  for (const m of out.per_meeting || []) delete m.samples;
  report(out);
}

async function failover(rooms) {
  const tablets = rooms.flatMap((r) => r.tablets);
  const counts = spread(tablets);
  const plenaryChair = rooms[0].chair.server();
  const candidates = cfg.instances.filter((i) => i.name !== plenaryChair);
  if (!candidates.length) return { error: "every instance holds the plenary's chair" };
  const victim = candidates.reduce((a, b) => ((counts[b.name] || 0) > (counts[a.name] || 0) ? b : a));
  const moved = tablets.filter((t) => t.server() === victim.name);
  const movedSet = new Set(moved);
  const movedChairs = rooms.filter((r) => r.chair.server() === victim.name).length;
  log(`killing ${victim.name} (worker ${victim.workerPid}, master ${victim.masterPid}): ${moved.length} tablets, ` +
      `${movedChairs} chairs`);
  const tKill = now();
  for (const pid of [victim.workerPid, victim.masterPid]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // Recovered: every tablet connected, each moved one rejoined (through the proxy, by number) after the
  // kill, and every tablet holding its meeting's last acknowledged number.
  let recoveredAt = null;
  const recoveryTimeout = (cfg.kill.recoveryTimeout || 60) * 1000;
  const watcher = (async () => {
    while (now() - tKill < recoveryTimeout) {
      const ok = tablets.every((t) => t.connected() && t.lastSeq >= t.room.latestAcked && !t.joining)
        && moved.every((t) => t.joinedAt !== null && t.joinedAt > tKill);
      if (ok) {
        recoveredAt = now();
        return;
      }
      await sleep(0.01);
    }
  })();
  const rows = [];
  for (let r = 0; r < (cfg.kill.failoverRounds ?? 5); r++) {
    const seqs = await runRound(rooms, "failover");
    rows.push(seqs.filter((s) => s !== null).length);
  }
  await watcher;
  const delivered = await waitDelivered(rooms, ["failover"], cfg.roundTimeout || 20);
  const rejoin = moved.filter((t) => t.joinedAt > tKill).map((t) => t.joinedAt - tKill);
  const reports = rooms.map((room) => meetingReport(room, ["failover"]));
  const sum = (k) => reports.reduce((n, m) => n + m[k], 0);
  const lat = reports.flatMap((m) => m.samples);
  for (const m of reports) delete m.samples;
  return {
    killed: victim.name, tablets_on_it: moved.length, chairs_on_it: movedChairs, plenary_chair_on: plenaryChair,
    recovered: recoveredAt !== null, recovery_s: recoveredAt === null ? null : Math.round((recoveredAt - tKill) / 10) / 100,
    moved_rejoined: rejoin.length,
    moved_rejoin_s: { p50: sec(percentile(rejoin, 50)), p99: sec(percentile(rejoin, 99)),
                      max: sec(rejoin.length ? Math.max(...rejoin) : null) },
    moved_to: spread(moved),
    other_tablets_dropped: tablets.filter((t) => !movedSet.has(t) && t.lastDrop && t.lastDrop.at > tKill).length,
    rounds_acted: rows,
    actions: sum("actions"), expected: sum("expected"), received: sum("received"), replayed: sum("replayed"),
    lost: sum("lost"), duplicates: sum("duplicates"), all_delivered: delivered,
    live_latency_ms: stats(lat),
    per_meeting_lost: reports.filter((m) => m.lost).map((m) => `${m.meeting}: ${m.lost}`).slice(0, 10),
  };
}

if (HELPER === null) main();
else helperMain();
