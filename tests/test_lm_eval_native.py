"""cotbench's tasks used natively in lm-eval (``lm_eval --include_path tasks``) measure what
``cotbench run`` measures: a warning when a chat model's template goes unused, lm-eval's own
stderr equal to cotbench's, a one-line error when the data cannot be reached, and lm-eval's
``hf`` model giving the same outputs and scores as ``cotbench run --engine lm_eval`` on the
same weights."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cotbench.engines.base import TaskPlan
from cotbench.engines.lm_eval.engine import LmEvalEngine
from cotbench.engines.lm_eval.native import chat_template_missing
from cotbench.paths import tasks_dir
from cotbench.results.metrics import compute_metrics
from cotbench.results.schema import SampleRecord
from cotbench.tasks.catalog import all_tasks, get_task, using_include_paths
from cotbench.tasks.items import build_items
from cotbench.tasks.taskdef import TaskDef
from tests.e2e import requires_embedded
from tests.fakes import fake_handle

PARITY_TASKS = ("arithmetic", "boolean_logic")
MAX_TOKENS = 16


class Captured(logging.Handler):
    """The messages of cotbench's lm-eval logger (lm-eval may have stopped its propagation)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_seen() -> Iterator[list[str]]:
    logger = logging.getLogger("lm_eval.cotbench")
    handler, level = Captured(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)  # whatever an earlier run set lm-eval's level to
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def hf_dir() -> Path:
    """The embedded model as a Hugging Face directory (see test_inspect_native)."""
    from cotbench.models.embedded import converted_dir

    return converted_dir()


