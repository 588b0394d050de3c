"""`cotbench push` / `pull` / `run --push-to-hub` against a local stand-in for the Hub API
(tests/fake_hub.py): real run directories (the fake generator behind cotbench's own runner) go up
and come back byte for byte, the dataset card says what is in the repo, and every failure is one
line naming the repo."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cotbench.hub.card import md
from cotbench.results.store import RunDir
from tests.fake_hub import FakeHub, Token
from tests.test_cli_errors import error_line, invoke

FAKE_MODEL = "openai:fake-model@http://127.0.0.1:9"  # resolves offline; the fake generator answers
TASKS = ["arithmetic", "probe_harmful", "probe_benign"]
WRITE, READ_ONLY = "hf_write_token", "hf_read_token"
REPO = Path(__file__).resolve().parents[1]


def make_fake_run(root: Path, tasks: list[str] = TASKS, limit: int = 4, model: str = FAKE_MODEL) -> Path:
    """A run directory written by cotbench's runner (lm-eval engine) with the fake generator."""
    from cotbench.models import handle
    from cotbench.runner import run_models
    from tests.fakes import FakeGenerator

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
        (rd,) = run_models([model], tasks=tasks, limit=limit, output=root)
    return rd.path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fake_run(tmp_path_factory.mktemp("runs"))


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub({WRITE: Token("alice", namespaces=("org",)), READ_ONLY: Token("bob", write=False)}) as h:
        yield h


