// One participant of bench/bench_media.py: publishes fake audio (and video) into a VideoRoom and subscribes
// to every other publisher on one connection, as static/js/media.js does. Parameters in the query string.
import Janus from "./janus.es.js";

const q = new URLSearchParams(location.search);
const server = q.get("server"), token = q.get("token"), room = Number(q.get("room")), feed = Number(q.get("feed"));
const video = q.get("video") === "1";
const state = (t) => { document.getElementById("state").textContent = t; };
window.bench = { inboundAudioBytes: 0, inboundVideoBytes: 0, publishers: 0 };

Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }), callback: () => {
  const janus = new Janus({ server, token, iceServers: [], success: () => {
    let pub = null, sub = null, privateId = null, busy = false;
    const want = [], have = new Set();
    const next = () => {
      if (busy || !want.length) { return; }
      busy = true;
      const streams = want.splice(0).map((f) => { have.add(f); return { feed: f }; });
      if (sub) { sub.send({ message: { request: "subscribe", streams } }); return; }
      janus.attach({ plugin: "janus.plugin.videoroom", success: (h) => {
        sub = h; window.benchSub = h;
        sub.send({ message: { request: "join", ptype: "subscriber", room, private_id: privateId, streams, token } });
      }, onmessage: (msg, jsep) => {
        if (jsep) { sub.createAnswer({ jsep, tracks: [{ type: "data" }], success: (a) => sub.send({ message: { request: "start", room }, jsep: a }) }); }
        if (msg.videoroom === "attached" || msg.videoroom === "updated" || msg.error) { busy = false; setTimeout(next, 0); }
      }, onremotetrack: () => {} });
    };
    const add = (list) => { for (const p of list) { if (p.id !== feed && !have.has(p.id)) { want.push(p.id); } } window.bench.publishers = have.size + want.length; next(); };
    janus.attach({ plugin: "janus.plugin.videoroom", success: (h) => {
      pub = h; window.benchPub = h;
      pub.send({ message: { request: "join", ptype: "publisher", room, id: feed, display: String(feed), token } });
    }, onmessage: (msg, jsep) => {
      if (msg.videoroom === "joined") {
        privateId = msg.private_id;
        const tracks = [{ type: "audio", capture: true, recv: false }];
        if (video) { tracks.push({ type: "video", capture: { width: 640, height: 360 }, recv: false }); }
        pub.createOffer({ tracks, success: (j) => pub.send({ message: { request: "publish", bitrate: 300000 }, jsep: j }) });
        add(msg.publishers || []);
      } else if (msg.publishers) { add(msg.publishers); }
      if (jsep) { pub.handleRemoteJsep({ jsep }); }
    }, webrtcState: (up) => state(up ? "publishing" : "down") });
  }, error: (e) => state("error " + e) });
} });

window.benchStats = async () => {
  let audio = 0, videoBytes = 0;
  if (window.benchSub && window.benchSub.webrtcStuff.pc) {
    (await window.benchSub.webrtcStuff.pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") { audio += s.bytesReceived; }
      if (s.type === "inbound-rtp" && s.kind === "video") { videoBytes += s.bytesReceived; }
    });
  }
  return { audio, video: videoBytes };
};
