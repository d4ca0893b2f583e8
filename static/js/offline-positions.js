// A member's position on an agenda item, set offline (docs/offline.md): on a page of a meeting this
// tablet keeps (the item page, the agenda), the position form stays usable with no network. Its
// submission is queued with a client id (static/js/offline-sync.js) instead of posted, the page says
// that it waits for the network and shows the pending position, and the queue is sent with the notes
// when the network returns. The positions the pack keeps (encrypted, with the agenda) fill the form
// offline, since the page kept in the pack shows them as they were when it was taken.
import * as store from "./offline-store.js";
import { enqueue, newClientId, shownPosition } from "./offline-sync.js";

const ACTION = /\/meetings\/(\d+)\/items\/(\d+)\/position$/;
const random = (n) => crypto.getRandomValues(new Uint8Array(n));
const forms = [];
let words = {};

function fill(template, values) {
  return (template || "").replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function labelOf(form, value) {
  const input = form.querySelector(`input[name="position"][value="${value}"]`);
  const label = input && input.closest("label");
  return label ? label.textContent.trim() : value;
}

/** The words of a position for the reader: "Object — comment". */
export function describe(form, position, comment) {
  return comment ? `${labelOf(form, position)} — ${comment}` : labelOf(form, position);
}

async function show(entry) {
  const { form, itemId, meetingId, hint, pending } = entry;
  const offline = !navigator.onLine;
  hint.hidden = !offline;
  const record = await store.pack(meetingId);
  if (!record) { pending.hidden = true; return; }
  const info = await store.packInfo(record);
  const item = (info.items || []).find((i) => i.id === itemId);
  entry.title = item ? `${item.position}. ${item.title}` : "";
  const shown = shownPosition(item && item.mine, await store.queue(), itemId);
  // Online, the page itself is the server's, unless a position was set offline on it since it loaded.
  if (shown && (offline || shown.pending || entry.queuedHere)) {
    for (const input of form.querySelectorAll('input[name="position"]')) { input.checked = input.value === shown.position; }
    const comment = form.querySelector('textarea[name="comment"]');
    if (comment && document.activeElement !== comment) { comment.value = shown.comment; }
  }
  pending.hidden = !(shown && shown.pending);
  pending.textContent = shown && shown.pending
    ? fill(words.positionPending, { position: describe(form, shown.position, shown.comment) }) : "";
  form.dataset.positionPending = shown && shown.pending ? "true" : "";
}

async function queueFromForm(entry, event) {
  if (navigator.onLine) { return; }  // online: the form posts as always
  event.preventDefault();
  const { form, itemId, meetingId } = entry;
  const chosen = form.querySelector('input[name="position"]:checked');
  if (!chosen) { return; }
  const comment = (form.querySelector('textarea[name="comment"]')?.value || "").trim().slice(0, 500);
  const change = { client_id: newClientId(random), op: "position", item_id: itemId, meeting_id: meetingId,
    local_id: `p-${itemId}`, data: { position: chosen.value, comment }, changed_at: Date.now(),
    label: describe(form, chosen.value, comment), title: entry.title || "" };
  await store.saveQueue(enqueue(await store.queue(), change));
  entry.queuedHere = true;
  await show(entry);
  entry.pending.focus();
}

/**
 * Make the position forms of the meetings this tablet keeps work offline. Called at launch, before
 * the offline banner disables the forms that need the server.
 */
export async function setUpPositions(text) {
  words = text || {};
  if (!(await store.device())) { return; }
  for (const form of document.querySelectorAll("form.position-form")) {
    const match = new URL(form.action, location.href).pathname.match(ACTION);
    if (!match || !(await store.pack(Number(match[1])))) { continue; }
    form.dataset.worksOffline = "";
    const hint = document.createElement("p");
    hint.className = "position-offline-hint";
    hint.textContent = words.positionOffline || "";
    const pending = document.createElement("p");
    pending.className = "position-pending";
    pending.tabIndex = -1;
    pending.setAttribute("role", "status");
    pending.hidden = true;
    const button = form.querySelector('button[type="submit"]');
    (button ? button.parentNode : form).insertBefore(hint, button);
    (button ? button.parentNode : form).insertBefore(pending, button);
    const entry = { form, meetingId: Number(match[1]), itemId: Number(match[2]), hint, pending };
    form.addEventListener("submit", (event) => { queueFromForm(entry, event).catch(() => {}); });
    forms.push(entry);
    await show(entry);
  }
}

/** After a sync, or when the network comes and goes: the pending positions and hints again. */
export async function refreshPositions() {
  for (const entry of forms) { await show(entry); }
}
