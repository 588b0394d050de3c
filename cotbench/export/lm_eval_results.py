"""A run directory as lm-eval writes its own results: ``results_<date>.json`` and, per task,
``samples_<task>_<date>.jsonl`` under ``<out>/<model_name_sanitized>/``.

The layout, the top-level keys and the per-task entries follow lm-eval's
``EvaluationTracker.save_results_aggregated`` / ``save_results_samples`` and the ``EvalResults``
shape of ``lm_eval.result_schema``, so lm-eval's readers (``lm_eval.utils.make_table``, its W&B
logger, scripts that glob ``results_*.json``) read them. Task names are cotbench's lm-eval names
(``cotbench_<task>``) and every metric carries the filter ``all``, as in a native
``lm_eval --include_path tasks`` run: ``"score,all"`` and ``"score_stderr,all"``. Unlike a native
run, every cotbench metric is exported (``pass@k``, the safety rates, ``rate:<label>``), with its
standard error; an undefined value is NaN and its standard error ``"N/A"``, as lm-eval writes them.
The date in the file names is the run's end (UTC), so exporting the same run twice gives the
same files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cotbench.export.metric_direction import higher_is_better
from cotbench.export.run_view import RunView, hub_source, read_run
from cotbench.results.schema import (
    SCHEMA_VERSION,
    GenerationSettings,
    MetricValue,
    SampleRecord,
    TaskResult,
)
from cotbench.results.store import atomic_write_text
from cotbench.tasks.catalog import LM_EVAL_PREFIX

FILTER = "all"  # cotbench's lm-eval tasks keep all k responses under a filter of this name
# cotbench backend -> the lm-eval model type that talks to the same kind of model
MODEL_SOURCE = {"hf": "hf", "vllm": "vllm", "openai": "local-chat-completions", "llamacpp": "gguf",
                "embedded": "gguf"}


def lm_eval_task_name(task: str) -> str:
    return f"{LM_EVAL_PREFIX}{task}"


def _hash(text: str) -> str:
    from lm_eval.utils import (
        hash_string,  # lm-eval's own, so task hashes compare with native runs
    )

    return hash_string(text)



def _stderr(mv: MetricValue) -> float | str:
    return "N/A" if math.isnan(mv.stderr) else float(mv.stderr)


def _version(v: str) -> int | float | str:
    """lm-eval writes the YAML's ``metadata.version`` as the number it is."""
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            continue
    return v


def gen_kwargs(s: GenerationSettings) -> dict[str, Any]:
    """The ``generation_kwargs`` cotbench's lm-eval task config carries for these settings."""
    return {"until": list(s.stop), "max_gen_toks": s.max_tokens, "do_sample": not s.greedy,
            "temperature": s.temperature, "top_p": s.top_p}


def task_entry(tr: TaskResult) -> dict[str, Any]:
    """One task of ``results``: name, alias, sample_len and ``metric,filter`` keys."""
    name = lm_eval_task_name(tr.task.name)
    entry: dict[str, Any] = {"name": name, "alias": name, "sample_len": tr.n_items}
    for metric, mv in tr.metrics.items():
        entry[f"{metric},{FILTER}"] = float(mv.value)
        entry[f"{metric}_stderr,{FILTER}"] = _stderr(mv)
    return entry


def task_config(tr: TaskResult) -> dict[str, Any]:
    """The task's lm-eval config as the run used it (from what the run directory records)."""
    t, s = tr.task, tr.task.generation
    cfg: dict[str, Any] = {
        "task": lm_eval_task_name(t.name),
        "tag": ["cotbench", f"cotbench_{t.domain}"],
        "test_split": "test",
        "output_type": "generate_until",
        "num_fewshot": 0,
        "repeats": s.k,
        "generation_kwargs": gen_kwargs(s),
        "filter_list": [{"name": FILTER, "filter": [{"function": "take_first_k", "k": s.k}]}],
        "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": higher_is_better(t.domain, m)}
                        for m in tr.metrics],
        "metadata": {"version": _version(t.version), "cotbench": t.model_dump(mode="json")},
    }
    src = hub_source(t.source)
    if src is not None:
        cfg["dataset_path"] = src.dataset_id
        cfg["revision"] = src.revision
    return cfg


def _model_args(view: RunView) -> str:
    m = view.manifest.model
    key = "pretrained" if m.backend in ("hf", "vllm") else "model"
    # base_url is left out: a served model's address may carry credentials.
    parts = [f"{key}={m.model}"] + [f"{k}={v}" for k, v in (("revision", m.revision), ("subfolder", m.subfolder),
                                                          ("gguf_file", m.gguf_file), ("dtype", m.dtype)) if v]
    return ",".join(parts)


def model_name(view: RunView) -> str:
    m = view.manifest.model
    return m.model or m.label