def native_hf(hf_dir: Path, tasks: list[str], limit: int, max_tokens: int, apply_chat_template: bool) -> dict[str, Any]:
    """What ``lm_eval --model hf --model_args pretrained=DIR --include_path tasks`` does: the
    CLI hands the model arguments to the tasks as metadata, as here."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    model_args = {"pretrained": str(hf_dir)}
    manager = TaskManager(include_path=str(tasks_dir()), include_defaults=False, metadata=dict(model_args))
    results = simple_evaluate(model="hf", model_args=model_args, tasks=tasks, task_manager=manager, limit=limit,
                              batch_size=1, device="cpu", apply_chat_template=apply_chat_template,
                              gen_kwargs={"max_gen_toks": max_tokens}, log_samples=True, bootstrap_iters=100)
    assert results is not None
    return results


# --- the chat template ------------------------------------------------------------------------------

@pytest.mark.e2e
@requires_embedded
def test_unapplied_chat_template_warns_once_per_task(hf_dir: Path, warnings_seen: list[str]) -> None:
    tasks = ["cotbench_arithmetic", "cotbench_boolean_logic"]
    results = native_hf(hf_dir, tasks, limit=1, max_tokens=4, apply_chat_template=False)
    assert len(warnings_seen) == 2, warnings_seen
    for task, message in zip(tasks, warnings_seen, strict=True):
        assert message.startswith(f"{task}: the tokenizer of {hf_dir} has a chat template")
        assert "--apply_chat_template" in message
    # What the warning is about: the instruct model, prompted without its template, says nothing.
    assert [s["resps"] for s in results["samples"]["cotbench_arithmetic"]] == [[[""]]]
    warnings_seen.clear()
    native_hf(hf_dir, tasks, limit=1, max_tokens=4, apply_chat_template=True)
    assert warnings_seen == []


@requires_embedded
def test_no_warning_without_a_template_or_a_local_tokenizer(hf_dir: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"  # the same tokenizer without its chat template: a base model's
    base.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(hf_dir / name, base / name)
    assert chat_template_missing("t", {"pretrained": str(base)}, False) is None
    assert chat_template_missing("t", {"pretrained": str(hf_dir)}, False) is not None
    assert chat_template_missing("t", {"pretrained": str(hf_dir)}, True) is None
    assert chat_template_missing("t", {"tokenizer": str(base), "pretrained": str(hf_dir)}, False) is None
    assert chat_template_missing("t", {"model": "gpt-4o-mini"}, False) is None  # an API model's name
    assert chat_template_missing("t", {"cotbench_limit": 3}, False) is None  # cotbench run: no model args


@requires_embedded
def test_warning_reaches_the_lm_eval_command_line(hf_dir: Path, tmp_path: Path) -> None:
    """lm-eval's ``dummy`` model (no weights) with the tokenizer's directory as ``pretrained``."""
    proc = lm_eval_cli("--model", "dummy", "--model_args", f"pretrained={hf_dir}", "--tasks", "cotbench_arithmetic",
                       "--limit", "1", cwd=tmp_path, env=os.environ)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if "has a chat template, but lm-eval is not applying it" in line]
    assert len(lines) == 1 and "cotbench_arithmetic: the tokenizer of" in lines[0], proc.stderr[-3000:]


# --- stderr -------------------------------------------------------------------------------------------

class ReplayLM:
    """An lm-eval LM that answers each request with a cotbench record's output (by document id
    and repeat): native lm-eval scores exactly the responses cotbench scored."""

    def __new__(cls, records: list[SampleRecord]) -> Any:
        from lm_eval.api.model import LM

        outputs = {(r.sample_id, r.repeat): r.output for r in records}

        class _LM(LM):
            def generate_until(self, requests: list[Any]) -> list[str]:
                seen: Counter[str] = Counter()
                answers = []
                for inst in requests:
                    doc = str(inst.doc["id"])
                    answers.append(outputs[(doc, seen[doc])])
                    seen[doc] += 1
                return answers

            def loglikelihood(self, requests: list[Any]) -> list[Any]:
                raise NotImplementedError

            def loglikelihood_rolling(self, requests: list[Any]) -> list[Any]:
                raise NotImplementedError

        return _LM()


def _sampled_task(folder: Path) -> None:
    """A task whose default preset samples k = 3 responses per item."""
    (folder / "k3_arith.yaml").write_text(
        f"include: {tasks_dir() / '_cotbench_task_yaml'}\ntask: k3_arith\nmetadata:\n  cotbench:\n"
        "    domain: in_domain\n    description: d\n    scorer: integer\n"
        "    source: {kind: probe, loader: arithmetic, n: 40, seed: 5}\n"
        "    prompt: \"Calculate {expression}.\\nGive the answer in \\\\boxed{{}}.\"\n"
        "    presets: {sampled: {temperature: 0.6, top_p: 0.95, max_tokens: 64, k: 3}}\n"
        "    default_preset: sampled\n")


@pytest.mark.parametrize("name, n", [("probe_benign", 40), ("k3_arith", 40)])
def test_native_stderr_is_cotbenchs(name: str, n: int, tmp_path: Path) -> None:
    """Native lm-eval's ``score`` and ``score_stderr`` are cotbench's ``score`` and its stderr
    on the same responses: the mean over items of their avg@k and the standard error of that
    mean, items without a scored response left out (not counted as 0)."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    _sampled_task(tmp_path)
    with using_include_paths([tmp_path]):
        task: TaskDef = all_tasks()[name]
        plan = TaskPlan(task, task.content_hash(), task.settings(), build_items(task, limit=n), limit=n)
        handle, _ = fake_handle(tmp_path / "cache.sqlite")
        records = LmEvalEngine().run([plan], handle, "run", lambda t, k: None)[name].records
    ours = compute_metrics(records, plan.settings.k)["score"]
    scored = {r.sample_id for r in records if r.score is not None}
    if name == "probe_benign":
        assert len(scored) < n  # the fake model never ends some thoughts: items with no score
    else:
        assert plan.settings.k == 3 and {round(v * 3) for v in _item_means(records)} >= {1, 2}
    assert ours.n == len(scored) and ours.stderr > 0

    manager = TaskManager(include_path=[str(tasks_dir()), str(tmp_path)], include_defaults=False,
                          metadata={"cotbench_limit": n})
    results = simple_evaluate(model=ReplayLM(records), tasks=[task.lm_eval_task], task_manager=manager,
                              bootstrap_iters=1000, log_samples=True)
    assert results is not None
    native = results["results"][task.lm_eval_task]
    assert native["score,all"] == pytest.approx(ours.value, abs=1e-12)
    assert native["score_stderr,all"] == pytest.approx(ours.stderr, abs=1e-12)
    assert native["sample_len"] == ours.n
    unscored = [s for s in results["samples"][task.lm_eval_task] if str(s["doc"]["id"]) not in scored]
    assert all("score" not in s and s["metrics"] == [] for s in unscored)


def _item_means(records: list[SampleRecord]) -> list[float]:
    by: dict[str, list[float]] = {}
    for r in records:
        if r.score is not None:
            by.setdefault(r.sample_id, []).append(r.score)
    return [sum(v) / len(v) for v in by.values()]


# --- data that cannot be reached ---------------------------------------------------------------------

