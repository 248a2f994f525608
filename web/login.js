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
