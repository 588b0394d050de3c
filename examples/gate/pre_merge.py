"""Gate every open pull request of a Hugging Face Hub model repository before it is merged.

Each open Hub PR is a git ref ``refs/pr/N`` on the model repo; this script evaluates it as
``hf:ORG/NAME@refs/pr/N`` against the target branch pinned to its current commit, runs the
cotbench gate, writes one Markdown report per PR and, with ``--comment``, posts the report on
the PR's discussion thread, editing its earlier report there rather than adding one per run.
Exit code: 0 all pass, 1 any fails, 2 error.

    python examples/gate/pre_merge.py ORG/NAME --policy gate.yaml --comment

Needs a token with write access to the repo for ``--comment`` (``HF_TOKEN`` or ``hf auth login``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.gate.evaluate import GateResult, run_gate
from cotbench.gate.policy import load_policy
from cotbench.gate.pr_comment import upsert_hub
from cotbench.gate.report import headline, to_markdown


@dataclass(frozen=True)
class HubPR:
    num: int
    title: str
    ref: str  # refs/pr/N


def open_pull_requests(api: Any, repo_id: str) -> list[HubPR]:
    """Open pull requests of a model repo, oldest first."""
    found = api.get_repo_discussions(repo_id=repo_id, repo_type="model",
                                     discussion_type="pull_request", discussion_status="open")
    prs = [HubPR(d.num, d.title, d.git_reference) for d in found if d.is_pull_request and d.git_reference]
    return sorted(prs, key=lambda p: p.num)


def pinned_baseline(api: Any, repo_id: str, revision: str) -> str:
    """The target branch as a commit, so results (and caches) refer to exact weights."""
    sha = api.model_info(repo_id, revision=revision).sha
    return f"hf:{repo_id}@{sha}"


def gate_open_prs(api: Any, repo_id: str, *, policy_path: Path | None, output: Path, revision: str = "main",
                  comment: bool = False) -> dict[int, GateResult]:
    policy = load_policy(policy_path)
    baseline = pinned_baseline(api, repo_id, revision)
    reports = output / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    results = {}
    for pr in open_pull_requests(api, repo_id):
        # The baseline's results are cached under `output` after the first PR and reused.
        result = run_gate(baseline, f"hf:{repo_id}@{pr.ref}", policy, output)
        markdown = to_markdown(result)
        (reports / f"pr-{pr.num}.md").write_text(markdown, encoding="utf-8")
        print(f"PR #{pr.num} ({pr.title}): {headline(result)}")
        if comment:
            upsert_hub(api, repo_id, pr.num, markdown)
        results[pr.num] = result
    if not results:
        print(f"{repo_id}: no open pull requests")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo_id", help="model repository on the Hub, ORG/NAME")
    parser.add_argument("--policy", type=Path, default=None, help="gate policy YAML (default: cotbench's)")
    parser.add_argument("--output", type=Path, default=Path("runs"), help="run results and reports")
    parser.add_argument("--revision", default="main", help="branch the PRs would merge into")
    parser.add_argument("--comment", action="store_true", help="post each report on its Hub PR")
    args = parser.parse_args(argv)

    from huggingface_hub import HfApi

    try:
        results = gate_open_prs(HfApi(), args.repo_id, policy_path=args.policy, output=args.output,
                                revision=args.revision, comment=args.comment)
    except CotbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - network or Hub errors are infrastructure errors, not fails
        print(f"error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 2
    return 1 if any(r.verdict == "fail" for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
