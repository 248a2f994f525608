// The wall display: the compound's map with guards, cars and devices coloured by state, active
// alarms flashing on the map and listed, patrol progress, gate events and counters. Everything
// shown is computed by the hub (zones, alarm locations, counts); this page only draws it.
"use strict";

Hub.translate({
  "zh-CN": {
    title: "大院安防与后勤监控", c_alarms: "当前报警", c_unacked: "未确认", c_tickets: "未完成工单",
    c_people: "在院访客", c_cars: "在院车辆", c_guards: "院内保安", c_out: "院外车辆",
    alarms: "报警", patrols: "巡更进度", gate: "门岗动态", no_alarms: "无报警", no_gate: "暂无通行记录",
    no_tour: "未在巡更时段", upcoming: "下一轮", next: "下一点", due: "截止", missed: "漏检", late: "迟到",
    in: "进", out: "出", denied: "拒绝",
  },
  en: {
    title: "Compound security & facilities", c_alarms: "Active alarms", c_unacked: "Unacknowledged",
    c_tickets: "Open tickets", c_people: "Visitors inside", c_cars: "Cars inside", c_guards: "Guards inside",
    c_out: "Cars outside", alarms: "Alarms", patrols: "Patrols", gate: "Gate", no_alarms: "No alarms",
    no_gate: "No passages yet", no_tour: "No tour under way", upcoming: "next tour", next: "next", due: "due", missed: "missed",
    late: "late", in: "in", out: "out", denied: "denied",
  },
});

const { el } = Hub;
const SEVERITY = { critical: 0, major: 1, minor: 2, warning: 3 };
const state = {
  site: null,
  names: {}, // feature or subject id -> display name
  features: {}, // "device:ahu-b1" -> Leaflet layer
  markers: {}, // subject id -> marker on the compound map
  wideMarkers: {}, // subject id -> marker on the wide view
  devices: {}, // device id -> last status message
  alarms: {}, // alarm id -> last alarm message
  gates: [], // newest first
  summary: null,
};
window.wall = state; // for the browser tests and for a curious operator's console

const map = L.map("map", { zoomControl: false, attributionControl: false, keyboard: false });
const wide = L.map("wide", { zoomControl: false, attributionControl: false, dragging: false,
  scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false });

function featureStyle(feature) {
  const layer = feature.properties.layer;
  if (layer === "boundary") return { color: "#8fb3d9", weight: 3, fill: false };
  if (layer === "building") return { color: "#4a6a8f", weight: 2, fillColor: "#1c2b3d", fillOpacity: .4 };
  if (layer === "geofence") return { color: "#f5b800", weight: 2, dashArray: "8 6", fill: false };
  if (layer === "zone") {
    const colors = { restricted: "#ff3b30", parking: "#4aa3ff", gate: "#2ecc71" };
    return { color: colors[feature.properties.kind] || "#6b7f99", weight: 1, fillOpacity: .15 };
  }
  return {};
}

function pointLayer(feature, latlng) {
  const p = feature.properties;
  // devices are squares, people and cars round: a guard is never mistaken for a sensor
  if (p.layer === "device") {
    return L.marker(latlng, { icon: L.divIcon({ className: `device-icon d-${p.id}`, iconSize: [14, 14] }), keyboard: false });
  }
  if (p.layer === "checkpoint") return L.circleMarker(latlng, { radius: 6, className: `checkpoint c-${p.id}` });
  return L.circleMarker(latlng, { radius: 7, color: "#2ecc71", className: `gatept g-${p.id}` });
}

async function loadSite() {
  const site = await Hub.api("/api/site");
  Hub.setZone(site.timezone);
  await Hub.catalogue();
  tick(); // the clock in the site's time at once
  state.site = site;
  for (const s of site.subjects) state.names[`subject:${s.id}`] = s.name;
  if (site.map.tile_url) {
    L.tileLayer(site.map.tile_url, { attribution: site.map.tile_attribution, maxZoom: 20 }).addTo(map);
  }
  const layers = L.geoJSON(site.layers, {
    style: featureStyle,
    pointToLayer: pointLayer,
    onEachFeature: (feature, layer) => {
      state.features[feature.id] = layer;
      state.names[feature.id] = feature.properties.name;
      const kind = feature.properties.layer;
      if (kind === "building" || kind === "zone") { // areas carry their names on the map
        layer.bindTooltip(feature.properties.name, { permanent: true, className: `label area ${kind}-label`, direction: "center" });
      } else if (["checkpoint", "gate", "device"].includes(kind)) {
        layer.bindTooltip(feature.properties.name, { className: "label", direction: "top" });
      }
    },
  }).addTo(map);
  const boundary = site.layers.features.find((f) => f.properties.layer === "boundary");
  map.fitBounds(L.geoJSON(boundary).getBounds(), { padding: [20, 20] });
  L.geoJSON(boundary, { style: () => ({ color: "#8fb3d9", weight: 2, fillOpacity: .1 }) }).addTo(wide);
  if (document.getElementById("wide").clientWidth) wide.fitBounds(L.geoJSON(boundary).getBounds().pad(4));
  await addPlans(site.plans);
  layers.bringToFront();
  document.title = `${site.name} · ${Hub.t("title")}`;
}

