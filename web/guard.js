// The guard's phone: the tour now on each of his routes (the next checkpoint and its deadline
// first, what is done and how it was proven), and the scan button for a checkpoint's code
// (the camera, the phone's own camera app opening this page with #scan=..., or the digits).
"use strict";

Hub.translate({
  "zh-CN": { title: "我的巡更", scan: "扫码签到", stop: "停止扫码", send: "签到", code: "或输入签到码",
    next: "下一点", due: "截止", done: "已巡", no_tour: "现在没有巡更任务", late: "迟到", missed: "漏巡",
    pending: "待巡", accepted: "已签到", no_camera: "无法打开摄像头：请用手机相机扫码或输入签到码",
    proof: { ble: "蓝牙", gps: "定位", code: "扫码" }, not_guard: "这个账号不是保安的账号", nfc: "NFC 签到", upcoming: "下一轮", hold_nfc: "请将手机靠近巡更点的 NFC 标签",
    refused: { expired: "签到码已过期（照片无效），请扫描现场的码", replayed: "这个码已经用过，请等下一个码",
      wrong: "签到码不对", malformed: "这不是巡更码", unknown_checkpoint: "未知巡更点" } },
  en: { title: "My patrol", scan: "Scan a checkpoint", stop: "Stop scanning", send: "Check in", code: "or type the code",
    next: "Next", due: "due", done: "done", no_tour: "No tour now", late: "late", missed: "missed",
    pending: "to do", accepted: "Checked in", no_camera: "No camera here: scan with the phone's camera app or type the code",
    proof: { ble: "BLE", gps: "GPS", code: "code" }, not_guard: "This account is not a guard's", nfc: "Check in by NFC", upcoming: "next tour", hold_nfc: "Hold the phone to the checkpoint's NFC tag",
    refused: { expired: "This code has expired (a photo will not do): scan the one at the checkpoint",
      replayed: "This code was used already: wait for the next one", wrong: "Wrong code",
      malformed: "Not a checkpoint code", unknown_checkpoint: "Unknown checkpoint" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
let data = null;
let scanning = null; // the camera stream while scanning

function position() {
  // the phone's fix goes with the scan when it has one quickly (a checkpoint may want both)
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy }),
      () => resolve(null), { timeout: 3000, maximumAge: 10000, enableHighAccuracy: true });
  });
}

async function send(payload, source) {
  $("#error").textContent = "";
  $("#result").textContent = "";
  const fix = await position();
  try {
    const r = await Hub.post("/api/patrol/scans", { payload, source, ...(fix || {}) });
    $("#result").textContent = `✓ ${Hub.t("accepted")}${Hub.lang === "en" ? ": " : "："}${Hub.named(r.checkpoint)}`;
    $("#result").className = "big good";
  } catch (err) {
    const reason = err.body && err.body.reason;
    $("#error").textContent = (reason && Hub.t("refused")[reason]) || String(err.message || err);
  }
  setTimeout(load, 800); // the rule judges the visit behind the pipeline
}

function stopCamera() {
  if (scanning) scanning.getTracks().forEach((t) => t.stop());
  scanning = null;
  $("#camera").hidden = true;
  $("#scan").textContent = Hub.t("scan");
}

async function startCamera() {
  if (scanning) return stopCamera();
  try {
    scanning = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (_) {
    $("#error").textContent = Hub.t("no_camera");
    return;
  }
  const video = $("#camera");
  video.srcObject = scanning;
  video.hidden = false;
  await video.play();
  $("#scan").textContent = Hub.t("stop");
  const canvas = document.createElement("canvas");
  const look = () => {
    if (!scanning) return;
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0);
      const found = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (found && found.data) {
        stopCamera();
        send(found.data, "qr");
        return;
      }
    }
    requestAnimationFrame(look);
  };
  look();
}