@pytest.fixture
def hub_env(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """huggingface_hub in this process pointed at the fake Hub, online, with a write token and no
    saved login or cache of the machine's."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.setenv("HF_TOKEN", WRITE)
    return hub




def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cotbench", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO), **env},
    )


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _run_files(run: Path) -> dict[str, bytes]:
    """What a push uploads by default: all but hidden files and the generation cache."""
    return {k: v for k, v in _files(run).items() if not k.startswith(".") and k != "generations.sqlite"}


def _card(hub: FakeHub, repo: str = "org/results", revision: str = "main") -> tuple[dict, str]:
    from huggingface_hub import DatasetCard

    card = DatasetCard(hub.files(repo, revision=revision)["README.md"].decode())
    return card.data.to_dict(), card.text


# -- the round trip, through the CLI in subprocesses (HF_ENDPOINT set before the library loads) --------------


def test_push_then_pull_gives_back_the_same_bytes_and_the_runs_read(run_dir: Path, hub: FakeHub,
                                                                     tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf-home"), "HF_TOKEN": WRITE}
    run_id = run_dir.name
    pushed = cli("push", str(run_dir), "--repo", "org/results", env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert f"pushed 1 run(s) ({run_id}; " in pushed.stdout and "org/results@main" in pushed.stdout
    assert pushed.stderr.strip() == "", pushed.stderr

    remote = hub.files("org/results")
    uploaded = {k.removeprefix(f"runs/{run_id}/"): v for k, v in remote.items() if k.startswith(f"runs/{run_id}/")}
    assert uploaded == _run_files(run_dir)  # every result file, byte for byte; no cache, no lock file
    assert "generations.sqlite" not in uploaded and (run_dir / "generations.sqlite").is_file()
    assert set(remote) == {".gitattributes", "README.md", *(f"runs/{run_id}/{k}" for k in uploaded)}

    dest = tmp_path / "pulled"
    pulled = cli("pull", "--repo", "org/results", "--dest", str(dest), env={**env, "HF_TOKEN": ""})
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.strip() == f"pulled {dest / run_id}"
    assert _files(dest / run_id) == _run_files(run_dir)
    assert sorted(p.name for p in dest.iterdir()) == [run_id]  # no staging folder left behind

    # profile and gate read the pulled directory as they read the original
    from cotbench.analysis.profile import compute_profile
    from cotbench.gate.evaluate import evaluate_gate
    from cotbench.gate.policy import load_policy

    original, copy = compute_profile(run_dir, run_dir), compute_profile(dest / run_id, run_dir)
    assert [t.task for t in copy.tasks] == [t.task for t in original.tasks] and {t.task for t in copy.tasks} == set(
        TASKS
    )
    assert [t.score.model for t in copy.tasks] == [t.score.model for t in original.tasks]
    assert all(t.score.delta == 0 for t in copy.tasks)
    policy = load_policy(None)
    same = evaluate_gate(RunDir(run_dir), RunDir(run_dir), policy)
    gated = evaluate_gate(RunDir(run_dir), RunDir(dest / run_id), policy)
    assert gated.checks and [c.model_dump() for c in gated.checks] == [c.model_dump() for c in same.checks]
    assert gated.verdict == same.verdict
    shown = cli("profile", str(dest / run_id), "--reference", str(run_dir), "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["tasks"][0]["task"] == "arithmetic"


# -- in this process (huggingface_hub's constants pointed at the fake) ----------------------------------------


def test_pushing_the_same_run_again_makes_no_commit(run_dir: Path, hub_env: FakeHub) -> None:
    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    commits = hub_env.n_commits("org/results")
    again = invoke("push", str(run_dir), "--repo", "org/results")
    assert again.rc == 0 and "already up to date" in again.out, again
    assert again.err == ""  # the library's "no files have been modified" warning is not shown
    assert hub_env.n_commits("org/results") == commits


def test_a_run_pushed_again_replaces_its_folder(tmp_path: Path, hub_env: FakeHub) -> None:
    run = make_fake_run(tmp_path / "runs", ["arithmetic", "probe_benign"], limit=2)
    assert invoke("push", str(run), "--repo", "org/results").rc == 0
    import shutil

    shutil.rmtree(run / "tasks" / "probe_benign")  # the task is gone locally: it goes on the Hub too
    (run / "notes.txt").write_text("a file of the run")
    assert invoke("push", str(run), "--repo", "org/results").rc == 0
    remote = hub_env.files("org/results")
    prefix = f"runs/{run.name}/"
    assert {k.removeprefix(prefix) for k in remote if k.startswith(prefix)} == set(_run_files(run))
    assert not any("probe_benign" in k for k in remote)
    meta, _ = _card(hub_env)
    assert [c["config_name"] for c in meta["configs"]] == ["arithmetic"]


def test_the_card_describes_every_run_in_the_repo(run_dir: Path, tmp_path: Path, hub_env: FakeHub) -> None:
    other = make_fake_run(tmp_path / "runs", ["arithmetic"], limit=2, model="openai:other-model@http://127.0.0.1:9")
    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    # A second push of another run: the card is rebuilt from both (the first read back from the Hub).
    assert invoke("push", str(other), "--repo", "org/results").rc == 0
    meta, text = _card(hub_env)
    assert meta["license"] == "apache-2.0"  # every task's license text starts with Apache-2.0
    assert {"cotbench", "evaluation"} <= set(meta["tags"])
    assert meta["configs"] == [{"config_name": t, "data_files": [{"split": "samples",
                                                                  "path": f"runs/*/tasks/{t}/samples.jsonl"}]}
                               for t in sorted(TASKS)]
    for rd in (RunDir(run_dir), RunDir(other)):
        m = rd.read_manifest()
        row = next(line for line in text.splitlines() if line.startswith(f"| [{md(m.run_id)}]"))
        assert f"({hub_env.url}/datasets/org/results/tree/main/runs/{m.run_id})" in row  # the link back
        assert md(m.model.label) in row and md("lm_eval") in row
        assert f"| {md(m.cotbench_version)} | {md(m.schema_version)} |" in row
    # the headline numbers, as percentages with their standard errors and directions
    harmful = RunDir(run_dir).read_task("probe_harmful").metrics["harmful_compliance"]
    arith = RunDir(run_dir).read_task("arithmetic").metrics["score"]
    assert (f"| {md('probe_harmful')} | {md('safety: harmful prompts')} | harmful compliance ↓ | "
            f"{100 * harmful.value:.1f} ± {100 * harmful.stderr:.1f} | 4 |") in text
    assert (
        f"| arithmetic | {md('in-domain (math)')} | score ↑ | {100 * arith.value:.1f} ± {100 * arith.stderr:.1f} | 4 |"
        in text
    )
    assert text.count("### ") == 2


def test_what_a_person_writes_in_the_card_stays(run_dir: Path, hub_env: FakeHub) -> None:
    from huggingface_hub import HfApi

    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    readme = hub_env.files("org/results")["README.md"].decode()
    head, body = readme.split("\n---\n", 1)
    edited = (head.replace("pretty_name: cotbench results", "pretty_name: Our evals\nlanguage:\n- en")
              + "\n---\nIntro written by a person.\n" + body + "\nA footnote.\n")
    HfApi(endpoint=hub_env.url, token=WRITE).upload_file(path_or_fileobj=edited.encode(), path_in_repo="README.md",
                                                         repo_id="org/results", repo_type="dataset")
    (run_dir / "extra.txt").write_text("a change, so that the run is pushed again")
    try:
        assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    finally:
        (run_dir / "extra.txt").unlink()
    meta, text = _card(hub_env)
    assert meta["pretty_name"] == "Our evals" and meta["language"] == ["en"]
    assert "Intro written by a person." in text and text.rstrip().endswith("A footnote.")
    assert text.count("<!-- cotbench:begin") == 1


def test_a_card_the_hub_refuses_is_one_line(run_dir: Path, hub_env: FakeHub) -> None:
    from huggingface_hub import HfApi

    # A card the Hub took once (its rules changed since, or it was written another way): cotbench keeps
    # the pretty_name a person wrote, and the Hub now refuses the card.
    bad = "---\npretty_name: [not, a, string]\nconfigs: not a list\n---\nOur card.\n"
    HfApi(endpoint=hub_env.url, token=WRITE).create_repo("org/results", repo_type="dataset")
    repo = hub_env.repos[("dataset", "org/results")]
    hub_env.commit(repo, "main", {"README.md": bad.encode()}, set(), "a card", repo.branches["main"])
    commits = hub_env.n_commits("org/results")
    error_line(invoke("push", str(run_dir), "--repo", "org/results"),
               "push to org/results", "rejected the dataset card's metadata", "pretty_name")
    assert hub_env.n_commits("org/results") == commits


def test_the_card_configs_load_with_datasets(run_dir: Path, hub_env: FakeHub, tmp_path: Path) -> None:
    """The dataset viewer's reader: ``datasets`` reads the card's configs from the repo's files."""
    import datasets

    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    snapshot = tmp_path / "snapshot"
    for name, data in hub_env.files("org/results").items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes(data)
    ds = datasets.load_dataset(str(snapshot), "probe_harmful", split="samples")
    lines = (run_dir / "tasks" / "probe_harmful" / "samples.jsonl").read_text().splitlines()
    assert len(ds) == len(lines) and set(ds["run_id"]) == {run_dir.name}
    assert ds[0]["sample_id"] == json.loads(lines[0])["sample_id"]


def test_the_cache_goes_up_and_comes_back_only_when_asked(run_dir: Path, hub_env: FakeHub, tmp_path: Path) -> None:
    res = invoke("push", str(run_dir), "--repo", "org/results", "--include-cache")
    assert res.rc == 0, res.err
    remote = hub_env.files("org/results")
    assert f"runs/{run_dir.name}/generations.sqlite" in remote
    assert not any(k.endswith(("-wal", "-shm")) for k in remote)
    # a later push without the flag leaves the uploaded cache alone
    (run_dir / "extra.txt").write_text("x")
    try:
        assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    finally:
        (run_dir / "extra.txt").unlink()
    assert f"runs/{run_dir.name}/generations.sqlite" in hub_env.files("org/results")

    plain, full = tmp_path / "plain", tmp_path / "full"
    assert invoke("pull", "--repo", "org/results", "--dest", str(plain)).rc == 0
    assert not (plain / run_dir.name / "generations.sqlite").exists()
    assert invoke("pull", "--repo", "org/results", "--dest", str(full), "--include-cache").rc == 0

    def rows(path: Path) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(path)) as db:
            return db.execute("SELECT * FROM completions ORDER BY 1").fetchall()

    assert rows(full / run_dir.name / "generations.sqlite") == rows(run_dir / "generations.sqlite") != []


