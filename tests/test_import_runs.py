"""`cotbench import` (issue 17): peers' lm-eval output directories and Inspect logs become cotbench
run directories, re-scored with cotbench's scorers where the task is a cotbench task and kept with
the harness's scores otherwise, so profile, gate and leaderboard read them.

The input files are written by lm-eval and Inspect themselves inside the tests (a tiny fake
``LM`` through ``lm_eval.simple_evaluate`` and lm-eval's ``EvaluationTracker``; ``inspect_ai.eval``
with the ``mockllm/model`` provider), and the Inspect example logs in ../shared/data/peer_logs/.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from cotbench.importers.common import ImportOptions
from cotbench.importers.paths import import_runs
from cotbench.results.store import RunDir
from cotbench.tasks.catalog import get_task
from cotbench.tasks.items import build_items
from tests.test_cli_errors import error_line, invoke

ECHO_YAML = """
task: my_echo
dataset_path: json
dataset_kwargs: {{data_files: {{test: {data}}}}}
test_split: test
output_type: generate_until
doc_to_text: "Say {{{{word}}}}"
doc_to_target: word
generation_kwargs: {{until: ["\\n"], max_gen_toks: 16, do_sample: false}}
metric_list:
  - {{metric: exact_match, aggregation: mean, higher_is_better: true}}
metadata: {{version: 3}}
"""
CHOICE_YAML = """
task: my_choice
dataset_path: json
dataset_kwargs: {{data_files: {{test: {data}}}}}
test_split: test
output_type: multiple_choice
doc_to_text: "Pick {{{{word}}}}:"
doc_to_choice: ["0", "1", "x"]
doc_to_target: word
metric_list:
  - {{metric: acc, aggregation: mean, higher_is_better: true}}
"""
WORDS = ["0", "1", "x"]
ECHO_EXPECTED = {0: 1.0, 1: 0.0, 2: 1.0}  # the fake model says "0", "one", "x"
N_ARITH = 6


def _value(prompt: str) -> int:
    expr = re.search(r"Calculate (.+?)\.\n", prompt).group(1)  # type: ignore[union-attr]
    return eval(expr, {"__builtins__": {}})  # cotbench's own generated arithmetic


def arithmetic_right(prompt: str, good: bool) -> bool:
    """The tuned fake model is right on items whose value is even; the base one never."""
    return good and _value(prompt) % 2 == 0


def _fake_lm(good: bool) -> Any:
    from lm_eval.api.model import LM

    class FakeLM(LM):
        def generate_until(self, requests: list[Any]) -> list[str]:
            out = []
            for r in requests:
                prompt = r.args[0]
                if prompt.startswith("Say "):
                    word = prompt[4:]
                    out.append("one" if word == "1" else word)
                else:
                    v = _value(prompt)
                    answer = v if arithmetic_right(prompt, good) else v + 1
                    out.append(f"<think>Compute it step by step.</think>The answer is \\boxed{{{answer}}}")
            return out

        def loglikelihood(self, requests: list[Any]) -> list[Any]:
            # always ranks the choice "x" first
            return [(0.0 if r.args[1].strip() == "x" else -1.0, False) for r in requests]

        def loglikelihood_rolling(self, requests: list[Any]) -> list[Any]:
            raise NotImplementedError

    return FakeLM()


def write_lm_eval(out: Path, model: str, good: bool) -> Path:
    """An lm-eval output directory as `lm_eval --output_path OUT --log_samples` writes it."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    from cotbench.paths import tasks_dir

    yaml_dir = out / "yaml"
    yaml_dir.mkdir(parents=True, exist_ok=True)
    (yaml_dir / "words.jsonl").write_text("".join(json.dumps({"word": w}) + "\n" for w in WORDS))
    (yaml_dir / "my_echo.yaml").write_text(ECHO_YAML.format(data=json.dumps(str(yaml_dir / "words.jsonl"))))
    (yaml_dir / "my_choice.yaml").write_text(CHOICE_YAML.format(data=json.dumps(str(yaml_dir / "words.jsonl"))))
    manager = TaskManager(include_path=[str(tasks_dir()), str(yaml_dir)], include_defaults=False)
    tracker = EvaluationTracker(output_path=str(out / "lm_eval_out"))
    results = simple_evaluate(
        model=_fake_lm(good),
        model_args=f"pretrained={model}",
        tasks=["cotbench_arithmetic", "my_echo", "my_choice"],
        task_manager=manager,
        limit=N_ARITH,
        log_samples=True,
        evaluation_tracker=tracker,
        bootstrap_iters=0,
    )
    assert results is not None
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return out / "lm_eval_out"


