// The app's service worker. A page load that cannot reach the server gets, in this order: the page as
// kept in an offline pack (a meeting taken offline: its agenda, items and document viewers, cached by
// static/js/offline.js in "ecabinet-pack-<meeting>"), or the offline page cached at install. The app's
// own scripts and styles are fetched from the network first and kept (Workbox's NetworkFirst), so that a
// pack's pages work offline while no stale page or asset is ever served online. Documents and notes are
// not here: they are encrypted in IndexedDB (static/js/offline-store.js), never in Cache Storage.
"use strict";

importScripts("/static/vendor/workbox/workbox-sw.js");
workbox.setConfig({ modulePathPrefix: "/static/vendor/workbox/", debug: false });

var CACHE = "ecabinet-shell-v3";
var ASSETS = "ecabinet-assets";
var PACK_PREFIX = "ecabinet-pack-";
var OFFLINE_URL = "/offline";
var SHELL = [OFFLINE_URL, "/static/css/tokens.css", "/static/css/app.css", "/static/icons/icon-192.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Only older shells go: the packs and the assets are the offline store's, deleted by its own rules.
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("ecabinet-shell-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function fromPacks(request) {
  var path = new URL(request.url).pathname;
  return caches.keys().then(function (keys) {
    var packs = keys.filter(function (k) { return k.indexOf(PACK_PREFIX) === 0; });
    return packs.reduce(function (found, name) {
      return found.then(function (response) {
        return response || caches.open(name).then(function (cache) { return cache.match(path, { ignoreSearch: true }); });
      });
    }, Promise.resolve(undefined));
  });
}

// Page loads: the network, else the pack's copy of the page, else the offline page.
workbox.routing.registerRoute(function (options) { return options.request.mode === "navigate"; }, function (options) {
  return fetch(options.request).catch(function () {
    return fromPacks(options.request).then(function (response) {
      return response || caches.match(OFFLINE_URL, { cacheName: CACHE });
    });
  });
});

// The offline page's own stylesheet and icon, and every other file of the app: network first, kept.
workbox.routing.registerRoute(function (options) {
  return options.url.origin === self.location.origin && options.url.pathname.indexOf("/static/") === 0;
}, new workbox.strategies.NetworkFirst({ cacheName: ASSETS, networkTimeoutSeconds: 10, plugins: [{
  // Not yet kept as an asset: the shell's own copy (the offline page's stylesheet and icon).
  handlerDidError: function (options) { return caches.match(new URL(options.request.url).pathname); },
}] }));
