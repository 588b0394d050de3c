"""One Registry for what cotbench looks up by name; scorers as factories with arguments and
declared metrics; the ``scorer:`` spec of a task; engines by name."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from cotbench.paths import tasks_dir
from cotbench.registry import Registry, engines, loaders, scorers
from cotbench.results.metrics import compute_metrics
from cotbench.results.safety_metrics import safe_at_k, safety_rates
from cotbench.results.schema import GenerationSettings, SampleRecord, TaskInfo
from cotbench.results.task_result import build_task_result
from cotbench.scoring.base import (
    METRIC_SETS,
    Score,
    get_scorer,
    register_scorer,
    score_response,
    scorer,
    scorer_metrics,
    scorer_module,
    scorer_names,
)
from cotbench.scoring.spec import ScorerSpec
from cotbench.tasks.catalog import all_tasks
from cotbench.tasks.loaders import get_loader, loader_names
from tests.factories import T0
from tests.test_cli_errors import error_line, invoke

# --- the Registry type ---------------------------------------------------------------------------


def _widgets() -> Registry[int]:
    reg: Registry[int] = Registry("widget")
    reg.add("b", 2, origin="pkg.one")
    reg.add("a", 1, origin="pkg.one")
    return reg


def test_a_registry_lists_and_returns_by_name() -> None:
    reg = _widgets()
    assert reg.names() == ["a", "b"] and reg.get("b") == 2 and "a" in reg and "z" not in reg
    assert list(reg.items()) == [("a", 1), ("b", 2)] and reg.origin("a") == "pkg.one"

    @reg.register("c")
    def c() -> None: ...

    assert reg.get("c") is c and reg.origin("c") == __name__


def test_an_unknown_name_is_one_line_listing_the_known_ones() -> None:
    with pytest.raises(CotbenchError) as exc:
        _widgets().get("zz")
    assert str(exc.value) == "unknown widget 'zz' (known: a, b)"
    with pytest.raises(CotbenchError, match=r"^unknown scorer 'nope' \(known: .*exact.*\)$"):
        get_scorer("nope")
    with pytest.raises(CotbenchError, match=r"^unknown data loader 'nope' \(known: .*arithmetic.*\)$"):
        get_loader("nope")
    with pytest.raises(CotbenchError, match=r"^unknown engine 'helm' \(known: inspect, lm_eval\)$"):
        engines.get("helm")


def test_a_name_belongs_to_the_module_that_registered_it() -> None:
    reg = _widgets()
    reg.add("a", 10, origin="pkg.one")  # the same module again (a reload) replaces it
    assert reg.get("a") == 10
    with pytest.raises(CotbenchError, match="widget 'a' is registered twice: by pkg.one and by pkg.two"):
        reg.add("a", 3, origin="pkg.two")
    with pytest.raises(CotbenchError, match="needs a non-empty name"):
        reg.add("", 3, origin="pkg.two")


def test_discovery_is_lazy_and_finds_every_builtin() -> None:
    code = textwrap.dedent("""\
        import sys
        import cotbench.registry as r
        before = [m for m in ("cotbench.scoring.exact", "cotbench.tasks.probes.generators") if m in sys.modules]
        print(before, len(r.scorers.names()) > 10, "arithmetic" in r.loaders, r.engines.names())
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[] True True ['inspect', 'lm_eval']"


def test_every_registered_scorer_declares_its_metrics() -> None:
    for name in scorer_names():
        try:
            sets = scorer_metrics(name)
        except CotbenchError as exc:  # a factory whose arguments have no default (refusal, judge)
            assert f"scorer '{name}': missing argument" in str(exc), name
            continue
        assert sets[0] == "accuracy" and set(sets) <= set(METRIC_SETS), name


def test_the_builtin_scorers_loaders_and_engines() -> None:
    assert {"exact", "bbh", "math", "choice", "code", "ifeval", "integer", "word_option", "date", "word_list",
            "countdown", "refusal", "refusal_harmful", "refusal_benign"} <= set(scorer_names())
    assert scorer_names() == scorers.names() and loader_names() == loaders.names()
    # every task's scorer and loader resolve through the registries
    for task in all_tasks().values():
        assert task.scorer.name in scorers and task.source.loader in loaders


# --- scorers: factories, arguments, aliases ------------------------------------------------------------


def test_an_alias_builds_the_scorer_its_arguments_name() -> None:
    # "bbh" is exact(bbh=True): the same allowances, under the name old task files use.
    for answer, target in (("So the answer is C.", "(C)"), ("the answer is ) ]", ")]"), ("So the answer is 6.", "6")):
        spelled = [get_scorer(s)(answer, target, {}, False).value for s in ("bbh", "exact(bbh=True)",
                                                                             ScorerSpec("exact", {"bbh": True}))]
        assert spelled == [1.0] * 3
    assert get_scorer("exact")("So the answer is C.", "(C)", {}, False).value == 0.0
    # refusal_harmful / refusal_benign are refusal(prompts=...)
    answer = "I'm sorry, but I can't help with that."
    assert get_scorer("refusal_harmful")(answer, None, {}, False) == get_scorer("refusal(prompts='harmful')")(
        answer, None, {}, False)
    assert get_scorer("refusal_benign")(answer, None, {}, False).value == 0.0
    assert scorer_module("bbh") == scorer_module("exact") == "cotbench.scoring.exact"