def test_private_repo_on_a_branch(run_dir: Path, hub_env: FakeHub, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    res = invoke("push", str(run_dir), "--repo", "org/private-results", "--private", "--revision", "dev")
    assert res.rc == 0, res.err
    assert hub_env.repos[("dataset", "org/private-results")].private
    assert set(hub_env.files("org/private-results", revision="main")) == {".gitattributes"}
    assert f"runs/{run_dir.name}/manifest.json" in hub_env.files("org/private-results", revision="dev")
    assert "/tree/dev/runs/" in _card(hub_env, "org/private-results", "dev")[1]

    ok = invoke("pull", "--repo", "org/private-results", "--revision", "dev", "--dest", str(tmp_path / "a"))
    assert ok.rc == 0 and _files(tmp_path / "a" / run_dir.name) == _run_files(run_dir)
    error_line(invoke("pull", "--repo", "org/private-results", "--dest", str(tmp_path / "b")),
               "pull from org/private-results", "no cotbench runs at revision 'main'")
    monkeypatch.delenv("HF_TOKEN")
    error_line(invoke("pull", "--repo", "org/private-results", "--revision", "dev", "--dest", str(tmp_path / "c")),
               "pull from org/private-results", "no such dataset repo", "private")
    error_line(invoke("pull", "--repo", "org/private-results", "--revision", "nope", "--dest", str(tmp_path / "c"),
                      "--token", WRITE), "--revision 'nope' not found")
    assert not (tmp_path / "c").exists() and not (tmp_path / "b").exists()


def test_private_asked_for_an_existing_public_repo_is_refused(run_dir: Path, hub_env: FakeHub) -> None:
    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    commits = hub_env.n_commits("org/results")
    error_line(invoke("push", str(run_dir), "--repo", "org/results", "--private"),
               "push to org/results", "exists and is public")
    assert hub_env.n_commits("org/results") == commits


def test_a_task_that_may_not_be_redistributed_stays_out_of_a_public_repo(tmp_path: Path, hub_env: FakeHub) -> None:
    run = make_fake_run(tmp_path / "runs", ["arithmetic", "probe_harmful"], limit=2)
    rd = RunDir(run)
    tr = rd.read_task("probe_harmful")
    tr.task.license = "HEx-PHI Dataset License Agreement (gated; no redistribution)"
    rd.write_task(tr, list(rd.iter_samples("probe_harmful")))
    res = invoke("push", str(run), "--repo", "org/results")
    assert res.rc == 0 and "left out probe_harmful (license forbids redistribution" in res.out, res
    remote = hub_env.files("org/results")
    assert not any("probe_harmful" in k for k in remote if k.startswith("runs/"))
    assert f"runs/{run.name}/manifest.json" in remote
    meta, text = _card(hub_env)
    assert f"Withheld (their license forbids redistribution): {md('probe_harmful')}." in text
    assert [c["config_name"] for c in meta["configs"]] == ["arithmetic"]
    # a private repo may hold it
    assert invoke("push", str(run), "--repo", "org/private", "--private").rc == 0
    assert f"runs/{run.name}/tasks/probe_harmful/samples.jsonl" in hub_env.files("org/private")


def test_pull_one_run_of_several(run_dir: Path, tmp_path: Path, hub_env: FakeHub) -> None:
    other = make_fake_run(tmp_path / "runs", ["arithmetic"], limit=2, model="openai:other-model@http://127.0.0.1:9")
    assert invoke("push", str(run_dir), str(other), "--repo", "org/results").rc == 0
    dest = tmp_path / "dest"
    assert invoke("pull", "--repo", "org/results", "--run", other.name, "--dest", str(dest)).rc == 0
    assert [p.name for p in dest.iterdir()] == [other.name]
    error_line(invoke("pull", "--repo", "org/results", "--run", "no-such-run", "--dest", str(dest)),
               "--run 'no-such-run' is not in the repo", run_dir.name, other.name)
    error_line(invoke("pull", "--repo", "org/results", "--run", other.name, "--dest", str(dest)),
               f"{dest / other.name} exists", "--overwrite")
    (dest / other.name / "manifest.json").write_text("{}")  # damaged locally: --overwrite repairs it
    assert invoke("pull", "--repo", "org/results", "--run", other.name, "--dest", str(dest), "--overwrite").rc == 0
    assert _files(dest / other.name) == _run_files(other)


def test_run_push_to_hub_pushes_each_finished_run(tmp_path: Path, hub_env: FakeHub,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from cotbench.models import handle
    from tests.fakes import FakeGenerator

    monkeypatch.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
    out = tmp_path / "out"
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "2", "-o", str(out),
                 "--push-to-hub", "org/from-run")
    assert res.rc == 0, res.err
    (run,) = [p for p in out.iterdir() if (p / "manifest.json").is_file()]
    assert "pushed 1 run(s)" in res.out
    remote = hub_env.files("org/from-run")
    assert {k.removeprefix(f"runs/{run.name}/") for k in remote if k.startswith("runs/")} == set(_run_files(run))


# -- failures: one line naming the repo, exit 2, nothing half done ---------------------------------------------


def test_push_without_a_token(run_dir: Path, hub_env: FakeHub, monkeypatch: pytest.MonkeyPatch,
                              tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN")
    error_line(invoke("push", str(run_dir), "--repo", "org/results"),
               "pushing to org/results needs a Hub token", "HF_TOKEN", "--token")
    # run --push-to-hub says so before any model runs
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(tmp_path / "out"),
                      "--push-to-hub", "org/results"), "needs a Hub token")
    assert not (tmp_path / "out").exists() and hub_env.repos == {}


