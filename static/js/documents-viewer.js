// The document viewer: pdf.js's own viewer components (lazy page views with a text layer, find, links),
// fit to width or to the page at every screen size, touch gestures, full screen, a drawer with the
// outline and page thumbnails, Range loading, and the reader's highlights, notes, pinned notes and ink.
// No inline script or style: positions and sizes are set through the CSSOM, which the CSP allows.
import { attachFullscreen } from "./viewer-fullscreen.js";
import { attachGestures } from "./viewer-gestures.js";
import { attachPen, inkLayer, strokePath } from "./viewer-ink.js";
import { offlineReader } from "./offline-reader.js";

const root = document.getElementById("viewer");
const reader = document.getElementById("reader");
const token = document.querySelector('meta[name="csrf-token"]').content;
const text = root.dataset;
// Offline with this document in a pack: its bytes and notes come from the tablet (static/js/offline-reader.js).
const offline = await offlineReader(root.dataset.annotationsUrl);

const pdfjs = await import(root.dataset.pdfjsUrl);
pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.workerUrl;
// The viewer components read the library from this global when they load.
globalThis.pdfjsLib = pdfjs;
const { EventBus, FindState, PDFFindController, PDFLinkService, PDFViewer, ScrollMode } =
  await import(root.dataset.pdfViewerUrl);

const tools = reader.querySelector(".viewer-tools");
const frame = root.querySelector(".pages-frame");
const pagesBox = root.querySelector(".pages");
const drawer = root.querySelector(".drawer");
const thumbsBox = root.querySelector(".thumbs");
const outlineSection = root.querySelector(".outline-section");
const notesList = root.querySelector(".notes-list");
const unplacedList = root.querySelector(".unplaced-list");
const pageLabel = tools.querySelector('[data-role="page"]');
const zoomLabel = tools.querySelector('[data-role="zoom"]');
const findBar = reader.querySelector(".find-bar");
const findInput = findBar.querySelector("input");
const findStatus = findBar.querySelector(".find-status");
const button = (action) => tools.querySelector(`[data-action="${action}"]`);

const SMALL = window.matchMedia("(max-width: 767px)");
const state = { pdf: null, current: 1, annotations: [], fit: "page-width", color: "yellow", mode: null };

async function api(method, url, body) {
  if (offline.api) return offline.api(method, url, body);
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "X-CSRFToken": token, Accept: "application/json", "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  if (method === "GET") offline.remember(data);
  return data;
}

// --- pdf.js viewer -------------------------------------------------------------------------------
// pdf.js's own strings would be English only (or fetched from files we do not ship): the few it shows
// are set here from the page's translated texts instead.
const l10n = {
  getLanguage: () => document.documentElement.lang || "vi",
  getDirection: () => "ltr",
  get: async (ids, _args, fallback) => (Array.isArray(ids) ? ids.map(() => "") : fallback || ""),
  translate: async () => labelPages(),
  translateOnce: async () => {},
  pause() {}, resume() {}, destroy: async () => {},
};

function labelPages() {
  for (const div of pagesBox.querySelectorAll(".page[data-page-number]")) {
    const label = `${text.textPage} ${div.dataset.pageNumber}`;
    if (div.getAttribute("aria-label") !== label) div.setAttribute("aria-label", label);
  }
}

const eventBus = new EventBus();
const linkService = new PDFLinkService({ eventBus });
const findController = new PDFFindController({ eventBus, linkService, updateMatchesCountOnProgress: true });
const viewer = new PDFViewer({
  container: pagesBox, eventBus, linkService, findController, l10n,
  // No borders: fit to width then uses the whole box, and page boxes are exactly the rendered page,
  // which is what the notes' rectangles are measured against.
  removePageBorders: true,
  annotationMode: pdfjs.AnnotationMode.ENABLE,
  // Enough for a sharp page on a Retina tablet without exhausting its memory.
  maxCanvasPixels: 2 ** 24,
});
linkService.setViewer(viewer);

const isPreset = (value) => value === "page-width" || value === "page-fit";

