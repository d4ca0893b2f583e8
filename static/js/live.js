// The live meeting room: one state object, filled by a snapshot and kept current by numbered events.
// A gap in the numbers (a missed event) makes the client ask for what it missed; nothing is applied twice
// (the ordering is in live-sequence.js, the changes each payload makes in live-state.js).
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || typeof io === "undefined") { return; }
  // The page loads this file as a classic script: its modules are resolved next to it (same origin, so the
  // CSP's script-src 'self' allows them). Only at the top level is currentScript this file.
  var here = document.currentScript && document.currentScript.src;
  var modules = Promise.all(["live-sequence.js", "live-state.js", "live-presenter.js", "live-console.js"].map(function (name) {
    return import(here ? new URL(name, here).href : "./" + name);
  }));
  var JOIN_TIMEOUT = 15000;
  var T = JSON.parse(document.getElementById("live-i18n").textContent);
  var meetingId = Number(root.dataset.meetingId);
  var userId = Number(root.dataset.userId);
  var isConsole = root.dataset.console === "1";
  var itemUrl = root.dataset.itemUrl;
  var state = null, following = true, shownItemId = null, clockOffset = 0, online = false;
  var socket = null, sequence = null, rules = null, Sequence = null, screen = null;
  var consoleModule = null, chair = null, refusals = null, handshake = null;
  var userName = root.dataset.userName || "";
  // Item id -> the documents on it this reader may open (rendered into the page by the room's view).
  var documents = JSON.parse(document.getElementById("room-documents").textContent || "{}");
  var chosen = {};  // item id -> the document the reader picked on it
  // Who is connected by audio or video (the media panel, when the meeting has one): the join's "media"
  // section, then the room's "media.presence" events (not numbered: only the latest list matters).
  var mediaPeople = [];
  var $ = function (id) { return document.getElementById(id); };
  var fmt = function (s, p) { return s.replace(/%\((\w+)\)s/g, function (m, k) { return p[k]; }); };
  var el = function (tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  };

  function connect(sequenceModule, stateModule, presenterModule, consoleMod) {
    Sequence = sequenceModule;
    rules = stateModule;
    screen = presenterModule;
    consoleModule = consoleMod;
    refusals = new consoleModule.Refusals(root, $("live-announcer"), T);
    if (isConsole) {
      chair = new consoleModule.ChairConsole({
        root: root, T: T, act: act, ask: ask, itemById: itemById,
        online: function () { return online; }, state: function () { return state; },
      });
      chair.onChange = function () { renderBallots(); };
    }
    pageTurns = new screen.PageCoalescer({ send: function (page) { act("presenter.page", { page: page }, "document"); },
                                           interval: PAGE_TURN_INTERVAL });
    // Each connection's handshake carries the join (live-sequence.js, HandshakeJoin): after a reconnection
    // the room is back in one round trip, and the server does one transaction for it, not two.
    handshake = new Sequence.HandshakeJoin(meetingId);
    socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 5000,
                  auth: function (send) { send(handshake.auth(sequence ? sequence.joinFrom : null)); } });
    sequence = new Sequence.RoomSequence({ meetingId: meetingId, join: join, applySnapshot: applySnapshot,
                                           applyEvent: applyEvent });
    window.ecabinetLive = { socket: socket, get lastSeq() { return sequence.lastSeq; }, get state() { return state; },
                            get following() { return following; } };

    // Before "connect": the answer to the handshake's join (the sequence's join on "connect" takes it).
    socket.on("joined", function (message) { handshake.answered(message); });
    socket.on("connect", function () { sequence.connected(); });
    socket.on("disconnect", function () { sequence.disconnected(); setOnline(false); });
    socket.on("connect_error", function () { setOnline(false); });
    // A refused connection is asked again after a pause (socket.io-client gives up), unless the sign-in ended.
    Sequence.retryRefusedConnections(socket, function (wait) {
      if (wait === null) { $("live-connection").textContent = T.signed_out; }
    });
    socket.on("event", function (ev) {
      if (sequence.event(ev) === "applied") {
        render();
        if (chair) { chair.refreshSoon(); }  // the quorum, the votes, the items discussed may have changed
      }
    });
    // After an outage of the message queue between server instances, the server announces each meeting's
    // latest number: a tablet that is behind asks for the gap now, not at the next event.
    socket.on("sync", function (s) { sequence.sync(s); });
    // The participation tally is not numbered: at most one per ballot per short interval, with absolute
    // counts and a version that only grows, so a late or repeated one is simply ignored.
    socket.on("ballot.tally", function (t) { if (rules.applyTally(ballots, t, meetingId)) { renderBallots(); } });
    socket.on("media.presence", function (p) {
      if (!p || p.meeting_id !== meetingId || !Array.isArray(p.connected)) { return; }
      mediaPeople = p.connected;
      if (state) { renderAttendance(); }
    });
    socket.on("presence", function (p) {
      if (!p || p.meeting_id !== meetingId || !state || !Array.isArray(p.online)) { return; }
      state.online = p.online;
      renderAttendance();
    });
  }

  function setOnline(value) {
    online = value;
    var banner = $("live-connection");
    banner.hidden = value;
    banner.textContent = value ? "" : T.reconnecting;
    root.classList.toggle("is-offline", !value);
    // Actions cannot work offline: disable them until the room is back.
    document.querySelectorAll(".needs-online").forEach(function (b) { b.disabled = !value; });
    if (chair) { chair.applySteps(); }  // and of the meeting's steps, only the valid ones
    measure();  // the banner above the layout came or went
  }

  // One join at a time (live-sequence.js); its answer is matched to it by `ticket`. On "connect" the
  // handshake has usually brought the answer already.
  function join(fromSeq, ticket) {
    var early = handshake.take(fromSeq);
    if (early) { joinAnswered(ticket, early); return; }
    socket.timeout(JOIN_TIMEOUT).emit("join", { meeting_id: meetingId, last_seq: fromSeq }, function (err, ack) {
      joinAnswered(ticket, err ? null : ack);
    });
  }

  function joinAnswered(ticket, ack) {
    if (!ack || !ack.ok) {
      if (sequence.joinFailed(ticket)) {
        if (ack) { showError(ack.message || ack.error, "page"); }
        retryLater(ack);
      }
      return;
    }
    if (Array.isArray(ack.media)) { mediaPeople = ack.media; }
    var result = sequence.joined(ticket, ack);
    if (result === "failed") { retryLater(); return; }  // an answer without a snapshot or events
    if (result !== "applied") { return; }
    render();
    setOnline(true);
    // The ballots list comes with the join's answer (a server before it did not send it: ask then).
    var tallies = Array.isArray(ack.tallies) ? ack.tallies : [];
    if (Array.isArray(ack.ballots)) {
      setBallots(ack.ballots, tallies);
    } else {
      tallies.forEach(function (t) { rules.applyTally(ballots, t, meetingId); });
      loadBallots();
    }
    if (chair) { chair.refreshSoon(); }
  }

  // A join that failed for a passing reason (the database restarting, the rate limit, no answer) is tried
  // again, waiting longer each time; a refusal is not.
  function retryLater(ack) {
    var delay = Sequence.joinRetryDelay(sequence.failures, ack);
    if (delay !== null) { setTimeout(function () { sequence.retry(); }, delay); }
  }

  function applySnapshot(snap) {
    state = snap;
    clockOffset = rules.clockOffset(snap.server_now, Date.now());
  }

  function applyEvent(ev) {
    var p = ev.payload || {};
    rules.applyPayload(state, p);
    if (p.ballot && typeof p.ballot === "object") { applyBallot(p.ballot); }
  }

  function itemById(id) {
    for (var i = 0; state && i < state.items.length; i++) { if (state.items[i].item_id === id) { return state.items[i]; } }
    return null;
  }

  function render() {
    if (!state) { return; }
    var m = state.meeting;
    $("live-status").textContent = T[m.status] || m.status;
    $("live-paused").hidden = !m.paused;
    if (following || isConsole) { shownItemId = m.current_item_id; }
    renderAgenda();
    renderItem();
    renderAttendance();
    if (chair) { chair.render(); }
    var follow = $("live-follow");
    if (follow) {
      follow.textContent = following ? T.following : T.browsing;
      follow.setAttribute("aria-pressed", following ? "true" : "false");
      var at = screen.movedTo({ following: following, shownItemId: shownItemId }, m.current_item_id, state.items);
      $("live-moved").hidden = following;
      $("live-moved-text").textContent = at !== null ? fmt(T.chair_moved, { n: at }) : T.browsing;
    }
    renderDocument();
    renderTimer();
    measure();
  }

  // The item's time stops at the adjournment (the meeting state carries when).
  function renderTimer() {
    $("live-item-timer").textContent = consoleModule ? consoleModule.itemTime(state.meeting, Date.now() + clockOffset)
      : elapsed(state.meeting.item_started_at);
  }

  function renderAgenda() {
    var list = $("live-items");
    list.replaceChildren();
    state.items.forEach(function (item) {
      var li = el("li");
      var b = el("button", item.position + ". " + item.title, "btn live-agenda-item");
      b.type = "button";
      if (item.item_id === state.meeting.current_item_id) { b.classList.add("is-current"); b.setAttribute("aria-current", "true"); }
      if (item.item_id === shownItemId) { b.classList.add("is-shown"); }
      b.addEventListener("click", function () {
        if (isConsole) { act("chair.set_item", { item_id: item.item_id }, "agenda"); return; }
        following = item.item_id === state.meeting.current_item_id && following;
        shownItemId = item.item_id;
        render();
      });
      li.appendChild(b);
      if (item.outcome) { li.appendChild(el("span", T[item.outcome] || item.outcome, "badge")); }
      list.appendChild(li);
    });
  }

  function renderItem() {
    var item = itemById(shownItemId);
    var title = $("live-item-title");
    var link = $("live-item-link");
    if (!item) {
      title.textContent = shownItemId ? T.hidden_item : T.no_item;
      $("live-item-label").textContent = "";
      $("live-item-meta").textContent = "";
      link.hidden = true;
      $("live-queue").replaceChildren();
      $("live-comments").replaceChildren();
      $("live-comment-form").hidden = true;
      var rf = $("live-request-floor"); if (rf) { rf.hidden = true; }
      renderFloor();
      return;
    }
    $("live-item-label").textContent = fmt(T.item, { n: item.position }) +
      (item.item_id === state.meeting.current_item_id ? " · " + T.current : "");
    title.textContent = item.title;
    $("live-item-meta").textContent = [item.ministry, item.presenter, fmt(T.planned, { n: item.duration_minutes })]
      .filter(Boolean).join(" · ");
    link.hidden = false;
    link.href = itemUrl.replace(/\/0$/, "/" + item.item_id);
    $("live-comment-form").hidden = false;
    renderFloor();
    renderQueue(item);
    renderComments(item);
  }

  // --- the item's document, in the embedded viewer (the documents domain's own page, same origin) ---
  var PAGE_TURN_INTERVAL = 300;
  var pageTurns = null, frameDocId = null, frameReady = false, wantedPage = null, presenting = false;
  var frameWatch = null, frameTimer = null;
  var frame = $("room-doc-frame");

  function docInfo(itemId, documentId) {
    var list = documents[String(itemId)] || [];
    for (var i = 0; i < list.length; i++) { if (list[i].document_id === documentId) { return list[i]; } }
    return null;
  }

  function mayPresent(item) {
    if (isConsole) { return true; }
    var norm = function (x) { return (x || "").split(/\s+/).join(" ").trim().toLowerCase(); };
    return !!item && item.item_id === state.meeting.current_item_id && norm(item.presenter) !== "" &&
      norm(item.presenter) === norm(userName);
  }

  function renderDocument() {
    var view = { following: following || isConsole, shownItemId: shownItemId, chosen: chosen };
    var p = state.presenter || null;
    var t = screen.target(view, { currentItemId: state.meeting.current_item_id, presenter: p, documents: documents });
    // A presented document stays open when the presenting ends.
    if (t.presented) { chosen[String(t.itemId)] = t.documentId; }
    var list = documents[String(t.itemId)] || [];
    var shownItem = itemById(t.itemId);
    $("room-doc-item").textContent = shownItem ? fmt(T.item, { n: shownItem.position }) + ": " + shownItem.title : "";
    var tabs = $("room-doc-tabs");
    tabs.replaceChildren();
    list.forEach(function (d) {
      var b = el("button", d.title, "btn room-doc-tab");
      b.type = "button";
      b.setAttribute("aria-pressed", d.document_id === t.documentId ? "true" : "false");
      b.addEventListener("click", function () {
        // The presenter switching documents presents the new one.
        if (presenting && t.presented && d.document_id !== t.documentId) { share(d.document_id, 1); return; }
        chosen[String(t.itemId)] = d.document_id;
        // Picking another document than the presented one is browsing: the presenter no longer leads.
        if (t.presented && d.document_id !== t.documentId && !isConsole) { following = false; shownItemId = t.itemId; }
        render();
      });
      tabs.appendChild(b);
    });
    tabs.hidden = list.length < 2;
    // No document: say why in the document's place (no item yet, or an item without documents).
    var none = $("room-no-doc");
    if (!none.dataset.text) { none.dataset.text = none.textContent; }
    none.hidden = t.documentId !== null;
    none.textContent = t.itemId === null ? T.no_item : none.dataset.text;
    var info = t.documentId !== null ? docInfo(t.itemId, t.documentId) : null;
    var open = $("room-doc-open");
    open.hidden = !info;
    if (info) { open.href = info.url; }
    // What is presented, and by whom; the chair or the item's presenter may present the document shown.
    var shown = !!p && !!info && p.document_id === info.document_id;
    var badge = $("room-presenting");
    badge.hidden = !shown;
    badge.textContent = shown ? (p.by ? fmt(T.presenting, { name: p.by }) : T.presented) : "";
    var item = itemById(t.itemId);
    // This reader leads when the presentation is theirs (also after a reload of the page: the name is the
    // server's, from their account).
    presenting = shown && mayPresent(item) && p.by === userName;
    $("room-share").hidden = !info || shown || !mayPresent(item);
    $("room-stop").hidden = !shown || !mayPresent(item);
    // The presenter's own tablet leads: the numbers coming back would only pull it to older pages.
    showDocument(info, presenting ? null : t.page);
  }

  function showDocument(info, page) {
    var id = info ? info.document_id : null;
    if (page !== null) { wantedPage = page; }
    if (id !== frameDocId) {
      frameDocId = id;
      frameReady = false;
      stopWatching();
      if (page === null) { wantedPage = null; }
      frame.hidden = !info;
      frame.classList.remove("is-ready");
      if (info) { frame.src = info.url; } else { frame.removeAttribute("src"); }
      return;
    }
    if (frameReady && wantedPage !== null) { turnFrameTo(wantedPage); }
  }

  function frameDocument() {
    try { return frame.contentDocument; } catch (e) { return null; }  // not the same origin: never expected
  }

  // The viewer keeps the page it shows in its toolbar, and turns with its own previous/next buttons: the
  // room reads and presses them, so the viewer page needs no knowledge of the room.
  function framePage(doc) {
    var label = doc.querySelector('.viewer-tools [data-role="page"]');
    return label ? Number(label.textContent) : NaN;
  }

  function turnFrameTo(page) {
    var doc = frameDocument();
    if (!doc) { return; }
    var steps = screen.pageSteps(framePage(doc), page);
    var b = doc.querySelector('.viewer-tools [data-action="' + (steps > 0 ? "next" : "prev") + '"]');
    for (var i = 0; b && i < Math.abs(steps); i++) { b.click(); }
  }

  frame.addEventListener("load", function () {
    var doc = frameDocument();
    if (!doc || !doc.documentElement) { return; }
    // Inside the room the viewer shows the document only: the site's bar and the page's heading are the room's.
    doc.documentElement.classList.add("in-room");
    if (!doc.getElementById("room-frame-css")) {
      var link = doc.createElement("link");
      link.id = "room-frame-css";
      link.rel = "stylesheet";
      link.href = root.dataset.roomCss;
      link.addEventListener("load", function () { frame.classList.add("is-ready"); });
      doc.head.appendChild(link);
    }
    waitForViewer(doc, 0);
  });

  function waitForViewer(doc, tries) {
    clearTimeout(frameTimer);
    var viewer = doc.getElementById("viewer");
    if (!viewer || !viewer.classList.contains("ready")) {
      if (tries < 300 && frameDocument() === doc) { frameTimer = setTimeout(function () { waitForViewer(doc, tries + 1); }, 100); }
      return;
    }
    frameReady = true;
    frame.classList.add("is-ready");
    if (wantedPage !== null) { turnFrameTo(wantedPage); }
    watchPages(doc);
  }

  // The presenter turns pages in the viewer as anywhere else; the room sends the turns (coalesced).
  function watchPages(doc) {
    stopWatching();
    var label = doc.querySelector('.viewer-tools [data-role="page"]');
    if (!label || typeof MutationObserver === "undefined") { return; }
    frameWatch = new MutationObserver(function () {
      var p = state && state.presenter;
      var page = framePage(doc);
      if (presenting && p && p.document_id === frameDocId && Number.isInteger(page) && page !== p.page) {
        pageTurns.push(page);
      }
    });
    frameWatch.observe(label, { childList: true, characterData: true, subtree: true });
  }

  function stopWatching() {
    if (frameWatch) { frameWatch.disconnect(); frameWatch = null; }
  }

  function share(documentId, page) {
    if (!socket || documentId === null) { return; }
    socket.timeout(10000).emit("presenter.share", { meeting_id: meetingId, document_id: documentId,
                                                   page: Number.isInteger(page) && page > 0 ? page : 1 },
      function (err, ack) {
        if (err) { showError(T.reconnecting, "document"); return; }
        if (!ack.ok) { showError(ack.message || ack.error, "document"); return; }
        refusals.clear("document");
        presenting = true;
        pageTurns.reset();
      });
  }

  // Presenting starts at the page the presenter is reading.
  $("room-share").addEventListener("click", function () {
    var doc = frameReady ? frameDocument() : null;
    share(frameDocId, doc ? framePage(doc) : 1);
  });
  $("room-stop").addEventListener("click", function () { presenting = false; act("presenter.stop", {}, "document"); });

  // The landscape layout fills the screen below the room's heading, whose height depends on how it wraps.
  function measure() {
    var layout = $("room-layout");
    var top = layout.getBoundingClientRect().top + window.scrollY;
    root.style.setProperty("--room-top", Math.round(top) + "px");
  }
  window.addEventListener("resize", measure);
  if (typeof ResizeObserver !== "undefined") { new ResizeObserver(measure).observe(root.querySelector(".room-head")); }
  measure();

  function renderFloor() {
    var f = state.meeting.floor;
    // The media panel (static/js/media.js) shows whoever has the floor large.
    document.dispatchEvent(new CustomEvent("live:floor", { detail: f ? { user_id: f.user_id } : null }));
    $("live-floor").textContent = f ? fmt(T.speaking, { name: f.name }) + " · " + elapsed(f.started_at) : T.nobody;
  }

  function renderQueue(item) {
    var list = $("live-queue");
    list.replaceChildren();
    var queue = (state.queues[item.item_id] || []).filter(function (r) { return r.status === "waiting"; });
    var mine = null;
    queue.forEach(function (r, index) {
      var li = el("li", r.name + (r.from_position ? " (" + T.from_position + ")" : ""));
      li.dataset.requestId = r.request_id;
      if (r.user_id === userId) { mine = r; }
      if (isConsole) {
        li.appendChild(button(T.grant, function () { act("chair.grant_floor", { request_id: r.request_id }, "floor"); }));
        if (index > 0) { li.appendChild(button(T.up, function () { moveRequest(item, queue, index, -1); })); }
        if (index < queue.length - 1) { li.appendChild(button(T.down, function () { moveRequest(item, queue, index, 1); })); }
      }
      list.appendChild(li);
    });
    var rf = $("live-request-floor");
    if (rf) {
      rf.hidden = false;
      rf.textContent = mine ? T.withdraw : rf.dataset.label || rf.textContent;
      if (!rf.dataset.label) { rf.dataset.label = rf.textContent; }
      rf.onclick = function () {
        if (mine) { act("floor.withdraw", { request_id: mine.request_id }, "floor"); }
        else { act("floor.request", { item_id: item.item_id }, "floor"); }
      };
    }
  }

  function moveRequest(item, queue, index, step) {
    var ids = queue.map(function (r) { return r.request_id; });
    act("chair.reorder_queue", { item_id: item.item_id, request_ids: rules.moved(ids, index, step) }, "floor");
  }

  function renderComments(item) {
    var list = $("live-comments");
    list.replaceChildren();
    state.comments.filter(function (c) { return c.item_id === item.item_id; }).forEach(function (c) {
      var li = el("li", null, c.hidden ? "is-hidden" : "");
      li.appendChild(el("strong", c.author + ": "));
      li.appendChild(document.createTextNode(c.hidden && !c.body ? T.hidden_comment : c.body));
      if (isConsole && !c.hidden) {
        li.appendChild(button(T.hide, function () { act("chair.hide_comment", { comment_id: c.comment_id }, "comments"); }));
      }
      list.appendChild(li);
    });
  }

  function renderAttendance() {
    var a = state.attendance;
    var q = a.quorum;
    $("live-quorum").textContent = (q.reached ? T.quorum_reached : T.quorum_missing) + " — " +
      fmt(T.present_of, { present: q.present, eligible: q.eligible, required: q.required });
    $("live-quorum").className = q.reached ? "quorum-ok" : "quorum-missing";
    var list = $("live-present");
    list.replaceChildren();
    var media = {};
    mediaPeople.forEach(function (p) { media[p.user_id] = p; });
    var listed = {};
    a.present.forEach(function (p) {
      listed[p.user_id] = true;
      list.appendChild(presentItem(p.user_id, p.name + " (" + (T[p.mode] || p.mode) + ")", media[p.user_id]));
    });
    // Connected by audio or video without having checked in yet: shown too, so the chair sees them.
    mediaPeople.forEach(function (p) {
      if (!listed[p.user_id]) { list.appendChild(presentItem(p.user_id, p.name + " (" + T.not_checked_in + ")", p)); }
    });
    $("live-online-count").textContent = state.online.length;
    $("live-media-count").textContent = mediaPeople.length ? " · " + fmt(T.media_connected, { n: mediaPeople.length }) : "";
  }

  function presentItem(personId, text, media) {
    var li = el("li", text);
    li.dataset.userId = String(personId);
    if (state.online.indexOf(personId) >= 0) { li.classList.add("is-online"); }
    if (media) {
      var video = media.mode === "video";
      var badge = el("span", video ? T.media_video : T.media_audio, "badge badge-info media-badge");
      badge.dataset.media = video ? "video" : "audio";
      li.appendChild(document.createTextNode(" "));
      li.appendChild(badge);
    }
    return li;
  }

  function button(label, onClick) {
    var b = el("button", label, "btn btn-small needs-online");
    b.dataset.refusalKey = "floor";
    b.type = "button";
    b.disabled = !online;
    b.addEventListener("click", onClick);
    return b;
  }

  function elapsed(iso) {
    return rules.elapsedText(iso, Date.now() + clockOffset);
  }

  // A refusal stays beside the control that caused it (`key`: its slot) until it is dismissed, and is
  // said in the page's live region (live-console.js).
  function showError(message, key) {
    if (!message) { return; }
    if (refusals) { refusals.show(key || "page", T["error_" + message] || message); }
  }

  function act(name, data, key) {
    if (!socket) { return; }  // not connected yet: the buttons are still disabled
    var payload = Object.assign({ meeting_id: meetingId }, data || {});
    socket.timeout(10000).emit(name, payload, function (err, ack) {
      if (err) { showError(T.reconnecting, key); return; }
      if (!ack.ok) { showError(ack.message || ack.error, key); return; }
      if (refusals) { refusals.clear(key); }
    });
  }

  // A question that changes nothing (the console's overview): the answer, or null.
  function ask(name, data, done) {
    if (!socket) { done(null); return; }
    socket.timeout(10000).emit(name, Object.assign({ meeting_id: meetingId }, data || {}), function (err, ack) {
      done(err ? null : ack);
    });
  }

  document.querySelectorAll("[data-action]").forEach(function (b) {
    b.addEventListener("click", function () {
      act(b.dataset.action, b.dataset.mode ? { mode: b.dataset.mode } : {}, b.dataset.refusalKey || "page");
    });
  });
  var adopt = $("live-adopt-consent");
  if (adopt) { adopt.addEventListener("click", function () { act("chair.adopt_consent", {}, "consent"); }); }
  var follow = $("live-follow");
  if (follow) {
    follow.addEventListener("click", function () { following = !following; if (state) { render(); } });
    $("live-back").addEventListener("click", function () { following = true; if (state) { render(); } });
  }
  $("live-comment-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = $("live-comment-body");
    if (!body.value.trim() || !shownItemId) { return; }
    var clientId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    act("comment.post", { item_id: shownItemId, body: body.value, client_id: clientId.slice(0, 64) }, "comments");
    body.value = "";
  });

  // --- voting (ecabinet/voting): ballots of this meeting, participation, casting, the chair's open/close ---
  var ballots = {}, ballotOrder = [], ballotReceipts = {}, ballotUrl = root.dataset.ballotUrl;

  function setBallots(list, tallies) {
    ballots = {}; ballotOrder = [];
    list.forEach(function (b) { ballots[b.ballot_id] = b; ballotOrder.push(b.ballot_id); });
    (tallies || []).forEach(function (t) { rules.applyTally(ballots, t, meetingId); });
    renderBallots();
  }

  function loadBallots() {
    socket.emit("vote.list", { meeting_id: meetingId }, function (ack) {
      if (ack && ack.ok) { setBallots(ack.ballots); }
    });
  }

  // The item's outcome is set by rules.applyPayload; here, the ballots list.
  function applyBallot(b) {
    var known = ballots[b.ballot_id];
    if (!known || known.status !== b.status) { loadBallots(); }  // new ballot, or eligibility fixed at opening
    if (known) { Object.assign(known, b); }
    renderBallots();
  }

  function voteKey(ballotId) {
    var name = "ecabinet-vote-" + userId + "-" + ballotId;
    var key = null;
    try { key = window.localStorage.getItem(name); } catch (e) { key = null; }
    if (!key) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      key = Array.prototype.map.call(bytes, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
      try { window.localStorage.setItem(name, key); } catch (e) { /* private mode: one key per page */ }
    }
    return key;
  }

  // The member's own choice and receipt, kept on their device so that the chosen option still shows
  // after a reload (the server cannot say it for a secret ballot: it does not know it).
  function receiptKey(ballotId) { return "ecabinet-receipt-" + userId + "-" + ballotId; }
  function storedReceipt(ballotId) {
    if (ballotReceipts[ballotId]) { return ballotReceipts[ballotId]; }
    try {
      var kept = JSON.parse(window.localStorage.getItem(receiptKey(ballotId)) || "null");
      if (kept && typeof kept.code === "string" && typeof kept.choice === "string") { ballotReceipts[ballotId] = kept; }
    } catch (e) { /* unreadable: nothing shown */ }
    return ballotReceipts[ballotId];
  }

  function castVote(b, choice) {
    socket.timeout(15000).emit("vote.cast", { meeting_id: meetingId, ballot_id: b.ballot_id, choice: choice,
                                              client_vote_id: voteKey(b.ballot_id) }, function (err, ack) {
      if (err) { showError(T.reconnecting, "ballot-" + b.ballot_id); return; }  // safe to retry: the same key makes it one vote
      if (!ack.ok) { showError(ack.message || ack.error, "ballot-" + b.ballot_id); return; }
      refusals.clear("ballot-" + b.ballot_id);
      ballotReceipts[b.ballot_id] = { code: ack.receipt, choice: choice };
      try { window.localStorage.setItem(receiptKey(b.ballot_id), JSON.stringify(ballotReceipts[b.ballot_id])); }
      catch (e) { /* private mode: shown until the page is left */ }
      b.voted_me = true;
      renderBallots();
    });
  }

  // Changing a vote already cast is one tap plus a confirmation that names the new choice.
  function confirmChange(label, onConfirm) {
    var dialog = $("vote-confirm");
    if (!dialog || typeof dialog.showModal !== "function") { onConfirm(); return; }
    $("vote-confirm-text").textContent = fmt(T.vote_change_confirm, { choice: label });
    var ok = $("vote-confirm-ok");
    var fresh = ok.cloneNode(true);  // one listener: the last choice asked about
    ok.replaceWith(fresh);
    fresh.addEventListener("click", function () { dialog.close(); onConfirm(); });
    dialog.showModal();
  }

  var CHOICE_ICONS = { yes: "\u2713", no: "\u2715", abstain: "\u2013", other: "\u2026" };

  function renderBallots() {
    var box = $("live-ballots");
    if (!box) { return; }
    var list = $("live-ballot-list");
    list.replaceChildren();
    box.hidden = !ballotOrder.length;
    ballotOrder.forEach(function (id) {
      var b = ballots[id];
      var card = el("div", null, "live-ballot ballot-" + b.status);
      card.dataset.ballotId = b.ballot_id;
      var head = el("h3", b.title);
      card.appendChild(head);
      card.appendChild(el("p", (T["vote_status_" + b.status] || b.status) + (b.secret ? " · " + T.vote_secret : ""),
                          "muted"));
      var part = null;
      if (b.status !== "draft") {
        part = el("p", fmt(T.vote_participation, { voted: b.voted, eligible: b.eligible }), "ballot-participation");
        part.setAttribute("data-testid", "ballot-participation");
      }
      if (chair) {
        // The chair runs the vote in a section of its own, apart from (and above) their own vote.
        card.appendChild(chair.ballotSection(b, part));
      } else {
        if (part) { card.appendChild(part); }
        if (b.running && b.status === "open") {
          var q0 = b.questions[0];
          card.appendChild(el("p", q0.options.map(function (o) {
            return (T[o.key] || o.label) + " " + ((b.running[q0.question_id] || {})[o.key] || 0);
          }).join(" · "), "muted"));
        }
      }
      if (b.status === "open" && b.kind === "live" && b.questions.length === 1) {
        if (b.eligible_me) {
          var mySection = el("section", null, "ballot-own");
          if (chair) {
            mySection.setAttribute("aria-label", T.own_vote);
            mySection.appendChild(el("h4", T.own_vote, "ballot-section-title"));
          }
          var options = el("div", null, "ballot-options");
          var kept = storedReceipt(b.ballot_id);
          b.questions[0].options.forEach(function (o) {
            var mine = !!kept && kept.choice === o.key;
            var label = T[o.key] || o.label;
            var btn = el("button", null, "btn btn-large ballot-choice ballot-choice-" + (o.meaning || "other") +
                         " needs-online ballot-option-" + o.key);
            btn.type = "button";
            var icon = el("span", CHOICE_ICONS[o.meaning] || CHOICE_ICONS.other, "ballot-choice-icon");
            icon.setAttribute("aria-hidden", "true");
            btn.appendChild(icon);
            btn.appendChild(el("span", label, "ballot-choice-label"));
            if (mine) { btn.appendChild(el("span", T.vote_your_choice, "ballot-choice-mine")); }
            btn.setAttribute("aria-pressed", mine ? "true" : "false");
            btn.disabled = !online || (b.voted_me && !b.allow_change) || mine;
            btn.addEventListener("click", function () {
              if (b.voted_me) { confirmChange(label, function () { castVote(b, o.key); }); }
              else { castVote(b, o.key); }
            });
            options.appendChild(btn);
          });
          mySection.appendChild(options);
          card.appendChild(mySection);
        } else if (!isConsole) {
          card.appendChild(el("p", T.vote_not_eligible, "muted"));
        }
      }
      if (b.status === "open" && b.kind !== "live") {
        var link = el("a", T.vote_page, "btn");
        link.href = ballotUrl.replace(/\/0$/, "/" + b.ballot_id);
        card.appendChild(link);
      }
      var mineNow = storedReceipt(b.ballot_id);
      if (mineNow) {
        var chosen = (b.questions[0].options.filter(function (o) { return o.key === mineNow.choice; })[0]) || {};
        var receipt = el("p", fmt(T.vote_recorded_choice, { choice: T[mineNow.choice] || chosen.label || mineNow.choice,
                                                             code: mineNow.code }), "flash flash-info vote-receipt");
        receipt.setAttribute("data-testid", "vote-receipt");
        receipt.setAttribute("role", "status");
        card.appendChild(receipt);
      }
      if (!chair) { card.appendChild(el("div", null, "refusal-slot")).dataset.refusalSlot = "ballot-" + b.ballot_id; }
      if (b.status === "closed" && b.result) {
        var q = b.result.questions[0];
        var opts = b.questions[0].options;
        var text = T.vote_result + ": " + (T[b.result.outcome] || b.result.outcome) + " — " + opts.map(function (o) {
          return (T[o.key] || o.label) + " " + (q ? q.counts[o.key] : 0);
        }).join(" · ");
        var result = el("p", text, "ballot-result ballot-outcome-" + b.result.outcome);
        result.setAttribute("data-testid", "ballot-result");
        card.appendChild(result);
      }
      list.appendChild(card);
    });
    if (refusals) { refusals.restore(); }
  }

  // --- end voting ---

  setInterval(function () {
    if (!state) { return; }
    renderTimer();
    renderFloor();
  }, 1000);
  setOnline(false);
  modules.then(function (m) { connect(m[0], m[1], m[2], m[3]); });
})();
