// checkin.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// Opened from the door's QR code (/checkin.html?room=…&code=…): signs the person in.
Hub.translate({
  "zh-CN": { title: "会议签到", ok: "签到成功", people: "人已签到", rooms: "会议室预约" },
  en: { title: "Meeting sign-in", ok: "Signed in", people: "signed in", rooms: "Book a room" },
});
document.getElementById("lang").addEventListener("click", () => Hub.toggleLanguage());
(async () => {
  if (!Hub.token()) { Hub.signIn(); return; }
  const room = Hub.params.get("room"), code = Hub.params.get("code") || "";
  try {
    const b = await Hub.post(`/api/rooms/${encodeURIComponent(room)}/checkin`, { code });
    document.getElementById("result").textContent = `${Hub.t("ok")} · ${b.title}`;
    document.getElementById("result").className = "good";
    document.getElementById("detail").textContent = `${b.room} ${Hub.time(b.start)}–${Hub.time(b.end)} · ${b.signed_in} ${Hub.t("people")}`;
  } catch (err) {
    document.getElementById("result").textContent = String(err.message || err);
    document.getElementById("result").className = "bad";
  }
})();
