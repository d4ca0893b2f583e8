// How good the media connection is, from successive WebRTC getStats() snapshots (static/js/media.js;
// docs/media.md, "On a poor connection"). No DOM and no timers: media.js feeds a snapshot every few
// seconds and acts on what comes back.
//
// Each snapshot is a list of stats objects (the reports of the page's publishing and receiving connections
// together). Two snapshots in a row give a sample: outgoing packet loss (what Janus reports back),
// incoming loss, round trip, jitter, the outgoing bitrate the browser estimates it can send, and the share
// of received video frames dropped. A sample is "good", "poor" or "bad"; what is shown changes only after
// several samples agree (a burst of loss on hotel Wi-Fi does not make the panel flap):
//
// - worse: BAD_SAMPLES bad samples in a row show "bad"; POOR_SAMPLES poor-or-worse in a row show "poor";
// - better: GOOD_SAMPLES better samples in a row, a longer period, before the level shown improves;
// - when "bad" is shown while video is on, the decision is "fallback": stop sending one's own video and
//   stop receiving the others' videos, so the audio keeps its bandwidth;
// - after a fallback, RECOVER_SAMPLES good samples in a row give "offer": the page offers to turn video
//   back on. Video never returns by itself: only the user's tap (``videoRestored``) brings it back.

export const LEVELS = ["good", "poor", "bad"];
export const POOR_SAMPLES = 2;
export const BAD_SAMPLES = 3;
export const GOOD_SAMPLES = 5;
export const RECOVER_SAMPLES = 10;

// A sample's level: the worst of its measures. Loss and frames dropped are fractions of the interval,
// round trip and jitter seconds, the bitrate bits per second.
export const LIMITS = {
  poor: { loss: 0.03, rtt: 0.4, jitter: 0.05, bitrate: 300_000, dropped: 0.1 },
  bad: { loss: 0.1, rtt: 0.8, jitter: 0.1, bitrate: 120_000, dropped: 0.3 },
};

