"""Render the static leaderboard: results directories in, a self-contained folder of HTML out."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from cotbench.analysis.profile import Profile
from cotbench.analysis.trajectory import Trajectory
from cotbench.domains import CAPABILITY_DOMAINS, DOMAIN_TABLE, DOMAINS, METRIC_LABELS, domain_info, domain_label
from cotbench.errors import CotbenchError
from cotbench.redact import redactor
from cotbench.results.estimate import Estimate
from cotbench.results.schema import SCHEMA_VERSION, SampleRecord
from cotbench.site import charts
from cotbench.site.assets import static_dir, templates_dir
from cotbench.site.compare import compare_rows, flips
from cotbench.site.data import Entry, SiteData, TaskVersion, load_site_data
from cotbench.site.downloads import csv_cell, downloads, leaderboard_row
from cotbench.site.headlines import Summary, summarize, token_cost
from cotbench.site.items import ItemIndex, TaskValues
from cotbench.site.model_meta import model_meta
from cotbench.site.profiles import profile_job, trajectory_job
from cotbench.site.samples import samples_dir, scan_task
from cotbench.site.sanitize import safe_url, slugify
from cotbench.site.series import Series
from cotbench.site.transfer import ti_rows
from cotbench.site.writer import PageWriter

__all__ = ["CSP", "PAGE_SIZE", "BuildReport", "build_site", "csv_cell"]

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


@dataclass(frozen=True)
class Column:
    """A column of the index table the column chooser can hide (``on``: shown at first)."""

    id: str
    label: str
    on: bool = True
    domain: str = ""  # the domain filter hides it too


def index_columns() -> list[Column]:
    cols = [Column("family", "Family"), Column("step", "Step")]
    for d in CAPABILITY_DOMAINS:
        cols += [Column(d, domain_label(d), domain=d), Column(f"delta-{d}", f"Δ {domain_label(d)}", domain=d)]
    cols += [Column("harmful", "Harmful compliance", domain="safety"),
             Column("over-refusal", "Over-refusal", domain="safety"),
             Column("tokens", "Tokens / sample"), Column("ti", "Transferability"),
             Column("params", "Params", on=False), Column("precision", "Precision", on=False),
             Column("base", "Base model", on=False), Column("card", "Model card", on=False)]
    return cols


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _signed(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:+.{digits}f}"


def _ci(est: Estimate | None) -> str:
    if est is None or not est.ok or est.low is None or est.high is None:
        return "no estimate"
    return f"{est.model:.3f}, 95% CI {est.low:.3f} to {est.high:.3f} (n={est.n})"


def _dci(est: Any) -> str:
    if est is None or est.delta is None:
        return "no comparison"
    ci = f", 95% CI {est.ci_low:+.3f} to {est.ci_high:+.3f}" if est.ci_low is not None else ""
    return f"delta {est.delta:+.3f}{ci} ({est.n} paired items)"


def _env(prov: Callable[[object], str]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # every template, whatever its extension: everything from results is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, signed=_signed, ci=_ci, safe_url=safe_url, tojson_sorted=_json_text, dci=_dci,
                       slug=slugify, prov=prov)
    env.globals.update(domains=DOMAINS, capability_domains=CAPABILITY_DOMAINS,
                       domain_labels={d.name: d.label for d in DOMAIN_TABLE}, domain_info=domain_info,
                       metric_labels=METRIC_LABELS, csp=CSP, schema_version=SCHEMA_VERSION, model_meta=model_meta,
                       token_cost=token_cost, samples_dir=samples_dir)
    return env


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1, default=str)


def build_site(
    results: list[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    reference_map: str | os.PathLike[str] | None = None,
    title: str = "cotbench leaderboard",
    samples: bool = True,
    strict: bool = False,
    workers: int | None = None,
    allow_mismatch: Iterable[str] = (),
    redact_paths: bool = True,
) -> BuildReport:
    """Build the site into ``output`` (replaced); raises CotbenchError if nothing could be built.

    Malformed or partial inputs are listed in ``BuildReport.problems`` and skipped; with
    ``strict`` any problem is an error. ``workers``: processes for statistics and charts
    (0: none; default: one per core for sites of more than a few runs). Runs are ranked only
    within comparability groups (suite, task versions, scorer modes, item sets, settings); a
    delta between runs whose settings differ is not computed (a problem is reported) unless
    the fields are in ``allow_mismatch`` (then listed on the site). ``redact_paths``: absolute
    local paths in provenance are cut to their last two parts (see ``cotbench.redact``).
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
    prov = redactor(redact_paths)
    writer = PageWriter(out, _env(prov))
    report = BuildReport(output=out, problems=list(data.problems))
    if workers is None:
        workers = (os.cpu_count() or 1) if len(data.entries) > SMALL_SITE else 0
    _render(data, writer, title, samples, report, workers, prov)
    if strict and report.problems:
        raise CotbenchError(f"{len(report.problems)} problem(s) in the results, first: {report.problems[0]}")
    report.pages, report.models, report.tasks = writer.pages, len(data.entries), len(data.tasks)
    return report


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    n = max(1, min(n, len(items)))
    return [c for c in (items[i::n] for i in range(n)) if c]