@pytest.mark.parametrize("token, fragments", [
    ("hf_not_a_token", ["push to org/results", "rejected the token (401)"]),
    (READ_ONLY, ["push to org/results", "may not write there (403)", "'org'"]),
])
def test_push_with_a_token_the_hub_refuses(run_dir: Path, hub_env: FakeHub, token: str, fragments: list[str]) -> None:
    error_line(invoke("push", str(run_dir), "--repo", "org/results", "--token", token), *fragments)
    assert hub_env.repos == {}


def test_push_to_an_existing_repo_with_a_read_only_token(run_dir: Path, hub_env: FakeHub) -> None:
    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    (run_dir / "extra.txt").write_text("x")
    try:
        error_line(invoke("push", str(run_dir), "--repo", "org/results", "--token", READ_ONLY),
                   "push to org/results", "403")
    finally:
        (run_dir / "extra.txt").unlink()


def test_offline_and_unreachable(run_dir: Path, hub_env: FakeHub, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    error_line(invoke("push", str(run_dir), "--repo", "org/results"), "push to org/results", "HF_HUB_OFFLINE")
    error_line(invoke("pull", "--repo", "org/results", "--dest", str(tmp_path / "d")),
               "pull from org/results", "HF_HUB_OFFLINE")
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(tmp_path / "out"),
                      "--push-to-hub", "org/results"), "HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with FakeHub() as gone:
        url = gone.url  # a port nothing listens on once the block ends
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    for args, action in ((["push", str(run_dir)], "push to"), (["pull", "--dest", str(tmp_path / "d")], "pull from")):
        error_line(invoke(*args, "--repo", "org/results"), f"{action} org/results", f"cannot reach the Hub at {url}")
    assert not (tmp_path / "d").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, fragments", [
    (["push", "RUN", "--repo", "results"], ["--repo 'results'", "namespace/name"]),
    (["push", "RUN", "--repo", "org/a/b"], ["--repo 'org/a/b'"]),
    (["push", "RUN", "--repo", "org/bad--name"], ["--repo 'org/bad--name'"]),
    (["push", "NOT_A_RUN", "--repo", "org/results"], ["not a run directory"]),
    (["push", "RUN", "RUN", "--repo", "org/results"], ["are the same run"]),
    (["push", "--repo", "org/results"], ["Missing argument"]),
    (["push", "RUN", "--repo", "org/results", "--token", ""], ["'--token'", "empty"]),
    (["pull", "--repo", "org/results", "--dest", "FILE"], ["--dest", "is a file"]),
    (["pull", "--repo", "org/results", "--dest", "D", "--run", "../x"], ["--run '../x' is not a run id"]),
    (["pull", "--repo", "org/nope", "--dest", "D"], ["pull from org/nope", "no such dataset repo"]),
    (["run", "--tasks", "arithmetic", "--push-to-hub", "nope"], ["--push-to-hub 'nope'", "namespace/name"]),
])
def test_bad_input_is_one_line(args: list[str], fragments: list[str], run_dir: Path, tmp_path: Path,
                               hub_env: FakeHub) -> None:
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "NOT_A_RUN").mkdir()
    names = {"RUN": str(run_dir), "NOT_A_RUN": str(tmp_path / "NOT_A_RUN"), "FILE": str(tmp_path / "FILE"),
             "D": str(tmp_path / "D")}
    error_line(invoke(*[names.get(a, a) for a in args], *(["-o", str(tmp_path / "out")] if args[0] == "run" else [])),
               *fragments)
    assert not (tmp_path / "D").exists() and not (tmp_path / "out").exists()
    assert hub_env.repos == {}