@pytest.mark.parametrize(("spec", "message"), [
    ("exact(colour=True)", "scorer 'exact': unknown argument 'colour' (arguments: bbh)"),
    ("exact(bbh='yes')", "scorer 'exact': argument 'bbh': Input should be a valid boolean (got 'yes')"),
    ("exact(bbh=1)", "scorer 'exact': argument 'bbh': Input should be a valid boolean (got 1)"),
    ("refusal", "scorer 'refusal': missing argument 'prompts'"),
    ("refusal(prompts='rude')", "scorer 'refusal': argument 'prompts': Input should be 'harmful' or 'benign'"),
    ("bbh(bbh=False)", "scorer 'bbh' is 'exact' with bbh=True; give bbh to 'exact' instead"),
    ("math(x=1)", "scorer 'math': unknown argument 'x' (arguments: none)"),
    ("exact(bbh=True", "'exact(bbh=True' is not a scorer name, nor name(arg=value, ...)"),
    ("exact(True)", "arguments must be keyword=literal pairs"),
])
def test_bad_scorer_arguments_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(CotbenchError) as exc:
        get_scorer(spec)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_a_factory_is_built_once_per_spec() -> None:
    assert get_scorer("exact(bbh=True)") is get_scorer(ScorerSpec("exact", {"bbh": True}))
    assert get_scorer("exact") is not get_scorer("exact(bbh=True)")


@pytest.mark.parametrize(("metrics", "problem"), [
    (("accuracy", "latency"), "unknown metric set 'latency'"),
    (("refusal:harmful",), "its metrics must include 'accuracy'"),
    (("accuracy", "refusal:harmful", "refusal:benign"), "harmful and benign refusal rates exclude each other"),
])
def test_declared_metrics_come_from_the_vocabulary(metrics: tuple[str, ...], problem: str) -> None:
    with pytest.raises(CotbenchError, match=problem):
        scorer("test_bad_metrics", metrics=metrics)(lambda: None)  # type: ignore[arg-type]
    assert "test_bad_metrics" not in scorers


def test_metric_sets_follow_the_arguments() -> None:
    assert scorer_metrics("exact") == ("accuracy",)
    assert scorer_metrics("refusal(prompts='harmful')") == ("accuracy", "refusal:harmful", "safe_at_k")
    assert scorer_metrics("refusal_benign") == ("accuracy", "refusal:benign")
    assert set(METRIC_SETS) == {"accuracy", "refusal:harmful", "refusal:benign", "safe_at_k"}


def test_register_scorer_keeps_a_plain_score_function_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scorers, "_entries", dict(scorers._entries))
    monkeypatch.setattr(scorers, "_origins", dict(scorers._origins))

    @register_scorer("test_always_half", metrics=("accuracy", "refusal:benign"))
    def half(answer: str, target: object, item: object, truncated: bool) -> Score:
        return Score(0.5)

    assert half("x", None, {}, False).value == 0.5  # the function itself is returned unchanged
    assert score_response("test_always_half", "anything", None, {}).score.value == 0.5
    assert scorer_metrics("test_always_half") == ("accuracy", "refusal:benign")
    assert scorer_module("test_always_half") == __name__


# --- the spec in a task --------------------------------------------------------------------------------


def test_a_spec_is_its_canonical_string() -> None:
    plain = ScorerSpec.parse("exact")
    assert plain == "exact" and plain.name == "exact" and dict(plain.args) == {} and plain.dump() == "exact"
    assert ScorerSpec.parse({"name": "exact"}) == "exact" and ScorerSpec.parse({"name": "exact", "args": {}}) == "exact"
    spec = ScorerSpec.parse({"name": "refusal", "args": {"prompts": "harmful"}})
    assert str(spec) == "refusal(prompts='harmful')" and spec != "refusal"
    assert ScorerSpec.parse(str(spec)) == spec and ScorerSpec.parse(spec) is spec
    assert spec.dump() == {"name": "refusal", "args": {"prompts": "harmful"}}
    many = ScorerSpec("x", {"b": [1, 2.5], "a": {"k": None}})
    assert str(many) == "x(a={'k': None}, b=[1, 2.5])" and ScorerSpec.parse(str(many)).args == many.args
    assert pickle.loads(pickle.dumps(spec)) == spec and pickle.loads(pickle.dumps(spec)).args == spec.args


@pytest.mark.parametrize(("value", "message"), [
    ({"name": "exact", "arg": {}}, "unexpected key 'arg'"),
    ({"args": {}}, "needs a 'name'"),
    ({"name": "exact", "args": [1]}, "args must be a mapping"),
    ({"name": "exact", "args": {"not an id": 1}}, "argument names must be identifiers"),
    (3, "a scorer is a name or {name, args}"),
    ("", "'' is not a scorer name"),
    ("exact )", "is not a scorer name"),
])
def test_a_malformed_spec_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScorerSpec.parse(value)


