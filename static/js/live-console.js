// The chair's console (templates/live/room.html, console parts) and the refusals of every room screen.
// live.js owns the room's state and its socket; this module renders what only the chair sees: the
// meeting's course as a state machine with only the valid steps enabled, the quorum with its rule, the
// confirmations that say what follows from a step, and each refusal beside the control that caused it.

/** Fill "%(name)s" placeholders. */
export function fmt(text, params) {
  return String(text).replace(/%\((\w+)\)s/g, function (m, k) { return params[k] === undefined ? m : params[k]; });
}

/** "Có mặt 2/25 — cần 13 (quá nửa)": the quorum with its rule, in words. */
export function quorumText(q, T) {
  if (!q) { return ""; }
  const rule = T["rule_" + q.rule] || T.rule_more_than_half;
  return fmt(T.quorum_line, { present: q.present, eligible: q.eligible, required: q.required, rule: rule });
}

/** The console's state from the meeting's state (the server sends it; older payloads are derived). */
export function courseOf(meeting) {
  if (!meeting) { return null; }
  if (meeting.course) { return meeting.course; }
  if (meeting.status === "draft" || meeting.status === "published") { return "not_started"; }
  if (meeting.status === "in_session") { return meeting.paused ? "paused" : "in_session"; }
  return "adjourned";
}

/** The steps valid now (the server's list; derived the same way when a payload lacks it). */
export function stepsOf(meeting) {
  if (!meeting) { return []; }
  if (Array.isArray(meeting.steps)) { return meeting.steps; }
  const course = courseOf(meeting);
  return { not_started: meeting.status === "published" ? ["start"] : [], in_session: ["pause", "adjourn"],
           paused: ["resume", "adjourn"], adjourned: [] }[course] || [];
}

