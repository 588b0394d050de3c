"""``cotbench run --ray ADDRESS``: checkpoints x tasks as Ray tasks, results in the usual run dirs.

cotbench plans and writes; Ray places, retries and survives worker failures:

* **Units.** One unit per checkpoint (``--ray-unit checkpoint``, the default: the model loads
  once and evaluates all its pending tasks, generating them in one stream) or per checkpoint x
  task (``--ray-unit task``: more parallelism, one load per task). Each is a Ray task with
  the declared resources (``--gpus-per-model``, ``--cpus-per-unit``, ``--memory-per-unit``),
  ``max_retries`` for worker deaths and ``retry_exceptions`` for a model that failed to load.
* **Commits.** Completions go to the driver's run directory through a ``GenerationStore``
  actor on the driver's node (``cotbench.distributed.store``), one by one, so a retried unit
  regenerates nothing already committed, and workers need no shared filesystem.
* **Results.** A unit returns its tasks' records to the driver, which writes them atomically
  into the same run directories a local run writes; profile, trajectory, gate and leaderboard
  read them unchanged. A unit that fails every retry marks its tasks ``error``; the others
  finish. Killing the driver loses nothing committed: the same command resumes.

A large task on one big model is best served by one vLLM server with ``dp=N`` (one queue,
vLLM balancing the replicas, the model loaded once per replica) rather than by item shards,
which would each load the model and split a task's k repeats and strata across workers.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Unpack

from cotbench.errors import CotbenchError, MissingDependencyError, ModelLoadError
from cotbench.models.spec import ModelSpec
from cotbench.results.store import RunDir
from cotbench.runner import (
    OpenRun,
    RunOptions,
    RunOptionsKwargs,
    RunReporter,
    TaskOutcome,
    count_generation,
    get_engine,
    open_run,
    record_task,
    set_status,
)

MAX_RETRIES = 3
_connected_to: str | None = None  # the address this process initialised Ray with


@dataclass(frozen=True)
class RayOptions:
    address: str  # "auto", "local", "ray://host:10001", or a GCS address host:port
    gpus_per_model: float = 0.0
    cpus_per_unit: float = 1.0
    memory_per_unit: int | None = None  # bytes
    unit: str = "checkpoint"  # or "task"
    local_cpus: int | None = None  # CPUs of a ``local`` instance (default: all of this machine's)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "--ray", extra="ray") from None
    return ray


def connect(opts: RayOptions) -> Any:
    """Join the cluster ``opts.address`` names (``local`` starts one in this process)."""
    global _connected_to
    ray = _ray()
    _check_reachable(opts.address)
    if ray.is_initialized():
        if _connected_to in (None, opts.address):  # None: the caller initialised Ray itself
            return ray
        ray.shutdown()  # another cluster was asked for
    env = {"env_vars": {"TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false"}}
    _connected_to = opts.address
    try:
        if opts.address == "local":
            ray.init(num_cpus=opts.local_cpus, include_dashboard=False, log_to_driver=False, runtime_env=env,
                     object_store_memory=256 << 20, configure_logging=False)
        else:
            ray.init(address=opts.address, log_to_driver=False, runtime_env=env, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise CotbenchError(f"--ray {opts.address}: cannot connect to a Ray cluster there "
                            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, not minutes (Ray retries an unreachable GCS for a long time)."""
    import socket

    target = address.removeprefix("ray://")
    if address in ("local", "auto") or ":" not in target:
        return
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return
    except (OSError, ValueError) as exc:
        raise CotbenchError(f"--ray {address}: no Ray cluster reachable there ({exc})") from None


def _unit_body(rm: Any, plans: list[Any], engine_name: str, run_id: str, device: str | None, batch_size: int,
               store: Any) -> dict[str, Any]:
    """Runs on a worker: evaluate ``plans`` for model ``rm``; generations go through ``store``."""
    from cotbench.distributed.store import RemoteCache
    from cotbench.engines.base import ModelHandle
    from cotbench.models.cache import CachedGenerator
    from cotbench.models.load import generator_factory, token_counter
    from cotbench.runner import evaluate_plans

    gen = CachedGenerator(rm.identity, RemoteCache(store), generator_factory(rm, device, batch_size),
                          batch_size=batch_size)
    handle = ModelHandle(gen, token_counter(rm), rm.spec.system_prompt, rm.spec.display)
    logs = Path(tempfile.mkdtemp(prefix="cotbench-ray-"))
    engine = get_engine(engine_name, logs)
    outcomes: list[TaskOutcome] = []
    queue = evaluate_plans(handle, plans, engine, run_id, lambda task, n: store.progress.remote(task, n),
                           lambda plan: None, lambda plan, outcome: outcomes.append(outcome))
    return {"outcomes": outcomes, "model_calls": gen.model_calls, "cache_hits": queue.cache_hits,
            "device": ", ".join(f"{k}={v}" for k, v in gen.description.items()), "host": os.uname().nodename,
            "engine": engine.name}


def _units(run: OpenRun, unit: str) -> list[list[Any]]:
    return [[p] for p in run.todo] if unit == "task" else ([list(run.todo)] if run.todo else [])


class RayProgress(Protocol):
    """What a progress display of a cluster run provides (the CLI's is ``progress.RichRayReporter``)."""

    def start(self, units: int, requests: int) -> None: ...
    def update(self, done: int, running: int, failed: int, completions: int, rate: float) -> None: ...
    def end(self) -> None: ...


