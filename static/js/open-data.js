// The public page of published conclusions and decisions: every 15 seconds it asks whether the list has
// changed, and offers to show the new one (it never reloads under a reader's eyes).
const list = document.querySelector("[data-open-list]");
const notice = document.querySelector("[data-open-fresh]");
const EVERY_MS = 15000;

async function check() {
  if (document.hidden) return;
  try {
    const response = await fetch(list.dataset.poll, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) return;
    const { stamp } = await response.json();
    if (stamp && stamp !== list.dataset.stamp) {
      notice.hidden = false;
    }
  } catch {
    // Offline for a moment: the next round tries again.
  }
}

if (list && notice) {
  setInterval(check, EVERY_MS);
  document.addEventListener("visibilitychange", check);
}