function number(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function entries(snapshot) {
  if (!snapshot) { return []; }
  if (Array.isArray(snapshot)) { return snapshot; }
  if (typeof snapshot.values === "function") { return [...snapshot.values()]; }  // an RTCStatsReport
  return [];
}

/** The counters and gauges of one snapshot, summed over its streams. */
export function readSnapshot(snapshot) {
  const read = { sent: 0, lostOut: 0, received: 0, lostIn: 0, frames: 0, dropped: 0,
                 rtt: 0, jitter: 0, bitrate: null, videoSent: 0, audioSent: 0 };
  for (const s of entries(snapshot)) {
    if (!s || typeof s !== "object") { continue; }
    if (s.type === "outbound-rtp") {
      read.sent += number(s.packetsSent);
      if (s.kind === "video") { read.videoSent += number(s.bytesSent); }
      if (s.kind === "audio") { read.audioSent += number(s.bytesSent); }
    } else if (s.type === "remote-inbound-rtp") {
      read.lostOut += Math.max(0, number(s.packetsLost));
      read.rtt = Math.max(read.rtt, number(s.roundTripTime));
      read.jitter = Math.max(read.jitter, number(s.jitter));
    } else if (s.type === "inbound-rtp") {
      read.received += number(s.packetsReceived);
      read.lostIn += Math.max(0, number(s.packetsLost));
      read.jitter = Math.max(read.jitter, number(s.jitter));
      if (s.kind === "video") {
        read.frames += number(s.framesReceived);
        read.dropped += number(s.framesDropped);
      }
    } else if (s.type === "candidate-pair" && (s.nominated || s.selected) && s.state === "succeeded") {
      read.rtt = Math.max(read.rtt, number(s.currentRoundTripTime));
      if (typeof s.availableOutgoingBitrate === "number") {
        read.bitrate = read.bitrate === null ? s.availableOutgoingBitrate
          : Math.min(read.bitrate, s.availableOutgoingBitrate);
      }
    }
  }
  return read;
}

function ratio(part, whole) {
  return whole > 0 ? Math.min(1, Math.max(0, part) / whole) : 0;
}

/** The measures of the interval between two snapshots' readings (counters that went down, a stream
 * that ended, count as nothing). */
export function measure(before, after) {
  const d = (key) => Math.max(0, after[key] - (before ? before[key] : after[key]));
  const sent = d("sent"), lostOut = d("lostOut"), received = d("received"), lostIn = d("lostIn");
  return {
    // Packets sent include those lost on the way; packets received do not.
    loss: Math.max(ratio(lostOut, sent), ratio(lostIn, received + lostIn)),
    rtt: after.rtt,
    jitter: after.jitter,
    bitrate: after.bitrate,
    dropped: ratio(d("dropped"), d("frames")),
  };
}

function beyond(m, limit) {
  return m.loss >= limit.loss || m.rtt >= limit.rtt || m.jitter >= limit.jitter
    || (m.bitrate !== null && m.bitrate < limit.bitrate) || m.dropped >= limit.dropped;
}

/** A sample's level from its measures. */
export function classify(m) {
  if (beyond(m, LIMITS.bad)) { return "bad"; }
  if (beyond(m, LIMITS.poor)) { return "poor"; }
  return "good";
}

const rank = (level) => LEVELS.indexOf(level);

/**
 * The monitor: ``add(snapshot)`` after each getStats(), returning what changed:
 * ``{ level, sample, fallback, offer }``: the level shown, this sample's own level, ``fallback`` true once
 * when video should be dropped, ``offer`` true while the page should offer video back.
 */
export function createMonitor(options = {}) {
  const limits = { poor: POOR_SAMPLES, bad: BAD_SAMPLES, good: GOOD_SAMPLES, recover: RECOVER_SAMPLES,
                   ...options };
  let last = null;
  let level = null;          // nothing shown until the first sample
  let worse = 0, better = 0, badRun = 0, goodRun = 0;
  let videoOn = true;        // one's own or the others' video flows (an audio-only page receives video)
  let fellBack = false;      // video was dropped for the connection, not by the user's choice
  let offer = false;
  let forced = null;

  function step(sample) {
    if (level === null) {
      level = sample === "bad" ? "poor" : sample;  // never fall back on a single first sample
    } else if (rank(sample) > rank(level)) {
      better = 0;
      worse += 1;
      badRun = sample === "bad" ? badRun + 1 : 0;
      if (badRun >= limits.bad) { level = "bad"; worse = 0; } else if (level === "good" && worse >= limits.poor) {
        level = "poor"; worse = 0;
      }
    } else if (rank(sample) < rank(level)) {
      worse = 0; badRun = sample === "bad" ? badRun + 1 : 0;
      better += 1;
      if (better >= limits.good) { level = LEVELS[rank(level) - 1]; better = 0; }
    } else {
      worse = 0; better = 0;
      badRun = sample === "bad" ? badRun + 1 : 0;
    }
    goodRun = sample === "good" ? goodRun + 1 : 0;
    let fallback = false;
    if (level === "bad" && videoOn) {
      videoOn = false; fellBack = true; fallback = true;
    }
    if (level !== "good") { offer = false; }  // withdrawn when the connection worsens again
    if (fellBack && !videoOn && goodRun >= limits.recover && level === "good") { offer = true; }
    return { level, sample, fallback, offer };
  }

  return {
    /** One getStats() snapshot (the publishing and receiving connections' reports together). */
    add(snapshot) {
      const reading = readSnapshot(snapshot);
      const measures = last === null ? null : measure(last, reading);
      last = reading;
      if (measures === null && forced === null) { return null; }  // a sample needs two snapshots
      const sample = forced || classify(measures);
      return { ...step(sample), measures };
    },
    /** For tests of the whole page: every sample counts as ``level`` (null: measured again). */
    force(value) { forced = LEVELS.includes(value) ? value : null; },
    /** The user turned video back on (their tap): watched again from here. */
    videoRestored() { videoOn = true; fellBack = false; offer = false; goodRun = 0; },
    get level() { return level; },
    get offer() { return offer; },
    get fellBack() { return fellBack; },
  };
}
