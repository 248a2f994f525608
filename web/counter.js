// The canteen's counter: an order's QR code read by the camera (or its code typed, or the
// person found by name) is served once; a second scan says who collected it and when.
"use strict";

Hub.translate({
  "zh-CN": { title: "取餐窗口", canteen: "食堂", meal: "餐次", ready: "请出示取餐码", scan: "扫码取餐", code: "取餐码",
    serve: "取餐", name: "姓名", find: "按姓名查找", served: "已取餐", hand: "请交付" },
  en: { title: "Counter", canteen: "Canteen", meal: "Meal", ready: "Show your order's code", scan: "Scan", code: "Code",
    serve: "Serve", name: "Name", find: "Find by name", served: "Served", hand: "Hand over" },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let canteens = [];
let camera = null;
const canteen = () => canteens.find((c) => c.id === $("#canteen").value) || canteens[0];
const local = (x) => (Hub.lang === "en" && x.name_en) || x.name;
const pad = (n) => String(n).padStart(2, "0");
const today = () => { const d = new Date(); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; };

function show(ok, title, lines) {
  $("#result").className = `card ${ok ? "good" : "bad"}`;
  $("#result").replaceChildren(el("p", { className: "big" }, ok ? `✔ ${title}` : `✘ ${title}`), ...(lines || []).map((l) => el("p", {}, l)));
}

async function serve(body) {
  try {
    const o = await Hub.post(`/api/canteens/${canteen().id}/pickups`, body);
    show(true, `${Hub.t("served")} · ${o.username}`, o.lines.map((l) => `${Hub.t("hand")}：${l.name} ×${l.portions}`));
    if (navigator.vibrate) navigator.vibrate(80);
  } catch (err) {
    show(false, String(err.message || err));
  }
}

// The current meal: the first whose serving hours have not ended.
function pickMeal() {
  const now = new Date();
  const hhmm = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  const meals = canteen().meals;
  $("#meal").replaceChildren(...meals.map((m) => el("option", { value: m.id }, local(m))));
  const current = meals.find((m) => m.serve.split("-")[1] >= hhmm) || meals[0];
  $("#meal").value = current.id;
}

async function startCamera() {
  if (camera) return;
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (err) { show(false, String(err.message || err)); return; }
  const video = $("#camera");
  video.srcObject = camera;
  video.hidden = false;
  await video.play();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let last = "";
  const look = () => {
    if (!camera) return;
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const found = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (found && found.data !== last) { // one serve per code held up, not one per frame
        last = found.data;
        serve({ code: found.data });
        setTimeout(() => { last = ""; }, 4000);
      }
    }
    requestAnimationFrame(look);
  };
  look();
}

$("#scan").addEventListener("click", startCamera);
$("#typed").addEventListener("submit", (ev) => { ev.preventDefault(); serve({ code: $("#code").value }); $("#code").value = ""; });
$("#search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const found = await Hub.api(`/api/canteens/${canteen().id}/orders?day=${today()}&meal=${$("#meal").value}&q=${encodeURIComponent($("#q").value)}`);
    $("#found").replaceChildren(...found.map((o) => {
      const b = el("button", { type: "button" }, Hub.t("serve"));
      b.onclick = () => serve({ order_id: o.id });
      return el("li", { id: `found-${o.id}` }, el("b", {}, o.username), " ",
        el("span", { className: "meta" }, o.lines.map((l) => `${l.name} ×${l.portions}`).join("，"), ` · ${o.status}`), " ", o.status === "ordered" ? b : "");
    }));
  } catch (err) { show(false, String(err.message || err)); }
});
$("#canteen").addEventListener("change", pickMeal);
$("#lang").addEventListener("click", () => Hub.toggleLanguage());
(async () => {
  try {
    canteens = await Hub.api("/api/canteens");
    $("#canteen").replaceChildren(...canteens.map((c) => el("option", { value: c.id }, local(c))));
    pickMeal();
    document.body.dataset.ready = "1";
  } catch (err) { show(false, String(err.message || err)); }
})();
