// Questionnaires (问卷调查): the ones open for this person, answered once — saved as a draft
// and finished later; an anonymous one's token is kept in this browser only (the hub keeps no
// way back from the person to the answers). Managers and administrators (the canteen and the
// dispatchers for their pages) make them, watch the results as they come and export them.
"use strict";

Hub.translate({
  "zh-CN": { title: "问卷调查", back: "← 全部问卷", save: "保存，稍后再填", submit: "提交", saved: "已保存，可稍后继续",
    done: "已提交，谢谢！", none: "没有要填写的问卷", anonymous: "匿名", named: "实名", closes: "截止 {when}", required: "必答",
    state: { new: "未填写", draft: "草稿", done: "已提交", taken: "已参与" }, lost: "您已在另一个浏览器参与过这份匿名问卷，答案只在那里。",
    csv: "导出 CSV", xlsx: "导出 Excel", withdraw: "撤回", withdrawn: "已撤回", make: "发起问卷", f_title: "标题", f_intro: "说明（可空）",
    f_for: "填写对象", f_all: "全体人员", f_anon: "匿名（有人开始填写后不能再改）", f_attach: "放在服务页面上（可空）",
    f_opens: "开始（可空：立即）", f_closes: "截止", add_q: "＋ 添加问题", publish: "发布", published: "已发布，{n} 个问题",
    mine: "我发起的问卷", counts: "{answered} 人已提交，{started} 人已开始", mean: "平均 {m}", answers_n: "{n} 人作答",
    q_type: "题型", q_title: "问题", q_required: "必答", q_options: "选项（每行一个）", q_rows: "行（每行一项）", q_scale: "分值",
    q_when: "只在此题选了下面的选项时显示", q_when_opt: "选项", q_remove: "删除此题",
    type: { single: "单选", multiple: "多选", text: "文字", scale: "打分", matrix: "矩阵打分" },
    attach: { canteen: "食堂", repairs: "报修" }, status: { scheduled: "未开始", open: "进行中", closed: "已截止", withdrawn: "已撤回" } },
  en: { title: "Questionnaires", back: "← All questionnaires", save: "Save, finish later", submit: "Submit", saved: "Saved: finish it later",
    done: "Submitted, thank you!", none: "No questionnaire for you", anonymous: "anonymous", named: "named", closes: "closes {when}",
    required: "required", state: { new: "not started", draft: "draft", done: "submitted", taken: "taken part" },
    lost: "You took part in this anonymous questionnaire in another browser: your answers are there.",
    csv: "Export CSV", xlsx: "Export Excel", withdraw: "Withdraw", withdrawn: "Withdrawn", make: "Make a questionnaire",
    f_title: "Title", f_intro: "Introduction (optional)", f_for: "For", f_all: "Everyone",
    f_anon: "Anonymous (fixed once someone starts)", f_attach: "On a service's page (optional)", f_opens: "Opens (optional: now)",
    f_closes: "Closes", add_q: "+ Add a question", publish: "Publish", published: "Published: {n} questions",
    mine: "My questionnaires", counts: "{answered} submitted, {started} started", mean: "mean {m}", answers_n: "{n} answers",
    q_type: "Type", q_title: "Question", q_required: "Required", q_options: "Options (one a line)", q_rows: "Rows (one a line)",
    q_scale: "Scale", q_when: "Shown only when this question got one of these", q_when_opt: "Option", q_remove: "Remove",
    type: { single: "one choice", multiple: "several choices", text: "text", scale: "scale", matrix: "matrix" },
    attach: { canteen: "canteen", repairs: "repairs" }, status: { scheduled: "scheduled", open: "open", closed: "closed", withdrawn: "withdrawn" } },
});

const { el } = Hub;
const $ = (s) => document.querySelector(s);
const fill = (text, args) => text.replace(/\{(\w+)\}/g, (_, k) => String(args[k]));
const AUTHORS = { admin: null, manager: null, canteen: "canteen", dispatcher: "repairs" };
let me = null;
let open = null; // the questionnaire being answered or looked at
let timer = null; // the results' refresh
const tokenKey = (id) => `hub.survey.${id}`;

function show(which) {
  for (const id of ["listing", "answering", "results"]) $(`#${id}`).hidden = id !== which;
  $("#making").hidden = which !== "listing" || !authoring();
  if (which !== "results" && timer) { clearInterval(timer); timer = null; }
}
const authoring = () => me && me.roles.some((r) => r in AUTHORS);

async function guarded(work, where = "#error") {
  $(where).textContent = "";
  try { await work(); } catch (err) { $(where).textContent = String(err.message || err); }
}

