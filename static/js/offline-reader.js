// The viewer's side of offline packs: when the tablet is offline and holds this document, the viewer
// reads its decrypted bytes and works on the tablet's copy of the annotations, every change queued with a
// client id (static/js/offline-sync.js) and sent when the network is back. Online, the viewer works as
// always, and a held document's copy of the annotations is refreshed from what the server answers.
import * as store from "./offline-store.js";
import { LOCAL_PREFIX, annotationData, applyLocal, enqueue, newClientId } from "./offline-sync.js";
import { launched, syncNow } from "./offline.js";

const random = (n) => crypto.getRandomValues(new Uint8Array(n));

export async function offlineReader(annotationsUrl) {
  const documentId = Number((annotationsUrl.match(/\/documents\/(\d+)\//) || [])[1]);
  if (!store.supported()) { return { bytes: null, offline: false, api: null, remember() {} }; }
  await launched;  // expired packs are gone before anything is opened
  const held = await store.openDocument(documentId).catch(() => null);
  const offline = !navigator.onLine && held !== null;
  const reader = { bytes: offline ? new Uint8Array(held.bytes) : null, offline, meta: held && held.meta };

  reader.remember = (data) => {  // online: the held copy follows the server's
    if (held && data && Array.isArray(data.annotations)) { store.putAnnotations(documentId, data.annotations).catch(() => {}); }
  };

  reader.api = offline ? async (method, url, body) => {
    let list = await store.annotations(documentId);
    if (method === "GET") { return { version: held.meta.version, annotations: list }; }
    const id = url === annotationsUrl ? null : decodeURIComponent(url.slice(annotationsUrl.length + 1));
    const current = id === null ? null : list.find((a) => String(a.id) === id);
    if (id !== null && !current) { throw new Error("?"); }
    const change = { client_id: newClientId(random), document_id: documentId, changed_at: Date.now() };
    if (method === "POST") {
      Object.assign(change, { op: "create", local_id: LOCAL_PREFIX + newClientId(random), annotation_id: null,
        data: { ...body, version: held.meta.version } });
    } else if (method === "PATCH") {
      const after = { ...current, ...body };
      Object.assign(change, { op: "update", local_id: current.id,
        annotation_id: typeof current.id === "number" ? current.id : null, data: annotationData(after) });
    } else {
      // The note's own data goes with its deletion: if the deletion loses, the reader still sees what it was.
      Object.assign(change, { op: "delete", local_id: current.id,
        annotation_id: typeof current.id === "number" ? current.id : null, data: annotationData(current) });
    }
    if (change.data) { delete change.data.version; }
    list = applyLocal(list, { ...change, data: { ...change.data, version: held.meta.version } });
    await store.saveQueue(enqueue(await store.queue(), change));
    await store.putAnnotations(documentId, list);
    if (method === "DELETE") { return { ok: true }; }
    return { annotation: list.find((a) => String(a.id) === String(change.local_id)) };
  } : null;

  window.addEventListener("online", () => { syncNow(); });
  return reader;
}
