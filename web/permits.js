// Cards and permits (卡证办理): my cards and applications, applying (with the documents each
// kind asks for, photographed on the phone), my staff card as a QR code that changes every
// minute (the next ten minutes' codes are kept, so it works offline); for approvers the
// applications waiting for them; for the windows the register, issuing and handing over,
// suspending and revoking, the year's figures and the door-access export.
"use strict";

Hub.translate({
  "zh-CN": { title: "卡证办理", back: "← 返回", tab_mine: "我的卡证", tab_card: "工作证二维码", tab_apply: "申请", tab_approve: "待我审批",
    tab_window: "窗口", card_hint: "在门岗或食堂窗口出示。二维码每分钟更换，截图无效；离线也可使用 10 分钟。", card_left: "{s} 秒后更换",
    card_out: "二维码已用完，请联网刷新", a_kind: "卡证类型", a_plate: "车牌号", a_doors: "开通门禁", a_note: "说明（可空）",
    a_send: "提交申请", a_sent: "已提交：{next}", a_chain: "审批：{chain}；有效期 {days} 天；{issuer}发证", a_none: "无需审批",
    unit: "本单位审批人", w_status: "状态", w_all: "全部", w_to_issue: "待制证", w_to_collect: "待领取", w_q: "查找",
    doors_csv: "导出门禁名单（CSV）", figures: "本年统计", month: "月份", kind: "类型", applied: "申请", issued: "制证",
    refused: "未通过", days: "申请到制证（天，中位）", year: "全年", all: "合计", history: "办理经过", p_note: "意见 / 理由",
    do_approve: "同意", do_return: "退回修改", do_refuse: "不同意", do_issue: "制证", do_collect: "已领取", do_suspend: "暂停",
    do_resume: "恢复", do_revoke: "注销", do_lost: "挂失", do_renew: "续办", do_resubmit: "重新提交", done: "已办理", none: "暂无",
    valid: "有效期至 {until}", waiting_for: "等待 {who} 审批", number: "编号 {n}",
    status: { applied: "审批中", returned: "已退回", refused: "未通过", approved: "待制证", issued: "待领取", collected: "有效",
      suspended: "已暂停", lost: "已挂失", revoked: "已注销", expired: "已过期", replaced: "已换新" },
    doc: { photo: "证件照", id_card: "身份证照片", driving_licence: "行驶证照片", contract: "施工合同照片" } },
  en: { title: "Cards & permits", back: "← Back", tab_mine: "Mine", tab_card: "Staff card", tab_apply: "Apply", tab_approve: "To approve",
    tab_window: "Window", card_hint: "Show it at the gate or the canteen's counter. The code changes every minute (a screenshot is no good); it works offline for 10 minutes.",
    card_left: "new code in {s} s", card_out: "No codes left: go online to refresh", a_kind: "Kind", a_plate: "Plate",
    a_doors: "Doors", a_note: "Note (optional)", a_send: "Apply", a_sent: "Sent: {next}", a_chain: "Approved by {chain}; valid {days} days; issued by {issuer}",
    a_none: "no approval", unit: "your unit's approver", w_status: "Status", w_all: "all", w_to_issue: "to issue", w_to_collect: "to collect",
    w_q: "Find", doors_csv: "Export door access (CSV)", figures: "This year", month: "Month", kind: "Kind", applied: "Applied",
    issued: "Issued", refused: "Refused", days: "Days to issue (median)", year: "year", all: "all", history: "History",
    p_note: "Note / reason", do_approve: "Approve", do_return: "Return", do_refuse: "Refuse", do_issue: "Issue", do_collect: "Collected",
    do_suspend: "Suspend", do_resume: "Resume", do_revoke: "Revoke", do_lost: "Report lost", do_renew: "Renew", do_resubmit: "Send again",
    done: "Done", none: "Nothing here", valid: "valid until {until}", waiting_for: "waiting for {who}", number: "No. {n}",
    status: { applied: "being approved", returned: "returned", refused: "refused", approved: "to be issued", issued: "ready to collect",
      collected: "valid", suspended: "suspended", lost: "lost", revoked: "revoked", expired: "expired", replaced: "replaced" },
    doc: { photo: "ID photo", id_card: "ID card photo", driving_licence: "Driving licence photo", contract: "Contract photo" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const fill = (text, args) => text.replace(/\{(\w+)\}/g, (_, k) => String(args[k]));
const WINDOWS = ["admin", "manager", "security", "dispatcher", "canteen"];
let me = null;
let kinds = [];
let open = null;
let tab = "mine";
let codes = []; // the phone credential's codes still to show
let ticking = null;

async function guarded(work, where = "#error") {
  $(where).textContent = "";
  try { await work(); } catch (err) { $(where).textContent = String(err.message || err); }
}

function showTab(name) {
  tab = name;
  for (const b of document.querySelectorAll("[data-tab]")) b.className = b.dataset.tab === name ? "" : "quiet";
  for (const s of document.querySelectorAll("section[id^=tab-]")) s.hidden = s.id !== `tab-${name}`;
  $("#one").hidden = true;
  history.replaceState(null, "", location.pathname);
  ({ mine, card, apply: () => {}, approve: waiting, window: windowTab })[name]();
}

function row(p) {
  const state = Hub.t("status")[p.status] || p.status;
  const extra = p.status === "applied" && p.waiting_for.length ? fill(Hub.t("waiting_for"), { who: p.waiting_for.map(who).join("、") })
    : p.valid_until && ["issued", "collected"].includes(p.status) ? fill(Hub.t("valid"), { until: Hub.datetime(p.valid_until) }) : "";
  const li = el("li", { className: ["returned", "issued"].includes(p.status) ? "unread" : "read", id: `permit-${p.id}`, tabIndex: 0 },
    el("b", {}, `${p.kind_name}${p.plate ? ` · ${p.plate}` : ""}`),
    el("div", { className: "meta" }, [state, p.number ? fill(Hub.t("number"), { n: p.number }) : "", Hub.named(p.holder), extra].filter(Boolean).join(" · ")));
  li.addEventListener("click", () => one(p.id));
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") one(p.id); });
  return li;
}
const who = (x) => (Hub.t("role")[x] ? Hub.t("role")[x] : Hub.named(x));
const list = (target, items) => $(target).replaceChildren(...(items.length ? items.map(row) : [el("li", { className: "empty" }, Hub.t("none"))]));
const mine = () => guarded(async () => list("#mine", await Hub.api("/api/permits/mine")));
const waiting = () => guarded(async () => list("#waiting", await Hub.api("/api/permits/waiting")));

async function windowTab() {
  await guarded(async () => {
    const q = new URLSearchParams({ status: $("#w-status").value, q: $("#w-q").value });
    list("#register", await Hub.api(`/api/permits/register?${q}`));
    const f = await Hub.api("/api/permits/figures");
    $("#figures").replaceChildren(...f.rows.map((r) => el("tr", { className: r.kind ? "" : "total" },
      el("td", {}, r.month ? String(r.month) : Hub.t("year")), el("td", {}, r.kind ? f.kinds[r.kind] || r.kind : Hub.t("all")),
      el("td", {}, String(r.applied)), el("td", {}, String(r.issued)), el("td", {}, String(r.refused)),
      el("td", {}, r.days_median == null ? "–" : String(r.days_median)))));
  });
}

// -- the staff card on the phone ------------------------------------------------------------
async function card() {
  clearInterval(ticking);
  try {
    const got = await Hub.api("/api/credential");
    $("#card-name").textContent = got.name;
    codes = got.codes;
    localStorage.setItem("hub.card", JSON.stringify(got)); // offline: the next minutes' codes
  } catch (err) {
    const kept = JSON.parse(localStorage.getItem("hub.card") || "null");
    if (kept) { $("#card-name").textContent = kept.name; codes = kept.codes; }
  }
  draw();
  ticking = setInterval(draw, 1000);
}

function draw() {
  if (tab !== "card") { clearInterval(ticking); return; }
  const now = Date.now();
  codes = codes.filter((c) => new Date(c.valid_until).getTime() > now);
  const current = codes.find((c) => new Date(c.valid_from).getTime() <= now);
  if (!current) { $("#card-left").textContent = Hub.t("card_out"); $("#card-qr").removeAttribute("src"); return; }
  if ($("#card-qr").dataset.token !== current.token) {
    const qr = qrcode(0, "M");
    qr.addData(current.token);
    qr.make();
    $("#card-qr").src = qr.createDataURL(5, 8);
    $("#card-qr").dataset.token = current.token;
  }
  const left = Math.max(0, Math.round((new Date(current.valid_until).getTime() - now) / 1000));
  $("#card-left").textContent = fill(Hub.t("card_left"), { s: left });
  if (codes.length < 4 && navigator.onLine) card(); // running low: the next ten minutes
}

// -- applying -------------------------------------------------------------------------------
function kindChanged() {
  const k = kinds.find((x) => x.id === $("#a-kind").value);
  if (!k) return;
  const chain = k.chain.map((c) => (c === "unit" ? Hub.t("unit") : who(c))).join(" → ") || Hub.t("a_none");
  $("#a-chain").textContent = fill(Hub.t("a_chain"), { chain, days: k.valid_days, issuer: who(k.issuer) });
  $("#a-plate-box").hidden = !k.plate;
  $("#a-doors-box").hidden = !k.doors;
  $("#a-docs").replaceChildren(...k.documents.map((d) => el("label", {}, el("span", {}, Hub.t("doc")[d] || d), " ",
    el("input", { type: "file", accept: "image/*", name: `doc-${d}`, required: true }))));
}

async function form() {
  kinds = await Hub.api("/api/permits/kinds");
  $("#a-kind").replaceChildren(...kinds.map((k) => el("option", { value: k.id }, Hub.lang === "en" && k.name_en ? k.name_en : k.name)));
  const doors = (await Hub.api("/api/feedback/places")).map((p) => p.id); // buildings and rooms
  $("#a-doors").replaceChildren(...doors.map((d) => el("label", { className: "check" }, el("input", { type: "checkbox", name: "door", value: d }), ` ${Hub.named(d)}`)));
  kindChanged();
}

$("#apply").addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    const k = kinds.find((x) => x.id === $("#a-kind").value);
    const documents = {};
    for (const d of k.documents) {
      const file = document.querySelector(`input[name=doc-${d}]`).files[0];
      documents[d] = await Hub.shrinkPhoto(file, { bad: Hub.t("doc")[d], big: Hub.t("doc")[d] });
    }
    const p = await Hub.post("/api/permits", {
      kind: k.id, documents, note: $("#a-note").value, plate: k.plate ? $("#a-plate").value : null,
      doors: k.doors ? [...document.querySelectorAll("input[name=door]:checked")].map((i) => i.value) : [],
    });
    $("#apply").reset();
    kindChanged();
    $("#a-said").textContent = fill(Hub.t("a_sent"), { next: Hub.t("status")[p.status] || p.status });
  }, "#a-said");
});

