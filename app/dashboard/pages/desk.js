// Deadlines count down in place; the page keeps itself current without fighting the person.
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
function sortable(root) {
  for (const table of [...(root.matches?.("table.sortable") ? [root] : []), ...root.querySelectorAll("table.sortable")]) {
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
}
sortable(document);
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
// The page keeps itself current without reloading: every few seconds it fetches itself and
// swaps in the parts of <main> that changed — never one holding a form being edited (typed in,
// changed or focused), never over a form that was sent, and never the message a click answered
// (it stays until dismissed).
let submitting = false;
document.addEventListener("submit", () => { submitting = true; });
function edited(el) {
  if (el.contains(document.activeElement) && document.activeElement !== document.body) return true;
  return [...el.querySelectorAll("input, textarea, select")].some(i => {
    if (i.type === "checkbox" || i.type === "radio") return i.checked !== i.defaultChecked;
    if (i.tagName === "SELECT") {
      if (i.multiple) return [...i.options].some(o => o.selected !== o.defaultSelected);
      const d = [...i.options].findIndex(o => o.defaultSelected); // none marked: the first
      return i.selectedIndex !== (d < 0 ? 0 : d);
    }
    return i.type !== "hidden" && i.value !== i.defaultValue;
  });
}
// keys name the children of <main> across two versions of the page: their id, else their tag
// and class, counted.
function keys(list) {
  const seen = {};
  return list.map(el => { const k = el.id || el.tagName + "." + el.className; seen[k] = (seen[k] || 0) + 1; return k + "#" + seen[k]; });
}
const message = el => el.id === "flash" || el.id === "refused";
for (const m of document.querySelectorAll("#flash, #refused")) {
  const b = document.createElement("button");
  b.type = "button"; b.className = "dismiss"; b.textContent = "×"; b.setAttribute("aria-label", "Dismiss this message");
  b.addEventListener("click", () => m.remove());
  m.append(" ", b);
}
window.refreshes = 0;
const refresh = Number(document.querySelector("[data-refresh]")?.dataset.refresh || 0);
if (refresh) setTimeout(function again() {
  if (submitting) return;
  const q = new URLSearchParams(location.search); // the message shown once is not fetched again
  for (const k of ["flash", "fs", "refused"]) q.delete(k);
  fetch(location.pathname + (q.size ? "?" + q : ""), { credentials: "same-origin", cache: "no-store" })
    .then(r => r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status)))
    .then(html => {
      if (submitting) return;
      const next = new DOMParser().parseFromString(html, "text/html").querySelector("main");
      const main = document.querySelector("main");
      if (!next || !main) return;
      const now = [...main.children].filter(el => !message(el)), fresh = [...next.children].filter(el => !message(el));
      const nk = keys(now), fk = keys(fresh), used = new Set();
      let anchor = [...main.children].filter(message).pop() || null;
      fresh.forEach((f, i) => {
        const j = nk.indexOf(fk[i]);
        let node;
        if (j >= 0) {
          used.add(j);
          node = now[j];
          if (!edited(node) && !node.isEqualNode(f)) {
            const n = document.importNode(f, true);
            node.replaceWith(n); sortable(n); node = n;
          }
        } else {
          node = document.importNode(f, true); sortable(node);
        }
        if (anchor) { if (anchor.nextElementSibling !== node) anchor.after(node); } else if (main.firstElementChild !== node) main.prepend(node);
        anchor = node;
      });
      // What the page no longer has goes, unless someone is editing it.
      now.forEach((el, j) => { if (!used.has(j) && !edited(el)) el.remove(); });
      tick(); window.refreshes++;
    })
    .catch(() => {}) // the desk is unreachable for a moment: try again at the next turn
    .finally(() => setTimeout(again, refresh));
}, refresh);