@dataclass
class _Scans:
    """What one pass over every run's samples gathered."""

    values: dict[tuple[str, str], TaskValues | None] = field(default_factory=dict)  # (run id, task)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # run id -> task -> samples
    indexes: dict[tuple[str, str], ItemIndex] = field(default_factory=dict)  # (task, hash)
    examples: dict[tuple[str, str], SampleRecord] = field(default_factory=dict)  # (task, hash) -> an item


def _scan(data: SiteData, w: PageWriter, with_samples: bool, report: BuildReport) -> _Scans:
    scans = _Scans()
    for e in data.entries:
        counts = scans.counts.setdefault(e.run_id, {})
        for task in sorted(e.tasks):
            key = (task, e.tasks[task].task.hash)
            scan = scan_task(w if with_samples else None, e, task, scans.indexes.setdefault(key, ItemIndex()),
                             PAGE_SIZE)
            if scan.problem:
                report.problems.append(scan.problem)
            scans.values[(e.run_id, task)] = scan.values
            counts[task] = scan.count
            if scan.example is not None:
                scans.examples.setdefault(key, scan.example)
    return scans


def _render(data: SiteData, w: PageWriter, title: str, with_samples: bool, report: BuildReport, workers: int,
            prov: Callable[[object], str]) -> None:
    """Statistics and charts run in worker processes while this one reads the samples and writes their pages."""
    group_names = {g.id: f"Group {chr(65 + i) if i < 26 else i + 1}" for i, g in enumerate(data.groups)}
    task_slugs = {(name, v.info.hash): v.slug for name, versions in data.tasks.items() for v in versions}
    by_id = {e.run_id: e for e in data.entries}
    series = {s.slug: s for s in data.series}
    w.globals = {"site_title": title, "task_slugs": task_slugs, "group_names": group_names, "profiles": {}}
    jobs = 2 * max(1, workers)
    with charts.new_pool(workers) as pool:
        pairs = [(e.run_id, str(e.run.path), str(e.reference.run.path)) for e in data.entries if e.reference]
        prof_futs = [pool.submit(profile_job, c, data.allow_mismatch) for c in _chunks(pairs, jobs)]
        traj_jobs = [(s.slug, [str(e.run.path) for e in s.compared], str(s.reference.run.path))
                     for s in data.series if s.compared]
        traj_futs = [pool.submit(trajectory_job, c, data.allow_mismatch) for c in _chunks(traj_jobs, jobs)]
        scans = _scan(data, w, with_samples, report)
        summaries = {e.run_id: summarize(e, {t: vals for t in e.tasks if (vals := scans.values.get((e.run_id, t)))})
                     for e in data.entries}
        pending = charts.submit(pool, _static_charts(data, summaries), jobs)
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
        for tfut in traj_futs:
            for key, traj, err in tfut.result():
                if traj is not None:
                    trajectories[key] = traj
                else:
                    report.problems.append(f"series {series[key].name}: no trajectory ({err})")
        points = [pt for e in data.entries
                  if (pr := profiles.get(e.run_id)) and (pt := _plane_point(e, pr, group_names[e.group])) is not None]
        pending += charts.submit(pool, _analysis_charts(points, trajectories, series, prov), jobs)
        svgs = charts.collect(pending)

    ctx = {"site_title": title, "group_names": group_names, "task_slugs": task_slugs, "profiles": profiles}
    rows = [leaderboard_row(e, summaries[e.run_id], group_names[e.group], profiles.get(e.run_id),
                            g.mismatches_allowed, series[e.series].name if e.series else None, prov)
            for g in data.groups for e in g.entries]
    csv_text, json_text = downloads(rows)
    w.text("leaderboard.csv", csv_text)
    w.text("leaderboard.json", json_text)
    families = sorted({e.family for e in data.entries})
    modes = sorted({m for e in data.entries for m in e.scorer_modes})
    w.page("index.html", "index.html", groups=data.groups, summaries=summaries, families=families, modes=modes,
           tasks=data.tasks, columns=index_columns(), **ctx)
    w.page("plane.html", "plane.html", svg=svgs.get("c-plane"), points=points, **ctx)
    w.page("methodology.html", "methodology.html", groups=data.groups, tasks=data.tasks, **ctx)
    compare_slugs = {(name, tv.info.hash): tv.slug for name, versions in data.tasks.items() for tv in versions
                     if len(tv.results) > 1}
    for e in data.entries:
        own = series.get(e.series or "")
        traj = trajectories.get(e.series or "")
        prof = profiles.get(e.run_id)
        changed = {t: flips(mine, theirs) for t in e.tasks if e.reference and e.reference.tasks.get(t) is not None
                   and e.reference.tasks[t].task.hash == e.tasks[t].task.hash
                   and (mine := scans.values.get((e.run_id, t))) is not None
                   and (theirs := scans.values.get((e.reference.run_id, t))) is not None}
        w.page(f"models/{e.slug}.html", "model.html", e=e, s=summaries[e.run_id], svg=svgs.get(f"c-{e.slug}"),
               sample_counts=scans.counts[e.run_id], series=own, trajectory=traj,
               trajectory_svg=svgs.get(f"c-{own.slug}") if own and traj else None, ti=ti_rows(prof) if prof else None,
               changed=changed, compare_slugs=compare_slugs, **ctx)
    for name, versions in data.tasks.items():
        for tv in versions:
            w.page(
                f"tasks/{tv.slug}.html",
                "task.html",
                name=name,
                v=tv,
                versions=versions,
                svg=svgs.get(f"c-{tv.slug}"),
                example=scans.examples.get((name, tv.info.hash)),
                summaries=summaries,
                sample_counts=scans.counts,
                compare=(name, tv.info.hash) in compare_slugs,
                **ctx,
            )
            if (name, tv.info.hash) in compare_slugs:
                _compare_page(w, name, tv, scans, ctx)


