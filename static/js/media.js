// Remote attendance by audio and video (templates/media/panel.html; docs/media.md).
//
// The app gives a short-lived token for the meeting's room on Janus (POST …/join), renews it while the page
// is open, and says which streams this page publishes (…/published): the server then mutes the microphone
// at Janus unless this participant has the floor. The browser never decides who is heard. Everyone else's
// streams are received on one subscriber connection; whoever has the floor (the live room's "live:floor"
// event, static/js/live.js) is shown large.
//
// On a poor connection (hotel Wi-Fi) the page watches its own WebRTC statistics (static/js/media-quality.js):
// when they stay bad it stops sending its camera and receiving the others' videos, so that the audio keeps
// flowing, says so plainly, and offers video back once the connection has been good for a while. Video
// returns only when the user taps.
import Janus from "../vendor/janus.es.js";
import { createMonitor } from "./media-quality.js";
import { createSubscriptions } from "./media-subscriptions.js";

const root = document.getElementById("media-panel");
if (root) { start(root); }

function start(root) {
  const T = JSON.parse(document.getElementById("media-i18n").textContent);
  const base = root.dataset.base;
  const myId = Number(root.dataset.userId);
  // The meeting's chair is always heard (the server never mutes them), on the console and on the room page
  // alike; the moderation buttons are shown to whoever the policy lets moderate (media/policy.py).
  const isChair = root.dataset.chair === "1";
  const mayModerate = root.dataset.moderate === "1";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const RENEW_MS = 45000;
  const STATE_MS = 5000;
  const QUALITY_MS = 2000;

  let janus = null, pub = null, sub = null, ticket = null, privateId = null;
  let mode = "video", speaker = null, cameraOff = false, renewTimer = null, stateTimer = null, qualityTimer = null;
  let subJoined = false, retryTimer = null;
  let monitor = null, videoHeld = false;
  let announced = {};                      // what …/published was told: the streams and the Janus handle   // videoHeld: video paused for the connection (not by choice)
  let heldMic = null;                 // the microphone, kept off the connection until the server has muted it
  const feeds = new Map();            // feed id -> {user_id, name}
  const subscriptions = createSubscriptions(); // which feeds, in which batches (media-subscriptions.js)
  const mids = new Map();             // subscriber mid -> {feed, type}
  const people = new Map();           // user id -> {name, mode}

  function status(text) { $("media-status").textContent = text; }
  function refuse(text) { $("media-refusal").textContent = text || ""; }

  async function post(path, body) {
    const response = await fetch(base + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) { const error = new Error(data.error || T.unavailable); error.status = response.status; throw error; }
    return data;
  }

  // --- tiles ---------------------------------------------------------------------------------------------
  function tileOf(userId, create) {
    let tile = root.querySelector(`.media-tile[data-user-id="${userId}"]`);
    if (!tile && create) {
      tile = document.createElement("li");
      tile.className = "media-tile";
      tile.dataset.userId = String(userId);
      tile.dataset.video = "0";
      const video = document.createElement("video");
      video.autoplay = true; video.playsInline = true; video.muted = true;
      video.setAttribute("aria-hidden", "true");
      const audio = document.createElement("audio");
      audio.autoplay = true;
      const name = document.createElement("p");
      name.className = "media-tile-name";
      tile.append(video, audio, name);
      if (mayModerate && userId !== myId) {
        const actions = document.createElement("div");
        actions.className = "media-tile-actions";
        actions.append(chairButton(userId, "mute", T.mute), chairButton(userId, "stop_video", T.stop_video));
        tile.append(actions);
      }
      $("media-tiles").append(tile);
    }
    return tile;
  }

  function chairButton(userId, action, label) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "btn"; b.textContent = label;
    b.dataset.action = action;
    b.addEventListener("click", () => post("/moderate", { user_id: userId, action }).catch((e) => refuse(e.message)));
    return b;
  }

  function label(userId) {
    const tile = tileOf(userId, false);
    if (!tile) { return; }
    const person = people.get(userId) || {};
    const feed = [...feeds.values()].find((f) => f.user_id === userId);
    const parts = [person.name || (feed && feed.name) || ""];
    if (userId === myId) { parts.push(`(${T.you})`); }
    parts.push("· " + (person.mode === "audio" ? T.audio : T.video));
    if (userId === speaker) { parts.push("· " + T.speaking); }
    if (tile.dataset.talking === "1") { parts.push("· " + T.talking); }
    tile.querySelector(".media-tile-name").textContent = parts.join(" ");
    const stop = tile.querySelector('[data-action="stop_video"]');
    if (stop) { stop.hidden = person.mode === "audio"; }  // no video to end
  }

  function place(userId) {
    const tile = tileOf(userId, false);
    if (!tile) { return; }
    const stage = $("media-stage");
    if (userId === speaker) {
      if (tile.parentElement !== stage) { stage.append(tile); }
      tile.classList.add("media-speaker");
    } else if (tile.parentElement === stage) {
      tile.classList.remove("media-speaker");
      $("media-tiles").append(tile);
    }
    $("media-stage-empty").hidden = Boolean(stage.querySelector(".media-tile"));
    label(userId);
  }

  function setSpeaker(userId) {
    if (userId === speaker) { return; }
    const before = speaker;
    speaker = userId;
    if (before !== null) { place(before); }
    if (userId !== null) { place(userId); }
    $("media-stage-empty").hidden = Boolean($("media-stage").querySelector(".media-tile"));
    showMic();
  }

  function showMic() {
    // The chair runs the meeting and is always heard; everyone else only with the floor.
    const on = speaker === myId || isChair;
    const mic = $("media-mic");
    mic.dataset.on = on ? "1" : "0";
    mic.textContent = on ? (isChair ? T.mic_chair : T.mic_on) : T.mic_off;
  }

  document.addEventListener("live:floor", (e) => setSpeaker(e.detail ? e.detail.user_id : null));

  // --- who is connected (presence by audio or video) ---------------------------------------------------
  async function refreshState() {
    try {
      const response = await fetch(base + "/state", { credentials: "same-origin" });
      if (!response.ok) { return; }
      const data = await response.json();
      people.clear();
      for (const p of data.connected) { people.set(p.user_id, p); }
      // A tile whose streams this page receives stays, even before the server lists its owner as connected
      // (their page announces what it publishes a moment after Janus tells us about it): removing it would
      // lose the streams it plays. removeFeed takes it away when the feed goes.
      const receiving = new Set([...feeds.values()].map((f) => f.user_id));
      for (const tile of root.querySelectorAll(".media-tile")) {
        const id = Number(tile.dataset.userId);
        if (!people.has(id) && id !== myId && !receiving.has(id)) { tile.remove(); } else { label(id); }
      }
      for (const p of data.connected) { if (p.user_id !== myId) { tileOf(p.user_id, true); place(p.user_id); } }
    } catch (e) { /* the next poll tries again */ }
  }

  // --- joining -----------------------------------------------------------------------------------------
  async function join(wanted) {
    refuse("");
    mode = wanted;
    status(T.connecting);
    $("media-join").hidden = true;
    try {
      ticket = await post("/join", { mode });
    } catch (e) {
      $("media-join").hidden = false;
      status(T.not_connected);
      refuse(e.message);
      return;
    }
    Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }),
      callback: () => connect(),
    });
  }

  function connect() {
    janus = new Janus({
      server: root.dataset.janus, token: ticket.token, iceServers: [], withCredentials: true,
      success: attachPublisher,
      error: () => ended(T.unavailable),
      destroyed: () => {},
    });
  }

  function attachPublisher() {
    janus.attach({
      plugin: "janus.plugin.videoroom",
      opaqueId: "ecabinet-" + myId,
      success: (handle) => {
        pub = handle;
        const display = JSON.stringify({ user_id: myId, name: root.dataset.userName });
        pub.send({ message: { request: "join", ptype: "publisher", room: ticket.room, id: ticket.feed_id,
                              display, token: ticket.token } });
      },
      error: () => ended(T.unavailable),
      onmessage: onPublisherMessage,
      onlocaltrack: (track, on) => {
        const tile = tileOf(myId, true);
        if (track.kind === "video") {
          const video = tile.querySelector("video");
          if (on) { video.srcObject = new MediaStream([track]); tile.dataset.video = "1"; }
          else { tile.dataset.video = "0"; }
        }
        place(myId);
      },
      webrtcState: (up) => { if (up) { announce(); } },
    });
  }

  function publish() {
    const tracks = [{ type: "audio", capture: true, recv: false }];
    if (mode === "video") { tracks.push({ type: "video", capture: true, recv: false }); }
    pub.createOffer({
      tracks,
      success: async (jsep) => {
        await holdMicrophone();
        pub.send({ message: { request: "publish" }, jsep });
      },
      error: () => {
        if (mode === "video") { mode = "audio"; publish(); return; } // no camera: audio only
        ended(T.no_device);
      },
    });
  }

  // Until the server has muted the microphone at Janus (…/published answers after it has), the connection
  // carries no audio at all: the stream is negotiated, so Janus knows which one is audio, but its sender has
  // no track. Otherwise the others could hear the first moments of someone who does not have the floor.
  function audioSender() {
    const t = pub.webrtcStuff.pc.getTransceivers().find((x) => x.receiver && x.receiver.track
      && x.receiver.track.kind === "audio" && x.sender);
    return t ? t.sender : null;
  }

  async function holdMicrophone() {
    const sender = audioSender();
    if (!sender || !sender.track) { return; }
    heldMic = sender.track;
    await sender.replaceTrack(null);
  }

  async function releaseMicrophone() {
    const sender = audioSender();
    if (sender && heldMic && sender.track !== heldMic) { await sender.replaceTrack(heldMic); }
  }

  async function announce() {
    // Say which streams this page publishes: the server mutes the microphone at Janus unless we have the floor.
    const pc = pub.webrtcStuff.pc;
    let audioMid = null, videoMid = null;
    for (const t of pc.getTransceivers()) {
      const kind = t.sender && t.sender.track ? t.sender.track.kind : (t.receiver && t.receiver.track ? t.receiver.track.kind : null);
      if (kind === "audio" && audioMid === null) { audioMid = t.mid; }
      if (kind === "video" && videoMid === null) { videoMid = t.mid; }
    }
    announced = { audio_mid: audioMid, video_mid: videoMid, session_id: janus.getSessionId(), handle_id: pub.getId() };
    try {
      await post("/published", { ...announced, mode });
      await releaseMicrophone();
    } catch (e) { ended(e.message); return; }
    status(mode === "video" ? T.connected_video : T.connected_audio);
    $("media-controls").hidden = false;
    showMic();
    $("media-camera").hidden = mode !== "video";
    $("media-audio-only").hidden = mode !== "video";
    $("media-stage").hidden = false;
    renewTimer = setInterval(renew, RENEW_MS);
    monitor = createMonitor();
    videoHeld = false;
    qualityTimer = setInterval(measureQuality, QUALITY_MS);
    measureQuality();
    refreshState();
  }

  function onPublisherMessage(msg, jsep) {
    const event = msg.videoroom;
    if (event === "joined") {
      privateId = msg.private_id;
      publish();
      addPublishers(msg.publishers || []);
    } else if (event === "event") {
      if (msg.publishers) { addPublishers(msg.publishers); }
      // Janus tells everyone in the room of a feed that left, unpublished or was kicked (the server kicks
      // a member's old feed when they leave or join again): only our own feed ends our place.
      const gone = msg.leaving || msg.unpublished || msg.kicked;
      if (gone && gone !== "ok") { if (gone === ticket.feed_id) { ended(T.ended); } else { removeFeed(gone); } }
      if (msg.error_code || msg.error) { ended(T.ended); }
      if (msg.leaving === "ok") { ended(T.ended); }
    } else if (event === "talking" || event === "stopped-talking") {
      const feed = feeds.get(msg.id);
      const tile = feed ? tileOf(feed.user_id, false) : (msg.id === ticket.feed_id ? tileOf(myId, false) : null);
      if (tile) { tile.dataset.talking = event === "talking" ? "1" : "0"; label(Number(tile.dataset.userId)); }
    } else if (event === "destroyed") {
      ended(T.ended);
    }
    if (jsep) { pub.handleRemoteJsep({ jsep }); }
  }

  // --- receiving the others --------------------------------------------------------------------------------
  function addPublishers(list) {
    for (const p of list) {
      if (p.id === ticket.feed_id) { continue; }
      let who = {};
      try { who = JSON.parse(p.display || "{}"); } catch (e) { who = {}; }
      if (!who.user_id || !subscriptions.add(p.id)) { continue; }
      feeds.set(p.id, { user_id: who.user_id, name: who.name || "" });
      tileOf(who.user_id, true);
      place(who.user_id);
    }
    subscribeNext();
  }

  function subscribeNext() {
    if (!janus || !ticket) { return; }  // left meanwhile
    const batch = subscriptions.next();
    if (!batch) { return; }
    const streams = batch.map((feed) => ({ feed }));
    if (sub && subJoined) { sub.send({ message: { request: "subscribe", streams } }); return; }
    janus.attach({
      plugin: "janus.plugin.videoroom",
      opaqueId: "ecabinet-" + myId,
      success: (handle) => {
        sub = handle;
        sub.send({ message: { request: "join", ptype: "subscriber", room: ticket.room, private_id: privateId,
                              streams, token: ticket.token } });
      },
      error: () => refused(),
      onmessage: (msg, jsep) => {
        if (msg.streams) {
          for (const s of msg.streams) { if (s.mid && s.feed_id) { mids.set(s.mid, { feed: s.feed_id, type: s.type }); } }
        }
        if (msg.error) { refused(); return; }
        if (jsep) {
          sub.createAnswer({
            jsep, tracks: [{ type: "data" }],
            success: (answer) => sub.send({ message: { request: "start", room: ticket.room }, jsep: answer }),
            error: () => {},  // the streams stay silent; the next change of feeds renegotiates
          });
        }
        if (msg.videoroom === "attached" || msg.videoroom === "updated") {
          subJoined = true;
          subscriptions.done();
          setTimeout(subscribeNext, 0);
        }
      },
      onremotetrack: (track, mid, on) => {
        const info = mids.get(mid);
        const feed = info ? feeds.get(info.feed) : null;
        if (!feed) { return; }
        const tile = tileOf(feed.user_id, true);
        const element = track.kind === "video" ? tile.querySelector("video") : tile.querySelector("audio");
        element.dataset.mid = mid;
        if (on) {
          element.srcObject = new MediaStream([track]);
          if (track.kind === "video") { tile.dataset.video = videoHeld ? "0" : "1"; }
          if (track.kind === "video" && videoHeld) { sendRemoteVideo(false); } // a newcomer's video: held too
          element.play().catch(() => {});
        } else if (track.kind === "video") {
          tile.dataset.video = "0";
        }
        place(feed.user_id);
      },
    });
  }

  // Janus refused the batch (a feed in it has gone, or the subscriber's join failed): its feeds are tried
  // again, each on its own, a moment later (media-subscriptions.js).
  function refused() {
    if (sub && !subJoined) { try { sub.detach(); } catch (e) { /* gone already */ } sub = null; }
    const wait = subscriptions.failed();
    if (wait !== null && retryTimer === null) {
      retryTimer = setTimeout(() => { retryTimer = null; subscriptions.retry(); subscribeNext(); }, wait);
    }
    subscribeNext();
  }

  function removeFeed(feedId) {
    const feed = feeds.get(feedId);
    feeds.delete(feedId);
    subscriptions.remove(feedId);
    if (feed && ![...feeds.values()].some((f) => f.user_id === feed.user_id) && !people.has(feed.user_id)) {
      const tile = tileOf(feed.user_id, false);
      if (tile) { tile.remove(); }
    }
  }

  // --- keeping the place, leaving --------------------------------------------------------------------------
  async function renew() {
    try { await post("/renew"); } catch (e) { if (e.status === 403 || e.status === 404 || e.status === 400) { ended(T.ended); } }
  }

  function teardown() {
    clearInterval(renewTimer); clearInterval(qualityTimer);
    renewTimer = qualityTimer = null;
    monitor = null; videoHeld = false;
    if (heldMic) { heldMic.stop(); heldMic = null; }
    if (janus) { try { janus.destroy({ notifyDestroyed: false }); } catch (e) { /* gone already */ } }
    janus = pub = sub = null;
    clearTimeout(retryTimer); retryTimer = null;
    feeds.clear(); subscriptions.clear(); mids.clear(); subJoined = false;
    for (const tile of root.querySelectorAll(".media-tile")) { tile.remove(); }
    $("media-controls").hidden = true;
    $("media-join").hidden = false;
    $("media-quality").hidden = true;
    $("media-fallback").hidden = true;
    delete root.dataset.videoHeld;
  }

  function ended(text) {
    if (!janus && !ticket) { return; }
    ticket = null;
    teardown();
    status(text);
  }

  async function leave(text) {
    const had = ticket !== null;
    ticket = null;
    teardown();
    if (had) { try { await post("/leave"); } catch (e) { /* the token expires anyway */ } }
    status(text || T.left);
  }

  window.addEventListener("pagehide", () => {
    if (!ticket) { return; }
    const form = new FormData();
    form.append("csrf_token", csrf);
    navigator.sendBeacon(base + "/leave", form);
  });

  // --- connection quality ------------------------------------------------------------------------------------
  async function measureQuality() {
    if (!monitor || !pub || !pub.webrtcStuff.pc) { return; }
    const snapshot = [];
    for (const handle of [pub, sub]) {
      const pc = handle && handle.webrtcStuff ? handle.webrtcStuff.pc : null;
      if (pc && pc.connectionState !== "closed") {
        try { (await pc.getStats()).forEach((s) => snapshot.push(s)); } catch (e) { /* closing */ }
      }
    }
    if (!monitor) { return; }  // left meanwhile
    // The page-level tests' hook: data-quality-force="bad" on the panel makes every sample bad. A user who
    // sets it only pauses their own video, which the buttons do anyway.
    monitor.force(root.dataset.qualityForce || null);
    const result = monitor.add(snapshot);
    if (!result) { return; }
    showQuality(result.level);
    if (result.fallback) { holdVideo(); }
    $("media-video-back").hidden = !result.offer;
    $("media-fallback-text").textContent = result.offer ? T.video_offer : T.video_held;
  }

  function showQuality(level) {
    const q = $("media-quality");
    q.hidden = false;
    q.dataset.quality = level;
    root.dataset.quality = level;
    $("media-quality-text").textContent = T["quality_" + level];
  }

  function ownVideoSenders() {
    const pc = pub && pub.webrtcStuff ? pub.webrtcStuff.pc : null;
    return pc ? pc.getSenders().filter((s) => s.track && s.track.kind === "video") : [];
  }

  async function sendOwnVideo(on) {
    // The encoder stops (no video packets at all) while the audio sender, a different one, goes on.
    for (const sender of ownVideoSenders()) {
      const parameters = sender.getParameters();
      (parameters.encodings || []).forEach((e) => { e.active = on; });
      try { await sender.setParameters(parameters); } catch (e) { /* renegotiating: the next try */ }
    }
  }

  function sendRemoteVideo(on) {
    // Janus stops forwarding the others' videos to this page; their audio keeps coming.
    const streams = [...mids.entries()].filter(([, info]) => info.type === "video").map(([mid]) => ({ mid, send: on }));
    if (sub && streams.length) { sub.send({ message: { request: "configure", streams } }); }
  }

  function holdVideo() {
    videoHeld = true;
    root.dataset.videoHeld = "1";
    sendOwnVideo(false);
    sendRemoteVideo(false);
    for (const tile of root.querySelectorAll(".media-tile")) { tile.dataset.video = "0"; }
    $("media-fallback").hidden = false;
    $("media-camera").hidden = true;  // nothing to turn off until video is back
    $("media-audio-only").hidden = true;  // already audio only, for now
    status(T.connected_audio);
    if (mode === "video") { post("/published", { ...announced, mode: "audio" }).then(refreshState, () => {}); }
  }

  function restoreVideo() {
    videoHeld = false;
    delete root.dataset.videoHeld;
    if (monitor) { monitor.videoRestored(); }
    $("media-fallback").hidden = true;
    sendRemoteVideo(true);
    sendOwnVideo(true);
    const tile = tileOf(myId, false);
    if (tile && mode === "video" && !cameraOff) { tile.dataset.video = "1"; }
    for (const t of root.querySelectorAll(".media-tile")) {
      const v = t.querySelector("video");
      if (Number(t.dataset.userId) !== myId && v && v.srcObject) { t.dataset.video = "1"; }
    }
    $("media-camera").hidden = mode !== "video";
    $("media-audio-only").hidden = mode !== "video";
    status(mode === "video" ? T.connected_video : T.connected_audio);
    if (mode === "video") { post("/published", { ...announced, mode: "video" }).then(refreshState, () => {}); }
  }

  // --- controls --------------------------------------------------------------------------------------------
  $("media-join-video").addEventListener("click", () => join("video"));
  $("media-join-audio").addEventListener("click", () => join("audio"));
  $("media-leave").addEventListener("click", () => leave());
  $("media-video-back").addEventListener("click", restoreVideo);
  $("media-audio-only").addEventListener("click", async () => { await leave(T.connecting); join("audio"); });
  $("media-camera").addEventListener("click", () => {
    if (!pub) { return; }
    cameraOff = !cameraOff;
    if (cameraOff) { pub.muteVideo(); } else { pub.unmuteVideo(); }
    const b = $("media-camera");
    b.setAttribute("aria-pressed", cameraOff ? "true" : "false");
    b.textContent = cameraOff ? T.camera_on : T.camera_off;
    const tile = tileOf(myId, false);
    if (tile) { tile.dataset.video = cameraOff ? "0" : "1"; }
  });

  refreshState();
  stateTimer = setInterval(refreshState, STATE_MS);
}
