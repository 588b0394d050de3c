// Sorting and filtering of the leaderboard tables. Reads only the DOM the builder wrote;
// never builds HTML from strings, so data in cells stays text.
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

function applyFilters() {
  const q = (document.getElementById("f-search")?.value || "").trim().toLowerCase();
  const domain = document.getElementById("f-domain")?.value || "";
  const family = document.getElementById("f-family")?.value || "";
  const mode = document.getElementById("f-mode")?.value || "";
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
    for (const cell of table.querySelectorAll("[data-domain]")) {
      const d = cell.getAttribute("data-domain");
      cell.hidden = Boolean(domain) && Boolean(d) && d !== domain;
    }
    const section = table.closest("section.group");
    if (section) section.hidden = !Array.from(table.tBodies[0].rows).some((r) => !r.hidden);
  }
  const counter = document.getElementById("row-count");
  if (counter) counter.textContent = `${shown} of ${total} rows shown`;
}

document.addEventListener("DOMContentLoaded", () => {
  document.body.dataset.ready = "1";  // lets tests see that the script ran under the CSP
  for (const button of document.querySelectorAll("th button[data-sort-col]")) {
    button.addEventListener("click", () => {
      const table = button.closest("table");
      sortTable(table, Number(button.dataset.sortCol), button.dataset.type, button.closest("th"));
    });
  }
  for (const id of ["f-search", "f-domain", "f-family", "f-mode"]) {
    const el = document.getElementById(id);
    if (el) el.addEventListener("input", applyFilters);
  }
  const ci = document.getElementById("f-ci");
  if (ci) ci.addEventListener("change", () => document.body.classList.toggle("show-ci", ci.checked));
  const form = document.getElementById("filters");
  if (form) form.addEventListener("submit", (ev) => ev.preventDefault());
  if (document.getElementById("filters")) applyFilters();
});
