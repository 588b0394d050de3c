"""The GitHub Action and example workflows pass the linters, and the PR comment is one report
updated in place (tested against a local stand-in for GitHub's REST API)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "examples").rglob("*.yml"))


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pass_actionlint(workflow: Path) -> None:
    res = subprocess.run([_tool("actionlint"), "-no-color", str(workflow)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_action_metadata_matches_the_schema() -> None:
    res = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions",
                          str(ROOT / "action.yml")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


class _FakeGitHub(BaseHTTPRequestHandler):
    comments: list[dict[str, Any]]
    calls: list[str]
    status: int = 200

    def _reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.calls.append(f"GET {self.path}")
        if self.status != 200:
            return self._reply(self.status, {"message": "Forbidden"})
        from urllib.parse import parse_qs, urlsplit

        page = int(parse_qs(urlsplit(self.path).query)["page"][0])
        self._reply(200, self.comments[(page - 1) * 100: page * 100])

    def do_POST(self) -> None:  # noqa: N802
        self.calls.append(f"POST {self.path}")
        c = {"id": 1000 + len(self.comments), "body": self._body()["body"]}
        self.comments.append(c)
        self._reply(201, c)

    def do_PATCH(self) -> None:  # noqa: N802
        self.calls.append(f"PATCH {self.path}")
        cid = int(self.path.rsplit("/", 1)[1])
        (c,) = [c for c in self.comments if c["id"] == cid]
        c["body"] = self._body()["body"]
        self._reply(200, c)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github() -> Iterator[tuple[str, type[_FakeGitHub]]]:
    handler = type("H", (_FakeGitHub,), {"comments": [], "calls": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


def _post(api: str, body_file: Path, token: str | None = "t0ken") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env["GITHUB_API_URL"] = api
    if token:
        env["GITHUB_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "cotbench.gate.pr_comment", "--repo", "org/models", "--pr", "7",
                           "--body-file", str(body_file)], capture_output=True, text=True, env=env, timeout=60)


def test_the_report_is_one_comment_updated_in_place(github: tuple[str, type[_FakeGitHub]], tmp_path: Path) -> None:
    api, gh = github
    # 150 other comments: the marked one is on the second page.
    gh.comments.extend({"id": i, "body": f"comment {i}"} for i in range(150))
    report = tmp_path / "gate.md"
    report.write_text("## cotbench gate: PASS\n")
    first = _post(api, report)
    assert first.returncode == 0 and "created" in first.stdout, first.stderr
    report.write_text("## cotbench gate: FAIL\n")
    second = _post(api, report)
    assert second.returncode == 0 and "updated" in second.stdout, second.stderr
    ours = [c for c in gh.comments if "<!-- cotbench-gate -->" in c["body"]]
    assert len(ours) == 1 and "FAIL" in ours[0]["body"] and len(gh.comments) == 151
    assert any(c.startswith("PATCH /repos/org/models/issues/comments/") for c in gh.calls)
    assert any("page=2" in c for c in gh.calls)


def test_comment_errors_are_one_line(github: tuple[str, type[_FakeGitHub]], tmp_path: Path) -> None:
    api, gh = github
    report = tmp_path / "gate.md"
    report.write_text("x")
    no_token = _post(api, report, token=None)
    assert no_token.returncode == 2 and no_token.stderr.strip() == "error: no token: set GITHUB_TOKEN (or GH_TOKEN)"
    gh.status = 403
    denied = _post(api, report)
    assert denied.returncode == 2 and len(denied.stderr.strip().splitlines()) == 1
    assert "403" in denied.stderr and "pull-requests: write" in denied.stderr
    missing = _post(api, tmp_path / "nope.md")
    assert missing.returncode == 2 and "--body-file" in missing.stderr and "Traceback" not in missing.stderr


def test_action_saves_the_baseline_only_outside_pull_requests() -> None:
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = {s.get("name"): s for s in action["runs"]["steps"]}
    save = steps["Save the baseline's results"]
    assert "inputs.mode == 'baseline'" in save["if"]
    assert "--edit-last" not in (ROOT / "action.yml").read_text()
    assert "cotbench.gate.pr_comment" in steps["Comment on the pull request"]["run"]
    assert "download.pytorch.org/whl/cpu" in steps["Install PyTorch"]["run"]
    workflow = yaml.safe_load((ROOT / "examples" / "gate" / "model-pr-gate.yml").read_text())
    baseline_job = workflow["jobs"]["baseline"]
    uses = next(s for s in baseline_job["steps"] if "with" in s and s["with"].get("mode") == "baseline")
    assert uses["with"]["cache-key"] == "${{ github.sha }}"
