// The canteen's back office: publish the week's dishes (or copy last week's), follow the live
// counts, sell out or withdraw a dish, print tomorrow's production sheet, read which dishes
// are wanted and wasted, and export the month's statement.
"use strict";

Hub.translate({
  "zh-CN": { title: "食堂后厨", canteen: "食堂", week: "周", copy: "把上周菜单复制到这一周", publish: "发布菜品",
    day: "日期", meal: "餐次", name: "菜名", category: "类别", price: "价格（元）", portions: "份数（空：不限）",
    allergens: "过敏原（逗号分隔）", add: "发布", menu: "本周菜单与实时份数", ordered: "已订", served: "已取", left: "剩余",
    state: "状态", production: "生产单", popularity: "受欢迎程度", from: "从", to: "至", show: "查看",
    offered: "供应次数", no_show: "未取", no_show_rate: "未取率", waste_rate: "浪费率", statement: "月度结算",
    month: "月份", by_person: "按人（Excel）", by_unit: "按单位（Excel）", sold_out: "售罄", withdraw: "撤下",
    back_on: "恢复供应", published: "已发布", photo: "上传照片", photo_again: "更换照片", photo_saved: "照片已保存",
    photo_bad: "这不是一张照片", photo_big: "照片太大", made: "实际制作", made_saved: "已记录制作份数", copied: "已复制 {n} 道菜", orders: "单", make: "制作",
    status: { on: "供应中", sold_out: "已售罄", withdrawn: "已撤下" },
    categories: { staple: "主食", dish: "菜品", soup: "汤", noodles: "面食", pastry: "面点", fruit: "水果",
      drink: "饮品", takeaway: "外卖", other: "其他" } },
  en: { title: "Canteen kitchen", canteen: "Canteen", week: "Week", copy: "Copy last week's menu to this week",
    publish: "Publish a dish", day: "Day", meal: "Meal", name: "Dish", category: "Category", price: "Price (yuan)",
    portions: "Portions (empty: no limit)", allergens: "Allergens (comma separated)", add: "Publish",
    menu: "This week's menu and live counts", ordered: "Ordered", served: "Collected", left: "Left", state: "State",
    production: "Production sheet", popularity: "Popularity", from: "From", to: "To", show: "Show",
    offered: "Offered", no_show: "Not collected", no_show_rate: "No-show rate", waste_rate: "Waste rate",
    statement: "Monthly statement", month: "Month", by_person: "Per person (Excel)", by_unit: "Per unit (Excel)",
    sold_out: "Sold out", withdraw: "Withdraw", back_on: "Back on", published: "Published", photo: "Add a photo",
    photo_again: "New photo", photo_saved: "Photo saved", photo_bad: "Not a photo", photo_big: "The photo is too large",
    made: "Cooked", made_saved: "Portions cooked recorded", copied: "{n} dishes copied",
    orders: "orders", make: "make", status: { on: "on", sold_out: "sold out", withdrawn: "withdrawn" },
    categories: { staple: "staple", dish: "dish", soup: "soup", noodles: "noodles", pastry: "pastry", fruit: "fruit",
      drink: "drink", takeaway: "take-away", other: "other" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let canteens = [];
const canteen = () => canteens.find((c) => c.id === $("#canteen").value) || canteens[0];
const local = (x) => (Hub.lang === "en" && x.name_en) || x.name;
function say(text, ok) { $("#message").textContent = text; $("#message").className = ok ? "good" : "bad"; }
const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
function weekOf(d) {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
  return `${t.getUTCFullYear()}-W${pad(Math.ceil(((t - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86400000 + 1) / 7))}`;
}
function previousWeek(week) {
  const [y, w] = week.split("-W").map(Number);
  const jan4 = new Date(Date.UTC(y, 0, 4));
  const monday = new Date(jan4.getTime() - ((jan4.getUTCDay() || 7) - 1) * 86400000 + (w - 1) * 7 * 86400000);
  return weekOf(new Date(monday.getTime() - 7 * 86400000 + 12 * 3600000));
}
async function act(promise, ok) {
  try { await promise; if (ok) say(ok, true); await loadMenu(); } catch (err) { say(String(err.message || err), false); }
}

function row(i) {
  const meal = canteen().meals.find((m) => m.id === i.meal) || { name: i.meal };
  const actions = el("td", { className: "row-actions" });
  const to = (status, label, quiet) => {
    const b = el("button", { type: "button", className: quiet ? "quiet" : "" }, Hub.t(label));
    b.onclick = () => act(Hub.post(`/api/canteen/items/${i.id}/status`, { status }));
    actions.append(b);
  };
  const file = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", className: "sr-only", id: `photo-${i.id}` });
  file.onchange = async () => {
    try {
      const photo = await Hub.shrinkPhoto(file.files[0], { bad: Hub.t("photo_bad"), big: Hub.t("photo_big") });
      await act(Hub.api(`/api/canteen/items/${i.id}/photo`, { method: "PUT", body: JSON.stringify({ photo }) }), Hub.t("photo_saved"));
    } catch (err) { say(String(err.message || err), false); }
  };
  actions.append(el("label", { className: "button-like quiet", htmlFor: `photo-${i.id}` }, Hub.t(i.photo ? "photo_again" : "photo")), file);
  if (i.status === "on") { to("sold_out", "sold_out", true); to("withdrawn", "withdraw", true); }
  else if (i.status === "sold_out") { to("on", "back_on", true); to("withdrawn", "withdraw", true); }
  // what was cooked, said after the meal: the waste rate is what of it was not collected
  const made = el("input", { type: "number", min: 0, step: 1, name: "made", value: i.made ?? "", ariaLabel: `${local(i)} ${Hub.t("made")}`, className: "made" });
  made.onchange = () => made.value !== "" && act(Hub.api(`/api/canteen/items/${i.id}`, { method: "PATCH", body: JSON.stringify({ made: Number(made.value) }) }), Hub.t("made_saved"));
  return el("tr", { id: `row-${i.id}` }, el("td", {}, i.day.slice(5)), el("td", {}, local(meal)), el("td", {}, local(i)),
    el("td", {}, `¥${i.price.toFixed(2)}`), el("td", {}, i.ordered), el("td", {}, i.served), el("td", {}, made),
    el("td", {}, i.portions === null ? "∞" : i.left), el("td", {}, Hub.t("status")[i.status] || i.status), actions);
}

async function loadMenu() {
  const items = await Hub.api(`/api/canteens/${canteen().id}/menu?week=${$("#week").value}`);
  $("#week-menu tbody").replaceChildren(...items.map(row));
  await loadProduction();
  document.body.dataset.ready = "1";
}

async function loadProduction() {
  const sheet = await Hub.api(`/api/canteens/${canteen().id}/production?day=${$("#prod-day").value}`);
  $("#production").replaceChildren(...sheet.meals.map((m) => el("div", { id: `prod-${m.meal}` },
    el("h3", {}, `${local(m)} · ${m.orders} ${Hub.t("orders")}`),
    el("ul", {}, ...m.items.map((i) => el("li", {}, `${i.name}: ${Hub.t("make")} ${i.make}（${Hub.t("ordered")} ${i.ordered}）`))))));
}

async function loadPopularity() {
  const rows = await Hub.api(`/api/canteens/${canteen().id}/popularity?first=${$("#pop-from").value}&last=${$("#pop-to").value}`);
  const pct = (v) => (v === null ? "–" : `${Math.round(v * 100)}%`);
  $("#popularity tbody").replaceChildren(...rows.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, r.offered),
    el("td", {}, r.ordered), el("td", {}, r.served), el("td", {}, r.no_show), el("td", {}, pct(r.no_show_rate)), el("td", {}, pct(r.waste_rate)))));
}

function fillForm() {
  const c = canteen();
  const f = $("#publish").elements;
  f.meal.replaceChildren(...c.meals.map((m) => el("option", { value: m.id }, local(m))));
  f.category.replaceChildren(...Object.entries(Hub.t("categories")).map(([k, v]) => el("option", { value: k }, v)));
}

$("#publish").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target.elements;
  const item = { day: f.day.value, meal: f.meal.value, name: f.name.value, category: f.category.value,
    price: Number(f.price.value), portions: f.portions.value ? Number(f.portions.value) : null,
    allergens: f.allergens.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean) };
  await act(Hub.post(`/api/canteens/${canteen().id}/menu`, { items: [item] }), Hub.t("published"));
  f.name.value = "";
  f.name.focus();
});
$("#copy").addEventListener("click", async () => {
  try {
    const week = $("#week").value;
    const copied = await Hub.post(`/api/canteens/${canteen().id}/menu/copy`, { source: previousWeek(week), target: week });
    say(Hub.t("copied").replace("{n}", copied.length), true);
    await loadMenu();
  } catch (err) { say(String(err.message || err), false); }
});
$("#week").addEventListener("change", () => loadMenu().catch((err) => say(String(err.message || err), false)));
$("#canteen").addEventListener("change", () => { fillForm(); loadMenu(); });
$("#prod-day").addEventListener("change", () => loadProduction().catch((err) => say(String(err.message || err), false)));
$("#prod-pdf").addEventListener("click", () => Hub.download(`/api/canteens/${canteen().id}/production?day=${$("#prod-day").value}&format=pdf`,
  `production-${$("#prod-day").value}.pdf`).catch((err) => say(String(err.message || err), false)));
