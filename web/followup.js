// followup.html: an anonymous writer follows a suggestion or complaint with its code alone —
// no sign-in, nothing here knows who they are. The code goes in a POST body (never in the
// address, which would reach logs and the history); the page reads the answer, adds to the
// item and rates the answer.
"use strict";

Hub.translate({
  "zh-CN": { title: "凭查询码查看答复", code: "查询码", look: "查看", back: "← 换一个查询码", hint: "查询码是匿名提交时显示的 16 位字母数字。本页不需要登录，也不会记录您是谁。",
    wait: "尝试次数过多，请 {s} 秒后再试",
    error: { "feedback.code": "没有这个查询码，请核对", "feedback.rated": "已评价过", "feedback.not_answered": "答复后才能评价",
      "feedback.closed": "此事项已办结，如有新情况请另提一条", "feedback.empty": "请写点内容" } },
  en: { title: "Follow up with your code", code: "Follow-up code", look: "Look", back: "← Another code", hint: "The 16 letters and digits shown when you wrote anonymously. No sign-in here, and nothing records who you are.",
    wait: "Too many attempts: try again in {s} s",
    error: { "feedback.code": "No item has this code: check it", "feedback.rated": "It is rated already",
      "feedback.not_answered": "Rate it once it is answered", "feedback.closed": "This item is closed: write a new one if need be",
      "feedback.empty": "Write something" } },
});

const $ = (s) => document.querySelector(s);
let code = "";

// A request by code: JSON in, JSON out; on error what went wrong in the page's language (the
// catalogue needs a sign-in, so the few refusals this page meets are in its own words).
async function call(path, body) {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code, ...body }) });
  if (res.status === 429) throw new Error(Hub.t("wait").replace("{s}", res.headers.get("retry-after") || "60"));
  const out = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((Hub.t("error") || {})[out.code] || out.detail || `HTTP ${res.status}`);
  return out;
}

async function photo(n) {
  const res = await fetch(`/api/feedback/followup/photos/${n}`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

function show(f) {
  $("#ask").hidden = true;
  FeedbackView.show(f, {
    photo,
    rate: (rating, note) => call("/api/feedback/followup/rate", { rating, note }),
    add: (text) => call("/api/feedback/followup/add", { text }),
  });
}

async function look() {
  $("#error").textContent = "";
  try { show(await call("/api/feedback/followup", {})); } catch (err) { $("#error").textContent = String(err.message || err); }
}

$("#ask").addEventListener("submit", (e) => {
  e.preventDefault();
  code = $("#code").value.trim();
  look();
});
$("#back").addEventListener("click", () => {
  code = "";
  $("#item").hidden = true;
  $("#ask").reset();
  $("#ask").hidden = false;
});
$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => { if (code) look(); }));
FeedbackView.stars();
document.body.dataset.ready = "1";
