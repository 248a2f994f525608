// The service worker: the app shell (pages, scripts, styles, icons) from a cache, so the pages
// open at once on a phone and still open, saying they are offline, when the hub cannot be
// reached. Pages come from the network first (fresh when the hub answers); scripts and styles
// from the cache first, refreshed behind. The API and the websocket are never cached: what a
// person's data says comes from the hub or not at all.
"use strict";

const SHELL = "dayuan-shell-v8";
const PAGES = ["/", "/inbox.html", "/guard.html", "/login.html", "/report.html", "/rooms.html", "/vehicles.html", "/visits.html", "/tickets.html", "/canteen.html", "/notices.html", "/feedback.html", "/followup.html",
  "/surveys.html", "/permits.html"];
const ASSETS = ["/home.js", "/words.js", "/app.js", "/style.css", "/favicon.svg", "/manifest.webmanifest", "/icons/icon-192.png",
  "/inbox.js", "/guard.js", "/login.js", "/report.js", "/report.css", "/rooms.js", "/vehicles.js", "/visits.js", "/tickets.js", "/canteen.js", "/notices.js",
  "/feedback.js", "/feedback-view.js", "/followup.js", "/surveys.js", "/attached.js", "/ticker.js", "/permits.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll([...PAGES, ...ASSETS])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function fromNetwork(request) {
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL);
    cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/ws") return; // never cached
  if (event.request.mode === "navigate") {
    event.respondWith(fromNetwork(event.request).catch(async () =>
      (await caches.match(url.pathname, { ignoreSearch: true })) || caches.match("/")));
    return;
  }
  event.respondWith(caches.match(event.request).then((cached) => {
    const fresh = fromNetwork(event.request).catch(() => cached);
    return cached || fresh;
  }));
});
