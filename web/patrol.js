// The patrol report: pick a day, week or month; per guard, route and shift the tours, the
// checkpoints on time / late / missed / out of order, the tours nobody watched, refusals and
// compliance; every tour with how each visit was proven. PDF and Excel; the stored reports.
"use strict";

Hub.translate({
  "zh-CN": { title: "巡更报告", kind: "周期", day: "日", week: "周", month: "月", period: "统计期", show: "查看",
    by_guard: "按保安", by_route: "按路线", by_shift: "按班次", tours: "巡更明细", stored: "已生成的报告",
    loading: "统计中…", total: "合计", forbidden: "只有保卫科和管理人员可以查看巡更报告", none: "该期间没有巡更记录",
    col: { tours: "巡更轮次", unobserved: "未监测", due: "应巡点次", on_time: "按时", late: "迟到", missed: "漏巡",
      out_of_order: "顺序错误", refused: "不予计入", refused_scans: "无效扫码", compliance: "合规率" },
    state: { on_time: "按时", late: "迟到", missed: "漏巡", unobserved: "未监测" },
    reason: { too_fast: "速度不可能", not_on_duty: "不在班", not_on_route: "非本路线" } },
  en: { title: "Patrol report", kind: "Period", day: "Day", week: "Week", month: "Month", period: "Period", show: "Show",
    by_guard: "By guard", by_route: "By route", by_shift: "By shift", tours: "Tours", stored: "Stored reports",
    loading: "Counting…", total: "Total", forbidden: "Patrol reports are for security and managers", none: "No tours in this period",
    col: { tours: "Tours", unobserved: "Unobserved", due: "Due", on_time: "On time", late: "Late", missed: "Missed",
      out_of_order: "Out of order", refused: "Refused", refused_scans: "Refused scans", compliance: "Compliance" },
    state: { on_time: "on time", late: "late", missed: "missed", unobserved: "unobserved" },
    reason: { too_fast: "too fast", not_on_duty: "off duty", not_on_route: "not on the route" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const form = $("#pick").elements;
const COLUMNS = ["tours", "unobserved", "due", "on_time", "late", "missed", "out_of_order", "refused", "refused_scans", "compliance"];

function message(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }

function table(target, groups, names, total) {
  const head = el("tr", {}, el("th", {}, ""), ...COLUMNS.map((c) => el("th", {}, Hub.t("col")[c])));
  const row = (id, label, f) => el("tr", { id: `${target.id}-${id || "none"}` }, el("td", {}, label),
    ...COLUMNS.map((c) => el("td", { className: c }, c === "compliance" ? (f[c] === null ? "–" : `${f[c]}%`) : String(f[c]))));
  const rows = Object.entries(groups).map(([id, f]) => row(id, names[id] || id || "–", f));
  if (total) rows.push(row("total", Hub.t("total"), total));
  target.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
}

function tour(t, names) {
  const when = Hub.datetime(t.start);
  const who = t.guards.map((g) => names.guards[g] || g).join("、");
  const items = t.checkpoints.map((c) => el("li", { className: `cp ${c.state === "on_time" ? "done" : c.state}` },
    `${names.checkpoints[c.checkpoint] || c.checkpoint} · ${Hub.t("state")[c.state]}`,
    c.at ? ` ${Hub.time(c.at)} ${names.guards[c.by] || c.by || ""}` : "",
    c.evidence.length ? el("span", { className: "muted" }, ` (${c.evidence.join("; ")})`) : ""));
  const refused = t.refused.map((r) => el("li", { className: "bad" },
    `${names.checkpoints[r.checkpoint] || r.checkpoint} · ${names.guards[r.by] || r.by} ${Hub.time(r.at)} · ${Hub.t("reason")[r.reason] || r.reason} ${r.detail}`));
  return el("details", { className: "card" },
    el("summary", {}, `${names.routes[t.route] || t.route} · ${when} · ${who}${t.unobserved ? ` · ${Hub.t("state").unobserved}` : ` · ${t.on_time}/${t.checkpoints.length}`}`),
    el("ol", { className: "checkpoints" }, ...items), ...(refused.length ? [el("ul", {}, ...refused)] : []));
}

async function show() {
  message(Hub.t("loading"), true);
  try {
    const r = await Hub.api(`/api/patrol/report?period=${encodeURIComponent(form.period.value)}&lang=${Hub.lang}`);
    $("#heading").textContent = `${r.site} · ${r.period.label} (${r.period.first} – ${r.period.last})`;
    table($("#by-guard"), r.by_guard, r.names.guards);
    table($("#by-route"), r.by_route, r.names.routes);
    table($("#by-shift"), r.by_shift, r.names.shifts, r.total);
    $("#tours").replaceChildren(...(r.tours.length ? r.tours.slice().reverse().map((t) => tour(t, r.names)) : [el("p", {}, Hub.t("none"))]));
    $("#report").hidden = false;
    message("", true);
  } catch (err) { message(err.status === 403 ? Hub.t("forbidden") : String(err.message || err), false); }
}

function fetchFile(url, name) {
  return Hub.download(url, name).catch((err) => message(String(err.message || err), false));
}

async function stored() {
  const list = await Hub.api("/api/patrol/reports");
  $("#stored").replaceChildren(...list.map((r) => {
    const pdf = el("a", { href: "#", id: `stored-${r.name}` }, `${r.label} (${Hub.t(r.kind)}) · PDF`);
    pdf.onclick = (ev) => { ev.preventDefault(); fetchFile(`/api/patrol/reports/${r.name}`, r.name); };
    const xlsx = r.name.replace(/\.pdf$/, ".xlsx");
    const sheet = el("a", { href: "#" }, "Excel");
    sheet.onclick = (ev) => { ev.preventDefault(); fetchFile(`/api/patrol/reports/${xlsx}`, xlsx); };
    return el("li", {}, pdf, " · ", sheet, ` · ${Hub.datetime(r.created_at)}`);
  }));
  const wanted = new URLSearchParams(location.hash.slice(1)).get("stored"); // the notified link
  if (wanted && list.some((r) => r.name === wanted)) fetchFile(`/api/patrol/reports/${wanted}`, wanted);
}

$("#pick").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
form.kind.addEventListener("change", () => { form.period.value = Hub.defaultPeriod(form.kind.value); show(); });
for (const b of document.querySelectorAll("[data-format]")) {
  b.addEventListener("click", () => fetchFile(
    `/api/patrol/report?period=${encodeURIComponent(form.period.value)}&format=${b.dataset.format}&lang=${Hub.lang}`,
    `patrol-${form.period.value}.${b.dataset.format}`));
}
$("#lang").addEventListener("click", () => Hub.toggleLanguage(show));
form.period.value = Hub.params.get("period") || Hub.defaultPeriod("month");
Hub.me().then(async (me) => {
  $("#who").textContent = `${me.name} (${me.roles.join(", ")})`;
  await Hub.catalogue();
  await show();
  await stored().catch(() => {});
}).catch((err) => message(String(err.message || err), false));