def _compare_page(w: PageWriter, name: str, v: TaskVersion, scans: _Scans, ctx: dict[str, Any]) -> None:
    index = scans.indexes[(name, v.info.hash)]
    w.page(f"compare/{v.slug}.html", "compare.html", name=name, v=v, rows=compare_rows(v, index, scans.values),
           sample_counts=scans.counts, **ctx)


def _plane_point(e: Entry, p: Profile, group: str) -> dict[str, Any] | None:
    """The model's point on the capability-cost plane; None without a reasoning gain and a safety cost."""
    gain_d, harm_d = p.domain("in_domain"), p.domain("safety_harmful")
    gain, cost = gain_d.score if gain_d else None, harm_d.safety if harm_d else None
    # The deltas are p.reasoning_gain and p.safety_cost.
    if gain is None or cost is None or gain.delta is None or cost.delta is None:
        return None
    return {
        "label": e.display,
        "family": e.family,
        "href": f"models/{e.slug}.html",
        "group": group,
        "gain": gain.delta,
        "gain_low": gain.ci_low,
        "gain_high": gain.ci_high,
        "cost": cost.delta,
        "cost_low": cost.ci_low,
        "cost_high": cost.ci_high,
    }


def _static_charts(data: SiteData, summaries: dict[str, Summary]) -> list[charts.Chart]:
    """Charts that need no comparison with a reference: model profiles and task overviews."""
    todo: list[charts.Chart] = []
    for e in data.entries:
        rows = _profile_rows(summaries[e.run_id])
        if rows:
            todo.append(charts.interval_bars(f"c-{e.slug}", rows, f"Profile of {e.display}",
                                             f"Domain scores and safety rates with 95% intervals for {e.display}",
                                             "kind", legend=False))
    for name, versions in data.tasks.items():
        for v in versions:
            rows = [dict(label=e.display, group=e.family, href=f"../models/{e.slug}.html",
                         **_interval(summaries[e.run_id].tasks[name].score)) for e, _ in v.results]
            rows = [r for r in rows if r["value"] is not None]
            chart_title, chart_desc = f"Scores on {name} (version {v.info.version})", f"Score per model on task {name}"
            if len(rows) > MAX_BARS:  # hundreds of labelled bars are slow to draw and to read
                todo.append(charts.dots(f"c-{v.slug}", rows, chart_title, chart_desc + ", by family"))
            elif rows:
                todo.append(charts.interval_bars(f"c-{v.slug}", rows, chart_title, chart_desc + " with 95% intervals",
                                                 "family"))
    return todo