function row(v, onOpen, extra) {
  const li = el("li", { className: v.state === "new" || v.state === "draft" ? "unread" : "read", id: `survey-${v.id}`, tabIndex: 0 },
    el("b", {}, v.title),
    el("div", { className: "meta" }, [v.anonymous ? Hub.t("anonymous") : Hub.t("named"), fill(Hub.t("closes"), { when: Hub.datetime(v.closes_at) }),
      extra || Hub.t("state")[v.state] || ""].filter(Boolean).join(" · ")));
  li.addEventListener("click", () => onOpen(v.id));
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") onOpen(v.id); });
  return li;
}

async function list() {
  await guarded(async () => {
    const mine = await Hub.api("/api/surveys");
    $("#surveys").replaceChildren(...(mine.length ? mine.map((v) => row(v, answer)) : [el("li", { className: "empty" }, Hub.t("none"))]));
    if (authoring()) {
      const made = await Hub.api("/api/surveys/authored");
      $("#authored").replaceChildren(...made.map((v) => row(v, results,
        `${Hub.t("status")[v.status] || v.status} · ${fill(Hub.t("counts"), { answered: v.answered, started: v.started })}`)));
    }
    history.replaceState(null, "", location.pathname);
    show("listing");
  });
}

// -- answering ------------------------------------------------------------------------------
async function answer(id) {
  await guarded(async () => {
    let v = await Hub.api(`/api/surveys/${id}`);
    let token = localStorage.getItem(tokenKey(id));
    if (v.anonymous && !token && v.state === "new") {
      token = (await Hub.post(`/api/surveys/${id}/start`, {})).token;
      localStorage.setItem(tokenKey(id), token);
    }
    if (v.anonymous && token) v = await Hub.api(`/api/surveys/${id}`, { headers: { "X-Survey-Token": token } });
    open = { ...v, token };
    $("#s-title").textContent = v.title;
    $("#s-meta").textContent = [v.anonymous ? Hub.t("anonymous") : Hub.t("named"), fill(Hub.t("closes"), { when: Hub.datetime(v.closes_at) })].join(" · ");
    $("#s-intro").textContent = v.intro;
    $("#questions").replaceChildren(...v.questions.map((q) => question(q, v.answers[q.id])));
    const lost = v.anonymous && !token;
    const locked = v.submitted || lost || v.status !== "open";
    for (const input of $("#questions").querySelectorAll("input, textarea")) input.disabled = locked;
    $("#save").hidden = locked;
    $("#submit").hidden = locked;
    $("#a-said").textContent = lost ? Hub.t("lost") : v.submitted ? Hub.t("done") : "";
    history.replaceState(null, "", `#survey=${id}`);
    conditions();
    show("answering");
  });
}

function question(q, given) {
  const name = `q-${q.id}`;
  const box = el("fieldset", { className: "question", id: name },
    el("legend", {}, q.title + (q.required ? ` (${Hub.t("required")})` : "")));
  const choice = (type, value, checked) => el("label", { className: "check" },
    el("input", { type, name, value, checked }), ` ${value}`);
  if (q.type === "single") box.append(...q.options.map((o) => choice("radio", o, given === o)));
  if (q.type === "multiple") box.append(...q.options.map((o) => choice("checkbox", o, (given || []).includes(o))));
  if (q.type === "text") box.append(el("textarea", { name, rows: 3, maxLength: 2000, ariaLabel: q.title, value: given || "" }));
  const points = (group, value, label) => el("div", { className: "checks", role: "radiogroup", ariaLabel: label },
    ...Array.from({ length: q.scale }, (_, i) => el("label", { className: "check" },
      el("input", { type: "radio", name: group, value: String(i + 1), checked: value === i + 1 }), ` ${i + 1}`)));
  if (q.type === "scale") box.append(points(name, given, q.title));
  if (q.type === "matrix") {
    q.rows.forEach((r, i) => box.append(el("div", { className: "meta" }, r), points(`${name}-${i}`, (given || {})[r], `${q.title} · ${r}`)));
  }
  box.addEventListener("change", conditions);
  return box;
}

