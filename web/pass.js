// pass.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
// A visitor's pass, opened from the link the host sent: the token is in the address's
// fragment and the QR code is drawn here, so the pass never reaches a server log. Nothing to
// sign in to: the pass is the credential.
Hub.translate({
  "zh-CN": { title: "访客通行码", hint: "请在门岗扫码通行。此码仅限本人使用。", valid: "有效期", bad: "通行码无效" },
  en: { title: "Visitor pass", hint: "Show this code at the gate. It is for you alone.", valid: "Valid", bad: "Not a valid pass" },
});
const token = location.hash.slice(1);
function show() {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    document.getElementById("who").textContent = claims.lbl;
    const fmt = (s) => new Date(s * 1000).toLocaleString(Hub.lang, { dateStyle: "short", timeStyle: "short" });
    document.getElementById("valid").textContent = `${Hub.t("valid")} ${fmt(claims.nbf)} – ${fmt(claims.exp)}`;
    const qr = qrcode(0, "M");
    qr.addData(token);
    qr.make();
    document.getElementById("qr").src = qr.createDataURL(6, 8);
  } catch (err) {
    document.getElementById("who").textContent = Hub.t("bad");
  }
}
document.getElementById("lang").addEventListener("click", () => Hub.toggleLanguage(show));
show();
