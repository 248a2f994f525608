// The front door: a signed-in person's home. What is theirs (meetings, car requests and a
// driver's trips, visitors expected, repairs reported), what waits for their approval, their
// queues, and every service a tap away; each item opens where it can be acted on.
"use strict";

Hub.translate({
  "zh-CN": { title: "我的大院", order_meal: "去订餐", until: "截止", left: "剩", unlimited: "不限量", sold_out: "已售罄",
    waiting: "待我审批", queues: "我的待办", mine: "我的事项", none: "暂无事项",
    kind: { meeting: "会议", car: "用车", trip: "出车任务", visit: "访客", repair: "报修", approval: "审批", meal: "订餐", notice: "通知", feedback: "建议投诉", survey: "问卷", permit: "卡证" },
    action: { check_in: "去签到", rate: "去评价", approve: "去审批", show_code: "取餐码", acknowledge: "去确认", answer: "去填写", change: "去修改", collect: "去领取" },
    state: { pending: "待审批", confirmed: "已预约", approved: "已批准", dispatched: "已派车", departed: "已出车",
      open: "待派单", assigned: "已派单", accepted: "已接单", in_progress: "维修中", on_hold: "暂停", resolved: "已修复",
      closed: "已完成", invited: "已邀请", approved_visit: "已批准", arrived: "已到达",
      ordered: "已订", served: "已取餐", no_show: "未取餐", to_acknowledge: "未确认",
      received: "已收到", in_hand: "办理中", answered: "已答复", declined: "不予受理",
      new: "未填写", draft: "草稿", applied: "审批中", returned: "已退回", issued: "待领取" },
    queue: { tickets_unassigned: "待派工单", cars_to_dispatch: "待派车辆", my_tickets: "我的维修任务", gate_reviews: "门岗待复核", meals_waiting: "今日待取餐", feedback_open: "待办建议投诉" } },
  en: { title: "My compound", order_meal: "Order", until: "order by", left: "left", unlimited: "no limit", sold_out: "sold out",
    waiting: "Waiting for me", queues: "My queues", mine: "My things", none: "Nothing here",
    kind: { meeting: "meeting", car: "car", trip: "trip", visit: "visitors", repair: "repair", approval: "approval", meal: "meal", notice: "notice", feedback: "suggestion", survey: "questionnaire", permit: "card" },
    action: { check_in: "check in", rate: "rate it", approve: "decide", show_code: "pickup code", acknowledge: "acknowledge it", answer: "answer it", change: "change it", collect: "collect it" },
    state: { pending: "pending", confirmed: "booked", approved: "approved", dispatched: "car assigned", departed: "on the road",
      open: "waiting", assigned: "assigned", accepted: "accepted", in_progress: "in progress", on_hold: "on hold", resolved: "resolved",
      closed: "done", invited: "invited", arrived: "arrived", ordered: "ordered", served: "collected", no_show: "not collected", to_acknowledge: "not acknowledged",
      received: "received", in_hand: "in hand", answered: "answered", declined: "declined",
      new: "not started", draft: "draft", applied: "being approved", returned: "returned", issued: "ready to collect" },
    queue: { tickets_unassigned: "tickets to assign", cars_to_dispatch: "cars to dispatch", my_tickets: "my repair jobs", gate_reviews: "gate reviews", meals_waiting: "meals to collect today", feedback_open: "suggestions to answer" } },
});

const { el } = Hub;
// where each queue is worked
const QUEUE_PAGES = { tickets_unassigned: "/tickets.html", cars_to_dispatch: "/vehicles.html", my_tickets: "/tickets.html",
  gate_reviews: "/gate.html", meals_waiting: "/counter.html", feedback_open: "/feedback.html#tab=queue" };
const $ = (s) => document.querySelector(s);
function line(i) {
  const state = Hub.t("state")[i.state] || i.state;
  const when = i.when ? Hub.datetime(i.when) : "";
  const li = el("li", { className: i.action ? "unread" : "", id: `${i.kind}-${i.id}` },
    el("b", {}, `${Hub.t("kind")[i.kind] || i.kind} · ${i.title}`),
    el("div", { className: "meta" }, [when, state, i.action ? Hub.t("action")[i.action] : ""].filter(Boolean).join(" · ")));
  li.tabIndex = 0;
  const go = () => { location.href = Hub.sameOrigin(i.link) || "/"; };
  li.addEventListener("click", go);
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
  return li;
}

function render(home) {
  const roles = home.roles;
  $("#services").replaceChildren(...Hub.pages(roles)
    .filter(([key]) => key !== "home")
    .map(([key, href]) => el("a", { href, className: "tile", id: `tile-${key}` }, Hub.t("svc")[key],
      key === "inbox" && home.unread ? el("b", { className: "badge" }, String(home.unread)) : "")));
  const menu = home.menu;
  $("#menu-box").hidden = !menu;
  if (menu) { // the canteen's next meal open for ordering, with what is left of each dish
    const local = (x) => (Hub.lang === "en" && x.name_en) || x.name;
    $("#menu-title").textContent = `${local(menu)} ${menu.day.slice(5)} · ${Hub.t("until")} ${Hub.datetime(menu.cutoff)}`;
    $("#menu-items").replaceChildren(...menu.items.map((i) => el("li", { id: `menu-${i.id}` }, el("b", {}, local(i)), " ",
      el("span", { className: "meta" }, `¥${i.price.toFixed(2)} · `, i.status === "sold_out" ? Hub.t("sold_out")
        : i.portions === null ? Hub.t("unlimited") : `${Hub.t("left")} ${i.left}/${i.portions}`))));
  }
  $("#waiting-box").hidden = !home.waiting.length;
  $("#waiting").replaceChildren(...home.waiting.map(line));
  const queues = Object.entries(home.queues);
  $("#queues-box").hidden = !queues.length;
  $("#queues").replaceChildren(...queues.map(([k, n]) => el("li", { id: `queue-${k}` },
    el("a", { href: QUEUE_PAGES[k] || "/" }, `${Hub.t("queue")[k] || k}：${n}`))));
  $("#items").replaceChildren(...(home.items.length ? home.items.map(line) : [el("li", { className: "empty" }, Hub.t("none"))]));
  document.body.dataset.ready = "1";
}

let home = null;
async function load() {
  try {
    home = await Hub.api("/api/home");
    $("#who").textContent = home.user;
    render(home);
  } catch (err) {
    if (err.status === 403) { location.href = "/wall.html"; return; } // a screen's account
    $("#error").textContent = String(err.message || err);
  }
}

$("#lang").addEventListener("click", () => Hub.toggleLanguage(() => home && render(home)));
Hub.catalogue().then(load);