function fit(value) {
  state.fit = value;
  // Fit page shows one page at a time (swipe or arrows to turn); fit width scrolls through the document.
  const mode = value === "page-fit" ? ScrollMode.PAGE : ScrollMode.VERTICAL;
  if (viewer.scrollMode !== mode) viewer.scrollMode = mode;
  viewer.currentScaleValue = value;
}

function goTo(number) {
  if (!state.pdf) return;
  const page = Math.min(Math.max(number, 1), state.pdf.numPages);
  viewer.currentPageNumber = page;
  setCurrent(page);
  // Until pdf.js has seen the scroll this causes, a refit would scroll back to where the reader was.
  state.turnedTo = page;
}

function setCurrent(number) {
  state.current = number;
  pageLabel.textContent = String(number);
  thumbsBox.querySelectorAll(".thumb").forEach((b) => {
    if (Number(b.dataset.page) === number) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  });
}

eventBus.on("pagesinit", () => { fit(state.fit); labelPages(); });
eventBus.on("pagechanging", ({ pageNumber }) => setCurrent(pageNumber));
eventBus.on("scalechanging", ({ scale, presetValue }) => {
  zoomLabel.textContent = `${Math.round(scale * 100)}%`;
  const preset = isPreset(presetValue) ? presetValue : null;
  if (!preset) state.fit = null;
  button("fit").setAttribute("aria-pressed", String(preset === "page-width"));
  button("fit-page").setAttribute("aria-pressed", String(preset === "page-fit"));
  // pdf.js clears a page's extra layers when it rescales it: put the marks back at once.
  drawAllMarks();
});
eventBus.on("pagerendered", ({ pageNumber }) => { labelPages(); drawMarks(pageNumber); });
// pdf.js has read the scroll position again: its own record of where the reader is now holds.
eventBus.on("updateviewarea", () => { state.turnedTo = null; });

// The box changes size with the window, the drawer, the orientation and full screen: refit.
let refitFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(refitFrame);
  refitFrame = requestAnimationFrame(() => {
    if (!state.pdf || !state.fit) return;
    const turnedTo = state.turnedTo;
    viewer.currentScaleValue = state.fit;
    // A page turned a moment before the box changed size stays turned.
    if (turnedTo) goTo(turnedTo);
  });
}).observe(pagesBox);

// The frame fills the screen below the sticky toolbar, whose height depends on how its buttons wrap.
new ResizeObserver(() => {
  reader.style.setProperty("--tools-height", `${tools.offsetHeight + (findBar.hidden ? 0 : findBar.offsetHeight)}px`);
}).observe(tools);

// --- drawer: outline and thumbnails --------------------------------------------------------------
let thumbsBuilt = false;
function buildThumbs() {
  thumbsBuilt = true;
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
  }, { root: drawer, rootMargin: "200px" });
  for (let n = 1; n <= state.pdf.numPages; n++) {
    const thumb = document.createElement("button");
    thumb.type = "button";
    thumb.className = "thumb";
    thumb.dataset.page = String(n);
    thumb.setAttribute("aria-label", `${text.textPage} ${n}`);
    const label = document.createElement("span");
    label.textContent = String(n);
    label.setAttribute("aria-hidden", "true");
    thumb.append(label);
    thumb.addEventListener("click", () => { goTo(n); if (SMALL.matches) setDrawer(false); });
    thumbsBox.append(thumb);
    observer.observe(thumb);
  }
  setCurrent(state.current);
}

function setDrawer(open) {
  drawer.hidden = !open;
  root.classList.toggle("has-drawer", open);
  button("thumbs").setAttribute("aria-expanded", String(open));
  if (open && !thumbsBuilt && state.pdf) buildThumbs();
}

function outlineList(items) {
  const list = document.createElement("ul");
  for (const item of items) {
    const li = document.createElement("li");
    const entry = document.createElement("button");
    entry.type = "button";
    entry.className = "outline-item";
    entry.textContent = item.title;
    if (item.dest) {
      entry.addEventListener("click", () => {
        linkService.goToDestination(item.dest);
        if (SMALL.matches) setDrawer(false);
      });
    } else {
      entry.disabled = true;
    }
    li.append(entry);
    if (item.items?.length) li.append(outlineList(item.items));
    list.append(li);
  }
  return list;
}