def lm_eval_cli(*args: str, cwd: Path, env: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lm_eval", "run", "--include_path", str(tasks_dir()), *args],
                          capture_output=True, text=True, timeout=600, cwd=cwd, check=False,
                          env={**env, "COLUMNS": "200"})


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed ``lm_eval`` run ends with; no traceback anywhere."""
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    return line


def test_unreachable_data_is_one_line_naming_the_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COTBENCH_DATA_DIR"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))  # nothing cached
    proc = lm_eval_cli("--model", "dummy", "--tasks", "cotbench_gsm8k", "--limit", "1", cwd=tmp_path, env=env)
    line = error_line(proc)
    assert line.startswith("error: cotbench_gsm8k: cannot reach the Hugging Face Hub"), line
    assert "set COTBENCH_DATA_DIR to a directory" in line and "--data-dir" not in line, line


def test_missing_local_files_name_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    proc = lm_eval_cli("--model", "dummy", "--tasks", "cotbench_gsm8k", "--limit", "1", cwd=tmp_path,
                       env={**os.environ, "COTBENCH_DATA_DIR": str(tmp_path / "data")})
    line = error_line(proc)
    assert line.startswith("error: cotbench_gsm8k: ") and "COTBENCH_DATA_DIR" in line, line
    assert str(tmp_path / "data") in line, line


def test_a_program_calling_lm_eval_still_gets_the_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-line hook is for the ``lm_eval`` command only: an exception, as ever, elsewhere."""
    from lm_eval.tasks import TaskManager

    from cotbench.errors import DataError

    monkeypatch.setenv("COTBENCH_DATA_DIR", str(tmp_path))
    hook = sys.excepthook
    with pytest.raises(DataError) as exc:
        TaskManager(include_path=str(tasks_dir()), include_defaults=False).load(["cotbench_gsm8k"])
    assert str(exc.value).startswith("cotbench_gsm8k: ") and "COTBENCH_DATA_DIR" in str(exc.value)
    assert sys.excepthook is hook


# --- parity with cotbench run -------------------------------------------------------------------------

@pytest.mark.e2e
@requires_embedded
def test_native_hf_and_cotbench_run_agree_per_sample(hf_dir: Path, tmp_path: Path, warnings_seen: list[str]) -> None:
    """lm-eval's ``hf`` model and cotbench's ``hf:`` backend are transformers on the same
    directory, both unbatched and greedy, both rendering the tokenizer's chat template with a
    generation prompt and no system turn of their own (SmolLM2's template adds its default
    one in both), tokenized without extra special tokens: prompts, outputs, scores and
    stderr must be identical. (Where a model emits special tokens other than its EOS, lm-eval
    decodes with ``skip_special_tokens`` and drops them, cotbench keeps them; SmolLM2 emits
    none in this budget.)"""
    from cotbench.models.hf_generator import load_tokenizer, render_chat
    from tests.e2e import cli, run_dir

    lm_tasks = [get_task(t).lm_eval_task for t in PARITY_TASKS]
    native = native_hf(hf_dir, lm_tasks, limit=2, max_tokens=MAX_TOKENS, apply_chat_template=True)
    assert warnings_seen == []
    proc = cli("run", "--model", f"hf:{hf_dir}", "--engine", "lm_eval", "--tasks", ",".join(PARITY_TASKS),
               "--limit", "2", "--max-tokens", str(MAX_TOKENS), "--batch-size", "1", "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    d = run_dir(tmp_path)
    tok = load_tokenizer(hf_dir, None, None, None)
    for name, lm_task in zip(PARITY_TASKS, lm_tasks, strict=True):
        items = build_items(get_task(name), limit=2)
        samples = native["samples"][lm_task]
        assert [s["doc"]["id"] for s in samples] == [i.id for i in items]
        records = {
            r["sample_id"]: r for r in map(json.loads, (d / "tasks" / name / "samples.jsonl").read_text().splitlines())
        }
        assert set(records) == {i.id for i in items}
        for s, item in zip(samples, items, strict=True):
            rec = records[item.id]
            ((prompt, gen_kwargs),) = s["arguments"]
            assert prompt == render_chat(tok, [{"role": "user", "content": item.prompt}])
            assert gen_kwargs["do_sample"] is False and gen_kwargs["max_gen_toks"] == MAX_TOKENS
            assert s["resps"] == [[rec["output"]]]
            assert s.get("score") == rec["score"]
        metrics = json.loads((d / "tasks" / name / "metrics.json").read_text())["metrics"]["score"]
        ours = native["results"][lm_task]
        assert ours["score,all"] == pytest.approx(metrics["value"])
        assert ours["score_stderr,all"] == pytest.approx(metrics["stderr"])
