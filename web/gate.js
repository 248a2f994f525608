// gate.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// The guards' gate page: the review queue (near matches: allow or deny), manual override with
// a reason, the live decisions, the visitors inside and today's counts.
Hub.translate({
  "zh-CN": { title: "门岗", reviews: "待人工核验", gate: "门岗", direction: "方向", in: "进", out: "出", subject: "人员/车辆",
    reason: "原因", override: "人工放行", decisions: "通行记录", when: "时间", what: "凭证", outcome: "结果",
    inside: "院内访客", allow: "放行", deny: "拒绝", none: "无", candidates: "可能是",
    outcomes: { allow: "放行", deny: "拒绝", review: "待核验" }, today: "今日",
    // the decisions' reasons as the hub records them (stable English), in words
    reasons: { "visitor pass": "访客通行证", "visitor leaving": "访客离开", "visitor car": "访客车辆",
      "visitor car leaving": "访客车辆离开", "staff car": "本院车辆", "blocked plate": "黑名单车牌",
      "unknown plate": "未登记车牌", "unknown pass": "未知通行证", "the pass is revoked": "通行证已撤销",
      "the pass has expired": "通行证已过期", "the pass is not valid yet": "通行证尚未生效",
      "forged pass (bad signature)": "伪造的通行证（签名不符）", "not a pass (too long)": "不是通行证",
      "already inside: no exit since the last entry": "已在院内：上次进入后没有出门记录",
      "no entries left on this pass": "通行证的进入次数已用完", "no entries left for this car": "该车的进入次数已用完",
      "this visitor car is not expected now": "该访客车辆不在预约时段内", "the visit is cancelled": "来访已取消",
      "near match: a guard should look": "近似车牌：请人工核对", "no entry recorded for this pass": "该通行证没有进入记录",
      "no entry recorded for this car": "该车没有进入记录", override: "人工放行" },
    reason_prefix: { "override: ": "人工放行：", "review: ": "待核验：", "unreadable plate (": "车牌无法识别（",
      "the pass is not for ": "通行证不适用于 ", "not a valid pass (": "无效通行证（" } },
  en: { title: "Gate", reviews: "To check by hand", gate: "Gate", direction: "Direction", in: "in", out: "out",
    subject: "Person / car", reason: "Reason", override: "Let through", decisions: "Decisions", when: "When",
    what: "Credential", outcome: "Outcome", inside: "Visitors inside", allow: "Allow", deny: "Deny", none: "none",
    candidates: "could be", outcomes: { allow: "allowed", deny: "denied", review: "to review" }, today: "Today",
    reasons: {}, reason_prefix: {} },
});
const { el } = Hub;
const $ = (s) => document.querySelector(s);
let timer = null;
function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }
// A decision's reason in the page's language; a gate's id in it by the gate's name.
function reason(text) {
  if (!text) return "";
  const words = Hub.t("reasons");
  if (words[text]) return words[text];
  for (const [prefix, said] of Object.entries(Hub.t("reason_prefix"))) {
    if (text.startsWith(prefix)) {
      const rest = text.slice(prefix.length);
      return said + (words[rest] || (prefix.startsWith("the pass") ? Hub.named(rest) : rest.replace(/\)$/, "）")));
    }
  }
  return text;
}

function reviewCard(d) {
  const note = el("input", { name: "note", maxLength: 500 });
  const yes = el("button", { type: "button" }, Hub.t("allow"));
  yes.onclick = () => Hub.post(`/api/gate/reviews/${d.id}`, { allow: true, note: note.value }).then(load, (e) => say(e.message, false));
  const no = el("button", { type: "button", className: "quiet" }, Hub.t("deny"));
  no.onclick = () => Hub.post(`/api/gate/reviews/${d.id}`, { allow: false, note: note.value }).then(load, (e) => say(e.message, false));
  return el("article", { className: "ticket", id: `review-${d.id}` },
    el("b", {}, `${d.presented} · ${Hub.named(d.gate_id)} ${Hub.t(d.direction)}`),
    el("div", { className: "meta" }, reason(d.reason), d.evidence.candidates ? ` · ${Hub.t("candidates")} ${d.evidence.candidates.join(", ")}` : ""),
    el("div", { className: "row-actions" }, note, yes, no));
}

async function load() {
  const [reviews, decisions, roster, counts] = await Promise.all([
    Hub.api("/api/gate/reviews"), Hub.api("/api/gate/decisions?limit=50"), Hub.api("/api/gate/roster"), Hub.api("/api/gate/counts")]);
  $("#reviews").replaceChildren(...(reviews.length ? reviews.map(reviewCard) : [el("p", { className: "muted" }, Hub.t("none"))]));
  const outcomes = Hub.t("outcomes");
  $("#decisions tbody").replaceChildren(...decisions.map((d) => el("tr", { className: d.outcome === "deny" ? "bad" : "" },
    el("td", {}, Hub.time(d.ts)), el("td", {}, `${Hub.named(d.gate_id)} ${Hub.t(d.direction)}`), el("td", {}, d.credential),
    el("td", {}, d.subject || d.presented), el("td", {}, outcomes[d.outcome] || d.outcome), el("td", {}, reason(d.reason)))));
  $("#roster").replaceChildren(...roster.map((v) => el("li", {}, `${v.label} · ${v.host} · ${Hub.time(v.until)}`)));
  $("#counts").textContent = `${Hub.t("today")}: ${Hub.t("in")} ${(counts.people_in || 0) + (counts.cars_in || 0)} · ${Hub.t("out")} ${(counts.people_out || 0) + (counts.cars_out || 0)}`;
}
function soon() { clearTimeout(timer); timer = setTimeout(() => load().catch((e) => say(e.message, false)), 300); }

$("#override").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target.elements;
  try {
    await Hub.post("/api/gate/override", { gate_id: f.gate.value, direction: f.direction.value, subject: f.subject.value, reason: f.reason.value });
    f.subject.value = f.reason.value = "";
    await load();
  } catch (err) { say(String(err.message || err), false); }
});
$("#lang").addEventListener("click", () => Hub.toggleLanguage(load));
Hub.api("/api/site").then((site) => {
  Hub.setZone(site.timezone);
  const gates = site.layers.features.filter((f) => f.properties.layer === "gate");
  $("#override").elements.gate.replaceChildren(...gates.map((g) => el("option", { value: g.properties.id }, g.properties.name)));
});
Hub.catalogue().then(() => Hub.live({
  status: (s) => { $("#link").className = s; },
  snapshot: () => soon(),
  changes: (changes) => { if (changes.some((c) => c.type === "gate")) soon(); },
}));
