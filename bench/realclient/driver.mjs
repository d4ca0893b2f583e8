// Load driver for bench/bench_live_real.py: N tablets with socket.io-client, the client the browsers run.
//
//   node driver.mjs CONFIG.json      → one JSON object on stdout; progress on stderr
//
// CONFIG (written by bench_live_real.py):
//   target            "ecabinet" (url, serverPid, cookies, chairCookie given) or "bare" (this driver
//                     starts bare_server.mjs itself, with bareDeflate and payload)
//   pairBare          with target "ecabinet": also a bare server (bareDeflate) with N more tablets, its
//                     rounds alternating with e-Cabinet's, so both are measured under the same load; it
//                     broadcasts the event the tablets received from e-Cabinet in the warm-up round
//   clients, meetingId, itemIds, rounds, interval (s), roundTimeout (s), connectConcurrency,
//   offer             "browser": offer permessage-deflate as a browser does; "none": perMessageDeflate:
//                     false; "no_context_takeover": the browser's offer plus server_ and
//                     client_no_context_takeover
//   userAgent, clkTck, presenceTimeout (s), warmupRounds (default 1, not measured)
//
// Each tablet connects over the websocket transport with its own sign-in cookie and an Origin header
// (extraHeaders; Node's ws transport sends them), then does what static/js/live.js does on "connect":
// "join" with last_seq null (its answer carries the ballots list). The chair's console moves
// the current item (chair.set_item), and the driver times each tablet's agenda.current_item event
// from just before the chair's emit, and counts the bytes each tablet's TCP socket read meanwhile.
import { spawn } from "node:child_process";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  bytesRead, connected, inPool, joinMeeting, logger, ms, negotiatedExtensions, openSocket, percentile, procCpuMs as cpuOf,
  procMib, readConfig, report, sleep, wsOf,
} from "./common.mjs";

const cfg = readConfig();
const started = performance.now();
const log = logger("realclient");
const procCpuMs = (pid) => cpuOf(pid, cfg.clkTck);

