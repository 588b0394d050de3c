"""The dataset card (README.md) of a results repo, generated from the manifests and task
results of every run in it.

The YAML front matter holds the license (the tasks' own where they agree, else ``other`` with the
per-task licenses in the text), tags, and one ``configs`` entry per task so that
``datasets.load_dataset(repo, task)`` and the dataset viewer read the samples of every run.
The text has a table of the runs (model, revision, suite, engine, cotbench and schema versions,
a link to each run's folder) and, per run, each task's headline metric with its direction, then
the domain means. cotbench writes only between its two markers and owns only the front-matter
keys it sets (and its own ``configs``): what a person adds outside them is kept on every push.
Text from results files (labels, ids, licenses) is escaped for Markdown.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from typing import Any

from cotbench.domains import DOMAIN_TABLE, METRIC_LABELS, domain_info, domain_order
from cotbench.export.metric_direction import arrow
from cotbench.results.aggregate import finite_mean
from cotbench.results.schema import SCHEMA_VERSION, RunManifest, TaskResult

BEGIN = "<!-- cotbench:begin (written by `cotbench push`; edit outside these markers) -->"
END = "<!-- cotbench:end -->"
RUNS_DIR = "runs"
SAMPLES_SPLIT = "samples"
TAGS = ["cotbench", "evaluation", "reasoning"]
HOMEPAGE = "https://github.com/cotbench/cotbench"
# Hub license ids a task's license text can start with.
KNOWN_LICENSES = {"mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc0-1.0",
                  "bsd-2-clause", "bsd-3-clause", "gpl-3.0", "lgpl-3.0", "odc-by", "cdla-permissive-2.0"}
MIXED_LICENSE = "mixed-per-task"
_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_OWN_CONFIG = re.compile(rf"^{RUNS_DIR}/\*/tasks/[^/]+/samples\.jsonl$")


@dataclass
class CardRun:
    """One run as the card shows it."""

    manifest: RunManifest
    tasks: list[TaskResult]  # the tasks uploaded (withheld ones are not)
    withheld: list[str] = field(default_factory=list)  # tasks left out, with why in the card


def md(text: object) -> str:
    """Plain Markdown on one line, every punctuation mark escaped (safe in a table cell)."""
    return _PUNCT.sub(r"\\\1", " ".join(_CONTROL.sub(" ", str(text)).split()))


def hub_license(text: str) -> str | None:
    """The Hub license id a task's license text names, if it starts with one."""
    first = text.strip().split(" ")[0].lower() if text.strip() else ""
    return first if first in KNOWN_LICENSES else None


def card_license(runs: list[CardRun]) -> dict[str, str]:
    """The front matter's license keys: the one license every task has, else ``other``."""
    ids = {hub_license(t.task.license) for r in runs for t in r.tasks}
    if len(ids) == 1 and (only := ids.pop()) is not None:
        return {"license": only}
    return {"license": "other", "license_name": MIXED_LICENSE}


def _configs(runs: list[CardRun]) -> list[dict[str, Any]]:
    names = sorted({t.task.name for r in runs for t in r.tasks})
    return [
        {"config_name": n, "data_files": [{"split": SAMPLES_SPLIT, "path": f"{RUNS_DIR}/*/tasks/{n}/samples.jsonl"}]}
        for n in names
    ]


def _pct(value: float, se: float | None = None) -> str:
    if math.isnan(value):
        return "–"
    return f"{100 * value:.1f}" + ("" if se is None or math.isnan(se) else f" ± {100 * se:.1f}")


def _metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def _headline(tr: TaskResult) -> tuple[str, float, float]:
    info = domain_info(tr.task.domain)
    mv = tr.metrics.get(info.metric)
    return _metric_label(info.metric), (mv.value if mv else math.nan), (mv.stderr if mv else math.nan)


def _runs_table(runs: list[CardRun], tree_url: str) -> list[str]:
    lines = ["| run | model | revision | step | suite | engine | tasks | finished (UTC) | cotbench | schema |",
             "|---|---|---|---:|---|---|---:|---|---|---|"]
    for r in runs:
        m, model = r.manifest, r.manifest.model
        revision = model.resolved_revision or model.revision or "–"
        finished = m.finished_at.strftime("%Y-%m-%d %H:%M") if m.finished_at else "–"
        link = f"[{md(m.run_id)}]({tree_url}/{RUNS_DIR}/{m.run_id})"
        lines.append(f"| {link} | {md(model.label)} ({md(model.model or model.spec)}) | {md(revision)} | "
                     f"{'' if model.step is None else model.step} | {md(m.suite or '–')} | {md(m.engine)} | "
                     f"{len(r.tasks)} | {finished} | {md(m.cotbench_version or '–')} | {md(m.schema_version)} |")
    return lines