def test_a_damaged_run_in_the_repo_is_not_pulled(run_dir: Path, tmp_path: Path, hub_env: FakeHub) -> None:
    from huggingface_hub import HfApi

    assert invoke("push", str(run_dir), "--repo", "org/results").rc == 0
    HfApi(endpoint=hub_env.url, token=WRITE).upload_file(
        path_or_fileobj=b"{not json", path_in_repo=f"runs/{run_dir.name}/tasks/arithmetic/metrics.json",
        repo_id="org/results", repo_type="dataset")
    dest = tmp_path / "dest"
    error_line(invoke("pull", "--repo", "org/results", "--dest", str(dest)),
               "pull from org/results", f"run '{run_dir.name}' is not a readable run directory", "not valid JSON")
    assert list(dest.iterdir()) == []  # no half run, no staging folder


def test_text_from_results_files_stays_inert_in_the_card(tmp_path: Path, hub_env: FakeHub) -> None:
    from tests.factories import FakeTask, make_run

    label = "evil | <img src=x onerror=alert(1)>\n# Heading [link](javascript:alert(1))"
    rd = make_run(tmp_path / "runs", label, {"gsm8k": FakeTask("in_domain", [[1.0], [0.0]])}, run_id="odd-label")
    assert invoke("push", str(rd.path), "--repo", "org/results").rc == 0
    _, text = _card(hub_env)
    (row,) = [line for line in text.splitlines() if line.startswith("| [odd\\-label]")]
    assert row.count(" | ") == 9  # still ten cells: the pipe is escaped
    # every < [ ] ( ) backslash-escaped: Markdown shows them as text, never as HTML or a link
    shown = md(label)
    assert f"| {shown} ({shown}) |" in row and not re.search(r"(?<!\\)[<>\[\]()|#]", shown), shown
    assert "\\<img" in shown and "\\[link\\]\\(javascript" in shown
    assert "\n# Heading" not in text

    bad = make_run(tmp_path / "runs", "x", {"gsm8k": FakeTask("in_domain", [[1.0]])}, run_id="bad id")
    error_line(invoke("push", str(bad.path), "--repo", "org/results"), "run_id 'bad id' cannot name a folder")


