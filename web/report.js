// The repair report form (mobile first). Opened from an asset's QR label as
// /report.html?asset=<id>, the asset is filled in; otherwise the reporter picks a category
// and says where. Signs in with the hub's token endpoint; the token stays in this tab.
"use strict";

const T = {
  "zh-CN": {
    title: "报修", signin_hint: "请先登录", username: "用户名", password: "密码", signin: "登录",
    asset: "设备 / 设施", category: "类别", location: "地点", location_hint: "如：1号楼3层东侧走廊",
    description: "问题描述", priority: "紧急程度", p_default: "一般（默认）", p_urgent: "紧急",
    p_high: "较急", p_low: "不急", photo: "照片（可选）", submit: "提交报修", thanks: "已提交",
    ticket: "工单", again: "再报一项", my_reports: "我的报修", merged: "（重复提交已合并）",
    assigned_to: "已派给", queued: "等待调度员派单", bad_login: "用户名或密码错误",
    status: { open: "待派单", assigned: "已派单", accepted: "已受理", in_progress: "维修中",
      on_hold: "暂停（待料）", resolved: "已修复，待确认", closed: "已关闭" },
  },
  en: {
    title: "Report a repair", signin_hint: "Please sign in", username: "Username",
    password: "Password", signin: "Sign in", asset: "Equipment / asset", category: "Category",
    location: "Where", location_hint: "e.g. building 1, 3rd floor, east corridor",
    description: "What is wrong", priority: "Urgency", p_default: "Normal (default)",
    p_urgent: "Urgent", p_high: "Soon", p_low: "Not urgent", photo: "Photo (optional)",
    submit: "Send report", thanks: "Sent", ticket: "Ticket", again: "Report another",
    my_reports: "My reports", merged: "(a repeat, merged)", assigned_to: "Assigned to",
    queued: "Waiting for a dispatcher", bad_login: "Wrong username or password",
    status: { open: "waiting", assigned: "assigned", accepted: "accepted",
      in_progress: "in progress", on_hold: "on hold", resolved: "fixed: please confirm",
      closed: "closed" },
  },
};
let lang = localStorage.getItem("lang") || "zh-CN";
const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const assetId = params.get("asset");
let token = sessionStorage.getItem("token");

function tr() {
  const t = T[lang];
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t[el.dataset.i18n]; });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t[el.dataset.i18nPlaceholder];
  });
  $("#lang").textContent = lang === "en" ? "中文" : "English";
}

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, ...(options.headers || {}) },
  });
  if (res.status === 401) { sessionStorage.removeItem("token"); token = null; show("login"); throw new Error("signed out"); }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || `HTTP ${res.status}`);
  return body;
}

function show(which) {
  for (const id of ["login", "report", "done"]) $(`#${id}`).hidden = id !== which;
  $("#mine").hidden = which === "login";
}

async function signIn(ev) {
  ev.preventDefault();
  const form = new URLSearchParams(new FormData(ev.target));
  const res = await fetch("/api/auth/token", { method: "POST", body: form });
  if (!res.ok) { $("#login-error").textContent = T[lang].bad_login; return; }
  token = (await res.json()).access_token;
  sessionStorage.setItem("token", token);
  await ready();
}

async function ready() {
  show("report");
  if (assetId) {
    const a = await api(`/api/assets/${encodeURIComponent(assetId)}`);
    $("#asset-box").hidden = false;
    $("#asset-name").textContent = a.name;
    $("#asset-where").textContent = [a.building, a.floor].filter(Boolean).join(" · ");
    $("#category-box").hidden = true;
    $("#location-box").hidden = true;
  } else {
    const cats = await api("/api/tickets/categories");
    const select = $("select[name=category]");
    select.replaceChildren(...cats.map((c) => new Option(lang === "en" && c.name_en ? c.name_en : c.name, c.id)));
  }
  await listMine();
}

function readPhoto(file) {
  return new Promise((resolve, reject) => {
    if (!file) { resolve(null); return; }
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = reject;
    r.readAsDataURL(file);
  });
}

async function submit(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = {
    description: f.get("description"),
    priority: f.get("priority") || null,
    photo: await readPhoto(f.get("photo") && f.get("photo").size ? f.get("photo") : null),
    source: assetId ? "qr" : "staff",
  };
  if (assetId) body.asset_id = assetId;
  else { body.category = f.get("category"); body.location = f.get("location"); }
  try {
    const t = await api("/api/tickets", { method: "POST", body: JSON.stringify(body) });
    $("#ticket-no").textContent = `#${t.id}`;
    $("#ticket-state").textContent = T[lang].status[t.status] + (t.merged ? ` ${T[lang].merged}` : "");
    $("#ticket-who").textContent = t.assignee ? `${T[lang].assigned_to} ${t.assignee}` : T[lang].queued;
    show("done");
    ev.target.reset();
    await listMine();
  } catch (err) {
    $("#report-error").textContent = err.message;
  }
}

async function listMine() {
  const mine = await api("/api/tickets?mine=true&limit=10");
  $("#my-list").innerHTML = "";
  for (const t of mine) {
    const li = document.createElement("li");
    li.textContent = `#${t.id} ${t.title} · ${T[lang].status[t.status] || t.status}`;
    $("#my-list").appendChild(li);
  }
}

$("#lang").addEventListener("click", () => {
  lang = lang === "en" ? "zh-CN" : "en";
  localStorage.setItem("lang", lang);
  tr();
});
$("#login").addEventListener("submit", signIn);
$("#report").addEventListener("submit", submit);
$("#again").addEventListener("click", () => show("report"));
tr();
if (token) ready().catch(() => show("login")); else show("login");
