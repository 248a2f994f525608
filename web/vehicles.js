// Official cars: ask for one; approvers approve in turn; dispatchers give an approved request
// a car and a driver in a couple of clicks (the free ones are offered, the best preselected);
// the driver records departure and return; dispatchers download the month's settlement.
"use strict";

Hub.translate({
  "zh-CN": { title: "公务用车", rooms: "会议室预约", purpose: "事由", destination: "目的地", passengers: "乘车人数",
    date: "日期", from: "出发", to: "返回", ask: "提交申请", to_dispatch: "待派车", settlement: "月度结算",
    requests: "用车申请", sent: "已提交", dispatch: "派车", approve: "同意", reject: "不同意", cancel: "撤销",
    depart: "出车", back: "回场", odometer: "里程表读数(km)", tolls: "路桥费", parking: "停车费",
    none: "无空闲车辆或司机", km: "公里", cost: "费用", gps: "GPS", need_odometer: "请先填写里程表读数", car_pick: "车辆", driver_pick: "司机",
    status: { pending: "待审批", approved: "待派车", rejected: "未批准", dispatched: "已派车", departed: "已出车",
      returned: "已回场", settled: "已结算", cancelled: "已撤销" } },
  en: { title: "Official cars", rooms: "Meeting rooms", purpose: "Purpose", destination: "Destination",
    passengers: "Passengers", date: "Date", from: "Leave", to: "Back", ask: "Request", to_dispatch: "To dispatch",
    settlement: "Monthly settlement", requests: "Requests", sent: "Sent", dispatch: "Dispatch", approve: "Approve",
    reject: "Reject", cancel: "Cancel", depart: "Departs", back: "Returned", odometer: "Odometer (km)",
    tolls: "Tolls", parking: "Parking", none: "No free car or driver", km: "km", cost: "Cost", gps: "GPS",
    need_odometer: "Give the odometer reading first", car_pick: "Car", driver_pick: "Driver",
    status: { pending: "waiting for approval", approved: "to dispatch", rejected: "rejected", dispatched: "dispatched",
      departed: "out", returned: "back", settled: "settled", cancelled: "cancelled" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let me = null;

function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }
async function act(promise) {
  try { await promise; await load(); } catch (err) { say(String(err.message || err), false); }
}
function button(label, onclick, quiet) {
  const b = el("button", { type: "button", className: quiet ? "quiet" : "" }, Hub.t(label));
  b.onclick = onclick;
  return b;
}
const isDispatcher = () => me.roles.includes("dispatcher") || me.roles.includes("admin");

async function dispatchCard(r) {
  const opts = await Hub.api(`/api/vehicle-requests/${r.id}/options`);
  const car = el("select", { name: "vehicle", ariaLabel: Hub.t("car_pick") }, ...opts.vehicles.map((v) => el("option", { value: v.id }, `${v.plate} ${v.name || ""} (${v.seats})`)));
  const driver = el("select", { name: "driver", ariaLabel: Hub.t("driver_pick") }, ...opts.drivers.map((d) => el("option", { value: d.id }, d.name)));
  const card = el("article", { className: "ticket", id: `dispatch-${r.id}` },
    el("b", {}, `#${r.id} ${r.destination}`),
    el("div", { className: "meta" }, `${Hub.datetime(r.start)}–${Hub.time(r.end)} · ${r.passengers} · ${r.purpose} · ${r.requester}`));
  if (!opts.vehicles.length || !opts.drivers.length) card.append(el("p", { className: "bad" }, Hub.t("none")));
  else card.append(el("div", { className: "row-actions" }, car, driver,
    button("dispatch", () => act(Hub.post(`/api/vehicle-requests/${r.id}/dispatch`, { vehicle_id: car.value, driver_id: driver.value })))));
  return card;
}

function requestCard(r) {
  const status = Hub.t("status");
  const card = el("article", { className: "ticket", id: `request-${r.id}` },
    el("b", {}, `#${r.id} ${r.destination} · ${status[r.status] || r.status}`),
    el("div", { className: "meta" }, `${Hub.datetime(r.start)}–${Hub.time(r.end)} · ${r.purpose} · ${r.requester}`,
      r.vehicle_id ? ` · ${Hub.named(r.vehicle_id)} / ${Hub.named(r.driver_id)}` : ""),
    r.cost !== null ? el("div", { className: "meta" }, `${Hub.t("gps")} ${r.gps_km ?? "—"} ${Hub.t("km")} · ${Hub.t("cost")} ¥${r.cost}`) : null);
  const row = el("div", { className: "row-actions" });
  if (r.status === "pending" && r.requester !== me.name) {
    row.append(button("approve", () => act(Hub.post(`/api/vehicle-requests/${r.id}/approve`, {}))),
      button("reject", () => act(Hub.post(`/api/vehicle-requests/${r.id}/reject`, {})), true));
  }
  if (["pending", "approved", "dispatched"].includes(r.status) && (r.requester === me.name || isDispatcher())) {
    row.append(button("cancel", () => act(Hub.post(`/api/vehicle-requests/${r.id}/cancel`, {})), true));
  }
  if (r.status === "dispatched" || r.status === "departed") {
    const odo = el("input", { type: "number", min: 0, step: "0.1", placeholder: Hub.t("odometer"), name: "odometer", required: true });
    odo.setAttribute("aria-label", Hub.t("odometer"));
    // a button never does nothing: without a reading it says what is missing
    const reading = () => {
      if (odo.value && odo.checkValidity()) return true;
      say(Hub.t("need_odometer"), false);
      odo.focus();
      return false;
    };
    row.append(odo);
    if (r.status === "dispatched") {
      row.append(button("depart", () => reading() && act(Hub.post(`/api/vehicle-requests/${r.id}/depart`, { odometer_km: Number(odo.value) }))));
    } else {
      const tolls = el("input", { type: "number", min: 0, step: "0.01", placeholder: Hub.t("tolls"), name: "tolls" });
      const parking = el("input", { type: "number", min: 0, step: "0.01", placeholder: Hub.t("parking"), name: "parking" });
      tolls.setAttribute("aria-label", Hub.t("tolls"));
      parking.setAttribute("aria-label", Hub.t("parking"));
      row.append(tolls, parking, button("back", () => reading() && act(Hub.post(`/api/vehicle-requests/${r.id}/return`, {
        odometer_km: Number(odo.value), extras: { tolls: Number(tolls.value || 0), parking: Number(parking.value || 0) } }))));
    }
  }
  card.append(row);
  return card;
}

async function load() {
  const all = await Hub.api("/api/vehicle-requests");
  $("#requests").replaceChildren(...all.filter((r) => r.status !== "approved" || !isDispatcher()).reverse().slice(0, 60).map(requestCard));
  if (isDispatcher()) {
    $("#dispatch-board").hidden = false;
    const cards = await Promise.all(all.filter((r) => r.status === "approved").map(dispatchCard));
    $("#to-dispatch").replaceChildren(...cards);
  }
}

function download(format) {
  const month = $("#month").value;
  return Hub.download(`/api/vehicle-settlements/${month}?format=${format}`, `vehicles-${month}.${format}`)
    .catch((err) => say(String(err.message || err), false));
}

$("#ask").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target.elements;
  const at = (hhmm) => new Date(`${f.date.value}T${hhmm}:00`).toISOString();
  try {
    const r = await Hub.post("/api/vehicle-requests", { purpose: f.purpose.value, destination: f.destination.value,
      passengers: Number(f.passengers.value), start: at(f.from.value), end: at(f.to.value) });
    say(`${Hub.t("sent")} #${r.id}`, true);
    await load();
  } catch (err) { say(String(err.message || err), false); }
});
$("#csv").addEventListener("click", () => download("csv"));
$("#xlsx").addEventListener("click", () => download("xlsx"));
$("#lang").addEventListener("click", () => Hub.toggleLanguage(load));
const now = new Date();

// The form starts at a time still ahead (three hours from the next half hour; late: tomorrow).
Object.entries(Hub.aheadSlot(180, "22:00")).forEach(([k, value]) => { $("#ask").elements[k].value = value; });
$("#month").value = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
let timer = null;
const soon = () => { clearTimeout(timer); timer = setTimeout(() => load().catch((err) => say(String(err.message || err), false)), 300); };
Hub.me().then(async (who) => {
  me = who;
  $("#who").textContent = `${me.name} (${me.roles.join(", ")})`;
  await Hub.catalogue();
  await load();
  // live: a dispatcher's board follows every request; a person's list follows their inbox
  Hub.live({ status: () => {}, snapshot: () => {},
    changes: (changes) => { if (changes.some((c) => c.type === "vehicles" || c.type === "inbox")) soon(); } });
}).catch((err) => say(String(err.message || err), false));
