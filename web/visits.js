// visits.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// Hosts register visitors (and their cars), send each visitor the pass link, see arrivals;
// the unit's approvers approve big groups and long visits.
Hub.translate({
  "zh-CN": { title: "访客预约", responsible: "谁预约谁负责：请如实登记来访人员。", purpose: "来访事由", date: "日期",
    from: "从", to: "至", name: "姓名", phone: "手机", id_number: "证件号（选填）", company: "单位",
    plate: "车牌（选填）", invite: "登记", add_person: "＋ 再加一位来访人", remove: "移除", visitor_n: "来访人 {n}", mine: "我的访客", done: "已登记", pass: "通行码链接", cancel: "取消来访",
    approve: "批准", refuse: "不批准", status: { invited: "待审批", approved: "已批准", cancelled: "已取消" },
    vstatus: { invited: "未到", arrived: "已到", left: "已离开", no_show: "未到访", overstay: "超时未离" } },
  en: { title: "Visitors", responsible: "Whoever invites is responsible: register visitors truthfully.",
    purpose: "Purpose", date: "Date", from: "From", to: "To", name: "Name", phone: "Phone",
    id_number: "ID number (optional)", company: "Company", plate: "Car plate (optional)", invite: "Register",
    add_person: "+ Add another visitor", remove: "Remove", visitor_n: "Visitor {n}",
    mine: "My visitors", done: "Registered", pass: "Pass link", cancel: "Cancel the visit", approve: "Approve",
    refuse: "Refuse", status: { invited: "waiting for approval", approved: "approved", cancelled: "cancelled" },
    vstatus: { invited: "not yet", arrived: "arrived", left: "left", no_show: "did not come", overstay: "overstaying" } },
});
const { el } = Hub;
const $ = (s) => document.querySelector(s);
let me = null;
function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }

async function showPass(visitor, box) {
  try {
    const p = await Hub.api(`/api/visitors/${visitor.id}/pass`);
    const link = el("a", { href: p.link, target: "_blank", rel: "noopener" }, Hub.t("pass"));
    box.replaceChildren(el("img", { src: p.qr, alt: "QR", width: 160, className: "pass-qr" }), el("br"), link);
  } catch (err) { box.textContent = String(err.message || err); }
}

function card(v) {
  const st = Hub.t("status"), vs = Hub.t("vstatus");
  const c = el("article", { className: "ticket", id: `visit-${v.id}` },
    el("b", {}, `${v.purpose} · ${st[v.status] || v.status}`),
    el("div", { className: "meta" }, `${Hub.datetime(v.start)}–${Hub.datetime(v.end)} · ${v.host}`));
  for (const p of v.visitors) {
    const box = el("div");
    const row = el("div", { className: "meta", id: `visitor-${p.id}` }, `${p.name || p.label} ${p.plate || ""} · ${vs[p.status] || p.status}`);
    c.append(row, box);
    if (v.status === "approved" && v.host === me.name && !p.pass_revoked) showPass(p, box);
  }
  const actions = el("div", { className: "row-actions" });
  if (v.status === "invited" && v.host !== me.name) {
    const yes = el("button", { type: "button" }, Hub.t("approve"));
    yes.onclick = () => Hub.post(`/api/visits/${v.id}/approve`).then(load, (e) => say(e.message, false));
    const no = el("button", { type: "button", className: "quiet" }, Hub.t("refuse"));
    no.onclick = () => Hub.post(`/api/visits/${v.id}/refuse`).then(load, (e) => say(e.message, false));
    actions.append(yes, no);
  }
  if (v.status !== "cancelled" && v.host === me.name) {
    const cancel = el("button", { type: "button", className: "quiet" }, Hub.t("cancel"));
    cancel.onclick = () => Hub.post(`/api/visits/${v.id}/cancel`).then(load, (e) => say(e.message, false));
    actions.append(cancel);
  }
  c.append(actions);
  return c;
}

async function load() {
  const since = new Date(Date.now() - 7 * 86400000).toISOString();
  const visits = await Hub.api(`/api/visits?since=${encodeURIComponent(since)}`);
  $("#visits").replaceChildren(...visits.map(card));
}

// One registration, several visitors (a delegation, a driver and passengers): a set of fields
// per visitor, each labelled.
const FIELDS = [["name", { required: true, maxLength: 120 }], ["phone", { maxLength: 32, inputMode: "tel" }],
  ["id_number", { maxLength: 32, autocomplete: "off" }], ["company", { maxLength: 200 }], ["plate", { maxLength: 16 }]];
function personRow() {
  const row = el("fieldset", { className: "toolbar person" });
  row.append(el("legend", {}));
  for (const [name, props] of FIELDS) {
    const span = el("span", {}, Hub.t(name));
    span.dataset.i18n = name;
    row.append(el("label", {}, span, el("input", { name, ...props })));
  }
  const remove = el("button", { type: "button", className: "quiet remove" }, Hub.t("remove"));
  remove.onclick = () => { row.remove(); numberRows(); };
  row.append(remove);
  $("#people").append(row);
  numberRows();
  return row;
}
function numberRows() {
  const rows = [...document.querySelectorAll("#people .person")];
  rows.forEach((row, i) => {
    row.querySelector("legend").textContent = Hub.t("visitor_n").replace("{n}", i + 1);
    row.querySelector(".remove").hidden = rows.length === 1;
  });
}
$("#add-person").addEventListener("click", () => personRow().querySelector("input").focus());

$("#invite").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target.elements;
  const at = (hhmm) => new Date(`${f.date.value}T${hhmm}:00`).toISOString();
  const visitors = [...document.querySelectorAll("#people .person")].map((row) => {
    const value = (name) => row.querySelector(`input[name=${name}]`).value.trim();
    const visitor = { name: value("name"), phone: value("phone"), company: value("company") };
    if (value("id_number")) visitor.id_number = value("id_number");
    if (value("plate")) visitor.plate = value("plate");
    return visitor;
  });
  try {
    await Hub.post("/api/visits", { purpose: f.purpose.value, start: at(f.from.value), end: at(f.to.value), visitors });
    say(Hub.t("done"), true);
    $("#people").replaceChildren();
    personRow();
    await load();
  } catch (err) { say(String(err.message || err), false); }
});
personRow();
$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => { numberRows(); return load(); }));
// the visit starts at a time still ahead, for four hours (late in the day: tomorrow morning)
Object.entries(Hub.aheadSlot(240, "23:30")).forEach(([k, value]) => { $("#invite").elements[k].value = value; });
Hub.me().then((who) => { me = who; $("#who").textContent = `${me.name}`; return load(); })
  .catch((err) => say(String(err.message || err), false));
