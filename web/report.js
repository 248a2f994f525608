// The repair report form (phone first), on the one sign-in every page honours. Opened from an
// asset's QR label as /report.html?asset=<id>, the asset is filled in; otherwise the reporter
// picks a category and says where. A phone's photo is made small in the browser before it is
// sent. Below, the reporter's own reports: confirm a repair and rate it (点对点评价).
"use strict";

const MAX_PHOTO = 4_000_000; // bytes the hub takes (its limit is on the base64 text)
const LONG_SIDE = 1600; // px: plenty to see a broken lamp, a few hundred kB as JPEG

Hub.translate({
  "zh-CN": {
    title: "报修", asset: "设备 / 设施", category: "类别", location: "地点", location_hint: "如：1号楼3层东侧走廊",
    description: "问题描述", priority: "紧急程度", p_default: "一般（默认）", p_urgent: "紧急",
    p_high: "较急", p_low: "不急", photo: "照片（可选）", submit: "提交报修", thanks: "已提交",
    ticket: "工单", again: "再报一项", my_reports: "我的报修", merged: "（重复提交已合并）",
    assigned_to: "已派给", queued: "等待调度员派单", sending: "正在提交…",
    photo_bad: "这张照片打不开，请换一张（JPEG、PNG 或 WebP）", photo_big: "照片太大，缩小后仍超过 4 MB，请换一张",
    confirm: "确认修好", rate: "评价", rating: "打分", comment: "评价（可选）", rated: "已评价", stars: "星",
    status: { open: "待派单", assigned: "已派单", accepted: "已受理", in_progress: "维修中",
      on_hold: "暂停（待料）", resolved: "已修复，待确认", closed: "已关闭" },
  },
  en: {
    title: "Report a repair", asset: "Equipment / asset", category: "Category",
    location: "Where", location_hint: "e.g. building 1, 3rd floor, east corridor",
    description: "What is wrong", priority: "Urgency", p_default: "Normal (default)",
    p_urgent: "Urgent", p_high: "Soon", p_low: "Not urgent", photo: "Photo (optional)",
    submit: "Send report", thanks: "Sent", ticket: "Ticket", again: "Report another",
    my_reports: "My reports", merged: "(a repeat, merged)", assigned_to: "Assigned to",
    queued: "Waiting for a dispatcher", sending: "Sending…",
    photo_bad: "This photo cannot be read: choose another (JPEG, PNG or WebP)",
    photo_big: "The photo is too big even made smaller (over 4 MB): choose another",
    confirm: "Fixed: confirm", rate: "Rate", rating: "Stars", comment: "Comment (optional)", rated: "rated", stars: "stars",
    status: { open: "waiting", assigned: "assigned", accepted: "accepted",
      in_progress: "in progress", on_hold: "on hold", resolved: "fixed: please confirm",
      closed: "closed" },
  },
});

const { el } = Hub;
const $ = (sel) => document.querySelector(sel);
const assetId = Hub.params.get("asset");

function show(which) {
  for (const id of ["report", "done"]) $(`#${id}`).hidden = id !== which;
}

async function ready() {
  show("report");
  await Hub.catalogue(); // the site's names: "已派给 陈师傅", not the technician's id
  if (assetId) {
    const a = await Hub.api(`/api/assets/${encodeURIComponent(assetId)}`);
    $("#asset-box").hidden = false;
    $("#asset-name").textContent = a.name;
    $("#asset-where").textContent = [a.building, a.floor].filter(Boolean).join(" · ");
    $("#category-box").hidden = true;
    $("#location-box").hidden = true;
  } else {
    const cats = await Hub.api("/api/tickets/categories");
    const select = $("select[name=category]");
    select.replaceChildren(...cats.map((c) => new Option(Hub.lang === "en" && c.name_en ? c.name_en : c.name, c.id)));
  }
  await listMine();
}

// A phone's photo (often 4-12 MB) made small here: its long side to LONG_SIDE px, as JPEG.
const shrink = (file) => Hub.shrinkPhoto(file, { longSide: LONG_SIDE, maxBytes: MAX_PHOTO, bad: Hub.t("photo_bad"), big: Hub.t("photo_big") });

async function submit(ev) {
  ev.preventDefault();
  const button = $("#report button[type=submit]");
  if (button.disabled) return; // a second tap while the first is on its way
  $("#report-error").textContent = "";
  const f = new FormData(ev.target);
  button.disabled = true;
  button.textContent = Hub.t("sending");
  try {
    const photo = f.get("photo");
    const body = {
      description: f.get("description"),
      priority: f.get("priority") || null,
      photo: await shrink(photo && photo.size ? photo : null),
      source: assetId ? "qr" : "staff",
    };
    if (assetId) body.asset_id = assetId;
    else { body.category = f.get("category"); body.location = f.get("location"); }
    const t = await Hub.post("/api/tickets", body);
    $("#ticket-no").textContent = `#${t.id}`;
    $("#ticket-state").textContent = Hub.t("status")[t.status] + (t.merged ? ` ${Hub.t("merged")}` : "");
    $("#ticket-who").textContent = t.assignee ? `${Hub.t("assigned_to")} ${Hub.named(t.assignee)}` : Hub.t("queued");
    show("done");
    ev.target.reset();
    await listMine();
  } catch (err) {
    $("#report-error").textContent = String(err.message || err);
  } finally {
    button.disabled = false;
    button.textContent = Hub.t("submit");
  }
}

function rating(t) {
  const stars = el("select", { name: "rating" },
    ...[5, 4, 3, 2, 1].map((n) => el("option", { value: String(n) }, `${n} ${Hub.t("stars")}`)));
  stars.setAttribute("aria-label", Hub.t("rating"));
  const comment = el("input", { name: "comment", maxLength: 2000, placeholder: Hub.t("comment"), ariaLabel: Hub.t("comment") });
  const send = el("button", { type: "button" }, Hub.t("rate"));
  send.onclick = () => act(`/api/tickets/${t.id}/rate`, { rating: Number(stars.value), comment: comment.value });
  return el("div", { className: "row-actions" }, stars, comment, send);
}

async function act(path, body) {
  $("#mine-error").textContent = "";
  try { await Hub.post(path, body); await listMine(); } catch (err) { $("#mine-error").textContent = String(err.message || err); }
}

async function listMine() {
  const mine = await Hub.api("/api/tickets?mine=true&limit=10");
  $("#my-list").replaceChildren(...mine.map((t) => {
    const li = el("li", { id: `my-${t.id}` }, `#${t.id} ${t.title} · ${Hub.t("status")[t.status] || t.status}`);
    if (t.status === "resolved") {
      const ok = el("button", { type: "button" }, Hub.t("confirm"));
      ok.onclick = () => act(`/api/tickets/${t.id}/confirm`, {});
      li.append(el("div", { className: "row-actions" }, ok));
    }
    if (["resolved", "closed"].includes(t.status) && t.reporter && t.rating == null) li.append(rating(t));
    if (t.rating != null) li.append(` · ${Hub.t("rated")} ${t.rating} ${Hub.t("stars")}`);
    return li;
  }));
  $("#mine").hidden = false;
  const wanted = Hub.fragment.get("ticket"); // the home's and the inbox's links: /report.html#ticket=12
  const item = wanted && document.getElementById(`my-${wanted}`);
  if (item) { item.classList.add("wanted"); item.scrollIntoView({ block: "center" }); }
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => ready().catch(() => {})));
$("#report").addEventListener("submit", submit);
$("#again").addEventListener("click", () => show("report"));
if (!Hub.token()) Hub.signIn(); else ready().catch((err) => { $("#report-error").textContent = String(err.message || err); });
