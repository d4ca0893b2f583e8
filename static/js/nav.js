// The main menu on a phone: folded behind one button (aria-expanded says whether it is open).
// Without this script the menu simply stays open, wrapped over several rows (progressive enhancement).
const header = document.querySelector(".topbar");
const button = header && header.querySelector("[data-nav-toggle]");
const menu = button && document.getElementById(button.getAttribute("aria-controls"));

function setOpen(open) {
  button.setAttribute("aria-expanded", String(open));
  header.classList.toggle("is-open", open);
}

// Signed out there is no navigation, only the language switch: nothing to fold.
if (header && button && menu && menu.querySelector("nav")) {
  header.classList.add("is-collapsible");
  button.hidden = false;
  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  // Escape closes the open menu and gives the focus back to its button.
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
  // Turning a tablet (or widening the window) past the phone layout leaves no folded state behind.
  const phone = window.matchMedia("(max-width: 759px)");
  phone.addEventListener("change", () => { if (!phone.matches) setOpen(false); });
}
