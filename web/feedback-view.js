// One suggestion or complaint as its writer and its handlers see it: what and where, its
// state and targets, every change with its note, the answer, the rating (and the form to give
// it). Shared by feedback.html (signed in) and followup.html (an anonymous writer, by code):
// `FeedbackView.show(item, { photo, rate, add })` fills #item; everything is set as text.
"use strict";

Hub.translate({
  "zh-CN": { kind: { suggestion: "建议", complaint: "投诉" },
    status: { received: "已收到", accepted: "已受理", in_hand: "办理中", answered: "已答复", closed: "已办结", declined: "不予受理" },
    action: { received: "提交", accept: "受理", start: "开始办理", answer: "答复", close: "办结", decline: "不予受理",
      note: "内部备注", added: "补充", rated: "评价", escalated: "督办", reminded: "提醒", published: "上公开栏", unpublished: "撤下公开栏" },
    writer: "提出人", anonymous: "匿名", hub: "系统", handled_by: "办理单位", answer_due: "答复时限", close_due: "办结时限",
    late: "已超时", reply: "答复", reason: "理由", rate: "评价答复", rate_send: "提交评价", rated: "评价 {n}/5",
    add: "补充说明", add_send: "提交补充", stars: "{n} 分", photo_n: "照片 {n}", place: "地点", history: "办理经过",
    rate_note: "说两句（可空）" },
  en: { kind: { suggestion: "Suggestion", complaint: "Complaint" },
    status: { received: "received", accepted: "accepted", in_hand: "in hand", answered: "answered", closed: "closed", declined: "declined" },
    action: { received: "written", accept: "accepted", start: "in hand", answer: "answered", close: "closed", decline: "declined",
      note: "internal note", added: "added", rated: "rated", escalated: "escalated", reminded: "reminder", published: "on the board", unpublished: "off the board" },
    writer: "Writer", anonymous: "anonymous", hub: "the hub", handled_by: "Answered by", answer_due: "First answer by", close_due: "Closed by",
    late: "late", reply: "Answer", reason: "Reason", rate: "Rate the answer", rate_send: "Send rating", rated: "Rated {n}/5",
    add: "Add to it", add_send: "Send", stars: "{n}", photo_n: "Photo {n}", place: "Place", history: "What happened",
    rate_note: "A word on it (optional)" },
});

