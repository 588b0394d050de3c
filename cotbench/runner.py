"""``cotbench run``: ModelSpec x TaskDefs -> engine -> a run directory.

Resumable by construction: each finished task is written atomically, each generation is
cached (keyed by model identity) the moment it exists, and a task whose results already
match (content hash, settings, items, engine) is skipped without loading the model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TypedDict, Unpack

from cotbench import __version__
from cotbench.engines import DEFAULT_ENGINE
from cotbench.engines.base import Engine, EngineOutput, ModelHandle, Progress, TaskPlan
from cotbench.engines.prefetch import Prefetch
from cotbench.errors import CotbenchError, MissingDependencyError, ModelLoadError, ResultsError
from cotbench.judge.session import judge_mode
from cotbench.models.checkpoints import expand_checkpoints
from cotbench.models.handle import model_handle
from cotbench.models.resolve import ResolvedModel, resolve
from cotbench.models.spec import ModelSpec
from cotbench.registry import engines
from cotbench.results.schema import (
    EngineName,
    Invocation,
    ModelInfo,
    RunManifest,
    TaskInfo,
    TaskStatus,
    TaskStatusEntry,
)
from cotbench.results.store import RunDir
from cotbench.results.task_result import build_task_result
from cotbench.tasks.catalog import DEFAULT_SUITE, get_suite, get_task
from cotbench.tasks.data import using_data_dir
from cotbench.tasks.items import build_items

_PACKAGES = ("cotbench", "lm_eval", "inspect_ai", "transformers", "torch", "datasets", "math-verify", "vllm", "openai")


@dataclass
class RunOptions:
    suite: str | None = None
    tasks: list[str] | None = None
    limit: int | None = None
    output: Path = Path("results")
    engine: EngineName = DEFAULT_ENGINE
    preset: str | None = None
    seed: int | None = None
    max_tokens: int | None = None
    data_dir: Path | None = None
    device: str | None = None
    batch_size: int = 8
    system_prompt: str | None = None
    judge: str | None = None  # --judge NAME@SPEC or SPEC grading safety tasks (default: the offline classifier)


class RunOptionsKwargs(TypedDict, total=False):
    """The RunOptions fields that ``run_models`` takes as plain keywords (typed for API users)."""

    preset: str | None
    max_tokens: int | None
    data_dir: Path | None
    device: str | None
    batch_size: int
    system_prompt: str | None
    judge: str | None


class RunReporter:
    """Hooks for progress display; the CLI plugs a rich implementation in."""

    def start_model(self, label: str, run_dir: Path) -> None: ...
    def start_tasks(self, plans: list[TaskPlan], cached: list[str]) -> None: ...
    def advance(self, task: str, n: int) -> None: ...
    def tokens(self, task: str, n: int) -> None: ...  # output tokens the model generated for ``task``
    def task_done(self, task: str, ok: bool, error: str | None = None) -> None: ...
    def end_model(self) -> None: ...
    def model_done(self, run_dir: Path) -> None: ...  # the model's run finished cleanly


def get_engine(name: str, run_dir: Path | None = None) -> Engine:
    return engines.get(name)(run_dir)


def run_id_for(rm: ResolvedModel) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", rm.spec.display).strip("_")[:80] or "model"
    return f"{slug}-{rm.identity[:8]}"


def plan_tasks(opts: RunOptions) -> list[TaskPlan]:
    if opts.suite and opts.tasks:
        raise CotbenchError("give either --suite or --tasks, not both")
    suite = get_suite(opts.suite or DEFAULT_SUITE) if not opts.tasks else None
    names = opts.tasks or (suite.tasks if suite else [])
    if opts.limit is not None and opts.limit < 1:
        raise CotbenchError("--limit must be at least 1")
    if opts.max_tokens is not None and opts.max_tokens < 1:
        raise CotbenchError("--max-tokens must be at least 1")
    plans = []
    for name in names:
        task = get_task(name)
        settings = task.settings(opts.preset or (suite.preset if suite else None))
        if opts.seed is not None:
            settings = settings.model_copy(update={"seed": opts.seed})
        max_tokens = opts.max_tokens or (suite.max_tokens if suite else None)
        if max_tokens is not None:
            settings = settings.model_copy(update={"max_tokens": max_tokens})
        subset = suite.subset.get(task.name) if suite else None
        items = build_items(task, subset=subset, limit=opts.limit)
        plans.append(TaskPlan(task=task, hash=task.content_hash(), settings=settings, items=items,
                              subset=subset, limit=opts.limit))
    return plans


def _check_backend(spec: ModelSpec) -> None:
    """Fail before any work when the backend's optional package is missing."""
    import importlib.util
    import shutil

    if spec.backend in ("openai", "vllm", "llamacpp") and importlib.util.find_spec("openai") is None:
        raise MissingDependencyError("openai", f"the {spec.backend}: backend")
    if spec.backend == "vllm" and not spec.base_url and shutil.which("vllm") is None:
        raise MissingDependencyError("vllm", "the vllm: backend (CUDA only)", "vllm")
    if spec.backend == "llamacpp":
        from cotbench.models.servers import llama_server_binary

        llama_server_binary()


