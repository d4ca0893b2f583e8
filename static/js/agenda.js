// Agenda builder: drag and drop reordering. Keyboard and no-JavaScript users have the up/down buttons.
// The full new order is sent at once; the server accepts it all or nothing.
(function () {
  "use strict";
  var list = document.getElementById("agenda-list");
  if (!list || !list.dataset.reorderUrl) { return; }
  var token = document.querySelector('meta[name="csrf-token"]');
  var dragged = null;

  function order() {
    return Array.prototype.map.call(list.querySelectorAll(".agenda-item"), function (li) {
      return Number(li.dataset.itemId);
    });
  }

  function renumber() {
    list.querySelectorAll(".agenda-item").forEach(function (li, index) {
      var no = li.querySelector(".item-no");
      if (no) { no.textContent = (index + 1) + "."; }
    });
  }

  function save(before) {
    list.setAttribute("aria-busy", "true");
    fetch(list.dataset.reorderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": token ? token.content : ""},
      body: JSON.stringify({order: order()})
    }).then(function (response) {
      if (!response.ok) { throw new Error("refused"); }
      return response.json();
    }).then(function () {
      list.removeAttribute("aria-busy");
      // The up/down buttons and positions are rendered by the server: reload to keep them right.
      window.location.reload();
    }).catch(function () {
      list.removeAttribute("aria-busy");
      window.alert(list.dataset.errorText || "Error");
      window.location.reload();
      return before;
    });
  }

  list.addEventListener("dragstart", function (event) {
    var li = event.target.closest(".agenda-item");
    if (!li) { return; }
    dragged = li;
    li.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", li.dataset.itemId);
  });

  list.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    var over = event.target.closest(".agenda-item");
    if (!over || over === dragged) { return; }
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });

  list.addEventListener("drop", function (event) {
    event.preventDefault();
  });

  list.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("dragging");
    dragged = null;
    renumber();
    save();
  });
})();