$("#prod-xlsx").addEventListener("click", () => Hub.download(`/api/canteens/${canteen().id}/production?day=${$("#prod-day").value}&format=xlsx`,
  `production-${$("#prod-day").value}.xlsx`).catch((err) => say(String(err.message || err), false)));
$("#pop-show").addEventListener("click", () => loadPopularity().catch((err) => say(String(err.message || err), false)));
for (const by of ["person", "unit"]) {
  $(`#st-${by}`).addEventListener("click", () => Hub.download(`/api/canteen/statements/${$("#month").value}?by=${by}&format=xlsx`,
    `canteen-${$("#month").value}-${by}.xlsx`).catch((err) => say(String(err.message || err), false)));
}
$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => { fillForm(); return loadMenu(); }));

(async () => {
  const now = new Date();
  const tomorrow = new Date(now.getTime() + 86400000);
  $("#week").value = weekOf(now);
  $("#prod-day").value = iso(tomorrow);
  $("#publish").elements.day.value = iso(tomorrow);
  $("#pop-to").value = iso(now);
  $("#pop-from").value = iso(new Date(now.getTime() - 28 * 86400000));
  $("#month").value = `${now.getFullYear()}-${pad(now.getMonth() + 1)}`;
  try {
    canteens = await Hub.api("/api/canteens");
    $("#canteen").replaceChildren(...canteens.map((c) => el("option", { value: c.id }, local(c))));
    fillForm();
    await loadMenu();
    await loadPopularity();
    setInterval(() => { if (!document.hidden) loadMenu().catch(() => {}); }, 10000); // live counts
  } catch (err) { say(String(err.message || err), false); }
})();