@pytest.fixture(scope="module")
def lm_eval_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lm_eval")
    return {"tuned": write_lm_eval(root / "tuned", "acme/tuned", True),
            "base": write_lm_eval(root / "base", "acme/base", False)}


def _mock_outputs(n: int, texts: list[str]) -> list[Any]:
    from inspect_ai.model import ModelOutput, ModelUsage

    outs = []
    for i in range(n):
        o = ModelOutput.from_content("mockllm/model", texts[i % len(texts)])
        o.usage = ModelUsage(input_tokens=10, output_tokens=7, total_tokens=17, reasoning_tokens=3)
        outs.append(o)
    return outs


def write_inspect(out: Path, n_outputs: int | None = None, fail_on_error: bool = True) -> list[Path]:
    """Inspect logs of cotbench/arithmetic (4 items x 2 epochs) and of a task cotbench does not know."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import get_model
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    from cotbench.engines.inspect.registry import arithmetic

    texts = ["<think>(20 + 14) * 10 - 18</think>\\boxed{322}", "\\boxed{7}"]
    echo = Task(name="echo", dataset=[Sample(id="a", input="Say 322", target="322"),
                                      Sample(id="b", input="Say 7", target="8")], solver=generate(), scorer=match())
    model = get_model("mockllm/model", custom_outputs=_mock_outputs(n_outputs or 12, texts))
    logs = inspect_eval([arithmetic(limit=4), echo], model=model, log_dir=str(out), display="none", epochs=2,
                        max_samples=1, max_tasks=1, fail_on_error=fail_on_error)
    return [Path(log.location) for log in logs]


@pytest.fixture(scope="module")
def inspect_logs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_inspect(tmp_path_factory.mktemp("inspect"))


def _records(rd: RunDir, task: str) -> list[Any]:
    return list(rd.iter_samples(task))


def _one(results: list[tuple[RunDir, Any]]) -> RunDir:
    (pair,) = results
    return pair[0]


# -- lm-eval ------------------------------------------------------------------------------------------------------

def test_lm_eval_cotbench_task_is_rescored_on_cotbench_items(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    rd = _one(import_runs([lm_eval_dirs["tuned"]], tmp_path / "runs"))
    td = get_task("arithmetic")
    tr = rd.read_task("arithmetic")
    assert tr.task.hash == td.content_hash() and tr.task.version == td.version and tr.task.domain == "in_domain"
    assert tr.task.scorer == td.scorer and tr.task.scorer_mode == "exact" and tr.engine == "lm_eval"
    # what the YAML asked lm-eval for: greedy, 256 tokens, one response per item
    assert tr.task.generation == td.settings("greedy").model_copy(update={"k": 1})
    records = _records(rd, "arithmetic")
    assert len(records) == tr.n_items == N_ARITH
    expected = [1.0 if arithmetic_right(r.prompt, True) else 0.0 for r in records]
    assert 0 < sum(expected) < N_ARITH  # both right and wrong answers, known by hand
    assert [r.score for r in records] == expected
    assert [r.details["harness_score"] for r in records] == expected  # lm-eval ran cotbench's scorer too
    assert tr.metrics["score"].value == pytest.approx(sum(expected) / N_ARITH)
    assert all(r.reasoning == "Compute it step by step." and r.answer.startswith("The answer") for r in records)
    assert {r.prompt for r in records} <= {i.prompt for i in build_items(td)}
    manifest = rd.read_manifest()
    assert manifest.engine == "lm_eval" and manifest.model.model == "acme/tuned"
    assert manifest.model.spec == "lm_eval:acme/tuned" and manifest.packages["lm_eval"]
    provenance = json.loads((rd.path / "imported.json").read_text())
    assert provenance["harness"] == "lm_eval" and provenance["harness_version"] == manifest.packages["lm_eval"]
    assert provenance["tasks"]["arithmetic"]["scores"] == "rescored by cotbench"
    assert any(f.endswith(".jsonl") and "samples_cotbench_arithmetic_" in f
               for f in provenance["tasks"]["arithmetic"]["files"])


def test_lm_eval_unknown_task_keeps_lm_evals_scores(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    rd = _one(import_runs([lm_eval_dirs["tuned"]], tmp_path / "runs", ImportOptions(domains={"my_echo": "transfer"})))
    tr = rd.read_task("my_echo")
    assert tr.task.domain == "transfer" and tr.task.scorer_mode == "harness:lm_eval"
    assert tr.task.scorer == "harness(harness='lm_eval', metric='exact_match')" and tr.task.version == "3"
    records = sorted(_records(rd, "my_echo"), key=lambda r: int(r.sample_id))
    assert [r.score for r in records] == [ECHO_EXPECTED[i] for i in range(3)]
    assert [r.prompt for r in records] == ["Say 0", "Say 1", "Say x"] and records[1].output == "one"
    assert tr.metrics["score"].value == pytest.approx(2 / 3) == tr.harness_metrics["exact_match"]
    assert tr.task.generation.max_tokens == 16 and tr.task.generation.stop == ["\n"]
    provenance = json.loads((rd.path / "imported.json").read_text())
    assert provenance["tasks"]["my_echo"]["scores"] == "kept from the harness"
    # without --domain: the generic domain
    again = _one(import_runs([lm_eval_dirs["tuned"]], tmp_path / "runs2"))
    assert again.read_task("my_echo").task.domain == "general"


def test_lm_eval_multiple_choice_task_keeps_the_choice_it_ranked_first(lm_eval_dirs: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    rd = _one(import_runs([lm_eval_dirs["tuned"]], tmp_path / "runs"))
    tr = rd.read_task("my_choice")
    assert tr.task.scorer == "harness(harness='lm_eval', metric='acc')"
    records = sorted(_records(rd, "my_choice"), key=lambda r: int(r.sample_id))
    assert [r.score for r in records] == [0.0, 0.0, 1.0]  # "x" is right only for the third word
    assert all(r.extracted == r.output == " x" for r in records) and records[0].prompt == "Pick 0:"


def test_tokens_are_counted_with_a_tokenizer(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["Compute", "it", "step", "by", "step.", "The", "answer", "is"]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(["[UNK]", *words])}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path / "tok")
    res = invoke(
        "import", str(lm_eval_dirs["tuned"]), "-o", str(tmp_path / "runs"), "--tokenizer", str(tmp_path / "tok")
    )
    assert res.rc == 0, res.err
    rd = RunDir(next((tmp_path / "runs").iterdir()))
    for r in _records(rd, "arithmetic"):  # one token per whitespace-separated word
        assert r.reasoning_tokens == 5 and r.answer_tokens == len(r.answer.split()) == 4


def test_profile_gate_and_leaderboard_read_imported_runs(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "runs"
    res = invoke("import", str(lm_eval_dirs["tuned"]), str(lm_eval_dirs["base"]), "-o", str(out))
    assert res.rc == 0, res.err
    assert res.out.count("imported acme/") == 2 and "arithmetic: in_domain, 6 item(s), re-scored by cotbench" in res.out
    assert "my_echo: general, 3 item(s), lm_eval's scores kept" in res.out
    tuned, base = (next(p for p in out.iterdir() if p.name.startswith(f"acme_{n}")) for n in ("tuned", "base"))
    prof = invoke("profile", str(tuned), "--reference", str(base), "--json")
    assert prof.rc == 0, prof.err
    profile = json.loads(prof.out)
    math = next(d for d in profile["domains"] if d["domain"] == "in_domain")
    right = sum(arithmetic_right(r.prompt, True) for r in _records(RunDir(tuned), "arithmetic"))
    assert math["score"]["delta"] == pytest.approx(right / N_ARITH)  # the base model is never right
    gate = invoke("gate", "-b", str(base), "-c", str(tuned), "--json", str(tmp_path / "gate.json"))
    assert gate.rc in (0, 1), gate.err
    assert json.loads((tmp_path / "gate.json").read_text())["verdict"] in ("pass", "fail", "inconclusive")
    site = invoke("leaderboard", "build", str(out), "-o", str(tmp_path / "site"), "--workers", "0")
    assert site.rc == 0, site.err
    index = (tmp_path / "site" / "index.html").read_text()
    assert "acme/tuned" in index and "acme/base" in index


def test_reimporting_replaces_tasks_and_keeps_others(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    first = _one(import_runs([lm_eval_dirs["tuned"]], tmp_path / "runs"))
    again = _one(import_runs([lm_eval_dirs["tuned"]], tmp_path / "runs"))
    assert first.path == again.path and again.task_names() == ["arithmetic", "my_choice", "my_echo"]
    assert [t.name for t in again.read_manifest().tasks] == ["arithmetic", "my_choice", "my_echo"]


# -- Inspect ------------------------------------------------------------------------------------------------------

def test_inspect_cotbench_task_is_rescored(inspect_logs: list[Path], tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log

    arith = next(p for p in inspect_logs if "arithmetic" in p.name)
    rd = _one(import_runs([arith], tmp_path / "runs"))
    tr = rd.read_task("arithmetic")
    td = get_task("arithmetic")
    assert tr.engine == "inspect" and tr.task.hash == td.content_hash() and tr.task.generation.k == 2
    assert tr.task.generation.max_tokens == td.settings("greedy").max_tokens and tr.task.generation.greedy
    records = _records(rd, "arithmetic")
    assert len(records) == 8 and {r.repeat for r in records} == {0, 1} and tr.n_items == 4
    targets = {i.id: i.target for i in build_items(td)}
    # right exactly when the boxed number is the item's target (checked by hand, not by the scorer)
    assert [r.score for r in records] == [float(f"\\boxed{{{targets[r.sample_id]}}}" in r.output) for r in records]
    assert any(r.score == 1.0 for r in records) and any(r.score == 0.0 for r in records)
    # cotbench's Inspect scorer (the log's only one) scored the same responses the same way
    own = {(str(s.id), s.epoch - 1): next(iter(s.scores.values())).value for s in read_eval_log(str(arith)).samples}
    assert all(own[(r.sample_id, r.repeat)] == r.score == r.details["harness_score"] for r in records)
    # the provider's usage: 7 output tokens of which 3 reasoning; no reasoning, all 7 are the answer's
    for r in records:
        assert r.output_tokens == 7 and r.reasoning_tokens == 3 and r.answer_tokens == 4
    assert rd.read_manifest().packages["inspect_ai"] == json.loads((rd.path / "imported.json").read_text())[
        "harness_version"]


def test_inspect_unknown_task_keeps_inspects_scores(inspect_logs: list[Path], tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log
    from inspect_ai.scorer import value_to_float

    echo = next(p for p in inspect_logs if "echo" in p.name)
    rd = _one(import_runs([echo], tmp_path / "runs"))
    tr = rd.read_task("echo")
    assert tr.task.scorer_mode == "harness:inspect" and tr.task.scorer == "harness(harness='inspect', metric='match')"
    assert tr.task.domain == "general"
    records = _records(rd, "echo")
    assert len(records) == 4
    # match: "322" ends "\boxed{322}" for target 322 only; "7" never matches target 8
    for r in records:
        assert r.score == float(r.sample_id == "a" and r.output.endswith("{322}"))
    own = {
        (str(s.id), s.epoch - 1): value_to_float()(s.scores["match"].value) for s in read_eval_log(str(echo)).samples
    }
    assert all(r.score == own[(r.sample_id, r.repeat)] for r in records)
    assert tr.harness_metrics["accuracy"] == pytest.approx(tr.metrics["score"].value)


def test_an_unfinished_inspect_log_needs_allow_incomplete(tmp_path: Path) -> None:
    (arith, _echo) = write_inspect(tmp_path / "logs", n_outputs=3)  # the mock model runs out: status "error"
    res = invoke("import", str(arith), "-o", str(tmp_path / "runs"))
    error_line(res, str(arith), "status is 'error'", "--allow-incomplete")
    assert not (tmp_path / "runs").exists()
    res = invoke("import", str(arith), "-o", str(tmp_path / "runs"), "--allow-incomplete")
    assert res.rc == 0, res.err
    assert "warning: incomplete: Inspect log status 'error'" in res.err
    rd = RunDir(next((tmp_path / "runs").iterdir()))
    assert len(_records(rd, "arithmetic")) == 3
    notes = json.loads((rd.path / "imported.json").read_text())["tasks"]["arithmetic"]
    assert notes["harness_status"] == "error" and any("incomplete" in n for n in notes["notes"])


def test_errored_samples_need_allow_incomplete(tmp_path: Path) -> None:
    (arith, _echo) = write_inspect(tmp_path / "logs", n_outputs=3, fail_on_error=False)
    error_line(invoke("import", str(arith), "-o", str(tmp_path / "runs")), "ended in an error", "--allow-incomplete")
    res = invoke("import", str(arith), "-o", str(tmp_path / "runs"), "--allow-incomplete")
    assert res.rc == 0 and "left out" in res.err


def test_the_logs_of_a_cotbench_inspect_run_import_to_the_same_records(tmp_path: Path) -> None:
    from cotbench.runner import run_models
    from tests.fake_server import FakeServer

    with FakeServer() as server:
        (native,) = run_models([f"openai:fake-model@{server.url}"], tasks=["arithmetic", "probe_harmful"], limit=3,
                               engine="inspect", output=tmp_path / "native")
    logs = sorted((native.path / "inspect_logs").rglob("*.eval"))
    assert len(logs) == 2
    imported = _one(import_runs(logs, tmp_path / "imported"))
    for task in ("arithmetic", "probe_harmful"):
        a, b = native.read_task(task), imported.read_task(task)
        assert (b.task.hash, b.task.version, b.task.generation, b.task.scorer_mode) == \
            (a.task.hash, a.task.version, a.task.generation, a.task.scorer_mode)
        mine = {(r.sample_id, r.repeat): r for r in native.iter_samples(task)}
        theirs = {(r.sample_id, r.repeat): r for r in imported.iter_samples(task)}
        assert mine.keys() == theirs.keys()
        for key, r in mine.items():
            assert (theirs[key].output, theirs[key].score, theirs[key].label) == (r.output, r.score, r.label)
        assert b.metrics.keys() == a.metrics.keys()
        assert all(b.metrics[m].value == pytest.approx(a.metrics[m].value) for m in a.metrics)
    # same settings, same items, same scorer: the gate compares the two as equals
    gate = invoke("gate", "-b", str(native.path), "-c", str(imported.path), "--json", str(tmp_path / "g.json"))
    assert gate.rc in (0, 1), gate.err
    assert "differs" not in gate.err


@pytest.mark.shared_data
def test_inspect_example_logs(shared_data: Path, tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log
    from inspect_ai.scorer import value_to_float

    folder = shared_data / "peer_logs" / "inspect"
    logs = sorted(p for p in folder.iterdir() if p.suffix in (".eval", ".json"))
    assert len(logs) == 5
    for i, path in enumerate(logs):
        rd = _one(import_runs([path], tmp_path / str(i)))
        log = read_eval_log(str(path))
        (task,) = rd.task_names()
        records = {(r.sample_id, r.repeat): r for r in _records(rd, task)}
        assert len(records) == len(log.samples)
        scorer = log.results.scores[0].name
        for s in log.samples:
            r = records[(str(s.id), s.epoch - 1)]
            assert r.score == value_to_float()(s.scores[scorer].value) and r.output == s.output.completion
        assert rd.read_manifest().model.model == log.eval.model
        assert rd.read_task(task).task.scorer_mode == "harness:inspect"
    # the same eval as .eval and as .json: one task twice for one model is refused, naming both files
    line = error_line(invoke("import", str(folder), "-o", str(tmp_path / "all")), "log_read_sample.eval",
                      "log_read_sample.json")
    assert "in both" in line


# -- bad input ----------------------------------------------------------------------------------------------------

def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_malformed_and_partial_lm_eval_output(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(lm_eval_dirs["tuned"], tmp_path / "out")
    (results,) = folder.rglob("results_*.json")
    (samples,) = folder.rglob("samples_cotbench_arithmetic_*.jsonl")
    lines = samples.read_text().splitlines()
    samples.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])  # cut mid-line
    error_line(invoke("import", str(folder), "-o", str(tmp_path / "r")), samples.name, "not valid JSON")
    samples.write_text("\n".join(lines[:-2]) + "\n")  # whole lines missing
    error_line(invoke("import", str(folder), "-o", str(tmp_path / "r")), samples.name, "partial")
    samples.unlink()
    error_line(invoke("import", str(results), "-o", str(tmp_path / "r")), results.name, "--log_samples")
    results.write_text('{"results": ')
    error_line(invoke("import", str(results), "-o", str(tmp_path / "r")), results.name, "not a readable")
    error_line(invoke("import", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "r")), "no such file")
    assert not (tmp_path / "r").exists()


def test_a_prompt_other_than_cotbenchs_is_refused(lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(lm_eval_dirs["tuned"], tmp_path / "out")
    (samples,) = folder.rglob("samples_cotbench_arithmetic_*.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    rows[0]["doc"]["prompt"] = "Calculate 1 + 1.\nAnswer in words."
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    error_line(invoke("import", str(folder), "-o", str(tmp_path / "r")), samples.name, "another prompt")


def test_a_truncated_inspect_log_is_one_line(inspect_logs: list[Path], tmp_path: Path) -> None:
    src = next(p for p in inspect_logs if "arithmetic" in p.name)
    cut = tmp_path / src.name
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    error_line(invoke("import", str(cut), "-o", str(tmp_path / "r")), cut.name, "not a readable Inspect log")


@pytest.mark.parametrize("value, fragment", [
    ("my_echo=safety_harmful", "refusal labels"),
    ("my_echo", "expected TASK=DOMAIN"),
    ("nope=general", "no imported task of that name"),
    ("cotbench_arithmetic=general", "a cotbench task"),
])
def test_bad_domain_options(value: str, fragment: str, lm_eval_dirs: dict[str, Path], tmp_path: Path) -> None:
    error_line(invoke("import", str(lm_eval_dirs["tuned"]), "-o", str(tmp_path / "r"), "--domain", value),
               "--domain", fragment)
    assert not (tmp_path / "r").exists()
