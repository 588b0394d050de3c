"""Code benchmark readers (MBPP sanitized, LiveCodeBench): rows carrying the fields the ``code``
scorer runs (see cotbench.scoring.code) plus what the prompt shows. HumanEval's rows are a plain
field mapping, read by the generic ``fields`` loader."""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import DataError
from cotbench.tasks.benchmarks.common import (
    hub_files,
    read_file,
    require,
    rows,
    source_paths,
)
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef


@register_loader("mbpp")
def mbpp(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """MBPP sanitized (``sanitized-mbpp.json`` / google-research-datasets/mbpp, sanitized). The
    local file holds every split; the test split is task ids in ``options.task_ids`` [lo, hi]."""
    lo, hi = task.source.options.get("task_ids", [11, 510])
    out = []
    for r in rows(task, data_dir):
        tid, prompt, code, tests = require(task, r, "task_id", "prompt", "code", "test_list")
        if not lo <= int(tid) <= hi:
            continue
        out.append({"id": str(tid), "text": prompt, "code": code, "test_list": list(tests),
                    "test_imports": list(r.get("test_imports") or []), "tests_text": "\n".join(tests),
                    "target": None})
    return out


class _StrOnly(pickle.Unpickler):
    """LiveCodeBench packs private tests as a pickled JSON *string*; refuse anything else, so a
    tampered file cannot run code while loading."""

    def find_class(self, module: str, name: str) -> Any:
        raise DataError(f"livecodebench: private tests reference {module}.{name}; only a string is allowed")


def decode_private_tests(value: str) -> list[dict[str, Any]]:
    """Private test cases: plain JSON in old releases, base64(zlib(pickle(json))) in later ones."""
    if not value:
        return []
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        pass
    try:
        raw = _StrOnly(io.BytesIO(zlib.decompress(base64.b64decode(value)))).load()
        return json.loads(raw)
    except (ValueError, zlib.error, pickle.UnpicklingError, TypeError) as exc:
        raise DataError(f"livecodebench: cannot decode private test cases ({type(exc).__name__})") from None


_STDIN_NOTE = ("Read the input from standard input and write the answer to standard output. "
               "Give the complete program in one ```python code block.")
_FUNC_NOTE = "Complete this starter code and give the whole class in one ```python code block:\n```python\n{}\n```"


@register_loader("livecodebench")
def livecodebench(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """livecodebench/code_generation_lite, the release's ``test*.jsonl`` files (``local_files``;
    release_v2 = test.jsonl + test2.jsonl). From the Hub the same files are downloaded at the
    pinned revision (its loading script is not run)."""
    paths = source_paths(task, data_dir)
    if paths is None:
        paths = hub_files(task, task.source.local_files)
    out = []
    for p in paths:
        for r in read_file(p):
            qid, content, public, private = require(task, r, "question_id", "question_content", "public_test_cases",
                                                    "private_test_cases")
            starter = str(r.get("starter_code") or "")
            public_cases = json.loads(public) if isinstance(public, str) else list(public)
            private_cases = decode_private_tests(private) if isinstance(private, str) else list(private)
            metadata = json.loads(r["metadata"]) if isinstance(r.get("metadata"), str) else (r.get("metadata") or {})
            out.append({"id": str(qid), "question_content": content, "title": r.get("question_title"),
                        "format_note": _FUNC_NOTE.format(starter) if starter.strip() else _STDIN_NOTE,
                        "public_test_cases": public_cases, "private_test_cases": private_cases,
                        "metadata": metadata, "difficulty": r.get("difficulty"), "platform": r.get("platform"),
                        "contest_date": r.get("contest_date"), "target": None})
    return out
