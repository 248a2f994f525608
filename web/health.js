// The start page: the hub's health and the way to each page. Anyone sees up/degraded/down; a
// signed-in administrator also sees each component (/api/health answers them in full).
"use strict";
const TEXT = {
  "zh-CN": { title: "大院智慧后勤中枢", health: "运行状态", component: "组件", state: "状态", detail: "详情",
             updated: "更新于", links: "入口", wall: "监控大屏", console: "报警处置台", tickets: "维修工单",
             devices: "设备与读数", report: "报修", login: "登录", rooms: "会议室预约", vehicles: "公务用车", visits: "访客预约", gate: "门岗", energy: "能耗报告", guard: "我的巡更（保安）", patrol: "巡更报告", docs: "接口文档 (OpenAPI)", raw: "健康检查 JSON",
             ok: "正常", degraded: "降级", down: "故障", unreachable: "无法连接", other: "English" },
  en: { title: "dayuan hub", health: "Health", component: "Component", state: "State", detail: "Detail",
        updated: "Updated", links: "Pages", wall: "Wall display", console: "Alarm console",
        tickets: "Repair tickets", devices: "Devices and readings", report: "Report a repair", login: "Sign in", rooms: "Meeting rooms", vehicles: "Official cars", visits: "Visitors", gate: "Gate", energy: "Energy reports", guard: "My patrol (guards)", patrol: "Patrol reports", docs: "API documentation (OpenAPI)", raw: "Health JSON",
        ok: "OK", degraded: "Degraded", down: "Down", unreachable: "Unreachable", other: "中文" },
};
let lang = localStorage.getItem("lang") || "zh-CN";
const t = (k) => TEXT[lang][k] || k;

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.getElementById("lang").textContent = t("other");
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

async function refresh() {
  const overall = document.getElementById("overall");
  try {
    const token = localStorage.getItem("hub.token");
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await fetch("/api/health", { cache: "no-store", headers });
    const body = await res.json();
    overall.textContent = t(body.status);
    overall.className = "status " + body.status;
    document.getElementById("site").textContent = body.site ? body.site + " · v" + body.version : "";
    const rows = Object.entries(body.components || {}).map(([name, c]) => {
      const tr = document.createElement("tr");
      tr.dataset.component = name;
      const { status, ...rest } = c;
      tr.append(cell(name), cell(t(status), status), cell(JSON.stringify(rest), "detail"));
      return tr;
    });
    document.querySelector("#components tbody").replaceChildren(...rows);
  } catch (err) {
    overall.textContent = t("unreachable");
    overall.className = "status down";
  }
  document.getElementById("updated").textContent = new Date().toLocaleTimeString(lang);
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "en" ? "zh-CN" : "en";
  localStorage.setItem("lang", lang);
  applyLanguage();
  refresh();
});
applyLanguage();
refresh();
setInterval(refresh, 5000);