def package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def model_info(rm: ResolvedModel) -> ModelInfo:
    from cotbench.models.facts import model_facts

    s = rm.spec
    return ModelInfo(spec=s.raw or s.display, backend=s.backend, model=s.model, revision=s.revision,
                     resolved_revision=rm.resolved_revision, subfolder=s.subfolder, gguf_file=s.gguf_file,
                     dtype=s.dtype, chat_template=s.chat_template, system_prompt=s.system_prompt,
                     base_url=s.base_url, step=s.step, label=s.display, identity=rm.identity,
                     facts=model_facts(rm))


def items_hash(plan: TaskPlan) -> str:
    """Hash of the plan's items in order, with everything a prompt or a score depends on: two
    selections of one task of the same size (a suite's subset, --limit) are different items."""
    h = hashlib.sha256()
    for item in plan.items:
        h.update(json.dumps(item.to_doc(plan.task.name), sort_keys=True).encode() + b"\n")
    return h.hexdigest()


def _is_complete(rd: RunDir, plan: TaskPlan, engine: str, identity: str) -> bool:
    """Finished earlier by the same model with the same content hash, settings, items and
    engine. Results that do not record their items or model (older run directories) are not
    trusted: the task is recomputed, from the generation cache where it has the answers."""
    if plan.task.name not in rd.task_names():
        return False
    try:
        tr = rd.read_task(plan.task.name)
    except ResultsError:  # unreadable results are redone, not trusted
        return False
    return (tr.task.hash == plan.hash and tr.task.generation == plan.settings and tr.n_items == len(plan.items)
            and tr.task.items_hash is not None and tr.task.items_hash == items_hash(plan)
            and tr.task.model_identity == identity and tr.engine == engine)


@dataclass
class OpenRun:
    """One model's run directory, open for writing: its plans, and which of them are to do."""

    rm: ResolvedModel
    rd: RunDir
    manifest: RunManifest
    plans: list[TaskPlan]
    todo: list[TaskPlan]