def results_dict(view: RunView, task_hashes: dict[str, str] | None = None) -> dict[str, Any]:
    """The run as lm-eval's ``EvalResults`` (as ``simple_evaluate`` returns it, without samples,
    plus what ``EvaluationTracker`` adds when it writes the file)."""
    from lm_eval.utils import sanitize_model_name

    man, m = view.manifest, view.manifest.model
    names = [lm_eval_task_name(t.task.name) for t in view.tasks]
    seeds = {t.task.generation.seed for t in view.tasks}
    name = model_name(view)
    return {
        "results": {n: task_entry(t) for n, t in zip(names, view.tasks, strict=True)},
        "group_subtasks": {},
        "configs": {n: task_config(t) for n, t in zip(names, view.tasks, strict=True)},
        "versions": {n: _version(t.task.version) for n, t in zip(names, view.tasks, strict=True)},
        "n-shot": {n: 0 for n in names},
        "higher_is_better": {
            n: {k: higher_is_better(t.task.domain, k) for k in t.metrics}
            for n, t in zip(names, view.tasks, strict=True)
        },
        # cotbench's lm-eval tasks load only the evaluated items, so lm-eval itself reports the
        # evaluated count as both (a --limit run included).
        "n-samples": {
            n: {"original": t.n_items, "effective": t.n_items} for n, t in zip(names, view.tasks, strict=True)
        },
        "config": {
            "model": name,
            "model_args": _model_args(view),
            **({"model_revision": m.revision} if m.revision else {}),
            **({"model_sha": m.resolved_revision} if m.resolved_revision else {}),
            **({"model_dtype": m.dtype} if m.dtype else {}),
            "batch_size": None,
            "batch_sizes": [],
            "device": man.device or None,
            "use_cache": None,
            "limit": man.limit,
            "bootstrap_iters": 0,
            "gen_kwargs": None,
            **({"random_seed": seeds.pop()} if len(seeds) == 1 else {}),
        },
        "git_hash": None,
        "date": view.started.timestamp(),
        "transformers_version": man.packages.get("transformers"),
        "lm_eval_version": man.packages.get("lm_eval"),
        "upper_git_hash": None,
        "task_hashes": task_hashes or {},
        "model_source": MODEL_SOURCE.get(m.backend, m.backend),
        "model_name": name,
        "model_name_sanitized": sanitize_model_name(name),
        "system_instruction": m.system_prompt,
        "system_instruction_sha": _hash(m.system_prompt) if m.system_prompt else None,
        "fewshot_as_multiturn": False,
        "chat_template": m.chat_template,
        "chat_template_sha": _hash(m.chat_template) if m.chat_template else None,
        "total_evaluation_time_seconds": str((view.finished - view.started).total_seconds()),
        # Not an lm-eval key: where the numbers come from, for a reader who wants the run itself.
        "cotbench": {
            "version": man.cotbench_version,
            "schema_version": man.schema_version or SCHEMA_VERSION,
            "run_id": man.run_id,
            "engine": man.engine,
            "model_identity": m.identity,
            "suite": man.suite,
            "step": m.step,
            "label": m.label,
        },
    }


def _item_score(recs: list[SampleRecord]) -> float:
    """The per-document ``score`` cotbench's lm-eval ``process_results`` gives: the mean over the
    item's scored responses, NaN when none was scored."""
    scored = [r.score for r in recs if r.score is not None]
    return sum(scored) / len(scored) if scored else math.nan


def sample_lines(view: RunView, tr: TaskResult) -> Iterator[dict[str, Any]]:
    """The task's items as the lines of lm-eval's ``samples_<task>_<date>.jsonl`` (one per
    document and filter; the k responses of a document in one request's ``resps``)."""
    kwargs = gen_kwargs(tr.task.generation)
    for doc_id, recs in enumerate(view.items(tr.task.name)):
        first = recs[0]
        target = json.dumps(first.target)
        doc = {"id": first.sample_id, "task": tr.task.name, "prompt": first.prompt, "target_json": target,
               "category": first.category or ""}
        outputs = [r.output for r in recs]
        yield {
            "doc_id": doc_id,
            "doc": doc,
            "target": target,
            "arguments": {"gen_args_0": {"arg_0": first.prompt, "arg_1": kwargs}},
            "resps": [outputs],
            "filtered_resps": [outputs],
            "filter": FILTER,
            "metrics": ["score"],
            "doc_hash": _hash(json.dumps(doc, indent=2, ensure_ascii=False)),
            "prompt_hash": _hash(first.prompt),
            "target_hash": _hash(target),
            "score": _item_score(recs),
        }


def date_id(view: RunView) -> str:
    """lm-eval's file-name timestamp (``datetime.isoformat()`` with ``-`` for ``:``), of the run's end."""
    return view.finished.replace(tzinfo=None).isoformat().replace(":", "-")


def write_lm_eval(run: str | os.PathLike[str] | RunView, out_dir: str | os.PathLike[str],
                  samples: bool = True) -> list[Path]:
    """Write the run under ``out_dir/<model_name_sanitized>/``; returns the files written
    (the results file first)."""
    from lm_eval.utils import sanitize_model_name

    view = run if isinstance(run, RunView) else read_run(run)
    folder = Path(out_dir) / sanitize_model_name(model_name(view))
    stamp = date_id(view)
    written: list[Path] = []
    task_hashes: dict[str, str] = {}
    if samples:
        for tr in view.tasks:
            name = lm_eval_task_name(tr.task.name)
            lines = list(sample_lines(view, tr))
            # lm-eval's task hash: over the documents', prompts' and targets' hashes in order.
            task_hashes[name] = _hash("".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"] for s in lines))
            path = folder / f"samples_{name}_{stamp}.jsonl"
            atomic_write_text(path, "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in lines))
            written.append(path)
    results = folder / f"results_{stamp}.json"
    atomic_write_text(results, json.dumps(results_dict(view, task_hashes), indent=2, ensure_ascii=False) + "\n")
    return [results, *written]
