// The room screen: asks /display/state when the room's socket says something changed (and on its own
// while a vote is open), and shows it. It sends nothing; its token is an HttpOnly cookie.
import { elapsed, fill, itemLines, needsFetch, participation, pollDelay, statusKey } from "./display-view.js";
import { retryRefusedConnections } from "./live-sequence.js";

const body = document.body;
const data = body.dataset;
const text = {
  notStarted: data.textNotStarted, inSession: data.textInSession, paused: data.textPaused,
  adjourned: data.textAdjourned, closed: data.textClosed, item: data.textItem, withheld: data.textWithheld,
  noItem: data.textNoItem, itemTime: data.textItemTime, nobody: data.textNobodySpeaking, queueEmpty: data.textQueueEmpty,
  voted: data.textVoted, open: data.textVoteOpen, counting: data.textVoteCounting, closedVote: data.textVoteClosed,
  adopted: data.textOutcomeAdopted, rejected: data.textOutcomeRejected, present: data.textPresent,
  quorumReached: data.textQuorumReached, quorumMissing: data.textQuorumMissing, offline: data.textOffline,
};
const optionWords = { approve: data.textAgree, reject: data.textReject, abstain: data.textAbstain };
const part = (role) => document.querySelector(`[data-role="${role}"]`);

let state = null;
let skew = 0; // server clock minus this screen's clock
let timer = 0;
let asking = false;
let askAgain = false;

const clockFormat = new Intl.DateTimeFormat(data.locale === "vi" ? "vi-VN" : "en-GB",
  { hour: "2-digit", minute: "2-digit", timeZone: data.timezone || "Asia/Ho_Chi_Minh" });

function render() {
  if (!state) return;
  const now = Date.now() + skew;
  part("meeting").textContent = state.meeting.title;
  part("status").textContent = text[statusKey(state.meeting)];
  body.dataset.status = statusKey(state.meeting);
  const lines = itemLines(state.item, state.items_total, text);
  part("item-number").textContent = lines.number;
  part("item-title").textContent = lines.title;
  part("item-presenter").textContent = lines.presenter;
  const item = state.item && !state.item.withheld ? state.item : null;
  const itemTime = item ? elapsed(item.started_at, now, item.stopped_at) : "";
  part("item-time").textContent = itemTime ? `${text.itemTime}: ${itemTime}` : "";
  part("speaker").textContent = item?.speaker ? item.speaker.name : text.nobody;
  part("speaker-time").textContent = item?.speaker ? elapsed(item.speaker.started_at, now) : "";
  const queue = part("queue");
  queue.replaceChildren(...(item?.queue?.length ? item.queue : []).map((name) => {
    const li = document.createElement("li");
    li.textContent = name;
    return li;
  }));
  queue.dataset.empty = item?.queue?.length ? "false" : "true";
  if (!item?.queue?.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = text.queueEmpty;
    queue.append(li);
  }
  renderVote(item?.vote || null);
  const q = state.quorum;
  part("quorum").textContent = `${fill(text.present, q)} · ${q.reached ? text.quorumReached : text.quorumMissing}`;
  part("clock").textContent = clockFormat.format(new Date(now));
}

function renderVote(vote) {
  const box = part("vote");
  box.hidden = !vote;
  if (!vote) return;
  part("vote-heading").textContent = vote.status === "closed" ? text.closedVote
    : vote.status === "counting" ? text.counting : text.open;
  part("vote-title").textContent = vote.title;
  part("vote-participation").textContent = fill(text.voted, vote);
  part("vote-bar").style.width = `${participation(vote)}%`;
  const result = part("vote-result");
  const rows = vote.result ? vote.result.questions.flatMap((q) => q.counts) : [];
  result.replaceChildren(...rows.map((row) => {
    const li = document.createElement("li");
    li.dataset.option = row.key;
    const label = document.createElement("span");
    label.textContent = optionWords[row.key] || row.label;
    const count = document.createElement("strong");
    count.textContent = String(row.count);
    li.append(label, count);
    return li;
  }));
  const outcome = vote.result?.outcome;
  part("vote-outcome").textContent = outcome === "adopted" ? text.adopted : outcome ? text.rejected : "";
}

async function ask() {
  if (asking) { askAgain = true; return; }
  asking = true;
  try {
    const response = await fetch(data.stateUrl, { credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" } });
    if (response.status === 403) { window.location.replace(data.afterUrl); return; }
    if (!response.ok) throw new Error(String(response.status));
    state = await response.json();
    skew = Date.parse(state.server_now) - Date.now();
    render();
  } catch {
    // The next ping or poll asks again.
  } finally {
    asking = false;
    clearTimeout(timer);
    timer = setTimeout(ask, pollDelay(state));
    if (askAgain) { askAgain = false; ask(); }
  }
}

function offline(shown) {
  const note = part("offline");
  note.hidden = !shown;
  note.textContent = shown ? text.offline : "";
}

if (typeof window.io === "function") {
  const socket = window.io("/display", { transports: ["websocket", "polling"] });
  socket.on("connect", () => { offline(false); ask(); }); // a reconnection resyncs from the whole state
  socket.on("disconnect", () => offline(true));
  socket.on("connect_error", () => offline(true));
  // Refused by the server (busy, restarting): asked again after a pause, as the room's tablets do; the
  // screen keeps polling meanwhile (pollDelay).
  retryRefusedConnections(socket);
  socket.on("changed", (ping) => { if (needsFetch(state?.seq, ping?.seq)) ask(); });
}
ask();
setInterval(render, 1000); // the clocks
