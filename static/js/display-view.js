// The room screen's logic, without the page: what to show from a state, and when to ask again.
// Unit-tested in tests/js/display-view.test.mjs.

export function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

// "12:05" or "1:02:05": how long since `startedIso`, at `nowMs` on the server's clock.
export function elapsed(startedIso, nowMs, stoppedIso = null) {
  if (!startedIso) return "";
  const start = Date.parse(startedIso);
  const end = stoppedIso ? Date.parse(stoppedIso) : nowMs;
  if (Number.isNaN(start) || Number.isNaN(end)) return "";
  let s = Math.max(0, Math.floor((end - start) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

export function statusKey(meeting) {
  if (!meeting) return "notStarted";
  if (meeting.status === "in_session") return meeting.paused ? "paused" : "inSession";
  if (meeting.status === "adjourned") return "adjourned";
  if (meeting.status === "closed") return "closed";
  return "notStarted";
}

// Whether a "changed" ping means the screen must ask again: a newer event, or one it cannot place
// (no number: a revocation, or the room restarted its numbering).
export function needsFetch(knownSeq, pingSeq) {
  if (pingSeq === null || pingSeq === undefined || knownSeq === null || knownSeq === undefined) return true;
  return pingSeq > knownSeq || pingSeq < knownSeq - 1000;
}

// How soon to ask again without a ping: often while a vote is open (participation moves with every
// ballot cast, which is not a numbered event), rarely otherwise (a safety net for a lost ping).
export function pollDelay(state) {
  const vote = state?.item?.vote;
  return vote && vote.status === "open" ? 2000 : 30000;
}

export function participation(vote) {
  if (!vote || !vote.eligible) return 0;
  return Math.min(100, Math.round((100 * vote.voted) / vote.eligible));
}

// What the item area says: a withheld item by its title alone, or not at all.
export function itemLines(item, total, text) {
  if (!item) return { number: "", title: text.noItem, presenter: "" };
  const number = fill(text.item, { number: item.number, total });
  if (item.withheld) return { number, title: item.title || text.withheld, presenter: "" };
  const presenter = [item.presenter, item.ministry].filter(Boolean).join(" — ");
  return { number, title: item.title, presenter };
}
