// Voters for bench/bench_tally.py: N tablets with socket.io-client, the client the browsers run, cast
// their votes in one open live ballot.
//
//   node tally.mjs CONFIG.json   → stdout: "@votes" as the votes begin and "@settled" once the last tally
//                                  reached everyone (--profile's start and stop), then one JSON object;
//                                  progress on stderr
//
// CONFIG (written by bench_tally.py):
//   url, serverPid, clkTck, meetingId, ballotId, userAgent
//   cookies           one sign-in Cookie header per voter; chairCookie: the chair's console, which closes
//                     the vote
//   offer             "browser" (default, permessage-deflate as a browser offers it), "none",
//                     "no_context_takeover" (common.mjs)
//   spread (s)        each voter casts at a random moment within it
//   settle (s)        how long to wait for the last tally to reach every voter
//   closeWait (s), connectConcurrency, presenceTimeout (s), presenceMin (s)
//
// Each voter connects and joins as static/js/live.js does (common.mjs: websocket transport, its cookie,
// the app's Origin; "join", whose answer carries the ballots list), keeps every "ballot.tally" it receives (arrival time,
// voted, sent_at) and the arrival of the numbered "ballot.close" event, and casts one "vote.cast" with
// an acknowledgement. The times are wall-clock seconds; bench_tally.py computes the figures from them
// exactly as for its Python clients, so the two compare.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { loadavg } from "node:os";
import {
  bytesRead, connected, inPool, joinMeeting, logger, ms, negotiatedExtensions, openSocket, percentile, procCpuMs,
  procMib, readConfig, report, sleep, wallMs,
} from "./common.mjs";

const cfg = readConfig();
const log = logger("tally");
const CHOICES = ["approve", "reject", "abstain"];
const seconds = () => Math.round(wallMs() * 10) / 1e4; // wall clock, s, to 0.1 ms
const serverCpuS = () => {
  const v = procCpuMs(cfg.serverPid, cfg.clkTck);
  return v === null ? null : v / 1000;
};

class Voter {
  constructor(cookie, watchPresence = false) {
    this.tallies = []; // [arrival (s), voted, sent_at (s)]
    this.closedAt = null;
    this.castAt = null;
    this.ackAt = null;
    this.ack = null;
    this.online = 0;
    this.dropped = null;
    this.socket = openSocket(cfg.url, cookie, cfg);
    this.socket.on("ballot.tally", (t) => this.tallies.push([seconds(), t?.voted ?? 0, t?.sent_at || 0]));
    this.socket.on("event", (ev) => {
      if (ev?.type === "ballot.close" && this.closedAt === null) this.closedAt = seconds();
    });
    if (watchPresence) this.socket.on("presence", (p) => { this.online = (p?.online || []).length; });
    this.socket.on("disconnect", (reason) => {
      if (reason !== "io client disconnect") this.dropped = String(reason); // not our own close at the end
    });
  }

  async open() {
    const t0 = wallMs();
    await connected(this.socket);
    await joinMeeting(this.socket, cfg.meetingId);
    this.joinMs = wallMs() - t0;
  }

  async vote(delay) {
    await sleep(delay);
    this.castAt = seconds();
    try {
      this.ack = await this.socket.timeout(60000).emitWithAck("vote.cast", {
        meeting_id: cfg.meetingId, ballot_id: cfg.ballotId, choice: CHOICES[Math.floor(Math.random() * 3)],
        client_vote_id: crypto.randomUUID().replaceAll("-", ""),
      });
    } catch (err) {
      this.ack = { ok: false, error: err?.message === "operation has timed out" ? "TimeoutError" : String(err) };
    }
    this.ackAt = seconds();
  }

  highest() {
    return this.tallies.reduce((m, t) => Math.max(m, t[1]), 0);
  }

  // What bench_tally.py needs of this voter.
  record() {
    return { tallies: this.tallies, closed_at: this.closedAt, cast_at: this.castAt, ack_at: this.ackAt,
             ack: this.ack, dropped: this.dropped };
  }
}