def _metrics_table(r: CardRun) -> list[str]:
    lines = [f"### {md(r.manifest.run_id)}", "",
             "| task | domain | metric | % ± se | items | trunc % | task version |",
             "|---|---|---|---:|---:|---:|---|"]
    by_domain: dict[str, list[float]] = {}
    for tr in sorted(r.tasks, key=lambda t: (domain_order(t.task.domain), t.task.name)):
        label, value, se = _headline(tr)
        info = domain_info(tr.task.domain)
        by_domain.setdefault(tr.task.domain, []).append(value)
        lines.append(f"| {md(tr.task.name)} | {md(info.label)} | {md(label)} {arrow(info.higher_is_better)} | "
                     f"{_pct(value, se)} | {tr.n_items} | {100 * tr.truncation_rate:.0f} | "
                     f"{md(tr.task.version)} ({md(tr.task.hash)}) |")
    for d in DOMAIN_TABLE:
        if d.name not in by_domain:
            continue
        mean, used = finite_mean(by_domain[d.name])
        of = f" ({used}/{len(by_domain[d.name])} tasks)" if used < len(by_domain[d.name]) else ""
        lines.append(f"| **{md(d.label)}: mean** | | {md(_metric_label(d.metric))} {arrow(d.higher_is_better)}{of} | "
                     f"{_pct(mean) if used else '–'} | | | |")
    if r.withheld:
        lines += ["", f"Withheld (their license forbids redistribution): {', '.join(md(t) for t in r.withheld)}."]
    return lines


def _licenses(runs: list[CardRun]) -> list[str]:
    seen: dict[str, str] = {}
    for r in runs:
        for t in r.tasks:
            seen.setdefault(t.task.name, t.task.license or "not stated")
    lines = ["## Licenses", "",
             "The samples hold each benchmark's prompts and targets under the benchmark's own license:", "",
             "| task | license |", "|---|---|"]
    lines += [f"| {md(name)} | {md(lic)} |" for name, lic in sorted(seen.items())]
    return lines


def cotbench_section(repo_id: str, runs: list[CardRun], tree_url: str) -> str:
    """The generated part of the card's text, markers included."""
    versions = sorted({r.manifest.cotbench_version for r in runs if r.manifest.cotbench_version})
    out = [BEGIN,
           (f"Evaluation runs written by [cotbench]({HOMEPAGE}) ({', '.join(md(v) for v in versions) or 'version ?'}; "
            f"results schema {SCHEMA_VERSION}): one folder per run under `{RUNS_DIR}/`, as `cotbench run` wrote it "
            "(`manifest.json`, and per task `tasks/<task>/metrics.json` and `samples.jsonl`)."),
           "",
           "```bash",
           f"cotbench pull --repo {repo_id} --dest results/   # then: cotbench profile / gate / leaderboard build",
           "```",
           "",
           (f"Each task's samples load with `datasets.load_dataset(\"{repo_id}\", \"<task>\")` (split "
            f"`{SAMPLES_SPLIT}`, every run's rows, told apart by `run_id`)."),
           "",
           "## Runs", "", *_runs_table(runs, tree_url), "",
           "## Metrics", "",
           ("Each task's headline metric as a percentage ± its standard error over items (↑ higher is better, "
            "↓ lower is better), then the unweighted mean over each domain's tasks."), ""]
    for r in runs:
        out += [*_metrics_table(r), ""]
    out += [*_licenses(runs), END]
    return "\n".join(out) + "\n"


def _merged_metadata(existing: dict[str, Any], runs: list[CardRun]) -> dict[str, Any]:
    meta = {k: v for k, v in existing.items() if k not in ("license", "license_name", "license_link", "configs")}
    meta.update(card_license(runs))
    tags = [t for t in existing.get("tags") or [] if isinstance(t, str)]
    meta["tags"] = tags + [t for t in TAGS if t not in tags]
    meta.setdefault("pretty_name", "cotbench results")
    configs = existing.get("configs")
    theirs = [c for c in configs if not _is_own_config(c)] if isinstance(configs, list) else []
    ours = _configs(runs)
    names = {c["config_name"] for c in ours}
    meta["configs"] = [c for c in theirs if not (isinstance(c, dict) and c.get("config_name") in names)] + ours
    return meta


def _is_own_config(config: Any) -> bool:
    if not isinstance(config, dict):
        return False
    files = config.get("data_files")
    paths = [f.get("path") if isinstance(f, dict) else f for f in (files if isinstance(files, list) else [files])]
    return bool(paths) and all(isinstance(p, str) and _OWN_CONFIG.match(p) for p in paths)


def render_card(repo_id: str, runs: list[CardRun], tree_url: str, existing: str | None = None) -> str:
    """README.md for the repo: ``existing`` (the card there now, if any) with cotbench's metadata
    keys and section replaced, or a new card."""
    from huggingface_hub import DatasetCard, DatasetCardData

    section = cotbench_section(repo_id, runs, tree_url)
    if existing is not None:
        old = DatasetCard(existing, ignore_metadata_errors=True)
        meta, text = old.data.to_dict(), old.text
    else:
        meta, text = {}, ""
    data = DatasetCardData(**_merged_metadata(meta, runs))
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    elif text.strip():
        text = text.rstrip("\n") + "\n\n" + section
    else:
        text = f"\n# cotbench results: {md(repo_id)}\n\n{section}"
    return f"---\n{data.to_yaml()}\n---\n{text}"