window.FeedbackView = (() => {
  const { el } = Hub;
  const $ = (s) => document.querySelector(s);
  // The item's parts, the same on both pages, put at the top of the page's #item section
  // (static markup: every text of an item is set as text below).
  document.getElementById("item").insertAdjacentHTML("afterbegin", `
    <button id="back" type="button" class="quiet" data-i18n="back">← 返回</button>
    <h2 id="f-title"></h2>
    <p id="f-meta" class="meta"></p>
    <p><span id="f-status" class="state-badge"></span> <span id="f-route" class="meta"></span></p>
    <p id="f-body" class="notice-body"></p>
    <p id="f-where" class="meta"></p>
    <div id="f-photos"></div>
    <p id="f-reply" class="big-reply"></p>
    <p id="f-rated" class="ok"></p>
    <h3 data-i18n="history">办理经过</h3>
    <ul id="f-log" class="log"></ul>
    <form id="rate" hidden>
      <fieldset><legend data-i18n="rate">评价答复</legend><div id="stars" class="checks"></div></fieldset>
      <label><span data-i18n="rate_note">说两句（可空）</span> <input id="rate-note" maxlength="500"></label>
      <button type="submit" data-i18n="rate_send">提交评价</button>
    </form>
    <form id="more" hidden>
      <label><span data-i18n="add">补充说明</span> <textarea id="more-text" rows="2" required maxlength="5000"></textarea></label>
      <button type="submit" data-i18n="add_send">提交补充</button>
    </form>
    <p id="f-said" role="status"></p>
`);
  const fill = (text, args) => text.replace(/\{(\w+)\}/g, (_, k) => String(args[k]));
  const word = (group, key) => (Hub.t(group) || {})[key] || key;

  function actor(name) {
    if (name === "writer") return Hub.t("anonymous");
    if (name === "hub") return Hub.t("hub");
    return Hub.named(name);
  }

  function due(label, at, late) {
    return `${Hub.t(label)} ${Hub.datetime(at)}${late ? ` (${Hub.t("late")})` : ""}`;
  }

  // Fill #item with `f`; `photo(n)` gives a photo's URL, `rate` and `add` (optional) send the
  // writer's rating and addition and return the item as it is then.
  function show(f, { photo, rate, add } = {}) {
    $("#f-title").textContent = f.title;
    $("#f-meta").textContent = [word("kind", f.kind), f.category_name, word("status", f.status),
      f.anonymous ? Hub.t("anonymous") : f.writer ? `${Hub.t("writer")} ${Hub.named(f.writer)}` : "",
      Hub.datetime(f.created_at)].filter(Boolean).join(" · ");
    $("#f-status").textContent = word("status", f.status);
    $("#f-status").dataset.status = f.status;
    $("#f-body").textContent = f.body;
    $("#f-where").textContent = f.place ? `${Hub.t("place")}: ${f.place}` : "";
    $("#f-route").textContent = [f.unit_name ? `${Hub.t("handled_by")}: ${f.unit_name}` : "",
      f.responded_at ? "" : due("answer_due", f.answer_due, f.answer_late),
      ["closed", "declined"].includes(f.status) ? "" : due("close_due", f.close_due, f.close_late)].filter(Boolean).join(" · ");
    $("#f-reply").textContent = f.reply ? `${Hub.t("reply")}: ${f.reply}` : f.reason ? `${Hub.t("reason")}: ${f.reason}` : "";
    const shots = [];
    for (let n = 0; n < f.photos && photo; n += 1) {
      const img = el("img", { className: "dish-photo", alt: fill(Hub.t("photo_n"), { n: n + 1 }) });
      photo(n).then((url) => { img.src = url; }).catch(() => {});
      shots.push(img);
    }
    $("#f-photos").replaceChildren(...shots);
    $("#f-log").replaceChildren(...f.log.map((e) => el("li", { className: e.shown ? "" : "internal" },
      el("div", { className: "meta" }, `${Hub.datetime(e.ts)} · ${actor(e.actor)} · ${word("action", e.action)}`),
      e.note ? el("div", {}, e.note) : "")));
    $("#f-rated").textContent = f.rating ? fill(Hub.t("rated"), { n: f.rating }) + (f.rating_note ? ` · ${f.rating_note}` : "") : "";
    const mayRate = rate && !f.rating && ["answered", "closed"].includes(f.status);
    $("#rate").hidden = !mayRate;
    $("#more").hidden = !add || ["closed", "declined"].includes(f.status);
    $("#rate").onsubmit = async (e) => {
      e.preventDefault();
      const chosen = document.querySelector("input[name=stars]:checked");
      if (!chosen) return;
      try { show(await rate(Number(chosen.value), $("#rate-note").value), { photo, rate, add }); } catch (err) { $("#f-said").textContent = String(err.message || err); }
    };
    $("#more").onsubmit = async (e) => {
      e.preventDefault();
      try {
        const next = await add($("#more-text").value);
        $("#more-text").value = "";
        show(next, { photo, rate, add });
      } catch (err) { $("#f-said").textContent = String(err.message || err); }
    };
    $("#item").hidden = false;
  }

  // The five stars of the rating form (radio buttons, labelled for screen readers).
  function stars() {
    $("#stars").replaceChildren(...[1, 2, 3, 4, 5].map((n) => el("label", { className: "check" },
      el("input", { type: "radio", name: "stars", value: String(n), required: true }), ` ${fill(Hub.t("stars"), { n })}`)));
  }

  return { show, stars };
})();
