"""`cotbench push` cuts local paths from what it uploads (and `run --push-private` creates the repo
private), against the local stand-in for the Hub (tests/fake_hub.py); a pulled redacted run still
reads for profile, gate and the leaderboard, and the local run directory is never changed."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest

from cotbench.hub.card import md
from cotbench.redact import redact_json, redact_json_text, redact_paths
from cotbench.results.store import RunDir
from tests.fake_hub import FakeHub
from tests.test_cli_errors import error_line, invoke
from tests.test_hub import FAKE_MODEL, _files, hub, hub_env, make_fake_run  # noqa: F401 - fixtures

__all__ = ["hub", "hub_env"]


def _digest(root: Path) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in _files(root).items()}


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fake_run(tmp_path_factory.mktemp("base"), ["arithmetic", "probe_benign"], limit=3)


def as_local_checkpoint(src: Path, root: Path, ckpts: Path, step: int) -> Path:
    """A copy of ``src`` recorded as `cotbench run -m hf:<ckpts>/checkpoint-<step>` records it, with
    a local path also in a task's source, a task error, and a sample's scorer provenance."""
    run_id = f"run1_checkpoint-{step}"
    dst = root / run_id
    shutil.copytree(src, dst)
    rd = RunDir(dst)
    path = ckpts / f"checkpoint-{step}"
    m = rd.read_manifest()
    m.run_id = run_id
    m.model = m.model.model_copy(update={"spec": f"hf:{path}", "backend": "hf", "model": str(path), "step": step,
                                         "label": f"run1/checkpoint-{step}", "chat_template": str(ckpts / "chat.jinja"),
                                         "system_prompt": "Answer in a/b form. </s>"})
    m.invocations[0].host = "gpu-node-7"
    rd.write_manifest(m)
    for name in rd.task_names():
        tr = rd.read_task(name)
        tr.run_id = run_id
        tr.task.source = f"{ckpts.parent / 'data'}" if name == "arithmetic" else tr.task.source
        samples = [
            s.model_copy(
                update={
                    "run_id": run_id,
                    "details": {**s.details, "judge": {"spec": f"vllm:{ckpts}/judge"}},
                    "prompt": s.prompt + " (see /etc/hosts)",
                }
            )
            for s in rd.iter_samples(name)
        ]
        rd.write_task(tr, samples)
    m = rd.read_manifest()
    m.tasks[0].error = f"an earlier try failed: FileNotFoundError: {ckpts}/tokenizer.json"
    rd.write_manifest(m)
    return dst


@pytest.fixture
def series(base_run: Path, tmp_path: Path) -> tuple[list[Path], Path]:
    home = tmp_path / "home" / "alice" / "private-project"
    ckpts = home / "ckpts" / "run1"
    runs = [as_local_checkpoint(base_run, tmp_path / "results", ckpts, step) for step in (100, 200)]
    return runs, home


def test_push_cuts_local_paths_and_leaves_the_run_alone(series: tuple[list[Path], Path], hub_env: FakeHub) -> None:
    runs, home = series
    before = [_digest(r) for r in runs]
    res = invoke("push", *map(str, runs), "--repo", "org/results")
    assert res.rc == 0, res.err
    remote = hub_env.files("org/results")
    for name, data in remote.items():
        text = data.decode("utf-8", "replace")
        assert str(home) not in text and "alice" not in text and "private-project" not in text, name
    assert [_digest(r) for r in runs] == before  # the local run directories are not touched
    m = json.loads(remote["runs/run1_checkpoint-100/manifest.json"])
    assert m["model"]["model"] == "/…/run1/checkpoint-100" and m["model"]["spec"] == "hf:/…/run1/checkpoint-100"
    assert m["model"]["chat_template"] == "/…/run1/chat.jinja"
    assert m["model"]["system_prompt"] == "Answer in a/b form. </s>"  # content: not a path, kept as given
    assert m["invocations"][0]["host"] == "gpu-node-7" and m["model"]["identity"]
    assert "FileNotFoundError: /…/run1/tokenizer.json" in m["tasks"][0]["error"]
    tr = json.loads(remote["runs/run1_checkpoint-100/tasks/arithmetic/metrics.json"])
    assert tr["task"]["source"] == "/…/ckpts/data"
    line = json.loads(remote["runs/run1_checkpoint-100/tasks/arithmetic/samples.jsonl"].splitlines()[0])
    assert line["details"]["judge"]["spec"] == "vllm:/…/run1/judge"
    assert line["prompt"].endswith("(see /etc/hosts)")  # prompts and outputs go up as written
    _, card = hub_env.files("org/results")["README.md"].decode().split("\n---\n", 1)
    assert f"| {md('run1/checkpoint-100')} ({md('/…/run1/checkpoint-100')}) |" in card


def test_no_redact_paths_uploads_the_files_as_they_are(series: tuple[list[Path], Path], hub_env: FakeHub) -> None:
    runs, home = series
    assert invoke("push", str(runs[0]), "--repo", "org/raw", "--no-redact-paths").rc == 0
    remote = hub_env.files("org/raw")
    uploaded = {k.removeprefix(f"runs/{runs[0].name}/"): v for k, v in remote.items() if k.startswith("runs/")}
    assert uploaded == {k: v for k, v in _files(runs[0]).items() if not k.startswith(".") and k != "generations.sqlite"}
    assert str(home) in remote["README.md"].decode().replace("\\", "")


def test_a_pulled_redacted_series_reads_for_profile_gate_and_leaderboard(series: tuple[list[Path], Path],
                                                                        hub_env: FakeHub, tmp_path: Path) -> None:
    from cotbench.gate.evaluate import evaluate_gate
    from cotbench.gate.policy import load_policy

    runs, home = series
    assert invoke("push", *map(str, runs), "--repo", "org/results").rc == 0
    again = invoke("push", *map(str, runs), "--repo", "org/results")
    assert "already up to date" in again.out, again  # redaction is deterministic: no second commit
    dest = tmp_path / "pulled"
    assert invoke("pull", "--repo", "org/results", "--dest", str(dest)).rc == 0
    a, b = dest / runs[0].name, dest / runs[1].name
    shown = invoke("profile", str(b), "--reference", str(a), "--json")
    assert shown.rc == 0, shown.err
    local = invoke("profile", str(runs[1]), "--reference", str(runs[0]), "--json")
    assert json.loads(shown.out)["tasks"] == json.loads(local.out)["tasks"] != []
    policy = load_policy(None)
    assert evaluate_gate(RunDir(a), RunDir(b), policy).verdict == evaluate_gate(RunDir(runs[0]), RunDir(runs[1]),
                                                                                  policy).verdict
    site = tmp_path / "site"
    built = invoke("leaderboard", "build", str(dest), "-o", str(site), "--workers", "0", "--no-samples")
    assert built.rc == 0, built.err
    page = next((site / "models").glob("run1-checkpoint-200-*.html")).read_text()
    # still one checkpoint series: the cut paths stay local paths, grouped by their folder
    assert "checkpoint series run1/checkpoint-*" in page, page[:2000]
    assert "alice" not in "".join(p.read_text() for p in site.rglob("*.html"))


def test_run_push_private_creates_the_repo_private(tmp_path: Path, hub_env: FakeHub,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from cotbench.models import handle
    from tests.fakes import FakeGenerator

    monkeypatch.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "2", "-o", str(tmp_path / "out"),
                 "--push-to-hub", "org/private-run", "--push-private")
    assert res.rc == 0, res.err
    assert hub_env.repos[("dataset", "org/private-run")].private
    assert any(k.endswith("manifest.json") for k in hub_env.files("org/private-run"))
    # an existing public repo is refused after the run, which stays saved, and says how to push later
    invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "2", "-o", str(tmp_path / "pub"),
           "--push-to-hub", "org/public-run")
    assert not hub_env.repos[("dataset", "org/public-run")].private
    refused = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(tmp_path / "pub2"),
                     "--push-to-hub", "org/public-run", "--push-private")
    last = refused.err.strip().splitlines()[-1]
    assert refused.rc == 2 and "Traceback" not in refused.err, refused
    assert last.startswith("error: push to org/public-run") and "exists and is public" in last
    assert "the results are saved" in last and list((tmp_path / "pub2").glob("*/manifest.json"))


def test_push_private_without_push_to_hub_is_one_line(tmp_path: Path) -> None:
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(tmp_path / "out"), "--push-private"),
               "--push-private", "--push-to-hub")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "cut"), [
    ("MIT / Apache-2.0", "MIT / Apache-2.0"),  # a lone slash names no place
    ("a / b (/home/x/y/z)", "a / b (/…/y/z)"),
    ("hf:/home/alice/ckpts/run1/checkpoint-640", "hf:/…/run1/checkpoint-640"),
    ("/…/run1/checkpoint-640", "/…/run1/checkpoint-640"),  # cutting twice changes nothing
    ("file:///home/alice/a/b.json", "file:///…/a/b.json"),
])
def test_rooted_redaction(text: str, cut: str) -> None:
    assert redact_paths(text, rooted=True) == cut


def test_redact_json_keeps_numbers_keys_and_content() -> None:
    doc = {"a": math.nan, "/home/k/x/y": ["/home/alice/x/y", 1, None], "chat_template": "{{ '</s>' }}"}
    cut = redact_json(doc, frozenset({"chat_template"}))
    assert math.isnan(cut["a"]) and cut["/home/k/x/y"] == ["/…/x/y", 1, None] and cut["chat_template"] == "{{ '</s>' }}"
    text = '{\n  "v": NaN,\n  "p": "plain"\n}\n'
    assert redact_json_text(text) is text  # nothing to cut: the bytes as they were