@contextlib.contextmanager
def open_run(spec: ModelSpec, opts: RunOptions, reporter: RunReporter) -> Iterator[OpenRun]:
    """Resolve ``spec``, lock and prepare its run directory and plan its tasks; on a clean exit
    the manifest is marked finished. Both the local and the Ray path run inside this."""
    with using_data_dir(opts.data_dir), contextlib.ExitStack() as held:
        plans = plan_tasks(opts)
        if opts.system_prompt:
            spec = spec.with_options(system_prompt=opts.system_prompt)
        _check_backend(spec)
        rm = resolve(spec)
        run_id = run_id_for(rm)
        rd = RunDir(opts.output / run_id)
        held.enter_context(rd.locked())  # another run writing here would lose manifest entries
        reporter.start_model(spec.display, rd.path)
        now = datetime.now(UTC)
        manifest = rd.read_manifest() if rd.exists() else RunManifest(run_id=run_id, model=model_info(rm),
                                                                      engine=opts.engine, started_at=now)
        manifest.model = model_info(rm)
        manifest.suite = opts.suite or (None if opts.tasks else DEFAULT_SUITE)
        manifest.limit = opts.limit
        invocation = Invocation(started_at=now, engine=opts.engine, cotbench_version=__version__,
                                host=socket.gethostname())
        manifest.invocations.append(invocation)
        with judge_mode(opts.judge, plans, rd.cache_path, opts.device) as plans:
            todo: list[TaskPlan] = []
            cached: list[TaskPlan] = []
            for p in plans:
                (cached if _is_complete(rd, p, opts.engine, rm.identity) else todo).append(p)
            names = {p.task.name for p in plans}
            # Tasks finished by earlier invocations into this run directory stay listed.
            manifest.tasks = [t for t in manifest.tasks if t.name not in names and t.status == "complete"] + [
                TaskStatusEntry(name=p.task.name, hash=p.hash, status="complete" if p in cached else "pending")
                for p in plans]
            if todo or manifest.finished_at is None:
                # These results are (re)produced now: the provenance is this invocation's. A fully
                # cached rerun keeps the facts of the invocation that produced them.
                manifest.engine = opts.engine
                manifest.packages = package_versions()
                manifest.cotbench_version = __version__
                manifest.host = invocation.host
            invocation.evaluated = [p.task.name for p in todo]
            rd.write_manifest(manifest)
            reporter.start_tasks(plans, [p.task.name for p in cached])
            yield OpenRun(rm, rd, manifest, plans, todo)
        invocation.finished_at = datetime.now(UTC)
        if todo or manifest.finished_at is None:
            manifest.finished_at = invocation.finished_at
        rd.write_manifest(manifest)
        reporter.end_model()
        reporter.model_done(rd.path)


def run_one(spec: ModelSpec, opts: RunOptions, reporter: RunReporter | None = None) -> RunDir:
    """Evaluate one model (or checkpoint) and return its run directory."""
    reporter = reporter or RunReporter()
    with open_run(spec, opts, reporter) as run:
        if run.todo:
            _evaluate(run, opts, reporter)
    return run.rd


def count_generation(manifest: RunManifest, model_calls: int, cache_hits: int) -> None:
    """Add an evaluation's requests to this invocation and to the run's totals."""
    if manifest.invocations:
        manifest.invocations[-1].model_calls += model_calls
        manifest.invocations[-1].cache_hits += cache_hits
    manifest.model_calls += model_calls
    manifest.cache_hits += cache_hits


def set_status(run: OpenRun, task: str, status: TaskStatus, error: str | None = None) -> None:
    entry = run.manifest.task_entry(task)
    assert entry is not None
    entry.status, entry.error = status, error
    run.rd.write_manifest(run.manifest)


def record_task(run: OpenRun, plan: TaskPlan, engine: str, out: EngineOutput, started: datetime,
                finished: datetime) -> None:
    """Write a finished task's records and result atomically and mark it complete."""
    info = TaskInfo(name=plan.task.name, version=plan.task.version, hash=plan.hash, domain=plan.task.domain,
                    scorer=plan.task.scorer, scorer_mode=_scorer_mode(out.records), source=_source(plan),
                    license=plan.task.license, generation=plan.settings, n_items=len(plan.items),
                    items_hash=items_hash(plan), model_identity=run.rm.identity)
    result = build_task_result(run.manifest.run_id, info, engine, out.records, started, finished,
                               out.harness_metrics)
    run.rd.write_task(result, out.records)
    set_status(run, plan.task.name, "complete")


@dataclass
class TaskOutcome:
    """One task's evaluation: its records (or the error that stopped it) and when it ran."""

    task: str
    started: datetime
    finished: datetime
    output: EngineOutput | None = None
    error: str | None = None


