// The offline page's list of the meetings this tablet keeps (templates/home/offline.html): each one's
// title and link, read from the offline store after the expired packs are deleted.
import * as store from "./offline-store.js";

const box = document.querySelector("[data-offline-packs]");

async function show() {
  if (!box || !store.supported()) { return; }
  await store.expireAtLaunch();
  const items = [];
  for (const record of await store.packs()) {
    const info = await store.packInfo(record).catch(() => null);
    if (!info) { continue; }
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = info.meeting.url;
    link.textContent = info.meeting.title;
    li.append(link);
    items.push(li);
  }
  box.querySelector("ul").replaceChildren(...items);
  box.hidden = items.length === 0;
}

show().catch(() => {});
