"""Render the static leaderboard: results directories in, a self-contained folder of HTML out."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from cotbench.analysis.profile import Profile
from cotbench.analysis.trajectory import Trajectory
from cotbench.errors import CotbenchError, ResultsError
from cotbench.results.schema import SCHEMA_VERSION, SampleRecord
from cotbench.site import charts
from cotbench.site.assets import static_dir, templates_dir
from cotbench.site.data import (
    CAPABILITY_DOMAINS,
    DOMAINS,
    Entry,
    Estimate,
    SiteData,
    compliance_rate,
    load_site_data,
    metric,
    token_cost,
)
from cotbench.site.profiles import profile_job, trajectory_job
from cotbench.site.sanitize import safe_url, slugify
from cotbench.site.headlines import Summary, summarize

PAGE_SIZE = 25  # samples per sample-browser page
SMALL_SITE = 12  # up to this many runs, worker processes cost more than they save
MAX_BARS = 40  # a task chart with more models than this shows dots by family instead of a bar each
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'")


@dataclass
class BuildReport:
    output: Path
    pages: int = 0
    models: int = 0
    tasks: int = 0
    problems: list[str] = field(default_factory=list)


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _signed(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:+.{digits}f}"


def _ci(est: Estimate | None) -> str:
    if est is None or not est.ok:
        return "no estimate"
    return f"{est.value:.3f}, 95% CI {est.low:.3f} to {est.high:.3f} (n={est.n})"


def _dci(est: Any) -> str:
    if est is None or est.delta is None:
        return "no comparison"
    ci = f", {1 - 0.05:.0%} CI {est.ci_low:+.3f} to {est.ci_high:+.3f}" if est.ci_low is not None else ""
    return f"delta {est.delta:+.3f}{ci} ({est.n} paired items)"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # every template, whatever its extension: everything from results is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, signed=_signed, ci=_ci, safe_url=safe_url, tojson_sorted=_json_text, dci=_dci, slug=slugify)
    env.globals.update(domains=DOMAINS, capability_domains=CAPABILITY_DOMAINS, domain_labels=charts.DOMAIN_LABELS,
                       csp=CSP, schema_version=SCHEMA_VERSION)
    return env


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1, default=str)


class _Writer:
    """Writes pages under the output folder and counts them; paths are always built from slugs."""

    def __init__(self, out: Path, env: jinja2.Environment) -> None:
        self.out, self.env, self.pages = out, env, 0
        self.globals: dict[str, Any] = {}  # context every page of the sample browser shares
        self._templates: dict[str, jinja2.Template] = {}

    def page(self, rel: str, template: str, **ctx: Any) -> None:
        depth = rel.count("/")
        tpl = self._templates.get(template) or self._templates.setdefault(template, self.env.get_template(template))
        self.text(rel, tpl.render(root="../" * depth, **ctx))
        self.pages += 1

    def text(self, rel: str, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


def _row(entry: Entry, summary: Summary, group: str, prof: Profile | None, mismatches: list[str]) -> dict[str, Any]:
    """One leaderboard row: what the table shows and the CSV/JSON downloads contain."""
    row: dict[str, Any] = {"group": group, "run_id": entry.run_id, "model": entry.label, "step": entry.step,
                           "family": entry.family, "scorer_modes": " ".join(entry.scorer_modes),
                           "mismatches_allowed": " ".join(mismatches),
                           "reference": entry.reference.run_id if entry.reference else None}
    for d in CAPABILITY_DOMAINS:
        est = summary.domains.get(d)
        row[f"{d}"] = est.value if est else None
        row[f"{d}_ci_low"] = est.low if est else None
        row[f"{d}_ci_high"] = est.high if est else None
    row["harmful_compliance"] = summary.harmful_compliance.value if summary.harmful_compliance else None
    row["over_refusal"] = summary.over_refusal.value if summary.over_refusal else None
    row["tokens"] = summary.tokens
    for d in (*CAPABILITY_DOMAINS, "safety_harmful", "safety_benign"):
        dp = prof.domain(d) if prof else None
        est = (dp.safety if d.startswith("safety") else dp.score) if dp else None
        row[f"delta_{d}"] = est.delta if est else None
        row[f"delta_{d}_ci_low"] = est.ci_low if est else None
        row[f"delta_{d}_ci_high"] = est.ci_high if est else None
    row["ti_transfer"] = prof.transferability.ti_other if prof else None
    row["ti_general"] = prof.transferability.ti_non if prof else None
    return row


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text from results (labels, run ids) that starts like a
    formula (= + - @, tab, CR) gets a leading apostrophe; numbers, and text that is a plain number
    such as -0.5, stay as they are. A CR inside becomes a line feed, which the writer quotes (it
    would leave a bare CR unquoted, and readers would split the row there)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _downloads(rows: list[dict[str, Any]]) -> tuple[str, str]:
    clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
    buf = io.StringIO()
    if clean:
        writer = csv.DictWriter(buf, fieldnames=list(clean[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in clean)
    return buf.getvalue(), json.dumps(clean, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _sample_pages(entry: Entry, task: str) -> Iterator[list[SampleRecord]]:
    chunk: list[SampleRecord] = []
    for rec in entry.run.iter_samples(task):
        chunk.append(rec)
        if len(chunk) == PAGE_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build_site(
    results: list[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    reference_map: str | os.PathLike[str] | None = None,
    title: str = "cotbench leaderboard",
    samples: bool = True,
    strict: bool = False,
    workers: int | None = None,
    allow_mismatch: Iterable[str] = (),
) -> BuildReport:
    """Build the site into ``output`` (replaced); raises CotbenchError if nothing could be built.

    Malformed or partial inputs are listed in ``BuildReport.problems`` and skipped; with
    ``strict`` any problem is an error. ``workers``: processes for statistics and charts
    (0: none; default: one per core for sites of more than a few runs). Runs with different
    generation settings are ranked in separate groups and their deltas are not computed (a
    problem is reported) unless the fields are in ``allow_mismatch`` (then listed on the site).
    """
    if workers is not None and workers < 0:
        raise CotbenchError(f"--workers must be 0 (no worker processes) or more, got {workers}")
    out = Path(output)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "index.html").is_file())):
        raise CotbenchError(f"{out}: exists and is not a previous leaderboard build; choose another --output")
    charts.require_renderer()
    data = load_site_data(list(results), reference_map, allow_mismatch)
    if strict and data.problems:
        raise CotbenchError(f"{len(data.problems)} problem(s) in the results, first: {data.problems[0]}")
    if not data.entries:
        first = f": {data.problems[0]}" if data.problems else ""
        raise CotbenchError(f"no readable runs in the given results{first}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(static_dir(), out / "assets")
    writer = _Writer(out, _env())
    report = BuildReport(output=out, problems=list(data.problems))
    if workers is None:
        workers = (os.cpu_count() or 1) if len(data.entries) > SMALL_SITE else 0
    _render(data, writer, title, samples, report, workers)
    if strict and report.problems:
        raise CotbenchError(f"{len(report.problems)} problem(s) in the results, first: {report.problems[0]}")
    report.pages, report.models, report.tasks = writer.pages, len(data.entries), len(data.tasks)
    return report


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    n = max(1, min(n, len(items)))
    return [c for c in (items[i::n] for i in range(n)) if c]


def _render(data: SiteData, w: _Writer, title: str, with_samples: bool, report: BuildReport, workers: int) -> None:
    """Statistics and charts run in worker processes while this one writes the sample pages."""
    summaries = {e.run_id: summarize(e) for e in data.entries}
    group_names = {g.id: f"Group {chr(65 + i) if i < 26 else i + 1}" for i, g in enumerate(data.groups)}
    task_slugs = {(name, v.info.hash): v.slug for name, versions in data.tasks.items() for v in versions}
    by_id = {e.run_id: e for e in data.entries}
    w.globals = {"site_title": title, "task_slugs": task_slugs, "group_names": group_names, "profiles": {}}
    series = _series(data.entries)
    jobs = 2 * max(1, workers)
    with charts.new_pool(workers) as pool:
        pairs = [(e.run_id, str(e.run.path), str(e.reference.run.path)) for e in data.entries if e.reference]
        prof_futs = [pool.submit(profile_job, c, data.allow_mismatch) for c in _chunks(pairs, jobs)]
        traj_futs = [pool.submit(trajectory_job, c, data.allow_mismatch)
                     for c in _chunks([(k, [str(e.run.path) for e in m]) for k, m in series.items()], jobs)]
        pending = charts.submit(pool, _static_charts(data, summaries), jobs)
        examples: dict[tuple[str, str], SampleRecord] = {}  # (task, hash) -> an item shown on the task page
        sample_counts = {e.run_id: {t: _write_samples(w, e, t, report, examples) for t in sorted(e.tasks)}
                         if with_samples else {} for e in data.entries}
        profiles: dict[str, Profile] = {}
        for fut in prof_futs:
            for run_id, prof, err in fut.result():
                if prof is not None:
                    profiles[run_id] = prof
                else:
                    e = by_id[run_id]
                    msg = f"{run_id} vs reference {e.reference.run_id if e.reference else '?'}: not compared ({err})"
                    e.problems.append(msg)
                    report.problems.append(msg)
        trajectories: dict[str, Trajectory] = {}
        for fut in traj_futs:
            for key, traj, err in fut.result():
                if traj is not None:
                    trajectories[key] = traj
                else:
                    report.problems.append(f"series {key}: no trajectory ({err})")
        points = [{"label": e.display, "family": e.family, "href": f"models/{e.slug}.html", "gain": p.reasoning_gain,
                       "cost": p.safety_cost, "group": group_names[e.group]}
                  for e in data.entries if (p := profiles.get(e.run_id)) and p.reasoning_gain is not None
                  and p.safety_cost is not None]
        pending += charts.submit(pool, _analysis_charts(points, trajectories), jobs)
        svgs = charts.collect(pending)

    ctx = {"site_title": title, "group_names": group_names, "task_slugs": task_slugs, "profiles": profiles}
    rows = [_row(e, summaries[e.run_id], group_names[e.group], profiles.get(e.run_id), g.mismatches_allowed)
            for g in data.groups for e in g.entries]
    csv_text, json_text = _downloads(rows)
    w.text("leaderboard.csv", csv_text)
    w.text("leaderboard.json", json_text)
    families = sorted({e.family for e in data.entries})
    modes = sorted({m for e in data.entries for m in e.scorer_modes})
    w.page("index.html", "index.html", groups=data.groups, summaries=summaries, families=families, modes=modes,
           tasks=data.tasks, **ctx)
    w.page("plane.html", "plane.html", svg=svgs.get("c-plane"), points=points, **ctx)
    w.page("methodology.html", "methodology.html", groups=data.groups, tasks=data.tasks, **ctx)
    for e in data.entries:
        traj = trajectories.get(e.series or "")
        w.page(f"models/{e.slug}.html", "model.html", e=e, s=summaries[e.run_id], svg=svgs.get(f"c-{e.slug}"),
               sample_counts=sample_counts[e.run_id], series=series.get(e.series or "", []), trajectory=traj,
               trajectory_svg=svgs.get(f"c-{slugify(e.series)}") if traj else None,
               compliance_rate=compliance_rate, token_cost=token_cost, metric=metric, **ctx)
    for name, versions in data.tasks.items():
        for v in versions:
            w.page(f"tasks/{v.slug}.html", "task.html", name=name, v=v, versions=versions, svg=svgs.get(f"c-{v.slug}"),
                   example=examples.get((name, v.info.hash)),
                   metric=metric, compliance_rate=compliance_rate, **ctx)


def _static_charts(data: SiteData, summaries: dict[str, Summary]) -> list[charts.Chart]:
    """Charts that need no comparison with a reference: model profiles and task overviews."""
    todo: list[charts.Chart] = []
    for e in data.entries:
        rows = _profile_rows(e, summaries[e.run_id])
        if rows:
            todo.append(charts.interval_bars(f"c-{e.slug}", rows, f"Profile of {e.display}",
                                             f"Domain scores and safety rates with 95% intervals for {e.display}",
                                             "kind", legend=False))
    for name, versions in data.tasks.items():
        for v in versions:
            rows = [dict(label=e.display, group=e.family, href=f"../models/{e.slug}.html", **_interval(metric(tr, "score")))
                    for e, tr in v.results]
            rows = [r for r in rows if r["value"] is not None]
            chart_title, chart_desc = f"Scores on {name} (version {v.info.version})", f"Score per model on task {name}"
            if len(rows) > MAX_BARS:  # hundreds of labelled bars are slow to draw and to read
                todo.append(charts.dots(f"c-{v.slug}", rows, chart_title, chart_desc + ", by family"))
            elif rows:
                todo.append(charts.interval_bars(f"c-{v.slug}", rows, chart_title, chart_desc + " with 95% intervals",
                                                 "family"))
    return todo


def _analysis_charts(points: list[dict[str, Any]], trajectories: dict[str, Trajectory]) -> list[charts.Chart]:
    todo = []
    if points:
        todo.append(charts.plane("c-plane", points, "Capability-cost plane",
                                 "Each point is a model against its reference: x is the in-domain score gain, "
                                 "y the change in harmful-compliance rate (up is less safe)."))
    for key, traj in trajectories.items():
        todo.append(charts.trajectory(f"c-{slugify(key)}", _trajectory_rows(traj), f"Trajectory of {key}",
                                      f"Domain scores of {key} over {len(traj.steps) + 1} checkpoints, "
                                      f"with 95% intervals; verdicts: {_verdict_text(traj)}"))
    return todo


def _series(entries: list[Entry]) -> dict[str, list[Entry]]:
    """Checkpoint series with at least two steps, in step order."""
    out: dict[str, list[Entry]] = {}
    for e in entries:
        if e.series is not None:
            out.setdefault(e.series, []).append(e)
    return {k: sorted(v, key=lambda e: (e.step, e.run_id)) for k, v in sorted(out.items()) if len(v) > 1}


def _trajectory_rows(traj: Trajectory) -> list[dict[str, Any]]:
    """Domain-level series of a trajectory, the reference step included."""
    rows = []
    for sr in traj.series:
        if sr.kind != "domain":
            continue
        name = charts.DOMAIN_LABELS.get(sr.domain, sr.domain) if sr.metric == "score" else sr.metric.replace("_", " ")
        pts = [(sr.reference_step, sr.reference_value, sr.reference_ci_low, sr.reference_ci_high)]
        pts += [(p.step, p.value, p.ci_low, p.ci_high) for p in sr.points]
        for step, value, low, high in pts:
            rows.append({"step": step, "series": name, "value": value, "low": low, "high": high,
                             "desc": f"{name} at step {step}: {value:.3f}"})
    return rows


def _verdict_text(traj: Trajectory) -> str:
    return "; ".join(f"{sr.name}: {sr.verdict}" for sr in traj.series if sr.kind == "domain")


def _interval(est: Estimate | None) -> dict[str, float | None]:
    if est is None or not est.ok:
        return {"value": None, "low": None, "high": None}
    return {"value": est.value, "low": est.low, "high": est.high}


def _profile_rows(e: Entry, summary: Summary) -> list[dict[str, Any]]:
    """Domain-level bars of a model page (its task table gives every task's interval)."""
    named = [(charts.DOMAIN_LABELS[d], est) for d, est in summary.domains.items()]
    named += [("harmful compliance", summary.harmful_compliance), ("over-refusal", summary.over_refusal)]
    return [dict(label=name, group="safety rate" if name in ("harmful compliance", "over-refusal") else "score",
                 **_interval(est)) for name, est in named if est is not None and est.ok]


def _write_samples(w: _Writer, e: Entry, task: str, report: BuildReport,
                   examples: dict[tuple[str, str], SampleRecord]) -> int:
    """Sample browser pages for one run and task; a broken samples file is reported, not fatal."""
    tslug = slugify(task)
    try:
        pages = list(_sample_pages(e, task))
    except ResultsError as exc:
        report.problems.append(str(exc))
        return 0
    if pages:
        examples.setdefault((task, e.tasks[task].task.hash), pages[0][0])
    for i, chunk in enumerate(pages, 1):
        w.page(f"samples/{e.slug}/{tslug}/{i}.html", "samples.html", e=e, task=task, tr=e.tasks[task],
               records=chunk, page=i, n_pages=len(pages), tslug=tslug, **w.globals)
    return sum(len(c) for c in pages)
