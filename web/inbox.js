// A person's inbox: what happened to their things (a visitor arrived, a repair was accepted or
// resolved, a report is ready), newest first; opening one marks it read and goes where it can
// be acted on. New ones arrive live.
"use strict";

Hub.translate({
  "zh-CN": { title: "消息", unread_only: "只看未读", all_read: "全部已读", more: "更早的消息", none: "没有消息", unread: "未读" },
  en: { title: "Inbox", unread_only: "Unread only", all_read: "Mark all read", more: "Older messages", none: "No messages", unread: "unread" },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let oldest = null;

function item(m) {
  const li = el("li", { className: m.read ? "read" : "unread", id: `message-${m.id}`, tabIndex: 0 },
    el("b", {}, m.title), m.read ? "" : el("span", { className: "sr-only" }, ` (${Hub.t("unread")})`),
    m.body ? el("div", {}, m.body) : "",
    el("div", { className: "meta" }, Hub.datetime(m.created_at)));
  const open = async () => {
    if (!m.read) await Hub.post("/api/inbox/read", { ids: [m.id] }).catch(() => {});
    if (m.link && Hub.sameOrigin(m.link)) location.href = Hub.sameOrigin(m.link);
    else Hub.catalogue().then(() => load()); // the site's time zone first: times read as the compound's
  };
  li.addEventListener("click", open);
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  return li;
}

async function load(more) {
  $("#error").textContent = "";
  try {
    const unread = $("#unread-only").checked ? "&unread=true" : "";
    const before = more && oldest ? `&before=${oldest}` : "";
    const list = await Hub.api(`/api/inbox?limit=30${unread}${before}`);
    const items = list.map(item);
    if (more) $("#messages").append(...items);
    else $("#messages").replaceChildren(...(items.length ? items : [el("li", { className: "empty" }, Hub.t("none"))]));
    if (list.length) oldest = list[list.length - 1].id;
    $("#more").hidden = list.length < 30;
    document.body.dataset.ready = "1";
  } catch (err) { $("#error").textContent = String(err.message || err); }
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => load()));
$("#unread-only").addEventListener("change", () => load());
$("#more").addEventListener("click", () => load(true));
$("#all-read").addEventListener("click", async () => { await Hub.post("/api/inbox/read", {}); load(); });
Hub.me().then((me) => { $("#who").textContent = me.name; });
Hub.live({
  status: (s) => { $("#link").className = s; },
  snapshot: () => {},
  changes: (changes) => { if (changes.some((c) => c.type === "inbox")) load(); },
});
Hub.catalogue().then(() => load()); // the site's time zone first: times read as the compound's
