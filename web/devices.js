// devices.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// Every point with its newest value; live readings and device status update the rows in place.
Hub.translate({
  "zh-CN": { title: "设备与读数", filter: "筛选", device: "设备", point: "点位", value: "当前值", time: "时间",
    quality: "质量", online: "在线", offline: "离线", fault: "故障" },
  en: { title: "Devices and readings", filter: "Filter", device: "Device", point: "Point", value: "Value",
    time: "Time", quality: "Quality", online: "online", offline: "offline", fault: "fault" },
});
const { el } = Hub;
const rows = {}; // point id -> {tr, value, time, quality}
const status = {}; // device id -> status message
const deviceCells = {}; // device id -> [td]

function fmt(v) { return v === null || v === undefined ? "—" : Number.isInteger(v) ? String(v) : v.toFixed(2); }

function paintDevice(id) {
  const s = status[id];
  for (const td of deviceCells[id] || []) {
    td.className = !s ? "" : !s.online ? "muted" : s.fault ? "bad" : "good";
    td.title = s ? (!s.online ? Hub.t("offline") : s.fault ? `${Hub.t("fault")} ${s.detail}` : Hub.t("online")) : "";
  }
}

async function load() {
  const points = await Hub.api("/api/points");
  const trs = points.map((p) => {
    const cells = { value: el("td", { className: "value" }, `${fmt(p.value)} ${p.unit}`),
      time: el("td", {}, Hub.time(p.ts)), quality: el("td", {}, p.quality || "—") };
    const dev = el("td", {}, p.device_id);
    (deviceCells[p.device_id] = deviceCells[p.device_id] || []).push(dev);
    const tr = el("tr", { id: `point-${p.point_id}` }, dev, el("td", {}, p.name || p.point_id), cells.value, cells.time, cells.quality);
    rows[p.point_id] = { tr, unit: p.unit, ...cells };
    return tr;
  });
  document.querySelector("#points tbody").replaceChildren(...trs);
  Object.keys(status).forEach(paintDevice);
}

function apply(m) {
  if (m.type === "reading" && rows[m.key]) {
    const r = rows[m.key];
    r.value.textContent = `${fmt(m.value)} ${m.unit || r.unit}`;
    r.time.textContent = Hub.time(m.ts);
    r.quality.textContent = m.quality;
  } else if (m.type === "status") {
    status[m.key] = m;
    paintDevice(m.key);
  }
}

document.getElementById("filter").addEventListener("input", (ev) => {
  const q = ev.target.value.trim().toLowerCase();
  for (const r of Object.values(rows)) r.tr.hidden = q && !r.tr.textContent.toLowerCase().includes(q);
});
document.getElementById("lang").addEventListener("click", () => Hub.toggleLanguage());
load().then(() => Hub.live({
  status: (s) => { document.getElementById("link").className = s; },
  snapshot: (msg) => msg.entities.forEach(apply),
  changes: (changes) => changes.forEach(apply),
})).catch((e) => { document.getElementById("error").textContent = String(e.message || e); });
