// The minutes editor: a contenteditable area with a small toolbar; its HTML is copied into the form's
// textarea on submit (the server sanitises it). Without JavaScript the textarea itself is the editor.
(function () {
  "use strict";
  var form = document.getElementById("minutes-editor-form");
  if (!form) { return; }
  var editor = document.getElementById("minutes-editor");
  var body = document.getElementById("minutes-body");
  form.classList.add("has-js");
  document.querySelectorAll("[data-cmd]").forEach(function (b) {
    b.addEventListener("click", function () {
      editor.focus();
      document.execCommand(b.dataset.cmd, false, b.dataset.arg ? "<" + b.dataset.arg + ">" : null);
    });
  });
  form.addEventListener("submit", function () { body.value = editor.innerHTML; });
})();
