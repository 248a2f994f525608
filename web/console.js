// The alarm console: active alarms (and cleared ones nobody acknowledged), newest first, with
// acknowledge (and a comment), comment and assign. Refreshes when an alarm changes on the feed.
"use strict";

Hub.translate({
  "zh-CN": { title: "报警处置台", tickets: "维修工单", show_cleared: "显示已恢复未确认", when: "时间",
    what: "报警", where: "对象", state: "状态", actions: "处置", ack: "确认", comment: "备注",
    assign: "指派", note: "处置说明", assignee: "指派给（用户名）", none: "当前无报警", count: "次",
    states: { ACTIVE_UNACK: "未确认", ACTIVE_ACK: "已确认", CLEARED_UNACK: "已恢复·未确认", CLEARED_ACK: "已关闭" },
    done: "已提交" },
  en: { title: "Alarm console", tickets: "Repair tickets", show_cleared: "Show cleared, unacknowledged",
    when: "When", what: "Alarm", where: "About", state: "State", actions: "Handle", ack: "Acknowledge",
    comment: "Comment", assign: "Assign", note: "What was done", assignee: "Assign to (username)",
    none: "No alarms", count: "×",
    states: { ACTIVE_UNACK: "unacknowledged", ACTIVE_ACK: "acknowledged", CLEARED_UNACK: "cleared, unacknowledged", CLEARED_ACK: "closed" },
    done: "Done" },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let refreshTimer = null;

async function act(path, body, row) {
  $("#error").textContent = "";
  try {
    await Hub.post(path, body);
    row.classList.add("done");
    await load();
  } catch (err) {
    $("#error").textContent = String(err.message || err);
  }
}

function row(a) {
  const note = el("input", { placeholder: Hub.t("note"), ariaLabel: Hub.t("note"), maxLength: 1000, name: "note" });
  const who = el("input", { placeholder: Hub.t("assignee"), ariaLabel: Hub.t("assignee"), value: a.assignee || "", name: "assignee" });
  const tr = el("tr", { className: `sev-${a.severity}`, id: `alarm-${a.id}` });
  const ack = el("button", { type: "button", className: "ack", disabled: Boolean(a.acked_at) }, Hub.t("ack"));
  ack.onclick = () => act(`/api/alarms/${a.id}/ack`, { comment: note.value }, tr);
  const comment = el("button", { type: "button", className: "quiet" }, Hub.t("comment"));
  comment.onclick = () => note.value.trim() && act(`/api/alarms/${a.id}/comment`, { comment: note.value }, tr);
  const assign = el("button", { type: "button", className: "quiet" }, Hub.t("assign"));
  assign.onclick = () => act(`/api/alarms/${a.id}/assign`, { assignee: who.value.trim() || null }, tr);
  const states = Hub.t("states");
  tr.append(
    el("td", {}, Hub.datetime(a.last_at)),
    el("td", {}, el("b", {}, `${Hub.severity(a.severity)} · ${Hub.alarmType(a.type)}`), el("br"), Hub.say(a)),
    el("td", { title: a.originator }, Hub.named(a.originator), a.occurrences > 1 ? ` (${a.occurrences}${Hub.t("count")})` : ""),
    el("td", { className: "state" }, states[a.state] || a.state, a.acked_by ? ` · ${a.acked_by}` : "",
      a.assignee ? ` → ${a.assignee}` : ""),
    el("td", {}, el("div", { className: "row-actions" }, note, ack, comment), el("div", { className: "row-actions" }, who, assign)),
  );
  return tr;
}

async function load() {
  await Hub.catalogue();
  const active = await Hub.api("/api/alarms?active=true&limit=500");
  const cleared = $("#show-cleared").checked ? await Hub.api("/api/alarms?state=CLEARED_UNACK&limit=200") : [];
  const rows = [...active, ...cleared].map(row);
  $("#alarms tbody").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 5 }, Hub.t("none")))]));
}

function soon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => load().catch((e) => { $("#error").textContent = String(e.message || e); }), 300);
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(load));
$("#show-cleared").addEventListener("change", load);
Hub.me().then((me) => { $("#who").textContent = `${me.name} (${me.roles.join(", ")})`; });
Hub.live({
  status: (s) => { $("#link").className = s; },
  snapshot: () => soon(),
  changes: (changes) => { if (changes.some((c) => c.type === "alarm")) soon(); },
});