// -- one card or application ----------------------------------------------------------------
async function one(id) {
  await guarded(async () => {
    const p = await Hub.api(`/api/permits/${id}`);
    open = p;
    for (const s of document.querySelectorAll("section[id^=tab-]")) s.hidden = true;
    history.replaceState(null, "", `#permit=${id}`);
    $("#p-title").textContent = `${p.kind_name}${p.number ? ` · ${p.number}` : ""}`;
    $("#p-meta").textContent = [Hub.t("status")[p.status] || p.status, Hub.named(p.holder), Hub.named(p.unit || ""),
      p.valid_until ? fill(Hub.t("valid"), { until: Hub.datetime(p.valid_until) }) : ""].filter(Boolean).join(" · ");
    $("#p-what").textContent = [p.plate, p.doors.map(Hub.named).join("、"), p.note, p.reason].filter(Boolean).join(" · ");
    $("#p-docs").replaceChildren(...p.documents.map((d) => {
      const img = el("img", { className: "dish-photo", alt: Hub.t("doc")[d] || d });
      Hub.imageUrl(`/api/permits/${p.id}/documents/${d}`).then((u) => { img.src = u; }).catch(() => {});
      return img;
    }));
    $("#p-log").replaceChildren(...(p.log || []).map((e) => el("li", {},
      el("div", { className: "meta" }, `${Hub.datetime(e.ts)} · ${Hub.named(e.actor)} · ${e.action}`), e.note ? el("div", {}, e.note) : "")));
    const mineToo = p.holder === me.name;
    const windowRole = me.roles.some((r) => WINDOWS.includes(r));
    const can = {
      approve: p.status === "applied" && !mineToo, return: p.status === "applied" && !mineToo, refuse: p.status === "applied" && !mineToo,
      issue: p.status === "approved" && windowRole, collect: p.status === "issued" && windowRole,
      suspend: ["issued", "collected"].includes(p.status) && windowRole, resume: p.status === "suspended" && windowRole,
      revoke: ["issued", "collected", "suspended", "approved"].includes(p.status) && windowRole,
      lost: ["issued", "collected", "suspended"].includes(p.status) && mineToo,
      renew: ["issued", "collected"].includes(p.status) && mineToo, resubmit: p.status === "returned" && mineToo,
    };
    for (const b of document.querySelectorAll("[data-do]")) b.hidden = !can[b.dataset.do];
    $("#p-act").hidden = !Object.values(can).some(Boolean);
    $("#one").hidden = false;
  });
}

