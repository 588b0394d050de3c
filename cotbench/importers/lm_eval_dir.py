"""Import an lm-eval output directory: ``results_<date>.json`` with the ``samples_<task>_<date>.jsonl``
files that ``lm_eval --log_samples`` (its ``EvaluationTracker``) writes beside it.

``cotbench_<name>`` tasks are re-scored with cotbench's scorers on cotbench's items; any other
task keeps lm-eval's per-document score for its first metric (one record per document). lm-eval
records neither finish reasons nor token counts: ``--tokenizer`` counts the tokens.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cotbench.errors import printable
from cotbench.importers.common import (
    HarnessModel,
    ImportedRun,
    ImportedTask,
    ImportOptions,
    catalog_items,
    check_prompt,
    content_hash,
    fail,
    kept_domain,
    kept_record,
    kept_scorer,
    kept_task_name,
    known_task,
    now,
    rescored_info,
    rescored_records,
    unit_score,
    utc,
    zero_tokens,
)
from cotbench.models.generator import Completion
from cotbench.results.schema import GenerationSettings, TaskInfo
from cotbench.tasks.catalog import LM_EVAL_PREFIX
from cotbench.tasks.items import Item
from cotbench.tasks.taskdef import TaskDef

RESULTS_PREFIX = "results_"
_LM_EVAL_DEFAULT_MAX_TOKENS = 256  # lm-eval's max_gen_toks when a task sets none


def is_results_file(path: Path) -> bool:
    return path.name.startswith(RESULTS_PREFIX) and path.suffix == ".json"


def find_results(folder: Path) -> list[Path]:
    """Every ``results_*.json`` under ``folder`` (lm-eval puts them in one sub-folder per model)."""
    return sorted(p for p in folder.rglob(f"{RESULTS_PREFIX}*.json") if p.is_file())


def _load_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(path, f"not a readable lm-eval results file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("configs"), dict) \
            or not isinstance(data.get("results"), dict):
        raise fail(path, "not an lm-eval results file (no 'results' and 'configs')")
    return data


def _samples(path: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(path, f"cannot read ({exc.__class__.__name__}: {exc})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            sample = json.loads(line)
        except json.JSONDecodeError:
            raise fail(f"{path}:{n}", "not valid JSON (a partial samples file?)") from None
        if not isinstance(sample, dict) or not {"doc_id", "doc", "resps", "arguments"} <= set(sample):
            raise fail(f"{path}:{n}", "not an lm-eval sample (needs doc_id, doc, resps, arguments)")
        yield sample


def _per_doc(path: Path, expected: int | None) -> list[dict[str, Any]]:
    """One sample per document (lm-eval writes one per document and filter), in file order."""
    docs: dict[Any, dict[str, Any]] = {}
    by_filter: dict[Any, list[dict[str, Any]]] = {}
    for s in _samples(path):
        by_filter.setdefault(s["doc_id"], []).append(s)
        docs.setdefault(s["doc_id"], s)
    if expected is not None and len(docs) != expected:
        raise fail(path, f"{len(docs)} document(s), but the results file counts {expected} (a partial samples file?)")
    if not docs:
        raise fail(path, "no samples (was lm_eval run with --log_samples?)")
    return [dict(first, _filters=by_filter[doc_id]) for doc_id, first in docs.items()]


def _responses(sample: dict[str, Any]) -> list[Any]:
    """The raw responses of a document: ``resps`` holds one list (the k repeats) per request."""
    out: list[Any] = []
    for r in sample["resps"]:
        out.extend(r if isinstance(r, list) else [r])
    return out


def _gen_kwargs(sample: dict[str, Any]) -> dict[str, Any]:
    arg = (sample.get("arguments") or {}).get("gen_args_0") or {}
    kwargs = arg.get("arg_1")
    return kwargs if isinstance(kwargs, dict) else {}


def _settings(kwargs: dict[str, Any], k: int, config: dict[str, Any], path: Path) -> GenerationSettings:
    """lm-eval's generation kwargs as cotbench settings (greedy unless do_sample with a temperature)."""
    try:
        sampled = bool(kwargs.get("do_sample")) and float(kwargs.get("temperature", 1.0) or 0.0) > 0
        until = kwargs.get("until") or []
        seed = config.get("torch_seed") if sampled else None
        return GenerationSettings(
            temperature=float(kwargs.get("temperature", 1.0)) if sampled else 0.0,
            top_p=float(kwargs.get("top_p", 1.0) or 1.0),
            max_tokens=int(kwargs.get("max_gen_toks") or _LM_EVAL_DEFAULT_MAX_TOKENS),
            k=k,
            stop=[until] if isinstance(until, str) else [str(u) for u in until],
            **({"seed": int(seed)} if isinstance(seed, int) else {}),
        )
    except (TypeError, ValueError, OverflowError) as exc:  # pydantic's ValidationError is a ValueError
        raise fail(path, f"generation kwargs {printable(repr(kwargs))[:120]} are not lm-eval's "
                         f"({exc.__class__.__name__})") from None


