"""``cotbench import``: find the harness files under the paths given, read them, and write one
run directory per model. Nothing is written unless every file reads cleanly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cotbench.errors import CotbenchError, printable
from cotbench.importers.common import ImportedRun, ImportOptions, check_domains, fail
from cotbench.importers.inspect_log import LOG_SUFFIXES, looks_like_log, read_inspect
from cotbench.importers.lm_eval_dir import find_results, is_results_file, read_lm_eval
from cotbench.importers.write import write_run
from cotbench.results.store import RunDir
from cotbench.tasks.data import using_data_dir


def find_inputs(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """(harness, file) for every lm-eval results file and Inspect log named or found below a folder."""
    found: list[tuple[str, Path]] = []
    for p in paths:
        if p.is_dir():
            here = [("lm_eval", f) for f in find_results(p)]
            here += [("inspect", f) for f in sorted(p.rglob("*")) if f.suffix in LOG_SUFFIXES and f.is_file()
                     and not is_results_file(f) and looks_like_log(f)]
            if not here:
                raise fail(p, "holds no lm-eval results_*.json and no Inspect .eval/.json log")
            found.extend(here)
        elif p.is_file():
            if is_results_file(p):
                found.append(("lm_eval", p))
            elif p.name.startswith("samples_") and p.suffix == ".jsonl":
                raise fail(p, "an lm-eval samples file: give its results_*.json (or the folder holding both)")
            elif looks_like_log(p):
                found.append(("inspect", p))
            else:
                raise fail(p, "neither an lm-eval results_*.json nor an Inspect .eval/.json log")
        else:
            raise fail(p, "no such file or folder")
    return list(dict.fromkeys((h, f.resolve()) for h, f in found))


def read_inputs(inputs: Sequence[tuple[str, Path]], options: ImportOptions) -> list[ImportedRun]:
    """Read every file and merge the tasks of one model into one run; a task twice is refused."""
    by_model: dict[str, ImportedRun] = {}
    seen: dict[tuple[str, str], str] = {}
    for harness, path in inputs:
        run = read_lm_eval(path, options) if harness == "lm_eval" else read_inspect(path, options)
        key = run.model.identity
        for task in run.tasks:
            where = seen.get((key, task.info.name))
            if where is not None:
                raise CotbenchError(f"task {printable(task.info.name)} of {printable(run.model.model)} is in both "
                                    f"{printable(where)} and {printable(path)}; import them into different --output "
                                    "folders")
            seen[(key, task.info.name)] = str(path)
        if key in by_model:
            by_model[key].tasks.extend(run.tasks)
        else:
            by_model[key] = run
    return list(by_model.values())


def import_runs(paths: Sequence[Path], output: Path, options: ImportOptions | None = None,
                data_dir: Path | None = None) -> list[tuple[RunDir, ImportedRun]]:
    """The Python API behind ``cotbench import``: returns each run directory written, with what it holds."""
    options = options or ImportOptions()
    with using_data_dir(data_dir):
        runs = read_inputs(find_inputs(paths), options)
        check_domains(options, runs)
        if len(runs) > 1 and (options.label or options.step is not None):
            names = ", ".join(sorted(printable(r.model.model) for r in runs))
            raise CotbenchError(f"--label and --step name one model, but the files hold {len(runs)}: {names}")
        return [(write_run(run, output, options), run) for run in runs]
