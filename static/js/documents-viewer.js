// The tablet viewer: pdf.js with lazy pages, thumbnails, fit-to-width, Range loading, notes and highlights.
// No inline script or style: positions are set through the CSSOM, which the CSP allows.
const root = document.getElementById("viewer");
const token = document.querySelector('meta[name="csrf-token"]').content;

const pdfjs = await import(root.dataset.pdfjsUrl);
pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.workerUrl;

const pagesBox = root.querySelector(".pages");
const thumbsBox = root.querySelector(".thumbs");
const notesList = root.querySelector(".notes-list");
const unplacedList = root.querySelector(".unplaced-list");
const pageLabel = document.querySelector('[data-role="page"]');
const state = { pdf: null, scale: 1, fit: true, current: 1, pages: [], annotations: [] };

async function api(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "X-CSRFToken": token, Accept: "application/json", "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// --- pages ---------------------------------------------------------------------------------------
function fitScale(page) {
  const width = pagesBox.clientWidth - 16;
  return Math.max(0.3, width / page.getViewport({ scale: 1 }).width);
}

async function layout() {
  const first = await state.pdf.getPage(1);
  if (state.fit) state.scale = fitScale(first);
  for (const entry of state.pages) {
    const viewport = entry.size.clone({ scale: state.scale });
    entry.el.style.width = `${viewport.width}px`;
    entry.el.style.height = `${viewport.height}px`;
    entry.rendered = false;
    entry.el.querySelector("canvas")?.remove();
    entry.el.querySelector(".textLayer")?.remove();
  }
  observePages();
}

async function render(entry) {
  if (entry.rendered) return;
  entry.rendered = true;
  const page = await state.pdf.getPage(entry.number);
  const viewport = page.getViewport({ scale: state.scale });
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${viewport.width}px`;
  canvas.style.height = `${viewport.height}px`;
  entry.el.prepend(canvas);
  await page.render({ canvasContext: canvas.getContext("2d"), viewport,
                      transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null }).promise;
  const layer = document.createElement("div");
  layer.className = "textLayer";
  entry.el.append(layer);
  try {
    const text = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: layer, viewport });
    await text.render();
  } catch (_) { /* a page without selectable text still displays */ }
  drawHighlights(entry);
}

let pageObserver;
function observePages() {
  pageObserver?.disconnect();
  pageObserver = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const entry = state.pages[Number(e.target.dataset.page) - 1];
      if (e.isIntersecting) render(entry);
      if (e.intersectionRatio > 0.4) setCurrent(entry.number);
    }
  }, { root: null, rootMargin: "400px 0px", threshold: [0, 0.4, 0.8] });
  state.pages.forEach((entry) => pageObserver.observe(entry.el));
}

function setCurrent(number) {
  state.current = number;
  pageLabel.textContent = String(number);
  thumbsBox.querySelectorAll("button").forEach((b) => b.setAttribute("aria-current", String(Number(b.dataset.page) === number)));
}

function goTo(number) {
  const entry = state.pages[Math.min(Math.max(number, 1), state.pages.length) - 1];
  entry.el.scrollIntoView({ behavior: "smooth", block: "start" });
  setCurrent(entry.number);
}

// --- thumbnails ----------------------------------------------------------------------------------
function buildThumbs() {
  const observer = new IntersectionObserver(async (entries) => {
    for (const e of entries) {
      if (!e.isIntersecting || e.target.dataset.done) continue;
      e.target.dataset.done = "1";
      const page = await state.pdf.getPage(Number(e.target.dataset.page));
      const viewport = page.getViewport({ scale: 120 / page.getViewport({ scale: 1 }).width });
      const canvas = document.createElement("canvas");
      canvas.width = viewport.width;
      canvas.height = viewport.height;
      e.target.prepend(canvas);
      page.render({ canvasContext: canvas.getContext("2d"), viewport });
    }
  }, { root: thumbsBox, rootMargin: "200px" });
  for (let n = 1; n <= state.pdf.numPages; n++) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb";
    button.dataset.page = String(n);
    const label = document.createElement("span");
    label.textContent = String(n);
    button.append(label);
    button.addEventListener("click", () => goTo(n));
    thumbsBox.append(button);
    observer.observe(button);
  }
}

// --- annotations ---------------------------------------------------------------------------------
function drawHighlights(entry) {
  entry.el.querySelectorAll(".highlight").forEach((h) => h.remove());
  for (const a of state.annotations) {
    if (a.page !== entry.number) continue;
    for (const [x, y, w, h] of a.rects || []) {
      const mark = document.createElement("div");
      mark.className = a.kind === "note" ? "highlight note-mark" : "highlight";
      mark.style.left = `${x * 100}%`;
      mark.style.top = `${y * 100}%`;
      mark.style.width = `${w * 100}%`;
      mark.style.height = `${h * 100}%`;
      mark.title = a.body || a.quote;
      entry.el.append(mark);
    }
  }
}

function noteItem(a) {
  const li = document.createElement("li");
  li.className = "note" + (a.shared ? " shared" : "");
  li.dataset.id = String(a.id);
  const head = document.createElement("div");
  head.className = "note-head";
  if (a.page) {
    const link = document.createElement("button");
    link.type = "button";
    link.className = "btn btn-quiet note-page";
    link.textContent = `${root.dataset.textPage} ${a.page}`;
    link.addEventListener("click", () => goTo(a.page));
    head.append(link);
  }
  if (!a.mine) {
    const who = document.createElement("span");
    who.className = "muted small";
    who.textContent = a.author;
    head.append(who);
  } else if (a.shared) {
    const shared = document.createElement("span");
    shared.className = "badge";
    shared.textContent = root.dataset.textShared;
    head.append(shared);
  }
  li.append(head);
  if (a.quote) {
    const quote = document.createElement("blockquote");
    quote.textContent = a.quote;
    li.append(quote);
  }
  if (a.body) {
    const body = document.createElement("p");
    body.className = "note-body";
    body.textContent = a.body;
    li.append(body);
  }
  if (a.mine) {
    const del = document.createElement("button");
    del.type = "button";
    del.className = "btn btn-quiet";
    del.textContent = root.dataset.textDelete;
    del.addEventListener("click", async () => {
      await api("DELETE", `${root.dataset.annotationsUrl}/${a.id}`);
      await loadAnnotations();
    });
    li.append(del);
  }
  return li;
}

async function loadAnnotations() {
  const data = await api("GET", root.dataset.annotationsUrl);
  state.annotations = data.annotations;
  notesList.replaceChildren(...state.annotations.filter((a) => a.page).map(noteItem));
  unplacedList.replaceChildren(...state.annotations.filter((a) => !a.page).map(noteItem));
  state.pages.filter((p) => p.rendered).forEach(drawHighlights);
}

function selectionAnchor() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const pageEl = range.commonAncestorContainer.parentElement?.closest(".page")
    || (range.commonAncestorContainer.closest && range.commonAncestorContainer.closest(".page"));
  if (!pageEl || !pagesBox.contains(pageEl)) return null;
  const box = pageEl.getBoundingClientRect();
  const rects = Array.from(range.getClientRects()).filter((r) => r.width > 1).slice(0, 50).map((r) => [
    (r.left - box.left) / box.width, (r.top - box.top) / box.height, r.width / box.width, r.height / box.height]);
  const layerText = pageEl.querySelector(".textLayer")?.textContent || "";
  const quote = selection.toString().trim();
  const at = layerText.indexOf(quote);
  return { page: Number(pageEl.dataset.page), quote, rects,
           prefix: at > 0 ? layerText.slice(Math.max(0, at - 60), at) : "",
           suffix: at >= 0 ? layerText.slice(at + quote.length, at + quote.length + 60) : "" };
}

let lastSelection = null;
document.addEventListener("selectionchange", () => { const s = selectionAnchor(); if (s) lastSelection = s; });

root.querySelector(".note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const anchor = lastSelection && lastSelection.page ? lastSelection : { page: state.current, quote: "", rects: [] };
  await api("POST", root.dataset.annotationsUrl, {
    kind: "note", body: form.elements.body.value, shared: form.elements.shared.checked, ...anchor });
  form.reset();
  lastSelection = null;
  await loadAnnotations();
});

document.querySelector('[data-action="highlight"]').addEventListener("click", async () => {
  const anchor = selectionAnchor() || lastSelection;
  if (!anchor) return;
  await api("POST", root.dataset.annotationsUrl, { kind: "highlight", ...anchor });
  window.getSelection()?.removeAllRanges();
  lastSelection = null;
  await loadAnnotations();
});

// --- toolbar -------------------------------------------------------------------------------------
const actions = {
  prev: () => goTo(state.current - 1),
  next: () => goTo(state.current + 1),
  "zoom-in": () => { state.fit = false; state.scale *= 1.2; layout(); },
  "zoom-out": () => { state.fit = false; state.scale /= 1.2; layout(); },
  fit: () => { state.fit = true; layout(); },
  thumbs: (button) => {
    thumbsBox.hidden = !thumbsBox.hidden;
    button.setAttribute("aria-pressed", String(!thumbsBox.hidden));
    if (!thumbsBox.hidden && !thumbsBox.childElementCount) buildThumbs();
    if (state.fit) layout();
  },
};
document.querySelectorAll(".viewer-tools [data-action]").forEach((button) => {
  const action = actions[button.dataset.action];
  if (action) button.addEventListener("click", () => action(button));
});
pagesBox.addEventListener("keydown", (event) => {
  if (event.key === "ArrowRight" || event.key === "PageDown") goTo(state.current + 1);
  if (event.key === "ArrowLeft" || event.key === "PageUp") goTo(state.current - 1);
});
let resizeTimer;
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => state.fit && layout(), 200); });

// --- start ---------------------------------------------------------------------------------------
try {
  // Range requests: only the pages shown are fetched, so a large file opens at once.
  state.pdf = await pdfjs.getDocument({
    url: root.dataset.fileUrl, withCredentials: true, disableAutoFetch: true, disableStream: true,
    rangeChunkSize: 262144, isEvalSupported: false, enableXfa: false,
  }).promise;
  for (let n = 1; n <= state.pdf.numPages; n++) {
    const page = n === 1 ? await state.pdf.getPage(1) : null;
    const el = document.createElement("div");
    el.className = "page";
    el.dataset.page = String(n);
    pagesBox.append(el);
    // Pages are assumed to be the size of the first until rendered: fetching every page's size would
    // defeat the Range loading.
    state.pages.push({ number: n, el, rendered: false, size: (page || (await state.pdf.getPage(1))).getViewport({ scale: 1 }) });
  }
  await layout();
  root.classList.add("ready");
} catch (error) {
  const p = document.createElement("p");
  p.className = "flash flash-error";
  p.textContent = root.dataset.textError;
  pagesBox.append(p);
}
await loadAnnotations();
