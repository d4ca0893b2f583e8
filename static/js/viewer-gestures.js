// Touch gestures on the viewer's scrolling box: pinch to zoom, double-tap to zoom in or back to fit,
// and a horizontal swipe to turn the page when the page is not wider than the screen.
// The box has `touch-action: pan-x pan-y`, so the browser scrolls but leaves pinching to us.

const SWIPE_MIN = 60;        // px travelled sideways
const SWIPE_MAX_MS = 600;
const DOUBLE_TAP_MS = 320;
const TAP_SLOP = 24;         // px a finger may drift and still tap

function distance(a, b) { return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY); }

/**
 * @param {HTMLElement} box the scrolling container
 * @param {{ scale: () => number, zoomBy: (factor: number, origin: number[], live: boolean) => void,
 *           toggleZoom: (origin: number[]) => void, turn: (delta: number) => void }} handlers
 */
export function attachGestures(box, handlers) {
  let pinch = null;
  let stroke = null;
  let lastTap = null;

  box.addEventListener("touchstart", (event) => {
    if (event.touches.length === 2) {
      const [a, b] = event.touches;
      pinch = { start: distance(a, b), scale: handlers.scale() };
      stroke = null;
      event.preventDefault();
    } else if (event.touches.length === 1) {
      const t = event.touches[0];
      stroke = { x: t.clientX, y: t.clientY, at: performance.now(), moved: false };
    }
  }, { passive: false });

  box.addEventListener("touchmove", (event) => {
    if (pinch && event.touches.length === 2) {
      event.preventDefault();
      const [a, b] = event.touches;
      const wanted = pinch.scale * (distance(a, b) / pinch.start);
      const factor = wanted / handlers.scale();
      // Small steps would redraw for nothing; the page is scaled by CSS until the fingers stop.
      if (Math.abs(factor - 1) > 0.02) {
        handlers.zoomBy(factor, [(a.clientX + b.clientX) / 2, (a.clientY + b.clientY) / 2], true);
      }
    } else if (stroke && event.touches.length === 1) {
      const t = event.touches[0];
      if (Math.abs(t.clientX - stroke.x) > TAP_SLOP || Math.abs(t.clientY - stroke.y) > TAP_SLOP) stroke.moved = true;
    }
  }, { passive: false });

  box.addEventListener("touchend", (event) => {
    if (pinch) {
      if (event.touches.length < 2) pinch = null;
      return;
    }
    if (!stroke || event.changedTouches.length !== 1) return;
    const t = event.changedTouches[0];
    const dx = t.clientX - stroke.x;
    const dy = t.clientY - stroke.y;
    const elapsed = performance.now() - stroke.at;
    const s = stroke;
    stroke = null;
    if (!s.moved) {
      const now = performance.now();
      if (lastTap && now - lastTap.at < DOUBLE_TAP_MS && Math.abs(t.clientX - lastTap.x) < TAP_SLOP * 2
          && Math.abs(t.clientY - lastTap.y) < TAP_SLOP * 2) {
        lastTap = null;
        event.preventDefault(); // no synthetic double-click: it would select a word
        handlers.toggleZoom([t.clientX, t.clientY]);
      } else {
        lastTap = { x: t.clientX, y: t.clientY, at: now };
      }
      return;
    }
    const selecting = !(window.getSelection()?.isCollapsed ?? true);
    const fitsAcross = box.scrollWidth <= box.clientWidth + 2;
    if (!selecting && fitsAcross && elapsed < SWIPE_MAX_MS && Math.abs(dx) > SWIPE_MIN && Math.abs(dx) > 1.5 * Math.abs(dy)) {
      handlers.turn(dx < 0 ? 1 : -1);
    }
  }, { passive: false });

  box.addEventListener("touchcancel", () => { pinch = null; stroke = null; });
  // Safari's own pinch gestures would zoom the whole web page instead.
  box.addEventListener("gesturestart", (event) => event.preventDefault());
}
