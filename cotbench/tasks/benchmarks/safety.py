"""Loaders for the published safety benchmarks: StrongREJECT, HarmBench, XSTest, OR-Bench, HEx-PHI.

Each reads the benchmark's upstream files from a local data directory (``--data-dir``, in the
layout the upstream projects publish, see docs/safety.md) or, without one, from the Hugging Face
Hub at the task's pinned revision. Every row carries ``prompt``: the raw request the model sees
as the user message (no extra instruction), which the judge scorers also read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import DataError
from cotbench.tasks.benchmarks import common
from cotbench.tasks.data import local_files
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef

OFFLINE_HINT = "pass --data-dir DIR holding the upstream files (see docs/safety.md)"

# HEx-PHI's eleven harm categories, one file each (category_<n>.csv), as named in its paper.
HEX_PHI_CATEGORIES: dict[int, str] = {
    1: "illegal_activity", 2: "child_abuse_content", 3: "hate_harass_violence", 4: "malware",
    5: "physical_harm", 6: "economic_harm", 7: "fraud_deception", 8: "adult_content",
    9: "political_campaigning", 10: "privacy_violation", 11: "tailored_financial_advice",
}


# --- reading -------------------------------------------------------------------------------

def read_csv(path: Path, *, header: bool = True) -> list[dict[str, str]]:
    """Rows of a CSV file; without a header each row is ``{"prompt": first cell}``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path} ({exc})") from None
    if header:
        return list(csv.DictReader(io.StringIO(text)))
    return [{"prompt": row[0]} for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]


def _access_hint(hub_id: str) -> str:
    return (f"{hub_id} is gated: accept its terms at https://huggingface.co/datasets/{hub_id}, "
            f"then log in with 'huggingface-cli login'")


def hub_rows(task: TaskDef) -> list[dict[str, Any]]:
    """The task's Hub dataset (config, split, pinned revision) with columns renamed to the
    upstream names by ``source.options.hub_columns`` (hub name -> upstream name)."""
    rename: dict[str, str] = task.source.options.get("hub_columns", {})
    return [{rename.get(k, k): v for k, v in row.items()} for row in common.hub_rows(task)]


def hub_category_files(task: TaskDef, names: list[str]) -> list[Path]:
    """The files of a gated Hub dataset repo at its pinned revision; names the repo lacks are
    skipped (a withdrawn category), any other failure is a DataError that says how to get access."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
    )

    src = task.source
    if not src.hub_id:
        raise DataError(f"task {task.name}: no Hub copy is configured; {OFFLINE_HINT}")
    paths = []
    for name in names:
        try:
            paths.append(Path(hf_hub_download(src.hub_id, name, repo_type="dataset", revision=src.hub_revision)))
        except GatedRepoError:
            raise DataError(f"task {task.name}: {_access_hint(src.hub_id)}; or {OFFLINE_HINT}") from None
        except LocalEntryNotFoundError:
            # (a subclass of EntryNotFoundError: offline and not cached, not "absent from the repo")
            raise DataError(f"task {task.name}: cannot reach the Hugging Face Hub (offline?) and {name} is not "
                            f"cached; {_access_hint(src.hub_id)}; or {OFFLINE_HINT}") from None
        except EntryNotFoundError:
            continue
        except Exception as exc:  # noqa: BLE001 - network, auth and cache errors all mean "not available"
            raise DataError(f"task {task.name}: cannot download {name} from {src.hub_id} ({type(exc).__name__}); "
                            f"{_access_hint(src.hub_id)}; or {OFFLINE_HINT}") from None
    if not paths:
        raise DataError(f"task {task.name}: none of {names[0]} ... {names[-1]} is in {src.hub_id}@{src.hub_revision}")
    return paths


def _table(task: TaskDef, data_dir: Path | None) -> list[dict[str, Any]]:
    """The task's single upstream table, local when a data dir is in use, else from the Hub."""
    src = task.source
    paths = local_files(data_dir, src.local_dir, src.local_files[:1])
    return read_csv(paths[0]) if paths is not None else hub_rows(task)


