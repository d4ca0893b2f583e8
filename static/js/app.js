// Shared behaviour for every page. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Confirm destructive buttons that carry data-confirm="…".
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
