"""One gate report per pull request, updated in place.

The report carries an HTML-comment marker; posting finds the comment with the marker and
edits it, or creates one. ``--edit-last`` of the ``gh`` CLI edits whatever the token's user
wrote last (and ``gh`` is often missing on self-hosted runners), so GitHub is talked to
through its REST API with the standard library only.

    python -m cotbench.gate.pr_comment --repo OWNER/NAME --pr N --body-file gate.md

The token comes from ``GITHUB_TOKEN`` (or ``GH_TOKEN``), the API root from ``GITHUB_API_URL``
(set by Actions, GitHub Enterprise included). Exit 0 when posted, 2 with one line otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

MARKER = "<!-- cotbench-gate -->"
_PER_PAGE = 100
_REPO_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


class CommentError(Exception):
    """Posting the report failed (one line: what and why)."""


def with_marker(body: str, marker: str = MARKER) -> str:
    return body if marker in body else f"{marker}\n{body}"


class GitHubComments:
    """The issue-comment endpoints of one pull request."""

    def __init__(self, repo: str, pr: int, token: str, api_url: str = "https://api.github.com",
                 timeout: float = 30.0) -> None:
        if not _REPO_RE.fullmatch(repo):
            raise CommentError(f"--repo must be OWNER/NAME, got {repo!r}")
        self.base = f"{api_url.rstrip('/')}/repos/{repo}/issues"
        self.pr, self.token, self.timeout = pr, token, timeout

    def _call(self, method: str, url: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json", "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
            "User-Agent": "cotbench-gate"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the API URL the user configured
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            hint = " (does the token have pull-requests: write?)" if exc.code in (401, 403, 404) else ""
            raise CommentError(f"GitHub answered {exc.code} to {method} {url}{hint}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise CommentError(f"cannot reach GitHub at {url}: {exc}") from None

    def list(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._call("GET", f"{self.base}/{self.pr}/comments?per_page={_PER_PAGE}&page={page}")
            if not isinstance(batch, list):
                raise CommentError("GitHub returned an unexpected comment list")
            out += batch
            if len(batch) < _PER_PAGE:
                return out
            page += 1

    def create(self, body: str) -> Any:
        return self._call("POST", f"{self.base}/{self.pr}/comments", {"body": body})

    def edit(self, comment_id: int, body: str) -> Any:
        return self._call("PATCH", f"{self.base}/comments/{comment_id}", {"body": body})


def upsert_github(comments: GitHubComments, body: str, marker: str = MARKER) -> str:
    """Edit the marked comment (the newest, if several) or create it; returns "updated"/"created"."""
    body = with_marker(body, marker)
    marked = [c for c in comments.list() if marker in str(c.get("body") or "")]
    if marked:
        comments.edit(int(marked[-1]["id"]), body)
        return "updated"
    comments.create(body)
    return "created"


class HubDiscussions(Protocol):
    """The part of ``huggingface_hub.HfApi`` a Hub PR comment needs."""

    def get_discussion_details(self, repo_id: str, discussion_num: int) -> Any: ...
    def edit_discussion_comment(self, repo_id: str, discussion_num: int, comment_id: str, new_content: str) -> Any: ...
    def comment_discussion(self, repo_id: str, discussion_num: int, comment: str) -> Any: ...


def upsert_hub(api: HubDiscussions, repo_id: str, num: int, body: str, marker: str = MARKER) -> str:
    """The same for a Hugging Face Hub pull request's discussion thread."""
    body = with_marker(body, marker)
    details = api.get_discussion_details(repo_id=repo_id, discussion_num=num)
    marked = [e for e in getattr(details, "events", [])
              if getattr(e, "type", "") == "comment" and not getattr(e, "hidden", False)
              and marker in str(getattr(e, "content", ""))]
    if marked:
        api.edit_discussion_comment(repo_id=repo_id, discussion_num=num, comment_id=marked[-1].id, new_content=body)
        return "updated"
    api.comment_discussion(repo_id=repo_id, discussion_num=num, comment=body)
    return "created"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Post or update the gate report on a GitHub pull request.")
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--pr", required=True, type=int, help="pull request number")
    parser.add_argument("--body-file", required=True, type=Path, help="the Markdown report")
    parser.add_argument("--marker", default=MARKER, help="HTML comment that identifies the report")
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    try:
        if not token:
            raise CommentError("no token: set GITHUB_TOKEN (or GH_TOKEN)")
        try:
            body = args.body_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommentError(f"--body-file {args.body_file}: {exc.strerror or exc}") from None
        api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
        what = upsert_github(GitHubComments(args.repo, args.pr, token, api), body, args.marker)
    except CommentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"gate report {what} on {args.repo}#{args.pr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
