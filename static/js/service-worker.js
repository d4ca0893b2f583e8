// The app's service worker: it only answers a page load that cannot reach the server, with the offline
// page cached at install. Everything else goes to the network untouched (reading offline is the job of
// the offline store, not of this worker), so no stale page or asset is ever served while online.
"use strict";

var CACHE = "ecabinet-shell-v2";
var OFFLINE_URL = "/offline";
var SHELL = [OFFLINE_URL, "/static/css/tokens.css", "/static/css/app.css", "/static/icons/icon-192.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () { return caches.match(OFFLINE_URL); }));
  } else if (SHELL.indexOf(url.pathname) >= 0) {
    // The offline page's own stylesheet and icon, when the network is gone.
    event.respondWith(fetch(request).catch(function () { return caches.match(url.pathname); }));
  }
});
