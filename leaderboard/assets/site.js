// Sorting, filtering, the column chooser, sample search and the item-by-item comparison.
// Reads only the DOM the builder wrote and sets text with textContent: it never builds HTML
// from strings, so data in cells stays text.
"use strict";

function sortValue(cell, type) {
  const raw = cell ? cell.getAttribute("data-sort") ?? cell.textContent : "";
  if (type === "num") {
    const v = parseFloat(raw);
    return Number.isNaN(v) ? null : v;
  }
  return raw.toLowerCase();
}

function sortTable(table, col, type, th) {
  const descending = th.getAttribute("aria-sort") !== "descending" && type === "num"
    || th.getAttribute("aria-sort") === "ascending";
  for (const other of table.querySelectorAll("thead th")) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = sortValue(a.cells[col], type), y = sortValue(b.cells[col], type);
    if (x === null && y === null) return 0;
    if (x === null) return 1;  // missing values always last
    if (y === null) return -1;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -c : c;
  });
  for (const r of rows) body.appendChild(r);
}

// -- the leaderboard: row filters, the domain filter and the column chooser ----------------------

function hiddenColumns() {
  const off = new Set();
  for (const box of document.querySelectorAll("input[data-col-toggle]")) {
    if (!box.checked) off.add(box.dataset.colToggle);
  }
  return off;
}

function applyFilters() {
  const q = (document.getElementById("f-search")?.value || "").trim().toLowerCase();
  const domain = document.getElementById("f-domain")?.value || "";
  const family = document.getElementById("f-family")?.value || "";
  const mode = document.getElementById("f-mode")?.value || "";
  const off = hiddenColumns();
  let shown = 0, total = 0;
  for (const table of document.querySelectorAll("table.board:not(.plain)")) {
    for (const row of table.tBodies[0].rows) {
      total++;
      const modes = (row.dataset.modes || "").split(" ");
      const ok = (!q || (row.dataset.name || "").includes(q))
        && (!family || row.dataset.family === family)
        && (!mode || modes.includes(mode));
      row.hidden = !ok;
      if (ok) shown++;
    }
    // The header says which domain and column each position is; body cells follow by position.
    const heads = Array.from(table.tHead ? table.tHead.rows[0].cells : []);
    const hide = heads.map((th) => {
      const d = th.getAttribute("data-domain");
      return (Boolean(domain) && Boolean(d) && d !== domain) || off.has(th.getAttribute("data-col"));
    });
    heads.forEach((th, i) => { th.hidden = hide[i]; });
    for (const row of table.tBodies[0].rows) {
      Array.from(row.cells).forEach((cell, i) => { cell.hidden = Boolean(hide[i]); });
    }
    const section = table.closest("section.group");
    if (section) section.hidden = !Array.from(table.tBodies[0].rows).some((r) => !r.hidden);
  }
  const counter = document.getElementById("row-count");
  if (counter) counter.textContent = `${shown} of ${total} rows shown`;
}

// -- the sample browser: search and filters ---------------------------------------------------------

function applySampleFilters() {
  const q = (document.getElementById("s-search")?.value || "").trim().toLowerCase();
  const correct = document.getElementById("s-correct")?.value || "";
  const label = document.getElementById("s-label")?.value || "";
  const truncated = document.getElementById("s-truncated")?.value || "";
  let shown = 0, total = 0;
  for (const el of document.querySelectorAll("[data-sample]")) {
    total++;
    const ok = (!correct || el.dataset.correct === correct)
      && (!label || el.dataset.label === label)
      && (!truncated || el.dataset.truncated === truncated)
      && (!q || el.textContent.toLowerCase().includes(q));
    el.hidden = !ok;
    if (ok) shown++;
  }
  const counter = document.getElementById("s-count");
  if (counter) counter.textContent = `${shown} of ${total} shown`;
}

