// The canteen for staff (phone first): the week's menu by day and meal with what is left of
// each dish, an order per meal (portions with − and +, until the meal's cut-off), and one's
// orders with the QR code shown at the counter.
"use strict";

Hub.translate({
  "zh-CN": { title: "食堂", mine: "我的订餐", canteen: "食堂", this_week: "本周", next_week: "下周",
    order: "下单", change: "修改订单", cancel: "取消订餐", closed: "已截止", until: "截止", left: "剩",
    of: "/", unlimited: "不限量", sold_out: "已售罄", empty: "这天还没有菜单", none: "没有订餐",
    ordered: "已下单", cancelled: "已取消", show_code: "取餐时出示此码", total: "合计",
    served: "已取餐", no_show: "未取餐", portions: "份", quota: "每人限 {n} 份", allergens: "含",
    weekday: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    category: { staple: "主食", dish: "菜品", soup: "汤", noodles: "面食", pastry: "面点", fruit: "水果",
      drink: "饮品", takeaway: "外卖", other: "其他" } },
  en: { title: "Canteen", mine: "My meals", canteen: "Canteen", this_week: "This week", next_week: "Next week",
    order: "Order", change: "Change my order", cancel: "Cancel", closed: "closed", until: "order by", left: "left",
    of: " of ", unlimited: "no limit", sold_out: "sold out", empty: "No menu for this day yet", none: "No meals ordered",
    ordered: "Ordered", cancelled: "Cancelled", show_code: "Show this at the counter", total: "Total",
    served: "collected", no_show: "not collected", portions: "", quota: "at most {n} a person", allergens: "contains",
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    category: { staple: "staple", dish: "dish", soup: "soup", noodles: "noodles", pastry: "pastry", fruit: "fruit",
      drink: "drink", takeaway: "take-away", other: "other" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let canteens = [];
let week = 0; // 0: this week, 1: next
let day = null;
let menu = [];
let mine = [];

function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }
const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
function isoWeek(offset) {
  const d = new Date();
  d.setDate(d.getDate() + 7 * offset);
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
  const n = Math.ceil(((t - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86400000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(n)}`;
}
const canteen = () => canteens.find((c) => c.id === $("#canteen").value) || canteens[0];
const local = (x) => (Hub.lang === "en" && x.name_en) || x.name;

function cutoffOf(meal, d) {
  const on = new Date(`${d}T${meal.order_by}:00`);
  if (meal.day_before) on.setDate(on.getDate() - 1);
  return on;
}

function dayTabs() {
  const days = [...new Set(menu.map((i) => i.day))].sort();
  if (!day || !days.includes(day)) day = days.find((d) => d >= iso(new Date())) || days[0] || null;
  $("#days").replaceChildren(...days.map((d) => {
    const date = new Date(`${d}T12:00:00`);
    const b = el("button", { type: "button", className: d === day ? "" : "quiet", id: `day-${d}` },
      `${Hub.t("weekday")[date.getDay()]} ${d.slice(5)}`);
    if (d === day) b.setAttribute("aria-current", "date");
    b.onclick = () => { day = d; render(); };
    return b;
  }));
}

function stepper(item, count) {
  const value = el("output", { className: "count", id: `count-${item.id}` }, String(count));
  value.setAttribute("aria-live", "polite");
  const minus = el("button", { type: "button", className: "quiet step" }, "−");
  const plus = el("button", { type: "button", className: "quiet step" }, "+");
  minus.setAttribute("aria-label", `${local(item)} −1`);
  plus.setAttribute("aria-label", `${local(item)} +1`);
  const set = (n) => { value.textContent = String(Math.max(0, n)); };
  minus.onclick = () => set(Number(value.textContent) - 1);
  plus.onclick = () => set(Number(value.textContent) + 1);
  const box = el("span", { className: "stepper" }, minus, value, plus);
  box.dataset.item = item.id;
  return box;
}

function dish(item, count, open) {
  const left = item.portions === null ? Hub.t("unlimited") : `${Hub.t("left")} ${item.left}${Hub.t("of")}${item.portions}`;
  const off = item.status === "sold_out";
  const li = el("li", { id: `item-${item.id}`, className: off ? "off" : "" },
    el("b", {}, local(item)), " ",
    el("span", { className: "meta" }, `${Hub.t("category")[item.category] || item.category} · ¥${item.price.toFixed(2)} · `,
      off ? el("strong", {}, Hub.t("sold_out")) : left,
      item.allergens.length ? ` · ${Hub.t("allergens")} ${item.allergens.join("、")}` : ""));
  if (item.photo) {
    const img = el("img", { className: "dish-photo", alt: local(item), width: 56, height: 56 });
    li.prepend(img);
    Hub.imageUrl(`/api/canteen/items/${item.id}/photo`).then((url) => { img.src = url; }).catch(() => img.remove());
  }
  if (open && (!off || count)) li.append(stepper(item, count));
  return li;
}

function render() {
  dayTabs();
  const c = canteen();
  const boxes = [];
  for (const meal of c.meals) {
    const items = menu.filter((i) => i.day === day && i.meal === meal.id);
    if (!items.length) continue;
    const order = mine.find((o) => o.day === day && o.meal === meal.id && o.canteen === c.id && o.status === "ordered");
    const counts = Object.fromEntries((order ? order.lines : []).map((l) => [l.item_id, l.portions]));
    const cutoff = cutoffOf(meal, day);
    const open = new Date() < cutoff;
    const head = el("h2", {}, local(meal), " ", el("span", { className: "meta" },
      open ? `${Hub.t("until")} ${Hub.datetime(cutoff.toISOString())}` : Hub.t("closed"),
      meal.per_person ? ` · ${Hub.t("quota").replace("{n}", meal.per_person)}` : ""));
    const list = el("ul", { className: "dishes" }, ...items.map((i) => dish(i, counts[i.id] || 0, open)));
    const section = el("section", { className: "card meal", id: `meal-${meal.id}` }, head, list);
    if (open) {
      const send = el("button", { type: "button" }, Hub.t(order ? "change" : "order"));
      send.onclick = () => place(meal, section);
      const row = el("div", { className: "row-actions" }, send);
      if (order) {
        const drop = el("button", { type: "button", className: "quiet" }, Hub.t("cancel"));
        drop.onclick = () => cancel(order);
        row.append(drop);
      }
      section.append(row);
    }
    boxes.push(section);
  }
  $("#meals").replaceChildren(...(boxes.length ? boxes : [el("p", { className: "muted" }, Hub.t("empty"))]));
  renderMine();
  document.body.dataset.ready = "1";
}

function renderMine() {
  $("#mine-box").hidden = !mine.length;
  $("#mine").replaceChildren(...mine.map((o) => {
    const meal = (canteen().meals.find((m) => m.id === o.meal) || { name: o.meal });
    const li = el("li", { id: `order-${o.id}` },
      el("b", {}, `${o.day.slice(5)} ${local(meal)} · ${Hub.t(o.status) || o.status}`),
      el("div", { className: "meta" }, o.lines.map((l) => `${(Hub.lang === "en" && l.name_en) || l.name} ×${l.portions}`).join("，"),
        ` · ${Hub.t("total")} ¥${o.total.toFixed(2)}`));
    if (o.qr) {
      li.append(el("div", { className: "pickup" }, el("img", { src: o.qr, alt: `${Hub.t("show_code")} ${o.code}`, width: 180, className: "pass-qr" }),
        el("div", { className: "code" }, o.code.replace(/(.{5})/, "$1-")), el("div", { className: "meta" }, Hub.t("show_code"))));
    }
    return li;
  }));
}

async function place(meal, section) {
  const lines = [...section.querySelectorAll(".stepper")].map((s) => ({ item_id: Number(s.dataset.item), portions: Number(s.querySelector("output").textContent) }))
    .filter((l) => l.portions > 0);
  try {
    await Hub.api(`/api/canteens/${canteen().id}/orders/${day}/${meal.id}`, { method: "PUT", body: JSON.stringify({ lines }) });
    say(Hub.t("ordered"), true);
    await load();
  } catch (err) { say(String(err.message || err), false); }
}

async function cancel(order) {
  try {
    await Hub.api(`/api/canteen/orders/${order.id}`, { method: "DELETE" });
    say(Hub.t("cancelled"), true);
    await load();
  } catch (err) { say(String(err.message || err), false); }
}

async function load() {
  [menu, mine] = await Promise.all([
    Hub.api(`/api/canteens/${canteen().id}/menu?week=${isoWeek(week)}`), Hub.api("/api/canteen/orders/mine")]);
  render();
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(render));
$("#prev").addEventListener("click", () => { week = 0; day = null; load(); });
$("#next").addEventListener("click", () => { week = 1; day = null; load(); });
$("#canteen").addEventListener("change", () => { day = null; load(); });
(async () => {
  try {
    await Hub.catalogue();
    canteens = await Hub.api("/api/canteens");
    $("#canteen").replaceChildren(...canteens.map((c) => el("option", { value: c.id }, local(c))));
    if (!canteens.length) { say(Hub.t("empty"), false); return; }
    await load();
    if (!menu.some((i) => i.day >= iso(new Date()))) { week = 1; await load(); }
  } catch (err) { say(String(err.message || err), false); }
})();
