"""The generic ``fields`` loader: field mappings checked by hand on invented rows in real upstream
shapes, one-line errors, and the bundled benchmarks it now reads giving exactly the items their
own loaders gave before (shared data)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cotbench.errors import CotbenchError, DataError
from cotbench.tasks.benchmarks.fields import answer_value, map_row
from cotbench.tasks.benchmarks.math import gsm8k_answer
from cotbench.tasks.catalog import all_tasks, read_yaml, task_defs
from cotbench.tasks.data import using_data_dir
from cotbench.tasks.field_map import FieldMap, lookup
from cotbench.tasks.items import build_items
from tests.test_benchmarks import write_fixtures

BEFORE = Path(__file__).parent / "fixtures" / "items_before_task_redesign.json"


def row(mapping: dict[str, Any], data: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return map_row("t", FieldMap(**mapping), data, index)


# --- paths -------------------------------------------------------------------------------------

def test_lookup_dotted_paths_list_indices_and_alternatives() -> None:
    r = {"question": {"stem": "Why?", "choices": [{"label": "A", "text": "x"}]}, "flat": "f", "none": None}
    assert lookup(r, "question.stem") == "Why?"
    assert lookup(r, "question.choices.0.text") == "x"
    assert lookup(r, "question.choices.1.text") is None  # out of range
    assert lookup(r, "flat.stem") is None  # a string has no fields
    assert lookup(r, ["none", "missing", "flat"]) == "f"  # None counts as absent
    assert lookup(r, ["question.stem", "flat"]) == "Why?"  # the first present wins


# --- choices and answers -------------------------------------------------------------------------

CSQA_ROW = {"answerKey": "C", "id": "q1", "question": {"question_concept": "kettle", "stem": "Where is a kettle kept?",
            "choices": [{"label": "A", "text": "garage"}, {"label": "B", "text": "ocean"},
                        {"label": "C", "text": "kitchen"}]}}
HUB_ROW = {"answerKey": "C", "id": "q1", "question": "Where is a kettle kept?", "question_concept": "kettle",
           "choices": {"label": ["A", "B", "C"], "text": ["garage", "ocean", "kitchen"]}}
MC = {"id": "id", "question": ["question.stem", "question"], "choices": ["question.choices", "choices"],
      "answer": "answerKey", "answer_format": "label",
      "optional": {"concept": ["question.question_concept", "question_concept"]}}


def test_one_mapping_reads_the_upstream_jsonl_and_the_hub_layout_alike() -> None:
    local, hub = row(MC, CSQA_ROW), row(MC, HUB_ROW)
    assert (
        local
        == hub
        == {
            "id": "q1",
            "question": "Where is a kettle kept?",
            "choices": ["garage", "ocean", "kitchen"],
            "options_text": "(A) garage\n(B) ocean\n(C) kitchen",
            "target": "C",
            "concept": "kettle",
        }
    )


def test_numeric_labels_are_shown_and_targeted_as_letters() -> None:
    r = {"id": 7, "q": "Pick", "opts": [{"label": "1", "text": "one"}, {"label": "2", "text": "two"}], "key": "2"}
    out = row({"id": "id", "question": "q", "choices": "opts", "answer": "key", "answer_format": "label"}, r)
    assert out["target"] == "B" and out["options_text"] == "(A) one\n(B) two" and out["id"] == "7"


@pytest.mark.parametrize("fmt, answer, target", [("letter", " c ", "C"), ("letter", "b", "B"), ("index", 0, "A"),
                                                 ("index", "2", "C"), ("text", " kitchen ", "C"),
                                                 ("text", "ocean", "B")])
def test_answer_formats_pick_the_right_letter(fmt: str, answer: Any, target: str) -> None:
    r = {"id": "x", "q": "Where?", "opts": ["garage", "ocean", " kitchen"], "a": answer}
    assert (
        row({"id": "id", "question": "q", "choices": "opts", "answer": "a", "answer_format": fmt}, r)["target"]
        == target
    )


@pytest.mark.parametrize("fmt, answer", [("letter", "D"), ("letter", "AB"), ("index", 3), ("index", -1),
                                         ("index", "1.0"), ("text", "attic"), ("label", "A")])
def test_an_answer_outside_the_choices_is_a_data_error(fmt: str, answer: Any) -> None:
    r = {"id": "x9", "q": "Where?", "opts": ["garage", "ocean", "kitchen"], "a": answer}
    with pytest.raises(DataError, match="x9|label"):
        row({"id": "id", "question": "q", "choices": "opts", "answer": "a", "answer_format": fmt}, r)


def test_number_answers_after_a_marker() -> None:
    mapping = {"id_format": "{:04d}", "answer": "answer", "answer_after": "####", "answer_format": "number",
               "keep": {"problem": "question", "solution": "answer"}}
    r = {"question": "How many?", "answer": "3 + 4 = 7 #### 1 #### 1,234\n"}
    assert row(mapping, r, index=12) == {"id": "0012", "problem": "How many?", "target": "1234",
                                         "solution": "3 + 4 = 7 #### 1 #### 1,234\n"}
    with pytest.raises(DataError, match="'####' final-answer marker"):
        row(mapping, {"question": "q", "answer": "7"})
    assert answer_value(" 42 ", after=None, number=False) == "42"
    assert gsm8k_answer("so #### 1,000") == "1000"
    with pytest.raises(DataError, match="gsm8k"):
        gsm8k_answer("no marker")


def test_ids_from_the_row_else_its_position() -> None:
    mapping = {
        "id": ["id", "ID"],
        "id_format": "{:02d}",
        "answer": ["answer", "Answer"],
        "keep": {"problem": "problem"},
    }
    assert row(mapping, {"ID": 5, "problem": "p", "Answer": 12})["id"] == "5"
    assert row(mapping, {"problem": "p", "answer": " 7 "}, index=3) == {"id": "03", "problem": "p", "target": "7"}
    with pytest.raises(DataError, match="no id field 'uid'"):
        row({"id": "uid"}, {"x": 1})


def test_missing_fields_kept_optional_and_required() -> None:
    mapping = {"id": "id", "keep": {"prompt": "prompt"}, "optional": {"level": "meta.level"}}
    assert row(mapping, {"id": 1, "prompt": "hi"}) == {"id": "1", "target": None, "prompt": "hi", "level": None}
    with pytest.raises(DataError, match="lacks field 'prompt' for prompt"):
        row(mapping, {"id": 1})
    with pytest.raises(DataError, match="lacks field 'question.stem' for question"):
        row({"id": "id", "question": "question.stem"}, {"id": 1, "question": "flat"})


def test_choice_shapes_that_cannot_be_read_are_data_errors() -> None:
    base = {"id": "id", "question": "q", "choices": "c", "answer": "a", "answer_format": "letter"}
    for bad, match in (({"x": 1}, "not a list"), ([], "empty"), ([{"label": "A"}], "lacks its 'text'"),
                       ({"text": ["a", "b"], "label": ["A"]}, "labels do not match"),
                       ([str(i) for i in range(11)], "at most 10")):
        with pytest.raises(DataError, match=match):
            row(base, {"id": 1, "q": "?", "c": bad, "a": "A"})


def test_mapping_validation() -> None:
    with pytest.raises(ValidationError, match="id_format"):
        FieldMap(id_format="{:d} {}")
    with pytest.raises(ValidationError, match="'target' is set by the mapping"):
        FieldMap(keep={"target": "answer"})
    with pytest.raises(ValidationError, match="answer_format"):
        FieldMap(answer_format="roman")
    with pytest.raises(ValidationError, match="extra"):
        FieldMap(anwser="typo")


def test_a_bad_mapping_in_a_yaml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("task: cotbench_bad\nmetadata:\n  cotbench:\n    domain: transfer\n    description: d\n"
                    "    scorer: choice\n    prompt: '{question}'\n    presets: {greedy: {temperature: 0.0}}\n"
                    "    default_preset: greedy\n    source: {fields: {id: id, anwser: a}}\n")
    with pytest.raises(CotbenchError) as exc:
        task_defs(read_yaml(path), path)
    assert str(path) in str(exc.value) and "source.fields.anwser" in str(exc.value) and "\n" not in str(exc.value)


def test_a_fields_task_without_a_mapping_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("task: cotbench_t\nmetadata:\n  cotbench:\n    domain: transfer\n    description: d\n"
                    "    scorer: exact\n    prompt: '{q}'\n    presets: {greedy: {temperature: 0.0}}\n"
                    "    default_preset: greedy\n    source: {local_dir: t, local_files: [t.jsonl]}\n")
    (task,) = task_defs(read_yaml(path), path)
    assert task.source.loader == "fields" and task.source.kind == "benchmark"
    (tmp_path / "data" / "t").mkdir(parents=True)
    (tmp_path / "data" / "t" / "t.jsonl").write_text('{"q": 1}\n')
    with using_data_dir(tmp_path / "data"), pytest.raises(DataError, match="needs a source.fields mapping"):
        build_items(task)


# --- the bundled benchmarks: the same items as their own loaders gave ---------------------------------

@pytest.fixture
def data_dir(shared_data: Path, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "data"
    root.mkdir()
    for sub in shared_data.iterdir():
        (root / sub.name).symlink_to(sub)
    write_fixtures(root)
    with using_data_dir(root):
        yield root


def _digest(name: str) -> dict[str, Any]:
    items = build_items(all_tasks()[name])
    h = hashlib.sha256()
    for i in items:
        h.update(json.dumps(i.to_doc(name), sort_keys=True).encode() + b"\n")
    return {"n": len(items), "sha256": h.hexdigest()}


@pytest.mark.usefixtures("data_dir")
@pytest.mark.parametrize("name", sorted(json.loads(BEFORE.read_text())["items"]))
def test_items_are_those_the_old_loaders_built(name: str) -> None:
    assert _digest(name) == json.loads(BEFORE.read_text())["items"][name]


def test_the_plain_benchmarks_need_no_python_loader() -> None:
    tasks = all_tasks()
    fields = {n for n, t in tasks.items() if t.source.loader == "fields"}
    assert {"math500", "gsm8k", "aime2024", "aime2025", "arc_challenge", "mmlu_pro", "humaneval"} <= fields
    assert all(tasks[n].source.fields is not None for n in fields)
