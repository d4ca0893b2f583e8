// The document viewer: pdf.js's own viewer components (lazy page views with a text layer, find, links),
// fit to width or to the page at every screen size, touch gestures, full screen, a drawer with the
// outline and page thumbnails, Range loading, and the reader's notes and highlights.
// No inline script or style: positions and sizes are set through the CSSOM, which the CSP allows.
import { attachFullscreen } from "./viewer-fullscreen.js";
import { attachGestures } from "./viewer-gestures.js";

const root = document.getElementById("viewer");
const reader = document.getElementById("reader");
const token = document.querySelector('meta[name="csrf-token"]').content;
const text = root.dataset;

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
const state = { pdf: null, current: 1, annotations: [], fit: "page-width" };

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

// The box changes size with the window, the drawer, the orientation and full screen: refit.
let refitFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(refitFrame);
  refitFrame = requestAnimationFrame(() => { if (state.pdf && state.fit) viewer.currentScaleValue = state.fit; });
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
function pageDiv(number) { return viewer.getPageView(number - 1)?.div || null; }

// Marks are placed in fractions of the page box, so they follow the page at any zoom.
function drawMarks(number) {
  const div = pageDiv(number);
  if (!div) return;
  div.querySelectorAll(".annotation-mark").forEach((m) => m.remove());
  for (const a of state.annotations) {
    if (a.page !== number) continue;
    for (const [x, y, w, h] of a.rects || []) {
      const mark = document.createElement("div");
      mark.className = a.kind === "note" ? "annotation-mark note-mark" : "annotation-mark";
      mark.style.left = `${x * 100}%`;
      mark.style.top = `${y * 100}%`;
      mark.style.width = `${w * 100}%`;
      mark.style.height = `${h * 100}%`;
      mark.title = a.body || a.quote;
      div.append(mark);
    }
  }
}

function drawAllMarks() {
  if (!state.pdf) return;
  for (let n = 1; n <= state.pdf.numPages; n++) {
    if (pageDiv(n)?.querySelector(".canvasWrapper, .annotation-mark")) drawMarks(n);
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
    del.textContent = text.textDelete;
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
  drawAllMarks();
}

function selectionAnchor() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const node = range.commonAncestorContainer;
  const pageEl = (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)?.closest(".page");
  if (!pageEl || !pagesBox.contains(pageEl)) return null;
  const box = pageEl.getBoundingClientRect();
  const rects = Array.from(range.getClientRects()).filter((r) => r.width > 1).slice(0, 50).map((r) => [
    (r.left - box.left) / box.width, (r.top - box.top) / box.height, r.width / box.width, r.height / box.height]);
  const layerText = pageEl.querySelector(".textLayer")?.textContent || "";
  const quote = selection.toString().trim();
  const at = layerText.indexOf(quote);
  return { page: Number(pageEl.dataset.pageNumber), quote, rects,
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

async function highlightSelection() {
  const anchor = selectionAnchor() || lastSelection;
  if (!anchor) return;
  await api("POST", root.dataset.annotationsUrl, { kind: "highlight", ...anchor });
  window.getSelection()?.removeAllRanges();
  lastSelection = null;
  await loadAnnotations();
}

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
    url: root.dataset.fileUrl, withCredentials: true, disableAutoFetch: true, disableStream: true,
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