def _analysis_charts(points: list[dict[str, Any]], trajectories: dict[str, Trajectory], series: dict[str, Series],
                     prov: Callable[[object], str]) -> list[charts.Chart]:
    todo = []
    if points:
        todo.append(charts.plane("c-plane", points, "Capability-cost plane",
                                 "Each point is a model against its reference: x is the in-domain score gain, "
                                 "y the change in harmful-compliance rate (up is less safe); whiskers are 95% "
                                 "intervals."))
    for slug, traj in trajectories.items():
        name = prov(series[slug].name)
        todo.append(charts.trajectory(f"c-{slug}", _trajectory_rows(traj), f"Trajectory of {name}",
                                      f"Domain scores of {name} over {len(traj.steps) + 1} checkpoints, "
                                      f"with 95% intervals; verdicts: {_verdict_text(traj)}"))
    return todo


def _trajectory_rows(traj: Trajectory) -> list[dict[str, Any]]:
    """Domain-level series of a trajectory, the reference step included."""
    rows = []
    for sr in traj.series:
        if sr.kind != "domain":
            continue
        name = domain_label(sr.domain) if sr.metric == "score" else METRIC_LABELS.get(sr.metric, sr.metric)
        pts: list[tuple[int, float | None, float | None, float | None]] = [
            (sr.reference_step, sr.reference_value, sr.reference_ci_low, sr.reference_ci_high)]
        pts += [(p.step, p.value, p.ci_low, p.ci_high) for p in sr.points]
        for step, value, low, high in pts:
            if value is None:  # nothing scored at that checkpoint: no point to draw (the table says so)
                continue
            rows.append({"step": step, "series": name, "value": value, "low": low, "high": high,
                         "desc": f"{name} at step {step}: {value:.3f}"})
    return rows


def _verdict_text(traj: Trajectory) -> str:
    return "; ".join(f"{sr.name}: {sr.verdict}" for sr in traj.series if sr.kind == "domain")


def _interval(est: Estimate | None) -> dict[str, float | None]:
    if est is None or not est.ok:
        return {"value": None, "low": None, "high": None}
    return {"value": est.model, "low": est.low, "high": est.high}


def _profile_rows(summary: Summary) -> list[dict[str, Any]]:
    """Domain-level bars of a model page (its task table gives every task's interval)."""
    named: list[tuple[str, str, Estimate | None]] = [
        (domain_info(d).metric_label, "score", est) for d, est in summary.domains.items()]
    named += [(METRIC_LABELS[m], "safety rate", est) for m, est in
              (("harmful_compliance", summary.harmful_compliance), ("over_refusal", summary.over_refusal))]
    return [dict(label=name, group=group, **_interval(est)) for name, group, est in named if est is not None and est.ok]
