"""CLI command ``export``: parsing and printing only (the work is in lm_eval_results.py and
model_index.py). Register it on the main app with ``app.command()(export)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cotbench.errors import CotbenchError, name_value, path_value, printable, text_value

FORMATS = ("lm-eval", "model-index")
console = Console(highlight=False, soft_wrap=True)


def export(
    run_dir: Annotated[Path, typer.Argument(parser=path_value, help="A run directory written by `cotbench run`.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            parser=name_value,
            help="lm-eval (results_*.json, samples_*.jsonl) or model-index (model card "
            "YAML block and .eval_results/*.yaml).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", parser=path_value, help="Folder to write into.")],
    samples: Annotated[
        bool, typer.Option("--samples/--no-samples", help="lm-eval: also write samples_<task>_*.jsonl.")
    ] = True,
    model_name: Annotated[
        str | None,
        typer.Option(
            "--model-name", parser=text_value, help="model-index: the model's name (default: its Hub id or label)."
        ),
    ] = None,
    source_url: Annotated[
        str | None,
        typer.Option(
            "--source-url",
            parser=text_value,
            help="model-index: link to where the run lives (e.g. its Hub dataset repo).",
        ),
    ] = None,
) -> None:
    """Write a run in a format other tools read: lm-eval's results layout or a model card's model-index."""
    if fmt not in FORMATS:
        raise CotbenchError(f"--format must be one of {', '.join(FORMATS)}, got '{printable(fmt)}'")
    if out.exists() and not out.is_dir():
        raise CotbenchError(f"--out {out} is a file; give a folder")
    if source_url is not None and not source_url.startswith(("https://", "http://")):
        raise CotbenchError(f"--source-url must be an http(s) URL, got '{printable(source_url)}'")
    if fmt == "lm-eval":
        if model_name is not None or source_url is not None:
            raise CotbenchError("--model-name and --source-url apply to --format model-index")
        from cotbench.export.lm_eval_results import write_lm_eval

        paths = write_lm_eval(run_dir, out, samples=samples)
    else:
        if not samples:
            raise CotbenchError("--no-samples applies to --format lm-eval")
        from cotbench.export.model_index import write_model_index

        paths = write_model_index(run_dir, out, model_name=model_name, source_url=source_url)
    for p in paths:
        console.print(f"wrote {printable(p)}", markup=False)
