// Pickers: a search box above a long list (<select data-picker>) of people or organisations, which
// narrows the list to the entries whose words begin with the words typed (name, title, ministry;
// without accents: "bo tai" finds "Bộ Tài chính"). Without JavaScript the plain list works as it is.
// The texts come from the page (data-picker-label, data-picker-count), in the reader's language.

const fold = (text) => text
  .replace(/đ/g, "d").replace(/Đ/g, "D")
  .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
  .toLowerCase();

const wordsOf = (text) => fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);

function labelOf(select) {
  const label = select.id ? document.querySelector(`label[for="${CSS.escape(select.id)}"]`) : null;
  return label ? label.textContent.trim() : "";
}

function enhance(select) {
  if (select.dataset.pickerReady) { return; }
  select.dataset.pickerReady = "1";
  const entries = Array.from(select.options).map((option) => ({ option, words: wordsOf(option.textContent) }));
  const search = document.createElement("input");
  search.type = "search";
  search.className = "picker-search";
  search.autocomplete = "off";
  search.spellcheck = false;
  if (select.id) {
    search.id = `${select.id}-search`;
    search.setAttribute("aria-controls", select.id);
  }
  const name = labelOf(select);
  const searchLabel = select.dataset.pickerLabel || "";
  search.setAttribute("aria-label", name ? `${searchLabel}: ${name}` : searchLabel);
  search.placeholder = searchLabel;
  const status = document.createElement("span");
  status.className = "sr-only";
  status.setAttribute("role", "status");
  select.before(search);
  select.after(status);

  function filter() {
    const wanted = wordsOf(search.value);
    const chosen = select.value;
    const shown = entries.filter(({ option, words }) => option.value === "0" || option.value === chosen
      || wanted.every((part) => words.some((word) => word.startsWith(part))));
    select.replaceChildren(...shown.map(({ option }) => option));
    select.value = chosen;
    const found = shown.filter(({ option }) => option.value !== "0").length;
    const template = select.dataset.pickerCount || "";
    status.textContent = wanted.length && template ? template.replace("%(num)s", String(found)) : "";
  }

  search.addEventListener("input", filter);
  search.addEventListener("keydown", (event) => {
    // Enter would send the whole form: it takes the first match instead, and the list gets the focus.
    if (event.key === "Enter" || event.key === "ArrowDown") {
      event.preventDefault();
      const first = Array.from(select.options).find((option) => option.value !== "0");
      if (event.key === "Enter" && first && search.value.trim()) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      select.focus();
    }
  });
}

document.querySelectorAll("select[data-picker]").forEach(enhance);