function checkpointRow(c) {
  const state = c.visited_at ? "done" : c.missed ? "missed" : "pending";
  const how = c.proof.map((p) => Hub.t("proof")[p] || p).join("+");
  return el("li", { className: `cp ${state}${c.late ? " late" : ""}`, id: `cp-${c.id}` },
    el("b", {}, Hub.lang === "en" ? c.name_en : c.name), " ",
    c.visited_at ? `✓ ${Hub.time(c.visited_at)} ${how}${c.late ? ` · ${Hub.t("late")}` : ""}`
      : `${Hub.t(state)} · ${Hub.t("due")} ${Hub.time(c.deadline)}`);
}

function render() {
  const routes = data.routes.map((r) => {
    const name = Hub.lang === "en" ? r.name_en : r.name;
    if (!r.open) {
      const upcoming = r.upcoming ? ` · ${Hub.t("upcoming")} ${Hub.datetime(r.upcoming)}` : "";
      return el("section", { className: "card", id: `route-${r.route}` }, el("h2", {}, name),
        el("p", { className: "muted" }, Hub.t("no_tour") + upcoming));
    }
    const next = r.next
      ? el("p", { className: "big next" }, `${Hub.t("next")}${Hub.lang === "en" ? ": " : "："}`, el("b", {}, Hub.lang === "en" ? r.next.name_en : r.next.name),
        ` · ${Hub.t("due")} ${Hub.time(r.next.deadline)}`)
      : el("p", { className: "good" }, `${Hub.t("done")} ${r.done}/${r.total}`);
    return el("section", { className: "card", id: `route-${r.route}` },
      el("h2", {}, `${name} · ${Hub.t("done")} ${r.done}/${r.total}`), next,
      el("ol", { className: "checkpoints" }, ...r.checkpoints.map(checkpointRow)));
  });
  $("#routes").replaceChildren(...routes);
  const open = data.routes.flatMap((r) => r.checkpoints.filter((c) => !c.visited_at));
  const chosen = $("#typed-cp").value;
  $("#typed-cp").replaceChildren(...open.map((c) => el("option", { value: c.id }, Hub.lang === "en" ? c.name_en : c.name)));
  if (chosen) $("#typed-cp").value = chosen;
}

async function load() {
  try {
    data = await Hub.api("/api/patrol/me");
    if (!data.guard) {
      $("#error").textContent = Hub.t("not_guard");
      document.body.dataset.ready = "1";
      return;
    }
    $("#who").textContent = data.guard.name;
    render();
    document.body.dataset.ready = "1";
  } catch (err) {
    $("#error").textContent = String(err.message || err);
  }
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => data && render()));
$("#scan").addEventListener("click", startCamera);

// A checkpoint's NFC tag read in the page (Web NFC, Android's Chrome); elsewhere the phone
// opens the tag's link by itself, which checks in the same way.
if ("NDEFReader" in window) {
  $("#nfc").hidden = false;
  $("#nfc").addEventListener("click", async () => {
    try {
      const reader = new NDEFReader();
      await reader.scan();
      $("#result").textContent = Hub.t("hold_nfc");
      reader.onreading = (event) => {
        const url = event.message.records.find((r) => r.recordType === "url");
        if (url) send(new TextDecoder().decode(url.data), "nfc");
      };
    } catch (err) {
      $("#error").textContent = String(err.message || err);
    }
  });
}
$("#typed").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("#typed-code").value.trim();
  if (!code || !$("#typed-cp").value) return;
  $("#typed-code").value = "";
  send(`DYP1:${$("#typed-cp").value}:${code}`, "typed");
});

(async () => {
  // opened by the phone's camera app from a checkpoint's QR: check in at once (kept across a
  // sign-in, which the fragment would not survive)
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("scan");
  if (fromLink) {
    sessionStorage.setItem("patrol.scan", fromLink);
    history.replaceState(null, "", location.pathname);
  }
  await Hub.catalogue();
  await load();
  const scanned = sessionStorage.getItem("patrol.scan");
  if (scanned && data) {
    sessionStorage.removeItem("patrol.scan");
    await send(scanned, "qr");
  }
  setInterval(load, 15000);
})();
