// door.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// A meeting room's door display (display role): the meeting now and next, and the check-in
// QR code, which the hub changes every few seconds (a photo of it is useless later).
Hub.translate({
  "zh-CN": { scan: "扫码签到", free: "空闲", busy: "使用中", soon: "即将开始（可签到）", next: "接下来", left: "秒后更新", none: "今日无后续会议" },
  en: { scan: "Scan to sign in", free: "Free", busy: "In use", soon: "Starting soon (check-in open)", next: "Next", left: "s until a new code", none: "No more meetings today" },
});
const room = Hub.params.get("room");
const { el } = Hub;
const $ = (s) => document.querySelector(s);
let timer = null;

async function refresh() {
  clearTimeout(timer);
  try {
    const d = await Hub.api(`/api/rooms/${encodeURIComponent(room)}/door`);
    $("#room-name").textContent = d.room.name;
    const now = d.now || d.soon;
    const state = d.now ? "busy" : d.soon ? "soon" : "free";
    $("#now").className = state;
    $("#now").textContent = now ? `${Hub.t(state)} · ${now.title} ${Hub.time(now.start)}–${Hub.time(now.end)}` : Hub.t("free");
    const items = d.next.map((b) => el("li", {}, `${Hub.time(b.start)}–${Hub.time(b.end)} ${b.title}`));
    $("#next").replaceChildren(...(items.length ? items : [el("li", {}, Hub.t("none"))]));
    $("#qr").src = d.qr;
    $("#qr").dataset.code = d.code;
    let left = d.expires_in_s;
    const tick = () => { $("#left").textContent = `${left} ${Hub.t("left")}`; left -= 1; };
    tick();
    const countdown = setInterval(tick, 1000);
    timer = setTimeout(() => { clearInterval(countdown); refresh(); }, Math.max(1, d.expires_in_s) * 1000 + 200);
  } catch (err) {
    $("#now").textContent = String(err.message || err);
    timer = setTimeout(refresh, 5000);
  }
  $("#clock").textContent = new Date().toLocaleString(Hub.lang);
}
Hub.translate();
if (!Hub.token()) Hub.signIn(); else refresh();
