"""CLI commands ``push`` and ``pull``: parsing and printing only (the work is in push.py / pull.py).

Register them on the main app with ``app.command()(push)`` and ``app.command()(pull)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cotbench.errors import name_value, path_value, printable, text_value

console = Console(highlight=False, soft_wrap=True)  # URLs and paths stay whole

REPO_HELP = "Hub dataset repo, namespace/name (e.g. my-org/cotbench-results)."
TOKEN_HELP = "Hub token (default: HF_TOKEN, else the token saved by `hf auth login`)."


def push(
    run_dirs: Annotated[
        list[Path], typer.Argument(parser=path_value, help="Run directories written by `cotbench run`.")
    ],
    repo: Annotated[str, typer.Option("--repo", parser=name_value, help=REPO_HELP)],
    token: Annotated[str | None, typer.Option("--token", parser=text_value, help=TOKEN_HELP)] = None,
    private: Annotated[
        bool,
        typer.Option("--private", help="Create the repo private (an existing public repo is refused, not changed)."),
    ] = False,
    revision: Annotated[
        str | None,
        typer.Option("--revision", parser=name_value, help="Branch to commit to (created from main if missing)."),
    ] = None,
    include_cache: Annotated[
        bool, typer.Option("--include-cache", help="Upload each run's generation cache (generations.sqlite) too.")
    ] = False,
    message: Annotated[str | None, typer.Option("--message", parser=text_value, help="Commit message.")] = None,
    redact_paths: Annotated[
        bool,
        typer.Option(
            "--redact-paths/--no-redact-paths",
            help="Cut absolute local paths "
            "(model paths, task sources, errors) to their last two parts in "
            "what is uploaded; the run directory is not changed.",
        ),
    ] = True,
) -> None:
    """Upload run directories to a Hub dataset repo (runs/<run_id>/) with a generated dataset card."""
    from cotbench.hub.push import push_runs

    res = push_runs(run_dirs, repo, token=token, private=private, revision=revision, include_cache=include_cache,
                    commit_message=message, redact_paths=redact_paths)
    print_push(res)


def print_push(res: object) -> None:
    from cotbench.hub.push import PushResult

    assert isinstance(res, PushResult)
    runs = ", ".join(printable(r) for r in res.runs)
    if res.commit_url is None:
        console.print(f"{res.repo_id}@{printable(res.revision)}: already up to date ({runs})", markup=False)
    else:
        console.print(f"pushed {len(res.runs)} run(s) ({runs}; {res.files} files) to {res.repo_id}@"
                      f"{printable(res.revision)}: {printable(res.commit_url)}", markup=False)
    for run, tasks in res.withheld.items():
        console.print(f"  {printable(run)}: left out {', '.join(printable(t) for t in tasks)} (license forbids "
                      "redistribution; push to a --private repo to include them)", markup=False)


def pull(
    repo: Annotated[str, typer.Option("--repo", parser=name_value, help=REPO_HELP)],
    dest: Annotated[Path, typer.Option("--dest", parser=path_value, help="Folder for the run directories.")],
    run: Annotated[list[str] | None, typer.Option("--run", parser=name_value,
                                                  help="Run id to fetch, repeatable (default: every run).")] = None,
    revision: Annotated[str | None, typer.Option("--revision", parser=name_value,
                                                 help="Branch, tag or commit (default: main).")] = None,
    token: Annotated[str | None, typer.Option("--token", parser=text_value, help=TOKEN_HELP)] = None,
    include_cache: Annotated[bool, typer.Option("--include-cache", help="Fetch the generation caches too.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace run directories already in --dest.")] = False,
) -> None:
    """Fetch runs pushed with `cotbench push` into DEST/<run_id>/ (for profile, gate, leaderboard)."""
    from cotbench.hub.pull import pull_runs

    paths = pull_runs(repo, dest, run_ids=run, token=token, revision=revision, include_cache=include_cache,
                      overwrite=overwrite)
    for p in paths:
        console.print(f"pulled {printable(p)}", markup=False)
