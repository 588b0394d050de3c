"""``cotbench import``: parsing and printing only (the work is ``cotbench.importers.paths.import_runs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cotbench.errors import CotbenchError, name_value, path_value, printable


def import_cmd(
    paths: Annotated[list[Path], typer.Argument(parser=path_value, help="lm-eval output folders or results_*.json "
                                                "files (written with --log_samples), Inspect .eval/.json logs, or "
                                                "folders holding them.")],
    output: Annotated[Path, typer.Option("--output", "-o", parser=path_value,
                                         help="Where run directories are written.")] = Path("results"),
    domain: Annotated[list[str] | None, typer.Option("--domain", parser=name_value, metavar="TASK=DOMAIN",
                                                     help="Domain of a task cotbench does not know (its harness "
                                                     "score is kept): in_domain, transfer or general (default "
                                                     "general); repeatable.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", parser=path_value, help="Local benchmark files, to "
                                                  "rebuild cotbench tasks' items (env COTBENCH_DATA_DIR).")] = None,
    allow_incomplete: Annotated[bool, typer.Option("--allow-incomplete", help="Import the samples of an Inspect "
                                                   "log that did not finish (status other than success).")] = False,
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", parser=name_value, help="Count tokens with this "
                                                  "Hugging Face tokenizer (folder or cached id) where the harness "
                                                  "recorded none (lm-eval never does).")] = None,
    label: Annotated[str | None, typer.Option("--label", parser=name_value,
                                              help="Model label (default: the model name in the log).")] = None,
    step: Annotated[int | None, typer.Option("--step", help="Training step of the checkpoint evaluated.")] = None,
) -> None:
    """Turn peers' lm-eval and Inspect runs into cotbench run directories, re-scored with cotbench's
    scorers where the task is a cotbench task, so profile, gate and leaderboard read them."""
    from cotbench.importers.common import (
        ImportOptions,
        load_token_counter,
        parse_domains,
    )
    from cotbench.importers.paths import import_runs

    if output.exists() and not output.is_dir():
        raise CotbenchError(f"--output {output} is a file; give a folder for run directories")
    if data_dir is not None and not data_dir.is_dir():
        raise CotbenchError(f"--data-dir {data_dir}: not a folder")
    if step is not None and step < 0:
        raise CotbenchError(f"--step must be a non-negative training step, got {step}")
    options = ImportOptions(domains=parse_domains(domain or []), allow_incomplete=allow_incomplete,
                            count_tokens=load_token_counter(tokenizer) if tokenizer else None,
                            label=label, step=step)
    for rd, run in import_runs(list(paths), output, options, data_dir):
        typer.echo(f"imported {printable(run.model.label(options))} ({run.model.harness}): "
                   f"{len(run.tasks)} task(s) into {printable(rd.path)}")
        for t in run.tasks:
            how = "re-scored by cotbench" if t.rescored else f"{run.model.harness}'s scores kept"
            typer.echo(f"  {printable(t.info.name)}: {t.info.domain}, {t.info.n_items} item(s), {how}")
            for note in t.notes:
                stream_err = note.startswith("incomplete")
                typer.echo(f"    {'warning' if stream_err else 'note'}: {printable(note)}", err=stream_err)