async function buildOutline() {
  const outline = await state.pdf.getOutline().catch(() => null);
  if (!outline?.length) return;
  const list = outlineList(outline);
  list.className = "outline";
  outlineSection.querySelector(".outline").replaceWith(list);
  outlineSection.hidden = false;
}

// --- find ----------------------------------------------------------------------------------------
function find(type, previous = false) {
  eventBus.dispatch("find", {
    source: findInput, type, query: findInput.value, caseSensitive: false, entireWord: false,
    highlightAll: true, findPrevious: previous, matchDiacritics: false,
  });
}

function showCount({ current, total } = {}, found = true) {
  if (!findInput.value) findStatus.textContent = "";
  else if (!found || !total) findStatus.textContent = text.textNotFound;
  else findStatus.textContent = text.textMatches.replace("{current}", current).replace("{total}", total);
}

eventBus.on("updatefindmatchescount", ({ matchesCount }) => showCount(matchesCount));
eventBus.on("updatefindcontrolstate", ({ state: found, matchesCount }) => {
  if (found === FindState.PENDING) return;
  showCount(matchesCount, found !== FindState.NOT_FOUND);
});

function setFindBar(open) {
  findBar.hidden = !open;
  button("find").setAttribute("aria-expanded", String(open));
  reader.style.setProperty("--tools-height", `${tools.offsetHeight + (open ? findBar.offsetHeight : 0)}px`);
  if (open) {
    findInput.focus();
    findInput.select();
  } else {
    eventBus.dispatch("findbarclose", { source: findInput });
    findStatus.textContent = "";
  }
}

findInput.addEventListener("input", () => find(""));
findInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") { event.preventDefault(); find("again", event.shiftKey); }
  if (event.key === "Escape") { setFindBar(false); button("find").focus(); }
});
findBar.querySelector('[data-find="next"]').addEventListener("click", () => find("again"));
findBar.querySelector('[data-find="previous"]').addEventListener("click", () => find("again", true));
findBar.querySelector('[data-find="close"]').addEventListener("click", () => { setFindBar(false); button("find").focus(); });

// --- annotations ---------------------------------------------------------------------------------
// Highlights and notes on a passage (rectangles over the selected text), notes pinned to a point, and
// ink. All positions are fractions of the page box, so they follow the page at any zoom.
function pageDiv(number) { return viewer.getPageView(number - 1)?.div || null; }

function pageAspect(number) {
  const viewport = viewer.getPageView(number - 1)?.viewport;
  return viewport ? viewport.height / viewport.width : 1.414;
}

function place(el, x, y, w, h) {
  el.style.left = `${x * 100}%`;
  el.style.top = `${y * 100}%`;
  if (w !== undefined) el.style.width = `${w * 100}%`;
  if (h !== undefined) el.style.height = `${h * 100}%`;
}

function pinButton(a, x, y) {
  const pin = document.createElement("button");
  pin.type = "button";
  pin.className = `annotation-pin mark-${a.color || "yellow"}` + (a.id ? "" : " pending");
  place(pin, x, y);
  const label = a.body || a.quote || text.textNote;
  pin.setAttribute("aria-label", `${text.textNote}: ${label}`.slice(0, 200));
  pin.title = label.slice(0, 200);
  if (!a.id) return pin;
  pin.dataset.id = String(a.id);
  pin.setAttribute("aria-expanded", "false");
  pin.addEventListener("click", (event) => {
    event.stopPropagation();
    const div = pin.parentElement;
    const open = pin.getAttribute("aria-expanded") !== "true";
    div.querySelectorAll(".pin-popover").forEach((p) => p.remove());
    div.querySelectorAll(".annotation-pin[aria-expanded]").forEach((p) => p.setAttribute("aria-expanded", "false"));
    if (!open) return;
    pin.setAttribute("aria-expanded", "true");
    const popover = document.createElement("div");
    popover.className = "pin-popover";
    popover.setAttribute("role", "note");
    place(popover, Math.min(x, 0.6), y);
    if (!a.mine) {
      const who = document.createElement("p");
      who.className = "muted small";
      who.textContent = a.author;
      popover.append(who);
    }
    const body = document.createElement("p");
    body.textContent = a.body || a.quote;
    popover.append(body);
    div.append(popover);
    notesList.querySelector(`[data-id="${a.id}"]`)?.classList.add("is-open");
  });
  return pin;
}

