// Notices (通知公告): the notices meant for this person, pinned first; opening one marks it read,
// and one that asks for it is acknowledged with a tap. Administrators and managers also write
// them (to everyone, or work units and roles; now or at a set time), and see for each of theirs
// who has still to read or acknowledge it, and remind those once.
"use strict";

Hub.translate({
  "zh-CN": { title: "通知公告", back: "← 全部通知", ack: "我已阅读并确认", acked: "已确认 {when}", receipts: "阅读情况",
    counts: "{n} 人中 {read} 人已读，{acked} 人已确认", remind: "提醒未读/未确认的人", withdraw: "撤回",
    reminded: "已提醒 {n} 人", reminded_at: "已于 {when} 提醒过", write: "发布通知", f_title: "标题",
    f_body: "正文（空行分段）", f_for: "发给", f_all: "全体人员", f_ack: "需确认已读", f_pin: "置顶",
    f_at: "定时发布（可空）", f_until: "截止显示（可空）", publish: "发布", published: "已发布，{n} 人将收到",
    scheduled: "将于 {when} 发布", mine: "我发布的通知", none: "没有通知", pinned: "置顶", must_ack: "需确认",
    unread: "未读", to_ack: "待确认", not_read: "未读", not_acked: "已读未确认", everyone_done: "所有人都已阅读",
    withdrawn: "已撤回", f_files: "附件（可选，最多 5 个，每个 10 MB 以内）", f_display: "同时在大屏和会议室门牌显示",
    too_many: "最多 5 个附件", status: { scheduled: "待发布", published: "已发布", withdrawn: "已撤回" } },
  en: { title: "Notices", back: "← All notices", ack: "I have read it", acked: "Acknowledged {when}", receipts: "Who has read it",
    counts: "{read} of {n} have read it, {acked} acknowledged", remind: "Remind those who have not", withdraw: "Withdraw",
    reminded: "{n} reminded", reminded_at: "Reminded at {when}", write: "Write a notice", f_title: "Title",
    f_body: "Text (a blank line between paragraphs)", f_for: "For", f_all: "Everyone", f_ack: "Ask to acknowledge",
    f_pin: "Pin it", f_at: "Publish at (optional)", f_until: "Show until (optional)", publish: "Publish",
    published: "Published: {n} people are told", scheduled: "To be published {when}", mine: "My notices",
    none: "No notices", pinned: "pinned", must_ack: "to acknowledge", unread: "unread", to_ack: "to acknowledge",
    not_read: "not read", not_acked: "read, not acknowledged", everyone_done: "Everyone has read it",
    withdrawn: "Withdrawn", f_files: "Attachments (optional, up to 5, 10 MB each)", f_display: "Also on the wall and the rooms' door displays",
    too_many: "At most 5 attachments", status: { scheduled: "scheduled", published: "published", withdrawn: "withdrawn" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const fill = (text, args) => text.replace(/\{(\w+)\}/g, (_, k) => String(args[k]));
let publisher = false;
let open = null;

function row(n, onOpen, extra) {
  const addressed = n.read_at !== undefined; // the reader's list, not the author's
  const waiting = addressed && (n.read_at === null || (n.must_ack && !n.acked_at));
  const badges = [n.pinned ? Hub.t("pinned") : "", addressed && n.must_ack && !n.acked_at ? Hub.t("to_ack") : "",
    addressed && n.read_at === null ? Hub.t("unread") : ""].filter(Boolean);
  const li = el("li", { className: waiting ? "unread" : "read",
    id: `notice-${n.id}`, tabIndex: 0 },
  el("b", {}, n.title), badges.length ? el("span", { className: "meta" }, ` · ${badges.join(" · ")}`) : "",
  el("div", {}, n.summary),
  el("div", { className: "meta" }, [Hub.datetime(n.publish_at), extra || ""].filter(Boolean).join(" · ")));
  li.addEventListener("click", () => onOpen(n.id));
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") onOpen(n.id); });
  return li;
}

function show(which) {
  $("#reading").hidden = which !== "reading";
  $("#listing").hidden = which !== "listing";
  $("#writing").hidden = which !== "listing" || !publisher;
}

async function list() {
  $("#error").textContent = "";
  try {
    const mine = await Hub.api("/api/notices");
    $("#notices").replaceChildren(...(mine.length ? mine.map((n) => row(n, read)) : [el("li", { className: "empty" }, Hub.t("none"))]));
    if (publisher) {
      const authored = await Hub.api("/api/notices/authored");
      $("#authored").replaceChildren(...authored.map((n) => row(n, receipts,
        `${Hub.t("status")[n.status] || n.status} · ${fill(Hub.t("counts"), { n: n.recipients, read: n.read, acked: n.acknowledged })}`)));
    }
    show("listing");
    document.body.dataset.ready = "1";
  } catch (err) { $("#error").textContent = String(err.message || err); }
}

function body(html) { // the hub sanitised it; parsed inert, then moved in
  const doc = new DOMParser().parseFromString(html || "", "text/html");
  $("#n-body").replaceChildren(...doc.body.childNodes);
}

function head(n) {
  open = n;
  $("#n-title").textContent = n.title;
  $("#n-meta").textContent = [Hub.named(n.author), Hub.datetime(n.publish_at), n.must_ack ? Hub.t("must_ack") : ""].filter(Boolean).join(" · ");
  body(n.body);
  const size = (b) => (b >= 1048576 ? `${(b / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(b / 1024))} KB`);
  $("#n-files").replaceChildren(...(n.attachments || []).map((a) => {
    const link = el("a", { href: "#" }, `📎 ${a.name} (${size(a.size)})`);
    link.addEventListener("click", (e) => {
      e.preventDefault();
      Hub.download(`/api/notices/${n.id}/attachments/${a.id}`, a.name).catch((err) => { $("#error").textContent = String(err.message || err); });
    });
    return el("li", {}, link);
  }));
  history.replaceState(null, "", `#notice=${n.id}`);
  show("reading");
}

async function read(id) {
  $("#error").textContent = "";
  try {
    const n = await Hub.api(`/api/notices/${id}`);
    head(n);
    $("#receipts").hidden = true;
    $("#ack").hidden = !n.must_ack || Boolean(n.acked_at);
    $("#acked").textContent = n.acked_at ? fill(Hub.t("acked"), { when: Hub.datetime(n.acked_at) }) : "";
  } catch (err) {
    if (publisher && err.status === 404) return receipts(id); // one of mine, not addressed to me
    $("#error").textContent = String(err.message || err);
  }
}

async function receipts(id) {
  $("#error").textContent = "";
  try {
    const r = await Hub.api(`/api/notices/${id}/receipts`);
    head(r);
    $("#ack").hidden = true;
    $("#acked").textContent = "";
    $("#receipts").hidden = false;
    $("#r-counts").textContent = fill(Hub.t("counts"), { n: r.recipients, read: r.read, acked: r.acknowledged });
    $("#stragglers").replaceChildren(...(r.stragglers.length ? r.stragglers.map((p) => el("li", { className: "straggler" },
      `${Hub.named(p.username)} · ${Hub.named(p.unit || "") || ""} · ${p.read ? Hub.t("not_acked") : Hub.t("not_read")}`))
      : [el("li", { className: "empty" }, Hub.t("everyone_done"))]));
    $("#remind").disabled = Boolean(r.reminded_at) || !r.stragglers.length || r.status !== "published";
    $("#r-said").textContent = r.reminded_at ? fill(Hub.t("reminded_at"), { when: Hub.datetime(r.reminded_at) }) : "";
    $("#withdraw").hidden = r.status === "withdrawn";
  } catch (err) { $("#error").textContent = String(err.message || err); }
}

function paragraphs(text) { // what an author types: blank lines between paragraphs
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean).map((p) => `<p>${esc(p).replace(/\n/g, "<br>")}</p>`).join("");
}

async function compose() {
  const [choices, cat] = await Promise.all([Hub.api("/api/notices/audiences"), Hub.catalogue()]);
  const box = (name, id, label) => el("label", { className: "check" }, el("input", { type: "checkbox", name, value: id }), ` ${label}`);
  $("#f-units").replaceChildren(...choices.units.map((u) => box("unit", u, Hub.named(u))));
  $("#f-roles").replaceChildren(...choices.roles.map((r) => box("role", r, Hub.t("role")[r] || r)));
  $("#f-buildings").replaceChildren(...choices.buildings.map((b) => box("building", b, Hub.named(b))));
  return cat;
}

$("#compose").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("#f-said").textContent = "";
  const checked = (name) => [...document.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
  const when = (v) => (v ? new Date(v).toISOString() : null);
  try {
    const files = [...$("#f-files").files];
    if (files.length > 5) throw new Error(Hub.t("too_many"));
    const attachments = [];
    for (const file of files) { // each uploaded first; the notice names them
      const form = new FormData();
      form.append("file", file);
      attachments.push((await Hub.api("/api/notices/attachments", { method: "POST", body: form })).id);
    }
    const n = await Hub.post("/api/notices", {
      title: $("#f-title").value, body: paragraphs($("#f-body").value), everyone: $("#f-all").checked,
      units: checked("unit"), roles: checked("role"), buildings: checked("building"), must_ack: $("#f-ack").checked,
      pinned: $("#f-pin").checked, display: $("#f-display").checked, attachments,
      publish_at: when($("#f-at").value), expires_at: when($("#f-until").value),
    });
    $("#compose").reset();
    await list();
    $("#f-said").textContent = n.status === "scheduled" ? fill(Hub.t("scheduled"), { when: Hub.datetime(n.publish_at) })
      : fill(Hub.t("published"), { n: n.recipients });
  } catch (err) { $("#f-said").textContent = String(err.message || err); }
});
$("#ack").addEventListener("click", async () => {
  try {
    const n = await Hub.post(`/api/notices/${open.id}/acknowledge`, {});
    $("#ack").hidden = true;
    $("#acked").textContent = fill(Hub.t("acked"), { when: Hub.datetime(n.acked_at) });
  } catch (err) { $("#error").textContent = String(err.message || err); }
});
$("#remind").addEventListener("click", async () => {
  try {
    const n = await Hub.post(`/api/notices/${open.id}/remind`, {});
    $("#remind").disabled = true;
    $("#r-said").textContent = fill(Hub.t("reminded"), { n: n.reminded });
  } catch (err) { $("#r-said").textContent = String(err.message || err); }
});
$("#withdraw").addEventListener("click", async () => {
  try {
    await Hub.post(`/api/notices/${open.id}/withdraw`, {});
    $("#r-said").textContent = Hub.t("withdrawn");
    $("#withdraw").hidden = true;
    $("#remind").disabled = true;
  } catch (err) { $("#r-said").textContent = String(err.message || err); }
});
$("#back").addEventListener("click", () => { history.replaceState(null, "", location.pathname); list(); });
$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => (open && !$("#reading").hidden ? read(open.id) : list())));

Hub.me().then(async (me) => {
  $("#who").textContent = me.name;
  publisher = me.roles.some((r) => r === "admin" || r === "manager");
  await Hub.catalogue(); // the site's time zone and names first
  if (publisher) await compose();
  const wanted = Number(Hub.fragment.get("notice"));
  if (wanted) await read(wanted);
  else await list();
  document.body.dataset.ready = "1";
});
Hub.live({
  status: (s) => { $("#link").className = s; },
  snapshot: () => {},
  changes: (changes) => { if (changes.some((c) => c.type === "inbox") && !$("#listing").hidden) list(); },
});