async function main() {
  const out = { clients: cfg.cookies.length, offer: cfg.offer || "browser" };
  const voters = [];
  let chair = null;
  const eld = monitorEventLoopDelay({ resolution: 5 });
  try {
    const failures = [];
    const cpu0 = process.cpuUsage();
    const t0 = wallMs();
    const progress = setInterval(() => {
      log(`  ${voters.length} joined, ${failures.length} failed, ${Math.round((wallMs() - t0) / 1000)} s, ` +
          `server RSS ${procMib(cfg.serverPid, "VmRSS")} MiB`);
    }, 5000);
    await inPool(cfg.cookies.length, cfg.connectConcurrency || 20, async (i) => {
      const v = new Voter(cfg.cookies[i]);
      try {
        await v.open();
        voters.push(v);
      } catch (err) {
        v.socket.close();
        failures.push(String(err.message || err).slice(0, 200));
      }
    });
    clearInterval(progress);
    const joinS = (wallMs() - t0) / 1000;
    chair = new Voter(cfg.chairCookie, true); // the chair's console, which closes the vote
    await chair.open();
    const cpu1 = process.cpuUsage(cpu0);
    const joinTimes = voters.map((v) => v.joinMs);
    out.connected = voters.length;
    out.setup = {
      connect_and_join_s: Math.round(joinS * 100) / 100,
      per_client_ms: { p50: ms(percentile(joinTimes, 50)), p99: ms(percentile(joinTimes, 99)),
                       max: ms(joinTimes.length ? Math.max(...joinTimes) : null) },
      bytes_read_per_join: percentile(voters.map((v) => bytesRead([v.socket])), 50),
      failures: failures.length, failure_samples: [...new Set(failures)].slice(0, 3),
      client_cpu_s: Math.round((cpu1.user + cpu1.system) / 1e5) / 10,
      negotiated_extensions: negotiatedExtensions(voters.map((v) => v.socket)),
    };
    log(`${voters.length}/${cfg.cookies.length} voters connected and joined in ${joinS.toFixed(1)} s ` +
        `(${failures.length} failures); extensions ${JSON.stringify(out.setup.negotiated_extensions)}`);
    // The presence flush of the joins goes out before measuring (e-Cabinet coalesces it: at 2,000 online
    // it goes out every 8 s): at least presenceMin, and until the chair's console sees everyone online.
    const tp = wallMs();
    await sleep(cfg.presenceMin ?? 2.5);
    while (chair.online < voters.length && wallMs() - tp < (cfg.presenceTimeout || 30) * 1000) await sleep(0.1);
    out.setup.presence_settled_s = Math.round((wallMs() - tp) / 100) / 10;
    out.rss_connected_mib = procMib(cfg.serverPid, "VmRSS");

    const cpu = [serverCpuS()];
    const load0 = loadavg();
    const c0 = process.cpuUsage();
    const b0 = bytesRead(voters.map((v) => v.socket));
    out.wall0 = seconds();
    process.stdout.write("@votes\n");
    eld.enable();
    const spread = cfg.spread ?? 5;
    await Promise.all(voters.map((v) => v.vote(Math.random() * spread)));
    const ok = voters.filter((v) => v.ack?.ok).length;
    // Wait for the last tally to reach everyone (bounded), then close: the final state, numbered.
    const deadline = wallMs() + (cfg.settle ?? 10) * 1000;
    while (wallMs() < deadline && voters.some((v) => v.highest() < ok)) await sleep(0.1);
    out.wall1 = seconds();
    cpu.push(serverCpuS());
    process.stdout.write("@settled\n");
    eld.disable();
    const c1 = process.cpuUsage(c0);
    out.server_cpu_s = cpu.includes(null) ? null : Math.round((cpu[1] - cpu[0]) * 100) / 100;
    out.client_cpu_s = Math.round((c1.user + c1.system) / 1e4) / 100;
    out.client_loop_lag_ms = ms(eld.max / 1e6);
    out.bytes_read_per_client = voters.length
      ? Math.round((bytesRead(voters.map((v) => v.socket)) - b0) / voters.length) : null;
    out.load_avg_before = load0.map((x) => Math.round(x * 100) / 100);
    out.load_avg_after = loadavg().map((x) => Math.round(x * 100) / 100);
    out.rss_after_votes_mib = procMib(cfg.serverPid, "VmRSS");
    out.rss_peak_mib = procMib(cfg.serverPid, "VmHWM");
    try {
      out.close = await chair.socket.timeout(60000).emitWithAck("chair.close_vote",
        { meeting_id: cfg.meetingId, ballot_id: cfg.ballotId });
    } catch (err) {
      out.close = { ok: false, error: String(err?.message || err) };
    }
    const closeDeadline = wallMs() + (cfg.closeWait ?? 15) * 1000;
    while (wallMs() < closeDeadline && voters.some((v) => v.closedAt === null)) await sleep(0.1);
  } catch (err) {
    out.error = String(err.stack || err).slice(0, 500);
    log(`error: ${out.error}`);
  } finally {
    for (const v of voters) v.socket.close();
    chair?.socket.close();
  }
  out.voters = voters.map((v) => v.record());
  const dropped = {};
  for (const v of voters) if (v.dropped) dropped[v.dropped] = (dropped[v.dropped] || 0) + 1;
  out.dropped = dropped;
  report(out);
}

main();