function drawMarks(number) {
  const div = pageDiv(number);
  if (!div) return;
  div.querySelectorAll(".annotation-mark, .annotation-pin, .pin-popover").forEach((m) => m.remove());
  // The ink layer is kept (a stroke may be under way on it); only its saved strokes are drawn again.
  let layer = div.querySelector(".ink-layer");
  if (!layer) {
    layer = inkLayer(pageAspect(number));
    layer.dataset.page = String(number);
    div.append(layer);
  }
  layer.querySelectorAll(".ink-stroke:not(.drawing)").forEach((p) => p.remove());
  for (const a of state.annotations) {
    if (a.page !== number) continue;
    const color = a.color || "yellow";
    for (const [x, y, w, h] of a.rects || []) {
      const mark = document.createElement("div");
      mark.className = `annotation-mark mark-${color}` + (a.kind === "note" ? " note-mark" : "");
      place(mark, x, y, w, h);
      mark.title = a.body || a.quote;
      div.append(mark);
    }
    if (a.kind === "pin" && a.point) div.append(pinButton(a, a.point[0], a.point[1]));
    else if (a.kind === "note" && a.rects?.length) div.append(pinButton(a, a.rects[0][0], a.rects[0][1]));
    else if (a.kind === "ink") for (const s of a.strokes || []) strokePath(layer, s, color);
  }
  for (const s of pen.pending) if (s.page === number) strokePath(layer, s.stroke, s.color, "pending");
  if (pendingPin?.page === number) div.append(pinButton({ color: state.color, body: "" }, ...pendingPin.point));
}

function drawAllMarks() {
  if (!state.pdf) return;
  for (let n = 1; n <= state.pdf.numPages; n++) {
    if (pageDiv(n)?.querySelector(".canvasWrapper, .annotation-mark, .ink-layer")) drawMarks(n);
  }
}

function noteItem(a) {
  const li = document.createElement("li");
  li.className = `note note-${a.kind}` + (a.shared ? " shared" : "");
  li.dataset.id = String(a.id);
  const head = document.createElement("div");
  head.className = "note-head";
  const swatch = document.createElement("span");
  swatch.className = `swatch-dot mark-${a.color || "yellow"}`;
  swatch.setAttribute("aria-hidden", "true");
  head.append(swatch);
  const kind = { ink: text.textInk, pin: text.textPinned, highlight: text.textHighlight }[a.kind];
  if (kind) {
    const label = document.createElement("span");
    label.className = "small";
    label.textContent = kind;
    head.append(label);
  }
  if (a.page) {
    const link = document.createElement("button");
    link.type = "button";
    link.className = "btn btn-quiet note-page";
    link.textContent = `${text.textPage} ${a.page}`;
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
    shared.textContent = text.textShared;
    head.append(shared);
  }
  if (a.page_changed && a.page) {
    const changed = document.createElement("span");
    changed.className = "badge badge-warn";
    changed.textContent = text.textPageChanged;
    head.append(changed);
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
    const share = document.createElement("button");
    share.type = "button";
    share.className = "btn btn-quiet";
    share.textContent = a.shared ? text.textUnshare : text.textShare;
    share.addEventListener("click", async () => {
      await api("PATCH", `${root.dataset.annotationsUrl}/${a.id}`, { shared: !a.shared });
      await loadAnnotations();
    });
    const del = document.createElement("button");
    del.type = "button";
    del.className = "btn btn-quiet";
    del.textContent = text.textDelete;
    del.addEventListener("click", async () => {
      await api("DELETE", `${root.dataset.annotationsUrl}/${a.id}`);
      await loadAnnotations();
    });
    li.append(share, del);
  }
  return li;
}

async function loadAnnotations() {
  const data = await api("GET", root.dataset.annotationsUrl);
  state.annotations = data.annotations;
  notesList.replaceChildren(...state.annotations.filter((a) => a.page).map(noteItem));
  unplacedList.replaceChildren(...state.annotations.filter((a) => !a.page).map(noteItem));
  drawAllMarks();
}

