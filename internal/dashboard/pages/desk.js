// Deadlines count down in place; the page refreshes itself while nobody is typing.
function tick() {
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const left = Math.round((Date.parse(el.dataset.deadline) - Date.now()) / 1000);
    const a = Math.abs(left), d = Math.floor(a / 86400), h = Math.floor(a % 86400 / 3600), m = Math.floor(a % 3600 / 60), s = a % 60;
    const txt = (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
    el.textContent = left >= 0 ? "in " + txt : "overdue by " + txt;
    el.classList.toggle("overdue", left < 0);
  }
}
tick(); setInterval(tick, 1000);
// Who is signed in (sign-in through the identity provider), with a way out.
const who = document.cookie.split("; ").find(c => c.startsWith("desk_who="));
if (who) {
  const f = document.createElement("form");
  f.method = "post"; f.action = "/logout"; f.className = "who";
  const span = document.createElement("span");
  span.textContent = decodeURIComponent(who.slice(9).replace(/\+/g, " "));
  const b = document.createElement("button"); b.textContent = "Sign out";
  f.append(span, b); document.querySelector("header").append(f);
}
// The legal team's matters are linked for those who may see them (everyone let in when nobody
// signs in; the page itself is served to them alone).
if (!who || /[(, ]legal[,)]/.test(decodeURIComponent(who.slice(9).replace(/\+/g, " ")))) {
  const nav = document.querySelector("header nav"), a = document.createElement("a");
  a.href = "/legal"; a.textContent = "Legal matters";
  if (nav) nav.insertBefore(a, nav.children[2] || null);
}
// Tables marked sortable sort by a column when its header is clicked (again: the other way):
// by a cell's data-sort when it has one, as a number when both are numbers, else as text.
for (const table of document.querySelectorAll("table.sortable")) {
  table.querySelectorAll("thead th").forEach((th, col) => {
    th.tabIndex = 0; th.setAttribute("role", "button"); th.title = "sort by this column";
    const sort = () => {
      const body = table.tBodies[0], rows = [...body.rows].filter(r => r.cells.length > col);
      const dir = th.dataset.dir === "asc" ? -1 : 1;
      table.querySelectorAll("thead th").forEach(h => { delete h.dataset.dir; h.removeAttribute("aria-sort"); });
      th.dataset.dir = dir === 1 ? "asc" : "desc"; th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      const key = r => { const c = r.cells[col]; return c.dataset.sort ?? c.innerText.trim(); };
      rows.sort((a, b) => {
        const x = key(a), y = key(b), nx = Number(x), ny = Number(y);
        if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
        return dir * x.localeCompare(y);
      });
      rows.forEach(r => body.appendChild(r));
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
}
// A form that changes something carries this browser's CSRF token: the desk gives it to its own
// pages only (a page elsewhere cannot read the answer), and refuses a post without it. The
// form is sent once the token is in, with the button that was clicked.
document.addEventListener("submit", e => {
  const f = e.target;
  if (f.method.toLowerCase() !== "post" || f.dataset.csrf === "in") return;
  e.preventDefault(); e.stopImmediatePropagation(); submitting = true;
  const by = e.submitter;
  fetch("/auth/csrf", { credentials: "same-origin", cache: "no-store" })
    .then(r => r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)))
    .then(j => {
      let i = f.querySelector("input[name=csrf]");
      if (!i) { i = document.createElement("input"); i.type = "hidden"; i.name = "csrf"; f.append(i); }
      i.value = j.token; f.dataset.csrf = "in";
      f.requestSubmit(by && by.form === f ? by : undefined);
    })
    .catch(err => { alert("The desk could not be reached to send this form (" + err.message + "); try again."); });
}, true);
// A submitted form is never cut short by a refresh: once one is sent, the page waits for its
// answer (the desk's decision) instead of reloading over it.
let submitting = false;
document.addEventListener("submit", () => { submitting = true; });
const refresh = Number(document.querySelector("[data-refresh]")?.dataset.refresh || 0);
if (refresh) setTimeout(function again() {
  if (submitting) return;
  const a = document.activeElement;
  if (a && (a.tagName === "TEXTAREA" || a.tagName === "INPUT" || a.tagName === "SELECT")) { setTimeout(again, refresh); return; }
  const q = new URLSearchParams(location.search); // the message shown once is not shown again
  for (const k of ["flash", "fs", "refused"]) q.delete(k);
  location.replace(location.pathname + (q.size ? "?" + q : ""));
}, refresh);