function collect() {
  const out = {};
  for (const q of open.questions) {
    const box = document.getElementById(`q-${q.id}`);
    if (box.hidden) continue;
    const checked = [...box.querySelectorAll(`input[name="q-${q.id}"]:checked`)].map((i) => i.value);
    if (q.type === "single" && checked.length) out[q.id] = checked[0];
    if (q.type === "multiple" && checked.length) out[q.id] = checked;
    if (q.type === "scale" && checked.length) out[q.id] = Number(checked[0]);
    if (q.type === "text" && box.querySelector("textarea").value.trim()) out[q.id] = box.querySelector("textarea").value;
    if (q.type === "matrix") {
      const rated = {};
      q.rows.forEach((r, i) => {
        const pick = box.querySelector(`input[name="q-${q.id}-${i}"]:checked`);
        if (pick) rated[r] = Number(pick.value);
      });
      if (Object.keys(rated).length) out[q.id] = rated;
    }
  }
  return out;
}

function conditions() { // a conditional question shows when the earlier choice has the option
  if (!open) return;
  for (const q of open.questions) {
    if (!q.when) continue;
    const picked = [...document.querySelectorAll(`input[name="q-${q.when.question}"]:checked`)].map((i) => i.value);
    document.getElementById(`q-${q.id}`).hidden = !picked.some((p) => q.when.any_of.includes(p));
  }
}

async function send(submit) {
  await guarded(async () => {
    const headers = open.token ? { "X-Survey-Token": open.token } : {};
    await Hub.api(`/api/surveys/${open.id}/answers`, { method: "POST", headers, body: JSON.stringify({ answers: collect(), submit }) });
    $("#a-said").textContent = submit ? Hub.t("done") : Hub.t("saved");
    if (submit) {
      for (const input of $("#questions").querySelectorAll("input, textarea")) input.disabled = true;
      $("#save").hidden = true;
      $("#submit").hidden = true;
    }
  }, "#a-said");
}

// -- results --------------------------------------------------------------------------------
async function results(id) {
  await guarded(async () => {
    const r = await Hub.api(`/api/surveys/${id}/results`);
    open = r;
    $("#r-title").textContent = r.title;
    $("#r-meta").textContent = `${Hub.t("status")[r.status] || r.status} · ${fill(Hub.t("counts"), { answered: r.answered, started: r.started })}`;
    $("#withdraw").hidden = r.status === "withdrawn";
    $("#tally").replaceChildren(...r.questions.map(tally));
    history.replaceState(null, "", `#results=${id}`);
    show("results");
    if (!timer && r.status === "open") timer = setInterval(() => { if (!$("#results").hidden) results(id); }, 10000);
  });
}

function bars(counts) { // a bar a count, as wide as its share of the largest
  const top = Math.max(1, ...counts.map((c) => c.count));
  return el("div", { className: "bars" }, ...counts.map((c) => {
    const fill = el("span", { className: "fill" });
    fill.style.width = `${Math.round((70 * c.count) / top)}%`;
    return el("div", { className: "bar" }, el("span", { className: "label" }, c.option), fill, el("span", { className: "n" }, String(c.count)));
  }));
}

function tally(q) {
  const box = el("section", { className: "tally" }, el("h3", {}, q.title),
    el("p", { className: "meta" }, [Hub.t("type")[q.type], fill(Hub.t("answers_n"), { n: q.answers }),
      q.mean != null ? fill(Hub.t("mean"), { m: q.mean }) : ""].filter(Boolean).join(" · ")));
  if (q.counts) box.append(bars(q.counts));
  if (q.rows) for (const r of q.rows) box.append(el("p", { className: "meta" }, `${r.row} · ${fill(Hub.t("mean"), { m: r.mean ?? "–" })}`), bars(r.counts));
  if (q.texts) box.append(el("ul", { className: "texts" }, ...q.texts.map((t) => el("li", {}, t))));
  return box;
}

// -- making ---------------------------------------------------------------------------------
let counter = 0;
function builder() {
  counter += 1;
  const id = `q${counter}`;
  const box = el("fieldset", { className: "person" }, el("legend", {}, `${Hub.t("q_title")} ${counter}`));
  box.dataset.id = id;
  const field = (key, control) => el("label", {}, el("span", {}, Hub.t(key)), " ", control);
  const type = el("select", { name: "type" }, ...["single", "multiple", "text", "scale", "matrix"].map((t) => el("option", { value: t }, Hub.t("type")[t])));
  const options = el("textarea", { name: "options", rows: 3 });
  const rows = el("textarea", { name: "rows", rows: 2 });
  const scale = el("select", { name: "scale" }, el("option", { value: "5" }, "1-5"), el("option", { value: "10" }, "1-10"));
  const when = el("select", { name: "when" }, el("option", { value: "" }, ""));
  const whenOpt = el("input", { name: "when_opt" });
  for (const other of document.querySelectorAll("#f-questions fieldset")) when.append(el("option", { value: other.dataset.id }, other.querySelector("legend").textContent));
  const remove = el("button", { type: "button", className: "quiet" }, Hub.t("q_remove"));
  remove.addEventListener("click", () => box.remove());
  box.append(field("q_type", type), field("q_title", el("input", { name: "title", required: true, maxLength: 300 })),
    el("label", { className: "check" }, el("input", { type: "checkbox", name: "required" }), ` ${Hub.t("q_required")}`),
    field("q_options", options), field("q_rows", rows), field("q_scale", scale), field("q_when", when), field("q_when_opt", whenOpt), remove);
  const fit = () => {
    options.parentElement.hidden = !["single", "multiple"].includes(type.value);
    rows.parentElement.hidden = type.value !== "matrix";
    scale.parentElement.hidden = !["scale", "matrix"].includes(type.value);
  };
  type.addEventListener("change", fit);
  fit();
  $("#f-questions").append(box);
}