// Floor plans: the lowest floor of each building (or ?floor=b1/3F), pinned by three corners.
async function addPlans(plans) {
  const wanted = Hub.params.get("floor");
  const chosen = {};
  for (const p of plans) {
    if (wanted ? `${p.building}/${p.floor}` === wanted : !chosen[p.building] || p.level < chosen[p.building].level) {
      chosen[p.building] = p;
    }
  }
  for (const p of Object.values(chosen)) {
    const res = await fetch(p.url, { headers: { Authorization: `Bearer ${Hub.token()}` } });
    if (!res.ok) continue;
    const url = URL.createObjectURL(await res.blob());
    const corner = (c) => L.latLng(c.lat, c.lon);
    L.imageOverlay.rotated(url, corner(p.top_left), corner(p.top_right), corner(p.bottom_left),
      { opacity: .75, interactive: false }).addTo(map);
  }
}

// -- live state -------------------------------------------------------------------------------
function subjectClass(msg) {
  return msg.subject_kind === "vehicle" || msg.subject_kind === "visitor_vehicle" ? "vehicle" : "guard";
}

function position(msg) {
  if (msg.lat === null || msg.lat === undefined) return; // indoor x/y: shown by the zone lists
  const ll = [msg.lat, msg.lon];
  let m = state.markers[msg.key];
  if (!m) {
    const cls = `subject ${subjectClass(msg)} s-${msg.key}`;
    m = state.markers[msg.key] = L.circleMarker(ll, { radius: 9, className: cls }).addTo(map);
    m.bindTooltip(state.names[`subject:${msg.key}`] || msg.key, { permanent: true, className: "label", direction: "right", offset: [8, 0] });
    state.features[`subject:${msg.key}`] = m;
  } else {
    m.setLatLng(ll);
  }
  if (subjectClass(msg) === "vehicle") {
    const w = state.wideMarkers[msg.key];
    if (w) w.setLatLng(ll);
    else state.wideMarkers[msg.key] = L.circleMarker(ll, { radius: 5, className: `subject vehicle w-${msg.key}` }).addTo(wide);
  }
}

function deviceStatus(msg) {
  state.devices[msg.key] = msg;
  const layer = state.features[`device:${msg.key}`];
  const path = layer && layer.getElement && layer.getElement();
  if (!path) return;
  path.classList.toggle("offline", !msg.online);
  path.classList.toggle("fault", Boolean(msg.online && msg.fault));
}

function gate(msg) {
  state.gates.unshift(msg);
  state.gates.length = Math.min(state.gates.length, 20);
}

function apply(msg) {
  switch (msg.type) {
    case "position": position(msg); break;
    case "status": deviceStatus(msg); break;
    case "alarm":
      if (msg.state === "CLEARED_ACK") delete state.alarms[msg.key];
      else state.alarms[msg.key] = msg;
      break;
    case "gate": gate(msg); break;
    case "summary": state.summary = msg; break;
    default: break; // readings, sightings, tickets: the staff pages show those
  }
}

// Unacknowledged active alarms flash their map feature; acknowledged ones stay red.
function paintAlarms() {
  const marks = {};
  for (const a of Object.values(state.alarms)) {
    if (!a.at || !a.state.startsWith("ACTIVE")) continue;
    marks[a.at] = marks[a.at] === "flash" || a.state === "ACTIVE_UNACK" ? "flash" : "steady";
  }
  for (const [id, layer] of Object.entries(state.features)) {
    const path = layer.getElement && layer.getElement();
    if (!path) continue;
    path.classList.toggle("alarmed", Boolean(marks[id]));
    path.classList.toggle("flash", marks[id] === "flash");
  }
}

function renderAlarms() {
  const rows = Object.values(state.alarms).sort((a, b) =>
    (a.state.startsWith("ACTIVE") ? 0 : 1) - (b.state.startsWith("ACTIVE") ? 0 : 1)
    || SEVERITY[a.severity] - SEVERITY[b.severity] || (a.ts < b.ts ? 1 : -1));
  const items = rows.slice(0, 14).map((a) => el("li", { className: `${a.severity} ${a.state}`, title: Hub.say(a) },
    el("span", { className: "when" }, Hub.time(a.ts)),
    `${Hub.severity(a.severity)} · ${Hub.alarmType(a.alarm_type)} · `,
    el("b", {}, state.names[a.at] || Hub.named(a.originator))));
  document.getElementById("alarms").replaceChildren(...(items.length ? items : [el("li", { className: "empty" }, Hub.t("no_alarms"))]));
}

