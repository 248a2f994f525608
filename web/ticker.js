// The notices their authors put on the displays, one at a time in the page's #notices line
// (the wall, the rooms' door displays): fetched every minute, turned every 8 seconds.
"use strict";

(() => {
  const line = document.getElementById("notices");
  if (!line || !Hub.token()) return;
  let shown = [];
  let at = 0;
  const turn = () => {
    line.hidden = !shown.length;
    if (!shown.length) return;
    const n = shown[at % shown.length];
    line.textContent = `${n.pinned ? "📌 " : "📢 "}${n.title}${n.summary ? ` · ${n.summary}` : ""}`;
    at += 1;
  };
  const fetchShown = () => Hub.api("/api/notices/display").then((list) => { shown = list; turn(); }).catch(() => {});
  fetchShown();
  setInterval(fetchShown, 60000);
  setInterval(turn, 8000);
})();