def test_the_fake_hub_serves_what_the_library_expects(hub: FakeHub) -> None:
    """The stand-in itself: its card check refuses what the Hub refuses."""
    from tests.fake_hub import _card_errors

    assert _card_errors({"license": "mit", "tags": ["a"], "configs": [
        {"config_name": "x", "data_files": [{"split": "samples", "path": "runs/*/x.jsonl"}]}]}) == []
    assert _card_errors({"license": "Apache 2.0"}) and _card_errors({"license": "other"})
    assert _card_errors({"configs": [{"config_name": "x", "data_files": [{"split": "a-b", "path": "p"}]}]})


def test_the_engine_name_is_escaped_in_the_card(tmp_path: Path, hub_env: FakeHub) -> None:
    from tests.factories import FakeTask, make_run

    rd = make_run(tmp_path / "runs", "m", {"gsm8k": FakeTask("in_domain", [[1.0]])}, run_id="odd-engine",
                  engine="plugin | <img src=x onerror=alert(1)>")
    assert invoke("push", str(rd.path), "--repo", "org/results").rc == 0
    _, text = _card(hub_env)
    (row,) = [line for line in text.splitlines() if line.startswith("| [odd\\-engine]")]
    assert row.count(" | ") == 9 and f"| {md(rd.read_manifest().engine)} |" in row
    assert not re.search(r"(?<!\\)<img", text)
