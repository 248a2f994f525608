// login.html: the page's own script (no inline scripts: the pages' CSP allows none).
"use strict";
Hub.translate({
  "zh-CN": { title: "登录", username: "用户名", password: "密码", display: "大屏（长期登录，仅显示）",
    signin: "登录", bad: "用户名或密码错误", wall: "监控大屏", console: "报警处置台",
    tickets: "维修工单", devices: "设备与读数", report: "报修", rooms: "会议室预约", vehicles: "公务用车", visits: "访客预约", gate: "门岗" },
  en: { title: "Sign in", username: "Username", password: "Password",
    display: "Wall display (long-lived, view only)", signin: "Sign in", bad: "Wrong username or password",
    wall: "Wall display", console: "Alarm console", tickets: "Repair tickets", devices: "Devices and readings",
    report: "Report a repair", rooms: "Meeting rooms", vehicles: "Official cars", visits: "Visitors", gate: "Gate" },
});
document.getElementById("lang").addEventListener("click", () => Hub.toggleLanguage());

// Single sign-on: the provider's button when the hub offers one; back from it, the hub's
// token came in the fragment (app.js kept it) and the person goes where they were going.
if (Hub.fragment.get("token")) {
  location.replace(Hub.sameOrigin(Hub.fragment.get("next")) || "/");
} else {
  if (Hub.fragment.get("sso_error")) document.getElementById("error").textContent = Hub.fragment.get("sso_error");
  fetch("/api/auth/oidc").then((r) => r.json()).then((sso) => {
    if (!sso.enabled) return;
    const next = Hub.sameOrigin(Hub.params.get("next")) || "/";
    const link = Object.assign(document.createElement("a"), {
      id: "sso", className: "button big-button", href: `/api/auth/oidc/start?next=${encodeURIComponent(next)}`,
      textContent: sso.label });
    document.getElementById("login").before(link);
  }).catch(() => {});
}
document.getElementById("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const body = new URLSearchParams({ username: form.get("username"), password: form.get("password") });
  if (form.get("display")) body.set("scope", "display");
  const res = await fetch("/api/auth/token", { method: "POST", body });
  if (!res.ok) { document.getElementById("error").textContent = Hub.t("bad"); return; }
  localStorage.setItem("hub.token", (await res.json()).access_token);
  location.href = Hub.sameOrigin(Hub.params.get("next")) || "/"; // the person's home
});