def _model(data: dict[str, Any], path: Path) -> HarnessModel:
    raw_config = data.get("config")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    args = config.get("model_args")
    args_text = args if isinstance(args, str) else json.dumps(args, sort_keys=True) if args else ""
    revision = None
    if isinstance(args, dict):
        revision = args.get("revision")
    elif isinstance(args, str):
        revision = next((kv.split("=", 1)[1] for kv in args.split(",") if kv.strip().startswith("revision=")), None)
    name = data.get("model_name") or config.get("model") or path.parent.name
    return HarnessModel(harness="lm_eval", harness_version=str(data.get("lm_eval_version") or "unknown"),
                        model=str(name), backend=str(config.get("model") or "unknown"), model_args=args_text,
                        revision=str(revision) if revision else None,
                        system_prompt=data.get("system_instruction") or None)


def _times(data: dict[str, Any], path: Path) -> tuple[datetime, datetime]:
    """lm-eval's start time stamp and its total evaluation time (the file's time without them)."""
    start = utc(data.get("date")) or utc(path.stat().st_mtime) or now()
    try:
        return start, start + timedelta(seconds=float(data.get("total_evaluation_time_seconds") or 0))
    except (TypeError, ValueError, OverflowError):
        return start, start


def read_lm_eval(path: Path, options: ImportOptions) -> ImportedRun:
    """One ``results_*.json`` and its samples files as an imported run."""
    data = _load_results(path)
    date_id = path.stem[len(RESULTS_PREFIX):]
    model = _model(data, path)
    run_id = model.run_id(options)
    start, end = _times(data, path)
    raw_config = data.get("config")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    tasks = []
    for name, cfg in data["configs"].items():
        samples_path = path.parent / f"samples_{name}_{date_id}.jsonl"
        if not samples_path.is_file():
            raise fail(path, f"no samples file {samples_path.name} beside it for task {printable(name)} "
                             "(run lm_eval with --log_samples)")
        n = ((data.get("n-samples") or {}).get(name) or {}).get("effective")
        samples = _per_doc(samples_path, n if isinstance(n, int) else None)
        td = known_task(name, LM_EVAL_PREFIX, path)
        harness = {k.split(",")[0]: v for k, v in (data["results"].get(name) or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        common: dict[str, Any] = {"harness_task": name, "files": [str(path.resolve()), str(samples_path.resolve())],
                                  "started_at": start, "finished_at": end, "harness_metrics": harness}
        if td is not None:
            tasks.append(_rescored(td, samples, samples_path, model, run_id, config, options, common))
        else:
            tasks.append(_kept(name, cfg if isinstance(cfg, dict) else {}, data, samples, samples_path, model,
                               run_id, config, options, common))
    if not tasks:
        raise fail(path, "names no task")
    return ImportedRun(model=model, tasks=tasks)


def _completion(text: Any) -> Completion:
    """A response as the record builder takes it: lm-eval keeps no finish reason, tokens or time."""
    return Completion(text=text if isinstance(text, str) else "", finish_reason="unknown", output_tokens=0,
                      latency_s=0.0)


def _rescored(td: TaskDef, samples: list[dict[str, Any]], path: Path, model: HarnessModel, run_id: str,
              config: dict[str, Any], options: ImportOptions, common: dict[str, Any]) -> ImportedTask:
    catalog = catalog_items(td, path)
    items: list[Item] = []
    responses: list[tuple[Item, int, Completion, float | None]] = []
    ks: set[int] = set()
    for s in samples:
        doc = s["doc"] if isinstance(s["doc"], dict) else {}
        item = catalog.get(str(doc.get("id")))
        if item is None:
            raise fail(path, f"document {printable(doc.get('id'))} is not an item of cotbench's {td.name}")
        check_prompt(item, doc.get("prompt"), path, td.name)
        outputs = _responses(s)
        ks.add(len(outputs))
        items.append(item)
        harness_score = s.get("score") if isinstance(s.get("score"), (int, float)) else None
        responses.extend((item, repeat, _completion(text), harness_score) for repeat, text in enumerate(outputs))
    if len(ks) != 1:
        raise fail(path, f"documents have different numbers of responses ({sorted(ks)}); cannot tell k")
    settings = _settings(_gen_kwargs(samples[0]), ks.pop(), config, path)
    records = rescored_records(td, settings, items, responses, run_id, "lm_eval",
                               options.count_tokens or zero_tokens)
    notes = [] if options.count_tokens else ["lm-eval records no token counts: tokens are 0 (use --tokenizer)"]
    return ImportedTask(info=rescored_info(td, settings, items, records, model.identity), records=records,
                        rescored=True, notes=notes, **common)


def _metric(name: str, cfg: dict[str, Any], data: dict[str, Any], path: Path) -> tuple[str, str]:
    """The task's first metric and the filter its reported value is for."""
    metrics = [m.get("metric") for m in cfg.get("metric_list") or [] if isinstance(m, dict)]
    keys = [k for k in (data["results"].get(name) or {}) if "," in k and "_stderr" not in k]
    for metric in [m for m in metrics if isinstance(m, str)] + [k.split(",")[0] for k in keys]:
        key = next((k for k in keys if k.split(",")[0] == metric), None)
        if key is None:
            continue
        higher = ((data.get("higher_is_better") or {}).get(name) or {}).get(metric, True)
        if higher is False:
            continue
        return metric, key.split(",", 1)[1]
    raise fail(path, f"task {printable(name)} reports no higher-is-better metric that cotbench can import")


def _kept(name: str, cfg: dict[str, Any], data: dict[str, Any], samples: list[dict[str, Any]], path: Path,
          model: HarnessModel, run_id: str, config: dict[str, Any], options: ImportOptions,
          common: dict[str, Any]) -> ImportedTask:
    metric, filter_name = _metric(name, cfg, data, path)
    task = kept_task_name("lm_eval", name)
    version = str((data.get("versions") or {}).get(name, "0"))
    task_hash = content_hash("lm_eval", name, version, cfg.get("dataset_path"), cfg.get("dataset_name"),
                             cfg.get("doc_to_text"), cfg.get("doc_to_target"), cfg.get("doc_to_choice"), metric,
                             filter_name)
    records = []
    for s in samples:
        chosen = next((f for f in s["_filters"] if f.get("filter") == filter_name), s)
        score = unit_score(chosen.get(metric), path, name, metric)
        output, extracted = _kept_output(cfg, s, chosen)
        prompt = ((s.get("arguments") or {}).get("gen_args_0") or {}).get("arg_0")
        records.append(kept_record(run_id, task, task_hash, "lm_eval", str(s["doc_id"]), 0,
                                   prompt if isinstance(prompt, str) else "", s.get("target"), output, extracted,
                                   score, "unknown", None, None, options.count_tokens, 0.0, "harness:lm_eval",
                                   {"harness_metric": f"{metric},{filter_name}"}))
    settings = _settings(_gen_kwargs(samples[0]), 1, config, path)
    src = "/".join(str(x) for x in (cfg.get("dataset_path"), cfg.get("dataset_name")) if x)
    info = TaskInfo(name=task, version=version, hash=task_hash, domain=kept_domain(name, task, options),
                    scorer=kept_scorer("lm_eval", metric), scorer_mode="harness:lm_eval", source=src or "lm-eval task",
                    generation=settings, n_items=len(records),
                    items_hash=(data.get("task_hashes") or {}).get(name) or None, model_identity=model.identity)
    notes = [f"scores kept from lm-eval ({metric}, filter {filter_name})"]
    if not options.count_tokens:
        notes.append("lm-eval records no token counts: tokens are 0 (use --tokenizer)")
    return ImportedTask(info=info, records=records, rescored=False, notes=notes, **common)


def _kept_output(cfg: dict[str, Any], sample: dict[str, Any], chosen: dict[str, Any]) -> tuple[str, str | None]:
    """The response text and what the harness's filter extracted from it; for a multiple-choice
    (loglikelihood) task, the choice the model ranked first."""
    if cfg.get("output_type", "generate_until") == "generate_until":
        raw = _responses(sample)
        filtered = chosen.get("filtered_resps")
        first = filtered[0] if isinstance(filtered, list) and filtered else filtered
        if isinstance(first, list):
            first = first[0] if first else None
        return (raw[0] if raw and isinstance(raw[0], str) else ""), (first if isinstance(first, str) else None)
    scores = [r[0] if isinstance(r, list) and r else r for r in chosen.get("filtered_resps") or []]
    args = chosen.get("arguments") or {}
    try:
        best = max(range(len(scores)), key=lambda i: float(scores[i][0] if isinstance(scores[i], list) else scores[i]))
    except (TypeError, ValueError, IndexError):
        return "", None
    choice = (args.get(f"gen_args_{best}") or {}).get("arg_1")
    return (choice if isinstance(choice, str) else ""), (choice if isinstance(choice, str) else None)