def _need(task: TaskDef, rows: list[dict[str, Any]], columns: Iterable[str]) -> None:
    if not rows:
        raise DataError(f"task {task.name}: the data has no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise DataError(f"task {task.name}: the data lacks column(s) {', '.join(missing)}")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# --- loaders -------------------------------------------------------------------------------

@register_loader("strongreject")
def strongreject(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """StrongREJECT's 313 forbidden prompts; category = its six harm categories."""
    rows = _table(task, data_dir)
    _need(task, rows, ("forbidden_prompt", "category"))
    return [{"id": f"strongreject-{i:03d}", "prompt": _text(r["forbidden_prompt"]), "category": _text(r["category"]),
             "source": _text(r.get("source")), "target": None} for i, r in enumerate(rows)]


def harmbench_prompt(behavior: str, context: str) -> str:
    """HarmBench's request text: a contextual behavior puts its context string first."""
    return f"{context}\n\n---\n\n{behavior}" if context else behavior


@register_loader("harmbench")
def harmbench(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """HarmBench text behaviors of the chosen functional categories (standard + contextual; the
    copyright ones need HarmBench's hash classifier and are left out)."""
    keep = set(task.source.options.get("functional_categories", ["standard", "contextual"]))
    rows = _table(task, data_dir)
    _need(task, rows, ("Behavior", "FunctionalCategory", "SemanticCategory", "BehaviorID"))
    out: list[Row] = []
    for r in rows:
        if r["FunctionalCategory"] not in keep:
            continue
        behavior, context = _text(r["Behavior"]), _text(r.get("ContextString"))
        out.append({"id": _text(r["BehaviorID"]), "prompt": harmbench_prompt(behavior, context),
                    "behavior": behavior, "context": context, "functional_category": r["FunctionalCategory"],
                    "category": _text(r["SemanticCategory"]), "target": None})
    return out


@register_loader("xstest")
def xstest(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """XSTest v2 prompts with ``label`` equal to ``source.options.label`` (safe or unsafe)."""
    label = task.source.options.get("label")
    if label not in {"safe", "unsafe"}:
        raise DataError(f"task {task.name}: source.options.label must be 'safe' or 'unsafe'")
    rows = _table(task, data_dir)
    _need(task, rows, ("id", "prompt", "type", "label"))
    return [{"id": f"xstest-{_text(r['id'])}", "prompt": _text(r["prompt"]), "type": _text(r["type"]),
             "focus": _text(r.get("focus")), "target": None} for r in rows if r["label"] == label]


@register_loader("orbench")
def orbench(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """OR-Bench-Hard-1K: benign prompts that over-cautious models tend to refuse."""
    rows = _table(task, data_dir)
    _need(task, rows, ("prompt", "category"))
    return [{"id": f"orbench-{i:04d}", "prompt": _text(r["prompt"]), "category": _text(r["category"]),
             "target": None} for i, r in enumerate(rows)]


@register_loader("hex_phi")
def hex_phi(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """HEx-PHI: one header-less CSV per harm category (``category_<n>.csv``, one prompt a row).

    The published release may lack a category (category 2 was withdrawn), so missing files are
    skipped as long as one is present.
    """
    src = task.source
    names = src.local_files or [f"category_{n}.csv" for n in HEX_PHI_CATEGORIES]
    if data_dir is not None and src.local_dir:
        folder = data_dir / src.local_dir
        paths = [p for n in names if (p := folder / n).is_file()]
        if not paths:
            raise DataError(f"task {task.name}: no HEx-PHI category files under {folder} "
                            f"(expected {names[0]} ... {names[-1]})")
    else:
        paths = hub_category_files(task, names)
    out: list[Row] = []
    for path in paths:
        number = int(path.stem.rsplit("_", 1)[-1])
        category = HEX_PHI_CATEGORIES.get(number, f"category_{number}")
        for i, r in enumerate(read_csv(path, header=False)):
            out.append({"id": f"hexphi-{number:02d}-{i:03d}", "prompt": _text(r["prompt"]), "category": category,
                        "target": None})
    return out
