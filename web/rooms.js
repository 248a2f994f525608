// Booking meeting rooms: the day's rooms and meetings, a booking form (once or recurring),
// the waitlist when a room is taken, one's own bookings (cancel one or the rest of a series),
// approval of pending bookings for the owning unit's approvers, and a calendar feed.
"use strict";

Hub.translate({
  "zh-CN": { title: "会议室预约", vehicles: "公务用车", room: "会议室", date: "日期", from: "开始", to: "结束",
    people: "人数", subject: "会议主题", repeat: "重复", once: "不重复", weekdays: "每个工作日", weekly: "每周",
    times: "次数", book: "预约", wait: "加入候补", day: "查看日期", feed: "订阅我的日历", seats: "座位",
    equipment: "设备", meetings: "当日会议", mine: "我的预约", booked: "已预约", pending: "待审批",
    waiting: "已加入候补，空出后自动为您预约", cancel: "取消", cancel_rest: "取消此后全部", approve: "批准",
    reject: "驳回", free: "空闲", needs_approval: "需审批", sure_rest: "确定取消此后的 {n} 场会议？", yes_cancel: "确定取消",
    keep: "不取消", cancelled_n: "已取消 {n} 场会议", undo: "撤销", restored_n: "已恢复 {n} 场会议",
    taken_n: "，{n} 场已被他人预约", status: { pending: "待审批", confirmed: "已确认",
      checked_in: "已签到", released: "未签到已释放", cancelled: "已取消", rejected: "已驳回" } },
  en: { title: "Meeting rooms", vehicles: "Official cars", room: "Room", date: "Date", from: "From", to: "To",
    people: "People", subject: "Subject", repeat: "Repeat", once: "Once", weekdays: "Every workday", weekly: "Weekly",
    times: "Times", book: "Book", wait: "Join the waitlist", day: "Day", feed: "Subscribe in my calendar",
    seats: "Seats", equipment: "Equipment", meetings: "Meetings", mine: "My bookings", booked: "Booked",
    pending: "waiting for approval", waiting: "On the waitlist: booked for you if it frees up",
    cancel: "Cancel", cancel_rest: "Cancel this and the rest", approve: "Approve", reject: "Reject", free: "free",
    needs_approval: "needs approval", sure_rest: "Cancel this meeting and the {n} after it?", yes_cancel: "Cancel them",
    keep: "Keep them", cancelled_n: "{n} meeting(s) cancelled", undo: "Undo", restored_n: "{n} meeting(s) restored",
    taken_n: "; {n} taken by others meanwhile", status: { pending: "pending", confirmed: "confirmed", checked_in: "checked in",
      released: "released (no-show)", cancelled: "cancelled", rejected: "rejected" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const form = $("#book");
let rooms = [];
let lastAsk = null;

function isoLocal(day, hhmm) { return new Date(`${day}T${hhmm}:00`).toISOString(); }
function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }

async function act(promise) {
  try { await promise; await load(); } catch (err) { say(String(err.message || err), false); }
}
const n = (key, count) => Hub.t(key).replace("{n}", count);

// Cancel, then offer to undo it (the hub takes an undo for ten minutes).
async function cancel(b, scope) {
  try {
    const gone = await Hub.api(`/api/bookings/${b.id}?scope=${scope}`, { method: "DELETE" });
    await load();
    say(n("cancelled_n", gone.length), true);
    const undo = el("button", { type: "button", id: "undo" }, Hub.t("undo"));
    undo.onclick = async () => {
      try {
        const r = await Hub.post(`/api/bookings/${b.id}/restore`);
        await load();
        say(n("restored_n", r.restored.length) + (r.taken.length ? n("taken_n", r.taken.length) : ""), !r.taken.length);
      } catch (err) { say(String(err.message || err), false); }
    };
    $("#message").append(" ", undo);
  } catch (err) { say(String(err.message || err), false); }
}

// "Cancel this and the rest" asks first, saying how many meetings it takes away.
function confirmRest(li, b, mine) {
  const holding = ["pending", "confirmed", "checked_in"];
  const count = mine.filter((x) => x.series_id === b.series_id && x.start >= b.start && holding.includes(x.status)).length;
  const box = el("div", { className: "confirm", role: "alertdialog", id: `confirm-${b.id}` }, n("sure_rest", count), " ");
  const yes = el("button", { type: "button", className: "danger" }, Hub.t("yes_cancel"));
  yes.onclick = () => cancel(b, "following");
  const no = el("button", { type: "button", className: "quiet" }, Hub.t("keep"));
  no.onclick = () => box.remove();
  box.append(yes, " ", no);
  li.querySelector(".confirm")?.remove();
  li.append(box);
  no.focus();
}

function meeting(b) {
  const li = el("li", { id: `booking-${b.id}` }, `${Hub.time(b.start)}–${Hub.time(b.end)} ${b.title} (${b.organiser})`,
    b.status === "pending" ? ` · ${Hub.t("pending")}` : "");
  if (b.status === "pending") {
    const yes = el("button", { type: "button", className: "quiet" }, Hub.t("approve"));
    yes.onclick = () => act(Hub.post(`/api/bookings/${b.id}/approve`));
    const no = el("button", { type: "button", className: "quiet" }, Hub.t("reject"));
    no.onclick = () => act(Hub.post(`/api/bookings/${b.id}/reject`));
    li.append(" ", yes, " ", no);
  }
  return li;
}

async function load() {
  const day = $("#day").value;
  rooms = await Hub.api(`/api/rooms?day=${day}`);
  const select = form.elements.room;
  if (!select.options.length) {
    select.append(...rooms.map((r) => el("option", { value: r.id }, `${r.name} (${r.capacity})${r.needs_approval ? " · " + Hub.t("needs_approval") : ""}`)));
  }
  $("#rooms tbody").replaceChildren(...rooms.map((r) => el("tr", { id: `room-${r.id}` },
    el("td", {}, el("b", {}, r.name), el("br"), `${r.hours}`),
    el("td", {}, r.capacity),
    el("td", {}, r.equipment.join(", ")),
    el("td", {}, r.bookings.length ? el("ul", {}, ...r.bookings.map(meeting)) : Hub.t("free")))));
  const mine = await Hub.api("/api/bookings?mine=true");
  const status = Hub.t("status");
  $("#mine").replaceChildren(...mine.map((b) => {
    const li = el("li", { id: `mine-${b.id}` }, `${Hub.datetime(b.start)}–${Hub.time(b.end)} ${b.room} · ${b.title} · ${status[b.status] || b.status} `);
    const one = el("button", { type: "button", className: "quiet" }, Hub.t("cancel"));
    one.onclick = () => cancel(b, "this");
    li.append(one);
    if (b.series_id) {
      const rest = el("button", { type: "button", className: "quiet" }, Hub.t("cancel_rest"));
      rest.onclick = () => confirmRest(li, b, mine);
      li.append(" ", rest);
    }
    return li;
  }));
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = form.elements;
  const body = {
    room_id: f.room.value, title: f.title.value, attendees: Number(f.attendees.value || 0),
    start: isoLocal(f.date.value, f.from.value), end: isoLocal(f.date.value, f.to.value),
  };
  if (f.repeat.value) body.rrule = `${f.repeat.value};COUNT=${Number(f.count.value || 1)}`;
  lastAsk = body;
  $("#wait").hidden = true;
  try {
    const r = await Hub.post("/api/bookings", body);
    const status = r.status || (r.bookings && r.bookings[0].status);
    say(`${Hub.t("booked")}${status === "pending" ? " · " + Hub.t("pending") : ""}`, true);
    await load();
  } catch (err) {
    say(String(err.message || err), false);
    $("#wait").hidden = !(err.body && ["booking.taken", "taken_meanwhile"].includes(err.body.code));
  }
});

$("#wait").addEventListener("click", async () => {
  try {
    await Hub.post("/api/waitlist", { room_id: lastAsk.room_id, start: lastAsk.start, end: lastAsk.end, title: lastAsk.title });
    say(Hub.t("waiting"), true);
    $("#wait").hidden = true;
  } catch (err) { say(String(err.message || err), false); }
});

$("#feed").addEventListener("click", async () => {
  const feed = await Hub.api("/api/calendars/token");
  $("#feed-url").textContent = feed.mine;
});

$("#lang").addEventListener("click", () => Hub.toggleLanguage(load));
$("#day").addEventListener("change", load);
const today = new Date();
const iso = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
$("#day").value = iso;
// the form starts at an hour still ahead (late in the day: tomorrow morning)
Object.entries(Hub.aheadSlot(60, "22:00")).forEach(([k, value]) => { form.elements[k].value = value; });
Hub.me().then((me) => { $("#who").textContent = `${me.name} (${me.roles.join(", ")})`; });
load().catch((err) => say(String(err.message || err), false));
// Other units book too: the day's view follows them (the form keeps what you typed).
setInterval(() => { if (!document.hidden) load().catch(() => {}); }, 15000);
