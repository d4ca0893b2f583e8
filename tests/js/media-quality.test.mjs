// The connection-quality monitor (static/js/media-quality.js), fed sequences of getStats() snapshots in the
// shape Chromium reports them (outbound-rtp, remote-inbound-rtp, inbound-rtp, the selected candidate-pair),
// one every two seconds as media.js takes them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  BAD_SAMPLES, GOOD_SAMPLES, RECOVER_SAMPLES, classify, createMonitor, measure, readSnapshot,
} from "../../static/js/media-quality.js";

// One interval of a connection: per 2 s, packets sent and lost outwards, received and lost inwards, the
// round trip and jitter (s), the estimated outgoing bitrate (bit/s), video frames received and dropped.
const GOOD = { sent: 200, lostOut: 0, received: 300, lostIn: 0, rtt: 0.04, jitter: 0.004, bitrate: 1_500_000,
               frames: 60, dropped: 0 };
const LOSSY = { ...GOOD, lostOut: 10, lostIn: 15, rtt: 0.35, jitter: 0.03, bitrate: 260_000, dropped: 8 };
const HOTEL = { ...GOOD, lostOut: 30, lostIn: 50, rtt: 0.9, jitter: 0.12, bitrate: 90_000, frames: 30,
                dropped: 15 };

/** The getStats() snapshots of a sequence of intervals (the counters accumulate, as Chromium's do). */
function snapshots(intervals) {
  const total = { sent: 0, lostOut: 0, received: 0, lostIn: 0, frames: 0, dropped: 0 };
  const list = [];
  const take = (i) => {
    const t = 1_700_000_000_000 + list.length * 2000;
    list.push([
      { id: "OT01A", type: "outbound-rtp", kind: "audio", timestamp: t, packetsSent: Math.round(total.sent / 4),
        bytesSent: total.sent * 40 },
      { id: "OT01V", type: "outbound-rtp", kind: "video", timestamp: t,
        packetsSent: total.sent - Math.round(total.sent / 4), bytesSent: total.sent * 900 },
      { id: "RI01V", type: "remote-inbound-rtp", kind: "video", timestamp: t, packetsLost: total.lostOut,
        roundTripTime: i.rtt, jitter: i.jitter, fractionLost: 0 },
      { id: "CP01", type: "candidate-pair", state: "succeeded", nominated: true, timestamp: t,
        currentRoundTripTime: i.rtt, availableOutgoingBitrate: i.bitrate },
      { id: "CP02", type: "candidate-pair", state: "failed", nominated: false, currentRoundTripTime: 9 },
      { id: "IT01A", type: "inbound-rtp", kind: "audio", timestamp: t, packetsReceived: Math.round(total.received / 4),
        packetsLost: Math.round(total.lostIn / 4), jitter: i.jitter },
      { id: "IT01V", type: "inbound-rtp", kind: "video", timestamp: t,
        packetsReceived: total.received - Math.round(total.received / 4),
        packetsLost: total.lostIn - Math.round(total.lostIn / 4), jitter: i.jitter / 2,
        framesReceived: total.frames, framesDropped: total.dropped },
    ]);
  };
  take(GOOD);
  for (const i of intervals) {
    for (const key of Object.keys(total)) { total[key] += i[key]; }
    take(i);
  }
  return list;
}

function run(intervals, monitor = createMonitor()) {
  return snapshots(intervals).map((s) => monitor.add(s)).filter(Boolean);
}

const times = (n, interval) => Array.from({ length: n }, () => interval);

describe("reading snapshots", () => {
  test("sums the streams and keeps the selected pair's bitrate", () => {
    const [first, second] = snapshots([HOTEL]);
    const read = readSnapshot(second);
    assert.equal(read.sent, 200);
    assert.equal(read.lostOut, 30);
    assert.equal(read.bitrate, 90_000);
    assert.equal(read.rtt, 0.9);  // the failed pair's 9 s is ignored
    const m = measure(readSnapshot(first), read);
    assert.ok(Math.abs(m.loss - 30 / 200) < 1e-9, m.loss);  // the worse way: outwards
    assert.equal(m.dropped, 0.5);
  });

  test("a Map (RTCStatsReport) is read like a list", () => {
    const [, second] = snapshots([GOOD]);
    assert.deepEqual(readSnapshot(new Map(second.map((s) => [s.id, s]))), readSnapshot(second));
  });

  test("odd or missing values count as nothing", () => {
    const read = readSnapshot([null, 5, { type: "outbound-rtp", packetsSent: "12" },
                               { type: "remote-inbound-rtp", roundTripTime: NaN }]);
    assert.equal(read.sent, 0);
    assert.equal(read.rtt, 0);
    assert.equal(readSnapshot(undefined).bitrate, null);
  });

  test("counters that go down (a stream ended) are no loss", () => {
    const before = readSnapshot(snapshots(times(5, LOSSY)).at(-1));
    const after = readSnapshot(snapshots([GOOD]).at(-1));
    assert.equal(measure(before, after).loss, 0);
  });

  test("each measure alone makes a sample poor or bad", () => {
    const base = { loss: 0, rtt: 0.05, jitter: 0.005, bitrate: 2_000_000, dropped: 0 };
    assert.equal(classify(base), "good");
    assert.equal(classify({ ...base, bitrate: null }), "good");
    assert.equal(classify({ ...base, loss: 0.05 }), "poor");
    assert.equal(classify({ ...base, loss: 0.2 }), "bad");
    assert.equal(classify({ ...base, rtt: 1.2 }), "bad");
    assert.equal(classify({ ...base, jitter: 0.07 }), "poor");
    assert.equal(classify({ ...base, bitrate: 100_000 }), "bad");
    assert.equal(classify({ ...base, dropped: 0.15 }), "poor");
  });
});

