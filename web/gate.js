// gate.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// The guards' gate page: the review queue (near matches: allow or deny), manual override with
// a reason, the live decisions, the visitors inside and today's counts.
Hub.translate({
  "zh-CN": { title: "门岗", reviews: "待人工核验", gate: "门岗", direction: "方向", in: "进", out: "出", subject: "人员/车辆",
    reason: "原因", override: "人工放行", decisions: "通行记录", when: "时间", what: "凭证", outcome: "结果",
    inside: "院内访客", allow: "放行", deny: "拒绝", none: "无", candidates: "可能是",
    outcomes: { allow: "放行", deny: "拒绝", review: "待核验" }, today: "今日" },
  en: { title: "Gate", reviews: "To check by hand", gate: "Gate", direction: "Direction", in: "in", out: "out",
    subject: "Person / car", reason: "Reason", override: "Let through", decisions: "Decisions", when: "When",
    what: "Credential", outcome: "Outcome", inside: "Visitors inside", allow: "Allow", deny: "Deny", none: "none",
    candidates: "could be", outcomes: { allow: "allowed", deny: "denied", review: "to review" }, today: "Today" },
});
const { el } = Hub;
const $ = (s) => document.querySelector(s);
let timer = null;
function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }

function reviewCard(d) {
  const note = el("input", { name: "note", maxLength: 500, ariaLabel: Hub.t("reason"), placeholder: Hub.t("reason") });
  const yes = el("button", { type: "button" }, Hub.t("allow"));
  yes.onclick = () => Hub.post(`/api/gate/reviews/${d.id}`, { allow: true, note: note.value }).then(load, (e) => say(e.message, false));
  const no = el("button", { type: "button", className: "quiet" }, Hub.t("deny"));
  no.onclick = () => Hub.post(`/api/gate/reviews/${d.id}`, { allow: false, note: note.value }).then(load, (e) => say(e.message, false));
  return el("article", { className: "ticket", id: `review-${d.id}` },
    el("b", {}, `${d.presented} · ${Hub.named(d.gate_id)} ${Hub.t(d.direction)}`),
    el("div", { className: "meta" }, Hub.gateReason(d.reason), d.evidence.candidates ? ` · ${Hub.t("candidates")} ${d.evidence.candidates.join(", ")}` : ""),
    el("div", { className: "row-actions" }, note, yes, no));
}

async function load() {
  const [reviews, decisions, roster, counts] = await Promise.all([
    Hub.api("/api/gate/reviews"), Hub.api("/api/gate/decisions?limit=50"), Hub.api("/api/gate/roster"), Hub.api("/api/gate/counts")]);
  $("#reviews").replaceChildren(...(reviews.length ? reviews.map(reviewCard) : [el("p", { className: "muted" }, Hub.t("none"))]));
  const outcomes = Hub.t("outcomes");
  $("#decisions tbody").replaceChildren(...decisions.map((d) => el("tr", { className: d.outcome === "deny" ? "bad" : "" },
    el("td", {}, Hub.time(d.ts)), el("td", {}, `${Hub.named(d.gate_id)} ${Hub.t(d.direction)}`), el("td", {}, d.credential),
    el("td", {}, d.subject || d.presented), el("td", {}, outcomes[d.outcome] || d.outcome), el("td", {}, Hub.gateReason(d.reason)))));
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