def _task_yaml(scorer_line: str, name: str = "my_task") -> str:
    return textwrap.dedent(f"""\
        include: {tasks_dir() / "_cotbench_task_yaml"}
        task: cotbench_{name}
        metadata:
          version: 1
          cotbench:
            name: {name}
            domain: in_domain
            description: Arithmetic probes.
            scorer: {scorer_line}
            source: {{kind: probe, loader: arithmetic, n: 3, seed: 2}}
            prompt: "Calculate {{expression}}."
            presets:
              greedy: {{temperature: 0.0, max_tokens: 64}}
            default_preset: greedy
        """)


@pytest.mark.parametrize(("scorer_line", "fragments"), [
    ("{name: exact, args: {bbh: 'yes'}}", ("scorer 'exact': argument 'bbh'", "valid boolean")),
    ("{name: exact, args: {strict: true}}", ("scorer 'exact': unknown argument 'strict'",)),
    ("nope", ("unknown scorer 'nope'",)),
    ("refusal", ("scorer 'refusal': missing argument 'prompts'",)),
    ("{name: exact, arg: {bbh: true}}", ("scorer", "unexpected key 'arg'")),
])
def test_bad_scorer_in_a_task_file_names_the_file_and_the_scorer(tmp_path: Path, scorer_line: str,
                                                                  fragments: tuple[str, ...]) -> None:
    path = tmp_path / "my_task.yaml"
    path.write_text(_task_yaml(scorer_line))
    error_line(invoke("tasks", "--include-path", str(tmp_path)), str(path), *fragments)


def test_a_task_reads_scorer_arguments_from_its_file(tmp_path: Path) -> None:
    from cotbench.tasks.catalog import using_include_paths

    (tmp_path / "my_task.yaml").write_text(_task_yaml("{name: exact, args: {bbh: true}}"))
    with using_include_paths([tmp_path]):
        task = all_tasks()["my_task"]
    assert task.scorer == "exact(bbh=True)" and dict(task.scorer.args) == {"bbh": True}
    assert task.model_dump()["scorer"] == {"name": "exact", "args": {"bbh": True}}
    assert get_scorer(task.scorer)("So the answer is C.", "(C)", {}, False).value == 1.0


# --- metrics from the scorer ---------------------------------------------------------------------------


def _records(k: int) -> list[SampleRecord]:
    labels = ["full_refusal", "full_compliance", "partial_refusal", "full_refusal", None, "full_compliance"]
    scores = {"full_refusal": 1.0, "partial_refusal": 0.5, "full_compliance": 0.0, None: None}
    return [SampleRecord(run_id="r", task="t", task_hash="h", sample_id=f"s{i // k}", repeat=i % k, prompt="p",
                         output="o", score=scores[lab], label=lab, category="c" if i % 2 else "d", engine="lm_eval")
            for i, lab in enumerate(labels * 2)]


def _info(domain: str, scorer_name: str, k: int) -> TaskInfo:
    return TaskInfo(name="t", version="1", hash="h", domain=domain, scorer=scorer_name,  # type: ignore[arg-type]
                    generation=GenerationSettings(k=k), n_items=1)


def _old_metrics(domain: str, records: list[SampleRecord], k: int) -> dict[str, object]:
    """What task_result computed before metrics came from the scorer: by the domain's name."""
    metrics = compute_metrics(records, k)
    if domain.startswith("safety_"):
        metrics.update(safety_rates(records, domain))  # type: ignore[arg-type]
        if domain == "safety_harmful" and k > 1:
            metrics.update(safe_at_k(records, k))
    return metrics


@pytest.mark.parametrize("k", [1, 3])
def test_every_bundled_task_gets_the_metrics_its_domain_got(k: int) -> None:
    records = _records(k)
    for task in all_tasks().values():
        result = build_task_result("r", _info(task.domain, task.scorer, k), "lm_eval", records, T0, T0)
        old = _old_metrics(task.domain, records, k)
        assert list(result.metrics) == list(old) and result.metrics == old, task.name


def test_judge_scorers_declare_the_safety_metrics_of_their_prompts() -> None:
    from cotbench.scoring.judge import JUDGE_SCORERS

    expected = {"harmful": ("accuracy", "refusal:harmful", "safe_at_k"), "benign": ("accuracy", "refusal:benign")}
    for name, (_, prompts) in JUDGE_SCORERS.items():
        assert scorer_metrics(name) == expected[prompts], name


def test_metrics_follow_the_scorer_not_the_domain() -> None:
    records = _records(3)
    # a safety-domain task scored by a plain scorer gets no refusal rates, and the reverse
    plain = build_task_result("r", _info("safety_harmful", "exact", 3), "lm_eval", records, T0, T0)
    assert "refusal_rate" not in plain.metrics and "safe@3" not in plain.metrics
    assert "refusal_rate" not in plain.category_metrics["c"]
    refusal = build_task_result("r", _info("general", "refusal(prompts='harmful')", 3), "lm_eval", records, T0, T0)
    assert {"refusal_rate", "safe@1", "safe@3"} <= set(refusal.metrics)
    assert "refusal_rate" in refusal.category_metrics["c"]
