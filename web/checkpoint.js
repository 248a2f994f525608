// A checkpoint's display (a cheap tablet or e-ink screen at the checkpoint, display role):
// the checkpoint's rotating code as a QR and as digits. The hub changes it every period, so
// a photo of it is worthless soon after.
"use strict";

Hub.translate({
  "zh-CN": { scan: "保安请扫码签到", left: "秒后更新" },
  en: { scan: "Guards: scan to check in", left: "s until a new code" },
});
const cp = Hub.params.get("cp");
const $ = (s) => document.querySelector(s);
let timer = null;

async function refresh() {
  clearTimeout(timer);
  try {
    const d = await Hub.api(`/api/patrol/checkpoints/${encodeURIComponent(cp)}/code`);
    $("#cp-name").textContent = d.name;
    $("#qr").src = d.qr;
    $("#qr").dataset.payload = d.payload;
    $("#code").textContent = d.code.replace(/(\d{4})(\d{4})/, "$1 $2");
    const until = new Date(d.valid_until).getTime();
    const tick = () => { $("#left").textContent = `${Math.max(0, Math.round((until - Date.now()) / 1000))} ${Hub.t("left")}`; };
    tick();
    const countdown = setInterval(tick, 1000);
    timer = setTimeout(() => { clearInterval(countdown); refresh(); }, Math.max(1000, until - Date.now() + 300));
  } catch (err) {
    $("#left").textContent = String(err.message || err);
    timer = setTimeout(refresh, 5000);
  }
}
Hub.translate();
if (!Hub.token()) Hub.signIn(); else refresh();