async function startBare(payload) {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const child = spawn(process.execPath, [here + "bare_server.mjs"], {
    env: { ...process.env, BARE_DEFLATE: cfg.bareDeflate ? "1" : "0", BARE_PAYLOAD: JSON.stringify(payload || {}) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)).port);
    });
    child.on("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
    setTimeout(() => reject(new Error("bare server did not start")), 15000);
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

// --- one room: a server, its N tablets and the chair's console ------------------------------------------
class Room {
  constructor(name, url, pid, cookies, chairCookie, presence) {
    Object.assign(this, { name, url, pid, cookies, chairCookie, presence });
    this.tablets = [];
    this.chair = null;
    this.arrivals = new Map(); // seq → { times: Float64Array(n), count, expected, resolve }
    this.sample = null; // the first agenda.current_item a tablet received
    this.rounds = [];
    this.all = [];
    this.result = { clients: cfg.clients, setup: {}, server: {} };
  }

  record(seq) {
    let rec = this.arrivals.get(seq);
    if (!rec) {
      rec = { times: new Float64Array(cfg.clients).fill(NaN), count: 0, expected: Infinity, resolve: null };
      this.arrivals.set(seq, rec);
    }
    return rec;
  }

  onCurrentItem(index, ev) {
    const now = performance.now();
    if (this.sample === null) this.sample = ev;
    const rec = this.record(ev.seq);
    if (Number.isNaN(rec.times[index])) {
      rec.times[index] = now;
      rec.count += 1;
      if (rec.count >= rec.expected && rec.resolve) rec.resolve();
    }
  }

  async connectAndJoin(index, cookie, watchPresence = false) {
    const t = { index, socket: null, joined: false, dropped: null, online: 0 };
    const start = performance.now();
    t.socket = openSocket(this.url, cookie, cfg);
    if (index >= 0) t.socket.on("event", (ev) => { if (ev?.type === "agenda.current_item") this.onCurrentItem(index, ev); });
    if (watchPresence) t.socket.on("presence", (p) => { t.online = (p?.online || []).length; });
    t.socket.on("disconnect", (reason) => { t.dropped = `${reason} at +${Math.round((performance.now() - started) / 1000)}s`; });
    await connected(t.socket);
    await joinMeeting(t.socket, cfg.meetingId);
    t.joined = true;
    t.joinMs = performance.now() - start;
    // What the join cost on the wire: handshake, the snapshot in the join's answer, the ballots.
    t.joinBytes = wsOf(t.socket)?._socket?.bytesRead ?? null;
    return t;
  }

  async joinAll() {
    const n = cfg.clients;
    const { result, pid, tablets } = this;
    result.server.rss_idle_mib = procMib(pid, "VmRSS");
    const failures = [];
    const cpu0 = process.cpuUsage();
    const srv0 = procCpuMs(pid);
    const t0 = performance.now();
    const progress = setInterval(() => {
      log(`  [${this.name}] ${tablets.length} joined, ${failures.length} failed, ` +
          `${Math.round((performance.now() - t0) / 1000)} s, server RSS ${procMib(pid, "VmRSS")} MiB`);
    }, 5000);
    await inPool(n, cfg.connectConcurrency || 20, async (i) => {
      try {
        tablets.push(await this.connectAndJoin(i, this.cookies ? this.cookies[i] : null));
      } catch (err) {
        failures.push(String(err.message || err).slice(0, 200));
      }
    });
    clearInterval(progress);
    const joinS = (performance.now() - t0) / 1000;
    this.chair = await this.connectAndJoin(-1, this.chairCookie || null, true);
    const cpu1 = process.cpuUsage(cpu0);
    const joined = tablets.filter((t) => t.joined && t.socket.connected).length;
    const joinTimes = tablets.map((t) => t.joinMs);
    this.joined = joined;
    result.connected = joined;
    result.setup = {
      connect_and_join_s: Math.round(joinS * 100) / 100,
      per_client_ms: { p50: ms(percentile(joinTimes, 50)), p99: ms(percentile(joinTimes, 99)),
                       max: ms(joinTimes.length ? Math.max(...joinTimes) : null) },
      bytes_read_per_join: percentile(tablets.map((t) => t.joinBytes).filter((b) => b !== null), 50),
      failures: failures.length, failure_samples: [...new Set(failures)].slice(0, 5),
      server_cpu_s: srv0 === null ? null : Math.round((procCpuMs(pid) - srv0) / 100) / 10,
      client_cpu_s: Math.round((cpu1.user + cpu1.system) / 1e5) / 10,
    };
    const negotiated = negotiatedExtensions(tablets.map((t) => t.socket));
    result.negotiated_extensions = negotiated;
    log(`[${this.name}] ${joined}/${n} joined in ${joinS.toFixed(1)} s (${failures.length} failures); ` +
        `extensions ${JSON.stringify(negotiated)}`);
    if (this.presence) {
      // e-Cabinet coalesces presence: let the joins' flush go out before measuring (as live_load.py).
      const tp = performance.now();
      while (this.chair.online < joined + 1 && performance.now() - tp < (cfg.presenceTimeout || 30) * 1000) {
        await sleep(0.2);
      }
      result.setup.presence_settled_s = Math.round((performance.now() - tp) / 100) / 10;
    }
  }

  // One chair action; r < 0 is a warm-up round, not kept.
  async round(r) {
    const items = cfg.itemIds || [1];
    const { tablets, pid, joined } = this;
    const sockets = tablets.map((t) => t.socket);
    const b0 = bytesRead(sockets);
    const c0 = process.cpuUsage();
    const s0 = procCpuMs(pid);
    eld.reset();
    const tEmit = performance.now();
    const ack = await this.chair.socket.timeout(60000).emitWithAck("chair.set_item",
      { meeting_id: cfg.meetingId, item_id: items[(((r % items.length) + items.length) % items.length)] });
    const tAck = performance.now();
    if (!ack?.ok) throw new Error(`chair.set_item refused: ${JSON.stringify(ack).slice(0, 200)}`);
    const rec = this.record(ack.seq);
    rec.expected = joined;
    if (rec.count < joined) {
      await new Promise((resolve) => {
        rec.resolve = resolve;
        setTimeout(resolve, (cfg.roundTimeout || 20) * 1000);
      });
    }
    const tDone = performance.now();
    this.arrivals.delete(ack.seq);
    if (r < 0) return;
    const lat = [];
    for (const t of rec.times) if (!Number.isNaN(t)) lat.push(t - tEmit);
    this.all.push(...lat);
    const bytes = bytesRead(sockets) - b0;
    const c1 = process.cpuUsage(c0);
    const s1 = procCpuMs(pid);
    const row = {
      round: r + 1, seq: ack.seq, received: lat.length, expected: joined, ack_ms: ms(tAck - tEmit),
      p50_ms: ms(percentile(lat, 50)), p99_ms: ms(percentile(lat, 99)), max_ms: ms(lat.length ? Math.max(...lat) : null),
      bytes_per_client: lat.length ? Math.round(bytes / lat.length) : null,
      server_cpu_ms: s0 === null ? null : ms(s1 - s0), client_cpu_ms: ms((c1.user + c1.system) / 1000),
      client_loop_lag_ms: ms(eld.max / 1e6), wall_ms: ms(tDone - tEmit),
    };
    this.rounds.push(row);
    log(`[${this.name}] round ${r + 1}: ${row.received}/${joined}, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, ` +
        `max ${row.max_ms} ms; ${row.bytes_per_client} B/client; CPU server ${row.server_cpu_ms} ms, ` +
        `client ${row.client_cpu_ms} ms; loop lag ${row.client_loop_lag_ms} ms`);
  }

  finish() {
    const { result, rounds, all, joined, pid } = this;
    const med = (xs) => percentile(xs.filter((x) => x !== null), 50);
    // Mean, not median: /proc counts CPU time in clock ticks (10 ms), too coarse for one round.
    const mean = (xs) => (xs.length && xs.every((x) => x !== null) ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    result.rounds = rounds;
    result.latency_ms = { p50: ms(percentile(all, 50)), p99: ms(percentile(all, 99)),
                          max: ms(all.length ? all.reduce((a, b) => Math.max(a, b), 0) : null), samples: all.length };
    result.all_rounds_complete = rounds.length === cfg.rounds && rounds.every((x) => x.received === joined) &&
      joined === cfg.clients;
    result.bytes_per_event = med(rounds.map((x) => x.bytes_per_client));
    const cpuMean = mean(rounds.map((x) => x.server_cpu_ms));
    result.server.cpu_ms_per_round = ms(cpuMean);
    result.server.cpu_us_per_client_message = cpuMean !== null && joined ? ms((cpuMean * 1000) / (joined + 1)) : null;
    result.client_cpu_ms_per_round = ms(mean(rounds.map((x) => x.client_cpu_ms)));
    result.server.rss_after_rounds_mib = procMib(pid, "VmRSS");
    result.server.rss_peak_mib = procMib(pid, "VmHWM");
    if (this.sample) {
      result.payload_sample = this.sample;
      // The Socket.IO packet as it goes into a WebSocket frame: 42["event",{...}]
      result.packet_bytes = Buffer.byteLength('42["event",' + JSON.stringify(this.sample) + "]");
    }
    const drops = {};
    for (const t of this.tablets) {
      if (t.dropped) drops[t.dropped.split(" at ")[0]] = (drops[t.dropped.split(" at ")[0]] || 0) + 1;
    }
    result.dropped = drops;
    return result;
  }

  close() {
    for (const t of this.tablets) t.socket.close();
    this.chair?.socket.close();
  }
}

const eld = monitorEventLoopDelay({ resolution: 5 });

async function main() {
  const out = { target: cfg.target, offer: cfg.offer, clients: cfg.clients };
  const bares = [];
  const rooms = [];
  eld.enable();
  let result = out;
  try {
    let primary;
    if (cfg.target === "bare") {
      const bare = await startBare(cfg.payload);
      bares.push(bare);
      primary = new Room("bare", bare.url, bare.child.pid, null, null, false);
      primary.result.bare_server_deflate = !!cfg.bareDeflate;
    } else {
      primary = new Room("ecabinet", cfg.url, cfg.serverPid, cfg.cookies, cfg.chairCookie, true);
    }
    rooms.push(primary);
    await primary.joinAll();
    const warmup = cfg.warmupRounds ?? 1;
    // Unmeasured warm-up rounds first, on every server alike: the first broadcast of a fresh server
    // pays one-off costs (V8 compiling the bare server's paths, lazy imports in the worker).
    for (let r = -warmup; r < 0; r++) {
      await primary.round(r);
      await sleep(cfg.interval ?? 1);
    }
    if (cfg.target === "ecabinet" && cfg.pairBare) {
      if (!primary.sample) throw new Error("no tablet received the warm-up event: nothing for the bare server to send");
      const bare = await startBare(primary.sample);
      bares.push(bare);
      const paired = new Room("bare", bare.url, bare.child.pid, null, null, false);
      paired.result.bare_server_deflate = !!cfg.bareDeflate;
      rooms.push(paired);
      await paired.joinAll();
      for (let r = -warmup; r < 0; r++) {
        await paired.round(r);
        await sleep(cfg.interval ?? 1);
      }
    }
    await sleep(1.5);
    for (const room of rooms) room.result.server.rss_connected_mib = procMib(room.pid, "VmRSS");
    // The rooms take turns, so that each is measured under the same load.
    for (let r = 0; r < cfg.rounds; r++) {
      for (const room of rooms) {
        await room.round(r);
        await sleep(cfg.interval ?? 1);
      }
    }
    result = Object.assign(out, primary.finish());
    if (rooms.length > 1) out.paired_bare = rooms[1].finish();
  } catch (err) {
    out.error = String(err.stack || err).slice(0, 500);
    log(`error: ${out.error}`);
    for (const room of rooms) Object.assign(room === rooms[0] ? out : (out.paired_bare ??= {}), room.result);
  } finally {
    for (const room of rooms) room.close();
    for (const bare of bares) bare.child.kill("SIGTERM");
  }
  result.elapsed_s = Math.round((performance.now() - started) / 100) / 10;
  report(result);
}

main();
