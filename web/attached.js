// A service page's own questionnaires (the canteen's, the repair service's): those open for
// the person, as links to answer them, in the page's #surveys-box. The page names its service
// in the box's data-attach.
"use strict";

(() => {
  const box = document.getElementById("surveys-box");
  if (!box) return;
  Hub.translate({ "zh-CN": { surveys_here: "问卷", answer_it: "去填写" }, en: { surveys_here: "Questionnaires", answer_it: "answer it" } });
  Hub.api(`/api/surveys?attach=${box.dataset.attach}`).then((open) => {
    const waiting = open.filter((v) => v.state === "new" || v.state === "draft");
    box.replaceChildren(...(waiting.length ? [Hub.el("h2", {}, Hub.t("surveys_here")), Hub.el("ul", { className: "messages" },
      ...waiting.map((v) => Hub.el("li", {}, Hub.el("a", { href: `/surveys.html#survey=${v.id}` }, `${v.title} · ${Hub.t("answer_it")}`))))] : []));
    box.hidden = !waiting.length;
  }).catch(() => { box.hidden = true; });
})();
