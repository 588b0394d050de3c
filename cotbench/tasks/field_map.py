"""A task YAML's field mapping (``source.fields``): which fields of an upstream row are the id,
the question, the choices and the answer, so a dataset needs no Python loader.

Paths are dotted (``question.stem`` reads ``row["question"]["stem"]``; a number indexes a
list). A path may also be a list of alternatives, the first present one wins: that is how one
mapping reads both an upstream file and a Hub copy whose columns are laid out differently.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PathSpec = str | list[str]
AnswerFormat = Literal["text", "number", "letter", "label", "index"]
_MISSING = object()


class FieldMap(BaseModel):
    """Row fields -> item fields. ``answer_format`` says how the answer is written upstream:
    ``text`` (a string; with choices, the text of the right choice), ``number`` (a string
    without thousands separators), ``letter`` (A, B, ... into the choices), ``label`` (one of
    the choices' own labels, e.g. ``1``-``4``), ``index`` (0-based position in the choices).
    With choices the item's target is always the letter of the right option."""

    model_config = ConfigDict(extra="forbid")

    id: PathSpec | None = Field(None, description="the row's id; absent: the row's position (id_format)")
    id_format: str | None = Field(None, description="format of the position id, e.g. '{:04d}'")
    question: PathSpec | None = Field(None, description="kept as the item field 'question'")
    choices: PathSpec | None = Field(None, description="a list of texts, a list of {text, label} "
                                                       "objects, or {text: [...], label: [...]}")
    choice_text: str = "text"
    choice_label: str = "label"
    answer: PathSpec | None = Field(None, description="absent: the item has no reference answer")
    answer_format: AnswerFormat = "text"
    answer_after: str | None = Field(None, description="the answer is what follows the last such marker")
    keep: dict[str, PathSpec] = Field(default_factory=dict, description="item field -> path (required)")
    optional: dict[str, PathSpec] = Field(default_factory=dict, description="item field -> path (None if absent)")

    @field_validator("id_format")
    @classmethod
    def _formats_an_index(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(0)
            except (ValueError, IndexError, KeyError) as exc:
                raise ValueError(f"id_format {value!r} cannot format a row position ({exc})") from None
        return value

    @field_validator("keep", "optional")
    @classmethod
    def _no_reserved_names(cls, value: dict[str, PathSpec]) -> dict[str, PathSpec]:
        reserved = {"id", "target", "question", "choices", "options_text"} & set(value)
        if reserved:
            raise ValueError(f"'{min(reserved)}' is set by the mapping itself; keep another name")
        return value


def lookup(row: Any, path: PathSpec) -> Any:
    """The value at ``path`` (or the first alternative that is present), or None."""
    for alternative in [path] if isinstance(path, str) else path:
        value = _walk(row, alternative)
        if value is not _MISSING and value is not None:
            return value
    return None


def _walk(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def describe(path: PathSpec) -> str:
    return path if isinstance(path, str) else " or ".join(path)