function renderGates() {
  const items = state.gates.slice(0, 10).map((g) => el("li", { className: g.allowed ? "" : "denied" },
    el("span", { className: "when" }, Hub.time(g.ts)),
    `${state.names[`gate:${g.gate_id}`] || g.gate_id} ${Hub.t(g.direction)} · ${g.subject || g.credential}`,
    g.allowed ? "" : ` · ${Hub.t("denied")} ${Hub.gateReason(g.reason)}`));
  document.getElementById("gates").replaceChildren(...(items.length ? items : [el("li", {}, Hub.t("no_gate"))]));
}

function renderSummary() {
  const s = state.summary;
  if (!s) return;
  const set = (id, value, hot) => {
    const box = document.getElementById(id);
    box.querySelector("b").textContent = value;
    box.classList.toggle("hot", Boolean(hot));
  };
  set("c-alarms", s.alarms.active, s.alarms.active > 0);
  set("c-unacked", s.alarms.unacked, s.alarms.unacked > 0);
  set("c-tickets", s.tickets.open);
  set("c-people", s.gate.people_inside);
  set("c-cars", s.gate.cars_inside);
  set("c-guards", s.subjects.guards_inside);
  set("c-out", s.subjects.vehicles_outside);
  const items = s.patrols.map((p) => {
    const done = p.total ? Math.round((100 * p.visited) / p.total) : 0;
    const meta = p.tour
      ? `${p.visited}/${p.total}` + (p.next ? ` · ${Hub.t("next")} ${state.names[`checkpoint:${p.next}`] || p.next} ${Hub.t("due")} ${Hub.time(p.next_due)}` : "")
        + (p.missed.length ? ` · ${Hub.t("missed")} ${p.missed.length}` : "") + (p.late.length ? ` · ${Hub.t("late")} ${p.late.length}` : "")
      : Hub.t("no_tour") + (p.upcoming ? ` · ${Hub.t("upcoming")} ${Hub.time(p.upcoming)}` : "");
    const bar = el("div", { className: p.missed.length ? "bar missed" : "bar" }, el("i"));
    bar.firstChild.style.width = `${done}%`;
    const guards = p.guards.map((g) => state.names[`subject:${g}`] || g).join("、");
    return el("li", { id: `route-${p.route}` }, el("b", {}, Hub.named(p.route)), ` ${guards}`, bar, el("div", { className: "patrol-meta" }, meta));
  });
  document.getElementById("patrols").replaceChildren(...items);
}

function fitWide() {
  if (!document.getElementById("wide").clientWidth) return; // hidden (a phone): nothing to fit
  const points = Object.values(state.wideMarkers).map((m) => m.getLatLng());
  const boundary = state.site && state.site.layers.features.find((f) => f.properties.layer === "boundary");
  if (!boundary) return;
  const bounds = L.geoJSON(boundary).getBounds();
  for (const p of points) bounds.extend(p);
  wide.fitBounds(bounds.pad(0.3), { maxZoom: 16 });
}

function render() {
  paintAlarms();
  renderAlarms();
  renderGates();
  renderSummary();
}

function reset() {
  for (const m of Object.values(state.markers)) m.remove();
  for (const m of Object.values(state.wideMarkers)) m.remove();
  for (const key of Object.keys(state.features)) if (key.startsWith("subject:")) delete state.features[key];
  Object.assign(state, { markers: {}, wideMarkers: {}, devices: {}, alarms: {}, gates: [], summary: null });
}

function tick() {
  const now = new Date();
  document.getElementById("clock").textContent = Hub.clock(now);
}

document.getElementById("lang").addEventListener("click", () => Hub.toggleLanguage(render));
tick();
setInterval(tick, 1000);
setInterval(fitWide, 5000);

loadSite().then(() => {
  Hub.live({
    status: (s) => { document.getElementById("link").className = s; },
    snapshot: (msg) => {
      reset();
      for (const m of msg.entities) apply(m);
      for (const g of msg.gates) gate(g); // oldest first: gate() puts each on top
      render();
      fitWide();
      document.body.dataset.ready = "1";
    },
    changes: (changes) => {
      for (const m of changes) apply(m);
      render();
    },
  });
}).catch((err) => { document.getElementById("title").textContent = String(err); });