// The selected text's own boxes: one range per text node, so that neither the text layer's empty
// elements (its end-of-content box covers the whole page) nor a container's box is taken for text.
// Boxes on one line are joined, so that overlapping spans are not painted twice.
function selectionRects(range, pageEl) {
  const box = pageEl.getBoundingClientRect();
  const rootNode = range.commonAncestorContainer;
  const nodes = [];
  if (rootNode.nodeType === Node.TEXT_NODE) nodes.push(rootNode);
  else {
    const walker = document.createTreeWalker(rootNode, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (range.intersectsNode(n)) nodes.push(n);
  }
  const boxes = [];
  for (const node of nodes) {
    if (!node.textContent.trim() || !node.parentElement?.closest(".textLayer")) continue;
    const part = document.createRange();
    part.selectNodeContents(node);
    if (node === range.startContainer) part.setStart(node, range.startOffset);
    if (node === range.endContainer) part.setEnd(node, range.endOffset);
    for (const r of part.getClientRects()) if (r.width > 0.5 && r.height > 0.5) boxes.push(r);
  }
  boxes.sort((a, b) => a.top - b.top || a.left - b.left);
  const lines = [];
  for (const r of boxes) {
    const line = lines.find((l) => r.top < l.bottom - (l.bottom - l.top) / 2 && r.bottom > l.top + (l.bottom - l.top) / 2);
    if (line) {
      line.left = Math.min(line.left, r.left); line.right = Math.max(line.right, r.right);
      line.top = Math.min(line.top, r.top); line.bottom = Math.max(line.bottom, r.bottom);
    } else lines.push({ left: r.left, right: r.right, top: r.top, bottom: r.bottom });
  }
  return lines.slice(0, 50).map((l) => [
    (l.left - box.left) / box.width, (l.top - box.top) / box.height,
    (l.right - l.left) / box.width, (l.bottom - l.top) / box.height]);
}

function selectionAnchor() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const node = range.commonAncestorContainer;
  const pageEl = (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)?.closest(".page");
  if (!pageEl || !pagesBox.contains(pageEl)) return null;
  const rects = selectionRects(range, pageEl);
  const layerText = pageEl.querySelector(".textLayer")?.textContent || "";
  const quote = selection.toString().trim();
  const at = layerText.indexOf(quote);
  return { page: Number(pageEl.dataset.pageNumber), quote, rects,
           prefix: at > 0 ? layerText.slice(Math.max(0, at - 60), at) : "",
           suffix: at >= 0 ? layerText.slice(at + quote.length, at + quote.length + 60) : "" };
}

let lastSelection = null;
document.addEventListener("selectionchange", () => { const s = selectionAnchor(); if (s) lastSelection = s; });

// --- colours, pinned notes and the pen -------------------------------------------------------------
const noteForm = root.querySelector(".note-form");
const noteLabel = noteForm.querySelector('label[for="note-body"]');
const inkTools = tools.querySelector(".ink-tools");
let pendingPin = null; // { page, point } tapped in "pin" mode, waiting for its note

function setColor(color) {
  state.color = color;
  tools.querySelectorAll("[data-color]").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.color === color)));
}

function setMode(mode) {
  state.mode = state.mode === mode ? null : mode;
  button("pin").setAttribute("aria-pressed", String(state.mode === "pin"));
  button("pen").setAttribute("aria-pressed", String(state.mode === "pen"));
  root.classList.toggle("pen-mode", state.mode === "pen");
  root.classList.toggle("pin-mode", state.mode === "pin");
  inkTools.hidden = state.mode !== "pen";
  if (state.mode !== "pin") setPendingPin(null);
}

function setPendingPin(value) {
  const page = pendingPin?.page;
  pendingPin = value;
  noteLabel.textContent = value ? text.textNoteAtPin : text.textNoteOnPage;
  if (page) drawMarks(page);
  if (value) {
    drawMarks(value.page);
    noteForm.elements.body.focus({ preventScroll: true });
  }
}

