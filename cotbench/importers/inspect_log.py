"""Import an Inspect AI log (``.eval`` or ``.json``, read with ``inspect_ai.log.read_eval_log``).

``cotbench/<name>`` tasks are re-scored with cotbench's scorers on cotbench's items; any other
task keeps the score of its first scorer, per sample and epoch (``C``/``I``/``P`` as Inspect
reads them). A log whose status is not ``success`` (cancelled, failed, still running) and
samples that ended in an error are imported only with ``--allow-incomplete``, and say so.
"""

from __future__ import annotations

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
    reasoning_tokens_known,
    rescored_info,
    rescored_records,
    unit_score,
    utc,
    zero_tokens,
)
from cotbench.models.generator import Completion
from cotbench.results.schema import FinishReason, GenerationSettings, TaskInfo
from cotbench.tasks.taskdef import TaskDef

COTBENCH_PREFIX = "cotbench/"
LOG_SUFFIXES = (".eval", ".json")
_FINISH: dict[str, FinishReason] = {"stop": "stop", "max_tokens": "length", "model_length": "length"}


def read_log(path: Path) -> Any:
    from inspect_ai.log import read_eval_log

    try:
        return read_eval_log(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure to parse is a malformed or partial log
        text = " ".join(str(exc).split())[:200]
        raise fail(path, f"not a readable Inspect log ({exc.__class__.__name__}: {text})") from None


def looks_like_log(path: Path) -> bool:
    """An ``.eval`` file, or a ``.json`` whose header is an Inspect log's (not lm-eval's results)."""
    if path.suffix == ".eval":
        return True
    if path.suffix != ".json":
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"eval"' in head and b'"status"' in head and b'"configs"' not in head


def _model(log: Any) -> HarnessModel:
    spec = log.eval
    args = dict(spec.model_args or {})
    system = next((str(step.params.get("template")) for step in (log.plan.steps if log.plan else [])
                   if step.solver.endswith("system_message") and step.params.get("template")), None)
    import json

    return HarnessModel(harness="inspect", harness_version=str((spec.packages or {}).get("inspect_ai", "unknown")),
                        model=str(spec.model), backend=str(spec.model).split("/", 1)[0],
                        model_args=json.dumps(args, sort_keys=True, default=str) if args else "",
                        revision=str(args["revision"]) if args.get("revision") else None,
                        base_url=spec.model_base_url or None, system_prompt=system)


def _settings(log: Any, k: int) -> tuple[GenerationSettings, list[str]]:
    """The task's generate config with the eval's own (``-G``) over it; unspecified fields are named."""
    task_cfg = log.plan.config if log.plan else None
    eval_cfg = log.eval.model_generate_config

    def pick(name: str) -> Any:
        for cfg in (eval_cfg, task_cfg):
            value = getattr(cfg, name, None) if cfg is not None else None
            if value is not None:
                return value
        return None

    values = {"temperature": pick("temperature"), "top_p": pick("top_p"), "max_tokens": pick("max_tokens"),
              "seed": pick("seed")}
    unspecified = [name for name, v in values.items() if v is None and name != "seed"]
    stop = pick("stop_seqs") or []
    settings = GenerationSettings(k=k, stop=[str(s) for s in stop],
                                  **{name: v for name, v in values.items() if v is not None})
    return settings, unspecified


def _prompt(sample: Any) -> str:
    if isinstance(sample.input, str):
        return sample.input
    return "\n\n".join(m.text for m in sample.input)


def _completion(sample: Any, counting: bool) -> Completion:
    """The sample's response with Inspect's finish reason, usage and time."""
    out = sample.output
    text = out.completion if out is not None else ""
    usage = out.usage if out is not None else None
    stop = out.choices[0].stop_reason if out is not None and out.choices else "unknown"
    output_tokens = usage.output_tokens if usage is not None else None
    reasoning = reasoning_tokens_known(text, output_tokens, usage.reasoning_tokens if usage else None, counting)
    latency = sample.working_time or sample.total_time or (out.time if out is not None else None) or 0.0
    return Completion(text=text, finish_reason=_FINISH.get(stop, "unknown"),
                      output_tokens=output_tokens or 0, latency_s=float(latency), reasoning_tokens=reasoning)


def _cotbench_task(spec: Any, registry: str, path: Path) -> TaskDef | None:
    """``cotbench/<name>`` (the registered tasks, ``inspect eval cotbench/<name>``), or a task whose
    metadata says it is one (the logs of ``cotbench run --engine inspect``)."""
    for name in (registry, spec.task):
        if name.startswith(COTBENCH_PREFIX):
            return known_task(name, COTBENCH_PREFIX, path)
    own = (spec.metadata or {}).get("cotbench_task")
    return known_task(f"{COTBENCH_PREFIX}{own}", COTBENCH_PREFIX, path) if isinstance(own, str) else None


def read_inspect(path: Path, options: ImportOptions) -> ImportedRun:
    log = read_log(path)
    spec = log.eval
    status = str(log.status)
    notes: list[str] = []
    if status != "success":
        if not options.allow_incomplete:
            raise fail(path, f"the eval's status is '{printable(status)}', not 'success' (unfinished or failed); "
                             "pass --allow-incomplete to import the samples it holds")
        notes.append(f"incomplete: Inspect log status '{status}'; only the samples it holds were imported")
    samples = list(log.samples or [])
    errored = [s for s in samples if s.error is not None]
    if errored:
        if not options.allow_incomplete:
            raise fail(path, f"{len(errored)} sample(s) ended in an error; pass --allow-incomplete to import the "
                             "others")
        notes.append(f"incomplete: {len(errored)} sample(s) that ended in an error were left out")
        samples = [s for s in samples if s.error is None]
    if not samples:
        raise fail(path, "holds no samples to import (written without samples, or nothing finished)")
    model = _model(log)
    run_id = model.run_id(options)
    registry = spec.task_registry_name or spec.task
    td = _cotbench_task(spec, registry, path)
    started = utc(log.stats.started_at if log.stats else None) or utc(spec.created) or now()
    finished = utc(log.stats.completed_at if log.stats else None) or started
    harness = {name: m.value for score in (log.results.scores if log.results else [])
               for name, m in score.metrics.items() if isinstance(m.value, (int, float))}
    common: dict[str, Any] = {"harness_task": registry, "files": [str(path.resolve())], "started_at": started,
                              "finished_at": finished, "harness_metrics": harness, "harness_status": status}
    k = int(spec.config.epochs or 1) if spec.config else 1
    if td is not None:
        task = _rescored(td, samples, path, model, run_id, log, k, options, common)
    else:
        task = _kept(samples, path, model, run_id, log, k, options, common)
    task.notes = notes + task.notes
    return ImportedRun(model=model, tasks=[task])


def _rescored(td: TaskDef, samples: list[Any], path: Path, model: HarnessModel, run_id: str, log: Any, k: int,
              options: ImportOptions, common: dict[str, Any]) -> ImportedTask:
    catalog = catalog_items(td, path)
    items: dict[str, Any] = {}
    responses = []
    for s in samples:
        item = catalog.get(str(s.id))
        if item is None:
            raise fail(path, f"sample {printable(s.id)} is not an item of cotbench's {td.name}")
        check_prompt(item, _prompt(s), path, td.name)
        items.setdefault(item.id, item)
        completion = _completion(s, options.count_tokens is not None)
        harness_score = _own_score(s, td)
        responses.append((item, int(s.epoch) - 1, completion, harness_score))
    settings, unspecified = _settings(log, k)
    records = rescored_records(td, settings, list(items.values()), responses, run_id, "inspect",
                               options.count_tokens or zero_tokens)
    notes = [f"generation settings not in the log (provider defaults): {', '.join(unspecified)}"] if unspecified else []
    if not options.count_tokens and any(r.output_tokens and not (r.reasoning_tokens or r.answer_tokens)
                                        for r in records):
        notes.append("the provider reported no reasoning-token split: tokens are 0 (use --tokenizer)")
    return ImportedTask(info=rescored_info(td, settings, list(items.values()), records, model.identity),
                        records=records, rescored=True, notes=notes, **common)


def _own_score(sample: Any, td: TaskDef) -> float | None:
    """What cotbench's Inspect scorer said in the log (keyed by the scorer's name; older logs
    ``cotbench_scorer``), kept beside the new score for the record."""
    from cotbench.scoring.spec import ScorerSpec

    scores = sample.scores or {}
    own = scores.get(ScorerSpec.parse(td.scorer).name) or scores.get("cotbench_scorer")
    if own is None and len(scores) == 1:
        own = next(iter(scores.values()))
    value = own.value if own is not None else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _scorer(log: Any, samples: list[Any], path: Path) -> str:
    names = [s.name for s in (log.results.scores if log.results else [])]
    names += [n for s in samples for n in (s.scores or {})]
    if not names:
        raise fail(path, "no sample has a score (was the eval scored?)")
    return names[0]


def _kept(samples: list[Any], path: Path, model: HarnessModel, run_id: str, log: Any, k: int,
          options: ImportOptions, common: dict[str, Any]) -> ImportedTask:
    from inspect_ai.scorer import value_to_float

    spec = log.eval
    harness_task = common["harness_task"]
    scorer = _scorer(log, samples, path)
    to_float = value_to_float()
    task = kept_task_name("inspect", harness_task)
    scorers = [(s.name, s.params) for s in (log.results.scores if log.results else [])]
    steps = [(st.solver, st.params) for st in (log.plan.steps if log.plan else [])]
    dataset = spec.dataset
    task_hash = content_hash("inspect", harness_task, spec.task_version, dataset.name, dataset.location, scorers,
                             steps)
    records = []
    for s in samples:
        sc = (s.scores or {}).get(scorer)
        if sc is not None and isinstance(sc.value, (dict, list)):
            raise fail(path, f"scorer {printable(scorer)} gives several values per sample; cotbench imports one "
                             "score per sample")
        score = unit_score(to_float(sc.value) if sc is not None else None, path, harness_task, scorer)
        completion = _completion(s, options.count_tokens is not None)
        records.append(kept_record(run_id, task, task_hash, "inspect", str(s.id), int(s.epoch) - 1, _prompt(s),
                                   s.target, completion.text, sc.answer if sc is not None else None, score,
                                   completion.finish_reason, completion.output_tokens or None,
                                   completion.reasoning_tokens, options.count_tokens, completion.latency_s,
                                   "harness:inspect", {"harness_scorer": scorer}))
    settings, unspecified = _settings(log, k)
    info = TaskInfo(name=task, version=str(spec.task_version), hash=task_hash,
                    domain=kept_domain(harness_task, task, options),
                    scorer=kept_scorer("inspect", scorer), scorer_mode="harness:inspect",
                    source=str(dataset.location or dataset.name or "Inspect task"), generation=settings,
                    n_items=len({r.sample_id for r in records}),
                    items_hash=content_hash(sorted((r.sample_id, r.prompt, str(r.target)) for r in records)),
                    model_identity=model.identity)
    notes = [f"scores kept from Inspect (scorer {scorer})"]
    if unspecified:
        notes.append(f"generation settings not in the log (provider defaults): {', '.join(unspecified)}")
    return ImportedTask(info=info, records=records, rescored=False, notes=notes, **common)
