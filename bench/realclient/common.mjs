// What the Node load drivers share (driver.mjs, tally.mjs, scaleout.mjs): the configuration file, the
// report on stdout, figures, the server's CPU time and memory from /proc, and a tablet's socket as a
// browser opens it (socket.io-client, its own sign-in cookie, the app's Origin, the compression offer).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { io } from "socket.io-client";
import { HandshakeJoin } from "../../static/js/live-sequence.js";

/** The JSON file the Python side wrote (its path is the first argument). */
export function readConfig() {
  return JSON.parse(readFileSync(process.argv[2], "utf8"));
}

/** A logger to stderr (the Python side passes it through), with the driver's name and the time. */
export function logger(name) {
  return (msg) => process.stderr.write(`[${name} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The result: one JSON line on stdout, then exit (closed sockets may leave timers behind). The exit waits
 * for the line to be written: a pipe holds 64 KiB, and a reader busy elsewhere (stopping a profiler) got a
 * 2,000-tablet report cut at 320 KiB when the exit came after a fixed 200 ms. */
export function report(result) {
  process.stdout.write(JSON.stringify(result) + "\n", () => setTimeout(() => process.exit(result.error ? 2 : 0), 50));
}

// Wall-clock milliseconds with sub-millisecond resolution: comparable between processes, and with the
// server's time.time() (same machine).
export const wallMs = () => performance.timeOrigin + performance.now();
export const ms = (v) => (v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 10) / 10);
export const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));

export function percentile(values, p) {
  // Nearest rank, as bench/live_load.py.
  if (!values.length) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(1, Math.ceil((sorted.length * p) / 100)) - 1];
}

export function stats(values) {
  return { p50: ms(percentile(values, 50)), p99: ms(percentile(values, 99)),
           max: ms(values.length ? values.reduce((a, b) => Math.max(a, b), -Infinity) : null), samples: values.length };
}

// --- a process's CPU time and memory, from /proc ------------------------------------------------------

/** User + system CPU time of a process so far, ms (clkTck: the Python side's os.sysconf("SC_CLK_TCK")). */
export function procCpuMs(pid, clkTck) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / (clkTck || 100);
  } catch {
    return null;
  }
}

/** A memory figure of /proc/PID/status (VmRSS, VmHWM), MiB. */
export function procMib(pid, key) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(key + ":"));
    return line ? Math.round((Number(line.split(/\s+/)[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

// --- a tablet's socket ---------------------------------------------------------------------------------

/** The permessage-deflate option for an offer: "browser", "none" or "no_context_takeover". */
export function deflateOffer(offer) {
  if (offer === "none") return false;
  // A browser offers permessage-deflate (client_max_window_bits) and compresses every message it
  // sends; ws would skip messages under 1,024 bytes without threshold 0.
  const option = { threshold: 0 };
  if (offer === "no_context_takeover") {
    // What the server would answer if it chose no context takeover itself (RFC 7692 lets it add both
    // parameters to its response): wsproto accepts them from the offer and then drops its compressor
    // after every message, and its decompressor after every message it receives.
    option.serverNoContextTakeover = true;
    option.clientNoContextTakeover = true;
  }
  return option;
}

/** A tablet's socket over the websocket transport (static/js/live.js tries it first), as a browser opens
 * it: its own sign-in cookie and the page's Origin (extraHeaders; Node's ws transport sends them). With a
 * `meetingId`, its handshake carries the join, as live.js's does (HandshakeJoin; joinMeeting takes the
 * answer); a server that does not answer it (the bare baseline) gets the join event instead. */
export function openSocket(url, cookie, { offer = "browser", userAgent = "ecabinet-bench/1.0", meetingId = null } = {}) {
  const headers = { Origin: url, "User-Agent": userAgent };
  if (cookie) headers.Cookie = cookie;
  const handshake = meetingId === null ? null : new HandshakeJoin(meetingId);
  const socket = io(url, {
    forceNew: true, // one engine.io connection per tablet: io() would otherwise share one Manager per URL
    transports: ["websocket"],
    reconnection: false, // a dropped tablet is counted, not silently reconnected
    timeout: 60000,
    extraHeaders: headers,
    perMessageDeflate: deflateOffer(offer),
    ...(handshake ? { auth: (send) => send(handshake.auth(null)) } : {}),
  });
  if (handshake) {
    socket.on("joined", (message) => handshake.answered(message));
    socket.handshakeJoin = handshake;
  }
  return socket;
}

/** Resolves on "connect", rejects on "connect_error". */
export function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
  });
}

/** What static/js/live.js does on "connect": the answer to the join its handshake carried, or else
 * "join" with last_seq null (its answer carries the ballots list as well). Returns the join's answer;
 * throws when it is refused. */
export async function joinMeeting(socket, meetingId) {
  const early = socket.handshakeJoin?.take(null) ?? null;
  const ack = early ?? await socket.timeout(120000).emitWithAck("join", { meeting_id: meetingId, last_seq: null });
  if (!ack?.ok) throw new Error(`join refused: ${JSON.stringify(ack).slice(0, 200)}`);
  if (!Array.isArray(ack.ballots)) throw new Error("the join's answer has no ballots list");
  return ack;
}

/** The ws WebSocket under a socket.io-client socket (its TCP socket counts the bytes read). */
export function wsOf(socket) {
  return socket.io?.engine?.transport?.ws;
}

export function bytesRead(sockets) {
  let total = 0;
  for (const s of sockets) total += wsOf(s)?._socket?.bytesRead ?? 0;
  return total;
}

/** How many sockets negotiated each WebSocket extension, with its parameters as ws parsed the server's
 * answer (its .extensions gives only the names). */
export function negotiatedExtensions(sockets) {
  const negotiated = {};
  for (const s of sockets) {
    const pmd = wsOf(s)?._extensions?.["permessage-deflate"];
    const params = pmd ? Object.entries(pmd.params || {}).map(([k, v]) => (v === true ? k : `${k}=${v}`)) : [];
    const ext = pmd ? ["permessage-deflate", ...params].join("; ") : "(none)";
    negotiated[ext] = (negotiated[ext] || 0) + 1;
  }
  return negotiated;
}

/** task(i) for i in 0..count-1, at most `concurrency` at once. */
export async function inPool(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
