// One participant of bench/bench_media.py --audiobridge: joins an AudioBridge room (mixing) unmuted and
// receives the mix, for comparing the server's cost with the VideoRoom's forwarding.
import Janus from "./janus.es.js";

const q = new URLSearchParams(location.search);
const server = q.get("server"), token = q.get("token"), room = Number(q.get("room")), feed = Number(q.get("feed"));
let handle = null;

Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }), callback: () => {
  const janus = new Janus({ server, token, iceServers: [], success: () => {
    janus.attach({ plugin: "janus.plugin.audiobridge", success: (h) => {
      handle = h;
      h.send({ message: { request: "join", room, id: feed, display: String(feed), muted: false } });
    }, onmessage: (msg, jsep) => {
      if (msg.audiobridge === "joined" && msg.id === feed) {
        handle.createOffer({ tracks: [{ type: "audio", capture: true, recv: true }],
                             success: (j) => handle.send({ message: { request: "configure", muted: false }, jsep: j }) });
      }
      if (jsep) { handle.handleRemoteJsep({ jsep }); }
    }, onremotetrack: () => {} });
  } });
} });

window.benchStats = async () => {
  let audio = 0;
  if (handle && handle.webrtcStuff.pc) {
    (await handle.webrtcStuff.pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") { audio += s.bytesReceived; }
    });
  }
  return { audio, video: 0 };
};
