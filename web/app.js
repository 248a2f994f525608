// Shared by the staff pages and the wall display: sign-in token, language, REST calls and the
// live websocket (snapshot, then coalesced deltas; reconnects with backoff and resynchronises).
"use strict";

const Hub = (() => {
  const params = new URLSearchParams(location.search);
  // A wall or door display is provisioned with /wall.html#token=... (a fragment never reaches a
  // server log). Only those pages take one, and never over a session that still works: a link
  // with someone else's token must not silently replace the signed-in person.
  const DISPLAY_PAGES = ["/wall.html", "/door.html", "/checkpoint.html"];
  const fragment = new URLSearchParams(location.hash.slice(1));
  const offered = fragment.get("token");
  if (offered) history.replaceState(null, "", location.pathname + location.search);
  if (offered && location.pathname === "/login.html") {
    // the person just signed in through the provider (the hub's single sign-on callback)
    localStorage.setItem("hub.token", offered);
  } else if (offered && DISPLAY_PAGES.includes(location.pathname)) {
    const current = localStorage.getItem("hub.token");
    if (!current) {
      localStorage.setItem("hub.token", offered);
    } else if (current !== offered) {
      fetch("/api/auth/me", { headers: { Authorization: `Bearer ${current}` } }).then((res) => {
        if (res.status !== 401) return; // the session works: keep it
        localStorage.setItem("hub.token", offered);
        location.reload();
      });
    }
  }

  // `next` as a path on this hub, or null: "/\\evil.example" and "//evil.example" are other sites.
  function sameOrigin(next) {
    if (!next) return null;
    try {
      const target = new URL(next, location.origin);
      return target.origin === location.origin ? target.pathname + target.search + target.hash : null;
    } catch (_) {
      return null;
    }
  }
  let lang = params.get("lang") || localStorage.getItem("lang") || "zh-CN";
  if (!["zh-CN", "en"].includes(lang)) lang = "zh-CN";
  if (params.get("lang") === lang) localStorage.setItem("lang", lang); // ?lang= sticks
  // Every page a person can open, and the roles it is for (null: every person). The home's
  // tiles and the menu in every page's header are built from this one list.
  const PAGES = [
    ["home", "/", null], ["rooms", "/rooms.html", null], ["vehicles", "/vehicles.html", null],
    ["visits", "/visits.html", null], ["canteen", "/canteen.html", null], ["report", "/report.html", null],
    ["inbox", "/inbox.html", null], ["notices", "/notices.html", null],
    ["feedback", "/feedback.html", null], ["surveys", "/surveys.html", null],
    ["permits", "/permits.html", null],
    ["kitchen", "/kitchen.html", ["canteen", "manager", "admin"]], ["counter", "/counter.html", ["canteen", "admin"]],
    ["guard", "/guard.html", ["security"]], ["console", "/console.html", ["security", "technician", "dispatcher", "admin"]],
    ["tickets", "/tickets.html", ["technician", "dispatcher", "admin"]], ["gate", "/gate.html", ["security", "admin"]],
    ["devices", "/devices.html", ["security", "technician", "dispatcher", "admin"]],
    ["patrol", "/patrol.html", ["security", "manager", "admin"]],
    ["energy", "/energy.html", ["manager", "dispatcher", "technician", "admin"]],
    ["wall", "/wall.html", ["security", "admin"]], ["admin", "/admin.html", ["admin"]],
  ];
  const PEOPLE = ["admin", "security", "dispatcher", "technician", "staff", "manager", "canteen"];
  const COMMON = window.HubWords; // web/words.js, loaded before this file
  let dict = COMMON;
  let socket = null; // the live websocket of the moment

  const token = () => localStorage.getItem("hub.token");
  const t = (key) => (dict[lang] && dict[lang][key]) || key;

  function signIn() {
    localStorage.removeItem("hub.token");
    location.href = `/login.html?next=${encodeURIComponent(location.pathname + location.search)}`;
  }

  function translate(texts) {
    if (texts) { // a page's words added to those it has (the shell's, a shared view's)
      const next = {};
      for (const l of Object.keys(COMMON)) next[l] = { ...dict[l], ...(texts[l] || {}) };
      dict = next;
    }
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
    const button = document.getElementById("lang");
    if (button) button.textContent = lang === "en" ? "中文" : "English";
    inboxLink();
    menu();
  }

  // Who is signed in ({name, roles, work_unit}), asked once per page.
  let whoami = null;
  function me() {
    if (!whoami) whoami = api("/api/auth/me");
    return whoami;
  }
  const pagesFor = (roles) => PAGES.filter(([, , who]) => (who ? who.some((r) => roles.includes(r)) : roles.some((r) => PEOPLE.includes(r))));

  // The menu in every signed-in page's header: the pages this person's roles open, the same on
  // a phone and a desk. A page their roles may not use says so instead of showing nothing.
  let menuRoles = null;
  function menu() {
    const header = document.querySelector("header");
    if (!header || !token() || DISPLAY_PAGES.includes(location.pathname) || location.pathname === "/login.html") return;
    if (!menuRoles) {
      me().then((who) => { menuRoles = who.roles; menu(); refuse(who.roles); }).catch(() => {});
      return;
    }
    let box = document.getElementById("menu");
    if (!box) {
      box = el("details", { id: "menu", className: "menu" },
        el("summary", {}, "☰ ", el("span", { id: "menu-label" })), el("nav", { id: "menu-links" }));
      header.prepend(box);
      document.addEventListener("click", (e) => { if (!box.contains(e.target)) box.open = false; });
    }
    document.getElementById("menu-label").textContent = t("menu");
    document.getElementById("menu-links").setAttribute("aria-label", t("menu"));
    const here = location.pathname === "/index.html" ? "/" : location.pathname;
    document.getElementById("menu-links").replaceChildren(...pagesFor(menuRoles).map(([key, href]) => {
      const a = el("a", { href, id: `nav-${key}` }, t("svc")[key] || key);
      if (href === here) a.setAttribute("aria-current", "page");
      return a;
    }));
  }
  const thisPage = () => PAGES.find(([, href]) => href === (location.pathname === "/index.html" ? "/" : location.pathname));
  // Whether the signed-in person's roles open this page (pages outside the list: yes).
  async function mayUse() {
    const page = thisPage();
    if (!page || DISPLAY_PAGES.includes(location.pathname)) return true;
    const who = await me().catch(() => null);
    return !who || pagesFor(who.roles).includes(page);
  }
  function refuse(roles) {
    const page = thisPage();
    if (!page || pagesFor(roles).includes(page)) return;
    const main = document.querySelector("main");
    if (!main) return;
    const names = (page[2] || PEOPLE).map((r) => t("role")[r] || r).join(lang === "en" ? ", " : "、");
    main.replaceChildren(el("section", { id: "not-for-you", className: "card" },
      el("p", { role: "alert" }, t("not_for_you").replace("{roles}", names)),
      el("a", { href: "/", className: "button" }, t("go_home"))));
  }

  function toggleLanguage(after) {
    lang = lang === "en" ? "zh-CN" : "en";
    localStorage.setItem("lang", lang);
    translate();
    if (after) after();
  }

  // The pages keep working as an installed app (web/sw.js keeps their shell); when the hub
  // cannot be reached a banner says so instead of leaving old screens looking current.
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  function offline(on) {
    let banner = document.getElementById("offline");
    if (on && !banner) {
      banner = Object.assign(document.createElement("div"), { id: "offline" });
      banner.setAttribute("role", "status");
      document.body.prepend(banner);
    }
    if (!banner) return;
    banner.textContent = t("offline");
    banner.hidden = !on;
  }
  window.addEventListener("offline", () => offline(true));
  window.addEventListener("online", () => offline(false));

  async function api(path, options = {}) {
    const headers = { Authorization: `Bearer ${token()}`, ...(options.headers || {}) };
    if (options.body && typeof options.body === "string") headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(path, { ...options, headers });
    } catch (err) {
      offline(true);
      throw new Error(t("offline"));
    }
    offline(false);
    if (res.status === 401) { signIn(); throw new Error("signed out"); }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      // A refusal comes with its catalogue key: said in the page's language, with names; a
      // 403 without one says what this account may not do.
      if (body.code && path !== "/api/i18n") await loadCatalogue();
      const said = body.code ? render(`error.${body.code}`, body.params) : null;
      const fallback = res.status === 403 ? t("forbidden") : body.detail || `HTTP ${res.status}`;
      throw Object.assign(new Error(said || fallback), { status: res.status, body });
    }
    return body;
  }

  // A POST from a button: the button waits until the answer comes (a second tap on "submit"
  // must not send the request twice).
  async function post(path, body) {
    const button = document.activeElement instanceof HTMLButtonElement ? document.activeElement : null;
    if (button && button.dataset.busy) throw new Error(t("busy"));
    if (button) { button.dataset.busy = "1"; button.disabled = true; }
    try {
      return await api(path, { method: "POST", body: JSON.stringify(body || {}) });
    } finally {
      if (button) { delete button.dataset.busy; button.disabled = false; }
    }
  }

  // Save what a signed-in request returns (a PDF, a spreadsheet) as the file `name`; an error
  // carries the HTTP status like api()'s.
  async function download(path, name) {
    const res = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
    const a = el("a", { href: URL.createObjectURL(await res.blob()), download: name });
    document.body.append(a);
    a.click();
    a.remove();
  }

  // The live feed. `handlers.snapshot(msg)` replaces all state, `handlers.changes(list)` applies
  // a frame's changes, `handlers.status("live" | "connecting" | "offline")` shows the link.
  function live(handlers) {
    let delay = 1000;
    let seq = null;
    const status = handlers.status;
    // the link's state in words too (a dot's colour alone says nothing to many)
    handlers = { ...handlers, status: (s) => {
      status(s);
      const dot = document.getElementById("link");
      if (dot) { dot.setAttribute("role", "img"); dot.setAttribute("aria-label", t("link")[s] || s); dot.title = t("link")[s] || s; }
    } };
    const connect = () => {
      handlers.status("connecting");
      const proto = location.protocol === "https:" ? "wss" : "ws";
      const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(token())}`);
      socket = ws;
      let opened = false;
      ws.onopen = () => { opened = true; };
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        if (msg.type === "snapshot") {
          seq = msg.seq;
          delay = 1000;
          handlers.status("live");
          handlers.snapshot(msg);
        } else if (msg.type === "delta") {
          if (seq !== null && msg.seq <= seq) return; // already folded into the snapshot
          seq = msg.seq;
          for (const c of msg.changes) if (c.type === "inbox") showUnread(c.unread);
          handlers.changes(msg.changes);
        }
      };
      ws.onclose = async () => {
        handlers.status("offline");
        if (!opened) {
          // A refused handshake looks like any failure here: ask whether the token still works.
          const me = await fetch("/api/auth/me", { headers: { Authorization: `Bearer ${token()}` } })
            .catch(() => null);
          if (me && me.status === 401) { signIn(); return; }
        }
        const wait = delay * (0.75 + Math.random() / 2); // jitter: a room of screens spreads out
        delay = Math.min(delay * 2, 30000);
        setTimeout(connect, wait);
      };
    };
    if (!token()) { signIn(); return; }
    mayUse().then((ok) => { if (ok) connect(); else handlers.status("offline"); });
  }

  // The inbox badge in every signed-in page's header: the unread count at load, then live
  // (an `inbox` message on the page's websocket, sent to this person only).
  function showUnread(n) {
    const badge = document.getElementById("inbox-badge");
    if (!badge) return;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = !n;
  }
  function inboxLink() {
    const header = document.querySelector("header");
    if (!header || !token() || DISPLAY_PAGES.includes(location.pathname) || document.getElementById("inbox-link")) return;
    const link = Object.assign(document.createElement("a"), { id: "inbox-link", href: "/inbox.html" });
    const label = Object.assign(document.createElement("span"), { textContent: t("inbox") });
    label.dataset.i18n = "inbox";
    link.append(label, " ", Object.assign(document.createElement("b"), { id: "inbox-badge", className: "badge", hidden: true }));
    (document.getElementById("lang") || header.lastChild).before(link);
    fetch("/api/inbox/count", { headers: { Authorization: `Bearer ${token()}` } })
      .then((r) => (r.ok ? r.json() : null)).then((c) => { if (c) showUnread(c.unread); }).catch(() => {});
  }

  // A gate decision's reason in the page's language; a gate's id in it by the gate's name.
  function gateReason(text) {
    if (!text) return "";
    const words = t("reasons");
    if (words[text]) return words[text];
    for (const [prefix, said] of Object.entries(t("reason_prefix"))) {
      if (text.startsWith(prefix)) {
        const rest = text.slice(prefix.length);
        return said + (words[rest] || (prefix.startsWith("the pass") ? named(rest) : rest.replace(/\)$/, "）")));
      }
    }
    return text;
  }

  const alarmType = (type) => (t("alarm_type") || {})[type] || type;
  const severity = (sev) => (t("sev") || {})[sev] || sev;
  // Times in the site's zone once a page knows it (setZone), not the browser's: a wall screen
  // or a phone set to another zone still shows the compound's time.
  let zone;
  const setZone = (tz) => { zone = tz || undefined; };
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", timeZone: zone }) : "—");
  const datetime = (iso) => (iso ? new Date(iso).toLocaleString(lang, { dateStyle: "short", timeStyle: "short", timeZone: zone }) : "—");
  const clock = (date) => date.toLocaleTimeString(lang, { hour12: false, timeZone: zone });

  // Build an element: el("td", {className: "x"}, "text", child...). Text only, never HTML.
  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props || {});
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  // Messages written by the hub (alarms, reports) come as {key, args}: rendered here from the
  // hub's catalogue in the page's language, times in the site's zone; ids of the site's things
  // (an alarm's originator "route-west/cp-plant") shown by their names.
  let catalogue = null;
  async function loadCatalogue() {
    if (!catalogue) {
      catalogue = await api("/api/i18n").catch(() => ({ messages: {}, names: {} }));
      if (!zone && catalogue.timezone) setZone(catalogue.timezone);
    }
    return catalogue;
  }
  function say(item) {
    const s = item && item.say;
    return (s && render(s.key, s.args)) || (item && item.message) || "";
  }
  // A catalogue message in the page's language, or null when the catalogue has no such key.
  function render(key, args) {
    const template = catalogue && (catalogue.messages[lang] || {})[key];
    if (!template) return null;
    args = args || {};
    return template.replace(/\{(\w+)\}/g, (whole, name) => {
      const en = lang === "en" ? args[`${name}_en`] : undefined;
      const value = en != null ? en : args[name];
      if (value == null) return whole;
      if (name.endsWith("_at")) return time(value);
      if (name.endsWith("_when")) return datetime(value);
      if (name.endsWith("_word")) {
        const words = (catalogue.words && catalogue.words[lang]) || {};
        return words[value] || String(value).replace(/_what$/, "");
      }
      return name.endsWith("_id") ? named(value) : String(value);
    });
  }
  function named(id) {
    const names = (catalogue && catalogue.names && catalogue.names[lang]) || {};
    if (names[id]) return names[id];
    return String(id).split(/([/.])/).map((part) => names[part] || part).join("");
  }


  // A photo as a phone takes it (often 4-5 MB) made small in the page before it is sent: its
  // long side to `longSide` px, JPEG; a data URL, or an Error saying what is wrong with it.
  async function shrinkPhoto(file, { longSide = 1600, maxBytes = 4 * 1024 * 1024, bad = "not a photo", big = "too large" } = {}) {
    if (!file) return null;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (_) {
      throw new Error(bad);
    }
    const scale = Math.min(1, longSide / Math.max(bitmap.width, bitmap.height));
    const canvas = Object.assign(document.createElement("canvas"), {
      width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) });
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
    if (!blob || blob.size > maxBytes) throw new Error(big);
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = reject;
      r.readAsDataURL(blob);
    });
  }

  // An image the API serves to the signed-in (a dish's photo) as an object URL for an <img>.
  async function imageUrl(path) {
    const res = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return URL.createObjectURL(await res.blob());
  }

  // A form's default time: still ahead (the next half hour at least 15 minutes away), `minutes`
  // long, over by `latest` o'clock — else tomorrow from 09:00. {date, from, to} as the inputs take them.
  function aheadSlot(minutes, latest = "20:00") {
    const pad = (n) => String(n).padStart(2, "0");
    const now = new Date();
    let start = new Date(now.getTime() + 15 * 60000);
    start.setMinutes(start.getMinutes() <= 30 ? 30 : 60, 0, 0);
    if (start.getDate() === now.getDate() && start.getHours() < 8) start.setHours(9, 0, 0, 0);
    const [h, m] = latest.split(":").map(Number);
    const cutoff = new Date(now);
    cutoff.setHours(h, m, 0, 0);
    if (start.getDate() !== now.getDate() || start.getTime() + minutes * 60000 > cutoff.getTime()) {
      start = new Date(now);
      start.setDate(start.getDate() + 1);
      start.setHours(9, 0, 0, 0);
    }
    const end = new Date(start.getTime() + minutes * 60000);
    const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    return { date: `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}`, from: hhmm(start), to: hhmm(end) };
  }

  // The last complete period of a kind, as the report pages ask for it: 2026-11-30, 2026-W48, 2026-11, 2026.
  function defaultPeriod(kind) {
    const pad = (n) => String(n).padStart(2, "0");
    const d = new Date();
    if (kind === "day") { d.setDate(d.getDate() - 1); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
    if (kind === "week") {
      d.setDate(d.getDate() - 7);
      const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
      t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
      const week = Math.ceil(((t - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86400000 + 1) / 7);
      return `${t.getUTCFullYear()}-W${pad(week)}`;
    }
    if (kind === "month") { d.setMonth(d.getMonth() - 1); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`; }
    return String(d.getFullYear() - 1);
  }

  return { pages: pagesFor, me, mayUse, render, gateReason, aheadSlot, shrinkPhoto, imageUrl, fragment, defaultPeriod, say, named, catalogue: loadCatalogue, get socket() { return socket; }, sameOrigin, alarmType, severity, params, get lang() { return lang; }, t, token, translate, toggleLanguage, api, post, download, live, time, datetime, clock, setZone, el, signIn };
})();
