// Energy reports: pick a day, week, month or year; the server computes the figures and draws
// the charts; download the PDF, Excel or CSV; the reports the hub stored when periods ended.
"use strict";

Hub.translate({
  "zh-CN": { title: "能耗报告", kind: "周期", day: "日", week: "周", month: "月", year: "年", period: "统计期",
    show: "查看", quality: "数据质量", stored: "已生成的报告", loading: "计算中…", building: "建筑", total: "用量",
    previous: "上期", change: "环比", last_year: "去年同期", yoy: "同比", per_m2: "单位面积", per_person: "人均",
    ooh: "非工作时间", peak: "最大需量 kW", compound: "全院", none: "数据完整，无异常", no_data: "本期无数据",
    electricity: "电", water: "水", gas: "燃气",
    flag: { reset: "计数器复位", rollover: "计数器翻转", gap: "数据缺口", "reset+gap": "复位且缺数", "rollover+gap": "翻转且缺数" },
    estimated: "估算时段", missing: "无数据时段", offline: "离线", forbidden: "只有管理人员和后勤人员可以查看能耗报告", ongoing: "统计期尚未结束" },
  en: { title: "Energy reports", kind: "Period", day: "Day", week: "Week", month: "Month", year: "Year", period: "Period",
    show: "Show", quality: "Data quality", stored: "Stored reports", loading: "Computing…", building: "Building", total: "Use",
    previous: "Previous", change: "Change", last_year: "Last year", yoy: "YoY", per_m2: "Per m²", per_person: "Per person",
    ooh: "Out of hours", peak: "Peak kW", compound: "Compound", none: "complete, nothing unusual", no_data: "no data for this period",
    electricity: "Electricity", water: "Water", gas: "Gas",
    flag: { reset: "counter reset", rollover: "counter rollover", gap: "gap", "reset+gap": "reset and gap", "rollover+gap": "rollover and gap" },
    estimated: "estimated windows", missing: "windows without data", offline: "offline", forbidden: "Energy reports are for managers and facility staff", ongoing: "still under way" },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const form = $("#pick").elements;

function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }
const num = (v, digits = 1) => (v === null || v === undefined ? "–" : Number(v).toLocaleString(Hub.lang, { maximumFractionDigits: digits }));
const pct = (v) => (v === null || v === undefined ? "–" : `${v > 0 ? "+" : ""}${v}%`);

function summary(report) {
  const head = el("tr", {}, ...["building", "total", "previous", "change", "last_year", "yoy", "per_m2", "per_person", "ooh", "peak"]
    .map((k) => el("th", {}, Hub.t(k))));
  const rows = [];
  const name = (b) => (Hub.lang === "en" && b.name_en) || b.name;
  for (const b of report.buildings) {
    for (const [measure, m] of Object.entries(b.measures)) rows.push(row(`${name(b)} · ${Hub.t(measure)}`, m, b.id));
  }
  for (const [measure, m] of Object.entries(report.compound)) rows.push(row(`${Hub.t("compound")} · ${Hub.t(measure)}`, m, "compound"));
  $("#summary").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
}

function row(label, m, id) {
  return el("tr", { id: `row-${id}` }, el("td", {}, label),
    el("td", { className: "total" }, m.no_data ? Hub.t("no_data") : `${num(m.total)} ${m.unit}`),
    el("td", {}, num(m.previous)), el("td", {}, pct(m.change_pct)), el("td", {}, num(m.last_year)), el("td", {}, pct(m.yoy_pct)),
    el("td", {}, num(m.per_m2, 3)), el("td", {}, num(m.per_person, 2)),
    el("td", {}, `${num(m.out_of_hours)} (${m.out_of_hours_pct ?? "–"}%)`), el("td", {}, num(m.peak_demand_kw)));
}

function quality(report) {
  const q = report.quality;
  const items = [
    ...q.flags.map((f) => el("li", { className: "bad" }, `${f.meter}: ${Hub.t("flag")[f.kind] || f.kind} ${Hub.datetime(f.from)} → ${Hub.datetime(f.to)} (${num(f.amount)})`)),
    ...Object.entries(q.estimated).map(([m, ws]) => el("li", {}, `${m}: ${Hub.t("estimated")} ${ws.length}`)),
    ...Object.entries(q.missing).map(([m, ws]) => el("li", {}, `${m}: ${Hub.t("missing")} ${ws.length}`)),
    ...q.offline.map((o) => el("li", { className: "bad" }, `${o.meter}: ${Hub.t("offline")} ${o.last_seen ? Hub.datetime(o.last_seen) : ""}`)),
  ];
  $("#quality").replaceChildren(...(items.length ? items : [el("li", { className: "good" }, Hub.t("none"))]));
}

async function show() {
  say(Hub.t("loading"), true);
  try {
    const report = await Hub.api(`/api/energy/report?period=${encodeURIComponent(form.period.value)}&charts=true&lang=${Hub.lang}`);
    const site = (Hub.lang === "en" && report.site_en) || report.site;
    $("#heading").textContent = `${site} · ${report.period.label} (${report.period.first} – ${report.period.last})`
      + (report.period.complete ? "" : ` · ${Hub.t("ongoing")}`);
    summary(report);
    $("#chart-windows").src = report.charts.windows;
    $("#chart-buildings").src = report.charts.buildings;
    quality(report);
    $("#report").hidden = false;
    say("", true);
  } catch (err) { say(err.status === 403 ? Hub.t("forbidden") : String(err.message || err), false); }
}

function fetchFile(url, name) {
  return Hub.download(url, name).catch((err) => say(String(err.message || err), false));
}

async function stored() {
  const list = await Hub.api("/api/energy/reports");
  $("#stored").replaceChildren(...list.map((r) => {
    const a = el("a", { href: "#", id: `stored-${r.name}` }, `${r.label} (${Hub.t(r.kind)}) · PDF`);
    a.onclick = (ev) => { ev.preventDefault(); fetchFile(`/api/energy/reports/${r.name}`, r.name); };
    return el("li", {}, a, ` · ${Hub.datetime(r.created_at)}`);
  }));
  const wanted = new URLSearchParams(location.hash.slice(1)).get("stored");  // the e-mailed link
  if (wanted && list.some((r) => r.name === wanted)) fetchFile(`/api/energy/reports/${wanted}`, wanted);
}

$("#pick").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
form.kind.addEventListener("change", () => { form.period.value = Hub.defaultPeriod(form.kind.value); show(); });
for (const b of document.querySelectorAll("[data-format]")) {
  b.addEventListener("click", () => fetchFile(
    `/api/energy/report?period=${encodeURIComponent(form.period.value)}&format=${b.dataset.format}&lang=${Hub.lang}`,
    `energy-${form.period.value}.${b.dataset.format}`));
}
$("#lang").addEventListener("click", () => Hub.toggleLanguage(show));
form.period.value = Hub.defaultPeriod("month");
Hub.me().then(async (me) => {
  $("#who").textContent = `${me.name} (${me.roles.join(", ")})`;
  await show();
  await stored().catch(() => {});
}).catch((err) => say(String(err.message || err), false));
