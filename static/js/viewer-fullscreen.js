// Full screen for the reader: the Fullscreen API where the browser has it (prefixed on older iPadOS),
// otherwise a fixed layer over the page (iPhone Safari has no element full screen). Either way the
// reader carries the class `is-fullscreen` and the toggle button stays visible to leave it.

function nativeElement() { return document.fullscreenElement || document.webkitFullscreenElement || null; }

/**
 * @param {HTMLElement} reader the element shown full screen
 * @param {HTMLButtonElement} button the toggle
 * @param {{ enter: string, exit: string, changed: () => void }} options
 */
export function attachFullscreen(reader, button, { enter, exit, changed }) {
  let fallback = false;

  function sync() {
    const on = nativeElement() === reader || fallback;
    reader.classList.toggle("is-fullscreen", on);
    document.documentElement.classList.toggle("reader-fullscreen", on);
    button.setAttribute("aria-pressed", String(on));
    button.setAttribute("aria-label", on ? exit : enter);
    button.title = on ? exit : enter;
    changed();
  }

  async function open() {
    const request = reader.requestFullscreen || reader.webkitRequestFullscreen;
    if (request) {
      try {
        await request.call(reader, { navigationUI: "hide" });
        return;
      } catch (_) { /* refused (no gesture, policy): the fixed layer below does the same job */ }
    }
    fallback = true;
    sync();
  }

  function close() {
    if (nativeElement()) {
      (document.exitFullscreen || document.webkitExitFullscreen).call(document);
    } else {
      fallback = false;
      sync();
    }
  }

  button.addEventListener("click", () => (reader.classList.contains("is-fullscreen") ? close() : open()));
  document.addEventListener("fullscreenchange", sync);
  document.addEventListener("webkitfullscreenchange", sync);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && fallback) close();
  });
}
