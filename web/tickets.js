// The ticket board for dispatchers and technicians (phone first): active tickets by status,
// due times, and the next step each may take: assign, accept, start, hold, resolve.
"use strict";

Hub.translate({
  "zh-CN": { title: "维修工单", report: "报修", mine: "只看我的", assign: "派单", queue: "退回待派",
    accept: "接单", start: "开始维修", hold: "暂停", resolve: "修复完成", reason: "原因", notes: "维修说明（完成或暂停时必填）",
    need_notes: "请先写明维修说明或暂停原因",
    due_response: "响应截止", due_resolution: "修复截止", overdue: "已超时", empty: "无",
    status: { open: "待派单", assigned: "已派单", accepted: "已接单", in_progress: "维修中",
      on_hold: "暂停（待料）", resolved: "已修复待确认" },
    priority: { urgent: "紧急", high: "较急", normal: "一般", low: "不急" } },
  en: { title: "Repair tickets", report: "Report", mine: "Only mine", assign: "Assign", queue: "Back to queue",
    accept: "Accept", start: "Start", hold: "Hold", resolve: "Resolved", reason: "Reason", notes: "What was done (or why on hold)",
    need_notes: "Say first what was done, or why the work is on hold",
    due_response: "respond by", due_resolution: "fix by", overdue: "overdue", empty: "none",
    status: { open: "Waiting", assigned: "Assigned", accepted: "Accepted", in_progress: "In progress",
      on_hold: "On hold", resolved: "Resolved" },
    priority: { urgent: "urgent", high: "soon", normal: "normal", low: "low" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const COLUMNS = ["open", "assigned", "accepted", "in_progress", "on_hold", "resolved"];
let me = null;
let technicians = [];
let refreshTimer = null;

async function act(path, body) {
  $("#error").textContent = "";
  try { await Hub.post(path, body); await load(); } catch (err) { $("#error").textContent = String(err.message || err); }
}

function button(label, onclick, quiet) {
  const b = el("button", { type: "button", className: quiet ? "quiet" : "" }, Hub.t(label));
  b.onclick = onclick;
  return b;
}

function actions(t) {
  const box = el("div", { className: "row-actions" });
  const dispatcher = me.roles.includes("dispatcher") || me.roles.includes("admin");
  const mineToDo = me.person && t.assignee === me.person;
  if (dispatcher && ["open", "assigned", "accepted", "on_hold"].includes(t.status)) {
    const pick = el("select", { name: "technician", ariaLabel: Hub.t("assign") }, el("option", { value: "" }, "—"),
      ...technicians.map((x) => el("option", { value: x.id, selected: x.id === t.assignee },
        `${x.name} (${x.skills.join("/")}, ${x.open_tickets})${x.on_duty ? "" : " ·休"}`)));
    box.append(pick, button("assign", () => act(`/api/tickets/${t.id}/assign`, { technician: pick.value || null })));
  }
  if (mineToDo && t.status === "assigned") box.append(button("accept", () => act(`/api/tickets/${t.id}/accept`)));
  if (mineToDo && ["accepted", "on_hold"].includes(t.status)) box.append(button("start", () => act(`/api/tickets/${t.id}/start`)));
  if (mineToDo && t.status === "in_progress") {
    const text = el("input", { placeholder: Hub.t("notes"), name: "notes" });
    text.setAttribute("aria-label", Hub.t("notes"));
    const written = () => { // a button never does nothing: without words it says what is missing
      if (text.value.trim()) return true;
      $("#error").textContent = Hub.t("need_notes");
      text.focus();
      return false;
    };
    box.append(text,
      button("resolve", () => written() && act(`/api/tickets/${t.id}/resolve`, { notes: text.value, parts: [] })),
      button("hold", () => written() && act(`/api/tickets/${t.id}/hold`, { reason: text.value }), true));
  }
  return box;
}

function card(t) {
  const prio = Hub.t("priority");
  const due = t.response_due ? ["due_response", t.response_due] : t.resolution_due ? ["due_resolution", t.resolution_due] : null;
  const late = t.response_breached || t.resolution_breached;
  return el("article", { className: `ticket${late ? " overdue" : ""}`, id: `ticket-${t.id}` },
    el("b", {}, `#${t.id} ${t.title}`),
    el("div", { className: "meta" }, `${prio[t.priority] || t.priority} · ${t.category}${t.location ? " · " + t.location : ""}`),
    el("div", { className: "meta" }, t.assignee ? `→ ${(technicians.find((x) => x.id === t.assignee) || {}).name || t.assignee}` : "",
      due ? ` · ${Hub.t(due[0])} ${Hub.datetime(due[1])}` : "", late ? ` · ${Hub.t("overdue")}` : ""),
    actions(t));
}

async function load() {
  const mine = $("#mine").checked ? "&mine=true" : "";
  const tickets = await Hub.api(`/api/tickets?status=active&limit=500${mine}`);
  const resolved = await Hub.api(`/api/tickets?status=resolved&limit=50${mine}`);
  const status = Hub.t("status");
  const columns = COLUMNS.map((c) => {
    const cards = [...tickets, ...resolved].filter((t) => t.status === c).map(card);
    return el("section", { id: `col-${c}` }, el("h3", {}, `${status[c]} (${cards.length})`), ...cards);
  });
  $("#board").replaceChildren(...columns);
}

function soon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => load().catch((e) => { $("#error").textContent = String(e.message || e); }), 300);
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(load));
$("#mine").addEventListener("change", load);
(async () => {
  me = await Hub.me();
  technicians = await Hub.api("/api/tickets/technicians").catch(() => []);
  const person = technicians.find((x) => x.username === me.name);
  me.person = person ? person.id : null;
  $("#who").textContent = `${me.name} (${me.roles.join(", ")})`;
  Hub.live({
    status: (s) => { $("#link").className = s; },
    snapshot: () => soon(),
    changes: (changes) => { if (changes.some((c) => c.type === "ticket")) soon(); },
  });
})();
