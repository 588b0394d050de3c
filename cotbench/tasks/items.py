"""Items: what both harnesses iterate over. One function builds them for both."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cotbench.errors import DataError
from cotbench.tasks.data import data_dir
from cotbench.tasks.loaders import get_loader
from cotbench.tasks.taskdef import TaskDef


@dataclass(frozen=True)
class Item:
    id: str
    prompt: str
    target: Any
    category: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def to_doc(self, task: str) -> dict[str, Any]:
        """Flat, Arrow-friendly row (varying types travel as JSON strings)."""
        return {
            "id": self.id,
            "task": task,
            "prompt": self.prompt,
            "target_json": json.dumps(self.target),
            "category": self.category or "",
            "fields_json": json.dumps(self.fields, sort_keys=True),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Item:
        return cls(
            id=str(doc["id"]),
            prompt=doc["prompt"],
            target=json.loads(doc["target_json"]),
            category=doc.get("category") or None,
            fields=json.loads(doc["fields_json"]),
        )


def _subset_key(task: str, item_id: str) -> str:
    return hashlib.sha256(f"{task}:{item_id}".encode()).hexdigest()


def build_items(task: TaskDef, *, subset: int | None = None, limit: int | None = None) -> list[Item]:
    """All items of ``task``; ``subset`` picks a fixed pseudo-random subset (stable across
    versions of Python and machines), then ``limit`` keeps the first N."""
    raw = get_loader(task.source.loader)(task, data_dir())
    items = []
    for row in raw:
        try:
            prompt = task.prompt.format(**row)
        except KeyError as exc:
            raise DataError(f"task {task.name}: prompt template needs field {exc} that the data lacks") from None
        category = row.get(task.category_field) if task.category_field else None
        fields = {k: v for k, v in row.items() if k not in ("id", "target")}
        items.append(Item(id=str(row["id"]), prompt=prompt, target=row.get("target"),
                          category=str(category) if category is not None else None, fields=fields))
    if len({i.id for i in items}) != len(items):
        raise DataError(f"task {task.name}: item ids are not unique")
    if subset is not None and subset < len(items):
        items = sorted(items, key=lambda i: _subset_key(task.name, i.id))[:subset]
        items.sort(key=lambda i: i.id)
    if limit is not None:
        items = items[:limit]
    return items
