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

// The service worker only shows an offline page when a page cannot load (static/js/service-worker.js).
(function () {
  "use strict";
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the app works without it */ });
    });
  }
})();