class RayReporter:
    """Progress of a cluster run that shows nothing; the CLI plugs a rich display in."""

    def start(self, units: int, requests: int) -> None: ...
    def update(self, done: int, running: int, failed: int, completions: int, rate: float) -> None: ...
    def end(self) -> None: ...


def run_on_ray(specs: list[ModelSpec], opts: RunOptions, ray_opts: RayOptions,
               reporter: RunReporter | None = None, ray_reporter: RayProgress | None = None) -> list[RunDir]:
    """Evaluate every checkpoint in ``specs`` on the cluster; the same run dirs as a local run."""
    if opts.judge:
        raise CotbenchError("--judge cannot be combined with --ray yet: run the judged safety tasks locally")
    ray = connect(ray_opts)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from cotbench.distributed.store import GenerationStore

    reporter = reporter or RunReporter()
    ray_reporter = ray_reporter or RayReporter()
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    unit_fn = ray.remote(_unit_body).options(
        num_cpus=ray_opts.cpus_per_unit, num_gpus=ray_opts.gpus_per_model,
        memory=ray_opts.memory_per_unit, max_retries=MAX_RETRIES, retry_exceptions=[ModelLoadError],
        name="cotbench_unit")
    with contextlib.ExitStack() as stack:
        runs = [stack.enter_context(open_run(spec, opts, reporter)) for spec in specs]
        # @ray.remote made GenerationStore an actor class, which mypy cannot see through a class decorator
        stores = {id(run): GenerationStore.options(  # type: ignore[attr-defined]  # @ray.remote hides .options
            scheduling_strategy=here).remote(str(run.rd.cache_path)) for run in runs}
        pending: dict[Any, tuple[OpenRun, list[Any]]] = {}
        for run in runs:
            for plans in _units(run, ray_opts.unit):
                for p in plans:
                    set_status(run, p.task.name, "running")
                ref = unit_fn.remote(run.rm, plans, opts.engine, run.manifest.run_id, opts.device, opts.batch_size,
                                     stores[id(run)])
                pending[ref] = (run, plans)
        total_units = len(pending)
        total_requests = sum(p.n_requests for _, plans in pending.values() for p in plans)
        ray_reporter.start(total_units, total_requests)
        done = failed = 0
        start = time.monotonic()
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in ready:
                    run, plans = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        failed += 1
                        message = _ray_error(exc)
                        for p in plans:
                            set_status(run, p.task.name, "error", message)
                            reporter.task_done(p.task.name, False, message)
                        continue
                    done += 1
                    _record_unit(run, plans, result, reporter)
                completions = sum(st["committed"] for st in ray.get([s.stats.remote() for s in stores.values()]))
                elapsed = max(time.monotonic() - start, 1e-9)
                ray_reporter.update(done, len(pending), failed, completions, completions / elapsed)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            for run in runs:  # interrupted: what was running is pending again, resumable
                for t in run.manifest.tasks:
                    if t.status == "running":
                        t.status, t.error = "pending", None
                with contextlib.suppress(OSError):
                    run.rd.write_manifest(run.manifest)
            raise
        finally:
            ray_reporter.end()
            for s in stores.values():
                with contextlib.suppress(Exception):
                    ray.get(s.close.remote(), timeout=30)
    return [run.rd for run in runs]


def run_models_on_ray(specs: list[str], *, ray: RayOptions, suite: str | None = None,
                      tasks: list[str] | None = None, limit: int | None = None, output: Path = Path("results"),
                      engine: str = "lm_eval", revisions: list[str] | None = None,
                      subfolders: list[str] | None = None, steps: list[int] | None = None,
                      reporter: RunReporter | None = None, ray_reporter: RayProgress | None = None,
                      seed: int | None = None, **kwargs: Unpack[RunOptionsKwargs]) -> list[RunDir]:
    """``cotbench.runner.run_models`` on a Ray cluster: the same arguments, plus ``ray``."""
    from cotbench.models.checkpoints import expand_checkpoints

    opts = RunOptions(suite=suite, tasks=tasks, limit=limit, output=Path(output), engine=engine, seed=seed,
                      **kwargs)
    return run_on_ray(expand_checkpoints(specs, revisions, subfolders, steps), opts, ray, reporter, ray_reporter)


def _record_unit(run: OpenRun, plans: list[Any], result: dict[str, Any], reporter: RunReporter) -> None:
    by_name = {p.task.name: p for p in plans}
    for outcome in result["outcomes"]:
        plan = by_name[outcome.task]
        if outcome.output is None:
            set_status(run, outcome.task, "error", outcome.error)
            reporter.task_done(outcome.task, False, outcome.error)
        else:
            record_task(run, plan, result["engine"], outcome.output, outcome.started, outcome.finished)
            reporter.task_done(outcome.task, True)
    count_generation(run.manifest, result["model_calls"], result["cache_hits"])
    if result["device"]:
        run.manifest.device = result["device"]
    run.manifest.host = result["host"]
    run.rd.write_manifest(run.manifest)


def _ray_error(exc: BaseException) -> str:
    """One line for a unit that failed every retry."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"failed on Ray after {MAX_RETRIES} retries: {type(cause).__name__}: {str(cause).splitlines()[0]}"
    text = str(exc).strip().splitlines()
    return f"failed on Ray after {MAX_RETRIES} retries: {text[-1] if text else type(exc).__name__}"