// In "pin" mode a tap on the page places the pin; the note is then written in the notes panel.
pagesBox.addEventListener("click", (event) => {
  if (state.mode !== "pin" || event.target.closest(".annotation-pin")) return;
  const pageEl = event.target.closest(".page");
  if (!pageEl) return;
  const box = pageEl.getBoundingClientRect();
  const fraction = (n) => Math.round(Math.min(Math.max(n, 0), 1) * 10000) / 10000;
  setPendingPin({ page: Number(pageEl.dataset.pageNumber),
                  point: [fraction((event.clientX - box.left) / box.width), fraction((event.clientY - box.top) / box.height)] });
});

const pen = { pending: [] }; // strokes drawn and not yet saved: { page, stroke, color }

function updateInkTools() {
  button("undo").disabled = !pen.pending.length;
  button("save-ink").disabled = !pen.pending.length;
  inkTools.querySelector(".ink-count").textContent =
    pen.pending.length ? text.textStrokes.replace("{n}", String(pen.pending.length)) : "";
}

attachPen(pagesBox, {
  active: () => state.mode === "pen",
  pageOf: (layer) => Number(layer.dataset.page) || null,
  color: () => state.color,
  onStroke: (page, stroke) => {
    pen.pending.push({ page, stroke, color: state.color });
    drawMarks(page);
    updateInkTools();
  },
});

function undoStroke() {
  const last = pen.pending.pop();
  if (last) drawMarks(last.page);
  updateInkTools();
}

async function saveInk() {
  const byPage = new Map();
  for (const s of pen.pending) {
    const key = `${s.page}|${s.color}`;
    if (!byPage.has(key)) byPage.set(key, { page: s.page, color: s.color, strokes: [] });
    byPage.get(key).strokes.push(s.stroke);
  }
  for (const { page, color, strokes } of byPage.values()) {
    // The server takes at most 200 strokes per annotation.
    for (let i = 0; i < strokes.length; i += 200) {
      await api("POST", root.dataset.annotationsUrl, { kind: "ink", page, color, strokes: strokes.slice(i, i + 200) });
    }
  }
  pen.pending = [];
  updateInkTools();
  await loadAnnotations();
}

noteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const common = { body: form.elements.body.value, shared: form.elements.shared.checked, color: state.color };
  if (pendingPin) {
    await api("POST", root.dataset.annotationsUrl, { kind: "pin", ...common, page: pendingPin.page, point: pendingPin.point });
  } else {
    const anchor = lastSelection && lastSelection.page ? lastSelection : { page: state.current, quote: "", rects: [] };
    await api("POST", root.dataset.annotationsUrl, { kind: "note", ...common, ...anchor });
  }
  form.reset();
  lastSelection = null;
  if (pendingPin) setMode("pin");
  await loadAnnotations();
});

async function highlightSelection() {
  const anchor = selectionAnchor() || lastSelection;
  if (!anchor) return;
  await api("POST", root.dataset.annotationsUrl, { kind: "highlight", color: state.color, ...anchor });
  window.getSelection()?.removeAllRanges();
  lastSelection = null;
  await loadAnnotations();
}

tools.querySelectorAll("[data-color]").forEach((b) => b.addEventListener("click", () => setColor(b.dataset.color)));
setColor("yellow");
updateInkTools();

// --- toolbar, keys and gestures ------------------------------------------------------------------
const actions = {
  prev: () => goTo(state.current - 1),
  next: () => goTo(state.current + 1),
  "zoom-in": () => viewer.increaseScale(),
  "zoom-out": () => viewer.decreaseScale(),
  fit: () => fit("page-width"),
  "fit-page": () => fit("page-fit"),
  thumbs: () => setDrawer(drawer.hidden),
  find: () => setFindBar(findBar.hidden),
  highlight: highlightSelection,
  pin: () => setMode("pin"),
  pen: () => setMode("pen"),
  undo: undoStroke,
  "save-ink": saveInk,
};
tools.querySelectorAll("[data-action]").forEach((b) => {
  const action = actions[b.dataset.action];
  if (action) b.addEventListener("click", () => action(b));
});

