"""The GitHub Action, the example workflow and policy, and the Hub pre-merge script."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cotbench.gate.policy import load_policy
from tests.factories import FakeTask, make_run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "gate"


def _steps(doc: dict) -> list[dict]:
    return doc["runs"]["steps"] if "runs" in doc else [s for job in doc["jobs"].values() for s in job["steps"]]


@pytest.mark.parametrize("path", [ROOT / "action.yml", EXAMPLES / "model-pr-gate.yml"])
def test_scripts_never_splice_expressions(path: Path) -> None:
    # Inputs and event fields go through env; `${{ }}` inside a script would allow shell injection.
    for step in _steps(yaml.safe_load(path.read_text())):
        assert "${{" not in step.get("run", ""), step.get("name")


def test_action_is_composite_and_uses_only_declared_inputs() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    used = set(re.findall(r"inputs\.([\w-]+)", (ROOT / "action.yml").read_text()))
    assert used <= set(action["inputs"]) and {"baseline", "candidate", "policy"} <= used
    gate = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    assert "cotbench" in gate["run"] and "--junit" in gate["run"] and "set +e" in gate["run"]
    assert action["runs"]["steps"][-1]["run"].strip().endswith('exit "${CODE:-2}"')


def test_example_policy_is_valid() -> None:
    policy = load_policy(EXAMPLES / "gate.yaml")
    assert policy.on_inconclusive == "fail" and policy.rules[0].max_value == 0.10


@dataclass
class _Discussion:
    num: int
    title: str
    is_pull_request: bool

    @property
    def git_reference(self) -> str | None:
        return f"refs/pr/{self.num}" if self.is_pull_request else None


class _FakeApi:
    def __init__(self) -> None:
        self.comments: list[tuple[int, str]] = []
        self.threads: dict[int, list[types.SimpleNamespace]] = {}

    def get_repo_discussions(self, repo_id: str, **kwargs: str) -> list[_Discussion]:
        assert kwargs == dict(repo_type="model", discussion_type="pull_request", discussion_status="open")
        return [_Discussion(4, "bad merge", True), _Discussion(2, "new template", True), _Discussion(3, "q", False)]

    def model_info(self, repo_id: str, revision: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(sha="abc123")

    def comment_discussion(self, repo_id: str, discussion_num: int, comment: str) -> None:
        self.comments.append((discussion_num, comment))
        thread = self.threads.setdefault(discussion_num, [])
        thread.append(types.SimpleNamespace(id=f"c{len(thread)}", type="comment", content=comment, hidden=False))

    def get_discussion_details(self, repo_id: str, discussion_num: int) -> types.SimpleNamespace:
        other = types.SimpleNamespace(id="x", type="comment", content="looks good", hidden=False)
        return types.SimpleNamespace(events=[other, *self.threads.get(discussion_num, [])])

    def edit_discussion_comment(self, repo_id: str, discussion_num: int, comment_id: str, new_content: str) -> None:
        (event,) = [e for e in self.threads[discussion_num] if e.id == comment_id]
        event.content = new_content


def test_pre_merge_gates_each_open_hub_pr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("pre_merge", EXAMPLES / "pre_merge.py")
    pre_merge = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "pre_merge", pre_merge)  # dataclasses look their module up
    spec.loader.exec_module(pre_merge)
    seen = []

    def run_models(specs, *, suite, tasks, limit, output, engine, seed, preset, max_tokens):  # noqa: ANN001, ANN202
        seen.extend(specs)
        scores = {"@abc123": 300, "@refs/pr/2": 300, "@refs/pr/4": 200}
        return [make_run(output, s.replace("/", "_").replace("@", "_"), {"arithmetic": FakeTask(
            "in_domain", [[1.0]] * scores[s[s.index("@"):]] + [[0.0]] * (500 - scores[s[s.index("@"):]]))})
            for s in specs]

    monkeypatch.setitem(sys.modules, "cotbench.runner", types.SimpleNamespace(run_models=run_models))
    api = _FakeApi()
    results = pre_merge.gate_open_prs(api, "org/m", policy_path=None, output=tmp_path, comment=True)
    assert {n: r.verdict for n, r in results.items()} == {2: "pass", 4: "fail"}
    assert "hf:org/m@abc123" in seen and "hf:org/m@refs/pr/4" in seen
    assert [n for n, _ in api.comments] == [2, 4] and "FAIL" in api.comments[1][1]
    assert (tmp_path / "reports" / "pr-4.md").read_text().startswith("## cotbench gate")
    # A second run edits each PR's report in place instead of posting another one.
    pre_merge.gate_open_prs(api, "org/m", policy_path=None, output=tmp_path, comment=True)
    assert [n for n, _ in api.comments] == [2, 4]
    assert [len(api.threads[n]) for n in (2, 4)] == [1, 1] and "FAIL" in api.threads[4][0].content