def evaluate_plans(handle: ModelHandle, plans: list[TaskPlan], engine: Engine, run_id: str, progress: Progress,
                   on_task: Callable[[TaskPlan], None], on_done: Callable[[TaskPlan, TaskOutcome], None],
                   tokens: Progress | None = None) -> Prefetch:
    """Generate every plan's requests in one stream and score each task as soon as its
    completions are in (``cotbench.engines.prefetch``). A task's own error is its outcome; a
    model that fails to load or a backend that stops raises. Returns the queue (its stats)."""
    queue = Prefetch(handle, plans, progress, tokens).start()
    try:
        for plan in plans:
            on_task(plan)
            started = datetime.now(UTC)
            try:
                queue.wait(plan)
                out = engine.run([plan], handle, run_id, _no_progress)[plan.task.name]
            except (ModelLoadError, MissingDependencyError):
                raise
            except CotbenchError as exc:
                on_done(plan, TaskOutcome(plan.task.name, started, datetime.now(UTC), error=str(exc)))
                continue
            on_done(plan, TaskOutcome(plan.task.name, started, datetime.now(UTC), out))
    except BaseException:
        # Stops a managed server; an unfinished stream's requests fail and are dropped. The queue's
        # thread is not waited for: an interrupted run must exit now.
        handle.generator.close()
        raise
    handle.generator.close()
    queue.join(timeout=30)
    return queue


def _evaluate(run: OpenRun, opts: RunOptions, reporter: RunReporter) -> None:
    rd, manifest = run.rd, run.manifest
    handle = model_handle(run.rm, rd.cache_path, opts.device, opts.batch_size)
    gen = handle.generator
    engine = get_engine(opts.engine, rd.path)

    def done(plan: TaskPlan, outcome: TaskOutcome) -> None:
        if outcome.output is None:
            set_status(run, plan.task.name, "error", outcome.error)
            reporter.task_done(plan.task.name, False, outcome.error)
        else:
            record_task(run, plan, engine.name, outcome.output, outcome.started, outcome.finished)
            reporter.task_done(plan.task.name, True)

    try:
        queue = evaluate_plans(handle, run.todo, engine, manifest.run_id, reporter.advance,
                               lambda plan: set_status(run, plan.task.name, "running"), done, reporter.tokens)
        # The harnesses re-read every completion from the cache: only the queue's hits count.
        count_generation(manifest, gen.model_calls, queue.cache_hits)
        if gen.description:
            manifest.device = ", ".join(f"{k}={v}" for k, v in gen.description.items())
    except BaseException:  # Ctrl-C or a crash: the task it stopped in is pending again, never left "running"
        _reset_running(rd, manifest)
        raise


def _no_progress(task: str, n: int) -> None:
    """The engines' requests are cache hits; the prefetch stream already counted them."""


def _reset_running(rd: RunDir, manifest: RunManifest) -> None:
    running = [t for t in manifest.tasks if t.status == "running"]
    for t in running:
        t.status, t.error = "pending", None
    if running:
        with contextlib.suppress(OSError):
            rd.write_manifest(manifest)


def _scorer_mode(records: list) -> str:
    modes = sorted({r.scorer_mode for r in records})
    return modes[0] if len(modes) == 1 else ",".join(modes) or "exact"


def _source(plan: TaskPlan) -> str:
    src = plan.task.source
    if src.kind == "probe":
        return f"cotbench probe '{src.loader}' (seed {src.seed})" if src.seed is not None else f"cotbench {src.loader}"
    return f"{src.hub_id}@{src.hub_revision}" if src.hub_id else (src.local_dir or src.loader)


def run_models(
    specs: list[str],
    *,
    suite: str | None = None,
    tasks: list[str] | None = None,
    limit: int | None = None,
    output: Path = Path("results"),
    engine: str | None = None,
    seed: int | None = None,
    revisions: list[str] | None = None,
    subfolders: list[str] | None = None,
    steps: list[int] | None = None,
    reporter: RunReporter | None = None,
    **kwargs: Unpack[RunOptionsKwargs],
) -> list[RunDir]:
    """Evaluate each model / checkpoint; the Python API behind ``cotbench run`` (on a Ray
    cluster: ``cotbench.distributed.ray_run.run_models_on_ray``)."""
    eng = engine or DEFAULT_ENGINE
    engines.get(eng)  # an unknown name is a one-line error before any model is resolved
    opts = RunOptions(suite=suite, tasks=tasks, limit=limit, output=Path(output), engine=eng, seed=seed, **kwargs)
    return [run_one(s, opts, reporter) for s in expand_checkpoints(specs, revisions, subfolders, steps)]