function built() {
  const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);
  return [...document.querySelectorAll("#f-questions fieldset")].map((box) => {
    const get = (name) => box.querySelector(`[name=${name}]`);
    const q = { id: box.dataset.id, type: get("type").value, title: get("title").value, required: get("required").checked };
    if (["single", "multiple"].includes(q.type)) q.options = lines(get("options").value);
    if (q.type === "matrix") q.rows = lines(get("rows").value);
    if (["scale", "matrix"].includes(q.type)) q.scale = Number(get("scale").value);
    if (get("when").value && get("when_opt").value.trim()) q.when = { question: get("when").value, any_of: [get("when_opt").value.trim()] };
    return q;
  });
}

async function compose() {
  const cat = await Hub.catalogue();
  const units = Object.keys((cat.names || {})["zh-CN"] || {}).filter((k) => k.startsWith("u-"));
  $("#f-units").replaceChildren(...units.map((u) => el("label", { className: "check" }, el("input", { type: "checkbox", name: "unit", value: u }), ` ${Hub.named(u)}`)));
  const attach = me.roles.map((r) => AUTHORS[r]).filter(Boolean);
  $("#f-attach").replaceChildren(...(me.roles.some((r) => r === "admin" || r === "manager") ? [el("option", { value: "" }, "")] : []),
    ...["canteen", "repairs"].filter((a) => attach.includes(a) || me.roles.some((r) => r === "admin" || r === "manager"))
      .map((a) => el("option", { value: a }, Hub.t("attach")[a])));
  if (!$("#f-questions").children.length) builder();
}

$("#compose").addEventListener("submit", async (e) => {
  e.preventDefault();
  const when = (v) => (v ? new Date(v).toISOString() : null);
  await guarded(async () => {
    const v = await Hub.post("/api/surveys", {
      title: $("#f-title").value, intro: $("#f-intro").value, questions: built(), everyone: $("#f-all").checked,
      units: [...document.querySelectorAll("input[name=unit]:checked")].map((i) => i.value), anonymous: $("#f-anon").checked,
      attach: $("#f-attach").value || null, opens_at: when($("#f-opens").value), closes_at: when($("#f-closes").value),
    });
    $("#compose").reset();
    $("#f-questions").replaceChildren();
    counter = 0;
    builder();
    await list();
    $("#f-said").textContent = fill(Hub.t("published"), { n: v.count });
  }, "#f-said");
});
$("#add-q").addEventListener("click", builder);
$("#answer").addEventListener("submit", (e) => { e.preventDefault(); send(true); });
$("#save").addEventListener("click", () => send(false));
$("#back").addEventListener("click", list);
$("#r-back").addEventListener("click", list);
$("#csv").addEventListener("click", () => guarded(() => Hub.download(`/api/surveys/${open.id}/export.csv`, `survey-${open.id}.csv`)));
$("#xlsx").addEventListener("click", () => guarded(() => Hub.download(`/api/surveys/${open.id}/export.xlsx`, `survey-${open.id}.xlsx`)));
$("#withdraw").addEventListener("click", () => guarded(async () => { await Hub.post(`/api/surveys/${open.id}/withdraw`, {}); results(open.id); }));
$("#lang").addEventListener("click", () => Hub.toggleLanguage(list));

Hub.me().then(async (who) => {
  me = who;
  $("#who").textContent = who.name;
  await Hub.catalogue();
  if (authoring()) await guarded(compose);
  const wanted = Number(Hub.fragment.get("survey"));
  const tallied = Number(Hub.fragment.get("results"));
  if (wanted) await answer(wanted);
  else if (tallied) await results(tallied);
  else await list();
  document.body.dataset.ready = "1";
});
Hub.live({ status: (s) => { $("#link").className = s; }, snapshot: () => {}, changes: () => {} });