attachFullscreen(reader, button("fullscreen"), {
  enter: text.textFullscreen, exit: text.textExitFullscreen,
  changed: () => reader.style.setProperty("--tools-height", `${tools.offsetHeight}px`),
});

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "f") {
    // The browser's own find sees only the pages drawn so far.
    event.preventDefault();
    setFindBar(true);
    return;
  }
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && state.mode === "pen" && !typing(event.target)) {
    event.preventDefault();
    undoStroke();
    return;
  }
  if (event.key === "Escape" && state.mode && !typing(event.target)) { setMode(state.mode); return; }
  if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof HTMLElement && event.target.closest("a, button") && event.key === " ") return;
  const inViewer = reader.contains(event.target) || event.target === document.body;
  if (!inViewer) return;
  // A page zoomed wider than the box pans with the arrows instead.
  const sideways = (event.key === "ArrowRight" || event.key === "ArrowLeft")
    && event.target === pagesBox && pagesBox.scrollWidth > pagesBox.clientWidth + 2;
  if (sideways) return;
  if (event.key === "ArrowRight" || event.key === "PageDown") { event.preventDefault(); goTo(state.current + 1); }
  else if (event.key === "ArrowLeft" || event.key === "PageUp") { event.preventDefault(); goTo(state.current - 1); }
  else if (event.key === "Home" && event.target === pagesBox) { event.preventDefault(); goTo(1); }
  else if (event.key === "End" && event.target === pagesBox) { event.preventDefault(); goTo(state.pdf?.numPages || 1); }
  else if (event.key === "+" || event.key === "=") viewer.increaseScale();
  else if (event.key === "-") viewer.decreaseScale();
});

// Desktop: a trackpad pinch (or Ctrl + wheel) zooms the document, not the whole web page; in fit page,
// where one page is shown at a time, the wheel turns the pages.
let wheelTurnAt = 0;
pagesBox.addEventListener("wheel", (event) => {
  if (event.ctrlKey || event.metaKey) {
    event.preventDefault();
    const factor = Math.exp(-Math.max(-50, Math.min(50, event.deltaY)) / 100);
    viewer.updateScale({ scaleFactor: factor, origin: [event.clientX, event.clientY], drawingDelay: 400 });
    return;
  }
  if (viewer.scrollMode !== ScrollMode.PAGE || Math.abs(event.deltaY) < Math.abs(event.deltaX)) return;
  const atEnd = event.deltaY > 0
    ? pagesBox.scrollTop + pagesBox.clientHeight >= pagesBox.scrollHeight - 1
    : pagesBox.scrollTop <= 0;
  if (!atEnd) return;
  event.preventDefault();
  const now = performance.now();
  if (now - wheelTurnAt > 350) {
    wheelTurnAt = now;
    goTo(state.current + (event.deltaY > 0 ? 1 : -1));
  }
}, { passive: false });

attachGestures(pagesBox, {
  scale: () => viewer.currentScale,
  zoomBy: (factor, origin) => viewer.updateScale({ scaleFactor: factor, origin, drawingDelay: 400 }),
  toggleZoom: (origin) => {
    if (state.fit) viewer.updateScale({ scaleFactor: 2, origin });
    else fit("page-width");
  },
  turn: (delta) => goTo(state.current + delta),
});

// --- start ---------------------------------------------------------------------------------------
setDrawer(!SMALL.matches && window.matchMedia("(min-width: 1280px)").matches);
try {
  // Range requests: only the pages shown are fetched, so a large file opens at once.
  state.pdf = await pdfjs.getDocument({
    ...(offline.bytes ? { data: offline.bytes } : { url: root.dataset.fileUrl, withCredentials: true }),
    disableAutoFetch: true, disableStream: true,
    rangeChunkSize: 262144, isEvalSupported: false, enableXfa: false,
  }).promise;
  tools.querySelector('[data-role="page-count"]').textContent = String(state.pdf.numPages);
  viewer.setDocument(state.pdf);
  linkService.setDocument(state.pdf, null);
  await new Promise((resolve) => eventBus.on("pagesinit", resolve, { once: true }));
  if (!drawer.hidden && !thumbsBuilt) buildThumbs();
  buildOutline();
  root.classList.add("ready");
} catch (error) {
  const p = document.createElement("p");
  p.className = "flash flash-error";
  p.textContent = text.textError;
  frame.replaceChildren(p);
}
await loadAnnotations();