describe("the level shown", () => {
  test("a steady good connection stays good and never falls back", () => {
    const results = run(times(30, GOOD));
    assert.equal(results.length, 30);
    assert.ok(results.every((r) => r.level === "good" && !r.fallback && !r.offer));
  });

  test("a short burst of loss does not flap the panel nor drop video", () => {
    const results = run([...times(5, GOOD), HOTEL, GOOD, HOTEL, GOOD, GOOD, HOTEL, ...times(5, GOOD)]);
    assert.ok(results.every((r) => r.level === "good"), results.map((r) => r.level).join());
    assert.ok(!results.some((r) => r.fallback));
  });

  test("two bad samples in a row show poor, not bad, and it returns to good only after a good period", () => {
    const levels = run([...times(3, GOOD), HOTEL, HOTEL, ...times(GOOD_SAMPLES + 1, GOOD)]).map((r) => r.level);
    assert.deepEqual(levels.slice(0, 5), ["good", "good", "good", "good", "poor"]);
    assert.deepEqual(levels.slice(5, 5 + GOOD_SAMPLES - 1), times(GOOD_SAMPLES - 1, "poor"));
    assert.equal(levels.at(-1), "good");
  });

  test("a lossy connection shows poor without falling back", () => {
    const results = run([...times(3, GOOD), ...times(20, LOSSY)]);
    assert.equal(results.at(-1).level, "poor");
    assert.ok(!results.some((r) => r.fallback));
  });
});

describe("falling back to audio only", () => {
  test("a sustained bad connection drops video once, after a few bad samples", () => {
    const results = run([...times(3, GOOD), ...times(10, HOTEL)]);
    const at = results.findIndex((r) => r.fallback);
    assert.equal(at, 3 + BAD_SAMPLES - 1);
    assert.equal(results[at].level, "bad");
    assert.equal(results.filter((r) => r.fallback).length, 1);
    assert.ok(results.slice(at).every((r) => r.level === "bad" && !r.offer));
  });

  test("recovery offers video back after a long good period, and never turns it back on by itself", () => {
    const monitor = createMonitor();
    const results = run([...times(3, GOOD), ...times(6, HOTEL), ...times(RECOVER_SAMPLES + 10, GOOD)], monitor);
    const fell = results.findIndex((r) => r.fallback);
    const offered = results.findIndex((r) => r.offer);
    assert.ok(fell > 0 && offered > fell);
    assert.ok(offered - 8 >= RECOVER_SAMPLES - 1, `offered ${offered - 8} good samples after the last bad one`);
    assert.ok(results.slice(offered).every((r) => r.offer && !r.fallback));  // still offering, never re-enabled
    assert.equal(monitor.fellBack, true);
    // The user's tap: video is back, nothing offered; a later bad spell falls back again.
    monitor.videoRestored();
    assert.equal(monitor.offer, false);
    const again = snapshots([...times(BAD_SAMPLES, HOTEL)]).slice(1).map((s) => monitor.add(s));
    assert.equal(again.at(-1).fallback, true);
  });

  test("the offer is withdrawn when the connection worsens again before the tap", () => {
    const results = run([...times(3, GOOD), ...times(6, HOTEL), ...times(RECOVER_SAMPLES + 2, GOOD),
                         ...times(4, LOSSY)]);
    assert.ok(results.some((r) => r.offer));
    assert.equal(results.at(-1).offer, false);
    assert.ok(!results.slice(9).some((r) => r.fallback));  // video is already off: nothing more to drop
  });

  test("a page forced to bad (the page-level tests' hook) falls back without real loss", () => {
    const monitor = createMonitor();
    monitor.force("bad");
    const results = snapshots(times(BAD_SAMPLES + 1, GOOD)).map((s) => monitor.add(s));
    assert.equal(results[0].level, "poor");  // one sample is never enough
    assert.ok(results.some((r) => r.fallback));
    monitor.force("nonsense");  // measured again
    assert.equal(monitor.add(snapshots([GOOD])[1]).sample, "good");
  });
});
