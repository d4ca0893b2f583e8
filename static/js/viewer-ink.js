// Freehand ink over the pages, with a stylus or a finger (pointer events), and how ink is drawn.
// Strokes are kept in fractions of the page (x, y from the top left, and the pen's pressure when it
// reports one), simplified before they are sent, so they follow the page at any zoom and stay small.

const SVG = "http://www.w3.org/2000/svg";
// Must match ecabinet/documents/schemas.py: a longer stroke is sent as several.
export const MAX_STROKE_POINTS = 1000;
export const INK_WIDTH = 0.004; // of the page's width
const SIMPLIFY = 0.0008; // Ramer–Douglas–Peucker tolerance, of the page's width: under a pixel on a tablet
const UNITS = 1000; // the SVG's width in user units; its height follows the page's shape

// Ramer–Douglas–Peucker: drop the points that lie within `epsilon` of the line through their neighbours.
export function simplify(points, epsilon = SIMPLIFY) {
  if (points.length < 3) return points.slice();
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  while (stack.length) {
    const [first, last] = stack.pop();
    const [ax, ay] = points[first];
    const [bx, by] = points[last];
    const dx = bx - ax, dy = by - ay;
    const length = Math.hypot(dx, dy);
    let worst = 0, index = -1;
    for (let i = first + 1; i < last; i++) {
      const [px, py] = points[i];
      const distance = length ? Math.abs(dy * px - dx * py + bx * ay - by * ax) / length : Math.hypot(px - ax, py - ay);
      if (distance > worst) { worst = distance; index = i; }
    }
    if (index >= 0 && worst > epsilon) {
      keep[index] = 1;
      stack.push([first, index], [index, last]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

// One stroke as pieces of at most MAX_STROKE_POINTS points, each starting where the last ended.
export function split(points) {
  const pieces = [];
  for (let start = 0; start < points.length; start += MAX_STROKE_POINTS - 1) {
    pieces.push(points.slice(start, start + MAX_STROKE_POINTS));
    if (start + MAX_STROKE_POINTS >= points.length) break;
  }
  return pieces;
}

const round = (n) => Math.round(Math.min(Math.max(n, 0), 1) * 10000) / 10000;

// The page's SVG layer for ink, in page fractions scaled to UNITS across (aspect = height / width).
export function inkLayer(aspect) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "ink-layer");
  svg.setAttribute("viewBox", `0 0 ${UNITS} ${UNITS * aspect}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  svg.dataset.aspect = String(aspect);
  return svg;
}

export function strokePath(svg, stroke, color, extraClass = "") {
  const aspect = Number(svg.dataset.aspect) || 1;
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("class", `ink-stroke ink-${color}${extraClass ? ` ${extraClass}` : ""}`);
  path.setAttribute("stroke-width", String((stroke.width || INK_WIDTH) * UNITS));
  setPoints(path, stroke.points, aspect);
  svg.append(path);
  return path;
}

export function setPoints(path, points, aspect) {
  if (!points.length) return;
  const xy = points.map(([x, y]) => `${(x * UNITS).toFixed(1)} ${(y * UNITS * aspect).toFixed(1)}`);
  // A single tap is a dot: a zero-length segment drawn with round caps.
  path.setAttribute("d", `M${xy[0]} L${xy.length > 1 ? xy.slice(1).join(" L") : xy[0]}`);
}

// The pen: while `active()`, pointer strokes on a page's ink layer become strokes of that page.
// `onStroke(page, stroke)` receives each finished, simplified stroke (maybe several, if long).
export function attachPen(pagesBox, { active, pageOf, onStroke, color }) {
  let drawing = null;
  let penSeen = false;

  function point(event, box) {
    const p = [round((event.clientX - box.left) / box.width), round((event.clientY - box.top) / box.height)];
    // A mouse reports 0.5 while a button is down; only a pen's pressure says something.
    if (event.pointerType === "pen" && event.pressure > 0) p.push(Math.round(event.pressure * 100) / 100);
    return p;
  }

  pagesBox.addEventListener("pointerdown", (event) => {
    if (!active() || drawing) return;
    const layer = event.target.closest?.(".ink-layer");
    if (!layer) return;
    if (event.pointerType === "pen") penSeen = true;
    // Once a stylus has drawn, a resting palm or finger does not.
    else if (event.pointerType === "touch" && penSeen) return;
    event.preventDefault();
    const page = pageOf(layer);
    if (!page) return;
    layer.setPointerCapture?.(event.pointerId);
    const box = layer.getBoundingClientRect();
    const path = strokePath(layer, { points: [point(event, box)], width: INK_WIDTH }, color(), "drawing");
    drawing = { id: event.pointerId, layer, box, page, path, points: [point(event, box)] };
  });

  pagesBox.addEventListener("pointermove", (event) => {
    if (!drawing || event.pointerId !== drawing.id) return;
    event.preventDefault();
    const events = event.getCoalescedEvents?.() || [];
    for (const e of events.length ? events : [event]) drawing.points.push(point(e, drawing.box));
    setPoints(drawing.path, drawing.points, Number(drawing.layer.dataset.aspect) || 1);
  });

  function finish(event) {
    if (!drawing || event.pointerId !== drawing.id) return;
    const { page, points, path } = drawing;
    drawing = null;
    path.remove();
    if (event.type === "pointercancel") return;
    for (const piece of split(simplify(points))) onStroke(page, { points: piece, width: INK_WIDTH });
  }
  pagesBox.addEventListener("pointerup", finish);
  pagesBox.addEventListener("pointercancel", finish);

  // The page's own touch gestures (swipe to turn, pinch) must not see a stroke.
  for (const type of ["touchstart", "touchmove", "touchend"]) {
    pagesBox.addEventListener(type, (event) => {
      if (active() && event.target.closest?.(".ink-layer")) event.stopPropagation();
    }, { capture: true, passive: true });
  }
}