/** "m:ss" between two ISO times (the end: `now` in ms when the timer still runs). */
export function itemTime(meeting, now) {
  const start = meeting && typeof meeting.item_started_at === "string" ? Date.parse(meeting.item_started_at) : NaN;
  if (!Number.isFinite(start)) { return "–"; }
  const stop = meeting.item_stopped_at ? Date.parse(meeting.item_stopped_at) : now;
  const s = Math.max(0, Math.floor(((Number.isFinite(stop) ? stop : now) - start) / 1000));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function el(doc, tag, text, cls) {
  const e = doc.createElement(tag);
  if (text !== undefined && text !== null) { e.textContent = text; }
  if (cls) { e.className = cls; }
  return e;
}

/**
 * Refusals: each is shown in the slot beside the control that caused it ([data-refusal-slot=key]; the
 * page's slot when that one is not on the screen) and said in the page's live region, and stays until
 * the reader dismisses it. Re-rendered parts of the screen call `restore()` to put theirs back.
 */
export class Refusals {
  constructor(root, announcer, T) {
    this.root = root;
    this.announcer = announcer;
    this.T = T;
    this.messages = new Map();
  }

  slot(key) {
    const esc = (window.CSS && CSS.escape) ? CSS.escape(key) : key;
    return this.root.querySelector('[data-refusal-slot="' + esc + '"]') ||
      this.root.querySelector('[data-refusal-slot="page"]');
  }

  show(key, message) {
    const k = key || "page";
    this.messages.set(k, message);
    this.render(k);
    if (this.announcer) {
      // Emptied first, so that the same refusal twice is said twice.
      this.announcer.textContent = "";
      const announcer = this.announcer;
      setTimeout(function () { announcer.textContent = message; }, 50);
    }
  }

  dismiss(key) {
    const message = this.messages.get(key);
    this.messages.delete(key);
    const slot = this.slot(key);
    if (slot) { slot.querySelectorAll('[data-refusal="' + key + '"]').forEach(function (n) { n.remove(); }); }
    if (this.announcer && this.announcer.textContent === message) { this.announcer.textContent = ""; }
  }

  /** A successful action of the same control clears its refusal. */
  clear(key) { if (this.messages.has(key || "page")) { this.dismiss(key || "page"); } }

  render(key) {
    const slot = this.slot(key);
    if (!slot) { return; }
    const doc = slot.ownerDocument;
    slot.querySelectorAll('[data-refusal="' + key + '"]').forEach(function (n) { n.remove(); });
    const message = this.messages.get(key);
    if (!message) { return; }
    const box = el(doc, "div", null, "refusal flash flash-error");
    box.dataset.refusal = key;
    box.setAttribute("data-testid", "refusal");
    const text = el(doc, "p", message, "refusal-text");
    box.appendChild(text);
    const close = el(doc, "button", null, "btn btn-small refusal-close");
    close.type = "button";
    close.setAttribute("aria-label", this.T.dismiss);
    close.appendChild(el(doc, "span", "\u00d7", null)).setAttribute("aria-hidden", "true");
    const self = this;
    close.addEventListener("click", function () { self.dismiss(key); });
    box.appendChild(close);
    slot.appendChild(box);
  }

  restore() {
    const self = this;
    this.messages.forEach(function (_m, key) { self.render(key); });
  }
}

/**
 * The chair's console. `ctx`: { root, T, act(name, data, key, done), ask(name, data, done), online(),
 * state(), itemById(id) }. `act` sends a chair event and shows a refusal in the slot `key`.
 */
export class ChairConsole {
  constructor(ctx) {
    this.ctx = ctx;
    this.doc = ctx.root.ownerDocument;
    this.T = ctx.T;
    this.overview = null;
    this.refreshTimer = null;
    this.dialog = this.doc.getElementById("console-confirm");
    this.onConfirm = null;
    const self = this;
    ctx.root.querySelectorAll("[data-step]").forEach(function (b) {
      b.addEventListener("click", function () { self.step(b.dataset.step); });
    });
    const ok = this.doc.getElementById("console-confirm-ok");
    if (ok) {
      ok.addEventListener("click", function () {
        const run = self.onConfirm;
        self.onConfirm = null;
        self.dialog.close("ok");
        if (run) { run(); }
      });
    }
    if (this.dialog) {
      this.dialog.addEventListener("close", function () { self.onConfirm = null; });
    }
  }

  // --- the course --------------------------------------------------------------------------------

  render() {
    const state = this.ctx.state();
    if (!state) { return; }
    const m = state.meeting;
    const course = courseOf(m);
    this.ctx.root.querySelectorAll("#console-states li").forEach(function (li) {
      const current = li.dataset.state === course;
      li.classList.toggle("is-current", current);
      if (current) { li.setAttribute("aria-current", "step"); } else { li.removeAttribute("aria-current"); }
    });
    this.applySteps();
    const q = (state.attendance || {}).quorum;
    const line = this.doc.getElementById("console-quorum");
    if (line && q) {
      line.textContent = (q.reached ? this.T.quorum_reached : this.T.quorum_missing) + " — " + quorumText(q, this.T);
      line.className = "console-quorum " + (q.reached ? "quorum-ok" : "quorum-missing");
    }
    this.renderConsent();
  }

  /** Only the steps valid now are enabled (and none while the room is offline). */
  applySteps() {
    const state = this.ctx.state();
    const valid = state ? stepsOf(state.meeting) : [];
    const online = this.ctx.online();
    this.ctx.root.querySelectorAll("[data-step]").forEach(function (b) {
      b.disabled = !online || valid.indexOf(b.dataset.step) < 0;
    });
  }

  step(name) {
    const self = this;
    const state = this.ctx.state();
    if (!state || stepsOf(state.meeting).indexOf(name) < 0) { return; }
    if (name === "start") {
      const q = (state.attendance || {}).quorum;
      if (q && !q.reached) {
        this.confirmStart(q);
        return;
      }
      this.ctx.act("chair.start", {}, "course");
    } else if (name === "adjourn") {
      this.withOverview(function () { self.confirmAdjourn(); });
    } else {
      this.ctx.act("chair." + name, {}, "course");
    }
  }

  // --- what the server says before a step ----------------------------------------------------------

  /** Ask for the overview (quorum, items not discussed, open votes and who has not voted), then run. */
  withOverview(then) {
    const self = this;
    this.ctx.ask("console.overview", {}, function (ack) {
      let changed = false;
      if (ack && ack.ok) {
        const text = JSON.stringify(ack);
        changed = text !== self.overviewText;
        self.overview = ack;
        self.overviewText = text;
        self.ctx.root.dataset.overview = "ready";  // what the console shows before a step is known
        if (changed) { self.renderConsent(); }
      }
      then(self.overview, changed);
    });
  }

  /** Kept current while the console is open: after events that change what it shows (the ballots are
   * drawn again only when something they show changed). */
  refreshSoon() {
    const self = this;
    if (this.refreshTimer) { return; }  // one question per interval, however many events arrive
    this.refreshTimer = setTimeout(function () {
      self.refreshTimer = null;
      self.withOverview(function (_o, changed) { if (changed && self.onChange) { self.onChange(); } });
    }, this.overview ? 2000 : 300);
  }

  ballotOverview(ballotId) {
    const list = (this.overview && this.overview.ballots) || [];
    for (let i = 0; i < list.length; i++) { if (list[i].ballot_id === ballotId) { return list[i]; } }
    return null;
  }

  itemQuorum(itemId) {
    const state = this.ctx.state();
    const own = this.overview && this.overview.item_quorums && this.overview.item_quorums[String(itemId)];
    return own || (state && state.attendance ? state.attendance.quorum : null);
  }

  // --- confirmations -------------------------------------------------------------------------------

  ask(title, parts, labels, onConfirm) {
    const dialog = this.dialog;
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    this.doc.getElementById("console-confirm-title").textContent = title;
    const body = this.doc.getElementById("console-confirm-body");
    body.replaceChildren();
    parts.forEach(function (p) { body.appendChild(p); });
    const ok = this.doc.getElementById("console-confirm-ok");
    ok.textContent = labels.ok;
    ok.className = "btn " + (labels.danger ? "btn-danger" : "btn-primary");
    this.doc.getElementById("console-confirm-cancel").textContent = labels.cancel;
    this.onConfirm = onConfirm;
    dialog.showModal();
    this.doc.getElementById("console-confirm-cancel").focus();
  }

  para(text, cls) { return el(this.doc, "p", text, cls); }

  list(heading, rows, testid) {
    const box = el(this.doc, "div", null, "console-confirm-list");
    box.appendChild(el(this.doc, "h3", heading));
    const ul = el(this.doc, "ul");
    if (testid) { ul.setAttribute("data-testid", testid); }
    rows.forEach(function (r) { ul.appendChild(el(box.ownerDocument, "li", r)); });
    box.appendChild(ul);
    return box;
  }

  confirmStart(q) {
    const T = this.T;
    const self = this;
    this.ask(T.start_title, [
      this.para(T.quorum_missing + " — " + quorumText(q, T), "console-warning"),
      this.para(T.start_consequence),
    ], { ok: T.start_anyway, cancel: T.start_wait, danger: false }, function () {
      self.ctx.act("chair.start", { below_quorum: true }, "course");
    });
  }

  confirmAdjourn() {
    const T = this.T;
    const self = this;
    const o = this.overview || {};
    const parts = [];
    const open = o.ballots || [];
    if (open.length) {
      parts.push(this.list(T.adjourn_open_votes, open.map(function (b) {
        return b.title + " — " + fmt(T.voted_of, { voted: b.voted, eligible: b.eligible });
      }), "adjourn-open-votes"));
      parts.push(this.para(T.adjourn_open_votes_note, "console-warning"));
    }
    const undiscussed = (o.not_discussed || []).map(function (id) { return self.ctx.itemById(id); }).filter(Boolean);
    if (undiscussed.length) {
      parts.push(this.list(T.adjourn_not_discussed, undiscussed.map(function (it) { return it.position + ". " + it.title; }),
                           "adjourn-not-discussed"));
    }
    if (!open.length && !undiscussed.length) { parts.push(this.para(T.adjourn_all_done)); }
    parts.push(this.para(T.adjourn_consequence, "console-final"));
    this.ask(T.adjourn_title, parts, { ok: T.adjourn_ok, cancel: T.adjourn_cancel, danger: true }, function () {
      self.ctx.act("chair.adjourn", {}, "course");
    });
  }

  /** Close a vote: who has not voted yet (present first), the participation of those present, the quorum. */
  confirmClose(ballot) {
    const self = this;
    const key = "ballot-" + ballot.ballot_id;
    this.withOverview(function () {
      const T = self.T;
      const o = self.ballotOverview(ballot.ballot_id);
      const parts = [];
      if (o) {
        const p = self.para(fmt(T.close_present_voted, { voted: o.present_voted, present: o.present }) + " " +
                            fmt(T.close_all_voted, { voted: o.voted, eligible: o.eligible }), "console-participation");
        p.setAttribute("data-testid", "close-participation");
        parts.push(p);
        const here = o.not_voted.filter(function (v) { return v.present; }).map(function (v) { return v.name; });
        const away = o.not_voted.filter(function (v) { return !v.present; }).map(function (v) { return v.name; });
        if (here.length) { parts.push(self.list(fmt(T.close_not_voted_present, { n: here.length }), here, "not-voted-present")); }
        if (away.length) { parts.push(self.list(fmt(T.close_not_voted_absent, { n: away.length }), away, "not-voted-absent")); }
        if (!o.not_voted.length) { parts.push(self.para(T.close_everyone_voted)); }
        const q = self.para((o.quorum.reached ? T.quorum_reached : T.quorum_missing) + " — " + quorumText(o.quorum, T),
                            o.quorum.reached ? "quorum-ok" : "quorum-missing console-warning");
        q.setAttribute("data-testid", "close-quorum");
        parts.push(q);
        if (!o.quorum.reached) { parts.push(self.para(T.close_no_quorum, "console-warning")); }
      }
      parts.push(self.para(T.close_consequence, "console-final"));
      self.ask(fmt(T.close_title, { title: ballot.title }), parts,
               { ok: T.close_ok, cancel: T.close_cancel, danger: true }, function () {
                 self.ctx.act("chair.close_vote", { ballot_id: ballot.ballot_id }, key);
               });
    });
  }

  // --- the consent block ---------------------------------------------------------------------------

  renderConsent() {
    const state = this.ctx.state();
    const box = this.doc.getElementById("live-consent");
    if (!box || !state) { return; }
    const ids = state.consent_block || [];
    box.hidden = !ids.length || state.meeting.consent_adopted;
    const silent = (this.overview && this.overview.consent_without_positions) || [];
    const list = this.doc.getElementById("live-consent-items");
    list.replaceChildren();
    const self = this;
    ids.forEach(function (id) {
      const it = self.ctx.itemById(id);
      if (!it) { return; }
      const li = el(self.doc, "li", it.position + ". " + it.title);
      if (silent.indexOf(id) >= 0) {
        li.appendChild(self.doc.createTextNode(" "));
        const badge = el(self.doc, "span", self.T.no_member_position, "badge badge-warn");
        badge.setAttribute("data-testid", "no-position");
        li.appendChild(badge);
      }
      list.appendChild(li);
    });
  }

  // --- a ballot's chair section ---------------------------------------------------------------------

  /** The chair's part of a ballot card: participation, the quorum before opening, the running counts
   * where the ballot shows them, and open / close, apart from the chair's own vote. */
  ballotSection(b, participation) {
    const T = this.T;
    const self = this;
    const doc = this.doc;
    const box = el(doc, "section", null, "ballot-chair");
    box.setAttribute("aria-label", fmt(T.run_vote_label, { title: b.title }));
    box.appendChild(el(doc, "h4", T.run_vote, "ballot-section-title"));
    if (participation) { box.appendChild(participation); }
    if (b.status === "draft") {
      const q = this.itemQuorum(b.item_id);
      if (q) {
        const line = el(doc, "p", (q.reached ? T.quorum_reached : T.quorum_missing) + " — " + quorumText(q, T),
                        "ballot-quorum " + (q.reached ? "quorum-ok" : "quorum-missing"));
        line.setAttribute("data-testid", "ballot-quorum");
        box.appendChild(line);
      }
      const open = el(doc, "button", T.vote_open, "btn btn-primary btn-large needs-online");
      open.type = "button";
      open.disabled = !this.ctx.online();
      open.addEventListener("click", function () {
        self.ctx.act("chair.open_vote", { ballot_id: b.ballot_id }, "ballot-" + b.ballot_id);
      });
      box.appendChild(open);
    }
    if (b.status === "open") {
      box.appendChild(this.runningCounts(b));
      const close = el(doc, "button", null, "btn btn-danger btn-large needs-online ballot-close");
      close.type = "button";
      const icon = el(doc, "span", "\u25a0", "ballot-close-icon");
      icon.setAttribute("aria-hidden", "true");
      close.appendChild(icon);
      close.appendChild(el(doc, "span", T.vote_close));
      close.disabled = !this.ctx.online();
      close.addEventListener("click", function () { self.confirmClose(b); });
      box.appendChild(close);
    }
    box.appendChild(el(doc, "div", null, "refusal-slot")).dataset.refusalSlot = "ballot-" + b.ballot_id;
    return box;
  }

  /** Running counts per option, from the ballot's tally: the voting policy sends none for a secret
   * ballot or one that keeps its results until the close, and the console says so. */
  runningCounts(b) {
    const T = this.T;
    const doc = this.doc;
    const wrap = el(doc, "div", null, "ballot-running");
    wrap.setAttribute("data-testid", "running-counts");
    if (!b.running) {
      wrap.appendChild(el(doc, "p", b.secret ? T.running_secret : T.running_hidden, "muted"));
      return wrap;
    }
    (b.questions || []).forEach(function (q) {
      const counts = b.running[q.question_id] || b.running[String(q.question_id)] || {};
      const table = el(doc, "table", null, "ballot-running-table");
      table.appendChild(el(doc, "caption", (b.questions.length > 1 ? q.text + " — " : "") + T.running_caption));
      const total = q.options.reduce(function (n, o) { return n + (counts[o.key] || 0); }, 0);
      const body = el(doc, "tbody");
      q.options.forEach(function (o) {
        const n = counts[o.key] || 0;
        const tr = el(doc, "tr", null, "ballot-running-" + (o.meaning || "other"));
        tr.dataset.option = o.key;
        tr.appendChild(el(doc, "th", T[o.key] || o.label)).setAttribute("scope", "row");
        const cell = el(doc, "td", null, "ballot-running-bar");
        const bar = el(doc, "span", null, "bar");
        bar.style.setProperty("--share", total ? String(n / total) : "0");
        bar.setAttribute("aria-hidden", "true");
        cell.appendChild(bar);
        tr.appendChild(cell);
        tr.appendChild(el(doc, "td", String(n), "ballot-running-count"));
        body.appendChild(tr);
      });
      table.appendChild(body);
      wrap.appendChild(table);
    });
    return wrap;
  }
}