function hashParams() {
  const out = new Map();
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    const i = part.indexOf("=");
    if (i > 0) {
      try {
        out.set(part.slice(0, i), decodeURIComponent(part.slice(i + 1)));
      } catch (e) {
        // a malformed escape in a hand-written link: ignore that part
      }
    }
  }
  return out;
}

// -- the item-by-item comparison of two runs -----------------------------------------------------

function applyCompare() {
  const a = document.getElementById("cmp-a"), b = document.getElementById("cmp-b");
  const show = document.getElementById("cmp-show")?.value || "differ";
  const runs = Array.from(document.querySelectorAll("#cmp-runs li"));
  const ia = a.selectedIndex, ib = b.selectedIndex;
  let shared = 0, better = 0, worse = 0, shown = 0;
  for (const row of document.querySelectorAll("#compare-table tbody tr")) {
    const vals = (row.dataset.v || "").split(",");
    const va = vals[ia] === undefined || vals[ia] === "" ? null : parseFloat(vals[ia]);
    const vb = vals[ib] === undefined || vals[ib] === "" ? null : parseFloat(vals[ib]);
    let keep = false;
    if (va !== null && vb !== null) {
      shared++;
      if (va > vb) better++;
      if (va < vb) worse++;
      keep = show === "all" || (show === "differ" && va !== vb) || (show === "a" && va > vb) || (show === "b" && va < vb);
    }
    row.hidden = !keep;
    if (keep) shown++;
    row.querySelector(".cmp-a").textContent = va === null ? "–" : String(va);
    row.querySelector(".cmp-b").textContent = vb === null ? "–" : String(vb);
    for (const [cls, idx] of [[".cmp-link-a", ia], [".cmp-link-b", ib]]) {
      const link = row.querySelector(cls), base = runs[idx]?.dataset.samples || "";
      link.hidden = !base;
      if (base) link.setAttribute("href", `${base}#q=${encodeURIComponent(row.dataset.item)}`);
    }
  }
  const summary = document.getElementById("cmp-summary");
  if (summary) {
    summary.textContent = ia === ib ? "A and B are the same run: choose two different runs."
      : `${shared} items scored by both: ${better + worse} differ (${better} better for A, ${worse} better for B); ${shown} listed.`;
  }
}

function startCompare() {
  const a = document.getElementById("cmp-a"), b = document.getElementById("cmp-b");
  if (!a || !b) return;
  const params = hashParams();
  for (const [sel, key] of [[a, "a"], [b, "b"]]) {
    const want = params.get(key);
    if (want && Array.from(sel.options).some((o) => o.value === want)) sel.value = want;
  }
  for (const el of [a, b, document.getElementById("cmp-show")]) el?.addEventListener("input", applyCompare);
  applyCompare();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("th button[data-sort-col]")) {
    button.addEventListener("click", () => {
      const table = button.closest("table");
      sortTable(table, Number(button.dataset.sortCol), button.dataset.type, button.closest("th"));
    });
  }
  for (const id of ["f-search", "f-domain", "f-family", "f-mode"]) {
    document.getElementById(id)?.addEventListener("input", applyFilters);
  }
  for (const box of document.querySelectorAll("input[data-col-toggle]")) box.addEventListener("change", applyFilters);
  const ci = document.getElementById("f-ci");
  if (ci) ci.addEventListener("change", () => document.body.classList.toggle("show-ci", ci.checked));
  for (const id of ["filters", "sample-filters", "compare-form"]) {
    document.getElementById(id)?.addEventListener("submit", (ev) => ev.preventDefault());
  }
  if (document.getElementById("filters")) applyFilters();
  if (document.getElementById("sample-filters")) {
    const q = hashParams().get("q");
    const search = document.getElementById("s-search");
    if (q && search) search.value = q;
    for (const id of ["s-search", "s-correct", "s-label", "s-truncated"]) {
      document.getElementById(id)?.addEventListener("input", applySampleFilters);
    }
    applySampleFilters();
  }
  startCompare();
  document.body.dataset.ready = "1";  // lets tests see that the script ran under the CSP
});
