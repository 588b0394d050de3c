"""The generic loader ``fields``: rows from local files or the Hub, turned into items by the
task YAML's ``source.fields`` mapping (see cotbench.tasks.field_map). A multiple-choice, math
or exact-answer dataset needs no Python of its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import DataError
from cotbench.tasks.benchmarks.choice import LETTERS, options_text
from cotbench.tasks.benchmarks.common import rows
from cotbench.tasks.field_map import FieldMap, PathSpec, describe, lookup
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef


@register_loader("fields")
def fields(task: TaskDef, data_dir: Path | None) -> list[Row]:
    mapping = task.source.fields
    if mapping is None:
        raise DataError(f"task {task.name}: the 'fields' loader needs a source.fields mapping "
                        "(id, question, choices, answer, ...)")
    return [map_row(task.name, mapping, r, i) for i, r in enumerate(rows(task, data_dir))]


def map_row(task: str, m: FieldMap, row: Row, index: int) -> Row:
    """One upstream row as an item row (``id``, ``target`` and the prompt's fields)."""
    out: Row = {"id": _id(task, m, row, index)}
    if m.question is not None:
        out["question"] = str(_required(task, row, m.question, "question"))
    answer = _answer_text(task, m, row) if m.answer is not None else None
    if m.choices is not None:
        labels, texts = _choices(task, m, row)
        out["choices"] = texts
        out["options_text"] = options_text(texts)
        out["target"] = None if answer is None else LETTERS[_correct(task, m, answer, labels, texts, out["id"])]
    else:
        out["target"] = answer
    for name, path in m.keep.items():
        out[name] = _required(task, row, path, name)
    for name, path in m.optional.items():
        out[name] = lookup(row, path)
    return out


def answer_value(text: str, *, after: str | None, number: bool) -> str:
    """The reference answer as the scorer compares it: after the last ``after`` marker when
    one is given, stripped, and without thousands separators for numbers."""
    if after is not None:
        if after not in text:
            raise ValueError(f"an answer lacks the {after!r} final-answer marker")
        text = text.rsplit(after, 1)[1]
    text = text.strip()
    return text.replace(",", "") if number else text


def _id(task: str, m: FieldMap, row: Row, index: int) -> str:
    value = lookup(row, m.id) if m.id is not None else None
    if value is not None:
        return str(value)
    if m.id_format is not None:
        return m.id_format.format(index)
    raise DataError(f"task {task}: a data row has no id field '{describe(m.id or 'id')}' "
                    "(map source.fields.id, or set source.fields.id_format to number rows)")


def _required(task: str, row: Row, path: PathSpec, what: str) -> Any:
    value = lookup(row, path)
    if value is None:
        raise DataError(f"task {task}: a data row lacks field '{describe(path)}' for {what} "
                        "(wrong file or layout?)")
    return value


def _answer_text(task: str, m: FieldMap, row: Row) -> str:
    assert m.answer is not None
    raw = str(_required(task, row, m.answer, "the answer"))
    if m.answer_format not in ("text", "number"):
        return raw
    try:
        return answer_value(raw, after=m.answer_after, number=m.answer_format == "number")
    except ValueError as exc:
        raise DataError(f"task {task}: {exc} (source.fields.answer_after)") from None


def _choices(task: str, m: FieldMap, row: Row) -> tuple[list[str] | None, list[str]]:
    """(labels or None, texts) from a list of texts, a list of objects, or columns of lists."""
    assert m.choices is not None
    value = _required(task, row, m.choices, "choices")
    if isinstance(value, dict) and m.choice_text in value:  # Arrow/Hub layout: {text: [...], label: [...]}
        texts, labels = value[m.choice_text], value.get(m.choice_label)
    elif isinstance(value, list) and value and all(isinstance(c, dict) for c in value):
        if not all(m.choice_text in c for c in value):
            raise DataError(f"task {task}: a choice lacks its '{m.choice_text}' field (source.fields.choice_text)")
        texts = [c[m.choice_text] for c in value]
        labels = [c[m.choice_label] for c in value] if all(m.choice_label in c for c in value) else None
    elif isinstance(value, list):
        texts, labels = value, None
    else:
        raise DataError(f"task {task}: choices '{describe(m.choices)}' is a {type(value).__name__}, not a list "
                        f"of texts, a list of {{{m.choice_text}, {m.choice_label}}} objects or columns of lists")
    if not isinstance(texts, list) or not texts or (labels is not None and len(labels) != len(texts)):
        raise DataError(f"task {task}: choices '{describe(m.choices)}' are empty or their labels do not match them")
    if len(texts) > len(LETTERS):
        raise DataError(f"task {task}: an item has {len(texts)} choices; at most {len(LETTERS)} can be lettered")
    return ([str(x) for x in labels] if labels is not None else None), [str(t) for t in texts]


def _correct(task: str, m: FieldMap, answer: str, labels: list[str] | None, texts: list[str], item: str) -> int:
    """The index of the right choice, from the answer in its upstream format."""
    fmt = m.answer_format
    if fmt == "letter":
        key = answer.strip().upper()
        if len(key) == 1 and key in LETTERS[: len(texts)]:  # (a substring test would take "AB")
            return LETTERS.index(key)
    elif fmt == "label":
        if labels is None:
            raise DataError(f"task {task}: answer_format 'label' needs choices with a '{m.choice_label}' field")
        if answer in labels:
            return labels.index(answer)
    elif fmt == "index":
        if answer.strip().lstrip("-").isdigit() and 0 <= int(answer) < len(texts):
            return int(answer)
    elif answer in (t.strip() for t in texts):  # text (number answers are compared as text too)
        return [t.strip() for t in texts].index(answer)
    raise DataError(f"task {task}: item {item} has answer {answer!r} that is not one of its choices "
                    f"(answer_format {fmt})")
