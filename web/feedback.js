// Suggestions and complaints (建议投诉): write one — under one's name, or anonymously and
// follow it with the code shown once —, follow one's own, read the board; those who answer a
// category work its queue (accept, answer, close, decline, each with a note; choose what goes
// on the board) and read its figures. Every text is set as text, never as markup.
"use strict";

Hub.translate({
  "zh-CN": { title: "建议投诉", back: "← 返回", tab_write: "我要提", tab_mine: "我提的", tab_board: "公开栏", tab_queue: "待办理",
    tab_figures: "统计", w_kind: "类型", suggestion: "建议", complaint: "投诉", w_category: "类别", w_title: "标题", w_body: "内容",
    w_place: "地点（可选）", w_photos: "照片（可选，最多 3 张）", w_anon: "匿名提交：不记录我的姓名，凭查询码看答复", w_send: "提交",
    w_route: "由{unit}办理，{hours} 个工作小时内答复", w_sent: "已提交，已转{unit}办理", too_many: "最多 3 张照片",
    code_hint: "您的查询码（只显示这一次，请抄下或截图保存）：", code_link: "凭查询码查看答复", none: "暂无",
    q_show: "显示", q_open: "待办理", q_answered: "已答复", q_closed: "已办结", q_declined: "不予受理", q_all: "全部",
    year: "年份", month: "月份", category: "类别", received: "收到", in_time: "按时答复", closed_n: "办结", declined_n: "不予受理",
    rating: "评分", all: "合计", year_total: "全年",
    handle: "办理", h_note: "答复 / 理由 / 备注", h_accept: "受理", h_start: "开始办理", h_answer: "答复", h_close: "办结",
    h_decline: "不予受理", h_internal: "内部备注", h_public: "在公开栏展示（不显示提出人）", h_done: "已{what}",
    photo_bad: "这张照片打不开，请换一张", photo_big: "照片太大，请换一张" },
  en: { title: "Suggestions & complaints", back: "← Back", tab_write: "Write", tab_mine: "Mine", tab_board: "Board", tab_queue: "To answer",
    tab_figures: "Figures", w_kind: "Kind", suggestion: "Suggestion", complaint: "Complaint", w_category: "Category", w_title: "Title",
    w_body: "What is it about", w_place: "Place (optional)", w_photos: "Photos (optional, up to 3)",
    w_anon: "Anonymous: my name is not kept; I follow it with a code", w_send: "Send",
    w_route: "Answered by {unit} within {hours} working hours", w_sent: "Sent to {unit}", too_many: "At most 3 photos",
    code_hint: "Your follow-up code (shown this once: write it down or take a screenshot):", code_link: "Follow up with a code", none: "Nothing yet",
    q_show: "Show", q_open: "to answer", q_answered: "answered", q_closed: "closed", q_declined: "declined", q_all: "all",
    year: "Year", month: "Month", category: "Category", received: "Received", in_time: "Answered in time", closed_n: "Closed",
    declined_n: "Declined", rating: "Rating", all: "all", year_total: "year",
    handle: "Answer it", h_note: "Answer / reason / note", h_accept: "Accept", h_start: "Start", h_answer: "Answer", h_close: "Close",
    h_decline: "Decline", h_internal: "Internal note", h_public: "Show on the board (without the writer)", h_done: "{what}",
    photo_bad: "This photo cannot be read: choose another", photo_big: "The photo is too big: choose another" },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const fill = (text, args) => text.replace(/\{(\w+)\}/g, (_, k) => String(args[k]));
let categories = [];
let open = null; // the item shown
let tab = "write";
let me = null; // who is signed in

function showTab(name) {
  tab = name;
  for (const b of document.querySelectorAll("[data-tab]")) b.className = b.dataset.tab === name ? "" : "quiet";
  for (const s of document.querySelectorAll("section[id^=tab-]")) s.hidden = s.id !== `tab-${name}`;
  $("#item").hidden = true;
  ({ mine, board, queue, figures, write: () => {} })[name]();
}

function row(f, extra) {
  const waiting = ["received", "accepted", "in_hand"].includes(f.status);
  const li = el("li", { className: waiting ? "unread" : "read", id: `item-${f.id}`, tabIndex: 0 },
    el("b", {}, f.title),
    el("div", { className: "meta" }, [Hub.t("kind")[f.kind], f.category_name, Hub.t("status")[f.status] || f.status,
      f.answer_late || f.close_late ? Hub.t("late") : "", extra || ""].filter(Boolean).join(" · ")),
    f.reply ? el("div", {}, f.reply) : "",
    el("div", { className: "meta" }, Hub.datetime(f.created_at)));
  li.addEventListener("click", () => openItem(f.id));
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") openItem(f.id); });
  return li;
}

function list(target, items, extra) {
  $(target).replaceChildren(...(items.length ? items.map((f) => row(f, extra && extra(f))) : [el("li", { className: "empty" }, Hub.t("none"))]));
}

async function guarded(work) {
  $("#error").textContent = "";
  try { await work(); } catch (err) { $("#error").textContent = String(err.message || err); }
}

const mine = () => guarded(async () => list("#mine", await Hub.api("/api/feedback/mine")));
const board = () => guarded(async () => list("#board", await Hub.api("/api/feedback/board")));
const queue = () => guarded(async () => {
  const status = $("#q-status").value;
  const items = await Hub.api(`/api/feedback/queue?status=${status}`); // "": all of them
  list("#queue", items, (f) => (f.anonymous ? Hub.t("anonymous") : Hub.named(f.writer)));
});
const figures = () => guarded(async () => {
  const year = Number($("#year").value) || new Date().getFullYear();
  $("#year").value = year;
  const f = await Hub.api(`/api/feedback/figures?year=${year}`);
  const name = (c) => (!c ? Hub.t("all") : Hub.named(c) !== c ? Hub.named(c) : f.categories[c] || c);
  $("#figures").replaceChildren(...f.rows.map((r) => el("tr", { className: r.category ? "" : "total" },
    el("td", {}, r.month ? String(r.month) : Hub.t("year_total")), el("td", {}, name(r.category)), el("td", {}, String(r.received)),
    el("td", {}, r.answered_in_time_pct == null ? "–" : `${r.answered_in_time} (${r.answered_in_time_pct}%)`),
    el("td", {}, String(r.closed)), el("td", {}, String(r.declined)), el("td", {}, r.rating == null ? "–" : `${r.rating} (${r.rated})`))));
});

async function openItem(id) {
  await guarded(async () => {
    const f = await Hub.api(`/api/feedback/${id}`);
    showItem(f);
  });
}

function showItem(f) {
  open = f;
  for (const s of document.querySelectorAll("section[id^=tab-]")) s.hidden = true;
  history.replaceState(null, "", `#item=${f.id}`);
  const own = f.writer && f.writer === me.name;
  FeedbackView.show(f, {
    photo: (n) => Hub.imageUrl(`/api/feedback/${f.id}/photos/${n}`),
    rate: own ? (n, note) => Hub.post(`/api/feedback/${f.id}/rate`, { rating: n, note }) : null,
    add: own ? (text) => Hub.post(`/api/feedback/${f.id}/add`, { text }) : null,
  });
  const category = categories.find((c) => c.id === f.category);
  $("#handle").hidden = !(category && category.mine);
  $("#h-public").checked = f.public;
  $("#h-public").disabled = !["answered", "closed"].includes(f.status);
  const moves = { accept: ["received"], start: ["received", "accepted"], answer: ["received", "accepted", "in_hand", "answered"],
    close: ["received", "accepted", "in_hand", "answered"], decline: ["received", "accepted", "in_hand"], note: null };
  for (const b of document.querySelectorAll("[data-act]")) b.hidden = moves[b.dataset.act] !== null && !moves[b.dataset.act].includes(f.status);
}

async function act(action, extra = {}) {
  $("#h-said").textContent = "";
  try {
    const f = await Hub.post(`/api/feedback/${open.id}/act`, { action, note: $("#h-note").value, ...extra });
    $("#h-note").value = "";
    showItem(f);
    const what = action === "publish" ? Hub.t("action")[extra.public ? "published" : "unpublished"]
      : Hub.t(`h_${action === "note" ? "internal" : action}`);
    $("#h-said").textContent = fill(Hub.t("h_done"), { what });
  } catch (err) { $("#h-said").textContent = String(err.message || err); }
}

function route() {
  const c = categories.find((x) => x.id === $("#w-category").value);
  $("#w-route").textContent = c ? fill(Hub.t("w_route"), { unit: c.unit_name || c.name, hours: Math.round(c.answer_min / 60) }) : "";
}

async function form() {
  const [cats, places] = await Promise.all([Hub.api("/api/feedback/categories"), Hub.api("/api/feedback/places")]);
  categories = cats;
  $("#w-category").replaceChildren(...cats.map((c) => el("option", { value: c.id }, Hub.lang === "en" && c.name_en ? c.name_en : c.name)));
  $("#w-place").replaceChildren(el("option", { value: "" }, ""), ...places.map((p) => el("option", { value: `${p.kind}:${p.id}` },
    p.kind === "room" ? `${Hub.named(p.building)} · ${Hub.named(p.id)}` : Hub.named(p.id))));
  route();
  const answers = cats.some((c) => c.mine);
  for (const name of ["queue", "figures"]) document.querySelector(`[data-tab=${name}]`).hidden = !answers;
}

$("#write").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("#w-said").textContent = "";
  $("#w-code").hidden = true;
  try {
    const files = [...$("#w-photos").files];
    if (files.length > 3) throw new Error(Hub.t("too_many"));
    const photos = await Promise.all(files.map((file) => Hub.shrinkPhoto(file, { bad: Hub.t("photo_bad"), big: Hub.t("photo_big") })));
    const [kind, place] = $("#w-place").value.split(":");
    const f = await Hub.post("/api/feedback", {
      kind: document.querySelector("input[name=kind]:checked").value, category: $("#w-category").value,
      title: $("#w-title").value, body: $("#w-body").value, anonymous: $("#w-anon").checked, photos,
      building: kind === "building" ? place : null, room: kind === "room" ? place : null,
    });
    $("#write").reset();
    route();
    $("#w-said").textContent = fill(Hub.t("w_sent"), { unit: f.unit_name || f.category_name });
    if (f.code) {
      $("#code").textContent = f.code;
      $("#w-code").hidden = false;
    }
  } catch (err) { $("#w-said").textContent = String(err.message || err); }
});
$("#w-category").addEventListener("change", route);
$("#q-status").addEventListener("change", queue);
$("#year").addEventListener("change", figures);
for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
for (const b of document.querySelectorAll("[data-act]")) b.addEventListener("click", () => act(b.dataset.act));
$("#h-public").addEventListener("change", () => act("publish", { public: $("#h-public").checked }));
$("#back").addEventListener("click", () => { history.replaceState(null, "", location.pathname); showTab(tab); });
$("#lang").addEventListener("click", () => Hub.toggleLanguage(async () => {
  await form();
  if (open && !$("#item").hidden) openItem(open.id); else showTab(tab);
}));

Hub.me().then(async (who) => {
  me = who;
  $("#who").textContent = me.name;
  await Hub.catalogue();
  FeedbackView.stars();
  await guarded(form);
  const wanted = Number(Hub.fragment.get("item"));
  if (wanted) await openItem(wanted);
  else showTab(Hub.fragment.get("tab") || Hub.params.get("tab") || "write"); // #tab= or ?tab=
  document.body.dataset.ready = "1";
});
Hub.live({
  status: (s) => { $("#link").className = s; },
  snapshot: () => {},
  changes: (changes) => {
    if (!changes.some((c) => c.type === "inbox")) return;
    if (open && !$("#item").hidden) openItem(open.id); else if (tab !== "write") showTab(tab);
  },
});