async function act(what) {
  await guarded(async () => {
    const note = $("#p-note").value;
    const id = open.id;
    if (["approve", "return", "refuse"].includes(what)) await Hub.post(`/api/permits/${id}/decide`, { action: what, note });
    else if (what === "issue") await Hub.post(`/api/permits/${id}/issue`, {});
    else if (what === "renew") await Hub.post("/api/permits", { kind: open.kind, renews: id, plate: open.plate, doors: open.doors, note });
    else if (what === "resubmit") await Hub.post(`/api/permits/${id}/resubmit`, { note });
    else await Hub.post(`/api/permits/${id}/act`, { action: what, note });
    $("#p-note").value = "";
    await one(id);
    $("#p-said").textContent = Hub.t("done");
  }, "#p-said");
}

for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
for (const b of document.querySelectorAll("[data-do]")) b.addEventListener("click", () => act(b.dataset.do));
$("#a-kind").addEventListener("change", kindChanged);
$("#w-status").addEventListener("change", windowTab);
$("#w-q").addEventListener("change", windowTab);
$("#back").addEventListener("click", () => showTab(tab));
$("#doors-csv").addEventListener("click", (e) => { e.preventDefault(); guarded(() => Hub.download("/api/permits/doors.csv", "doors.csv")); });
$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => (open && !$("#one").hidden ? one(open.id) : showTab(tab))));

Hub.me().then(async (who_) => {
  me = who_;
  $("#who").textContent = me.name;
  await Hub.catalogue();
  await guarded(form);
  const windowRole = me.roles.some((r) => WINDOWS.includes(r));
  document.querySelector("[data-tab=window]").hidden = !windowRole;
  $("#doors-export").hidden = !me.roles.some((r) => r === "admin" || r === "security");
  const approving = (await Hub.api("/api/permits/waiting").catch(() => [])).length > 0;
  document.querySelector("[data-tab=approve]").hidden = !(approving || windowRole);
  const wanted = Number(Hub.fragment.get("permit"));
  if (wanted) await one(wanted);
  else showTab(Hub.fragment.get("tab") || Hub.params.get("tab") || "mine");
  document.body.dataset.ready = "1";
});
Hub.live({ status: (s) => { $("#link").className = s; }, snapshot: () => {}, changes: (c) => { if (c.some((x) => x.type === "inbox") && $("#one").hidden && tab !== "card") showTab(tab); } });
